//! The waiting line: entering and leaving it, dispatch in queue order, maximum wait and
//! overflow, and coalesced position updates.

use std::ops::Bound::{Excluded, Unbounded};

use super::Ctx;
use super::state::TenantState;
use crate::ids::SessionId;
use crate::protocol::event::{Event, OfflineReason};
use crate::protocol::model::{EndReason, SessionStatus, Strategy};
use crate::timer::TimerKey;

impl TenantState {
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
