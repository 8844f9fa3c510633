//! Internal agent-to-agent conversations, direct and group. Staff only; a conversation is
//! visible to its members alone (anyone else gets "not found").

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use super::Ctx;
use super::messages::client_id_hash;
use super::state::{Conversation, SeenClientId, TenantState};
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, ConversationId, MessageId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::model::{
    ConversationKind, ConversationMessageView, ConversationView, MessageKind, SenderKind,
};
use crate::protocol::output::{Recipient, Record};
use crate::protocol::reply::Reply;

impl TenantState {
    /// The actor as a registered staff member allowed internal chat.
    fn internal_member(&self, actor: &Actor) -> Result<AgentId, CommandError> {
        actor.require(
            actor.role.is_staff(),
            "only staff use internal conversations",
        )?;
        if !self.settings.features.internal_chat {
            return Err(CommandError::FeatureDisabled {
                feature: "internal_chat",
            });
        }
        let no = self
            .agent_no(&actor.id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, &*actor.id))?;
        Ok(self.agent(no).profile.id.clone())
    }

    /// The conversation, if the actor is a member.
    fn member_conversation(
        &self,
        actor: &Actor,
        conversation_id: ConversationId,
    ) -> Result<AgentId, CommandError> {
        let me = self.internal_member(actor)?;
        self.conversations
            .get(&conversation_id.0)
            .filter(|c| c.members.contains(&me))
            .map(|_| me)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Conversation, conversation_id))
    }

    fn check_members(&self, cx: &Ctx<'_>, member_ids: &[AgentId]) -> Result<(), CommandError> {
        cx.limits.check_count("member_ids", member_ids.len())?;
        for id in member_ids {
            if self.agent_no(id).is_none() {
                return Err(CommandError::not_found(ObjectKind::Agent, id));
            }
        }
        Ok(())
    }

    fn conversation_view(&self, conversation: &Conversation) -> ConversationView {
        ConversationView {
            conversation_id: ConversationId(conversation.no),
            kind: conversation.kind,
            title: conversation.title.clone(),
            member_ids: conversation.members.iter().cloned().collect(),
            created_by: conversation.created_by.clone(),
            created_at: conversation.created_at,
        }
    }

    fn member_recipients(conversation: &Conversation) -> Vec<Recipient> {
        conversation
            .members
            .iter()
            .map(|id| Recipient::Staff { id: id.clone() })
            .collect()
    }

    /// Records the conversation and tells `to` (its members, and anyone who just left).
    fn announce_conversation(&self, cx: &mut Ctx<'_>, no: u64, to: Vec<Recipient>) {
        let view = self.conversation_view(&self.conversations[&no]);
        self.persist(
            cx,
            Record::Conversation {
                conversation: view.clone(),
            },
        );
        self.deliver(cx, to, Event::ConversationUpdated { conversation: view });
    }

    pub(crate) fn create_conversation(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        kind: ConversationKind,
        member_ids: Vec<AgentId>,
        title: Option<String>,
    ) -> Result<Reply, CommandError> {
        let me = self.internal_member(actor)?;
        self.check_members(cx, &member_ids)?;
        cx.limits.check_short("title", title.as_deref())?;
        let mut members: BTreeSet<AgentId> = member_ids.into_iter().collect();
        members.insert(me.clone());
        if kind == ConversationKind::Direct {
            if members.len() != 2 {
                return Err(CommandError::invalid(
                    "member_ids",
                    "a direct conversation has exactly one other member",
                ));
            }
            let mut pair = members.iter().cloned();
            let key = (pair.next().expect("two"), pair.next().expect("two"));
            if let Some(&existing) = self.direct_conversations.get(&key) {
                return Ok(Reply::Conversation {
                    conversation_id: ConversationId(existing),
                    created: false,
                });
            }
        }
        let max = self.settings.limits.max_conversations;
        if self.conversations.len() as u32 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_conversations",
                max: u64::from(max),
            });
        }
        self.counters.conversation += 1;
        let no = self.counters.conversation;
        if kind == ConversationKind::Direct {
            let mut pair = members.iter().cloned();
            let key = (pair.next().expect("two"), pair.next().expect("two"));
            self.direct_conversations.insert(key, no);
        }
        let conversation = Conversation {
            no,
            kind,
            title: if kind == ConversationKind::Group {
                title
            } else {
                None
            },
            members,
            created_by: me,
            created_at: cx.now,
            seq: 0,
            read_up_to: BTreeMap::new(),
            seen_client_ids: VecDeque::new(),
        };
        let to = Self::member_recipients(&conversation);
        self.conversations.insert(no, conversation);
        self.announce_conversation(cx, no, to);
        Ok(Reply::Conversation {
            conversation_id: ConversationId(no),
            created: true,
        })
    }

    pub(crate) fn add_conversation_members(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        conversation_id: ConversationId,
        member_ids: Vec<AgentId>,
    ) -> Result<Reply, CommandError> {
        self.member_conversation(actor, conversation_id)?;
        self.check_members(cx, &member_ids)?;
        let conversation = &self.conversations[&conversation_id.0];
        if conversation.kind != ConversationKind::Group {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Conversation,
                state: "direct",
                action: "add members to",
            });
        }
        let mut members = conversation.members.clone();
        members.extend(member_ids);
        cx.limits.check_count("member_ids", members.len())?;
        if members == conversation.members {
            return Ok(Reply::Ok);
        }
        let to = {
            let conversation = self
                .conversations
                .get_mut(&conversation_id.0)
                .expect("checked");
            conversation.members = members;
            Self::member_recipients(conversation)
        };
        self.announce_conversation(cx, conversation_id.0, to);
        Ok(Reply::Ok)
    }

    pub(crate) fn leave_conversation(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        conversation_id: ConversationId,
    ) -> Result<Reply, CommandError> {
        let me = self.member_conversation(actor, conversation_id)?;
        let conversation = self
            .conversations
            .get_mut(&conversation_id.0)
            .expect("checked");
        if conversation.kind != ConversationKind::Group {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Conversation,
                state: "direct",
                action: "leave",
            });
        }
        conversation.members.remove(&me);
        conversation.read_up_to.remove(&me);
        let mut to = Self::member_recipients(conversation);
        to.push(Recipient::Staff { id: me });
        self.announce_conversation(cx, conversation_id.0, to);
        Ok(Reply::Ok)
    }

    pub(crate) fn send_conversation_message(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        conversation_id: ConversationId,
        body: String,
        kind: MessageKind,
        client_message_id: Option<String>,
    ) -> Result<Reply, CommandError> {
        let me = self.member_conversation(actor, conversation_id)?;
        if !matches!(kind, MessageKind::Text | MessageKind::Markdown) {
            return Err(CommandError::invalid("kind", "text or markdown only"));
        }
        Limits::check_required("body", &body, cx.limits.max_message_bytes)?;
        if let Some(id) = &client_message_id {
            cx.limits.check_id("client_message_id", id)?;
        }
        let conversation = &self.conversations[&conversation_id.0];
        if let Some(id) = &client_message_id {
            let hash = client_id_hash(SenderKind::Agent, &me, id);
            if let Some(seen) = conversation.seen_client_ids.iter().find(|s| s.hash == hash) {
                return Ok(Reply::MessageAccepted {
                    message_id: MessageId(seen.message),
                    seq: seen.seq,
                    duplicate: true,
                });
            }
        }
        self.counters.message += 1;
        let message_no = self.counters.message;
        let sender_name = self
            .agent(self.agent_no(&me).expect("member is staff"))
            .name
            .clone();
        let window = cx.limits.idempotency_window;
        let conversation = self
            .conversations
            .get_mut(&conversation_id.0)
            .expect("checked");
        conversation.seq += 1;
        let seq = conversation.seq;
        let client_message_id: Option<Arc<str>> = client_message_id.map(Arc::from);
        if let Some(id) = &client_message_id {
            if conversation.seen_client_ids.len() >= window {
                conversation.seen_client_ids.pop_front();
            }
            conversation.seen_client_ids.push_back(SeenClientId {
                hash: client_id_hash(SenderKind::Agent, &me, id),
                message: message_no,
                seq,
            });
        }
        conversation.read_up_to.insert(me.clone(), seq);
        let message = ConversationMessageView {
            message_id: MessageId(message_no),
            conversation_id,
            seq,
            sender_id: me,
            sender_name,
            kind,
            body: Arc::from(body),
            client_message_id,
            created_at: cx.now,
        };
        let to = Self::member_recipients(conversation);
        self.persist(
            cx,
            Record::ConversationMessage {
                message: message.clone(),
            },
        );
        self.deliver(cx, to, Event::ConversationMessage { message });
        Ok(Reply::MessageAccepted {
            message_id: MessageId(message_no),
            seq,
            duplicate: false,
        })
    }

    pub(crate) fn mark_conversation_read(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        conversation_id: ConversationId,
        up_to_seq: Option<u64>,
    ) -> Result<Reply, CommandError> {
        let me = self.member_conversation(actor, conversation_id)?;
        let conversation = self
            .conversations
            .get_mut(&conversation_id.0)
            .expect("checked");
        let up_to = up_to_seq.unwrap_or(conversation.seq);
        if up_to > conversation.seq {
            return Err(CommandError::invalid(
                "up_to_seq",
                "beyond the last message",
            ));
        }
        let previous = conversation.read_up_to.get(&me).copied().unwrap_or(0);
        if up_to <= previous {
            return Ok(Reply::Ok);
        }
        conversation.read_up_to.insert(me.clone(), up_to);
        let to = Self::member_recipients(conversation);
        self.deliver(
            cx,
            to,
            Event::ConversationRead {
                conversation_id,
                reader_id: me,
                up_to_seq: up_to,
            },
        );
        Ok(Reply::Ok)
    }

    pub(crate) fn set_conversation_typing(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        conversation_id: ConversationId,
        active: bool,
    ) -> Result<Reply, CommandError> {
        let me = self.member_conversation(actor, conversation_id)?;
        let conversation = &self.conversations[&conversation_id.0];
        let to: Vec<Recipient> = conversation
            .members
            .iter()
            .filter(|id| **id != me)
            .map(|id| Recipient::Staff { id: id.clone() })
            .collect();
        self.deliver(
            cx,
            to,
            Event::ConversationTyping {
                conversation_id,
                agent_id: me,
                active,
            },
        );
        Ok(Reply::Ok)
    }
}
