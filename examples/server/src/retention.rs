//! The retention job: every few hours, chats that ended longer ago than their tenant's
//! retention period are purged from the store, with their messages (see
//! `PUT /api/v1/admin/retention`).

use std::time::Duration;

use switchboard_core::Timestamp;
use tokio::sync::watch;

use crate::engine_loop::EngineHandle;

/// How often the purge runs.
pub const EVERY: Duration = Duration::from_secs(6 * 3_600);
/// The first run, after start-up.
pub const FIRST_AFTER: Duration = Duration::from_secs(60);

/// Runs the purge on the engine thread until `stop` turns true.
pub fn spawn(engine: EngineHandle, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + FIRST_AFTER;
        let mut every = tokio::time::interval_at(start, EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => purge(&engine).await,
                _ = stop.changed() => return,
            }
        }
    });
}

async fn purge(engine: &EngineHandle) {
    let now = Timestamp(jiff::Timestamp::now().as_millisecond());
    match engine.run(move |store| store.apply_retention(now)).await {
        Ok(Ok(report)) if report.sessions > 0 => tracing::info!(
            sessions = report.sessions,
            messages = report.messages,
            "retention purged ended chats"
        ),
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::warn!(code = error.code(), "retention purge failed"),
        Err(error) => tracing::warn!(code = error.code, "retention purge not run"),
    }
}
