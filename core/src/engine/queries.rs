//! Read-only commands: they check the actor like any command and change nothing.

use super::messages::Party;
use super::state::TenantState;
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, QueueId, SessionId};
use crate::protocol::model::{CannedScope, QueueEntryView};
use crate::protocol::reply::Reply;
use crate::time::Timestamp;

impl TenantState {
    pub(crate) fn get_queue_status(
        &self,
        now: Timestamp,
        _actor: &Actor,
        queue_id: Option<QueueId>,
        department_id: Option<DepartmentId>,
    ) -> Result<Reply, CommandError> {
        let queue_no = match (queue_id, department_id) {
            (Some(id), _) => self
                .queue_no(&id)
                .ok_or_else(|| CommandError::not_found(ObjectKind::Queue, &id))?,
            (None, Some(department)) => self
                .department_queue(&department)
                .ok_or_else(|| CommandError::not_found(ObjectKind::Department, &department))?,
            (None, None) => {
                let request = super::routing::StartRequest {
                    visitor: Default::default(),
                    department_id: None,
                    issue_type: None,
                    language: None,
                    initial_message: None,
                    client_message_id: None,
                };
                self.route(now, &request)
                    .queue
                    .ok_or_else(|| CommandError::not_found(ObjectKind::Queue, "default"))?
            }
        };
        Ok(Reply::QueueStatus {
            status: self.queue_status_view(now, queue_no),
        })
    }

    pub(crate) fn get_session(
        &self,
        actor: &Actor,
        session_id: SessionId,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let mut view = self.session_view(&self.sessions[&session_id.0]);
        match party {
            Party::Visitor | Party::Bot => {
                // Tags and hand-off reasons are the staff's own notes.
                view.tags.clear();
                view.handoff_reason = None;
            }
            Party::Staff {
                holder,
                supervisor,
                offered,
                ..
            } => {
                if !(holder || supervisor || offered) {
                    return Err(CommandError::Forbidden {
                        reason: "only the session's agent, an agent it is offered to, or a supervisor sees it",
                    });
                }
            }
        }
        Ok(Reply::Session { session: view })
    }

    pub(crate) fn list_queue(
        &self,
        actor: &Actor,
        queue_id: &QueueId,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.can_handle_chats(),
            "only staff who take chats list queues",
        )?;
        let queue_no = self
            .queue_no(queue_id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Queue, queue_id))?;
        let queue = self.queue(queue_no);
        let member = self
            .agent_no(&actor.id)
            .is_some_and(|a| queue.members.contains(&a));
        actor.require(
            member || actor.role.can_supervise(),
            "only the queue's agents and supervisors list it",
        )?;
        let entries = queue
            .waiting
            .values()
            .enumerate()
            .map(|(index, session_no)| {
                let session = &self.sessions[session_no];
                QueueEntryView {
                    session_id: SessionId(*session_no),
                    position: index as u32 + 1,
                    priority: session.priority,
                    visitor_name: session.profile.name.clone(),
                    issue_type: session.issue_type.clone(),
                    offered: false,
                    queued_at: session.queued_at.unwrap_or(session.created_at),
                }
            })
            .collect();
        Ok(Reply::Queue { entries })
    }

    pub(crate) fn get_agent(
        &self,
        actor: &Actor,
        agent_id: Option<&AgentId>,
    ) -> Result<Reply, CommandError> {
        let target = agent_id.map_or(&*actor.id, |id| id.as_str());
        let is_self = target == &*actor.id && actor.role.is_staff();
        actor.require(
            is_self || actor.role.can_supervise() || actor.role == Role::Viewer,
            "only supervisors and viewers see other agents",
        )?;
        let no = self
            .agent_no(target)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, target))?;
        Ok(Reply::Agent {
            agent: self.agent_view(no),
        })
    }

    pub(crate) fn list_canned(&self, actor: &Actor) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.can_handle_chats(),
            "only agents use canned responses",
        )?;
        let items = self
            .canned
            .values()
            .filter(|c| {
                c.scope == CannedScope::Tenant
                    || c.owner_id.as_ref().is_some_and(|o| *o.0 == *actor.id)
            })
            .cloned()
            .collect();
        Ok(Reply::CannedResponses { items })
    }
}
