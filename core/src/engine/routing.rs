//! Starting sessions and routing them: rules, queues, offers and the answers to offers.

use super::Ctx;
use super::select::Pick;
use super::state::{Offer, Session, TenantState};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, EffectId, SessionId, VisitorId};
use crate::protocol::event::{Event, OfflineReason, WithdrawReason};
use crate::protocol::model::{EndReason, RoutingRule, SessionStatus, Strategy, VisitorProfile};
use crate::protocol::output::{Effect, Output};
use crate::protocol::reply::Reply;
use crate::time::Timestamp;
use crate::timer::TimerKey;

/// What a visitor asks for when starting a chat.
pub(crate) struct StartRequest {
    pub visitor: VisitorProfile,
    pub department_id: Option<DepartmentId>,
    pub issue_type: Option<String>,
    pub language: Option<String>,
    pub initial_message: Option<String>,
    pub client_message_id: Option<String>,
}

/// Where routing sends a new session and how.
pub(crate) struct Route {
    pub queue: Option<u32>,
    pub strategy: Strategy,
    pub priority: u8,
    pub required_skills: Vec<String>,
    pub max_wait_ms: Option<u64>,
    pub welcome_message: Option<String>,
    pub queue_message: Option<String>,
    pub bot: Option<crate::ids::BotId>,
    /// The matching rule asked for "outside business hours" explicitly.
    pub for_closed_hours: bool,
}

fn contains_ignore_case(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|item| item.eq_ignore_ascii_case(v)))
}

fn language_listed(list: &[String], language: Option<&str>) -> bool {
    language.is_some_and(|wanted| {
        list.iter().any(|listed| {
            wanted.eq_ignore_ascii_case(listed)
                || wanted
                    .get(..listed.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(listed))
                    && wanted.as_bytes().get(listed.len()) == Some(&b'-')
        })
    })
}

impl TenantState {
    fn rule_matches(&self, now: Timestamp, rule: &RoutingRule, request: &StartRequest) -> bool {
        let t = &rule.triggers;
        let profile = &request.visitor;
        if rule.enabled == Some(false) {
            return false;
        }
        if let Some(open) = t.business_hours
            && self.is_open(now) != open
        {
            return false;
        }
        if !t.visitor_location.is_empty()
            && !contains_ignore_case(&t.visitor_location, profile.country.as_deref())
        {
            return false;
        }
        if !t.page_url_contains.is_empty()
            && !profile
                .page_url
                .as_deref()
                .is_some_and(|url| t.page_url_contains.iter().any(|part| url.contains(part)))
        {
            return false;
        }
        if let Some(kind) = &t.visitor_type
            && profile.visitor_type.as_deref() != Some(kind.as_str())
        {
            return false;
        }
        if let Some(department) = &t.department
            && request.department_id.as_ref() != Some(department)
        {
            return false;
        }
        if !t.language.is_empty() && !language_listed(&t.language, request.language.as_deref()) {
            return false;
        }
        if !t.issue_type.is_empty()
            && !contains_ignore_case(&t.issue_type, request.issue_type.as_deref())
        {
            return false;
        }
        t.attributes.iter().all(|(key, wanted)| {
            profile.custom_fields.get(key) == Some(wanted)
                || profile.user_context.get(key) == Some(wanted)
        })
    }

    /// The queue of a department: the first queue (by id) that belongs to it.
    pub(crate) fn department_queue(&self, department: &DepartmentId) -> Option<u32> {
        self.queue_index
            .values()
            .copied()
            .find(|&q| self.queue(q).config.department_id.as_ref() == Some(department))
    }

    /// The tenant's default queue: the configured one, else the first by id.
    fn default_queue(&self) -> Option<u32> {
        self.settings
            .default_queue_id
            .as_ref()
            .and_then(|id| self.queue_no(id))
            .or_else(|| self.queue_index.values().next().copied())
    }

    /// Evaluates the rules in order; the first match decides, else the department's queue,
    /// else the default queue.
    pub(crate) fn route(&self, now: Timestamp, request: &StartRequest) -> Route {
        let rule = self
            .rules
            .iter()
            .find(|r| self.rule_matches(now, r, request));
        let actions = rule.map(|r| &r.actions);
        let queue = actions
            .and_then(|a| a.queue.as_ref())
            .and_then(|id| self.queue_no(id))
            .or_else(|| {
                request
                    .department_id
                    .as_ref()
                    .and_then(|d| self.department_queue(d))
            })
            .or_else(|| self.default_queue());
        let queue_config = queue.map(|q| &self.queue(q).config);
        let strategy = match actions {
            Some(a) if a.auto_assign == Some(false) => Strategy::Manual,
            Some(a) if a.assignment_type.is_some() => a.assignment_type.unwrap_or_default(),
            _ => queue_config.map_or_else(Strategy::default, |c| c.strategy),
        };
        let max_wait_ms = actions
            .and_then(|a| {
                a.max_wait_seconds
                    .map(|s| s.saturating_mul(1000))
                    .or(a.max_wait_time.map(|m| m.saturating_mul(60_000)))
            })
            .or_else(|| queue_config.and_then(|c| c.max_wait_ms));
        Route {
            queue,
            strategy,
            priority: actions.and_then(|a| a.priority).unwrap_or(0),
            required_skills: actions
                .map(|a| a.required_skills.clone())
                .unwrap_or_default(),
            max_wait_ms,
            welcome_message: actions.and_then(|a| a.welcome_message.clone()),
            queue_message: actions.and_then(|a| a.queue_message.clone()),
            bot: actions
                .and_then(|a| a.bot.clone())
                .filter(|_| self.settings.features.bots),
            for_closed_hours: rule.is_some_and(|r| r.triggers.business_hours == Some(false)),
        }
    }

    /// Why a new chat cannot start now, if it cannot.
    fn unavailable_reason(&self, now: Timestamp, route: &Route) -> Option<&'static str> {
        if route.bot.is_some() {
            return None;
        }
        if !route.for_closed_hours && !self.is_open(now) {
            return Some("outside_business_hours");
        }
        let queue = self.queue(route.queue?);
        if queue.online_agents == 0 && !queue.config.queue_when_no_agents {
            return Some("no_agents_online");
        }
        if queue
            .config
            .max_length
            .is_some_and(|max| queue.waiting.len() as u32 >= max)
        {
            return Some("queue_full");
        }
        None
    }

    fn validate_start(&self, cx: &Ctx<'_>, request: &StartRequest) -> Result<(), CommandError> {
        let limits = cx.limits;
        validate_profile(limits, &request.visitor)?;
        if let Some(department) = &request.department_id
            && !self.departments.contains_key(department)
        {
            return Err(CommandError::not_found(ObjectKind::Department, department));
        }
        limits.check_short("issue_type", request.issue_type.as_deref())?;
        if let Some(language) = &request.language {
            limits.check_id("language", language)?;
        }
        if let Some(text) = &request.initial_message {
            crate::limits::Limits::check_required(
                "initial_message",
                text,
                limits.max_message_bytes,
            )?;
        }
        if let Some(id) = &request.client_message_id {
            limits.check_id("client_message_id", id)?;
        }
        Ok(())
    }

    pub(crate) fn start_session(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        request: StartRequest,
    ) -> Result<Reply, CommandError> {
        actor.require(actor.role == Role::Visitor, "only visitors start sessions")?;
        if !self.settings.features.chat {
            return Err(CommandError::FeatureDisabled { feature: "chat" });
        }
        self.validate_start(cx, &request)?;
        let max_open = self.settings.limits.max_open_sessions;
        if self.sessions.len() as u32 >= max_open {
            return Err(CommandError::LimitReached {
                limit: "max_open_sessions",
                max: u64::from(max_open),
            });
        }
        let route = self.route(cx.now, &request);
        if route.queue.is_none() && route.bot.is_none() {
            return Err(CommandError::not_found(ObjectKind::Queue, "default"));
        }
        if let Some(reason) = self.unavailable_reason(cx.now, &route) {
            return Err(CommandError::Unavailable { reason });
        }

        self.counters.session += 1;
        self.counters.arrival += 1;
        let session_no = self.counters.session;
        let visitor_id = VisitorId(actor.id.clone());
        let preferred_agent = self.last_agent_of_visitor.get(&visitor_id).copied();
        let session = Session {
            no: session_no,
            visitor_id,
            profile: Box::new(request.visitor),
            status: SessionStatus::Pending,
            queue: route.queue,
            department_id: request.department_id,
            issue_type: request.issue_type,
            language: request.language,
            priority: route.priority,
            required_skills: route.required_skills.into_boxed_slice(),
            strategy: route.strategy,
            max_wait_ms: route.max_wait_ms,
            queue_message: route.queue_message,
            agent: None,
            // Attached before the first message so the bot receives it.
            bot: route.bot.clone(),
            handoff_reason: None,
            preferred_agent,
            created_at: cx.now,
            queued_at: None,
            assigned_at: None,
            first_assigned_at: None,
            first_response_at: None,
            last_message_at: None,
            last_visitor_activity: cx.now,
            ended_at: None,
            end_reason: None,
            awaiting_reply_since: None,
            arrival: self.counters.arrival,
            waiting: false,
            offer: Offer::default(),
            route_request: None,
            excluded: Vec::new(),
            max_wait_expired: false,
            overflows: 0,
            transfer: None,
            transfer_count: 0,
            seq: 0,
            unread_for_agent: Default::default(),
            unread_for_visitor: Default::default(),
            seen_client_ids: Default::default(),
            tags: Vec::new(),
            csat: None,
            inactivity_warned: false,
            typing: [false; 2],
            told_position: None,
        };
        self.sessions.insert(session_no, session);
        let to = vec![self.visitor_recipient(&self.sessions[&session_no])];
        self.deliver(
            cx,
            to,
            Event::SessionStarted {
                session_id: SessionId(session_no),
                status: SessionStatus::Pending,
                queue_id: route.queue.map(|q| self.queue_id(q)),
            },
        );
        self.persist_session(cx, session_no);
        if let Some(welcome) = route.welcome_message {
            self.system_message(cx, session_no, &welcome);
        }
        if let Some(text) = request.initial_message {
            self.append_visitor_message(cx, session_no, text, request.client_message_id);
        }
        if route.bot.is_some() {
            self.set_session_status(cx, session_no, SessionStatus::Bot);
        } else {
            self.route_to_queue(cx, session_no);
        }
        let session = &self.sessions[&session_no];
        Ok(Reply::SessionStarted {
            session_id: SessionId(session_no),
            status: session.status,
            queue_id: session.queue.map(|q| self.queue_id(q)),
        })
    }

    /// Enqueues the session, then tells a visitor who has to wait where they stand.
    fn route_to_queue(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        self.enqueue(cx, session_no);
        // Dispatch now: whether the visitor waits decides what they are told next.
        self.flush_dispatch(cx);
        let Some(session) = self.sessions.get(&session_no) else {
            return;
        };
        if session.status != SessionStatus::Queued {
            return;
        }
        let queue_no = session.queue.expect("queued sessions have a queue");
        let queue_message = session.queue_message.clone();
        let position = self.newest_arrival_position(queue_no, session.priority);
        let estimate = self.queue(queue_no).estimated_wait(position);
        let visitor = self.visitor_recipient(session);
        self.sessions
            .get_mut(&session_no)
            .expect("live session")
            .told_position = Some((position, estimate));
        self.deliver(
            cx,
            vec![visitor],
            Event::QueuePosition {
                session_id: SessionId(session_no),
                position,
                estimated_wait_ms: estimate,
            },
        );
        if let Some(text) = queue_message {
            self.system_message(cx, session_no, &text);
        }
    }

    /// The session and the acting agent, for commands on offers and the queue.
    fn acting_agent(&self, actor: &Actor) -> Result<u32, CommandError> {
        actor.require(actor.role.can_handle_chats(), "only agents take chats")?;
        self.agent_no(&actor.id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, &*actor.id))
    }

    fn live_session(&self, session_id: SessionId) -> Result<&Session, CommandError> {
        self.sessions
            .get(&session_id.0)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Session, session_id))
    }

    pub(crate) fn accept_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let agent = self.acting_agent(actor)?;
        let session = self.live_session(session_id)?;
        if !session.offer.agents.contains(&agent) {
            return Err(CommandError::not_found(ObjectKind::Offer, session_id));
        }
        self.assign(cx, session_id.0, agent);
        Ok(Reply::Ok)
    }

    pub(crate) fn decline_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let agent = self.acting_agent(actor)?;
        let session = self.live_session(session_id)?;
        if !session.offer.agents.contains(&agent) {
            return Err(CommandError::not_found(ObjectKind::Offer, session_id));
        }
        self.withdraw_offer_from(cx, session_id.0, agent, WithdrawReason::Declined, true);
        Ok(Reply::Ok)
    }

    /// Checks that `agent` may be given a waiting session from its queue now.
    fn check_can_take(&self, agent: u32, session: &Session) -> Result<(), CommandError> {
        let agent_state = self.agent(agent);
        let queue = session.queue.expect("waiting sessions have a queue");
        if !self.queue(queue).members.contains(&agent) {
            return Err(CommandError::Forbidden {
                reason: "the agent does not serve this session's queue",
            });
        }
        let offered_here = session.offer.agents.contains(&agent);
        let load = agent_state.load() - u32::from(offered_here);
        if !agent_state.is_available()
            || load >= u32::from(agent_state.profile.max_concurrent_chats)
        {
            return Err(CommandError::AgentAtCapacity {
                agent_id: agent_state.profile.id.to_string(),
            });
        }
        Ok(())
    }

    pub(crate) fn pick_session(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let agent = self.acting_agent(actor)?;
        let session = self.live_session(session_id)?;
        if !matches!(
            session.status,
            SessionStatus::Queued | SessionStatus::Offered
        ) {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Session,
                state: session.status.as_str(),
                action: "pick",
            });
        }
        self.check_can_take(agent, session)?;
        self.assign(cx, session_id.0, agent);
        Ok(Reply::Ok)
    }

    pub(crate) fn assign_session_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        agent_id: &AgentId,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.can_supervise(),
            "only supervisors assign sessions",
        )?;
        let session = self.live_session(session_id)?;
        let agent = self
            .agent_no(agent_id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, agent_id))?;
        match session.status {
            SessionStatus::Queued | SessionStatus::Offered => {
                self.check_can_take(agent, session)?;
                self.assign(cx, session_id.0, agent);
            }
            SessionStatus::Active => {
                if session.agent == Some(agent) {
                    return Ok(Reply::Ok);
                }
                let target = self.agent(agent);
                if !target.has_free_slot() {
                    return Err(CommandError::AgentAtCapacity {
                        agent_id: agent_id.to_string(),
                    });
                }
                self.reassign(cx, session_id.0, agent);
            }
            status => {
                return Err(CommandError::IllegalTransition {
                    kind: ObjectKind::Session,
                    state: status.as_str(),
                    action: "assign",
                });
            }
        }
        Ok(Reply::Ok)
    }

    /// Moves an active session from its agent to another (supervisor reassignment).
    fn reassign(&mut self, cx: &mut Ctx<'_>, session_no: u64, agent: u32) {
        let previous = self
            .release_agent(cx, session_no, true)
            .expect("active sessions have an agent");
        self.deliver(
            cx,
            vec![self.staff(previous)],
            Event::SessionUnassigned {
                session_id: SessionId(session_no),
                reason: crate::protocol::event::UnassignReason::Reassigned,
            },
        );
        self.hand_over(cx, session_no, agent);
        self.drain_for_agents(&[previous]);
    }

    /// Gives an active session (already released by its previous agent) to `agent`, and
    /// tells the visitor in a system message.
    pub(crate) fn hand_over(&mut self, cx: &mut Ctx<'_>, session_no: u64, agent: u32) {
        self.agent_mut(agent).sessions.insert(session_no);
        self.record_assignment(cx, agent);
        self.reindex_agent(cx, agent);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.agent = Some(agent);
        session.assigned_at = Some(cx.now);
        if session.awaiting_reply_since.is_some() {
            session.awaiting_reply_since = Some(cx.now);
        }
        let visitor = session.visitor_id.clone();
        self.last_agent_of_visitor.insert(visitor, agent);
        let name = self.agent(agent).name.clone();
        self.system_message(
            cx,
            session_no,
            &format!("You have been transferred to {name}."),
        );
        if self.sessions[&session_no].status == SessionStatus::Active {
            // A reassignment keeps the status, so nothing else records the new agent.
            self.persist_session(cx, session_no);
        }
        self.set_session_status(cx, session_no, SessionStatus::Active);
        let view = self.session_view(&self.sessions[&session_no]);
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::SessionAssigned { session: view },
        );
        self.arm_chat_timers(cx, session_no);
        self.announce_agent(cx, agent);
    }

    /// Asks the host's router for a decision on a waiting session.
    pub(crate) fn request_route(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = &self.sessions[&session_no];
        let queue_no = session.queue.expect("waiting sessions have a queue");
        let queue = self.queue(queue_no);
        let candidates: Vec<AgentId> = queue
            .pool
            .by_load
            .iter()
            .filter(|&&(_, _, agent)| self.may_offer(cx.now, agent, session))
            .take(50)
            .map(|&(_, _, agent)| self.agent(agent).profile.id.clone())
            .collect();
        if candidates.is_empty() {
            return;
        }
        let deadline = cx.now.plus_ms(queue.config.external_timeout_ms);
        let queue_id = queue.config.id.clone();
        self.counters.effect += 1;
        let effect = self.counters.effect;
        self.route_requests.insert(effect, session_no);
        self.sessions
            .get_mut(&session_no)
            .expect("live session")
            .route_request = Some(effect);
        cx.out.push_back(Output::Effect {
            tenant_id: self.id.clone(),
            effect_id: EffectId(effect),
            effect: Effect::RouteRequest {
                session_id: SessionId(session_no),
                queue_id,
                candidates,
                deadline,
            },
        });
        cx.timers.set(
            TimerKey::External {
                tenant: self.no,
                session: session_no,
            },
            deadline,
        );
    }

    pub(crate) fn drop_route_request(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        if let Some(effect) = session.route_request.take() {
            self.route_requests.remove(&effect);
            cx.timers.cancel(TimerKey::External {
                tenant: self.no,
                session: session_no,
            });
        }
    }

    /// Routing falls back to the queue's fallback strategy for this session from now on.
    fn fall_back(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        self.drop_route_request(cx, session_no);
        let session = &self.sessions[&session_no];
        let queue_no = session.queue.expect("waiting sessions have a queue");
        let mut fallback = self.queue(queue_no).config.fallback_strategy;
        if fallback == Strategy::External {
            fallback = Strategy::LeastActive;
        }
        self.sessions
            .get_mut(&session_no)
            .expect("live session")
            .strategy = fallback;
        self.dispatch_queue(queue_no);
    }

    pub(crate) fn route_decision(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        effect_id: EffectId,
        agent_id: Option<&AgentId>,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role == Role::System,
            "only the host answers routing requests",
        )?;
        let &session_no = self
            .route_requests
            .get(&effect_id.0)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Effect, effect_id))?;
        let chosen = match agent_id {
            Some(id) => Some(
                self.agent_no(id)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, id))?,
            ),
            None => None,
        };
        let session = &self.sessions[&session_no];
        let queue_no = session.queue.expect("waiting sessions have a queue");
        let usable = chosen.filter(|&agent| {
            self.queue(queue_no).members.contains(&agent)
                && self.agent(agent).has_free_slot()
                && self.may_offer(cx.now, agent, session)
        });
        match usable {
            Some(agent) => {
                self.drop_route_request(cx, session_no);
                self.make_offer(
                    cx,
                    session_no,
                    Pick {
                        agents: vec![agent],
                        broadcast: false,
                    },
                );
            }
            None => self.fall_back(cx, session_no),
        }
        Ok(Reply::Ok)
    }

    pub(crate) fn on_external_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        if self
            .sessions
            .get(&session_no)
            .is_some_and(|s| s.route_request.is_some())
        {
            self.fall_back(cx, session_no);
        }
    }

    pub(crate) fn hand_off(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        reason: String,
        department_id: Option<DepartmentId>,
    ) -> Result<Reply, CommandError> {
        actor.require(actor.role == Role::Bot, "only bots hand sessions off")?;
        let session = self
            .sessions
            .get(&session_id.0)
            .filter(|s| s.bot.as_ref().is_some_and(|b| *b.0 == *actor.id))
            .ok_or_else(|| CommandError::not_found(ObjectKind::Session, session_id))?;
        if session.status != SessionStatus::Bot {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Session,
                state: session.status.as_str(),
                action: "hand off",
            });
        }
        crate::limits::Limits::check_required("reason", &reason, cx.limits.max_long_text_bytes)?;
        let target = match &department_id {
            Some(department) => Some(
                self.department_queue(department)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Department, department))?,
            ),
            None => session.queue.or_else(|| self.default_queue()),
        };
        let Some(queue_no) = target else {
            return Err(CommandError::not_found(ObjectKind::Queue, "default"));
        };
        let config = &self.queue(queue_no).config;
        let (strategy, max_wait) = (config.strategy, config.max_wait_ms);
        let session = self.sessions.get_mut(&session_id.0).expect("checked above");
        if session.queue != Some(queue_no) {
            session.queue = Some(queue_no);
            session.strategy = strategy;
            session.max_wait_ms = max_wait;
        }
        session.bot = None;
        session.handoff_reason = Some(reason);
        if let Some(department) = department_id {
            session.department_id = Some(department);
        }
        let offline = if !self.is_open(cx.now) {
            Some(OfflineReason::OutsideBusinessHours)
        } else if self.queue(queue_no).online_agents == 0
            && !self.queue(queue_no).config.queue_when_no_agents
        {
            Some(OfflineReason::NoAgentsOnline)
        } else {
            None
        };
        if let Some(reason) = offline {
            let visitor = self.visitor_recipient(&self.sessions[&session_id.0]);
            self.deliver(
                cx,
                vec![visitor],
                Event::LeaveAMessage {
                    session_id: Some(session_id),
                    reason,
                },
            );
            self.end_session(
                cx,
                session_id.0,
                SessionStatus::Missed,
                EndReason::Unavailable,
            );
            return Ok(Reply::Ok);
        }
        self.route_to_queue(cx, session_id.0);
        Ok(Reply::Ok)
    }
}

/// Checks every field of a visitor profile against the limits.
pub(crate) fn validate_profile(
    limits: &crate::limits::Limits,
    profile: &VisitorProfile,
) -> Result<(), CommandError> {
    limits.check_short("visitor.name", profile.name.as_deref())?;
    limits.check_short("visitor.email", profile.email.as_deref())?;
    limits.check_short("visitor.account", profile.account.as_deref())?;
    limits.check_url("visitor.page_url", profile.page_url.as_deref())?;
    limits.check_short("visitor.tenant_domain", profile.tenant_domain.as_deref())?;
    limits.check_short("visitor.country", profile.country.as_deref())?;
    limits.check_short("visitor.visitor_type", profile.visitor_type.as_deref())?;
    limits.check_fields("visitor.custom_fields", &profile.custom_fields)?;
    limits.check_fields("visitor.user_context", &profile.user_context)?;
    Ok(())
}
