//! The engine thread: the only owner of the engine and its store.
//!
//! Requests queue on a bounded channel. The thread takes everything waiting (up to a batch),
//! applies each command and commits the whole group in one transaction. The release thread
//! (`release_thread`) syncs the log and only then releases the outputs and answers the
//! requests: nothing leaves the process before it is durable, and this thread goes on with
//! the next group meanwhile. Deadlines are fired between batches. A full queue is refused at
//! once with `overloaded` instead of growing without bound.
//!
//! Commits write the journal; the read tables follow in larger groups ("projection"): once
//! enough records have gathered or the oldest has waited long enough, and before any read
//! that asks for them (`EngineHandle::read_tables_current`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use switchboard_core::{Actor, Command, Output, Reply, Timestamp};
use switchboard_store::{DurableEngine, OpenOptions};
use tokio::sync::{oneshot, watch};

use crate::error::ApiError;
use crate::release_thread::{LogSync, Pending, ReleaseThread};

/// Most requests applied in one group commit.
const MAX_BATCH: usize = 2_048;
/// Requests waiting for the engine before new ones are refused.
const QUEUE_CAPACITY: usize = 65_536;
/// Longest sleep when no deadline is armed.
const IDLE_WAKE: Duration = Duration::from_millis(500);
/// Committed records after which the read tables are brought up to date: large enough
/// that the per-session message index is written a page per many messages, small enough
/// to bound memory and the pause a projection puts between two commits.
const PROJECTION_BATCH: usize = 8_192;
/// The longest a committed record waits for the read tables when no read asks for it.
const PROJECTION_DELAY: Duration = Duration::from_millis(100);
/// Records projected at once when no request waits: at a steady pace the tables keep up
/// commit by commit in pauses too short to show in delivery times, while a flood's
/// larger commits are left to gather.
const IDLE_PROJECTION: usize = 64;

/// What a command's caller gets: the reply and the step's time, or the error.
pub type CommandResult = Result<(Reply, Timestamp), ApiError>;
/// Called once with the result, after the commit (or at once on a refusal).
pub type Respond = Box<dyn FnOnce(CommandResult) + Send>;
/// A host value to write with a command: (tenant, namespace, key, value or removal).
pub type HostWrite = (String, &'static str, String, Option<String>);
/// Runs on the engine thread; what it returns answers the caller once its steps are
/// committed, counted and durable.
type Task = Box<dyn FnOnce(&mut DurableEngine) -> Answer + Send>;
type Answer = Box<dyn FnOnce() + Send>;

/// Where committed outputs go (the WebSocket hub, effects, webhooks, metrics).
pub trait Release: Send + Sync + 'static {
    /// Called on the release thread once each commit is durable, in commit order.
    fn release(&self, outputs: &[Output]);
}

enum Job {
    Command {
        actor: Actor,
        command: Box<Command>,
        host_writes: Vec<HostWrite>,
        respond: Respond,
    },
    Task(Task),
    /// Wakes an idle engine thread to look at `ReadTables::requested`.
    Wake,
    Shutdown(oneshot::Sender<()>),
}

/// A cloneable handle to the engine thread.
#[derive(Clone)]
pub struct EngineHandle {
    jobs: SyncSender<Job>,
    healthy: Arc<AtomicBool>,
    tables: Arc<ReadTables>,
}

/// How far the read tables are behind the commits, shared by the engine thread and the
/// readers. Readers never queue behind commands: they ask, and wait for the answer here.
struct ReadTables {
    /// Commits (and tasks) after which records were waiting, counted.
    committed: AtomicU64,
    /// A reader waits: project before the next batch.
    requested: AtomicBool,
    /// The count of `committed` the tables hold; `None` once the store is gone.
    projected: watch::Sender<Option<u64>>,
}

impl ReadTables {
    fn new() -> Self {
        ReadTables {
            committed: AtomicU64::new(0),
            requested: AtomicBool::new(false),
            projected: watch::Sender::new(Some(0)),
        }
    }

    /// Records are waiting: called before anything of that step is released.
    fn fell_behind(&self) {
        self.committed.fetch_add(1, Ordering::AcqRel);
    }

    /// The tables hold everything committed so far.
    fn caught_up(&self) {
        self.projected
            .send_replace(Some(self.committed.load(Ordering::Acquire)));
    }
}

/// Proof that readers were told of a commit's waiting records ([`ReadTables::fell_behind`])
/// before its outputs go to the release thread, which requires it: released first, a
/// reader who learnt of the commit from an event could read tables that lack it without
/// waiting. Only this module makes one.
pub struct ReadersTold(());

impl EngineHandle {
    /// Starts the engine thread over an opened store, and the release thread behind it.
    pub fn start(
        store: DurableEngine,
        reopen: (PathBuf, OpenOptions),
        release: Arc<dyn Release>,
    ) -> EngineHandle {
        let log = log_of(&store);
        Self::start_with_log(store, log, reopen, release)
    }

    /// [`start`](Self::start) with the log's syncer given (tests hold it back or fail it).
    fn start_with_log(
        store: DurableEngine,
        log: Option<Arc<dyn LogSync>>,
        reopen: (PathBuf, OpenOptions),
        release: Arc<dyn Release>,
    ) -> EngineHandle {
        let (jobs, receiver) = mpsc::sync_channel(QUEUE_CAPACITY);
        let healthy = Arc::new(AtomicBool::new(true));
        // Opening projects whatever the journal held beyond the tables.
        let tables = Arc::new(ReadTables::new());
        let engine_loop = EngineLoop {
            store: Some(store),
            log: log.clone(),
            released: ReleaseThread::start(log, release),
            reopen,
            healthy: healthy.clone(),
            tables: tables.clone(),
            unprojected_since: None,
            clock: Clock::default(),
            answers: Vec::new(),
            accepted: 0,
        };
        std::thread::Builder::new()
            .name("switchboard-engine".into())
            .spawn(move || engine_loop.run(receiver))
            .expect("the engine thread starts");
        EngineHandle {
            jobs,
            healthy,
            tables,
        }
    }

    /// Returns once the read tables hold every step committed before the call: at once
    /// when they do, else after the engine thread has projected.
    pub async fn read_tables_current(&self) -> Result<(), ApiError> {
        let target = self.tables.committed.load(Ordering::Acquire);
        let mut projected = self.tables.projected.subscribe();
        let current = |projected: &Option<u64>| projected.is_none_or(|count| count >= target);
        if !current(&projected.borrow()) {
            self.tables.requested.store(true, Ordering::Release);
            // Wakes an idle engine thread; a busy one sees the request before its next
            // batch, so a full queue changes nothing.
            let _ = self.jobs.try_send(Job::Wake);
            projected
                .wait_for(current)
                .await
                .map_err(|_| ApiError::unavailable("the engine stopped"))?;
        }
        match *projected.borrow() {
            Some(_) => Ok(()),
            None => Err(ApiError::unavailable("the store is unavailable")),
        }
    }

    /// Whether the store is usable (false after a failed commit that could not reopen).
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Submits a command; `respond` is called after its commit. Refused at once when the
    /// engine is overloaded or stopped.
    pub fn submit(
        &self,
        actor: Actor,
        command: Command,
        host_writes: Vec<HostWrite>,
        respond: Respond,
    ) {
        let job = Job::Command {
            actor,
            command: Box::new(command),
            host_writes,
            respond,
        };
        if let Err(error) = self.jobs.try_send(job) {
            let (job, refusal) = match error {
                TrySendError::Full(job) => (
                    job,
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "the engine is busy; retry shortly",
                    ),
                ),
                TrySendError::Disconnected(job) => {
                    (job, ApiError::unavailable("the server is shutting down"))
                }
            };
            if let Job::Command { respond, .. } = job {
                respond(Err(refusal));
            }
        }
    }

    /// Runs a command and waits for its committed reply.
    pub async fn execute(&self, actor: Actor, command: Command) -> CommandResult {
        self.execute_with(actor, command, Vec::new()).await
    }

    /// Runs a command with host values committed in the same transaction.
    pub async fn execute_with(
        &self,
        actor: Actor,
        command: Command,
        host_writes: Vec<HostWrite>,
    ) -> CommandResult {
        let (sender, receiver) = oneshot::channel();
        self.submit(
            actor,
            command,
            host_writes,
            Box::new(move |result| {
                let _ = sender.send(result);
            }),
        );
        receiver
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the engine stopped")))
    }

    /// Runs `task` on the engine thread with nothing staged; what it stages is committed
    /// and released after it returns.
    pub async fn run<T: Send + 'static>(
        &self,
        task: impl FnOnce(&mut DurableEngine) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (sender, receiver) = oneshot::channel();
        let job = Job::Task(Box::new(move |store| {
            let value = task(store);
            Box::new(move || {
                let _ = sender.send(value);
            })
        }));
        self.wait_for(job, receiver).await
    }

    /// Queues `job` (refused at once when the queue is full) and waits for its answer.
    async fn wait_for<T>(&self, job: Job, answer: oneshot::Receiver<T>) -> Result<T, ApiError> {
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the engine is busy; retry shortly",
            ),
            TrySendError::Disconnected(_) => ApiError::unavailable("the engine stopped"),
        })?;
        answer
            .await
            .map_err(|_| ApiError::unavailable("the engine stopped"))
    }

    /// Commits what is waiting, closes the store cleanly (final snapshot) and stops.
    pub async fn shutdown(&self) {
        let (sender, receiver) = oneshot::channel();
        if self.jobs.send(Job::Shutdown(sender)).is_ok() {
            let _ = receiver.await;
        }
    }
}

/// Wall-clock milliseconds, never going backwards within the process.
#[derive(Default)]
struct Clock {
    last: i64,
}

impl Clock {
    fn now(&mut self) -> Timestamp {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        self.last = self.last.max(wall);
        Timestamp(self.last)
    }
}

/// The syncer of `store`'s log, when its commits leave the sync to the host.
fn log_of(store: &DurableEngine) -> Option<Arc<dyn LogSync>> {
    store.log_syncer().map(|syncer| syncer as Arc<dyn LogSync>)
}

struct EngineLoop {
    store: Option<DurableEngine>,
    /// The store's log, synced here too before a projection: readers of the tables must
    /// not see a step a power cut could still undo.
    log: Option<Arc<dyn LogSync>>,
    released: ReleaseThread,
    reopen: (PathBuf, OpenOptions),
    healthy: Arc<AtomicBool>,
    tables: Arc<ReadTables>,
    /// When the oldest committed record not yet in the read tables was committed.
    unprojected_since: Option<Instant>,
    clock: Clock,
    /// Callers of the group being applied, answered once it is durable.
    answers: Vec<Pending>,
    /// Commands accepted into the group being applied.
    accepted: usize,
}

impl EngineLoop {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        loop {
            let waiting = jobs.try_recv().ok();
            if self.tables.requested.swap(false, Ordering::AcqRel)
                || self.until_projection_due() == Some(Duration::ZERO)
                || (waiting.is_none() && self.unprojected() <= IDLE_PROJECTION)
            {
                self.project();
            }
            let wait = self
                .until_projection_due()
                .map_or(IDLE_WAKE, |due| due.max(Duration::from_millis(1)));
            let first = match waiting {
                Some(job) => Some(job),
                None => match jobs.recv_timeout(self.until_next_deadline().min(wait)) {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            // Checked after the wait: a sync may have failed meanwhile.
            if self.released.failed() && self.store.is_some() {
                self.stop_store();
            }
            let now = self.clock.now();
            // Only when something is due: a wake-up with nothing due would journal the
            // clock's advance, and commit it, for nothing.
            if let Some(store) = self.store.as_mut()
                && store.poll_timeout().is_some_and(|due| due <= now)
                && let Err(error) = store.handle_timeout(now)
            {
                tracing::error!(code = error.code(), "firing deadlines failed");
            }
            let mut batch = first
                .into_iter()
                .chain(std::iter::from_fn(|| jobs.try_recv().ok()));
            let mut taken = 0;
            let mut shutdown = None;
            for job in batch.by_ref() {
                taken += 1;
                match job {
                    Job::Command {
                        actor,
                        command,
                        host_writes,
                        respond,
                    } => self.apply(now, &actor, *command, host_writes, respond),
                    Job::Task(task) => {
                        self.flush();
                        // A task may project (retention, erasure): what it makes readable
                        // must be durable first.
                        self.sync_log();
                        if let Some(answer) = self.store.as_mut().map(task) {
                            self.answers.push(Pending::Answer(answer));
                        }
                        // A task may commit steps itself (an erasure): counted, and
                        // synced, before its caller hears back.
                        self.flush_written(true);
                    }
                    Job::Wake => {}
                    Job::Shutdown(done) => {
                        shutdown = Some(done);
                        break;
                    }
                }
                if taken >= MAX_BATCH {
                    break;
                }
            }
            self.flush();
            if let Some(done) = shutdown {
                self.close();
                self.released.stop(done);
                return;
            }
        }
        self.close();
    }

    fn unprojected(&self) -> usize {
        self.store.as_ref().map_or(0, DurableEngine::unprojected)
    }

    /// How long until the oldest committed record not yet in the read tables is
    /// [`PROJECTION_DELAY`] old; `None` when there is none.
    fn until_projection_due(&self) -> Option<Duration> {
        self.unprojected_since
            .map(|since| PROJECTION_DELAY.saturating_sub(since.elapsed()))
    }

    fn until_next_deadline(&self) -> Duration {
        let Some(deadline) = self.store.as_ref().and_then(DurableEngine::poll_timeout) else {
            return IDLE_WAKE;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        Duration::from_millis((deadline.0 - now).clamp(0, IDLE_WAKE.as_millis() as i64) as u64)
    }

    fn apply(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        command: Command,
        host_writes: Vec<HostWrite>,
        respond: Respond,
    ) {
        let Some(store) = self.store.as_mut() else {
            respond(Err(ApiError::unavailable("the store is unavailable")));
            return;
        };
        if command.is_query() {
            // Reads change nothing: answered from memory, never journaled, but only once
            // the steps they may have seen are durable.
            let result = store
                .engine()
                .query(now, actor, command)
                .map(|reply| (reply, now))
                .map_err(ApiError::from);
            self.answers.push(Pending::Respond(respond, result));
            return;
        }
        match store.handle(now, actor, command) {
            Ok(reply) => {
                for (tenant, namespace, key, value) in host_writes {
                    if let Err(error) =
                        store.stage_host_value(&tenant, namespace, &key, value.as_deref())
                    {
                        // Sizes are checked before submitting; this is a programming error,
                        // and the command itself is already applied.
                        tracing::error!(code = error.code(), namespace, "host value refused");
                    }
                }
                self.accepted += 1;
                self.answers
                    .push(Pending::Respond(respond, Ok((reply, now))));
            }
            // Answered with the group too: the refusal may rest on a step not yet durable.
            Err(error) => self
                .answers
                .push(Pending::Respond(respond, Err(error.into()))),
        }
    }

    /// Commits what is staged and hands the group to the release thread, which releases
    /// and answers it once it is durable.
    fn flush(&mut self) {
        self.flush_written(false);
    }

    /// [`flush`](Self::flush); `wrote_before` says steps were committed outside of it
    /// (a task's), which the group's sync must cover too.
    fn flush_written(&mut self, wrote_before: bool) {
        let Some(store) = self.store.as_mut() else {
            let error = ApiError::unavailable("the store is unavailable");
            for refused in self.answers.drain(..).filter_map(|p| p.refused(&error)) {
                refused.answer();
            }
            return;
        };
        let wrote = wrote_before || store.staged() > 0;
        let mut outputs = self.released.buffer();
        let started = Instant::now();
        match store.commit_into(&mut outputs) {
            Ok(()) => {
                if wrote {
                    crate::metrics::record_commit(self.accepted, started.elapsed());
                }
                self.accepted = 0;
                // Before anything is released: whoever learns of this commit and then
                // reads waits for its records.
                let told = self.note_unprojected();
                // The release thread releases the outputs before it answers: whoever gets
                // an answer finds its events already in the recipients' streams and
                // counted in the metrics.
                let answers = std::mem::take(&mut self.answers);
                self.released.group(outputs, answers, wrote, told);
                if self.unprojected() >= PROJECTION_BATCH {
                    self.project();
                }
            }
            Err(error) => {
                tracing::error!(code = error.code(), error = %error, "commit failed; reopening the store");
                self.accepted = 0;
                // Told through the release thread, after the groups before theirs.
                let error = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the step could not be stored; nothing was changed",
                );
                let refused = self
                    .answers
                    .drain(..)
                    .filter_map(|pending| pending.refused(&error))
                    .collect();
                // Nothing was committed, so there is nothing for readers to wait for.
                self.released
                    .group(Vec::new(), refused, false, ReadersTold(()));
                self.reopen();
            }
        }
    }

    /// Brings the read tables up to date with every committed step.
    fn project(&mut self) {
        if self.store.is_none() {
            return;
        }
        let records = self.unprojected();
        if records > 0 {
            let started = Instant::now();
            // Other connections read the tables: nothing they show may be undone.
            if !self.sync_log() {
                return;
            }
            let Some(store) = self.store.as_mut() else {
                return;
            };
            if let Err(error) = store.project() {
                tracing::error!(code = error.code(), error = %error, "projection failed; reopening the store");
                // Recovery writes the records the journal holds and the tables lack.
                self.reopen();
                return;
            }
            crate::metrics::record_projection(records, started.elapsed());
        }
        self.unprojected_since = None;
        self.tables.caught_up();
    }

    /// Counts a step whose records wait for the tables, so that readers wait for them.
    fn note_unprojected(&mut self) -> ReadersTold {
        if self.unprojected() > 0 {
            self.tables.fell_behind();
            self.unprojected_since.get_or_insert_with(Instant::now);
        }
        ReadersTold(())
    }

    /// Drops a store that failed and opens the file again: recovery restores the last
    /// committed state.
    fn reopen(&mut self) {
        self.store = None;
        let (path, options) = &self.reopen;
        match DurableEngine::open(path, options.clone()) {
            Ok((store, recovery)) => {
                // Opening projected what the journal held beyond the tables.
                tracing::info!(replayed = recovery.replayed, "store reopened");
                let log = log_of(&store);
                self.store = Some(store);
                self.released.new_log(log.clone());
                self.log = log;
                self.unprojected_since = None;
                self.note_unprojected();
                if self.unprojected() == 0 {
                    self.tables.caught_up();
                }
            }
            Err(error) => {
                tracing::error!(code = error.code(), error = %error, "the store cannot be reopened");
                self.stop_store();
            }
        }
    }

    /// Syncs the log on this thread, when commits leave it to the host; false (and the
    /// store stopped) when that failed or the release thread failed.
    fn sync_log(&mut self) -> bool {
        if let Some(log) = &self.log
            && let Err(error) = log.sync()
        {
            tracing::error!(code = error.code(), error = %error, "syncing the log failed; the store stops");
            self.released.fail();
        }
        if self.released.failed() {
            self.stop_store();
            return false;
        }
        true
    }

    /// Gives up the store: every request from now on is told it is unavailable, and so
    /// are readers waiting for the tables. After a failed sync the engine's state may be
    /// ahead of the disk; only a restart, which recovers from the disk, can tell.
    fn stop_store(&mut self) {
        self.store = None;
        self.healthy.store(false, Ordering::Relaxed);
        self.unprojected_since = None;
        self.tables.projected.send_replace(None);
    }

    fn close(&mut self) {
        self.flush();
        // Synced before the final projection and snapshot; after a failed sync the
        // engine is ahead of the disk and must not write a snapshot of that.
        self.project();
        if self.released.failed() {
            self.stop_store();
        }
        if let Some(store) = self.store.take()
            && let Err(error) = store.close()
        {
            tracing::error!(code = error.code(), error = %error, "closing the store failed");
        }
        // Readers still waiting for the tables are told the store is gone.
        self.tables.projected.send_replace(None);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use switchboard_core::{Reply, Role};
    use switchboard_store::{Reader, StoreError};

    use super::*;

    /// Notes, at each release of records, how many commits with records readers had
    /// been told of: the n-th release must find at least n, or a reader who learnt of it
    /// could read the tables without waiting for its records. (Whether the tables are
    /// behind at that moment depends on whether the engine thread projected meanwhile.)
    #[derive(Default)]
    struct Observe {
        engine: std::sync::OnceLock<EngineHandle>,
        counted_at_release: std::sync::Mutex<Vec<u64>>,
    }

    impl Release for Observe {
        fn release(&self, outputs: &[Output]) {
            let records = outputs
                .iter()
                .any(|output| matches!(output, Output::Persist { .. }));
            if let (true, Some(engine)) = (records, self.engine.get()) {
                let counted = engine.tables.committed.load(Ordering::Acquire);
                self.counted_at_release.lock().unwrap().push(counted);
            }
        }
    }

    fn command(value: serde_json::Value) -> Command {
        serde_json::from_value(value).expect("a valid command")
    }

    /// Counts the groups released, and names the events they delivered.
    #[derive(Default)]
    struct CountReleases {
        groups: std::sync::atomic::AtomicUsize,
        events: std::sync::Mutex<Vec<&'static str>>,
    }

    impl Release for CountReleases {
        fn release(&self, outputs: &[Output]) {
            self.groups.fetch_add(1, Ordering::SeqCst);
            let mut events = self.events.lock().unwrap();
            for output in outputs {
                if let Output::Deliver { event, .. } = output {
                    events.push(event.name());
                }
            }
        }
    }

    impl CountReleases {
        fn count(&self) -> usize {
            self.groups.load(Ordering::SeqCst)
        }

        fn delivered(&self, name: &str) -> bool {
            self.events.lock().unwrap().contains(&name)
        }
    }

    /// A log whose syncs wait while it is held, and fail once it is told to.
    #[derive(Default)]
    struct GatedLog {
        held: std::sync::Mutex<bool>,
        let_go: std::sync::Condvar,
        fail: AtomicBool,
    }

    impl GatedLog {
        fn hold(&self) {
            *self.held.lock().unwrap() = true;
        }

        fn let_go(&self) {
            *self.held.lock().unwrap() = false;
            self.let_go.notify_all();
        }
    }

    impl LogSync for GatedLog {
        fn sync(&self) -> Result<(), StoreError> {
            let held = self.held.lock().unwrap();
            drop(self.let_go.wait_while(held, |held| *held).unwrap());
            if self.fail.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("the disk is gone").into());
            }
            Ok(())
        }
    }

    /// An engine over a new store whose log is `log`, with a tenant, a department and its
    /// queue.
    async fn gated_engine(
        name: &str,
        log: Arc<GatedLog>,
        deferred_projection: bool,
    ) -> (EngineHandle, Arc<CountReleases>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("switchboard-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("switchboard.db");
        let options = OpenOptions {
            durability: switchboard_store::Durability::SyncedByHost,
            deferred_projection,
            verify: false,
            ..OpenOptions::default()
        };
        let (store, _) = DurableEngine::open(&path, options.clone()).unwrap();
        let releases = Arc::new(CountReleases::default());
        let engine =
            EngineHandle::start_with_log(store, Some(log), (path, options), releases.clone());
        let steps = [
            (
                Actor::new("acme", "root", Role::Superadmin),
                json!({"type": "create_tenant", "settings": {}}),
            ),
            (
                Actor::new("acme", "admin", Role::TenantAdmin),
                json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}),
            ),
            (
                Actor::new("acme", "admin", Role::TenantAdmin),
                json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}),
            ),
        ];
        for (actor, step) in steps {
            engine.execute(actor, command(step)).await.unwrap();
        }
        (engine, releases, dir)
    }

    #[tokio::test]
    async fn nothing_of_a_commit_leaves_before_its_log_is_synced() {
        let log = Arc::new(GatedLog::default());
        // Records are written with each commit: no projection (which syncs the log on the
        // engine thread) holds the engine thread at the gate, so it goes on answering.
        let (engine, releases, dir) = gated_engine("held-sync", log.clone(), false).await;
        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        let released_before = releases.count();

        log.hold();
        let upsert = tokio::spawn({
            let (engine, admin) = (engine.clone(), admin.clone());
            async move {
                let step = json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": ["support"]}});
                engine.execute(admin, command(step)).await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A read that sees the step waits with it.
        let query = tokio::spawn({
            let engine = engine.clone();
            async move {
                let step = json!({"type": "get_agent", "agent_id": "alice"});
                engine.execute(admin, command(step)).await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!upsert.is_finished(), "the command waits for the sync");
        assert!(!query.is_finished(), "the read of it waits too");
        assert_eq!(releases.count(), released_before, "nothing was released");

        log.let_go();
        upsert.await.unwrap().unwrap();
        let (reply, _) = query.await.unwrap().unwrap();
        assert!(
            serde_json::to_string(&reply).unwrap().contains("alice"),
            "the read saw the step: {reply:?}"
        );
        assert!(releases.count() > released_before, "released once synced");
        assert!(engine.healthy());
        engine.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_deadline_fired_meanwhile_releases_nothing_before_its_log_is_synced() {
        let log = Arc::new(GatedLog::default());
        // Records in each commit: nothing but the release thread waits at the gate.
        let (engine, releases, dir) = gated_engine("held-deadline", log.clone(), false).await;
        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        for (actor, step) in [
            (
                admin.clone(),
                json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support", "offer_timeout_ms": 200}}),
            ),
            (
                admin,
                json!({"type": "upsert_agent", "agent": {"id": "carol", "name": "Carol", "departments": ["support"]}}),
            ),
            (
                Actor::new("acme", "carol", Role::Agent),
                json!({"type": "set_agent_status", "status": "online"}),
            ),
        ] {
            engine.execute(actor, command(step)).await.unwrap();
        }

        // Entries, not rows: a row holds a whole commit's entries, one per line.
        let timeouts_committed = || {
            let file = rusqlite::Connection::open(dir.join("switchboard.db")).unwrap();
            let mut rows = file.prepare("SELECT entry FROM journal").unwrap();
            let rows = rows.query_map([], |row| row.get::<_, String>(0)).unwrap();
            rows.map(|row| {
                row.unwrap()
                    .lines()
                    .filter(|entry| entry.starts_with(r#"{"type":"timeout""#))
                    .count()
            })
            .sum::<usize>()
        };
        let before = timeouts_committed();
        // Held before the chat starts: nothing of it can have left yet.
        log.hold();
        let start = start_chat(&engine);
        // Well past the offer's deadline.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            timeouts_committed() > before,
            "the deadline fired and was committed while the log was held"
        );
        assert!(!start.is_finished(), "the chat's start waits for the sync");
        assert!(
            !releases.delivered("offered") && !releases.delivered("offer_withdrawn"),
            "neither the offer nor its withdrawal left before the sync"
        );

        log.let_go();
        start.await.unwrap().unwrap();
        let released = async {
            while !releases.delivered("offer_withdrawn") {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), released)
            .await
            .expect("released once synced");
        engine.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_failed_sync_releases_nothing_and_stops_the_store() {
        let log = Arc::new(GatedLog::default());
        let (engine, releases, dir) = gated_engine("failed-sync", log.clone(), true).await;
        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        // The set-up's records are projected, and the log synced for them, before the
        // disk fails: else that sync fails first and stops the store before the command.
        engine.read_tables_current().await.unwrap();
        let released_before = releases.count();

        log.fail.store(true, Ordering::SeqCst);
        let step = json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": ["support"]}});
        let error = engine
            .execute(admin.clone(), command(step))
            .await
            .unwrap_err();
        assert_eq!(error.code, "storage_unavailable");
        assert_eq!(releases.count(), released_before, "nothing was released");

        // The engine's state may be ahead of the disk: it takes nothing more.
        let step = json!({"type": "upsert_agent", "agent": {"id": "bob", "name": "Bob", "departments": ["support"]}});
        let error = engine.execute(admin, command(step)).await.unwrap_err();
        assert_eq!(error.code, "unavailable", "the store was given up");
        assert!(!engine.healthy());
        assert!(engine.read_tables_current().await.is_err());
        assert_eq!(releases.count(), released_before);
        engine.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_task_that_projects_shows_readers_only_synced_steps() {
        let log = Arc::new(GatedLog::default());
        let (engine, _releases, dir) = gated_engine("task-sync", log.clone(), true).await;
        let path = dir.join("switchboard.db");

        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        let step = json!({"type": "upsert_agent", "agent": {"id": "carol", "name": "Carol", "departments": ["support"]}});
        engine.execute(admin, command(step)).await.unwrap();
        let carol = Actor::new("acme", "carol", Role::Agent);
        let step = json!({"type": "set_agent_status", "status": "online"});
        engine.execute(carol, command(step)).await.unwrap();

        // The chat and a task that projects arrive in one batch: no idle projection
        // between them syncs the log on the task's behalf.
        let held = hold(&engine);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = start_chat(&engine);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let project = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run(|store| store.project().is_ok()).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        log.hold();
        held.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!start.is_finished() && !project.is_finished());
        let sessions = Reader::open(&path)
            .unwrap()
            .queries()
            .list_sessions("acme", &Default::default())
            .unwrap();
        assert!(
            sessions.sessions.is_empty(),
            "nothing unsynced is readable: {sessions:?}"
        );

        log.let_go();
        let (reply, _) = start.await.unwrap().unwrap();
        assert!(project.await.unwrap().unwrap());
        let Reply::SessionStarted { session_id, .. } = reply else {
            panic!("unexpected reply {reply:?}");
        };
        assert!(readable(&path, &session_id.to_string()));
        engine.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_failed_commit_changes_nothing_and_the_engine_goes_on_from_the_file() {
        let log = Arc::new(GatedLog::default());
        // Records in each commit: no projection meets the held file before the commit does.
        let (engine, releases, dir) = gated_engine("failed-commit", log.clone(), false).await;
        let path = dir.join("switchboard.db");
        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        let upsert = |id: &str| {
            command(
                json!({"type": "upsert_agent", "agent": {"id": id, "name": id, "departments": ["support"]}}),
            )
        };
        let get = |id: &str| command(json!({"type": "get_agent", "agent_id": id}));

        // Another writer holds the file: the engine's commit gives up after its busy
        // timeout, with the step already applied in memory.
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let error = engine
            .execute(admin.clone(), upsert("alice"))
            .await
            .unwrap_err();
        assert_eq!(error.code, "storage_unavailable");
        blocker.execute_batch("ROLLBACK").unwrap();
        drop(blocker);

        // The engine was rebuilt from the file, which never held the step.
        let released_before = releases.count();
        let error = engine
            .execute(admin.clone(), get("alice"))
            .await
            .unwrap_err();
        assert_eq!(
            error.code, "not_found",
            "the refused step left nothing behind"
        );
        // The syncs go to the reopened store's own log now: holding the old one holds
        // nothing back.
        log.hold();
        let bob = engine.execute(admin.clone(), upsert("bob"));
        tokio::time::timeout(Duration::from_secs(5), bob)
            .await
            .expect("the commit is synced with the reopened store's log")
            .unwrap();
        log.let_go();
        assert!(engine.healthy(), "the reopened store takes commands");
        assert!(
            releases.count() > released_before,
            "commits after the reopening are released"
        );
        engine.shutdown().await;

        let (store, _) = DurableEngine::open(&path, OpenOptions::default()).unwrap();
        let known = |id: &str| store.engine().query(Timestamp(0), &admin, get(id)).is_ok();
        assert!(
            known("bob") && !known("alice"),
            "the file holds what was answered"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Whether another connection can read the session from the tables.
    fn readable(path: &std::path::Path, session_id: &str) -> bool {
        Reader::open(path)
            .unwrap()
            .queries()
            .session("acme", session_id)
            .is_ok()
    }

    /// A visitor starts a chat, answered on the returned task.
    fn start_chat(engine: &EngineHandle) -> tokio::task::JoinHandle<CommandResult> {
        let engine = engine.clone();
        tokio::spawn(async move {
            let visitor = Actor::new("acme", "v1", Role::Visitor);
            let step = json!({"type": "start_session", "visitor": {"name": "Vera"}});
            engine.execute(visitor, command(step)).await
        })
    }

    /// Keeps the engine thread busy until the returned sender is used or dropped.
    fn hold(engine: &EngineHandle) -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let engine = engine.clone();
        tokio::spawn(async move { engine.run(move |_| held.recv()).await });
        release
    }

    #[tokio::test]
    async fn a_read_waits_until_the_tables_hold_every_step_committed_before_it() {
        let dir =
            std::env::temp_dir().join(format!("switchboard-projection-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("switchboard.db");
        let options = OpenOptions {
            deferred_projection: true,
            verify: false,
            ..OpenOptions::default()
        };
        let (store, _) = DurableEngine::open(&path, options.clone()).unwrap();
        let observe = Arc::new(Observe::default());
        let engine = EngineHandle::start(store, (path.clone(), options), observe.clone());
        assert!(observe.engine.set(engine.clone()).is_ok());
        let admin = Actor::new("acme", "admin", Role::TenantAdmin);
        for (actor, step) in [
            (
                Actor::new("acme", "root", Role::Superadmin),
                json!({"type": "create_tenant", "settings": {}}),
            ),
            (
                admin.clone(),
                json!({"type": "upsert_department", "department": {"id": "support", "name": "Support"}}),
            ),
            (
                admin.clone(),
                json!({"type": "upsert_queue", "queue": {"id": "support", "name": "Support", "department_id": "support"}}),
            ),
            (
                admin,
                json!({"type": "upsert_agent", "agent": {"id": "alice", "name": "Alice", "departments": ["support"]}}),
            ),
            (
                Actor::new("acme", "alice", Role::Agent),
                json!({"type": "set_agent_status", "status": "online"}),
            ),
        ] {
            engine.execute(actor, command(step)).await.unwrap();
        }

        // The chat starts between two tasks that hold the engine thread: its commit is
        // answered, and nothing idle projects it before the second task lets go.
        let first = hold(&engine);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = start_chat(&engine);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = hold(&engine);
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.send(()).unwrap();
        let (reply, _) = start.await.unwrap().unwrap();
        let Reply::SessionStarted { session_id, .. } = reply else {
            panic!("unexpected reply {reply:?}");
        };
        let session_id = session_id.to_string();
        assert!(
            !readable(&path, &session_id),
            "committed and answered, not yet in the tables"
        );

        let read = tokio::spawn({
            let engine = engine.clone();
            async move { engine.read_tables_current().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!read.is_finished(), "the read waits for the projection");
        second.send(()).unwrap();
        read.await.unwrap().unwrap();
        assert!(
            readable(&path, &session_id),
            "the read sees the chat it was told of"
        );
        let observed = observe.counted_at_release.lock().unwrap().clone();
        assert!(!observed.is_empty());
        assert!(
            (1..).zip(&observed).all(|(nth, &counted)| counted >= nth),
            "every release of records comes after readers are told to wait: {observed:?}"
        );

        engine.shutdown().await;
        assert!(
            engine.read_tables_current().await.is_err(),
            "once the store is closed a read is told so instead of reading"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
