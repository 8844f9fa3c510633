//! The schema and its migrations, applied in order at open.
//!
//! `PRAGMA user_version` holds the number of migrations applied. A file with a higher number
//! was written by a newer build and is refused. Every index starts with `tenant_id`, so a
//! query for one tenant never walks another tenant's rows.

use rusqlite::Connection;

use crate::StoreError;

/// Identifies a Switchboard file (`PRAGMA application_id`, "SWBD").
pub(crate) const APPLICATION_ID: i32 = 0x5357_4244;

/// Each entry upgrades the schema by one version. Never edit a released migration: add one.
const MIGRATIONS: &[&str] = &[
    // 1: the journal, snapshots and the read tables.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    -- Accepted engine inputs after the latest snapshot, in order.
    CREATE TABLE journal (
        seq   INTEGER PRIMARY KEY,
        entry TEXT NOT NULL
    );

    -- The engine's live state as of journal entry `seq` (entries up to it are folded in).
    CREATE TABLE snapshots (
        seq            INTEGER PRIMARY KEY,
        format         INTEGER NOT NULL,
        engine_version TEXT NOT NULL,
        checksum       INTEGER NOT NULL,
        state          BLOB NOT NULL
    );

    CREATE TABLE sessions (
        tenant_id       TEXT NOT NULL,
        session_id      TEXT NOT NULL,
        session_no      INTEGER NOT NULL,
        visitor_id      TEXT NOT NULL,
        status          TEXT NOT NULL,
        agent_id        TEXT,
        department_id   TEXT,
        queue_id        TEXT,
        created_at      INTEGER NOT NULL,
        ended_at        INTEGER,
        last_message_at INTEGER,
        preview         TEXT,
        view            TEXT NOT NULL,
        PRIMARY KEY (tenant_id, session_no)
    );
    CREATE INDEX sessions_by_created    ON sessions (tenant_id, created_at);
    CREATE INDEX sessions_by_status     ON sessions (tenant_id, status, created_at);
    CREATE INDEX sessions_by_agent      ON sessions (tenant_id, agent_id, created_at);
    CREATE INDEX sessions_by_department ON sessions (tenant_id, department_id, created_at);
    CREATE INDEX sessions_by_visitor    ON sessions (tenant_id, visitor_id, created_at);
    CREATE INDEX sessions_by_ended      ON sessions (tenant_id, ended_at);

    CREATE TABLE session_tags (
        tenant_id  TEXT NOT NULL,
        tag        TEXT NOT NULL,
        session_no INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, tag, session_no)
    ) WITHOUT ROWID;
    CREATE INDEX session_tags_by_session ON session_tags (tenant_id, session_no);

    CREATE TABLE messages (
        id         INTEGER PRIMARY KEY,
        tenant_id  TEXT NOT NULL,
        session_no INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        erased     INTEGER NOT NULL DEFAULT 0,
        view       TEXT NOT NULL
    );
    CREATE UNIQUE INDEX messages_by_session ON messages (tenant_id, session_no, seq);

    -- Full-text index of message bodies. Contentless: the text lives in `messages` only.
    -- `tenant_key` holds one token per tenant, so a search matches inside one tenant's
    -- postings instead of filtering every tenant's matches afterwards.
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        tenant_key, body,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    -- Deleting a row removes its words from the index at once instead of marking it
    -- deleted until a merge: erased and purged text does not linger in the index.
    INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);

    CREATE TABLE visitors (
        tenant_id     TEXT NOT NULL,
        visitor_id    TEXT NOT NULL,
        profile       TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, visitor_id)
    ) WITHOUT ROWID;

    CREATE TABLE notes (
        tenant_id  TEXT NOT NULL,
        note_id    TEXT NOT NULL,
        session_no INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        view       TEXT NOT NULL,
        PRIMARY KEY (tenant_id, note_id)
    );
    CREATE INDEX notes_by_session ON notes (tenant_id, session_no);

    CREATE TABLE transfers (
        tenant_id   TEXT NOT NULL,
        transfer_id TEXT NOT NULL,
        session_no  INTEGER NOT NULL,
        view        TEXT NOT NULL,
        PRIMARY KEY (tenant_id, transfer_id)
    );
    CREATE INDEX transfers_by_session ON transfers (tenant_id, session_no);

    CREATE TABLE tickets (
        tenant_id            TEXT NOT NULL,
        ticket_id            TEXT NOT NULL,
        requester_visitor_id TEXT,
        status               TEXT NOT NULL,
        assignee_id          TEXT,
        department_id        TEXT,
        created_at           INTEGER NOT NULL,
        updated_at           INTEGER NOT NULL,
        view                 TEXT NOT NULL,
        PRIMARY KEY (tenant_id, ticket_id)
    );
    CREATE INDEX tickets_by_requester ON tickets (tenant_id, requester_visitor_id, created_at);
    CREATE INDEX tickets_by_status    ON tickets (tenant_id, status, created_at);

    CREATE TABLE ticket_messages (
        tenant_id  TEXT NOT NULL,
        ticket_id  TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        erased     INTEGER NOT NULL DEFAULT 0,
        view       TEXT NOT NULL,
        PRIMARY KEY (tenant_id, ticket_id, seq)
    );

    CREATE TABLE agents (
        tenant_id  TEXT NOT NULL,
        agent_id   TEXT NOT NULL,
        profile    TEXT NOT NULL,
        removed_at INTEGER,
        PRIMARY KEY (tenant_id, agent_id)
    ) WITHOUT ROWID;

    CREATE TABLE agent_status_log (
        id        INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        agent_id  TEXT NOT NULL,
        status    TEXT NOT NULL,
        at        INTEGER NOT NULL
    );
    CREATE INDEX agent_status_log_by_agent ON agent_status_log (tenant_id, agent_id, at);

    CREATE TABLE canned_responses (
        tenant_id         TEXT NOT NULL,
        canned_response_id TEXT NOT NULL,
        view              TEXT NOT NULL,
        PRIMARY KEY (tenant_id, canned_response_id)
    ) WITHOUT ROWID;

    CREATE TABLE conversations (
        tenant_id       TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        view            TEXT NOT NULL,
        PRIMARY KEY (tenant_id, conversation_id)
    ) WITHOUT ROWID;

    CREATE TABLE conversation_messages (
        tenant_id       TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        view            TEXT NOT NULL,
        PRIMARY KEY (tenant_id, conversation_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE sla_measurements (
        tenant_id TEXT NOT NULL,
        subject   TEXT NOT NULL,
        metric    TEXT NOT NULL,
        cycle     INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        view      TEXT NOT NULL,
        PRIMARY KEY (tenant_id, subject, metric, cycle)
    ) WITHOUT ROWID;
    CREATE INDEX sla_measurements_by_start ON sla_measurements (tenant_id, started_at);

    CREATE TABLE surveys (
        tenant_id  TEXT NOT NULL,
        survey_id  TEXT NOT NULL,
        visitor_id TEXT,
        target     TEXT NOT NULL,
        view       TEXT NOT NULL,
        PRIMARY KEY (tenant_id, survey_id)
    );
    CREATE INDEX surveys_by_visitor ON surveys (tenant_id, visitor_id);
    CREATE INDEX surveys_by_target  ON surveys (tenant_id, target);

    -- Configuration changes, ticket changes and erasures: kept through privacy deletions.
    CREATE TABLE audit_log (
        id         INTEGER PRIMARY KEY,
        tenant_id  TEXT NOT NULL,
        actor_id   TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        action     TEXT NOT NULL,
        target     TEXT NOT NULL,
        changes    TEXT,
        at         INTEGER NOT NULL
    );
    CREATE INDEX audit_log_by_time   ON audit_log (tenant_id, at);
    CREATE INDEX audit_log_by_target ON audit_log (tenant_id, target, at);

    -- Effects committed but not yet reported done by the host, in order.
    CREATE TABLE outbox (
        id        INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        effect_id TEXT NOT NULL,
        effect    TEXT NOT NULL
    );
    CREATE UNIQUE INDEX outbox_by_effect ON outbox (tenant_id, effect_id);

    -- Records of a kind this schema has no table for, kept whole so a later migration
    -- can build one (the journal that produced them does not outlive the next snapshot).
    CREATE TABLE other_records (
        id        INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        record    TEXT NOT NULL
    );
    CREATE INDEX other_records_by_tenant ON other_records (tenant_id, id);

    CREATE TABLE retention (
        tenant_id TEXT PRIMARY KEY,
        days      INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 2: the host's own data (credentials, keys, webhooks), written in the engine's
    // transactions so a command and the host data it implies commit together.
    r#"
    CREATE TABLE host_values (
        tenant_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (tenant_id, namespace, key)
    ) WITHOUT ROWID;
    "#,
    // 3: a session's latest message apart from its recorded state. Every message moved
    // the preview, and rewriting the whole session row for it was most of what a busy
    // commit wrote to the log; this row is a few dozen bytes.
    r#"
    CREATE TABLE session_activity (
        tenant_id       TEXT NOT NULL,
        session_no      INTEGER NOT NULL,
        last_message_at INTEGER NOT NULL,
        preview         TEXT,
        PRIMARY KEY (tenant_id, session_no)
    ) WITHOUT ROWID;
    INSERT INTO session_activity (tenant_id, session_no, last_message_at, preview)
        SELECT tenant_id, session_no, last_message_at, preview FROM sessions
        WHERE last_message_at IS NOT NULL;
    ALTER TABLE sessions DROP COLUMN preview;
    ALTER TABLE sessions DROP COLUMN last_message_at;
    "#,
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The schema version recorded in the file.
pub(crate) fn version(connection: &Connection) -> Result<u32, StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    u32::try_from(version).map_err(|_| StoreError::Corrupt {
        detail: format!("schema version {version} is out of range"),
    })
}

/// Applies the migrations the file lacks, each in its own transaction with its version.
/// Refuses a file from a newer build before touching it.
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let found = version(connection)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_3_moves_the_latest_message_out_of_the_session_row() {
        let mut connection = Connection::open_in_memory().unwrap();
        for (index, migration) in MIGRATIONS[..2].iter().enumerate() {
            connection.execute_batch(migration).unwrap();
            connection
                .pragma_update(None, "user_version", index as i64 + 1)
                .unwrap();
        }
        connection
            .execute_batch(
                "INSERT INTO sessions (tenant_id, session_id, session_no, visitor_id, status,
                    created_at, last_message_at, preview, view)
                 VALUES ('acme', 'ses_1', 1, 'v1', 'active', 10, 20, 'Hello', '{}'),
                        ('acme', 'ses_2', 2, 'v2', 'waiting', 11, NULL, NULL, '{}');",
            )
            .unwrap();

        migrate(&mut connection).unwrap();

        assert_eq!(version(&connection).unwrap(), SCHEMA_VERSION);
        let moved: Vec<(i64, i64, Option<String>)> = connection
            .prepare("SELECT session_no, last_message_at, preview FROM session_activity")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(moved, vec![(1, 20, Some("Hello".to_owned()))]);
        let columns: i64 = connection
            .query_row(
                "SELECT count(*) FROM pragma_table_info('sessions')
                 WHERE name IN ('preview', 'last_message_at')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(columns, 0, "the session row no longer carries them");
    }
}
