//! Staff and canned responses are written as records a store can keep tables from: the
//! profile after every `upsert_agent` (and after `remove_department` for the agents it
//! changes), `agent_removed`, the canned response after create and update, and
//! `canned_response_deleted`. Each comes right after the step's `audit` record.

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::{Command, Output, Reply};

/// The records persisted since the last clear, as JSON.
fn records(h: &Harness) -> Vec<Value> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist { tenant_id, record } => {
                assert_eq!(tenant_id.as_str(), TENANT);
                Some(serde_json::to_value(record).expect("records serialize"))
            }
            _ => None,
        })
        .collect()
}

fn audit(actor: &str, role: &str, action: &str, target: &str, at: i64) -> Value {
    json!({
        "type": "audit", "actor_id": actor, "actor_role": role, "action": action,
        "target": target, "at": at
    })
}

#[test]
fn upserting_an_agent_writes_the_profile_after_the_audit() {
    let mut h = Harness::new();
    let alice = profile(
        "alice",
        json!({ "departments": ["support"], "skills": {"billing": 7}, "email": "a@x.example" }),
    );
    h.ok(
        &admin(),
        Command::UpsertAgent {
            agent: alice.clone(),
        },
    );
    let written = records(&h);
    assert_eq!(
        written[..2],
        [
            audit("admin", "tenant_admin", "upsert_agent", "alice", h.now),
            json!({ "type": "agent", "agent": serde_json::to_value(&alice).unwrap() }),
        ]
    );
    assert_eq!(written.len(), 2, "{written:?}");

    // An update writes the whole profile as it now is.
    h.clear();
    h.now += 1_000;
    let renamed = profile(
        "alice",
        json!({ "name": "Alice B.", "departments": [], "max_concurrent_chats": 5 }),
    );
    h.ok(
        &admin(),
        Command::UpsertAgent {
            agent: renamed.clone(),
        },
    );
    let written = records(&h);
    assert_eq!(
        written[..2],
        [
            audit("admin", "tenant_admin", "upsert_agent", "alice", h.now),
            json!({
                "type": "agent",
                "agent": {
                    "id": "alice", "name": "Alice B.", "email": null, "role": "agent",
                    "departments": [], "skills": {}, "languages": [],
                    "max_concurrent_chats": 5, "auto_accept": false, "routing_weight": 1,
                    "routing_order": 0
                }
            }),
        ]
    );

    // A refused upsert writes nothing.
    let error = h.err(
        &agent("alice"),
        Command::UpsertAgent {
            agent: renamed.clone(),
        },
    );
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn removing_a_department_rewrites_the_profiles_that_named_it() {
    let mut h = Harness::new();
    h.cmd_json(
        &admin(),
        json!({"type": "upsert_department", "department": {"id": "billing", "name": "Billing"}}),
    )
    .unwrap();
    h.add_agent("alice", json!({ "departments": ["support", "billing"] }));
    h.add_agent("bob", json!({ "departments": ["support"] }));
    h.add_agent("carol", json!({ "departments": ["billing"] }));
    h.clear();
    h.cmd_json(
        &admin(),
        json!({"type": "remove_department", "department_id": "billing"}),
    )
    .unwrap();
    let written = records(&h);
    assert_eq!(
        written,
        [
            audit(
                "admin",
                "tenant_admin",
                "remove_department",
                "billing",
                h.now
            ),
            json!({
                "type": "agent",
                "agent": serde_json::to_value(profile("alice", json!({"departments": ["support"]}))).unwrap()
            }),
            json!({
                "type": "agent",
                "agent": serde_json::to_value(profile("carol", json!({"departments": []}))).unwrap()
            }),
        ]
    );
}

#[test]
fn removing_an_agent_writes_agent_removed_after_the_audit() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.clear();
    h.now += 5_000;
    h.ok(
        &admin(),
        Command::RemoveAgent {
            agent_id: "alice".into(),
        },
    );
    let written = records(&h);
    assert_eq!(
        written[..2],
        [
            audit("admin", "tenant_admin", "remove_agent", "alice", h.now),
            json!({ "type": "agent_removed", "agent_id": "alice", "at": h.now }),
        ]
    );
    // Presence history still ends with offline.
    assert_eq!(
        written[2..],
        [json!({ "type": "agent_status", "agent_id": "alice", "status": "offline", "at": h.now })]
    );
    // Unknown agents are refused and write nothing.
    let error = h.err(
        &admin(),
        Command::RemoveAgent {
            agent_id: "alice".into(),
        },
    );
    assert_eq!(error.code(), "not_found");
}

#[test]
fn canned_responses_are_written_on_create_update_and_delete() {
    let mut h = Harness::new();
    h.add_agent("alice", json!({}));
    h.clear();
    let reply = h
        .cmd_json(
            &agent("alice"),
            json!({"type": "create_canned_response", "title": "Hi", "shortcut": "/hi",
                   "body": "Hello {{visitor.name}}"}),
        )
        .unwrap();
    let Reply::CannedResponseCreated { canned_response_id } = reply else {
        panic!("unexpected {reply:?}");
    };
    let id = canned_response_id.to_string();
    assert_eq!(
        records(&h),
        [
            audit("alice", "agent", "create_canned_response", &id, h.now),
            json!({
                "type": "canned_response",
                "canned_response": {
                    "canned_response_id": id, "scope": "personal", "owner_id": "alice",
                    "title": "Hi", "shortcut": "/hi", "body": "Hello {{visitor.name}}"
                }
            }),
        ]
    );

    h.clear();
    h.now += 1_000;
    h.cmd_json(
        &agent("alice"),
        json!({"type": "update_canned_response", "canned_response_id": id, "title": "Hello",
               "body": "Hi there"}),
    )
    .unwrap();
    assert_eq!(
        records(&h),
        [
            audit("alice", "agent", "update_canned_response", &id, h.now),
            json!({
                "type": "canned_response",
                "canned_response": {
                    "canned_response_id": id, "scope": "personal", "owner_id": "alice",
                    "title": "Hello", "shortcut": null, "body": "Hi there"
                }
            }),
        ]
    );

    // A tenant-wide one by an administrator has no owner.
    h.clear();
    h.cmd_json(
        &admin(),
        json!({"type": "create_canned_response", "scope": "tenant", "title": "Bye",
               "body": "Bye!"}),
    )
    .unwrap();
    assert_eq!(
        records(&h)[1],
        json!({
            "type": "canned_response",
            "canned_response": {
                "canned_response_id": "canned_2", "scope": "tenant", "owner_id": null,
                "title": "Bye", "shortcut": null, "body": "Bye!"
            }
        })
    );

    // Someone else's personal response: refused, nothing written.
    h.add_agent("bob", json!({}));
    h.clear();
    let error = h
        .cmd_json(
            &agent("bob"),
            json!({"type": "delete_canned_response", "canned_response_id": id}),
        )
        .unwrap_err();
    assert_eq!(error.code(), "not_found");
    assert!(records(&h).is_empty());

    h.now += 1_000;
    h.cmd_json(
        &admin(),
        json!({"type": "delete_canned_response", "canned_response_id": id}),
    )
    .unwrap();
    assert_eq!(
        records(&h),
        [
            audit(
                "admin",
                "tenant_admin",
                "delete_canned_response",
                &id,
                h.now
            ),
            json!({ "type": "canned_response_deleted", "canned_response_id": id, "at": h.now }),
        ]
    );
}
