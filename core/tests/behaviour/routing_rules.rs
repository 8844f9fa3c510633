//! Routing rules: every trigger, rule order, actions, the workflow JSON of the product
//! specification accepted as written, and business hours deciding "open".

use crate::support::*;
use serde_json::json;
use switchboard_core::protocol::model::{RoutingRule, TenantSettings};
use switchboard_core::{Event, Reply};

fn harness_with_queues() -> Harness {
    let mut h = Harness::new();
    for id in ["sales", "vip", "afterhours", "bots"] {
        h.cmd_json(
            &admin(),
            json!({"type": "upsert_queue", "queue": {"id": id, "queue_when_no_agents": true}}),
        )
        .unwrap();
    }
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h
}

fn queue_of(reply: Reply) -> String {
    match reply {
        Reply::SessionStarted { queue_id, .. } => {
            queue_id.map(|q| q.to_string()).unwrap_or_default()
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn start_in(h: &mut Harness, visitor_id: &str, command: serde_json::Value) -> String {
    let mut command = command;
    command["type"] = json!("start_session");
    queue_of(h.cmd_json(&visitor(visitor_id), command).unwrap())
}

#[test]
fn the_workflow_json_of_the_specification_is_accepted_as_written() {
    let workflow = json!({
      "triggers": {
        "business_hours": true,
        "visitor_location": ["US", "CA"],
        "page_url_contains": ["/pricing", "/contact"],
        "visitor_type": "premium"
      },
      "actions": {
        "auto_assign": true,
        "assignment_type": "skill_based",
        "welcome_message": "Hello! How can I help you today?",
        "queue_message": "Please wait, connecting you to an expert...",
        "max_wait_time": 5
      }
    });
    let rule: RoutingRule = serde_json::from_value(workflow.clone()).expect("parses as a rule");
    assert_eq!(rule.actions.max_wait_time, Some(5));
    let mut h = harness_with_queues();
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [workflow]}),
    )
    .unwrap();
    h.clear();
    let session = h.start(
        "v1",
        json!({"visitor": {"name": "Ann", "country": "CA", "visitor_type": "premium",
                           "page_url": "https://shop.example/pricing"}}),
    );
    let bodies: Vec<String> = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .filter_map(|e| match e {
            Event::Message { message } => Some(message.body.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Hello! How can I help you today?",
            "Please wait, connecting you to an expert..."
        ]
    );
    // The five minutes of max_wait_time apply: at 5 min the session ends as missed.
    h.advance(5 * 60_000 - 1);
    assert_eq!(h.status("v1", &session), "queued");
    h.advance(1);
    assert!(
        h.session_json(&session).is_none(),
        "missed sessions leave memory"
    );
}

#[test]
fn each_trigger_must_hold_for_a_rule_to_match() {
    let mut h = harness_with_queues();
    h.cmd_json(&admin(), json!({"type": "set_routing_rules", "rules": [
        {"id": "by-country", "triggers": {"visitor_location": ["de"]}, "actions": {"queue": "vip"}},
        {"id": "by-page", "triggers": {"page_url_contains": ["/checkout"]}, "actions": {"queue": "sales"}},
        {"id": "by-type", "triggers": {"visitor_type": "partner"}, "actions": {"queue": "vip"}},
        {"id": "by-issue", "triggers": {"issue_type": ["Refund"]}, "actions": {"queue": "sales"}},
        {"id": "by-language", "triggers": {"language": ["fr"]}, "actions": {"queue": "vip"}},
        {"id": "by-attribute", "triggers": {"attributes": {"plan": "gold"}}, "actions": {"queue": "sales"}},
        {"id": "by-department", "triggers": {"department": "support"}, "actions": {"queue": "bots"}}
    ]})).unwrap();
    assert_eq!(
        start_in(&mut h, "a", json!({"visitor": {"country": "DE"}})),
        "vip"
    );
    assert_eq!(
        start_in(
            &mut h,
            "b",
            json!({"visitor": {"page_url": "/shop/checkout/2"}})
        ),
        "sales"
    );
    assert_eq!(
        start_in(&mut h, "c", json!({"visitor": {"visitor_type": "partner"}})),
        "vip"
    );
    assert_eq!(
        start_in(&mut h, "d", json!({"issue_type": "refund"})),
        "sales"
    );
    assert_eq!(start_in(&mut h, "e", json!({"language": "fr-CA"})), "vip");
    assert_eq!(
        start_in(
            &mut h,
            "f",
            json!({"visitor": {"custom_fields": {"plan": "gold"}}})
        ),
        "sales"
    );
    assert_eq!(
        start_in(
            &mut h,
            "g",
            json!({"visitor": {"user_context": {"plan": "gold"}}})
        ),
        "sales"
    );
    assert_eq!(
        start_in(&mut h, "h", json!({"department_id": "support"})),
        "bots"
    );
    // Nothing matches: the tenant's first queue by id.
    assert_eq!(
        start_in(
            &mut h,
            "i",
            json!({"visitor": {"country": "US"}, "language": "fra"})
        ),
        "afterhours"
    );
}

#[test]
fn rules_run_by_priority_then_list_order_and_disabled_rules_never_match() {
    let mut h = harness_with_queues();
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [
            {"id": "late", "priority": 10, "actions": {"queue": "sales"}},
            {"id": "off", "priority": 0, "enabled": false, "actions": {"queue": "bots"}},
            {"id": "early", "priority": 1, "actions": {"queue": "vip"}},
            {"id": "tie", "priority": 1, "actions": {"queue": "afterhours"}}
        ]}),
    )
    .unwrap();
    assert_eq!(start_in(&mut h, "a", json!({})), "vip");
}

#[test]
fn a_department_without_a_matching_rule_uses_its_own_queue_then_the_default() {
    let mut h = harness_with_queues();
    assert_eq!(
        start_in(&mut h, "a", json!({"department_id": "support"})),
        "support"
    );
    let settings = TenantSettings {
        default_queue_id: Some("sales".into()),
        ..Default::default()
    };
    h.ok(
        &admin(),
        switchboard_core::Command::UpdateTenantSettings { settings },
    );
    assert_eq!(start_in(&mut h, "b", json!({})), "sales");
}

#[test]
fn rules_naming_unknown_queues_or_repeating_ids_are_refused_whole() {
    let mut h = harness_with_queues();
    let unknown = h.err(
        &admin(),
        serde_json::from_value(json!({"type": "set_routing_rules", "rules": [
        {"actions": {"queue": "sales"}}, {"actions": {"queue": "nowhere"}}]}))
        .unwrap(),
    );
    assert_eq!(unknown.code(), "not_found");
    let twice = h.err(
        &admin(),
        serde_json::from_value(json!({"type": "set_routing_rules", "rules": [
        {"id": "x"}, {"id": "x"}]}))
        .unwrap(),
    );
    assert_eq!(twice.code(), "invalid_input");
    let agent_tries = h.err(
        &agent("nobody"),
        serde_json::from_value(json!({"type": "set_routing_rules", "rules": []})).unwrap(),
    );
    assert_eq!(agent_tries.code(), "forbidden");
}

#[test]
fn rule_priority_orders_the_queue_ahead_of_earlier_arrivals() {
    let mut h = harness_with_queues();
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [
            {"triggers": {"visitor_type": "vip"}, "actions": {"queue": "support", "priority": 9}},
            {"actions": {"queue": "support"}}
        ]}),
    )
    .unwrap();
    let s1 = h.start("early", json!({}));
    let s2 = h.start("late-vip", json!({"visitor": {"visitor_type": "vip"}}));
    h.add_agent(
        "alice",
        json!({"departments": ["support"], "max_concurrent_chats": 1}),
    );
    h.clear();
    h.online("alice");
    assert_eq!(h.offers_to("alice"), vec![s2]);
    let _ = s1;
}

fn weekday_hours() -> serde_json::Value {
    // 2023-11-14 is a Tuesday. Hours in Berlin (UTC+1 in November).
    json!({
        "business_hours": {
            "time_zone": "Europe/Berlin",
            "weekly": {
                "tuesday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
                "wednesday": {"start": "22:00", "end": "02:00"}
            }
        }
    })
}

fn at(h: &mut Harness, utc: &str) {
    let ts: jiff::Timestamp = utc.parse().expect("timestamp");
    h.now = ts.as_millisecond();
}

fn open_now(h: &mut Harness) -> bool {
    match h
        .cmd_json(
            &visitor("probe"),
            json!({"type": "get_queue_status", "queue_id": "support"}),
        )
        .unwrap()
    {
        Reply::QueueStatus { status } => status.open,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn business_hours_decide_open_with_several_intervals_and_past_midnight() {
    let settings: TenantSettings = serde_json::from_value(weekday_hours()).unwrap();
    let mut h = Harness::with_settings(settings);
    let cases = [
        ("2023-11-14T07:59:00Z", false), // 08:59 Berlin
        ("2023-11-14T08:00:00Z", true),  // 09:00
        ("2023-11-14T10:59:59Z", true),  // 11:59:59, the last minute counts
        ("2023-11-14T11:00:00Z", false), // 12:00, lunch
        ("2023-11-14T12:30:00Z", true),  // 13:30
        ("2023-11-14T16:00:00Z", false), // 17:00
        ("2023-11-15T21:30:00Z", true),  // Wednesday 22:30
        ("2023-11-16T00:59:00Z", true),  // Thursday 01:59, from Wednesday's interval
        ("2023-11-16T01:00:00Z", false), // Thursday 02:00
        ("2023-11-18T10:00:00Z", false), // Saturday
    ];
    for (instant, expected) in cases {
        at(&mut h, instant);
        assert_eq!(open_now(&mut h), expected, "at {instant}");
    }
}

#[test]
fn outside_business_hours_a_chat_is_unavailable_unless_a_rule_handles_closed_hours() {
    let settings: TenantSettings = serde_json::from_value(weekday_hours()).unwrap();
    let mut h = Harness::with_settings(settings);
    h.cmd_json(
        &admin(),
        json!({"type": "upsert_queue", "queue": {"id": "night", "queue_when_no_agents": true}}),
    )
    .unwrap();
    h.online_agent("alice", json!({}));
    at(&mut h, "2023-11-18T10:00:00Z");
    let refused = h.err(
        &visitor("v1"),
        serde_json::from_value(json!({"type": "start_session"})).unwrap(),
    );
    assert_eq!(refused.code(), "unavailable");
    assert_eq!(refused.details()["reason"], "outside_business_hours");
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [
        {"triggers": {"business_hours": false}, "actions": {"queue": "night"}}]}),
    )
    .unwrap();
    assert_eq!(start_in(&mut h, "v1", json!({})), "night");
}

#[test]
fn unknown_time_zones_and_malformed_hours_are_refused() {
    let mut h = Harness::new();
    for hours in [
        json!({"time_zone": "Mars/Olympus", "weekly": {}}),
        json!({"time_zone": "UTC", "weekly": {"monday": {"start": "9:00", "end": "17:00"}}}),
        json!({"time_zone": "UTC", "weekly": {"monday": {"start": "09:00", "end": "09:00"}}}),
        json!({"time_zone": "UTC", "weekly": {"monday": {"start": "24:00", "end": "02:00"}}}),
    ] {
        let settings = serde_json::from_value(json!({"business_hours": hours})).unwrap();
        let error = h.err(
            &admin(),
            switchboard_core::Command::UpdateTenantSettings { settings },
        );
        assert_eq!(error.code(), "invalid_input", "{hours}");
    }
}

#[test]
fn a_bot_answers_first_and_hands_off_to_routing_with_a_reason() {
    let mut h = harness_with_queues();
    h.cmd_json(
        &admin(),
        json!({"type": "set_routing_rules", "rules": [
        {"actions": {"bot": "faq-bot", "queue": "support"}}]}),
    )
    .unwrap();
    h.online_agent("alice", json!({}));
    h.clear();
    let session = h.start("v1", json!({"initial_message": "where is my order?"}));
    assert_eq!(h.status("v1", &session), "bot");
    let bot = switchboard_core::Actor::new(TENANT, "faq-bot", switchboard_core::Role::Bot);
    let bot_r = switchboard_core::Recipient::Bot {
        id: "faq-bot".into(),
    };
    assert!(
        h.event_names_for(&bot_r).contains(&"message"),
        "the bot sees the visitor's message"
    );
    h.cmd_json(
        &bot,
        json!({"type": "send_message", "session_id": session, "body": "Let me check."}),
    )
    .unwrap();
    assert!(
        h.offers_to("alice").is_empty(),
        "no agent while the bot answers"
    );
    let other_bot = switchboard_core::Actor::new(TENANT, "evil-bot", switchboard_core::Role::Bot);
    let denied = h
        .cmd_json(
            &other_bot,
            json!({"type": "hand_off", "session_id": session, "reason": "x"}),
        )
        .unwrap_err();
    assert_eq!(denied.code(), "not_found");
    h.cmd_json(
        &bot,
        json!({"type": "hand_off", "session_id": session, "reason": "order lookup failed"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("alice"), vec![session.clone()]);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
    let view = h.session_json(&session).unwrap();
    assert_eq!(view["handoff_reason"], "order lookup failed");
    assert_eq!(view["bot_id"], serde_json::Value::Null);
    let late = h
        .cmd_json(
            &bot,
            json!({"type": "send_message", "session_id": session, "body": "me again"}),
        )
        .unwrap_err();
    assert_eq!(
        late.code(),
        "not_found",
        "the bot no longer holds the session"
    );
}
