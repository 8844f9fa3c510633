//! Privacy erasure: forgetting a visitor. Refused while the visitor has a chat that has not
//! ended or a ticket that is not closed; otherwise every trace of the visitor leaves live
//! memory and a record tells the host's store to erase theirs.

use super::Ctx;
use super::state::TenantState;
use crate::auth::{Actor, Role};
use crate::error::CommandError;
use crate::ids::VisitorId;
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;

impl TenantState {
    pub(crate) fn forget_visitor(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        visitor_id: VisitorId,
    ) -> Result<Reply, CommandError> {
        actor.require(
            actor.role.can_administer() || actor.role == Role::System,
            "only administrators and the host forget visitors",
        )?;
        cx.limits.check_id("visitor_id", &visitor_id)?;
        let visitor: &str = &visitor_id;
        // Live chats and tickets not yet closed (soft-deleted ones too) are still being
        // worked on: they must be closed first, so that nothing is erased half-way.
        let open_sessions = self
            .sessions
            .values()
            .filter(|s| *s.visitor_id == *visitor)
            .count();
        let open_tickets = self
            .tickets
            .values()
            .filter(|t| t.requester.visitor_id.as_deref() == Some(visitor))
            .count();
        if open_sessions > 0 || open_tickets > 0 {
            return Err(CommandError::VisitorHasOpenItems {
                visitor_id: visitor.to_owned(),
                open_sessions: open_sessions as u32,
                open_tickets: open_tickets as u32,
            });
        }
        self.last_agent_of_visitor.forget_visitor(visitor);
        self.ended_sessions.retain(|_, v| **v != *visitor);
        self.forget_surveys_of(cx, visitor);
        self.audit(cx, actor, "forget_visitor", visitor.to_owned());
        self.persist(
            cx,
            Record::VisitorForgotten {
                visitor_id: visitor_id.clone(),
                at: cx.now,
            },
        );
        Ok(Reply::Ok)
    }
}
