//! Events: what the engine tells connected people.
//!
//! Each event travels in an [`Output::Deliver`](super::output::Output) with its recipients.
//! On the wire an event is a JSON object whose `type` names the variant.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::helpdesk::{
    FieldChange, RequesterTicketView, SlaMetric, SlaSubject, SurveyTarget, SurveyView,
    TicketMessageView, TicketView,
};
use super::model::{
    AgentStatus, AgentView, ConversationMessageView, ConversationView, EndReason, MessageView,
    NoteView, OfferView, QueueStatusView, SenderKind, SessionStatus, SessionView, TransferView,
};
use crate::ids::{AgentId, ConversationId, QueueId, SessionId, SlaPolicyId, SurveyId};
use crate::time::Timestamp;

/// Why an offer was taken back from an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    /// Not accepted in time.
    Timeout,
    /// The agent declined it.
    Declined,
    /// Another agent accepted first (broadcast) or a supervisor assigned it.
    TakenByOther,
    /// The visitor left.
    VisitorLeft,
    /// The agent went away, busy or offline.
    AgentUnavailable,
    /// A supervisor closed the session.
    SessionClosed,
    /// The transfer behind the offer ended.
    TransferEnded,
}

/// Why an agent no longer holds a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignReason {
    /// The agent went offline or their disconnect grace ran out.
    AgentOffline,
    /// The visitor waited too long for a reply; the session was re-routed.
    NoReply,
    /// The session was transferred to someone else.
    Transferred,
    /// A supervisor assigned it to someone else.
    Reassigned,
    /// The agent was removed from the tenant.
    AgentRemoved,
}

/// Why the widget should offer "leave a message".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineReason {
    /// Nobody took the chat within the queue's maximum wait.
    MaxWait,
    /// No eligible agent is online.
    NoAgentsOnline,
    /// Outside business hours.
    OutsideBusinessHours,
    /// The queue is full.
    QueueFull,
}

/// Why the engine changed an agent's status on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForcedStatusReason {
    /// The agent let an offer time out.
    MissedOffer,
    /// The disconnect grace ran out.
    DisconnectGraceExpired,
}

/// An event for one or more recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// To the visitor: their session exists.
    SessionStarted {
        /// The session.
        session_id: SessionId,
        /// Its status.
        status: SessionStatus,
        /// Its queue.
        queue_id: Option<QueueId>,
    },
    /// A session changed status (to its visitor, its agent, its bot, and online
    /// supervisors, administrators and viewers).
    SessionStatusChanged {
        /// The session.
        session_id: SessionId,
        /// New status.
        status: SessionStatus,
        /// Previous status.
        previous: SessionStatus,
        /// The agent now holding it.
        agent_id: Option<AgentId>,
        /// That agent's name.
        agent_name: Option<Arc<str>>,
        /// Why it ended, when it did.
        end_reason: Option<EndReason>,
    },
    /// A new message in a session.
    Message {
        /// The message.
        message: MessageView,
    },
    /// Typing started or stopped (to the other side).
    Typing {
        /// The session.
        session_id: SessionId,
        /// Who is typing.
        side: SenderKind,
        /// Their name.
        name: Option<Arc<str>>,
        /// Started or stopped.
        active: bool,
    },
    /// Read receipt (to both sides).
    Read {
        /// The session.
        session_id: SessionId,
        /// Who read.
        reader: SenderKind,
        /// Up to this position.
        up_to_seq: u64,
        /// Unread for the agent side now.
        unread_count_agent: u32,
        /// Unread for the visitor now.
        unread_count_visitor: u32,
    },
    /// To a waiting visitor: place in line and estimated wait (coalesced).
    QueuePosition {
        /// The session.
        session_id: SessionId,
        /// 1-based position.
        position: u32,
        /// Estimated wait.
        estimated_wait_ms: Option<u64>,
    },
    /// To an agent: a session (or transfer) to accept or decline.
    Offered {
        /// The offer.
        offer: OfferView,
    },
    /// To an agent: an offer was taken back.
    OfferWithdrawn {
        /// The session.
        session_id: SessionId,
        /// Why.
        reason: WithdrawReason,
    },
    /// To an agent: they now hold the session (full details).
    SessionAssigned {
        /// The session.
        session: Box<SessionView>,
    },
    /// To an agent: they no longer hold the session.
    SessionUnassigned {
        /// The session.
        session_id: SessionId,
        /// Why.
        reason: UnassignReason,
    },
    /// To staff of the session: an internal note.
    NoteAdded {
        /// The note.
        note: NoteView,
    },
    /// To staff of the session: tags changed.
    TagsChanged {
        /// The session.
        session_id: SessionId,
        /// All tags now.
        tags: Vec<Arc<str>>,
    },
    /// To the agents involved: a transfer changed.
    TransferUpdated {
        /// The transfer.
        transfer: TransferView,
    },
    /// An agent's presence or load changed (to the agent and online supervisors,
    /// administrators and viewers).
    AgentUpdated {
        /// The agent.
        agent: AgentView,
    },
    /// To an agent: an administrator logged everyone out.
    ForceLogout {
        /// Shown to the agent.
        reason: Option<String>,
    },
    /// To the session's visitor and agent: it closes soon for inactivity.
    InactivityWarning {
        /// The session.
        session_id: SessionId,
        /// When it closes.
        closes_at: Timestamp,
    },
    /// To the visitor: chat is not possible now, offer "leave a message".
    LeaveAMessage {
        /// The session that ended; null when the widget is told before any session exists.
        session_id: Option<SessionId>,
        /// Why.
        reason: OfflineReason,
    },
    /// To the rated agent and online supervisors: a survey was answered.
    CsatSubmitted {
        /// The answered survey.
        survey: SurveyView,
    },
    /// To the visitor: please rate the chat or ticket.
    SurveyRequested {
        /// The survey.
        survey_id: SurveyId,
        /// What it asks about.
        target: SurveyTarget,
        /// No answer is accepted after this.
        expires_at: Timestamp,
    },
    /// To staff concerned (the assignee, else the team's online agents, and online
    /// supervisors): a ticket was created.
    TicketCreated {
        /// The ticket.
        ticket: Box<TicketView>,
    },
    /// To staff concerned: a ticket changed.
    TicketUpdated {
        /// The ticket now.
        ticket: Box<TicketView>,
        /// What changed.
        changes: Vec<FieldChange>,
    },
    /// A ticket message (internal notes only to staff).
    TicketMessage {
        /// The message.
        message: TicketMessageView,
    },
    /// To the requester: their ticket exists (the confirmation of "leave a message") or
    /// changed status.
    TicketReceived {
        /// The ticket as the requester sees it.
        ticket: RequesterTicketView,
    },
    /// To an agent coming online: tickets of their teams that nobody has taken yet, most
    /// urgent first.
    UnassignedTickets {
        /// Up to 50 tickets.
        tickets: Vec<TicketView>,
        /// How many there are in all.
        total: u32,
    },
    /// An SLA clock reached its warning share (to the assignee or team, and supervisors).
    SlaWarning {
        /// Ticket or chat.
        subject: SlaSubject,
        /// Which clock.
        metric: SlaMetric,
        /// Which cycle of that clock, from 1 (next response and periodic update repeat).
        cycle: u32,
        /// The policy.
        policy_id: SlaPolicyId,
        /// When it breaches.
        due_at: Timestamp,
    },
    /// An SLA target was breached (to the assignee or team, and supervisors when the policy
    /// says so).
    SlaBreached {
        /// Ticket or chat.
        subject: SlaSubject,
        /// Which clock.
        metric: SlaMetric,
        /// Which cycle of that clock, from 1 (next response and periodic update repeat).
        cycle: u32,
        /// The policy.
        policy_id: SlaPolicyId,
        /// When it was due.
        due_at: Timestamp,
    },
    /// To supervisors, viewers and the queue's agents: waiting count and availability.
    QueueUpdated {
        /// The status.
        status: QueueStatusView,
    },
    /// To members: a conversation was created or its members changed.
    ConversationUpdated {
        /// The conversation.
        conversation: ConversationView,
    },
    /// To members: a new conversation message.
    ConversationMessage {
        /// The message.
        message: ConversationMessageView,
    },
    /// To members: someone read up to a position.
    ConversationRead {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who read.
        reader_id: AgentId,
        /// Up to this position.
        up_to_seq: u64,
    },
    /// To members: someone is typing.
    ConversationTyping {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who.
        agent_id: AgentId,
        /// Started or stopped.
        active: bool,
    },
    /// To an agent whose status the engine changed: away after missing an offer, offline
    /// when the disconnect grace ran out.
    AgentStatusForced {
        /// The status now.
        status: AgentStatus,
        /// Why.
        reason: ForcedStatusReason,
    },
}

impl Event {
    /// The wire name of the event (its `type`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Event::SessionStarted { .. } => "session_started",
            Event::SessionStatusChanged { .. } => "session_status_changed",
            Event::Message { .. } => "message",
            Event::Typing { .. } => "typing",
            Event::Read { .. } => "read",
            Event::QueuePosition { .. } => "queue_position",
            Event::Offered { .. } => "offered",
            Event::OfferWithdrawn { .. } => "offer_withdrawn",
            Event::SessionAssigned { .. } => "session_assigned",
            Event::SessionUnassigned { .. } => "session_unassigned",
            Event::NoteAdded { .. } => "note_added",
            Event::TagsChanged { .. } => "tags_changed",
            Event::TransferUpdated { .. } => "transfer_updated",
            Event::AgentUpdated { .. } => "agent_updated",
            Event::ForceLogout { .. } => "force_logout",
            Event::InactivityWarning { .. } => "inactivity_warning",
            Event::LeaveAMessage { .. } => "leave_a_message",
            Event::CsatSubmitted { .. } => "csat_submitted",
            Event::SurveyRequested { .. } => "survey_requested",
            Event::TicketCreated { .. } => "ticket_created",
            Event::TicketUpdated { .. } => "ticket_updated",
            Event::TicketMessage { .. } => "ticket_message",
            Event::TicketReceived { .. } => "ticket_received",
            Event::UnassignedTickets { .. } => "unassigned_tickets",
            Event::SlaWarning { .. } => "sla_warning",
            Event::SlaBreached { .. } => "sla_breached",
            Event::QueueUpdated { .. } => "queue_updated",
            Event::ConversationUpdated { .. } => "conversation_updated",
            Event::ConversationMessage { .. } => "conversation_message",
            Event::ConversationRead { .. } => "conversation_read",
            Event::ConversationTyping { .. } => "conversation_typing",
            Event::AgentStatusForced { .. } => "agent_status_forced",
        }
    }
}
