//! The webhook events of one commit, derived from its outputs.
//!
//! Session events come from the engine's session events (each is emitted once per change)
//! with the session as it stood right after the change (the `session` record that follows
//! the event in the same commit). Messages, tickets and ratings come from the records the
//! store writes, which exist whether or not anybody was online to be told.

use std::collections::HashMap;

use serde_json::{Value, json};
use switchboard_core::ids::{SessionId, TicketId};
use switchboard_core::protocol::helpdesk::TicketView;
use switchboard_core::protocol::model::SessionView;
use switchboard_core::{Event, Output, Record};

/// A chat was started (`data`: `session_id`, `status`, `queue_id`, `session`).
pub const SESSION_STARTED: &str = "session.started";
/// A chat changed status: queued, offered, active (assigned), transferring, resolved,
/// closed, abandoned, missed (`data`: `session_id`, `status`, `previous`, `agent_id`,
/// `agent_name`, `end_reason`, `session`).
pub const SESSION_STATUS_CHANGED: &str = "session.status_changed";
/// An agent now holds a chat: taken, assigned, reassigned or transferred (`data`:
/// `session_id`, `agent_id`, `agent_name`, `session`).
pub const SESSION_ASSIGNED: &str = "session.assigned";
/// A chat message was stored, from the visitor, an agent, a bot or the system (`data`:
/// `session_id`, `message`).
pub const MESSAGE_CREATED: &str = "message.created";
/// A ticket was opened, by staff, from a chat or from an offline message (`data`:
/// `ticket_id`, `ticket`).
pub const TICKET_CREATED: &str = "ticket.created";
/// A ticket changed: status, priority, assignee, tags, deletion... (`data`: `ticket_id`,
/// `action`, `actor_id`, `changes`, `ticket`).
pub const TICKET_UPDATED: &str = "ticket.updated";
/// A reply or internal note was added to a ticket (`data`: `ticket_id`, `message`).
pub const TICKET_MESSAGE_CREATED: &str = "ticket.message_created";
/// A visitor answered a satisfaction survey about a chat or ticket (`data`: `survey`).
pub const CSAT_SUBMITTED: &str = "csat.submitted";

/// Every event type a webhook can subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    SESSION_STARTED,
    SESSION_STATUS_CHANGED,
    SESSION_ASSIGNED,
    MESSAGE_CREATED,
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_MESSAGE_CREATED,
    CSAT_SUBMITTED,
];

/// Whether `name` is a known event type.
#[must_use]
pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}

/// One event for one tenant's webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The tenant.
    pub tenant_id: String,
    /// One of [`EVENT_TYPES`].
    pub event_type: &'static str,
    /// The payload's `data`.
    pub data: Value,
}

/// The events of one commit's outputs, in commit order, for which `wanted(tenant, type)`
/// is true; nothing is built for the others.
pub fn derive(outputs: &[Output], wanted: &mut dyn FnMut(&str, &str) -> bool) -> Vec<WebhookEvent> {
    let mut events = Vec::new();
    // The session record written right after each session event (they come in pairs, but
    // a step may change a session several times, so pair each event with the next one).
    let mut after: HashMap<usize, &SessionView> = HashMap::new();
    let mut next_record: HashMap<(&str, SessionId), &SessionView> = HashMap::new();
    for (index, output) in outputs.iter().enumerate().rev() {
        match output {
            Output::Persist {
                tenant_id,
                record: Record::Session { session },
            } => {
                next_record.insert((tenant_id.as_str(), session.session_id), session);
            }
            Output::Deliver {
                tenant_id,
                event:
                    Event::SessionStarted { session_id, .. }
                    | Event::SessionStatusChanged { session_id, .. },
                ..
            } => {
                if let Some(session) = next_record.get(&(tenant_id.as_str(), *session_id)) {
                    after.insert(index, session);
                }
            }
            _ => {}
        }
    }
    let mut tickets: HashMap<(&str, TicketId), &TicketView> = HashMap::new();
    for (index, output) in outputs.iter().enumerate() {
        let (tenant, event_type, data) = match output {
            Output::Deliver {
                tenant_id, event, ..
            } => {
                let tenant = tenant_id.as_str();
                match event {
                    Event::SessionStarted {
                        session_id,
                        status,
                        queue_id,
                    } if wanted(tenant, SESSION_STARTED) => (
                        tenant,
                        SESSION_STARTED,
                        json!({
                            "session_id": session_id,
                            "status": status,
                            "queue_id": queue_id,
                            "session": after.get(&index),
                        }),
                    ),
                    Event::SessionStatusChanged {
                        session_id,
                        status,
                        previous,
                        agent_id,
                        agent_name,
                        end_reason,
                    } if wanted(tenant, SESSION_STATUS_CHANGED) => (
                        tenant,
                        SESSION_STATUS_CHANGED,
                        json!({
                            "session_id": session_id,
                            "status": status,
                            "previous": previous,
                            "agent_id": agent_id,
                            "agent_name": agent_name,
                            "end_reason": end_reason,
                            "session": after.get(&index),
                        }),
                    ),
                    Event::SessionAssigned { session } if wanted(tenant, SESSION_ASSIGNED) => (
                        tenant,
                        SESSION_ASSIGNED,
                        json!({
                            "session_id": session.session_id,
                            "agent_id": session.agent_id,
                            "agent_name": session.agent_name,
                            "session": session,
                        }),
                    ),
                    _ => continue,
                }
            }
            Output::Persist { tenant_id, record } => {
                let tenant = tenant_id.as_str();
                match record {
                    Record::Ticket { ticket } => {
                        tickets.insert((tenant, ticket.ticket_id), ticket);
                        continue;
                    }
                    Record::Message { message } if wanted(tenant, MESSAGE_CREATED) => (
                        tenant,
                        MESSAGE_CREATED,
                        json!({ "session_id": message.session_id, "message": message }),
                    ),
                    Record::TicketAudit {
                        ticket_id,
                        actor_id,
                        action,
                        changes,
                        ..
                    } => {
                        let event_type = if action == "create" {
                            TICKET_CREATED
                        } else {
                            TICKET_UPDATED
                        };
                        if !wanted(tenant, event_type) {
                            continue;
                        }
                        let ticket = tickets.get(&(tenant, *ticket_id));
                        let data = if event_type == TICKET_CREATED {
                            json!({ "ticket_id": ticket_id, "ticket": ticket })
                        } else {
                            json!({
                                "ticket_id": ticket_id,
                                "action": action,
                                "actor_id": actor_id,
                                "changes": changes,
                                "ticket": ticket,
                            })
                        };
                        (tenant, event_type, data)
                    }
                    Record::TicketMessage { message } if wanted(tenant, TICKET_MESSAGE_CREATED) => {
                        (
                            tenant,
                            TICKET_MESSAGE_CREATED,
                            json!({ "ticket_id": message.ticket_id, "message": message }),
                        )
                    }
                    Record::Survey { survey }
                        if survey.answered_at.is_some() && wanted(tenant, CSAT_SUBMITTED) =>
                    {
                        (tenant, CSAT_SUBMITTED, json!({ "survey": survey }))
                    }
                    _ => continue,
                }
            }
            Output::Effect { .. } => continue,
        };
        events.push(WebhookEvent {
            tenant_id: tenant.to_owned(),
            event_type,
            data,
        });
    }
    events
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use switchboard_core::{Actor, Command, Engine, Role, Timestamp};

    fn outputs_of(engine: &mut Engine, actor: &Actor, command: Value) -> Vec<Output> {
        let command: Command = serde_json::from_value(command).expect("a command");
        engine
            .handle(Timestamp(1), actor, command)
            .expect("accepted");
        std::iter::from_fn(|| engine.poll_output()).collect()
    }

    /// The outputs of a visitor named Ann starting a chat with "hello" in tenant `t1`.
    pub(crate) fn started_chat() -> Vec<Output> {
        let mut engine = Engine::new(Default::default());
        let root = Actor::new("t1", "setup", Role::Superadmin);
        outputs_of(
            &mut engine,
            &root,
            json!({"type": "create_tenant", "settings": {"name": "T", "default_queue_id": "main"}}),
        );
        outputs_of(
            &mut engine,
            &root,
            json!({"type": "upsert_queue", "queue": {"id": "main", "name": "Main", "queue_when_no_agents": true}}),
        );
        let visitor = Actor::new("t1", "v1", Role::Visitor);
        outputs_of(
            &mut engine,
            &visitor,
            json!({"type": "start_session", "visitor": {"name": "Ann"}, "initial_message": "hello"}),
        )
    }

    #[test]
    fn a_started_chat_yields_its_session_and_message_events_for_wanted_types_only() {
        let outputs = started_chat();
        let all = derive(&outputs, &mut |_, _| true);
        let types: Vec<&str> = all.iter().map(|event| event.event_type).collect();
        assert_eq!(types.first(), Some(&SESSION_STARTED), "{types:?}");
        assert!(types.contains(&MESSAGE_CREATED), "{types:?}");
        assert!(types.contains(&SESSION_STATUS_CHANGED), "{types:?}");
        let started = &all[0];
        assert_eq!(started.tenant_id, "t1");
        assert_eq!(started.data["session"]["visitor"]["name"], "Ann");
        let changed = all
            .iter()
            .find(|event| event.event_type == SESSION_STATUS_CHANGED)
            .unwrap();
        assert_eq!(
            changed.data["session"]["status"], changed.data["status"],
            "each change carries the session as it stood right after it"
        );
        let message = all
            .iter()
            .find(|event| event.event_type == MESSAGE_CREATED)
            .expect("the first message");
        assert_eq!(message.data["message"]["body"], "hello");

        let only_messages = derive(&outputs, &mut |_, kind| kind == MESSAGE_CREATED);
        assert!(!only_messages.is_empty());
        assert!(
            only_messages
                .iter()
                .all(|event| event.event_type == MESSAGE_CREATED)
        );
        assert!(derive(&outputs, &mut |tenant, _| tenant != "t1").is_empty());
    }

    #[test]
    fn every_event_type_is_known_and_unique() {
        for name in EVENT_TYPES {
            assert!(is_event_type(name));
            assert_eq!(
                EVENT_TYPES.iter().filter(|other| **other == name).count(),
                1
            );
        }
        assert!(!is_event_type("session.*"));
    }
}
