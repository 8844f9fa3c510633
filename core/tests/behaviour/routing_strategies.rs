//! Each routing strategy picks the agent it promises, and the routing guarantees hold:
//! capacity is never exceeded, decliners are not offered the same chat again, returning
//! visitors go back to their agent only when that agent can take them, the fairness cap
//! holds, and freed capacity drains the backlog at once.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Event, Output};

fn with_strategy(strategy: &str) -> Harness {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertQueue {
            queue: queue(
                "support",
                json!({ "department_id": "support", "strategy": strategy }),
            ),
        },
    );
    h
}

fn accept(h: &mut Harness, agent_id: &str, session: &str) {
    h.cmd_json(
        &agent(agent_id),
        json!({"type": "accept_offer", "session_id": session}),
    )
    .unwrap();
}

fn close(h: &mut Harness, agent_id: &str, session: &str) {
    h.cmd_json(
        &agent(agent_id),
        json!({"type": "close_session", "session_id": session}),
    )
    .unwrap();
}

/// Starts a session and returns (session, agents it was offered to).
fn offered(h: &mut Harness, visitor: &str) -> (String, Vec<String>) {
    h.clear();
    let session = h.start(visitor, json!({}));
    let agents = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Deliver {
                to,
                event: Event::Offered { offer },
                ..
            } if offer.session_id.to_string() == session => Some(
                to.iter()
                    .map(|r| match r {
                        switchboard_core::Recipient::Staff { id } => id.to_string(),
                        other => panic!("offer to {other:?}"),
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    (session, agents)
}

#[test]
fn least_active_offers_to_the_agent_with_fewest_chats() {
    let mut h = with_strategy("least_active");
    h.online_agent("alice", json!({ "max_concurrent_chats": 3 }));
    h.online_agent("bob", json!({ "max_concurrent_chats": 3 }));
    let (first, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["alice"]);
    accept(&mut h, "alice", &first);
    let (_, to) = offered(&mut h, "v2");
    assert_eq!(to, vec!["bob"], "alice has one chat, bob none");
}

#[test]
fn least_active_breaks_ties_by_least_recent_assignment() {
    let mut h = with_strategy("least_active");
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let (s1, _) = offered(&mut h, "v1");
    accept(&mut h, "alice", &s1);
    close(&mut h, "alice", &s1);
    // Both idle again; alice was assigned most recently, so bob goes first.
    let (_, to) = offered(&mut h, "v2");
    assert_eq!(to, vec!["bob"]);
}

#[test]
fn round_robin_continues_after_the_last_agent_served_and_wraps() {
    let mut h = with_strategy("round_robin");
    for id in ["a", "b", "c"] {
        h.online_agent(id, json!({ "max_concurrent_chats": 5 }));
    }
    let mut order = Vec::new();
    for n in 0..5 {
        let (session, to) = offered(&mut h, &format!("v{n}"));
        accept(&mut h, &to[0], &session);
        order.push(to[0].clone());
    }
    assert_eq!(order, vec!["a", "b", "c", "a", "b"]);
}

#[test]
fn fixed_order_always_tries_the_first_agent_in_routing_order() {
    let mut h = with_strategy("fixed_order");
    h.online_agent(
        "late",
        json!({ "routing_order": 9, "max_concurrent_chats": 2 }),
    );
    h.online_agent(
        "early",
        json!({ "routing_order": 1, "max_concurrent_chats": 2 }),
    );
    let (s1, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["early"]);
    accept(&mut h, "early", &s1);
    let (s2, to) = offered(&mut h, "v2");
    assert_eq!(to, vec!["early"], "still has a free slot");
    accept(&mut h, "early", &s2);
    let (_, to) = offered(&mut h, "v3");
    assert_eq!(to, vec!["late"], "early is full");
}

#[test]
fn skill_based_prefers_the_best_match_over_the_least_active() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertQueue {
            queue: queue(
                "support",
                json!({ "department_id": "support", "strategy": "skill_based" }),
            ),
        },
    );
    h.cmd_json(
        &admin(),
        json!({ "type": "set_routing_rules", "rules": [
            { "triggers": { "issue_type": ["billing"] },
              "actions": { "required_skills": ["billing", "german"] } } ] }),
    )
    .unwrap();
    h.online_agent("generalist", json!({ "max_concurrent_chats": 5 }));
    h.online_agent("biller", json!({ "skills": { "billing": 5 } }));
    h.online_agent("expert", json!({ "skills": { "billing": 4, "german": 6 } }));
    let (s1, to) = offered(&mut h, "v1");
    assert_eq!(
        to,
        vec!["generalist"],
        "no skills required: least active, then order"
    );
    accept(&mut h, "generalist", &s1);
    h.clear();
    let session = h.start("v2", json!({ "issue_type": "billing" }));
    assert_eq!(h.offers_to("expert"), vec![session], "matches both skills");
}

#[test]
fn broadcast_offers_everyone_and_the_first_accept_wins() {
    let mut h = with_strategy("broadcast");
    for id in ["a", "b", "c"] {
        h.online_agent(id, json!({}));
    }
    let (session, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["a", "b", "c"]);
    h.clear();
    accept(&mut h, "b", &session);
    for loser in ["a", "c"] {
        let withdrawn = h.events_for(&staff(loser)).into_iter().any(|e| {
            matches!(e, Event::OfferWithdrawn { reason, .. }
                if *reason == switchboard_core::protocol::event::WithdrawReason::TakenByOther)
        });
        assert!(withdrawn, "{loser} should see the offer withdrawn");
    }
    let late = h
        .cmd_json(
            &agent("a"),
            json!({"type": "accept_offer", "session_id": session}),
        )
        .unwrap_err();
    assert_eq!(late.code(), "not_found");
}

#[test]
fn manual_queues_make_no_offers_and_agents_pick_sessions() {
    let mut h = with_strategy("manual");
    h.online_agent("alice", json!({}));
    let (session, to) = offered(&mut h, "v1");
    assert!(to.is_empty());
    assert_eq!(h.status("v1", &session), "queued");
    h.cmd_json(
        &agent("alice"),
        json!({"type": "pick_session", "session_id": session}),
    )
    .unwrap();
    assert_eq!(h.status("v1", &session), "active");
}

#[test]
fn picking_is_refused_for_an_agent_without_a_free_slot_or_outside_the_queue() {
    let mut h = with_strategy("manual");
    h.online_agent("alice", json!({ "max_concurrent_chats": 1 }));
    h.online_agent("outsider", json!({ "departments": [] }));
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertDepartment {
            department: switchboard_core::protocol::model::Department {
                id: "sales".into(),
                name: "Sales".into(),
                calendar_id: None,
            },
        },
    );
    h.add_agent("seller", json!({ "departments": ["sales"] }));
    h.online("seller");
    let s1 = h.start("v1", json!({}));
    let s2 = h.start("v2", json!({}));
    h.cmd_json(
        &agent("alice"),
        json!({"type": "pick_session", "session_id": s1}),
    )
    .unwrap();
    let full = h.err(
        &agent("alice"),
        serde_json::from_value(json!({"type": "pick_session", "session_id": s2})).unwrap(),
    );
    assert_eq!(full.code(), "agent_at_capacity");
    let foreign = h.err(
        &agent("seller"),
        serde_json::from_value(json!({"type": "pick_session", "session_id": s2})).unwrap(),
    );
    assert_eq!(foreign.code(), "forbidden");
}

#[test]
fn random_and_weighted_random_spread_sessions_by_weight() {
    for (strategy, heavy_share) in [("random", (35, 65)), ("weighted_random", (65, 85))] {
        let mut h = with_strategy(strategy);
        h.online_agent(
            "light",
            json!({ "max_concurrent_chats": 1000, "routing_weight": 1 }),
        );
        h.online_agent(
            "heavy",
            json!({ "max_concurrent_chats": 1000, "routing_weight": 3 }),
        );
        let mut heavy = 0;
        for n in 0..400 {
            let (session, to) = offered(&mut h, &format!("v{n}"));
            assert_eq!(to.len(), 1);
            if to[0] == "heavy" {
                heavy += 1;
            }
            accept(&mut h, &to[0], &session);
            close(&mut h, &to[0], &session);
        }
        let share = heavy * 100 / 400;
        assert!(
            (heavy_share.0..=heavy_share.1).contains(&share),
            "{strategy}: heavy got {share}% of sessions"
        );
    }
}

#[test]
fn the_external_router_decides_and_an_unanswered_request_falls_back() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertQueue {
            queue: queue(
                "support",
                json!({ "department_id": "support", "strategy": "external",
                        "fallback_strategy": "fixed_order", "external_timeout_ms": 2000 }),
            ),
        },
    );
    h.online_agent("first", json!({ "routing_order": 1 }));
    h.online_agent("second", json!({ "routing_order": 2 }));
    h.clear();
    let s1 = h.start("v1", json!({}));
    let request = h
        .outputs
        .iter()
        .find_map(|o| match o {
            Output::Effect {
                effect_id,
                effect: switchboard_core::Effect::RouteRequest { candidates, .. },
                ..
            } => Some((effect_id.to_string(), candidates.clone())),
            _ => None,
        })
        .expect("a routing request");
    assert_eq!(request.1.len(), 2);
    h.clear();
    h.cmd_json(
        &system(),
        json!({"type": "route_decision", "effect_id": request.0, "agent_id": "second"}),
    )
    .unwrap();
    assert_eq!(h.offers_to("second"), vec![s1.clone()]);
    // The same request cannot be answered twice.
    let again = h
        .cmd_json(
            &system(),
            json!({"type": "route_decision", "effect_id": request.0}),
        )
        .unwrap_err();
    assert_eq!(again.code(), "not_found");
    // Nobody answers the next one: after the timeout the fallback (fixed order) decides.
    h.clear();
    let s2 = h.start("v2", json!({}));
    assert!(h.offers_to("first").is_empty());
    h.advance(2000);
    assert_eq!(h.offers_to("first"), vec![s2]);
}

#[test]
fn only_the_host_answers_routing_requests() {
    let mut h = with_strategy("external");
    h.online_agent("alice", json!({}));
    h.start("v1", json!({}));
    let forged = h
        .cmd_json(
            &agent("alice"),
            json!({"type": "route_decision", "effect_id": "eff_1", "agent_id": "alice"}),
        )
        .unwrap_err();
    assert_eq!(forged.code(), "forbidden");
}

#[test]
fn an_agent_who_declines_is_never_offered_the_same_chat_again() {
    let mut h = with_strategy("least_active");
    h.online_agent("alice", json!({}));
    let (session, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["alice"]);
    h.clear();
    h.cmd_json(
        &agent("alice"),
        json!({"type": "decline_offer", "session_id": session}),
    )
    .unwrap();
    assert!(h.offers_to("alice").is_empty());
    assert_eq!(h.status("v1", &session), "queued");
    // Capacity changes do not bring the declined chat back to alice...
    h.cmd_json(
        &agent("alice"),
        json!({"type": "set_agent_status", "status": "away"}),
    )
    .unwrap();
    h.online("alice");
    assert!(h.offers_to("alice").is_empty());
    // ...but a new agent gets it at once.
    h.online_agent("bob", json!({}));
    assert_eq!(h.offers_to("bob"), vec![session]);
}

#[test]
fn an_offer_that_times_out_moves_on_and_sets_the_silent_agent_away() {
    let mut h = with_strategy("fixed_order");
    h.online_agent("first", json!({ "routing_order": 1 }));
    h.online_agent("second", json!({ "routing_order": 2 }));
    let (session, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["first"]);
    h.clear();
    h.advance(29_999);
    assert!(h.offers_to("second").is_empty(), "not before the deadline");
    h.advance(1);
    assert_eq!(h.offers_to("second"), vec![session]);
    assert_eq!(h.agent_json("first")["status"], "away");
}

#[test]
fn capacity_is_never_exceeded_and_offers_count_against_it() {
    let mut h = with_strategy("least_active");
    h.online_agent("solo", json!({ "max_concurrent_chats": 2 }));
    let (s1, _) = offered(&mut h, "v1");
    let (s2, to2) = offered(&mut h, "v2");
    assert_eq!(to2, vec!["solo"], "one offer outstanding, one slot free");
    let (s3, to3) = offered(&mut h, "v3");
    assert!(to3.is_empty(), "two outstanding offers fill two slots");
    accept(&mut h, "solo", &s1);
    accept(&mut h, "solo", &s2);
    assert_eq!(h.status("v3", &s3), "queued");
    let agent = h.agent_json("solo");
    assert_eq!(agent["active_chats"], 2);
    // Freeing one slot drains the backlog immediately.
    h.clear();
    close(&mut h, "solo", &s1);
    assert_eq!(h.offers_to("solo"), vec![s3]);
}

#[test]
fn an_agent_coming_online_drains_the_backlog_in_queue_order() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    let s1 = h.start("v1", json!({}));
    let s2 = h.start("v2", json!({}));
    let s3 = h.start("v3", json!({}));
    h.add_agent(
        "alice",
        json!({ "departments": ["support"], "max_concurrent_chats": 2 }),
    );
    h.clear();
    h.online("alice");
    assert_eq!(h.offers_to("alice"), vec![s1, s2]);
    assert_eq!(h.status("v3", &s3), "queued");
}

#[test]
fn a_returning_visitor_goes_back_to_their_previous_agent_when_available() {
    let mut h = with_strategy("least_active");
    h.online_agent("alice", json!({ "max_concurrent_chats": 5 }));
    h.online_agent("bob", json!({ "max_concurrent_chats": 5 }));
    let (s1, to) = offered(&mut h, "loyal");
    assert_eq!(to, vec!["alice"]);
    accept(&mut h, "alice", &s1);
    close(&mut h, "alice", &s1);
    // Give alice more load than bob, so least-active alone would pick bob.
    let (s2, to) = offered(&mut h, "other");
    assert_eq!(to, vec!["bob"]);
    let (s3, to) = offered(&mut h, "other2");
    assert_eq!(to, vec!["alice"]);
    accept(&mut h, "alice", &s3);
    let _ = s2;
    let (_, to) = offered(&mut h, "loyal");
    assert_eq!(to, vec!["alice"], "the previous agent is preferred");
}

#[test]
fn a_returning_visitor_is_never_routed_to_an_offline_previous_agent() {
    let mut h = with_strategy("least_active");
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let (s1, _) = offered(&mut h, "loyal");
    accept(&mut h, "alice", &s1);
    close(&mut h, "alice", &s1);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "set_agent_status", "status": "offline"}),
    )
    .unwrap();
    let (_, to) = offered(&mut h, "loyal");
    assert_eq!(to, vec!["bob"]);
}

#[test]
fn the_fairness_cap_limits_assignments_per_window_and_releases_after_it() {
    let settings = serde_json::from_value(json!({
        "fairness_cap": { "max_assignments": 2, "window_ms": 60000 } }))
    .unwrap();
    let mut h = Harness::with_settings(settings);
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "queue_when_no_agents": true}}))
        .unwrap();
    h.online_agent("busy", json!({ "max_concurrent_chats": 10 }));
    for n in 0..2 {
        let (session, to) = offered(&mut h, &format!("v{n}"));
        assert_eq!(to, vec!["busy"]);
        accept(&mut h, "busy", &session);
        close(&mut h, "busy", &session);
    }
    let (third, to) = offered(&mut h, "v2");
    assert!(to.is_empty(), "two assignments in the window already");
    h.clear();
    h.advance(60_000);
    assert_eq!(h.offers_to("busy"), vec![third]);
}

#[test]
fn a_chat_without_an_agent_reply_is_rerouted_to_someone_else() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "strategy": "fixed_order", "reroute_after_no_reply_ms": 60000}}))
        .unwrap();
    h.online_agent("slow", json!({ "routing_order": 1 }));
    h.online_agent("quick", json!({ "routing_order": 2 }));
    let (session, _) = offered(&mut h, "v1");
    accept(&mut h, "slow", &session);
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "send_message", "session_id": session, "body": "anyone?"}),
    )
    .unwrap();
    h.clear();
    h.advance(59_999);
    assert!(h.offers_to("quick").is_empty());
    h.advance(1);
    assert_eq!(h.offers_to("quick"), vec![session.clone()]);
    let unassigned = h.events_for(&staff("slow")).into_iter().any(|e| matches!(e,
        Event::SessionUnassigned { reason, .. } if *reason == switchboard_core::protocol::event::UnassignReason::NoReply));
    assert!(unassigned);
}

#[test]
fn an_agent_reply_stops_the_no_reply_clock() {
    let mut h = Harness::new();
    h.cmd_json(&admin(), json!({"type": "upsert_queue", "queue": {"id": "support", "department_id": "support", "reroute_after_no_reply_ms": 60000}}))
        .unwrap();
    h.online_agent("alice", json!({}));
    h.online_agent("bob", json!({}));
    let (session, to) = offered(&mut h, "v1");
    accept(&mut h, &to[0], &session);
    h.cmd_json(
        &visitor("v1"),
        json!({"type": "send_message", "session_id": session, "body": "hi"}),
    )
    .unwrap();
    h.advance(30_000);
    h.cmd_json(
        &agent(&to[0]),
        json!({"type": "send_message", "session_id": session, "body": "hello"}),
    )
    .unwrap();
    h.advance(60_000);
    assert_eq!(h.status("v1", &session), "active");
}

#[test]
fn returning_visitors_are_remembered_up_to_the_tenant_limit() {
    // alice serves "a", bob serves "b", alice serves "c"; "a" leaves. Both agents then hold
    // one chat, and least active (ties: least recently assigned) would pick bob.
    let route_returning_visitor = |limit: u32| {
        let settings =
            serde_json::from_value(json!({"limits": {"max_remembered_visitors": limit}})).unwrap();
        let mut h = Harness::with_settings(settings);
        h.online_agent("alice", json!({ "max_concurrent_chats": 5 }));
        h.online_agent("bob", json!({ "max_concurrent_chats": 5 }));
        let (a, _) = offered(&mut h, "a");
        accept(&mut h, "alice", &a);
        let (b, to) = offered(&mut h, "b");
        assert_eq!(to, vec!["bob"]);
        accept(&mut h, "bob", &b);
        let (c, to) = offered(&mut h, "c");
        assert_eq!(to, vec!["alice"]);
        accept(&mut h, "alice", &c);
        close(&mut h, "alice", &a);
        offered(&mut h, "a").1
    };
    assert_eq!(
        route_returning_visitor(100),
        vec!["alice"],
        "remembered: back to alice"
    );
    assert_eq!(
        route_returning_visitor(1),
        vec!["bob"],
        "forgotten: least active decides"
    );
}

#[test]
fn skill_based_ranks_by_skills_matched_then_levels_then_load() {
    let mut h = Harness::new();
    h.ok(
        &admin(),
        switchboard_core::Command::UpsertQueue {
            queue: queue(
                "support",
                json!({ "department_id": "support", "strategy": "skill_based" }),
            ),
        },
    );
    h.cmd_json(
        &admin(),
        json!({ "type": "set_routing_rules", "rules": [
            { "actions": { "required_skills": ["billing", "german"] } } ] }),
    )
    .unwrap();
    // One skill at a high level loses to both skills at low levels.
    h.online_agent(
        "specialist",
        json!({ "skills": { "billing": 10 }, "max_concurrent_chats": 9 }),
    );
    h.online_agent(
        "pair_one",
        json!({ "skills": { "billing": 2, "german": 2 }, "max_concurrent_chats": 9 }),
    );
    h.online_agent(
        "pair_two",
        json!({ "skills": { "billing": 2, "german": 2 }, "max_concurrent_chats": 9 }),
    );
    h.online_agent(
        "strong_pair",
        json!({ "skills": { "billing": 3, "german": 3 }, "max_concurrent_chats": 1 }),
    );
    let (first, to) = offered(&mut h, "v1");
    assert_eq!(to, vec!["strong_pair"], "both skills, highest levels");
    accept(&mut h, "strong_pair", &first);
    // strong_pair is full; pair_one and pair_two tie on skills: least active, then least
    // recently assigned.
    let (second, to) = offered(&mut h, "v2");
    assert_eq!(to, vec!["pair_one"]);
    accept(&mut h, "pair_one", &second);
    let (_, to) = offered(&mut h, "v3");
    assert_eq!(to, vec!["pair_two"], "pair_one now has a chat");
}
