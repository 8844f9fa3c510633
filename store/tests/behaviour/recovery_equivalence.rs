//! Any sequence of engine steps, committed in any grouping, snapshotted at any point,
//! reopened or crashed at any point, gives the same live state as an engine that never
//! stopped, and read tables that hold every committed record exactly once, whether each
//! commit writes its records or a later projection does.

use crate::support;

use crate::support::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_core::{Actor, Engine, Output, Reply, Role, Timestamp};
use switchboard_store::{DurableEngine, OpenOptions};

const TENANTS: [&str; 2] = ["acme", "globex"];
const AGENTS: [&str; 2] = ["alice", "bob"];
const VISITORS: [&str; 3] = ["v1", "v2", "v3"];
const STATUSES: [&str; 5] = ["online", "online", "online", "away", "offline"];
const TICKET_STATUSES: [&str; 4] = ["in_progress", "pending", "resolved", "closed"];

#[derive(Debug, Clone)]
enum Op {
    /// A command built from (kind, a, b).
    Command(u8, u8, u8),
    /// Time passes by this many seconds and the host fires what is due.
    Tick(u16),
    Commit,
    Checkpoint,
    /// Bring the read tables up to date (a no-op when every commit writes its records).
    Project,
    /// Commit, close the file and open it again, with records deferred or not.
    Reopen(bool),
    /// Drop the store without committing, as a crash would, and open it again with
    /// records deferred or not.
    Crash(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0u8..14, any::<u8>(), any::<u8>()).prop_map(|(k, a, b)| Op::Command(k, a, b)),
        3 => (0u16..120).prop_map(Op::Tick),
        3 => Just(Op::Commit),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Project),
        1 => any::<bool>().prop_map(Op::Reopen),
        1 => any::<bool>().prop_map(Op::Crash),
    ]
}

/// A plausible command in a small world; many are refused, which is part of the test.
fn command_for(kind: u8, a: u8, b: u8) -> (Actor, Value) {
    let tenant = TENANTS[(a as usize) % 2];
    let agent_id = AGENTS[(b as usize) % 2];
    let visitor_id = VISITORS[(b as usize) % 3];
    let session = format!("ses_{}", 1 + (a as usize / 2) % 4);
    match kind {
        0 | 1 => (
            visitor(tenant, visitor_id),
            json!({"type": "start_session", "visitor": {"name": visitor_id, "email": format!("{visitor_id}@example.com")}}),
        ),
        2 | 3 => (
            agent(tenant, agent_id),
            json!({"type": "accept_offer", "session_id": session}),
        ),
        4 => (
            agent(tenant, agent_id),
            json!({"type": "set_agent_status", "status": STATUSES[(a as usize) % 5]}),
        ),
        5 | 6 => (
            visitor(tenant, visitor_id),
            json!({"type": "send_message", "session_id": session, "body": format!("hello {b}")}),
        ),
        7 => (
            agent(tenant, agent_id),
            json!({"type": "send_message", "session_id": session, "body": format!("reply {b}")}),
        ),
        8 => (
            agent(tenant, agent_id),
            json!({"type": "resolve_session", "session_id": session}),
        ),
        9 => (
            agent(tenant, agent_id),
            json!({"type": "transfer_session", "session_id": session,
                   "to_agent_id": AGENTS[(b as usize + 1) % 2], "reason": "shift ends"}),
        ),
        10 => (
            agent(tenant, agent_id),
            json!({"type": "accept_transfer", "transfer_id": format!("trf_{}", 1 + a % 3)}),
        ),
        11 => (
            agent(tenant, agent_id),
            json!({"type": "add_note", "session_id": session, "body": format!("note {b}")}),
        ),
        12 => (
            visitor(tenant, visitor_id),
            json!({"type": "create_ticket", "subject": format!("help {b}"), "description": "it broke"}),
        ),
        _ => (
            agent(tenant, agent_id),
            json!({"type": "set_ticket_status", "ticket_id": format!("tkt_{}", 1 + a % 3),
                   "status": TICKET_STATUSES[(b as usize) % 4]}),
        ),
    }
}

/// The visitor (for a visitor actor) or the agent holding `session`, looked up in a copy
/// of the in-memory engine so the lookup changes nothing.
fn holder(shadow: &Engine, actor: &Actor, session: &str, role: Role) -> Option<Actor> {
    let mut copy = shadow.clone();
    let host = Actor::new(&actor.tenant_id, "admin", Role::TenantAdmin);
    let reply = copy
        .handle(
            copy.now(),
            &host,
            command(json!({"type": "get_session", "session_id": session})),
        )
        .ok()?;
    let Reply::Session { session } = reply else {
        return None;
    };
    match role {
        Role::Visitor => Some(Actor::new(
            &actor.tenant_id,
            session.visitor_id.as_str(),
            role,
        )),
        _ => session
            .agent_id
            .map(|agent| Actor::new(&actor.tenant_id, agent.as_str(), role)),
    }
}

/// Counts the message records and distinct tickets among released outputs.
fn tally(
    released: &[Output],
    messages: &mut usize,
    tickets: &mut std::collections::BTreeSet<(String, String)>,
) {
    for output in released {
        if let Output::Persist { tenant_id, record } = output {
            match record {
                switchboard_core::Record::Message { .. } => *messages += 1,
                switchboard_core::Record::Ticket { ticket } => {
                    tickets.insert((tenant_id.to_string(), ticket.ticket_id.to_string()));
                }
                _ => {}
            }
        }
    }
}

fn options(deferred_projection: bool) -> OpenOptions {
    OpenOptions {
        snapshot_every: 7,
        verify: false,
        deferred_projection,
        ..support::options()
    }
}

fn stored_messages(path: &std::path::Path) -> usize {
    let raw = rusqlite::Connection::open(path).unwrap();
    let stored: i64 = raw
        .query_row("SELECT count(*) FROM messages", [], |row| row.get(0))
        .unwrap();
    stored as usize
}

fn setup(store: &mut DurableEngine, shadow: &mut Engine) {
    for tenant in TENANTS {
        setup_tenant(store, tenant, 1_000);
        ok(
            store,
            1_000,
            &admin(tenant),
            json!({"type": "upsert_agent", "agent": {"id": "bob", "name": "Bob", "departments": ["support"], "auto_accept": true}}),
        );
        ok(
            store,
            1_000,
            &agent(tenant, "bob"),
            json!({"type": "set_agent_status", "status": "online"}),
        );
    }
    *shadow = store.engine().clone();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn persisted_and_reopened_equals_in_memory(
        ops in prop::collection::vec(op(), 1..120),
        first_deferred in any::<bool>(),
    ) {
        let mut deferred = first_deferred;
        let options = |deferred| options(deferred);
        let file = TempStore::new();
        let (mut store, _) = DurableEngine::open(&file.path, options(deferred)).unwrap();
        let mut shadow = Engine::new(options(deferred).config);
        setup(&mut store, &mut shadow);
        let mut committed = shadow.clone();
        let mut now = 2_000i64;
        let mut expected: Vec<Output> = Vec::new();
        // Records released by commits, which the read tables must hold exactly.
        let mut committed_messages = 0usize;
        let mut committed_tickets = std::collections::BTreeSet::new();

        for op in ops {
            match op {
                Op::Command(kind, a, b) => {
                    now += 10;
                    let (actor, value) = command_for(kind, a, b);
                    // Most session commands come from the session's own visitor or agent,
                    // so that they are accepted more often than not.
                    let actor = match value.get("session_id").and_then(|v| v.as_str()) {
                        Some(session) if b % 4 != 0 => {
                            holder(&shadow, &actor, session, actor.role).unwrap_or(actor)
                        }
                        _ => actor,
                    };
                    let result = store.handle(Timestamp(now), &actor, command(value.clone()));
                    let shadow_result = shadow.handle(Timestamp(now), &actor, command(value));
                    prop_assert_eq!(result.is_ok(), shadow_result.is_ok());
                    if let (Ok(reply), Ok(shadow_reply)) = (result, shadow_result) {
                        prop_assert_eq!(reply, shadow_reply);
                    }
                    expected.extend(std::iter::from_fn(|| shadow.poll_output()));
                }
                Op::Tick(seconds) => {
                    now += i64::from(seconds) * 1_000;
                    store.handle_timeout(Timestamp(now)).unwrap();
                    shadow.handle_timeout(Timestamp(now));
                    expected.extend(std::iter::from_fn(|| shadow.poll_output()));
                }
                Op::Commit => {
                    let released = store.commit().unwrap();
                    prop_assert!(released == expected, "commit released other outputs");
                    tally(&released, &mut committed_messages, &mut committed_tickets);
                    expected.clear();
                    committed = shadow.clone();
                }
                Op::Checkpoint => {
                    let released = store.commit().unwrap();
                    prop_assert!(released == expected);
                    tally(&released, &mut committed_messages, &mut committed_tickets);
                    expected.clear();
                    committed = shadow.clone();
                    store.checkpoint().unwrap();
                }
                Op::Project => {
                    store.project().unwrap();
                    prop_assert_eq!(store.unprojected(), 0);
                    prop_assert_eq!(
                        stored_messages(&file.path),
                        committed_messages,
                        "after a projection the tables hold every committed message once"
                    );
                }
                Op::Reopen(next) => {
                    deferred = next;
                    let released = store.commit().unwrap();
                    tally(&released, &mut committed_messages, &mut committed_tickets);
                    expected.clear();
                    committed = shadow.clone();
                    drop(store);
                    store = DurableEngine::open(&file.path, options(deferred)).unwrap().0;
                    prop_assert!(*store.engine() == shadow, "reopened engine differs");
                }
                Op::Crash(next) => {
                    deferred = next;
                    drop(store);
                    store = DurableEngine::open(&file.path, options(deferred)).unwrap().0;
                    prop_assert!(*store.engine() == committed, "recovered engine differs from the committed one");
                    shadow = committed.clone();
                    // The shadow's clock may be ahead of what was committed; so is the host's.
                    expected.clear();
                }
            }
        }
        let released = store.commit().unwrap();
        tally(&released, &mut committed_messages, &mut committed_tickets);
        drop(store);
        let store = DurableEngine::open(&file.path, options(deferred)).unwrap().0;
        prop_assert!(*store.engine() == shadow);
        prop_assert_eq!(stored_messages(&file.path), committed_messages, "messages in the read table");
        let raw = rusqlite::Connection::open(&file.path).unwrap();
        let tickets: i64 = raw.query_row("SELECT count(*) FROM tickets", [], |row| row.get(0)).unwrap();
        prop_assert_eq!(tickets as usize, committed_tickets.len(), "tickets in the read table");
    }
}
