//! Agent presence: online, away, busy and offline, capacity and wrap-up, the disconnect
//! grace before chats are requeued, and the administrator's force logout.

use crate::support::*;
use serde_json::json;
use switchboard_core::Event;

fn accept(h: &mut Harness, agent_id: &str, session: &str) {
    h.cmd_json(
        &agent(agent_id),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
}

#[test]
fn away_and_busy_agents_keep_their_chats_but_get_no_new_offers() {
    for status in ["away", "busy"] {
        let mut h = Harness::new();
        h.online_agent("alice", json!({}));
        let first = h.start("v1", json!({}));
        accept(&mut h, "alice", &first);
        h.cmd_json(
            &agent("alice"),
            json!({"type": "set_agent_status", "status": status}),
        )
        .unwrap();
        h.clear();
        let waiting = h
            .cmd_json(&visitor("v2"), json!({"type": "start_session"}))
            .unwrap_err();
        assert_eq!(waiting.code(), "unavailable", "{status}: nobody online");
        assert_eq!(h.status("v1", &first), "active");
        assert_eq!(h.agent_json("alice")["status"], status);
    }
}

#[test]
fn going_away_withdraws_outstanding_offers_and_they_move_on() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({"routing_order": 1}));
    h.online_agent(
        "bob",
        json!({"routing_order": 2, "max_concurrent_chats": 1}),
    );
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "strategy": "fixed_order"}}))
        .unwrap();
    let session = h.start("v1", json!({}));
    assert_eq!(h.offers_to("alice"), vec![session.clone()]);
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "set_agent_status", "status": "away"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("bob"), vec![session]);
}

#[test]
fn going_offline_requeues_active_chats_to_other_agents() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.online_agent("bob", json!({}));
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "set_agent_status", "status": "offline"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("bob"), vec![session.clone()]);
    assert!(
        h.events_for(&staff("alice"))
            .iter()
            .any(|e| matches!(e, Event::SessionUnassigned { reason, .. }
        if *reason == switchboard_core::protocol::event::UnassignReason::AgentOffline))
    );
    let told = h.events_for(&visitor_r("v1")).into_iter().any(|e| {
        matches!(e, Event::Message { message }
        if message.kind == switchboard_core::protocol::model::MessageKind::System)
    });
    assert!(told, "the visitor hears that someone else will take over");
}

#[test]
fn a_disconnected_agent_keeps_chats_through_the_grace_period() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.online_agent("bob", json!({}));
    h.cmd_json(
        &system(),
        json!({"type": "agent_disconnected", "agent_id": "alice"}),
    )
    .unwrap();
    h.advance(59_999);
    assert_eq!(h.session_json(&session).unwrap()["agent_id"], "alice");
    // A visitor message during the grace goes out as a push notification.
    h.clear();
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "send_message", "session_id": session, "body": "hello?"}),
    )
    .unwrap();
    assert!(
        h.outputs
            .iter()
            .any(|o| matches!(o, switchboard_core::Output::Effect {
        effect: switchboard_core::Effect::PushNotification { kind, .. }, .. }
        if *kind == switchboard_core::protocol::output::PushKind::NewMessage))
    );
    h.clear();
    h.advance(1);
    assert_eq!(h.offers_to("bob"), vec![session]);
    assert_eq!(h.agent_json("alice")["status"], "offline");
}

#[test]
fn reconnecting_within_the_grace_keeps_everything() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.cmd_json(&agent("alice"), json!({"type": "agent_disconnected"}))
        .unwrap();
    h.advance(30_000);
    h.cmd_json(&agent("alice"), json!({"type": "agent_connected"}))
        .unwrap();
    h.advance(120_000);
    assert_eq!(h.agent_json("alice")["status"], "online");
    assert_eq!(h.session_json(&session).unwrap()["agent_id"], "alice");
}

#[test]
fn a_disconnected_agent_is_offered_nothing() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h.online_agent("alice", json!({}));
    h.cmd_json(
        &system(),
        json!({"type": "agent_disconnected", "agent_id": "alice"}),
    )
    .unwrap();
    h.clear();
    let session = h.start("v1", json!({}));
    assert!(h.offers_to("alice").is_empty());
    h.cmd_json(
        &system(),
        json!({"type": "agent_connected", "agent_id": "alice"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("alice"), vec![session]);
}

#[test]
fn wrap_up_holds_a_slot_until_it_ends_or_the_agent_ends_it() {
    let settings = serde_json::from_value(json!({"timing": {"wrap_up_ms": 30_000}})).unwrap();
    let mut h = Harness::with_settings(settings);
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h.online_agent("alice", json!({"max_concurrent_chats": 1}));
    let first = h.start("v1", json!({}));
    accept(&mut h, "alice", &first);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": first}),
    )
    .unwrap();
    assert_eq!(h.agent_json("alice")["wrap_up_slots"], 1);
    h.clear();
    let second = h.start("v2", json!({}));
    assert!(h.offers_to("alice").is_empty(), "the wrap-up slot is taken");
    h.advance(30_000);
    assert_eq!(h.offers_to("alice"), vec![second.clone()]);
    accept(&mut h, "alice", &second);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "close_session", "session_id": second}),
    )
    .unwrap();
    h.clear();
    let third = h.start("v3", json!({}));
    assert!(h.offers_to("alice").is_empty());
    h.cmd_json(&agent("alice"), json!({"type": "end_wrap_up"}))
        .unwrap();
    assert_eq!(h.offers_to("alice"), vec![third]);
}

#[test]
fn force_logout_takes_every_agent_offline_and_requeues_their_chats() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let session = h.start("v1", json!({}));
    let holder = h
        .offers_to("alice")
        .first()
        .map(|_| "alice")
        .unwrap_or("bob");
    accept(&mut h, holder, &session);
    h.clear();
    let refused = h.err(
        &agent("alice"),
        serde_json::from_value(json!({"type": "force_logout_all"})).unwrap(),
    );
    assert_eq!(refused.code(), "forbidden");
    h.cmd_json(
        &admin(),
        json!({"type": "force_logout_all", "reason": "maintenance"}),
    )
    .unwrap();
    for id in ["alice", "bob"] {
        assert_eq!(h.agent_json(id)["status"], "offline");
        assert!(
            h.events_for(&staff(id))
                .iter()
                .any(|e| matches!(e, Event::ForceLogout { reason }
            if reason.as_deref() == Some("maintenance")))
        );
    }
    assert_eq!(h.status("v1", &session), "queued");
}

#[test]
fn supervisors_change_other_agents_presence_and_agents_cannot() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.add_agent("bob", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    let refused = h.err(
        &agent("bob"),
        serde_json::from_value(
            json!({"type": "set_agent_status", "status": "offline", "agent_id": "alice"}),
        )
        .unwrap(),
    );
    assert_eq!(refused.code(), "forbidden");
    h.cmd_json(
        &supervisor("boss"),
        json!({"type": "set_agent_status", "status": "away", "agent_id": "alice"}),
    )
    .unwrap();
    assert_eq!(h.agent_json("alice")["status"], "away");
}

#[test]
fn removing_an_agent_requeues_their_chats() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    accept(&mut h, "alice", &session);
    h.online_agent("bob", json!({}));
    h.clear();
    h.cmd_json(
        &admin(),
        json!({"type": "remove_agent", "agent_id": "alice"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("bob"), vec![session]);
    let gone = h
        .cmd_json(&admin(), json!({"type": "get_agent", "agent_id": "alice"}))
        .unwrap_err();
    assert_eq!(gone.code(), "not_found");
}
