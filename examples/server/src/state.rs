//! What every handler shares.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use switchboard_store::Reader;

use crate::auth::tokens::SigningKey;
use crate::config::Config;
use crate::directory::Directory;
use crate::engine_loop::EngineHandle;
use crate::error::ApiError;
use crate::rate::RateLimits;
use crate::ws::Hub;

/// The shared state.
pub struct AppState {
    /// Options.
    pub config: Config,
    /// The engine thread.
    pub engine: EngineHandle,
    /// Host data.
    pub directory: Arc<Directory>,
    /// WebSocket streams.
    pub hub: Arc<Hub>,
    /// The server's token key.
    pub signing: SigningKey,
    /// Rate limits.
    pub limits: RateLimits,
    /// Read-only connections for queries.
    pub readers: Arc<ReaderPool>,
    /// Webhook deliveries and their log.
    pub webhooks: crate::webhooks::Webhooks,
    /// Held while a staff member's credential is read, changed and written back, so that
    /// two changes (an administrator's and the member's own password change) cannot
    /// undo each other.
    pub staff_changes: tokio::sync::Mutex<()>,
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

/// A pool of read-only store connections, used from blocking threads.
pub struct ReaderPool {
    path: PathBuf,
    engine: EngineHandle,
    idle: Mutex<Vec<Reader>>,
    /// Set at shutdown: connections in use then are closed after their read instead of
    /// going back to the pool.
    closed: std::sync::atomic::AtomicBool,
}

impl ReaderPool {
    /// A pool over the database at `path`, written by `engine`.
    #[must_use]
    pub fn new(path: PathBuf, engine: EngineHandle) -> Self {
        ReaderPool {
            path,
            engine,
            idle: Mutex::default(),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs `query` on a read-only connection in a blocking thread, once the read tables
    /// hold every step committed before the call.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&Reader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.engine.read_tables_current().await?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = match pool.idle.lock().expect("reader pool").pop() {
                Some(reader) => reader,
                None => Reader::open(&pool.path)?,
            };
            let result = query(&reader);
            let mut idle = pool.idle.lock().expect("reader pool");
            if idle.len() < 16 && !pool.closed.load(std::sync::atomic::Ordering::Acquire) {
                idle.push(reader);
            }
            result
        })
        .await
        .map_err(|_| ApiError::internal())?
    }

    /// Closes the idle connections, and every other one once its read ends. At shutdown,
    /// before the engine's: SQLite folds the log into the database only when the last
    /// connection to the file closes.
    pub fn close_idle(&self) {
        let mut idle = self.idle.lock().expect("reader pool");
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        idle.clear();
    }
}
