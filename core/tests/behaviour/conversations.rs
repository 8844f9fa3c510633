//! Internal agent-to-agent conversations: direct (one per pair) and group, members only,
//! read receipts, idempotent retries, and the tenant's switch to turn them off.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Event, Reply};

fn team() -> Harness {
    let mut h = Harness::new();
    for id in ["alice", "bob", "carol"] {
        h.add_agent(id, json!({}));
    }
    h.clear();
    h
}

fn conversation(reply: Reply) -> (String, bool) {
    match reply {
        Reply::Conversation {
            conversation_id,
            created,
        } => (conversation_id.to_string(), created),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_direct_conversation_is_unique_per_pair_and_reaches_both() {
    let mut h = team();
    let (id, created) = conversation(
        h.cmd_json(
            &agent("alice"),
            json!({"type": "create_conversation", "kind": "direct", "member_ids": ["bob"]}),
        )
        .unwrap(),
    );
    assert!(created);
    let (again, created) = conversation(
        h.cmd_json(
            &agent("bob"),
            json!({"type": "create_conversation", "kind": "direct", "member_ids": ["alice"]}),
        )
        .unwrap(),
    );
    assert_eq!((again.as_str(), created), (id.as_str(), false));
    h.clear();
    h.cmd_json(
        &agent("bob"),
        json!({"type": "send_conversation_message", "conversation_id": id, "body": "coffee?"}),
    )
    .unwrap();
    for who in ["alice", "bob"] {
        assert_eq!(h.event_names_for(&staff(who)), vec!["conversation_message"]);
    }
    assert!(h.events_for(&staff("carol")).is_empty());
    let bad = h.err(&agent("alice"), serde_json::from_value(json!({"type": "create_conversation", "kind": "direct", "member_ids": ["bob", "carol"]})).unwrap());
    assert_eq!(bad.code(), "invalid_input");
}

#[test]
fn group_members_change_and_outsiders_see_nothing() {
    let mut h = team();
    let (id, _) = conversation(h.cmd_json(&agent("alice"), json!({"type": "create_conversation", "kind": "group", "member_ids": ["bob"], "title": "Escalations"})).unwrap());
    let outsider = h.err(
        &agent("carol"),
        serde_json::from_value(
            json!({"type": "send_conversation_message", "conversation_id": id, "body": "hi"}),
        )
        .unwrap(),
    );
    assert_eq!(outsider.code(), "not_found");
    h.cmd_json(
        &agent("bob"),
        json!({"type": "add_conversation_members", "conversation_id": id, "member_ids": ["carol"]}),
    )
    .unwrap();
    h.cmd_json(
        &agent("carol"),
        json!({"type": "send_conversation_message", "conversation_id": id, "body": "joined"}),
    )
    .unwrap();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "leave_conversation", "conversation_id": id}),
    )
    .unwrap();
    h.clear();
    h.cmd_json(
        &agent("bob"),
        json!({"type": "send_conversation_message", "conversation_id": id, "body": "bye alice"}),
    )
    .unwrap();
    assert!(h.events_for(&staff("alice")).is_empty());
    let unknown = h.err(&agent("bob"), serde_json::from_value(json!({"type": "add_conversation_members", "conversation_id": id, "member_ids": ["ghost"]})).unwrap());
    assert_eq!(unknown.code(), "not_found");
}

#[test]
fn conversation_reads_and_retries_behave_like_session_messages() {
    let mut h = team();
    let (id, _) = conversation(
        h.cmd_json(
            &agent("alice"),
            json!({"type": "create_conversation", "kind": "direct", "member_ids": ["bob"]}),
        )
        .unwrap(),
    );
    let send = json!({"type": "send_conversation_message", "conversation_id": id, "body": "ping", "client_message_id": "k1"});
    h.cmd_json(&agent("alice"), send.clone()).unwrap();
    h.clear();
    match h.cmd_json(&agent("alice"), send).unwrap() {
        Reply::MessageAccepted { duplicate, seq, .. } => assert_eq!((duplicate, seq), (true, 1)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(h.outputs.is_empty());
    h.cmd_json(
        &agent("bob"),
        json!({"type": "mark_conversation_read", "conversation_id": id}),
    )
    .unwrap();
    let read = h
        .events_for(&staff("alice"))
        .into_iter()
        .any(|e| matches!(e, Event::ConversationRead { up_to_seq: 1, .. }));
    assert!(read);
}

#[test]
fn visitors_have_no_internal_conversations_and_tenants_can_turn_them_off() {
    let mut h = team();
    let error = h.err(
        &visitor("v1"),
        serde_json::from_value(
            json!({"type": "create_conversation", "kind": "group", "member_ids": ["alice"]}),
        )
        .unwrap(),
    );
    assert_eq!(error.code(), "forbidden");
    h.cmd_json(&admin(), json!({"type": "update_tenant_settings", "settings": {"features": {"internal_chat": false}}})).unwrap();
    let error = h.err(
        &agent("alice"),
        serde_json::from_value(
            json!({"type": "create_conversation", "kind": "direct", "member_ids": ["bob"]}),
        )
        .unwrap(),
    );
    assert_eq!(error.code(), "feature_disabled");
}
