//! Plain-data arguments and answers of the store's queries (JSON-friendly, binding-ready).

use serde::{Deserialize, Serialize};
use switchboard_core::Timestamp;
use switchboard_core::protocol::helpdesk::{SurveyView, TicketMessageView, TicketView};
use switchboard_core::protocol::model::{
    MessageView, NoteView, SessionStatus, SessionView, TransferView, VisitorProfile,
};

/// The most rows one page may ask for.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The longest search text accepted, in bytes.
pub const MAX_SEARCH_BYTES: usize = 256;

/// The most terms one search may combine.
pub const MAX_SEARCH_TERMS: usize = 16;

/// A window of a session's messages. Results are always oldest first.
///
/// With neither cursor: the newest `limit` messages (what a chat window shows first).
/// With `before`: the `limit` messages just before it (scrolling up). With `after`: the
/// `limit` messages just after it (catching up after a reconnect).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    /// Only messages before this cursor.
    pub before: Option<String>,
    /// Only messages after this cursor.
    pub after: Option<String>,
    /// At most this many (1 to [`MAX_PAGE_SIZE`]; 0 means 50).
    pub limit: u32,
}

/// One page of a session's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// Pass as `before` for the page of older messages; `None` when there are none.
    pub older: Option<String>,
    /// Pass as `after` for the page of newer messages; `None` when there are none yet.
    pub newer: Option<String>,
    /// Messages in the session.
    pub total: u64,
}

/// Filters of a session list (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionFilter {
    /// Any of these statuses (empty: any status).
    pub statuses: Vec<SessionStatus>,
    /// Held (or last held) by this agent.
    pub agent_id: Option<String>,
    /// Started for this department.
    pub department_id: Option<String>,
    /// Carrying this tag.
    pub tag: Option<String>,
    /// This visitor's.
    pub visitor_id: Option<String>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created before.
    pub created_to: Option<Timestamp>,
    /// Page number, from 1 (0 means 1).
    pub page: u32,
    /// Rows per page (1 to [`MAX_PAGE_SIZE`]; 0 means 20).
    pub per_page: u32,
}

/// A session in a list: its last recorded state and a preview of its last message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session as last recorded.
    pub session: SessionView,
    /// The start of the last non-system message.
    pub preview: Option<String>,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPage {
    /// The sessions.
    pub sessions: Vec<SessionSummary>,
    /// Sessions matching the filter.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// A full-text search over one tenant's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Words to find, all of them (each matched as a word or word prefix, any case, accents
    /// ignored). Search syntax is not interpreted: the text is split into words.
    pub text: String,
    /// Only in this session.
    pub session_id: Option<String>,
    /// At most this many (1 to [`MAX_PAGE_SIZE`]; 0 means 20).
    pub limit: u32,
    /// Skip this many (for the next page).
    pub offset: u32,
}

/// A message found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The message.
    pub message: MessageView,
}

/// A visitor and their history in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorRecord {
    /// The visitor's id.
    pub visitor_id: String,
    /// Profile, first and last seen (flattened into this object on the wire).
    #[serde(flatten)]
    pub header: VisitorRecordHeader,
    /// Sessions in all.
    pub session_count: u64,
    /// Their latest sessions, newest first (at most 50).
    pub sessions: Vec<SessionView>,
    /// Their latest tickets, newest first (at most 50).
    pub tickets: Vec<TicketView>,
}

/// Everything stored about one visitor in one tenant, for a subject access request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorExport {
    /// The tenant.
    pub tenant_id: String,
    /// The visitor.
    pub visitor_id: String,
    /// Profile, first and last seen.
    pub visitor: Option<VisitorRecordHeader>,
    /// Every session, oldest first.
    pub sessions: Vec<SessionView>,
    /// Every message of those sessions, by session then position.
    pub messages: Vec<MessageView>,
    /// Internal notes written about those sessions.
    pub notes: Vec<NoteView>,
    /// Transfers of those sessions.
    pub transfers: Vec<TransferView>,
    /// Tickets they asked, oldest first.
    pub tickets: Vec<TicketView>,
    /// Every message and note on those tickets.
    pub ticket_messages: Vec<TicketMessageView>,
    /// Surveys sent to them, with their answers.
    pub surveys: Vec<SurveyView>,
}

/// The visitor row: their profile and when they were seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorRecordHeader {
    /// What they told us most recently.
    pub profile: VisitorProfile,
    /// Their first session.
    pub first_seen_at: Timestamp,
    /// Their latest activity.
    pub last_seen_at: Timestamp,
}

/// What a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// Sessions removed.
    pub sessions: u64,
    /// Their messages removed.
    pub messages: u64,
}

/// A host value as committed (see `DurableEngine::stage_host_value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostValue {
    /// The tenant it belongs to (empty for the host's global values).
    pub tenant_id: String,
    /// Its key within the namespace.
    pub key: String,
    /// The value, JSON by convention.
    pub value: String,
}
