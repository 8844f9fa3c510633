//! Agent presence and capacity: status, connection grace, wrap-up, the fairness window, and
//! keeping every queue's pool of free agents in step with them.

use super::Ctx;
use super::pool::PoolKey;
use super::state::TenantState;
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::AgentId;
use crate::protocol::event::{Event, ForcedStatusReason, UnassignReason, WithdrawReason};
use crate::protocol::model::{AgentStatus, StaffRole};
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

impl TenantState {
    /// Puts the agent into (or takes it out of) its queues' pools and online capacity so
    /// that both match its status and load.
    pub(crate) fn reindex_agent(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let agent = self.agent(no);
        let wanted = agent.has_free_slot().then(|| PoolKey {
            load: agent.load(),
            last_assigned: agent.last_assigned,
            order: agent.profile.routing_order,
            weight: agent.profile.routing_weight,
            profile: agent.skill_profile,
        });
        let counted = agent.is_available();
        let was_counted = agent.counted_online;
        let capacity = u32::from(agent.profile.max_concurrent_chats);
        let previous = agent.pooled;
        if wanted == previous && counted == was_counted {
            return;
        }
        let queues = agent.queues.clone();
        for queue_no in queues {
            if counted != was_counted {
                self.mark_positions_dirty(cx, queue_no);
            }
            let queue = self.queue_mut(queue_no);
            match (previous, wanted) {
                (Some(old), Some(new)) => queue.pool.update(no, old, new),
                (Some(old), None) => queue.pool.remove(no, old),
                (None, Some(new)) => queue.pool.insert(no, new),
                (None, None) => {}
            }
            if counted != was_counted {
                if counted {
                    queue.online_agents += 1;
                    queue.online_capacity += capacity;
                } else {
                    queue.online_agents -= 1;
                    queue.online_capacity -= capacity;
                }
            }
        }
        let agent = self.agent_mut(no);
        agent.pooled = wanted;
        agent.counted_online = counted;
    }

    /// Takes the agent out of every pool and capacity count (before its queues or capacity
    /// change); `reindex_agent` puts it back.
    pub(crate) fn unpool_agent(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let agent = self.agent(no);
        let (previous, was_counted) = (agent.pooled, agent.counted_online);
        let capacity = u32::from(agent.profile.max_concurrent_chats);
        for queue_no in agent.queues.clone() {
            if was_counted {
                self.mark_positions_dirty(cx, queue_no);
            }
            let queue = self.queue_mut(queue_no);
            if let Some(key) = previous {
                queue.pool.remove(no, key);
            }
            if was_counted {
                queue.online_agents -= 1;
                queue.online_capacity -= capacity;
            }
        }
        let agent = self.agent_mut(no);
        agent.pooled = None;
        agent.counted_online = false;
    }

    /// Offers waiting sessions to the agents who just got free capacity: the queues they
    /// serve are drained oldest head first (priority, then arrival).
    pub(crate) fn drain_for_agents(&mut self, agents: &[u32]) {
        let mut queues: Vec<u32> = Vec::new();
        for &agent in agents {
            if let Some(Some(a)) = self.agents.get(agent as usize)
                && a.has_free_slot()
            {
                queues.extend(a.queues.iter().copied());
            }
        }
        self.drain_queues(queues);
    }

    /// Marks the given queues for dispatch at the end of the step.
    pub(crate) fn drain_queues(&mut self, queues: Vec<u32>) {
        self.dispatch_pending.extend(queues);
    }

    /// Ends a step: dispatches the queues marked during it, then announces the agents
    /// marked during it (after dispatch, so the announcement shows the final load).
    pub(crate) fn flush_step(&mut self, cx: &mut Ctx<'_>) {
        self.flush_dispatch(cx);
        self.flush_announcements(cx);
    }

    /// Dispatches every queue marked during the step, oldest waiting head first (priority,
    /// then arrival, across queues), until nothing is left to offer. Deferring dispatch to
    /// the end of the step means that when one step frees several sessions and agents (offers
    /// expiring at the same instant, an agent going offline with several chats), every
    /// session is back in line before anyone is offered anything, so arrival order holds.
    pub(crate) fn flush_dispatch(&mut self, cx: &mut Ctx<'_>) {
        while !self.dispatch_pending.is_empty() {
            let mut queues: Vec<u32> = std::mem::take(&mut self.dispatch_pending)
                .into_iter()
                .filter(|&q| self.queues.get(q as usize).is_some_and(Option::is_some))
                .collect();
            queues.sort_by_key(|&q| {
                self.queue(q)
                    .waiting
                    .first_key_value()
                    .map_or((u8::MAX, u64::MAX), |(key, _)| *key)
            });
            for queue in queues {
                self.dispatch_now(cx, queue);
            }
        }
    }

    /// Resolves the agent a presence command is about: the actor, or (supervisors, the
    /// system) another agent.
    fn presence_target(
        &self,
        actor: &Actor,
        agent_id: Option<&AgentId>,
    ) -> Result<u32, CommandError> {
        match agent_id {
            Some(id) if id.as_str() != &*actor.id => {
                actor.require(
                    actor.role.can_supervise() || actor.role == Role::System,
                    "only supervisors change another agent's presence",
                )?;
                self.agent_no(id)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, id))
            }
            _ => {
                actor.require(actor.role.is_staff(), "only staff have presence")?;
                self.agent_no(&actor.id)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, &*actor.id))
            }
        }
    }

    pub(crate) fn set_agent_status_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        status: AgentStatus,
        agent_id: Option<&AgentId>,
    ) -> Result<Reply, CommandError> {
        let no = self.presence_target(actor, agent_id)?;
        // An agent's own command proves their connection is up; a supervisor's or the
        // host's says nothing about it (only `agent_connected` does).
        let own = agent_id.is_none_or(|id| id.as_str() == &*actor.id);
        if own && status != AgentStatus::Offline && !self.agent(no).connected {
            self.agent_mut(no).connected = true;
            cx.timers.cancel(TimerKey::DisconnectGrace {
                tenant: self.no,
                agent: no,
            });
            self.reindex_agent(cx, no);
            self.announce_agent(no);
            self.drain_for_agents(&[no]);
        }
        self.set_agent_status(cx, no, status);
        Ok(Reply::Ok)
    }

    /// Changes presence: withdraws offers from agents who stop taking chats, hands an
    /// offline agent's chats back to the queue, drains queues for agents who come online.
    pub(crate) fn set_agent_status(&mut self, cx: &mut Ctx<'_>, no: u32, status: AgentStatus) {
        let agent = self.agent_mut(no);
        let previous = agent.status;
        if previous == status {
            return;
        }
        agent.status = status;
        let is_watcher = agent.profile.role != StaffRole::Agent;
        if is_watcher {
            if status == AgentStatus::Offline {
                self.watchers.remove(&no);
            } else {
                self.watchers.insert(no);
            }
        }
        // Out of (or into) the pools first, so nothing requeued below is offered back.
        self.reindex_agent(cx, no);
        self.persist(
            cx,
            Record::AgentStatus {
                agent_id: self.agent(no).profile.id.clone(),
                status,
                at: cx.now,
            },
        );
        if status != AgentStatus::Online {
            self.withdraw_agent_offers(cx, no, WithdrawReason::AgentUnavailable);
        }
        if status == AgentStatus::Offline {
            self.hand_back_chats(cx, no, UnassignReason::AgentOffline);
            let agent = self.agent_mut(no);
            agent.wrap_ups.clear();
            cx.timers.cancel(TimerKey::WrapUp {
                tenant: self.no,
                agent: no,
            });
        }
        self.reindex_agent(cx, no);
        self.announce_agent(no);
        if status == AgentStatus::Online {
            self.drain_for_agents(&[no]);
        }
        if previous == AgentStatus::Offline {
            self.show_unassigned_tickets(cx, no);
        }
    }

    /// Tells the agent and online supervisors about the agent's presence and load.
    /// Marks the agent for an `agent_updated` at the end of the step, so a step that
    /// changes an agent several times (going offline with three chats) announces it once,
    /// in its final state.
    pub(crate) fn announce_agent(&mut self, no: u32) {
        self.announce_pending.insert(no);
    }

    /// Sends the `agent_updated` events marked during the step.
    pub(crate) fn flush_announcements(&mut self, cx: &mut Ctx<'_>) {
        for no in std::mem::take(&mut self.announce_pending) {
            if !matches!(self.agents.get(no as usize), Some(Some(_))) {
                continue;
            }
            let to = self.with_watchers(vec![self.staff(no)], true);
            self.deliver(
                cx,
                to,
                Event::AgentUpdated {
                    agent: self.agent_view(no),
                },
            );
        }
    }

    /// Takes back every offer (session and transfer offers) an agent has outstanding.
    pub(crate) fn withdraw_agent_offers(
        &mut self,
        cx: &mut Ctx<'_>,
        no: u32,
        reason: WithdrawReason,
    ) {
        let offered: Vec<u64> = self.agent(no).offers.iter().copied().collect();
        for session in offered {
            self.withdraw_offer_from(cx, session, no, reason, false);
        }
        let transfers: Vec<u64> = self.agent(no).transfer_offers.iter().copied().collect();
        for session in transfers {
            self.withdraw_transfer_offer(cx, session, no);
        }
    }

    /// Requeues every chat the agent holds (their outstanding transfers fail first).
    pub(crate) fn hand_back_chats(&mut self, cx: &mut Ctx<'_>, no: u32, reason: UnassignReason) {
        let held: Vec<u64> = self.agent(no).sessions.iter().copied().collect();
        for session in held {
            self.requeue(cx, session, reason);
        }
    }

    pub(crate) fn agent_connection(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        agent_id: Option<&AgentId>,
        connected: bool,
    ) -> Result<Reply, CommandError> {
        let no = self.presence_target(actor, agent_id)?;
        let key = TimerKey::DisconnectGrace {
            tenant: self.no,
            agent: no,
        };
        let agent = self.agent_mut(no);
        if agent.connected == connected {
            return Ok(Reply::Ok);
        }
        agent.connected = connected;
        if connected {
            cx.timers.cancel(key);
        } else if agent.status != AgentStatus::Offline {
            cx.timers.set(
                key,
                cx.now.plus_ms(self.settings.timing.disconnect_grace_ms),
            );
        }
        self.reindex_agent(cx, no);
        if !connected {
            self.withdraw_agent_offers(cx, no, WithdrawReason::AgentUnavailable);
        }
        self.announce_agent(no);
        if connected {
            self.drain_for_agents(&[no]);
        }
        Ok(Reply::Ok)
    }

    pub(crate) fn on_grace_timeout(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let Some(Some(agent)) = self.agents.get(no as usize) else {
            return;
        };
        if agent.connected || agent.status == AgentStatus::Offline {
            return;
        }
        self.deliver(
            cx,
            vec![self.staff(no)],
            Event::AgentStatusForced {
                status: AgentStatus::Offline,
                reason: ForcedStatusReason::DisconnectGraceExpired,
            },
        );
        self.set_agent_status(cx, no, AgentStatus::Offline);
    }

    /// Holds one of the agent's slots for the tenant's wrap-up time.
    pub(crate) fn start_wrap_up(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let wrap_up = self.settings.timing.wrap_up_ms;
        let agent = self.agent_mut(no);
        if wrap_up == 0 || agent.status == AgentStatus::Offline {
            return;
        }
        let until = cx.now.plus_ms(wrap_up);
        agent.wrap_ups.push(until);
        cx.timers.set_if_earlier(
            TimerKey::WrapUp {
                tenant: self.no,
                agent: no,
            },
            until,
        );
    }

    pub(crate) fn on_wrap_up_timeout(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let Some(Some(agent)) = self.agents.get_mut(no as usize) else {
            return;
        };
        let now = cx.now;
        let before = agent.wrap_ups.len();
        agent.wrap_ups.retain(|until| *until > now);
        if let Some(&next) = agent.wrap_ups.iter().min() {
            cx.timers.set(
                TimerKey::WrapUp {
                    tenant: self.no,
                    agent: no,
                },
                next,
            );
        }
        if agent.wrap_ups.len() != before {
            self.reindex_agent(cx, no);
            self.announce_agent(no);
            self.drain_for_agents(&[no]);
        }
    }

    pub(crate) fn end_wrap_up(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
    ) -> Result<Reply, CommandError> {
        let no = self.presence_target(actor, None)?;
        let agent = self.agent_mut(no);
        if agent.wrap_ups.is_empty() {
            return Ok(Reply::Ok);
        }
        agent.wrap_ups.clear();
        cx.timers.cancel(TimerKey::WrapUp {
            tenant: self.no,
            agent: no,
        });
        self.reindex_agent(cx, no);
        self.announce_agent(no);
        self.drain_for_agents(&[no]);
        Ok(Reply::Ok)
    }

    /// Counts an assignment against the fairness cap and arms the timer that frees the agent
    /// again when its oldest assignment leaves the window.
    pub(crate) fn record_assignment(&mut self, cx: &mut Ctx<'_>, no: u32) {
        self.counters.assignment += 1;
        let stamp = self.counters.assignment;
        let cap = self.settings.fairness_cap;
        let agent = self.agent_mut(no);
        agent.last_assigned = stamp;
        if let Some(cap) = cap {
            let now = cx.now;
            while agent
                .recent_assignments
                .front()
                .is_some_and(|at| now.ms_since(*at) >= cap.window_ms)
            {
                agent.recent_assignments.pop_front();
            }
            agent.recent_assignments.push_back(now);
            if let Some(&oldest) = agent.recent_assignments.front() {
                cx.timers.set(
                    TimerKey::Fairness {
                        tenant: self.no,
                        agent: no,
                    },
                    oldest.plus_ms(cap.window_ms),
                );
            }
        }
    }

    pub(crate) fn on_fairness_timeout(&mut self, cx: &mut Ctx<'_>, no: u32) {
        let Some(cap) = self.settings.fairness_cap else {
            return;
        };
        let Some(Some(agent)) = self.agents.get_mut(no as usize) else {
            return;
        };
        let now = cx.now;
        while agent
            .recent_assignments
            .front()
            .is_some_and(|at| now.ms_since(*at) >= cap.window_ms)
        {
            agent.recent_assignments.pop_front();
        }
        if let Some(&oldest) = agent.recent_assignments.front() {
            cx.timers.set(
                TimerKey::Fairness {
                    tenant: self.no,
                    agent: no,
                },
                oldest.plus_ms(cap.window_ms),
            );
        }
        self.drain_for_agents(&[no]);
    }

    pub(crate) fn force_logout_all(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.can_administer(),
            "only administrators force a logout",
        )?;
        cx.limits.check_long("reason", reason.as_deref())?;
        let targets: Vec<u32> = self
            .agents
            .iter()
            .enumerate()
            .filter_map(|(no, agent)| {
                agent.as_ref().and_then(|a| {
                    (a.status != AgentStatus::Offline && a.profile.id.as_str() != &*actor.id)
                        .then_some(no as u32)
                })
            })
            .collect();
        for &no in &targets {
            self.deliver(
                cx,
                vec![self.staff(no)],
                Event::ForceLogout {
                    reason: reason.clone(),
                },
            );
            self.set_agent_status(cx, no, AgentStatus::Offline);
        }
        self.audit(
            cx,
            actor,
            "force_logout_all",
            format!("{} agents", targets.len()),
        );
        Ok(Reply::Ok)
    }
}
