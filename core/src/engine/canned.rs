//! Canned responses: creating and changing them, who may use which, and filling in their
//! variables.

use super::Ctx;
use super::messages::{Outgoing, Party, forbidden};
use super::state::{Session, TenantState};
use crate::auth::Actor;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{CannedResponseId, SessionId};
use crate::protocol::model::{CannedScope, MessageKind};
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;

use crate::ids::AgentId;
use crate::limits::Limits;
use crate::protocol::model::CannedResponseView;

impl TenantState {
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
                    || (actor.role.can_handle_chats()
                        && c.owner_id.as_ref().is_some_and(|o| *o.0 == *actor.id))
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
        super::variables::fill(body, |name| {
            let value: Option<&str> = match name {
                "visitor.name" => session.profile.name.as_deref(),
                "visitor.email" => session.profile.email.as_deref(),
                "visitor.account" => session.profile.account.as_deref(),
                "visitor.country" => session.profile.country.as_deref(),
                "agent.name" => agent.map(|a| &*a.name),
                "agent.email" => agent.and_then(|a| a.profile.email.as_deref()),
                "issue_type" | "session.issue_type" => session.issue_type.as_deref(),
                "tenant.name" => Some(self.settings.name.as_str()),
                "session.id" => return Some(SessionId(session.no).to_string().into()),
                _ => return None,
            };
            Some(value.unwrap_or("").into())
        })
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

    pub(crate) fn create_canned(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        scope: CannedScope,
        title: String,
        shortcut: Option<String>,
        body: String,
    ) -> Result<Reply, CommandError> {
        match scope {
            CannedScope::Tenant => Self::require_admin(actor)?,
            CannedScope::Personal => actor.require(
                actor.role.can_handle_chats(),
                "only agents keep canned responses",
            )?,
        }
        Limits::check_required("title", &title, cx.limits.max_short_text_bytes)?;
        cx.limits.check_short("shortcut", shortcut.as_deref())?;
        Limits::check_required("body", &body, cx.limits.max_long_text_bytes)?;
        let max = self.settings.limits.max_canned_responses;
        if self.canned.len() as u32 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_canned_responses",
                max: u64::from(max),
            });
        }
        self.counters.canned += 1;
        let id = CannedResponseId(self.counters.canned);
        let canned = CannedResponseView {
            canned_response_id: id,
            scope,
            owner_id: (scope == CannedScope::Personal).then(|| AgentId(actor.id.clone())),
            title,
            shortcut,
            body,
        };
        self.canned.insert(id.0, canned.clone());
        self.audit(cx, actor, "create_canned_response", id.to_string());
        self.persist(
            cx,
            Record::CannedResponse {
                canned_response: canned,
            },
        );
        Ok(Reply::CannedResponseCreated {
            canned_response_id: id,
        })
    }

    /// The canned response if the actor may change it: its owner, or an administrator.
    fn owned_canned(
        &self,
        actor: &Actor,
        id: CannedResponseId,
    ) -> Result<&CannedResponseView, CommandError> {
        let canned = self
            .canned
            .get(&id.0)
            .ok_or_else(|| CommandError::not_found(ObjectKind::CannedResponse, id))?;
        // Visitors and staff are separate namespaces: only staff own canned responses.
        let owner = actor.role.can_handle_chats()
            && canned.owner_id.as_ref().is_some_and(|o| *o.0 == *actor.id);
        if owner || actor.role.can_administer() {
            Ok(canned)
        } else if canned.scope == CannedScope::Tenant {
            Err(CommandError::Forbidden {
                reason: "only administrators change tenant-wide canned responses",
            })
        } else {
            Err(CommandError::not_found(ObjectKind::CannedResponse, id))
        }
    }

    pub(crate) fn update_canned(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        id: CannedResponseId,
        title: String,
        shortcut: Option<String>,
        body: String,
    ) -> Result<Reply, CommandError> {
        self.owned_canned(actor, id)?;
        Limits::check_required("title", &title, cx.limits.max_short_text_bytes)?;
        cx.limits.check_short("shortcut", shortcut.as_deref())?;
        Limits::check_required("body", &body, cx.limits.max_long_text_bytes)?;
        let canned = self.canned.get_mut(&id.0).expect("checked");
        canned.title = title;
        canned.shortcut = shortcut;
        canned.body = body;
        let canned = canned.clone();
        self.audit(cx, actor, "update_canned_response", id.to_string());
        self.persist(
            cx,
            Record::CannedResponse {
                canned_response: canned,
            },
        );
        Ok(Reply::Ok)
    }

    pub(crate) fn delete_canned(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        id: CannedResponseId,
    ) -> Result<Reply, CommandError> {
        self.owned_canned(actor, id)?;
        self.canned.remove(&id.0);
        self.audit(cx, actor, "delete_canned_response", id.to_string());
        self.persist(
            cx,
            Record::CannedResponseDeleted {
                canned_response_id: id,
                at: cx.now,
            },
        );
        Ok(Reply::Ok)
    }
}
