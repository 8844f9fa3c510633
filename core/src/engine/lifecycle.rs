//! Session transitions shared by every path: status changes, assignment, release, requeue
//! and the end of a session.

use super::Ctx;
use super::state::TenantState;
use crate::ids::SessionId;
use crate::protocol::event::{Event, UnassignReason, WithdrawReason};
use crate::protocol::model::{EndReason, SessionStatus};
use crate::protocol::output::Record;
use crate::timer::TimerKey;

/// Ended chats whose visitor is remembered for linking offline messages.
const ENDED_SESSIONS_REMEMBERED: usize = 10_000;

impl TenantState {
    /// Changes a session's status, tells its parties and watchers, and records it.
    pub(crate) fn set_session_status(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        status: SessionStatus,
    ) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        let previous = session.status;
        if previous == status {
            return;
        }
        session.status = status;
        let session = &self.sessions[&session_no];
        let agent = session.agent.map(|no| self.agent(no));
        let event = Event::SessionStatusChanged {
            session_id: SessionId(session_no),
            status,
            previous,
            agent_id: agent.map(|a| a.profile.id.clone()),
            agent_name: agent.map(|a| a.name.clone()),
            end_reason: session.end_reason,
        };
        let to = self.with_watchers(self.session_parties(session), true);
        self.deliver(cx, to, event);
        self.persist_session(cx, session_no);
    }

    /// Records the session's current state.
    pub(crate) fn persist_session(&self, cx: &mut Ctx<'_>, session_no: u64) {
        let view = self.session_view(&self.sessions[&session_no]);
        self.persist(cx, Record::Session { session: view });
    }

    /// Gives the session to the agent: it leaves the line, other offers are withdrawn, and
    /// the chat becomes active.
    pub(crate) fn assign(&mut self, cx: &mut Ctx<'_>, session_no: u64, agent: u32) {
        let tenant = self.no;
        let freed = self.clear_offer(cx, session_no, Some(agent), WithdrawReason::TakenByOther);
        self.leave_waiting(cx, session_no);
        self.drop_route_request(cx, session_no);
        for key in [
            TimerKey::MaxWait {
                tenant,
                session: session_no,
            },
            TimerKey::Offer {
                tenant,
                session: session_no,
            },
        ] {
            cx.timers.cancel(key);
        }
        self.take_on(cx, session_no, agent);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.max_wait_expired = false;
        session.last_visitor_activity = cx.now;
        session.inactivity_warned = false;
        self.set_session_status(cx, session_no, SessionStatus::Active);
        self.welcome_agent(cx, session_no, agent);
        self.drain_for_agents(&freed);
    }

    /// The agent takes the session on: their slot, the fairness count, the session's agent
    /// and reply clock, and the visitor's memory of them.
    pub(crate) fn take_on(&mut self, cx: &mut Ctx<'_>, session_no: u64, agent: u32) {
        self.clear_agent_side_typing(cx, session_no);
        self.agent_mut(agent).sessions.insert(session_no);
        self.record_assignment(cx, agent);
        self.reindex_agent(cx, agent);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.agent = Some(agent);
        session.assigned_at = Some(cx.now);
        session.first_assigned_at.get_or_insert(cx.now);
        if session.awaiting_reply_since.is_some() {
            session.awaiting_reply_since = Some(cx.now);
        }
        let visitor = session.visitor_id.clone();
        let limit = self.settings.limits.max_remembered_visitors;
        self.last_agent_of_visitor.remember(visitor, agent, limit);
    }

    /// Tells the agent they hold the session (with its details) and starts its clocks.
    pub(crate) fn welcome_agent(&mut self, cx: &mut Ctx<'_>, session_no: u64, agent: u32) {
        let view = self.session_view(&self.sessions[&session_no]);
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::SessionAssigned { session: view },
        );
        self.arm_chat_timers(cx, session_no);
        self.announce_agent(agent);
    }

    /// Frees the agent's slot for the session (with a wrap-up slot when asked). Returns the
    /// agent.
    pub(crate) fn release_agent(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        wrap_up: bool,
    ) -> Option<u32> {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        let agent = session.agent?;
        if !self.agent_mut(agent).sessions.remove(&session_no) {
            // Already released (a resolved chat closing later).
            return None;
        }
        if wrap_up {
            self.start_wrap_up(cx, agent);
        }
        self.reindex_agent(cx, agent);
        self.announce_agent(agent);
        Some(agent)
    }

    /// Takes the session from its agent and puts it back in line at its original arrival.
    pub(crate) fn requeue(&mut self, cx: &mut Ctx<'_>, session_no: u64, reason: UnassignReason) {
        if self.sessions[&session_no].transfer.is_some() {
            self.drop_transfer(cx, session_no);
        }
        let Some(agent) = self.release_agent(cx, session_no, false) else {
            return;
        };
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::SessionUnassigned {
                session_id: SessionId(session_no),
                reason,
            },
        );
        let tenant = self.no;
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.agent = None;
        if reason == UnassignReason::NoReply && !session.excluded.contains(&agent) {
            session.excluded.push(agent);
        }
        for key in [
            TimerKey::Inactivity {
                tenant,
                session: session_no,
            },
            TimerKey::NoReply {
                tenant,
                session: session_no,
            },
        ] {
            cx.timers.cancel(key);
        }
        self.system_message(
            cx,
            session_no,
            "Your agent is no longer available. We are connecting you to someone else.",
        );
        self.enqueue(cx, session_no);
        self.drain_for_agents(&[agent]);
    }

    /// Ends the session for good: everything it holds is released, its last state is
    /// recorded, and it leaves memory.
    pub(crate) fn end_session(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        status: SessionStatus,
        reason: EndReason,
    ) {
        if self.sessions[&session_no].transfer.is_some() {
            self.drop_transfer(cx, session_no);
        }
        // A session past its maximum wait has no offer left (see `on_max_wait`): an offer is
        // outstanding only when the visitor leaves or a supervisor closes the session.
        let withdraw_reason = if reason == EndReason::VisitorLeft {
            WithdrawReason::VisitorLeft
        } else {
            WithdrawReason::SessionClosed
        };
        let mut freed = self.clear_offer(cx, session_no, None, withdraw_reason);
        self.leave_waiting(cx, session_no);
        self.drop_route_request(cx, session_no);
        self.end_session_sla(cx, session_no);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.ended_at.get_or_insert(cx.now);
        session.end_reason.get_or_insert(reason);
        let was_with_agent = session.status.is_with_agent();
        if was_with_agent {
            self.record_handle_time(cx, session_no);
        }
        self.set_session_status(cx, session_no, status);
        if let Some(agent) = self.release_agent(cx, session_no, was_with_agent) {
            freed.push(agent);
        }
        self.cancel_session_timers(cx, session_no);
        if let Some(session) = self.sessions.remove(&session_no) {
            self.ended_sessions.insert(session_no, session.visitor_id);
            while self.ended_sessions.len() > ENDED_SESSIONS_REMEMBERED {
                self.ended_sessions.pop_first();
            }
        }
        self.drain_for_agents(&freed);
    }

    /// Adds the chat's handle time (first assignment to now) to its queue's history, once
    /// per chat however often it was transferred.
    pub(crate) fn record_handle_time(&mut self, cx: &Ctx<'_>, session_no: u64) {
        let session = &self.sessions[&session_no];
        if let (Some(since), Some(queue_no)) = (session.first_assigned_at, session.queue) {
            let ms = cx.now.ms_since(since);
            self.queue_mut(queue_no).record_handle_time(ms);
        }
    }

    pub(crate) fn cancel_session_timers(&self, cx: &mut Ctx<'_>, session_no: u64) {
        let tenant = self.no;
        let session = session_no;
        for key in [
            TimerKey::Offer { tenant, session },
            TimerKey::MaxWait { tenant, session },
            TimerKey::Inactivity { tenant, session },
            TimerKey::NoReply { tenant, session },
            TimerKey::Transfer { tenant, session },
            TimerKey::Typing {
                tenant,
                session,
                side: 0,
            },
            TimerKey::Typing {
                tenant,
                session,
                side: 1,
            },
            TimerKey::ResolvedClose { tenant, session },
            TimerKey::External { tenant, session },
            TimerKey::SessionSla { tenant, session },
        ] {
            cx.timers.cancel(key);
        }
    }
}
