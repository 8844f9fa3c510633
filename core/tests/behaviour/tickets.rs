//! Tickets: numbering per tenant, creation by staff, visitors and the host, templates, the
//! status graph, what replies and notes set in motion, assignment, tags, soft delete, the
//! audit trail, size limits, tenant isolation, who sees what, filtered pages and the
//! automatic close of resolved tickets.

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::ids::TicketId;
use switchboard_core::protocol::helpdesk::{FieldChange, TicketStatus, TicketView};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{
    Actor, Command, CommandError, Event, Output, Recipient, Record, Reply, Role, Timestamp,
};

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn boss() -> Actor {
    supervisor("boss")
}

fn viewer() -> Actor {
    Actor::new(TENANT, "watcher", Role::Viewer)
}

/// A help desk: agents alice and bob in support, carol in billing, an online supervisor
/// and a viewer.
fn desk() -> Harness {
    desk_with(TenantSettings::default())
}

fn desk_with(settings: TenantSettings) -> Harness {
    let mut h = Harness::with_settings(settings);
    h.ok(
        &admin(),
        cmd(json!({"type": "upsert_department", "department": {"id": "billing", "name": "Billing"}})),
    );
    h.add_agent("alice", json!({"departments": ["support"]}));
    h.add_agent("bob", json!({"departments": ["support"]}));
    h.add_agent("carol", json!({"departments": ["billing"]}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.add_agent("watcher", json!({"role": "viewer"}));
    h.online("boss");
    h.clear();
    h
}

/// Creates a ticket from JSON fields and returns its id and number.
fn create(h: &mut Harness, actor: &Actor, fields: Value) -> (TicketId, String) {
    let mut command = json!({"type": "create_ticket"});
    for (k, v) in fields.as_object().expect("an object") {
        command[k] = v.clone();
    }
    match h.ok(actor, cmd(command)) {
        Reply::TicketCreated { ticket_id, number } => (ticket_id, number),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// A ticket asked by visitor v1, created by alice.
fn ticket_for_v1(h: &mut Harness) -> TicketId {
    create(
        h,
        &agent("alice"),
        json!({"subject": "Printer on fire", "description": "Smoke everywhere",
               "requester": {"visitor_id": "v1", "name": "Vera"}}),
    )
    .0
}

fn run(h: &mut Harness, actor: &Actor, command: Value) -> Reply {
    h.ok(actor, cmd(command))
}

fn refuse(h: &mut Harness, actor: &Actor, command: Value) -> CommandError {
    h.err(actor, cmd(command))
}

/// The ticket as a supervisor sees it.
fn view(h: &mut Harness, id: TicketId) -> TicketView {
    match run(h, &boss(), json!({"type": "get_ticket", "ticket_id": id})) {
        Reply::Ticket { ticket } => *ticket,
        other => panic!("unexpected reply {other:?}"),
    }
}

fn set_status(h: &mut Harness, actor: &Actor, id: TicketId, status: &str) {
    run(
        h,
        actor,
        json!({"type": "set_ticket_status", "ticket_id": id, "status": status}),
    );
}

fn list(h: &mut Harness, actor: &Actor, filter: Value) -> (Vec<TicketId>, Option<TicketId>) {
    match run(h, actor, json!({"type": "list_tickets", "filter": filter})) {
        Reply::Tickets { items, next_after } => {
            (items.iter().map(|t| t.ticket_id).collect(), next_after)
        }
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Audit entries for a ticket since the last clear: (actor, role, action, changes).
fn audits(h: &Harness, id: TicketId) -> Vec<(String, Role, String, Vec<FieldChange>)> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record:
                    Record::TicketAudit {
                        ticket_id,
                        actor_id,
                        actor_role,
                        action,
                        changes,
                        ..
                    },
                ..
            } if *ticket_id == id => Some((
                actor_id.to_string(),
                *actor_role,
                action.to_string(),
                changes.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn change(field: &str, from: Value, to: Value) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        from,
        to,
    }
}

// ---- numbering ----

#[test]
fn ticket_numbers_count_up_per_tenant_from_the_tenant_id_in_capitals() {
    let mut h = desk();
    let (_, first) = create(&mut h, &agent("alice"), json!({"subject": "one"}));
    let (_, second) = create(&mut h, &agent("alice"), json!({"subject": "two"}));
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("ACME-00001", "ACME-00002")
    );

    let root = Actor::new("globex", "root", Role::Superadmin);
    h.ok(
        &root,
        Command::CreateTenant {
            settings: TenantSettings::default(),
        },
    );
    let other = Actor::new("globex", "admin", Role::TenantAdmin);
    let (_, theirs) = create(&mut h, &other, json!({"subject": "elsewhere"}));
    assert_eq!(theirs, "GLOBEX-00001");
    let (_, third) = create(&mut h, &agent("alice"), json!({"subject": "three"}));
    assert_eq!(
        third, "ACME-00003",
        "the other tenant's ticket took no number here"
    );
}

#[test]
fn a_configured_ticket_prefix_replaces_the_tenant_id() {
    let settings = serde_json::from_value(json!({"ticket_prefix": "HELP"})).unwrap();
    let mut h = desk_with(settings);
    let (id, number) = create(&mut h, &agent("alice"), json!({"subject": "one"}));
    assert_eq!(number, "HELP-00001");
    assert_eq!(&*view(&mut h, id).number, "HELP-00001");
}

// ---- creation ----

#[test]
fn an_agent_creates_a_ticket_with_every_field() {
    let mut h = desk();
    let due = h.now + 86_400_000;
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({
            "subject": "Invoice wrong",
            "description": "Charged twice",
            "requester": {"visitor_id": "v1", "name": "Vera", "email": "vera@example.com"},
            "priority": "high",
            "channel": "email",
            "department_id": "billing",
            "team_id": "billing",
            "assignee_id": "carol",
            "tags": ["refund", "vip"],
            "due_at": due,
        }),
    );
    let t = view(&mut h, id);
    assert_eq!(&*t.subject, "Invoice wrong");
    assert_eq!(&*t.description, "Charged twice");
    assert_eq!(t.requester.visitor_id.as_deref(), Some("v1"));
    assert_eq!(t.requester.name.as_deref(), Some("Vera"));
    assert_eq!(t.requester.email.as_deref(), Some("vera@example.com"));
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.priority.as_str(), "high");
    assert_eq!(serde_json::to_value(t.channel).unwrap(), "email");
    assert_eq!(t.department_id.as_deref(), Some("billing"));
    assert_eq!(t.team_id.as_deref(), Some("billing"));
    assert_eq!(t.assignee_id.as_deref(), Some("carol"));
    assert_eq!(
        t.tags,
        vec!["refund".into(), "vip".into()] as Vec<std::sync::Arc<str>>
    );
    assert_eq!(t.due_at, Some(Timestamp(due)));
    assert_eq!(&*t.created_by, "alice");
    assert_eq!(t.created_at, Timestamp(h.now));
    assert_eq!(t.first_response_at, None);
}

#[test]
fn a_visitors_ticket_names_the_visitor_as_requester_whatever_they_write() {
    let mut h = desk();
    let (id, number) = create(
        &mut h,
        &visitor("v1"),
        json!({"subject": "Help", "description": "It broke", "department_id": "support",
               "requester": {"visitor_id": "v2", "name": "Vera"}}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.requester.visitor_id.as_deref(), Some("v1"));
    assert_eq!(t.requester.name.as_deref(), Some("Vera"));
    assert_eq!(&*t.created_by, "v1");
    assert_eq!(t.priority.as_str(), "medium");
    let confirmed = h.events_for(&visitor_r("v1")).into_iter().any(
        |e| matches!(e, Event::TicketReceived { ticket } if ticket.ticket_id == id && *ticket.number == *number),
    );
    assert!(confirmed, "the visitor is told their ticket exists");
    assert!(h.events_for(&visitor_r("v2")).is_empty());
}

#[test]
fn a_visitor_may_not_set_staff_fields_on_a_new_ticket() {
    let mut h = desk();
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_ticket_template", "template": {"id": "tech", "name": "Tech", "subject": "Tech"}}),
    );
    for field in [
        json!({"priority": "critical"}),
        json!({"team_id": "support"}),
        json!({"assignee_id": "alice"}),
        json!({"tags": ["vip"]}),
        json!({"due_at": 5}),
        json!({"template_id": "tech"}),
    ] {
        let mut command = json!({"type": "create_ticket", "subject": "Help"});
        for (k, v) in field.as_object().unwrap() {
            command[k] = v.clone();
        }
        let error = refuse(&mut h, &visitor("v1"), command);
        assert_eq!(error.code(), "forbidden", "{field}");
    }
}

#[test]
fn the_host_creates_tickets_with_the_system_role() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &system(),
        json!({"subject": "Re: order 42", "description": "From mail", "channel": "email",
               "requester": {"name": "Vera", "email": "vera@example.com"}}),
    );
    let t = view(&mut h, id);
    assert_eq!(&*t.created_by, "host");
    assert_eq!(serde_json::to_value(t.channel).unwrap(), "email");
    assert_eq!(t.requester.visitor_id, None);
    let entries = audits(&h, id);
    assert_eq!(entries[0].0, "host");
    assert_eq!(entries[0].1, Role::System);
    assert_eq!(entries[0].2, "create");
}

#[test]
fn a_template_fills_in_subject_and_description_and_applies_its_defaults() {
    let mut h = desk();
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_ticket_template", "template": {
            "id": "tech", "name": "Technical issue",
            "subject": "Technical issue: {{issue_type}}",
            "description": "Module {{module}} fails for {{ customer }}.",
            "priority": "high", "team_id": "billing", "tags": ["tech", "from-template"]}}),
    );
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"template_id": "tech", "tags": ["vip"],
               "variables": {"issue_type": "Login", "module": "Auth", "customer": "Acme"}}),
    );
    let t = view(&mut h, id);
    assert_eq!(&*t.subject, "Technical issue: Login");
    assert_eq!(&*t.description, "Module Auth fails for Acme.");
    assert_eq!(t.priority.as_str(), "high");
    assert_eq!(t.team_id.as_deref(), Some("billing"));
    let tags: Vec<&str> = t.tags.iter().map(|t| &**t).collect();
    assert_eq!(tags, vec!["from-template", "tech", "vip"]);
    assert_eq!(t.template_id.as_deref(), Some("tech"));
}

#[test]
fn a_subject_and_priority_given_at_creation_win_over_the_template() {
    let mut h = desk();
    run(
        &mut h,
        &admin(),
        json!({"type": "upsert_ticket_template", "template": {
            "id": "tech", "name": "Tech", "subject": "Technical issue: {{issue_type}}",
            "priority": "high"}}),
    );
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"template_id": "tech", "subject": "My own words", "priority": "low"}),
    );
    let t = view(&mut h, id);
    assert_eq!(&*t.subject, "My own words");
    assert_eq!(t.priority.as_str(), "low");
}

#[test]
fn an_unknown_template_is_not_found() {
    let mut h = desk();
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "create_ticket", "template_id": "ghost"}),
    );
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "ticket_template");
}

// ---- the status graph ----

/// A fresh ticket brought to `status` by allowed moves.
fn ticket_in(h: &mut Harness, status: &str) -> TicketId {
    let (id, _) = create(h, &agent("alice"), json!({"subject": "graph"}));
    if status != "open" {
        set_status(h, &agent("alice"), id, status);
    }
    id
}

#[test]
fn every_allowed_status_move_is_taken() {
    let mut h = desk();
    let moves = [
        ("open", "in_progress"),
        ("open", "pending"),
        ("open", "resolved"),
        ("in_progress", "open"),
        ("in_progress", "pending"),
        ("in_progress", "resolved"),
        ("pending", "open"),
        ("pending", "in_progress"),
        ("pending", "resolved"),
        ("resolved", "open"),
        ("resolved", "in_progress"),
        ("resolved", "closed"),
    ];
    for (from, to) in moves {
        let id = ticket_in(&mut h, from);
        assert_eq!(view(&mut h, id).status.as_str(), from);
        h.clear();
        set_status(&mut h, &agent("alice"), id, to);
        let recorded = h.outputs.iter().any(|o| {
            matches!(o, Output::Persist { record: Record::Ticket { ticket }, .. }
                if ticket.ticket_id == id && ticket.status.as_str() == to)
        });
        assert!(recorded, "{from} -> {to} was not recorded");
        if to != "closed" {
            assert_eq!(view(&mut h, id).status.as_str(), to, "{from} -> {to}");
        }
    }
}

#[test]
fn illegal_status_moves_are_refused_and_change_nothing() {
    let mut h = desk();
    for (from, to) in [
        ("open", "closed"),
        ("in_progress", "closed"),
        ("pending", "closed"),
        ("resolved", "pending"),
    ] {
        let id = ticket_in(&mut h, from);
        let error = refuse(
            &mut h,
            &agent("alice"),
            json!({"type": "set_ticket_status", "ticket_id": id, "status": to}),
        );
        assert_eq!(error.code(), "illegal_transition", "{from} -> {to}");
        assert_eq!(error.details()["state"], from);
        assert_eq!(view(&mut h, id).status.as_str(), from);
    }
}

#[test]
fn setting_the_current_status_again_changes_nothing() {
    let mut h = desk();
    let id = ticket_in(&mut h, "pending");
    let before = h.engine.clone();
    h.clear();
    set_status(&mut h, &agent("alice"), id, "pending");
    assert!(h.outputs.is_empty());
    assert!(before == h.engine);
}

// ---- replies ----

#[test]
fn an_agents_first_public_reply_takes_an_open_ticket_in_progress() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    h.now += 5_000;
    let replied_at = h.now;
    h.clear();
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "On it"}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.status, TicketStatus::InProgress);
    assert_eq!(t.first_response_at, Some(Timestamp(replied_at)));
    let reply = audits(&h, id).into_iter().find(|a| a.2 == "reply").unwrap();
    assert!(
        reply
            .3
            .contains(&change("status", json!("open"), json!("in_progress")))
    );
    h.now += 5_000;
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Still on it"}),
    );
    assert_eq!(
        view(&mut h, id).first_response_at,
        Some(Timestamp(replied_at)),
        "only the first reply counts"
    );
}

#[test]
fn an_agent_answering_an_unassigned_ticket_takes_it() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &visitor("v1"),
        json!({"subject": "Anyone?", "department_id": "support"}),
    );
    h.clear();
    run(
        &mut h,
        &agent("bob"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "I will help"}),
    );
    assert_eq!(view(&mut h, id).assignee_id.as_deref(), Some("bob"));
    let reply = audits(&h, id).into_iter().find(|a| a.2 == "reply").unwrap();
    assert!(
        reply
            .3
            .contains(&change("assignee_id", Value::Null, json!("bob")))
    );
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Me too"}),
    );
    assert_eq!(
        view(&mut h, id).assignee_id.as_deref(),
        Some("bob"),
        "an assigned ticket keeps its assignee"
    );
}

#[test]
fn an_internal_note_is_not_a_first_response() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Looks odd", "internal": true}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.first_response_at, None);
    assert_eq!(t.message_count, 1);
}

#[test]
fn a_customer_reply_reopens_a_pending_ticket() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    set_status(&mut h, &agent("alice"), id, "pending");
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Here is the log"}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.reopen_count, 0, "pending is not a reopen");
}

#[test]
fn a_customer_reply_reopens_a_resolved_ticket_and_counts_the_reopen() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    set_status(&mut h, &agent("alice"), id, "resolved");
    h.clear();
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Still broken"}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.reopen_count, 1);
    let entry = audits(&h, id)
        .into_iter()
        .find(|a| a.2 == "customer_reply")
        .unwrap();
    assert_eq!((entry.0.as_str(), entry.1), ("v1", Role::Visitor));
    assert_eq!(
        entry.3,
        vec![change("status", json!("resolved"), json!("open"))]
    );
}

#[test]
fn internal_notes_never_reach_the_requester() {
    let mut h = desk();
    h.online("alice");
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "Refund", "requester": {"visitor_id": "v1"}, "assignee_id": "alice"}),
    );
    h.clear();
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "SECRET-NOTE customer is difficult", "internal": true}),
    );
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "We refunded you"}),
    );
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "Thanks"}),
    );
    let mut notes = 0;
    for output in &h.outputs {
        let Output::Deliver { to, event, .. } = output else {
            continue;
        };
        let to_visitor = to.iter().any(|r| matches!(r, Recipient::Visitor { .. }));
        if let Event::TicketMessage { message } = event
            && message.internal
        {
            notes += 1;
            assert!(!to_visitor, "an internal note went to {to:?}");
            assert!(to.contains(&staff("alice")));
        }
        if to_visitor {
            let text = serde_json::to_string(event).unwrap();
            assert!(!text.contains("SECRET-NOTE"), "leaked in {text}");
        }
    }
    assert_eq!(notes, 1);
    let public: Vec<_> = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .filter(|e| matches!(e, Event::TicketMessage { .. }))
        .collect();
    assert_eq!(public.len(), 2, "both public messages reach the requester");
}

#[test]
fn requesters_cannot_write_internal_notes() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "psst", "internal": true}),
    );
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn attachments_on_a_message_keep_their_metadata() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    let file = json!({"name": "log.txt", "mime_type": "text/plain", "size_bytes": 2048,
                      "url": "https://files.example.com/log.txt"});
    h.clear();
    let seq = match run(
        &mut h,
        &visitor("v1"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "", "attachments": [file]}),
    ) {
        Reply::TicketMessageAdded { seq, .. } => seq,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(seq, 1);
    let stored = h
        .outputs
        .iter()
        .find_map(|o| match o {
            Output::Persist {
                record: Record::TicketMessage { message },
                ..
            } => Some(message.clone()),
            _ => None,
        })
        .expect("the message is recorded");
    assert_eq!(
        serde_json::to_value(&stored.attachments).unwrap(),
        json!([file])
    );
    let delivered = h.events_for(&visitor_r("v1")).into_iter().any(|e| {
        matches!(e, Event::TicketMessage { message } if message.attachments == stored.attachments)
    });
    assert!(delivered);
}

// ---- assignment ----

#[test]
fn a_ticket_is_assigned_to_an_agent_and_a_team() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "carol", "team_id": "billing"}),
    );
    let t = view(&mut h, id);
    assert_eq!(t.assignee_id.as_deref(), Some("carol"));
    assert_eq!(t.team_id.as_deref(), Some("billing"));
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "assign_ticket", "ticket_id": id}),
    );
    let t = view(&mut h, id);
    assert_eq!(
        (t.assignee_id, t.team_id),
        (None, None),
        "omitted fields clear"
    );
}

#[test]
fn a_viewer_cannot_be_assigned_a_ticket_and_an_unknown_agent_is_not_found() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "watcher"}),
    );
    assert_eq!(error.code(), "invalid_input");
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "ghost"}),
    );
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "agent");
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "create_ticket", "subject": "x", "assignee_id": "watcher"}),
    );
    assert_eq!(error.code(), "invalid_input");
}

#[test]
fn the_previous_assignee_hears_of_a_reassignment() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "Move me", "assignee_id": "alice"}),
    );
    h.clear();
    run(
        &mut h,
        &boss(),
        json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "bob"}),
    );
    let told = |who: &str| {
        h.events_for(&staff(who)).into_iter().any(|e| {
            matches!(e, Event::TicketUpdated { changes, .. }
                if changes.contains(&change("assignee_id", json!("alice"), json!("bob"))))
        })
    };
    assert!(told("alice"), "the previous assignee");
    assert!(told("bob"), "the new assignee");
    assert!(!told("carol"));
}

// ---- tags ----

#[test]
fn ticket_tags_are_trimmed_sorted_and_deduplicated() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "Tags", "tags": [" vip ", "refund", "vip"]}),
    );
    let tags = |h: &mut Harness| -> Vec<String> {
        view(h, id).tags.iter().map(|t| t.to_string()).collect()
    };
    assert_eq!(tags(&mut h), vec!["refund", "vip"]);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_tags", "ticket_id": id, "tags": ["  billing", "vip", "billing "]}),
    );
    assert_eq!(tags(&mut h), vec!["billing", "refund", "vip"]);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "remove_ticket_tags", "ticket_id": id, "tags": [" vip  ", "missing"]}),
    );
    assert_eq!(tags(&mut h), vec!["billing", "refund"]);
    h.clear();
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_tags", "ticket_id": id, "tags": ["refund "]}),
    );
    assert!(
        audits(&h, id).is_empty(),
        "nothing changed, nothing audited"
    );
}

// ---- soft delete ----

#[test]
fn a_deleted_ticket_is_hidden_from_everyone_but_supervisors_until_restored() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    run(
        &mut h,
        &boss(),
        json!({"type": "delete_ticket", "ticket_id": id}),
    );
    for who in [agent("alice"), visitor("v1")] {
        let error = refuse(&mut h, &who, json!({"type": "get_ticket", "ticket_id": id}));
        assert_eq!(error.code(), "not_found", "{who:?}");
    }
    assert_eq!(list(&mut h, &agent("alice"), json!({})).0, vec![]);
    assert_eq!(list(&mut h, &boss(), json!({})).0, vec![]);
    assert_eq!(
        list(&mut h, &boss(), json!({"include_deleted": true})).0,
        vec![id]
    );
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "list_tickets", "filter": {"include_deleted": true}}),
    );
    assert_eq!(error.code(), "forbidden");
    assert!(view(&mut h, id).deleted_at.is_some());

    run(
        &mut h,
        &boss(),
        json!({"type": "restore_ticket", "ticket_id": id}),
    );
    assert!(matches!(
        run(
            &mut h,
            &agent("alice"),
            json!({"type": "get_ticket", "ticket_id": id})
        ),
        Reply::Ticket { .. }
    ));
    assert_eq!(list(&mut h, &agent("alice"), json!({})).0, vec![id]);
    assert_eq!(view(&mut h, id).deleted_at, None);
}

#[test]
fn only_supervisors_delete_and_restore_tickets() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "delete_ticket", "ticket_id": id}),
    );
    assert_eq!(error.code(), "forbidden");
    run(
        &mut h,
        &boss(),
        json!({"type": "delete_ticket", "ticket_id": id}),
    );
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "restore_ticket", "ticket_id": id}),
    );
    assert_eq!(error.code(), "not_found", "agents do not even see it");
}

// ---- the audit trail ----

#[test]
fn every_ticket_change_writes_an_audit_entry_with_actor_action_and_changes() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "Old", "priority": "high"}),
    );
    // One second between steps: the delete is the sixth.
    let deleted_at = h.now + 6_000;
    let steps = [
        (
            agent("alice"),
            json!({"type": "update_ticket", "ticket_id": id, "changes": {"subject": "New", "priority": "low"}}),
        ),
        (
            agent("alice"),
            json!({"type": "set_ticket_status", "ticket_id": id, "status": "pending"}),
        ),
        (
            agent("bob"),
            json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "alice"}),
        ),
        (
            agent("alice"),
            json!({"type": "add_ticket_tags", "ticket_id": id, "tags": ["vip"]}),
        ),
        (
            agent("alice"),
            json!({"type": "remove_ticket_tags", "ticket_id": id, "tags": ["vip"]}),
        ),
        (boss(), json!({"type": "delete_ticket", "ticket_id": id})),
        (boss(), json!({"type": "restore_ticket", "ticket_id": id})),
    ];
    for (actor, command) in steps {
        h.now += 1_000;
        run(&mut h, &actor, command);
    }
    let entries = audits(&h, id);
    let expected = vec![
        (
            "alice",
            Role::Agent,
            "create",
            vec![
                change("status", Value::Null, json!("open")),
                change("priority", Value::Null, json!("high")),
            ],
        ),
        (
            "alice",
            Role::Agent,
            "update",
            vec![
                change("subject", json!("Old"), json!("New")),
                change("priority", json!("high"), json!("low")),
            ],
        ),
        (
            "alice",
            Role::Agent,
            "set_status",
            vec![change("status", json!("open"), json!("pending"))],
        ),
        (
            "bob",
            Role::Agent,
            "assign",
            vec![change("assignee_id", Value::Null, json!("alice"))],
        ),
        (
            "alice",
            Role::Agent,
            "tags",
            vec![change("tags", json!([]), json!(["vip"]))],
        ),
        (
            "alice",
            Role::Agent,
            "tags",
            vec![change("tags", json!(["vip"]), json!([]))],
        ),
        (
            "boss",
            Role::Supervisor,
            "delete",
            vec![change("deleted_at", Value::Null, json!(deleted_at))],
        ),
        (
            "boss",
            Role::Supervisor,
            "restore",
            vec![change("deleted_at", json!(deleted_at), Value::Null)],
        ),
    ];
    assert_eq!(entries.len(), expected.len(), "{entries:#?}");
    for (entry, (actor, role, action, changes)) in entries.iter().zip(expected) {
        assert_eq!(
            (entry.0.as_str(), entry.1, entry.2.as_str()),
            (actor, role, action)
        );
        assert_eq!(entry.3, changes, "{action}");
    }
}

// ---- limits ----

#[test]
fn oversized_ticket_input_is_a_typed_error_that_changes_nothing() {
    let mut h = desk();
    let limits = h.engine.config().limits.clone();
    let long_subject = "s".repeat(limits.max_long_text_bytes + 1);
    let long_text = "d".repeat(limits.max_ticket_text_bytes + 1);
    let many_tags: Vec<String> = (0..=limits.max_list_entries)
        .map(|n| format!("t{n}"))
        .collect();
    let cases = [
        (
            json!({"type": "create_ticket", "subject": long_subject}),
            "too_long",
            "subject",
        ),
        (
            json!({"type": "create_ticket", "subject": "ok", "description": long_text}),
            "too_long",
            "description",
        ),
        (
            json!({"type": "create_ticket", "subject": "ok", "tags": many_tags}),
            "limit_reached",
            "tags",
        ),
        (
            json!({"type": "create_ticket", "subject": "  "}),
            "invalid_input",
            "subject",
        ),
    ];
    for (command, code, field) in cases {
        let error = refuse(&mut h, &agent("alice"), command);
        assert_eq!(error.code(), code, "{field}");
    }
    let id = ticket_for_v1(&mut h);
    let half: Vec<String> = (0..limits.max_list_entries / 2 + 1)
        .map(|n| format!("a{n}"))
        .collect();
    let other_half: Vec<String> = (0..limits.max_list_entries / 2 + 1)
        .map(|n| format!("b{n}"))
        .collect();
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "add_ticket_tags", "ticket_id": id, "tags": half}),
    );
    let cases = [
        (
            json!({"type": "update_ticket", "ticket_id": id, "changes": {"subject": long_subject}}),
            "too_long",
        ),
        (
            json!({"type": "update_ticket", "ticket_id": id, "changes": {"description": long_text}}),
            "too_long",
        ),
        (
            json!({"type": "add_ticket_message", "ticket_id": id, "body": long_text}),
            "too_long",
        ),
        (
            json!({"type": "add_ticket_tags", "ticket_id": id, "tags": other_half}),
            "limit_reached",
        ),
    ];
    for (command, code) in cases {
        let error = refuse(&mut h, &agent("alice"), command.clone());
        assert_eq!(error.code(), code, "{}", command["type"]);
    }
}

// ---- who sees what ----

#[test]
fn another_tenants_ticket_is_not_found_for_every_ticket_command() {
    let mut h = desk();
    ticket_for_v1(&mut h);
    let (id, _) = create(&mut h, &agent("alice"), json!({"subject": "Only here"}));
    let root = Actor::new("globex", "root", Role::Superadmin);
    h.ok(
        &root,
        Command::CreateTenant {
            settings: TenantSettings::default(),
        },
    );
    let intruder = Actor::new("globex", "gboss", Role::Supervisor);
    create(&mut h, &intruder, json!({"subject": "Theirs"}));
    let commands = [
        json!({"type": "get_ticket", "ticket_id": id}),
        json!({"type": "update_ticket", "ticket_id": id, "changes": {"subject": "x"}}),
        json!({"type": "set_ticket_status", "ticket_id": id, "status": "pending"}),
        json!({"type": "assign_ticket", "ticket_id": id}),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "x"}),
        json!({"type": "add_ticket_tags", "ticket_id": id, "tags": ["x"]}),
        json!({"type": "remove_ticket_tags", "ticket_id": id, "tags": ["x"]}),
        json!({"type": "delete_ticket", "ticket_id": id}),
        json!({"type": "restore_ticket", "ticket_id": id}),
        json!({"type": "request_csat", "ticket_id": id}),
    ];
    for command in commands {
        let error = refuse(&mut h, &intruder, command.clone());
        assert_eq!(error.code(), "not_found", "{}", command["type"]);
        assert_eq!(error.details()["kind"], "ticket");
    }
    let (theirs, _) = list(&mut h, &intruder, json!({}));
    assert_eq!(theirs.len(), 1, "only their own ticket is listed");
    assert_eq!(view(&mut h, id).subject.as_ref(), "Only here");
}

#[test]
fn a_visitor_sees_only_their_own_tickets_without_internal_fields() {
    let mut h = desk();
    let (id, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "Mine", "requester": {"visitor_id": "v1"}, "assignee_id": "alice",
               "tags": ["difficult-customer"], "priority": "critical"}),
    );
    let ticket = match run(
        &mut h,
        &visitor("v1"),
        json!({"type": "get_ticket", "ticket_id": id}),
    ) {
        Reply::RequesterTicket { ticket } => ticket,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(ticket.ticket_id, id);
    assert_eq!(&*ticket.subject, "Mine");
    let fields = serde_json::to_value(&ticket).unwrap();
    let mut keys: Vec<&str> = fields
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "created_at",
            "number",
            "status",
            "subject",
            "ticket_id",
            "updated_at"
        ]
    );
    let error = refuse(
        &mut h,
        &visitor("v2"),
        json!({"type": "get_ticket", "ticket_id": id}),
    );
    assert_eq!(error.code(), "not_found");
    let error = refuse(
        &mut h,
        &visitor("v2"),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "me too"}),
    );
    assert_eq!(error.code(), "not_found");
    let error = refuse(&mut h, &visitor("v1"), json!({"type": "list_tickets"}));
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn viewers_read_tickets_but_cannot_change_them() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    assert!(matches!(
        run(
            &mut h,
            &viewer(),
            json!({"type": "get_ticket", "ticket_id": id})
        ),
        Reply::Ticket { .. }
    ));
    assert_eq!(list(&mut h, &viewer(), json!({})).0, vec![id]);
    let commands = [
        json!({"type": "create_ticket", "subject": "x"}),
        json!({"type": "update_ticket", "ticket_id": id, "changes": {"subject": "x"}}),
        json!({"type": "set_ticket_status", "ticket_id": id, "status": "pending"}),
        json!({"type": "assign_ticket", "ticket_id": id, "assignee_id": "alice"}),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "x"}),
        json!({"type": "add_ticket_message", "ticket_id": id, "body": "x", "internal": true}),
        json!({"type": "add_ticket_tags", "ticket_id": id, "tags": ["x"]}),
        json!({"type": "delete_ticket", "ticket_id": id}),
    ];
    for command in commands {
        let error = refuse(&mut h, &viewer(), command.clone());
        assert_eq!(error.code(), "forbidden", "{}", command["type"]);
    }
}

// ---- lists ----

#[test]
fn ticket_lists_filter_by_status_priority_assignee_team_unassigned_and_tag() {
    let mut h = desk();
    let (t1, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "one", "priority": "low", "assignee_id": "alice", "team_id": "support", "tags": ["vip"]}),
    );
    let (t2, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "two", "priority": "high", "team_id": "billing"}),
    );
    set_status(&mut h, &agent("alice"), t2, "pending");
    let (t3, _) = create(
        &mut h,
        &agent("alice"),
        json!({"subject": "three", "priority": "critical", "assignee_id": "bob", "tags": ["vip", "refund"]}),
    );
    set_status(&mut h, &agent("bob"), t3, "in_progress");
    let cases = [
        (json!({}), vec![t1, t2, t3]),
        (json!({"statuses": ["pending"]}), vec![t2]),
        (json!({"statuses": ["open", "in_progress"]}), vec![t1, t3]),
        (json!({"priorities": ["low", "critical"]}), vec![t1, t3]),
        (json!({"assignee_id": "alice"}), vec![t1]),
        (json!({"team_id": "billing"}), vec![t2]),
        (json!({"unassigned": true}), vec![t2]),
        (json!({"tag": "vip"}), vec![t1, t3]),
        (json!({"tag": " refund "}), vec![t3]),
        (json!({"tag": "vip", "statuses": ["in_progress"]}), vec![t3]),
        (json!({"assignee_id": "carol"}), vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            list(&mut h, &agent("bob"), filter.clone()).0,
            expected,
            "{filter}"
        );
    }
}

#[test]
fn ticket_lists_page_with_after_and_next_after() {
    let mut h = desk();
    let ids: Vec<TicketId> = (0..5)
        .map(|n| create(&mut h, &agent("alice"), json!({"subject": format!("t{n}")})).0)
        .collect();
    let (page, next) = list(&mut h, &agent("alice"), json!({"limit": 2}));
    assert_eq!(page, ids[0..2]);
    assert_eq!(next, Some(ids[1]));
    let (page, next) = list(&mut h, &agent("alice"), json!({"limit": 2, "after": next}));
    assert_eq!(page, ids[2..4]);
    assert_eq!(next, Some(ids[3]));
    let (page, next) = list(&mut h, &agent("alice"), json!({"limit": 2, "after": next}));
    assert_eq!(page, ids[4..5]);
    assert_eq!(next, None);
    let (page, next) = list(&mut h, &agent("alice"), json!({"limit": 5}));
    assert_eq!(
        (page.len(), next),
        (5, None),
        "a full last page has no next"
    );
}

// ---- the automatic close ----

fn auto_closing_desk() -> Harness {
    desk_with(
        serde_json::from_value(json!({"timing": {"ticket_auto_close_ms": 3_600_000}})).unwrap(),
    )
}

#[test]
fn a_resolved_ticket_closes_by_itself_and_leaves_memory() {
    let mut h = auto_closing_desk();
    let id = ticket_for_v1(&mut h);
    set_status(&mut h, &agent("alice"), id, "resolved");
    h.advance(3_600_000 - 1);
    assert_eq!(view(&mut h, id).status, TicketStatus::Resolved);
    h.clear();
    h.advance(1);
    let closed = h.outputs.iter().any(|o| {
        matches!(o, Output::Persist { record: Record::Ticket { ticket }, .. }
            if ticket.ticket_id == id && ticket.status == TicketStatus::Closed
                && ticket.closed_at == Some(Timestamp(h.now)))
    });
    assert!(closed, "the final state is recorded");
    let entry = &audits(&h, id)[0];
    assert_eq!(
        (entry.0.as_str(), entry.1, entry.2.as_str()),
        ("system", Role::System, "auto_close")
    );
    let error = refuse(
        &mut h,
        &boss(),
        json!({"type": "get_ticket", "ticket_id": id}),
    );
    assert_eq!(error.code(), "not_found");
    let told = h.events_for(&visitor_r("v1")).into_iter().any(
        |e| matches!(e, Event::TicketReceived { ticket } if ticket.status == TicketStatus::Closed),
    );
    assert!(told, "the requester hears it closed");
}

#[test]
fn a_closed_ticket_cannot_be_reopened() {
    let mut h = desk();
    let id = ticket_for_v1(&mut h);
    set_status(&mut h, &agent("alice"), id, "resolved");
    set_status(&mut h, &agent("alice"), id, "closed");
    let attempts = [
        (
            boss(),
            json!({"type": "set_ticket_status", "ticket_id": id, "status": "open"}),
        ),
        (
            visitor("v1"),
            json!({"type": "set_ticket_status", "ticket_id": id, "status": "open"}),
        ),
        (
            visitor("v1"),
            json!({"type": "add_ticket_message", "ticket_id": id, "body": "again"}),
        ),
    ];
    for (who, command) in attempts {
        let error = refuse(&mut h, &who, command);
        assert_eq!(error.code(), "not_found", "{who:?}");
    }
}

#[test]
fn reopening_a_resolved_ticket_stops_its_automatic_close() {
    let mut h = auto_closing_desk();
    let id = ticket_for_v1(&mut h);
    set_status(&mut h, &agent("alice"), id, "resolved");
    h.advance(1_000);
    set_status(&mut h, &agent("alice"), id, "open");
    h.advance(3_600_000);
    let t = view(&mut h, id);
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.reopen_count, 1);
}
