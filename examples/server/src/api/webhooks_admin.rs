//! Webhook administration (`/api/v1/admin/webhooks`), for tenant administrators: list,
//! create, change and remove a tenant's webhooks, and read their recent delivery attempts.
//!
//! A webhook's secret is generated when none is given and is returned only by the call
//! that creates it; lists and updates never show it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{DeliveryList, Webhook as WebhookSchema, WebhookList};
use crate::auth::Caller;
use crate::directory::{self, Webhook, namespace};
use crate::engine_loop::HostWrite;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query};
use crate::state::SharedState;
use crate::webhooks::events::{EVENT_TYPES, is_event_type};
use crate::webhooks::history::LOG_LIMIT;

/// Webhooks one tenant may have.
pub const MAX_WEBHOOKS: usize = 20;
/// Longest webhook URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Shortest secret a caller may choose, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// Longest secret, in bytes.
pub const MAX_SECRET_BYTES: usize = 256;

/// The routes.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

/// `POST /api/v1/admin/webhooks` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST (http or https).
    pub url: String,
    /// Event types to deliver; empty or omitted: all.
    #[serde(default)]
    pub events: Vec<String>,
    /// The signing secret; generated when omitted.
    #[serde(default)]
    pub secret: Option<String>,
    /// Whether it receives events (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// `PUT /api/v1/admin/webhooks/{id}` body: omitted fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    /// Where to POST.
    #[serde(default)]
    pub url: Option<String>,
    /// Event types to deliver; empty: all.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// A new signing secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// Whether it receives events.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// `GET .../deliveries` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// Most attempts returned (default 50).
    pub limit: Option<usize>,
}

/// `GET /api/v1/admin/webhooks`: the tenant's webhooks (without secrets) and the event
/// types they can subscribe to.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's webhooks (without secrets) and the event types.", body = WebhookList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list_webhooks(
    State(state): State<SharedState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let webhooks: Vec<Value> = state
        .directory
        .webhooks(caller.tenant_id())
        .iter()
        .map(|(id, webhook)| view(id, webhook))
        .collect();
    Ok(Json(
        json!({ "webhooks": webhooks, "event_types": EVENT_TYPES }),
    ))
}

/// `POST /api/v1/admin/webhooks`: 201 with the webhook and its secret (shown only here).
#[utoipa::path(
    post,
    path = "/api/v1/admin/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    security(("staff_token" = [])),
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The webhook with its secret, shown only here.", body = WebhookSchema),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `url`, `events` (details list the known types), `secret`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 409, description = "`limit_reached`: at most 20 webhooks.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create_webhook(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let url = check_url(&body.url, state.config.webhook_private_targets)?;
    let events = check_events(body.events)?;
    let secret = match body.secret {
        Some(secret) => check_secret(secret)?,
        None => format!("whsec_{}", crate::random_token(24)),
    };
    if state.directory.webhooks(caller.tenant_id()).len() >= MAX_WEBHOOKS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "limit_reached",
            format!("a tenant has at most {MAX_WEBHOOKS} webhooks"),
        ));
    }
    let id = format!("wh_{}", crate::random_token(8));
    let webhook = Webhook {
        url,
        secret,
        events,
        enabled: body.enabled.unwrap_or(true),
    };
    let write = directory::write(caller.tenant_id(), namespace::WEBHOOK, &id, &webhook);
    commit(&state, vec![write]).await?;
    let mut created = view(&id, &webhook);
    created["secret"] = Value::String(webhook.secret);
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /api/v1/admin/webhooks/{id}`: changes the given fields.
#[utoipa::path(
    put,
    path = "/api/v1/admin/webhooks/{webhook_id}",
    operation_id = "update_webhook",
    tag = "webhooks",
    security(("staff_token" = [])),
    params(("webhook_id" = String, Path, description = "The webhook, `wh_...`.")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The webhook after the change (without its secret).", body = WebhookSchema),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `url`, `events`, `secret`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such webhook in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update_webhook(
    State(state): State<SharedState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    Body(body): Body<UpdateWebhook>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let mut webhook = find(&state, &caller, &webhook_id)?;
    if let Some(url) = body.url {
        webhook.url = check_url(&url, state.config.webhook_private_targets)?;
    }
    if let Some(events) = body.events {
        webhook.events = check_events(events)?;
    }
    if let Some(secret) = body.secret {
        webhook.secret = check_secret(secret)?;
    }
    if let Some(enabled) = body.enabled {
        webhook.enabled = enabled;
    }
    let write = directory::write(
        caller.tenant_id(),
        namespace::WEBHOOK,
        &webhook_id,
        &webhook,
    );
    commit(&state, vec![write]).await?;
    Ok(Json(view(&webhook_id, &webhook)))
}

/// `DELETE /api/v1/admin/webhooks/{id}`: 204. Deliveries waiting for a retry are dropped.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/webhooks/{webhook_id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    security(("staff_token" = [])),
    params(("webhook_id" = String, Path, description = "The webhook, `wh_...`.")),
    responses(
        (status = 204, description = "The webhook is gone; deliveries waiting for a retry are dropped."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such webhook in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn delete_webhook(
    State(state): State<SharedState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    find(&state, &caller, &webhook_id)?;
    let write = directory::remove(caller.tenant_id(), namespace::WEBHOOK, &webhook_id);
    commit(&state, vec![write]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/webhooks/{id}/deliveries`: the webhook's most recent attempts,
/// newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks/{webhook_id}/deliveries",
    operation_id = "list_deliveries",
    tag = "webhooks",
    security(("staff_token" = [])),
    params(("webhook_id" = String, Path, description = "The webhook, `wh_...`."), ListDeliveries),
    responses(
        (status = 200, description = "The webhook's most recent delivery attempts, newest first.", body = DeliveryList),
        (status = 400, description = "`invalid_input`: a bad parameter.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such webhook in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list_deliveries(
    State(state): State<SharedState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    Query(query): Query<ListDeliveries>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    find(&state, &caller, &webhook_id)?;
    let limit = query.limit.unwrap_or(50).clamp(1, LOG_LIMIT);
    let attempts = state
        .webhooks
        .history()
        .recent(caller.tenant_id(), Some(&webhook_id), limit);
    Ok(Json(
        json!({ "webhook_id": webhook_id, "deliveries": attempts }),
    ))
}

/// A webhook as the API shows it: everything but the secret.
fn view(id: &str, webhook: &Webhook) -> Value {
    json!({
        "id": id,
        "url": webhook.url,
        "events": webhook.events,
        "enabled": webhook.enabled,
    })
}

fn find(state: &SharedState, caller: &Caller, webhook_id: &str) -> ApiResult<Webhook> {
    state
        .directory
        .webhooks(caller.tenant_id())
        .into_iter()
        .find(|(id, _)| id == webhook_id)
        .map(|(_, webhook)| webhook)
        .ok_or_else(|| ApiError::not_found("webhook"))
}

/// Commits host writes on the engine thread, then applies them to the directory.
async fn commit(state: &SharedState, writes: Vec<HostWrite>) -> ApiResult<()> {
    let staged = writes.clone();
    state
        .engine
        .run(move |store| {
            for (tenant, namespace, key, value) in &staged {
                store.stage_host_value(tenant, namespace, key, value.as_deref())?;
            }
            store.commit().map(|_| ())
        })
        .await??;
    state.directory.apply(&writes);
    Ok(())
}

/// A webhook URL as stored; `private_targets`: whether it may name a non-public address.
fn check_url(url: &str, private_targets: bool) -> ApiResult<String> {
    let url = url.trim();
    if url.len() > MAX_URL_BYTES {
        return Err(ApiError::invalid(
            "url",
            format!("longer than {MAX_URL_BYTES} bytes"),
        ));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| ApiError::invalid("url", "not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::invalid("url", "use an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid("url", "the URL names no host"));
    }
    if parsed.fragment().is_some() {
        return Err(ApiError::invalid("url", "the URL may not have a fragment"));
    }
    if !private_targets && let Some(refused) = crate::webhooks::targets::refused_literal(&parsed) {
        return Err(ApiError::invalid(
            "url",
            format!("{refused}; this server sends webhooks to public addresses only"),
        ));
    }
    Ok(parsed.to_string())
}

fn check_events(events: Vec<String>) -> ApiResult<Vec<String>> {
    let mut checked: Vec<String> = Vec::with_capacity(events.len());
    for name in events {
        if !is_event_type(&name) {
            return Err(ApiError {
                details: json!({ "field": "events", "known": EVENT_TYPES }),
                ..ApiError::invalid("events", format!("unknown event type {name:?}"))
            });
        }
        if !checked.contains(&name) {
            checked.push(name);
        }
    }
    Ok(checked)
}

fn check_secret(secret: String) -> ApiResult<String> {
    if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&secret.len()) {
        return Err(ApiError::invalid(
            "secret",
            format!("use {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"),
        ));
    }
    if !secret.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "secret",
            "use printable ASCII without spaces",
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_events_and_secrets_are_checked() {
        for private_targets in [false, true] {
            let check = |url: &str| check_url(url, private_targets);
            assert!(check("https://hooks.example.com/in?x=1").is_ok());
            for bad in [
                "ftp://example.com/",
                "not a url",
                "https://",
                "http://x/#frag",
            ] {
                assert!(check(bad).is_err(), "{bad}");
            }
            let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
            assert!(check(&long).is_err());
        }
        // Inward addresses only where the operator allows them, however they are spelt.
        for inward in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://0x7f.1/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(check_url(inward, true).is_ok(), "{inward}");
            let refused = check_url(inward, false).unwrap_err();
            assert_eq!(refused.code, "invalid_input", "{inward}");
            assert!(refused.message.contains("public"), "{inward}: {refused}");
        }

        let events = check_events(vec![
            "message.created".into(),
            "message.created".into(),
            "ticket.created".into(),
        ])
        .unwrap();
        assert_eq!(events, ["message.created", "ticket.created"]);
        assert!(check_events(vec!["message.deleted".into()]).is_err());
        assert!(check_events(Vec::new()).unwrap().is_empty());

        assert!(check_secret("x".repeat(MIN_SECRET_BYTES)).is_ok());
        assert!(check_secret("short".into()).is_err());
        assert!(check_secret(format!("{} tail", "x".repeat(20))).is_err());
        assert!(check_secret("x".repeat(MAX_SECRET_BYTES + 1)).is_err());
    }
}
