//! `POST /api/v1/widget/init`: a widget key (checked against the page's origin) for a
//! visitor token, the tenant's branding, availability and pre-chat form; and
//! `GET /api/v1/widget/availability` for polling.

use axum::Json;
use axum::extract::State;
use axum::http::header::ORIGIN;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::DepartmentId;
use switchboard_core::protocol::model::{Department, QueueStatusView, TenantSettings};
use switchboard_core::{Actor, Command, Reply, Role};
use utoipa::{IntoParams, ToSchema};

use super::{end_user, optional_json};
use crate::api::openapi::{Authenticated, Limited};
use crate::api::schemas::{WidgetAvailability, WidgetInit};
use crate::api::{origins, tenant_config};
use crate::auth::Caller;
use crate::auth::tokens::{ISSUER, ServerClaims, VISITOR_AUDIENCE};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::extract::RawBody;
use crate::state::SharedState;

/// The header a widget may send its key in.
pub const WIDGET_KEY_HEADER: &str = "x-widget-key";
/// Longest widget key looked up.
const MAX_KEY_BYTES: usize = 128;

/// The init body; every field is optional and the body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct InitBody {
    /// The widget key (or the `X-Widget-Key` header).
    pub widget_key: Option<String>,
    /// A visitor token from an earlier init: its visitor id is kept while it is valid and
    /// for the same tenant and origin.
    pub visitor_token: Option<String>,
}

/// `POST /api/v1/widget/init`.
#[utoipa::path(
    post,
    path = "/api/v1/widget/init",
    operation_id = "widget_init",
    tag = "widget",
    security(("widget_key" = []), ()),
    request_body(content = Option<InitBody>, description = "May be empty when the key comes in `X-Widget-Key`."),
    responses(
        (status = 200, description = "A visitor token, the tenant's branding, availability and pre-chat form.", body = WidgetInit),
        (status = 400, description = "`malformed`; `invalid_input`: the header and the body name different keys.", body = crate::error::ErrorBody),
        (status = 401, description = "`missing_widget_key`, `unknown_widget_key`, `widget_key_revoked`.", body = crate::error::ErrorBody),
        (status = 403, description = "`origin_not_allowed`: the key is not enabled for the page's `Origin`.", body = crate::error::ErrorBody),
        Limited,
    ),
)]
pub async fn init(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<Value>> {
    let body: InitBody = optional_json(&body)?;
    let header_key = headers
        .get(WIDGET_KEY_HEADER)
        .map(|value| value.to_str().map(str::trim))
        .transpose()
        .map_err(|_| unknown_key())?;
    let key = match (header_key, body.widget_key.as_deref()) {
        (Some(header), Some(field)) if header != field.trim() => {
            return Err(ApiError::invalid(
                "widget_key",
                "the header and the body name different keys",
            ));
        }
        (Some(key), _) | (None, Some(key)) => key.trim().to_owned(),
        (None, None) => {
            return Err(ApiError::unauthorized(
                "missing_widget_key",
                "send the widget key in X-Widget-Key or as widget_key",
            ));
        }
    };
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(unknown_key());
    }
    let (tenant_id, widget_key) = state.directory.widget_key(&key).ok_or_else(unknown_key)?;
    if widget_key.revoked {
        return Err(ApiError::unauthorized(
            "widget_key_revoked",
            "this widget key was revoked",
        ));
    }
    state.directory.tenant(&tenant_id).ok_or_else(unknown_key)?;
    state.limits.check_tenant(&tenant_id)?;
    let origin = headers.get(ORIGIN).and_then(|value| value.to_str().ok());
    if !widget_key.allowed_origins.is_empty()
        && !origin.is_some_and(|origin| origins::allowed(origin, &widget_key.allowed_origins))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this widget key is not enabled for this site",
        ));
    }
    let bound = origin.and_then(|origin| origins::canonical(origin, false).ok());

    let visitor_id = body
        .visitor_token
        .as_deref()
        .and_then(|token| returning_visitor(&state, token, &tenant_id, bound.as_deref()))
        .unwrap_or_else(|| format!("v_{}", crate::random_token(16)));
    let now = jiff::Timestamp::now();
    let ttl = state.config.visitor_token_ttl as i64;
    let token = state.signing.sign(&ServerClaims {
        iss: ISSUER.to_owned(),
        aud: VISITOR_AUDIENCE.to_owned(),
        sub: visitor_id.clone(),
        tid: tenant_id.clone(),
        iat: now.as_second(),
        exp: now.as_second() + ttl,
        iat_ms: now.as_millisecond(),
        origin: bound,
    })?;

    let actor = Actor::new(&tenant_id, &visitor_id, Role::Visitor);
    let availability = queue_status(&state, actor, None).await?;
    let settings = tenant_config::settings(&state.directory, &tenant_id).unwrap_or_default();
    let widget = tenant_config::widget(&state.directory, &tenant_id);
    let departments: Vec<Value> = if widget.pre_chat.ask_department {
        tenant_config::list::<Department>(&state.directory, &tenant_id, tenant_config::DEPARTMENT)
            .into_iter()
            .map(|department| json!({ "id": department.id, "name": department.name }))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(json!({
        "visitor_id": visitor_id,
        "visitor_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "tenant": {
            "name": settings.name,
            "domain": state.directory.primary_domain(&tenant_id),
        },
        "branding": settings.branding,
        "features": features(&settings),
        "mode": mode(&settings, availability.as_ref()),
        "availability": availability,
        "pre_chat": {
            "enabled": widget.pre_chat.enabled,
            "require_name": widget.pre_chat.require_name,
            "require_email": widget.pre_chat.require_email,
            "issue_types": widget.pre_chat.issue_types,
            "fields": widget.pre_chat.fields,
            "departments": departments,
        },
    })))
}

/// `?department_id=` of an availability poll.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The department the visitor chose; omitted: where a new chat would be routed.
    pub department_id: Option<String>,
}

/// `GET /api/v1/widget/availability`: whether to offer a chat or "leave a message".
#[utoipa::path(
    get,
    path = "/api/v1/widget/availability",
    operation_id = "widget_availability",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(AvailabilityQuery),
    responses(
        (status = 200, description = "Whether to offer a chat or \"leave a message\".", body = WidgetAvailability),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn availability(
    State(state): State<SharedState>,
    caller: Caller,
    Query(query): Query<AvailabilityQuery>,
) -> ApiResult<Json<Value>> {
    end_user(&caller)?;
    let department = query.department_id.map(DepartmentId::from);
    let status = queue_status(&state, caller.actor.clone(), department).await?;
    let settings =
        tenant_config::settings(&state.directory, caller.tenant_id()).unwrap_or_default();
    Ok(Json(json!({
        "mode": mode(&settings, status.as_ref()),
        "availability": status,
    })))
}

/// The queue status a new chat would see; `None` when the tenant has no queue for it.
async fn queue_status(
    state: &SharedState,
    actor: Actor,
    department_id: Option<DepartmentId>,
) -> ApiResult<Option<QueueStatusView>> {
    let command = Command::GetQueueStatus {
        queue_id: None,
        department_id,
    };
    match state.engine.execute(actor, command).await {
        Ok((Reply::QueueStatus { status }, _)) => Ok(Some(status)),
        Ok(_) => Err(ApiError::internal()),
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(None),
        Err(error) => Err(error),
    }
}

/// `chat` when a chat can start now, else `leave_a_message`.
fn mode(settings: &TenantSettings, status: Option<&QueueStatusView>) -> &'static str {
    match status {
        Some(status) if settings.features.chat && !status.leave_a_message => "chat",
        _ => "leave_a_message",
    }
}

fn features(settings: &TenantSettings) -> Value {
    json!({
        "chat": settings.features.chat,
        "csat": settings.features.csat,
        "attachments": settings.features.attachments,
        "transcripts": true,
        "offline_messages": true,
    })
}

/// The visitor id of a still-valid visitor token of this tenant and origin.
fn returning_visitor(
    state: &SharedState,
    token: &str,
    tenant_id: &str,
    origin: Option<&str>,
) -> Option<String> {
    crate::auth::tokens::check_algorithm(token).ok()?;
    let claims = state.signing.verify(token).ok()??;
    (claims.aud == VISITOR_AUDIENCE
        && claims.tid == tenant_id
        && claims.origin.as_deref() == origin)
        .then_some(claims.sub)
}

fn unknown_key() -> ApiError {
    ApiError::unauthorized("unknown_widget_key", "no such widget key")
}
