//! The engine with its store: every accepted input is journaled and every output persisted
//! in the same transaction before anything is released to the host.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use switchboard_core::{Actor, Command, Engine, EngineConfig, Output, Reply, Timestamp};

use super::host::{self, HostWrite};
use super::journal::{self, StagedEntries};
use super::open::{self, Durability};
use super::queries::Queries;
use super::wal::LogSyncer;
use super::{records, snapshots};
use crate::entry::{CommandEntryRef, JournalEntry};
use crate::{ENGINE_VERSION, StoreError};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The engine configuration of a new file. An existing file keeps the configuration it
    /// was created with (it is part of its snapshot).
    pub config: EngineConfig,
    /// Create the file when it does not exist. An existing file is never recreated.
    pub create: bool,
    /// How hard a commit works to survive a power cut.
    pub durability: Durability,
    /// Run SQLite's structural check of every page at open (linear in the file's size).
    pub verify: bool,
    /// Journal entries after which a commit also writes a snapshot and empties the journal,
    /// bounding recovery time.
    pub snapshot_every: u64,
    /// Commits leave the write-ahead log to a [`WalCheckpointer`](super::WalCheckpointer)
    /// the host runs on another thread. Only a log past [`WAL_RESTART_BYTES`] is
    /// checkpointed by a commit (SQLite's default: every 1,000 pages), which lets it start
    /// over from its beginning.
    pub background_wal_checkpoints: bool,
    /// Commits write the journal and the outbox only; the read tables follow in
    /// [`project`](DurableEngine::project), which the host calls when it has time (the
    /// example server: every few thousand records or 100 ms) and before a read that must
    /// see the latest commit. Rebuilding the read tables in larger groups writes far
    /// fewer pages: each commit of a busy server otherwise touches one page of the
    /// per-session message index for almost every message. Snapshots, privacy
    /// operations and `close` project first; recovery projects what a crash left out.
    pub deferred_projection: bool,
    /// The page size, in bytes, of a file this open creates (a power of two from 512 to
    /// 65,536); an existing file keeps its own. SQLite's default, 4,096, suits commits
    /// that write their records: with 8,192 the store bench's commits of 1 and 16 steps
    /// ran 10-30% slower, each dirty page writing twice the bytes. With
    /// `deferred_projection` and group commits most writes are appends, and 8,192 means
    /// fewer log writes for the same rows: the example server's flood ran 5% faster.
    pub page_size: u32,
}

/// With background checkpoints, the log size at which a commit checkpoints the log itself:
/// 256 MiB (65,536 pages of 4 KiB, 32,768 of 8 KiB). A checkpointer on another thread never
/// catches up with a writer that keeps committing, and the log only starts over from its
/// beginning once every frame is copied; so under sustained writes it would grow without
/// end. The commit that passes this size copies the frames the checkpointer has not
/// (nothing can be added meanwhile) and waits for the log and the database to reach the
/// disk; the next commit writes from the start of the log again, into file pages the OS
/// already holds. At the example server's flood that commit took 40-60 ms, every 0.6 s with
/// 32 MiB; with 256 MiB it comes eight times less often, and the flood delivered 3-8% more
/// for about the same CPU (four sets of alternating pairs). The price: the log file keeps
/// up to this size on disk, and an open after a crash reads it whole.
pub const WAL_RESTART_BYTES: i64 = 256 * 1024 * 1024;

/// [`WAL_RESTART_BYTES`] in pages of `page_size` bytes (SQLite counts the log in pages).
fn wal_restart_pages(page_size: i64) -> i64 {
    (WAL_RESTART_BYTES / page_size.max(512)).max(1)
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            config: EngineConfig::default(),
            create: true,
            durability: Durability::Full,
            verify: true,
            snapshot_every: 100_000,
            background_wal_checkpoints: false,
            deferred_projection: false,
            page_size: 4_096,
        }
    }
}

/// What opening found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The file was created by this open.
    pub created: bool,
    /// The journal entry the loaded snapshot covers.
    pub snapshot_seq: u64,
    /// Journal entries replayed after it.
    pub replayed: u64,
}

/// The engine and its SQLite store, single-writer.
///
/// The contract: `handle` and `handle_timeout` apply inputs to the engine and stage them;
/// `commit` writes every staged input and its records in one transaction (one fsync for
/// the whole group) and only then returns the outputs. Nothing a step produced, not even
/// the command's reply, may leave the process before the commit that covers it returns
/// `Ok`. A refused command changed nothing and may be answered at once.
#[derive(Debug)]
pub struct DurableEngine {
    engine: Engine,
    connection: Connection,
    entries: StagedEntries,
    outputs: Vec<Output>,
    host_writes: Vec<HostWrite>,
    /// Records committed in the journal and not yet in the read tables (deferred mode).
    unprojected: Vec<Output>,
    deferred_projection: bool,
    durability: Durability,
    /// The log's syncer under [`Durability::SyncedByHost`]: one per store, so that a
    /// failed sync fails every later one whoever calls it.
    log: Option<Arc<LogSyncer>>,
    next_seq: u64,
    since_snapshot: u64,
    snapshot_every: u64,
    poisoned: bool,
}

impl DurableEngine {
    /// Opens (or creates) the store at `path` and rebuilds the engine: the latest snapshot,
    /// then the journal after it.
    pub fn open(
        path: impl AsRef<Path>,
        options: OpenOptions,
    ) -> Result<(DurableEngine, Recovery), StoreError> {
        let path = path.as_ref();
        open::check_page_size(options.page_size)?;
        let created = if path.exists() {
            false
        } else if options.create {
            let empty = Engine::new(options.config.clone());
            open::create(path, options.page_size, |tx| {
                snapshots::write(tx, 0, &empty)
            })?;
            true
        } else {
            return Err(StoreError::NotFound {
                kind: "database",
                id: path.display().to_string(),
            });
        };
        let connection = open::open_existing(path, options.durability, options.verify)?;
        if options.background_wal_checkpoints {
            let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
            connection.pragma_update(None, "wal_autocheckpoint", wal_restart_pages(page_size))?;
        }
        let (engine, snapshot_seq) = snapshots::load_latest(&connection)?;
        let mut durable = DurableEngine {
            engine,
            connection,
            entries: StagedEntries::default(),
            outputs: Vec::new(),
            host_writes: Vec::new(),
            unprojected: Vec::new(),
            deferred_projection: options.deferred_projection,
            durability: options.durability,
            log: None,
            next_seq: snapshot_seq + 1,
            since_snapshot: 0,
            snapshot_every: options.snapshot_every.max(1),
            poisoned: false,
        };
        let replayed = durable.replay_journal(snapshot_seq)?;
        if options.durability == Durability::SyncedByHost {
            // Opened once recovery has written to the log, so the log exists.
            let log = LogSyncer::open(path)?;
            // A crashed process leaves in the OS's cache commits nobody synced, and
            // recovery has just replayed and projected them: the host may release what
            // follows from them (pending effects, answers, readable rows) only once they
            // are durable.
            log.sync()?;
            durable.log = Some(Arc::new(log));
        }
        Ok((
            durable,
            Recovery {
                created,
                snapshot_seq,
                replayed,
            },
        ))
    }

    fn replay_journal(&mut self, after: u64) -> Result<u64, StoreError> {
        let written_by = meta(&self.connection, "engine_version")?;
        // Entries after this one committed without their records (deferred projection).
        let projected = match meta(&self.connection, PROJECTED_SEQ)? {
            Some(seq) => seq.parse::<u64>().map_err(|_| StoreError::Corrupt {
                detail: format!("{PROJECTED_SEQ} is {seq:?}"),
            })?,
            None => u64::MAX,
        };
        // From the row holding the entry after the snapshot. A snapshot deletes the rows it
        // covers and is only taken between commits, so that row starts right after it;
        // should one ever start before, only its later entries are replayed.
        let mut statement = self.connection.prepare(
            "SELECT seq, entry FROM journal
             WHERE seq >= coalesce((SELECT max(seq) FROM journal WHERE seq <= ?1), 0)
             ORDER BY seq",
        )?;
        let mut rows = statement.query(params![after as i64])?;
        let mut replayed = 0;
        while let Some(row) = rows.next()? {
            let first_seq = row.get::<_, i64>(0)? as u64;
            let text = row.get::<_, String>(1)?;
            for (seq, entry) in journal::entries_of_row(first_seq, &text) {
                if seq <= after {
                    continue;
                }
                // Before parsing: another version's entries may not parse at all.
                if written_by.as_deref() != Some(ENGINE_VERSION) {
                    return Err(StoreError::JournalFromOtherVersion {
                        written_by: written_by.unwrap_or_default(),
                        running: ENGINE_VERSION.to_owned(),
                    });
                }
                if seq != self.next_seq {
                    return Err(StoreError::Corrupt {
                        detail: format!("journal entry {} is missing", self.next_seq),
                    });
                }
                serde_json::from_str::<JournalEntry>(entry)?
                    .apply(&mut self.engine)
                    .map_err(|error| StoreError::ReplayDiverged { seq, error })?;
                let unprojected = seq > projected;
                while let Some(output) = self.engine.poll_output() {
                    if unprojected && matches!(output, Output::Persist { .. }) {
                        self.unprojected.push(output);
                    }
                }
                self.next_seq += 1;
                replayed += 1;
            }
        }
        drop(rows);
        drop(statement);
        self.since_snapshot = replayed;
        set_meta(&self.connection, "engine_version", ENGINE_VERSION)?;
        self.write_unprojected()?;
        if self.deferred_projection {
            // From now on a crash may leave records out: recovery starts after this entry.
            set_projected(&self.connection, self.next_seq - 1)?;
        } else {
            // Every commit from now on writes its records: all of them are in the tables.
            self.connection
                .execute("DELETE FROM meta WHERE key = ?1", params![PROJECTED_SEQ])?;
        }
        Ok(replayed)
    }

    /// The engine, for reads (`poll_timeout`, views). Inputs go through this type.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A handle that makes this store's commits durable from another thread: `None`
    /// unless it was opened with [`Durability::SyncedByHost`], where a commit returns once
    /// its log is written, not synced, and nothing it produced may leave the process
    /// before a [`LogSyncer::sync`] started after it returns `Ok`. That includes the read
    /// tables: other connections can read a projection (or, without deferred projection,
    /// a commit's records) at once, so a host syncs before projecting and before running
    /// anything that projects (privacy operations, snapshots, `close`). Opening syncs what
    /// recovery replayed.
    #[must_use]
    pub fn log_syncer(&self) -> Option<Arc<LogSyncer>> {
        self.log.clone()
    }

    /// Queries over the committed read tables.
    #[must_use]
    pub fn queries(&self) -> Queries<'_> {
        Queries::new(&self.connection)
    }

    /// The earliest deadline: call [`handle_timeout`](Self::handle_timeout) then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.engine.poll_timeout()
    }

    /// Steps and host writes staged and not yet committed.
    #[must_use]
    pub fn staged(&self) -> usize {
        self.entries.len() + self.host_writes.len()
    }

    /// Applies a command and stages it. The reply may be sent only after `commit`.
    pub fn handle(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
    ) -> Result<Reply, StoreError> {
        self.check_poisoned()?;
        // Staged before the engine takes the command, and taken back if it refuses it.
        let mark = self.entries.stage(&CommandEntryRef {
            now,
            actor,
            command: &command,
        })?;
        let reply = match self.engine.handle(now, actor, command) {
            Ok(reply) => reply,
            Err(error) => {
                self.entries.unstage(mark);
                return Err(error.into());
            }
        };
        self.outputs
            .extend(std::iter::from_fn(|| self.engine.poll_output()));
        Ok(reply)
    }

    /// Fires what is due at `now` and stages it. A call that can change nothing (nothing
    /// due, the clock not advanced) is not journaled.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Result<(), StoreError> {
        self.check_poisoned()?;
        let due = self
            .engine
            .poll_timeout()
            .is_some_and(|at| at <= now.max(self.engine.now()));
        if !due && now <= self.engine.now() {
            return Ok(());
        }
        self.entries.stage(&JournalEntry::Timeout { now })?;
        self.engine.handle_timeout(now);
        self.outputs
            .extend(std::iter::from_fn(|| self.engine.poll_output()));
        Ok(())
    }

    /// Writes every staged step in one transaction and returns their outputs, in order.
    /// On failure nothing is released and the store is poisoned: reopen it.
    pub fn commit(&mut self) -> Result<Vec<Output>, StoreError> {
        let mut outputs = Vec::new();
        self.commit_into(&mut outputs)?;
        Ok(outputs)
    }

    /// [`commit`](Self::commit), appending the outputs to `outputs` instead of returning a
    /// new vector. A host that commits in a loop keeps one buffer: a group commit's
    /// outputs run to hundreds of kilobytes, and growing a fresh vector for every commit
    /// cost a seventh of the engine thread's time in a flood.
    pub fn commit_into(&mut self, outputs: &mut Vec<Output>) -> Result<(), StoreError> {
        self.check_poisoned()?;
        if !(self.entries.is_empty() && self.host_writes.is_empty()) {
            if let Err(error) = self.write_staged() {
                self.poisoned = true;
                return Err(error);
            }
            self.next_seq += self.entries.len() as u64;
            self.since_snapshot += self.entries.len() as u64;
            self.entries.clear();
            self.host_writes.clear();
            if self.deferred_projection {
                self.unprojected.extend(
                    self.outputs
                        .iter()
                        .filter(|output| matches!(output, Output::Persist { .. }))
                        .cloned(),
                );
            }
            // With records waiting, the snapshot waits for the projection that writes
            // them (`project`): a failed projection is the host's to hear of, not this
            // commit's, which succeeded.
            if self.unprojected.is_empty() {
                self.snapshot_when_due();
            }
        }
        if outputs.is_empty() {
            // Swapped, not copied: the caller's spare capacity stays here for the next group.
            std::mem::swap(outputs, &mut self.outputs);
        } else {
            outputs.append(&mut self.outputs);
        }
        Ok(())
    }

    fn write_staged(&mut self) -> Result<(), StoreError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.entries.write(&tx, self.next_seq)?;
        records::write_effects(&tx, &self.outputs)?;
        if !self.deferred_projection {
            records::write_records(&tx, &self.outputs)?;
        }
        host::write(&tx, &self.host_writes)?;
        tx.commit()?;
        Ok(())
    }

    /// Records committed but not yet in the read tables (always 0 unless
    /// [`OpenOptions::deferred_projection`]).
    #[must_use]
    pub fn unprojected(&self) -> usize {
        self.unprojected.len()
    }

    /// Writes the committed records still missing from the read tables, in one
    /// transaction. It does not wait for the disk: the records are rebuilt from the
    /// journal should a crash lose them, and the next commit's sync covers them too.
    /// A snapshot that fell due meanwhile follows. On failure the store is poisoned:
    /// reopen it.
    pub fn project(&mut self) -> Result<(), StoreError> {
        self.write_unprojected()?;
        self.snapshot_when_due();
        Ok(())
    }

    /// Writes a snapshot once enough journal entries have gathered since the last one.
    fn snapshot_when_due(&mut self) {
        if self.since_snapshot >= self.snapshot_every {
            // A failed snapshot loses nothing (the journal holds every step); it is tried
            // again after the next commit.
            let _ = self.checkpoint();
        }
    }

    /// [`project`](Self::project) without the snapshot that may follow it.
    fn write_unprojected(&mut self) -> Result<(), StoreError> {
        self.check_poisoned()?;
        if self.unprojected.is_empty() {
            return Ok(());
        }
        if let Err(error) = self.write_projection() {
            self.poisoned = true;
            return Err(error);
        }
        self.unprojected.clear();
        Ok(())
    }

    fn write_projection(&mut self) -> Result<(), StoreError> {
        let relaxed = self.durability == Durability::Full;
        if relaxed {
            self.connection.pragma_update(
                None,
                "synchronous",
                open::synchronous(Durability::Normal),
            )?;
        }
        let written = (|| -> Result<(), StoreError> {
            let tx = self
                .connection
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            records::write_records(&tx, &self.unprojected)?;
            // Only the steps committed so far are covered: staged ones are not.
            set_projected(&tx, self.next_seq - 1)?;
            Ok(tx.commit()?)
        })();
        if relaxed {
            self.connection.pragma_update(
                None,
                "synchronous",
                open::synchronous(self.durability),
            )?;
        }
        written
    }

    /// Handles a command and commits it alone: the simple path for hosts without
    /// concurrent requests to group.
    pub fn execute(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
    ) -> Result<(Reply, Vec<Output>), StoreError> {
        let reply = self.handle(now, actor, command)?;
        Ok((reply, self.commit()?))
    }

    /// Fires what is due and commits it alone.
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<Output>, StoreError> {
        self.handle_timeout(now)?;
        self.commit()
    }

    /// Writes a snapshot of the engine and empties the journal up to it. Staged steps are
    /// committed first.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.check_poisoned()?;
        self.require_nothing_staged()?;
        // The journal entries the snapshot replaces must have their records stored.
        self.write_unprojected()?;
        let covered = self.next_seq - 1;
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        snapshots::write(&tx, covered, &self.engine)?;
        tx.execute(
            "DELETE FROM journal WHERE seq <= ?1",
            params![covered as i64],
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE seq < ?1",
            params![covered as i64],
        )?;
        tx.commit()?;
        self.since_snapshot = 0;
        Ok(())
    }

    /// Effects committed but not yet reported done, oldest first: after a restart the host
    /// carries these out again (they may have been done just before the crash).
    pub fn pending_effects(&self) -> Result<Vec<PendingEffect>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT tenant_id, effect_id, effect FROM outbox ORDER BY id")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut effects = Vec::new();
        for row in rows {
            let (tenant_id, effect_id, effect) = row?;
            effects.push(PendingEffect {
                tenant_id,
                effect_id,
                effect: serde_json::from_str(&effect)?,
            });
        }
        Ok(effects)
    }

    /// Marks an effect done so it is not handed out again.
    pub fn effect_done(&mut self, tenant_id: &str, effect_id: &str) -> Result<(), StoreError> {
        self.check_poisoned()?;
        self.connection.execute(
            "DELETE FROM outbox WHERE tenant_id = ?1 AND effect_id = ?2",
            params![tenant_id, effect_id],
        )?;
        Ok(())
    }

    /// Commits what is staged, writes a final snapshot and closes the file. The next open
    /// then replays nothing, and another engine version can open it.
    pub fn close(mut self) -> Result<(), StoreError> {
        if self.durability == Durability::SyncedByHost {
            // No host syncs after this: the last snapshot's commit syncs the log, and with
            // it every commit before.
            self.connection.pragma_update(
                None,
                "synchronous",
                open::synchronous(Durability::Full),
            )?;
            self.durability = Durability::Full;
        }
        self.commit()?;
        self.checkpoint()?;
        self.connection
            .close()
            .map_err(|(_, error)| StoreError::from(error))
    }

    pub(crate) fn push_host_write(&mut self, write: HostWrite) -> Result<(), StoreError> {
        self.check_poisoned()?;
        self.host_writes.push(write);
        Ok(())
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    pub(crate) fn connection_mut(&mut self) -> Result<&mut Connection, StoreError> {
        self.check_poisoned()?;
        Ok(&mut self.connection)
    }

    /// Privacy operations checkpoint afterwards, which needs every staged step committed;
    /// committing them here would release other requests' outputs to the wrong caller.
    pub(crate) fn require_nothing_staged(&self) -> Result<(), StoreError> {
        if self.entries.is_empty() && self.host_writes.is_empty() {
            Ok(())
        } else {
            Err(StoreError::invalid(
                "staged",
                "commit the staged steps first",
            ))
        }
    }

    fn check_poisoned(&self) -> Result<(), StoreError> {
        if self.poisoned {
            Err(StoreError::Poisoned)
        } else {
            Ok(())
        }
    }
}

/// The `meta` key holding the last journal entry whose records are in the read tables,
/// present only while later entries may lack theirs.
const PROJECTED_SEQ: &str = "projected_seq";

/// Records that the read tables hold the records of every journal entry up to `seq`.
fn set_projected(connection: &Connection, seq: u64) -> Result<(), StoreError> {
    set_meta(connection, PROJECTED_SEQ, &seq.to_string())
}

/// An effect the host has not reported done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEffect {
    /// The tenant.
    pub tenant_id: String,
    /// The effect's id (`eff_12`).
    pub effect_id: String,
    /// What to do.
    pub effect: switchboard_core::Effect,
}

pub(crate) fn meta(connection: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(connection
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
        .optional()?)
}

pub(crate) fn set_meta(connection: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory of this test process's own.
    fn scratch_dir(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("switchboard-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn background_checkpoints_leave_the_writer_a_restart_point() {
        let dir = scratch_dir("restart-point");
        let threshold = |background: bool, name: &str, page_size: u32| {
            let options = OpenOptions {
                background_wal_checkpoints: background,
                verify: false,
                page_size,
                ..OpenOptions::default()
            };
            let (store, _) = DurableEngine::open(dir.join(name), options).unwrap();
            store
                .connection()
                .query_row("PRAGMA wal_autocheckpoint", [], |row| row.get::<_, i64>(0))
                .unwrap()
        };
        assert_eq!(
            threshold(true, "background.db", 4_096),
            WAL_RESTART_BYTES / 4_096
        );
        assert_eq!(threshold(false, "default.db", 4_096), 1_000);
        // The restart point is a size in bytes, whatever the pages.
        assert_eq!(
            threshold(true, "large.db", 8_192),
            WAL_RESTART_BYTES / 8_192
        );
        // A file keeps the page size it was made with, and with it its restart point.
        assert_eq!(
            threshold(true, "large.db", 4_096),
            WAL_RESTART_BYTES / 8_192
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_file_takes_the_page_size_asked_for_and_a_bad_one_is_refused() {
        let dir = scratch_dir("page-size");
        let open = |name: &str, page_size: u32| {
            DurableEngine::open(
                dir.join(name),
                OpenOptions {
                    page_size,
                    ..OpenOptions::default()
                },
            )
        };
        let page_size_of = |store: &DurableEngine| -> i64 {
            store
                .connection()
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .unwrap()
        };
        assert_eq!(OpenOptions::default().page_size, 4_096);
        let (store, _) = open("large.db", 8_192).unwrap();
        assert_eq!(page_size_of(&store), 8_192);
        drop(store);
        let (store, _) = open("large.db", 4_096).unwrap();
        assert_eq!(page_size_of(&store), 8_192, "a file keeps its page size");
        drop(store);
        for bad in [0, 1_000, 256, 131_072] {
            let Err(error) = open("bad.db", bad) else {
                panic!("a page size of {bad} was accepted");
            };
            assert_eq!(error.code(), "invalid_input", "{bad}: {error}");
            assert!(!dir.join("bad.db").exists(), "{bad}: nothing created");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_store_synced_by_its_host_leaves_the_sync_to_the_syncer_of_its_own_log() {
        let dir = scratch_dir("synced-by-host");
        let open = |durability: Durability, name: &str| {
            let options = OpenOptions {
                durability,
                verify: false,
                ..OpenOptions::default()
            };
            DurableEngine::open(dir.join(name), options).unwrap().0
        };
        let synchronous = |store: &DurableEngine| {
            store
                .connection()
                .query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))
                .unwrap()
        };
        let full = open(Durability::Full, "full.db");
        assert_eq!(synchronous(&full), 2, "FULL: every commit syncs");
        assert!(full.log_syncer().is_none());

        let mut synced = open(Durability::SyncedByHost, "synced.db");
        assert_eq!(
            synchronous(&synced),
            1,
            "NORMAL: commits leave the sync to the host"
        );
        let syncer = synced.log_syncer().expect("a syncer");
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let log = std::fs::metadata(dir.join("synced.db-wal")).unwrap();
            let synced_file = syncer.log.metadata().unwrap();
            assert_eq!(
                (synced_file.dev(), synced_file.ino()),
                (log.dev(), log.ino()),
                "the syncer holds the store's log"
            );
        }
        let actor = Actor::new("acme", "root", switchboard_core::Role::Superadmin);
        let command: Command =
            serde_json::from_value(serde_json::json!({"type": "create_tenant", "settings": {}}))
                .unwrap();
        synced.execute(Timestamp(1), &actor, command).unwrap();
        syncer.sync().unwrap();

        let now = synced.engine().now();
        synced.close().unwrap();
        let reopened = open(Durability::SyncedByHost, "synced.db");
        assert_eq!(reopened.engine().now(), now, "the committed step was kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
