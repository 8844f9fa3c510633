//! Working on a session: offers, picking, assigning, transfers, notes, tags, messages,
//! resolving and closing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::{AgentId, DepartmentId, TransferId};
use switchboard_core::{Command, Reply};
use utoipa::ToSchema;

use super::staff_session;
use crate::api::live_agent::visible_session;
use crate::api::messages::{SendBody, message_accepted};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{
    MessageAccepted, NoteAdded, NoteList, SessionTags, TranscriptQueued, TransferAnswered,
    TransferRequested,
};
use crate::api::transcript;
use crate::api::widget::optional_json;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::RawBody;
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// The session as stored after a step.
async fn session_json(state: &SharedState, caller: &Caller, session_id: &str) -> ApiResult<Value> {
    let (session, _) = visible_session(state, caller, session_id).await?;
    serde_json::to_value(session).map_err(|_| ApiError::internal())
}

/// Runs a command on a session of the caller's tenant, then answers the session.
async fn on_session(
    state: SharedState,
    caller: Caller,
    session_id: String,
    command: impl FnOnce(switchboard_core::ids::SessionId) -> Command,
) -> ApiResult<Json<Value>> {
    let session = staff_session(&state, &caller, &session_id).await?;
    state
        .engine
        .execute(caller.actor.clone(), command(session.session_id))
        .await?;
    Ok(Json(session_json(&state, &caller, &session_id).await?))
}

/// `POST .../accept`: take a session offered to the caller.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/accept",
    operation_id = "agent_accept",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The session, now the caller's (the engine's session view).", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn accept(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::AcceptOffer { session_id }
    })
    .await
}

/// `POST .../decline`: refuse an offer; it is not offered to the caller again.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/decline",
    operation_id = "agent_decline",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The session after declining (the engine's session view).", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn decline(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::DeclineOffer { session_id }
    })
    .await
}

/// `POST .../pick`: take a waiting session from the queue.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/pick",
    operation_id = "agent_pick",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The session, now the caller's (the engine's session view).", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn pick(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::PickSession { session_id }
    })
    .await
}

/// Who gets a session.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AssignSessionBody)]
pub struct AssignBody {
    /// The agent.
    pub agent_id: String,
}

/// `POST .../assign`: give a session to an agent (supervisors).
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/assign",
    operation_id = "agent_assign",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The session, now the agent's (the engine's session view).", body = Object),
        (status = 400, description = "`malformed`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: assigning is for supervisors and administrators.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session or agent in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn assign(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<AssignBody>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::AssignSession {
            session_id,
            agent_id: AgentId::from(body.agent_id),
        }
    })
    .await
}

/// `POST .../resolve`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/resolve",
    operation_id = "agent_resolve",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The resolved session (the engine's session view).", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn resolve(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::ResolveSession { session_id }
    })
    .await
}

/// `POST .../close`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/close",
    operation_id = "agent_close",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The closed session (the engine's session view).", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn close(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    on_session(state, caller, session_id, |session_id| {
        Command::CloseSession { session_id }
    })
    .await
}

/// Where a session goes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// An agent.
    #[serde(default)]
    pub to_agent_id: Option<String>,
    /// Or a department.
    #[serde(default)]
    pub to_department_id: Option<String>,
    /// Why (the visitor sees a neutral message).
    #[serde(default)]
    pub reason: String,
}

/// `POST .../transfer`: offer the session to an agent or a department; it moves when
/// accepted.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/transfer",
    operation_id = "agent_transfer",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = TransferBody,
    responses(
        (status = 202, description = "The transfer is offered; the session moves when it is accepted.", body = TransferRequested),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: neither or both targets.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, agent or department.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition` (not in a state that allows it), `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn transfer(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<TransferBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::TransferSession {
        session_id: session.session_id,
        to_agent_id: body.to_agent_id.map(AgentId::from),
        to_department_id: body.to_department_id.map(DepartmentId::from),
        reason: body.reason,
    };
    let (reply, _) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::TransferRequested { transfer_id } = reply else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "transfer_id": transfer_id, "session_id": session.session_id })),
    ))
}

/// `POST /api/v1/agent/transfers/{transfer_id}/{accept|reject|cancel}`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/transfers/{transfer_id}/{action}",
    operation_id = "agent_transfer_answer",
    tag = "agent",
    security(("staff_token" = [])),
    params(
        ("transfer_id" = String, Path, description = "The transfer, `trf_...`."),
        ("action" = String, Path, description = "`accept` or `reject` (its target), `cancel` (who asked for it)."),
    ),
    responses(
        (status = 200, description = "The transfer's outcome.", body = TransferAnswered),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such transfer, or an unknown action.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the transfer was already answered; `agent_at_capacity`.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn transfer_answer(
    State(state): State<SharedState>,
    caller: Caller,
    Path((transfer_id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    super::chat_staff(&caller)?;
    let id: TransferId = transfer_id
        .parse()
        .map_err(|_| ApiError::not_found("transfer"))?;
    let command = match action.as_str() {
        "accept" => Command::AcceptTransfer { transfer_id: id },
        "reject" => Command::RejectTransfer { transfer_id: id },
        "cancel" => Command::CancelTransfer { transfer_id: id },
        _ => return Err(ApiError::not_found("transfer action")),
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    let outcome = match action.as_str() {
        "accept" => "accepted",
        "reject" => "rejected",
        _ => "cancelled",
    };
    Ok(Json(json!({ "transfer_id": id, "outcome": outcome })))
}

/// A note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The text (never shown to the visitor).
    pub body: String,
}

/// `POST .../notes`: an internal note.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/notes",
    operation_id = "agent_add_note",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = NoteBody,
    responses(
        (status = 201, description = "The note was kept; the visitor never sees it.", body = NoteAdded),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn add_note(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<NoteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::AddNote {
        session_id: session.session_id,
        body: body.body.clone(),
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::NoteAdded { note_id } = reply else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "note_id": note_id,
            "session_id": session.session_id,
            "author_id": caller.id(),
            "body": body.body,
            "created_at": at,
        })),
    ))
}

/// `GET .../notes`: the session's notes, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{session_id}/notes",
    operation_id = "agent_list_notes",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The session's notes, oldest first.", body = NoteList),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list_notes(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let session = staff_session(&state, &caller, &session_id).await?;
    if session.visitor_id.is_empty() {
        // An erased visitor's notes are tombstones.
        return Ok(Json(json!({ "notes": [] })));
    }
    let (tenant, id) = (caller.tenant_id().to_owned(), session_id);
    let notes = state
        .readers
        .read(move |reader| Ok(reader.queries().session_notes(&tenant, &id)?))
        .await?;
    Ok(Json(json!({ "notes": notes })))
}

/// Tags to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    /// The tags.
    pub tags: Vec<String>,
}

/// `POST .../tags`: add tags; answers the session's tags.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/tags",
    operation_id = "agent_add_tags",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = TagsBody,
    responses(
        (status = 200, description = "The session's tags after adding.", body = SessionTags),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn add_tags(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<TagsBody>,
) -> ApiResult<Json<Value>> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::AddTags {
        session_id: session.session_id,
        tags: body.tags,
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    tags(&state, &caller, &session_id).await
}

/// `DELETE .../tags/{tag}`: remove a tag; answers the session's tags.
#[utoipa::path(
    delete,
    path = "/api/v1/agent/sessions/{session_id}/tags/{tag}",
    operation_id = "agent_remove_tag",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), ("tag" = String, Path, description = "The tag to remove.")),
    responses(
        (status = 200, description = "The session's tags after removing.", body = SessionTags),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove_tag(
    State(state): State<SharedState>,
    caller: Caller,
    Path((session_id, tag)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::RemoveTags {
        session_id: session.session_id,
        tags: vec![tag],
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    tags(&state, &caller, &session_id).await
}

async fn tags(state: &SharedState, caller: &Caller, session_id: &str) -> ApiResult<Json<Value>> {
    let (session, _) = visible_session(state, caller, session_id).await?;
    Ok(Json(
        json!({ "session_id": session.session_id, "tags": session.tags }),
    ))
}

/// `POST .../messages`: write to the visitor.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/messages",
    operation_id = "agent_send",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = crate::api::messages::SendBody,
    responses(
        (status = 201, description = "The message was accepted (or was a retry of an accepted one).", body = MessageAccepted),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the chat has ended.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn send(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<SendBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let command = Command::SendMessage {
        session_id: session.session_id,
        body: body.text,
        kind: body.kind.unwrap_or_default(),
        attachment: None,
        client_message_id: body.client_message_id,
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    message_accepted(reply, session.session_id, at)
}

/// Where to e-mail a transcript.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = AgentEmailBody)]
pub struct EmailBody {
    /// The address; default the visitor's.
    pub email: Option<String>,
}

/// `POST .../transcript/email`: e-mail the transcript (to the visitor, or an address),
/// during the chat or after it has ended.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{session_id}/transcript/email",
    operation_id = "agent_email_transcript",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body(content = Option<EmailBody>, description = "May be empty: the visitor's address."),
    responses(
        (status = 202, description = "The transcript will be e-mailed.", body = TranscriptQueued),
        (status = 400, description = "`malformed`; `invalid_input`: no address is known.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: only the agent holding the chat, one it is offered to, or a supervisor; once the chat has ended, its last agent or a supervisor.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn email_transcript(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = staff_session(&state, &caller, &session_id).await?;
    let body: EmailBody = optional_json(&body)?;
    // After the chat has ended, its last agent or a supervisor may still send it, as
    // while it was live.
    transcript::email(&state, &caller, &session, body.email, |email| {
        let last_agent = session
            .agent_id
            .as_ref()
            .is_some_and(|agent| agent.as_str() == caller.id());
        if !(last_agent || caller.actor.role.can_supervise()) {
            return Err(ApiError::forbidden(
                "only the chat's last agent or a supervisor may send its transcript",
            ));
        }
        Ok(email.or_else(|| session.visitor.email.clone()))
    })
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "session_id": session.session_id, "queued": true })),
    ))
}
