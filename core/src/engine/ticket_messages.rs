//! Replies and internal notes on tickets, and what they set in motion: the status moves
//! a reply implies and the SLA clocks it starts and stops.

use std::sync::Arc;

use serde_json::json;

use super::Ctx;
use super::state::TenantState;
use super::tickets::{TicketAccess, change, illegal_ticket, validate_attachments};
use crate::auth::{Actor, Role};
use crate::error::CommandError;
use crate::ids::{MessageId, TicketId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::helpdesk::{SlaMetric, TicketMessageView, TicketStatus};
use crate::protocol::model::{Attachment, MessageKind, Sender, SenderKind};
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;

/// Who wrote a ticket message, as far as the clocks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Author {
    /// The requester, or the host writing on their behalf (an e-mail reply).
    Customer {
        id: Option<Arc<str>>,
        name: Option<Arc<str>>,
    },
    /// Staff.
    Agent { id: Arc<str>, name: Arc<str> },
}

impl Author {
    pub(crate) fn of(actor: &Actor, tenant: &TenantState) -> Author {
        match actor.role {
            Role::Visitor => Author::Customer {
                id: Some(actor.id.clone()),
                name: None,
            },
            Role::System | Role::Bot => Author::Customer {
                id: None,
                name: None,
            },
            _ => Author::Agent {
                id: actor.id.clone(),
                name: tenant
                    .agent_no(&actor.id)
                    .map_or_else(|| actor.id.clone(), |no| tenant.agent(no).name.clone()),
            },
        }
    }

    fn sender(&self, requester_name: Option<&str>) -> Sender {
        match self {
            Author::Customer { id, name } => Sender {
                kind: SenderKind::Visitor,
                id: id.clone(),
                name: name.clone().or_else(|| requester_name.map(Arc::from)),
            },
            Author::Agent { id, name } => Sender {
                kind: SenderKind::Agent,
                id: Some(id.clone()),
                name: Some(name.clone()),
            },
        }
    }
}

/// A message to append.
pub(crate) struct NewMessage {
    pub body: Arc<str>,
    pub kind: MessageKind,
    pub internal: bool,
    pub attachments: Vec<Attachment>,
}

impl TenantState {
    pub(crate) fn add_ticket_message_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        message: NewMessage,
    ) -> Result<Reply, CommandError> {
        let access = self.ticket_access(actor, ticket_id)?;
        match access {
            TicketAccess::Requester if message.internal => {
                return Err(CommandError::Forbidden {
                    reason: "requesters cannot write internal notes",
                });
            }
            TicketAccess::Staff { handles: false, .. } => {
                return Err(CommandError::Forbidden {
                    reason: "viewers cannot write on tickets",
                });
            }
            _ => {}
        }
        let limits = cx.limits;
        if !matches!(message.kind, MessageKind::Text | MessageKind::Markdown) {
            return Err(CommandError::invalid("kind", "text or markdown"));
        }
        if message.attachments.is_empty() {
            Limits::check_required("body", &message.body, limits.max_ticket_text_bytes)?;
        } else {
            Limits::check_len("body", &message.body, limits.max_ticket_text_bytes)?;
        }
        validate_attachments(limits, &message.attachments)?;
        if !message.attachments.is_empty() && !self.settings.features.attachments {
            return Err(CommandError::FeatureDisabled {
                feature: "attachments",
            });
        }
        let ticket = &self.tickets[&ticket_id.0];
        if ticket.deleted_at.is_some() {
            return Err(CommandError::IllegalTransition {
                kind: crate::error::ObjectKind::Ticket,
                state: "deleted",
                action: "reply",
            });
        }
        if ticket.status == TicketStatus::Closed {
            return Err(illegal_ticket(ticket, "reply"));
        }
        let (message_no, seq) = self.append_ticket_message(cx, actor, ticket_id.0, message, true);
        Ok(Reply::TicketMessageAdded {
            message_id: MessageId(message_no),
            seq,
        })
    }

    /// Appends a message: numbering, record and delivery, and (`replying`) the clocks and
    /// status moves a reply implies. The description given at creation is not a reply.
    pub(crate) fn append_ticket_message(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        no: u64,
        message: NewMessage,
        replying: bool,
    ) -> (u64, u64) {
        let author = Author::of(actor, self);
        self.flush_ticket_sla(cx, no);
        self.counters.message += 1;
        let message_no = self.counters.message;
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        ticket.seq += 1;
        ticket.updated_at = cx.now;
        let seq = ticket.seq;
        let view = TicketMessageView {
            message_id: MessageId(message_no),
            ticket_id: TicketId(no),
            seq,
            sender: author.sender(ticket.requester.name.as_deref()),
            kind: message.kind,
            body: message.body,
            internal: message.internal,
            attachments: message.attachments,
            created_at: cx.now,
        };
        self.persist(
            cx,
            Record::TicketMessage {
                message: view.clone(),
            },
        );
        // Viewers see tickets, not what is written on them (as with chats).
        let mut to = self.with_watchers(self.ticket_handlers(no), false);
        if !message.internal
            && let Some(requester) = self.requester_recipient(&self.tickets[&no])
        {
            to.push(requester);
        }
        self.deliver(cx, to, Event::TicketMessage { message: view });
        if replying && !message.internal {
            match author {
                Author::Agent { .. } => self.agent_replied_on_ticket(cx, actor, no),
                Author::Customer { .. } => self.customer_wrote_on_ticket(cx, actor, no),
            }
        }
        (message_no, seq)
    }

    /// A public agent reply: first and next response are met, a periodic update cycle
    /// ends and the next begins, and an open ticket is now in progress.
    fn agent_replied_on_ticket(&mut self, cx: &mut Ctx<'_>, actor: &Actor, no: u64) {
        let mut changes = Vec::new();
        // Whoever answers an unassigned ticket takes it, so it is never left without owner;
        // the team-mates who were told about it hear that it is taken.
        let takes_it = self.tickets[&no].assignee.is_none()
            && self.ticket_assignee(&actor.id.clone().into()).is_ok();
        let before = if takes_it {
            self.ticket_handlers(no)
        } else {
            Vec::new()
        };
        if takes_it {
            let team = self.tickets[&no].team_id.clone();
            changes.extend(self.reassign_ticket(no, Some(actor.id.clone().into()), team));
        }
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        let first = ticket.first_response_at.is_none();
        ticket.first_response_at.get_or_insert(cx.now);
        if first {
            changes.push(change("first_response_at", json!(null), json!(cx.now)));
        }
        for metric in [SlaMetric::FirstResponse, SlaMetric::NextResponse] {
            self.complete_ticket_clock(cx, no, metric);
        }
        self.complete_ticket_clock(cx, no, SlaMetric::PeriodicUpdate);
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        if matches!(ticket.status, TicketStatus::Open | TicketStatus::InProgress) {
            ticket
                .sla
                .clocks
                .get_mut(SlaMetric::PeriodicUpdate)
                .start(cx.now);
        }
        let moved = ticket.status == TicketStatus::Open;
        if moved {
            changes.push(self.move_ticket(cx, no, TicketStatus::InProgress));
        }
        self.rearm_ticket_sla(cx, no);
        self.ticket_touched(cx, actor, no, "reply", changes, before);
        if moved {
            self.notify_requester(cx, no);
        }
    }

    /// A customer message: a pending or resolved ticket opens again, and a next-response
    /// cycle starts unless one is already counting.
    fn customer_wrote_on_ticket(&mut self, cx: &mut Ctx<'_>, actor: &Actor, no: u64) {
        let mut changes = Vec::new();
        let status = self.tickets[&no].status;
        let moved = matches!(status, TicketStatus::Pending | TicketStatus::Resolved);
        if moved {
            changes.push(self.move_ticket(cx, no, TicketStatus::Open));
        }
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        let next = ticket.sla.clocks.get_mut(SlaMetric::NextResponse);
        if ticket.first_response_at.is_some() && !next.in_cycle() {
            next.start(cx.now);
        }
        self.rearm_ticket_sla(cx, no);
        self.ticket_touched(cx, actor, no, "customer_reply", changes, Vec::new());
        if moved {
            self.notify_requester(cx, no);
        }
    }
}
