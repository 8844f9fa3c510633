//! Files this build must not use are refused with a clear error and left as they are.

use std::fs;

use crate::support::*;
use switchboard_store::{DurableEngine, OpenOptions, SCHEMA_VERSION, StoreError};

fn populated() -> TempStore {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, "acme", 1_000);
    for i in 0..30 {
        let session = start_chat(&mut store, "acme", &format!("v{i}"), 2_000 + i);
        say(
            &mut store,
            3_000 + i,
            &visitor("acme", &format!("v{i}")),
            &session,
            &"x".repeat(500),
        );
    }
    store.close().unwrap();
    file
}

fn reopen(file: &TempStore) -> Result<DurableEngine, StoreError> {
    DurableEngine::open(&file.path, options()).map(|(store, _)| store)
}

#[test]
fn a_newer_schema_is_refused() {
    let file = populated();
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(raw);
    match reopen(&file) {
        Err(StoreError::NewerVersion { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected newer_version, got {other:?}"),
    }
    let version: u32 = rusqlite::Connection::open(&file.path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1, "the file was not touched");
}

#[test]
fn a_truncated_file_is_reported_not_recreated() {
    let file = populated();
    let length = fs::metadata(&file.path).unwrap().len();
    assert!(length > 8192);
    let handle = fs::OpenOptions::new().write(true).open(&file.path).unwrap();
    handle.set_len(length / 2).unwrap();
    drop(handle);
    let error = reopen(&file).unwrap_err();
    assert_eq!(error.code(), "corrupt", "{error}");
    assert_eq!(
        fs::metadata(&file.path).unwrap().len(),
        length / 2,
        "left as found"
    );
}

#[test]
fn a_file_cut_inside_the_header_is_reported() {
    let file = populated();
    let handle = fs::OpenOptions::new().write(true).open(&file.path).unwrap();
    handle.set_len(40).unwrap();
    drop(handle);
    assert_eq!(reopen(&file).unwrap_err().code(), "corrupt");
}

#[test]
fn an_empty_file_is_not_initialised() {
    let file = TempStore::new();
    fs::write(&file.path, b"").unwrap();
    assert_eq!(reopen(&file).unwrap_err().code(), "corrupt");
    assert_eq!(fs::metadata(&file.path).unwrap().len(), 0);
}

#[test]
fn a_foreign_file_is_refused() {
    let file = TempStore::new();
    fs::write(&file.path, "name,email\nalice,a@example.com\n".repeat(20)).unwrap();
    assert_eq!(reopen(&file).unwrap_err().code(), "not_a_database");
    let other = TempStore::new();
    let raw = rusqlite::Connection::open(&other.path).unwrap();
    raw.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(raw);
    assert_eq!(reopen(&other).unwrap_err().code(), "not_a_database");
}

#[test]
fn damaged_pages_are_reported() {
    let file = populated();
    let mut bytes = fs::read(&file.path).unwrap();
    // Overwrite the whole page in the middle of the file, past the header page, with
    // garbage (part of a page may be free space, which no check reads). The header gives
    // the page size at offset 16, big-endian, 1 standing for 65,536.
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        size => usize::from(size),
    };
    let middle = bytes.len() / 2 / page_size * page_size;
    assert!(middle >= page_size, "the file has a page past the header's");
    for byte in &mut bytes[middle..middle + page_size] {
        *byte = 0xA5;
    }
    fs::write(&file.path, &bytes).unwrap();
    assert_eq!(reopen(&file).unwrap_err().code(), "corrupt");
}

#[test]
fn a_snapshot_that_fails_its_checksum_is_reported() {
    let file = populated();
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    raw.execute(
        "UPDATE snapshots SET state = CAST(replace(CAST(state AS TEXT), 'Visitor v1', 'Visitor v2') AS BLOB)",
        [],
    )
    .unwrap();
    drop(raw);
    let error = reopen(&file).unwrap_err();
    assert_eq!(error.code(), "corrupt");
    assert!(error.to_string().contains("checksum"), "{error}");
}

#[test]
fn a_journal_from_another_engine_version_is_refused() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, "acme", 1_000);
    drop(store); // no checkpoint: the journal holds the set-up
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    raw.execute(
        "UPDATE meta SET value = '0.0.1' WHERE key = 'engine_version'",
        [],
    )
    .unwrap();
    // Another version's entries may not even parse: the version is what is reported.
    raw.execute(
        "UPDATE journal SET entry = '{\"type\":\"renamed_since\"}' WHERE seq = (SELECT min(seq) FROM journal)",
        [],
    )
    .unwrap();
    drop(raw);
    match reopen(&file) {
        Err(StoreError::JournalFromOtherVersion { written_by, .. }) => {
            assert_eq!(written_by, "0.0.1")
        }
        other => panic!("expected journal_from_other_version, got {other:?}"),
    }
}

#[test]
fn a_missing_file_is_created_only_when_asked() {
    let file = TempStore::new();
    let options = OpenOptions {
        create: false,
        ..options()
    };
    assert_eq!(
        DurableEngine::open(&file.path, options).unwrap_err().code(),
        "not_found"
    );
    assert!(!file.path.exists());
}

#[test]
fn a_log_left_without_its_database_is_not_applied_to_a_new_one() {
    let file = TempStore::new();
    let wal = file.dir.path().join("switchboard.db-wal");
    fs::write(&wal, b"frames of a database that is gone").unwrap();
    assert_eq!(reopen(&file).unwrap_err().code(), "corrupt");
    assert!(!file.path.exists(), "no database was created beside it");
    assert!(wal.exists(), "the log was left for the operator");
}
