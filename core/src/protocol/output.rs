//! Outputs: what the host must do after each step, drained with
//! [`Engine::poll_output`](crate::Engine::poll_output).

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::event::Event;
use super::helpdesk::{FieldChange, SlaMeasurement, SurveyView, TicketMessageView, TicketView};
use super::model::{
    AgentProfile, AgentStatus, CannedResponseView, ConversationMessageView, ConversationView,
    MessageView, NoteView, SessionView, TransferView,
};
use crate::auth::Role;
use crate::ids::{
    AgentId, CannedResponseId, EffectId, QueueId, SessionId, TenantId, TicketId, VisitorId,
};
use crate::time::Timestamp;

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    /// A staff member (agent, supervisor, tenant admin, viewer) by id.
    Staff {
        /// The staff member.
        id: AgentId,
    },
    /// A visitor by id.
    Visitor {
        /// The visitor.
        id: Arc<str>,
    },
    /// A bot by id.
    Bot {
        /// The bot.
        id: Arc<str>,
    },
}

/// Something the host must do outside the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Send a push notification to an agent's devices (the host knows their tokens).
    PushNotification {
        /// The agent.
        agent_id: AgentId,
        /// `new_session`, `new_message` or `transfer`.
        kind: PushKind,
        /// The session it is about.
        session_id: SessionId,
        /// Notification title.
        title: String,
        /// Notification body.
        body: String,
    },
    /// Ask the host's router which agent should take a session; answer with a
    /// `route_decision` command before `deadline`, or the fallback strategy decides.
    RouteRequest {
        /// The session.
        session_id: SessionId,
        /// Its queue.
        queue_id: QueueId,
        /// Eligible agents with a free slot now, in the engine's order.
        candidates: Vec<AgentId>,
        /// The answer is ignored after this.
        deadline: Timestamp,
    },
    /// E-mail a session's transcript (the host renders it from its stored messages with
    /// [`crate::transcript`]).
    EmailTranscript {
        /// The session.
        session_id: SessionId,
        /// The address.
        to: String,
    },
    /// E-mail the requester that their message became a ticket.
    EmailTicketConfirmation {
        /// The ticket.
        ticket_id: TicketId,
        /// Its number.
        number: String,
        /// Its subject.
        subject: String,
        /// The address.
        to: String,
    },
}

/// What a push notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    /// A session was offered or assigned to the agent.
    NewSession,
    /// A visitor wrote while the agent was disconnected.
    NewMessage,
    /// A transfer was offered to the agent.
    Transfer,
}

/// A record for the host's durable store: written in the step's transaction before any of
/// the step's events are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// A session's current state (upsert by session id).
    Session {
        /// The session.
        session: Box<SessionView>,
    },
    /// A session message (append).
    Message {
        /// The message.
        message: MessageView,
    },
    /// An internal note (append).
    Note {
        /// The note.
        note: NoteView,
    },
    /// A transfer's current state (upsert by transfer id).
    Transfer {
        /// The transfer.
        transfer: TransferView,
    },
    /// An agent's presence changed (append, for history and analytics).
    AgentStatus {
        /// The agent.
        agent_id: AgentId,
        /// New status.
        status: AgentStatus,
        /// When.
        at: Timestamp,
    },
    /// A conversation's current state (upsert).
    Conversation {
        /// The conversation.
        conversation: ConversationView,
    },
    /// A conversation message (append).
    ConversationMessage {
        /// The message.
        message: ConversationMessageView,
    },
    /// A ticket's current state (upsert by ticket id).
    Ticket {
        /// The ticket.
        ticket: Box<TicketView>,
    },
    /// A ticket message or internal note (append).
    TicketMessage {
        /// The message.
        message: TicketMessageView,
    },
    /// Who changed what on a ticket (append): the ticket's audit trail.
    TicketAudit {
        /// The ticket.
        ticket_id: TicketId,
        /// Who (a staff or visitor id, or `system` for SLA escalations and timers).
        actor_id: Arc<str>,
        /// With which role.
        actor_role: Role,
        /// What was done (`create`, `update`, `set_status`, `assign`, `delete`, ...).
        action: Cow<'static, str>,
        /// The fields changed.
        changes: Vec<FieldChange>,
        /// When.
        at: Timestamp,
    },
    /// One measured SLA cycle (upsert by subject, metric and cycle).
    SlaMeasurement {
        /// The measurement.
        measurement: SlaMeasurement,
    },
    /// A satisfaction survey, sent or answered (upsert by survey id).
    Survey {
        /// The survey.
        survey: SurveyView,
    },
    /// Who changed what in the tenant's configuration (append).
    Audit {
        /// Who.
        actor_id: Arc<str>,
        /// With which role.
        actor_role: Role,
        /// The command's name.
        action: Cow<'static, str>,
        /// The object's id.
        target: String,
        /// When.
        at: Timestamp,
    },
    /// A staff member as configured (upsert by agent id): after every `upsert_agent`, and
    /// for each agent whose departments changed when a department is removed.
    Agent {
        /// The profile.
        agent: AgentProfile,
    },
    /// A staff member was removed (delete by agent id).
    AgentRemoved {
        /// The agent.
        agent_id: AgentId,
        /// When.
        at: Timestamp,
    },
    /// A canned response as it now is (upsert by canned response id): after create and
    /// update.
    CannedResponse {
        /// The response.
        canned_response: CannedResponseView,
    },
    /// A canned response was deleted (delete by canned response id).
    CannedResponseDeleted {
        /// The response.
        canned_response_id: CannedResponseId,
        /// When.
        at: Timestamp,
    },
    /// Every trace of a visitor was erased from the engine (privacy erasure): the store
    /// erases or anonymises what it holds about them too.
    VisitorForgotten {
        /// The visitor.
        visitor_id: VisitorId,
        /// When.
        at: Timestamp,
    },
}

/// One thing for the host to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Deliver an event to these recipients (all in `tenant_id`).
    Deliver {
        /// The tenant.
        tenant_id: TenantId,
        /// Recipients, deduplicated.
        to: Vec<Recipient>,
        /// The event.
        event: Event,
    },
    /// Carry out an effect.
    Effect {
        /// The tenant.
        tenant_id: TenantId,
        /// Its id, for answers such as `route_decision`.
        effect_id: EffectId,
        /// The effect.
        effect: Effect,
    },
    /// Persist a record.
    Persist {
        /// The tenant.
        tenant_id: TenantId,
        /// The record.
        record: Record,
    },
}
