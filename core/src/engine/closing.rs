//! The end of a chat: resolve, close, leave, and the visitor's rating.

use super::Ctx;
use super::messages::{Party, forbidden, illegal};
use super::state::TenantState;
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::SessionId;
use crate::protocol::event::Event;
use crate::protocol::model::{Csat, EndReason, SessionStatus};
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

impl TenantState {
    pub(crate) fn resolve_session(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        if !party.may_work_on() {
            return Err(forbidden());
        }
        let session = &self.sessions[&session_id.0];
        if !session.status.is_with_agent() {
            return Err(illegal(session, "resolve"));
        }
        if session.transfer.is_some() {
            self.drop_transfer(cx, session_id.0);
        }
        let tenant = self.no;
        let session = self.sessions.get_mut(&session_id.0).expect("checked");
        session.ended_at = Some(cx.now);
        session.end_reason = Some(EndReason::Resolved);
        session.typing = [false; 2];
        self.record_handle_time(cx, session_id.0);
        self.set_session_status(cx, session_id.0, SessionStatus::Resolved);
        let agent = self.release_agent(cx, session_id.0, true);
        for key in [
            TimerKey::Inactivity {
                tenant,
                session: session_id.0,
            },
            TimerKey::NoReply {
                tenant,
                session: session_id.0,
            },
        ] {
            cx.timers.cancel(key);
        }
        cx.timers.set(
            TimerKey::ResolvedClose {
                tenant,
                session: session_id.0,
            },
            cx.now.plus_ms(self.settings.timing.resolved_close_ms),
        );
        if let Some(agent) = agent {
            self.drain_for_agents(&[agent]);
        }
        Ok(Reply::Ok)
    }

    pub(crate) fn on_resolved_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        if self
            .sessions
            .get(&session_no)
            .is_some_and(|s| s.status == SessionStatus::Resolved)
        {
            self.end_session(cx, session_no, SessionStatus::Closed, EndReason::Resolved);
        }
    }

    pub(crate) fn close_session(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let allowed = match party {
            Party::Staff { supervisor, .. } => {
                supervisor
                    || party.may_work_on()
                    || {
                        // The agent who resolved the chat may close it too.
                        let session = &self.sessions[&session_id.0];
                        session.status == SessionStatus::Resolved
                            && matches!(party, Party::Staff { agent: Some(a), .. } if session.agent == Some(a))
                    }
            }
            Party::Bot => true,
            Party::Visitor => false,
        };
        if !allowed {
            return Err(forbidden());
        }
        self.end_session(
            cx,
            session_id.0,
            SessionStatus::Closed,
            EndReason::ClosedByAgent,
        );
        Ok(Reply::Ok)
    }

    pub(crate) fn leave_session(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        if self.party(actor, session_id)? != Party::Visitor {
            return Err(CommandError::Forbidden {
                reason: "only the visitor leaves a session",
            });
        }
        let status = if self.sessions[&session_id.0].status.is_waiting() {
            SessionStatus::Abandoned
        } else {
            SessionStatus::Closed
        };
        self.end_session(cx, session_id.0, status, EndReason::VisitorLeft);
        Ok(Reply::Ok)
    }

    pub(crate) fn submit_csat(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        rating: u8,
        comment: Option<String>,
    ) -> Result<Reply, CommandError> {
        if self.party(actor, session_id)? != Party::Visitor {
            return Err(CommandError::Forbidden {
                reason: "only the visitor rates a session",
            });
        }
        if !self.settings.features.csat {
            return Err(CommandError::FeatureDisabled { feature: "csat" });
        }
        if !(1..=5).contains(&rating) {
            return Err(CommandError::invalid("rating", "must be 1 to 5"));
        }
        cx.limits.check_long("comment", comment.as_deref())?;
        let session = &self.sessions[&session_id.0];
        if session.csat.is_some() {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Session,
                state: "rated",
                action: "rate",
            });
        }
        if !(session.status.is_with_agent() || session.status == SessionStatus::Resolved) {
            return Err(illegal(session, "rate"));
        }
        let csat = Csat {
            rating,
            comment,
            agent_id: session.agent.map(|a| self.agent(a).profile.id.clone()),
            submitted_at: cx.now,
        };
        let to = self.internal_recipients(session, None);
        self.sessions.get_mut(&session_id.0).expect("checked").csat = Some(csat.clone());
        self.persist(
            cx,
            Record::Csat {
                session_id,
                csat: csat.clone(),
            },
        );
        self.persist_session(cx, session_id.0);
        self.deliver(cx, to, Event::CsatSubmitted { session_id, csat });
        Ok(Reply::Ok)
    }
}
