//! Deferred projection: commits write the journal, and the read tables follow when the host
//! projects, before a snapshot, or at recovery after a crash. Never twice, never lost.

use crate::support::*;
use switchboard_core::Output;
use switchboard_store::query::HistoryQuery;
use switchboard_store::{DurableEngine, OpenOptions, Reader};

const T: &str = "acme";

fn deferred() -> OpenOptions {
    OpenOptions {
        deferred_projection: true,
        ..options()
    }
}

/// A store with a tenant and v1's chat with alice.
fn chat_with(options: OpenOptions) -> (TempStore, DurableEngine, String) {
    let file = TempStore::new();
    let (mut store, _) = DurableEngine::open(&file.path, options).unwrap();
    setup_tenant(&mut store, T, 1_000);
    let session = start_chat(&mut store, T, "v1", 2_000);
    (file, store, session)
}

fn bodies(path: &std::path::Path, session: &str) -> Vec<String> {
    history_bodies(&Reader::open(path).unwrap().queries(), T, session)
}

fn search_hits(path: &std::path::Path, text: &str) -> usize {
    Reader::open(path)
        .unwrap()
        .queries()
        .search_messages(
            T,
            &switchboard_store::query::SearchQuery {
                text: text.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .len()
}

#[test]
fn a_commit_releases_at_once_and_the_read_tables_follow_on_project() {
    let (file, mut store, session) = chat_with(deferred());
    store.project().unwrap();
    assert_eq!(store.unprojected(), 0);

    say(&mut store, 3_000, &visitor(T, "v1"), &session, "invoice");
    assert!(store.unprojected() > 0, "the message record waits");
    assert!(
        bodies(&file.path, &session).is_empty(),
        "not in the tables yet"
    );
    assert_eq!(search_hits(&file.path, "invoice"), 0);

    store.project().unwrap();
    assert_eq!(store.unprojected(), 0);
    assert_eq!(bodies(&file.path, &session), vec!["invoice"]);
    assert_eq!(search_hits(&file.path, "invoice"), 1);
    let summary = Reader::open(&file.path)
        .unwrap()
        .queries()
        .session(T, &session)
        .unwrap();
    assert_eq!(summary.preview.as_deref(), Some("invoice"));
}

#[test]
fn recovery_projects_what_a_crash_left_out_exactly_once() {
    let (file, mut store, session) = chat_with(deferred());
    say(&mut store, 3_000, &visitor(T, "v1"), &session, "one");
    store.project().unwrap();
    say(&mut store, 4_000, &visitor(T, "v1"), &session, "two");
    say(&mut store, 5_000, &agent(T, "alice"), &session, "three");
    // Dropped without projecting or closing: a crash after the commits.
    drop(store);
    assert_eq!(bodies(&file.path, &session), vec!["one"]);

    let (store, recovery) = DurableEngine::open(&file.path, deferred()).unwrap();
    assert_eq!(store.unprojected(), 0);
    assert!(recovery.replayed > 0);
    assert_eq!(bodies(&file.path, &session), vec!["one", "two", "three"]);
    drop(store);

    // Opened again, nothing is projected a second time (the message index is unique).
    let (store, _) = DurableEngine::open(&file.path, deferred()).unwrap();
    assert_eq!(bodies(&file.path, &session), vec!["one", "two", "three"]);
    assert_eq!(search_hits(&file.path, "three"), 1);
    drop(store);

    // Nor when the file moves to the default mode, which projects in every commit.
    let mut store = open(&file.path);
    say(&mut store, 6_000, &visitor(T, "v1"), &session, "four");
    drop(store);
    let store = open(&file.path);
    assert_eq!(
        bodies(&file.path, &session),
        vec!["one", "two", "three", "four"]
    );
    drop(store);
}

#[test]
fn a_snapshot_projects_first_so_the_journal_it_replaces_loses_nothing() {
    let (file, mut store, session) = chat_with(deferred());
    say(&mut store, 3_000, &visitor(T, "v1"), &session, "kept");
    store.checkpoint().unwrap();
    assert_eq!(store.unprojected(), 0);
    drop(store);

    let (store, recovery) = DurableEngine::open(&file.path, deferred()).unwrap();
    assert_eq!(recovery.replayed, 0, "the snapshot covers every entry");
    assert_eq!(bodies(&file.path, &session), vec!["kept"]);
    drop(store);
}

#[test]
fn deferred_commits_still_store_effects_and_release_every_output() {
    let (file, mut store, session) = chat_with(deferred());
    store
        .handle(
            switchboard_core::Timestamp(3_000),
            &visitor(T, "v1"),
            command(
                serde_json::json!({"type": "send_message", "session_id": session, "body": "hi"}),
            ),
        )
        .unwrap();
    let outputs = store.commit().unwrap();
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::Persist { .. })),
        "records are released with the commit even though the tables wait"
    );
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::Deliver { .. }))
    );
    // The outbox is written in the commit itself: effects survive without a projection.
    let effects_before = store.pending_effects().unwrap().len();
    assert!(
        effects_before > 0,
        "the chat's start left effects to carry out"
    );
    drop(store);
    let (store, _) = DurableEngine::open(&file.path, deferred()).unwrap();
    assert_eq!(store.pending_effects().unwrap().len(), effects_before);
}

/// A chat of v1 with a secret in it, closed, its records not yet projected.
fn closed_chat_waiting_for_the_tables() -> (TempStore, DurableEngine, String) {
    let (file, mut store, session) = chat_with(deferred());
    say(&mut store, 3_000, &visitor(T, "v1"), &session, "my secret");
    ok(
        &mut store,
        4_000,
        &agent(T, "alice"),
        serde_json::json!({"type": "close_session", "session_id": session}),
    );
    assert!(store.unprojected() > 0);
    (file, store, session)
}

#[test]
fn erasure_covers_records_still_waiting_for_the_tables() {
    let (file, mut store, session) = closed_chat_waiting_for_the_tables();
    store
        .forget_visitor(switchboard_core::Timestamp(5_000), &admin(T), "v1")
        .unwrap();
    assert_eq!(store.unprojected(), 0);
    let bodies = bodies(&file.path, &session);
    assert!(!bodies.is_empty(), "the messages stay, as tombstones");
    assert!(
        bodies.iter().all(String::is_empty),
        "the message was projected, then erased: {bodies:?}"
    );
    assert_eq!(search_hits(&file.path, "secret"), 0);
}

#[test]
fn retention_covers_records_still_waiting_for_the_tables() {
    let (file, mut store, session) = closed_chat_waiting_for_the_tables();
    store.set_retention(T, Some(1)).unwrap();
    let report = store
        .apply_retention(switchboard_core::Timestamp(4_001 + 86_400_000))
        .unwrap();
    assert_eq!(report.sessions, 1);
    assert!(report.messages >= 1);
    let history = Reader::open(&file.path).unwrap().queries().message_history(
        T,
        &session,
        &HistoryQuery::default(),
    );
    assert_eq!(history.unwrap_err().code(), "not_found");
}

#[test]
fn snapshots_wait_for_the_projection_and_follow_it() {
    let options = OpenOptions {
        snapshot_every: 3,
        ..deferred()
    };
    let (file, mut store, session) = chat_with(options.clone());
    say(&mut store, 3_000, &visitor(T, "v1"), &session, "hello");
    drop(store);
    let (mut store, recovery) = DurableEngine::open(&file.path, options.clone()).unwrap();
    assert_eq!(
        recovery.snapshot_seq, 0,
        "no snapshot while the records it would replace were waiting"
    );
    say(&mut store, 4_000, &visitor(T, "v1"), &session, "again");
    store.project().unwrap();
    drop(store);
    let (_, recovery) = DurableEngine::open(&file.path, options).unwrap();
    assert!(
        recovery.snapshot_seq > 0,
        "the projection was followed by one"
    );
    assert_eq!(recovery.replayed, 0);
    assert_eq!(bodies(&file.path, &session), vec!["hello", "again"]);
}
