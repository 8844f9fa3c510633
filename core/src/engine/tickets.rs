//! Tickets: the live record, creation, numbering, who may see them, views, recipients and
//! the audit trail. Closed tickets leave memory; their last state went out as a record.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Ctx;
use super::sla_clock::Clocks;
use super::state::TenantState;
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, TicketId, TicketTemplateId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::helpdesk::{
    Channel, FieldChange, Requester, RequesterTicketView, TemplateValues, TicketPriority,
    TicketStatus, TicketView,
};
use crate::protocol::model::{Attachment, StaffRole};
use crate::protocol::output::{Recipient, Record};
use crate::protocol::reply::Reply;
use crate::time::Timestamp;

/// The SLA of a ticket or chat: the policy that applies (by position in the tenant's
/// list) and the clocks, which run whether or not a policy sets targets for them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SlaState {
    pub policy: Option<u32>,
    pub clocks: Clocks,
}

/// A live ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ticket {
    pub no: u64,
    pub number: Arc<str>,
    pub subject: Arc<str>,
    pub description: Arc<str>,
    pub requester: Box<Requester>,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub channel: Channel,
    pub department_id: Option<DepartmentId>,
    pub assignee: Option<AgentId>,
    pub team_id: Option<DepartmentId>,
    pub due_at: Option<Timestamp>,
    pub tags: Vec<Arc<str>>,
    pub source_session: Option<u64>,
    pub template_id: Option<TicketTemplateId>,
    pub created_by: Arc<str>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub seq: u64,
    pub reopen_count: u32,
    pub sla: SlaState,
}

/// How the actor relates to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TicketAccess {
    /// The requester (a visitor), or the host writing on the requester's behalf.
    Requester,
    /// Staff: whether they may change tickets, and whether they supervise.
    Staff { handles: bool, supervisor: bool },
}

/// Everything a new ticket is made of, validated.
pub(crate) struct NewTicket {
    pub subject: String,
    pub description: String,
    pub requester: Requester,
    pub priority: TicketPriority,
    pub channel: Channel,
    pub department_id: Option<DepartmentId>,
    pub team_id: Option<DepartmentId>,
    pub assignee: Option<AgentId>,
    pub tags: Vec<String>,
    pub due_at: Option<Timestamp>,
    pub template_id: Option<TicketTemplateId>,
    pub attachments: Vec<Attachment>,
    pub source_session: Option<u64>,
}

/// The fields a creator may pass, before templates and validation.
pub(crate) struct TicketRequest {
    pub subject: String,
    pub description: String,
    pub requester: Requester,
    pub priority: Option<TicketPriority>,
    pub channel: Channel,
    pub department_id: Option<DepartmentId>,
    pub team_id: Option<DepartmentId>,
    pub assignee_id: Option<AgentId>,
    pub tags: Vec<String>,
    pub due_at: Option<Timestamp>,
    pub template_id: Option<TicketTemplateId>,
    pub variables: TemplateValues,
    pub attachments: Vec<Attachment>,
}

pub(crate) fn ticket_not_found(ticket_id: TicketId) -> CommandError {
    CommandError::not_found(ObjectKind::Ticket, ticket_id)
}

pub(crate) fn illegal_ticket(ticket: &Ticket, action: &'static str) -> CommandError {
    CommandError::IllegalTransition {
        kind: ObjectKind::Ticket,
        state: ticket.status.as_str(),
        action,
    }
}

/// Fills a template's `{{name}}` variables from the values given at creation.
pub(crate) fn fill_template(text: &str, values: &TemplateValues) -> String {
    super::variables::fill(text, |name| values.get(name).map(|v| v.as_str().into()))
}

pub(crate) fn validate_tags(limits: &Limits, tags: &[String]) -> Result<(), CommandError> {
    limits.check_count("tags", tags.len())?;
    for tag in tags {
        Limits::check_required("tags", tag.trim(), limits.max_short_text_bytes)?;
    }
    Ok(())
}

pub(crate) fn validate_attachments(
    limits: &Limits,
    attachments: &[Attachment],
) -> Result<(), CommandError> {
    limits.check_count("attachments", attachments.len())?;
    for attachment in attachments {
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
    }
    Ok(())
}

/// Sorted, trimmed, without duplicates.
pub(crate) fn normalise_tags(tags: &[String]) -> Vec<Arc<str>> {
    let mut out: Vec<Arc<str>> = tags.iter().map(|t| Arc::from(t.trim())).collect();
    out.sort();
    out.dedup();
    out
}

pub(crate) fn change(field: &str, from: Value, to: Value) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        from,
        to,
    }
}

impl TenantState {
    /// Resolves the actor's relation to a ticket. Requesters see only their own tickets,
    /// and only until they are deleted; anyone else outside the staff gets "not found".
    pub(crate) fn ticket_access(
        &self,
        actor: &Actor,
        ticket_id: TicketId,
    ) -> Result<TicketAccess, CommandError> {
        let ticket = self
            .tickets
            .get(&ticket_id.0)
            .ok_or_else(|| ticket_not_found(ticket_id))?;
        let access = match actor.role {
            Role::Visitor
                if ticket
                    .requester
                    .visitor_id
                    .as_ref()
                    .is_some_and(|v| *v.0 == *actor.id) =>
            {
                TicketAccess::Requester
            }
            Role::Visitor | Role::Bot => return Err(ticket_not_found(ticket_id)),
            Role::System => TicketAccess::Staff {
                handles: true,
                supervisor: true,
            },
            Role::Viewer => TicketAccess::Staff {
                handles: false,
                supervisor: false,
            },
            role => TicketAccess::Staff {
                handles: true,
                supervisor: role.can_supervise(),
            },
        };
        let sees_deleted = matches!(
            access,
            TicketAccess::Staff {
                supervisor: true,
                ..
            }
        );
        if ticket.deleted_at.is_some() && !sees_deleted {
            return Err(ticket_not_found(ticket_id));
        }
        Ok(access)
    }

    /// Staff who may change tickets; everyone else is refused.
    pub(crate) fn ticket_worker(
        &self,
        actor: &Actor,
        ticket_id: TicketId,
    ) -> Result<bool, CommandError> {
        match self.ticket_access(actor, ticket_id)? {
            TicketAccess::Staff {
                handles: true,
                supervisor,
            } => Ok(supervisor),
            _ => Err(CommandError::Forbidden {
                reason: "only staff who handle tickets may do this",
            }),
        }
    }

    fn ticket_number(&self, no: u64) -> Arc<str> {
        let prefix = self.settings.ticket_prefix.clone().unwrap_or_else(|| {
            let derived: String = self
                .id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(10)
                .collect::<String>()
                .to_ascii_uppercase();
            if derived.is_empty() {
                "TKT".to_owned()
            } else {
                derived
            }
        });
        Arc::from(format!("{prefix}-{no:05}"))
    }

    /// Applies the template, the actor's rights and the limits to a creation request.
    pub(crate) fn prepare_ticket(
        &self,
        limits: &Limits,
        actor: &Actor,
        request: TicketRequest,
    ) -> Result<NewTicket, CommandError> {
        let is_requester = actor.role == Role::Visitor;
        if !(actor.role.can_handle_chats() || actor.role == Role::System || is_requester) {
            return Err(CommandError::Forbidden {
                reason: "only staff, the host and visitors create tickets",
            });
        }
        if is_requester
            && (request.priority.is_some()
                || request.channel != Channel::Web
                || request.team_id.is_some()
                || request.assignee_id.is_some()
                || !request.tags.is_empty()
                || request.due_at.is_some()
                || request.template_id.is_some())
        {
            return Err(CommandError::Forbidden {
                reason: "visitors set only subject, description, department and attachments",
            });
        }
        limits.check_count("variables", request.variables.len())?;
        for (name, value) in &request.variables {
            limits.check_id("variables", name)?;
            Limits::check_len("variables", value, limits.max_short_text_bytes)?;
        }
        let template = match &request.template_id {
            Some(id) => Some(
                self.templates
                    .get(id)
                    .ok_or_else(|| CommandError::not_found(ObjectKind::TicketTemplate, id))?,
            ),
            None => None,
        };
        let subject = match (request.subject.trim().is_empty(), template) {
            (true, Some(t)) => fill_template(&t.subject, &request.variables),
            _ => request.subject,
        };
        let description = match (request.description.trim().is_empty(), template) {
            (true, Some(t)) => fill_template(&t.description, &request.variables),
            _ => request.description,
        };
        Limits::check_required("subject", &subject, limits.max_long_text_bytes)?;
        Limits::check_len("description", &description, limits.max_ticket_text_bytes)?;
        let mut requester = request.requester;
        if is_requester {
            requester.visitor_id = Some(actor.id.clone().into());
        }
        if let Some(visitor) = &requester.visitor_id {
            limits.check_id("requester.visitor_id", visitor)?;
        }
        limits.check_short("requester.name", requester.name.as_deref())?;
        limits.check_short("requester.email", requester.email.as_deref())?;
        let mut tags = request.tags;
        if let Some(t) = template {
            tags.extend(t.tags.iter().cloned());
        }
        validate_tags(limits, &tags)?;
        validate_attachments(limits, &request.attachments)?;
        if !request.attachments.is_empty() && !self.settings.features.attachments {
            return Err(CommandError::FeatureDisabled {
                feature: "attachments",
            });
        }
        for department in [&request.department_id, &request.team_id]
            .into_iter()
            .flatten()
        {
            if !self.departments.contains_key(department) {
                return Err(CommandError::not_found(ObjectKind::Department, department));
            }
        }
        if let Some(agent) = &request.assignee_id {
            self.ticket_assignee(agent)?;
        }
        Ok(NewTicket {
            subject,
            description,
            requester,
            priority: request
                .priority
                .or(template.map(|t| t.priority))
                .unwrap_or_default(),
            channel: request.channel,
            department_id: request.department_id,
            team_id: request
                .team_id
                .or_else(|| template.and_then(|t| t.team_id.clone())),
            assignee: request.assignee_id,
            tags,
            due_at: request.due_at,
            template_id: request.template_id,
            attachments: request.attachments,
            source_session: None,
        })
    }

    /// An agent who can take tickets.
    pub(crate) fn ticket_assignee(&self, agent: &AgentId) -> Result<(), CommandError> {
        let no = self
            .agent_no(agent)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, agent))?;
        if self.agent(no).profile.role == StaffRole::Viewer {
            return Err(CommandError::invalid(
                "assignee_id",
                "viewers cannot take tickets",
            ));
        }
        Ok(())
    }

    pub(crate) fn create_ticket_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        request: TicketRequest,
    ) -> Result<Reply, CommandError> {
        let new = self.prepare_ticket(cx.limits, actor, request)?;
        let no = self.open_ticket(cx, actor, new)?;
        Ok(Reply::TicketCreated {
            ticket_id: TicketId(no),
            number: self.tickets[&no].number.to_string(),
        })
    }

    /// Creates a validated ticket: numbering, SLA clocks, the description as its first
    /// message, records and notifications.
    pub(crate) fn open_ticket(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        new: NewTicket,
    ) -> Result<u64, CommandError> {
        let open = self.tickets.len() as u64;
        let max = u64::from(self.settings.limits.max_open_tickets);
        if open >= max {
            return Err(CommandError::LimitReached {
                limit: "max_open_tickets",
                max,
            });
        }
        self.counters.ticket += 1;
        let no = self.counters.ticket;
        let ticket = Ticket {
            no,
            number: self.ticket_number(no),
            subject: Arc::from(new.subject),
            description: Arc::from(new.description.as_str()),
            requester: Box::new(new.requester),
            status: TicketStatus::Open,
            priority: new.priority,
            channel: new.channel,
            department_id: new.department_id,
            assignee: new.assignee,
            team_id: new.team_id,
            due_at: new.due_at,
            tags: normalise_tags(&new.tags),
            source_session: new.source_session,
            template_id: new.template_id,
            created_by: actor.id.clone(),
            created_at: cx.now,
            updated_at: cx.now,
            first_response_at: None,
            resolved_at: None,
            deleted_at: None,
            seq: 0,
            reopen_count: 0,
            sla: SlaState::default(),
        };
        self.tickets.insert(no, ticket);
        self.start_ticket_sla(cx, no);
        let view = self.ticket_view(no, cx.now);
        self.persist(
            cx,
            Record::Ticket {
                ticket: view.clone(),
            },
        );
        let changes = vec![
            change("status", Value::Null, json!(TicketStatus::Open)),
            change("priority", Value::Null, json!(view.priority)),
        ];
        self.ticket_audit(cx, actor, no, "create", changes);
        let to = self.ticket_staff_recipients(no);
        let description = view.description.clone();
        self.deliver(cx, to, Event::TicketCreated { ticket: view });
        self.notify_requester(cx, no);
        if !new.attachments.is_empty() {
            // The files travel as the ticket's first message, which is not a reply.
            let body = description;
            self.append_ticket_message(
                cx,
                actor,
                no,
                super::ticket_messages::NewMessage {
                    body,
                    kind: crate::protocol::model::MessageKind::Text,
                    internal: false,
                    attachments: new.attachments,
                },
                false,
            );
        }
        Ok(no)
    }

    /// Appends an audit entry for a ticket.
    pub(crate) fn ticket_audit(
        &self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        no: u64,
        action: &'static str,
        changes: Vec<FieldChange>,
    ) {
        self.persist(
            cx,
            Record::TicketAudit {
                ticket_id: TicketId(no),
                actor_id: actor.id.clone(),
                actor_role: actor.role,
                action: action.into(),
                changes,
                at: cx.now,
            },
        );
    }

    /// After a change: the record, the audit entry and the staff notification.
    pub(crate) fn ticket_changed(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        no: u64,
        action: &'static str,
        changes: Vec<FieldChange>,
    ) {
        self.ticket_changed_with(cx, actor, no, action, changes, Vec::new());
    }

    /// [`ticket_changed`](Self::ticket_changed), also telling `extra` recipients.
    pub(crate) fn ticket_changed_with(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        no: u64,
        action: &'static str,
        changes: Vec<FieldChange>,
        extra: Vec<Recipient>,
    ) {
        if changes.is_empty() {
            return;
        }
        if let Some(ticket) = self.tickets.get_mut(&no) {
            ticket.updated_at = cx.now;
        }
        let view = self.ticket_view(no, cx.now);
        self.persist(
            cx,
            Record::Ticket {
                ticket: view.clone(),
            },
        );
        self.ticket_audit(cx, actor, no, action, changes.clone());
        let mut to = self.ticket_staff_recipients(no);
        for recipient in extra {
            if !to.contains(&recipient) {
                to.push(recipient);
            }
        }
        self.deliver(
            cx,
            to,
            Event::TicketUpdated {
                ticket: view,
                changes,
            },
        );
    }

    /// Like [`ticket_changed`](Self::ticket_changed), but the record is written even when
    /// no audited field changed (a message moved counters and clocks).
    pub(crate) fn ticket_touched(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        no: u64,
        action: &'static str,
        changes: Vec<FieldChange>,
        extra: Vec<Recipient>,
    ) {
        if changes.is_empty() {
            let view = self.ticket_view(no, cx.now);
            self.persist(cx, Record::Ticket { ticket: view });
        } else {
            self.ticket_changed_with(cx, actor, no, action, changes, extra);
        }
    }

    /// Tells the requester (when they are a known visitor) where their ticket stands.
    pub(crate) fn notify_requester(&self, cx: &mut Ctx<'_>, no: u64) {
        let ticket = &self.tickets[&no];
        if let Some(to) = self.requester_recipient(ticket) {
            self.deliver(
                cx,
                vec![to],
                Event::TicketReceived {
                    ticket: requester_view(ticket),
                },
            );
        }
    }

    pub(crate) fn requester_recipient(&self, ticket: &Ticket) -> Option<Recipient> {
        if ticket.deleted_at.is_some() {
            return None;
        }
        ticket
            .requester
            .visitor_id
            .as_ref()
            .map(|v| Recipient::Visitor { id: v.0.clone() })
    }

    /// The assignee, else the online agents of the ticket's team (or of every team when it
    /// has none), and online supervisors, administrators and viewers.
    pub(crate) fn ticket_staff_recipients(&self, no: u64) -> Vec<Recipient> {
        self.with_watchers(self.ticket_handlers(no), true)
    }

    /// The assignee, else the online agents of the ticket's team (or of every team when it
    /// has none).
    pub(crate) fn ticket_handlers(&self, no: u64) -> Vec<Recipient> {
        let ticket = &self.tickets[&no];
        let mut to = Vec::new();
        if let Some(agent) = ticket.assignee.as_ref().and_then(|a| self.agent_no(a)) {
            to.push(self.staff(agent));
        } else {
            let team = ticket.team_id.as_ref().or(ticket.department_id.as_ref());
            for agent in self.agents.iter().flatten() {
                let online = agent.status != crate::protocol::model::AgentStatus::Offline;
                let in_team = team.is_none_or(|t| agent.profile.departments.contains(t));
                if online && in_team && agent.handles_chats() {
                    to.push(Recipient::Staff {
                        id: agent.profile.id.clone(),
                    });
                }
            }
        }
        to
    }

    pub(crate) fn ticket_view(&self, no: u64, now: Timestamp) -> Box<TicketView> {
        let ticket = &self.tickets[&no];
        Box::new(TicketView {
            ticket_id: TicketId(no),
            number: ticket.number.clone(),
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            requester: (*ticket.requester).clone(),
            status: ticket.status,
            priority: ticket.priority,
            channel: ticket.channel,
            department_id: ticket.department_id.clone(),
            assignee_id: ticket.assignee.clone(),
            team_id: ticket.team_id.clone(),
            due_at: ticket.due_at,
            tags: ticket.tags.clone(),
            source_session_id: ticket.source_session.map(crate::ids::SessionId),
            template_id: ticket.template_id.clone(),
            created_by: ticket.created_by.clone(),
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            first_response_at: ticket.first_response_at,
            resolved_at: ticket.resolved_at,
            closed_at: (ticket.status == TicketStatus::Closed).then_some(ticket.updated_at),
            deleted_at: ticket.deleted_at,
            message_count: ticket.seq,
            reopen_count: ticket.reopen_count,
            sla: self.sla_view(&ticket.sla, ticket.department_id.as_ref(), now),
        })
    }
}

pub(crate) fn requester_view(ticket: &Ticket) -> RequesterTicketView {
    RequesterTicketView {
        ticket_id: TicketId(ticket.no),
        number: ticket.number.clone(),
        subject: ticket.subject.clone(),
        status: ticket.status,
        created_at: ticket.created_at,
        updated_at: ticket.updated_at,
    }
}
