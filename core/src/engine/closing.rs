//! The end of a chat: resolve, close and leave.

use super::Ctx;
use super::messages::{Party, forbidden, illegal};
use super::state::TenantState;
use crate::auth::Actor;
use crate::error::CommandError;
use crate::ids::SessionId;
use crate::protocol::model::{EndReason, SessionStatus};
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
        self.end_session_sla(cx, session_id.0);
        self.set_session_status(cx, session_id.0, SessionStatus::Resolved);
        self.survey_session(cx, session_id.0);
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
}
