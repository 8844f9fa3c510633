//! Operations endpoints: health and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::api::schemas::Health;
use crate::state::SharedState;

/// `GET /healthz`: 200 while the store accepts commits, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "ops_healthz",
    tag = "ops",
    responses(
        (status = 200, description = "The store accepts commits.", body = Health),
        (status = 503, description = "The store cannot commit (`status` is `unavailable`).", body = Health),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "ops_metrics",
    tag = "ops",
    responses(
        (status = 200, description = "Prometheus metrics in the OpenMetrics text format.", content_type = "application/openmetrics-text", body = String),
    ),
)]
pub async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}
