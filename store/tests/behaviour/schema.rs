//! The file's layout: WAL mode, the schema version, and every index of tenant data led by
//! `tenant_id`, so no query for one tenant walks another's rows.

use crate::support::*;
use switchboard_store::SCHEMA_VERSION;

/// Engine-wide tables: the journal and snapshots belong to the engine, not to a tenant.
const ENGINE_TABLES: [&str; 3] = ["meta", "journal", "snapshots"];

#[test]
fn every_index_of_tenant_data_starts_with_tenant_id() {
    let file = TempStore::new();
    let mut store = open(&file.path);
    setup_tenant(&mut store, "acme", 1_000);
    drop(store);
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    let tables: Vec<String> = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 18, "{tables:?}");
    let mut checked = 0;
    for table in tables
        .iter()
        .filter(|t| !ENGINE_TABLES.contains(&t.as_str()))
    {
        let columns: Vec<String> = raw
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            columns.contains(&"tenant_id".to_owned()),
            "{table} has no tenant_id"
        );
        let indexes: Vec<String> = raw
            .prepare(&format!("SELECT name FROM pragma_index_list('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for index in indexes {
            let first: String = raw
                .query_row(
                    &format!("SELECT name FROM pragma_index_info('{index}') WHERE seqno = 0"),
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(first, "tenant_id", "index {index} of {table}");
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} indexes checked");
}

#[test]
fn the_file_is_in_wal_mode_at_the_current_schema_version() {
    let file = TempStore::new();
    drop(open(&file.path));
    let raw = rusqlite::Connection::open(&file.path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: u32 = raw
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let snapshots: i64 = raw
        .query_row("SELECT count(*) FROM snapshots WHERE seq = 0", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(
        snapshots, 1,
        "a new file starts from the empty engine's snapshot"
    );
    assert!(!file.dir.path().join("switchboard.db.creating").exists());
}
