//! Helpdesk behaviours that a review found wrong once; each test fails on the old code.

use crate::support;

use crate::support::{Harness, TENANT, admin, agent, staff, supervisor, system, visitor};
use serde_json::{Value, json};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{Actor, Effect, Output, Record, Reply, Role};

const HOUR: i64 = 3_600_000;

fn create(h: &mut Harness, actor: &Actor, command: Value) -> String {
    let mut full = json!({ "type": "create_ticket", "subject": "Help" });
    for (k, v) in command.as_object().expect("object") {
        full[k] = v.clone();
    }
    match h.cmd_json(actor, full).expect("created") {
        Reply::TicketCreated { ticket_id, .. } => ticket_id.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

fn ticket(h: &mut Harness, id: &str) -> Value {
    let reply = h
        .cmd_json(
            &supervisor("sam"),
            json!({ "type": "get_ticket", "ticket_id": id }),
        )
        .expect("readable");
    json!(reply)["ticket"].clone()
}

#[test]
fn an_offline_message_links_the_visitors_missed_chat_and_refuses_unknown_ones() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertQueue {
            queue: support::queue(
                "support",
                json!({ "department_id": "support", "queue_when_no_agents": true,
                        "max_wait_ms": 60_000 }),
            ),
        },
    );
    let session = h.start("v1", json!({}));
    h.advance(61_000);
    assert_eq!(
        h.session_json(&session),
        None,
        "the missed chat left memory"
    );
    let reply = h
        .cmd_json(
            &visitor("v1"),
            json!({ "type": "submit_offline_message", "message": "Call me", "session_id": session }),
        )
        .expect("accepted");
    let Reply::TicketCreated { ticket_id, .. } = reply else {
        panic!("unexpected {reply:?}")
    };
    assert_eq!(
        ticket(&mut h, &ticket_id.to_string())["source_session_id"],
        session
    );
    let other = h
        .cmd_json(
            &visitor("v2"),
            json!({ "type": "submit_offline_message", "message": "Me too", "session_id": session }),
        )
        .expect_err("not v2's chat");
    assert_eq!(other.code(), "not_found");
    let unknown = h
        .cmd_json(
            &visitor("v1"),
            json!({ "type": "submit_offline_message", "message": "x", "session_id": "ses_999" }),
        )
        .expect_err("unknown chat");
    assert_eq!(unknown.code(), "not_found");
}

#[test]
fn only_the_chats_agent_an_offered_agent_or_a_supervisor_may_mail_its_transcript() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({ "auto_accept": true }));
    h.add_agent("bob", json!({ "departments": ["support"] }));
    let session = h.start("v1", json!({}));
    let command =
        json!({ "type": "email_transcript", "session_id": session, "email": "x@example.com" });
    let refused = h
        .cmd_json(&agent("bob"), command.clone())
        .expect_err("bob is not on it");
    assert_eq!(refused.code(), "forbidden");
    h.cmd_json(&agent("alice"), command.clone())
        .expect("alice holds it");
    h.cmd_json(&supervisor("sam"), command)
        .expect("supervisors may");
}

#[test]
fn a_ticket_created_with_attachments_is_not_answered_by_its_own_description() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let id = create(
        &mut h,
        &agent("alice"),
        json!({ "description": "See screenshot", "attachments": [{ "name": "s.png",
            "mime_type": "image/png", "size_bytes": 10, "url": "https://files/s.png" }] }),
    );
    let view = ticket(&mut h, &id);
    assert_eq!(view["status"], "open");
    assert_eq!(view["first_response_at"], Value::Null);
    assert_eq!(view["assignee_id"], Value::Null);
    assert_eq!(view["message_count"], 1);
}

#[test]
fn attachments_on_a_new_ticket_respect_the_feature_switch() {
    let mut h = Harness::with_settings(TenantSettings {
        features: switchboard_core::protocol::model::FeatureFlags {
            attachments: false,
            ..Default::default()
        },
        ..Default::default()
    });
    let error = h
        .cmd_json(
            &agent("alice"),
            json!({ "type": "create_ticket", "subject": "x", "attachments": [{ "name": "a",
                "mime_type": "text/plain", "size_bytes": 1, "url": "https://f/a" }] }),
        )
        .expect_err("attachments are off");
    assert_eq!(error.code(), "feature_disabled");
}

#[test]
fn visitors_cannot_choose_the_channel_that_selects_sla_policies() {
    let mut h = Harness::new();
    let error = h
        .cmd_json(
            &visitor("v1"),
            json!({ "type": "create_ticket", "subject": "x", "channel": "phone" }),
        )
        .expect_err("channel is for staff");
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn a_resolved_ticket_restored_after_its_close_was_due_closes_then() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let id = create(&mut h, &agent("alice"), json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "set_ticket_status", "ticket_id": id, "status": "resolved" }),
    )
    .expect("resolved");
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "delete_ticket", "ticket_id": id }),
    )
    .expect("deleted");
    h.advance(100 * HOUR);
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "restore_ticket", "ticket_id": id }),
    )
    .expect("restored");
    h.advance(0);
    let gone = h
        .cmd_json(
            &supervisor("sam"),
            json!({ "type": "get_ticket", "ticket_id": id }),
        )
        .expect_err("closed tickets leave memory");
    assert_eq!(gone.code(), "not_found");
}

#[test]
fn setting_the_same_status_still_needs_the_right_to_change_it() {
    let mut h = Harness::new();
    let id = create(&mut h, &agent("alice"), json!({}));
    let viewer = Actor::new(TENANT, "vic", Role::Viewer);
    let error = h
        .cmd_json(
            &viewer,
            json!({ "type": "set_ticket_status", "ticket_id": id, "status": "open" }),
        )
        .expect_err("viewers change nothing");
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn replies_are_audited_with_the_real_actor_and_role() {
    let mut h = Harness::new();
    let id = create(
        &mut h,
        &agent("alice"),
        json!({ "requester": { "visitor_id": "v1" } }),
    );
    h.clear();
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "add_ticket_message", "ticket_id": id, "body": "On it" }),
    )
    .expect("reply");
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "set_ticket_status", "ticket_id": id, "status": "pending" }),
    )
    .expect("pending");
    h.cmd_json(
        &system(),
        json!({ "type": "add_ticket_message", "ticket_id": id, "body": "Mail reply" }),
    )
    .expect("host writes for the customer");
    let audits: Vec<(String, Role, String)> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record:
                    Record::TicketAudit {
                        actor_id,
                        actor_role,
                        action,
                        ..
                    },
                ..
            } => Some((actor_id.to_string(), *actor_role, action.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        audits,
        vec![
            ("sam".to_owned(), Role::Supervisor, "reply".to_owned()),
            ("sam".to_owned(), Role::Supervisor, "set_status".to_owned()),
            ("host".to_owned(), Role::System, "customer_reply".to_owned()),
        ]
    );
}

#[test]
fn an_expired_chat_survey_is_not_renewed_by_naming_the_session() {
    let mut h = Harness::with_settings(TenantSettings {
        timing: switchboard_core::protocol::model::Timing {
            survey_expiry_ms: 60_000,
            resolved_close_ms: 10 * 60_000,
            ..Default::default()
        },
        ..Default::default()
    });
    h.online_agent("alice", json!({ "auto_accept": true }));
    let session = h.start("v1", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "resolve_session", "session_id": session }),
    )
    .expect("resolved");
    h.advance(61_000);
    let error = h
        .cmd_json(
            &visitor("v1"),
            json!({ "type": "submit_csat", "session_id": session, "rating": 5 }),
        )
        .expect_err("the survey expired");
    assert_eq!(error.code(), "illegal_transition");
}

#[test]
fn answered_surveys_do_not_count_against_the_open_survey_limit() {
    let mut h = Harness::with_settings(TenantSettings {
        limits: switchboard_core::protocol::model::TenantLimits {
            max_open_surveys: 1,
            ..Default::default()
        },
        ..Default::default()
    });
    h.online_agent("alice", json!({ "auto_accept": true }));
    let first = h.start("v1", json!({}));
    let second = h.start("v2", json!({}));
    let ask = |h: &mut Harness, session: &str| {
        h.cmd_json(
            &agent("alice"),
            json!({ "type": "request_csat", "session_id": session }),
        )
    };
    let Ok(Reply::SurveySent { survey_id }) = ask(&mut h, &first) else {
        panic!("first survey sent")
    };
    assert_eq!(
        ask(&mut h, &second).expect_err("limit").code(),
        "limit_reached"
    );
    h.cmd_json(
        &visitor("v1"),
        json!({ "type": "submit_csat", "survey_id": survey_id, "rating": 4 }),
    )
    .expect("answered");
    ask(&mut h, &second).expect("room again once answered");
}

#[test]
fn team_mates_hear_when_a_reply_takes_an_unassigned_ticket() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let id = create(
        &mut h,
        &agent("alice"),
        json!({ "department_id": "support" }),
    );
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "add_ticket_message", "ticket_id": id, "body": "Mine" }),
    )
    .expect("reply");
    assert!(h.event_names_for(&staff("bob")).contains(&"ticket_updated"));
}

#[test]
fn a_ticket_prefix_must_be_short_and_plain() {
    let mut h = Harness::new();
    for prefix in ["", "ACME-<b>", "A_VERY_LONG_PREFIX_INDEED"] {
        let settings = TenantSettings {
            ticket_prefix: Some(prefix.to_owned()),
            ..Default::default()
        };
        let error = h
            .cmd_json(
                &admin(),
                json!({ "type": "update_tenant_settings", "settings": settings }),
            )
            .expect_err("refused");
        assert_eq!(error.code(), "invalid_input", "prefix {prefix:?}");
    }
}

#[test]
fn a_deleted_ticket_cannot_be_updated_assigned_or_tagged() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    let id = create(&mut h, &agent("alice"), json!({}));
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "delete_ticket", "ticket_id": id }),
    )
    .expect("deleted");
    for command in [
        json!({ "type": "update_ticket", "ticket_id": id, "changes": { "priority": "high" } }),
        json!({ "type": "assign_ticket", "ticket_id": id, "assignee_id": "alice" }),
        json!({ "type": "add_ticket_tags", "ticket_id": id, "tags": ["x"] }),
    ] {
        let error = h
            .cmd_json(&supervisor("sam"), command.clone())
            .expect_err("deleted");
        assert_eq!(error.code(), "illegal_transition", "{command}");
    }
}

#[test]
fn the_offline_confirmation_mail_names_the_ticket() {
    let mut h = Harness::new();
    h.cmd_json(
        &visitor("v1"),
        json!({ "type": "submit_offline_message", "message": "Where is my order?\nThanks",
                "email": "ana@example.com" }),
    )
    .expect("accepted");
    let mail = h
        .outputs
        .iter()
        .find_map(|o| match o {
            Output::Effect {
                effect:
                    Effect::EmailTicketConfirmation {
                        number,
                        subject,
                        to,
                        ..
                    },
                ..
            } => Some((number.clone(), subject.clone(), to.clone())),
            _ => None,
        })
        .expect("confirmation mail");
    assert_eq!(
        mail,
        (
            "ACME-00001".to_owned(),
            "Where is my order?".to_owned(),
            "ana@example.com".to_owned()
        )
    );
}

fn set_policies(h: &mut Harness, policies: Value) {
    h.cmd_json(
        &admin(),
        json!({ "type": "set_sla_policies", "policies": policies }),
    )
    .expect("policies");
}

fn clock(view: &Value, metric: &str) -> Value {
    view["sla"]["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|c| c["metric"] == metric)
        .cloned()
        .expect("clock")
}

#[test]
fn breaches_due_together_are_recorded_under_their_policy_and_escalate_once() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    set_policies(
        &mut h,
        json!([
            { "id": "strict", "conditions": { "priorities": ["high", "critical"] },
              "targets": { "first_response": { "minutes": 30 } } },
            { "id": "normal", "conditions": { "priorities": ["medium"] },
              "targets": { "first_response": { "minutes": 60 }, "resolution": { "minutes": 60 } },
              "escalation": { "raise_priority": true } },
        ]),
    );
    let id = create(&mut h, &agent("alice"), json!({ "priority": "medium" }));
    h.clear();
    h.advance(HOUR);
    let breached: Vec<(String, String)> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record: Record::SlaMeasurement { measurement },
                ..
            } => Some((
                json!(measurement.metric).as_str()?.to_owned(),
                measurement.policy_id.to_string(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        breached,
        vec![
            ("first_response".to_owned(), "normal".to_owned()),
            ("resolution".to_owned(), "normal".to_owned()),
        ]
    );
    assert_eq!(
        ticket(&mut h, &id)["priority"],
        "high",
        "one escalation, one step"
    );
}

/// Saturday 2026-11-21 08:00 UTC.
const SATURDAY_8: i64 = 1_795_248_000_000;

fn always_open_and_office(h: &mut Harness) {
    let every_day: serde_json::Map<String, Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| {
        (
            (*d).to_owned(),
            json!([{ "start": "00:00", "end": "24:00" }]),
        )
    })
    .collect();
    h.cmd_json(
        &admin(),
        json!({ "type": "upsert_calendar", "calendar": {
        "id": "always", "time_zone": "UTC", "weekly": every_day } }),
    )
    .expect("always");
    h.cmd_json(
        &admin(),
        json!({ "type": "upsert_calendar", "calendar": {
        "id": "office", "time_zone": "UTC",
        "weekly": { "monday": [{ "start": "09:00", "end": "17:00" }] } } }),
    )
    .expect("office");
    set_policies(
        h,
        json!([{ "id": "p", "targets": { "resolution": { "minutes": 480, "business_hours": true } } }]),
    );
}

#[test]
fn moving_a_ticket_to_another_department_keeps_the_time_counted_under_the_old_hours() {
    let mut h = Harness::new();
    always_open_and_office(&mut h);
    for (id, calendar) in [("a", "always"), ("b", "office")] {
        h.cmd_json(
            &admin(),
            json!({ "type": "upsert_department",
            "department": { "id": id, "name": id, "calendar_id": calendar } }),
        )
        .expect("department");
    }
    h.now = SATURDAY_8;
    let id = create(&mut h, &agent("alice"), json!({ "department_id": "a" }));
    h.advance(6 * HOUR);
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "update_ticket", "ticket_id": id, "changes": { "department_id": "b" } }),
    )
    .expect("moved");
    let resolution = clock(&ticket(&mut h, &id), "resolution");
    assert_eq!(resolution["elapsed_business_ms"], json!(6 * HOUR));
}

#[test]
fn removing_a_department_keeps_the_time_counted_under_its_hours() {
    let mut h = Harness::new();
    always_open_and_office(&mut h);
    h.cmd_json(
        &admin(),
        json!({ "type": "upsert_department",
        "department": { "id": "night", "name": "Night", "calendar_id": "always" } }),
    )
    .expect("department");
    h.now = SATURDAY_8;
    let id = create(&mut h, &agent("alice"), json!({ "department_id": "night" }));
    h.advance(6 * HOUR);
    h.cmd_json(
        &admin(),
        json!({ "type": "remove_department", "department_id": "night" }),
    )
    .expect("removed");
    let resolution = clock(&ticket(&mut h, &id), "resolution");
    assert_eq!(resolution["elapsed_business_ms"], json!(6 * HOUR));
}
