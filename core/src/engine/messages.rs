//! Messages in a session: who may write, validation, numbering, unread counts, reply
//! clocks, idempotent retries and delivery.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHasher;

use super::Ctx;
use super::state::{SeenClientId, Session, TenantState};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{MessageId, SessionId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::model::{
    Attachment, MessageKind, MessageView, Sender, SenderKind, SessionStatus,
};
use crate::protocol::output::{PushKind, Recipient, Record};
use crate::protocol::reply::Reply;

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
    /// supervise, and whether it (or its transfer) is offered to them.
    Staff {
        agent: Option<u32>,
        holder: bool,
        supervisor: bool,
        offered: bool,
    },
}

impl Party {
    /// Holds the session or supervises the tenant.
    pub(crate) fn may_work_on(self) -> bool {
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

/// Client message ids are the sender's own: the same id from another sender (including a
/// visitor who happens to share a staff member's id) is a new message, so nobody can
/// suppress someone else's messages by reusing their ids.
pub(crate) fn client_id_hash(kind: SenderKind, sender: &str, id: &str) -> u64 {
    let mut hasher = FxHasher::default();
    kind.hash(&mut hasher);
    sender.hash(&mut hasher);
    id.hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn forbidden() -> CommandError {
    CommandError::Forbidden {
        reason: "only the agent holding the session or a supervisor may do this",
    }
}

pub(crate) fn illegal(session: &Session, action: &'static str) -> CommandError {
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
                    offered: agent.is_some_and(|a| {
                        session.offer.agents.contains(&a)
                            || session
                                .transfer
                                .as_ref()
                                .is_some_and(|t| t.offered_to.contains(&a))
                    }),
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
                    name: session.visitor_name.clone(),
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
        if let Some(reply) = duplicate_reply(session, &sender, message.client_message_id.as_deref())
        {
            return Ok(reply);
        }
        // Only the side's own typist stops typing by writing: a supervisor stepping into
        // the chat leaves the holding agent's indicator alone.
        let typing_side = match party {
            Party::Visitor => Some(0),
            Party::Bot | Party::Staff { holder: true, .. } => Some(1),
            Party::Staff { .. } => None,
        };
        if let Some(side) = typing_side {
            self.clear_typing(cx, session_id.0, side);
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
            name: session.visitor_name.clone(),
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
        let sender_kind = sender.kind;
        let mut first_response = false;
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
                if session.first_response_at.is_none() {
                    session.first_response_at = Some(cx.now);
                    first_response = true;
                }
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
                hash: client_id_hash(sender.kind, sender.id.as_deref().unwrap_or_default(), id),
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
        if first_response {
            // The store and analytics learn the first response time with the reply.
            self.persist_session(cx, session_no);
        }
        match sender_kind {
            SenderKind::Agent => self.session_agent_replied(cx, session_no),
            SenderKind::Visitor => self.session_visitor_wrote(cx, session_no),
            SenderKind::Bot | SenderKind::System => {}
        }
        (message_no, seq)
    }
}

/// The reply for a retried client message id, if this one was seen.
fn duplicate_reply(
    session: &Session,
    sender: &Sender,
    client_message_id: Option<&str>,
) -> Option<Reply> {
    let sender_id = sender.id.as_deref().unwrap_or_default();
    let hash = client_id_hash(sender.kind, sender_id, client_message_id?);
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
