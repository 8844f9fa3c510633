//! Operations endpoints: health and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::SharedState;

/// `GET /healthz`: 200 while the store accepts commits, 503 otherwise.
pub async fn healthz(State(state): State<SharedState>) -> impl IntoResponse {
    let healthy = state.engine.healthy();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "connections": state.hub.sockets(),
            "streams": state.hub.streams(),
        })),
    )
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}
