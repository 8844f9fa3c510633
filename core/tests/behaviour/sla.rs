//! SLA policies on tickets and chats: which policy applies, when warnings and breaches fire
//! (exactly once, never while paused or resolved), what is measured, and escalation.

use crate::support::{Harness, admin, agent, staff, supervisor, visitor};
use serde_json::{Value, json};
use switchboard_core::{Event, Output, Record, Reply};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn policies(h: &mut Harness, policies: Value) {
    h.cmd_json(
        &admin(),
        json!({ "type": "set_sla_policies", "policies": policies }),
    )
    .expect("policies accepted");
}

/// A tenant with agent alice online and one policy: first response 60 min, resolution
/// 120 min, next response 30 min, periodic update 90 min, all in calendar time, warning
/// at 80%.
fn helpdesk() -> Harness {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    policies(
        &mut h,
        json!([{ "id": "standard", "targets": {
            "first_response": { "minutes": 60 },
            "next_response": { "minutes": 30 },
            "periodic_update": { "minutes": 90 },
            "resolution": { "minutes": 120 } } }]),
    );
    h.clear();
    h
}

fn create_ticket(h: &mut Harness, extra: Value) -> String {
    let mut command = json!({ "type": "create_ticket", "subject": "Printer on fire",
        "requester": { "visitor_id": "v-ana", "name": "Ana" }, "department_id": "support" });
    for (k, v) in extra.as_object().expect("object") {
        command[k] = v.clone();
    }
    match h
        .cmd_json(&agent("alice"), command)
        .expect("ticket created")
    {
        Reply::TicketCreated { ticket_id, .. } => ticket_id.to_string(),
        other => panic!("unexpected reply {other:?}"),
    }
}

fn ticket(h: &mut Harness, id: &str) -> Value {
    let reply = h
        .cmd_json(
            &agent("alice"),
            json!({ "type": "get_ticket", "ticket_id": id }),
        )
        .expect("ticket readable");
    serde_json::to_value(reply).expect("serializes")["ticket"].clone()
}

fn clock(ticket: &Value, metric: &str) -> Value {
    ticket["sla"]["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|c| c["metric"] == metric)
        .cloned()
        .unwrap_or(Value::Null)
}

fn sla_events(h: &Harness) -> Vec<(String, String, u32)> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Deliver { event, .. } => match event {
                Event::SlaWarning { metric, cycle, .. } => {
                    Some(("warning".into(), json!(metric).as_str()?.to_owned(), *cycle))
                }
                Event::SlaBreached { metric, cycle, .. } => {
                    Some(("breach".into(), json!(metric).as_str()?.to_owned(), *cycle))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn measurements(h: &Harness) -> Vec<Value> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record: Record::SlaMeasurement { measurement },
                ..
            } => Some(json!(measurement)),
            _ => None,
        })
        .collect()
}

fn reply(h: &mut Harness, id: &str, body: &str) {
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "add_ticket_message", "ticket_id": id, "body": body }),
    )
    .expect("reply accepted");
}

fn customer(h: &mut Harness, id: &str, body: &str) {
    h.cmd_json(
        &visitor("v-ana"),
        json!({ "type": "add_ticket_message", "ticket_id": id, "body": body }),
    )
    .expect("customer message accepted");
}

fn set_status(h: &mut Harness, id: &str, status: &str) {
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "set_ticket_status", "ticket_id": id, "status": status }),
    )
    .expect("status change accepted");
}

#[test]
fn the_first_enabled_policy_whose_conditions_hold_applies() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    policies(
        &mut h,
        json!([
            { "id": "off", "position": 0, "enabled": false, "targets": {} },
            { "id": "urgent", "position": 1, "conditions": { "priorities": ["critical", "high"] },
              "targets": { "first_response": { "minutes": 15 } } },
            { "id": "mail", "position": 2, "conditions": { "channels": ["email"] },
              "targets": { "first_response": { "minutes": 240 } } },
            { "id": "vip", "position": 3, "conditions": { "tags": ["vip"] },
              "targets": { "first_response": { "minutes": 30 } } },
            { "id": "support", "position": 4, "conditions": { "departments": ["support"] },
              "targets": { "first_response": { "minutes": 480 } } },
        ]),
    );
    let cases = [
        (json!({ "priority": "critical" }), Value::from("urgent")),
        (json!({ "channel": "email" }), Value::from("mail")),
        (json!({ "tags": ["vip"] }), Value::from("vip")),
        (json!({}), Value::from("support")),
        (json!({ "department_id": null }), Value::Null),
    ];
    for (extra, expected) in cases {
        let id = create_ticket(&mut h, extra.clone());
        let policy = ticket(&mut h, &id)["sla"]["policy_id"].clone();
        assert_eq!(policy, expected, "ticket created with {extra}");
    }
}

#[test]
fn a_warning_and_a_breach_fire_once_each_and_the_late_reply_is_measured() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    h.advance(48 * MIN - 1);
    assert!(sla_events(&h).is_empty(), "nothing before 80% of 60 min");
    h.advance(1);
    assert_eq!(
        sla_events(&h),
        vec![("warning".into(), "first_response".into(), 1)]
    );
    h.advance(12 * MIN);
    assert_eq!(
        sla_events(&h)[1..],
        [("breach".into(), "first_response".into(), 1)]
    );
    let breach_record = &measurements(&h)[0];
    assert_eq!(breach_record["outcome"], "breached");
    assert_eq!(breach_record["completed_at"], Value::Null);
    h.advance(5 * HOUR);
    assert_eq!(
        sla_events(&h)
            .iter()
            .filter(|e| e.1 == "first_response")
            .count(),
        2,
        "no repeats"
    );
    h.clear();
    reply(&mut h, &id, "Sorry for the wait");
    let done = measurements(&h)
        .into_iter()
        .find(|m| m["metric"] == "first_response")
        .expect("first response measured");
    assert_eq!(done["outcome"], "breached");
    assert_eq!(done["elapsed_ms"], json!(6 * HOUR));
    assert!(done["completed_at"].is_number());
}

#[test]
fn a_reply_within_the_target_is_achieved_with_its_measured_time() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    h.advance(20 * MIN);
    reply(&mut h, &id, "On it");
    let first = measurements(&h)
        .into_iter()
        .find(|m| m["metric"] == "first_response")
        .expect("measured");
    assert_eq!(first["outcome"], "achieved");
    assert_eq!(first["elapsed_ms"], json!(20 * MIN));
    assert_eq!(
        first["elapsed_business_ms"],
        json!(20 * MIN),
        "no calendar: all time counts"
    );
    assert_eq!(first["agent_id"], "alice");
    h.advance(10 * HOUR);
    assert!(
        !sla_events(&h).iter().any(|e| e.1 == "first_response"),
        "an achieved clock never fires"
    );
    let view = ticket(&mut h, &id);
    assert_eq!(
        view["status"], "in_progress",
        "a public reply starts the work"
    );
    assert_eq!(clock(&view, "first_response")["state"], "achieved");
}

#[test]
fn pending_time_is_not_counted_and_the_customer_reply_resumes_the_clocks() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    h.advance(10 * MIN);
    reply(&mut h, &id, "Which printer?");
    h.advance(50 * MIN);
    set_status(&mut h, &id, "pending");
    // Resolution has counted 60 of 120 minutes; ten paused hours do not count.
    h.advance(10 * HOUR);
    assert!(
        !sla_events(&h).iter().any(|e| e.1 == "resolution"),
        "paused clocks never fire"
    );
    customer(&mut h, &id, "The one on floor 2");
    let view = ticket(&mut h, &id);
    assert_eq!(view["status"], "open");
    let resolution = clock(&view, "resolution");
    assert_eq!(resolution["state"], "running");
    assert_eq!(resolution["elapsed_ms"], json!(60 * MIN));
    assert_eq!(resolution["due_at"], json!(h.now + 60 * MIN));
    h.clear();
    h.advance(60 * MIN - 1);
    assert!(
        !sla_events(&h)
            .iter()
            .any(|e| e == &("breach".into(), "resolution".into(), 1))
    );
    h.advance(1);
    assert!(sla_events(&h).contains(&("breach".into(), "resolution".into(), 1)));
}

#[test]
fn a_resolved_ticket_raises_nothing_and_a_reopened_one_keeps_its_counted_time() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    h.advance(30 * MIN);
    reply(&mut h, &id, "Fixed");
    set_status(&mut h, &id, "resolved");
    let resolution = measurements(&h)
        .into_iter()
        .find(|m| m["metric"] == "resolution")
        .expect("resolution measured at resolve");
    assert_eq!(resolution["outcome"], "achieved");
    assert_eq!(resolution["elapsed_ms"], json!(30 * MIN));
    h.clear();
    h.advance(48 * HOUR);
    assert!(sla_events(&h).is_empty(), "resolved tickets raise nothing");
    customer(&mut h, &id, "It is on fire again");
    let view = ticket(&mut h, &id);
    assert_eq!(view["reopen_count"], 1);
    assert_eq!(
        clock(&view, "resolution")["due_at"],
        json!(h.now + 90 * MIN)
    );
}

#[test]
fn a_priority_change_reselects_the_policy_and_recomputes_due_times_without_repeating() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    policies(
        &mut h,
        json!([
            { "id": "fast", "conditions": { "priorities": ["high", "critical"] },
              "targets": { "first_response": { "minutes": 60 } } },
            { "id": "slow", "targets": { "first_response": { "minutes": 480 } } },
        ]),
    );
    let id = create_ticket(&mut h, json!({ "priority": "low" }));
    assert_eq!(ticket(&mut h, &id)["sla"]["policy_id"], "slow");
    h.advance(50 * MIN);
    let created = h.now - 50 * MIN;
    let update = |h: &mut Harness, priority: &str| {
        h.cmd_json(
            &agent("alice"),
            json!({ "type": "update_ticket", "ticket_id": id, "changes": { "priority": priority } }),
        )
        .expect("update accepted");
    };
    update(&mut h, "high");
    let view = ticket(&mut h, &id);
    assert_eq!(view["sla"]["policy_id"], "fast");
    assert_eq!(
        clock(&view, "first_response")["due_at"],
        json!(created + HOUR)
    );
    // 50 of 60 minutes are past the 80% warning share: it fires at the next poll.
    h.advance(0);
    assert_eq!(
        sla_events(&h),
        vec![("warning".into(), "first_response".into(), 1)]
    );
    update(&mut h, "low");
    update(&mut h, "critical");
    h.advance(10 * MIN);
    assert_eq!(
        sla_events(&h),
        vec![
            ("warning".into(), "first_response".into(), 1),
            ("breach".into(), "first_response".into(), 1)
        ],
        "flipping priorities does not warn again"
    );
}

#[test]
fn next_response_and_periodic_update_run_in_cycles() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    reply(&mut h, &id, "Hello");
    customer(&mut h, &id, "Still broken");
    h.advance(30 * MIN);
    assert!(sla_events(&h).contains(&("breach".into(), "next_response".into(), 1)));
    reply(&mut h, &id, "Looking");
    customer(&mut h, &id, "And now?");
    h.advance(30 * MIN);
    assert!(
        sla_events(&h).contains(&("breach".into(), "next_response".into(), 2)),
        "the second unanswered message starts cycle 2"
    );
    let view = ticket(&mut h, &id);
    let next = clock(&view, "next_response");
    assert_eq!(next["cycles"], 1);
    assert_eq!(next["breaches"], 2);
    // Periodic update: 90 minutes after the last public reply (at minute 30), so at 120.
    h.clear();
    h.advance(60 * MIN - 1);
    assert!(
        !sla_events(&h)
            .iter()
            .any(|e| e.0 == "breach" && e.1 == "periodic_update")
    );
    h.advance(1);
    assert!(sla_events(&h).contains(&("breach".into(), "periodic_update".into(), 2)));
}

#[test]
fn a_breach_escalates_raises_priority_reassigns_the_team_and_tells_supervisors() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.online_agent("sam", json!({ "role": "supervisor" }));
    h.cmd_json(
        &admin(),
        json!({ "type": "upsert_department", "department": { "id": "tier2", "name": "Tier 2" } }),
    )
    .expect("department");
    policies(
        &mut h,
        json!([{ "id": "p", "targets": { "first_response": { "minutes": 30 } },
                 "escalation": { "raise_priority": true, "reassign_team_id": "tier2",
                                 "notify_supervisors": true } }]),
    );
    let id = create_ticket(&mut h, json!({ "assignee_id": "alice" }));
    h.clear();
    h.advance(30 * MIN);
    let to_supervisor: Vec<_> = h
        .events_for(&staff("sam"))
        .into_iter()
        .map(|e| e.name())
        .collect();
    assert!(to_supervisor.contains(&"sla_breached"));
    let view = ticket(&mut h, &id);
    assert_eq!(view["priority"], "high");
    assert_eq!(view["team_id"], "tier2");
    assert_eq!(view["assignee_id"], Value::Null);
    let audit = h
        .outputs
        .iter()
        .find_map(|o| match o {
            Output::Persist {
                record:
                    Record::TicketAudit {
                        action,
                        actor_id,
                        changes,
                        ..
                    },
                ..
            } if action == "sla_escalation" => Some((actor_id.to_string(), changes.len())),
            _ => None,
        })
        .expect("escalation audited");
    assert_eq!(audit, ("system".to_owned(), 3));
}

#[test]
fn without_notify_supervisors_a_breach_goes_to_the_assignee_only() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    h.online_agent("sam", json!({ "role": "supervisor" }));
    policies(
        &mut h,
        json!([{ "id": "p", "targets": { "first_response": { "minutes": 30 } } }]),
    );
    create_ticket(&mut h, json!({ "assignee_id": "alice" }));
    h.clear();
    h.advance(30 * MIN);
    assert!(h.event_names_for(&staff("alice")).contains(&"sla_breached"));
    assert!(!h.event_names_for(&staff("sam")).contains(&"sla_breached"));
    assert!(
        h.event_names_for(&staff("sam")).contains(&"sla_warning"),
        "warnings reach supervisors"
    );
}

#[test]
fn chats_get_first_and_next_response_clocks() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({ "auto_accept": true }));
    policies(
        &mut h,
        json!([{ "id": "chat", "conditions": { "channels": ["chat"] },
                 "targets": { "first_response": { "minutes": 1 }, "next_response": { "minutes": 2 } } }]),
    );
    let session = h.start("v1", json!({ "initial_message": "hi" }));
    h.clear();
    h.advance(MIN);
    assert_eq!(
        sla_events(&h),
        vec![
            ("warning".into(), "first_response".into(), 1),
            ("breach".into(), "first_response".into(), 1),
        ]
    );
    assert!(h.event_names_for(&staff("alice")).contains(&"sla_breached"));
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "send_message", "session_id": session, "body": "Hello!" }),
    )
    .expect("reply");
    let first = measurements(&h)
        .into_iter()
        .find(|m| m["metric"] == "first_response" && m["completed_at"].is_number())
        .expect("first response completed");
    assert_eq!(
        first["subject"],
        json!({ "kind": "session", "session_id": session })
    );
    assert_eq!(first["elapsed_ms"], json!(MIN));
    h.cmd_json(
        &visitor("v1"),
        json!({ "type": "send_message", "session_id": session, "body": "my order?" }),
    )
    .expect("visitor message");
    h.clear();
    h.advance(90_000);
    h.cmd_json(
        &agent("alice"),
        json!({ "type": "send_message", "session_id": session, "body": "Shipped" }),
    )
    .expect("reply");
    let next = measurements(&h)
        .into_iter()
        .find(|m| m["metric"] == "next_response")
        .expect("next response measured");
    assert_eq!(next["outcome"], "achieved");
    assert_eq!(next["elapsed_ms"], json!(90_000));
}

#[test]
fn a_ticket_policy_without_a_chat_channel_condition_does_not_select_by_priority_for_chats() {
    let mut h = Harness::new();
    h.online_agent("alice", json!({}));
    policies(
        &mut h,
        json!([{ "id": "urgent", "conditions": { "priorities": ["critical"] },
                 "targets": { "first_response": { "minutes": 1 } } }]),
    );
    h.start("v1", json!({}));
    h.clear();
    h.advance(HOUR);
    assert!(sla_events(&h).is_empty(), "chats have no priority");
}

#[test]
fn business_hour_targets_count_only_open_time() {
    let mut h = helpdesk();
    h.cmd_json(
        &admin(),
        json!({ "type": "upsert_calendar", "calendar": { "id": "berlin", "time_zone": "Europe/Berlin",
            "weekly": { "monday": [{"start": "09:00", "end": "17:00"}],
                        "tuesday": [{"start": "09:00", "end": "17:00"}],
                        "wednesday": [{"start": "09:00", "end": "17:00"}],
                        "thursday": [{"start": "09:00", "end": "17:00"}],
                        "friday": [{"start": "09:00", "end": "17:00"}] } } }),
    )
    .expect("calendar");
    policies(
        &mut h,
        json!([{ "id": "office", "calendar_id": "berlin",
                 "targets": { "first_response": { "minutes": 120, "business_hours": true } } }]),
    );
    // Friday 2026-11-20 16:30 in Berlin (UTC+1) is 15:30 UTC.
    h.now = 1_795_188_600_000;
    let id = create_ticket(&mut h, json!({}));
    let view = ticket(&mut h, &id);
    // 30 minutes on Friday, 90 on Monday from 09:00: Monday 10:30 Berlin = 09:30 UTC.
    assert_eq!(
        clock(&view, "first_response")["due_at"],
        json!(1_795_426_200_000_i64)
    );
}

#[test]
fn deleted_tickets_raise_nothing_until_restored() {
    let mut h = helpdesk();
    let id = create_ticket(&mut h, json!({}));
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "delete_ticket", "ticket_id": id }),
    )
    .expect("deleted");
    h.clear();
    h.advance(5 * HOUR);
    assert!(sla_events(&h).is_empty());
    h.cmd_json(
        &supervisor("sam"),
        json!({ "type": "restore_ticket", "ticket_id": id }),
    )
    .expect("restored");
    h.advance(0);
    assert!(sla_events(&h).contains(&("breach".into(), "first_response".into(), 1)));
}

#[test]
fn a_restarted_engine_replaying_its_inputs_fires_nothing_twice() {
    use switchboard_core::{Actor, Command, Engine, EngineConfig, Timestamp};
    enum Input {
        Command(i64, Actor, Box<Command>),
        Timeout(i64),
    }
    let mut inputs: Vec<Input> = Vec::new();
    let mut engine = Engine::new(EngineConfig::default());
    let mut now = 1_000_000;
    let mut fired = Vec::new();
    let run = |engine: &mut Engine, input: &Input, fired: &mut Vec<String>, keep: bool| {
        match input {
            Input::Command(at, actor, command) => {
                engine
                    .handle(Timestamp(*at), actor, (**command).clone())
                    .expect("accepted");
            }
            Input::Timeout(at) => engine.handle_timeout(Timestamp(*at)),
        }
        while let Some(output) = engine.poll_output() {
            if let Output::Deliver { event, .. } = &output
                && matches!(event, Event::SlaWarning { .. } | Event::SlaBreached { .. })
                && keep
            {
                fired.push(serde_json::to_string(event).expect("json"));
            }
        }
    };
    let root = Actor::new("acme", "root", switchboard_core::Role::Superadmin);
    let setup: Vec<(Actor, Value)> = vec![
        (root, json!({ "type": "create_tenant", "settings": {} })),
        (
            admin(),
            json!({ "type": "set_sla_policies", "policies": [{ "id": "p",
            "targets": { "first_response": { "minutes": 10 }, "resolution": { "minutes": 60 } } }] }),
        ),
        (
            admin(),
            json!({ "type": "upsert_agent", "agent": { "id": "alice", "name": "Alice" } }),
        ),
        (
            agent("alice"),
            json!({ "type": "set_agent_status", "status": "online" }),
        ),
        (
            agent("alice"),
            json!({ "type": "create_ticket", "subject": "a" }),
        ),
        (
            agent("alice"),
            json!({ "type": "create_ticket", "subject": "b" }),
        ),
    ];
    for (actor, command) in setup {
        let command: Command = serde_json::from_value(command).expect("command");
        inputs.push(Input::Command(now, actor, Box::new(command)));
    }
    // The first half: the warnings of first response fire at minute 8.
    for _ in 0..9 {
        now += MIN;
        inputs.push(Input::Timeout(now));
    }
    for input in &inputs {
        run(&mut engine, input, &mut fired, true);
    }
    // Restart: a new engine replays the same inputs; what it outputs was already delivered.
    let mut restarted = Engine::new(EngineConfig::default());
    for input in &inputs {
        run(&mut restarted, input, &mut Vec::new(), false);
    }
    assert_eq!(restarted, engine, "replay rebuilds the same state");
    let before_restart = fired.len();
    assert_eq!(
        before_restart, 2,
        "two first-response warnings before the restart"
    );
    for _ in 0..60 {
        now += MIN;
        run(&mut restarted, &Input::Timeout(now), &mut fired, true);
    }
    let mut unique = fired.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        fired.len(),
        "nothing fired twice across the restart"
    );
    // Two tickets x (warning + breach) x (first response + resolution).
    assert_eq!(fired.len(), 8);
}
