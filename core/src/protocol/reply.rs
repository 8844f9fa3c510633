//! Replies: the direct answer to a successful command.

use serde::{Deserialize, Serialize};

use super::helpdesk::{RequesterTicketView, TicketView};
use super::model::{
    AgentView, CannedResponseView, QueueEntryView, QueueStatusView, SessionStatus, SessionView,
};
use crate::ids::{
    CannedResponseId, ConversationId, MessageId, NoteId, QueueId, SessionId, SurveyId, TicketId,
    TransferId,
};

/// The answer to a command that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reply {
    /// Done; nothing to return.
    Ok,
    /// A session was started.
    SessionStarted {
        /// The session.
        session_id: SessionId,
        /// Its status after routing.
        status: SessionStatus,
        /// Its queue.
        queue_id: Option<QueueId>,
    },
    /// A message was accepted (or had been: `duplicate` for a retried client message id).
    MessageAccepted {
        /// The message.
        message_id: MessageId,
        /// Its position.
        seq: u64,
        /// This was a retry of an accepted message; nothing new happened.
        duplicate: bool,
    },
    /// A note was added.
    NoteAdded {
        /// The note.
        note_id: NoteId,
    },
    /// A transfer was requested.
    TransferRequested {
        /// The transfer.
        transfer_id: TransferId,
    },
    /// A canned response was created.
    CannedResponseCreated {
        /// The response.
        canned_response_id: CannedResponseId,
    },
    /// A conversation exists (`created`: false when a direct one already existed).
    Conversation {
        /// The conversation.
        conversation_id: ConversationId,
        /// Newly created.
        created: bool,
    },
    /// Queue status.
    QueueStatus {
        /// The status.
        status: QueueStatusView,
    },
    /// A session.
    Session {
        /// The session.
        session: Box<SessionView>,
    },
    /// A queue's waiting sessions.
    Queue {
        /// Entries in order.
        entries: Vec<QueueEntryView>,
    },
    /// An agent.
    Agent {
        /// The agent.
        agent: AgentView,
    },
    /// Canned responses.
    CannedResponses {
        /// The responses.
        items: Vec<CannedResponseView>,
    },
    /// A rendered canned response.
    Rendered {
        /// The text.
        text: String,
    },
    /// A ticket was created.
    TicketCreated {
        /// The ticket.
        ticket_id: TicketId,
        /// Its number.
        number: String,
    },
    /// A ticket as staff see it.
    Ticket {
        /// The ticket.
        ticket: Box<TicketView>,
    },
    /// A ticket as its requester sees it.
    RequesterTicket {
        /// The ticket.
        ticket: RequesterTicketView,
    },
    /// A page of tickets.
    Tickets {
        /// The tickets.
        items: Vec<TicketView>,
        /// Pass as `after` for the next page; `None` on the last page.
        next_after: Option<TicketId>,
    },
    /// A ticket message was added.
    TicketMessageAdded {
        /// The message.
        message_id: MessageId,
        /// Its position on the ticket.
        seq: u64,
    },
    /// A survey was sent (or was already outstanding).
    SurveySent {
        /// The survey.
        survey_id: SurveyId,
    },
}
