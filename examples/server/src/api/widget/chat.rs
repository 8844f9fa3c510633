//! The visitor's side of a chat: the pre-chat start, messages, typing, read, leave,
//! "leave a message", transcripts and the satisfaction rating.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header::USER_AGENT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::protocol::model::{SessionView, VisitorProfile};
use switchboard_core::{Command, Reply};
use utoipa::ToSchema;

use super::{end_user, optional_json, plausible_email};
use crate::api::live_agent::visible_session;
use crate::api::messages::{SendBody, WindowQuery, message_accepted};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{
    CsatSubmitted, MessageAccepted, MessageWindow, OfflineTicket, TranscriptQueued, VisitorSession,
    WidgetSessionStarted,
};
use crate::api::tenant_config::{self, FieldKind, PreChatForm};
use crate::api::transcript::{self, TranscriptQuery};
use crate::auth::{Caller, Identity};
use crate::error::{ApiError, ApiResult};
use crate::extract::RawBody;
use crate::extract::{Body, Path, Query};
use crate::state::SharedState;

/// Longest user agent kept with a session.
const MAX_USER_AGENT_CHARS: usize = 256;

/// The pre-chat payload.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StartBody {
    /// Name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// The department chosen.
    pub department_id: Option<String>,
    /// The issue type chosen.
    pub issue_type: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// The first message.
    pub initial_message: Option<String>,
    /// Answers to the form's extra fields (and any others the page adds).
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, Value>,
    /// The page the visitor is on.
    pub page_url: Option<String>,
    /// The client's id of the first message, for retries.
    pub client_message_id: Option<String>,
}

/// `POST /api/v1/widget/sessions`: start a chat with the pre-chat answers; it is routed
/// like any chat (to an online agent, a queue, or a bot).
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions",
    operation_id = "widget_start",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    request_body = StartBody,
    responses(
        (status = 201, description = "The chat started and is routed like any chat.", body = WidgetSessionStarted),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: an answer the pre-chat form refuses (`name`, `email`, `issue_type`, `custom_fields.*`); `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 409, description = "`chat_unavailable` (details: `reason`, `leave_a_message`): outside business hours, nobody online or the queue full; offer \"leave a message\". Other engine refusals such as `limit_reached`.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn start(
    State(state): State<SharedState>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<StartBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    end_user(&caller)?;
    let form = tenant_config::widget(&state.directory, caller.tenant_id()).pre_chat;
    let blank = |text: &Option<String>| text.as_deref().is_none_or(|t| t.trim().is_empty());
    let (account, default_name) = match &caller.identity {
        Identity::User { account, name } => (Some(account.clone()), Some(name.clone())),
        _ => (None, None),
    };
    let name = if blank(&body.name) {
        default_name
    } else {
        body.name.as_deref().map(|name| name.trim().to_owned())
    };
    let email = if blank(&body.email) {
        account.clone().filter(|account| plausible_email(account))
    } else {
        body.email.as_deref().map(|email| email.trim().to_owned())
    };
    check_form(&form, name.as_deref(), email.as_deref(), &body)?;
    let mut user_context = BTreeMap::new();
    if let Identity::Visitor {
        origin: Some(origin),
    } = &caller.identity
    {
        user_context.insert("origin".to_owned(), Value::String(origin.clone()));
    }
    if let Some(agent) = headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
    {
        let agent: String = agent.chars().take(MAX_USER_AGENT_CHARS).collect();
        user_context.insert("user_agent".to_owned(), Value::String(agent));
    }
    let visitor = VisitorProfile {
        name,
        email,
        account,
        page_url: body.page_url,
        tenant_domain: Some(caller.tenant_domain.clone()),
        custom_fields: body.custom_fields,
        user_context,
        ..VisitorProfile::default()
    };
    let command = Command::StartSession {
        visitor,
        department_id: body.department_id.map(Into::into),
        issue_type: body.issue_type,
        language: body.language,
        initial_message: body.initial_message.filter(|text| !text.trim().is_empty()),
        client_message_id: body.client_message_id,
    };
    let (reply, at) = state
        .engine
        .execute(caller.actor.clone(), command)
        .await
        .map_err(chat_unavailable)?;
    let Reply::SessionStarted {
        session_id,
        status,
        queue_id,
    } = reply
    else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session_id": session_id,
            "status": status,
            "queue_id": queue_id,
            "visitor_id": caller.id(),
            "created_at": at,
        })),
    ))
}

/// Checks the answers against the tenant's pre-chat form.
fn check_form(
    form: &PreChatForm,
    name: Option<&str>,
    email: Option<&str>,
    body: &StartBody,
) -> ApiResult<()> {
    if form.require_name && name.is_none_or(|name| name.trim().is_empty()) {
        return Err(ApiError::invalid("name", "is required"));
    }
    match email {
        Some(email) if !plausible_email(email) => {
            return Err(ApiError::invalid("email", "is not an e-mail address"));
        }
        None if form.require_email => return Err(ApiError::invalid("email", "is required")),
        _ => {}
    }
    if let Some(issue) = &body.issue_type
        && !form.issue_types.is_empty()
        && !form.issue_types.contains(issue)
    {
        return Err(ApiError::invalid(
            "issue_type",
            format!("{issue:?} is not offered"),
        ));
    }
    for field in &form.fields {
        let answer = body
            .custom_fields
            .get(&field.key)
            .filter(|value| match value {
                Value::Null => false,
                Value::String(text) => !text.trim().is_empty(),
                _ => true,
            });
        let Some(answer) = answer else {
            if field.required {
                return Err(ApiError::invalid(
                    &format!("custom_fields.{}", field.key),
                    "is required",
                ));
            }
            continue;
        };
        let fits = match field.kind {
            FieldKind::Text | FieldKind::Textarea | FieldKind::Phone => answer.is_string(),
            FieldKind::Email => answer.as_str().is_some_and(plausible_email),
            FieldKind::Number => answer.is_number(),
            FieldKind::Checkbox => answer.is_boolean(),
            FieldKind::Select => answer
                .as_str()
                .is_some_and(|choice| field.options.iter().any(|option| option == choice)),
        };
        if !fits {
            return Err(ApiError::invalid(
                &format!("custom_fields.{}", field.key),
                format!("is not a valid {:?} answer", field.kind),
            ));
        }
    }
    Ok(())
}

/// The visitor's own session, as a visitor may see it (no staff tags or notes).
async fn own_session(
    state: &SharedState,
    caller: &Caller,
    session_id: &str,
) -> ApiResult<SessionView> {
    end_user(caller)?;
    let (session, _) = visible_session(state, caller, session_id).await?;
    Ok(session)
}

fn visitor_view(session: &SessionView) -> Value {
    json!({
        "session_id": session.session_id,
        "status": session.status,
        "queue_id": session.queue_id,
        "department_id": session.department_id,
        "agent_name": session.agent_name,
        "created_at": session.created_at,
        "assigned_at": session.assigned_at,
        "ended_at": session.ended_at,
        "last_message_at": session.last_message_at,
        "unread_count": session.unread_count_visitor,
        "message_count": session.message_count,
        "csat": session.csat.as_ref().map(|csat| json!({
            "rating": csat.rating,
            "comment": csat.comment,
            "submitted_at": csat.submitted_at,
        })),
    })
}

/// `GET /api/v1/widget/sessions/{session_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/widget/sessions/{session_id}",
    operation_id = "widget_session",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    responses(
        (status = 200, description = "The visitor's view of the chat.", body = VisitorSession),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn session(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let session = own_session(&state, &caller, &session_id).await?;
    Ok(Json(visitor_view(&session)))
}

/// `GET /api/v1/widget/sessions/{session_id}/messages`: a window of the chat, oldest
/// first, with `older` and `newer` cursors.
#[utoipa::path(
    get,
    path = "/api/v1/widget/sessions/{session_id}/messages",
    operation_id = "widget_messages",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`."), crate::api::messages::WindowQuery),
    responses(
        (status = 200, description = "A window of the chat, oldest first, with `older` and `newer` cursors.", body = MessageWindow),
        (status = 400, description = "`invalid_input`: a bad cursor or parameter.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn messages(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Query(query): Query<WindowQuery>,
) -> ApiResult<Json<Value>> {
    own_session(&state, &caller, &session_id).await?;
    let (tenant, id, history) = (caller.tenant_id().to_owned(), session_id, query.history());
    let page = state
        .readers
        .read(move |reader| Ok(reader.queries().message_history(&tenant, &id, &history)?))
        .await?;
    Ok(Json(
        serde_json::to_value(page).map_err(|_| ApiError::internal())?,
    ))
}

/// `POST /api/v1/widget/sessions/{session_id}/messages`.
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/messages",
    operation_id = "widget_send",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    request_body = crate::api::messages::SendBody,
    responses(
        (status = 201, description = "The message was accepted (or was a retry of an accepted one).", body = MessageAccepted),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
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
    let session = own_session(&state, &caller, &session_id).await?;
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

/// Typing started or stopped.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TypingBody {
    /// Started (true) or stopped (false).
    pub active: bool,
}

/// `POST /api/v1/widget/sessions/{session_id}/typing`.
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/typing",
    operation_id = "widget_typing",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    request_body = TypingBody,
    responses(
        (status = 204, description = "The agent is told."),
        (status = 400, description = "`malformed`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the chat has ended.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn typing(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<TypingBody>,
) -> ApiResult<StatusCode> {
    let session = own_session(&state, &caller, &session_id).await?;
    let command = Command::SetTyping {
        session_id: session.session_id,
        active: body.active,
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Read position.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReadBody {
    /// The last message read; omitted: all.
    pub up_to_seq: Option<u64>,
}

/// `POST /api/v1/widget/sessions/{session_id}/read`.
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/read",
    operation_id = "widget_read",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    request_body = ReadBody,
    responses(
        (status = 204, description = "The read position moved."),
        (status = 400, description = "`malformed`, `invalid_input`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn read(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<ReadBody>,
) -> ApiResult<StatusCode> {
    let session = own_session(&state, &caller, &session_id).await?;
    let command = Command::MarkRead {
        session_id: session.session_id,
        up_to_seq: body.up_to_seq,
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/widget/sessions/{session_id}/leave`: the visitor ends the chat (a waiting
/// one is abandoned, an active one closed).
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/leave",
    operation_id = "widget_leave",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    responses(
        (status = 200, description = "The chat after leaving: a waiting one abandoned, an active one closed.", body = VisitorSession),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        (status = 409, description = "`session_ended`: the chat has already ended; `illegal_transition`.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn leave(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let session = own_session(&state, &caller, &session_id).await?;
    let command = Command::LeaveSession {
        session_id: session.session_id,
    };
    state
        .engine
        .execute(caller.actor.clone(), command)
        .await
        .map_err(|error| ended(error, "the chat has already ended"))?;
    let session = own_session(&state, &caller, &session_id).await?;
    Ok(Json(visitor_view(&session)))
}

/// `GET /api/v1/widget/sessions/{session_id}/transcript?format=text|html`: download.
#[utoipa::path(
    get,
    path = "/api/v1/widget/sessions/{session_id}/transcript",
    operation_id = "widget_transcript",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`."), crate::api::transcript::TranscriptQuery),
    responses(
        (status = 200, description = "The transcript as an attachment (`Content-Disposition`); HTML ones carry a policy under which nothing loads or runs.", content((String = "text/plain"), (String = "text/html"))),
        (status = 400, description = "`invalid_input`: a format other than text or html.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn transcript(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> ApiResult<Response> {
    end_user(&caller)?;
    transcript::download(&state, &caller, &session_id, query).await
}

/// Where to e-mail a transcript.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = WidgetEmailBody)]
pub struct EmailBody {
    /// Only staff may name an address; a visitor's goes to the address of the chat.
    pub email: Option<String>,
}

/// `POST /api/v1/widget/sessions/{session_id}/transcript/email`: the transcript is
/// e-mailed to the address the visitor gave, during the chat or after it has ended; three
/// times per chat, then once every 20 minutes (429 `rate_limited`).
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/transcript/email",
    operation_id = "widget_email_transcript",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    request_body(content = Option<EmailBody>, description = "May be empty."),
    responses(
        (status = 202, description = "The transcript will be e-mailed to the address the visitor gave.", body = TranscriptQueued),
        (status = 400, description = "`malformed`; `invalid_input`: no address is known.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; a visitor named an address (theirs is the one on the chat). `origin_not_allowed`.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn email_transcript(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = own_session(&state, &caller, &session_id).await?;
    let email = optional_json::<EmailBody>(&body)?.email;
    state
        .limits
        .check_transcript_mail(caller.tenant_id(), &session_id)?;
    // After the chat has ended the visitor still gets it, at the address on the chat only.
    transcript::email(&state, &caller, &session, email, |email| match email {
        Some(_) => Err(ApiError::forbidden(
            "visitors have the transcript sent to the address they gave",
        )),
        None => Ok(session.visitor.email.clone()),
    })
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "session_id": session.session_id, "queued": true })),
    ))
}

/// A satisfaction rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatBody {
    /// 1 to 5.
    pub rating: u8,
    /// Optional comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/widget/sessions/{session_id}/csat`: rate the chat once (while it is
/// active or resolved, or while a survey about it is outstanding).
#[utoipa::path(
    post,
    path = "/api/v1/widget/sessions/{session_id}/csat",
    operation_id = "widget_csat",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    params(("session_id" = String, Path, description = "The visitor's session, `ses_...`.")),
    request_body = CsatBody,
    responses(
        (status = 201, description = "The rating was kept.", body = CsatSubmitted),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: a rating outside 1 to 5; `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`, `origin_not_allowed`, `feature_disabled` (ratings are off).", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the chat cannot be rated now, or was rated before.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn csat(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<CsatBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let session = own_session(&state, &caller, &session_id).await?;
    let command = Command::SubmitCsat {
        survey_id: None,
        session_id: Some(session.session_id),
        rating: body.rating,
        comment: body.comment.clone(),
    };
    let (_, at) = state.engine.execute(caller.actor.clone(), command).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session_id": session.session_id,
            "rating": body.rating,
            "comment": body.comment,
            "submitted_at": at,
        })),
    ))
}

/// The "leave a message" form.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineBody {
    /// Name.
    pub name: Option<String>,
    /// E-mail for the answer (required from widget visitors).
    pub email: Option<String>,
    /// Subject; default the message's first line.
    pub subject: Option<String>,
    /// The message.
    pub message: String,
    /// The department chosen.
    pub department_id: Option<String>,
    /// The visitor's chat that could not be served, if any.
    pub session_id: Option<String>,
}

/// `POST /api/v1/widget/offline`: the message becomes a ticket; a confirmation is e-mailed.
#[utoipa::path(
    post,
    path = "/api/v1/widget/offline",
    operation_id = "widget_offline",
    tag = "widget",
    security(("visitor_token" = []), ("erp_token" = [])),
    request_body = OfflineBody,
    responses(
        (status = 201, description = "The message became a ticket; a confirmation is e-mailed.", body = OfflineTicket),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: no or no valid `email`; `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff use `/api/v1/agent`; `origin_not_allowed`: a visitor token used from another site.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: `session_id` is not the visitor's.", body = crate::error::ErrorBody),
        (status = 429, description = "`rate_limited`: three messages from one visitor, or for one address, then one every 20 minutes.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn offline(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<OfflineBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    end_user(&caller)?;
    let (name, email) = match &caller.identity {
        Identity::User { account, name } => (
            body.name.or_else(|| Some(name.clone())),
            body.email
                .or_else(|| Some(account.clone()).filter(|account| plausible_email(account))),
        ),
        _ => (body.name, body.email),
    };
    let email = email.map(|email| email.trim().to_owned());
    match &email {
        Some(email) if !plausible_email(email) => {
            return Err(ApiError::invalid("email", "is not an e-mail address"));
        }
        None => {
            return Err(ApiError::invalid(
                "email",
                "is required, so that the team can answer",
            ));
        }
        _ => {}
    }
    let session_id = match body.session_id {
        Some(id) => {
            let (session, _) = visible_session(&state, &caller, &id).await?;
            Some(session.session_id)
        }
        None => None,
    };
    state.limits.check_offline_message(
        caller.tenant_id(),
        caller.id(),
        email.as_deref().unwrap_or_default(),
    )?;
    let command = Command::SubmitOfflineMessage {
        name,
        email,
        subject: body.subject,
        message: body.message,
        department_id: body.department_id.map(Into::into),
        session_id,
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::TicketCreated { ticket_id, number } = reply else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "ticket_id": ticket_id,
            "number": number,
            "created_at": at,
            "message": "Thank you. We received your message and will answer by e-mail.",
        })),
    ))
}

/// The engine's "chat is unavailable" (outside business hours, nobody online, queue full)
/// is no server trouble: 409 `chat_unavailable`, with the reason, so that the widget offers
/// "leave a message".
fn chat_unavailable(error: ApiError) -> ApiError {
    match error.details.get("reason") {
        Some(reason) if error.code == "unavailable" => ApiError {
            details: json!({ "reason": reason, "leave_a_message": true }),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "chat_unavailable",
                "chat is not available now; leave a message instead",
            )
        },
        _ => error,
    }
}

/// A session the store knows but the engine no longer holds has ended.
fn ended(error: ApiError, message: &'static str) -> ApiError {
    if error.status == StatusCode::NOT_FOUND {
        ApiError::new(StatusCode::CONFLICT, "session_ended", message)
    } else {
        error
    }
}
