//! Plain data of the helpdesk: tickets, templates, SLA policies and their clocks, calendars
//! and satisfaction surveys. JSON with snake_case field names, like the rest of the protocol.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::{Attachment, MessageKind, Sender};
use crate::calendar::BusinessHours;
use crate::ids::{
    AgentId, CalendarId, DepartmentId, MessageId, SessionId, SlaPolicyId, SurveyId, TicketId,
    TicketTemplateId, VisitorId,
};
use crate::time::Timestamp;

/// Where a ticket is in its life.
///
/// `open -> in_progress -> pending -> resolved -> closed`; a resolved ticket can be reopened,
/// a closed one cannot (a customer writing again gets a follow-up ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// New, or the customer wrote back: waiting for the team.
    Open,
    /// An agent is working on it.
    InProgress,
    /// Waiting for the customer; SLA clocks are paused.
    Pending,
    /// Solved, awaiting confirmation; the customer may still reopen it.
    Resolved,
    /// Done (terminal).
    Closed,
}

impl TicketStatus {
    /// The status's wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

/// Urgency, ordered from low to critical.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TicketPriority {
    /// Non-urgent.
    Low,
    /// Standard (the default).
    #[default]
    Medium,
    /// Needs attention soon.
    High,
    /// Urgent.
    Critical,
}

impl TicketPriority {
    /// The priority's wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TicketPriority::Low => "low",
            TicketPriority::Medium => "medium",
            TicketPriority::High => "high",
            TicketPriority::Critical => "critical",
        }
    }

    /// One step more urgent (critical stays critical).
    #[must_use]
    pub fn raised(self) -> TicketPriority {
        match self {
            TicketPriority::Low => TicketPriority::Medium,
            TicketPriority::Medium => TicketPriority::High,
            TicketPriority::High | TicketPriority::Critical => TicketPriority::Critical,
        }
    }
}

/// How a conversation reached the team; SLA policies can select by it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A live chat (sessions), or a ticket converted from one.
    Chat,
    /// E-mail (tickets the host creates from mail).
    Email,
    /// A web form or the API (the default for tickets).
    #[default]
    Web,
    /// "Leave a message" in the widget while chat was not possible.
    OfflineMessage,
    /// Phone.
    Phone,
}

/// Who asked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Requester {
    /// The visitor or ERP user, when known: they may read and answer the ticket.
    pub visitor_id: Option<VisitorId>,
    /// Display name.
    pub name: Option<String>,
    /// E-mail address for confirmations and transcripts.
    pub email: Option<String>,
}

/// A ticket as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    /// Its id.
    pub ticket_id: TicketId,
    /// Human-readable number, per tenant (`ACME-00001`).
    pub number: Arc<str>,
    /// Subject.
    pub subject: Arc<str>,
    /// Description.
    pub description: Arc<str>,
    /// Who asked.
    pub requester: Requester,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: TicketPriority,
    /// How it arrived.
    pub channel: Channel,
    /// The department it belongs to (selects SLA policies and calendars).
    pub department_id: Option<DepartmentId>,
    /// The agent working on it.
    pub assignee_id: Option<AgentId>,
    /// The team (department) it is assigned to.
    pub team_id: Option<DepartmentId>,
    /// A due date set by hand (SLA due times are in `sla`).
    pub due_at: Option<Timestamp>,
    /// Tags, sorted.
    pub tags: Vec<Arc<str>>,
    /// The chat it was created from.
    pub source_session_id: Option<SessionId>,
    /// The template it was created from.
    pub template_id: Option<TicketTemplateId>,
    /// Who created it (a staff or visitor id).
    pub created_by: Arc<str>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// First public agent reply.
    pub first_response_at: Option<Timestamp>,
    /// Last resolved.
    pub resolved_at: Option<Timestamp>,
    /// Closed.
    pub closed_at: Option<Timestamp>,
    /// Soft-deleted: hidden from lists, kept for the audit trail.
    pub deleted_at: Option<Timestamp>,
    /// Messages and notes so far.
    pub message_count: u64,
    /// Times reopened.
    pub reopen_count: u32,
    /// SLA clocks, when a policy applies.
    pub sla: Option<SlaView>,
}

/// A ticket as its requester sees it: no internal fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterTicketView {
    /// Its id.
    pub ticket_id: TicketId,
    /// Number.
    pub number: Arc<str>,
    /// Subject.
    pub subject: Arc<str>,
    /// Status.
    pub status: TicketStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A message on a ticket: a public reply or an internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMessageView {
    /// Its id.
    pub message_id: MessageId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// Position on the ticket, from 1.
    pub seq: u64,
    /// Who wrote it.
    pub sender: Sender,
    /// Text or markdown.
    pub kind: MessageKind,
    /// The body.
    pub body: Arc<str>,
    /// Internal note: never shown to the requester.
    pub internal: bool,
    /// Attached files (metadata; the bytes live with the host).
    pub attachments: Vec<Attachment>,
    /// When accepted.
    pub created_at: Timestamp,
}

/// A ticket template; `{{name}}` variables in subject and description are filled in from the
/// values given at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTemplate {
    /// Its id.
    pub id: TicketTemplateId,
    /// Display name.
    pub name: String,
    /// Subject with variables ("Technical issue: {{issue_type}}").
    pub subject: String,
    /// Description with variables.
    #[serde(default)]
    pub description: String,
    /// Default priority.
    #[serde(default)]
    pub priority: TicketPriority,
    /// Team (department) to assign to.
    #[serde(default)]
    pub team_id: Option<DepartmentId>,
    /// Tags to add.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One changed field in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's wire name.
    pub field: String,
    /// Its value before (JSON).
    pub from: serde_json::Value,
    /// Its value after (JSON).
    pub to: serde_json::Value,
}

/// Fields a ticket update may change; omitted fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketChanges {
    /// New subject.
    pub subject: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New priority (SLA policies are re-selected).
    pub priority: Option<TicketPriority>,
    /// New department (SLA policies are re-selected).
    pub department_id: Option<DepartmentId>,
    /// New due date; `null` clears it, an omitted field keeps it.
    #[serde(with = "double_option", skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Option<Timestamp>>,
}

mod double_option {
    //! `null` (clear) told apart from an omitted field (keep).
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None | Some(None) => serializer.serialize_none(),
            Some(Some(inner)) => inner.serialize(serializer),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Filters of a ticket list; all given filters must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketFilter {
    /// Only these statuses.
    pub statuses: Vec<TicketStatus>,
    /// Only these priorities.
    pub priorities: Vec<TicketPriority>,
    /// Assigned to this agent.
    pub assignee_id: Option<AgentId>,
    /// Assigned to this team.
    pub team_id: Option<DepartmentId>,
    /// Unassigned (no agent).
    pub unassigned: bool,
    /// Carrying this tag.
    pub tag: Option<String>,
    /// Include soft-deleted tickets (supervisors and administrators).
    pub include_deleted: bool,
    /// At most this many (default and maximum 500).
    pub limit: Option<u32>,
    /// Continue after this ticket (tickets come in id order).
    pub after: Option<TicketId>,
}

// ---- calendars ----

/// A named business-hours calendar: for the tenant, a department or an SLA policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    /// Its id.
    pub id: CalendarId,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Zone, weekly hours, holidays and special days.
    #[serde(flatten)]
    pub hours: BusinessHours,
}

// ---- SLA ----

/// The four clocks an SLA policy can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaMetric {
    /// Creation to the first public agent reply.
    FirstResponse,
    /// The oldest unanswered customer message to the next public agent reply.
    NextResponse,
    /// Between public agent replies while the ticket is open.
    PeriodicUpdate,
    /// Creation to resolved.
    Resolution,
}

impl SlaMetric {
    /// All metrics, in a fixed order.
    pub const ALL: [SlaMetric; 4] = [
        SlaMetric::FirstResponse,
        SlaMetric::NextResponse,
        SlaMetric::PeriodicUpdate,
        SlaMetric::Resolution,
    ];

    /// Position in [`SlaMetric::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A target duration, counted in calendar time or in the policy calendar's business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    /// The duration in minutes.
    pub minutes: u32,
    /// Count only business hours (of the policy's calendar, else the tenant's).
    #[serde(default)]
    pub business_hours: bool,
}

/// Targets of a policy; a missing target is not measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaTargets {
    /// First response.
    pub first_response: Option<SlaTarget>,
    /// Next response.
    pub next_response: Option<SlaTarget>,
    /// Periodic update.
    pub periodic_update: Option<SlaTarget>,
    /// Resolution.
    pub resolution: Option<SlaTarget>,
}

impl SlaTargets {
    /// The target of one metric.
    #[must_use]
    pub fn get(&self, metric: SlaMetric) -> Option<SlaTarget> {
        match metric {
            SlaMetric::FirstResponse => self.first_response,
            SlaMetric::NextResponse => self.next_response,
            SlaMetric::PeriodicUpdate => self.periodic_update,
            SlaMetric::Resolution => self.resolution,
        }
    }
}

/// Which tickets (and chats) a policy applies to; every given list must contain the
/// subject's value. Chats have channel `chat` and no priority, so a policy listing
/// priorities never applies to chats.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaConditions {
    /// Priorities.
    pub priorities: Vec<TicketPriority>,
    /// Departments.
    pub departments: Vec<DepartmentId>,
    /// Channels.
    pub channels: Vec<Channel>,
    /// The subject carries at least one of these tags.
    pub tags: Vec<String>,
}

/// What happens when a target is breached.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaEscalation {
    /// Raise the ticket's priority one step.
    pub raise_priority: bool,
    /// Reassign the ticket to this team (the agent assignment is cleared).
    pub reassign_team_id: Option<DepartmentId>,
    /// Tell the tenant's online supervisors and administrators.
    pub notify_supervisors: bool,
}

/// An SLA policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// Its id.
    pub id: SlaPolicyId,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Lower is tried first; the first matching enabled policy applies.
    #[serde(default)]
    pub position: i32,
    /// Disabled policies never apply. Default true.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Selection.
    #[serde(default)]
    pub conditions: SlaConditions,
    /// Targets.
    pub targets: SlaTargets,
    /// Business-hours calendar for business-time targets; `None`: the department's calendar,
    /// else the tenant's.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
    /// Warn at this percentage of a target (1-99). Default 80.
    #[serde(default = "default_warning_percent")]
    pub warning_percent: u8,
    /// Actions on breach.
    #[serde(default)]
    pub escalation: SlaEscalation,
}

fn enabled_by_default() -> bool {
    true
}

fn default_warning_percent() -> u8 {
    80
}

/// What an SLA clock is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlaSubject {
    /// A ticket.
    Ticket {
        /// The ticket.
        ticket_id: TicketId,
    },
    /// A chat session.
    Session {
        /// The session.
        session_id: SessionId,
    },
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaClockState {
    /// Not started (periodic update before the first reply; next response with nothing
    /// unanswered).
    Idle,
    /// Counting.
    Running,
    /// Paused while the ticket waits on the customer or is resolved.
    Paused,
    /// Stopped within the target.
    Achieved,
    /// Stopped after the target.
    Breached,
}

/// One clock as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClockView {
    /// Which metric.
    pub metric: SlaMetric,
    /// Where it stands.
    pub state: SlaClockState,
    /// The target in milliseconds.
    pub target_ms: u64,
    /// Counted in business time.
    pub business_hours: bool,
    /// When the current cycle started.
    pub started_at: Option<Timestamp>,
    /// When it comes due (running clocks).
    pub due_at: Option<Timestamp>,
    /// Time counted in the current cycle up to the moment of the view (wall clock, pauses
    /// excluded).
    pub elapsed_ms: u64,
    /// The same in business time.
    pub elapsed_business_ms: u64,
    /// The warning for the current cycle went out.
    pub warned: bool,
    /// The current cycle breached its target.
    pub breached: bool,
    /// Cycles completed so far (next response and periodic update repeat).
    pub cycles: u32,
    /// Cycles that breached.
    pub breaches: u32,
}

/// The SLA of a ticket or chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaView {
    /// The policy that applies.
    pub policy_id: SlaPolicyId,
    /// Its clocks.
    pub clocks: Vec<SlaClockView>,
}

/// Achieved or breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    /// Within target.
    Achieved,
    /// Past target.
    Breached,
}

/// One measured cycle of one metric: the record analytics count compliance from. Written
/// when the outcome is known (upsert by subject, metric and cycle): at breach time with the
/// measurement so far, then again when the cycle completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaMeasurement {
    /// Ticket or chat.
    pub subject: SlaSubject,
    /// The policy.
    pub policy_id: SlaPolicyId,
    /// Which metric.
    pub metric: SlaMetric,
    /// Cycle number, from 1.
    pub cycle: u32,
    /// Achieved or breached.
    pub outcome: SlaOutcome,
    /// The target in milliseconds.
    pub target_ms: u64,
    /// Counted in business time.
    pub business_hours: bool,
    /// Measured wall-clock time, pauses excluded.
    pub elapsed_ms: u64,
    /// Measured business time, pauses excluded.
    pub elapsed_business_ms: u64,
    /// Cycle start.
    pub started_at: Timestamp,
    /// Cycle end; `None` while a breached cycle still runs.
    pub completed_at: Option<Timestamp>,
    /// The subject's department.
    pub department_id: Option<DepartmentId>,
    /// The agent holding the subject.
    pub agent_id: Option<AgentId>,
}

// ---- surveys ----

/// What a survey asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SurveyTarget {
    /// A chat.
    Session {
        /// The session.
        session_id: SessionId,
    },
    /// A ticket.
    Ticket {
        /// The ticket.
        ticket_id: TicketId,
    },
}

/// A satisfaction survey and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyView {
    /// Its id.
    pub survey_id: SurveyId,
    /// Chat or ticket.
    pub target: SurveyTarget,
    /// Who is asked.
    pub visitor_id: Option<VisitorId>,
    /// The agent being rated.
    pub agent_id: Option<AgentId>,
    /// The department.
    pub department_id: Option<DepartmentId>,
    /// Sent.
    pub sent_at: Timestamp,
    /// No answer is accepted after this.
    pub expires_at: Timestamp,
    /// 1 to 5, once answered.
    pub rating: Option<u8>,
    /// Optional comment.
    pub comment: Option<String>,
    /// When answered.
    pub answered_at: Option<Timestamp>,
}

/// Values for template variables.
pub type TemplateValues = BTreeMap<String, String>;
