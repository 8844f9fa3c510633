//! Queues: priority then first-in first-out, coalesced position updates with the wait
//! estimate of the specification, maximum wait overflowing to another queue or ending in
//! the offline flow, queue limits, and the widget's queue status.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Event, Reply};

fn queued_harness(extra: serde_json::Value) -> Harness {
    let mut h = Harness::new();
    let mut config =
        json!({"id": "support", "department_id": "support", "queue_when_no_agents": true});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": config}))
        .unwrap();
    h
}

fn positions_for(h: &Harness, visitor_id: &str) -> Vec<(u32, Option<u64>)> {
    h.events_for(&visitor_r(visitor_id))
        .into_iter()
        .filter_map(|e| match e {
            Event::QueuePosition {
                position,
                estimated_wait_ms,
                ..
            } => Some((*position, *estimated_wait_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_visitor_learns_their_position_at_once() {
    let mut h = queued_harness(json!({}));
    h.start("v1", json!({}));
    h.start("v2", json!({}));
    assert_eq!(positions_for(&h, "v2").first().map(|p| p.0), Some(2));
}

#[test]
fn position_updates_are_coalesced_and_sent_only_on_change() {
    let mut h = queued_harness(json!({}));
    let sessions: Vec<String> = (0..5)
        .map(|n| h.start(&format!("v{n}"), json!({})))
        .collect();
    h.advance(2_000);
    h.clear();
    // Three visitors ahead of v4 leave within one interval: v4 hears once, not three times.
    for (n, session) in sessions.iter().enumerate().take(3) {
        h.cmd_json(
            &visitor(&format!("v{n}")),
            json!({"type": "leave_session", "session_id": session}),
        )
        .unwrap();
    }
    assert!(
        positions_for(&h, "v4").is_empty(),
        "nothing before the interval ends"
    );
    h.advance(2_000);
    assert_eq!(
        positions_for(&h, "v4")
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(
        positions_for(&h, "v3")
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        vec![1]
    );
    h.clear();
    h.advance(10_000);
    assert!(positions_for(&h, "v4").is_empty(), "no change, no update");
}

#[test]
fn the_wait_estimate_follows_the_specified_formula() {
    // ((position - 1) / capacity + 1) x mean handle time; capacity = 2 agents x 1 slot.
    let mut h = queued_harness(json!({"strategy": "manual", "default_handle_time_ms": 60_000}));
    h.online_agent("a", json!({"max_concurrent_chats": 1}));
    h.online_agent("b", json!({"max_concurrent_chats": 1}));
    for n in 0..5 {
        h.start(&format!("v{n}"), json!({}));
    }
    let estimates: Vec<Option<u64>> = (0..5)
        .map(|n| positions_for(&h, &format!("v{n}"))[0].1)
        .collect();
    assert_eq!(
        estimates,
        vec![
            Some(60_000),
            Some(60_000),
            Some(120_000),
            Some(120_000),
            Some(180_000)
        ]
    );
}

#[test]
fn the_estimate_uses_the_mean_of_the_last_handle_times() {
    let mut h = queued_harness(json!({"strategy": "manual", "default_handle_time_ms": 999_000}));
    h.online_agent("a", json!({"max_concurrent_chats": 1}));
    for (n, minutes) in [2, 4].into_iter().enumerate() {
        let session = h.start(&format!("served{n}"), json!({}));
        h.cmd_json(
            &agent("a"),
            json!({"type": "pick_session", "session_id": session}),
        )
        .unwrap();
        h.advance(minutes * 60_000);
        h.cmd_json(
            &agent("a"),
            json!({"type": "resolve_session", "session_id": session}),
        )
        .unwrap();
    }
    h.clear();
    h.start("next", json!({}));
    assert_eq!(
        positions_for(&h, "next")[0].1,
        Some(180_000),
        "mean of 2 and 4 minutes"
    );
}

#[test]
fn without_online_capacity_the_estimate_is_unknown() {
    let mut h = queued_harness(json!({}));
    h.start("v1", json!({}));
    assert_eq!(positions_for(&h, "v1")[0].1, None);
}

#[test]
fn higher_priority_goes_first_and_equal_priority_keeps_arrival_order() {
    let mut h = queued_harness(json!({}));
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [
        {"triggers": {"visitor_type": "vip"}, "actions": {"priority": 3}}]}),
    )
    .unwrap();
    let a = h.start("a", json!({}));
    let b = h.start("b", json!({"visitor": {"visitor_type": "vip"}}));
    let c = h.start("c", json!({}));
    let d = h.start("d", json!({"visitor": {"visitor_type": "vip"}}));
    match h
        .cmd_json(
            &admin(),
            json!({"type": "list_queue", "queue_id": "support"}),
        )
        .unwrap()
    {
        Reply::Queue { entries } => {
            let order: Vec<String> = entries.iter().map(|e| e.session_id.to_string()).collect();
            assert_eq!(order, vec![b, d, a, c]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn past_the_maximum_wait_a_session_overflows_then_ends_in_the_offline_flow() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "backup", "queue_when_no_agents": true, "max_wait_ms": 30_000}}))
        .unwrap();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true, "max_wait_ms": 60_000, "overflow_queue_id": "backup"}}))
        .unwrap();
    let session = h.start("v1", json!({"department_id": "support"}));
    h.advance(60_000);
    let view = h.session_json(&session).unwrap();
    assert_eq!(view["queue_id"], "backup");
    assert_eq!(view["status"], "queued");
    h.clear();
    h.advance(30_000);
    assert!(h.session_json(&session).is_none());
    let events = h.events_for(&visitor_r("v1"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::LeaveAMessage { reason, .. }
        if *reason == switchboard_core::protocol::event::OfflineReason::MaxWait))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SessionStatusChanged { status, .. }
        if *status == switchboard_core::protocol::model::SessionStatus::Missed))
    );
}

#[test]
fn an_offer_outstanding_at_the_maximum_wait_plays_out_first() {
    let mut h = queued_harness(json!({"max_wait_ms": 10_000, "offer_timeout_ms": 20_000}));
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    h.advance(10_000);
    assert_eq!(h.status("v1", &session), "offered");
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "active");
}

#[test]
fn without_agents_online_the_widget_is_told_to_leave_a_message() {
    let mut h = Harness::new();
    match h
        .cmd_json(&visitor("v1"), json!({"type": "get_queue_status"}))
        .unwrap()
    {
        Reply::QueueStatus { status } => {
            assert!(status.leave_a_message);
            assert_eq!(status.agents_online, 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    let refused = h.err(
        &visitor("v1"),
        serde_json::from_value(json!({"type": "start_session", "initial_message": "hi"})).unwrap(),
    );
    assert_eq!(refused.code(), "unavailable");
    assert_eq!(refused.details()["reason"], "no_agents_online");
    h.online_agent("alice", json!({}));
    match h
        .cmd_json(&visitor("v1"), json!({"type": "get_queue_status"}))
        .unwrap()
    {
        Reply::QueueStatus { status } => {
            assert!(!status.leave_a_message);
            assert_eq!((status.agents_online, status.agents_available), (1, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_full_queue_refuses_new_sessions() {
    let mut h = queued_harness(json!({"max_length": 2}));
    h.start("v1", json!({}));
    h.start("v2", json!({}));
    let full = h.err(
        &visitor("v3"),
        serde_json::from_value(json!({"type": "start_session"})).unwrap(),
    );
    assert_eq!(full.details()["reason"], "queue_full");
}

#[test]
fn queue_updates_reach_the_queue_agents_and_supervisors_but_not_visitors() {
    let mut h = queued_harness(json!({"strategy": "manual"}));
    h.online_agent("alice", json!({}));
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    h.clear();
    h.start("v1", json!({}));
    h.advance(2_000);
    for who in [staff("alice"), staff("boss")] {
        assert!(
            h.event_names_for(&who).contains(&"queue_updated"),
            "{who:?}"
        );
    }
    assert!(
        !h.event_names_for(&visitor_r("v1"))
            .contains(&"queue_updated")
    );
}
