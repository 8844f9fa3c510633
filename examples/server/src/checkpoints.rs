//! Checkpoints the store's write-ahead log on a thread of its own.
//!
//! Left to SQLite, the commit that fills the log past its threshold copies the log into the
//! database and syncs it before it returns, and every message in that group commit waits
//! for it. Here the engine's commits only append to the log and this thread copies it
//! over a few times a second.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use switchboard_store::{Durability, StoreError, WalCheckpointer};
use tokio::sync::watch;

/// Pause between checkpoints: each copies up to a second of commits, and syncs the
/// database once for them.
const INTERVAL: Duration = Duration::from_millis(1_000);

/// Starts the checkpoint thread; it stops when `stop` turns true (or its sender goes).
pub fn spawn(
    path: PathBuf,
    durability: Durability,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, StoreError> {
    let checkpointer = WalCheckpointer::open(&path, durability)?;
    let thread = std::thread::Builder::new()
        .name("switchboard-checkpoints".into())
        .spawn(move || {
            while !*stop.borrow() && stop.has_changed().is_ok() {
                if let Err(error) = checkpointer.checkpoint() {
                    // The log only grows meanwhile; the next round tries again.
                    tracing::warn!(code = error.code(), "checkpointing the log failed");
                }
                std::thread::sleep(INTERVAL);
            }
        })
        .map_err(StoreError::from)?;
    Ok(thread)
}
