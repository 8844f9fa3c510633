//! Seeded simulation of a helpdesk under SLA policies: tickets and chats, replies, pauses,
//! resolves, reopens, priority changes, deletes and long clock jumps across business hours.
//! Checked throughout, from the engine's outputs only:
//! - every warning and every breach fires at most once per clock cycle, and a breach is
//!   never announced without its warning;
//! - paused and resolved tickets raise nothing;
//! - paused time never counts: a resolution's measured time (wall and business) equals the
//!   time the test itself saw the ticket open or in progress;
//! - no running clock is past its due time without having breached;
//! - an engine rebuilt by replaying the inputs (a restart) continues identically;
//! - so does one restored from a snapshot (at checkpoints, one of them with a step's outputs
//!   not yet drained): it equals the original, and the run carries on with it, every check
//!   above included, and the replay-based restart must still find an equal engine.
//!
//! Set `SLA_SIM_SEED` to replay one seed.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::Rng;
use serde_json::{Value, json};
use switchboard_core::calendar::{BusinessHours, Calendar};
use switchboard_core::{
    Actor, Command, Engine, EngineConfig, Event, Output, Record, Reply, Role, Timestamp,
};

const STEPS: usize = 12_000;
const MIN: i64 = 60_000;
const TENANT: &str = "help";

fn office_hours() -> Value {
    let day = json!([{ "start": "09:00", "end": "17:00" }]);
    json!({
        "time_zone": "Europe/Berlin",
        "weekly": {
            "monday": day, "tuesday": day, "thursday": day, "friday": day,
            "wednesday": [{ "start": "09:00", "end": "12:00" }, { "start": "13:00", "end": "17:00" }],
        },
        "holidays": [{ "date": "2026-12-25" }, { "date": "2026-12-31" }],
        "special_days": [{ "date": "2026-12-24", "hours": [{ "start": "09:00", "end": "12:00" }] }],
    })
}

/// What the test knows about a ticket, from the records it saw.
struct TicketModel {
    status: String,
    requester: String,
    /// Open or in progress since this instant (the resolution clock counts).
    active_since: Option<i64>,
    active_wall: i64,
    active_business: u64,
}

enum Input {
    Command(i64, Actor, Box<Command>),
    Timeout(i64),
}

struct Sim {
    engine: Engine,
    rng: Rng,
    now: i64,
    calendar: Calendar,
    inputs: Vec<Input>,
    tickets: BTreeMap<String, TicketModel>,
    sessions: BTreeMap<String, String>,
    warnings: BTreeSet<(String, String, u32)>,
    breaches: BTreeSet<(String, String, u32)>,
    statuses_before: BTreeMap<String, String>,
    resolutions_checked: usize,
    fired: usize,
    /// Restore from a snapshot after the next command, before its outputs are drained.
    restore_before_drain: bool,
    restores: usize,
}

fn command(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn subject_key(subject: &Value) -> String {
    subject
        .get("ticket_id")
        .or_else(|| subject.get("session_id"))
        .and_then(Value::as_str)
        .expect("subject id")
        .to_owned()
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let hours: BusinessHours = serde_json::from_value(office_hours()).expect("hours");
        let mut sim = Sim {
            engine: Engine::new(EngineConfig {
                seed,
                ..Default::default()
            }),
            rng: Rng(seed),
            // Monday 2026-12-14 08:00 UTC: the run crosses Christmas and New Year.
            now: 1_797_235_200_000,
            calendar: Calendar::compile(&hours).expect("calendar"),
            inputs: Vec::new(),
            tickets: BTreeMap::new(),
            sessions: BTreeMap::new(),
            warnings: BTreeSet::new(),
            breaches: BTreeSet::new(),
            statuses_before: BTreeMap::new(),
            resolutions_checked: 0,
            fired: 0,
            restore_before_drain: false,
            restores: 0,
        };
        sim.setup();
        sim
    }

    fn admin() -> Actor {
        Actor::new(TENANT, "admin", Role::TenantAdmin)
    }

    fn agent(n: usize) -> Actor {
        Actor::new(TENANT, &format!("a{n}"), Role::Agent)
    }

    fn setup(&mut self) {
        let root = Actor::new(TENANT, "root", Role::Superadmin);
        self.must(
            &root,
            json!({ "type": "create_tenant", "settings": { "name": "Help" } }),
        );
        let admin = Sim::admin();
        self.must(
            &admin,
            json!({ "type": "upsert_calendar",
            "calendar": { "id": "office", "name": "Office" , "time_zone": "Europe/Berlin",
                "weekly": office_hours()["weekly"], "holidays": office_hours()["holidays"],
                "special_days": office_hours()["special_days"] } }),
        );
        for department in ["support", "tier2"] {
            self.must(
                &admin,
                json!({ "type": "upsert_department",
                "department": { "id": department, "name": department } }),
            );
        }
        self.must(
            &admin,
            json!({ "type": "upsert_queue",
            "queue": { "id": "chat", "name": "chat", "department_id": "support",
                       "queue_when_no_agents": true } }),
        );
        self.must(&admin, json!({ "type": "set_sla_policies", "policies": [
            { "id": "critical", "position": 0, "conditions": { "priorities": ["critical"] },
              "calendar_id": "office", "warning_percent": 75,
              "targets": { "first_response": { "minutes": 30 }, "next_response": { "minutes": 60 },
                           "resolution": { "minutes": 240 } },
              "escalation": { "notify_supervisors": true } },
            { "id": "high", "position": 1, "conditions": { "priorities": ["high"] },
              "calendar_id": "office",
              "targets": { "first_response": { "minutes": 120, "business_hours": true },
                           "next_response": { "minutes": 60, "business_hours": true },
                           "periodic_update": { "minutes": 240, "business_hours": true },
                           "resolution": { "minutes": 480, "business_hours": true } },
              "escalation": { "raise_priority": true, "reassign_team_id": "tier2" } },
            { "id": "chat", "position": 2, "conditions": { "channels": ["chat"] },
              "targets": { "first_response": { "minutes": 2 }, "next_response": { "minutes": 3 } } },
            { "id": "default", "position": 3, "calendar_id": "office", "warning_percent": 50,
              "targets": { "first_response": { "minutes": 480, "business_hours": true },
                           "resolution": { "minutes": 1440, "business_hours": true } } },
        ] }));
        for n in 0..6 {
            self.must(&admin, json!({ "type": "upsert_agent", "agent": {
                "id": format!("a{n}"), "name": format!("Agent {n}"),
                "departments": if n % 2 == 0 { json!(["support"]) } else { json!(["support", "tier2"]) },
                "max_concurrent_chats": 4, "auto_accept": true } }));
            self.must(
                &Sim::agent(n),
                json!({ "type": "set_agent_status", "status": "online" }),
            );
        }
        self.must(
            &admin,
            json!({ "type": "upsert_agent", "agent": {
            "id": "sup", "name": "Sam", "role": "supervisor" } }),
        );
        let sup = Actor::new(TENANT, "sup", Role::Supervisor);
        self.must(
            &sup,
            json!({ "type": "set_agent_status", "status": "online" }),
        );
    }

    fn must(&mut self, actor: &Actor, value: Value) -> Reply {
        self.run(actor, command(value.clone()))
            .unwrap_or_else(|| panic!("setup command failed: {value}"))
    }

    fn snapshot_statuses(&mut self) {
        self.statuses_before = self
            .tickets
            .iter()
            .map(|(id, t)| (id.clone(), t.status.clone()))
            .collect();
    }

    fn run(&mut self, actor: &Actor, command: Command) -> Option<Reply> {
        self.snapshot_statuses();
        self.inputs.push(Input::Command(
            self.now,
            actor.clone(),
            Box::new(command.clone()),
        ));
        let result = self.engine.handle(Timestamp(self.now), actor, command);
        if self.restore_before_drain && self.engine.pending_outputs() > 0 {
            self.restore_before_drain = false;
            self.restore_from_snapshot();
        }
        self.observe();
        result.ok()
    }

    /// Carries on with an engine restored from a snapshot of this one; it must be equal.
    fn restore_from_snapshot(&mut self) {
        let text = self.engine.snapshot().expect("a snapshot");
        let restored = Engine::restore(&text).expect("the snapshot restores");
        assert!(
            restored == self.engine,
            "the engine restored from a snapshot differs"
        );
        self.engine = restored;
        self.restores += 1;
    }

    fn advance(&mut self, ms: i64) {
        self.snapshot_statuses();
        self.now += ms;
        self.inputs.push(Input::Timeout(self.now));
        self.engine.handle_timeout(Timestamp(self.now));
        self.observe();
    }

    fn observe(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Deliver { event, .. } => self.check_event(&event),
                Output::Persist { record, .. } => self.learn(&record),
                Output::Effect { .. } => {}
            }
        }
    }

    fn check_event(&mut self, event: &Event) {
        let (kind, value) = match event {
            Event::SlaWarning { .. } => ("warning", json!(event)),
            Event::SlaBreached { .. } => ("breach", json!(event)),
            _ => return,
        };
        self.fired += 1;
        let subject = subject_key(&value["subject"]);
        let key = (
            subject.clone(),
            value["metric"].as_str().expect("metric").to_owned(),
            u32::try_from(value["cycle"].as_u64().expect("cycle")).expect("small"),
        );
        // A warning carries the breach time it warns of; a breach the time it fell due.
        if kind == "breach" {
            assert!(
                value["due_at"].as_i64().expect("due") <= self.now,
                "breach announced before it was due: {value}"
            );
        }
        if let Some(before) = self.statuses_before.get(&subject) {
            assert!(
                !matches!(before.as_str(), "pending" | "resolved" | "closed"),
                "{kind} for a {before} ticket: {value}"
            );
        }
        let fresh = if kind == "warning" {
            self.warnings.insert(key.clone())
        } else {
            assert!(
                self.warnings.contains(&key),
                "a breach without its warning: {value}"
            );
            self.breaches.insert(key.clone())
        };
        assert!(fresh, "{kind} fired twice for {key:?}");
    }

    fn learn(&mut self, record: &Record) {
        match record {
            Record::Ticket { ticket } => {
                let id = ticket.ticket_id.to_string();
                let status = json!(ticket.status).as_str().expect("status").to_owned();
                let active = matches!(status.as_str(), "open" | "in_progress");
                let now = self.now;
                let calendar = &self.calendar;
                let model = self.tickets.entry(id).or_insert_with(|| TicketModel {
                    status: String::new(),
                    requester: ticket
                        .requester
                        .visitor_id
                        .as_ref()
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    active_since: None,
                    active_wall: 0,
                    active_business: 0,
                });
                match (model.active_since, active) {
                    (Some(since), false) => {
                        model.active_wall += now - since;
                        model.active_business +=
                            calendar.business_time_between(Timestamp(since), Timestamp(now));
                        model.active_since = None;
                    }
                    (None, true) => model.active_since = Some(now),
                    _ => {}
                }
                model.status = status;
            }
            Record::SlaMeasurement { measurement } => {
                let value = json!(measurement);
                let key = (
                    subject_key(&value["subject"]),
                    value["metric"].as_str().expect("metric").to_owned(),
                    u32::try_from(value["cycle"].as_u64().expect("cycle")).expect("small"),
                );
                if value["outcome"] == "breached" {
                    assert!(
                        self.breaches.contains(&key),
                        "a breached measurement without its breach event: {value}"
                    );
                }
                if value["metric"] == "resolution" && value["completed_at"].is_number() {
                    // The measurement comes before the ticket record of the same step, so
                    // the stretch open until now still counts.
                    let model = &self.tickets[&key.0];
                    let (mut wall, mut business) = (model.active_wall, model.active_business);
                    if let Some(since) = model.active_since {
                        wall += self.now - since;
                        business += self
                            .calendar
                            .business_time_between(Timestamp(since), Timestamp(self.now));
                    }
                    assert_eq!(
                        value["elapsed_ms"].as_i64(),
                        Some(wall),
                        "resolution counted paused time: {value}"
                    );
                    if value["policy_id"] != "critical" {
                        assert_eq!(
                            value["elapsed_business_ms"].as_u64(),
                            Some(business),
                            "business time differs: {value}"
                        );
                    }
                    self.resolutions_checked += 1;
                }
            }
            _ => {}
        }
    }

    fn random_ticket(&mut self) -> Option<String> {
        let live: Vec<&String> = self
            .tickets
            .iter()
            .filter(|(_, t)| t.status != "closed")
            .map(|(id, _)| id)
            .collect();
        (!live.is_empty()).then(|| live[self.rng.below(live.len())].clone())
    }

    fn step(&mut self) {
        let roll = self.rng.below(100);
        let agent = Sim::agent(self.rng.below(6));
        match roll {
            0..=9 => {
                let priority = ["low", "medium", "high", "critical"][self.rng.below(4)];
                let requester = format!("v{}", self.rng.below(30));
                self.run(
                    &agent,
                    command(json!({ "type": "create_ticket", "subject": "Help",
                    "priority": priority, "department_id": "support",
                    "requester": { "visitor_id": requester } })),
                );
            }
            10..=29 => {
                if let Some(id) = self.random_ticket() {
                    let internal = self.rng.chance(20);
                    self.run(
                        &agent,
                        command(json!({ "type": "add_ticket_message",
                        "ticket_id": id, "body": "reply", "internal": internal })),
                    );
                }
            }
            30..=41 => {
                if let Some(id) = self.random_ticket() {
                    let requester = Actor::new(TENANT, &self.tickets[&id].requester, Role::Visitor);
                    self.run(
                        &requester,
                        command(json!({ "type": "add_ticket_message",
                        "ticket_id": id, "body": "customer" })),
                    );
                }
            }
            42..=53 => {
                if let Some(id) = self.random_ticket() {
                    let status =
                        ["open", "in_progress", "pending", "resolved", "closed"][self.rng.below(5)];
                    self.run(
                        &agent,
                        command(json!({ "type": "set_ticket_status",
                        "ticket_id": id, "status": status })),
                    );
                }
            }
            54..=58 => {
                if let Some(id) = self.random_ticket() {
                    let priority = ["low", "medium", "high", "critical"][self.rng.below(4)];
                    self.run(
                        &agent,
                        command(json!({ "type": "update_ticket",
                        "ticket_id": id, "changes": { "priority": priority } })),
                    );
                }
            }
            59..=61 => {
                if let Some(id) = self.random_ticket() {
                    let sup = Actor::new(TENANT, "sup", Role::Supervisor);
                    let kind = if self.rng.chance(50) {
                        "delete_ticket"
                    } else {
                        "restore_ticket"
                    };
                    self.run(&sup, command(json!({ "type": kind, "ticket_id": id })));
                }
            }
            62..=64 => {
                if let Some(id) = self.random_ticket() {
                    let assignee = format!("a{}", self.rng.below(6));
                    self.run(
                        &agent,
                        command(json!({ "type": "assign_ticket", "ticket_id": id,
                        "assignee_id": assignee })),
                    );
                }
            }
            65..=72 => {
                let visitor = format!("c{}", self.rng.below(20));
                let actor = Actor::new(TENANT, &visitor, Role::Visitor);
                if let Some(Reply::SessionStarted { session_id, .. }) = self.run(
                    &actor,
                    command(json!({ "type": "start_session", "initial_message": "hi" })),
                ) {
                    self.sessions.insert(session_id.to_string(), visitor);
                }
            }
            73..=84 => {
                if !self.sessions.is_empty() {
                    let index = self.rng.below(self.sessions.len());
                    let (session, visitor) = self
                        .sessions
                        .iter()
                        .nth(index)
                        .map(|(s, v)| (s.clone(), v.clone()))
                        .expect("index in range");
                    let from_visitor = self.rng.chance(50);
                    let actor = if from_visitor {
                        Actor::new(TENANT, &visitor, Role::Visitor)
                    } else {
                        agent.clone()
                    };
                    let kind = if self.rng.chance(10) {
                        "close_session"
                    } else {
                        "send_message"
                    };
                    let reply = self.run(
                        &actor,
                        command(json!({ "type": kind,
                        "session_id": session, "body": "chat" })),
                    );
                    if kind == "close_session" && reply.is_some() {
                        self.sessions.remove(&session);
                    }
                }
            }
            _ => {
                let jump = match self.rng.below(10) {
                    0..=5 => 1_000 + self.rng.below(5 * MIN as usize) as i64,
                    6..=8 => self.rng.below(3 * 60 * MIN as usize) as i64,
                    _ => self.rng.below(30 * 60 * MIN as usize) as i64,
                };
                self.advance(jump);
            }
        }
    }

    /// No running clock may be past its due time without having breached.
    fn check_clocks(&mut self) {
        let sup = Actor::new(TENANT, "sup", Role::Supervisor);
        let ids: Vec<String> = self
            .tickets
            .iter()
            .filter(|(_, t)| t.status != "closed")
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            let reply = self
                .engine
                .handle(
                    Timestamp(self.now),
                    &sup,
                    command(json!({ "type": "get_ticket", "ticket_id": id })),
                )
                .expect("live ticket readable");
            let view = json!(reply)["ticket"].clone();
            if view["deleted_at"].is_number() {
                continue;
            }
            for clock in view["sla"]["clocks"].as_array().into_iter().flatten() {
                if clock["state"] == "running"
                    && clock["due_at"].as_i64().is_some_and(|due| due <= self.now)
                {
                    assert_eq!(clock["breached"], true, "overdue clock on {id}: {clock}");
                }
            }
        }
    }

    fn restart(&mut self) {
        let mut restarted = Engine::new(self.engine.config().clone());
        for input in &self.inputs {
            match input {
                Input::Command(at, actor, command) => {
                    let _ = restarted.handle(Timestamp(*at), actor, (**command).clone());
                }
                Input::Timeout(at) => restarted.handle_timeout(Timestamp(*at)),
            }
            while restarted.poll_output().is_some() {}
        }
        assert!(
            restarted == self.engine,
            "a replayed engine differs from the original"
        );
        self.engine = restarted;
    }
}

fn run_seed(seed: u64) {
    let mut sim = Sim::new(seed);
    for step in 0..STEPS {
        sim.step();
        if step % 100 == 99 {
            sim.advance(0);
            sim.check_clocks();
        }
        if step == STEPS / 2 {
            sim.restart();
        }
        if step % 3_000 == 1_000 {
            sim.restore_from_snapshot();
        } else if step % 3_000 == 2_000 {
            sim.restore_before_drain = true;
        }
    }
    assert!(sim.restores >= 7, "too few restores: {}", sim.restores);
    sim.advance(0);
    sim.check_clocks();
    assert!(
        sim.fired > 100,
        "the workload should fire SLA events, fired {}",
        sim.fired
    );
    assert!(
        sim.resolutions_checked > 50,
        "the workload should resolve tickets, checked {}",
        sim.resolutions_checked
    );
}

#[test]
fn sla_clocks_fire_once_never_while_paused_and_survive_a_restart() {
    let seeds: Vec<u64> = match std::env::var("SLA_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("numeric seed")],
        Err(_) => vec![11, 12],
    };
    for seed in seeds {
        let outcome = std::panic::catch_unwind(|| run_seed(seed));
        if let Err(panic) = outcome {
            eprintln!("SLA simulation failed with SLA_SIM_SEED={seed}");
            std::panic::resume_unwind(panic);
        }
    }
}
