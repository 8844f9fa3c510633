//! Reading tickets: one ticket (staff see everything, requesters their own without
//! internal fields) and filtered pages of open tickets.

use super::state::TenantState;
use super::tickets::{TicketAccess, requester_view};
use crate::auth::Actor;
use crate::error::CommandError;
use crate::ids::TicketId;
use crate::protocol::helpdesk::TicketFilter;
use crate::protocol::reply::Reply;
use crate::time::Timestamp;

/// Largest page of a ticket list.
const MAX_PAGE: u32 = 500;

impl TenantState {
    pub(crate) fn get_ticket(
        &self,
        now: Timestamp,
        actor: &Actor,
        ticket_id: TicketId,
    ) -> Result<Reply, CommandError> {
        Ok(match self.ticket_access(actor, ticket_id)? {
            TicketAccess::Requester => Reply::RequesterTicket {
                ticket: requester_view(&self.tickets[&ticket_id.0]),
            },
            TicketAccess::Staff { .. } => Reply::Ticket {
                ticket: self.ticket_view(ticket_id.0, now),
            },
        })
    }

    pub(crate) fn list_tickets(
        &self,
        now: Timestamp,
        limits: &crate::limits::Limits,
        actor: &Actor,
        filter: &TicketFilter,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.is_staff() || actor.role == crate::auth::Role::System,
            "only staff list tickets",
        )?;
        if filter.include_deleted
            && !actor.role.can_supervise()
            && actor.role != crate::auth::Role::System
        {
            return Err(CommandError::Forbidden {
                reason: "only supervisors see deleted tickets",
            });
        }
        limits.check_count("filter.statuses", filter.statuses.len())?;
        limits.check_count("filter.priorities", filter.priorities.len())?;
        limits.check_short("filter.tag", filter.tag.as_deref())?;
        let limit = filter.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE) as usize;
        let start = filter.after.map_or(0, |after| after.0.saturating_add(1));
        let tag = filter.tag.as_deref().map(str::trim);
        let mut items = Vec::new();
        let mut next_after = None;
        for (&no, ticket) in self.tickets.range(start..) {
            let wanted = (filter.include_deleted || ticket.deleted_at.is_none())
                && (filter.statuses.is_empty() || filter.statuses.contains(&ticket.status))
                && (filter.priorities.is_empty() || filter.priorities.contains(&ticket.priority))
                && filter
                    .assignee_id
                    .as_ref()
                    .is_none_or(|a| ticket.assignee.as_ref() == Some(a))
                && filter
                    .team_id
                    .as_ref()
                    .is_none_or(|t| ticket.team_id.as_ref() == Some(t))
                && (!filter.unassigned || ticket.assignee.is_none())
                && tag.is_none_or(|tag| ticket.tags.iter().any(|t| &**t == tag));
            if !wanted {
                continue;
            }
            if items.len() == limit {
                next_after = items
                    .last()
                    .map(|t: &crate::protocol::helpdesk::TicketView| t.ticket_id);
                break;
            }
            items.push(*self.ticket_view(no, now));
        }
        Ok(Reply::Tickets { items, next_after })
    }
}
