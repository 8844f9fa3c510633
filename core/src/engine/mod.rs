//! The engine: commands in with the current time, outputs and deadlines out.
//!
//! # The contract
//! - `handle(now, actor, command)` applies one command. On `Err` nothing changed: no state,
//!   no output.
//! - After every call that can mutate (`handle`, `handle_timeout`), drain
//!   [`poll_output`](Engine::poll_output) until it returns `None` ("mutate, then drain"). The
//!   host persists the step's records in one transaction, then delivers its events and
//!   carries out its effects. Outputs come out in the order they were produced.
//! - [`poll_timeout`](Engine::poll_timeout) tells when to call
//!   [`handle_timeout`](Engine::handle_timeout). Calling it early, late or twice is harmless.
//! - Time never runs backwards inside: a `now` earlier than one already seen is taken as the
//!   latest seen.
//! - No clock, randomness, IO or threads: the same inputs give the same outputs, ids included.

mod admin;
mod assignment;
mod canned;
mod chat_clocks;
mod closing;
mod conversation;
mod external;
mod helpdesk_admin;
mod lifecycle;
mod messages;
mod notes;
mod offers;
mod offline;
mod pool;
mod presence;
mod privacy;
mod queries;
mod routing;
mod select;
mod sla;
mod sla_clock;
mod snapshot;
mod start;
mod state;
mod surveys;
mod ticket_changes;
mod ticket_messages;
mod ticket_queries;
mod tickets;
mod transfer;
mod typing;
mod variables;
mod views;
mod waiting;

use std::collections::VecDeque;

use rand_core::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::auth::{Actor, Role};
use crate::calendar::Calendar;
use crate::error::{CommandError, ObjectKind};
use crate::ids::TenantId;
use crate::limits::Limits;
use crate::protocol::command::Command;
use crate::protocol::event::Event;
use crate::protocol::output::{Effect, Output, Recipient, Record};
use crate::protocol::reply::Reply;
use crate::time::Timestamp;
use crate::timer::{TimerKey, Timers};
pub use snapshot::{SNAPSHOT_FORMAT, SnapshotError};
use state::{Counters, TenantState};

/// Construction parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Seeds the random strategies (each tenant derives its own stream from it).
    pub seed: u64,
    /// Input size limits.
    pub limits: Limits,
}

/// The sans-IO engine for any number of tenants.
#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    config: EngineConfig,
    now: Timestamp,
    tenants: Vec<TenantState>,
    tenant_index: FxHashMap<TenantId, u32>,
    timers: Timers,
    outputs: VecDeque<Output>,
}

/// What a step may touch besides its tenant: the clock, the limits, the deadlines and the
/// output queue.
pub(crate) struct Ctx<'a> {
    pub now: Timestamp,
    pub limits: &'a Limits,
    pub timers: &'a mut Timers,
    pub out: &'a mut VecDeque<Output>,
}

impl Engine {
    /// A new engine with no tenants.
    #[must_use]
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            config,
            now: Timestamp(i64::MIN),
            tenants: Vec::new(),
            tenant_index: FxHashMap::default(),
            timers: Timers::default(),
            outputs: VecDeque::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Applies one command from `actor` at `now`. On error nothing changed.
    pub fn handle(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        // A refused command changes nothing, the engine's clock included.
        let now = now.max(self.now);
        let mark = self.outputs.len();
        let result = self.apply(now, actor, command);
        match result {
            Ok(_) => self.now = now,
            Err(_) => self.outputs.truncate(mark),
        }
        result
    }

    /// Fires every deadline due at or before `now`.
    ///
    /// Everything due is applied first and queues are dispatched after, so sessions freed
    /// by deadlines at the same instant line up in arrival order before anyone is offered.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let now = self.advance(now);
        loop {
            let mut touched: Vec<u32> = Vec::new();
            while let Some((_, key)) = self.timers.pop_due(now) {
                let tenant_no = key_tenant(key);
                let Some(tenant) = self.tenants.get_mut(tenant_no as usize) else {
                    continue;
                };
                let mut cx = Ctx {
                    now,
                    limits: &self.config.limits,
                    timers: &mut self.timers,
                    out: &mut self.outputs,
                };
                tenant.on_timer(&mut cx, key);
                touched.push(tenant_no);
            }
            if touched.is_empty() {
                return;
            }
            touched.sort_unstable();
            touched.dedup();
            for tenant_no in touched {
                let mut cx = Ctx {
                    now,
                    limits: &self.config.limits,
                    timers: &mut self.timers,
                    out: &mut self.outputs,
                };
                self.tenants[tenant_no as usize].flush_step(&mut cx);
            }
        }
    }

    /// When the engine next needs [`handle_timeout`](Engine::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.next_deadline()
    }

    /// Answers a read-only command (see [`Command::is_query`]) without changing anything,
    /// the clock included: a host may serve reads this way without journaling them. Other
    /// commands are refused with `invalid_input`.
    pub fn query(
        &self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        if !command.is_query() {
            return Err(CommandError::invalid(
                "type",
                format!("{} changes state: use handle", command.name()),
            ));
        }
        let limits = &self.config.limits;
        limits.check_id("actor.tenant_id", &actor.tenant_id.0)?;
        limits.check_id("actor.id", &actor.id)?;
        let Some(&tenant_no) = self.tenant_index.get(actor.tenant_id.as_str()) else {
            return Err(CommandError::not_found(
                ObjectKind::Tenant,
                &actor.tenant_id,
            ));
        };
        self.tenants[tenant_no as usize].query(now.max(self.now), limits, actor, command)
    }

    /// The next output, in production order.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Outputs waiting to be drained.
    #[must_use]
    pub fn pending_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The latest time the engine has seen.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Armed deadlines (for tests and metrics).
    #[must_use]
    pub fn armed_timers(&self) -> usize {
        self.timers.len()
    }

    fn advance(&mut self, now: Timestamp) -> Timestamp {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    fn apply(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        let limits = &self.config.limits;
        limits.check_id("actor.tenant_id", &actor.tenant_id.0)?;
        limits.check_id("actor.id", &actor.id)?;
        if let Command::CreateTenant { settings } = command {
            return self.create_tenant(now, actor, settings);
        }
        let Some(&tenant_no) = self.tenant_index.get(actor.tenant_id.as_str()) else {
            return Err(CommandError::not_found(
                ObjectKind::Tenant,
                &actor.tenant_id,
            ));
        };
        let tenant = &mut self.tenants[tenant_no as usize];
        let mut cx = Ctx {
            now,
            limits: &self.config.limits,
            timers: &mut self.timers,
            out: &mut self.outputs,
        };
        let result = tenant.apply(&mut cx, actor, command);
        if result.is_ok() {
            tenant.flush_step(&mut cx);
        }
        result
    }

    fn create_tenant(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        settings: crate::protocol::model::TenantSettings,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role == Role::Superadmin,
            "only a superadmin creates tenants",
        )?;
        if self.tenant_index.contains_key(actor.tenant_id.as_str()) {
            return Err(CommandError::AlreadyExists {
                kind: ObjectKind::Tenant,
                id: actor.tenant_id.to_string(),
            });
        }
        admin::validate_settings(&self.config.limits, &settings)?;
        let calendar = settings
            .business_hours
            .as_ref()
            .map(Calendar::compile)
            .transpose()?
            .map(std::sync::Arc::new);
        let no = self.tenants.len() as u32;
        let stream = self.config.seed ^ u64::from(no).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let tenant = TenantState {
            no,
            id: actor.tenant_id.clone(),
            settings,
            calendar,
            calendars: Default::default(),
            sla_policies: Vec::new(),
            templates: Default::default(),
            tickets: Default::default(),
            surveys: Default::default(),
            survey_by_target: FxHashMap::default(),
            unanswered_surveys: 0,
            ended_sessions: Default::default(),
            counters: Counters::default(),
            rng: Pcg64Mcg::seed_from_u64(stream),
            departments: Default::default(),
            queues: Vec::new(),
            queue_index: Default::default(),
            agents: Vec::new(),
            agent_index: FxHashMap::default(),
            agent_count: 0,
            sessions: FxHashMap::default(),
            rules: Vec::new(),
            canned: Default::default(),
            conversations: FxHashMap::default(),
            direct_conversations: Default::default(),
            last_agent_of_visitor: Default::default(),
            skill_profiles: Default::default(),
            watchers: Default::default(),
            route_requests: Default::default(),
            transfers: Default::default(),
            dispatch_pending: Default::default(),
            announce_pending: Default::default(),
        };
        self.tenant_index.insert(actor.tenant_id.clone(), no);
        self.tenants.push(tenant);
        let tenant = &self.tenants[no as usize];
        let mut cx = Ctx {
            now,
            limits: &self.config.limits,
            timers: &mut self.timers,
            out: &mut self.outputs,
        };
        tenant.audit(&mut cx, actor, "create_tenant", actor.tenant_id.to_string());
        Ok(Reply::Ok)
    }
}

fn key_tenant(key: TimerKey) -> u32 {
    match key {
        TimerKey::Offer { tenant, .. }
        | TimerKey::MaxWait { tenant, .. }
        | TimerKey::Inactivity { tenant, .. }
        | TimerKey::NoReply { tenant, .. }
        | TimerKey::Transfer { tenant, .. }
        | TimerKey::Typing { tenant, .. }
        | TimerKey::ResolvedClose { tenant, .. }
        | TimerKey::External { tenant, .. }
        | TimerKey::WrapUp { tenant, .. }
        | TimerKey::DisconnectGrace { tenant, .. }
        | TimerKey::Fairness { tenant, .. }
        | TimerKey::QueueFlush { tenant, .. }
        | TimerKey::TicketSla { tenant, .. }
        | TimerKey::TicketAutoClose { tenant, .. }
        | TimerKey::SessionSla { tenant, .. }
        | TimerKey::SurveyExpiry { tenant, .. } => tenant,
    }
}

impl TenantState {
    fn apply(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        match command {
            Command::CreateTenant { .. } => Err(CommandError::AlreadyExists {
                kind: ObjectKind::Tenant,
                id: self.id.to_string(),
            }),
            Command::UpdateTenantSettings { settings } => self.update_settings(cx, actor, settings),
            Command::UpsertDepartment { department } => {
                self.upsert_department(cx, actor, department)
            }
            Command::RemoveDepartment { department_id } => {
                self.remove_department(cx, actor, &department_id)
            }
            Command::UpsertQueue { queue } => self.upsert_queue(cx, actor, queue),
            Command::RemoveQueue { queue_id } => self.remove_queue(cx, actor, &queue_id),
            Command::UpsertAgent { agent } => self.upsert_agent(cx, actor, agent),
            Command::RemoveAgent { agent_id } => self.remove_agent(cx, actor, &agent_id),
            Command::SetRoutingRules { rules } => self.set_routing_rules(cx, actor, rules),
            Command::CreateCannedResponse {
                scope,
                title,
                shortcut,
                body,
            } => self.create_canned(cx, actor, scope, title, shortcut, body),
            Command::UpdateCannedResponse {
                canned_response_id,
                title,
                shortcut,
                body,
            } => self.update_canned(cx, actor, canned_response_id, title, shortcut, body),
            Command::DeleteCannedResponse { canned_response_id } => {
                self.delete_canned(cx, actor, canned_response_id)
            }
            Command::ForceLogoutAll { reason } => self.force_logout_all(cx, actor, reason),
            Command::ForgetVisitor { visitor_id } => self.forget_visitor(cx, actor, visitor_id),
            Command::SetAgentStatus { status, agent_id } => {
                self.set_agent_status_command(cx, actor, status, agent_id.as_ref())
            }
            Command::AgentConnected { agent_id } => {
                self.agent_connection(cx, actor, agent_id.as_ref(), true)
            }
            Command::AgentDisconnected { agent_id } => {
                self.agent_connection(cx, actor, agent_id.as_ref(), false)
            }
            Command::EndWrapUp {} => self.end_wrap_up(cx, actor),
            Command::StartSession {
                visitor,
                department_id,
                issue_type,
                language,
                initial_message,
                client_message_id,
            } => self.start_session(
                cx,
                actor,
                routing::StartRequest {
                    visitor,
                    department_id,
                    issue_type,
                    language,
                    initial_message,
                    client_message_id,
                },
            ),
            Command::AcceptOffer { session_id } => self.accept_offer(cx, actor, session_id),
            Command::DeclineOffer { session_id } => self.decline_offer(cx, actor, session_id),
            Command::PickSession { session_id } => self.pick_session(cx, actor, session_id),
            Command::AssignSession {
                session_id,
                agent_id,
            } => self.assign_session_command(cx, actor, session_id, &agent_id),
            Command::SendMessage {
                session_id,
                body,
                kind,
                attachment,
                client_message_id,
            } => self.send_message_command(
                cx,
                actor,
                session_id,
                messages::Outgoing {
                    body,
                    kind,
                    attachment,
                    client_message_id,
                },
            ),
            Command::SendCannedResponse {
                session_id,
                canned_response_id,
                client_message_id,
            } => self.send_canned(cx, actor, session_id, canned_response_id, client_message_id),
            Command::SetTyping { session_id, active } => {
                self.set_typing(cx, actor, session_id, active)
            }
            Command::MarkRead {
                session_id,
                up_to_seq,
            } => self.mark_read(cx, actor, session_id, up_to_seq),
            Command::AddNote { session_id, body } => self.add_note(cx, actor, session_id, body),
            Command::AddTags { session_id, tags } => {
                self.change_tags(cx, actor, session_id, tags, true)
            }
            Command::RemoveTags { session_id, tags } => {
                self.change_tags(cx, actor, session_id, tags, false)
            }
            Command::TransferSession {
                session_id,
                to_agent_id,
                to_department_id,
                reason,
            } => {
                self.request_transfer(cx, actor, session_id, to_agent_id, to_department_id, reason)
            }
            Command::AcceptTransfer { transfer_id } => self.accept_transfer(cx, actor, transfer_id),
            Command::RejectTransfer { transfer_id } => self.reject_transfer(cx, actor, transfer_id),
            Command::CancelTransfer { transfer_id } => self.cancel_transfer(cx, actor, transfer_id),
            Command::ResolveSession { session_id } => self.resolve_session(cx, actor, session_id),
            Command::CloseSession { session_id } => self.close_session(cx, actor, session_id),
            Command::LeaveSession { session_id } => self.leave_session(cx, actor, session_id),
            Command::SubmitCsat {
                survey_id,
                session_id,
                rating,
                comment,
            } => self.submit_csat(cx, actor, survey_id, session_id, rating, comment),
            Command::HandOff {
                session_id,
                reason,
                department_id,
            } => self.hand_off(cx, actor, session_id, reason, department_id),
            Command::RouteDecision {
                effect_id,
                agent_id,
            } => self.route_decision(cx, actor, effect_id, agent_id.as_ref()),
            Command::CreateConversation {
                kind,
                member_ids,
                title,
            } => self.create_conversation(cx, actor, kind, member_ids, title),
            Command::AddConversationMembers {
                conversation_id,
                member_ids,
            } => self.add_conversation_members(cx, actor, conversation_id, member_ids),
            Command::LeaveConversation { conversation_id } => {
                self.leave_conversation(cx, actor, conversation_id)
            }
            Command::SendConversationMessage {
                conversation_id,
                body,
                kind,
                client_message_id,
            } => self.send_conversation_message(
                cx,
                actor,
                conversation_id,
                body,
                kind,
                client_message_id,
            ),
            Command::MarkConversationRead {
                conversation_id,
                up_to_seq,
            } => self.mark_conversation_read(cx, actor, conversation_id, up_to_seq),
            Command::SetConversationTyping {
                conversation_id,
                active,
            } => self.set_conversation_typing(cx, actor, conversation_id, active),
            command if command.is_query() => self.query(cx.now, cx.limits, actor, command),
            command => self.apply_helpdesk(cx, actor, command),
        }
    }

    /// The read-only commands.
    fn query(
        &self,
        now: Timestamp,
        limits: &crate::limits::Limits,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        match command {
            Command::GetQueueStatus {
                queue_id,
                department_id,
            } => self.get_queue_status(now, actor, queue_id, department_id),
            Command::GetSession { session_id } => self.get_session(actor, session_id),
            Command::ListQueue { queue_id } => self.list_queue(actor, &queue_id),
            Command::GetAgent { agent_id } => self.get_agent(actor, agent_id.as_ref()),
            Command::ListCannedResponses {} => self.list_canned(actor),
            Command::RenderCannedResponse {
                session_id,
                canned_response_id,
            } => self.render_canned_command(actor, session_id, canned_response_id),
            Command::GetTicket { ticket_id } => self.get_ticket(now, actor, ticket_id),
            Command::ListTickets { filter } => self.list_tickets(now, limits, actor, &filter),
            other => Err(CommandError::invalid(
                "type",
                format!("{} is not a query", other.name()),
            )),
        }
    }

    /// Tickets, SLA, surveys, calendars and the offline flow.
    fn apply_helpdesk(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, CommandError> {
        match command {
            Command::UpsertCalendar { calendar } => self.upsert_calendar(cx, actor, calendar),
            Command::RemoveCalendar { calendar_id } => {
                self.remove_calendar(cx, actor, &calendar_id)
            }
            Command::SetSlaPolicies { policies } => self.set_sla_policies(cx, actor, policies),
            Command::UpsertTicketTemplate { template } => {
                self.upsert_ticket_template(cx, actor, template)
            }
            Command::RemoveTicketTemplate { template_id } => {
                self.remove_ticket_template(cx, actor, &template_id)
            }
            Command::CreateTicket {
                subject,
                description,
                requester,
                priority,
                channel,
                department_id,
                team_id,
                assignee_id,
                tags,
                due_at,
                template_id,
                variables,
                attachments,
            } => self.create_ticket_command(
                cx,
                actor,
                tickets::TicketRequest {
                    subject,
                    description,
                    requester,
                    priority,
                    channel,
                    department_id,
                    team_id,
                    assignee_id,
                    tags,
                    due_at,
                    template_id,
                    variables,
                    attachments,
                },
            ),
            Command::UpdateTicket { ticket_id, changes } => {
                self.update_ticket_command(cx, actor, ticket_id, changes)
            }
            Command::SetTicketStatus { ticket_id, status } => {
                self.set_ticket_status_command(cx, actor, ticket_id, status)
            }
            Command::AssignTicket {
                ticket_id,
                assignee_id,
                team_id,
            } => self.assign_ticket_command(cx, actor, ticket_id, assignee_id, team_id),
            Command::AddTicketMessage {
                ticket_id,
                body,
                kind,
                internal,
                attachments,
            } => self.add_ticket_message_command(
                cx,
                actor,
                ticket_id,
                ticket_messages::NewMessage {
                    body: body.into(),
                    kind,
                    internal,
                    attachments,
                },
            ),
            Command::AddTicketTags { ticket_id, tags } => {
                self.change_ticket_tags(cx, actor, ticket_id, tags, true)
            }
            Command::RemoveTicketTags { ticket_id, tags } => {
                self.change_ticket_tags(cx, actor, ticket_id, tags, false)
            }
            Command::DeleteTicket { ticket_id } => {
                self.delete_ticket_command(cx, actor, ticket_id, true)
            }
            Command::RestoreTicket { ticket_id } => {
                self.delete_ticket_command(cx, actor, ticket_id, false)
            }
            Command::SubmitOfflineMessage {
                name,
                email,
                subject,
                message,
                department_id,
                session_id,
            } => self.submit_offline_message(
                cx,
                actor,
                offline::OfflineMessage {
                    name,
                    email,
                    subject,
                    message,
                    department_id,
                    session_id,
                },
            ),
            Command::ConvertSessionToTicket {
                session_id,
                subject,
                description,
                priority,
            } => self.convert_session_to_ticket(
                cx,
                actor,
                session_id,
                subject,
                description,
                priority,
            ),
            Command::RequestCsat {
                session_id,
                ticket_id,
            } => self.request_csat_command(cx, actor, session_id, ticket_id),
            Command::EmailTranscript { session_id, email } => {
                self.email_transcript(cx, actor, session_id, email)
            }
            other => Err(CommandError::invalid(
                "type",
                format!("{} is not handled here", other.name()),
            )),
        }
    }

    /// Routes a fired deadline to its owner.
    fn on_timer(&mut self, cx: &mut Ctx<'_>, key: TimerKey) {
        match key {
            TimerKey::Offer { session, .. } => self.on_offer_timeout(cx, session),
            TimerKey::MaxWait { session, .. } => self.on_max_wait(cx, session),
            TimerKey::Inactivity { session, .. } => self.on_inactivity(cx, session),
            TimerKey::NoReply { session, .. } => self.on_no_reply(cx, session),
            TimerKey::Transfer { session, .. } => self.on_transfer_timeout(cx, session),
            TimerKey::Typing { session, side, .. } => self.on_typing_timeout(cx, session, side),
            TimerKey::ResolvedClose { session, .. } => self.on_resolved_timeout(cx, session),
            TimerKey::External { session, .. } => self.on_external_timeout(cx, session),
            TimerKey::WrapUp { agent, .. } => self.on_wrap_up_timeout(cx, agent),
            TimerKey::DisconnectGrace { agent, .. } => self.on_grace_timeout(cx, agent),
            TimerKey::Fairness { agent, .. } => self.on_fairness_timeout(cx, agent),
            TimerKey::QueueFlush { queue, .. } => self.flush_positions(cx, queue),
            TimerKey::TicketSla { ticket, .. } => {
                self.on_sla_timer(cx, sla::Subject::Ticket(ticket))
            }
            TimerKey::TicketAutoClose { ticket, .. } => self.on_ticket_auto_close(cx, ticket),
            TimerKey::SessionSla { session, .. } => {
                self.on_sla_timer(cx, sla::Subject::Session(session))
            }
            TimerKey::SurveyExpiry { survey, .. } => self.on_survey_expiry(cx, survey),
        }
    }

    // ---- output helpers ----

    pub(crate) fn deliver(&self, cx: &mut Ctx<'_>, to: Vec<Recipient>, event: Event) {
        if to.is_empty() {
            return;
        }
        cx.out.push_back(Output::Deliver {
            tenant_id: self.id.clone(),
            to,
            event,
        });
    }

    /// Queues an effect for the host under the tenant's next effect number, and returns
    /// that number (answers such as `route_decision` name it).
    pub(crate) fn emit_effect(&mut self, cx: &mut Ctx<'_>, effect: Effect) -> u64 {
        self.counters.effect += 1;
        cx.out.push_back(Output::Effect {
            tenant_id: self.id.clone(),
            effect_id: crate::ids::EffectId(self.counters.effect),
            effect,
        });
        self.counters.effect
    }

    pub(crate) fn persist(&self, cx: &mut Ctx<'_>, record: Record) {
        cx.out.push_back(Output::Persist {
            tenant_id: self.id.clone(),
            record,
        });
    }

    pub(crate) fn audit(
        &self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        action: &'static str,
        target: String,
    ) {
        self.persist(
            cx,
            Record::Audit {
                actor_id: actor.id.clone(),
                actor_role: actor.role,
                action: action.into(),
                target,
                at: cx.now,
            },
        );
    }

    pub(crate) fn staff(&self, agent: u32) -> Recipient {
        Recipient::Staff {
            id: self.agent(agent).profile.id.clone(),
        }
    }

    /// Online supervisors, admins and viewers (`with_viewers`), in agent order.
    pub(crate) fn watcher_recipients(&self, with_viewers: bool) -> Vec<Recipient> {
        self.watchers
            .iter()
            .filter(|&&no| {
                with_viewers
                    || self.agent(no).profile.role != crate::protocol::model::StaffRole::Viewer
            })
            .map(|&no| self.staff(no))
            .collect()
    }
}
