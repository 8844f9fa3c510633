//! The seed contract's shapes: its status names, RFC 3339 times, and the session and
//! message objects of the `/api/v1/live-agent` endpoints.

use serde_json::{Value, json};
use switchboard_core::Timestamp;
use switchboard_core::protocol::model::{MessageView, SenderKind, SessionStatus, SessionView};

use crate::error::ApiError;

/// RFC 3339 in UTC with milliseconds (`2025-10-24T08:00:00.000Z`).
#[must_use]
pub fn time(at: Timestamp) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Reads an RFC 3339 time from a query (`2025-10-24T08:00:00Z`, any offset).
pub fn parse_time(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    text.parse::<jiff::Timestamp>()
        .map(|at| Timestamp(at.as_millisecond()))
        .map_err(|_| ApiError::invalid(name, "must be an RFC 3339 time"))
}

/// An optional time.
#[must_use]
pub fn time_opt(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |at| Value::String(time(at)))
}

/// The contract's four statuses: `pending` (waiting for an agent), `active`, `resolved`,
/// `closed` (every ending).
#[must_use]
pub fn contract_status(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Pending
        | SessionStatus::Bot
        | SessionStatus::Queued
        | SessionStatus::Offered => "pending",
        SessionStatus::Active | SessionStatus::Transferring => "active",
        SessionStatus::Resolved => "resolved",
        SessionStatus::Closed | SessionStatus::Abandoned | SessionStatus::Missed => "closed",
    }
}

/// The engine statuses a `status` filter selects: a contract status or an engine status.
pub fn status_filter(text: &str) -> Result<Vec<SessionStatus>, ApiError> {
    use SessionStatus::*;
    Ok(match text {
        "pending" => vec![Pending, Bot, Queued, Offered],
        "active" => vec![Active, Transferring],
        "resolved" => vec![Resolved],
        "closed" => vec![Closed, Abandoned, Missed],
        other => vec![
            serde_json::from_value(Value::String(other.to_owned()))
                .map_err(|_| ApiError::invalid("status", format!("unknown status {other:?}")))?,
        ],
    })
}

/// The user's account as the contract reports it.
#[must_use]
pub fn user_account(session: &SessionView) -> String {
    session
        .visitor
        .account
        .clone()
        .or_else(|| session.visitor.email.clone())
        .unwrap_or_else(|| session.visitor_id.to_string())
}

/// A session object (4.2 and 4.3 fields, plus `engine_status`, `queue_id` and `tags`).
#[must_use]
pub fn session(session: &SessionView, tenant_domain: &str, preview: Option<&str>) -> Value {
    let account = user_account(session);
    let updated = [
        Some(session.created_at),
        session.assigned_at,
        session.last_message_at,
        session.ended_at,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(session.created_at);
    json!({
        "session_id": session.session_id,
        "tenant_domain": session.visitor.tenant_domain.clone().unwrap_or_else(|| tenant_domain.to_owned()),
        "user_account": account,
        "user_name": session.visitor.name.clone().unwrap_or_else(|| account.clone()),
        "assigned_agent_id": session.agent_id,
        "assigned_agent_name": session.agent_name,
        "status": contract_status(session.status),
        "engine_status": session.status,
        "created_at": time(session.created_at),
        "updated_at": time(updated),
        "last_message_at": time_opt(session.last_message_at),
        "unread_count_user": session.unread_count_visitor,
        "unread_count_agent": session.unread_count_agent,
        "preview": preview,
        "metadata": session.visitor.user_context,
        "queue_id": session.queue_id,
        "department_id": session.department_id,
        "tags": session.tags,
    })
}

/// The contract's sender type.
#[must_use]
pub fn sender_type(kind: SenderKind) -> &'static str {
    match kind {
        SenderKind::Visitor => "user",
        SenderKind::Agent => "agent",
        SenderKind::Bot => "bot",
        SenderKind::System => "system",
    }
}

/// A message object (4.5), with read flags computed by the caller.
#[must_use]
pub fn message(message: &MessageView, read_by_agent: bool, read_by_user: bool) -> Value {
    json!({
        "message_id": message.message_id.0,
        "session_id": message.session_id,
        "seq": message.seq,
        "sender_type": sender_type(message.sender.kind),
        "sender_id": message.sender.id,
        "sender_name": message.sender.name,
        "message_text": message.body,
        "kind": message.kind,
        "attachment": message.attachment,
        "created_at": time(message.created_at),
        "read_by_agent": read_by_agent,
        "read_by_user": read_by_user,
    })
}
