//! Snapshots: an engine restored from its snapshot equals the original and behaves as if it
//! had never stopped.
//!
//! - A seeded workload over a rich world (two tenants; every routing strategy; agents online,
//!   away, disconnected, in wrap-up and under a fairness cap; sessions with a bot, waiting,
//!   offered singly and by broadcast, active, transferring and resolved; external routing;
//!   internal conversations; tickets with SLA clocks across business hours; surveys;
//!   calendars) is snapshotted and restored every few dozen inputs, sometimes with outputs
//!   not yet drained. The restored engine must equal the original, write the same snapshot
//!   text, and answer the following inputs with identical replies and outputs.
//! - The snapshots taken along the way must hold every one of those situations, so the
//!   round trips are not proved on an idle engine.
//! - Bad documents are refused with the right error and never panic: truncated text, another
//!   format, a wrong type, an unknown time zone in a calendar, a missing field.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{Harness, Rng, TENANT};
use serde_json::{Value, json};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{
    Actor, Command, Engine, EngineConfig, Output, Reply, Role, SNAPSHOT_FORMAT, SnapshotError,
    Timestamp,
};

/// Monday 2026-12-14 08:00 UTC.
const START: i64 = 1_797_235_200_000;
const MIN: i64 = 60_000;
const AGENTS: usize = 10;

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn office_hours() -> Value {
    let day = json!([{ "start": "09:00", "end": "17:00" }]);
    json!({
        "time_zone": "Europe/Berlin",
        "weekly": {
            "monday": day, "tuesday": day, "thursday": day, "friday": day,
            "wednesday": [{ "start": "09:00", "end": "12:00" }, { "start": "13:00", "end": "17:00" }],
        },
        "holidays": [{ "date": "2026-12-25", "name": "Christmas" }],
        "special_days": [{ "date": "2026-12-24", "hours": [{ "start": "09:00", "end": "12:00" }] }],
    })
}

fn always_open() -> Value {
    let day = json!({ "start": "00:00", "end": "24:00" });
    json!({
        "time_zone": "America/New_York",
        "weekly": { "monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                    "friday": day, "saturday": day, "sunday": day },
        "holidays": [{ "date": "2031-01-01" }],
    })
}

fn staff_role(id: &str) -> Role {
    match id {
        "sup" => Role::Supervisor,
        "view" => Role::Viewer,
        "admin" => Role::TenantAdmin,
        _ => Role::Agent,
    }
}

fn staff(id: &str) -> Actor {
    Actor::new(TENANT, id, staff_role(id))
}

/// The first string under `key` anywhere in `value`.
fn find(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(|v| find(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

/// Ids the workload has seen, learned from replies and outputs only.
#[derive(Default)]
struct Known {
    /// Session to its visitor.
    sessions: BTreeMap<String, String>,
    offers: Vec<(String, String)>,
    held: Vec<(String, String)>,
    transfers: Vec<(String, String)>,
    /// Ticket to its requester (a visitor), if any.
    tickets: BTreeMap<String, Option<String>>,
    /// Survey to the visitor asked.
    surveys: BTreeMap<String, String>,
    conversations: Vec<(String, String)>,
    route_requests: Vec<String>,
}

fn keep_recent<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.drain(..list.len() - max);
    }
}

impl Known {
    fn learn(&mut self, output: &Output) {
        let value = serde_json::to_value(output).expect("outputs serialize");
        match output {
            Output::Deliver { to, .. } => {
                let event = &value["event"];
                let staff: Vec<String> = to
                    .iter()
                    .filter_map(|r| match serde_json::to_value(r).ok()? {
                        Value::Object(r) if r["kind"] == "staff" => {
                            r["id"].as_str().map(str::to_owned)
                        }
                        _ => None,
                    })
                    .collect();
                let session = find(event, "session_id");
                match event["type"].as_str().unwrap_or_default() {
                    "offered" => {
                        for agent in &staff {
                            if let Some(transfer) = find(event, "transfer_id") {
                                self.transfers.push((agent.clone(), transfer));
                            } else if let Some(session) = &session {
                                self.offers.push((agent.clone(), session.clone()));
                            }
                        }
                    }
                    "transfer_updated" => {
                        let transfer = &event["transfer"];
                        if let Some(id) = transfer["transfer_id"].as_str() {
                            self.transfers.retain(|(_, t)| t != id);
                            if transfer["outcome"] == "pending" {
                                for agent in transfer["offered_to"].as_array().into_iter().flatten()
                                {
                                    if let Some(agent) = agent.as_str() {
                                        self.transfers.push((agent.to_owned(), id.to_owned()));
                                    }
                                }
                            }
                        }
                    }
                    "session_unassigned" | "offer_withdrawn" => {
                        if let Some(session) = &session {
                            self.held
                                .retain(|(a, s)| s != session || !staff.contains(a));
                            self.offers
                                .retain(|(a, s)| s != session || !staff.contains(a));
                        }
                    }
                    "session_assigned" => {
                        for agent in &staff {
                            if let Some(session) = &session {
                                self.held.push((agent.clone(), session.clone()));
                            }
                        }
                    }
                    "conversation_updated" => {
                        if let (Some(conversation), Some(agent)) =
                            (find(event, "conversation_id"), staff.first())
                        {
                            self.conversations.push((conversation, agent.clone()));
                        }
                    }
                    _ => {}
                }
            }
            Output::Effect { effect_id, .. } => {
                if value["effect"]["type"] == "route_request" {
                    self.route_requests.push(effect_id.to_string());
                }
            }
            Output::Persist { .. } => {
                let record = &value["record"];
                if let Some(ticket) = find(record, "ticket_id") {
                    let requester = record["ticket"]["requester"]["visitor_id"]
                        .as_str()
                        .map(str::to_owned);
                    if record["type"] == "ticket" && record["ticket"]["status"] == "closed" {
                        self.tickets.remove(&ticket);
                    } else if record["type"] == "ticket" {
                        self.tickets.insert(ticket, requester);
                    }
                }
                if record["type"] == "survey"
                    && let (Some(survey), Some(visitor)) =
                        (find(record, "survey_id"), find(record, "visitor_id"))
                {
                    self.surveys.insert(survey, visitor);
                }
                if record["type"] == "session"
                    && let (Some(session), Some(status)) =
                        (find(record, "session_id"), find(record, "status"))
                    && matches!(status.as_str(), "closed" | "abandoned" | "missed")
                {
                    self.sessions.remove(&session);
                    self.offers.retain(|(_, s)| *s != session);
                    self.held.retain(|(_, s)| *s != session);
                }
            }
        }
        keep_recent(&mut self.offers, 40);
        keep_recent(&mut self.held, 60);
        keep_recent(&mut self.transfers, 20);
        keep_recent(&mut self.conversations, 20);
        keep_recent(&mut self.route_requests, 10);
        while self.surveys.len() > 40 {
            self.surveys.pop_first();
        }
    }
}

/// One input to an engine.
#[derive(Clone)]
enum Input {
    Command(i64, Actor, Box<Command>),
    Timeout(i64),
}

/// Applies one input without draining; the reply (or error code) as text, and the reply.
fn apply_reply(engine: &mut Engine, input: &Input) -> (String, Option<Reply>) {
    match input {
        Input::Command(now, actor, command) => {
            let result = engine.handle(Timestamp(*now), actor, (**command).clone());
            let text =
                serde_json::to_string(&result.as_ref().map_err(|e| e.code())).expect("serializes");
            (text, result.ok())
        }
        Input::Timeout(now) => {
            engine.handle_timeout(Timestamp(*now));
            ("timeout".to_owned(), None)
        }
    }
}

fn apply(engine: &mut Engine, input: &Input) -> String {
    apply_reply(engine, input).0
}

fn drain(engine: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| engine.poll_output()).collect()
}

/// Snapshot, restore, and check the restored engine equals the original and writes the same
/// text.
fn round_trip(engine: &Engine) -> (Engine, String) {
    let text = engine.snapshot().expect("a snapshot");
    let restored = Engine::restore(&text).expect("a snapshot restores");
    assert!(restored == *engine, "the restored engine differs");
    assert_eq!(
        restored.snapshot().expect("a snapshot"),
        text,
        "the restored engine writes another snapshot"
    );
    (restored, text)
}

/// The seeded workload: a rich world and a generator of inputs that uses what it learned.
struct World {
    engine: Engine,
    now: i64,
    rng: Rng,
    known: Known,
    /// Inputs applied since the world was set up (for the twin to follow).
    log: Vec<Input>,
}

impl World {
    fn new(seed: u64) -> World {
        let mut harness = Harness {
            engine: Engine::new(EngineConfig {
                seed,
                ..Default::default()
            }),
            now: START,
            outputs: Vec::new(),
        };
        let root = Actor::new(TENANT, "root", Role::Superadmin);
        let settings = acme_settings();
        harness.ok(&root, Command::CreateTenant { settings });
        let admin = staff("admin");
        let setup = [
            json!({ "type": "upsert_calendar", "calendar": merge(json!({ "id": "office", "name": "Office" }), office_hours()) }),
            json!({ "type": "upsert_calendar", "calendar": merge(json!({ "id": "always", "name": "Always" }), always_open()) }),
            json!({ "type": "upsert_department", "department": { "id": "support", "name": "Support" } }),
            json!({ "type": "upsert_department", "department": { "id": "sales", "name": "Sales", "calendar_id": "always" } }),
            json!({ "type": "upsert_department", "department": { "id": "tier2", "name": "Tier 2", "calendar_id": "office" } }),
            json!({ "type": "upsert_queue", "queue": { "id": "support", "name": "support", "department_id": "support",
                "strategy": "least_active", "offer_timeout_ms": 20_000, "queue_when_no_agents": true, "max_wait_ms": 240_000 } }),
            json!({ "type": "upsert_queue", "queue": { "id": "general", "name": "general", "strategy": "broadcast",
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true, "max_wait_ms": 300_000 } }),
            json!({ "type": "upsert_queue", "queue": { "id": "sales", "name": "sales", "department_id": "sales",
                "strategy": "skill_based", "offer_timeout_ms": 20_000, "queue_when_no_agents": true,
                "max_wait_ms": 120_000, "overflow_queue_id": "general" } }),
            json!({ "type": "upsert_queue", "queue": { "id": "vip", "name": "vip", "strategy": "weighted_random",
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true } }),
            json!({ "type": "upsert_queue", "queue": { "id": "lucky", "name": "lucky", "strategy": "random",
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true } }),
            json!({ "type": "upsert_queue", "queue": { "id": "rr", "name": "rr", "strategy": "round_robin",
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true, "reroute_after_no_reply_ms": 90_000 } }),
            json!({ "type": "upsert_queue", "queue": { "id": "fixed", "name": "fixed", "strategy": "fixed_order",
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true } }),
            json!({ "type": "upsert_queue", "queue": { "id": "manual", "name": "manual", "strategy": "manual",
                "queue_when_no_agents": true, "max_wait_ms": 600_000 } }),
            json!({ "type": "upsert_queue", "queue": { "id": "ext", "name": "ext", "strategy": "external",
                "fallback_strategy": "least_active", "external_timeout_ms": 5_000, "queue_when_no_agents": true } }),
            json!({ "type": "set_routing_rules", "rules": [
                { "name": "premium", "priority": 1, "triggers": { "visitor_type": "premium" }, "actions": { "priority": 5, "queue": "vip" } },
                { "name": "billing", "priority": 2, "triggers": { "issue_type": ["billing"] },
                  "actions": { "queue": "sales", "required_skills": ["billing", "de"] } },
                { "name": "bot", "priority": 3, "triggers": { "issue_type": ["bot"] }, "actions": { "bot": "helpbot" } },
                { "name": "lucky", "priority": 4, "triggers": { "issue_type": ["lucky"] }, "actions": { "queue": "lucky" } },
                { "name": "rr", "priority": 4, "triggers": { "issue_type": ["rr"] }, "actions": { "queue": "rr" } },
                { "name": "fixed", "priority": 4, "triggers": { "issue_type": ["fixed"] }, "actions": { "queue": "fixed" } },
                { "name": "manual", "priority": 4, "triggers": { "issue_type": ["manual"] }, "actions": { "queue": "manual" } },
                { "name": "ext", "priority": 4, "triggers": { "issue_type": ["ext"] }, "actions": { "queue": "ext" } },
                { "name": "general", "priority": 5, "triggers": { "issue_type": ["general"] }, "actions": { "queue": "general" } },
            ] }),
            json!({ "type": "set_sla_policies", "policies": [
                { "id": "critical", "position": 0, "conditions": { "priorities": ["critical"] },
                  "calendar_id": "office", "warning_percent": 75,
                  "targets": { "first_response": { "minutes": 30 }, "next_response": { "minutes": 60 },
                               "resolution": { "minutes": 240 } },
                  "escalation": { "notify_supervisors": true } },
                { "id": "high", "position": 1, "conditions": { "priorities": ["high"] }, "calendar_id": "office",
                  "targets": { "first_response": { "minutes": 120, "business_hours": true },
                               "next_response": { "minutes": 60, "business_hours": true },
                               "periodic_update": { "minutes": 240, "business_hours": true },
                               "resolution": { "minutes": 480, "business_hours": true } },
                  "escalation": { "raise_priority": true, "reassign_team_id": "tier2" } },
                { "id": "chat", "position": 2, "conditions": { "channels": ["chat"] },
                  "targets": { "first_response": { "minutes": 2 }, "next_response": { "minutes": 3 } } },
                { "id": "default", "position": 3, "warning_percent": 50,
                  "targets": { "first_response": { "minutes": 480, "business_hours": true },
                               "resolution": { "minutes": 1440, "business_hours": true } } },
            ] }),
            json!({ "type": "upsert_ticket_template", "template": { "id": "login", "name": "Login",
                "subject": "Cannot log in to {{product}}", "description": "Error: {{error}}",
                "priority": "high", "team_id": "support", "tags": ["login"] } }),
            json!({ "type": "create_canned_response", "scope": "tenant", "title": "hello",
                "body": "Hello {{visitor.name}}, I am {{agent.name}}." }),
        ];
        for command in setup {
            harness.ok(&admin, cmd(command));
        }
        for n in 0..AGENTS {
            let departments = match n % 4 {
                0 => json!(["sales"]),
                1 => json!(["support"]),
                2 => json!(["sales", "support", "tier2"]),
                _ => json!([]),
            };
            let skills = match n % 3 {
                0 => json!({ "billing": 7 }),
                1 => json!({ "billing": 3, "de": 9 }),
                _ => json!({}),
            };
            harness.add_agent(
                &format!("a{n}"),
                json!({ "departments": departments, "skills": skills,
                        "max_concurrent_chats": 1 + n % 3, "auto_accept": n % 4 == 3,
                        "routing_weight": 1 + n % 4, "routing_order": n % 5 }),
            );
        }
        harness.add_agent(
            "sup",
            json!({ "role": "supervisor", "departments": ["support", "sales"] }),
        );
        harness.add_agent("view", json!({ "role": "viewer" }));
        for id in (0..AGENTS).map(|n| format!("a{n}")).chain(["sup".into()]) {
            harness.ok(
                &staff(&id),
                cmd(json!({ "type": "set_agent_status", "status": "online" })),
            );
        }
        // A second tenant, so tenant numbers and the tenant index matter.
        let other_root = Actor::new("globex", "root", Role::Superadmin);
        harness.ok(
            &other_root,
            cmd(json!({ "type": "create_tenant", "settings": { "name": "Globex" } })),
        );
        let other_admin = Actor::new("globex", "admin", Role::TenantAdmin);
        harness.ok(
            &other_admin,
            cmd(
                json!({ "type": "upsert_queue", "queue": { "id": "main", "name": "main",
                "strategy": "random", "queue_when_no_agents": true } }),
            ),
        );
        harness.ok(
            &other_admin,
            cmd(json!({ "type": "upsert_agent", "agent": { "id": "g1", "name": "G" } })),
        );
        let mut world = World {
            engine: harness.engine,
            now: harness.now,
            rng: Rng(seed),
            known: Known::default(),
            log: Vec::new(),
        };
        for output in &harness.outputs {
            world.known.learn(output);
        }
        world
    }

    fn visitor(&mut self) -> String {
        format!("v{}", self.rng.below(30))
    }

    fn agent(&mut self) -> String {
        format!("a{}", self.rng.below(AGENTS))
    }

    fn session(&mut self) -> Option<(String, String)> {
        let sessions: Vec<(String, String)> = self
            .known
            .sessions
            .iter()
            .map(|(s, v)| (s.clone(), v.clone()))
            .collect();
        self.rng.pick(&sessions).cloned()
    }

    fn held(&mut self) -> Option<(String, String)> {
        self.rng.pick(&self.known.held).cloned()
    }

    fn command(&self, actor: Actor, value: Value) -> Input {
        Input::Command(self.now, actor, Box::new(cmd(value)))
    }

    /// The next input, from what the world knows so far.
    fn next_input(&mut self) -> Input {
        let roll = self.rng.below(100);
        let visitor_actor = |id: &str| Actor::new(TENANT, id, Role::Visitor);
        match roll {
            0..=11 => {
                let ms = [0, 500, 2_000, 10_000, 25_000, 2 * MIN, 30 * MIN, 5 * 60 * MIN]
                    [self.rng.below(8)];
                self.now += ms;
                Input::Timeout(self.now)
            }
            12..=23 => {
                let visitor = self.visitor();
                let issue = ["general", "billing", "bot", "lucky", "rr", "fixed", "manual", "ext", "x"]
                    [self.rng.below(9)];
                let department = ["sales", "support"][self.rng.below(2)];
                let premium = self.rng.chance(10);
                let mut start = json!({ "type": "start_session",
                    "visitor": { "name": visitor, "email": format!("{visitor}@example.com"),
                                 "visitor_type": if premium { "premium" } else { "standard" } },
                    "department_id": department, "issue_type": issue });
                if self.rng.chance(60) {
                    start["initial_message"] = json!("Hello, I need help");
                    start["client_message_id"] = json!(format!("first-{}", self.rng.below(3)));
                }
                self.command(visitor_actor(&visitor), start)
            }
            24..=33 => match self.session() {
                Some((session, visitor)) => {
                    let mut message = json!({ "type": "send_message", "session_id": session,
                                              "body": "a visitor message" });
                    if self.rng.chance(30) {
                        message["client_message_id"] = json!(format!("c{}", self.rng.below(4)));
                    }
                    self.command(visitor_actor(&visitor), message)
                }
                None => Input::Timeout(self.now),
            },
            34..=41 => match self.rng.pick(&self.known.offers).cloned() {
                Some((agent, session)) => {
                    let kind = if self.rng.chance(25) {
                        "decline_offer"
                    } else {
                        "accept_offer"
                    };
                    self.command(
                        staff(&agent),
                        json!({ "type": kind, "session_id": session }),
                    )
                }
                None => Input::Timeout(self.now),
            },
            42..=51 => match self.held() {
                Some((agent, session)) => {
                    let value = match self.rng.below(6) {
                        0 => {
                            json!({ "type": "send_canned_response", "session_id": session, "canned_response_id": "canned_1" })
                        }
                        1 => json!({ "type": "mark_read", "session_id": session }),
                        2 => json!({ "type": "set_typing", "session_id": session, "active": true }),
                        3 => {
                            json!({ "type": "add_tags", "session_id": session, "tags": ["vip", "billing"] })
                        }
                        4 => json!({ "type": "add_note", "session_id": session, "body": "a note" }),
                        _ => {
                            json!({ "type": "send_message", "session_id": session, "body": "an agent reply", "kind": "markdown" })
                        }
                    };
                    self.command(staff(&agent), value)
                }
                None => Input::Timeout(self.now),
            },
            52..=56 => match self.held() {
                Some((agent, session)) => {
                    let kind = ["resolve_session", "resolve_session", "close_session"]
                        [self.rng.below(3)];
                    self.command(
                        staff(&agent),
                        json!({ "type": kind, "session_id": session }),
                    )
                }
                None => Input::Timeout(self.now),
            },
            57..=60 => match self.held() {
                Some((agent, session)) => {
                    let value = if self.rng.chance(50) {
                        let other = self.agent();
                        json!({ "type": "transfer_session", "session_id": session, "to_agent_id": other, "reason": "specialist" })
                    } else {
                        let department = ["sales", "support"][self.rng.below(2)];
                        json!({ "type": "transfer_session", "session_id": session, "to_department_id": department, "reason": "department" })
                    };
                    self.command(staff(&agent), value)
                }
                None => Input::Timeout(self.now),
            },
            61..=63 => match self.rng.pick(&self.known.transfers).cloned() {
                Some((agent, transfer)) => {
                    let kind = ["accept_transfer", "reject_transfer", "cancel_transfer"]
                        [self.rng.below(3)];
                    let actor = if kind == "cancel_transfer" {
                        staff("sup")
                    } else {
                        staff(&agent)
                    };
                    self.command(actor, json!({ "type": kind, "transfer_id": transfer }))
                }
                None => Input::Timeout(self.now),
            },
            64..=67 => {
                let agent = self.agent();
                let status = ["online", "online", "away", "busy", "offline"][self.rng.below(5)];
                self.command(
                    staff(&agent),
                    json!({ "type": "set_agent_status", "status": status }),
                )
            }
            68..=69 => {
                let agent = self.agent();
                let kind = ["agent_disconnected", "agent_connected"][self.rng.below(2)];
                self.command(
                    Actor::new(TENANT, "host", Role::System),
                    json!({ "type": kind, "agent_id": agent }),
                )
            }
            70..=71 => {
                let agent = self.agent();
                self.command(staff(&agent), json!({ "type": "end_wrap_up" }))
            }
            72..=73 => match (self.session(), self.rng.chance(50)) {
                (Some((session, _)), true) => {
                    let agent = self.agent();
                    self.command(
                        staff(&agent),
                        json!({ "type": "pick_session", "session_id": session }),
                    )
                }
                (Some((session, _)), false) => {
                    let agent = self.agent();
                    self.command(
                        staff("sup"),
                        json!({ "type": "assign_session", "session_id": session, "agent_id": agent }),
                    )
                }
                (None, _) => Input::Timeout(self.now),
            },
            74..=75 => match self.session() {
                Some((session, visitor)) => {
                    let value = match self.rng.below(4) {
                        0 => json!({ "type": "leave_session", "session_id": session }),
                        1 => json!({ "type": "set_typing", "session_id": session, "active": true }),
                        2 => json!({ "type": "email_transcript", "session_id": session }),
                        _ => {
                            json!({ "type": "submit_csat", "session_id": session, "rating": 4, "comment": "fine" })
                        }
                    };
                    self.command(visitor_actor(&visitor), value)
                }
                None => Input::Timeout(self.now),
            },
            76 => match self.session() {
                Some((session, _)) => self.command(
                    Actor::new(TENANT, "helpbot", Role::Bot),
                    json!({ "type": "hand_off", "session_id": session, "reason": "needs a human" }),
                ),
                None => Input::Timeout(self.now),
            },
            77 => match self.known.route_requests.pop() {
                Some(effect) => {
                    let agent = self.rng.chance(70).then(|| self.agent());
                    self.command(
                        Actor::new(TENANT, "host", Role::System),
                        json!({ "type": "route_decision", "effect_id": effect, "agent_id": agent }),
                    )
                }
                None => Input::Timeout(self.now),
            },
            78..=79 => {
                let a = self.agent();
                match self.rng.pick(&self.known.conversations).cloned() {
                    Some((conversation, member)) if self.rng.chance(70) => self.command(
                        staff(&member),
                        json!({ "type": "send_conversation_message", "conversation_id": conversation, "body": "psst" }),
                    ),
                    _ => {
                        let b = self.agent();
                        let kind = ["direct", "group"][self.rng.below(2)];
                        self.command(
                            staff(&a),
                            json!({ "type": "create_conversation", "kind": kind, "member_ids": [b], "title": "team" }),
                        )
                    }
                }
            }
            80..=83 => {
                let agent = self.agent();
                let visitor = self.visitor();
                let priority = ["low", "medium", "high", "critical"][self.rng.below(4)];
                let value = if self.rng.chance(20) {
                    json!({ "type": "create_ticket", "subject": "x", "template_id": "login",
                            "variables": { "product": "the app", "error": "401" },
                            "requester": { "visitor_id": visitor } })
                } else {
                    json!({ "type": "create_ticket", "subject": "Help", "priority": priority,
                            "department_id": "support", "requester": { "visitor_id": visitor } })
                };
                self.command(staff(&agent), value)
            }
            84..=91 => {
                let tickets: Vec<(String, Option<String>)> = self
                    .known
                    .tickets
                    .iter()
                    .map(|(t, v)| (t.clone(), v.clone()))
                    .collect();
                let Some((ticket, requester)) = self.rng.pick(&tickets).cloned() else {
                    return Input::Timeout(self.now);
                };
                let agent = self.agent();
                match self.rng.below(9) {
                    0 | 1 => {
                        let internal = self.rng.chance(20);
                        self.command(
                            staff(&agent),
                            json!({ "type": "add_ticket_message", "ticket_id": ticket, "body": "reply",
                                    "internal": internal }),
                        )
                    }
                    2 => match requester {
                        Some(visitor) => self.command(
                            visitor_actor(&visitor),
                            json!({ "type": "add_ticket_message", "ticket_id": ticket, "body": "customer" }),
                        ),
                        None => Input::Timeout(self.now),
                    },
                    3 | 4 => {
                        let status = ["open", "in_progress", "pending", "resolved", "closed"]
                            [self.rng.below(5)];
                        self.command(
                            staff(&agent),
                            json!({ "type": "set_ticket_status", "ticket_id": ticket, "status": status }),
                        )
                    }
                    5 => {
                        let priority = ["low", "medium", "high", "critical"][self.rng.below(4)];
                        self.command(
                            staff(&agent),
                            json!({ "type": "update_ticket", "ticket_id": ticket, "changes": { "priority": priority } }),
                        )
                    }
                    6 => {
                        let kind = ["delete_ticket", "restore_ticket"][self.rng.below(2)];
                        self.command(staff("sup"), json!({ "type": kind, "ticket_id": ticket }))
                    }
                    7 => {
                        let assignee = self.agent();
                        self.command(
                            staff(&agent),
                            json!({ "type": "assign_ticket", "ticket_id": ticket, "assignee_id": assignee }),
                        )
                    }
                    _ => self.command(
                        staff(&agent),
                        json!({ "type": "request_csat", "ticket_id": ticket }),
                    ),
                }
            }
            92..=93 => {
                let surveys: Vec<(String, String)> = self
                    .known
                    .surveys
                    .iter()
                    .map(|(s, v)| (s.clone(), v.clone()))
                    .collect();
                let rating = 1 + self.rng.below(5);
                match self.rng.pick(&surveys).cloned() {
                    Some((survey, visitor)) => self.command(
                        visitor_actor(&visitor),
                        json!({ "type": "submit_csat", "survey_id": survey,
                                "rating": rating, "comment": "thanks" }),
                    ),
                    None => Input::Timeout(self.now),
                }
            }
            94 => {
                let visitor = self.visitor();
                self.command(
                    visitor_actor(&visitor),
                    json!({ "type": "submit_offline_message", "name": visitor,
                            "email": format!("{visitor}@example.com"),
                            "message": "Please call me back.", "department_id": "support" }),
                )
            }
            95 => match self.held() {
                Some((agent, session)) => self.command(
                    staff(&agent),
                    json!({ "type": "convert_session_to_ticket", "session_id": session, "priority": "high" }),
                ),
                None => Input::Timeout(self.now),
            },
            96 => {
                // Configuration changes that re-time clocks and rebuild pools.
                let n = self.rng.below(AGENTS);
                let max = 1 + self.rng.below(4);
                self.command(
                    staff("admin"),
                    json!({ "type": "upsert_agent", "agent": { "id": format!("a{n}"), "name": format!("Agent {n}"),
                        "departments": ["support", "sales"], "skills": { "billing": 5 },
                        "max_concurrent_chats": max, "routing_weight": max } }),
                )
            }
            97 => {
                let position = self.rng.below(2);
                let minutes = [30, 45, 60][self.rng.below(3)];
                self.command(
                    staff("admin"),
                    json!({ "type": "set_sla_policies", "policies": [
                        { "id": "chat", "position": position, "conditions": { "channels": ["chat"] },
                          "targets": { "first_response": { "minutes": 2 }, "next_response": { "minutes": 3 } } },
                        { "id": "default", "position": 1 - position, "calendar_id": "office",
                          "targets": { "first_response": { "minutes": minutes, "business_hours": true },
                                       "resolution": { "minutes": 600, "business_hours": true } } },
                    ] }),
                )
            }
            98 => {
                let visitor = format!("g{}", self.rng.below(5));
                Input::Command(
                    self.now,
                    Actor::new("globex", &visitor, Role::Visitor),
                    Box::new(cmd(json!({ "type": "start_session", "visitor": { "name": visitor } }))),
                )
            }
            _ => {
                let agent = self.agent();
                self.command(
                    staff(&agent),
                    json!({ "type": "get_queue_status", "queue_id": "support" }),
                )
            }
        }
    }

    /// Applies an input to the world's engine, drains and learns; the transcript lines.
    fn step(&mut self, input: &Input) -> Vec<String> {
        let reply = self.apply_only(input);
        self.finish(reply)
    }

    fn apply_only(&mut self, input: &Input) -> String {
        self.log.push(input.clone());
        let (reply, parsed) = apply_reply(&mut self.engine, input);
        if let Input::Command(_, actor, _) = input
            && let Some(Reply::SessionStarted { session_id, .. }) = parsed
            && actor.tenant_id.as_str() == TENANT
        {
            self.known
                .sessions
                .insert(session_id.to_string(), actor.id.to_string());
        }
        reply
    }

    fn finish(&mut self, reply: String) -> Vec<String> {
        let mut lines = vec![reply];
        for output in drain(&mut self.engine) {
            self.known.learn(&output);
            lines.push(serde_json::to_string(&output).expect("serializes"));
        }
        lines
    }
}

fn acme_settings() -> TenantSettings {
    serde_json::from_value(json!({
        "name": "Acme",
        "business_hours": always_open(),
        "timing": { "wrap_up_ms": 5_000, "disconnect_grace_ms": 20_000,
                    "transfer_timeout_ms": 30_000, "inactivity_warning_ms": 600_000, "away_on_missed_offer": false,
                    "inactivity_close_ms": 1_200_000, "resolved_close_ms": 120_000,
                    "survey_expiry_ms": 3_600_000, "ticket_auto_close_ms": 7_200_000 },
        "fairness_cap": { "max_assignments": 4, "window_ms": 120_000 },
        "ticket_prefix": "ACME",
    }))
    .expect("settings")
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

/// What a snapshot shows of the situations the workload should reach.
fn situations(text: &str) -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(text).expect("JSON");
    let mut seen = BTreeSet::new();
    let engine = &doc["engine"];
    if engine["outputs"].as_array().is_some_and(|o| !o.is_empty()) {
        seen.insert("undrained outputs".to_owned());
    }
    if engine["timers"].as_array().is_some_and(|t| t.len() > 5) {
        seen.insert("armed timers".to_owned());
    }
    let tenant = &engine["tenants"][0];
    for pair in tenant["sessions"].as_array().into_iter().flatten() {
        let session = &pair[1];
        if let Some(status) = session["status"].as_str() {
            seen.insert(format!("session {status}"));
        }
        if session["offer"]["broadcast"] == true && session["status"] == "offered" {
            seen.insert("broadcast offer".to_owned());
        }
        if session["transfer"].is_object() {
            seen.insert("transfer".to_owned());
        }
        if session["sla"].is_object() {
            seen.insert("chat sla".to_owned());
        }
        if session["typing"]
            .as_array()
            .is_some_and(|t| t.contains(&json!(true)))
        {
            seen.insert("typing".to_owned());
        }
        if session["route_request"].is_number() {
            seen.insert("external routing".to_owned());
        }
    }
    for agent in tenant["agents"].as_array().into_iter().flatten() {
        if agent["wrap_ups"].as_array().is_some_and(|w| !w.is_empty()) {
            seen.insert("wrap-up".to_owned());
        }
        if agent["connected"] == false {
            seen.insert("disconnected agent".to_owned());
        }
        if agent["status"] == "away" {
            seen.insert("away agent".to_owned());
        }
        if agent["recent_assignments"]
            .as_array()
            .is_some_and(|r| r.len() > 1)
        {
            seen.insert("fairness window".to_owned());
        }
    }
    for queue in tenant["queues"].as_array().into_iter().flatten() {
        if queue["pool"]["profiles_indexed"] == true {
            seen.insert("skill profiles indexed".to_owned());
        }
        if queue["waiting"].as_array().is_some_and(|w| !w.is_empty()) {
            seen.insert("waiting line".to_owned());
        }
        if queue["handle_times"]
            .as_array()
            .is_some_and(|h| h.len() > 3)
        {
            seen.insert("handle times".to_owned());
        }
    }
    for ticket in tenant["tickets"]
        .as_object()
        .into_iter()
        .flat_map(|t| t.values())
    {
        if let Some(status) = ticket["status"].as_str() {
            seen.insert(format!("ticket {status}"));
        }
        if ticket["sla"]["clocks"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["breached"] == true))
        {
            seen.insert("breached clock".to_owned());
        }
    }
    for survey in tenant["surveys"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
    {
        seen.insert(if survey["answered_at"].is_number() {
            "answered survey".to_owned()
        } else {
            "open survey".to_owned()
        });
    }
    if tenant["conversations"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        seen.insert("conversations".to_owned());
    }
    if tenant["direct_conversations"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        seen.insert("direct conversations".to_owned());
    }
    if tenant["calendars"]
        .as_object()
        .is_some_and(|c| c.len() == 2)
        && tenant["calendar"].is_object()
    {
        seen.insert("calendars".to_owned());
    }
    if tenant["last_agent_of_visitor"]["by_visitor"]
        .as_array()
        .is_some_and(|v| !v.is_empty())
    {
        seen.insert("returning visitors".to_owned());
    }
    seen
}

/// Runs a seeded workload; every `every` inputs the engine is snapshotted and restored
/// (every other time between applying an input and draining its outputs), and the restored
/// twin follows the same inputs until the next checkpoint with identical replies and outputs.
fn run_with_twins(seed: u64, steps: usize, every: usize) -> BTreeSet<String> {
    let mut world = World::new(seed);
    let (mut twin, _) = round_trip(&world.engine);
    let mut seen = BTreeSet::new();
    for step in 0..steps {
        let input = world.next_input();
        if step % every == 0 {
            // Before the twin: the world and twin agree so far, field for field.
            assert!(
                twin == world.engine,
                "seed {seed} step {step}: the twin drifted"
            );
            if step % (2 * every) == 0 {
                // Snapshot with this step's outputs still queued.
                let reply = world.apply_only(&input);
                let (restored, text) = round_trip(&world.engine);
                seen.extend(situations(&text));
                twin = restored;
                let mine = world.finish(reply);
                let theirs: Vec<String> = drain(&mut twin)
                    .iter()
                    .map(|o| serde_json::to_string(o).expect("serializes"))
                    .collect();
                assert_eq!(
                    mine[1..],
                    theirs[..],
                    "seed {seed} step {step}: queued outputs differ after a restore"
                );
                continue;
            }
            let (restored, text) = round_trip(&world.engine);
            seen.extend(situations(&text));
            twin = restored;
        }
        let mine = world.step(&input);
        let mut theirs = vec![apply(&mut twin, &input)];
        theirs.extend(
            drain(&mut twin)
                .iter()
                .map(|o| serde_json::to_string(o).expect("serializes")),
        );
        assert_eq!(
            mine, theirs,
            "seed {seed} step {step}: the restored engine answered differently"
        );
    }
    assert!(
        twin == world.engine,
        "seed {seed}: the twin drifted at the end"
    );
    seen
}

#[test]
fn restored_engines_equal_the_original_and_continue_identically() {
    let mut seen = BTreeSet::new();
    for seed in [1, 2, 3] {
        seen.extend(run_with_twins(seed, 3_000, 25));
    }
    let expected = [
        "undrained outputs",
        "armed timers",
        "session bot",
        "session queued",
        "session offered",
        "session active",
        "session transferring",
        "session resolved",
        "broadcast offer",
        "transfer",
        "chat sla",
        "typing",
        "external routing",
        "wrap-up",
        "disconnected agent",
        "away agent",
        "fairness window",
        "skill profiles indexed",
        "waiting line",
        "handle times",
        "ticket open",
        "ticket in_progress",
        "ticket pending",
        "ticket resolved",
        "breached clock",
        "answered survey",
        "open survey",
        "conversations",
        "direct conversations",
        "calendars",
        "returning visitors",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|s| !seen.contains(*s))
        .collect();
    assert!(
        missing.is_empty(),
        "the workload never reached {missing:?} at a checkpoint (saw {seen:?})"
    );
}

#[test]
fn a_new_engine_and_a_harness_world_round_trip() {
    let empty = Engine::new(EngineConfig {
        seed: u64::MAX,
        ..Default::default()
    });
    round_trip(&empty);
    let mut harness = Harness::new();
    harness.online_agent("alice", json!({ "max_concurrent_chats": 2 }));
    harness.start("ana", json!({ "initial_message": "hi" }));
    let (restored, _) = round_trip(&harness.engine);
    assert_eq!(restored.poll_timeout(), harness.engine.poll_timeout());
    assert_eq!(restored.now(), harness.engine.now());
}

/// A small engine's snapshot, parsed.
fn sample() -> (Engine, Value) {
    let mut world = World::new(9);
    for _ in 0..200 {
        let input = world.next_input();
        world.step(&input);
    }
    let text = world.engine.snapshot().expect("snapshot");
    (world.engine, serde_json::from_str(&text).expect("JSON"))
}

fn restore_value(doc: &Value) -> Result<Engine, SnapshotError> {
    Engine::restore(&serde_json::to_string(doc).expect("serializes"))
}

#[test]
fn the_document_is_an_envelope_with_the_format() {
    let (engine, doc) = sample();
    assert_eq!(doc["format"], json!(SNAPSHOT_FORMAT));
    assert_eq!(SNAPSHOT_FORMAT, 1);
    assert!(doc["engine"].is_object());
    assert!(restore_value(&doc).expect("restores") == engine);
}

#[test]
fn truncated_or_non_json_text_is_malformed() {
    let (engine, _) = sample();
    let text = engine.snapshot().expect("snapshot");
    for cut in [0, 1, 10, text.len() / 3, text.len() / 2, text.len() - 1] {
        let error = Engine::restore(&text[..cut]).expect_err("a truncated snapshot");
        assert!(
            matches!(error, SnapshotError::Malformed(_)),
            "cut at {cut}: {error:?}"
        );
    }
    for text in ["", "null", "[]", "42", "{}", "not json", "{\"format\":1}"] {
        assert!(
            matches!(Engine::restore(text), Err(SnapshotError::Malformed(_))),
            "{text:?}"
        );
    }
}

#[test]
fn another_format_is_unsupported_even_if_its_shape_differs() {
    let (_, doc) = sample();
    let mut newer = doc.clone();
    newer["format"] = json!(2);
    assert_eq!(
        restore_value(&newer).err(),
        Some(SnapshotError::UnsupportedFormat {
            found: 2,
            supported: 1
        })
    );
    newer["engine"] = json!({ "something": "else" });
    assert_eq!(
        restore_value(&newer).err(),
        Some(SnapshotError::UnsupportedFormat {
            found: 2,
            supported: 1
        })
    );
    let mut older = doc;
    older["format"] = json!(0);
    assert!(matches!(
        restore_value(&older),
        Err(SnapshotError::UnsupportedFormat { found: 0, .. })
    ));
    older["format"] = json!("1");
    assert!(matches!(
        restore_value(&older),
        Err(SnapshotError::Malformed(_))
    ));
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let (_, doc) = sample();
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "now as text",
            Box::new(|d| d["engine"]["now"] = json!("soon")),
        ),
        (
            "negative counter",
            Box::new(|d| d["engine"]["tenants"][0]["counters"]["session"] = json!(-1)),
        ),
        (
            "rng state as text",
            Box::new(|d| d["engine"]["tenants"][0]["rng"] = json!("seed")),
        ),
        (
            "timers as object",
            Box::new(|d| d["engine"]["timers"] = json!({})),
        ),
        (
            "pairs of the wrong arity",
            Box::new(|d| d["engine"]["tenants"][0]["sessions"] = json!([[1]])),
        ),
        (
            "priority past 255",
            Box::new(|d| {
                d["engine"]["tenants"][0]["queues"][0]["waiting_per_priority"] = json!([[256, 1]])
            }),
        ),
        (
            "missing tenants",
            Box::new(|d| {
                d["engine"].as_object_mut().unwrap().remove("tenants");
            }),
        ),
        (
            "unknown engine field",
            Box::new(|d| d["engine"]["extra"] = json!(1)),
        ),
        (
            "output of an unknown type",
            Box::new(|d| d["engine"]["outputs"] = json!([{ "type": "teleport" }])),
        ),
    ];
    for (name, mutate) in mutations {
        let mut bad = doc.clone();
        mutate(&mut bad);
        let result = restore_value(&bad);
        assert!(
            matches!(result, Err(SnapshotError::Malformed(_))),
            "{name}: {:?}",
            result.err()
        );
    }
}

#[test]
fn a_calendar_that_no_longer_compiles_is_malformed() {
    let (_, doc) = sample();
    let tenant = &doc["engine"]["tenants"][0];
    assert_eq!(tenant["calendar"]["time_zone"], "America/New_York");
    assert!(tenant["calendars"]["office"].is_object());
    let mut bad = doc.clone();
    bad["engine"]["tenants"][0]["calendar"]["time_zone"] = json!("Mars/Olympus_Mons");
    let error = restore_value(&bad).expect_err("unknown zone");
    match error {
        SnapshotError::Malformed(message) => {
            assert!(message.contains("Mars/Olympus_Mons"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut bad = doc;
    bad["engine"]["tenants"][0]["calendars"]["office"]["weekly"]["monday"] =
        json!([{ "start": "09:00", "end": "12:00" }, { "start": "11:00", "end": "13:00" }]);
    assert!(matches!(
        restore_value(&bad),
        Err(SnapshotError::Malformed(_))
    ));
}

#[test]
fn errors_read_well() {
    assert_eq!(
        SnapshotError::UnsupportedFormat {
            found: 2,
            supported: 1
        }
        .to_string(),
        "unsupported snapshot format 2 (this build reads format 1)"
    );
    assert!(
        SnapshotError::Malformed("x".into())
            .to_string()
            .contains("malformed")
    );
}
