//! Shared test harness: a tenant with departments, queues and agents, actors, and helpers
//! that drain and inspect outputs.

use serde_json::{Value, json};
use switchboard_core::protocol::model::{
    AgentProfile, AgentStatus, Department, QueueConfig, TenantSettings,
};
use switchboard_core::{
    Actor, Command, CommandError, Engine, EngineConfig, Event, Output, Recipient, Reply, Role,
    Timestamp,
};

pub const TENANT: &str = "acme";

/// An engine plus a virtual clock and everything it has output so far.
pub struct Harness {
    pub engine: Engine,
    pub now: i64,
    pub outputs: Vec<Output>,
}

pub fn admin() -> Actor {
    Actor::new(TENANT, "admin", Role::TenantAdmin)
}

pub fn agent(id: &str) -> Actor {
    Actor::new(TENANT, id, Role::Agent)
}

pub fn supervisor(id: &str) -> Actor {
    Actor::new(TENANT, id, Role::Supervisor)
}

pub fn visitor(id: &str) -> Actor {
    Actor::new(TENANT, id, Role::Visitor)
}

pub fn system() -> Actor {
    Actor::new(TENANT, "host", Role::System)
}

/// An agent profile from JSON overrides on top of sensible defaults.
pub fn profile(id: &str, overrides: Value) -> AgentProfile {
    let mut base = json!({ "id": id, "name": format!("Agent {id}") });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).expect("valid agent profile")
}

/// A queue config from JSON overrides.
pub fn queue(id: &str, overrides: Value) -> QueueConfig {
    let mut base = json!({ "id": id, "name": id });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).expect("valid queue")
}

impl Harness {
    /// A tenant "acme" with a "support" department and a "support" queue (least active,
    /// 30 s offers), no agents yet.
    pub fn new() -> Self {
        Self::with_settings(TenantSettings::default())
    }

    pub fn with_settings(settings: TenantSettings) -> Self {
        let mut harness = Harness {
            engine: Engine::new(EngineConfig {
                seed: 7,
                ..Default::default()
            }),
            now: 1_000_000,
            outputs: Vec::new(),
        };
        let root = Actor::new(TENANT, "root", Role::Superadmin);
        harness.ok(&root, Command::CreateTenant { settings });
        harness.ok(
            &admin(),
            Command::UpsertDepartment {
                department: Department {
                    id: "support".into(),
                    name: "Support".into(),
                    calendar_id: None,
                },
            },
        );
        harness.ok(
            &admin(),
            Command::UpsertQueue {
                queue: queue("support", json!({ "department_id": "support" })),
            },
        );
        harness.clear();
        harness
    }

    pub fn try_cmd(&mut self, actor: &Actor, command: Command) -> Result<Reply, CommandError> {
        let result = self.engine.handle(Timestamp(self.now), actor, command);
        self.drain();
        result
    }

    pub fn ok(&mut self, actor: &Actor, command: Command) -> Reply {
        let name = command.name();
        self.try_cmd(actor, command)
            .unwrap_or_else(|e| panic!("{name} failed: {e:?}"))
    }

    pub fn err(&mut self, actor: &Actor, command: Command) -> CommandError {
        let before = self.engine.clone();
        let name = command.name();
        let error = self
            .try_cmd(actor, command)
            .expect_err(&format!("{name} should have failed"));
        assert!(
            before == self.engine,
            "{name} failed with {error:?} but changed the engine"
        );
        error
    }

    pub fn drain(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            self.outputs.push(output);
        }
    }

    pub fn clear(&mut self) {
        self.drain();
        self.outputs.clear();
    }

    /// Moves the clock and fires whatever is due.
    pub fn advance(&mut self, ms: i64) {
        self.now += ms;
        self.engine.handle_timeout(Timestamp(self.now));
        self.drain();
    }

    pub fn add_agent(&mut self, id: &str, overrides: Value) {
        self.ok(
            &admin(),
            Command::UpsertAgent {
                agent: profile(id, overrides),
            },
        );
    }

    pub fn online(&mut self, id: &str) {
        self.ok(
            &agent(id),
            Command::SetAgentStatus {
                status: AgentStatus::Online,
                agent_id: None,
            },
        );
    }

    pub fn online_agent(&mut self, id: &str, overrides: Value) {
        let mut overrides = overrides;
        if overrides.get("departments").is_none() {
            overrides["departments"] = json!(["support"]);
        }
        self.add_agent(id, overrides);
        self.online(id);
    }

    /// Starts a session for `visitor_id` and returns its id.
    pub fn start(&mut self, visitor_id: &str, extra: Value) -> String {
        let mut command = json!({ "type": "start_session", "visitor": { "name": visitor_id } });
        if let (Some(c), Some(extra)) = (command.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                c.insert(k.clone(), v.clone());
            }
        }
        let command: Command = serde_json::from_value(command).expect("valid start_session");
        match self.ok(&visitor(visitor_id), command) {
            Reply::SessionStarted { session_id, .. } => session_id.to_string(),
            other => panic!("unexpected reply {other:?}"),
        }
    }

    pub fn cmd_json(&mut self, actor: &Actor, command: Value) -> Result<Reply, CommandError> {
        let command: Command = serde_json::from_value(command).expect("valid command JSON");
        self.try_cmd(actor, command)
    }

    /// Events delivered to a recipient, in order.
    pub fn events_for(&self, recipient: &Recipient) -> Vec<&Event> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Deliver { to, event, .. } if to.contains(recipient) => Some(event),
                _ => None,
            })
            .collect()
    }

    /// Wire names of the events delivered to a recipient.
    pub fn event_names_for(&self, recipient: &Recipient) -> Vec<&'static str> {
        self.events_for(recipient)
            .iter()
            .map(|e| e.name())
            .collect()
    }

    /// The session's status as its visitor's `get_session` reports it.
    pub fn status(&mut self, visitor_id: &str, session: &str) -> String {
        let reply = self
            .cmd_json(
                &visitor(visitor_id),
                json!({ "type": "get_session", "session_id": session }),
            )
            .expect("session visible to its visitor");
        match reply {
            Reply::Session { session } => session.status.as_str().to_owned(),
            other => panic!("unexpected reply {other:?}"),
        }
    }

    /// The session as a supervisor sees it (JSON), or `None` once it has left memory.
    pub fn session_json(&mut self, session: &str) -> Option<Value> {
        let boss = Actor::new(TENANT, "boss", Role::Supervisor);
        match self.cmd_json(
            &boss,
            json!({ "type": "get_session", "session_id": session }),
        ) {
            Ok(Reply::Session { session }) => Some(serde_json::to_value(session).unwrap()),
            Err(CommandError::NotFound { .. }) => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn agent_json(&mut self, id: &str) -> Value {
        match self.cmd_json(&admin(), json!({ "type": "get_agent", "agent_id": id })) {
            Ok(Reply::Agent { agent }) => serde_json::to_value(agent).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Offers delivered to an agent since the last clear, as session ids.
    pub fn offers_to(&self, agent_id: &str) -> Vec<String> {
        self.events_for(&staff(agent_id))
            .into_iter()
            .filter_map(|e| match e {
                Event::Offered { offer } if offer.transfer_id.is_none() => {
                    Some(offer.session_id.to_string())
                }
                _ => None,
            })
            .collect()
    }
}

pub fn staff(id: &str) -> Recipient {
    Recipient::Staff { id: id.into() }
}

pub fn visitor_r(id: &str) -> Recipient {
    Recipient::Visitor { id: id.into() }
}

/// A small deterministic generator (splitmix64), so a seeded workload depends on the seed
/// only.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}
