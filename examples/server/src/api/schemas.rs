//! The shapes of the JSON answers, for the OpenAPI document.
//!
//! The handlers build their answers with `json!`, field by field, and these types are never
//! constructed: they only describe. The OpenAPI tests compare real answers with them, so
//! that a field added to or dropped from an answer shows up here. Objects that come whole
//! from the engine or the store (sessions, messages, tickets, settings...) are described as
//! plain objects: `docs/protocol.md` has their fields.
//!
//! Times in the live-agent contract are RFC 3339 strings; everywhere else they are the
//! engine's milliseconds since the Unix epoch.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

use super::openapi::{AgentStatusSchema, CannedScopeSchema, SessionStatusSchema, StaffRoleSchema};
use super::tenant_config::{PreChatField, PreChatForm};

// --- auth -------------------------------------------------------------------------------

/// A staff access token and who it is for.
#[derive(ToSchema)]
pub struct LoginAnswer {
    /// The token, for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The staff member.
    pub agent: LoginAgent,
}

/// The staff member a login is for.
#[derive(ToSchema)]
pub struct LoginAgent {
    /// Staff id.
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: StaffRoleSchema,
    /// Tenant id.
    pub tenant_id: String,
    /// The tenant's primary domain.
    pub tenant_domain: String,
}

// --- live-agent -------------------------------------------------------------------------

/// A session the live-agent contract created.
#[derive(ToSchema)]
pub struct ContractSessionCreated {
    /// `ses_...`.
    pub session_id: String,
    /// The tenant's domain.
    pub tenant_domain: String,
    /// The end user's account.
    pub user_account: String,
    /// The end user's display name.
    pub user_name: String,
    /// `pending`, `active`, `resolved` or `closed`.
    pub status: String,
    /// The precise status.
    pub engine_status: SessionStatusSchema,
    /// RFC 3339.
    pub created_at: String,
    /// A sentence for the user.
    pub message: String,
}

/// A session as the live-agent contract shows it.
#[derive(ToSchema)]
pub struct ContractSession {
    /// `ses_...`.
    pub session_id: String,
    /// The tenant's domain.
    pub tenant_domain: String,
    /// The end user's account (else e-mail, else visitor id).
    pub user_account: String,
    /// The end user's display name.
    pub user_name: String,
    /// The agent holding it.
    pub assigned_agent_id: Option<String>,
    /// Their display name.
    pub assigned_agent_name: Option<String>,
    /// `pending`, `active`, `resolved` or `closed`.
    pub status: String,
    /// The precise status.
    pub engine_status: SessionStatusSchema,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the latest of creation, assignment, last message and end.
    pub updated_at: String,
    /// RFC 3339.
    pub last_message_at: Option<String>,
    /// Agent messages the user has not read.
    pub unread_count_user: u32,
    /// User messages the agent has not read.
    pub unread_count_agent: u32,
    /// The last message's text (null for viewers and in status answers).
    pub preview: Option<String>,
    /// The `user_context` the session was started with.
    #[schema(value_type = Object)]
    pub metadata: BTreeMap<String, Value>,
    /// The queue it waits or waited in.
    pub queue_id: Option<String>,
    /// Its department.
    pub department_id: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// A page of sessions, newest first.
#[derive(ToSchema)]
pub struct ContractSessionList {
    /// The sessions.
    pub sessions: Vec<ContractSession>,
    /// Sessions matching the filters.
    pub total: u64,
    /// This page, from 1.
    pub page: u32,
    /// Sessions per page.
    pub per_page: u32,
}

/// A message the live-agent contract accepted.
#[derive(ToSchema)]
pub struct ContractMessageSent {
    /// The message's number in the session.
    pub message_id: u64,
    /// `ses_...`.
    pub session_id: String,
    /// Its position in the session.
    pub seq: u64,
    /// `agent` or `user`.
    pub sender_type: String,
    /// The sender's display name.
    pub sender_name: String,
    /// The text.
    pub message_text: String,
    /// RFC 3339.
    pub created_at: String,
    /// False when the message was a retry of an accepted one.
    pub notification_sent: bool,
    /// The message was a retry (same `client_message_id`).
    pub duplicate: bool,
}

/// A message as the live-agent contract shows it.
#[derive(ToSchema)]
pub struct ContractMessage {
    /// The message's number in the session.
    pub message_id: u64,
    /// `ses_...`.
    pub session_id: String,
    /// Its position in the session.
    pub seq: u64,
    /// `user`, `agent`, `bot` or `system`.
    pub sender_type: String,
    /// The sender's id.
    pub sender_id: Option<String>,
    /// The sender's display name.
    pub sender_name: Option<String>,
    /// The text.
    pub message_text: String,
    /// `text`, `markdown`, `system` or `attachment`.
    pub kind: String,
    /// An attachment's metadata.
    #[schema(value_type = Option<Object>)]
    pub attachment: Value,
    /// RFC 3339.
    pub created_at: String,
    /// The agent has read it.
    pub read_by_agent: bool,
    /// The user has read it.
    pub read_by_user: bool,
}

/// A page of a session's messages, oldest first within the page.
#[derive(ToSchema)]
pub struct ContractMessageList {
    /// The messages.
    pub messages: Vec<ContractMessage>,
    /// Messages in the session.
    pub total: u64,
    /// This page (1: the newest).
    pub page: u32,
    /// Messages per page.
    pub per_page: u32,
    /// The session's status.
    pub session: ContractSessionStatus,
}

/// A session's status in a message page.
#[derive(ToSchema)]
pub struct ContractSessionStatus {
    /// `ses_...`.
    pub session_id: String,
    /// `pending`, `active`, `resolved` or `closed`.
    pub status: String,
    /// The precise status.
    pub engine_status: SessionStatusSchema,
}

/// A session after a status change.
#[derive(ToSchema)]
pub struct ContractStatusChanged {
    /// `ses_...`.
    pub session_id: String,
    /// `pending`, `active`, `resolved` or `closed`.
    pub status: String,
    /// The precise status.
    pub engine_status: SessionStatusSchema,
    /// The agent holding it.
    pub assigned_agent_id: Option<String>,
    /// Their display name.
    pub assigned_agent_name: Option<String>,
    /// RFC 3339.
    pub updated_at: String,
}

/// An agent's status after a change.
#[derive(ToSchema)]
pub struct ContractAgentStatus {
    /// The agent's e-mail (else id).
    pub agent_id: String,
    /// Display name.
    pub agent_name: String,
    /// `status` is `online`.
    pub is_online: bool,
    /// The precise status.
    pub status: AgentStatusSchema,
    /// RFC 3339.
    pub updated_at: String,
}

// --- widget -----------------------------------------------------------------------------

/// A visitor token and what the widget shows.
#[derive(ToSchema)]
pub struct WidgetInit {
    /// The visitor (kept from a still-valid `visitor_token`, else new).
    pub visitor_id: String,
    /// The token for every other widget call and the WebSocket.
    pub visitor_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The tenant's name and primary domain.
    pub tenant: WidgetTenant,
    /// Colours, font, logo, position, theme, texts, languages.
    #[schema(value_type = Object)]
    pub branding: Value,
    /// What the widget may offer.
    pub features: WidgetFeatures,
    /// `chat` when a chat can start now, else `leave_a_message`.
    pub mode: String,
    /// The queue a new chat would join (`leave_a_message`, position, estimated wait...);
    /// null when the tenant has no queue for it.
    #[schema(value_type = Option<Object>)]
    pub availability: Value,
    /// The pre-chat form.
    pub pre_chat: WidgetPreChat,
}

/// The tenant, as the widget shows it.
#[derive(ToSchema)]
pub struct WidgetTenant {
    /// Display name.
    pub name: String,
    /// Primary domain.
    pub domain: String,
}

/// What the widget may offer.
#[derive(ToSchema)]
pub struct WidgetFeatures {
    /// Live chat.
    pub chat: bool,
    /// The satisfaction rating.
    pub csat: bool,
    /// Attachments.
    pub attachments: bool,
    /// Transcripts (always).
    pub transcripts: bool,
    /// "Leave a message" (always).
    pub offline_messages: bool,
}

/// The pre-chat form as the widget gets it.
#[derive(ToSchema)]
pub struct WidgetPreChat {
    /// Show the form at all.
    pub enabled: bool,
    /// A name is required.
    pub require_name: bool,
    /// An e-mail address is required.
    pub require_email: bool,
    /// Issue types offered.
    pub issue_types: Vec<String>,
    /// Extra fields.
    pub fields: Vec<PreChatField>,
    /// Departments to choose from (empty unless the form asks for one).
    pub departments: Vec<WidgetDepartment>,
}

/// A department the visitor may choose.
#[derive(ToSchema)]
pub struct WidgetDepartment {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Whether to offer a chat.
#[derive(ToSchema)]
pub struct WidgetAvailability {
    /// `chat` or `leave_a_message`.
    pub mode: String,
    /// The queue a new chat would join; null when there is none.
    #[schema(value_type = Option<Object>)]
    pub availability: Value,
}

/// A chat the widget started.
#[derive(ToSchema)]
pub struct WidgetSessionStarted {
    /// `ses_...`.
    pub session_id: String,
    /// Where it went: `queued`, `offered`, `active`, `bot`...
    pub status: SessionStatusSchema,
    /// The queue it waits in.
    pub queue_id: Option<String>,
    /// The visitor.
    pub visitor_id: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// The visitor's own view of a chat (no staff tags or notes).
#[derive(ToSchema)]
pub struct VisitorSession {
    /// `ses_...`.
    pub session_id: String,
    /// The precise status.
    pub status: SessionStatusSchema,
    /// Its queue.
    pub queue_id: Option<String>,
    /// Its department.
    pub department_id: Option<String>,
    /// The agent's display name.
    pub agent_name: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub assigned_at: Option<i64>,
    /// Milliseconds since the epoch.
    pub ended_at: Option<i64>,
    /// Milliseconds since the epoch.
    pub last_message_at: Option<i64>,
    /// Messages the visitor has not read.
    pub unread_count: u32,
    /// Messages in the chat.
    pub message_count: u64,
    /// The visitor's rating, once given.
    pub csat: Option<VisitorCsat>,
}

/// A rating as the visitor gave it.
#[derive(ToSchema)]
pub struct VisitorCsat {
    /// 1 to 5.
    pub rating: u8,
    /// The comment.
    pub comment: Option<String>,
    /// Milliseconds since the epoch.
    pub submitted_at: i64,
}

/// A window of a chat's messages, oldest first.
#[derive(ToSchema)]
pub struct MessageWindow {
    /// The engine's messages (`message_id`, `seq`, `sender`, `body`, `kind`,
    /// `attachment`, `created_at`...).
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
    /// Pass as `before` for older messages; null when there are none.
    pub older: Option<String>,
    /// Pass as `after` for newer messages; null when there are none yet.
    pub newer: Option<String>,
    /// Messages in the chat.
    pub total: u64,
}

/// A message the engine accepted.
#[derive(ToSchema)]
pub struct MessageAccepted {
    /// `msg_...`.
    pub message_id: String,
    /// `ses_...`.
    pub session_id: String,
    /// Its position in the chat.
    pub seq: u64,
    /// The message was a retry (same `client_message_id`) and was not sent twice.
    pub duplicate: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// A transcript e-mail was queued.
#[derive(ToSchema)]
pub struct TranscriptQueued {
    /// `ses_...`.
    pub session_id: String,
    /// Always true.
    pub queued: bool,
}

/// A rating the engine kept.
#[derive(ToSchema)]
pub struct CsatSubmitted {
    /// `ses_...`.
    pub session_id: String,
    /// 1 to 5.
    pub rating: u8,
    /// The comment.
    pub comment: Option<String>,
    /// Milliseconds since the epoch.
    pub submitted_at: i64,
}

/// The ticket a "leave a message" form became.
#[derive(ToSchema)]
pub struct OfflineTicket {
    /// `tkt_...`.
    pub ticket_id: String,
    /// The ticket's number, for people.
    pub number: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// A sentence for the visitor.
    pub message: String,
}

// --- agent ------------------------------------------------------------------------------

/// A transfer was offered.
#[derive(ToSchema)]
pub struct TransferRequested {
    /// `trf_...`.
    pub transfer_id: String,
    /// `ses_...`.
    pub session_id: String,
}

/// A transfer was answered.
#[derive(ToSchema)]
pub struct TransferAnswered {
    /// `trf_...`.
    pub transfer_id: String,
    /// `accepted`, `rejected` or `cancelled`.
    pub outcome: String,
}

/// An internal note the engine kept.
#[derive(ToSchema)]
pub struct NoteAdded {
    /// `note_...`.
    pub note_id: String,
    /// `ses_...`.
    pub session_id: String,
    /// The staff member who wrote it.
    pub author_id: String,
    /// The text.
    pub body: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// A session's notes, oldest first.
#[derive(ToSchema)]
pub struct NoteList {
    /// The notes (`note_id`, `author`, `body`, `created_at`).
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<Value>,
}

/// A session's tags after a change.
#[derive(ToSchema)]
pub struct SessionTags {
    /// `ses_...`.
    pub session_id: String,
    /// The tags.
    pub tags: Vec<String>,
}

/// A queue's waiting sessions, in order.
#[derive(ToSchema)]
pub struct QueueEntries {
    /// The engine's queue entries (session, position, waiting since...).
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<Value>,
}

/// Messages found by a search, best first.
#[derive(ToSchema)]
pub struct SearchResults {
    /// The engine's messages.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
}

/// Canned responses.
#[derive(ToSchema)]
pub struct CannedList {
    /// The engine's canned responses (`canned_response_id`, `scope`, `owner_id`,
    /// `title`, `shortcut`, `body`).
    #[schema(value_type = Vec<Object>)]
    pub canned_responses: Vec<Value>,
}

/// A canned response after it was created or changed.
#[derive(ToSchema)]
pub struct CannedAnswer {
    /// `canned_...`.
    pub canned_response_id: String,
    /// `personal` or `tenant` (only when created).
    pub scope: Option<CannedScopeSchema>,
    /// Title.
    pub title: String,
    /// Shortcut.
    pub shortcut: Option<String>,
    /// Body with variables.
    pub body: String,
}

/// A canned response with a session's variables filled in.
#[derive(ToSchema)]
pub struct RenderedText {
    /// The text.
    pub text: String,
}

/// Tickets in id order.
#[derive(ToSchema)]
pub struct TicketList {
    /// The engine's tickets.
    #[schema(value_type = Vec<Object>)]
    pub tickets: Vec<Value>,
    /// Pass as `after` for the next page; null at the end.
    pub next_after: Option<String>,
}

/// A reply or note the engine added to a ticket.
#[derive(ToSchema)]
pub struct TicketReply {
    /// `tkt_...`.
    pub ticket_id: String,
    /// The message's id.
    pub message_id: String,
    /// Its position in the ticket.
    pub seq: u64,
    /// An internal note.
    pub internal: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

// --- admin ------------------------------------------------------------------------------

/// Every tenant.
#[derive(ToSchema)]
pub struct TenantList {
    /// The tenants.
    pub tenants: Vec<TenantSummary>,
}

/// A tenant in a list.
#[derive(ToSchema)]
pub struct TenantSummary {
    /// Its id.
    pub tenant_id: String,
    /// Its display name.
    pub name: Option<String>,
    /// The domains that select it.
    pub domains: Vec<String>,
}

/// A tenant just created.
#[derive(ToSchema)]
pub struct TenantCreated {
    /// Its id.
    pub tenant_id: String,
    /// Its display name.
    pub name: String,
    /// The domains that select it.
    pub domains: Vec<String>,
    /// Its ERP token settings.
    pub erp: TenantErp,
    /// Its first administrator.
    pub admin: User,
}

/// A new tenant's ERP token settings.
#[derive(ToSchema)]
pub struct TenantErp {
    /// The generated secret, shown only here; null when the caller chose it.
    pub secret: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
}

/// A staff member (never the password hash).
#[derive(ToSchema)]
pub struct User {
    /// Staff id.
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: StaffRoleSchema,
    /// Departments.
    pub departments: Vec<String>,
    /// Skills with a level 1 to 10.
    pub skills: BTreeMap<String, u8>,
    /// Languages.
    pub languages: Vec<String>,
    /// Most chats at once.
    pub max_concurrent_chats: Option<u16>,
    /// Offers become assignments at once.
    pub auto_accept: bool,
    /// Weight under weighted random routing.
    pub routing_weight: Option<u16>,
    /// Position under fixed-order routing.
    pub routing_order: Option<u32>,
    /// Presence and load (only from `GET /api/v1/admin/users/{agent_id}`, when the engine
    /// knows the agent).
    #[schema(nullable = false)]
    pub presence: Option<UserPresence>,
}

/// A staff member's presence and load.
#[derive(ToSchema)]
pub struct UserPresence {
    /// Their status.
    pub status: AgentStatusSchema,
    /// They have a WebSocket open.
    pub connected: bool,
    /// Chats they hold.
    pub active_chats: u32,
    /// Offers waiting for them.
    pub pending_offers: u32,
}

/// The tenant's staff.
#[derive(ToSchema)]
pub struct UserList {
    /// The staff members.
    pub users: Vec<User>,
}

/// The tenant's departments.
#[derive(ToSchema)]
pub struct DepartmentList {
    /// The engine's departments (`id`, `name`, `calendar_id`).
    #[schema(value_type = Vec<Object>)]
    pub departments: Vec<Value>,
}

/// The tenant's queues.
#[derive(ToSchema)]
pub struct QueueList {
    /// The engine's queue configurations.
    #[schema(value_type = Vec<Object>)]
    pub queues: Vec<Value>,
}

/// The tenant's business-hours calendars.
#[derive(ToSchema)]
pub struct CalendarList {
    /// The engine's calendars.
    #[schema(value_type = Vec<Object>)]
    pub calendars: Vec<Value>,
}

/// The widget's branding and pre-chat form.
#[derive(ToSchema)]
pub struct WidgetSettings {
    /// Branding (from the tenant settings); null when the server has no copy of them.
    #[schema(value_type = Option<Object>)]
    pub branding: Value,
    /// The pre-chat form.
    pub pre_chat: PreChatForm,
}

/// A widget key.
#[derive(ToSchema)]
pub struct ApiKey {
    /// The key (`wk_...`), public: a website embeds it.
    pub key: String,
    /// For administrators.
    pub label: String,
    /// Origins it is honoured from; empty: any.
    pub allowed_origins: Vec<String>,
    /// Revoked keys are refused at init.
    pub revoked: bool,
}

/// The tenant's widget keys, revoked ones included.
#[derive(ToSchema)]
pub struct ApiKeyList {
    /// The keys.
    pub api_keys: Vec<ApiKey>,
}

/// A tenant's ERP token settings.
#[derive(ToSchema)]
pub struct ErpSettings {
    /// The `aud` every ERP token must carry (null: none required).
    pub audience: Option<String>,
    /// The `iss` every ERP token must carry (null: none required).
    pub issuer: Option<String>,
    /// A secret the server just generated, shown this once; null otherwise.
    pub secret: Option<String>,
}

/// The outcome of a forced logout.
#[derive(ToSchema)]
pub struct ForcedLogout {
    /// Always true.
    pub logged_out: bool,
    /// Staff tokens issued before this time (milliseconds) are refused.
    pub token_epoch: i64,
    /// A fresh token for the caller (null when the caller has no login).
    pub access_token: Option<String>,
    /// Always `bearer`.
    pub token_type: String,
}

/// The answer to a password change: the caller's new token (the old one is refused).
#[derive(ToSchema)]
pub struct PasswordChanged {
    /// A fresh staff access token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// A retention period.
#[derive(ToSchema)]
pub struct Retention {
    /// Days ended chats are kept; null: forever.
    pub days: Option<u32>,
}

/// A visitor was erased.
#[derive(ToSchema)]
pub struct VisitorForgotten {
    /// The visitor.
    pub visitor_id: String,
    /// Always true.
    pub forgotten: bool,
}

/// Chat figures over a time range.
#[derive(ToSchema)]
pub struct AnalyticsAnswer {
    /// Start, milliseconds since the epoch.
    pub from: i64,
    /// End (excluded), milliseconds; null: open.
    pub to: Option<i64>,
    /// Sessions read for the report.
    pub sessions_read: u64,
    /// More sessions matched than one report reads.
    pub truncated: bool,
    /// The figures: volumes, answered, abandoned, missed, first response, wait and handle
    /// times, per department and per agent.
    #[schema(value_type = Object)]
    pub report: Value,
}

// --- webhooks ---------------------------------------------------------------------------

/// A webhook (its secret only when just created).
#[derive(ToSchema)]
pub struct Webhook {
    /// `wh_...`.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Event types delivered; empty: all.
    pub events: Vec<String>,
    /// Whether it receives events.
    pub enabled: bool,
    /// The signing secret: only in the answer to the creation.
    #[schema(nullable = false)]
    pub secret: Option<String>,
}

/// The tenant's webhooks.
#[derive(ToSchema)]
pub struct WebhookList {
    /// The webhooks, without secrets.
    pub webhooks: Vec<Webhook>,
    /// The event types one may subscribe to.
    pub event_types: Vec<String>,
}

/// A webhook's recent delivery attempts.
#[derive(ToSchema)]
pub struct DeliveryList {
    /// `wh_...`.
    pub webhook_id: String,
    /// Attempts, newest first (event, status, response code, error, time...).
    #[schema(value_type = Vec<Object>)]
    pub deliveries: Vec<Value>,
}

// --- ops --------------------------------------------------------------------------------

/// The server's health.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the store cannot commit.
    pub status: String,
    /// Open WebSocket connections.
    pub connections: u64,
    /// Streams kept for resumption.
    pub streams: u64,
}
