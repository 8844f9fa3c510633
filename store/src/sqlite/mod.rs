//! The SQLite backend: a journal of accepted inputs, checksummed snapshots of the engine,
//! and read tables built from the engine's records, all written in one transaction per
//! commit.

mod durable;
mod host;
mod journal;
mod message_rows;
mod open;
mod privacy;
mod queries;
mod records;
mod schema;
mod snapshots;
mod wal;

use std::path::Path;

use rusqlite::Connection;

pub use durable::{DurableEngine, OpenOptions, PendingEffect, Recovery, WAL_RESTART_BYTES};
pub use host::{MAX_HOST_KEY_BYTES, MAX_HOST_VALUE_BYTES};
pub use open::Durability;
pub use privacy::MAX_RETENTION_DAYS;
pub use queries::Queries;
pub use wal::{CheckpointProgress, LogSyncer, WalCheckpointer};

use crate::StoreError;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = schema::SCHEMA_VERSION;

/// A read-only connection for queries from another thread while the engine writes (WAL
/// lets readers and the writer proceed together). It sees committed steps only.
#[derive(Debug)]
pub struct Reader {
    connection: Connection,
}

impl Reader {
    /// Opens an existing store read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader, StoreError> {
        Ok(Reader {
            connection: open::open_read_only(path.as_ref())?,
        })
    }

    /// The queries.
    #[must_use]
    pub fn queries(&self) -> Queries<'_> {
        Queries::new(&self.connection)
    }
}
