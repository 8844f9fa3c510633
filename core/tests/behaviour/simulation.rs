//! Deterministic simulation: a seeded random workload of more than 100,000 commands over three
//! tenants (each with a different mix of strategies and settings), with clock advances,
//! checking invariants after every step:
//! - no agent is ever over capacity (chats, offers and wrap-up slots);
//! - no event reaches another tenant, or a role that may not see it, or another visitor;
//! - internal notes never reach a visitor;
//! - within a queue, equal-priority visitors are served in arrival order;
//! - under the automatic strategies nobody waits while an eligible agent has a free slot;
//! - a refused command changes nothing;
//! - replaying the recorded inputs gives identical outputs;
//! - a snapshot restores an equal engine: at checkpoints (one of them with a step's outputs
//!   not yet drained) the run carries on with the restored engine, and the replay above, in
//!   an engine that never stopped, must still match it output for output.
//!
//! The test keeps its own model of the world, built only from what the engine told it
//! (replies and outputs), and judges eligibility from that model, not from engine internals.
//! Set `SIM_SEED` to replay one seed; the seed is printed on failure.

use crate::support::Rng;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use switchboard_core::protocol::event::{UnassignReason, WithdrawReason};
use switchboard_core::protocol::model::SessionStatus;
use switchboard_core::{
    Actor, Command, CommandError, Effect, Engine, EngineConfig, Event, Output, Recipient, Reply,
    Role, Timestamp,
};

/// Commands to issue (clock advances come on top).
const COMMANDS: usize = 110_000;

#[derive(Clone)]
struct AgentModel {
    id: String,
    role: Role,
    departments: Vec<String>,
}

struct QueueModel {
    id: String,
    department: Option<String>,
    automatic: bool,
}

#[derive(Default)]
struct SessionModel {
    visitor: String,
    priority: u8,
    excluded: BTreeSet<String>,
}

/// What the test knows about one tenant, learned from replies and outputs.
#[derive(Default)]
struct TenantModel {
    id: String,
    agents: Vec<AgentModel>,
    queues: Vec<QueueModel>,
    visitors: Vec<(String, bool)>,
    fairness: Option<(usize, i64)>,
    sessions: BTreeMap<String, SessionModel>,
    /// Session offers outstanding per agent.
    offers: BTreeMap<String, BTreeSet<String>>,
    /// Transfer offers outstanding: transfer id to (session, agents).
    transfer_offers: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Session to the agent holding it.
    held: BTreeMap<String, String>,
    /// Assignment times per agent (for the fairness cap).
    assignments: BTreeMap<String, Vec<i64>>,
    route_requests: Vec<(String, Vec<String>)>,
    conversations: Vec<(String, Vec<String>)>,
    canned: Vec<String>,
}

impl TenantModel {
    fn agent(&self, id: &str) -> Option<&AgentModel> {
        self.agents.iter().find(|a| a.id == id)
    }
}

enum Input {
    Command(i64, Actor, Box<Command>),
    Timeout(i64),
}

struct Sim {
    engine: Engine,
    rng: Rng,
    now: i64,
    tenants: Vec<TenantModel>,
    inputs: Vec<Input>,
    transcript: Vec<String>,
    note_counter: u64,
    step: usize,
    /// Restore from a snapshot after the next command, before its outputs are drained.
    restore_before_drain: bool,
    restores: usize,
}

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn actor(tenant: &str, id: &str, role: Role) -> Actor {
    Actor::new(tenant, id, role)
}

/// Event types a recipient of each kind may receive.
fn visible_to(event: &str, recipient: &Recipient, role: Option<Role>) -> bool {
    const VISITOR: &[&str] = &[
        "session_started",
        "session_status_changed",
        "message",
        "typing",
        "read",
        "queue_position",
        "inactivity_warning",
        "leave_a_message",
        "survey_requested",
        "ticket_received",
        "ticket_message",
    ];
    const BOT: &[&str] = &[
        "session_status_changed",
        "message",
        "typing",
        "read",
        "inactivity_warning",
    ];
    const VIEWER: &[&str] = &[
        "session_status_changed",
        "agent_updated",
        "queue_updated",
        "force_logout",
        "conversation_updated",
        "conversation_message",
        "conversation_read",
        "conversation_typing",
        "ticket_created",
        "ticket_updated",
        "ticket_message",
    ];
    const VISITOR_ONLY: &[&str] = &[
        "session_started",
        "queue_position",
        "leave_a_message",
        "survey_requested",
        "ticket_received",
    ];
    match recipient {
        Recipient::Visitor { .. } => VISITOR.contains(&event),
        Recipient::Bot { .. } => BOT.contains(&event),
        Recipient::Staff { .. } => match role {
            Some(Role::Viewer) => VIEWER.contains(&event),
            Some(_) => !VISITOR_ONLY.contains(&event),
            None => false,
        },
    }
}

fn status_is_terminal(status: SessionStatus) -> bool {
    matches!(
        status,
        SessionStatus::Closed | SessionStatus::Abandoned | SessionStatus::Missed
    )
}

impl Sim {
    fn new(seed: u64) -> Self {
        let mut sim = Sim {
            engine: Engine::new(EngineConfig {
                seed,
                ..Default::default()
            }),
            rng: Rng(seed),
            now: 1_700_000_000_000,
            tenants: Vec::new(),
            inputs: Vec::new(),
            transcript: Vec::new(),
            note_counter: 0,
            step: 0,
            restore_before_drain: false,
            restores: 0,
        };
        for (index, name) in ["t1", "t2", "t3"].into_iter().enumerate() {
            sim.setup_tenant(index, name);
        }
        sim
    }

    fn setup_tenant(&mut self, index: usize, name: &str) {
        self.tenants.push(TenantModel {
            id: name.to_owned(),
            ..Default::default()
        });
        let mut model = TenantModel::default();
        let timing = match index {
            0 => json!({ "inactivity_close_ms": 300_000, "inactivity_warning_ms": 60_000,
                         "disconnect_grace_ms": 20_000, "transfer_timeout_ms": 30_000 }),
            1 => json!({ "wrap_up_ms": 5_000, "disconnect_grace_ms": 20_000,
                         "transfer_timeout_ms": 30_000 }),
            _ => json!({ "away_on_missed_offer": false, "disconnect_grace_ms": 20_000,
                         "transfer_timeout_ms": 30_000 }),
        };
        let mut settings = json!({ "name": name, "timing": timing });
        if index == 2 {
            settings["fairness_cap"] = json!({ "max_assignments": 3, "window_ms": 60_000 });
            model.fairness = Some((3, 60_000));
        }
        let root = actor(name, "root", Role::Superadmin);
        self.must(
            &root,
            cmd(json!({ "type": "create_tenant", "settings": settings })),
        );
        let admin = actor(name, &format!("{name}-admin"), Role::TenantAdmin);
        for department in ["sales", "support"] {
            self.must(
                &admin,
                cmd(json!({ "type": "upsert_department",
                            "department": { "id": department, "name": department } })),
            );
        }
        let strategies = match index {
            0 => ["least_active", "round_robin", "skill_based"],
            1 => ["broadcast", "random", "weighted_random"],
            _ => ["fixed_order", "manual", "external"],
        };
        for (queue, (department, strategy)) in ["sales", "support", "general"].iter().zip(
            [Some("sales"), Some("support"), None]
                .into_iter()
                .zip(strategies),
        ) {
            let mut config = json!({
                "id": queue, "name": queue, "strategy": strategy,
                "offer_timeout_ms": 20_000, "queue_when_no_agents": true,
                "max_wait_ms": 240_000,
            });
            if let Some(department) = department {
                config["department_id"] = json!(department);
            }
            if index == 0 && *queue == "general" {
                config["reroute_after_no_reply_ms"] = json!(90_000);
            }
            if index == 0 && *queue == "sales" {
                config["max_wait_ms"] = json!(120_000);
            }
            self.must(
                &admin,
                cmd(json!({ "type": "upsert_queue", "queue": config })),
            );
            model.queues.push(QueueModel {
                id: (*queue).to_owned(),
                department: department.map(str::to_owned),
                automatic: !matches!(strategy, "manual" | "external"),
            });
        }
        // Overflow from sales to general in the first tenant.
        if index == 0 {
            self.must(
                &admin,
                cmd(json!({ "type": "upsert_queue", "queue": {
                    "id": "sales", "name": "sales", "department_id": "sales",
                    "strategy": "least_active", "offer_timeout_ms": 20_000,
                    "queue_when_no_agents": true, "max_wait_ms": 120_000,
                    "overflow_queue_id": "general" } })),
            );
        }
        self.must(
            &admin,
            cmd(json!({ "type": "set_routing_rules", "rules": [
                { "name": "premium first", "priority": 1,
                  "triggers": { "visitor_type": "premium" }, "actions": { "priority": 5 } },
                { "name": "billing", "priority": 2,
                  "triggers": { "issue_type": ["billing"] },
                  "actions": { "queue": "general", "required_skills": ["billing", "de"] } },
            ] })),
        );
        let mut agents = Vec::new();
        for n in 0..12 {
            let departments: Vec<&str> = match n % 4 {
                0 => vec!["sales"],
                1 => vec!["support"],
                2 => vec!["sales", "support"],
                _ => vec![],
            };
            let skills = match n % 3 {
                0 => json!({ "billing": 7 }),
                1 => json!({ "billing": 3, "de": 9 }),
                _ => json!({}),
            };
            agents.push((
                format!("{name}-a{n}"),
                "agent",
                departments,
                skills,
                1 + n % 3,
                n % 5 == 4,
            ));
        }
        agents.push((
            format!("{name}-sup"),
            "supervisor",
            vec!["sales", "support"],
            json!({}),
            2,
            false,
        ));
        agents.push((
            format!("{name}-view"),
            "viewer",
            vec![],
            json!({}),
            1,
            false,
        ));
        for (id, role, departments, skills, max, auto_accept) in agents {
            self.tenants[index].agents.push(AgentModel {
                id: id.clone(),
                role: match role {
                    "supervisor" => Role::Supervisor,
                    "viewer" => Role::Viewer,
                    _ => Role::Agent,
                },
                departments: departments.iter().map(|d| (*d).to_owned()).collect(),
            });
            self.must(
                &admin,
                cmd(json!({ "type": "upsert_agent", "agent": {
                    "id": id, "name": id, "role": role, "departments": departments,
                    "skills": skills, "max_concurrent_chats": max, "auto_accept": auto_accept,
                    "routing_weight": 1 + (max % 3), "routing_order": max } })),
            );
        }
        for n in 0..40 {
            model.visitors.push((format!("{name}-v{n}"), n % 7 == 0));
        }
        self.must(
            &admin,
            cmd(json!({ "type": "create_canned_response", "scope": "tenant",
                        "title": "hello", "body": "Hello {{visitor.name}}, I am {{agent.name}}." })),
        );
        model.canned.push("canned_1".to_owned());
        let known = &mut self.tenants[index];
        known.queues = model.queues;
        known.visitors = model.visitors;
        known.fairness = model.fairness;
        known.canned = model.canned;
    }

    fn must(&mut self, actor: &Actor, command: Command) -> Reply {
        let name = command.name();
        self.run(actor, command)
            .unwrap_or_else(|e| panic!("setup command {name} failed: {e:?}"))
    }

    /// Applies one command, checks atomicity on error, records it, observes its outputs.
    fn run(&mut self, actor: &Actor, command: Command) -> Result<Reply, CommandError> {
        let before = self.engine.clone();
        self.inputs.push(Input::Command(
            self.now,
            actor.clone(),
            Box::new(command.clone()),
        ));
        let result = self.engine.handle(Timestamp(self.now), actor, command);
        if let Err(error) = &result {
            assert!(
                self.engine == before,
                "step {}: refused command ({error:?}) changed the engine",
                self.step
            );
        }
        self.transcript.push(
            serde_json::to_string(&result.as_ref().map_err(|e| e.code()))
                .expect("replies serialize"),
        );
        if self.restore_before_drain && self.engine.pending_outputs() > 0 {
            self.restore_before_drain = false;
            self.restore_from_snapshot();
        }
        self.observe();
        result
    }

    /// Carries on with an engine restored from a snapshot of this one; it must be equal.
    fn restore_from_snapshot(&mut self) {
        let text = self.engine.snapshot().expect("a snapshot");
        let restored = Engine::restore(&text).expect("the snapshot restores");
        assert!(
            restored == self.engine,
            "step {}: the restored engine differs",
            self.step
        );
        self.engine = restored;
        self.restores += 1;
    }

    fn advance(&mut self, ms: i64) {
        self.now += ms;
        self.inputs.push(Input::Timeout(self.now));
        self.engine.handle_timeout(Timestamp(self.now));
        self.observe();
    }

    fn tenant_index(&self, tenant: &str) -> usize {
        self.tenants
            .iter()
            .position(|t| t.id == tenant)
            .unwrap_or_else(|| panic!("output for unknown tenant {tenant}"))
    }

    /// Drains the step's outputs: checks delivery rules and updates the model.
    fn observe(&mut self) {
        let mut offered_now: Vec<(usize, String, String, String)> = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            let text = serde_json::to_string(&output).expect("outputs serialize");
            self.transcript.push(text);
            match output {
                Output::Deliver {
                    tenant_id,
                    to,
                    event,
                } => {
                    let t = self.tenant_index(&tenant_id);
                    self.check_delivery(t, &to, &event);
                    self.learn(t, &to, &event, &mut offered_now);
                }
                Output::Effect {
                    tenant_id,
                    effect_id,
                    effect,
                } => {
                    let t = self.tenant_index(&tenant_id);
                    match effect {
                        Effect::RouteRequest { candidates, .. } => {
                            for agent in &candidates {
                                assert!(
                                    agent.starts_with(&format!("{tenant_id}-")),
                                    "route candidate from another tenant"
                                );
                            }
                            self.tenants[t].route_requests.push((
                                effect_id.to_string(),
                                candidates.iter().map(|a| a.to_string()).collect(),
                            ));
                        }
                        Effect::PushNotification { agent_id, .. } => {
                            assert!(agent_id.starts_with(&format!("{tenant_id}-")));
                        }
                        _ => {}
                    }
                }
                Output::Persist { .. } => {}
            }
        }
        self.check_arrival_order(&offered_now);
    }

    fn check_delivery(&self, t: usize, to: &[Recipient], event: &Event) {
        let tenant = &self.tenants[t];
        let prefix = format!("{}-", tenant.id);
        let name = event.name();
        let event_json = serde_json::to_value(event).expect("events serialize");
        for recipient in to {
            let (id, role) = match recipient {
                Recipient::Staff { id } => (id.to_string(), tenant.agent(id).map(|a| a.role)),
                Recipient::Visitor { id } => (id.to_string(), Some(Role::Visitor)),
                Recipient::Bot { id } => (id.to_string(), Some(Role::Bot)),
            };
            assert!(
                id.starts_with(&prefix),
                "step {}: {name} for tenant {} delivered to {id}",
                self.step,
                tenant.id
            );
            assert!(
                visible_to(name, recipient, role),
                "step {}: {name} delivered to {recipient:?} ({role:?})",
                self.step
            );
            if let Recipient::Visitor { id } = recipient {
                assert!(
                    !event_json.to_string().contains("NOTE-SECRET"),
                    "step {}: an internal note reached visitor {id}",
                    self.step
                );
                if let Some(session) = event_json.get("session_id").and_then(Value::as_str)
                    && let Some(model) = tenant.sessions.get(session)
                {
                    assert_eq!(
                        &model.visitor, &**id,
                        "step {}: {name} of {session} delivered to another visitor",
                        self.step
                    );
                }
            }
        }
    }

    fn learn(
        &mut self,
        t: usize,
        to: &[Recipient],
        event: &Event,
        offered_now: &mut Vec<(usize, String, String, String)>,
    ) {
        let now = self.now;
        let model = &mut self.tenants[t];
        let staff: Vec<String> = to
            .iter()
            .filter_map(|r| match r {
                Recipient::Staff { id } => Some(id.to_string()),
                _ => None,
            })
            .collect();
        match event {
            Event::Offered { offer } => {
                let session = offer.session_id.to_string();
                match &offer.transfer_id {
                    None => {
                        let queue = offer
                            .queue_id
                            .as_ref()
                            .map(|q| q.to_string())
                            .unwrap_or_default();
                        for agent in &staff {
                            model
                                .offers
                                .entry(agent.clone())
                                .or_default()
                                .insert(session.clone());
                            offered_now.push((t, agent.clone(), session.clone(), queue.clone()));
                        }
                    }
                    Some(transfer) => {
                        let entry = model
                            .transfer_offers
                            .entry(transfer.to_string())
                            .or_insert_with(|| (session.clone(), BTreeSet::new()));
                        entry.1.extend(staff.iter().cloned());
                    }
                }
            }
            Event::OfferWithdrawn { session_id, reason } => {
                let session = session_id.to_string();
                for agent in &staff {
                    if *reason == WithdrawReason::TransferEnded {
                        for (_, (s, agents)) in model.transfer_offers.iter_mut() {
                            if *s == session {
                                agents.remove(agent);
                            }
                        }
                    } else {
                        model
                            .offers
                            .entry(agent.clone())
                            .or_default()
                            .remove(&session);
                    }
                    if matches!(reason, WithdrawReason::Timeout | WithdrawReason::Declined)
                        && let Some(s) = model.sessions.get_mut(&session)
                    {
                        s.excluded.insert(agent.clone());
                    }
                }
                model
                    .transfer_offers
                    .retain(|_, (_, agents)| !agents.is_empty());
            }
            Event::SessionAssigned { session } => {
                let id = session.session_id.to_string();
                for agent in &staff {
                    model.offers.entry(agent.clone()).or_default().remove(&id);
                    model.held.insert(id.clone(), agent.clone());
                    model
                        .assignments
                        .entry(agent.clone())
                        .or_default()
                        .push(now);
                    for (_, (s, agents)) in model.transfer_offers.iter_mut() {
                        if *s == id {
                            agents.remove(agent);
                        }
                    }
                }
                model
                    .transfer_offers
                    .retain(|_, (_, agents)| !agents.is_empty());
            }
            Event::SessionUnassigned { session_id, reason } => {
                let id = session_id.to_string();
                for agent in &staff {
                    if model.held.get(&id) == Some(agent) {
                        model.held.remove(&id);
                    }
                    if *reason == UnassignReason::NoReply
                        && let Some(s) = model.sessions.get_mut(&id)
                    {
                        s.excluded.insert(agent.clone());
                    }
                }
            }
            Event::SessionStatusChanged {
                session_id, status, ..
            } => {
                let id = session_id.to_string();
                if status_is_terminal(*status) {
                    model.sessions.remove(&id);
                    model.held.remove(&id);
                    model.transfer_offers.retain(|_, (s, _)| *s != id);
                } else if *status == SessionStatus::Resolved {
                    model.held.remove(&id);
                }
            }
            Event::TransferUpdated { transfer }
                if transfer.outcome
                    != switchboard_core::protocol::model::TransferOutcome::Pending =>
            {
                model
                    .transfer_offers
                    .remove(&transfer.transfer_id.to_string());
            }
            Event::ConversationUpdated { conversation } => {
                let id = conversation.conversation_id.to_string();
                let members = conversation
                    .member_ids
                    .iter()
                    .map(|m| m.to_string())
                    .collect();
                model.conversations.retain(|(c, _)| *c != id);
                model.conversations.push((id, members));
            }
            _ => {}
        }
    }

    /// The waiting line of every queue (sessions not currently offered), in order.
    fn waiting_lines(&mut self, t: usize) -> Vec<(usize, Vec<String>)> {
        let tenant = self.tenants[t].id.clone();
        let boss = actor(&tenant, &format!("{tenant}-admin"), Role::TenantAdmin);
        (0..self.tenants[t].queues.len())
            .map(|q| {
                let queue = self.tenants[t].queues[q].id.clone();
                let reply = self
                    .engine
                    .handle(
                        Timestamp(self.now),
                        &boss,
                        cmd(json!({ "type": "list_queue", "queue_id": queue })),
                    )
                    .expect("admins list queues");
                let Reply::Queue { entries } = reply else {
                    panic!("unexpected reply")
                };
                (
                    q,
                    entries.iter().map(|e| e.session_id.to_string()).collect(),
                )
            })
            .collect()
    }

    /// Presence and load of every staff member, as the engine reports it.
    fn agent_states(&mut self, t: usize) -> BTreeMap<String, Value> {
        let tenant = self.tenants[t].id.clone();
        let boss = actor(&tenant, &format!("{tenant}-admin"), Role::TenantAdmin);
        let ids: Vec<String> = self.tenants[t]
            .agents
            .iter()
            .map(|a| a.id.clone())
            .collect();
        ids.into_iter()
            .map(|id| {
                let reply = self
                    .engine
                    .handle(
                        Timestamp(self.now),
                        &boss,
                        cmd(json!({ "type": "get_agent", "agent_id": id })),
                    )
                    .expect("admins see agents");
                let Reply::Agent { agent } = reply else {
                    panic!("unexpected reply")
                };
                (id, serde_json::to_value(agent).expect("serializes"))
            })
            .collect()
    }

    fn eligible(
        &self,
        t: usize,
        queue: usize,
        session: &str,
        agent: &AgentModel,
        state: &Value,
    ) -> bool {
        let model = &self.tenants[t];
        let q = &model.queues[queue];
        if agent.role == Role::Viewer {
            return false;
        }
        if let Some(department) = &q.department
            && !agent.departments.contains(department)
        {
            return false;
        }
        let load = ["active_chats", "pending_offers", "wrap_up_slots"]
            .iter()
            .map(|k| state[k].as_u64().expect("numbers"))
            .sum::<u64>();
        if state["status"] != "online"
            || state["connected"] != true
            || load >= state["max_concurrent_chats"].as_u64().expect("number")
        {
            return false;
        }
        if model
            .sessions
            .get(session)
            .is_some_and(|s| s.excluded.contains(&agent.id))
        {
            return false;
        }
        if let Some((max, window)) = model.fairness {
            let recent = model.assignments.get(&agent.id).map_or(0, |times| {
                times.iter().filter(|&&at| self.now - at < window).count()
            });
            let offers = model.offers.get(&agent.id).map_or(0, BTreeSet::len);
            if recent + offers >= max {
                return false;
            }
        }
        true
    }

    /// Capacity and "nobody waits while an eligible agent is free", after every step.
    fn check_invariants(&mut self) {
        for t in 0..self.tenants.len() {
            let states = self.agent_states(t);
            for (id, state) in &states {
                let load = ["active_chats", "pending_offers", "wrap_up_slots"]
                    .iter()
                    .map(|k| state[k].as_u64().expect("numbers"))
                    .sum::<u64>();
                let max = state["max_concurrent_chats"].as_u64().expect("number");
                assert!(
                    load <= max,
                    "step {}: agent {id} over capacity: {state}",
                    self.step
                );
            }
            for (queue, line) in self.waiting_lines(t) {
                if !self.tenants[t].queues[queue].automatic {
                    continue;
                }
                for session in &line {
                    for agent in &self.tenants[t].agents {
                        assert!(
                            !self.eligible(t, queue, session, agent, &states[&agent.id]),
                            "step {}: {session} waits in {} while {} is free and eligible: {}",
                            self.step,
                            self.tenants[t].queues[queue].id,
                            agent.id,
                            states[&agent.id]
                        );
                    }
                }
            }
        }
    }

    /// A session offered in this step to an agent must not overtake an earlier session of
    /// equal priority still waiting in the same queue, unless that one excluded the agent.
    fn check_arrival_order(&mut self, offered_now: &[(usize, String, String, String)]) {
        if offered_now.is_empty() {
            return;
        }
        let mut lines: BTreeMap<usize, Vec<(usize, Vec<String>)>> = BTreeMap::new();
        for (t, agent, session, offered_queue) in offered_now {
            let line = lines.entry(*t).or_default();
            if line.is_empty() {
                *line = self.waiting_lines(*t);
            }
            let model = &self.tenants[*t];
            let Some(offered) = model.sessions.get(session) else {
                continue;
            };
            let offered_no: u64 = session[4..].parse().expect("session number");
            for (queue, waiting) in line.iter() {
                if !model.queues[*queue].automatic || model.queues[*queue].id != *offered_queue {
                    continue;
                }
                for earlier in waiting {
                    let earlier_no: u64 = earlier[4..].parse().expect("session number");
                    let Some(e) = model.sessions.get(earlier) else {
                        continue;
                    };
                    if earlier_no < offered_no
                        && e.priority == offered.priority
                        && !e.excluded.contains(agent)
                        && !waiting.contains(session)
                        && self.same_queue_offer(*t, *queue, agent)
                    {
                        let recent =
                            self.transcript[self.transcript.len().saturating_sub(40)..].join("\n");
                        panic!(
                            "step {}: {session} was offered to {agent} while earlier {earlier} \
                             (same priority, same queue) waits and does not exclude {agent}\n{recent}",
                            self.step
                        );
                    }
                }
            }
        }
    }

    /// Whether the agent serves the queue (only then can an offer in it overtake anyone).
    fn same_queue_offer(&self, t: usize, queue: usize, agent: &str) -> bool {
        let model = &self.tenants[t];
        let Some(agent) = model.agent(agent) else {
            return false;
        };
        model.queues[queue]
            .department
            .as_ref()
            .is_none_or(|d| agent.departments.contains(d))
    }

    fn random_tenant(&mut self) -> usize {
        self.rng.below(self.tenants.len())
    }

    fn chat_agents(&self, t: usize) -> Vec<AgentModel> {
        self.tenants[t]
            .agents
            .iter()
            .filter(|a| a.role != Role::Viewer)
            .cloned()
            .collect()
    }

    /// One random command (or clock advance), chosen by weight.
    fn random_step(&mut self) -> bool {
        let t = self.random_tenant();
        let tenant = self.tenants[t].id.clone();
        let roll = self.rng.below(1000);
        let staff_actor = |a: &AgentModel| actor(&tenant, &a.id, a.role);
        match roll {
            0..=119 => {
                let ms = [0, 500, 2_000, 10_000, 25_000][self.rng.below(5)];
                self.advance(ms);
                return false;
            }
            120..=219 => {
                let (visitor, premium) = self
                    .rng
                    .pick(&self.tenants[t].visitors)
                    .cloned()
                    .expect("visitors");
                let issue = if self.rng.chance(20) {
                    "billing"
                } else {
                    "general"
                };
                let department = ["sales", "support"][self.rng.below(2)];
                let mut start = json!({ "type": "start_session",
                    "visitor": { "name": visitor, "visitor_type": if premium { "premium" } else { "standard" } },
                    "department_id": department, "issue_type": issue });
                if self.rng.chance(60) {
                    start["initial_message"] = json!("Hello, I need help");
                }
                if let Ok(Reply::SessionStarted { session_id, .. }) =
                    self.run(&actor(&tenant, &visitor, Role::Visitor), cmd(start))
                {
                    // Learned from the reply; its events arrived before the model knew it.
                    self.tenants[t].sessions.insert(
                        session_id.to_string(),
                        SessionModel {
                            visitor: visitor.clone(),
                            priority: if premium { 5 } else { 0 },
                            excluded: BTreeSet::new(),
                        },
                    );
                }
            }
            220..=359 => {
                if let Some((session, visitor)) = self.random_session(t) {
                    let mut message = json!({ "type": "send_message", "session_id": session, "body": "a visitor message" });
                    if self.rng.chance(20) {
                        message["client_message_id"] = json!(format!("c{}", self.rng.below(5)));
                    }
                    let _ = self.run(&actor(&tenant, &visitor, Role::Visitor), cmd(message));
                }
            }
            360..=459 => {
                let offers: Vec<(String, String)> = self.tenants[t]
                    .offers
                    .iter()
                    .flat_map(|(a, s)| s.iter().map(move |s| (a.clone(), s.clone())))
                    .collect();
                if let Some((agent, session)) = self.rng.pick(&offers).cloned() {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let decline = self.rng.chance(20);
                    let kind = if decline {
                        "decline_offer"
                    } else {
                        "accept_offer"
                    };
                    let _ = self.run(
                        &actor(&tenant, &agent, role),
                        cmd(json!({ "type": kind, "session_id": session })),
                    );
                }
            }
            460..=579 => {
                if let Some((session, agent)) = self.random_held(t) {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let command = if self.rng.chance(10) {
                        json!({ "type": "send_canned_response", "session_id": session, "canned_response_id": "canned_1" })
                    } else {
                        json!({ "type": "send_message", "session_id": session, "body": "an agent reply", "kind": "markdown" })
                    };
                    let _ = self.run(&actor(&tenant, &agent, role), cmd(command));
                }
            }
            580..=619 => {
                if let Some((session, agent)) = self.random_held(t) {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let kind = if self.rng.chance(75) {
                        "resolve_session"
                    } else {
                        "close_session"
                    };
                    let _ = self.run(
                        &actor(&tenant, &agent, role),
                        cmd(json!({ "type": kind, "session_id": session })),
                    );
                }
            }
            620..=639 => {
                if let Some((session, visitor)) = self.random_session(t) {
                    let _ = self.run(
                        &actor(&tenant, &visitor, Role::Visitor),
                        cmd(json!({ "type": "leave_session", "session_id": session })),
                    );
                }
            }
            640..=664 => {
                if let Some((session, agent)) = self.random_held(t) {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let target = if self.rng.chance(50) {
                        let agents = self.chat_agents(t);
                        let other = self.rng.pick(&agents).expect("agents").id.clone();
                        json!({ "type": "transfer_session", "session_id": session, "to_agent_id": other, "reason": "specialist" })
                    } else {
                        let department = ["sales", "support"][self.rng.below(2)];
                        json!({ "type": "transfer_session", "session_id": session, "to_department_id": department, "reason": "department" })
                    };
                    let _ = self.run(&actor(&tenant, &agent, role), cmd(target));
                }
            }
            665..=689 => {
                let offers: Vec<(String, String)> = self.tenants[t]
                    .transfer_offers
                    .iter()
                    .flat_map(|(id, (_, agents))| {
                        agents.iter().map(move |a| (id.clone(), a.clone()))
                    })
                    .collect();
                if let Some((transfer, agent)) = self.rng.pick(&offers).cloned() {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let kind = if self.rng.chance(60) {
                        "accept_transfer"
                    } else {
                        "reject_transfer"
                    };
                    let _ = self.run(
                        &actor(&tenant, &agent, role),
                        cmd(json!({ "type": kind, "transfer_id": transfer })),
                    );
                }
            }
            690..=739 => {
                let agents = self.chat_agents(t);
                let a = self.rng.pick(&agents).expect("agents").clone();
                let status =
                    ["online", "online", "online", "away", "busy", "offline"][self.rng.below(6)];
                let _ = self.run(
                    &staff_actor(&a),
                    cmd(json!({ "type": "set_agent_status", "status": status })),
                );
            }
            740..=759 => {
                let agents = self.chat_agents(t);
                let a = self.rng.pick(&agents).expect("agents").clone();
                let kind = if self.rng.chance(50) {
                    "agent_disconnected"
                } else {
                    "agent_connected"
                };
                let _ = self.run(
                    &actor(&tenant, "host", Role::System),
                    cmd(json!({ "type": kind, "agent_id": a.id })),
                );
            }
            760..=789 => {
                if let Some((session, visitor)) = self.random_session(t) {
                    let active = self.rng.chance(60);
                    let _ = self.run(
                        &actor(&tenant, &visitor, Role::Visitor),
                        cmd(json!({ "type": "set_typing", "session_id": session, "active": active })),
                    );
                }
                if let Some((session, agent)) = self.random_held(t) {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    let _ = self.run(
                        &actor(&tenant, &agent, role),
                        cmd(json!({ "type": "mark_read", "session_id": session })),
                    );
                }
            }
            790..=819 => {
                if let Some((session, agent)) = self.random_held(t) {
                    let role = self.tenants[t].agent(&agent).expect("known").role;
                    self.note_counter += 1;
                    let note = format!("NOTE-SECRET-{}", self.note_counter);
                    let _ = self.run(
                        &actor(&tenant, &agent, role),
                        cmd(json!({ "type": "add_note", "session_id": session, "body": note })),
                    );
                    let _ = self.run(&actor(&tenant, &agent, role), cmd(json!({ "type": "add_tags", "session_id": session, "tags": ["vip", note] })));
                }
            }
            820..=834 => {
                if let Some((session, visitor)) = self.random_session(t) {
                    let rating = 1 + self.rng.below(5);
                    let _ = self.run(
                        &actor(&tenant, &visitor, Role::Visitor),
                        cmd(json!({ "type": "submit_csat", "session_id": session, "rating": rating, "comment": "ok" })),
                    );
                }
            }
            835..=859 => {
                // Manual pick from the queue, by a random agent.
                let agents = self.chat_agents(t);
                let a = self.rng.pick(&agents).expect("agents").clone();
                let line = self.waiting_lines(t);
                let sessions: Vec<String> = line.into_iter().flat_map(|(_, l)| l).collect();
                if let Some(session) = self.rng.pick(&sessions).cloned() {
                    let _ = self.run(
                        &staff_actor(&a),
                        cmd(json!({ "type": "pick_session", "session_id": session })),
                    );
                }
            }
            860..=874 => {
                if let Some((effect, candidates)) = self.tenants[t].route_requests.pop() {
                    let choice = if self.rng.chance(70) {
                        candidates.first().cloned()
                    } else {
                        None
                    };
                    let _ = self.run(
                        &actor(&tenant, "host", Role::System),
                        cmd(json!({ "type": "route_decision", "effect_id": effect, "agent_id": choice })),
                    );
                }
            }
            875..=884 => {
                // Supervisor assigns a waiting session to a random agent.
                let line = self.waiting_lines(t);
                let sessions: Vec<String> = line.into_iter().flat_map(|(_, l)| l).collect();
                let agents = self.chat_agents(t);
                if let Some(session) = self.rng.pick(&sessions).cloned() {
                    let target = self.rng.pick(&agents).expect("agents").id.clone();
                    let _ = self.run(
                        &actor(&tenant, &format!("{tenant}-sup"), Role::Supervisor),
                        cmd(json!({ "type": "assign_session", "session_id": session, "agent_id": target })),
                    );
                }
            }
            885..=914 => self.hostile_step(t),
            915..=944 => {
                let agents = self.chat_agents(t);
                let a = self.rng.pick(&agents).expect("agents").clone();
                let b = self.rng.pick(&agents).expect("agents").clone();
                if self.rng.chance(30) || self.tenants[t].conversations.is_empty() {
                    let kind = if self.rng.chance(50) {
                        "direct"
                    } else {
                        "group"
                    };
                    let _ = self.run(&staff_actor(&a), cmd(json!({ "type": "create_conversation", "kind": kind, "member_ids": [b.id], "title": "team" })));
                } else {
                    let (conversation, members) = self
                        .rng
                        .pick(&self.tenants[t].conversations)
                        .cloned()
                        .expect("some");
                    let sender = self.rng.pick(&members).cloned().expect("members");
                    let role = self.tenants[t]
                        .agent(&sender)
                        .map_or(Role::Agent, |a| a.role);
                    let _ = self.run(
                        &actor(&tenant, &sender, role),
                        cmd(json!({ "type": "send_conversation_message", "conversation_id": conversation, "body": "psst" })),
                    );
                }
            }
            _ => {
                let agents = self.chat_agents(t);
                let a = self.rng.pick(&agents).expect("agents").clone();
                let _ = self.run(&staff_actor(&a), cmd(json!({ "type": "end_wrap_up" })));
            }
        }
        true
    }

    /// Attempts that must be refused: other tenants' objects, other visitors' sessions, wrong
    /// roles, oversize input.
    fn hostile_step(&mut self, t: usize) {
        let tenant = self.tenants[t].id.clone();
        let other = self.tenants[(t + 1) % self.tenants.len()].id.clone();
        let Some((session, owner)) = self.random_session(t) else {
            return;
        };
        let intruder_visitor = format!("{tenant}-v-intruder");
        let attempts: Vec<(Actor, Value, &[&str])> = vec![
            (
                actor(&tenant, &intruder_visitor, Role::Visitor),
                json!({ "type": "send_message", "session_id": session, "body": "let me in" }),
                &["not_found"],
            ),
            (
                actor(&tenant, &intruder_visitor, Role::Visitor),
                json!({ "type": "get_session", "session_id": session }),
                &["not_found"],
            ),
            (
                actor(&other, &format!("{other}-a0"), Role::Agent),
                json!({ "type": "pick_session", "session_id": format!("ses_{}", 1_000_000 + self.rng.below(10)) }),
                &["not_found"],
            ),
            (
                actor(&tenant, &format!("{other}-a0"), Role::Agent),
                json!({ "type": "accept_offer", "session_id": session }),
                &["not_found"],
            ),
            (
                actor(&tenant, &format!("{tenant}-view"), Role::Viewer),
                json!({ "type": "send_message", "session_id": session, "body": "viewer" }),
                &["forbidden"],
            ),
            (
                actor(&tenant, &owner, Role::Visitor),
                json!({ "type": "upsert_queue", "queue": { "id": "evil" } }),
                &["forbidden"],
            ),
            (
                actor(&tenant, &owner, Role::Visitor),
                json!({ "type": "send_message", "session_id": session, "body": "x".repeat(9_000) }),
                &["too_long", "illegal_transition"],
            ),
            (
                actor(&tenant, &owner, Role::Visitor),
                json!({ "type": "submit_csat", "session_id": session, "rating": 9 }),
                &["invalid_input", "forbidden", "feature_disabled"],
            ),
            (
                actor("nowhere", "ghost", Role::TenantAdmin),
                json!({ "type": "force_logout_all" }),
                &["not_found"],
            ),
        ];
        let index = self.rng.below(attempts.len());
        let (who, command, allowed) = attempts.into_iter().nth(index).expect("index in range");
        let description = command.to_string();
        match self.run(&who, cmd(command)) {
            Ok(reply) => panic!(
                "step {}: hostile command succeeded: {description} -> {reply:?}",
                self.step
            ),
            Err(error) => assert!(
                allowed.contains(&error.code()),
                "step {}: {description} refused with {error:?}, expected one of {allowed:?}",
                self.step
            ),
        }
    }

    fn random_session(&mut self, t: usize) -> Option<(String, String)> {
        let sessions: Vec<(String, String)> = self.tenants[t]
            .sessions
            .iter()
            .map(|(id, s)| (id.clone(), s.visitor.clone()))
            .collect();
        self.rng.pick(&sessions).cloned()
    }

    fn random_held(&mut self, t: usize) -> Option<(String, String)> {
        let held: Vec<(String, String)> = self.tenants[t]
            .held
            .iter()
            .map(|(s, a)| (s.clone(), a.clone()))
            .collect();
        self.rng.pick(&held).cloned()
    }

    fn run_workload(&mut self) {
        // Bring most agents online first so the workload starts busy.
        for t in 0..self.tenants.len() {
            for agent in self.chat_agents(t) {
                let tenant = self.tenants[t].id.clone();
                let _ = self.run(
                    &actor(&tenant, &agent.id, agent.role),
                    cmd(json!({ "type": "set_agent_status", "status": "online" })),
                );
            }
        }
        let mut commands = 0;
        while commands < COMMANDS {
            self.step += 1;
            if self.random_step() {
                commands += 1;
                if commands % 20_000 == 0 {
                    self.restore_from_snapshot();
                } else if commands % 20_000 == 10_000 {
                    self.restore_before_drain = true;
                }
            }
            self.check_invariants();
        }
    }

    /// Replays the recorded inputs into a fresh engine; the transcript must match exactly.
    fn replay(&self, seed: u64) -> Vec<String> {
        let mut engine = Engine::new(EngineConfig {
            seed,
            ..Default::default()
        });
        let mut transcript = Vec::new();
        for input in &self.inputs {
            match input {
                Input::Command(now, actor, command) => {
                    let result = engine.handle(Timestamp(*now), actor, (**command).clone());
                    transcript.push(
                        serde_json::to_string(&result.as_ref().map_err(|e| e.code()))
                            .expect("serializes"),
                    );
                }
                Input::Timeout(now) => engine.handle_timeout(Timestamp(*now)),
            }
            while let Some(output) = engine.poll_output() {
                transcript.push(serde_json::to_string(&output).expect("serializes"));
            }
        }
        transcript
    }
}

#[test]
fn a_seeded_workload_keeps_every_invariant_and_replays_identically() {
    let seed = std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0001);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut sim = Sim::new(seed);
        sim.run_workload();
        let replayed = sim.replay(seed);
        assert_eq!(
            replayed.len(),
            sim.transcript.len(),
            "replay produced a different number of outputs"
        );
        for (index, (a, b)) in sim.transcript.iter().zip(&replayed).enumerate() {
            assert_eq!(a, b, "replay diverges at output {index}");
        }
        sim
    }));
    match outcome {
        Ok(sim) => {
            // The workload must actually exercise the engine, or the invariants prove nothing.
            let served = sim
                .transcript
                .iter()
                .filter(|l| l.contains("\"type\":\"session_assigned\""))
                .count();
            let transfers = sim
                .transcript
                .iter()
                .filter(|l| l.contains("\"outcome\":\"accepted\""))
                .count();
            let timeouts = sim
                .transcript
                .iter()
                .filter(|l| l.contains("\"reason\":\"timeout\""))
                .count();
            let missed = sim
                .transcript
                .iter()
                .filter(|l| l.contains("\"type\":\"leave_a_message\""))
                .count();
            eprintln!(
                "served {served}, transfers accepted {transfers}, offer timeouts {timeouts}, missed {missed}"
            );
            assert!(served > 1_000, "too few assignments: {served}");
            assert!(transfers > 10, "too few transfers: {transfers}");
            assert!(timeouts > 10, "too few offer timeouts: {timeouts}");
            assert!(missed > 0, "no session ever ran past its maximum wait");
            assert!(sim.restores >= 8, "too few restores: {}", sim.restores);
        }
        Err(panic) => {
            eprintln!("simulation failed with SIM_SEED={seed}");
            std::panic::resume_unwind(panic);
        }
    }
}
