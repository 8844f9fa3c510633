//! Shared set-up for the store tests: a tenant with a queue and an online agent, actors,
//! and JSON commands.

use std::path::PathBuf;

use serde_json::{Value, json};
use switchboard_core::{Actor, Command, EngineConfig, Output, Reply, Role, Timestamp};
use switchboard_store::query::HistoryQuery;
use switchboard_store::{DurableEngine, OpenOptions, Queries, StoreError};

/// A store file in a fresh temporary directory (removed when the guard drops).
pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TempStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("switchboard.db");
        TempStore { dir, path }
    }
}

pub fn options() -> OpenOptions {
    OpenOptions {
        config: EngineConfig {
            seed: 7,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub fn open(path: &std::path::Path) -> DurableEngine {
    DurableEngine::open(path, options()).expect("store opens").0
}

pub fn admin(tenant: &str) -> Actor {
    Actor::new(tenant, "admin", Role::TenantAdmin)
}

pub fn agent(tenant: &str, id: &str) -> Actor {
    Actor::new(tenant, id, Role::Agent)
}

pub fn visitor(tenant: &str, id: &str) -> Actor {
    Actor::new(tenant, id, Role::Visitor)
}

pub fn command(value: Value) -> Command {
    serde_json::from_value(value).expect("a valid command")
}

/// Runs and commits one JSON command.
pub fn run(
    store: &mut DurableEngine,
    now: i64,
    actor: &Actor,
    value: Value,
) -> Result<(Reply, Vec<Output>), StoreError> {
    store.execute(Timestamp(now), actor, command(value))
}

/// Like [`run`], failing the test on an error.
pub fn ok(store: &mut DurableEngine, now: i64, actor: &Actor, value: Value) -> Reply {
    let name = value["type"].clone();
    run(store, now, actor, value)
        .unwrap_or_else(|error| panic!("{name} failed: {error}"))
        .0
}

/// A tenant with a "support" department and queue and the agent "alice", online.
pub fn setup_tenant(store: &mut DurableEngine, tenant: &str, now: i64) {
    let root = Actor::new(tenant, "root", Role::Superadmin);
    ok(
        store,
        now,
        &root,
        json!({"type": "create_tenant", "settings": {}}),
    );
    ok(
        store,
        now,
        &admin(tenant),
        json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}),
    );
    ok(
        store,
        now,
        &admin(tenant),
        json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}),
    );
    ok(
        store,
        now,
        &admin(tenant),
        json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": ["support"], "max_concurrent_chats": 50}}),
    );
    ok(
        store,
        now,
        &agent(tenant, "alice"),
        json!({"type": "set_agent_status", "status": "online"}),
    );
}

/// Starts a chat for `visitor_id` and has alice accept it; returns the session id.
pub fn start_chat(store: &mut DurableEngine, tenant: &str, visitor_id: &str, now: i64) -> String {
    let reply = ok(
        store,
        now,
        &visitor(tenant, visitor_id),
        json!({"type": "start_session", "department_id": "support",
               "visitor": {"name": format!("Visitor {visitor_id}"), "email": format!("{visitor_id}@{tenant}.example.com")}}),
    );
    let Reply::SessionStarted { session_id, .. } = reply else {
        panic!("unexpected reply {reply:?}");
    };
    let session_id = session_id.to_string();
    ok(
        store,
        now,
        &agent(tenant, "alice"),
        json!({"type": "accept_offer", "session_id": session_id}),
    );
    session_id
}

pub fn say(store: &mut DurableEngine, now: i64, actor: &Actor, session_id: &str, body: &str) {
    ok(
        store,
        now,
        actor,
        json!({"type": "send_message", "session_id": session_id, "body": body}),
    );
}

pub fn resolve(store: &mut DurableEngine, tenant: &str, session_id: &str, now: i64) {
    ok(
        store,
        now,
        &agent(tenant, "alice"),
        json!({"type": "resolve_session", "session_id": session_id}),
    );
}

/// The bodies of a session's messages, oldest first.
pub fn history_bodies(queries: &Queries<'_>, tenant: &str, session: &str) -> Vec<String> {
    queries
        .message_history(tenant, session, &HistoryQuery::default())
        .unwrap()
        .messages
        .iter()
        .map(|message| message.body.to_string())
        .collect()
}
