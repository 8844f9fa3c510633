//! Session transitions shared by every path: the waiting line, offers, assignment, release,
//! requeue and the end of a session.

use std::ops::Bound::{Excluded, Unbounded};

use super::Ctx;
use super::select::Pick;
use super::state::{Offer, TenantState};
use crate::ids::SessionId;
use crate::protocol::event::{Event, OfflineReason, UnassignReason, WithdrawReason};
use crate::protocol::model::{EndReason, SessionStatus, Strategy};
use crate::protocol::output::{Effect, Output, PushKind, Record};
use crate::timer::TimerKey;

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

    pub(crate) fn mark_positions_dirty(&mut self, cx: &mut Ctx<'_>, queue_no: u32) {
        let interval = self.settings.timing.position_update_interval_ms;
        let tenant = self.no;
        let queue = self.queue_mut(queue_no);
        if !queue.positions_dirty {
            queue.positions_dirty = true;
            cx.timers.set_if_earlier(
                TimerKey::QueueFlush {
                    tenant,
                    queue: queue_no,
                },
                cx.now.plus_ms(interval),
            );
        }
    }

    /// Puts the session in its queue's waiting line, at its arrival position.
    pub(crate) fn enter_waiting(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        if session.waiting {
            return;
        }
        let queue_no = session.queue.expect("a waiting session has a queue");
        session.waiting = true;
        let (priority, arrival) = (session.priority, session.arrival);
        let queue = self.queue_mut(queue_no);
        queue
            .waiting
            .insert((u8::MAX - priority, arrival), session_no);
        queue.waiting_per_priority[usize::from(priority)] += 1;
        self.mark_positions_dirty(cx, queue_no);
    }

    /// Takes the session out of its queue's waiting line.
    pub(crate) fn leave_waiting(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        if !session.waiting {
            return;
        }
        session.waiting = false;
        let queue_no = session.queue.expect("a waiting session has a queue");
        let (priority, arrival) = (session.priority, session.arrival);
        let queue = self.queue_mut(queue_no);
        queue.waiting.remove(&(u8::MAX - priority, arrival));
        queue.waiting_per_priority[usize::from(priority)] -= 1;
        self.mark_positions_dirty(cx, queue_no);
    }

    /// Position of the newest arrival of its priority: everyone of higher priority, plus
    /// everyone of its own priority (itself included).
    pub(crate) fn newest_arrival_position(&self, queue_no: u32, priority: u8) -> u32 {
        self.queue(queue_no).waiting_per_priority[usize::from(priority)..]
            .iter()
            .sum()
    }

    /// Sends the session to its queue: queued, in line, max-wait armed, then dispatched.
    pub(crate) fn enqueue(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let tenant = self.no;
        let session = self.sessions.get_mut(&session_no).expect("live session");
        let queue_no = session.queue.expect("routing chose a queue");
        session.queued_at.get_or_insert(cx.now);
        if let Some(max_wait) = session.max_wait_ms {
            cx.timers.set(
                TimerKey::MaxWait {
                    tenant,
                    session: session_no,
                },
                cx.now.plus_ms(max_wait),
            );
        }
        self.set_session_status(cx, session_no, SessionStatus::Queued);
        self.enter_waiting(cx, session_no);
        self.dispatch_queue(queue_no);
    }

    /// Marks the queue for dispatch at the end of the step (see `flush_dispatch`).
    pub(crate) fn dispatch_queue(&mut self, queue_no: u32) {
        self.dispatch_pending.insert(queue_no);
    }

    /// Offers waiting sessions in queue order while the queue has free agents. A session
    /// nobody may take (all declined it, say) is passed over, not allowed to block the line.
    pub(crate) fn dispatch_now(&mut self, cx: &mut Ctx<'_>, queue_no: u32) {
        let mut cursor: Option<(u8, u64)> = None;
        loop {
            let queue = self.queue(queue_no);
            if queue.pool.is_empty() {
                return;
            }
            let next = match cursor {
                None => queue.waiting.iter().next(),
                Some(key) => queue.waiting.range((Excluded(key), Unbounded)).next(),
            };
            let Some((&key, &session_no)) = next else {
                return;
            };
            cursor = Some(key);
            let session = &self.sessions[&session_no];
            match session.strategy {
                Strategy::Manual => {}
                Strategy::External => {
                    if session.route_request.is_none() {
                        self.request_route(cx, session_no);
                    }
                }
                strategy => {
                    if let Some(pick) = self.pick_agents(cx.now, queue_no, session_no, strategy) {
                        self.make_offer(cx, session_no, pick);
                    }
                }
            }
        }
    }

    /// Offers the session (or, for an auto-accepting agent, assigns it at once).
    pub(crate) fn make_offer(&mut self, cx: &mut Ctx<'_>, session_no: u64, pick: Pick) {
        let session = &self.sessions[&session_no];
        let queue_no = session.queue.expect("offered sessions have a queue");
        if session.strategy == Strategy::RoundRobin
            && let Some(&agent) = pick.agents.first()
        {
            let order = self.agent(agent).profile.routing_order;
            self.queue_mut(queue_no).round_robin_cursor = Some((order, agent));
        }
        if !pick.broadcast && self.agent(pick.agents[0]).profile.auto_accept {
            self.assign(cx, session_no, pick.agents[0]);
            return;
        }
        self.leave_waiting(cx, session_no);
        let expires_at = cx.now.plus_ms(self.queue(queue_no).config.offer_timeout_ms);
        self.queue_mut(queue_no).offered += 1;
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.offer = Offer {
            agents: pick.agents.clone(),
            expires_at,
            broadcast: pick.broadcast,
        };
        for &agent in &pick.agents {
            self.agent_mut(agent).offers.insert(session_no);
            self.reindex_agent(cx, agent);
        }
        self.set_session_status(cx, session_no, SessionStatus::Offered);
        let offer = self.offer_view(
            &self.sessions[&session_no],
            None,
            expires_at,
            pick.broadcast,
        );
        let title = format!(
            "New chat from {}",
            offer.visitor_name.as_deref().unwrap_or("a visitor")
        );
        for &agent in &pick.agents {
            self.deliver(
                cx,
                vec![self.staff(agent)],
                Event::Offered {
                    offer: offer.clone(),
                },
            );
            self.push(
                cx,
                agent,
                PushKind::NewSession,
                session_no,
                &title,
                "Tap to answer",
            );
        }
        cx.timers.set(
            TimerKey::Offer {
                tenant: self.no,
                session: session_no,
            },
            expires_at,
        );
    }

    /// Asks the host to push a notification to an agent's devices.
    pub(crate) fn push(
        &mut self,
        cx: &mut Ctx<'_>,
        agent: u32,
        kind: PushKind,
        session_no: u64,
        title: &str,
        body: &str,
    ) {
        self.counters.effect += 1;
        cx.out.push_back(Output::Effect {
            tenant_id: self.id.clone(),
            effect_id: crate::ids::EffectId(self.counters.effect),
            effect: Effect::PushNotification {
                agent_id: self.agent(agent).profile.id.clone(),
                kind,
                session_id: SessionId(session_no),
                title: title.to_owned(),
                body: body.to_owned(),
            },
        });
    }

    /// Removes one agent from a session's outstanding offer. When nobody is left the session
    /// goes back into line (or overflows, if its maximum wait passed meanwhile).
    pub(crate) fn withdraw_offer_from(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        agent: u32,
        reason: WithdrawReason,
        exclude: bool,
    ) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.offer.agents.retain(|&a| a != agent);
        if exclude && !session.excluded.contains(&agent) {
            session.excluded.push(agent);
        }
        let nobody_left = session.offer.agents.is_empty();
        self.agent_mut(agent).offers.remove(&session_no);
        self.reindex_agent(cx, agent);
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::OfferWithdrawn {
                session_id: SessionId(session_no),
                reason,
            },
        );
        if nobody_left {
            self.offer_ended(cx, session_no);
        }
        self.drain_for_agents(&[agent]);
    }

    /// The session's offer is over with nobody accepting: back into line and dispatched, or
    /// on to overflow or the offline flow when its maximum wait has passed.
    pub(crate) fn offer_ended(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let tenant = self.no;
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.offer = Offer::default();
        let queue_no = session.queue.expect("offered sessions have a queue");
        let expired = session.max_wait_expired;
        self.queue_mut(queue_no).offered -= 1;
        cx.timers.cancel(TimerKey::Offer {
            tenant,
            session: session_no,
        });
        if expired {
            self.overflow_or_miss(cx, session_no);
            return;
        }
        self.set_session_status(cx, session_no, SessionStatus::Queued);
        self.enter_waiting(cx, session_no);
        self.dispatch_queue(queue_no);
    }

    /// Takes the offer back from everyone (the session was assigned or ended). The agents
    /// freed are returned so the caller can drain for them once the session is settled.
    pub(crate) fn clear_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        keep: Option<u32>,
        reason: WithdrawReason,
    ) -> Vec<u32> {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        if session.offer.agents.is_empty() {
            return Vec::new();
        }
        let offer = std::mem::take(&mut session.offer);
        let queue_no = session.queue.expect("offered sessions have a queue");
        self.queue_mut(queue_no).offered -= 1;
        cx.timers.cancel(TimerKey::Offer {
            tenant: self.no,
            session: session_no,
        });
        let mut freed = Vec::new();
        for agent in offer.agents {
            self.agent_mut(agent).offers.remove(&session_no);
            self.reindex_agent(cx, agent);
            if Some(agent) != keep {
                self.deliver(
                    cx,
                    vec![self.staff(agent)],
                    Event::OfferWithdrawn {
                        session_id: SessionId(session_no),
                        reason,
                    },
                );
                freed.push(agent);
            }
        }
        freed
    }

    pub(crate) fn on_offer_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let Some(session) = self.sessions.get_mut(&session_no) else {
            return;
        };
        if session.offer.agents.is_empty() || session.offer.expires_at > cx.now {
            return;
        }
        let agents = session.offer.agents.clone();
        for &agent in &agents {
            if !session.excluded.contains(&agent) {
                session.excluded.push(agent);
            }
        }
        session.offer.agents.clear();
        for &agent in &agents {
            self.agent_mut(agent).offers.remove(&session_no);
            self.reindex_agent(cx, agent);
            self.deliver(
                cx,
                vec![self.staff(agent)],
                Event::OfferWithdrawn {
                    session_id: SessionId(session_no),
                    reason: WithdrawReason::Timeout,
                },
            );
        }
        if self.settings.timing.away_on_missed_offer {
            for &agent in &agents {
                if self.agent(agent).status == crate::protocol::model::AgentStatus::Online {
                    self.deliver(
                        cx,
                        vec![self.staff(agent)],
                        Event::AgentStatusForced {
                            status: crate::protocol::model::AgentStatus::Away,
                            reason: crate::protocol::event::ForcedStatusReason::MissedOffer,
                        },
                    );
                    self.set_agent_status(cx, agent, crate::protocol::model::AgentStatus::Away);
                }
            }
        }
        self.offer_ended(cx, session_no);
        self.drain_for_agents(&agents);
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
        self.agent_mut(agent).sessions.insert(session_no);
        self.record_assignment(cx, agent);
        self.reindex_agent(cx, agent);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.agent = Some(agent);
        session.assigned_at = Some(cx.now);
        session.first_assigned_at.get_or_insert(cx.now);
        session.max_wait_expired = false;
        if session.awaiting_reply_since.is_some() {
            session.awaiting_reply_since = Some(cx.now);
        }
        session.last_visitor_activity = cx.now;
        session.inactivity_warned = false;
        let visitor = session.visitor_id.clone();
        self.last_agent_of_visitor.insert(visitor, agent);
        self.set_session_status(cx, session_no, SessionStatus::Active);
        let view = self.session_view(&self.sessions[&session_no]);
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::SessionAssigned { session: view },
        );
        self.arm_chat_timers(cx, session_no);
        self.announce_agent(cx, agent);
        self.drain_for_agents(&freed);
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
        self.announce_agent(cx, agent);
        Some(agent)
    }

    /// Takes the session from its agent and puts it back in line at its original arrival.
    pub(crate) fn requeue(&mut self, cx: &mut Ctx<'_>, session_no: u64, reason: UnassignReason) {
        if self.sessions[&session_no].transfer.is_some() {
            self.finish_transfer(
                cx,
                session_no,
                crate::protocol::model::TransferOutcome::Cancelled,
                None,
            );
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
            self.finish_transfer(
                cx,
                session_no,
                crate::protocol::model::TransferOutcome::Cancelled,
                None,
            );
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
        self.sessions.remove(&session_no);
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
        ] {
            cx.timers.cancel(key);
        }
    }

    pub(crate) fn on_max_wait(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let Some(session) = self.sessions.get_mut(&session_no) else {
            return;
        };
        match session.status {
            SessionStatus::Offered => session.max_wait_expired = true,
            SessionStatus::Queued | SessionStatus::Pending => {
                self.overflow_or_miss(cx, session_no);
            }
            _ => {}
        }
    }

    /// Past its maximum wait: on to the overflow queue (at most three hops), or ended as
    /// missed with the visitor invited to leave a message.
    pub(crate) fn overflow_or_miss(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = &self.sessions[&session_no];
        let queue_no = session.queue.expect("waiting sessions have a queue");
        let overflow = self
            .queue(queue_no)
            .config
            .overflow_queue_id
            .as_ref()
            .and_then(|id| self.queue_no(id))
            .filter(|&q| q != queue_no && session.overflows < 3);
        if let Some(target) = overflow {
            self.leave_waiting(cx, session_no);
            self.drop_route_request(cx, session_no);
            let config = &self.queue(target).config;
            let (strategy, max_wait) = (config.strategy, config.max_wait_ms);
            let session = self.sessions.get_mut(&session_no).expect("live session");
            session.queue = Some(target);
            session.overflows += 1;
            session.max_wait_expired = false;
            session.strategy = strategy;
            session.max_wait_ms = max_wait;
            // The visitor hears their place in the new line at the next position update.
            session.told_position = None;
            if let Some(max_wait) = max_wait {
                cx.timers.set(
                    TimerKey::MaxWait {
                        tenant: self.no,
                        session: session_no,
                    },
                    cx.now.plus_ms(max_wait),
                );
            }
            self.set_session_status(cx, session_no, SessionStatus::Queued);
            self.persist_session(cx, session_no);
            self.enter_waiting(cx, session_no);
            self.dispatch_queue(target);
            return;
        }
        let visitor = self.visitor_recipient(&self.sessions[&session_no]);
        self.deliver(
            cx,
            vec![visitor],
            Event::LeaveAMessage {
                session_id: Some(SessionId(session_no)),
                reason: OfflineReason::MaxWait,
            },
        );
        self.end_session(cx, session_no, SessionStatus::Missed, EndReason::MaxWait);
    }

    /// Sends coalesced queue positions to every waiting visitor whose position or estimate
    /// changed, and the queue's status to its online agents and watchers.
    pub(crate) fn flush_positions(&mut self, cx: &mut Ctx<'_>, queue_no: u32) {
        let Some(Some(queue)) = self.queues.get_mut(queue_no as usize) else {
            return;
        };
        if !queue.positions_dirty {
            return;
        }
        queue.positions_dirty = false;
        let queue = self.queue(queue_no);
        let mut updates = Vec::new();
        for (index, &session_no) in queue.waiting.values().enumerate() {
            let position = index as u32 + 1;
            let estimate = queue.estimated_wait(position);
            let session = &self.sessions[&session_no];
            if session.told_position != Some((position, estimate)) {
                updates.push((session_no, position, estimate));
            }
        }
        for (session_no, position, estimate) in updates {
            let session = self.sessions.get_mut(&session_no).expect("live session");
            session.told_position = Some((position, estimate));
            let visitor = self.visitor_recipient(&self.sessions[&session_no]);
            self.deliver(
                cx,
                vec![visitor],
                Event::QueuePosition {
                    session_id: SessionId(session_no),
                    position,
                    estimated_wait_ms: estimate,
                },
            );
        }
        let status = self.queue_status_view(cx.now, queue_no);
        let queue = self.queue(queue_no);
        let members: Vec<_> = queue
            .members
            .iter()
            .filter(|&&no| self.agent(no).status != crate::protocol::model::AgentStatus::Offline)
            .map(|&no| self.staff(no))
            .collect();
        let to = self.with_watchers(members, true);
        self.deliver(cx, to, Event::QueueUpdated { status });
    }
}
