//! Force logout, data retention, and a visitor's export and erasure.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::{Command, Timestamp};
use utoipa::ToSchema;

use super::{admin, execute};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{ForcedLogout, Retention, VisitorForgotten};
use crate::api::widget::optional_json;
use crate::auth::{Caller, Identity, issue_staff_token};
use crate::directory::{self, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// Why everyone is logged out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LogoutBody {
    /// Shown to the agents.
    pub reason: Option<String>,
}

/// `POST /api/v1/admin/force-logout`: every other staff member goes offline (their chats
/// back to the queue) and every staff token issued until now stops working. The caller
/// gets a fresh token so that they stay logged in.
#[utoipa::path(
    post,
    path = "/api/v1/admin/force-logout",
    operation_id = "admin_force_logout",
    tag = "admin",
    security(("staff_token" = [])),
    request_body(content = Option<LogoutBody>, description = "May be empty."),
    responses(
        (status = 200, description = "Every other staff member went offline and every staff token issued until now is refused; the caller gets a fresh token.", body = ForcedLogout),
        (status = 400, description = "`malformed`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn force_logout(
    State(state): State<SharedState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let body: LogoutBody = optional_json(&body)?;
    // Serialised with the other changes of the tenant's record (its ERP settings, staff).
    let _changing = state.staff_changes.lock().await;
    let tenant = caller.tenant_id();
    let mut record = state
        .directory
        .tenant(tenant)
        .ok_or_else(ApiError::internal)?;
    let now = jiff::Timestamp::now();
    record.token_epoch = now.as_millisecond();
    let write = directory::write(tenant, namespace::TENANT, "settings", &record);
    let command = Command::ForceLogoutAll {
        reason: body.reason,
    };
    execute(&state, &caller, command, vec![write]).await?;
    tracing::info!(tenant = %tenant, "forced logout");
    let access_token = match &caller.identity {
        Identity::Staff { .. } if state.directory.credential(tenant, caller.id()).is_some() => {
            Some(issue_staff_token(&state, tenant, caller.id(), now)?.0)
        }
        _ => None,
    };
    Ok(Json(json!({
        "logged_out": true,
        "token_epoch": record.token_epoch,
        "access_token": access_token,
        "token_type": "bearer",
    })))
}

/// `GET /api/v1/admin/retention`: `{"days": n}`, or null when chats are kept forever.
#[utoipa::path(
    get,
    path = "/api/v1/admin/retention",
    operation_id = "admin_retention",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The retention period.", body = Retention),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn retention(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let tenant = caller.tenant_id().to_owned();
    let days = state
        .engine
        .run(move |store| store.retention(&tenant))
        .await??;
    Ok(Json(json!({ "days": days })))
}

/// A retention period.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// Ended chats older than this many days are purged daily; null keeps them.
    pub days: Option<u32>,
}

/// `PUT /api/v1/admin/retention`.
#[utoipa::path(
    put,
    path = "/api/v1/admin/retention",
    operation_id = "admin_set_retention",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = RetentionBody,
    responses(
        (status = 200, description = "The retention period as saved.", body = Retention),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn set_retention(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<RetentionBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let tenant = caller.tenant_id().to_owned();
    let days = body.days;
    state
        .engine
        .run(move |store| store.set_retention(&tenant, days))
        .await??;
    Ok(Json(json!({ "days": days })))
}

/// `GET /api/v1/admin/visitors/{visitor_id}/export`: everything stored about a visitor
/// (profile, chats, messages, notes, transfers, tickets, surveys) as a JSON download.
#[utoipa::path(
    get,
    path = "/api/v1/admin/visitors/{visitor_id}/export",
    operation_id = "admin_export",
    tag = "admin",
    security(("staff_token" = [])),
    params(("visitor_id" = String, Path, description = "The visitor (a visitor id or an end user's account).")),
    responses(
        (status = 200, description = "Everything stored about the visitor (profile, chats, messages, notes, transfers, tickets, surveys) as a JSON attachment.", body = Object),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such visitor.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn export(
    State(state): State<SharedState>,
    caller: Caller,
    Path(visitor_id): Path<String>,
) -> ApiResult<Response> {
    admin(&caller)?;
    let tenant = caller.tenant_id().to_owned();
    let id = visitor_id.clone();
    let export = state
        .readers
        .read(move |reader| Ok(reader.queries().export_visitor(&tenant, &id)?))
        .await?;
    let file: String = visitor_id
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = Json(export).into_response();
    let disposition = format!("attachment; filename=\"visitor-{file}.json\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `DELETE /api/v1/admin/visitors/{visitor_id}`: erase a visitor (refused with 409 while
/// they have a chat or ticket still open). Their messages and notes become tombstones,
/// their profile and contact details go; the audit entry of the erasure stays.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/visitors/{visitor_id}",
    operation_id = "admin_forget",
    tag = "admin",
    security(("staff_token" = [])),
    params(("visitor_id" = String, Path, description = "The visitor (a visitor id or an end user's account).")),
    responses(
        (status = 200, description = "The visitor was erased: messages and notes became tombstones, profile and contact details are gone.", body = VisitorForgotten),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such visitor.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the visitor still has a chat or ticket open.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn forget(
    State(state): State<SharedState>,
    caller: Caller,
    Path(visitor_id): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    if visitor_id.is_empty() {
        return Err(ApiError::not_found("visitor"));
    }
    let actor = caller.actor.clone();
    let id = visitor_id.clone();
    let now = Timestamp(jiff::Timestamp::now().as_millisecond());
    // The step's outputs are records the store already wrote; the erasure has no events.
    state
        .engine
        .run(move |store| store.forget_visitor(now, &actor, &id).map(|_| ()))
        .await??;
    tracing::info!(tenant = %caller.tenant_id(), "visitor forgotten");
    Ok(Json(json!({ "visitor_id": visitor_id, "forgotten": true })))
}
