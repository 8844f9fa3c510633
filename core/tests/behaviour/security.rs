//! Security in the core: another tenant's objects are "not found" on every path, every
//! command checks the actor's role, visitors see only their own sessions, and every text
//! field has a size limit. A refused command changes nothing.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Actor, Command, Role};

/// Two tenants, "acme" (the harness) and "globex", each with an active chat.
fn two_tenants() -> (Harness, String) {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    let root = Actor::new("globex", "root", Role::Superadmin);
    h.cmd_json(&root, json!({"type": "create_tenant", "settings": {}}))
        .unwrap();
    let g_admin = Actor::new("globex", "admin", Role::TenantAdmin);
    h.cmd_json(
        &g_admin,
        json!({"type": "upsert_queue", "queue": {"id": "support"}}),
    )
    .unwrap();
    h.cmd_json(
        &g_admin,
        json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Globex Alice"}}),
    )
    .unwrap();
    h.cmd_json(
        &Actor::new("globex", "alice", Role::Agent),
        json!({"type": "set_agent_status", "status": "online"}),
    )
    .unwrap();
    h.clear();
    (h, session)
}

#[test]
fn another_tenants_session_is_not_found_on_every_path() {
    let (mut h, session) = two_tenants();
    // The same agent id and the same session id exist only in acme; globex sees nothing.
    let intruder = Actor::new("globex", "alice", Role::Agent);
    let boss = Actor::new("globex", "admin", Role::TenantAdmin);
    let commands = [
        json!({"type": "get_session", "session_id": session}),
        json!({"type": "accept_offer", "session_id": session}),
        json!({"type": "decline_offer", "session_id": session}),
        json!({"type": "pick_session", "session_id": session}),
        json!({"type": "send_message", "session_id": session, "body": "hi"}),
        json!({"type": "send_canned_response", "session_id": session, "canned_response_id": "canned_1"}),
        json!({"type": "render_canned_response", "session_id": session, "canned_response_id": "canned_1"}),
        json!({"type": "set_typing", "session_id": session, "active": true}),
        json!({"type": "mark_read", "session_id": session}),
        json!({"type": "add_note", "session_id": session, "body": "x"}),
        json!({"type": "add_tags", "session_id": session, "tags": ["x"]}),
        json!({"type": "remove_tags", "session_id": session, "tags": ["x"]}),
        json!({"type": "transfer_session", "session_id": session, "to_agent_id": "alice", "reason": "x"}),
        json!({"type": "resolve_session", "session_id": session}),
        json!({"type": "close_session", "session_id": session}),
        json!({"type": "accept_transfer", "transfer_id": "trf_1"}),
        json!({"type": "reject_transfer", "transfer_id": "trf_1"}),
        json!({"type": "cancel_transfer", "transfer_id": "trf_1"}),
    ];
    for command in &commands {
        for who in [&intruder, &boss] {
            let error = h.err(who, serde_json::from_value(command.clone()).unwrap());
            assert_eq!(error.code(), "not_found", "{who:?} {command}");
        }
    }
    let visitor_of_globex = Actor::new("globex", "v1", Role::Visitor);
    for command in [
        json!({"type": "send_message", "session_id": session, "body": "hi"}),
        json!({"type": "leave_session", "session_id": session}),
        json!({"type": "submit_csat", "session_id": session, "rating": 1}),
    ] {
        let error = h.err(
            &visitor_of_globex,
            serde_json::from_value(command.clone()).unwrap(),
        );
        assert_eq!(error.code(), "not_found", "{command}");
    }
    assert!(h.outputs.is_empty());
    assert_eq!(h.status("v1", &session), "active");
}

#[test]
fn a_visitor_cannot_see_or_touch_another_visitors_session() {
    let (mut h, session) = two_tenants();
    for command in [
        json!({"type": "get_session", "session_id": session}),
        json!({"type": "send_message", "session_id": session, "body": "hi"}),
        json!({"type": "leave_session", "session_id": session}),
        json!({"type": "mark_read", "session_id": session}),
    ] {
        let error = h.err(
            &visitor("v2"),
            serde_json::from_value(command.clone()).unwrap(),
        );
        assert_eq!(error.code(), "not_found", "{command}");
    }
}

#[test]
fn unknown_tenants_are_not_found_and_only_a_superadmin_creates_tenants() {
    let mut h = Harness::new();
    let ghost = Actor::new("nowhere", "admin", Role::TenantAdmin);
    let error = h.err(&ghost, Command::ForceLogoutAll { reason: None });
    assert_eq!(error.code(), "not_found");
    let pretender = Actor::new("newco", "admin", Role::TenantAdmin);
    let error = h.err(
        &pretender,
        serde_json::from_value(json!({"type": "create_tenant", "settings": {}})).unwrap(),
    );
    assert_eq!(error.code(), "forbidden");
    let root = Actor::new(TENANT, "root", Role::Superadmin);
    let error = h.err(
        &root,
        serde_json::from_value(json!({"type": "create_tenant", "settings": {}})).unwrap(),
    );
    assert_eq!(error.code(), "already_exists");
}

#[test]
fn every_role_is_checked_on_every_administrative_command() {
    let mut h = Harness::new();
    h.add_agent("viewer", json!({"role": "viewer"}));
    let admin_commands = [
        json!({"type": "update_tenant_settings", "settings": {}}),
        json!({"type": "upsert_department", "department": {"id": "x", "name": "X"}}),
        json!({"type": "remove_department", "department_id": "support"}),
        json!({"type": "upsert_queue", "queue": {"id": "x"}}),
        json!({"type": "remove_queue", "queue_id": "support"}),
        json!({"type": "upsert_agent", "agent": {"id": "x", "name": "X"}}),
        json!({"type": "remove_agent", "agent_id": "viewer"}),
        json!({"type": "set_routing_rules", "rules": []}),
        json!({"type": "create_canned_response", "scope": "tenant", "title": "t", "body": "b"}),
        json!({"type": "force_logout_all"}),
    ];
    let roles = [
        Actor::new(TENANT, "a", Role::Agent),
        Actor::new(TENANT, "s", Role::Supervisor),
        Actor::new(TENANT, "viewer", Role::Viewer),
        Actor::new(TENANT, "v", Role::Visitor),
        Actor::new(TENANT, "b", Role::Bot),
        Actor::new(TENANT, "h", Role::System),
    ];
    for command in &admin_commands {
        for who in &roles {
            let error = h.err(who, serde_json::from_value(command.clone()).unwrap());
            assert_eq!(error.code(), "forbidden", "{who:?} {command}");
        }
    }
    // Staff commands refused to visitors, bots and the host.
    for command in [
        json!({"type": "list_queue", "queue_id": "support"}),
        json!({"type": "list_canned_responses"}),
        json!({"type": "end_wrap_up"}),
        json!({"type": "create_conversation", "kind": "group", "member_ids": []}),
    ] {
        for who in &roles[3..5] {
            let error = h.err(who, serde_json::from_value(command.clone()).unwrap());
            assert_eq!(error.code(), "forbidden", "{who:?} {command}");
        }
    }
    for who in [&roles[0], &roles[1], &roles[2], &roles[5]] {
        let error = h.err(
            who,
            serde_json::from_value(json!({"type": "start_session"})).unwrap(),
        );
        assert_eq!(error.code(), "forbidden", "only visitors start sessions");
    }
}

#[test]
fn a_viewer_sees_queue_status_and_agents_but_no_conversation() {
    let (mut h, session) = two_tenants();
    h.add_agent("viewer", json!({"role": "viewer"}));
    let viewer = Actor::new(TENANT, "viewer", Role::Viewer);
    h.cmd_json(
        &viewer,
        json!({"type": "get_queue_status", "queue_id": "support"}),
    )
    .unwrap();
    h.cmd_json(&viewer, json!({"type": "get_agent", "agent_id": "alice"}))
        .unwrap();
    for command in [
        json!({"type": "get_session", "session_id": session}),
        json!({"type": "send_message", "session_id": session, "body": "hi"}),
        json!({"type": "add_note", "session_id": session, "body": "x"}),
    ] {
        let error = h.err(&viewer, serde_json::from_value(command.clone()).unwrap());
        assert_eq!(error.code(), "forbidden", "{command}");
    }
    let error = h.err(
        &agent("alice"),
        serde_json::from_value(json!({"type": "get_agent", "agent_id": "viewer"})).unwrap(),
    );
    assert_eq!(error.code(), "forbidden", "agents see only themselves");
}

#[test]
fn every_text_field_has_a_limit() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let long = "x".repeat(300);
    let huge = "x".repeat(9_000);
    let cases = [
        (
            visitor("v1"),
            json!({"type": "start_session", "visitor": {"name": long}}),
        ),
        (
            visitor("v1"),
            json!({"type": "start_session", "visitor": {"email": long}}),
        ),
        (
            visitor("v1"),
            json!({"type": "start_session", "visitor": {"page_url": "x".repeat(3000)}}),
        ),
        (
            visitor("v1"),
            json!({"type": "start_session", "visitor": {"custom_fields": {"k": huge}}}),
        ),
        (
            visitor("v1"),
            json!({"type": "start_session", "initial_message": huge}),
        ),
        (
            visitor("v1"),
            json!({"type": "start_session", "issue_type": long}),
        ),
        (
            admin(),
            json!({"type": "upsert_agent", "agent": {"id": "y".repeat(200), "name": "Y"}}),
        ),
        (
            admin(),
            json!({"type": "upsert_agent", "agent": {"id": "y", "name": long}}),
        ),
        (
            admin(),
            json!({"type": "upsert_department", "department": {"id": "d", "name": long}}),
        ),
        (
            admin(),
            json!({"type": "update_tenant_settings", "settings": {"branding": {"welcome_message": "x".repeat(5000)}}}),
        ),
        (
            admin(),
            json!({"type": "create_canned_response", "scope": "tenant", "title": "t", "body": "x".repeat(5000)}),
        ),
        (
            admin(),
            json!({"type": "set_routing_rules", "rules": [{"actions": {"welcome_message": "x".repeat(5000)}}]}),
        ),
    ];
    for (who, command) in cases {
        let error = h.err(&who, serde_json::from_value(command.clone()).unwrap());
        assert!(
            matches!(error.code(), "too_long" | "invalid_input" | "limit_reached"),
            "{command}: {error:?}"
        );
    }
    let long_actor = Actor::new(TENANT, &"a".repeat(200), Role::Visitor);
    let error = h.err(
        &long_actor,
        serde_json::from_value(json!({"type": "start_session"})).unwrap(),
    );
    assert_eq!(error.code(), "too_long");
}

#[test]
fn the_json_facade_answers_bad_input_with_a_typed_error() {
    let mut h = Harness::new();
    for request in [
        "",
        "{",
        "[]",
        r#"{"now": 1}"#,
        r#"{"v": 2, "now": 1, "actor": {"tenant_id": "acme", "id": "a", "role": "agent"}, "command": {"type": "end_wrap_up"}}"#,
        r#"{"now": 1, "actor": {"tenant_id": "acme", "id": "a", "role": "wizard"}, "command": {"type": "end_wrap_up"}}"#,
        r#"{"now": 1, "actor": {"tenant_id": "acme", "id": "a", "role": "agent"}, "command": {"type": "fly"}}"#,
        r#"{"now": 1, "actor": {"tenant_id": "acme", "id": "v", "role": "visitor"}, "command": {"type": "get_session", "session_id": "ses_x"}}"#,
    ] {
        let answer: serde_json::Value =
            serde_json::from_str(&switchboard_core::json::handle_json(&mut h.engine, request))
                .unwrap();
        assert_eq!(answer["error"]["code"], "malformed", "{request}");
    }
    let ok = switchboard_core::json::handle_json(
        &mut h.engine,
        r#"{"v": 1, "now": 5, "actor": {"tenant_id": "acme", "id": "v", "role": "visitor"}, "command": {"type": "get_queue_status"}}"#,
    );
    let answer: serde_json::Value = serde_json::from_str(&ok).unwrap();
    assert_eq!(answer["ok"]["type"], "queue_status");
}
