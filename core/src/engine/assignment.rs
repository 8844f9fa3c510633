//! Answers to offers and the other ways a waiting or active session gets its agent:
//! accept, decline, pick from the queue, and supervisor assignment.

use super::Ctx;
use super::state::{Session, TenantState};
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, SessionId};
use crate::protocol::event::{Event, WithdrawReason};
use crate::protocol::model::SessionStatus;
use crate::protocol::reply::Reply;

impl TenantState {
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

    /// The acting agent, if the session is offered to them (anything else is "not found").
    fn offered_to_actor(&self, actor: &Actor, session_id: SessionId) -> Result<u32, CommandError> {
        let agent = self.acting_agent(actor)?;
        if !self.live_session(session_id)?.offer.agents.contains(&agent) {
            return Err(CommandError::not_found(ObjectKind::Offer, session_id));
        }
        Ok(agent)
    }

    pub(crate) fn accept_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let agent = self.offered_to_actor(actor, session_id)?;
        self.assign(cx, session_id.0, agent);
        Ok(Reply::Ok)
    }

    pub(crate) fn decline_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let agent = self.offered_to_actor(actor, session_id)?;
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
        self.take_on(cx, session_no, agent);
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
        self.welcome_agent(cx, session_no, agent);
    }
}
