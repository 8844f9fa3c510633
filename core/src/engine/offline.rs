//! When chat is not possible: "leave a message" becomes a ticket, agents coming online
//! see the tickets nobody took, chats can be turned into tickets, and transcripts are
//! e-mailed on request.

use super::Ctx;
use super::messages::{Party, forbidden};
use super::state::TenantState;
use super::tickets::{NewTicket, Ticket};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{DepartmentId, SessionId, TicketId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::helpdesk::{Channel, Requester, TicketPriority, TicketStatus};
use crate::protocol::output::Effect;
use crate::protocol::reply::Reply;

/// Tickets listed to an agent coming online.
const UNASSIGNED_SHOWN: usize = 50;

/// The form a visitor fills in when chat is not possible.
pub(crate) struct OfflineMessage {
    pub name: Option<String>,
    pub email: Option<String>,
    pub subject: Option<String>,
    pub message: String,
    pub department_id: Option<DepartmentId>,
    pub session_id: Option<SessionId>,
}

/// The first line of a message, shortened on a character boundary, as a subject.
fn subject_from(message: &str) -> String {
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut subject: String = line.trim().chars().take(80).collect();
    if line.trim().chars().count() > 80 {
        subject.push('…');
    }
    subject
}

impl TenantState {
    pub(crate) fn submit_offline_message(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        form: OfflineMessage,
    ) -> Result<Reply, CommandError> {
        if actor.role != Role::Visitor {
            return Err(CommandError::Forbidden {
                reason: "only visitors leave offline messages",
            });
        }
        let limits = cx.limits;
        Limits::check_required("message", &form.message, limits.max_ticket_text_bytes)?;
        limits.check_short("name", form.name.as_deref())?;
        limits.check_short("email", form.email.as_deref())?;
        if let Some(subject) = &form.subject {
            Limits::check_required("subject", subject, limits.max_long_text_bytes)?;
        }
        if let Some(department) = &form.department_id
            && !self.departments.contains_key(department)
        {
            return Err(CommandError::not_found(ObjectKind::Department, department));
        }
        // Only the visitor's own chat, live or recently ended, can be linked.
        let source_session = match form.session_id {
            Some(session_id) => {
                let owner = match self.sessions.get(&session_id.0) {
                    Some(session) => Some(&session.visitor_id),
                    None => self.ended_sessions.get(&session_id.0),
                };
                if owner.is_none_or(|v| *v.0 != *actor.id) {
                    return Err(CommandError::not_found(ObjectKind::Session, session_id));
                }
                Some(session_id.0)
            }
            None => None,
        };
        let subject = form.subject.unwrap_or_else(|| subject_from(&form.message));
        let email = form.email.clone();
        let new = NewTicket {
            subject,
            description: form.message,
            requester: Requester {
                visitor_id: Some(actor.id.clone().into()),
                name: form.name,
                email: form.email,
            },
            priority: TicketPriority::default(),
            channel: Channel::OfflineMessage,
            department_id: form.department_id,
            team_id: None,
            assignee: None,
            tags: Vec::new(),
            due_at: None,
            template_id: None,
            attachments: Vec::new(),
            source_session,
        };
        let no = self.open_ticket(cx, actor, new)?;
        let ticket = &self.tickets[&no];
        let number = ticket.number.to_string();
        if let Some(to) = email {
            let subject = ticket.subject.to_string();
            self.emit_effect(
                cx,
                Effect::EmailTicketConfirmation {
                    ticket_id: TicketId(no),
                    number: number.clone(),
                    subject,
                    to,
                },
            );
        }
        Ok(Reply::TicketCreated {
            ticket_id: TicketId(no),
            number,
        })
    }

    pub(crate) fn convert_session_to_ticket(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        subject: Option<String>,
        description: Option<String>,
        priority: Option<TicketPriority>,
    ) -> Result<Reply, CommandError> {
        if !self.party(actor, session_id)?.may_work_on() {
            return Err(forbidden());
        }
        let limits = cx.limits;
        if let Some(subject) = &subject {
            Limits::check_required("subject", subject, limits.max_long_text_bytes)?;
        }
        if let Some(description) = &description {
            Limits::check_len("description", description, limits.max_ticket_text_bytes)?;
        }
        let session = &self.sessions[&session_id.0];
        let visitor_name = session.profile.name.clone();
        let subject = subject.unwrap_or_else(|| match &session.issue_type {
            Some(issue) => format!("Chat: {issue}"),
            None => format!(
                "Chat with {}",
                visitor_name.as_deref().unwrap_or("a visitor")
            ),
        });
        let assignee = self
            .agent_no(&actor.id)
            .filter(|&a| session.agent == Some(a))
            .map(|a| self.agent(a).profile.id.clone());
        let new = NewTicket {
            subject,
            description: description.unwrap_or_default(),
            requester: Requester {
                visitor_id: Some(session.visitor_id.clone()),
                name: visitor_name,
                email: session.profile.email.clone(),
            },
            priority: priority.unwrap_or_default(),
            channel: Channel::Chat,
            department_id: session.department_id.clone(),
            team_id: None,
            assignee,
            tags: session.tags.iter().map(|t| t.to_string()).collect(),
            due_at: None,
            template_id: None,
            attachments: Vec::new(),
            source_session: Some(session_id.0),
        };
        let no = self.open_ticket(cx, actor, new)?;
        Ok(Reply::TicketCreated {
            ticket_id: TicketId(no),
            number: self.tickets[&no].number.to_string(),
        })
    }

    pub(crate) fn email_transcript(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        email: Option<String>,
    ) -> Result<Reply, CommandError> {
        if actor.role == Role::System {
            return self.email_transcript_for_host(cx, session_id, email);
        }
        match self.party(actor, session_id)? {
            Party::Visitor => {}
            Party::Staff {
                holder,
                supervisor,
                offered,
                ..
            } if holder || supervisor || offered => {}
            Party::Staff { .. } | Party::Bot => return Err(forbidden()),
        }
        cx.limits.check_short("email", email.as_deref())?;
        // A visitor's transcript goes only to the address on their chat, so the host's
        // mailer cannot be pointed at strangers; staff may send it anywhere.
        if email.is_some() && actor.role == Role::Visitor {
            return Err(CommandError::Forbidden {
                reason: "visitors have the transcript sent to the address they gave",
            });
        }
        let to = email
            .or_else(|| self.sessions[&session_id.0].profile.email.clone())
            .filter(|e| e.contains('@'))
            .ok_or_else(|| CommandError::invalid("email", "an e-mail address is needed"))?;
        self.emit_effect(cx, Effect::EmailTranscript { session_id, to });
        Ok(Reply::Ok)
    }

    /// The host asks for a transcript, of a live chat or of one that has ended: the engine
    /// forgets ended chats, so the host, which keeps their records, checks who may have it
    /// and names the address (a visitor's own, when a visitor asked after closing).
    fn email_transcript_for_host(
        &mut self,
        cx: &mut Ctx<'_>,
        session_id: SessionId,
        email: Option<String>,
    ) -> Result<Reply, CommandError> {
        if session_id.0 == 0 || session_id.0 > self.counters.session {
            return Err(CommandError::not_found(ObjectKind::Session, session_id));
        }
        cx.limits.check_short("email", email.as_deref())?;
        let to = email
            .filter(|e| e.contains('@'))
            .ok_or_else(|| CommandError::invalid("email", "an e-mail address is needed"))?;
        self.emit_effect(cx, Effect::EmailTranscript { session_id, to });
        Ok(Reply::Ok)
    }

    /// Tells an agent who just came online which tickets of their teams nobody has taken.
    pub(crate) fn show_unassigned_tickets(&self, cx: &mut Ctx<'_>, agent_no: u32) {
        let agent = self.agent(agent_no);
        if !agent.handles_chats() {
            return;
        }
        let departments = &agent.profile.departments;
        let mut waiting: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| {
                t.assignee.is_none()
                    && t.deleted_at.is_none()
                    && matches!(t.status, TicketStatus::Open | TicketStatus::InProgress)
                    && t.team_id
                        .as_ref()
                        .or(t.department_id.as_ref())
                        .is_none_or(|team| departments.contains(team))
            })
            .collect();
        if waiting.is_empty() {
            return;
        }
        let total = waiting.len() as u32;
        waiting.sort_by_key(|t| (std::cmp::Reverse(t.priority), t.created_at, t.no));
        let tickets = waiting
            .iter()
            .take(UNASSIGNED_SHOWN)
            .map(|t| *self.ticket_view(t.no, cx.now))
            .collect();
        let to = vec![self.staff(agent_no)];
        self.deliver(cx, to, Event::UnassignedTickets { tickets, total });
    }
}

#[cfg(test)]
mod tests {
    use super::subject_from;

    #[test]
    fn the_subject_is_the_first_non_blank_line_shortened() {
        assert_eq!(
            subject_from("\n  Order 42 is late\nmore"),
            "Order 42 is late"
        );
        let long = "é".repeat(100);
        assert_eq!(subject_from(&long).chars().count(), 81);
    }
}
