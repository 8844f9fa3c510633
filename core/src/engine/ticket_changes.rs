//! Changing tickets: status moves (and what they do to the clocks), fields, assignment,
//! tags, soft delete and the automatic close of resolved tickets.

use serde_json::json;

use super::Ctx;
use super::state::TenantState;
use super::tickets::{
    TicketAccess, change, illegal_ticket, normalise_tags, ticket_not_found, validate_tags,
};
use crate::auth::{Actor, Role};
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, TicketId};
use crate::limits::Limits;
use crate::protocol::helpdesk::{FieldChange, SlaMetric, TicketChanges, TicketStatus};
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

fn deleted(action: &'static str) -> CommandError {
    CommandError::IllegalTransition {
        kind: ObjectKind::Ticket,
        state: "deleted",
        action,
    }
}

/// The action of moving to a status, for error messages ("cannot close a ticket that is
/// open").
fn verb(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Open => "reopen",
        TicketStatus::InProgress => "start",
        TicketStatus::Pending => "set pending",
        TicketStatus::Resolved => "resolve",
        TicketStatus::Closed => "close",
    }
}

/// Whether staff may move a ticket from one status to another.
fn allowed(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::{Closed, InProgress, Open, Pending, Resolved};
    matches!(
        (from, to),
        (
            Open | InProgress | Pending,
            Open | InProgress | Pending | Resolved
        ) | (Resolved, Open | InProgress | Closed)
    ) && from != to
}

impl TenantState {
    pub(crate) fn set_ticket_status_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        status: TicketStatus,
    ) -> Result<Reply, CommandError> {
        let access = self.ticket_access(actor, ticket_id)?;
        let ticket = &self.tickets[&ticket_id.0];
        match access {
            TicketAccess::Requester
                if ticket.status == TicketStatus::Resolved
                    && matches!(status, TicketStatus::Closed | TicketStatus::Open) => {}
            TicketAccess::Requester => {
                return Err(CommandError::Forbidden {
                    reason: "requesters may only confirm (close) or reopen a resolved ticket",
                });
            }
            TicketAccess::Staff { handles: false, .. } => {
                return Err(CommandError::Forbidden {
                    reason: "viewers cannot change tickets",
                });
            }
            TicketAccess::Staff { .. } => {}
        }
        if ticket.deleted_at.is_some() {
            return Err(deleted(verb(status)));
        }
        if ticket.status == status {
            return Ok(Reply::Ok);
        }
        if !allowed(ticket.status, status) {
            return Err(illegal_ticket(ticket, verb(status)));
        }
        self.flush_ticket_sla(cx, ticket_id.0);
        let moved = self.move_ticket(cx, ticket_id.0, status);
        self.ticket_changed(cx, actor, ticket_id.0, "set_status", vec![moved]);
        self.after_status_change(cx, ticket_id.0);
        Ok(Reply::Ok)
    }

    /// What follows a status change once it is recorded: the requester hears of it, a
    /// resolved ticket gets its survey, a closed one leaves memory.
    pub(crate) fn after_status_change(&mut self, cx: &mut Ctx<'_>, no: u64) {
        self.notify_requester(cx, no);
        match self.tickets[&no].status {
            TicketStatus::Resolved => self.survey_ticket(cx, no),
            TicketStatus::Closed => self.forget_ticket(cx, no),
            _ => {}
        }
    }

    /// Moves a ticket to `to` (already checked) and runs the clocks accordingly.
    pub(crate) fn move_ticket(
        &mut self,
        cx: &mut Ctx<'_>,
        no: u64,
        to: TicketStatus,
    ) -> FieldChange {
        let calendar = self.ticket_calendar(no);
        let calendar = calendar.as_deref();
        let auto_close = self.settings.timing.ticket_auto_close_ms;
        let tenant = self.no;
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        let from = ticket.status;
        ticket.status = to;
        ticket.updated_at = cx.now;
        let clocks = &mut ticket.sla.clocks;
        match to {
            TicketStatus::Pending => clocks.pause_all(cx.now, calendar),
            TicketStatus::Resolved => {
                clocks.pause_all(cx.now, calendar);
                ticket.resolved_at = Some(cx.now);
                cx.timers.set(
                    TimerKey::TicketAutoClose { tenant, ticket: no },
                    cx.now.plus_ms(auto_close),
                );
            }
            TicketStatus::Open | TicketStatus::InProgress => {
                if from == TicketStatus::Resolved {
                    ticket.reopen_count += 1;
                    clocks.get_mut(SlaMetric::Resolution).reopen(cx.now);
                    cx.timers
                        .cancel(TimerKey::TicketAutoClose { tenant, ticket: no });
                }
                clocks.resume_all(cx.now);
            }
            TicketStatus::Closed => {}
        }
        match to {
            TicketStatus::Resolved => self.complete_ticket_clock(cx, no, SlaMetric::Resolution),
            TicketStatus::Closed => self.stop_ticket_clocks(cx, no),
            _ => {}
        }
        self.rearm_ticket_sla(cx, no);
        change("status", json!(from), json!(to))
    }

    /// Drops a closed ticket from memory; its last state went out as a record.
    fn forget_ticket(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let tenant = self.no;
        cx.timers.cancel(TimerKey::TicketSla { tenant, ticket: no });
        cx.timers
            .cancel(TimerKey::TicketAutoClose { tenant, ticket: no });
        self.tickets.remove(&no);
    }

    pub(crate) fn on_ticket_auto_close(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let Some(ticket) = self.tickets.get(&no) else {
            return;
        };
        if ticket.status != TicketStatus::Resolved || ticket.deleted_at.is_some() {
            return;
        }
        let system = Actor::new(&self.id, "system", Role::System);
        let moved = self.move_ticket(cx, no, TicketStatus::Closed);
        self.ticket_changed(cx, &system, no, "auto_close", vec![moved]);
        self.after_status_change(cx, no);
    }

    pub(crate) fn update_ticket_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        update: TicketChanges,
    ) -> Result<Reply, CommandError> {
        self.ticket_worker(actor, ticket_id)?;
        if self.tickets[&ticket_id.0].deleted_at.is_some() {
            return Err(deleted("update"));
        }
        let limits = cx.limits;
        if let Some(subject) = &update.subject {
            Limits::check_required("subject", subject, limits.max_long_text_bytes)?;
        }
        if let Some(description) = &update.description {
            Limits::check_len("description", description, limits.max_ticket_text_bytes)?;
        }
        if let Some(department) = &update.department_id
            && !self.departments.contains_key(department)
        {
            return Err(CommandError::not_found(ObjectKind::Department, department));
        }
        self.flush_ticket_sla(cx, ticket_id.0);
        // Time so far is counted under the hours that applied while it passed.
        self.close_segments(cx, super::sla::Subject::Ticket(ticket_id.0));
        let ticket = self.tickets.get_mut(&ticket_id.0).expect("checked");
        let mut changes = Vec::new();
        if let Some(subject) = update.subject
            && *ticket.subject != *subject
        {
            changes.push(change("subject", json!(ticket.subject), json!(subject)));
            ticket.subject = subject.into();
        }
        if let Some(description) = update.description
            && *ticket.description != *description
        {
            changes.push(change(
                "description",
                json!(ticket.description),
                json!(description),
            ));
            ticket.description = description.into();
        }
        let mut reselect = false;
        if let Some(priority) = update.priority
            && ticket.priority != priority
        {
            changes.push(change("priority", json!(ticket.priority), json!(priority)));
            ticket.priority = priority;
            reselect = true;
        }
        if let Some(department) = update.department_id
            && ticket.department_id.as_ref() != Some(&department)
        {
            changes.push(change(
                "department_id",
                json!(ticket.department_id),
                json!(department),
            ));
            ticket.department_id = Some(department);
            reselect = true;
        }
        if let Some(due_at) = update.due_at
            && ticket.due_at != due_at
        {
            changes.push(change("due_at", json!(ticket.due_at), json!(due_at)));
            ticket.due_at = due_at;
        }
        if reselect {
            self.reselect_ticket_sla(cx, ticket_id.0);
        }
        self.ticket_changed(cx, actor, ticket_id.0, "update", changes);
        Ok(Reply::Ok)
    }

    pub(crate) fn assign_ticket_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        assignee: Option<AgentId>,
        team: Option<DepartmentId>,
    ) -> Result<Reply, CommandError> {
        self.ticket_worker(actor, ticket_id)?;
        if self.tickets[&ticket_id.0].deleted_at.is_some() {
            return Err(deleted("assign"));
        }
        if let Some(agent) = &assignee {
            self.ticket_assignee(agent)?;
        }
        if let Some(team) = &team
            && !self.departments.contains_key(team)
        {
            return Err(CommandError::not_found(ObjectKind::Department, team));
        }
        let before = self.ticket_staff_recipients(ticket_id.0);
        let changes = self.reassign_ticket(ticket_id.0, assignee, team);
        // Whoever lost the ticket hears of it too.
        self.ticket_changed_with(cx, actor, ticket_id.0, "assign", changes, before);
        Ok(Reply::Ok)
    }

    /// Sets assignee and team; returns what changed.
    pub(crate) fn reassign_ticket(
        &mut self,
        no: u64,
        assignee: Option<AgentId>,
        team: Option<DepartmentId>,
    ) -> Vec<FieldChange> {
        let ticket = self.tickets.get_mut(&no).expect("live ticket");
        let mut changes = Vec::new();
        if ticket.assignee != assignee {
            changes.push(change(
                "assignee_id",
                json!(ticket.assignee),
                json!(assignee),
            ));
            ticket.assignee = assignee;
        }
        if ticket.team_id != team {
            changes.push(change("team_id", json!(ticket.team_id), json!(team)));
            ticket.team_id = team;
        }
        changes
    }

    pub(crate) fn change_ticket_tags(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        tags: Vec<String>,
        add: bool,
    ) -> Result<Reply, CommandError> {
        self.ticket_worker(actor, ticket_id)?;
        if self.tickets[&ticket_id.0].deleted_at.is_some() {
            return Err(deleted("tag"));
        }
        validate_tags(cx.limits, &tags)?;
        let changed = normalise_tags(&tags);
        let ticket = &self.tickets[&ticket_id.0];
        let mut updated = ticket.tags.clone();
        if add {
            updated.extend(changed);
            updated.sort();
            updated.dedup();
        } else {
            updated.retain(|t| !changed.contains(t));
        }
        cx.limits.check_count("tags", updated.len())?;
        if updated == ticket.tags {
            return Ok(Reply::Ok);
        }
        self.flush_ticket_sla(cx, ticket_id.0);
        self.close_segments(cx, super::sla::Subject::Ticket(ticket_id.0));
        let ticket = self.tickets.get_mut(&ticket_id.0).expect("checked");
        let tag_change = change("tags", json!(ticket.tags), json!(updated));
        ticket.tags = updated;
        self.reselect_ticket_sla(cx, ticket_id.0);
        self.ticket_changed(cx, actor, ticket_id.0, "tags", vec![tag_change]);
        Ok(Reply::Ok)
    }

    pub(crate) fn delete_ticket_command(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        ticket_id: TicketId,
        delete: bool,
    ) -> Result<Reply, CommandError> {
        if !self.ticket_worker(actor, ticket_id)? {
            return Err(CommandError::Forbidden {
                reason: "only supervisors delete and restore tickets",
            });
        }
        let ticket = &self.tickets[&ticket_id.0];
        if ticket.deleted_at.is_some() == delete {
            return Ok(Reply::Ok);
        }
        let previous = ticket.deleted_at;
        // What fell due before the delete still fires; afterwards the ticket is silent.
        self.flush_ticket_sla(cx, ticket_id.0);
        let ticket = self
            .tickets
            .get_mut(&ticket_id.0)
            .ok_or_else(|| ticket_not_found(ticket_id))?;
        ticket.deleted_at = delete.then_some(cx.now);
        let changed = change("deleted_at", json!(previous), json!(ticket.deleted_at));
        if !delete
            && ticket.status == TicketStatus::Resolved
            && let Some(resolved_at) = ticket.resolved_at
        {
            // The close that came due while deleted happens now.
            let at = resolved_at
                .plus_ms(self.settings.timing.ticket_auto_close_ms)
                .max(cx.now);
            cx.timers.set(
                TimerKey::TicketAutoClose {
                    tenant: self.no,
                    ticket: ticket_id.0,
                },
                at,
            );
        }
        self.rearm_ticket_sla(cx, ticket_id.0);
        let action = if delete { "delete" } else { "restore" };
        self.ticket_changed(cx, actor, ticket_id.0, action, vec![changed]);
        Ok(Reply::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn the_status_graph_allows_the_documented_moves_only() {
        assert!(allowed(Open, InProgress));
        assert!(allowed(Pending, Open));
        assert!(allowed(Resolved, Open));
        assert!(allowed(Resolved, Closed));
        assert!(!allowed(Open, Closed));
        assert!(!allowed(Pending, Closed));
        assert!(!allowed(Closed, Open));
        assert!(!allowed(Open, Open));
    }
}
