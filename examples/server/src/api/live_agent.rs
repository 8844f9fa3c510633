//! The REST contract of the live-agent app (`/api/v1/live-agent`): sessions, messages,
//! session status and assignment, and agent status.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::{AgentId, SessionId};
use switchboard_core::protocol::model::{AgentStatus, SessionStatus, SessionView, VisitorProfile};
use switchboard_core::{Command, Reply};
use switchboard_store::query::{HistoryQuery, SessionFilter};
use utoipa::{IntoParams, ToSchema};

use super::convert;
use super::messages::{Accepted, accepted};
use super::openapi::{AgentStatusSchema, Authenticated, JsonBody};
use super::schemas::{
    ContractAgentStatus, ContractMessageList, ContractMessageSent, ContractSession,
    ContractSessionCreated, ContractSessionList, ContractStatusChanged,
};
use crate::auth::{Caller, Identity};
use crate::directory::{self, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query};
use crate::state::SharedState;

/// Longest push registration token accepted.
const MAX_PUSH_TOKEN_BYTES: usize = 4_096;

/// `POST /sessions` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSession {
    /// The user's first message.
    #[serde(default)]
    pub initial_message: Option<String>,
    /// Context from the host page (`page_url`, `browser`, ...), kept as the session's
    /// metadata.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub user_context: BTreeMap<String, Value>,
    /// Department (extension).
    #[serde(default)]
    pub department_id: Option<String>,
    /// Issue type (extension).
    #[serde(default)]
    pub issue_type: Option<String>,
    /// Language (extension).
    #[serde(default)]
    pub language: Option<String>,
}

/// `POST /api/v1/live-agent/sessions`: an end user asks for an agent.
#[utoipa::path(
    post,
    path = "/api/v1/live-agent/sessions",
    operation_id = "live_agent_create_session",
    tag = "live-agent",
    security(("erp_token" = []), ("visitor_token" = [])),
    request_body = CreateSession,
    responses(
        (status = 201, description = "The session was created and is being routed.", body = ContractSessionCreated),
        (status = 400, description = "`malformed`, `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff do not start sessions; `feature_disabled`.", body = crate::error::ErrorBody),
        (status = 409, description = "The engine refused the start, e.g. `limit_reached`.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create_session(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<CreateSession>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (account, name, email) = match &caller.identity {
        Identity::User { account, name } => (
            account.clone(),
            name.clone(),
            account.contains('@').then(|| account.clone()),
        ),
        Identity::Visitor { .. } => (caller.id().to_owned(), caller.id().to_owned(), None),
        Identity::Staff { .. } => {
            return Err(ApiError::forbidden("sessions are started by end users"));
        }
    };
    let page_url = ["page_url", "page"]
        .iter()
        .find_map(|key| body.user_context.get(*key).and_then(Value::as_str))
        .map(str::to_owned);
    let visitor = VisitorProfile {
        name: Some(name.clone()),
        email,
        account: Some(account.clone()),
        page_url,
        tenant_domain: Some(caller.tenant_domain.clone()),
        user_context: body.user_context,
        ..VisitorProfile::default()
    };
    let command = Command::StartSession {
        visitor,
        department_id: body.department_id.map(Into::into),
        issue_type: body.issue_type,
        language: body.language,
        initial_message: body.initial_message.filter(|text| !text.trim().is_empty()),
        client_message_id: None,
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::SessionStarted {
        session_id, status, ..
    } = reply
    else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session_id": session_id,
            "tenant_domain": caller.tenant_domain,
            "user_account": account,
            "user_name": name,
            "status": convert::contract_status(status),
            "engine_status": status,
            "created_at": convert::time(at),
            "message": "Session created. An agent will respond shortly.",
        })),
    ))
}

/// `GET /sessions` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListSessions {
    /// Only this tenant domain (the caller's own tenant is the only one visible).
    pub tenant: Option<String>,
    /// A contract status (pending, active, resolved, closed) or an engine status.
    pub status: Option<String>,
    /// Only sessions held by the caller.
    pub assigned_to_me: Option<bool>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Per page (default 20, at most 200).
    pub per_page: Option<u32>,
    /// Only this department (extension).
    pub department_id: Option<String>,
    /// Only sessions with this tag (extension).
    pub tag: Option<String>,
    /// Only this visitor's (extension, staff).
    pub visitor_id: Option<String>,
    /// Only sessions held, or last held, by this agent (extension, staff; `assigned_to_me`
    /// wins when both are given).
    pub agent_id: Option<String>,
    /// Only sessions started at or after this RFC 3339 time (extension).
    pub created_from: Option<String>,
    /// Only sessions started before this RFC 3339 time (extension).
    pub created_to: Option<String>,
}

/// `GET /api/v1/live-agent/sessions`: staff see their tenant's sessions, end users their
/// own; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/live-agent/sessions",
    operation_id = "live_agent_list_sessions",
    tag = "live-agent",
    security(("staff_token" = []), ("erp_token" = []), ("visitor_token" = [])),
    params(ListSessions),
    responses(
        (status = 200, description = "Staff see their tenant's sessions, end users their own; newest first.", body = ContractSessionList),
        (status = 400, description = "`invalid_input`: an unknown status or a bad parameter.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list_sessions(
    State(state): State<SharedState>,
    caller: Caller,
    Query(query): Query<ListSessions>,
) -> ApiResult<Json<Value>> {
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query
        .per_page
        .unwrap_or(20)
        .clamp(1, switchboard_store::query::MAX_PAGE_SIZE);
    let other_tenant = query.tenant.as_deref().is_some_and(|wanted| {
        state.directory.tenant_by_domain(wanted).as_deref() != Some(caller.tenant_id())
    });
    if other_tenant {
        return Ok(Json(
            json!({ "sessions": [], "total": 0, "page": page, "per_page": per_page }),
        ));
    }
    let statuses = query
        .status
        .as_deref()
        .map(convert::status_filter)
        .transpose()?
        .unwrap_or_default();
    let created_from = query
        .created_from
        .as_deref()
        .map(|text| convert::parse_time("created_from", text))
        .transpose()?;
    let created_to = query
        .created_to
        .as_deref()
        .map(|text| convert::parse_time("created_to", text))
        .transpose()?;
    let mut filter = SessionFilter {
        statuses,
        department_id: query.department_id,
        tag: query.tag,
        created_from,
        created_to,
        page,
        per_page,
        ..SessionFilter::default()
    };
    if caller.is_staff() {
        filter.visitor_id = query.visitor_id;
        filter.agent_id = if query.assigned_to_me == Some(true) {
            Some(caller.id().to_owned())
        } else {
            query.agent_id
        };
    } else {
        filter.visitor_id = Some(caller.id().to_owned());
    }
    let hide_content = caller.actor.role == switchboard_core::Role::Viewer;
    let tenant = caller.tenant_id().to_owned();
    let result = state
        .readers
        .read(move |reader| Ok(reader.queries().list_sessions(&tenant, &filter)?))
        .await?;
    let sessions: Vec<Value> = result
        .sessions
        .iter()
        .map(|summary| {
            let preview = if hide_content {
                None
            } else {
                summary.preview.as_deref()
            };
            convert::session(&summary.session, &caller.tenant_domain, preview)
        })
        .collect();
    Ok(Json(json!({
        "sessions": sessions,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
    })))
}

/// Loads a session the caller may see: staff see their tenant's, end users their own;
/// anything else is "not found".
pub async fn visible_session(
    state: &SharedState,
    caller: &Caller,
    session_id: &str,
) -> ApiResult<(SessionView, Option<String>)> {
    if session_id.parse::<SessionId>().is_err() {
        return Err(ApiError::not_found("session"));
    }
    let (tenant, id) = (caller.tenant_id().to_owned(), session_id.to_owned());
    let summary = state
        .readers
        .read(move |reader| Ok(reader.queries().session(&tenant, &id)?))
        .await?;
    if !caller.is_staff() && summary.session.visitor_id.as_str() != caller.id() {
        return Err(ApiError::not_found("session"));
    }
    Ok((summary.session, summary.preview))
}

/// `GET /api/v1/live-agent/sessions/{session_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/live-agent/sessions/{session_id}",
    operation_id = "live_agent_get_session",
    tag = "live-agent",
    security(("staff_token" = []), ("erp_token" = []), ("visitor_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    responses(
        (status = 200, description = "The session.", body = ContractSession),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn get_session(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (session, preview) = visible_session(&state, &caller, &session_id).await?;
    let preview = (caller.actor.role != switchboard_core::Role::Viewer)
        .then_some(preview)
        .flatten();
    Ok(Json(convert::session(
        &session,
        &caller.tenant_domain,
        preview.as_deref(),
    )))
}

/// `POST /messages` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessage {
    /// The session.
    pub session_id: String,
    /// The text.
    pub message_text: String,
    /// `agent` or `user`; must match the caller when given.
    #[serde(default)]
    pub sender_type: Option<String>,
    /// Retries with the same id are accepted once (extension).
    #[serde(default)]
    pub client_message_id: Option<String>,
}

/// `POST /api/v1/live-agent/messages`.
#[utoipa::path(
    post,
    path = "/api/v1/live-agent/messages",
    operation_id = "live_agent_send_message",
    tag = "live-agent",
    security(("staff_token" = []), ("erp_token" = []), ("visitor_token" = [])),
    request_body = SendMessage,
    responses(
        (status = 201, description = "The message was accepted (or was a retry of an accepted one).", body = ContractMessageSent),
        (status = 400, description = "`malformed`, `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`sender_type_mismatch`; `forbidden`: not a party of the chat.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the chat has ended.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn send_message(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<SendMessage>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let own_type = if caller.is_staff() { "agent" } else { "user" };
    if let Some(claimed) = body.sender_type.as_deref()
        && claimed != own_type
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sender_type_mismatch",
            format!("this token sends as {own_type:?}, not {claimed:?}"),
        ));
    }
    let session_id: SessionId = body
        .session_id
        .parse()
        .map_err(|_| ApiError::not_found("session"))?;
    let command = Command::SendMessage {
        session_id,
        body: body.message_text.clone(),
        kind: Default::default(),
        attachment: None,
        client_message_id: body.client_message_id,
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    let Accepted {
        message_id,
        seq,
        duplicate,
    } = accepted(reply)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message_id": message_id.0,
            "session_id": session_id,
            "seq": seq,
            "sender_type": own_type,
            "sender_name": caller.display_name(),
            "message_text": body.message_text,
            "created_at": convert::time(at),
            "notification_sent": !duplicate,
            "duplicate": duplicate,
        })),
    ))
}

/// `GET /messages/{session_id}` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListMessages {
    /// Page, from 1 = the newest messages.
    pub page: Option<u32>,
    /// Per page (default 50, at most 200).
    pub per_page: Option<u32>,
    /// Mark the other side's messages read for the caller first.
    pub mark_as_read: Option<bool>,
}

/// `GET /api/v1/live-agent/messages/{session_id}`: page 1 holds the newest `per_page`
/// messages, oldest first within the page; page 2 the ones before them.
#[utoipa::path(
    get,
    path = "/api/v1/live-agent/messages/{session_id}",
    operation_id = "live_agent_list_messages",
    tag = "live-agent",
    security(("staff_token" = []), ("erp_token" = []), ("visitor_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), ListMessages),
    responses(
        (status = 200, description = "Page 1 holds the newest messages, oldest first within the page.", body = ContractMessageList),
        (status = 400, description = "`invalid_input`: a bad parameter.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: viewers see no conversation content.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list_messages(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Query(query): Query<ListMessages>,
) -> ApiResult<Json<Value>> {
    visible_session(&state, &caller, &session_id).await?;
    if caller.actor.role == switchboard_core::Role::Viewer {
        return Err(ApiError::forbidden("viewers see no conversation content"));
    }
    if query.mark_as_read == Some(true) {
        let command = Command::MarkRead {
            session_id: session_id
                .parse()
                .map_err(|_| ApiError::not_found("session"))?,
            up_to_seq: None,
        };
        // Only a party of the chat has a read position; for other staff this is a no-op.
        if let Err(error) = state.engine.execute(caller.actor.clone(), command).await
            && error.status.is_server_error()
        {
            return Err(error);
        }
    }
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query
        .per_page
        .unwrap_or(50)
        .clamp(1, switchboard_store::query::MAX_PAGE_SIZE);
    let (tenant, id) = (caller.tenant_id().to_owned(), session_id.clone());
    let (messages, total, session) = state
        .readers
        .read(move |reader| {
            let queries = reader.queries();
            let session = queries.session(&tenant, &id)?.session;
            let newest = queries.message_history(
                &tenant,
                &id,
                &HistoryQuery {
                    limit: per_page,
                    ..HistoryQuery::default()
                },
            )?;
            let total = newest.total;
            if page == 1 {
                return Ok((newest.messages, total, session));
            }
            let skip = u64::from(page - 1) * u64::from(per_page);
            let Some(newest_seq) = newest.messages.last().map(|message| message.seq) else {
                return Ok((Vec::new(), total, session));
            };
            if skip >= newest_seq {
                return Ok((Vec::new(), total, session));
            }
            let before = newest_seq - skip + 1;
            let older = queries.message_history(
                &tenant,
                &id,
                &HistoryQuery {
                    before: Some(before.to_string()),
                    limit: per_page,
                    ..HistoryQuery::default()
                },
            )?;
            Ok((older.messages, total, session))
        })
        .await?;
    let items = read_flags(&session, &messages, page == 1);
    Ok(Json(json!({
        "messages": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "session": {
            "session_id": session.session_id,
            "status": convert::contract_status(session.status),
            "engine_status": session.status,
        },
    })))
}

/// Read flags from the session's unread counts: the newest `unread_count_agent` visitor
/// messages are unread by the agent, and likewise for the visitor. Older pages are read.
fn read_flags(
    session: &SessionView,
    messages: &[switchboard_core::protocol::model::MessageView],
    newest_page: bool,
) -> Vec<Value> {
    use switchboard_core::protocol::model::SenderKind;
    let mut unread_by_agent = if newest_page {
        session.unread_count_agent
    } else {
        0
    };
    let mut unread_by_user = if newest_page {
        session.unread_count_visitor
    } else {
        0
    };
    let mut items: Vec<Value> = messages
        .iter()
        .rev()
        .map(|message| {
            let (mut by_agent, mut by_user) = (true, true);
            match message.sender.kind {
                SenderKind::Visitor if unread_by_agent > 0 => {
                    unread_by_agent -= 1;
                    by_agent = false;
                }
                SenderKind::Agent | SenderKind::Bot if unread_by_user > 0 => {
                    unread_by_user -= 1;
                    by_user = false;
                }
                _ => {}
            }
            convert::message(message, by_agent, by_user)
        })
        .collect();
    items.reverse();
    items
}

/// `PUT /sessions/{id}/status` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateStatus {
    /// `active` (take or assign), `resolved` or `closed`.
    pub status: String,
    /// The agent to assign (default: the caller); a number is taken as its text.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub assigned_agent_id: Option<Value>,
    /// Ignored: the name comes from the agent's profile.
    #[serde(default)]
    pub assigned_agent_name: Option<String>,
}

/// `PUT /api/v1/live-agent/sessions/{session_id}/status`: `active` takes the session
/// (accepting its offer or picking it from the queue) or assigns it to
/// `assigned_agent_id` (supervisors); `resolved` resolves it; `closed` closes it (an end
/// user leaves).
#[utoipa::path(
    put,
    path = "/api/v1/live-agent/sessions/{session_id}/status",
    operation_id = "live_agent_update_status",
    tag = "live-agent",
    security(("staff_token" = []), ("erp_token" = []), ("visitor_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`.")),
    request_body = UpdateStatus,
    responses(
        (status = 200, description = "The session after the change.", body = ContractStatusChanged),
        (status = 400, description = "`malformed`; `invalid_input`: a status other than active, resolved or closed.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: only staff take sessions; assigning to others is for supervisors.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`, `agent_at_capacity`...", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update_status(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Body(body): Body<UpdateStatus>,
) -> ApiResult<Json<Value>> {
    let (session, _) = visible_session(&state, &caller, &session_id).await?;
    let id = session.session_id;
    let target: Option<String> = match &body.assigned_agent_id {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => Some(other.to_string()),
    };
    let actor = caller.actor.clone();
    match (body.status.as_str(), caller.is_staff()) {
        ("active", true) => {
            let target = target.unwrap_or_else(|| caller.id().to_owned());
            let already = session
                .agent_id
                .as_ref()
                .is_some_and(|agent| agent.as_str() == target)
                && session.status.is_with_agent();
            if already {
                // Nothing to do: the contract's call is idempotent.
            } else if target == caller.id() && session.status.is_waiting() {
                let accepted = if session.status == SessionStatus::Offered {
                    state
                        .engine
                        .execute(actor.clone(), Command::AcceptOffer { session_id: id })
                        .await
                        .is_ok()
                } else {
                    false
                };
                if !accepted {
                    state
                        .engine
                        .execute(actor, Command::PickSession { session_id: id })
                        .await?;
                }
            } else {
                state
                    .engine
                    .execute(
                        actor,
                        Command::AssignSession {
                            session_id: id,
                            agent_id: AgentId::from(target),
                        },
                    )
                    .await?;
            }
        }
        ("resolved", true) => {
            state
                .engine
                .execute(actor, Command::ResolveSession { session_id: id })
                .await?;
        }
        ("closed", true) => {
            state
                .engine
                .execute(actor, Command::CloseSession { session_id: id })
                .await?;
        }
        ("closed" | "resolved", false) => {
            state
                .engine
                .execute(actor, Command::LeaveSession { session_id: id })
                .await?;
        }
        ("active", false) => return Err(ApiError::forbidden("only staff take sessions")),
        (other, _) => {
            return Err(ApiError::invalid(
                "status",
                format!("{other:?} cannot be set; use active, resolved or closed"),
            ));
        }
    }
    let (session, _) = visible_session(&state, &caller, &session_id).await?;
    let view = convert::session(&session, &caller.tenant_domain, None);
    Ok(Json(json!({
        "session_id": session.session_id,
        "status": view["status"],
        "engine_status": session.status,
        "assigned_agent_id": session.agent_id,
        "assigned_agent_name": session.agent_name,
        "updated_at": view["updated_at"],
    })))
}

/// `PUT /agent/status` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AgentStatusBody {
    /// Online or offline.
    #[serde(default)]
    pub is_online: Option<bool>,
    /// Or a precise status: online, away, busy, offline (extension).
    #[serde(default)]
    #[schema(value_type = Option<AgentStatusSchema>)]
    pub status: Option<AgentStatus>,
    /// The device's push registration token; an empty string removes it.
    #[serde(default)]
    pub fcm_token: Option<String>,
}

/// `PUT /api/v1/live-agent/agent/status`.
#[utoipa::path(
    put,
    path = "/api/v1/live-agent/agent/status",
    operation_id = "live_agent_agent_status",
    tag = "live-agent",
    security(("staff_token" = [])),
    request_body = AgentStatusBody,
    responses(
        (status = 200, description = "The caller's status after the change.", body = ContractAgentStatus),
        (status = 400, description = "`malformed`; `invalid_input`: neither `is_online` nor `status`, or an over-long push token.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn agent_status(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<AgentStatusBody>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let status = match (body.status, body.is_online) {
        (Some(status), _) => status,
        (None, Some(true)) => AgentStatus::Online,
        (None, Some(false)) => AgentStatus::Offline,
        (None, None) => return Err(ApiError::invalid("is_online", "give is_online or status")),
    };
    let mut host_writes = Vec::new();
    if let Some(token) = &body.fcm_token {
        if token.len() > MAX_PUSH_TOKEN_BYTES {
            return Err(ApiError::invalid("fcm_token", "longer than 4096 bytes"));
        }
        host_writes.push(if token.is_empty() {
            directory::remove(caller.tenant_id(), namespace::PUSH_TOKEN, caller.id())
        } else {
            (
                caller.tenant_id().to_owned(),
                namespace::PUSH_TOKEN,
                caller.id().to_owned(),
                Some(token.clone()),
            )
        });
    }
    let command = Command::SetAgentStatus {
        status,
        agent_id: None,
    };
    let (_, at) = state
        .engine
        .execute_with(caller.actor.clone(), command, host_writes.clone())
        .await?;
    state.directory.apply(&host_writes);
    let email = match &caller.identity {
        Identity::Staff { email, .. } => email.clone(),
        _ => None,
    };
    Ok(Json(json!({
        "agent_id": email.unwrap_or_else(|| caller.id().to_owned()),
        "agent_name": caller.display_name(),
        "is_online": status == AgentStatus::Online,
        "status": status,
        "updated_at": convert::time(at),
    })))
}
