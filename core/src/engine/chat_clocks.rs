//! The clocks of an active chat: inactivity warning and close, and re-routing when the
//! visitor waits too long for an agent's reply.

use super::Ctx;
use super::state::TenantState;
use crate::ids::SessionId;
use crate::protocol::event::Event;
use crate::protocol::model::{EndReason, SessionStatus};
use crate::timer::TimerKey;

impl TenantState {
    /// Arms the inactivity and no-reply clocks of a chat that just became active.
    pub(crate) fn arm_chat_timers(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        if let Some(close) = self.settings.timing.inactivity_close_ms {
            let warning = self.settings.timing.inactivity_warning_ms.min(close);
            let base = self.sessions[&session_no].last_visitor_activity;
            cx.timers.set(
                TimerKey::Inactivity {
                    tenant: self.no,
                    session: session_no,
                },
                base.plus_ms(close - warning),
            );
        }
        if self.sessions[&session_no].awaiting_reply_since.is_some() {
            self.arm_no_reply(cx, session_no);
        }
    }

    pub(crate) fn arm_no_reply(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let session = &self.sessions[&session_no];
        let Some(since) = session.awaiting_reply_since else {
            return;
        };
        let Some(limit) = session
            .queue
            .and_then(|q| self.queue(q).config.reroute_after_no_reply_ms)
        else {
            return;
        };
        cx.timers.set(
            TimerKey::NoReply {
                tenant: self.no,
                session: session_no,
            },
            since.plus_ms(limit),
        );
    }

    pub(crate) fn on_no_reply(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let Some(session) = self.sessions.get(&session_no) else {
            return;
        };
        if session.status != SessionStatus::Active {
            return;
        }
        let (Some(since), Some(limit)) = (
            session.awaiting_reply_since,
            session
                .queue
                .and_then(|q| self.queue(q).config.reroute_after_no_reply_ms),
        ) else {
            return;
        };
        let due = since.plus_ms(limit);
        if cx.now < due {
            cx.timers.set(
                TimerKey::NoReply {
                    tenant: self.no,
                    session: session_no,
                },
                due,
            );
            return;
        }
        self.requeue(
            cx,
            session_no,
            crate::protocol::event::UnassignReason::NoReply,
        );
    }

    pub(crate) fn on_inactivity(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        let Some(close) = self.settings.timing.inactivity_close_ms else {
            return;
        };
        let Some(session) = self.sessions.get_mut(&session_no) else {
            return;
        };
        if !session.status.is_with_agent() {
            return;
        }
        let warning = self.settings.timing.inactivity_warning_ms.min(close);
        let warn_at = session.last_visitor_activity.plus_ms(close - warning);
        let close_at = session.last_visitor_activity.plus_ms(close);
        let key = TimerKey::Inactivity {
            tenant: self.no,
            session: session_no,
        };
        if cx.now < warn_at {
            cx.timers.set(key, warn_at);
        } else if cx.now < close_at {
            cx.timers.set(key, close_at);
            if !session.inactivity_warned {
                session.inactivity_warned = true;
                let to = self.session_parties(&self.sessions[&session_no]);
                self.deliver(
                    cx,
                    to,
                    Event::InactivityWarning {
                        session_id: SessionId(session_no),
                        closes_at: close_at,
                    },
                );
            }
        } else {
            self.end_session(cx, session_no, SessionStatus::Closed, EndReason::Inactivity);
        }
    }
}
