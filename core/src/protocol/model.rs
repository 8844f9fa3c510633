//! Plain data shared by commands, events and records.
//!
//! Every type here is JSON with snake_case field names. Optional fields may be omitted on
//! input; defaults are documented on each field.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::calendar::BusinessHours;
use crate::ids::{
    AgentId, BotId, CalendarId, CannedResponseId, ConversationId, DepartmentId, MessageId, NoteId,
    QueueId, RuleId, SessionId, TransferId, VisitorId,
};
use crate::time::Timestamp;

/// An agent's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Accepting new chats up to capacity.
    Online,
    /// Keeps current chats, gets no new ones.
    Away,
    /// Keeps current chats, gets no new ones (busy with other work).
    Busy,
    /// Logged out: current chats are handed back to the queue.
    #[default]
    Offline,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Created; waiting for a routing decision from the host's external router.
    Pending,
    /// A bot is answering; it hands the session to routing when it cannot help.
    Bot,
    /// Waiting in a queue for an agent.
    Queued,
    /// Offered to one or more agents, waiting for an accept.
    Offered,
    /// An agent is chatting with the visitor.
    Active,
    /// Active, with a transfer to another agent or department outstanding.
    Transferring,
    /// The agent resolved it; the visitor may still rate it until it closes.
    Resolved,
    /// Over (terminal).
    Closed,
    /// The visitor left before an agent took the chat (terminal).
    Abandoned,
    /// No agent took the chat within the queue's maximum wait (terminal); the visitor was
    /// invited to leave a message.
    Missed,
}

impl SessionStatus {
    /// The status's wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Bot => "bot",
            SessionStatus::Queued => "queued",
            SessionStatus::Offered => "offered",
            SessionStatus::Active => "active",
            SessionStatus::Transferring => "transferring",
            SessionStatus::Resolved => "resolved",
            SessionStatus::Closed => "closed",
            SessionStatus::Abandoned => "abandoned",
            SessionStatus::Missed => "missed",
        }
    }

    /// Whether the session is over and gone from the engine's memory.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Closed | SessionStatus::Abandoned | SessionStatus::Missed
        )
    }

    /// Whether the session waits for an agent (pending, queued or offered).
    #[must_use]
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            SessionStatus::Pending | SessionStatus::Queued | SessionStatus::Offered
        )
    }

    /// Whether an agent holds the session (active or transferring).
    #[must_use]
    pub fn is_with_agent(self) -> bool {
        matches!(self, SessionStatus::Active | SessionStatus::Transferring)
    }
}

/// How a queue picks the agent for the next waiting session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Round robin with memory: the next agent after the last one assigned, in fixed order.
    #[serde(alias = "rrmemory")]
    RoundRobin,
    /// The agent with the fewest current chats; ties go to the least recently assigned.
    #[default]
    #[serde(alias = "fewestcalls", alias = "least_busy")]
    LeastActive,
    /// The best skill match for the session's required skills, then the least active.
    SkillBased,
    /// Offer to every eligible agent at once; the first to accept wins.
    #[serde(alias = "ringall")]
    Broadcast,
    /// No automatic offers: agents pick sessions from the queue.
    Manual,
    /// A uniformly random eligible agent.
    Random,
    /// A random eligible agent, weighted by each agent's `routing_weight`.
    #[serde(alias = "wrandom")]
    WeightedRandom,
    /// Always the first eligible agent in fixed order (`routing_order`, then registration).
    #[serde(alias = "linear")]
    FixedOrder,
    /// Ask the host's router (an effect), fall back to the queue's fallback strategy on timeout.
    External,
}

impl Strategy {
    /// Whether the engine offers sessions by itself under this strategy.
    #[must_use]
    pub fn is_automatic(self) -> bool {
        !matches!(self, Strategy::Manual | Strategy::External)
    }
}

/// The kind of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Plain text.
    #[default]
    Text,
    /// Markdown, rendered by the client with raw HTML disabled.
    Markdown,
    /// Written by the engine (joins, transfers, welcome and queue messages).
    System,
    /// A file; `attachment` carries its metadata and `body` an optional caption.
    Attachment,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    /// The visitor.
    Visitor,
    /// A staff member.
    Agent,
    /// The host's bot.
    Bot,
    /// The engine.
    System,
}

/// Metadata of an uploaded file; the bytes live with the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name as uploaded.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Where the host serves it.
    pub url: String,
}

/// What the visitor told us about themselves (pre-chat form, ERP context).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VisitorProfile {
    /// Display name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Account in the host's system (the ERP user account).
    pub account: Option<String>,
    /// The page the visitor is on.
    pub page_url: Option<String>,
    /// The tenant domain the visitor came from.
    pub tenant_domain: Option<String>,
    /// ISO 3166 country code, if the host knows it.
    pub country: Option<String>,
    /// A visitor type the host assigns ("premium"), matched by routing rules.
    pub visitor_type: Option<String>,
    /// Extra pre-chat form fields.
    pub custom_fields: BTreeMap<String, Value>,
    /// Host context (browser, ERP module, ...).
    pub user_context: BTreeMap<String, Value>,
}

/// A staff member's role within a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Tenant administrator.
    TenantAdmin,
    /// Supervisor.
    Supervisor,
    /// Agent.
    #[default]
    Agent,
    /// Read-only viewer.
    Viewer,
}

/// A staff member as configured by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    /// The agent's id (usually their login).
    pub id: AgentId,
    /// Display name shown to visitors.
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Role within the tenant. Default `agent`.
    #[serde(default)]
    pub role: StaffRole,
    /// Departments (teams) the agent works in.
    #[serde(default)]
    pub departments: Vec<DepartmentId>,
    /// Skills with a level 1-10.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Languages the agent chats in (BCP 47 tags such as "en", "pt-BR").
    #[serde(default)]
    pub languages: Vec<String>,
    /// Most chats at once (offers and wrap-up slots count). Default 3.
    #[serde(default = "default_max_chats")]
    pub max_concurrent_chats: u16,
    /// Offers become assignments at once, without an accept.
    #[serde(default)]
    pub auto_accept: bool,
    /// Weight under weighted random routing. Default 1.
    #[serde(default = "default_weight")]
    pub routing_weight: u16,
    /// Position under fixed-order and round-robin routing (lower first). Default 0.
    #[serde(default)]
    pub routing_order: u32,
}

fn default_max_chats() -> u16 {
    3
}

fn default_weight() -> u16 {
    1
}

/// A department or team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Its id.
    pub id: DepartmentId,
    /// Display name.
    pub name: String,
    /// Business hours of this department (a calendar's id); `None`: the tenant's.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
}

/// A queue's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    /// Its id.
    pub id: QueueId,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Only agents of this department serve the queue; `None`: every agent of the tenant.
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
    /// How agents are picked. Default `least_active`.
    #[serde(default)]
    pub strategy: Strategy,
    /// Used by the `external` strategy when the host's router does not answer in time.
    #[serde(default)]
    pub fallback_strategy: Strategy,
    /// How long an agent has to accept an offer. Default 30 s.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_ms: u64,
    /// How long the host's router has to answer. Default 2 s.
    #[serde(default = "default_external_timeout")]
    pub external_timeout_ms: u64,
    /// Longest wait before overflow or the offline flow; `None`: wait indefinitely.
    #[serde(default)]
    pub max_wait_ms: Option<u64>,
    /// Where sessions go when they wait past `max_wait_ms`; `None`: the offline flow.
    #[serde(default)]
    pub overflow_queue_id: Option<QueueId>,
    /// Re-route an active chat whose visitor has waited this long for an agent's reply.
    #[serde(default)]
    pub reroute_after_no_reply_ms: Option<u64>,
    /// Only agents who speak the session's language are eligible.
    #[serde(default)]
    pub require_language: bool,
    /// Most agents offered a session at once under `broadcast`. Default 50.
    #[serde(default = "default_broadcast_limit")]
    pub broadcast_limit: u16,
    /// Most sessions waiting at once; `None`: no limit.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Accept new sessions while no eligible agent is online (they wait). Default false:
    /// the widget is told to offer "leave a message" instead.
    #[serde(default)]
    pub queue_when_no_agents: bool,
    /// Handle time assumed for the wait estimate until the queue has history. Default 5 min.
    #[serde(default = "default_handle_time")]
    pub default_handle_time_ms: u64,
}

fn default_offer_timeout() -> u64 {
    30_000
}

fn default_external_timeout() -> u64 {
    2_000
}

fn default_broadcast_limit() -> u16 {
    50
}

fn default_handle_time() -> u64 {
    300_000
}

/// Widget branding and texts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WidgetBranding {
    /// Main colour ("#007bff").
    pub primary_color: Option<String>,
    /// Secondary colour.
    pub secondary_color: Option<String>,
    /// CSS font family.
    pub font_family: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// "bottom-right", "bottom-left", ...
    pub position: Option<String>,
    /// "light" or "dark".
    pub theme: Option<String>,
    /// Greeting shown when the widget opens.
    pub welcome_message: Option<String>,
    /// Text shown with the "leave a message" form.
    pub offline_message: Option<String>,
    /// Show agent avatars.
    pub show_avatar: bool,
    /// Languages the widget offers.
    pub languages: Vec<String>,
}

/// Features a tenant can turn off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureFlags {
    /// Visitor chat.
    pub chat: bool,
    /// Agent-to-agent conversations.
    pub internal_chat: bool,
    /// Bot participants.
    pub bots: bool,
    /// Satisfaction ratings.
    pub csat: bool,
    /// Transfers.
    pub transfers: bool,
    /// Attachments.
    pub attachments: bool,
}

impl Default for FeatureFlags {
    fn default() -> Self {
        FeatureFlags {
            chat: true,
            internal_chat: true,
            bots: true,
            csat: true,
            transfers: true,
            attachments: true,
        }
    }
}

/// Per-tenant quantity limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantLimits {
    /// Staff members.
    pub max_agents: u32,
    /// Sessions in memory at once (waiting, active, resolved).
    pub max_open_sessions: u32,
    /// Queues.
    pub max_queues: u32,
    /// Departments.
    pub max_departments: u32,
    /// Canned responses.
    pub max_canned_responses: u32,
    /// Internal conversations.
    pub max_conversations: u32,
    /// Visitors whose last agent is remembered for routing them back; the visitors served
    /// longest ago are forgotten first.
    pub max_remembered_visitors: u32,
    /// Tickets in memory at once (every status but closed).
    pub max_open_tickets: u32,
    /// Business-hours calendars.
    pub max_calendars: u32,
    /// SLA policies.
    pub max_sla_policies: u32,
    /// Ticket templates.
    pub max_ticket_templates: u32,
    /// Satisfaction surveys awaiting an answer.
    pub max_open_surveys: u32,
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            max_agents: 10_000,
            max_open_sessions: 1_000_000,
            max_queues: 1_000,
            max_departments: 1_000,
            max_canned_responses: 10_000,
            max_conversations: 100_000,
            max_remembered_visitors: 100_000,
            max_open_tickets: 2_000_000,
            max_calendars: 200,
            max_sla_policies: 200,
            max_ticket_templates: 1_000,
            max_open_surveys: 1_000_000,
        }
    }
}

/// Timers of a tenant's sessions and agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timing {
    /// Close an active chat after this long without a visitor message; `None`: never.
    pub inactivity_close_ms: Option<u64>,
    /// Warn this long before the inactivity close.
    pub inactivity_warning_ms: u64,
    /// A finished chat holds its slot this long so the agent can wrap up. Default 0.
    pub wrap_up_ms: u64,
    /// A disconnected agent keeps their chats this long before they are requeued. Default 60 s.
    pub disconnect_grace_ms: u64,
    /// A transfer not accepted within this time goes back to the transferring agent.
    pub transfer_timeout_ms: u64,
    /// A typing indicator not refreshed within this time is cleared.
    pub typing_timeout_ms: u64,
    /// Queue positions are sent to waiting visitors at most this often.
    pub position_update_interval_ms: u64,
    /// A resolved chat closes after this long (the visitor can still rate it until then).
    pub resolved_close_ms: u64,
    /// An agent who lets an offer time out is set away, so chats do not wait on them.
    pub away_on_missed_offer: bool,
    /// A resolved ticket closes after this long unless reopened. Default 4 days.
    pub ticket_auto_close_ms: u64,
    /// A satisfaction survey accepts an answer for this long. Default 7 days.
    pub survey_expiry_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            inactivity_close_ms: None,
            inactivity_warning_ms: 60_000,
            wrap_up_ms: 0,
            disconnect_grace_ms: 60_000,
            transfer_timeout_ms: 60_000,
            typing_timeout_ms: 10_000,
            position_update_interval_ms: 2_000,
            resolved_close_ms: 600_000,
            away_on_missed_offer: true,
            ticket_auto_close_ms: 4 * 24 * 3_600_000,
            survey_expiry_ms: 7 * 24 * 3_600_000,
        }
    }
}

/// At most `max_assignments` new chats per agent within any `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairnessCap {
    /// Assignments allowed per window (outstanding offers count).
    pub max_assignments: u32,
    /// The sliding window.
    pub window_ms: u64,
}

/// A tenant's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    /// Display name.
    pub name: String,
    /// Business hours; `None`: always open.
    pub business_hours: Option<BusinessHours>,
    /// Widget branding.
    pub branding: WidgetBranding,
    /// Feature flags.
    pub features: FeatureFlags,
    /// Quantity limits.
    pub limits: TenantLimits,
    /// Session and agent timers.
    pub timing: Timing,
    /// Queue for sessions no rule routes; `None`: the first queue by id.
    pub default_queue_id: Option<QueueId>,
    /// Optional fairness cap on assignments per agent.
    pub fairness_cap: Option<FairnessCap>,
    /// Prefix of ticket numbers (`ACME` gives `ACME-00001`); `None`: the tenant id in capitals.
    pub ticket_prefix: Option<String>,
}

/// Conditions of a routing rule; all given conditions must hold. The `triggers` object of a
/// workflow is accepted as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Triggers {
    /// `true`: only inside business hours; `false`: only outside.
    pub business_hours: Option<bool>,
    /// Visitor country in this list.
    pub visitor_location: Vec<String>,
    /// Page URL containing one of these.
    pub page_url_contains: Vec<String>,
    /// Visitor type equal to this.
    pub visitor_type: Option<String>,
    /// The department the visitor chose.
    pub department: Option<DepartmentId>,
    /// Session language in this list.
    pub language: Vec<String>,
    /// Issue type in this list.
    pub issue_type: Vec<String>,
    /// Custom fields or user context entries equal to these values.
    pub attributes: BTreeMap<String, Value>,
}

/// What a matching rule does. The `actions` object of a workflow is accepted as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Actions {
    /// Target queue; `None`: the department's or tenant's default queue.
    pub queue: Option<QueueId>,
    /// `false`: no automatic offers, agents pick the session (manual).
    pub auto_assign: Option<bool>,
    /// Strategy for this session instead of the queue's.
    pub assignment_type: Option<Strategy>,
    /// System message sent when the session starts.
    pub welcome_message: Option<String>,
    /// System message sent when the session has to wait in the queue.
    pub queue_message: Option<String>,
    /// Maximum wait in minutes, as workflows write it.
    pub max_wait_time: Option<u64>,
    /// Maximum wait in seconds (wins over `max_wait_time`).
    pub max_wait_seconds: Option<u64>,
    /// Queue priority 0-255, higher first. Default 0.
    pub priority: Option<u8>,
    /// Skills the session needs (used by `skill_based`).
    pub required_skills: Vec<String>,
    /// Start the session with this bot.
    pub bot: Option<BotId>,
}

/// A routing rule: conditions to a queue, strategy and actions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingRule {
    /// Its id; assigned `rule_<n>` by position when omitted.
    pub id: Option<RuleId>,
    /// Display name.
    pub name: Option<String>,
    /// Lower runs first; equal priorities keep list order.
    pub priority: i32,
    /// Disabled rules never match. Default true.
    pub enabled: Option<bool>,
    /// Conditions.
    pub triggers: Triggers,
    /// Effects.
    pub actions: Actions,
}

/// A sender as shown in messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// Visitor, agent, bot or system.
    pub kind: SenderKind,
    /// Their id; `None` for system messages.
    pub id: Option<Arc<str>>,
    /// Display name.
    pub name: Option<Arc<str>>,
}

/// A message in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Its id.
    pub message_id: MessageId,
    /// The session.
    pub session_id: SessionId,
    /// Position in the session, from 1, gap-free.
    pub seq: u64,
    /// Who wrote it.
    pub sender: Sender,
    /// Text, markdown, system or attachment.
    pub kind: MessageKind,
    /// The body.
    pub body: Arc<str>,
    /// File metadata for attachments.
    pub attachment: Option<Arc<Attachment>>,
    /// The sender's id for idempotent retries.
    pub client_message_id: Option<Arc<str>>,
    /// When the engine accepted it.
    pub created_at: Timestamp,
}

/// A session as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its id.
    pub session_id: SessionId,
    /// Status.
    pub status: SessionStatus,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// What the visitor told us.
    pub visitor: Arc<VisitorProfile>,
    /// The queue it was routed to.
    pub queue_id: Option<QueueId>,
    /// The department it was started for.
    pub department_id: Option<DepartmentId>,
    /// Issue type from the pre-chat form.
    pub issue_type: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Queue priority.
    pub priority: u8,
    /// The agent holding it.
    pub agent_id: Option<AgentId>,
    /// That agent's display name.
    pub agent_name: Option<Arc<str>>,
    /// The bot holding it.
    pub bot_id: Option<BotId>,
    /// Why the bot handed it to people.
    pub handoff_reason: Option<String>,
    /// Tags.
    pub tags: Vec<Arc<str>>,
    /// Created.
    pub created_at: Timestamp,
    /// First queued.
    pub queued_at: Option<Timestamp>,
    /// Last assigned to an agent.
    pub assigned_at: Option<Timestamp>,
    /// First assigned to an agent: the end of the visitor's wait, the start of handle time.
    pub first_assigned_at: Option<Timestamp>,
    /// First public reply by an agent.
    pub first_response_at: Option<Timestamp>,
    /// Last message.
    pub last_message_at: Option<Timestamp>,
    /// Ended (resolved, closed, abandoned or missed).
    pub ended_at: Option<Timestamp>,
    /// Messages the agent side has not read.
    pub unread_count_agent: u32,
    /// Messages the visitor has not read.
    pub unread_count_visitor: u32,
    /// Messages so far.
    pub message_count: u64,
    /// Transfers so far.
    pub transfer_count: u32,
    /// The visitor's rating, if given.
    pub csat: Option<Csat>,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
}

/// A satisfaction rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    /// 1 to 5.
    pub rating: u8,
    /// Optional comment.
    pub comment: Option<String>,
    /// The agent rated.
    pub agent_id: Option<AgentId>,
    /// When given.
    pub submitted_at: Timestamp,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// An agent resolved it.
    Resolved,
    /// An agent or supervisor closed it.
    ClosedByAgent,
    /// The visitor left.
    VisitorLeft,
    /// Nobody wrote for too long.
    Inactivity,
    /// It waited past the queue's maximum wait.
    MaxWait,
    /// Handed off by a bot while no agent could take it (offline flow).
    Unavailable,
}

/// An internal note on a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    /// Its id.
    pub note_id: NoteId,
    /// The session.
    pub session_id: SessionId,
    /// Author.
    pub author_id: AgentId,
    /// Text.
    pub body: Arc<str>,
    /// When written.
    pub created_at: Timestamp,
}

/// Where a transfer is headed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TransferTarget {
    /// One agent.
    Agent {
        /// The agent.
        agent_id: AgentId,
    },
    /// Any agent of a department.
    Department {
        /// The department.
        department_id: DepartmentId,
    },
}

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// Still outstanding.
    Pending,
    /// Accepted: the session moved.
    Accepted,
    /// Rejected by the target (department transfers: by every agent asked).
    Rejected,
    /// Not accepted in time.
    TimedOut,
    /// Withdrawn by the transferring agent, or the session ended.
    Cancelled,
}

/// A transfer and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferView {
    /// Its id.
    pub transfer_id: TransferId,
    /// The session.
    pub session_id: SessionId,
    /// The agent who held the session.
    pub from_agent_id: AgentId,
    /// Where it goes.
    pub target: TransferTarget,
    /// The agents currently asked to accept (one for an agent transfer, the free agents of
    /// the department for a department transfer).
    pub offered_to: Vec<AgentId>,
    /// Why.
    pub reason: String,
    /// Outcome so far.
    pub outcome: TransferOutcome,
    /// The agent who accepted.
    pub accepted_by: Option<AgentId>,
    /// Requested.
    pub requested_at: Timestamp,
    /// Deadline for an accept.
    pub expires_at: Timestamp,
    /// When it ended.
    pub resolved_at: Option<Timestamp>,
}

/// A session offered to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    /// The session.
    pub session_id: SessionId,
    /// Its queue.
    pub queue_id: Option<QueueId>,
    /// The visitor's name.
    pub visitor_name: Option<String>,
    /// Issue type.
    pub issue_type: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// The accept deadline.
    pub expires_at: Timestamp,
    /// Offered to several agents at once.
    pub broadcast: bool,
    /// The transfer this offer belongs to, if it is one.
    pub transfer_id: Option<TransferId>,
}

/// An agent's presence and load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    /// The agent.
    pub agent_id: AgentId,
    /// Display name.
    pub name: Arc<str>,
    /// Role.
    pub role: StaffRole,
    /// Presence.
    pub status: AgentStatus,
    /// Whether a connection is up (false during the disconnect grace).
    pub connected: bool,
    /// Chats held now.
    pub active_chats: u32,
    /// Offers (and transfer offers) outstanding.
    pub pending_offers: u32,
    /// Slots held by wrap-up.
    pub wrap_up_slots: u32,
    /// Capacity.
    pub max_concurrent_chats: u16,
}

/// What the widget needs to decide between chat and "leave a message".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatusView {
    /// The queue.
    pub queue_id: QueueId,
    /// Inside business hours.
    pub open: bool,
    /// Eligible agents online.
    pub agents_online: u32,
    /// Eligible agents online with a free slot now.
    pub agents_available: u32,
    /// Sessions waiting.
    pub waiting: u32,
    /// Estimated wait for a new session.
    pub estimated_wait_ms: Option<u64>,
    /// The widget should offer "leave a message" instead of a chat.
    pub leave_a_message: bool,
}

/// A waiting session as staff see it in the queue list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntryView {
    /// The session.
    pub session_id: SessionId,
    /// 1-based position.
    pub position: u32,
    /// Priority.
    pub priority: u8,
    /// The visitor's name.
    pub visitor_name: Option<String>,
    /// Issue type.
    pub issue_type: Option<String>,
    /// Offered now.
    pub offered: bool,
    /// Waiting since.
    pub queued_at: Timestamp,
}

/// Direct (two members) or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Two staff members; creating it again returns the existing one.
    Direct,
    /// Any number of staff members with a title.
    Group,
}

/// An internal conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    /// Its id.
    pub conversation_id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// Title (groups).
    pub title: Option<String>,
    /// Members, sorted.
    pub member_ids: Vec<AgentId>,
    /// Creator.
    pub created_by: AgentId,
    /// Created.
    pub created_at: Timestamp,
}

/// A message in an internal conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMessageView {
    /// Its id.
    pub message_id: MessageId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation, from 1.
    pub seq: u64,
    /// Author.
    pub sender_id: AgentId,
    /// Author's name.
    pub sender_name: Arc<str>,
    /// Text or markdown.
    pub kind: MessageKind,
    /// The body.
    pub body: Arc<str>,
    /// The sender's id for idempotent retries.
    pub client_message_id: Option<Arc<str>>,
    /// When accepted.
    pub created_at: Timestamp,
}

/// Personal (only its owner) or tenant-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CannedScope {
    /// Only the agent who created it.
    #[default]
    Personal,
    /// Everyone in the tenant (created by administrators).
    Tenant,
}

/// A canned response; `{{visitor.name}}`-style variables are filled in when sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponseView {
    /// Its id.
    pub canned_response_id: CannedResponseId,
    /// Personal or tenant-wide.
    pub scope: CannedScope,
    /// Owner of a personal response.
    pub owner_id: Option<AgentId>,
    /// Short title.
    pub title: String,
    /// Optional shortcut ("/thanks").
    pub shortcut: Option<String>,
    /// Body with variables.
    pub body: String,
}
