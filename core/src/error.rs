//! The one error type every command returns.
//!
//! A command that fails changes nothing: no state, no output. Each error has a stable
//! snake_case [`code`](CommandError::code) that bindings map to their own shapes
//! (`{code, message, details}` on the wire).

use serde::Serialize;
use serde::ser::SerializeStruct;

/// The kinds of object a command can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A tenant.
    Tenant,
    /// A staff member.
    Agent,
    /// A session.
    Session,
    /// A department.
    Department,
    /// A queue.
    Queue,
    /// A transfer.
    Transfer,
    /// An internal conversation.
    Conversation,
    /// A canned response.
    CannedResponse,
    /// An offer of a session to an agent.
    Offer,
    /// An effect awaiting the host's answer.
    Effect,
    /// A message.
    Message,
    /// A ticket.
    Ticket,
    /// A ticket template.
    TicketTemplate,
    /// A business-hours calendar.
    Calendar,
    /// An SLA policy.
    SlaPolicy,
    /// A satisfaction survey.
    Survey,
    /// A visitor.
    Visitor,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            ObjectKind::Tenant => "tenant",
            ObjectKind::Agent => "agent",
            ObjectKind::Session => "session",
            ObjectKind::Department => "department",
            ObjectKind::Queue => "queue",
            ObjectKind::Transfer => "transfer",
            ObjectKind::Conversation => "conversation",
            ObjectKind::CannedResponse => "canned response",
            ObjectKind::Offer => "offer",
            ObjectKind::Effect => "effect",
            ObjectKind::Message => "message",
            ObjectKind::Ticket => "ticket",
            ObjectKind::TicketTemplate => "ticket template",
            ObjectKind::Calendar => "calendar",
            ObjectKind::SlaPolicy => "SLA policy",
            ObjectKind::Survey => "survey",
            ObjectKind::Visitor => "visitor",
        };
        f.write_str(name)
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The object does not exist in the actor's tenant (or the actor may not know it exists).
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked up.
        kind: ObjectKind,
        /// The id as given.
        id: String,
    },
    /// The actor's role or relation to the object does not allow the command.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Which permission was missing.
        reason: &'static str,
    },
    /// A field has a value the engine cannot accept.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field, as named on the wire.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A text field is longer than its limit.
    #[error("{field} is too long: {len} bytes, at most {max}")]
    TooLong {
        /// The field, as named on the wire.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The object is in a state where this command does not apply.
    #[error("cannot {action} a {kind} that is {state}")]
    IllegalTransition {
        /// The object.
        kind: ObjectKind,
        /// Its current state.
        state: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The visitor still has chats that have not ended or tickets that are not closed, so
    /// they cannot be forgotten yet. Its code is `illegal_transition`, like any command the
    /// object's state does not allow.
    #[error("the visitor has open chats or tickets; close them first")]
    VisitorHasOpenItems {
        /// The visitor.
        visitor_id: String,
        /// Their chats that have not ended (waiting, with a bot or an agent, resolved).
        open_sessions: u32,
        /// Their tickets that are not closed (soft-deleted ones included).
        open_tickets: u32,
    },
    /// The object already exists.
    #[error("{kind} {id} already exists")]
    AlreadyExists {
        /// What was created.
        kind: ObjectKind,
        /// Its id.
        id: String,
    },
    /// The agent cannot take a chat now: not online with a connection, or no free slot
    /// (active chats, offers and wrap-up slots fill it).
    #[error("agent {agent_id} cannot take a chat now: not online, or no free chat slot")]
    AgentAtCapacity {
        /// The agent.
        agent_id: String,
    },
    /// No agent can take the session now (offline, away, at capacity, or excluded).
    #[error("no agent is available")]
    NoAgentAvailable,
    /// Chat is not available now: the widget should offer "leave a message".
    #[error("chat is unavailable: {reason}")]
    Unavailable {
        /// `outside_business_hours`, `no_agents_online` or `queue_full`.
        reason: &'static str,
    },
    /// A per-tenant or per-object limit has been reached.
    #[error("limit reached: {limit} (at most {max})")]
    LimitReached {
        /// Which limit.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The tenant has turned this feature off.
    #[error("feature disabled: {feature}")]
    FeatureDisabled {
        /// The feature flag.
        feature: &'static str,
    },
    /// The input could not be parsed (JSON bindings) or names an unknown protocol version.
    #[error("malformed input: {reason}")]
    Malformed {
        /// What the parser said.
        reason: String,
    },
}

/// The `state` in the details of [`CommandError::VisitorHasOpenItems`].
const VISITOR_WITH_OPEN_ITEMS: &str = "with open chats or tickets";

impl CommandError {
    /// The stable code bindings and HTTP layers key on.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::NotFound { .. } => "not_found",
            CommandError::Forbidden { .. } => "forbidden",
            CommandError::InvalidInput { .. } => "invalid_input",
            CommandError::TooLong { .. } => "too_long",
            CommandError::IllegalTransition { .. } | CommandError::VisitorHasOpenItems { .. } => {
                "illegal_transition"
            }
            CommandError::AlreadyExists { .. } => "already_exists",
            CommandError::AgentAtCapacity { .. } => "agent_at_capacity",
            CommandError::NoAgentAvailable => "no_agent_available",
            CommandError::Unavailable { .. } => "unavailable",
            CommandError::LimitReached { .. } => "limit_reached",
            CommandError::FeatureDisabled { .. } => "feature_disabled",
            CommandError::Malformed { .. } => "malformed",
        }
    }

    /// Structured details for the wire, beside the code and the message.
    #[must_use]
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            CommandError::NotFound { kind, id } => json!({ "kind": kind, "id": id }),
            CommandError::Forbidden { reason } => json!({ "reason": reason }),
            CommandError::InvalidInput { field, reason } => {
                json!({ "field": field, "reason": reason })
            }
            CommandError::TooLong { field, len, max } => {
                json!({ "field": field, "len": len, "max": max })
            }
            CommandError::IllegalTransition {
                kind,
                state,
                action,
            } => json!({ "kind": kind, "state": state, "action": action }),
            CommandError::VisitorHasOpenItems {
                visitor_id,
                open_sessions,
                open_tickets,
            } => json!({
                "kind": ObjectKind::Visitor,
                "id": visitor_id,
                "state": VISITOR_WITH_OPEN_ITEMS,
                "action": "forget",
                "open_sessions": open_sessions,
                "open_tickets": open_tickets,
            }),
            CommandError::AlreadyExists { kind, id } => json!({ "kind": kind, "id": id }),
            CommandError::AgentAtCapacity { agent_id } => json!({ "agent_id": agent_id }),
            CommandError::NoAgentAvailable => json!({}),
            CommandError::Unavailable { reason } => json!({ "reason": reason }),
            CommandError::LimitReached { limit, max } => json!({ "limit": limit, "max": max }),
            CommandError::FeatureDisabled { feature } => json!({ "feature": feature }),
            CommandError::Malformed { reason } => json!({ "reason": reason }),
        }
    }

    pub(crate) fn not_found(kind: ObjectKind, id: impl ToString) -> Self {
        CommandError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        CommandError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("Error", 3)?;
        body.serialize_field("code", self.code())?;
        body.serialize_field("message", &self.to_string())?;
        body.serialize_field("details", &self.details())?;
        body.end()
    }
}
