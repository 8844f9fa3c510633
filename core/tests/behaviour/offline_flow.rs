//! When chat is not possible: no agent online, outside the tenant's or a department's
//! business hours, or past the queue's maximum wait, the widget offers "leave a message";
//! the message becomes a ticket the visitor and the department's agents hear of, and agents
//! coming online see the tickets nobody took. Also: an agent turns a chat into a ticket, and
//! a visitor has the transcript e-mailed.

use crate::support;

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::ids::{SessionId, TicketId};
use switchboard_core::protocol::event::OfflineReason;
use switchboard_core::protocol::helpdesk::{Channel, TicketStatus, TicketView};
use switchboard_core::protocol::model::{SessionStatus, TenantSettings};
use switchboard_core::{Actor, Command, CommandError, Effect, Event, Output, Reply};

/// 2023-11-14T10:00:00Z, a Tuesday.
const TUESDAY_10_UTC: i64 = 1_699_956_000_000;

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn run(h: &mut Harness, actor: &Actor, command: Value) -> Reply {
    h.ok(actor, cmd(command))
}

fn refuse(h: &mut Harness, actor: &Actor, command: Value) -> CommandError {
    h.err(actor, cmd(command))
}

fn view(h: &mut Harness, id: TicketId) -> TicketView {
    match run(
        h,
        &supervisor("boss"),
        json!({"type": "get_ticket", "ticket_id": id}),
    ) {
        Reply::Ticket { ticket } => *ticket,
        other => panic!("unexpected reply {other:?}"),
    }
}

fn created(reply: Reply) -> (TicketId, String) {
    match reply {
        Reply::TicketCreated { ticket_id, number } => (ticket_id, number),
        other => panic!("unexpected reply {other:?}"),
    }
}

fn leave_a_message(h: &mut Harness, visitor_id: &str, fields: Value) -> TicketId {
    let mut command = json!({"type": "submit_offline_message"});
    for (k, v) in fields.as_object().expect("an object") {
        command[k] = v.clone();
    }
    created(run(h, &visitor(visitor_id), command)).0
}

/// Whether the widget is told to offer "leave a message" for a queue, and whether it is open.
fn widget_status(h: &mut Harness, queue: &str) -> (bool, bool) {
    match run(
        h,
        &visitor("probe"),
        json!({"type": "get_queue_status", "queue_id": queue}),
    ) {
        Reply::QueueStatus { status } => (status.leave_a_message, status.open),
        other => panic!("unexpected reply {other:?}"),
    }
}

fn effects(h: &Harness) -> Vec<&Effect> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Effect { effect, .. } => Some(effect),
            _ => None,
        })
        .collect()
}

fn refused_reason(error: &CommandError) -> String {
    assert_eq!(error.code(), "unavailable");
    error.details()["reason"].as_str().unwrap().to_owned()
}

// ---- nobody online ----

#[test]
fn with_no_agent_online_a_chat_is_refused_and_the_widget_offers_to_leave_a_message() {
    let mut h = Harness::new();
    h.add_agent("alice", json!({"departments": ["support"]}));
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "start_session", "initial_message": "hello?"}),
    );
    assert_eq!(refused_reason(&error), "no_agents_online");
    assert_eq!(widget_status(&mut h, "support"), (true, true));
}

#[test]
fn an_offline_message_becomes_a_ticket_for_the_visitor() {
    let mut h = Harness::new();
    h.clear();
    let reply = run(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_offline_message", "name": "Vera", "email": "vera@example.com",
               "message": "\n  My order 42 is late  \nPlease call me back", "department_id": "support"}),
    );
    let (id, number) = created(reply);
    assert_eq!(number, "ACME-00001");
    let t = view(&mut h, id);
    assert_eq!(t.channel, Channel::OfflineMessage);
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.requester.visitor_id.as_deref(), Some("v1"));
    assert_eq!(t.requester.name.as_deref(), Some("Vera"));
    assert_eq!(t.requester.email.as_deref(), Some("vera@example.com"));
    assert_eq!(&*t.subject, "My order 42 is late", "the first line");
    assert_eq!(
        &*t.description,
        "\n  My order 42 is late  \nPlease call me back"
    );
    assert_eq!(t.department_id.as_deref(), Some("support"));
    let confirmations: Vec<_> = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .filter_map(|e| match e {
            Event::TicketReceived { ticket } => Some(ticket.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0].ticket_id, id);
    assert_eq!(&*confirmations[0].number, "ACME-00001");
    assert!(
        !h.event_names_for(&visitor_r("v1"))
            .contains(&"ticket_created"),
        "the staff view is not for the visitor"
    );
}

#[test]
fn an_offline_message_with_an_email_asks_the_host_to_confirm_by_mail() {
    let mut h = Harness::new();
    h.clear();
    let id = leave_a_message(
        &mut h,
        "v1",
        json!({"email": "vera@example.com", "subject": "Late order", "message": "Where is it?"}),
    );
    let sent = effects(&h);
    assert_eq!(sent.len(), 1);
    match sent[0] {
        Effect::EmailTicketConfirmation {
            ticket_id,
            number,
            subject,
            to,
        } => {
            assert_eq!(*ticket_id, id);
            assert_eq!(number, "ACME-00001");
            assert_eq!(subject, "Late order");
            assert_eq!(to, "vera@example.com");
        }
        other => panic!("unexpected effect {other:?}"),
    }
}

#[test]
fn an_offline_message_without_an_email_sends_no_confirmation_mail() {
    let mut h = Harness::new();
    h.clear();
    leave_a_message(&mut h, "v1", json!({"name": "Vera", "message": "Call me"}));
    assert!(effects(&h).is_empty());
    assert!(
        h.event_names_for(&visitor_r("v1"))
            .contains(&"ticket_received"),
        "the widget still confirms"
    );
}

#[test]
fn only_visitors_leave_offline_messages_and_the_message_is_required() {
    let mut h = Harness::new();
    h.add_agent("alice", json!({"departments": ["support"]}));
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "submit_offline_message", "message": "hi"}),
    );
    assert_eq!(error.code(), "forbidden");
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_offline_message", "message": "   "}),
    );
    assert_eq!(error.code(), "invalid_input");
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_offline_message", "message": "hi", "department_id": "ghost"}),
    );
    assert_eq!(error.code(), "not_found");
}

#[test]
fn online_agents_of_the_department_hear_of_the_new_ticket() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        cmd(json!({"type": "upsert_department", "department": {"id": "billing", "name": "Billing"}})),
    );
    h.online_agent("alice", json!({"departments": ["support"]}));
    h.online_agent("carol", json!({"departments": ["billing"]}));
    h.add_agent("dave", json!({"departments": ["support"]}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    h.clear();
    let id = leave_a_message(
        &mut h,
        "v1",
        json!({"message": "Broken", "department_id": "support"}),
    );
    let heard = |who: &str| {
        h.events_for(&staff(who))
            .into_iter()
            .any(|e| matches!(e, Event::TicketCreated { ticket } if ticket.ticket_id == id))
    };
    assert!(heard("alice"), "an online agent of the department");
    assert!(heard("boss"), "an online supervisor");
    assert!(!heard("carol"), "another department");
    assert!(!heard("dave"), "offline");
}

#[test]
fn an_agent_coming_online_sees_the_unassigned_tickets_of_their_teams_most_urgent_first() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        cmd(json!({"type": "upsert_department", "department": {"id": "billing", "name": "Billing"}})),
    );
    h.add_agent("alice", json!({"departments": ["support"]}));
    h.add_agent("bob", json!({"departments": ["support"]}));
    let medium = leave_a_message(
        &mut h,
        "v1",
        json!({"message": "Order late", "department_id": "support"}),
    );
    let host_ticket = |h: &mut Harness, fields: Value| {
        let mut command = json!({"type": "create_ticket", "subject": "From mail"});
        for (k, v) in fields.as_object().unwrap() {
            command[k] = v.clone();
        }
        created(run(h, &system(), command)).0
    };
    let critical = host_ticket(
        &mut h,
        json!({"priority": "critical", "department_id": "support"}),
    );
    host_ticket(
        &mut h,
        json!({"priority": "critical", "department_id": "billing"}),
    );
    host_ticket(
        &mut h,
        json!({"priority": "critical", "department_id": "support", "assignee_id": "bob"}),
    );
    let deleted = host_ticket(
        &mut h,
        json!({"priority": "critical", "department_id": "support"}),
    );
    run(
        &mut h,
        &system(),
        json!({"type": "delete_ticket", "ticket_id": deleted}),
    );
    let low_without_team = host_ticket(&mut h, json!({"priority": "low"}));
    h.clear();
    h.online("alice");
    let lists: Vec<_> = h
        .events_for(&staff("alice"))
        .into_iter()
        .filter_map(|e| match e {
            Event::UnassignedTickets { tickets, total } => Some((
                tickets.iter().map(|t| t.ticket_id).collect::<Vec<_>>(),
                *total,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(lists, vec![(vec![critical, medium, low_without_team], 3)]);
    assert!(
        !h.event_names_for(&staff("bob"))
            .contains(&"unassigned_tickets"),
        "only the agent coming online"
    );
}

// ---- business hours ----

/// Agents online in support; the clock on a Tuesday morning.
fn desk_with_hours(settings: Value) -> Harness {
    let settings: TenantSettings = serde_json::from_value(settings).unwrap();
    let mut h = Harness::with_settings(settings);
    h.now = TUESDAY_10_UTC;
    h.online_agent("alice", json!({}));
    h.clear();
    h
}

#[test]
fn outside_the_tenants_business_hours_a_chat_is_refused_and_a_message_can_be_left() {
    let mut h = desk_with_hours(json!({"business_hours": {
        "time_zone": "UTC", "weekly": {"saturday": {"start": "09:00", "end": "17:00"}}}}));
    let error = refuse(&mut h, &visitor("v1"), json!({"type": "start_session"}));
    assert_eq!(refused_reason(&error), "outside_business_hours");
    assert_eq!(
        widget_status(&mut h, "support"),
        (true, false),
        "leave a message, closed"
    );
    let id = leave_a_message(&mut h, "v1", json!({"message": "See you Saturday"}));
    assert_eq!(view(&mut h, id).channel, Channel::OfflineMessage);
}

#[test]
fn a_closed_department_calendar_refuses_chats_while_the_tenant_is_open() {
    let mut h = desk_with_hours(json!({"business_hours": {
        "time_zone": "UTC", "weekly": {"tuesday": {"start": "00:00", "end": "24:00"}}}}));
    h.start("v0", json!({"department_id": "support"}));
    assert_eq!(widget_status(&mut h, "support"), (false, true));
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_calendar", "calendar": {"id": "weekend", "name": "Weekend",
               "time_zone": "UTC", "weekly": {"saturday": {"start": "09:00", "end": "17:00"}}}}),
    );
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_department", "department": {"id": "support", "name": "Support",
               "calendar_id": "weekend"}}),
    );
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "start_session", "department_id": "support"}),
    );
    assert_eq!(refused_reason(&error), "outside_business_hours");
    assert_eq!(widget_status(&mut h, "support"), (true, false));
    leave_a_message(
        &mut h,
        "v1",
        json!({"message": "Weekend question", "department_id": "support"}),
    );
}

// ---- maximum wait ----

#[test]
fn after_the_maximum_wait_the_chat_ends_missed_and_the_visitor_leaves_a_message() {
    let mut h = Harness::new();
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support",
               "queue_when_no_agents": true, "max_wait_ms": 60_000}}),
    );
    let session = h.start("v1", json!({}));
    let session_id: SessionId = session.parse().unwrap();
    h.advance(59_999);
    assert_eq!(h.status("v1", &session), "queued");
    h.clear();
    h.advance(1);
    let events = h.events_for(&visitor_r("v1"));
    assert!(events.iter().any(
        |e| matches!(e, Event::LeaveAMessage { session_id: Some(s), reason }
        if *s == session_id && *reason == OfflineReason::MaxWait)
    ));
    assert!(events.iter().any(
        |e| matches!(e, Event::SessionStatusChanged { status, .. } if *status == SessionStatus::Missed)
    ));
    assert!(h.session_json(&session).is_none());
    let id = leave_a_message(
        &mut h,
        "v1",
        json!({"message": "Nobody answered", "email": "vera@example.com", "session_id": session}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.channel, Channel::OfflineMessage);
    assert_eq!(t.requester.visitor_id.as_deref(), Some("v1"));
}

#[test]
fn an_offline_message_cannot_name_another_visitors_chat() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    let error = refuse(
        &mut h,
        &visitor("v2"),
        json!({"type": "submit_offline_message", "message": "hi", "session_id": session}),
    );
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "session");
}

// ---- converting a chat ----

/// Alice chats with Vera (v1), who came with an e-mail address and an issue type.
fn active_chat(h: &mut Harness) -> String {
    h.online_agent("alice", json!({}));
    let session = h.start(
        "v1",
        json!({"visitor": {"name": "Vera", "email": "vera@example.com"},
               "issue_type": "billing", "department_id": "support"}),
    );
    run(
        h,
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    );
    session
}

#[test]
fn an_agent_turns_their_chat_into_a_ticket_they_own() {
    let mut h = Harness::new();
    let session = active_chat(&mut h);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_tags", "session_id": session, "tags": ["vip"]}),
    );
    let (id, _) = created(run(
        &mut h,
        &agent("alice"),
        json!({"type": "convert_session_to_ticket", "session_id": session, "priority": "high",
               "description": "Needs a refund from accounting"}),
    ));
    let t = view(&mut h, id);
    assert_eq!(t.channel, Channel::Chat);
    assert_eq!(t.requester.visitor_id.as_deref(), Some("v1"));
    assert_eq!(t.requester.name.as_deref(), Some("Vera"));
    assert_eq!(t.requester.email.as_deref(), Some("vera@example.com"));
    assert_eq!(t.source_session_id, Some(session.parse().unwrap()));
    assert_eq!(t.assignee_id.as_deref(), Some("alice"));
    assert_eq!(&*t.subject, "Chat: billing");
    assert_eq!(&*t.description, "Needs a refund from accounting");
    assert_eq!(t.priority.as_str(), "high");
    assert_eq!(t.department_id.as_deref(), Some("support"));
    assert_eq!(t.tags, vec![std::sync::Arc::from("vip")]);
    assert_eq!(&*t.created_by, "alice");
    assert_eq!(h.status("v1", &session), "active", "the chat goes on");
}

#[test]
fn a_visitor_or_an_agent_not_holding_the_chat_cannot_convert_it() {
    let mut h = Harness::new();
    let session = active_chat(&mut h);
    h.online_agent("bob", json!({}));
    let convert = json!({"type": "convert_session_to_ticket", "session_id": session});
    for who in [visitor("v1"), agent("bob")] {
        let error = refuse(&mut h, &who, convert.clone());
        assert_eq!(error.code(), "forbidden", "{who:?}");
    }
    let error = refuse(&mut h, &visitor("v2"), convert);
    assert_eq!(error.code(), "not_found");
}

// ---- transcripts ----

fn transcript_sent_to(h: &Harness, session: &str) -> Vec<String> {
    effects(h)
        .into_iter()
        .filter_map(|e| match e {
            Effect::EmailTranscript { session_id, to } if session_id.to_string() == session => {
                Some(to.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_visitor_has_the_transcript_emailed_to_their_profile_address() {
    let mut h = Harness::new();
    let session = active_chat(&mut h);
    h.clear();
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "email_transcript", "session_id": session}),
    );
    assert_eq!(transcript_sent_to(&h, &session), vec!["vera@example.com"]);
}

#[test]
fn staff_may_send_the_transcript_to_another_address_but_a_visitor_may_not() {
    let mut h = Harness::new();
    let session = active_chat(&mut h);
    h.clear();
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "email_transcript", "session_id": session, "email": "work@example.com"}),
    );
    assert_eq!(error.code(), "forbidden");
    run(
        &mut h,
        &support::supervisor("sam"),
        json!({"type": "email_transcript", "session_id": session, "email": "work@example.com"}),
    );
    assert_eq!(transcript_sent_to(&h, &session), vec!["work@example.com"]);
}

#[test]
fn after_the_chat_ends_only_the_host_may_have_its_transcript_emailed_to_an_address_it_names() {
    let mut h = Harness::new();
    let session = active_chat(&mut h);
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "leave_session", "session_id": session}),
    );
    h.clear();
    let by_visitor = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "email_transcript", "session_id": session}),
    );
    assert_eq!(by_visitor.code(), "not_found", "the engine forgot the chat");
    let by_supervisor = refuse(
        &mut h,
        &support::supervisor("sam"),
        json!({"type": "email_transcript", "session_id": session, "email": "x@example.com"}),
    );
    assert_eq!(by_supervisor.code(), "not_found");
    let without_address = refuse(
        &mut h,
        &system(),
        json!({"type": "email_transcript", "session_id": session}),
    );
    assert_eq!(without_address.code(), "invalid_input");
    let never_issued = refuse(
        &mut h,
        &system(),
        json!({"type": "email_transcript", "session_id": "ses_999", "email": "vera@example.com"}),
    );
    assert_eq!(never_issued.code(), "not_found");
    assert!(transcript_sent_to(&h, &session).is_empty());
    run(
        &mut h,
        &system(),
        json!({"type": "email_transcript", "session_id": session, "email": "vera@example.com"}),
    );
    assert_eq!(transcript_sent_to(&h, &session), vec!["vera@example.com"]);
}

#[test]
fn a_transcript_without_an_address_is_refused() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({"visitor": {"name": "Vera"}}));
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "email_transcript", "session_id": session}),
    );
    assert_eq!(error.code(), "invalid_input");
    assert_eq!(error.details()["field"], "email");
    let error = refuse(
        &mut h,
        &support::supervisor("sam"),
        json!({"type": "email_transcript", "session_id": session, "email": "not an address"}),
    );
    assert_eq!(error.code(), "invalid_input");
    let error = refuse(
        &mut h,
        &visitor("v2"),
        json!({"type": "email_transcript", "session_id": session, "email": "x@example.com"}),
    );
    assert_eq!(error.code(), "not_found");
}
