//! The session state machine: every transition of pending, queued, offered, active,
//! resolved, closed, abandoned and missed, the illegal ones refused with a typed error that
//! changes nothing, inactivity warnings and auto-close, and ratings.

use crate::support::*;
use serde_json::json;
use switchboard_core::Event;
use switchboard_core::protocol::model::SessionStatus;

fn active_session(h: &mut Harness) -> String {
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    session
}

fn statuses_seen_by(h: &Harness, visitor_id: &str) -> Vec<SessionStatus> {
    h.events_for(&visitor_r(visitor_id))
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionStarted { status, .. } => Some(*status),
            Event::SessionStatusChanged { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

#[test]
fn a_served_chat_goes_pending_queued_offered_active_resolved_closed() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.clear();
    let session = h.start("v1", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    )
    .unwrap();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "close_session", "session_id": session}),
    )
    .unwrap();
    use SessionStatus::*;
    assert_eq!(
        statuses_seen_by(&h, "v1"),
        vec![Pending, Queued, Offered, Active, Resolved, Closed]
    );
    assert!(
        h.session_json(&session).is_none(),
        "closed sessions leave memory"
    );
}

#[test]
fn an_auto_accepting_agent_takes_the_chat_without_an_offer() {
    let mut h = Harness::new();
    h.online_agent("auto", json!({"auto_accept": true}));
    h.clear();
    let session = h.start("v1", json!({}));
    assert_eq!(h.status("v1", &session), "active");
    assert!(h.offers_to("auto").is_empty());
    assert!(
        h.event_names_for(&staff("auto"))
            .contains(&"session_assigned")
    );
}

#[test]
fn a_visitor_leaving_while_waiting_abandons_and_an_offer_is_withdrawn() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    h.clear();
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "leave_session", "session_id": session}),
    )
    .unwrap();
    assert_eq!(statuses_seen_by(&h, "v1"), vec![SessionStatus::Abandoned]);
    assert!(
        h.events_for(&staff("alice"))
            .iter()
            .any(|e| matches!(e, Event::OfferWithdrawn { reason, .. }
        if *reason == switchboard_core::protocol::event::WithdrawReason::VisitorLeft))
    );
    assert_eq!(h.agent_json("alice")["pending_offers"], 0);
}

#[test]
fn a_visitor_leaving_an_active_chat_closes_it_and_frees_the_agent() {
    let mut h = Harness::new();
    let session = active_session(&mut h);
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "leave_session", "session_id": session}),
    )
    .unwrap();
    assert!(h.session_json(&session).is_none());
    assert_eq!(h.agent_json("alice")["active_chats"], 0);
}

#[test]
fn illegal_transitions_are_typed_errors_that_change_nothing() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    let cases = [
        (
            agent("alice"),
            json!({"type": "resolve_session", "session_id": session}),
            "forbidden",
        ),
        (
            agent("alice"),
            json!({"type": "send_message", "session_id": session, "body": "early"}),
            "forbidden",
        ),
        (
            agent("alice"),
            json!({"type": "transfer_session", "session_id": session, "to_agent_id": "alice", "reason": "x"}),
            "forbidden",
        ),
        (
            visitor("v1"),
            json!({"type": "submit_csat", "session_id": session, "rating": 5}),
            "illegal_transition",
        ),
    ];
    for (who, command, code) in cases {
        let error = h.err(&who, serde_json::from_value(command.clone()).unwrap());
        assert_eq!(error.code(), code, "{command}");
    }
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    )
    .unwrap();
    for (who, command, code) in [
        (
            agent("alice"),
            json!({"type": "resolve_session", "session_id": session}),
            "forbidden",
        ),
        (
            visitor("v1"),
            json!({"type": "send_message", "session_id": session, "body": "again"}),
            "illegal_transition",
        ),
        (
            agent("alice"),
            json!({"type": "accept_offer", "session_id": session}),
            "not_found",
        ),
    ] {
        let error = h.err(&who, serde_json::from_value(command.clone()).unwrap());
        assert_eq!(error.code(), code, "{command}");
    }
}

#[test]
fn a_resolved_chat_closes_by_itself_after_the_rating_window() {
    let mut h = Harness::new();
    let session = active_session(&mut h);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    )
    .unwrap();
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "submit_csat", "session_id": session, "rating": 4, "comment": "thanks"}),
    )
    .unwrap();
    h.advance(600_000 - 1);
    assert_eq!(h.status("v1", &session), "resolved");
    h.advance(1);
    assert!(h.session_json(&session).is_none());
}

#[test]
fn a_rating_is_one_to_five_given_once_and_reaches_the_agent() {
    let mut h = Harness::new();
    let session = active_session(&mut h);
    for bad in [0, 6] {
        let error = h.err(
            &visitor("v1"),
            serde_json::from_value(
                json!({"type": "submit_csat", "session_id": session, "rating": bad}),
            )
            .unwrap(),
        );
        assert_eq!(error.code(), "invalid_input");
    }
    h.clear();
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "submit_csat", "session_id": session, "rating": 5}),
    )
    .unwrap();
    assert!(
        h.event_names_for(&staff("alice"))
            .contains(&"csat_submitted")
    );
    assert!(
        !h.event_names_for(&visitor_r("v1"))
            .contains(&"csat_submitted")
    );
    let twice = h.err(
        &visitor("v1"),
        serde_json::from_value(json!({"type": "submit_csat", "session_id": session, "rating": 1}))
            .unwrap(),
    );
    assert_eq!(twice.code(), "illegal_transition");
    let by_agent = h.err(
        &agent("alice"),
        serde_json::from_value(json!({"type": "submit_csat", "session_id": session, "rating": 1}))
            .unwrap(),
    );
    assert_eq!(by_agent.code(), "forbidden");
}

#[test]
fn an_idle_chat_is_warned_then_closed_and_a_visitor_message_resets_the_clock() {
    let settings = serde_json::from_value(json!({"timing": {
        "inactivity_close_ms": 300_000, "inactivity_warning_ms": 60_000 }}))
    .unwrap();
    let mut h = Harness::with_settings(settings);
    let session = active_session(&mut h);
    h.clear();
    h.advance(239_999);
    assert!(
        !h.event_names_for(&visitor_r("v1"))
            .contains(&"inactivity_warning")
    );
    h.advance(1);
    assert!(
        h.event_names_for(&visitor_r("v1"))
            .contains(&"inactivity_warning")
    );
    assert!(
        h.event_names_for(&staff("alice"))
            .contains(&"inactivity_warning")
    );
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "send_message", "session_id": session, "body": "still here"}),
    )
    .unwrap();
    h.advance(60_000);
    assert_eq!(
        h.status("v1", &session),
        "active",
        "the message reset the clock"
    );
    // Written at 240 s: the warning is due at 480 s and the close at 540 s.
    h.clear();
    h.advance(179_999);
    assert!(
        !h.event_names_for(&visitor_r("v1"))
            .contains(&"inactivity_warning")
    );
    h.advance(1);
    assert!(
        h.event_names_for(&visitor_r("v1"))
            .contains(&"inactivity_warning")
    );
    h.advance(60_000);
    assert!(h.session_json(&session).is_none());
    assert!(h.events_for(&visitor_r("v1")).iter().any(
        |e| matches!(e, Event::SessionStatusChanged { end_reason: Some(r), .. }
        if *r == switchboard_core::protocol::model::EndReason::Inactivity)
    ));
}

#[test]
fn a_supervisor_may_close_a_waiting_session_but_another_agent_may_not() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    let session = h.start("v1", json!({}));
    let error = h.err(
        &agent("alice"),
        serde_json::from_value(json!({"type": "close_session", "session_id": session})).unwrap(),
    );
    assert_eq!(error.code(), "forbidden");
    h.cmd_json(
        &supervisor("boss"),
        json!({"type": "close_session", "session_id": session}),
    )
    .unwrap();
    assert!(h.session_json(&session).is_none());
}

#[test]
fn a_supervisor_reassigns_an_active_chat_and_the_visitor_is_told() {
    let mut h = Harness::new();
    let session = active_session(&mut h);
    h.online_agent("bob", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.clear();
    h.cmd_json(
        &supervisor("boss"),
        json!({"type": "assign_session", "session_id": session, "agent_id": "bob"}),
    )
    .unwrap();
    assert_eq!(h.session_json(&session).unwrap()["agent_id"], "bob");
    assert!(
        h.event_names_for(&staff("alice"))
            .contains(&"session_unassigned")
    );
    assert!(
        h.event_names_for(&staff("bob"))
            .contains(&"session_assigned")
    );
    let told = h.events_for(&visitor_r("v1")).into_iter().any(|e| {
        matches!(e, Event::Message { message }
        if message.body.contains("Agent bob"))
    });
    assert!(told);
    let not_supervisor = h.err(
        &agent("bob"),
        serde_json::from_value(
            json!({"type": "assign_session", "session_id": session, "agent_id": "alice"}),
        )
        .unwrap(),
    );
    assert_eq!(not_supervisor.code(), "forbidden");
}
