//! The commit contract: what a step produces is released only after the transaction that
//! holds it commits, and reopening rebuilds exactly the engine that was running.

use crate::support::*;
use serde_json::json;
use switchboard_core::{Output, Timestamp};
use switchboard_store::query::HistoryQuery;
use switchboard_store::{
    Durability, DurableEngine, OpenOptions, Reader, StoreError, WalCheckpointer,
};

const T: &str = "acme";

fn send_message(session: &str, body: &str) -> switchboard_core::Command {
    command(json!({"type": "send_message", "session_id": session, "body": body}))
}

#[test]
fn a_new_store_reopens_to_the_same_engine() {
    let file = TempStore::new();
    let (mut store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert!(recovery.created);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    say(&mut store, 3_000, &visitor(T, "v1"), &session, "Hello");
    say(&mut store, 4_000, &agent(T, "alice"), &session, "Hi there");
    let running = store.engine().clone();
    drop(store);

    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert!(!recovery.created);
    assert_eq!(recovery.snapshot_seq, 0);
    assert_eq!(
        recovery.replayed, 9,
        "five set-up steps, start, accept, two messages"
    );
    assert!(*store.engine() == running, "the reopened engine differs");
}

#[test]
fn nothing_is_released_or_visible_before_the_commit() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let reader = Reader::open(&file.path).unwrap();

    store
        .handle(
            Timestamp(3_000),
            &visitor(T, "v1"),
            command(json!({"type": "send_message", "session_id": session, "body": "one"})),
        )
        .unwrap();
    store
        .handle(
            Timestamp(3_001),
            &visitor(T, "v1"),
            command(json!({"type": "send_message", "session_id": session, "body": "two"})),
        )
        .unwrap();
    assert_eq!(store.staged(), 2);
    let history = reader
        .queries()
        .message_history(T, &session, &HistoryQuery::default())
        .unwrap();
    assert_eq!(history.total, 0, "staged messages are not on disk yet");

    let outputs = store.commit().unwrap();
    assert_eq!(store.staged(), 0);
    let delivered: Vec<&str> = outputs
        .iter()
        .filter_map(|output| match output {
            Output::Deliver { event, .. } => Some(event.name()),
            _ => None,
        })
        .collect();
    assert_eq!(
        delivered,
        vec!["message", "message"],
        "both steps' events, in order"
    );
    assert_eq!(
        history_bodies(&reader.queries(), T, &session),
        ["one", "two"]
    );
}

#[test]
fn a_group_commit_is_one_journal_row_and_a_refused_command_is_not_in_it() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    let rows = || -> i64 {
        raw.query_row("SELECT count(*) FROM journal", [], |row| row.get(0))
            .unwrap()
    };
    let before = rows();
    let send = |store: &mut DurableEngine, at: i64, session: &str, body: &str| {
        store.handle(
            Timestamp(at),
            &visitor(T, "v1"),
            send_message(session, body),
        )
    };
    send(&mut store, 3_000, &session, "one\ntwo").unwrap();
    assert!(
        send(&mut store, 3_001, "ses_999", "refused").is_err(),
        "no such session"
    );
    send(&mut store, 3_002, &session, "three").unwrap();
    assert_eq!(store.staged(), 2, "the refused command is not staged");
    store.commit().unwrap();
    assert_eq!(rows(), before + 1, "the group's two entries share a row");
    let running = store.engine().clone();
    drop(store);

    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert!(*store.engine() == running, "the reopened engine differs");
    assert_eq!(
        recovery.replayed, 9,
        "seven earlier steps and the two messages"
    );
    assert_eq!(
        history_bodies(&store.queries(), T, &session),
        ["one\ntwo", "three"]
    );
}

#[test]
fn a_commit_larger_than_one_journal_row_replays_whole() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let body = "x".repeat(2_000);
    for i in 0..600 {
        store
            .handle(
                Timestamp(3_000 + i),
                &visitor(T, "v1"),
                send_message(&session, &body),
            )
            .unwrap();
    }
    store.commit().unwrap();
    let running = store.engine().clone();
    drop(store);
    let rows: i64 = rusqlite::Connection::open(&file.path)
        .unwrap()
        .query_row("SELECT count(*) FROM journal", [], |row| row.get(0))
        .unwrap();
    assert!(rows >= 2 + 7, "1.2 MB of entries take two rows: {rows}");

    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert_eq!(recovery.replayed, 7 + 600);
    assert!(*store.engine() == running, "the reopened engine differs");
}

#[test]
fn a_row_that_began_before_the_snapshot_replays_only_its_later_entries() {
    // Two files with the same start. One commits three messages as one group; the other
    // commits the first two alone and then takes a snapshot. Given the first file's row,
    // which begins before its snapshot, the second must apply the third message only.
    let (grouped, split) = (TempStore::new(), TempStore::new());
    let mut sessions = Vec::new();
    for file in [&grouped, &split] {
        let mut store = open(&file.path);
        setup_tenant(&mut store, T, 1_000);
        sessions.push(start_chat(&mut store, T, "v1", 2_000));
        store.close().unwrap();
    }
    assert_eq!(sessions[0], sessions[1]);
    let session = &sessions[0];
    let messages = [(3_000, "one"), (3_001, "two"), (3_002, "three")];

    let mut store = open(&grouped.path);
    for (at, body) in messages {
        store
            .handle(
                Timestamp(at),
                &visitor(T, "v1"),
                send_message(session, body),
            )
            .unwrap();
    }
    store.commit().unwrap();
    let expected = store.engine().clone();
    drop(store);
    let (first_seq, row): (i64, String) = rusqlite::Connection::open(&grouped.path)
        .unwrap()
        .query_row(
            "SELECT seq, entry FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(row.lines().count(), 3);

    let mut store = open(&split.path);
    for (at, body) in &messages[..2] {
        store
            .execute(
                Timestamp(*at),
                &visitor(T, "v1"),
                send_message(session, body),
            )
            .unwrap();
    }
    store.checkpoint().unwrap();
    drop(store);
    rusqlite::Connection::open(&split.path)
        .unwrap()
        .execute(
            "INSERT INTO journal (seq, entry) VALUES (?1, ?2)",
            rusqlite::params![first_seq, row],
        )
        .unwrap();

    let (store, recovery) = DurableEngine::open(&split.path, options()).unwrap();
    assert_eq!(recovery.snapshot_seq, first_seq as u64 + 1);
    assert_eq!(
        recovery.replayed, 1,
        "the two entries the snapshot covers are skipped"
    );
    assert!(*store.engine() == expected, "the reopened engine differs");
}

#[test]
fn commit_into_appends_each_group_to_the_callers_buffer_in_order() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let mut buffer = Vec::new();
    for (at, body) in [(3_000, "one"), (3_001, "two")] {
        store
            .handle(
                Timestamp(at),
                &visitor(T, "v1"),
                command(json!({"type": "send_message", "session_id": session, "body": body})),
            )
            .unwrap();
        store.commit_into(&mut buffer).unwrap();
    }
    let bodies: Vec<&str> = buffer
        .iter()
        .filter_map(|output| match output {
            Output::Deliver {
                event: switchboard_core::Event::Message { message },
                ..
            } => Some(&*message.body),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        vec!["one", "two"],
        "the second group after the first"
    );
    assert_eq!(store.staged(), 0);

    buffer.clear();
    store.commit_into(&mut buffer).unwrap();
    assert!(buffer.is_empty(), "nothing staged, nothing released");
    assert!(
        store.commit().unwrap().is_empty(),
        "a group is released once, whichever way it was committed"
    );
}

#[test]
fn a_refused_command_is_not_journaled_and_changes_nothing() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let before = store.engine().clone();
    let error = run(
        &mut store,
        2_000,
        &agent(T, "alice"),
        json!({"type": "accept_offer", "session_id": "ses_99"}),
    )
    .unwrap_err();
    assert_eq!(error.code(), "not_found");
    assert_eq!(store.staged(), 0);
    assert!(*store.engine() == before);
    drop(store);
    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert_eq!(recovery.replayed, 5, "only the five set-up steps");
    assert!(*store.engine() == before);
}

#[test]
fn a_group_commit_writes_every_staged_step() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    for i in 0..50 {
        store
            .handle(
                Timestamp(3_000 + i),
                &visitor(T, "v1"),
                command(
                    json!({"type": "send_message", "session_id": session, "body": format!("m{i}")}),
                ),
            )
            .unwrap();
    }
    let outputs = store.commit().unwrap();
    let stored: Vec<String> = outputs
        .iter()
        .filter_map(|output| match output {
            Output::Persist {
                record: switchboard_core::Record::Message { message },
                ..
            } => Some(message.body.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(stored, (0..50).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let running = store.engine().clone();
    drop(store);
    let store = open(&file.path);
    assert!(*store.engine() == running);
    let page = store
        .queries()
        .message_history(
            T,
            &session,
            &HistoryQuery {
                limit: 200,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 50);
}

#[test]
fn a_failed_commit_releases_nothing_and_poisons_the_store() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let committed = store.engine().clone();

    // Another connection makes the next message insert fail, as a full disk would.
    let saboteur = rusqlite::Connection::open(&file.path).unwrap();
    saboteur
        .execute_batch(
            "CREATE TRIGGER fail BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    store
        .handle(
            Timestamp(3_000),
            &visitor(T, "v1"),
            command(json!({"type": "send_message", "session_id": session, "body": "lost?"})),
        )
        .unwrap();
    let error = store.commit().unwrap_err();
    assert_eq!(error.code(), "storage", "{error}");
    let again = store.handle(
        Timestamp(3_001),
        &visitor(T, "v1"),
        command(json!({"type": "send_message", "session_id": session, "body": "more"})),
    );
    assert!(matches!(again, Err(StoreError::Poisoned)));
    assert!(matches!(store.commit(), Err(StoreError::Poisoned)));
    drop(store);

    saboteur.execute_batch("DROP TRIGGER fail;").unwrap();
    let store = open(&file.path);
    assert!(
        *store.engine() == committed,
        "the reopened engine holds exactly the committed steps"
    );
    let page = store
        .queries()
        .message_history(T, &session, &HistoryQuery::default())
        .unwrap();
    assert!(page.messages.iter().all(|m| &*m.body != "lost?"));
}

#[test]
fn snapshots_bound_the_journal_and_recovery_uses_them() {
    let file = TempStore::new();
    let options = OpenOptions {
        snapshot_every: 10,
        ..options()
    };
    let (mut store, _) = DurableEngine::open(&file.path, options.clone()).unwrap();
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    for i in 0..30 {
        say(
            &mut store,
            3_000 + i,
            &visitor(T, "v1"),
            &session,
            &format!("m{i}"),
        );
    }
    let running = store.engine().clone();
    drop(store);
    let (store, recovery) = DurableEngine::open(&file.path, options).unwrap();
    // 37 steps: snapshots after steps 10, 20 and 30; 7 replayed.
    assert_eq!(recovery.snapshot_seq, 30);
    assert_eq!(recovery.replayed, 7);
    assert!(*store.engine() == running);
    let journal: i64 = rusqlite::Connection::open(&file.path)
        .unwrap()
        .query_row("SELECT count(*) FROM journal", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, 7, "entries folded into a snapshot are gone");
}

#[test]
fn close_writes_a_final_snapshot() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let running = store.engine().clone();
    store.close().unwrap();
    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert_eq!(recovery.replayed, 0);
    assert_eq!(recovery.snapshot_seq, 5);
    assert!(*store.engine() == running);
}

#[test]
fn timeouts_are_journaled_and_replayed() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    ok(
        &mut store,
        2_000,
        &visitor(T, "v1"),
        json!({"type": "start_session", "visitor": {"name": "V"}}),
    );
    // Fire deadlines one by one (queue updates come first) until the offer expires.
    let mut ticks = 0;
    let mut last = 0;
    loop {
        let deadline = store.poll_timeout().expect("a deadline is armed");
        let outputs = store.tick(deadline).unwrap();
        ticks += 1;
        last = deadline.0.max(last);
        if outputs.iter().any(
            |o| matches!(o, Output::Deliver { event, .. } if event.name() == "offer_withdrawn"),
        ) {
            break;
        }
        assert!(ticks < 20, "the offer never expired");
    }
    // A timeout with nothing due and no clock movement is not journaled.
    assert!(store.tick(Timestamp(last)).unwrap().is_empty());
    let running = store.engine().clone();
    drop(store);
    let (store, recovery) = DurableEngine::open(&file.path, options()).unwrap();
    assert_eq!(recovery.replayed, 6 + ticks, "set-up, start, the timeouts");
    assert!(*store.engine() == running);
}

#[test]
fn effects_stay_pending_across_restarts_until_reported_done() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    ok(
        &mut store,
        3_000,
        &visitor(T, "v1"),
        json!({"type": "email_transcript", "session_id": session}),
    );
    drop(store);
    let mut store = open(&file.path);
    let pending = store.pending_effects().unwrap();
    let transcripts: Vec<_> = pending
        .iter()
        .filter(|p| matches!(&p.effect, switchboard_core::Effect::EmailTranscript { to, .. } if to == "v1@acme.example.com"))
        .collect();
    assert_eq!(transcripts.len(), 1, "{pending:?}");
    for effect in &pending {
        store
            .effect_done(&effect.tenant_id, &effect.effect_id)
            .unwrap();
    }
    drop(store);
    let store = open(&file.path);
    assert!(store.pending_effects().unwrap().is_empty());
}

/// Writes `messages` long messages, one commit each, and returns the log's size as a
/// checkpointer finds it, and what it copied.
fn log_after_commits(background: bool, messages: i64) -> (i64, i64) {
    let file = TempStore::new();
    let options = OpenOptions {
        background_wal_checkpoints: background,
        ..options()
    };
    let (mut store, _) = DurableEngine::open(&file.path, options).unwrap();
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    let body = "x".repeat(3_000);
    for i in 0..messages {
        say(&mut store, 3_000 + i, &visitor(T, "v1"), &session, &body);
    }
    let checkpointer = WalCheckpointer::open(&file.path, Durability::Full).unwrap();
    let progress = checkpointer.checkpoint().unwrap();
    let history = Reader::open(&file.path)
        .unwrap()
        .queries()
        .message_history(T, &session, &HistoryQuery::default())
        .unwrap();
    assert_eq!(history.total, messages as u64, "every message is stored");
    (progress.logged, progress.checkpointed)
}

#[test]
fn with_background_checkpoints_commits_leave_the_log_to_the_checkpointer() {
    // 600 commits of a 3 KB message write well over SQLite's automatic threshold of 1,000
    // pages to the log.
    let (logged, checkpointed) = log_after_commits(true, 600);
    assert!(logged > 1_000, "no commit checkpointed: {logged} frames");
    assert_eq!(
        checkpointed, logged,
        "the checkpointer copied the whole log"
    );

    let (logged, _) = log_after_commits(false, 600);
    assert!(
        logged <= 1_100,
        "by default commits checkpoint past 1,000 pages: {logged} frames"
    );
}
