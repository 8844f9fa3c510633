//! Crash test: a child process appends messages, committing them in groups and printing an
//! acknowledgement after each commit; the parent kills it with SIGKILL at random points.
//! After every kill, every acknowledged message must be stored, in order, and the engine
//! rebuilt from the file must equal a fresh engine fed the same committed inputs.
//!
//! Every other run defers the records to a projection every third commit, as the example
//! server does: what a kill leaves unprojected, the reopening must project.
//!
//! Runs without the test harness: the same binary is the parent and, with `--child`, the
//! writer.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};

use serde_json::json;
use switchboard_core::protocol::model::MessageKind;
use switchboard_core::{Actor, Command, Engine, EngineConfig, Role, Timestamp};
use switchboard_store::query::HistoryQuery;
use switchboard_store::{DurableEngine, OpenOptions};

const RUNS: u64 = 24;
const TENANT: &str = "acme";
const SESSION: &str = "ses_1";
/// The writer stops on its own after this many messages if nobody kills it.
const MAX_MESSAGES: u64 = 20_000;

fn options(deferred_projection: bool) -> OpenOptions {
    OpenOptions {
        deferred_projection,
        config: EngineConfig {
            seed: 11,
            ..Default::default()
        },
        // Snapshots often, so kills also land inside checkpoints.
        snapshot_every: 40,
        ..Default::default()
    }
}

fn command(value: serde_json::Value) -> Command {
    serde_json::from_value(value).expect("a valid command")
}

/// The set-up both sides agree on: a tenant, an online agent and one accepted chat.
fn setup() -> Vec<(Timestamp, Actor, Command)> {
    let admin = Actor::new(TENANT, "admin", Role::TenantAdmin);
    let at = Timestamp(1_000);
    vec![
        (
            at,
            Actor::new(TENANT, "root", Role::Superadmin),
            command(json!({"type": "create_tenant", "settings": {}})),
        ),
        (
            at,
            admin.clone(),
            command(
                json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}),
            ),
        ),
        (
            at,
            admin.clone(),
            command(
                json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}),
            ),
        ),
        (
            at,
            admin,
            command(
                json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": ["support"]}}),
            ),
        ),
        (
            at,
            Actor::new(TENANT, "alice", Role::Agent),
            command(json!({"type": "set_agent_status", "status": "online"})),
        ),
        (
            Timestamp(2_000),
            Actor::new(TENANT, "v1", Role::Visitor),
            command(json!({"type": "start_session", "visitor": {"name": "V"}})),
        ),
        (
            Timestamp(2_000),
            Actor::new(TENANT, "alice", Role::Agent),
            command(json!({"type": "accept_offer", "session_id": SESSION})),
        ),
    ]
}

/// Message `i` of the stream: both sides take turns.
fn message(i: u64) -> (Timestamp, Actor, Command) {
    let actor = if i.is_multiple_of(2) {
        Actor::new(TENANT, "v1", Role::Visitor)
    } else {
        Actor::new(TENANT, "alice", Role::Agent)
    };
    (
        Timestamp(10_000 + i as i64),
        actor,
        command(
            json!({"type": "send_message", "session_id": SESSION, "body": format!("message {i}")}),
        ),
    )
}

fn child(path: &str, seed: u64, deferred: bool) {
    let (mut store, recovery) = DurableEngine::open(path, options(deferred)).expect("open");
    assert!(recovery.created);
    for (now, actor, command) in setup() {
        store.execute(now, &actor, command).expect("set-up step");
    }
    let mut rng = seed | 1;
    let mut stdout = std::io::stdout().lock();
    let mut i = 0;
    let mut commits = 0u64;
    while i < MAX_MESSAGES {
        // Groups of 1 to 8 steps share one commit, as a busy server's would.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let group = 1 + rng % 8;
        for _ in 0..group {
            let (now, actor, command) = message(i);
            store
                .handle(now, &actor, command)
                .expect("message accepted");
            i += 1;
        }
        store.commit().expect("commit");
        commits += 1;
        if commits.is_multiple_of(3) {
            store.project().expect("project");
        }
        writeln!(stdout, "ack {}", i - 1).expect("stdout");
        stdout.flush().expect("stdout");
    }
}

fn parent() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for run in 0..RUNS {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let kill_after = 1 + (rng >> 33) % 150;
        let deferred = run % 2 == 1;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("crash.db");
        let mut child = Process::new(&exe)
            .args([
                "--child",
                path.to_str().expect("utf-8 path"),
                &rng.to_string(),
                if deferred { "deferred" } else { "immediate" },
            ])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut acknowledged: Option<u64> = None;
        let mut acks = 0;
        while acks < kill_after {
            let Some(line) = lines.next() else { break };
            let line = line.map_err(|e| e.to_string())?;
            acknowledged = line.strip_prefix("ack ").and_then(|n| n.parse().ok());
            acks += 1;
        }
        child.kill().map_err(|e| e.to_string())?; // SIGKILL
        // Acknowledgements already in the pipe count too: they were printed after commit.
        for line in lines {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse().ok()) {
                acknowledged = Some(n);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let acknowledged =
            acknowledged.ok_or_else(|| format!("run {run}: the writer acknowledged nothing"))?;

        let (store, _) = DurableEngine::open(
            &path,
            OpenOptions {
                create: false,
                ..options(deferred)
            },
        )
        .map_err(|e| format!("run {run}: reopening failed: {e}"))?;
        let mut stored = Vec::new();
        // From the first message on, a page at a time.
        let mut cursor = Some("0".to_owned());
        loop {
            let page = store
                .queries()
                .message_history(
                    TENANT,
                    SESSION,
                    &HistoryQuery {
                        after: cursor,
                        limit: 200,
                        ..Default::default()
                    },
                )
                .map_err(|e| format!("run {run}: history: {e}"))?;
            stored.extend(
                page.messages
                    .iter()
                    .filter(|m| m.kind != MessageKind::System)
                    .map(|m| m.body.to_string()),
            );
            match page.newer {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let committed = stored.len() as u64;
        if committed < acknowledged + 1 {
            return Err(format!(
                "run {run}: {committed} messages stored but {} acknowledged",
                acknowledged + 1
            ));
        }
        for (i, body) in stored.iter().enumerate() {
            if *body != format!("message {i}") {
                return Err(format!("run {run}: message {i} is {body:?}"));
            }
        }
        let mut replay = Engine::new(options(deferred).config);
        for (now, actor, command) in setup().into_iter().chain((0..committed).map(message)) {
            replay
                .handle(now, &actor, command)
                .map_err(|e| e.to_string())?;
            while replay.poll_output().is_some() {}
        }
        if *store.engine() != replay {
            return Err(format!(
                "run {run}: the rebuilt engine differs from a replay"
            ));
        }
        println!(
            "run {run:2}{}: killed after {acks} acks ({status}); {} acknowledged, {committed} committed, all present",
            if deferred { " (deferred)" } else { "" },
            acknowledged + 1
        );
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
        child(
            &args[2],
            seed,
            args.get(4).map(String::as_str) == Some("deferred"),
        );
        return;
    }
    // Listing tests (`cargo test -- --list`) must not run the crash runs.
    if args.iter().any(|a| a == "--list") {
        println!("crash: test");
        return;
    }
    match parent() {
        Ok(()) => println!("crash test: {RUNS} SIGKILL runs, no acknowledged message lost"),
        Err(error) => {
            eprintln!("crash test failed: {error}");
            std::process::exit(1);
        }
    }
}
