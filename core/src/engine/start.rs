//! Starting a session (and a bot handing one to routing): checks, creation, first
//! messages, and the visitor's first place in line.

use std::sync::Arc;

use super::Ctx;
use super::routing::{StartRequest, validate_profile};
use super::state::{Offer, Session, TenantState};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{DepartmentId, SessionId, VisitorId};
use crate::protocol::event::{Event, OfflineReason};
use crate::protocol::model::{EndReason, SessionStatus};
use crate::protocol::reply::Reply;

impl TenantState {
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
        let preferred_agent = self.last_agent_of_visitor.get(&visitor_id);
        let session = Session {
            no: session_no,
            visitor_id,
            visitor_name: request.visitor.name.as_deref().map(Arc::from),
            profile: Arc::new(request.visitor),
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
            after_hours: route.for_closed_hours,
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
            sla: None,
            inactivity_warned: false,
            typing: [false; 2],
            told_position: None,
        };
        self.sessions.insert(session_no, session);
        self.start_session_sla(cx, session_no);
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
        self.clear_agent_side_typing(cx, session_id.0);
        let session = self.sessions.get_mut(&session_id.0).expect("checked above");
        session.bot = None;
        session.handoff_reason = Some(reason);
        if let Some(department) = department_id {
            session.department_id = Some(department);
        }
        let queue = self.queue(queue_no);
        let hours_of = self
            .queue_department(Some(queue_no))
            .or(self.sessions[&session_id.0].department_id.as_ref());
        let offline =
            if !self.is_open(cx.now, hours_of) && !self.sessions[&session_id.0].after_hours {
                Some(OfflineReason::OutsideBusinessHours)
            } else if queue.online_agents == 0 && !queue.config.queue_when_no_agents {
                Some(OfflineReason::NoAgentsOnline)
            } else if queue
                .config
                .max_length
                .is_some_and(|max| queue.waiting.len() as u32 >= max)
            {
                Some(OfflineReason::QueueFull)
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
