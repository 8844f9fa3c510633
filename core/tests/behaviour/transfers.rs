//! Transfers to an agent or a department: accept, reject, timeout and cancel, the history
//! kept, the visitor told in a system message, and the chat staying with the transferring
//! agent until someone accepts.

use crate::support::*;
use serde_json::json;
use switchboard_core::protocol::model::{TransferOutcome, TransferView};
use switchboard_core::{Event, Output, Record, Reply};

struct Setup {
    h: Harness,
    session: String,
}

fn setup() -> Setup {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertDepartment {
            department: switchboard_core::protocol::model::Department {
                id: "billing".into(),
                name: "Billing".into(),
                calendar_id: None,
            },
        },
    );
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    h.online_agent("bob", json!({}));
    h.online_agent("carol", json!({"departments": ["billing"]}));
    h.online_agent("dave", json!({"departments": ["billing"]}));
    h.clear();
    Setup { h, session }
}

fn transfer_to(s: &mut Setup, target: serde_json::Value) -> String {
    let mut command =
        json!({"type": "transfer_session", "session_id": s.session, "reason": "needs billing"});
    for (k, v) in target.as_object().unwrap() {
        command[k] = v.clone();
    }
    match s.h.cmd_json(&agent("alice"), command).unwrap() {
        Reply::TransferRequested { transfer_id } => transfer_id.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

fn transfer_records(h: &Harness) -> Vec<TransferView> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record: Record::Transfer { transfer },
                ..
            } => Some(transfer.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_transfer_to_an_agent_moves_the_chat_when_accepted_and_tells_the_visitor() {
    let mut s = setup();
    let transfer = transfer_to(&mut s, json!({"to_agent_id": "bob"}));
    assert_eq!(s.h.status("v1", &s.session), "transferring");
    // The transferring agent keeps chatting meanwhile.
    s.h.cmd_json(
        &agent("alice"),
        json!({"type": "send_message", "session_id": s.session, "body": "one moment"}),
    )
    .unwrap();
    assert_eq!(
        s.h.agent_json("bob")["pending_offers"],
        1,
        "the transfer holds a slot"
    );
    s.h.cmd_json(
        &agent("bob"),
        json!({"type": "accept_transfer", "transfer_id": transfer}),
    )
    .unwrap();
    let view = s.h.session_json(&s.session).unwrap();
    assert_eq!(view["agent_id"], "bob");
    assert_eq!(view["status"], "active");
    assert_eq!(view["transfer_count"], 1);
    let told = s.h.events_for(&visitor_r("v1")).into_iter().any(|e| {
        matches!(e,
        Event::Message { message } if message.body.contains("transferred to Agent bob"))
    });
    assert!(told);
    let history = transfer_records(&s.h);
    assert_eq!(history.first().unwrap().outcome, TransferOutcome::Pending);
    let last = history.last().unwrap();
    assert_eq!(last.outcome, TransferOutcome::Accepted);
    assert_eq!(last.accepted_by.as_deref(), Some("bob"));
    assert_eq!(last.reason, "needs billing");
    assert_eq!(s.h.agent_json("alice")["active_chats"], 0);
    let gone =
        s.h.cmd_json(
            &agent("alice"),
            json!({"type": "send_message", "session_id": s.session, "body": "hi"}),
        )
        .unwrap_err();
    assert_eq!(gone.code(), "forbidden");
}

#[test]
fn the_visitor_never_sees_the_transfer_reason() {
    let mut s = setup();
    transfer_to(&mut s, json!({"to_agent_id": "bob"}));
    for event in s.h.events_for(&visitor_r("v1")) {
        let text = serde_json::to_string(event).unwrap();
        assert!(!text.contains("needs billing"), "{text}");
    }
}

#[test]
fn a_department_transfer_is_offered_to_its_free_agents_and_fails_when_all_reject() {
    let mut s = setup();
    let transfer = transfer_to(&mut s, json!({"to_department_id": "billing"}));
    let offered = transfer_records(&s.h)[0].offered_to.clone();
    assert_eq!(
        offered.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        vec!["carol", "dave"]
    );
    for id in ["carol", "dave"] {
        s.h.cmd_json(
            &agent(id),
            json!({"type": "reject_transfer", "transfer_id": transfer}),
        )
        .unwrap();
    }
    let view = s.h.session_json(&s.session).unwrap();
    assert_eq!(
        (view["status"].as_str(), view["agent_id"].as_str()),
        (Some("active"), Some("alice"))
    );
    assert_eq!(
        transfer_records(&s.h).last().unwrap().outcome,
        TransferOutcome::Rejected
    );
}

#[test]
fn a_transfer_nobody_accepts_in_time_times_out_and_stays_with_the_agent() {
    let mut s = setup();
    let transfer = transfer_to(&mut s, json!({"to_agent_id": "bob"}));
    s.h.advance(59_999);
    assert_eq!(s.h.status("v1", &s.session), "transferring");
    s.h.advance(1);
    assert_eq!(s.h.status("v1", &s.session), "active");
    assert_eq!(
        transfer_records(&s.h).last().unwrap().outcome,
        TransferOutcome::TimedOut
    );
    let late =
        s.h.cmd_json(
            &agent("bob"),
            json!({"type": "accept_transfer", "transfer_id": transfer}),
        )
        .unwrap_err();
    assert_eq!(late.code(), "not_found");
    assert_eq!(s.h.agent_json("bob")["pending_offers"], 0);
}

#[test]
fn the_transferring_agent_can_cancel_but_others_cannot() {
    let mut s = setup();
    let transfer = transfer_to(&mut s, json!({"to_agent_id": "bob"}));
    let error = s.h.err(
        &agent("carol"),
        serde_json::from_value(json!({"type": "cancel_transfer", "transfer_id": transfer}))
            .unwrap(),
    );
    assert_eq!(error.code(), "not_found");
    let error = s.h.err(
        &agent("carol"),
        serde_json::from_value(json!({"type": "accept_transfer", "transfer_id": transfer}))
            .unwrap(),
    );
    assert_eq!(error.code(), "not_found", "not offered to carol");
    s.h.cmd_json(
        &agent("alice"),
        json!({"type": "cancel_transfer", "transfer_id": transfer}),
    )
    .unwrap();
    assert_eq!(
        transfer_records(&s.h).last().unwrap().outcome,
        TransferOutcome::Cancelled
    );
    assert_eq!(s.h.status("v1", &s.session), "active");
}

#[test]
fn transfers_are_refused_to_busy_or_unknown_targets_and_while_one_is_pending() {
    let mut s = setup();
    s.h.cmd_json(
        &agent("bob"),
        json!({"type": "set_agent_status", "status": "away"}),
    )
    .unwrap();
    for (target, code) in [
        (json!({"to_agent_id": "bob"}), "agent_at_capacity"),
        (json!({"to_agent_id": "nobody"}), "not_found"),
        (json!({"to_agent_id": "alice"}), "invalid_input"),
        (json!({"to_department_id": "nowhere"}), "not_found"),
        (
            json!({"to_agent_id": "carol", "to_department_id": "billing"}),
            "invalid_input",
        ),
        (json!({}), "invalid_input"),
    ] {
        let mut command =
            json!({"type": "transfer_session", "session_id": s.session, "reason": "x"});
        for (k, v) in target.as_object().unwrap() {
            command[k] = v.clone();
        }
        let error =
            s.h.err(&agent("alice"), serde_json::from_value(command).unwrap());
        assert_eq!(error.code(), code, "{target}");
    }
    let no_reason = s.h.err(&agent("alice"), serde_json::from_value(json!({"type": "transfer_session", "session_id": s.session, "to_agent_id": "carol", "reason": " "})).unwrap());
    assert_eq!(no_reason.code(), "invalid_input");
    transfer_to(&mut s, json!({"to_agent_id": "carol"}));
    let again = s.h.err(&agent("alice"), serde_json::from_value(json!({"type": "transfer_session", "session_id": s.session, "to_agent_id": "dave", "reason": "x"})).unwrap());
    assert_eq!(again.code(), "illegal_transition");
}

#[test]
fn the_visitor_leaving_during_a_transfer_cancels_it_and_frees_the_target() {
    let mut s = setup();
    transfer_to(&mut s, json!({"to_agent_id": "bob"}));
    s.h.cmd_json(
        &visitor("v1"),
        json!({"type": "leave_session", "session_id": s.session}),
    )
    .unwrap();
    assert_eq!(
        transfer_records(&s.h).last().unwrap().outcome,
        TransferOutcome::Cancelled
    );
    assert_eq!(s.h.agent_json("bob")["pending_offers"], 0);
    assert_eq!(s.h.agent_json("alice")["active_chats"], 0);
}

#[test]
fn transfers_can_be_turned_off_per_tenant() {
    let settings = serde_json::from_value(json!({"features": {"transfers": false}})).unwrap();
    let mut h = Harness::with_settings(settings);
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let session = h.start("v1", json!({}));
    let holder = if h.offers_to("alice").is_empty() {
        "bob"
    } else {
        "alice"
    };
    h.cmd_json(
        &agent(holder),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    let error = h.err(&agent(holder), serde_json::from_value(json!({"type": "transfer_session", "session_id": session, "to_agent_id": if holder == "alice" { "bob" } else { "alice" }, "reason": "x"})).unwrap());
    assert_eq!(error.code(), "feature_disabled");
}
