//! Durable storage for the Switchboard engine.
//!
//! The engine is deterministic, so its durable state is the inputs it accepted: a journal
//! of `(now, actor, command)` entries and timeouts, plus periodic snapshots of its live
//! state. Opening a store loads the newest snapshot and replays the journal after it,
//! which rebuilds exactly the engine that was running. Beside the journal, in the same
//! transaction, the records of each step fill read tables (sessions, messages with a
//! full-text index, tickets, visitors, notes, tags, agents, canned responses, SLA
//! measurements, surveys, the audit log) for history, search, privacy requests and
//! analytics. Ended sessions and old messages live only there, not in memory.
//!
//! The SQLite backend is the default `sqlite` feature. Without it this crate holds only
//! its plain-data types, so a WASM build can share them without SQLite.

mod entry;
mod error;
pub mod query;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use entry::JournalEntry;
pub use error::StoreError;
#[cfg(feature = "sqlite")]
pub use sqlite::{
    CheckpointProgress, Durability, DurableEngine, LogSyncer, MAX_HOST_KEY_BYTES,
    MAX_HOST_VALUE_BYTES, MAX_RETENTION_DAYS, OpenOptions, PendingEffect, Queries, Reader,
    Recovery, SCHEMA_VERSION, WAL_RESTART_BYTES, WalCheckpointer,
};

/// The engine version this build journals under. A journal replays only under the
/// version that wrote it (snapshots carry their own format number).
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
