//! Commands: everything an actor can ask of the engine.
//!
//! On the wire a command is a JSON object whose `type` names the variant; the other fields
//! are the variant's. Queries (`get_*`, `list_*`, `render_*`) change nothing.

use serde::{Deserialize, Serialize};

use super::helpdesk::{
    CalendarConfig, Channel, Requester, SlaPolicy, TemplateValues, TicketChanges, TicketFilter,
    TicketPriority, TicketStatus, TicketTemplate,
};
use super::model::{
    AgentProfile, AgentStatus, Attachment, CannedScope, ConversationKind, Department, MessageKind,
    QueueConfig, RoutingRule, TenantSettings, VisitorProfile,
};
use crate::ids::{
    AgentId, CalendarId, CannedResponseId, ConversationId, DepartmentId, EffectId, QueueId,
    SessionId, SurveyId, TicketId, TicketTemplateId, TransferId, VisitorId,
};

/// A request from an actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    // ---- tenant administration ----
    /// Create the actor's tenant (superadmin).
    CreateTenant {
        /// Its settings.
        settings: TenantSettings,
    },
    /// Replace the tenant's settings (tenant admin).
    UpdateTenantSettings {
        /// The new settings.
        settings: TenantSettings,
    },
    /// Create or update a department (tenant admin).
    UpsertDepartment {
        /// The department.
        department: Department,
    },
    /// Remove a department; agents and queues lose their link to it (tenant admin).
    RemoveDepartment {
        /// The department.
        department_id: DepartmentId,
    },
    /// Create or update a queue (tenant admin).
    UpsertQueue {
        /// The queue.
        queue: QueueConfig,
    },
    /// Remove an empty queue (tenant admin).
    RemoveQueue {
        /// The queue.
        queue_id: QueueId,
    },
    /// Create or update a staff member (tenant admin).
    UpsertAgent {
        /// The profile.
        agent: AgentProfile,
    },
    /// Remove a staff member; their chats go back to the queue (tenant admin).
    RemoveAgent {
        /// The agent.
        agent_id: AgentId,
    },
    /// Replace the tenant's routing rules (tenant admin).
    SetRoutingRules {
        /// The rules, in order.
        rules: Vec<RoutingRule>,
    },
    /// Create a canned response (tenant-wide: tenant admin; personal: any chat handler).
    CreateCannedResponse {
        /// Personal or tenant-wide.
        #[serde(default)]
        scope: CannedScope,
        /// Title.
        title: String,
        /// Optional shortcut.
        #[serde(default)]
        shortcut: Option<String>,
        /// Body with variables.
        body: String,
    },
    /// Change a canned response (its owner, or a tenant admin for tenant-wide ones).
    UpdateCannedResponse {
        /// The response.
        canned_response_id: CannedResponseId,
        /// New title.
        title: String,
        /// New shortcut.
        #[serde(default)]
        shortcut: Option<String>,
        /// New body.
        body: String,
    },
    /// Delete a canned response (its owner, or a tenant admin).
    DeleteCannedResponse {
        /// The response.
        canned_response_id: CannedResponseId,
    },
    /// Log every agent of the tenant out; their chats go back to the queue (tenant admin).
    ForceLogoutAll {
        /// Shown to the agents.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Erase a visitor from the engine's memory (privacy erasure): refused while they have
    /// a chat that has not ended or a ticket that is not closed (tenant admin, the host).
    ForgetVisitor {
        /// The visitor.
        visitor_id: VisitorId,
    },

    // ---- agent presence ----
    /// Set presence (one's own, or another agent's as a supervisor or the host).
    SetAgentStatus {
        /// The new status.
        status: AgentStatus,
        /// Another agent (supervisors); omitted: the actor.
        #[serde(default)]
        agent_id: Option<AgentId>,
    },
    /// The agent's connection is up (the host reports it; ends a disconnect grace).
    AgentConnected {
        /// The agent (system actor); omitted: the actor.
        #[serde(default)]
        agent_id: Option<AgentId>,
    },
    /// The agent's connection dropped: after the grace period they go offline.
    AgentDisconnected {
        /// The agent (system actor); omitted: the actor.
        #[serde(default)]
        agent_id: Option<AgentId>,
    },
    /// Release the slots held by wrap-up now.
    EndWrapUp {},

    // ---- sessions ----
    /// Start a chat (visitor).
    StartSession {
        /// The visitor's details.
        #[serde(default)]
        visitor: VisitorProfile,
        /// The department chosen in the pre-chat form.
        #[serde(default)]
        department_id: Option<DepartmentId>,
        /// Issue type from the pre-chat form.
        #[serde(default)]
        issue_type: Option<String>,
        /// Language.
        #[serde(default)]
        language: Option<String>,
        /// First message.
        #[serde(default)]
        initial_message: Option<String>,
        /// The client's id for the first message.
        #[serde(default)]
        client_message_id: Option<String>,
    },
    /// Take an offered session.
    AcceptOffer {
        /// The session.
        session_id: SessionId,
    },
    /// Refuse an offered session; it is not offered to this agent again.
    DeclineOffer {
        /// The session.
        session_id: SessionId,
    },
    /// Take a waiting session from the queue (any strategy; the only way under `manual`).
    PickSession {
        /// The session.
        session_id: SessionId,
    },
    /// Assign a waiting or active session to an agent (supervisor).
    AssignSession {
        /// The session.
        session_id: SessionId,
        /// The agent.
        agent_id: AgentId,
    },
    /// Send a message to the session (visitor, assigned agent, bot, supervisor).
    SendMessage {
        /// The session.
        session_id: SessionId,
        /// The body (a caption for attachments).
        #[serde(default)]
        body: String,
        /// Text, markdown or attachment. Default text.
        #[serde(default)]
        kind: MessageKind,
        /// File metadata when `kind` is attachment.
        #[serde(default)]
        attachment: Option<Attachment>,
        /// Retries with the same id are accepted once.
        #[serde(default)]
        client_message_id: Option<String>,
    },
    /// Send a canned response with its variables filled in.
    SendCannedResponse {
        /// The session.
        session_id: SessionId,
        /// The response.
        canned_response_id: CannedResponseId,
        /// Retries with the same id are accepted once.
        #[serde(default)]
        client_message_id: Option<String>,
    },
    /// Typing started or stopped.
    SetTyping {
        /// The session.
        session_id: SessionId,
        /// Started (true) or stopped (false).
        active: bool,
    },
    /// Mark the other side's messages read up to a position (omitted: all).
    MarkRead {
        /// The session.
        session_id: SessionId,
        /// The last position read.
        #[serde(default)]
        up_to_seq: Option<u64>,
    },
    /// Add an internal note (never shown to the visitor).
    AddNote {
        /// The session.
        session_id: SessionId,
        /// The note.
        body: String,
    },
    /// Add tags.
    AddTags {
        /// The session.
        session_id: SessionId,
        /// Tags to add.
        tags: Vec<String>,
    },
    /// Remove tags.
    RemoveTags {
        /// The session.
        session_id: SessionId,
        /// Tags to remove.
        tags: Vec<String>,
    },
    /// Transfer an active session to an agent or department.
    TransferSession {
        /// The session.
        session_id: SessionId,
        /// The target agent.
        #[serde(default)]
        to_agent_id: Option<AgentId>,
        /// Or the target department.
        #[serde(default)]
        to_department_id: Option<DepartmentId>,
        /// Why (kept in the history; the visitor sees a neutral system message).
        reason: String,
    },
    /// Accept a transfer offered to the actor.
    AcceptTransfer {
        /// The transfer.
        transfer_id: TransferId,
    },
    /// Reject a transfer offered to the actor.
    RejectTransfer {
        /// The transfer.
        transfer_id: TransferId,
    },
    /// Withdraw one's own outstanding transfer.
    CancelTransfer {
        /// The transfer.
        transfer_id: TransferId,
    },
    /// Mark an active session resolved (the visitor may still rate it).
    ResolveSession {
        /// The session.
        session_id: SessionId,
    },
    /// Close a session now.
    CloseSession {
        /// The session.
        session_id: SessionId,
    },
    /// The visitor leaves: a waiting session is abandoned, an active one closed.
    LeaveSession {
        /// The session.
        session_id: SessionId,
    },
    /// Answer a satisfaction survey 1-5 (the visitor asked, once). Name the survey, or a
    /// session: its outstanding survey, or a new one while the chat is active or resolved.
    SubmitCsat {
        /// The survey.
        #[serde(default)]
        survey_id: Option<SurveyId>,
        /// Or the session.
        #[serde(default)]
        session_id: Option<SessionId>,
        /// 1 to 5.
        rating: u8,
        /// Optional comment.
        #[serde(default)]
        comment: Option<String>,
    },
    /// The bot gives the session to routing.
    HandOff {
        /// The session.
        session_id: SessionId,
        /// Why (shown to agents).
        reason: String,
        /// Route to this department's queue instead of the session's.
        #[serde(default)]
        department_id: Option<DepartmentId>,
    },
    /// The host's router answers an external routing request (system actor).
    RouteDecision {
        /// The request effect.
        effect_id: EffectId,
        /// The chosen agent; omitted: let the fallback strategy decide.
        #[serde(default)]
        agent_id: Option<AgentId>,
    },

    // ---- internal conversations ----
    /// Start a direct or group conversation with colleagues.
    CreateConversation {
        /// Direct or group.
        kind: ConversationKind,
        /// The other members (the actor is added).
        member_ids: Vec<AgentId>,
        /// Title (groups).
        #[serde(default)]
        title: Option<String>,
    },
    /// Add members to a group.
    AddConversationMembers {
        /// The conversation.
        conversation_id: ConversationId,
        /// New members.
        member_ids: Vec<AgentId>,
    },
    /// Leave a group.
    LeaveConversation {
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// Write to a conversation.
    SendConversationMessage {
        /// The conversation.
        conversation_id: ConversationId,
        /// The body.
        body: String,
        /// Text or markdown.
        #[serde(default)]
        kind: MessageKind,
        /// Retries with the same id are accepted once.
        #[serde(default)]
        client_message_id: Option<String>,
    },
    /// Mark a conversation read up to a position (omitted: all).
    MarkConversationRead {
        /// The conversation.
        conversation_id: ConversationId,
        /// The last position read.
        #[serde(default)]
        up_to_seq: Option<u64>,
    },
    /// Typing in a conversation.
    SetConversationTyping {
        /// The conversation.
        conversation_id: ConversationId,
        /// Started or stopped.
        active: bool,
    },

    // ---- helpdesk administration ----
    /// Create or replace a business-hours calendar (tenant admin).
    UpsertCalendar {
        /// The calendar.
        calendar: CalendarConfig,
    },
    /// Remove a calendar no department or SLA policy uses (tenant admin).
    RemoveCalendar {
        /// The calendar.
        calendar_id: CalendarId,
    },
    /// Replace the tenant's SLA policies; every open ticket and chat re-selects its policy
    /// and its due times are recomputed (tenant admin).
    SetSlaPolicies {
        /// The policies.
        policies: Vec<SlaPolicy>,
    },
    /// Create or replace a ticket template (tenant admin).
    UpsertTicketTemplate {
        /// The template.
        template: TicketTemplate,
    },
    /// Remove a ticket template (tenant admin).
    RemoveTicketTemplate {
        /// The template.
        template_id: TicketTemplateId,
    },

    // ---- tickets ----
    /// Open a ticket (staff and the host for anyone; visitors for themselves, with subject,
    /// description, department and attachments only).
    CreateTicket {
        /// Subject; with a template, the template's subject is used when this is empty.
        #[serde(default)]
        subject: String,
        /// Description.
        #[serde(default)]
        description: String,
        /// Who asked (visitors: filled in from the actor).
        #[serde(default)]
        requester: Requester,
        /// Priority; default the template's, else medium.
        #[serde(default)]
        priority: Option<TicketPriority>,
        /// How it arrived. Default `web`.
        #[serde(default)]
        channel: Channel,
        /// The department it belongs to.
        #[serde(default)]
        department_id: Option<DepartmentId>,
        /// Assign to a team.
        #[serde(default)]
        team_id: Option<DepartmentId>,
        /// Assign to an agent.
        #[serde(default)]
        assignee_id: Option<AgentId>,
        /// Tags.
        #[serde(default)]
        tags: Vec<String>,
        /// A due date set by hand.
        #[serde(default)]
        due_at: Option<crate::time::Timestamp>,
        /// Fill in this template.
        #[serde(default)]
        template_id: Option<TicketTemplateId>,
        /// Template variables (`{{issue_type}}`).
        #[serde(default)]
        variables: TemplateValues,
        /// Files attached to the description.
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Change a ticket's fields (staff who handle tickets).
    UpdateTicket {
        /// The ticket.
        ticket_id: TicketId,
        /// What changes.
        changes: TicketChanges,
    },
    /// Move a ticket to another status; illegal moves are refused.
    SetTicketStatus {
        /// The ticket.
        ticket_id: TicketId,
        /// The new status.
        status: TicketStatus,
    },
    /// Assign a ticket to an agent, a team, or both; omitted fields clear the assignment.
    AssignTicket {
        /// The ticket.
        ticket_id: TicketId,
        /// The agent.
        #[serde(default)]
        assignee_id: Option<AgentId>,
        /// The team.
        #[serde(default)]
        team_id: Option<DepartmentId>,
    },
    /// Reply on a ticket (staff: public or internal; the requester: public).
    AddTicketMessage {
        /// The ticket.
        ticket_id: TicketId,
        /// The body.
        body: String,
        /// Text or markdown.
        #[serde(default)]
        kind: MessageKind,
        /// An internal note, never shown to the requester (staff only).
        #[serde(default)]
        internal: bool,
        /// Attached files.
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Add tags to a ticket.
    AddTicketTags {
        /// The ticket.
        ticket_id: TicketId,
        /// Tags.
        tags: Vec<String>,
    },
    /// Remove tags from a ticket.
    RemoveTicketTags {
        /// The ticket.
        ticket_id: TicketId,
        /// Tags.
        tags: Vec<String>,
    },
    /// Soft-delete a ticket: hidden and its clocks stopped, kept for the audit trail
    /// (supervisors).
    DeleteTicket {
        /// The ticket.
        ticket_id: TicketId,
    },
    /// Undo a soft delete (supervisors).
    RestoreTicket {
        /// The ticket.
        ticket_id: TicketId,
    },
    /// "Leave a message": the visitor's message becomes a ticket (visitor).
    SubmitOfflineMessage {
        /// Name.
        #[serde(default)]
        name: Option<String>,
        /// E-mail for the confirmation.
        #[serde(default)]
        email: Option<String>,
        /// Subject; default from the message.
        #[serde(default)]
        subject: Option<String>,
        /// The message.
        message: String,
        /// The department chosen in the form.
        #[serde(default)]
        department_id: Option<DepartmentId>,
        /// The chat that could not be served, if any.
        #[serde(default)]
        session_id: Option<SessionId>,
    },
    /// Turn a chat into a ticket (the agent holding it, supervisors).
    ConvertSessionToTicket {
        /// The session.
        session_id: SessionId,
        /// Subject; default from the issue type.
        #[serde(default)]
        subject: Option<String>,
        /// Description.
        #[serde(default)]
        description: Option<String>,
        /// Priority. Default medium.
        #[serde(default)]
        priority: Option<TicketPriority>,
    },
    /// Send a satisfaction survey now (the agent on a chat or ticket, supervisors).
    RequestCsat {
        /// A session.
        #[serde(default)]
        session_id: Option<SessionId>,
        /// Or a ticket.
        #[serde(default)]
        ticket_id: Option<TicketId>,
    },
    /// Ask the host to e-mail a session's transcript (its visitor, or staff who may see it).
    EmailTranscript {
        /// The session.
        session_id: SessionId,
        /// The address; default the visitor's.
        #[serde(default)]
        email: Option<String>,
    },

    // ---- queries ----
    /// Queue status for the widget (anyone in the tenant).
    GetQueueStatus {
        /// The queue; omitted: the queue a new session would be routed to.
        #[serde(default)]
        queue_id: Option<QueueId>,
        /// Or the department's queue.
        #[serde(default)]
        department_id: Option<DepartmentId>,
    },
    /// One session (its visitor, or staff allowed to see it).
    GetSession {
        /// The session.
        session_id: SessionId,
    },
    /// The waiting sessions of a queue, in order (staff who serve it, supervisors).
    ListQueue {
        /// The queue.
        queue_id: QueueId,
    },
    /// An agent's presence and load (the agent, supervisors, viewers).
    GetAgent {
        /// The agent; omitted: the actor.
        #[serde(default)]
        agent_id: Option<AgentId>,
    },
    /// The canned responses the actor may use.
    ListCannedResponses {},
    /// A canned response with its variables filled in for a session.
    RenderCannedResponse {
        /// The session.
        session_id: SessionId,
        /// The response.
        canned_response_id: CannedResponseId,
    },
    /// One ticket (staff; the requester sees their own without internal fields).
    GetTicket {
        /// The ticket.
        ticket_id: TicketId,
    },
    /// Open tickets matching a filter, in id order (staff).
    ListTickets {
        /// Filters.
        #[serde(default)]
        filter: TicketFilter,
    },
}

impl Command {
    /// Whether the command only reads (`get_*`, `list_*`, `render_*`): such commands change
    /// nothing and may be answered by [`Engine::query`](crate::Engine::query).
    #[must_use]
    pub fn is_query(&self) -> bool {
        matches!(
            self,
            Command::GetQueueStatus { .. }
                | Command::GetSession { .. }
                | Command::ListQueue { .. }
                | Command::GetAgent { .. }
                | Command::ListCannedResponses {}
                | Command::RenderCannedResponse { .. }
                | Command::GetTicket { .. }
                | Command::ListTickets { .. }
        )
    }

    /// The wire name of the command (its `type`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateTenant { .. } => "create_tenant",
            Command::UpdateTenantSettings { .. } => "update_tenant_settings",
            Command::UpsertDepartment { .. } => "upsert_department",
            Command::RemoveDepartment { .. } => "remove_department",
            Command::UpsertQueue { .. } => "upsert_queue",
            Command::RemoveQueue { .. } => "remove_queue",
            Command::UpsertAgent { .. } => "upsert_agent",
            Command::RemoveAgent { .. } => "remove_agent",
            Command::SetRoutingRules { .. } => "set_routing_rules",
            Command::CreateCannedResponse { .. } => "create_canned_response",
            Command::UpdateCannedResponse { .. } => "update_canned_response",
            Command::DeleteCannedResponse { .. } => "delete_canned_response",
            Command::ForceLogoutAll { .. } => "force_logout_all",
            Command::ForgetVisitor { .. } => "forget_visitor",
            Command::SetAgentStatus { .. } => "set_agent_status",
            Command::AgentConnected { .. } => "agent_connected",
            Command::AgentDisconnected { .. } => "agent_disconnected",
            Command::EndWrapUp {} => "end_wrap_up",
            Command::StartSession { .. } => "start_session",
            Command::AcceptOffer { .. } => "accept_offer",
            Command::DeclineOffer { .. } => "decline_offer",
            Command::PickSession { .. } => "pick_session",
            Command::AssignSession { .. } => "assign_session",
            Command::SendMessage { .. } => "send_message",
            Command::SendCannedResponse { .. } => "send_canned_response",
            Command::SetTyping { .. } => "set_typing",
            Command::MarkRead { .. } => "mark_read",
            Command::AddNote { .. } => "add_note",
            Command::AddTags { .. } => "add_tags",
            Command::RemoveTags { .. } => "remove_tags",
            Command::TransferSession { .. } => "transfer_session",
            Command::AcceptTransfer { .. } => "accept_transfer",
            Command::RejectTransfer { .. } => "reject_transfer",
            Command::CancelTransfer { .. } => "cancel_transfer",
            Command::ResolveSession { .. } => "resolve_session",
            Command::CloseSession { .. } => "close_session",
            Command::LeaveSession { .. } => "leave_session",
            Command::SubmitCsat { .. } => "submit_csat",
            Command::HandOff { .. } => "hand_off",
            Command::RouteDecision { .. } => "route_decision",
            Command::CreateConversation { .. } => "create_conversation",
            Command::AddConversationMembers { .. } => "add_conversation_members",
            Command::LeaveConversation { .. } => "leave_conversation",
            Command::SendConversationMessage { .. } => "send_conversation_message",
            Command::MarkConversationRead { .. } => "mark_conversation_read",
            Command::SetConversationTyping { .. } => "set_conversation_typing",
            Command::GetQueueStatus { .. } => "get_queue_status",
            Command::GetSession { .. } => "get_session",
            Command::ListQueue { .. } => "list_queue",
            Command::GetAgent { .. } => "get_agent",
            Command::ListCannedResponses {} => "list_canned_responses",
            Command::RenderCannedResponse { .. } => "render_canned_response",
            Command::UpsertCalendar { .. } => "upsert_calendar",
            Command::RemoveCalendar { .. } => "remove_calendar",
            Command::SetSlaPolicies { .. } => "set_sla_policies",
            Command::UpsertTicketTemplate { .. } => "upsert_ticket_template",
            Command::RemoveTicketTemplate { .. } => "remove_ticket_template",
            Command::CreateTicket { .. } => "create_ticket",
            Command::UpdateTicket { .. } => "update_ticket",
            Command::SetTicketStatus { .. } => "set_ticket_status",
            Command::AssignTicket { .. } => "assign_ticket",
            Command::AddTicketMessage { .. } => "add_ticket_message",
            Command::AddTicketTags { .. } => "add_ticket_tags",
            Command::RemoveTicketTags { .. } => "remove_ticket_tags",
            Command::DeleteTicket { .. } => "delete_ticket",
            Command::RestoreTicket { .. } => "restore_ticket",
            Command::SubmitOfflineMessage { .. } => "submit_offline_message",
            Command::ConvertSessionToTicket { .. } => "convert_session_to_ticket",
            Command::RequestCsat { .. } => "request_csat",
            Command::EmailTranscript { .. } => "email_transcript",
            Command::GetTicket { .. } => "get_ticket",
            Command::ListTickets { .. } => "list_tickets",
        }
    }
}
