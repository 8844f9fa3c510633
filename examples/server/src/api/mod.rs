//! The HTTP routes.

pub mod admin;
pub mod agent;
pub mod convert;
pub mod live_agent;
pub mod login;
pub mod me;
pub mod messages;
pub mod openapi;
pub mod ops;
pub mod origins;
pub mod schemas;
pub mod tenant_config;
pub mod transcript;
pub mod webhooks_admin;
pub mod widget;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::cors::{Any, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::SharedState;

/// Every route of the server. The OpenAPI document is made from the same declarations and
/// served at `/openapi.json`.
pub fn router(state: SharedState) -> Router {
    let (router, document) = routes(&state).split_for_parts();
    let document = openapi::Document(
        serde_json::to_vec(&document)
            .expect("the OpenAPI document serialises")
            .into(),
    );
    router
        .route("/ws", get(crate::ws::socket::upgrade))
        .layer(Extension(document))
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

/// The REST routes, each declared once for both the router and the document.
fn routes(state: &SharedState) -> OpenApiRouter<SharedState> {
    let api = api_routes()
        .layer(middleware::from_fn_with_state(state.clone(), limit_per_ip))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(ops_routes())
}

/// The `/api/v1` routes: rate-limited per client address, with a body limit.
fn api_routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(login::login))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(
            live_agent::create_session,
            live_agent::list_sessions
        ))
        .routes(routes!(live_agent::get_session))
        .routes(routes!(live_agent::update_status))
        .routes(routes!(live_agent::send_message))
        .routes(routes!(live_agent::list_messages))
        .routes(routes!(live_agent::agent_status))
        .merge(widget::routes())
        .merge(agent::routes())
        .merge(admin::routes())
        .merge(webhooks_admin::router())
}

/// Health, metrics and the document: outside the per-address limit, so that monitoring
/// keeps working under load.
fn ops_routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(openapi::document))
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
