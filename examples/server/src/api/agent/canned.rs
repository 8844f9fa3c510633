//! Canned responses: personal ones for any agent, tenant-wide ones for administrators;
//! rendered with a session's variables and sent.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::CannedResponseId;
use switchboard_core::protocol::model::CannedScope;
use switchboard_core::{Command, Reply};
use utoipa::ToSchema;

use super::{chat_staff, staff_session};
use crate::api::messages::message_accepted;
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{CannedAnswer, CannedList, MessageAccepted, RenderedText};
use crate::api::widget::optional_json;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::RawBody;
use crate::extract::{Body, Path};
use crate::state::SharedState;

fn canned_id(text: &str) -> ApiResult<CannedResponseId> {
    text.parse()
        .map_err(|_| ApiError::not_found("canned response"))
}

/// The canned responses the caller may use, optionally only one scope.
pub async fn list_scoped(
    state: &SharedState,
    caller: &Caller,
    scope: Option<CannedScope>,
) -> ApiResult<Json<Value>> {
    let command = Command::ListCannedResponses {};
    let (reply, _) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::CannedResponses { mut items } = reply else {
        return Err(ApiError::internal());
    };
    if let Some(scope) = scope {
        items.retain(|item| item.scope == scope);
    }
    Ok(Json(json!({ "canned_responses": items })))
}

/// `GET /api/v1/agent/canned-responses`: personal and tenant-wide.
#[utoipa::path(
    get,
    path = "/api/v1/agent/canned-responses",
    operation_id = "agent_canned_list",
    tag = "agent",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The caller's personal canned responses and the tenant-wide ones.", body = CannedList),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    chat_staff(&caller)?;
    list_scoped(&state, &caller, None).await
}

/// A new or changed canned response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedBody {
    /// Title.
    pub title: String,
    /// Optional shortcut ("/thanks").
    #[serde(default)]
    pub shortcut: Option<String>,
    /// Body with `{{visitor.name}}`-style variables.
    pub body: String,
    /// `personal` (default) or `tenant` (administrators).
    #[serde(default)]
    #[schema(value_type = Option<crate::api::openapi::CannedScopeSchema>)]
    pub scope: Option<CannedScope>,
}

/// Creates a canned response in `scope`.
pub async fn create_scoped(
    state: &SharedState,
    caller: &Caller,
    body: CannedBody,
    scope: CannedScope,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let command = Command::CreateCannedResponse {
        scope,
        title: body.title.clone(),
        shortcut: body.shortcut.clone(),
        body: body.body.clone(),
    };
    let (reply, _) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::CannedResponseCreated { canned_response_id } = reply else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "canned_response_id": canned_response_id,
            "scope": scope,
            "title": body.title,
            "shortcut": body.shortcut,
            "body": body.body,
        })),
    ))
}

/// `POST /api/v1/agent/canned-responses`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/canned-responses",
    operation_id = "agent_canned_create",
    tag = "agent",
    security(("staff_token" = [])),
    request_body = CannedBody,
    responses(
        (status = 201, description = "The canned response was created.", body = CannedAnswer),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: viewers; tenant-wide ones are for administrators.", body = crate::error::ErrorBody),
        (status = 409, description = "`limit_reached`: the tenant has as many canned responses as it may.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<CannedBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    chat_staff(&caller)?;
    let scope = body.scope.unwrap_or_default();
    create_scoped(&state, &caller, body, scope).await
}

/// `PUT /api/v1/agent/canned-responses/{canned_id}` (its owner, or an administrator for
/// tenant-wide ones).
#[utoipa::path(
    put,
    path = "/api/v1/agent/canned-responses/{canned_id}",
    operation_id = "agent_canned_update",
    tag = "agent",
    security(("staff_token" = [])),
    params(("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    request_body = CannedBody,
    responses(
        (status = 200, description = "The canned response after the change (`scope` is not changed).", body = CannedAnswer),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: only its owner, or an administrator for tenant-wide ones.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such canned response the caller may use.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<CannedBody>,
) -> ApiResult<Json<Value>> {
    chat_staff(&caller)?;
    let canned_response_id = canned_id(&id)?;
    let command = Command::UpdateCannedResponse {
        canned_response_id,
        title: body.title.clone(),
        shortcut: body.shortcut.clone(),
        body: body.body.clone(),
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    Ok(Json(json!({
        "canned_response_id": canned_response_id,
        "title": body.title,
        "shortcut": body.shortcut,
        "body": body.body,
    })))
}

/// `DELETE /api/v1/agent/canned-responses/{canned_id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/agent/canned-responses/{canned_id}",
    operation_id = "agent_canned_remove",
    tag = "agent",
    security(("staff_token" = [])),
    params(("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    responses(
        (status = 204, description = "The canned response is gone."),
        (status = 403, description = "`forbidden`: only its owner, or an administrator for tenant-wide ones.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such canned response the caller may use.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    chat_staff(&caller)?;
    let command = Command::DeleteCannedResponse {
        canned_response_id: canned_id(&id)?,
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET .../canned-responses/{canned_id}/render`: the text with this session's variables.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{session_id}/canned-responses/{canned_id}/render",
    operation_id = "agent_canned_render",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), ("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    responses(
        (status = 200, description = "The text with this session's variables filled in.", body = RenderedText),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session or canned response.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn render(
    State(state): State<SharedState>,
    caller: Caller,
    Path((session_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::RenderCannedResponse {
        session_id: session.session_id,
        canned_response_id: canned_id(&id)?,
    };
    let (reply, _) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::Rendered { text } = reply else {
        return Err(ApiError::internal());
    };
    Ok(Json(json!({ "text": text })))
}

/// Retry id of a canned message.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SendCanned {
    /// Retries with the same id are accepted once.
    pub client_message_id: Option<String>,
}

/// `POST .../canned-responses/{canned_id}/send`: send it, variables filled in.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/canned-responses/{canned_id}/send",
    operation_id = "agent_canned_send",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), ("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    request_body(content = Option<SendCanned>, description = "May be empty."),
    responses(
        (status = 201, description = "The rendered text was sent as a message.", body = MessageAccepted),
        (status = 400, description = "`malformed`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session or canned response.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the chat has ended.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn send(
    State(state): State<SharedState>,
    caller: Caller,
    Path((session_id, id)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let body: SendCanned = optional_json(&body)?;
    let command = Command::SendCannedResponse {
        session_id: session.session_id,
        canned_response_id: canned_id(&id)?,
        client_message_id: body.client_message_id,
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    message_accepted(reply, session.session_id, at)
}
