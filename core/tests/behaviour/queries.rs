//! `Engine::query`: the read-only commands answer exactly as through `handle`, from a shared
//! reference, without outputs or any change; commands that change state are refused.

use crate::support::*;
use serde_json::json;
use switchboard_core::ids::{QueueId, SessionId};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{Actor, Command, CommandError, Role, Timestamp};

#[test]
fn queries_answer_like_handle_and_change_nothing() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        Command::UpsertQueue {
            queue: queue("support", json!({})),
        },
    );
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({ "initial_message": "Hello" }));
    h.clear();
    let reads = [
        (
            visitor("v1"),
            Command::GetSession {
                session_id: session.parse::<SessionId>().unwrap(),
            },
        ),
        (
            agent("alice"),
            Command::GetQueueStatus {
                queue_id: Some(QueueId::from("support")),
                department_id: None,
            },
        ),
        (agent("alice"), Command::GetAgent { agent_id: None }),
        (agent("alice"), Command::ListCannedResponses {}),
    ];
    for (actor, command) in reads {
        let before = h.engine.snapshot().unwrap();
        let queried = h.engine.query(Timestamp(h.now), &actor, command.clone());
        assert_eq!(h.engine.pending_outputs(), 0, "a query produced outputs");
        assert_eq!(
            h.engine.snapshot().unwrap(),
            before,
            "a query changed the engine"
        );
        let handled = h.try_cmd(&actor, command);
        assert_eq!(queried, handled, "query and handle disagree");
        assert!(queried.is_ok(), "{queried:?}");
    }
}

#[test]
fn a_query_checks_the_actor_like_handle() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    let stranger = visitor("v2");
    let error = h
        .engine
        .query(
            Timestamp(h.now),
            &stranger,
            Command::GetSession {
                session_id: session.parse::<SessionId>().unwrap(),
            },
        )
        .unwrap_err();
    assert_eq!(
        error.code(),
        "not_found",
        "another visitor's chat is not there"
    );

    let other_tenant = Actor::new("globex", "v1", Role::Visitor);
    let error = h
        .engine
        .query(
            Timestamp(h.now),
            &other_tenant,
            Command::ListCannedResponses {},
        )
        .unwrap_err();
    assert_eq!(error.code(), "not_found");
}

#[test]
fn commands_that_change_state_are_refused_by_query() {
    let h = Harness::with_settings(TenantSettings::default());
    let error = h
        .engine
        .query(
            Timestamp(0),
            &admin(),
            Command::ForceLogoutAll { reason: None },
        )
        .unwrap_err();
    assert!(
        matches!(error, CommandError::InvalidInput { .. }),
        "{error:?}"
    );
    assert_eq!(h.engine.pending_outputs(), 0);
}
