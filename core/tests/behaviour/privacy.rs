//! Forgetting a visitor (privacy erasure): refused while they have a chat that has not ended
//! or a ticket that is not closed, and then nothing changes; otherwise their returning-visitor
//! preference, their recently ended chats and their surveys leave memory, and the step writes
//! an `audit` and a `visitor_forgotten` record. Only administrators and the host may do it.

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::ids::{SurveyId, VisitorId};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{Actor, Command, CommandError, Event, Output, Reply, Role};

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn run(h: &mut Harness, actor: &Actor, command: Value) -> Reply {
    h.ok(actor, cmd(command))
}

fn forget(visitor_id: &str) -> Command {
    Command::ForgetVisitor {
        visitor_id: VisitorId::from(visitor_id),
    }
}

/// An independent copy of the harness: what would have happened without the next step.
fn fork(h: &Harness) -> Harness {
    Harness {
        engine: h.engine.clone(),
        now: h.now,
        outputs: Vec::new(),
    }
}

/// A least-active desk with `settings` (JSON over the defaults) and alice and bob online.
fn desk(settings: Value) -> Harness {
    let settings: TenantSettings = serde_json::from_value(settings).expect("valid settings");
    let mut h = Harness::with_settings(settings);
    h.ok(
        &admin(),
        Command::UpsertQueue {
            queue: queue(
                "support",
                json!({ "department_id": "support", "strategy": "least_active" }),
            ),
        },
    );
    h.online_agent("alice", json!({ "max_concurrent_chats": 5 }));
    h.online_agent("bob", json!({ "max_concurrent_chats": 5 }));
    h.clear();
    h
}

/// Starts a chat and returns it with the agents it was offered to.
fn offered(h: &mut Harness, visitor_id: &str) -> (String, Vec<String>) {
    h.clear();
    let session = h.start(visitor_id, json!({}));
    let agents = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Deliver {
                to,
                event: Event::Offered { offer },
                ..
            } if offer.session_id.to_string() == session => Some(to.clone()),
            _ => None,
        })
        .flatten()
        .map(|r| match r {
            switchboard_core::Recipient::Staff { id } => id.to_string(),
            other => panic!("offer to {other:?}"),
        })
        .collect();
    (session, agents)
}

fn act(h: &mut Harness, who: &str, kind: &str, session: &str) {
    run(h, &agent(who), json!({"type": kind, "session_id": session}));
}

/// A chat of `visitor_id` served by whoever it is offered to, resolved (which sends a
/// survey) and closed. Returns the session.
fn served_resolved_and_closed(h: &mut Harness, visitor_id: &str) -> String {
    let (session, to) = offered(h, visitor_id);
    act(h, &to[0], "accept_offer", &session);
    act(h, &to[0], "resolve_session", &session);
    act(h, &to[0], "close_session", &session);
    session
}

/// Surveys requested from a visitor since the last clear.
fn surveys_requested(h: &Harness, visitor_id: &str) -> Vec<SurveyId> {
    h.events_for(&visitor_r(visitor_id))
        .into_iter()
        .filter_map(|e| match e {
            Event::SurveyRequested { survey_id, .. } => Some(*survey_id),
            _ => None,
        })
        .collect()
}

/// The records persisted since the last clear, as JSON, with their tenants.
fn records(h: &Harness) -> Vec<(String, Value)> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist { tenant_id, record } => Some((
                tenant_id.to_string(),
                serde_json::to_value(record).expect("records serialize"),
            )),
            _ => None,
        })
        .collect()
}

/// The two records of a successful `forget_visitor`, in order.
fn forgotten(tenant: &str, actor: &Actor, visitor_id: &str, at: i64) -> Vec<(String, Value)> {
    vec![
        (
            tenant.to_owned(),
            json!({
                "type": "audit", "actor_id": &*actor.id, "actor_role": actor.role.as_str(),
                "action": "forget_visitor", "target": visitor_id, "at": at
            }),
        ),
        (
            tenant.to_owned(),
            json!({ "type": "visitor_forgotten", "visitor_id": visitor_id, "at": at }),
        ),
    ]
}

fn create_ticket_for(h: &mut Harness, visitor_id: &str) -> String {
    let reply = run(
        h,
        &system(),
        json!({"type": "create_ticket", "subject": "Help", "description": "Please",
               "requester": {"visitor_id": visitor_id, "name": "Ana"}}),
    );
    match reply {
        Reply::TicketCreated { ticket_id, .. } => ticket_id.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

fn set_status(h: &mut Harness, ticket: &str, status: &str) {
    run(
        h,
        &system(),
        json!({"type": "set_ticket_status", "ticket_id": ticket, "status": status}),
    );
}

// ---- refusals ----

#[test]
fn a_visitor_with_a_live_chat_is_not_forgotten_and_nothing_changes() {
    let mut h = desk(json!({}));
    let (session, to) = offered(&mut h, "v-ana");
    // Offered, then active, then resolved: not ended, so refused each time.
    let refused = |h: &mut Harness| {
        let error = h.err(&admin(), forget("v-ana"));
        assert_eq!(error.code(), "illegal_transition");
        assert_eq!(
            error.to_string(),
            "the visitor has open chats or tickets; close them first"
        );
        assert_eq!(error.details()["open_sessions"], 1);
        assert_eq!(error.details()["open_tickets"], 0);
    };
    refused(&mut h);
    act(&mut h, &to[0], "accept_offer", &session);
    refused(&mut h);
    act(&mut h, &to[0], "resolve_session", &session);
    refused(&mut h);
    act(&mut h, &to[0], "close_session", &session);
    h.clear();
    assert_eq!(h.ok(&admin(), forget("v-ana")), Reply::Ok);
    assert_eq!(records(&h), forgotten(TENANT, &admin(), "v-ana", h.now));
}

#[test]
fn a_visitor_with_a_ticket_that_is_not_closed_is_not_forgotten() {
    let mut h = desk(json!({}));
    let (session, _) = offered(&mut h, "v-ana");
    let first = create_ticket_for(&mut h, "v-ana");
    let second = create_ticket_for(&mut h, "v-ana");
    // Someone else's ticket does not count.
    create_ticket_for(&mut h, "v-bea");
    set_status(&mut h, &second, "resolved");
    run(
        &mut h,
        &system(),
        json!({"type": "delete_ticket", "ticket_id": first}),
    );
    // The error is exactly the one docs/protocol.md shows.
    let error = h.err(&admin(), forget("v-ana"));
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({
            "code": "illegal_transition",
            "message": "the visitor has open chats or tickets; close them first",
            "details": {
                "action": "forget", "id": "v-ana", "kind": "visitor", "open_sessions": 1,
                "open_tickets": 2, "state": "with open chats or tickets"
            }
        })
    );
    assert!(matches!(
        error,
        CommandError::VisitorHasOpenItems {
            open_sessions: 1,
            open_tickets: 2,
            ..
        }
    ));

    // The chat leaves: the two tickets (one soft-deleted, one resolved) still refuse.
    run(
        &mut h,
        &visitor("v-ana"),
        json!({"type": "leave_session", "session_id": session}),
    );
    let error = h.err(&system(), forget("v-ana"));
    assert_eq!(error.details()["open_sessions"], 0);
    assert_eq!(error.details()["open_tickets"], 2);
    set_status(&mut h, &second, "closed");
    let error = h.err(&system(), forget("v-ana"));
    assert_eq!(
        error.details()["open_tickets"],
        1,
        "a deleted ticket counts"
    );
    run(
        &mut h,
        &system(),
        json!({"type": "restore_ticket", "ticket_id": first}),
    );
    for status in ["pending", "resolved"] {
        set_status(&mut h, &first, status);
        let error = h.err(&system(), forget("v-ana"));
        assert_eq!(error.details()["open_tickets"], 1, "{status}");
    }
    set_status(&mut h, &first, "closed");
    h.clear();
    assert_eq!(h.ok(&system(), forget("v-ana")), Reply::Ok);
    assert_eq!(records(&h), forgotten(TENANT, &system(), "v-ana", h.now));
}

// ---- what is forgotten ----

#[test]
fn a_forgotten_visitor_is_no_longer_routed_back_to_their_previous_agent() {
    let mut h = desk(json!({}));
    let (loyal, to) = offered(&mut h, "loyal");
    assert_eq!(to, vec!["alice"]);
    act(&mut h, "alice", "accept_offer", &loyal);
    act(&mut h, "alice", "close_session", &loyal);
    // Alice and bob then hold one chat each, alice assigned last: least active alone picks
    // bob.
    let (_, to) = offered(&mut h, "other");
    assert_eq!(to, vec!["bob"]);
    let (other2, to) = offered(&mut h, "other2");
    assert_eq!(to, vec!["alice"]);
    act(&mut h, "alice", "accept_offer", &other2);

    let mut remembered = fork(&h);
    assert_eq!(
        offered(&mut remembered, "loyal").1,
        vec!["alice"],
        "remembered: back to alice"
    );
    h.ok(&admin(), forget("loyal"));
    assert_eq!(
        offered(&mut h, "loyal").1,
        vec!["bob"],
        "forgotten: least active decides"
    );
}

#[test]
fn an_offline_message_can_no_longer_name_a_forgotten_visitors_ended_chat() {
    let mut h = desk(json!({}));
    let old = served_resolved_and_closed(&mut h, "v-ana");
    let other = served_resolved_and_closed(&mut h, "v-bea");
    let message = |session: &str| {
        json!({"type": "submit_offline_message", "message": "About my chat",
               "session_id": session})
    };

    let mut remembered = fork(&h);
    let reply = run(&mut remembered, &visitor("v-ana"), message(&old));
    assert!(matches!(reply, Reply::TicketCreated { .. }));

    h.ok(&admin(), forget("v-ana"));
    let error = h.err(&visitor("v-ana"), cmd(message(&old)));
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "session");
    // Without the link the message is still accepted, and other visitors keep theirs.
    let reply = run(
        &mut h,
        &visitor("v-ana"),
        json!({"type": "submit_offline_message", "message": "Hello again"}),
    );
    assert!(matches!(reply, Reply::TicketCreated { .. }));
    let reply = run(&mut h, &visitor("v-bea"), message(&other));
    assert!(matches!(reply, Reply::TicketCreated { .. }));
}

#[test]
fn a_forgotten_visitors_outstanding_survey_is_gone_and_frees_its_slot() {
    // One survey may await an answer at a time.
    let mut h = desk(json!({"limits": {"max_open_surveys": 1}}));
    h.clear();
    served_resolved_and_closed(&mut h, "v-ana");
    let survey = surveys_requested(&h, "v-ana");
    assert_eq!(survey.len(), 1);
    let answer = json!({"type": "submit_csat", "survey_id": survey[0], "rating": 4});

    // Without forgetting: v-ana may still answer, and v-bea's survey is skipped (full).
    let mut remembered = fork(&h);
    run(&mut remembered, &visitor("v-ana"), answer.clone());
    let mut full = fork(&h);
    full.clear();
    served_resolved_and_closed(&mut full, "v-bea");
    assert!(surveys_requested(&full, "v-bea").is_empty());

    let timers = h.engine.armed_timers();
    h.ok(&admin(), forget("v-ana"));
    assert_eq!(
        h.engine.armed_timers(),
        timers - 1,
        "the survey's expiry deadline is gone"
    );
    let error = h.err(&visitor("v-ana"), cmd(answer));
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "survey");
    // Its slot is free: v-bea gets a survey.
    h.clear();
    served_resolved_and_closed(&mut h, "v-bea");
    assert_eq!(surveys_requested(&h, "v-bea").len(), 1);
    // Time passing the old expiry is harmless.
    h.advance(8 * 24 * 3_600_000);
}

#[test]
fn a_forgotten_visitors_answered_surveys_are_gone_too() {
    let mut h = desk(json!({}));
    h.clear();
    served_resolved_and_closed(&mut h, "v-ana");
    let chat_survey = surveys_requested(&h, "v-ana")[0];
    // A ticket resolved sends a survey too; closing it leaves the survey.
    let ticket = create_ticket_for(&mut h, "v-ana");
    h.clear();
    set_status(&mut h, &ticket, "resolved");
    let ticket_survey = surveys_requested(&h, "v-ana")[0];
    set_status(&mut h, &ticket, "closed");
    let answer =
        |survey: SurveyId| json!({"type": "submit_csat", "survey_id": survey, "rating": 5});
    run(&mut h, &visitor("v-ana"), answer(chat_survey));
    let error = h.err(&visitor("v-ana"), cmd(answer(chat_survey)));
    assert_eq!(error.code(), "illegal_transition", "answered, still kept");

    h.ok(&admin(), forget("v-ana"));
    for survey in [chat_survey, ticket_survey] {
        let error = h.err(&visitor("v-ana"), cmd(answer(survey)));
        assert_eq!(error.code(), "not_found", "{survey}");
    }
    // Forgetting again finds nothing left and still succeeds.
    h.clear();
    h.ok(&admin(), forget("v-ana"));
    assert_eq!(records(&h), forgotten(TENANT, &admin(), "v-ana", h.now));
    h.advance(8 * 24 * 3_600_000);
}

#[test]
fn an_unknown_visitor_is_forgotten_without_error() {
    let mut h = desk(json!({}));
    h.now += 5_000;
    let reply = h.ok(&admin(), forget("never-seen"));
    assert_eq!(reply, Reply::Ok);
    assert_eq!(
        records(&h),
        forgotten(TENANT, &admin(), "never-seen", h.now),
        "the store may hold them still: the records go out"
    );
    assert_eq!(h.outputs.len(), 2, "no events, no effects");
    let error = h.err(&admin(), forget(""));
    assert_eq!(error.code(), "invalid_input");
}

// ---- who may ----

#[test]
fn only_administrators_and_the_host_forget_visitors() {
    let mut h = desk(json!({}));
    served_resolved_and_closed(&mut h, "v-ana");
    h.add_agent("viewer", json!({"role": "viewer"}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    for who in [
        agent("alice"),
        supervisor("boss"),
        Actor::new(TENANT, "viewer", Role::Viewer),
        visitor("v-ana"),
        Actor::new(TENANT, "helpbot", Role::Bot),
    ] {
        let error = h.err(&who, forget("v-ana"));
        assert_eq!(error.code(), "forbidden", "{who:?}");
    }
    // An unknown tenant is not found, as for every command.
    let error = h.err(
        &Actor::new("nowhere", "admin", Role::TenantAdmin),
        forget("v-ana"),
    );
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "tenant");

    // Another tenant's administrator acts in their own tenant, where v-ana is unknown:
    // acme keeps everything, and the records are globex's.
    h.ok(
        &Actor::new("globex", "root", Role::Superadmin),
        cmd(json!({"type": "create_tenant", "settings": {}})),
    );
    let intruder = Actor::new("globex", "admin", Role::TenantAdmin);
    h.clear();
    let before = h.engine.clone();
    h.ok(&intruder, forget("v-ana"));
    assert!(before == h.engine, "nothing of acme's changed");
    assert_eq!(records(&h), forgotten("globex", &intruder, "v-ana", h.now));

    for who in [
        admin(),
        Actor::new(TENANT, "root", Role::Superadmin),
        system(),
    ] {
        h.clear();
        h.ok(&who, forget("v-ana"));
        assert_eq!(records(&h), forgotten(TENANT, &who, "v-ana", h.now));
    }
}
