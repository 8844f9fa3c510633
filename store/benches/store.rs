//! Durable throughput and recovery time.
//!
//! `cargo bench -p switchboard-store --bench store` runs the full sizes (a million stored
//! messages, ten thousand open sessions); `-- --smoke` runs small sizes to prove the bench
//! works. Figures are printed, never asserted.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::{Actor, Command, EngineConfig, Role, Timestamp};
use switchboard_store::{Durability, DurableEngine, OpenOptions};

const TENANT: &str = "acme";

fn command(value: serde_json::Value) -> Command {
    serde_json::from_value(value).expect("a valid command")
}

fn options(durability: Durability, snapshot_every: u64) -> OpenOptions {
    OpenOptions {
        config: EngineConfig {
            seed: 1,
            ..Default::default()
        },
        durability,
        snapshot_every,
        ..Default::default()
    }
}

/// A tenant with `agents` online agents of capacity 100 each and `sessions` accepted
/// chats, committed in groups.
fn world(store: &mut DurableEngine, agents: usize, sessions: usize) -> Vec<(String, String)> {
    let at = Timestamp(1_000);
    let admin = Actor::new(TENANT, "admin", Role::TenantAdmin);
    let setup = [
        (
            Actor::new(TENANT, "root", Role::Superadmin),
            json!({"type": "create_tenant", "settings": {}}),
        ),
        (
            admin.clone(),
            json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}),
        ),
        (
            admin.clone(),
            json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}),
        ),
    ];
    for (actor, value) in setup {
        store.handle(at, &actor, command(value)).expect("set-up");
    }
    for a in 0..agents {
        let id = format!("agent{a}");
        store
            .handle(at, &admin, command(json!({"type": "upsert_agent", "agent": {"id": id, "name": id, "departments": ["support"], "max_concurrent_chats": 100}})))
            .expect("agent");
        store
            .handle(
                at,
                &Actor::new(TENANT, &id, Role::Agent),
                command(json!({"type": "set_agent_status", "status": "online"})),
            )
            .expect("online");
    }
    store.commit().expect("commit");
    let mut chats = Vec::with_capacity(sessions);
    for s in 0..sessions {
        let visitor = format!("v{s}");
        let now = Timestamp(2_000 + s as i64);
        let reply = store
            .handle(
                now,
                &Actor::new(TENANT, &visitor, Role::Visitor),
                command(json!({"type": "start_session", "visitor": {"name": visitor}})),
            )
            .expect("start");
        let switchboard_core::Reply::SessionStarted { session_id, .. } = reply else {
            panic!("unexpected reply");
        };
        let session_id = session_id.to_string();
        let agent = format!("agent{}", s % agents);
        store
            .handle(
                now,
                &admin,
                command(
                    json!({"type": "assign_session", "session_id": session_id, "agent_id": agent}),
                ),
            )
            .expect("assign");
        chats.push((session_id, visitor));
        if s % 500 == 499 {
            store.commit().expect("commit");
        }
    }
    store.commit().expect("commit");
    chats
}

/// Appends `count` messages to the chats, `group` steps per commit. Returns messages/s.
fn append(
    store: &mut DurableEngine,
    chats: &[(String, String)],
    count: usize,
    group: usize,
    start: i64,
) -> f64 {
    let begin = Instant::now();
    for i in 0..count {
        let (session_id, visitor) = &chats[i % chats.len()];
        store
            .handle(
                Timestamp(start + i as i64),
                &Actor::new(TENANT, visitor, Role::Visitor),
                command(json!({"type": "send_message", "session_id": session_id,
                               "body": "Could you check the invoice for order 1234? The total looks wrong to me."})),
            )
            .expect("message");
        if (i + 1) % group == 0 {
            store.commit().expect("commit");
        }
    }
    store.commit().expect("commit");
    count as f64 / begin.elapsed().as_secs_f64()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let begin = Instant::now();
    let value = f();
    (value, begin.elapsed())
}

/// Bytes this process has handed to `write` and `pwrite` so far (Linux's `/proc/self/io`),
/// or `None` where that is not available.
fn bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("wchar:"))
        .and_then(|value| value.trim().parse().ok())
}

fn file_mb(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let dir = tempfile::tempdir().expect("temporary directory");

    if only.is_none_or(|o| o == "appends") {
        appends(&dir, smoke);
    }
    if only.is_none_or(|o| o == "flood") {
        flood(&dir, smoke);
    }
    if only.is_none_or(|o| o == "recovery") {
        recovery(&dir, smoke);
    }
}

fn appends(dir: &tempfile::TempDir, smoke: bool) {
    println!("== durable message appends (one 100-byte message per step)");
    let per_step = if smoke { 50 } else { 2_000 };
    let grouped = if smoke { 2_000 } else { 200_000 };
    for durability in [Durability::Full, Durability::Normal] {
        for group in [1usize, 16, 256] {
            let count = if group == 1 { per_step } else { grouped };
            let path = dir.path().join(format!("append-{durability:?}-{group}.db"));
            let (mut store, _) =
                DurableEngine::open(&path, options(durability, 100_000)).expect("open");
            let chats = world(&mut store, 10, 100);
            let rate = append(&mut store, &chats, count, group, 1_000_000);
            println!(
                "  {durability:?} sync, {group:>3} steps per commit: {rate:>9.0} messages/s ({count} messages)"
            );
        }
    }
}

/// The example server's flood at K = 200: 200 chats, groups of the size its engine loop
/// commits under that load, fsync on every commit, log checkpoints left to another thread;
/// with the records written in each commit, then with them projected every 8,192 records.
fn flood(dir: &tempfile::TempDir, smoke: bool) {
    println!("== flood: 200 chats, 128 steps per commit, Full sync, background checkpoints");
    // Enough messages that both modes restart the log (past 32 MiB) several times: with
    // fewer, whether a run's bytes include a checkpoint depends on where it ends.
    let count = if smoke { 2_000 } else { 150_000 };
    for deferred in [false, true] {
        for round in 1..=3 {
            let path = dir.path().join(format!("flood-{deferred}-{round}.db"));
            let opts = OpenOptions {
                background_wal_checkpoints: true,
                deferred_projection: deferred,
                ..options(Durability::Full, 100_000)
            };
            let (mut store, _) = DurableEngine::open(&path, opts).expect("open");
            let chats = world(&mut store, 10, 200);
            let written_before = bytes_written();
            let begin = Instant::now();
            for i in 0..count {
                let (session_id, visitor) = &chats[i % chats.len()];
                store
                    .handle(
                        Timestamp(1_000_000 + i as i64),
                        &Actor::new(TENANT, visitor, Role::Visitor),
                        command(json!({"type": "send_message", "session_id": session_id,
                                       "body": "Could you check the invoice for order 1234? The total looks wrong to me."})),
                    )
                    .expect("message");
                if (i + 1) % 128 == 0 {
                    store.commit().expect("commit");
                    if store.unprojected() >= 8_192 {
                        store.project().expect("project");
                    }
                }
            }
            store.commit().expect("commit");
            store.project().expect("project");
            let rate = count as f64 / begin.elapsed().as_secs_f64();
            // The log's file no longer shows what was written: past 32 MiB a commit
            // checkpoints it and it starts over. The process's own count of written bytes
            // holds the log pages and the checkpoints' copies into the database.
            let written = match (written_before, bytes_written()) {
                (Some(before), Some(after)) => format!(
                    "{:.1} KB written per message (log and checkpoints)",
                    (after - before) as f64 / 1e3 / count as f64
                ),
                _ => "bytes written not available here".to_owned(),
            };
            let mode = if deferred {
                "projected after"
            } else {
                "in each commit"
            };
            println!("  records {mode}, round {round}: {rate:>7.0} messages/s, {written}");
        }
    }
}

fn recovery(dir: &tempfile::TempDir, smoke: bool) {
    println!("== recovery");
    let (sessions, per_session) = if smoke { (100, 10) } else { (10_000, 100) };
    let path = dir.path().join("recovery.db");
    let (mut store, _) =
        DurableEngine::open(&path, options(Durability::Normal, u64::MAX)).expect("open");
    let chats = world(&mut store, 100, sessions);
    let (rate, built) = timed(|| {
        append(
            &mut store,
            &chats,
            sessions * per_session,
            1_000,
            10_000_000,
        )
    });
    println!(
        "  stored {} messages in {sessions} open sessions in {:.1} s ({rate:.0}/s)",
        sessions * per_session,
        built.as_secs_f64()
    );
    let (_, snapshot_time) = timed(|| store.checkpoint().expect("checkpoint"));
    let snapshot_bytes: i64 = rusqlite::Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT length(state) FROM snapshots ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("snapshot size");
    println!(
        "  snapshot: {:.1} MB written in {:.0} ms",
        snapshot_bytes as f64 / 1e6,
        snapshot_time.as_secs_f64() * 1e3
    );
    let running = store.engine().clone();
    drop(store);
    println!("  file: {:.0} MB", file_mb(&path));
    for verify in [false, true] {
        let opts = OpenOptions {
            verify,
            ..options(Durability::Normal, u64::MAX)
        };
        let ((reopened, recovery), took) =
            timed(|| DurableEngine::open(&path, opts).expect("reopen"));
        assert!(
            *reopened.engine() == running,
            "recovery rebuilt another engine"
        );
        println!(
            "  open from the snapshot (quick_check {}): {:.0} ms, {} entries replayed",
            if verify { "on" } else { "off" },
            took.as_secs_f64() * 1e3,
            recovery.replayed
        );
    }

    // The worst case between snapshots: the default interval's worth of journal to replay.
    let tail = if smoke { 1_000 } else { 100_000 };
    let (mut store, _) =
        DurableEngine::open(&path, options(Durability::Normal, u64::MAX)).expect("open");
    append(&mut store, &chats, tail, 1_000, 50_000_000);
    let running = store.engine().clone();
    drop(store);
    let opts = OpenOptions {
        verify: false,
        ..options(Durability::Normal, u64::MAX)
    };
    let ((reopened, recovery), took) = timed(|| DurableEngine::open(&path, opts).expect("reopen"));
    assert!(
        *reopened.engine() == running,
        "recovery rebuilt another engine"
    );
    println!(
        "  open from the snapshot plus {} journal entries: {:.0} ms",
        recovery.replayed,
        took.as_secs_f64() * 1e3
    );
}
