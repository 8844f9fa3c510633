//! Offers: making them (or assigning at once to an auto-accepting agent), taking them back,
//! and letting them expire.

use super::Ctx;
use super::select::Pick;
use super::state::{Offer, TenantState};
use crate::ids::SessionId;
use crate::protocol::event::{Event, WithdrawReason};
use crate::protocol::model::{OfferView, SessionStatus, Strategy};
use crate::protocol::output::{Effect, PushKind};
use crate::timer::TimerKey;

impl TenantState {
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
        let push = (PushKind::NewSession, title.as_str(), "Tap to answer");
        self.deliver_offer(cx, &pick.agents, &offer, push);
        cx.timers.set(
            TimerKey::Offer {
                tenant: self.no,
                session: session_no,
            },
            expires_at,
        );
    }

    /// Sends an offer (of a session or a transfer) to each agent, with a push notification.
    pub(crate) fn deliver_offer(
        &mut self,
        cx: &mut Ctx<'_>,
        agents: &[u32],
        offer: &OfferView,
        (kind, title, body): (PushKind, &str, &str),
    ) {
        for &agent in agents {
            self.deliver(
                cx,
                vec![self.staff(agent)],
                Event::Offered {
                    offer: offer.clone(),
                },
            );
            self.push(cx, agent, kind, offer.session_id.0, title, body);
        }
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
        let effect = Effect::PushNotification {
            agent_id: self.agent(agent).profile.id.clone(),
            kind,
            session_id: SessionId(session_no),
            title: title.to_owned(),
            body: body.to_owned(),
        };
        self.emit_effect(cx, effect);
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
}
