//! Tickets for the dashboard: list, read, move through statuses, reply and assign.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_core::ids::{AgentId, DepartmentId, TicketId};
use switchboard_core::protocol::helpdesk::{TicketFilter, TicketPriority, TicketStatus};
use switchboard_core::protocol::model::MessageKind;
use switchboard_core::{Command, Reply};
use utoipa::{IntoParams, ToSchema};

use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{TicketList, TicketReply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query};
use crate::state::SharedState;

fn ticket_id(text: &str) -> ApiResult<TicketId> {
    text.parse().map_err(|_| ApiError::not_found("ticket"))
}

/// Filters of `GET /tickets`; lists are comma-separated.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Statuses (`open,in_progress`).
    pub status: Option<String>,
    /// Priorities (`high,critical`).
    pub priority: Option<String>,
    /// Assigned to this agent (`me`: the caller).
    pub assignee_id: Option<String>,
    /// Assigned to this team.
    pub team_id: Option<String>,
    /// Only tickets without an agent.
    pub unassigned: Option<bool>,
    /// Carrying this tag.
    pub tag: Option<String>,
    /// Soft-deleted ones too (supervisors).
    pub include_deleted: Option<bool>,
    /// At most this many (at most 500).
    pub limit: Option<u32>,
    /// Continue after this ticket.
    pub after: Option<String>,
}

fn wire_list<T: DeserializeOwned>(field: &str, text: &str) -> ApiResult<Vec<T>> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .take(16)
        .map(|item| {
            serde_json::from_value(Value::String(item.to_owned()))
                .map_err(|_| ApiError::invalid(field, format!("unknown value {item:?}")))
        })
        .collect()
}

/// `GET /api/v1/agent/tickets`: open tickets matching the filters, in id order;
/// `next_after` continues.
#[utoipa::path(
    get,
    path = "/api/v1/agent/tickets",
    operation_id = "agent_tickets_list",
    tag = "agent",
    security(("staff_token" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "Tickets matching the filters, in id order; `next_after` continues.", body = TicketList),
        (status = 400, description = "`invalid_input`: an unknown status or priority, or a bad parameter.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only, or the engine's rule for this step.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let filter = TicketFilter {
        statuses: params
            .status
            .as_deref()
            .map(|text| wire_list::<TicketStatus>("status", text))
            .transpose()?
            .unwrap_or_default(),
        priorities: params
            .priority
            .as_deref()
            .map(|text| wire_list::<TicketPriority>("priority", text))
            .transpose()?
            .unwrap_or_default(),
        assignee_id: params.assignee_id.map(|id| {
            if id == "me" {
                AgentId::from(caller.id())
            } else {
                AgentId::from(id)
            }
        }),
        team_id: params.team_id.map(DepartmentId::from),
        unassigned: params.unassigned.unwrap_or(false),
        tag: params.tag,
        include_deleted: params.include_deleted.unwrap_or(false),
        limit: params.limit,
        after: params.after.as_deref().map(ticket_id).transpose()?,
    };
    let (reply, _) = state
        .engine
        .execute(caller.actor.clone(), Command::ListTickets { filter })
        .await?;
    let Reply::Tickets { items, next_after } = reply else {
        return Err(ApiError::internal());
    };
    Ok(Json(json!({ "tickets": items, "next_after": next_after })))
}

/// `GET /api/v1/agent/tickets/{ticket_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/agent/tickets/{ticket_id}",
    operation_id = "agent_tickets_get",
    tag = "agent",
    security(("staff_token" = [])),
    params(("ticket_id" = String, Path, description = "The ticket, `tkt_...`.")),
    responses(
        (status = 200, description = "The ticket with its messages (the engine's ticket view).", body = Object),
        (status = 403, description = "`forbidden`: staff only, or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such ticket in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    ticket(&state, &caller, ticket_id(&id)?).await
}

async fn ticket(state: &SharedState, caller: &Caller, id: TicketId) -> ApiResult<Json<Value>> {
    let (reply, _) = state
        .engine
        .execute(caller.actor.clone(), Command::GetTicket { ticket_id: id })
        .await?;
    let value = match reply {
        Reply::Ticket { ticket } => serde_json::to_value(ticket),
        Reply::RequesterTicket { ticket } => serde_json::to_value(ticket),
        _ => return Err(ApiError::internal()),
    };
    Ok(Json(value.map_err(|_| ApiError::internal())?))
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TicketStatusBody)]
pub struct StatusBody {
    /// `open`, `in_progress`, `pending`, `resolved` or `closed`.
    #[schema(value_type = crate::api::openapi::TicketStatusSchema)]
    pub status: TicketStatus,
}

/// `PUT /api/v1/agent/tickets/{ticket_id}/status`: illegal moves are refused.
#[utoipa::path(
    put,
    path = "/api/v1/agent/tickets/{ticket_id}/status",
    operation_id = "agent_tickets_set_status",
    tag = "agent",
    security(("staff_token" = [])),
    params(("ticket_id" = String, Path, description = "The ticket, `tkt_...`.")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The ticket after the change.", body = Object),
        (status = 400, description = "`malformed`: an unknown status.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only, or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such ticket in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the move is not allowed.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn set_status(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<StatusBody>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let ticket_id = ticket_id(&id)?;
    let command = Command::SetTicketStatus {
        ticket_id,
        status: body.status,
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    ticket(&state, &caller, ticket_id).await
}

/// A reply or internal note on a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketReplyBody)]
pub struct ReplyBody {
    /// The text.
    pub body: String,
    /// An internal note, never shown to the requester.
    #[serde(default)]
    pub internal: bool,
    /// `text` (default) or `markdown`.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::openapi::MessageKindSchema>)]
    pub kind: Option<MessageKind>,
}

/// `POST /api/v1/agent/tickets/{ticket_id}/messages`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/tickets/{ticket_id}/messages",
    operation_id = "agent_tickets_reply",
    tag = "agent",
    security(("staff_token" = [])),
    params(("ticket_id" = String, Path, description = "The ticket, `tkt_...`.")),
    request_body = ReplyBody,
    responses(
        (status = 201, description = "The reply (e-mailed to the requester) or internal note was added.", body = TicketReply),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only, or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such ticket in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: the ticket takes no message in its state.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn reply(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ReplyBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_staff()?;
    let ticket_id = ticket_id(&id)?;
    let command = Command::AddTicketMessage {
        ticket_id,
        body: body.body,
        kind: body.kind.unwrap_or_default(),
        internal: body.internal,
        attachments: Vec::new(),
    };
    let (reply, at) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::TicketMessageAdded { message_id, seq } = reply else {
        return Err(ApiError::internal());
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "ticket_id": ticket_id,
            "message_id": message_id,
            "seq": seq,
            "internal": body.internal,
            "created_at": at,
        })),
    ))
}

/// An assignment; omitted fields clear it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = AssignTicketBody)]
pub struct AssignBody {
    /// The agent (`me`: the caller).
    pub assignee_id: Option<String>,
    /// The team.
    pub team_id: Option<String>,
}

/// `POST /api/v1/agent/tickets/{ticket_id}/assign`.
#[utoipa::path(
    post,
    path = "/api/v1/agent/tickets/{ticket_id}/assign",
    operation_id = "agent_tickets_assign",
    tag = "agent",
    security(("staff_token" = [])),
    params(("ticket_id" = String, Path, description = "The ticket, `tkt_...`.")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The ticket after the assignment.", body = Object),
        (status = 400, description = "`malformed` (also unknown fields).", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only, or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such ticket, agent or team.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn assign(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<AssignBody>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let ticket_id = ticket_id(&id)?;
    let command = Command::AssignTicket {
        ticket_id,
        assignee_id: body.assignee_id.map(|id| {
            if id == "me" {
                AgentId::from(caller.id())
            } else {
                AgentId::from(id)
            }
        }),
        team_id: body.team_id.map(DepartmentId::from),
    };
    state.engine.execute(caller.actor.clone(), command).await?;
    ticket(&state, &caller, ticket_id).await
}
