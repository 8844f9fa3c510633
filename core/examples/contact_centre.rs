//! A small contact centre on a virtual clock: three agents in two departments, eight
//! visitors arriving over a few minutes, offers that time out, a decline, a transfer, an
//! internal note and a rating. Every output the engine emits is printed, so this is also a
//! readable tour of the protocol.
//!
//! Run with `cargo run -p switchboard-core --example contact_centre`.

use serde_json::{Value, json};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Output, Reply, Role, Timestamp};

const TENANT: &str = "demo.localhost";

struct Centre {
    engine: Engine,
    start: i64,
    now: i64,
}

impl Centre {
    fn clock(&self) -> String {
        let elapsed = self.now - self.start;
        format!(
            "{:02}:{:02}.{:03}",
            elapsed / 60_000,
            elapsed / 1000 % 60,
            elapsed % 1000
        )
    }

    fn send(&mut self, actor: &Actor, command: Value) -> Option<Reply> {
        let command: Command = serde_json::from_value(command).expect("example commands are valid");
        let name = command.name();
        let result = self.engine.handle(Timestamp(self.now), actor, command);
        match &result {
            Ok(reply) => println!(
                "[{}] {} {} -> {}",
                self.clock(),
                actor.id,
                name,
                serde_json::to_string(reply).expect("replies serialize")
            ),
            Err(error) => println!(
                "[{}] {} {} -> refused: {error}",
                self.clock(),
                actor.id,
                name
            ),
        }
        self.drain();
        result.ok()
    }

    fn drain(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Deliver { to, event, .. } => {
                    let to: Vec<String> = to
                        .iter()
                        .map(|r| match serde_json::to_value(r).expect("serializes") {
                            Value::Object(map) => format!(
                                "{}:{}",
                                map["kind"].as_str().unwrap_or_default(),
                                map["id"].as_str().unwrap_or_default()
                            ),
                            other => other.to_string(),
                        })
                        .collect();
                    let mut body = serde_json::to_value(&event).expect("serializes");
                    let kind = body["type"].as_str().unwrap_or_default().to_owned();
                    if let Value::Object(map) = &mut body {
                        map.remove("type");
                    }
                    println!("           => {kind} to {}: {body}", to.join(", "));
                }
                Output::Effect { effect, .. } => {
                    println!(
                        "           => effect {}",
                        serde_json::to_string(&effect).expect("serializes")
                    );
                }
                // Records go to the host's store; the tour skips them to stay readable.
                Output::Persist { .. } => {}
            }
        }
    }

    /// Moves the clock, firing deadlines as a host would.
    fn wait(&mut self, ms: i64) {
        let target = self.now + ms;
        while let Some(at) = self.engine.poll_timeout() {
            if at.as_millis() > target {
                break;
            }
            self.now = self.now.max(at.as_millis());
            println!("[{}] (deadline)", self.clock());
            self.engine.handle_timeout(Timestamp(self.now));
            self.drain();
        }
        self.now = target;
    }
}

fn main() {
    let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let mut centre = Centre {
        engine: Engine::new(EngineConfig::default()),
        start,
        now: start,
    };
    let root = Actor::new(TENANT, "root", Role::Superadmin);
    let admin = Actor::new(TENANT, "admin@demo.localhost", Role::TenantAdmin);
    let agent = |id: &str| Actor::new(TENANT, id, Role::Agent);
    let visitor = |id: &str| Actor::new(TENANT, id, Role::Visitor);

    println!("== set-up");
    centre.send(
        &root,
        json!({"type": "create_tenant", "settings": {"name": "Demo",
        "timing": {"position_update_interval_ms": 1000}}}),
    );
    for (id, name) in [("sales", "Sales"), ("support", "Support")] {
        centre.send(
            &admin,
            json!({"type": "upsert_department", "department": {"id": id, "name": name}}),
        );
        centre.send(
            &admin,
            json!({"type": "upsert_queue", "queue": {"id": id, "name": name,
            "department_id": id, "offer_timeout_ms": 20000, "queue_when_no_agents": true}}),
        );
    }
    for (id, name, departments, max) in [
        ("ana", "Ana", json!(["sales"]), 2),
        ("ben", "Ben", json!(["support"]), 1),
        ("cho", "Cho", json!(["support", "sales"]), 2),
    ] {
        centre.send(
            &admin,
            json!({"type": "upsert_agent", "agent": {"id": id, "name": name,
            "departments": departments, "max_concurrent_chats": max}}),
        );
    }
    centre.send(
        &admin,
        json!({"type": "create_canned_response", "scope": "tenant", "title": "greeting",
        "body": "Hi {{visitor.name}}, this is {{agent.name}}. How can I help?"}),
    );

    println!("\n== agents log in");
    for id in ["ana", "ben"] {
        centre.send(
            &agent(id),
            json!({"type": "set_agent_status", "status": "online"}),
        );
    }

    println!("\n== the first visitors arrive");
    let mut sessions = Vec::new();
    for (n, department) in ["support", "support", "sales"].iter().enumerate() {
        let id = format!("visitor-{}", n + 1);
        let reply = centre.send(&visitor(&id), json!({"type": "start_session", "department_id": department,
            "visitor": {"name": format!("Guest {}", n + 1)}, "initial_message": "Hello, I have a question"}));
        if let Some(Reply::SessionStarted { session_id, .. }) = reply {
            sessions.push((id, session_id.to_string()));
        }
        centre.wait(5_000);
    }

    println!("\n== ben answers with a canned response; ana lets her offer time out");
    centre.send(
        &agent("ben"),
        json!({"type": "accept_offer", "session_id": sessions[0].1}),
    );
    centre.send(&agent("ben"), json!({"type": "send_canned_response", "session_id": sessions[0].1, "canned_response_id": "canned_1"}));
    centre.send(
        &visitor(&sessions[0].0),
        json!({"type": "set_typing", "session_id": sessions[0].1, "active": true}),
    );
    centre.send(&visitor(&sessions[0].0), json!({"type": "send_message", "session_id": sessions[0].1, "body": "My invoice is wrong."}));
    centre.send(&agent("ben"), json!({"type": "add_note", "session_id": sessions[0].1, "body": "Second complaint this month"}));
    centre.wait(20_000);

    println!("\n== cho logs in and the backlog drains at once");
    centre.send(
        &agent("cho"),
        json!({"type": "set_agent_status", "status": "online"}),
    );
    centre.send(
        &agent("cho"),
        json!({"type": "decline_offer", "session_id": sessions[1].1}),
    );
    centre.send(
        &agent("ana"),
        json!({"type": "set_agent_status", "status": "online"}),
    );
    centre.wait(5_000);

    println!("\n== ben transfers the billing question to sales");
    let transfer = centre.send(
        &agent("ben"),
        json!({"type": "transfer_session", "session_id": sessions[0].1,
        "to_department_id": "sales", "reason": "billing dispute"}),
    );
    if let Some(Reply::TransferRequested { transfer_id }) = transfer {
        centre.send(
            &agent("ana"),
            json!({"type": "accept_transfer", "transfer_id": transfer_id.to_string()}),
        );
    }

    println!("\n== the chat ends with a rating");
    centre.send(
        &agent("ana"),
        json!({"type": "resolve_session", "session_id": sessions[0].1}),
    );
    centre.send(&visitor(&sessions[0].0), json!({"type": "submit_csat", "session_id": sessions[0].1, "rating": 5, "comment": "Quick and kind"}));
    centre.wait(60_000);
}
