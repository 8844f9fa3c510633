//! Checkpoints of SQLite's write-ahead log from a connection of their own.
//!
//! By default SQLite checkpoints inside the commit that fills the log past 1,000 pages:
//! that commit copies the pages into the database and syncs it before it returns, so every
//! few hundred small commits one of them takes many times longer. A host that wants even
//! commit times moves that threshold far out
//! ([`OpenOptions::background_wal_checkpoints`]) and calls
//! [`WalCheckpointer::checkpoint`] from another thread instead.
//!
//! [`OpenOptions::background_wal_checkpoints`]: super::OpenOptions::background_wal_checkpoints
//!
//! With [`Durability::SyncedByHost`] the writer's commits leave the log in the OS's
//! cache and a [`LogSyncer`] makes it durable, from whichever thread the host likes.

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::open::{self, Durability};
use crate::StoreError;

/// A connection that only checkpoints the log.
#[derive(Debug)]
pub struct WalCheckpointer {
    connection: Connection,
}

/// What one checkpoint found and did, in log frames (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointProgress {
    /// Frames in the log.
    pub logged: i64,
    /// Frames copied into the database so far (all of them when nothing was reading).
    pub checkpointed: i64,
}

impl WalCheckpointer {
    /// Opens a checkpointing connection to an existing store. It syncs the database as
    /// `durability` says, like the writer.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref();
        open::check_header(path)?;
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.pragma_update(None, "synchronous", open::synchronous(durability))?;
        Ok(WalCheckpointer { connection })
    }

    /// Copies what it can of the log into the database without waiting for readers or the
    /// writer (a passive checkpoint).
    pub fn checkpoint(&self) -> Result<CheckpointProgress, StoreError> {
        let (logged, checkpointed) =
            self.connection
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                })?;
        Ok(CheckpointProgress {
            logged,
            checkpointed,
        })
    }
}

/// Makes the write-ahead log durable: every commit written to it before [`sync`](Self::sync)
/// was called survives a power cut once it returns `Ok`. For stores opened with
/// [`Durability::SyncedByHost`], from [`DurableEngine::log_syncer`].
///
/// A syncer belongs to the log of the store it came from: a store opened again (after a
/// failure) may start a new log file, and needs a new syncer.
///
/// A failed sync fails every later one too: Linux reports a write-back error to one sync
/// only and then forgets the pages that could not be written, so a second sync would
/// succeed without them.
///
/// [`DurableEngine::log_syncer`]: super::DurableEngine::log_syncer
#[derive(Debug)]
pub struct LogSyncer {
    pub(crate) log: File,
    /// Held during each sync, so that a sync started after a failed one sees the failure.
    failed: Mutex<bool>,
}

impl LogSyncer {
    /// Opens the log of the database at `database`, which must exist (the store writes
    /// to its log when it opens).
    pub(crate) fn open(database: &Path) -> Result<Self, StoreError> {
        let mut name = database.as_os_str().to_owned();
        name.push("-wal");
        // Write access: some systems refuse to sync a file opened for reading only.
        let log = File::options().write(true).open(name)?;
        Ok(LogSyncer {
            log,
            failed: Mutex::new(false),
        })
    }

    /// Waits until the log is on disk. Its size is part of what is synced (the log
    /// grows), its other metadata is not needed to read it back.
    pub fn sync(&self) -> Result<(), StoreError> {
        let mut failed = self
            .failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *failed {
            return Err(StoreError::Io(std::io::Error::other(
                "an earlier sync of the log failed",
            )));
        }
        self.log.sync_data().inspect_err(|_| *failed = true)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_failed_sync_every_sync_fails() {
        let dir =
            std::env::temp_dir().join(format!("switchboard-log-syncer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("store.db");
        std::fs::write(dir.join("store.db-wal"), b"frames").unwrap();
        let syncer = LogSyncer::open(&database).unwrap();
        syncer.sync().unwrap();
        // As the sync that met a write-back error leaves it.
        *syncer.failed.lock().unwrap() = true;
        assert!(matches!(syncer.sync(), Err(StoreError::Io(_))));
        assert!(syncer.sync().is_err(), "and stays failed");
        assert!(
            LogSyncer::open(&dir.join("missing.db")).is_err(),
            "a store without a log has nothing to sync"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
