//! Messages inside a session: kinds and attachments, idempotent retries, unread counts and
//! read receipts per side, typing indicators, internal notes, tags and canned responses.

use crate::support;

use crate::support::*;
use serde_json::json;
use switchboard_core::{Event, Reply};

fn chat() -> (Harness, String) {
    let mut h = Harness::new();
    h.online_agent("alice", json!({"email": "alice@acme.test"}));
    let session = h.start(
        "v1",
        json!({"visitor": {"name": "Vera", "email": "vera@example.com"}, "issue_type": "billing"}),
    );
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    h.clear();
    (h, session)
}

fn send(
    h: &mut Harness,
    who: &switchboard_core::Actor,
    session: &str,
    extra: serde_json::Value,
) -> Result<Reply, switchboard_core::CommandError> {
    let mut command = json!({"type": "send_message", "session_id": session, "body": "hello"});
    for (k, v) in extra.as_object().unwrap() {
        command[k] = v.clone();
    }
    h.cmd_json(who, command)
}

#[test]
fn messages_are_numbered_without_gaps_and_delivered_to_both_sides() {
    let (mut h, session) = chat();
    let mut seqs = Vec::new();
    for who in [visitor("v1"), agent("alice"), visitor("v1")] {
        match send(&mut h, &who, &session, json!({})).unwrap() {
            Reply::MessageAccepted { seq, .. } => seqs.push(seq),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    for r in [visitor_r("v1"), staff("alice")] {
        assert_eq!(h.event_names_for(&r), vec!["message", "message", "message"]);
    }
}

#[test]
fn a_retry_with_the_same_client_message_id_is_accepted_once() {
    let (mut h, session) = chat();
    let first = send(
        &mut h,
        &visitor("v1"),
        &session,
        json!({"client_message_id": "c-1"}),
    )
    .unwrap();
    h.clear();
    let retry = send(
        &mut h,
        &visitor("v1"),
        &session,
        json!({"client_message_id": "c-1"}),
    )
    .unwrap();
    match (first, retry) {
        (
            Reply::MessageAccepted {
                message_id: a,
                duplicate: false,
                ..
            },
            Reply::MessageAccepted {
                message_id: b,
                duplicate: true,
                ..
            },
        ) => assert_eq!(a, b),
        other => panic!("unexpected {other:?}"),
    }
    assert!(h.outputs.is_empty(), "a retry produces nothing");
    // The same id from the agent is the agent's own message.
    match send(
        &mut h,
        &agent("alice"),
        &session,
        json!({"client_message_id": "c-1"}),
    )
    .unwrap()
    {
        Reply::MessageAccepted { duplicate, .. } => assert!(!duplicate),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unread_counts_are_kept_per_side_and_read_receipts_reach_both() {
    let (mut h, session) = chat();
    for _ in 0..3 {
        send(&mut h, &visitor("v1"), &session, json!({})).unwrap();
    }
    send(&mut h, &agent("alice"), &session, json!({})).unwrap();
    let view = h.session_json(&session).unwrap();
    assert_eq!(
        (
            view["unread_count_agent"].as_u64(),
            view["unread_count_visitor"].as_u64()
        ),
        (Some(3), Some(1))
    );
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "mark_read", "session_id": session, "up_to_seq": 2}),
    )
    .unwrap();
    let receipt = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .find_map(|e| match e {
            Event::Read {
                up_to_seq,
                unread_count_agent,
                unread_count_visitor,
                ..
            } => Some((*up_to_seq, *unread_count_agent, *unread_count_visitor)),
            _ => None,
        });
    assert_eq!(receipt, Some((2, 1, 1)));
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "mark_read", "session_id": session}),
    )
    .unwrap();
    assert_eq!(h.session_json(&session).unwrap()["unread_count_visitor"], 0);
    let beyond = h.err(
        &visitor("v1"),
        serde_json::from_value(
            json!({"type": "mark_read", "session_id": session, "up_to_seq": 99}),
        )
        .unwrap(),
    );
    assert_eq!(beyond.code(), "invalid_input");
}

#[test]
fn typing_goes_to_the_other_side_only_on_change_and_clears_itself() {
    let (mut h, session) = chat();
    for _ in 0..3 {
        h.cmd_json(
            &visitor("v1"),
            json!({"type": "set_typing", "session_id": session, "active": true}),
        )
        .unwrap();
        h.advance(3_000);
    }
    let typing: Vec<bool> = h
        .events_for(&staff("alice"))
        .into_iter()
        .filter_map(|e| match e {
            Event::Typing { active, .. } => Some(*active),
            _ => None,
        })
        .collect();
    assert_eq!(typing, vec![true], "refreshes are not repeated");
    assert!(
        !h.event_names_for(&visitor_r("v1")).contains(&"typing"),
        "not echoed to the typist"
    );
    h.advance(10_000);
    let typing: Vec<bool> = h
        .events_for(&staff("alice"))
        .into_iter()
        .filter_map(|e| match e {
            Event::Typing { active, .. } => Some(*active),
            _ => None,
        })
        .collect();
    assert_eq!(typing, vec![true, false], "a stale indicator is cleared");
}

/// The typing events one recipient saw, in order: (who typed, started or stopped).
fn typing_seen(h: &Harness, to: &switchboard_core::Recipient) -> Vec<(String, bool)> {
    h.events_for(to)
        .into_iter()
        .filter_map(|e| match e {
            Event::Typing { side, active, .. } => Some((format!("{side:?}"), *active)),
            _ => None,
        })
        .collect()
}

/// Whether `to`'s last `typing` event came just before its last `message` event.
fn stop_came_just_before_the_message(h: &Harness, to: &switchboard_core::Recipient) -> bool {
    let names = h.event_names_for(to);
    let message = names.iter().rposition(|n| *n == "message").unwrap();
    message > 0 && names[message - 1] == "typing"
}

fn set_typing(h: &mut Harness, who: &switchboard_core::Actor, session: &str) {
    h.cmd_json(
        who,
        json!({"type": "set_typing", "session_id": session, "active": true}),
    )
    .unwrap();
}

#[test]
fn sending_a_message_ends_the_senders_typing_indicator_before_the_message_arrives() {
    let (mut h, session) = chat();
    set_typing(&mut h, &visitor("v1"), &session);
    set_typing(&mut h, &agent("alice"), &session);
    send(&mut h, &visitor("v1"), &session, json!({})).unwrap();
    assert!(stop_came_just_before_the_message(&h, &staff("alice")));
    assert_eq!(
        typing_seen(&h, &staff("alice")),
        vec![("Visitor".to_owned(), true), ("Visitor".to_owned(), false)]
    );
    assert_eq!(
        typing_seen(&h, &visitor_r("v1")),
        vec![("Agent".to_owned(), true)],
        "the other side's indicator is untouched"
    );

    // The agent's own message ends the agent's indicator, well before its timeout.
    h.advance(1_000);
    send(&mut h, &agent("alice"), &session, json!({"body": "hi"})).unwrap();
    assert!(stop_came_just_before_the_message(&h, &visitor_r("v1")));
    assert_eq!(
        typing_seen(&h, &visitor_r("v1")),
        vec![("Agent".to_owned(), true), ("Agent".to_owned(), false)]
    );

    // Cleared indicators leave no timer to announce a second stop; typing again is
    // announced again; sending without typing announces nothing.
    h.advance(20_000);
    assert_eq!(typing_seen(&h, &staff("alice")).len(), 2);
    assert_eq!(typing_seen(&h, &visitor_r("v1")).len(), 2);
    set_typing(&mut h, &visitor("v1"), &session);
    assert_eq!(
        typing_seen(&h, &staff("alice")).last(),
        Some(&("Visitor".to_owned(), true))
    );
    send(&mut h, &agent("alice"), &session, json!({"body": "again"})).unwrap();
    assert_eq!(typing_seen(&h, &visitor_r("v1")).len(), 2);
}

#[test]
fn a_supervisor_writing_in_the_chat_leaves_the_holding_agents_typing_indicator_on() {
    let (mut h, session) = chat();
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    set_typing(&mut h, &agent("alice"), &session);
    send(
        &mut h,
        &support::supervisor("boss"),
        &session,
        json!({"body": "stepping in"}),
    )
    .unwrap();
    assert!(h.event_names_for(&visitor_r("v1")).contains(&"message"));
    assert_eq!(
        typing_seen(&h, &visitor_r("v1")),
        vec![("Agent".to_owned(), true)],
        "alice is still typing"
    );
}

#[test]
fn internal_notes_reach_staff_and_never_the_visitor() {
    let (mut h, session) = chat();
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    h.clear();
    let reply = h
        .cmd_json(
            &agent("alice"),
            json!({"type": "add_note", "session_id": session, "body": "customer is angry"}),
        )
        .unwrap();
    assert!(matches!(reply, Reply::NoteAdded { .. }));
    assert!(h.event_names_for(&staff("alice")).contains(&"note_added"));
    assert!(h.event_names_for(&staff("boss")).contains(&"note_added"));
    assert!(h.events_for(&visitor_r("v1")).is_empty());
    let by_visitor = h.err(
        &visitor("v1"),
        serde_json::from_value(json!({"type": "add_note", "session_id": session, "body": "x"}))
            .unwrap(),
    );
    assert_eq!(by_visitor.code(), "forbidden");
}

#[test]
fn tags_are_deduplicated_limited_and_hidden_from_the_visitor() {
    let (mut h, session) = chat();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "add_tags", "session_id": session, "tags": ["refund", " refund ", "vip"]}),
    )
    .unwrap();
    assert_eq!(
        h.session_json(&session).unwrap()["tags"],
        json!(["refund", "vip"])
    );
    h.cmd_json(
        &agent("alice"),
        json!({"type": "remove_tags", "session_id": session, "tags": ["vip"]}),
    )
    .unwrap();
    assert_eq!(h.session_json(&session).unwrap()["tags"], json!(["refund"]));
    match h
        .cmd_json(
            &visitor("v1"),
            json!({"type": "get_session", "session_id": session}),
        )
        .unwrap()
    {
        Reply::Session { session } => assert!(session.tags.is_empty()),
        other => panic!("unexpected {other:?}"),
    }
    let too_many: Vec<String> = (0..65).map(|n| format!("t{n}")).collect();
    let error = h.err(
        &agent("alice"),
        serde_json::from_value(
            json!({"type": "add_tags", "session_id": session, "tags": too_many}),
        )
        .unwrap(),
    );
    assert_eq!(error.code(), "limit_reached");
}

#[test]
fn canned_responses_fill_variables_and_respect_ownership() {
    let (mut h, session) = chat();
    let tenant_wide = match h.cmd_json(&admin(), json!({"type": "create_canned_response", "scope": "tenant", "title": "greet",
        "body": "Hi {{visitor.name}}, {{agent.name}} here about {{issue_type}}. {{unknown.var}} {{visitor.account}}."})).unwrap() {
        Reply::CannedResponseCreated { canned_response_id } => canned_response_id.to_string(),
        other => panic!("unexpected {other:?}"),
    };
    match h.cmd_json(&agent("alice"), json!({"type": "render_canned_response", "session_id": session, "canned_response_id": tenant_wide})).unwrap() {
        Reply::Rendered { text } => assert_eq!(text, "Hi Vera, Agent alice here about billing. {{unknown.var}} ."),
        other => panic!("unexpected {other:?}"),
    }
    let personal = match h.cmd_json(&agent("alice"), json!({"type": "create_canned_response", "title": "bye", "body": "Bye {{visitor.name}}!"})).unwrap() {
        Reply::CannedResponseCreated { canned_response_id } => canned_response_id.to_string(),
        other => panic!("unexpected {other:?}"),
    };
    h.clear();
    h.cmd_json(&agent("alice"), json!({"type": "send_canned_response", "session_id": session, "canned_response_id": personal})).unwrap();
    let sent = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .any(|e| matches!(e, Event::Message { message } if &*message.body == "Bye Vera!"));
    assert!(sent);
    h.add_agent("bob", json!({}));
    match h
        .cmd_json(&agent("bob"), json!({"type": "list_canned_responses"}))
        .unwrap()
    {
        Reply::CannedResponses { items } => {
            assert_eq!(items.len(), 1, "bob sees only the tenant-wide one")
        }
        other => panic!("unexpected {other:?}"),
    }
    let steal = h.err(
        &agent("bob"),
        serde_json::from_value(
            json!({"type": "delete_canned_response", "canned_response_id": personal}),
        )
        .unwrap(),
    );
    assert_eq!(steal.code(), "not_found");
    let tenant_edit = h.err(&agent("bob"), serde_json::from_value(json!({"type": "update_canned_response", "canned_response_id": tenant_wide, "title": "x", "body": "y"})).unwrap());
    assert_eq!(tenant_edit.code(), "forbidden");
    let tenant_create = h.err(
        &agent("bob"),
        serde_json::from_value(
            json!({"type": "create_canned_response", "scope": "tenant", "title": "x", "body": "y"}),
        )
        .unwrap(),
    );
    assert_eq!(tenant_create.code(), "forbidden");
}

#[test]
fn message_kinds_and_attachments_are_checked() {
    let (mut h, session) = chat();
    let attachment = json!({"name": "invoice.pdf", "mime_type": "application/pdf", "size_bytes": 2048, "url": "https://files.example/1"});
    send(
        &mut h,
        &visitor("v1"),
        &session,
        json!({"kind": "attachment", "attachment": attachment, "body": ""}),
    )
    .unwrap();
    send(
        &mut h,
        &agent("alice"),
        &session,
        json!({"kind": "markdown", "body": "**done**"}),
    )
    .unwrap();
    for (extra, code) in [
        (json!({"kind": "system"}), "invalid_input"),
        (json!({"kind": "attachment"}), "invalid_input"),
        (
            json!({"kind": "text", "attachment": attachment}),
            "invalid_input",
        ),
        (json!({"body": "   "}), "invalid_input"),
        (json!({"body": "x".repeat(8 * 1024 + 1)}), "too_long"),
        (json!({"client_message_id": "has space"}), "invalid_input"),
    ] {
        let mut command = json!({"type": "send_message", "session_id": session, "body": "hello"});
        for (k, v) in extra.as_object().unwrap() {
            command[k] = v.clone();
        }
        let error = h.err(&visitor("v1"), serde_json::from_value(command).unwrap());
        assert_eq!(error.code(), code, "{extra}");
    }
}

#[test]
fn a_waiting_visitor_may_write_and_the_agent_sees_it_on_assignment() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}})).unwrap();
    let session = h.start("v1", json!({"initial_message": "first"}));
    send(&mut h, &visitor("v1"), &session, json!({"body": "second"})).unwrap();
    h.online_agent("alice", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    let assigned = h
        .events_for(&staff("alice"))
        .into_iter()
        .find_map(|e| match e {
            Event::SessionAssigned { session } => {
                Some((session.message_count, session.unread_count_agent))
            }
            _ => None,
        });
    assert_eq!(assigned, Some((2, 2)));
}

#[test]
fn a_bot_reading_clears_the_agent_sides_unread_count_not_the_visitors() {
    let mut h = Harness::new();
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [{"actions": {"bot": "faq"}}]}),
    )
    .unwrap();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    let session = h.start("v1", json!({"initial_message": "hi bot"}));
    let bot = switchboard_core::Actor::new(TENANT, "faq", switchboard_core::Role::Bot);
    h.cmd_json(
        &bot,
        json!({"type": "send_message", "session_id": session, "body": "hello human"}),
    )
    .unwrap();
    h.cmd_json(&bot, json!({"type": "mark_read", "session_id": session}))
        .unwrap();
    let view = match h
        .cmd_json(
            &visitor("v1"),
            json!({"type": "get_session", "session_id": session}),
        )
        .unwrap()
    {
        Reply::Session { session } => session,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!((view.unread_count_agent, view.unread_count_visitor), (0, 1));
}
