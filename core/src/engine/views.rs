//! Building the wire views of live state, and who may see what.

use super::state::{Session, TenantState};
use crate::ids::{QueueId, SessionId, TransferId};
use crate::protocol::model::{
    AgentView, OfferView, QueueStatusView, SessionView, TransferOutcome, TransferView,
};
use crate::protocol::output::Recipient;
use crate::time::Timestamp;

impl TenantState {
    pub(crate) fn visitor_recipient(&self, session: &Session) -> Recipient {
        Recipient::Visitor {
            id: session.visitor_id.0.clone(),
        }
    }

    /// The session's visitor, the agent holding it, and its bot.
    pub(crate) fn session_parties(&self, session: &Session) -> Vec<Recipient> {
        let mut to = Vec::with_capacity(2);
        to.push(self.visitor_recipient(session));
        if let Some(agent) = session.agent {
            to.push(self.staff(agent));
        }
        if let Some(bot) = &session.bot {
            to.push(Recipient::Bot { id: bot.0.clone() });
        }
        to
    }

    /// Adds the online watchers who are not already recipients.
    pub(crate) fn with_watchers(
        &self,
        mut to: Vec<Recipient>,
        with_viewers: bool,
    ) -> Vec<Recipient> {
        for watcher in self.watcher_recipients(with_viewers) {
            if !to.contains(&watcher) {
                to.push(watcher);
            }
        }
        to
    }

    pub(crate) fn session_view(&self, session: &Session) -> Box<SessionView> {
        let agent = session.agent.map(|no| self.agent(no));
        Box::new(SessionView {
            session_id: SessionId(session.no),
            status: session.status,
            visitor_id: session.visitor_id.clone(),
            visitor: session.profile.clone(),
            queue_id: session.queue.map(|q| self.queue(q).config.id.clone()),
            department_id: session.department_id.clone(),
            issue_type: session.issue_type.clone(),
            language: session.language.clone(),
            priority: session.priority,
            agent_id: agent.map(|a| a.profile.id.clone()),
            agent_name: agent.map(|a| a.name.clone()),
            bot_id: session.bot.clone(),
            handoff_reason: session.handoff_reason.clone(),
            tags: session.tags.clone(),
            created_at: session.created_at,
            queued_at: session.queued_at,
            assigned_at: session.assigned_at,
            first_assigned_at: session.first_assigned_at,
            first_response_at: session.first_response_at,
            last_message_at: session.last_message_at,
            ended_at: session.ended_at,
            unread_count_agent: session.unread_for_agent.len() as u32,
            unread_count_visitor: session.unread_for_visitor.len() as u32,
            message_count: session.seq,
            transfer_count: session.transfer_count,
            csat: session.csat.clone(),
            end_reason: session.end_reason,
        })
    }

    pub(crate) fn offer_view(
        &self,
        session: &Session,
        transfer_id: Option<TransferId>,
        expires_at: Timestamp,
        broadcast: bool,
    ) -> OfferView {
        OfferView {
            session_id: SessionId(session.no),
            queue_id: session.queue.map(|q| self.queue(q).config.id.clone()),
            visitor_name: session.profile.name.clone(),
            issue_type: session.issue_type.clone(),
            language: session.language.clone(),
            expires_at,
            broadcast,
            transfer_id,
        }
    }

    pub(crate) fn agent_view(&self, no: u32) -> AgentView {
        let agent = self.agent(no);
        AgentView {
            agent_id: agent.profile.id.clone(),
            name: agent.name.clone(),
            role: agent.profile.role,
            status: agent.status,
            connected: agent.connected,
            active_chats: agent.sessions.len() as u32,
            pending_offers: (agent.offers.len() + agent.transfer_offers.len()) as u32,
            wrap_up_slots: agent.wrap_ups.len() as u32,
            max_concurrent_chats: agent.profile.max_concurrent_chats,
        }
    }

    pub(crate) fn transfer_view(
        &self,
        session: &Session,
        outcome: TransferOutcome,
    ) -> TransferView {
        let transfer = session
            .transfer
            .as_ref()
            .expect("a transfer view needs a transfer");
        TransferView {
            transfer_id: TransferId(transfer.id),
            session_id: SessionId(session.no),
            from_agent_id: self.agent(transfer.from).profile.id.clone(),
            target: transfer.target.clone(),
            offered_to: transfer
                .offered_to
                .iter()
                .map(|&no| self.agent(no).profile.id.clone())
                .collect(),
            reason: transfer.reason.clone(),
            outcome,
            accepted_by: None,
            requested_at: transfer.requested_at,
            expires_at: transfer.expires_at,
            resolved_at: None,
        }
    }

    /// What the widget needs to choose between chat and "leave a message".
    pub(crate) fn queue_status_view(&self, now: Timestamp, queue_no: u32) -> QueueStatusView {
        let queue = self.queue(queue_no);
        let open = self.is_open(now, queue.config.department_id.as_ref());
        let waiting = queue.waiting.len() as u32;
        let full = queue.config.max_length.is_some_and(|max| waiting >= max);
        let nobody = queue.online_agents == 0 && !queue.config.queue_when_no_agents;
        QueueStatusView {
            queue_id: queue.config.id.clone(),
            open,
            agents_online: queue.online_agents,
            agents_available: queue.pool.len() as u32,
            waiting,
            estimated_wait_ms: queue.estimated_wait(waiting + 1),
            leave_a_message: !open || nobody || full,
        }
    }

    pub(crate) fn queue_id(&self, queue_no: u32) -> QueueId {
        self.queue(queue_no).config.id.clone()
    }
}
