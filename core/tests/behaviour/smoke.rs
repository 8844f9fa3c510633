//! The shortest happy path: offered, accepted, a reply, resolved.

use crate::support::*;
use serde_json::json;

#[test]
fn a_visitor_is_offered_to_an_online_agent_who_accepts_and_they_chat() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.clear();
    let session = h.start("v1", json!({ "initial_message": "Hello?" }));
    assert_eq!(h.offers_to("alice"), vec![session.clone()]);
    assert_eq!(h.status("v1", &session), "offered");
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "active");
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "send_message", "session_id": session, "body": "Hi, how can I help?"}),
    )
    .unwrap();
    let names = h.event_names_for(&visitor_r("v1"));
    assert_eq!(names, vec!["message"]);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "resolved");
}
