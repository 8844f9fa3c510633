//! The HTTP routes.

pub mod admin;
pub mod agent;
pub mod convert;
pub mod live_agent;
pub mod login;
pub mod messages;
pub mod ops;
pub mod origins;
pub mod tenant_config;
pub mod transcript;
pub mod webhooks_admin;
pub mod widget;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower_http::cors::{Any, CorsLayer};

use crate::error::ApiError;
use crate::state::SharedState;

/// Every route of the server.
pub fn router(state: SharedState) -> Router {
    let api = Router::new()
        .route("/api/v1/auth/login", post(login::login))
        .route(
            "/api/v1/live-agent/sessions",
            post(live_agent::create_session).get(live_agent::list_sessions),
        )
        .route(
            "/api/v1/live-agent/sessions/{session_id}",
            get(live_agent::get_session),
        )
        .route(
            "/api/v1/live-agent/sessions/{session_id}/status",
            put(live_agent::update_status),
        )
        .route(
            "/api/v1/live-agent/messages",
            post(live_agent::send_message),
        )
        .route(
            "/api/v1/live-agent/messages/{session_id}",
            get(live_agent::list_messages),
        )
        .route(
            "/api/v1/live-agent/agent/status",
            put(live_agent::agent_status),
        )
        .merge(widget::routes())
        .merge(agent::routes())
        .merge(admin::routes())
        .merge(webhooks_admin::router())
        .layer(middleware::from_fn_with_state(state.clone(), limit_per_ip))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    Router::new()
        .merge(api)
        .route("/ws", get(crate::ws::socket::upgrade))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_headers(Any)
                .allow_methods(Any)
                .expose_headers([axum::http::header::CONTENT_DISPOSITION]),
        )
        .with_state(state)
}

async fn limit_per_ip(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    match state.limits.check_ip(peer.ip()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}
