//! Transfers of an active session to another agent or to a department, with accept,
//! reject, timeout and cancel. The transferring agent keeps the chat until someone accepts.

use super::Ctx;
use super::messages::Party;
use super::state::{TenantState, Transfer};
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, SessionId, TransferId};
use crate::limits::Limits;
use crate::protocol::event::{Event, UnassignReason, WithdrawReason};
use crate::protocol::model::{SessionStatus, TransferOutcome, TransferTarget};
use crate::protocol::output::{PushKind, Recipient, Record};
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

/// Most agents a department transfer is offered to at once.
const DEPARTMENT_TRANSFER_FANOUT: usize = 50;

impl TenantState {
    pub(crate) fn request_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        to_agent_id: Option<AgentId>,
        to_department_id: Option<DepartmentId>,
        reason: String,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        if !matches!(
            party,
            Party::Staff { holder: true, .. }
                | Party::Staff {
                    supervisor: true,
                    ..
                }
        ) {
            return Err(CommandError::Forbidden {
                reason: "only the agent holding the session or a supervisor transfers it",
            });
        }
        if !self.settings.features.transfers {
            return Err(CommandError::FeatureDisabled {
                feature: "transfers",
            });
        }
        let session = &self.sessions[&session_id.0];
        if session.status != SessionStatus::Active {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Session,
                state: session.status.as_str(),
                action: "transfer",
            });
        }
        Limits::check_required("reason", &reason, cx.limits.max_long_text_bytes)?;
        let from = session.agent.expect("active sessions have an agent");
        let (target, candidates) = match (to_agent_id, to_department_id) {
            (Some(agent_id), None) => {
                let agent = self
                    .agent_no(&agent_id)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, &agent_id))?;
                if agent == from {
                    return Err(CommandError::invalid(
                        "to_agent_id",
                        "the session is already with this agent",
                    ));
                }
                if !self.agent(agent).has_free_slot() {
                    return Err(CommandError::AgentAtCapacity {
                        agent_id: agent_id.to_string(),
                    });
                }
                (TransferTarget::Agent { agent_id }, vec![agent])
            }
            (None, Some(department_id)) => {
                if !self.departments.contains_key(&department_id) {
                    return Err(CommandError::not_found(
                        ObjectKind::Department,
                        &department_id,
                    ));
                }
                let candidates: Vec<u32> = self
                    .agents
                    .iter()
                    .enumerate()
                    .filter_map(|(no, agent)| {
                        let agent = agent.as_ref()?;
                        (no as u32 != from
                            && agent.has_free_slot()
                            && agent.profile.departments.contains(&department_id))
                        .then_some(no as u32)
                    })
                    .take(DEPARTMENT_TRANSFER_FANOUT)
                    .collect();
                if candidates.is_empty() {
                    return Err(CommandError::NoAgentAvailable);
                }
                (TransferTarget::Department { department_id }, candidates)
            }
            _ => {
                return Err(CommandError::invalid(
                    "to_agent_id",
                    "give exactly one of to_agent_id and to_department_id",
                ));
            }
        };

        self.counters.transfer += 1;
        let id = self.counters.transfer;
        let expires_at = cx.now.plus_ms(self.settings.timing.transfer_timeout_ms);
        let session = self.sessions.get_mut(&session_id.0).expect("checked");
        session.transfer = Some(Box::new(Transfer {
            id,
            from,
            target,
            reason,
            offered_to: candidates.clone(),
            requested_at: cx.now,
            expires_at,
        }));
        self.transfers.insert(id, session_id.0);
        for &agent in &candidates {
            self.agent_mut(agent).transfer_offers.insert(session_id.0);
            self.reindex_agent(cx, agent);
        }
        self.set_session_status(cx, session_id.0, SessionStatus::Transferring);
        self.announce_transfer(cx, session_id.0, TransferOutcome::Pending, None);
        let offer = self.offer_view(
            &self.sessions[&session_id.0],
            Some(TransferId(id)),
            expires_at,
            candidates.len() > 1,
        );
        let body = format!("{} wants to transfer a chat to you", self.agent(from).name);
        let push = (PushKind::Transfer, "Chat transfer", body.as_str());
        self.deliver_offer(cx, &candidates, &offer, push);
        cx.timers.set(
            TimerKey::Transfer {
                tenant: self.no,
                session: session_id.0,
            },
            expires_at,
        );
        Ok(Reply::TransferRequested {
            transfer_id: TransferId(id),
        })
    }

    /// Records the transfer's state and tells the agents involved and the supervisors.
    fn announce_transfer(
        &self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        outcome: TransferOutcome,
        accepted_by: Option<u32>,
    ) {
        let session = &self.sessions[&session_no];
        let transfer = session
            .transfer
            .as_ref()
            .expect("announced while outstanding");
        let mut view = self.transfer_view(session, outcome);
        if outcome != TransferOutcome::Pending {
            view.resolved_at = Some(cx.now);
        }
        view.accepted_by = accepted_by.map(|a| self.agent(a).profile.id.clone());
        let mut to: Vec<Recipient> = vec![self.staff(transfer.from)];
        to.extend(transfer.offered_to.iter().map(|&a| self.staff(a)));
        let to = self.with_watchers(to, false);
        self.persist(
            cx,
            Record::Transfer {
                transfer: view.clone(),
            },
        );
        self.deliver(cx, to, Event::TransferUpdated { transfer: view });
    }

    /// The session whose transfer this is, if the actor is one of the agents it is offered
    /// to (anything else is "not found").
    fn offered_transfer(
        &self,
        actor: &Actor,
        transfer_id: TransferId,
    ) -> Result<(u64, u32), CommandError> {
        let not_found = || CommandError::not_found(ObjectKind::Transfer, transfer_id);
        let &session_no = self.transfers.get(&transfer_id.0).ok_or_else(not_found)?;
        let agent = self.agent_no(&actor.id).ok_or_else(not_found)?;
        let transfer = self.sessions[&session_no]
            .transfer
            .as_ref()
            .ok_or_else(not_found)?;
        if !actor.role.can_handle_chats() || !transfer.offered_to.contains(&agent) {
            return Err(not_found());
        }
        Ok((session_no, agent))
    }

    pub(crate) fn accept_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        transfer_id: TransferId,
    ) -> Result<Reply, CommandError> {
        let (session_no, agent) = self.offered_transfer(actor, transfer_id)?;
        self.finish_transfer(cx, session_no, TransferOutcome::Accepted, Some(agent));
        Ok(Reply::Ok)
    }

    pub(crate) fn reject_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        transfer_id: TransferId,
    ) -> Result<Reply, CommandError> {
        let (session_no, agent) = self.offered_transfer(actor, transfer_id)?;
        self.withdraw_transfer_offer(cx, session_no, agent);
        Ok(Reply::Ok)
    }

    /// Removes one agent from a transfer's offer (a reject, or the agent became
    /// unavailable). When nobody is left the transfer fails as rejected.
    pub(crate) fn withdraw_transfer_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        agent: u32,
    ) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        let Some(transfer) = session.transfer.as_mut() else {
            return;
        };
        transfer.offered_to.retain(|&a| a != agent);
        let nobody_left = transfer.offered_to.is_empty();
        self.agent_mut(agent).transfer_offers.remove(&session_no);
        self.reindex_agent(cx, agent);
        self.deliver(
            cx,
            vec![self.staff(agent)],
            Event::OfferWithdrawn {
                session_id: SessionId(session_no),
                reason: WithdrawReason::TransferEnded,
            },
        );
        if nobody_left {
            self.finish_transfer(cx, session_no, TransferOutcome::Rejected, None);
        } else {
            self.announce_transfer(cx, session_no, TransferOutcome::Pending, None);
        }
        self.drain_for_agents(&[agent]);
    }

    pub(crate) fn cancel_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        transfer_id: TransferId,
    ) -> Result<Reply, CommandError> {
        let not_found = || CommandError::not_found(ObjectKind::Transfer, transfer_id);
        let &session_no = self.transfers.get(&transfer_id.0).ok_or_else(not_found)?;
        let from = self.sessions[&session_no]
            .transfer
            .as_ref()
            .map(|t| t.from)
            .ok_or_else(not_found)?;
        let is_from = self.agent_no(&actor.id) == Some(from) && actor.role.can_handle_chats();
        if !is_from && !actor.role.can_supervise() {
            return Err(not_found());
        }
        self.finish_transfer(cx, session_no, TransferOutcome::Cancelled, None);
        Ok(Reply::Ok)
    }

    pub(crate) fn on_transfer_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let due = self
            .sessions
            .get(&session_no)
            .and_then(|s| s.transfer.as_ref())
            .is_some_and(|t| t.expires_at <= cx.now);
        if due {
            self.finish_transfer(cx, session_no, TransferOutcome::TimedOut, None);
        }
    }

    /// Ends an outstanding transfer. Accepted: the session moves to `accepted_by` and the
    /// visitor is told. Otherwise it stays with the transferring agent.
    pub(crate) fn finish_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        outcome: TransferOutcome,
        accepted_by: Option<u32>,
    ) {
        self.conclude_transfer(cx, session_no, outcome, accepted_by, true);
    }

    /// Cancels an outstanding transfer because the session is ending, being resolved or
    /// requeued: the caller sets the next status, so the session does not pass through
    /// `active` on the way.
    pub(crate) fn drop_transfer(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        self.conclude_transfer(cx, session_no, TransferOutcome::Cancelled, None, false);
    }

    fn conclude_transfer(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        outcome: TransferOutcome,
        accepted_by: Option<u32>,
        back_to_active: bool,
    ) {
        self.announce_transfer(cx, session_no, outcome, accepted_by);
        let session = self.sessions.get_mut(&session_no).expect("live session");
        let transfer = session.transfer.take().expect("an outstanding transfer");
        if accepted_by.is_some() {
            session.transfer_count += 1;
        }
        self.transfers.remove(&transfer.id);
        cx.timers.cancel(TimerKey::Transfer {
            tenant: self.no,
            session: session_no,
        });
        let mut freed = Vec::new();
        for &agent in &transfer.offered_to {
            self.agent_mut(agent).transfer_offers.remove(&session_no);
            self.reindex_agent(cx, agent);
            if Some(agent) != accepted_by {
                self.deliver(
                    cx,
                    vec![self.staff(agent)],
                    Event::OfferWithdrawn {
                        session_id: SessionId(session_no),
                        reason: WithdrawReason::TransferEnded,
                    },
                );
                freed.push(agent);
            }
        }
        match accepted_by {
            Some(agent) => {
                let from = self
                    .release_agent(cx, session_no, true)
                    .expect("a transferring session has an agent");
                self.deliver(
                    cx,
                    vec![self.staff(from)],
                    Event::SessionUnassigned {
                        session_id: SessionId(session_no),
                        reason: UnassignReason::Transferred,
                    },
                );
                self.hand_over(cx, session_no, agent);
                freed.push(from);
            }
            None if back_to_active => {
                self.set_session_status(cx, session_no, SessionStatus::Active);
                // The no-reply clock does not run while a transfer is outstanding.
                self.arm_no_reply(cx, session_no);
            }
            None => {}
        }
        self.drain_for_agents(&freed);
    }
}
