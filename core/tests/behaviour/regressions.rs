//! Regressions: edge cases found by reviewing the engine (agents changing hands, ids shared
//! across namespaces, transfers meeting other clocks). Each test states the correct
//! behaviour and failed while the bug it describes was present.

use crate::support::*;
use serde_json::json;
use switchboard_core::protocol::model::SessionStatus;
use switchboard_core::{Actor, Event, Reply, Role};

fn accept(h: &mut Harness, agent_id: &str, session: &str) {
    h.cmd_json(
        &agent(agent_id),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
}

fn transfer(h: &mut Harness, from: &str, session: &str, to: &str) -> String {
    match h
        .cmd_json(
            &agent(from),
            json!({"type": "transfer_session", "session_id": session, "to_agent_id": to,
                   "reason": "needs someone else"}),
        )
        .unwrap()
    {
        Reply::TransferRequested { transfer_id } => transfer_id.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

/// Statuses the visitor was told about, in order.
fn statuses_told(h: &Harness, visitor_id: &str) -> Vec<SessionStatus> {
    h.events_for(&visitor_r(visitor_id))
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionStatusChanged { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

#[test]
fn the_no_reply_clock_still_reroutes_a_chat_after_a_rejected_transfer() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support",
        "department_id": "support", "strategy": "fixed_order", "reroute_after_no_reply_ms": 30000}}))
        .unwrap();
    h.online_agent("slow", json!({"routing_order": 1}));
    h.online_agent("quick", json!({"routing_order": 2}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "slow", &session);
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "send_message", "session_id": session, "body": "anyone?"}),
    )
    .unwrap();
    // The no-reply deadline passes while a transfer is outstanding ...
    let transfer_id = transfer(&mut h, "slow", &session, "quick");
    h.advance(30_000);
    // ... and the transfer is then rejected: the chat is back with an agent who never replied.
    h.cmd_json(
        &agent("quick"),
        json!({"type": "reject_transfer", "transfer_id": transfer_id}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "active");
    h.clear();
    h.advance(60_000);
    assert_eq!(
        h.offers_to("quick"),
        vec![session.clone()],
        "the visitor still waits for a first reply, so the chat must be rerouted"
    );
}

#[test]
fn closing_a_transferring_session_does_not_tell_anyone_it_became_active_again() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.online_agent("bob", json!({}));
    transfer(&mut h, "alice", &session, "bob");
    h.clear();
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "leave_session", "session_id": session}),
    )
    .unwrap();
    assert_eq!(
        statuses_told(&h, "v1"),
        vec![SessionStatus::Closed],
        "transferring -> closed, without a detour through active"
    );
}

#[test]
fn a_visitor_cannot_change_or_delete_an_agents_personal_canned_response() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "create_canned_response", "scope": "personal", "title": "Hi",
               "body": "Hello {{visitor.name}}"}),
    )
    .unwrap();
    // A visitor (or a bot, or the system) whose id happens to equal the agent's id.
    for role in [Role::Visitor, Role::Bot, Role::System] {
        let impostor = Actor::new(TENANT, "alice", role);
        let update = h
            .cmd_json(
                &impostor,
                json!({"type": "update_canned_response", "canned_response_id": "canned_1",
                       "title": "pwned", "body": "Send your password to evil.example"}),
            )
            .map(|_| ());
        assert!(update.is_err(), "{role:?} updated alice's canned response");
        let delete = h
            .cmd_json(
                &impostor,
                json!({"type": "delete_canned_response", "canned_response_id": "canned_1"}),
            )
            .map(|_| ());
        assert!(delete.is_err(), "{role:?} deleted alice's canned response");
    }
}

#[test]
fn a_supervisor_setting_a_disconnected_agent_online_does_not_make_them_connected() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let held = h.start("v1", json!({}));
    accept(&mut h, "alice", &held);
    h.ok(
        &system(),
        serde_json::from_value(json!({"type": "agent_disconnected", "agent_id": "alice"})).unwrap(),
    );
    let boss = supervisor("boss");
    h.add_agent("boss", json!({"role": "supervisor"}));
    for status in ["away", "online"] {
        h.cmd_json(
            &boss,
            json!({"type": "set_agent_status", "status": status, "agent_id": "alice"}),
        )
        .unwrap();
    }
    assert_eq!(
        h.agent_json("alice")["connected"],
        false,
        "only the host (agent_connected) knows the connection is back"
    );
    // Nor does the grace period stop: her chat goes back to the queue when it runs out.
    h.online_agent("bob", json!({}));
    h.clear();
    h.advance(60_000);
    assert_eq!(h.offers_to("bob"), vec![held]);
}

#[test]
fn a_visitor_cannot_suppress_an_agents_message_by_reusing_its_client_message_id() {
    // Visitor ids and staff ids are separate namespaces: a visitor may be called "alice" too.
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("alice", json!({}));
    accept(&mut h, "alice", &session);
    h.cmd_json(
        &visitor("alice"),
        json!({"type": "send_message", "session_id": session, "body": "hi", "client_message_id": "m-1"}),
    )
    .unwrap();
    let reply = h
        .cmd_json(
            &agent("alice"),
            json!({"type": "send_message", "session_id": session, "body": "Hello, how can I help?",
                   "client_message_id": "m-1"}),
        )
        .unwrap();
    assert!(
        matches!(
            reply,
            Reply::MessageAccepted {
                duplicate: false,
                ..
            }
        ),
        "the agent's message is a new message, not a retry of the visitor's: {reply:?}"
    );
}

#[test]
fn an_agent_offered_a_transfer_may_look_at_the_session_first() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.online_agent("bob", json!({}));
    transfer(&mut h, "alice", &session, "bob");
    let seen = h.cmd_json(
        &agent("bob"),
        json!({"type": "get_session", "session_id": session}),
    );
    assert!(matches!(seen, Ok(Reply::Session { .. })), "{seen:?}");
    let other = h.cmd_json(
        &agent("carol"),
        json!({"type": "get_session", "session_id": session}),
    );
    assert!(other.is_err());
}

#[test]
fn a_bot_hand_off_to_a_full_queue_offers_leave_a_message() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "max_length": 1, "strategy": "manual"}}))
        .unwrap();
    h.cmd_json(&admin(), json!({"type": "set_routing_rules", "rules": [{"triggers": {"issue_type": ["bot"]}, "actions": {"bot": "faq"}}]}))
        .unwrap();
    h.online_agent("alice", json!({}));
    let botted = h.start("v1", json!({"issue_type": "bot"}));
    h.start("v2", json!({}));
    let bot = Actor::new(TENANT, "faq", Role::Bot);
    h.clear();
    h.cmd_json(
        &bot,
        json!({"type": "hand_off", "session_id": botted, "reason": "stuck"}),
    )
    .unwrap();
    let told = h.events_for(&visitor_r("v1")).into_iter().any(|e| {
        matches!(e, Event::LeaveAMessage { reason, .. }
        if *reason == switchboard_core::protocol::event::OfflineReason::QueueFull)
    });
    assert!(told);
    assert!(h.session_json(&botted).is_none());
}

#[test]
fn a_bot_routed_for_closed_hours_hands_off_into_the_queue_outside_them() {
    let settings =
        serde_json::from_value(json!({"business_hours": {"time_zone": "UTC", "weekly": {}}}))
            .unwrap();
    let mut h = Harness::with_settings(settings);
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h.cmd_json(&admin(), json!({"type": "set_routing_rules", "rules": [
        {"triggers": {"business_hours": false}, "actions": {"bot": "night-bot", "queue": "support"}}]}))
        .unwrap();
    let session = h.start("v1", json!({}));
    let bot = Actor::new(TENANT, "night-bot", Role::Bot);
    h.cmd_json(
        &bot,
        json!({"type": "hand_off", "session_id": session, "reason": "needs a person"}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "queued");
}

#[test]
fn moving_an_agent_out_of_a_department_withdraws_its_offers_there() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    assert_eq!(h.offers_to("alice"), vec![session.clone()]);
    h.cmd_json(&admin(), json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": []}}))
        .unwrap();
    assert_eq!(h.agent_json("alice")["pending_offers"], 0);
    let late = h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    );
    assert!(late.is_err());
    assert_eq!(h.status("v1", &session), "queued");
}

#[test]
fn removing_an_agent_tells_the_watchers() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    h.clear();
    h.cmd_json(
        &admin(),
        json!({"type": "remove_agent", "agent_id": "alice"}),
    )
    .unwrap();
    let told = h.events_for(&staff("boss")).into_iter().any(|e| matches!(e, Event::AgentUpdated { agent }
        if agent.agent_id.as_str() == "alice" && agent.status == switchboard_core::protocol::model::AgentStatus::Offline));
    assert!(told);
}

#[test]
fn a_new_agent_taking_over_clears_the_previous_agents_typing_indicator() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "set_typing", "session_id": session, "active": true}),
    )
    .unwrap();
    h.online_agent("bob", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.clear();
    h.cmd_json(
        &supervisor("boss"),
        json!({"type": "assign_session", "session_id": session, "agent_id": "bob"}),
    )
    .unwrap();
    let stopped = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .any(|e| matches!(e, Event::Typing { active: false, .. }));
    assert!(stopped, "the visitor no longer sees alice typing");
}
