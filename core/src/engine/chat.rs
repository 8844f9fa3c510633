//! What happens inside a session: messages, typing, read receipts, notes, tags, the end of
//! a chat, ratings, and the inactivity and no-reply timers.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHasher;

use super::Ctx;
use super::state::{SeenClientId, Session, TenantState};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{CannedResponseId, MessageId, NoteId, SessionId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::model::{
    Attachment, CannedScope, Csat, EndReason, MessageKind, MessageView, NoteView, Sender,
    SenderKind, SessionStatus,
};
use crate::protocol::output::{PushKind, Recipient, Record};
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

/// A message as a client sends it.
pub(crate) struct Outgoing {
    pub body: String,
    pub kind: MessageKind,
    pub attachment: Option<Attachment>,
    pub client_message_id: Option<String>,
}

/// How the actor relates to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Party {
    /// The session's own visitor.
    Visitor,
    /// The session's bot.
    Bot,
    /// Staff: the agent number (if registered), whether they hold the session, whether they
    /// supervise, and whether it is offered to them.
    Staff {
        agent: Option<u32>,
        holder: bool,
        supervisor: bool,
        offered: bool,
    },
}

impl Party {
    /// Holds the session or supervises the tenant.
    fn may_work_on(self) -> bool {
        matches!(
            self,
            Party::Staff { holder: true, .. }
                | Party::Staff {
                    supervisor: true,
                    ..
                }
        )
    }
}

/// Client message ids are the sender's own: the same id from another sender is a new
/// message, so nobody can suppress someone else's messages by reusing their ids.
pub(crate) fn client_id_hash(sender: &str, id: &str) -> u64 {
    let mut hasher = FxHasher::default();
    sender.hash(&mut hasher);
    id.hash(&mut hasher);
    hasher.finish()
}

fn forbidden() -> CommandError {
    CommandError::Forbidden {
        reason: "only the agent holding the session or a supervisor may do this",
    }
}

fn illegal(session: &Session, action: &'static str) -> CommandError {
    CommandError::IllegalTransition {
        kind: ObjectKind::Session,
        state: session.status.as_str(),
        action,
    }
}

impl TenantState {
    /// Resolves the actor's relation to a session. Visitors and bots only ever see their own
    /// sessions: anything else is "not found".
    pub(crate) fn party(
        &self,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Party, CommandError> {
        let not_found = || CommandError::not_found(ObjectKind::Session, session_id);
        let session = self.sessions.get(&session_id.0).ok_or_else(not_found)?;
        match actor.role {
            Role::Visitor if *session.visitor_id.0 == *actor.id => Ok(Party::Visitor),
            Role::Bot if session.bot.as_ref().is_some_and(|b| *b.0 == *actor.id) => Ok(Party::Bot),
            Role::Visitor | Role::Bot => Err(not_found()),
            Role::Viewer | Role::System => Err(CommandError::Forbidden {
                reason: "this role cannot act on sessions",
            }),
            role => {
                let agent = self.agent_no(&actor.id);
                Ok(Party::Staff {
                    agent,
                    holder: agent.is_some()
                        && session.agent == agent
                        && session.status.is_with_agent(),
                    supervisor: role.can_supervise(),
                    offered: agent.is_some_and(|a| session.offer.agents.contains(&a)),
                })
            }
        }
    }

    fn validate_outgoing(&self, cx: &Ctx<'_>, message: &Outgoing) -> Result<(), CommandError> {
        let limits = cx.limits;
        match message.kind {
            MessageKind::System => {
                return Err(CommandError::invalid(
                    "kind",
                    "clients cannot send system messages",
                ));
            }
            MessageKind::Attachment => {
                if !self.settings.features.attachments {
                    return Err(CommandError::FeatureDisabled {
                        feature: "attachments",
                    });
                }
                let Some(attachment) = &message.attachment else {
                    return Err(CommandError::invalid(
                        "attachment",
                        "required for attachments",
                    ));
                };
                Limits::check_required(
                    "attachment.name",
                    &attachment.name,
                    limits.max_short_text_bytes,
                )?;
                Limits::check_required(
                    "attachment.mime_type",
                    &attachment.mime_type,
                    limits.max_short_text_bytes,
                )?;
                Limits::check_required("attachment.url", &attachment.url, limits.max_url_bytes)?;
                Limits::check_len("body", &message.body, limits.max_message_bytes)?;
            }
            MessageKind::Text | MessageKind::Markdown => {
                if message.attachment.is_some() {
                    return Err(CommandError::invalid(
                        "attachment",
                        "only with kind attachment",
                    ));
                }
                Limits::check_required("body", &message.body, limits.max_message_bytes)?;
            }
        }
        if let Some(id) = &message.client_message_id {
            limits.check_id("client_message_id", id)?;
        }
        Ok(())
    }

    pub(crate) fn send_message_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        message: Outgoing,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        self.validate_outgoing(cx, &message)?;
        let session = &self.sessions[&session_id.0];
        let sender = match party {
            Party::Visitor => {
                if session.status == SessionStatus::Resolved {
                    return Err(illegal(session, "write to"));
                }
                Sender {
                    kind: SenderKind::Visitor,
                    id: Some(session.visitor_id.0.clone()),
                    name: session.profile.name.as_deref().map(Arc::from),
                }
            }
            Party::Bot => {
                if session.status != SessionStatus::Bot {
                    return Err(illegal(session, "write to"));
                }
                Sender {
                    kind: SenderKind::Bot,
                    id: Some(actor.id.clone()),
                    name: None,
                }
            }
            Party::Staff { agent, .. } => {
                if !party.may_work_on() {
                    return Err(forbidden());
                }
                if !session.status.is_with_agent() {
                    return Err(illegal(session, "write to"));
                }
                let agent =
                    agent.ok_or_else(|| CommandError::not_found(ObjectKind::Agent, &*actor.id))?;
                let agent = self.agent(agent);
                Sender {
                    kind: SenderKind::Agent,
                    id: Some(agent.profile.id.0.clone()),
                    name: Some(agent.name.clone()),
                }
            }
        };
        let sender_id = sender.id.as_deref().unwrap_or_default();
        if let Some(reply) =
            duplicate_reply(session, sender_id, message.client_message_id.as_deref())
        {
            return Ok(reply);
        }
        let (message_no, seq) = self.append_message(
            cx,
            session_id.0,
            sender,
            message.kind,
            Arc::from(message.body),
            message.attachment.map(Arc::new),
            message.client_message_id.map(Arc::from),
        );
        Ok(Reply::MessageAccepted {
            message_id: MessageId(message_no),
            seq,
            duplicate: false,
        })
    }

    /// The first message of a new session, from its visitor.
    pub(crate) fn append_visitor_message(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        text: String,
        client_message_id: Option<String>,
    ) {
        let session = &self.sessions[&session_no];
        let sender = Sender {
            kind: SenderKind::Visitor,
            id: Some(session.visitor_id.0.clone()),
            name: session.profile.name.as_deref().map(Arc::from),
        };
        self.append_message(
            cx,
            session_no,
            sender,
            MessageKind::Text,
            Arc::from(text),
            None,
            client_message_id.map(Arc::from),
        );
    }

    /// A message written by the engine, shown to both sides.
    pub(crate) fn system_message(&mut self, cx: &mut Ctx<'_>, session_no: u64, text: &str) {
        self.append_message(
            cx,
            session_no,
            Sender {
                kind: SenderKind::System,
                id: None,
                name: None,
            },
            MessageKind::System,
            Arc::from(text),
            None,
            None,
        );
    }

    /// Appends a message: numbering, unread counts, reply clocks, the record and delivery.
    #[allow(clippy::too_many_arguments)]
    fn append_message(
        &mut self,
        cx: &mut Ctx<'_>,
        session_no: u64,
        sender: Sender,
        kind: MessageKind,
        body: Arc<str>,
        attachment: Option<Arc<Attachment>>,
        client_message_id: Option<Arc<str>>,
    ) -> (u64, u64) {
        self.counters.message += 1;
        let message_no = self.counters.message;
        let window = cx.limits.idempotency_window;
        let session = self.sessions.get_mut(&session_no).expect("live session");
        session.seq += 1;
        let seq = session.seq;
        session.last_message_at = Some(cx.now);
        let mut arm_no_reply = false;
        match sender.kind {
            SenderKind::Visitor => {
                session.unread_for_agent.push_back(seq);
                session.last_visitor_activity = cx.now;
                session.inactivity_warned = false;
                if session.awaiting_reply_since.is_none() {
                    session.awaiting_reply_since = Some(cx.now);
                    arm_no_reply = session.status == SessionStatus::Active;
                }
            }
            SenderKind::Agent => {
                session.unread_for_visitor.push_back(seq);
                session.first_response_at.get_or_insert(cx.now);
                session.awaiting_reply_since = None;
            }
            SenderKind::Bot => session.unread_for_visitor.push_back(seq),
            SenderKind::System => {}
        }
        if let Some(id) = &client_message_id {
            if session.seen_client_ids.len() >= window {
                session.seen_client_ids.pop_front();
            }
            session.seen_client_ids.push_back(SeenClientId {
                hash: client_id_hash(sender.id.as_deref().unwrap_or_default(), id),
                message: message_no,
                seq,
            });
        }
        let message = MessageView {
            message_id: MessageId(message_no),
            session_id: SessionId(session_no),
            seq,
            sender,
            kind,
            body,
            attachment,
            client_message_id,
            created_at: cx.now,
        };
        let session = &self.sessions[&session_no];
        let from_visitor = message.sender.kind == SenderKind::Visitor;
        let mut to = self.session_parties(session);
        if let (SenderKind::Agent, Some(id)) = (message.sender.kind, &message.sender.id) {
            let author = Recipient::Staff {
                id: id.clone().into(),
            };
            if !to.contains(&author) {
                to.push(author);
            }
        }
        let offline_agent = session
            .agent
            .filter(|&a| from_visitor && !self.agent(a).connected);
        self.persist(
            cx,
            Record::Message {
                message: message.clone(),
            },
        );
        self.deliver(cx, to, Event::Message { message });
        if let Some(agent) = offline_agent {
            let preview: String = self.sessions[&session_no]
                .profile
                .name
                .clone()
                .unwrap_or_else(|| "A visitor".to_owned());
            self.push(
                cx,
                agent,
                PushKind::NewMessage,
                session_no,
                "New message",
                &preview,
            );
        }
        if arm_no_reply {
            self.arm_no_reply(cx, session_no);
        }
        (message_no, seq)
    }

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

    fn arm_no_reply(&mut self, cx: &mut Ctx<'_>, session_no: u64) {
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
            Party::Visitor => (
                0,
                SenderKind::Visitor,
                session.profile.name.as_deref().map(Arc::from),
            ),
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

    fn announce_typing(
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

    pub(crate) fn on_typing_timeout(&mut self, cx: &mut Ctx<'_>, session_no: u64, side: u8) {
        let Some(session) = self.sessions.get_mut(&session_no) else {
            return;
        };
        if !session.typing[usize::from(side)] {
            return;
        }
        session.typing[usize::from(side)] = false;
        let kind = if side == 0 {
            SenderKind::Visitor
        } else if session.bot.is_some() {
            SenderKind::Bot
        } else {
            SenderKind::Agent
        };
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
        let unread = if reader == SenderKind::Agent {
            &mut session.unread_for_agent
        } else {
            &mut session.unread_for_visitor
        };
        while unread.front().is_some_and(|&seq| seq <= up_to) {
            unread.pop_front();
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

    /// Staff who see a session's internal side: its agent and online supervisors.
    fn internal_recipients(&self, session: &Session, author: Option<u32>) -> Vec<Recipient> {
        let mut to = Vec::new();
        if let Some(agent) = session.agent {
            to.push(self.staff(agent));
        }
        if let Some(author) = author {
            let author = self.staff(author);
            if !to.contains(&author) {
                to.push(author);
            }
        }
        self.with_watchers(to, false)
    }

    pub(crate) fn add_note(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        body: String,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let Party::Staff {
            agent: Some(author),
            ..
        } = party
        else {
            return Err(forbidden());
        };
        if !party.may_work_on() {
            return Err(forbidden());
        }
        Limits::check_required("body", &body, cx.limits.max_note_bytes)?;
        self.counters.note += 1;
        let note = NoteView {
            note_id: NoteId(self.counters.note),
            session_id,
            author_id: self.agent(author).profile.id.clone(),
            body: Arc::from(body),
            created_at: cx.now,
        };
        let to = self.internal_recipients(&self.sessions[&session_id.0], Some(author));
        self.persist(cx, Record::Note { note: note.clone() });
        let note_id = note.note_id;
        self.deliver(cx, to, Event::NoteAdded { note });
        Ok(Reply::NoteAdded { note_id })
    }

    pub(crate) fn change_tags(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        tags: Vec<String>,
        add: bool,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        if !party.may_work_on() {
            return Err(forbidden());
        }
        cx.limits.check_count("tags", tags.len())?;
        for tag in &tags {
            Limits::check_required("tags", tag.trim(), cx.limits.max_short_text_bytes)?;
        }
        let session = &self.sessions[&session_id.0];
        let mut updated = session.tags.clone();
        for tag in tags {
            let tag = tag.trim();
            if add {
                if !updated.iter().any(|t| &**t == tag) {
                    updated.push(Arc::from(tag));
                }
            } else {
                updated.retain(|t| &**t != tag);
            }
        }
        cx.limits.check_count("tags", updated.len())?;
        if updated == session.tags {
            return Ok(Reply::Ok);
        }
        let author = match party {
            Party::Staff { agent, .. } => agent,
            _ => None,
        };
        let to = self.internal_recipients(session, author);
        self.sessions.get_mut(&session_id.0).expect("checked").tags = updated.clone();
        self.persist_session(cx, session_id.0);
        self.deliver(
            cx,
            to,
            Event::TagsChanged {
                session_id,
                tags: updated,
            },
        );
        Ok(Reply::Ok)
    }

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
            self.finish_transfer(
                cx,
                session_id.0,
                crate::protocol::model::TransferOutcome::Cancelled,
                None,
            );
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

    /// The canned response if the actor may use it: tenant-wide, or their own.
    pub(crate) fn usable_canned(
        &self,
        actor: &Actor,
        id: CannedResponseId,
    ) -> Result<&super::state::Canned, CommandError> {
        self.canned
            .get(&id.0)
            .filter(|c| {
                c.scope == CannedScope::Tenant
                    || c.owner_id.as_ref().is_some_and(|o| *o.0 == *actor.id)
            })
            .ok_or_else(|| CommandError::not_found(ObjectKind::CannedResponse, id))
    }

    /// Fills `{{visitor.name}}`-style variables from the session, the agent and the tenant.
    /// Unknown variables stay as written; known ones without a value become empty.
    pub(crate) fn render_canned(
        &self,
        body: &str,
        session: &Session,
        agent: Option<u32>,
    ) -> String {
        let agent = agent.map(|a| self.agent(a));
        let mut out = String::with_capacity(body.len());
        let mut rest = body;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            let value: Option<Option<&str>> = match name {
                "visitor.name" => Some(session.profile.name.as_deref()),
                "visitor.email" => Some(session.profile.email.as_deref()),
                "visitor.account" => Some(session.profile.account.as_deref()),
                "visitor.country" => Some(session.profile.country.as_deref()),
                "agent.name" => Some(agent.map(|a| &*a.name)),
                "agent.email" => Some(agent.and_then(|a| a.profile.email.as_deref())),
                "issue_type" | "session.issue_type" => Some(session.issue_type.as_deref()),
                "tenant.name" => Some(Some(self.settings.name.as_str())),
                _ => None,
            };
            match value {
                Some(value) => out.push_str(value.unwrap_or("")),
                None if name == "session.id" => out.push_str(&SessionId(session.no).to_string()),
                None => out.push_str(&rest[start..start + 2 + end + 2]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    pub(crate) fn send_canned(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        canned_response_id: CannedResponseId,
        client_message_id: Option<String>,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let Party::Staff { agent, .. } = party else {
            return Err(forbidden());
        };
        let canned = self.usable_canned(actor, canned_response_id)?;
        let body = self.render_canned(&canned.body, &self.sessions[&session_id.0], agent);
        self.send_message_command(
            cx,
            actor,
            session_id,
            Outgoing {
                body,
                kind: MessageKind::Text,
                attachment: None,
                client_message_id,
            },
        )
    }

    pub(crate) fn render_canned_command(
        &self,
        actor: &Actor,
        session_id: SessionId,
        canned_response_id: CannedResponseId,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let Party::Staff { agent, .. } = party else {
            return Err(forbidden());
        };
        if !(party.may_work_on() || matches!(party, Party::Staff { offered: true, .. })) {
            return Err(forbidden());
        }
        let canned = self.usable_canned(actor, canned_response_id)?;
        Ok(Reply::Rendered {
            text: self.render_canned(&canned.body, &self.sessions[&session_id.0], agent),
        })
    }
}

/// The reply for a retried client message id, if this one was seen.
fn duplicate_reply(
    session: &Session,
    sender_id: &str,
    client_message_id: Option<&str>,
) -> Option<Reply> {
    let hash = client_id_hash(sender_id, client_message_id?);
    session
        .seen_client_ids
        .iter()
        .find(|seen| seen.hash == hash)
        .map(|seen| Reply::MessageAccepted {
            message_id: MessageId(seen.message),
            seq: seen.seq,
            duplicate: true,
        })
}
