//! Typing indicators and read receipts.

use std::sync::Arc;

use super::Ctx;
use super::messages::{Party, forbidden};
use super::state::TenantState;
use crate::auth::Actor;
use crate::error::CommandError;
use crate::ids::SessionId;
use crate::protocol::event::Event;
use crate::protocol::model::SenderKind;
use crate::protocol::output::Recipient;
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

impl TenantState {
    pub(crate) fn set_typing(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        active: bool,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let session = &self.sessions[&session_id.0];
        let (side, kind, name) = match party {
            Party::Visitor => (0, SenderKind::Visitor, session.visitor_name.clone()),
            Party::Bot => (1, SenderKind::Bot, None),
            Party::Staff {
                agent: Some(agent),
                holder: true,
                ..
            } => (1, SenderKind::Agent, Some(self.agent(agent).name.clone())),
            Party::Staff { .. } => return Err(forbidden()),
        };
        let key = TimerKey::Typing {
            tenant: self.no,
            session: session_id.0,
            side,
        };
        let typing_timeout = self.settings.timing.typing_timeout_ms;
        let session = self
            .sessions
            .get_mut(&session_id.0)
            .expect("checked by party");
        let changed = session.typing[usize::from(side)] != active;
        session.typing[usize::from(side)] = active;
        if active {
            cx.timers.set(key, cx.now.plus_ms(typing_timeout));
        } else {
            cx.timers.cancel(key);
        }
        if changed {
            self.announce_typing(cx, session_id.0, side, kind, name, active);
        }
        Ok(Reply::Ok)
    }

    pub(crate) fn announce_typing(
        &self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        side: u8,
        kind: SenderKind,
        name: Option<Arc<str>>,
        active: bool,
    ) {
        let session = &self.sessions[&session_no];
        let to: Vec<Recipient> = if side == 0 {
            self.session_parties(session).into_iter().skip(1).collect()
        } else {
            vec![self.visitor_recipient(session)]
        };
        self.deliver(
            cx,
            to,
            Event::Typing {
                session_id: SessionId(session_no),
                side: kind,
                name,
                active,
            },
        );
    }

    /// Clears the agent side's typing indicator when the chat changes hands, so the visitor
    /// does not see the previous agent (or bot) typing forever.
    pub(crate) fn clear_agent_side_typing(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
        self.clear_typing(cx, session_no, 1);
    }

    /// Clears one side's typing indicator, announcing the stop if it was on: a message ends
    /// its sender's typing (as in every chat product), and a client that shows the
    /// indicator should not have to infer that from the message.
    pub(crate) fn clear_typing(&mut self, cx: &mut Ctx<'_>, session_no: u64, side: u8) {
        let session = self.sessions.get_mut(&session_no).expect("live session");
        if !session.typing[usize::from(side)] {
            return;
        }
        session.typing[usize::from(side)] = false;
        cx.timers.cancel(TimerKey::Typing {
            tenant: self.no,
            session: session_no,
            side,
        });
        let kind = self.typing_side_kind(session_no, side);
        self.announce_typing(cx, session_no, side, kind, None, false);
    }

    /// Who types on a side: the visitor, or the bot or agent holding the chat.
    fn typing_side_kind(&self, session_no: u64, side: u8) -> SenderKind {
        if side == 0 {
            SenderKind::Visitor
        } else if self.sessions[&session_no].bot.is_some() {
            SenderKind::Bot
        } else {
            SenderKind::Agent
        }
    }

    pub(crate) fn on_typing_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64, side: u8) {
        let Some(session) = self.sessions.get_mut(&session_no) else {
            return;
        };
        if !session.typing[usize::from(side)] {
            return;
        }
        session.typing[usize::from(side)] = false;
        let kind = self.typing_side_kind(session_no, side);
        self.announce_typing(cx, session_no, side, kind, None, false);
    }

    pub(crate) fn mark_read(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        up_to_seq: Option<u64>,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let reader = match party {
            Party::Visitor => SenderKind::Visitor,
            Party::Bot => SenderKind::Bot,
            Party::Staff { .. } if party.may_work_on() => SenderKind::Agent,
            Party::Staff { .. } => return Err(forbidden()),
        };
        let session = self
            .sessions
            .get_mut(&session_id.0)
            .expect("checked by party");
        let up_to = up_to_seq.unwrap_or(session.seq);
        if up_to > session.seq {
            return Err(CommandError::invalid(
                "up_to_seq",
                "beyond the last message",
            ));
        }
        // The bot answers on the agent side: it reads the visitor's messages.
        let unread = if reader == SenderKind::Visitor {
            &mut session.unread_for_visitor
        } else {
            &mut session.unread_for_agent
        };
        let unread_before = unread.len();
        while unread.front().is_some_and(|&seq| seq <= up_to) {
            unread.pop_front();
        }
        // The stored session carries the unread counts: keep it in step.
        if unread.len() != unread_before {
            self.persist_session(cx, session_id.0);
        }
        let session = &self.sessions[&session_id.0];
        let event = Event::Read {
            session_id,
            reader,
            up_to_seq: up_to,
            unread_count_agent: session.unread_for_agent.len() as u32,
            unread_count_visitor: session.unread_for_visitor.len() as u32,
        };
        let to = self.session_parties(session);
        self.deliver(cx, to, event);
        Ok(Reply::Ok)
    }
}
