//! The external router: an effect asks the host which agent should take a session; the
//! queue's fallback strategy decides when the answer is missing, late or unusable.

use super::Ctx;
use super::select::Pick;
use super::state::TenantState;
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, EffectId, SessionId};
use crate::protocol::model::Strategy;
use crate::protocol::output::Effect;
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

impl TenantState {
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
        let request = Effect::RouteRequest {
            session_id: SessionId(session_no),
            queue_id,
            candidates,
            deadline,
        };
        let effect = self.emit_effect(cx, request);
        self.route_requests.insert(effect, session_no);
        self.sessions
            .get_mut(&session_no)
            .expect("live session")
            .route_request = Some(effect);
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
}
