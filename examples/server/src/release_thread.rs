//! The release thread: lets each committed group out once the log that holds it is durable.
//!
//! The store's commits return once the log is written (`Durability::SyncedByHost`); this
//! thread syncs the log, then releases the group's outputs and answers its callers, group
//! by group in commit order. Meanwhile the engine thread applies and writes the next group
//! instead of waiting for the disk: on the one core the flood has, the time a commit spent
//! waiting for its sync had been idle. One sync covers every group written before it.
//!
//! A sync that fails leaves the commits' fate unknown: nothing of them or after them is
//! released, every caller is told the store is unavailable, and the engine thread drops
//! the store (`failed`). The process must be restarted to recover from the disk. The same
//! happens when this thread dies (a release that panicked).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use axum::http::StatusCode;
use switchboard_core::Output;
use switchboard_store::{LogSyncer, StoreError};
use tokio::sync::oneshot;

use crate::engine_loop::{CommandResult, ReadersTold, Release, Respond};
use crate::error::ApiError;

/// Makes the log durable (the store's [`LogSyncer`]; tests hold it back or fail it).
pub trait LogSync: Send + Sync {
    /// Returns once every commit written before the call is on disk.
    fn sync(&self) -> Result<(), StoreError>;
}

impl LogSync for LogSyncer {
    fn sync(&self) -> Result<(), StoreError> {
        LogSyncer::sync(self)
    }
}

/// Someone waiting for a group: a command's caller or a task's.
pub enum Pending {
    /// A command (or a query, or a refusal: what it saw may be undone by a failed sync).
    Respond(Respond, CommandResult),
    /// A task's answer; dropped unanswered when the group is lost, which its caller
    /// hears as the engine stopping.
    Answer(Box<dyn FnOnce() + Send>),
}

impl Pending {
    /// Tells the caller.
    pub fn answer(self) {
        match self {
            Pending::Respond(respond, result) => respond(result),
            Pending::Answer(answer) => answer(),
        }
    }

    /// The same caller, to be told `error` instead; `None` for a task, whose caller
    /// hears of the loss when its answer is dropped.
    pub fn refused(self, error: &ApiError) -> Option<Pending> {
        match self {
            Pending::Respond(respond, _) => Some(Pending::Respond(respond, Err(error.clone()))),
            Pending::Answer(_) => None,
        }
    }

    fn refuse(self) {
        let error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the store could not make the step durable; restart the server",
        );
        if let Some(refused) = self.refused(&error) {
            refused.answer();
        }
    }
}

/// What the engine thread hands over, in commit order.
enum Step {
    Group {
        outputs: Vec<Output>,
        answers: Vec<Pending>,
        /// Anything was written since the group before: a group that wrote nothing (only
        /// queries and refusals) needs no sync of its own, only the earlier groups'.
        wrote: bool,
    },
    /// The store was opened again: the groups after this one are in this log.
    NewLog(Option<Arc<dyn LogSync>>),
    /// Everything before is released; tell the sender.
    Stop(oneshot::Sender<()>),
}

/// The engine thread's side of the release thread.
pub struct ReleaseThread {
    steps: mpsc::Sender<Step>,
    spare: mpsc::Receiver<Vec<Output>>,
    failed: Arc<AtomicBool>,
}

impl ReleaseThread {
    /// Starts the thread; `log` is `None` when commits are durable (or not meant to be)
    /// by themselves.
    pub fn start(log: Option<Arc<dyn LogSync>>, release: Arc<dyn Release>) -> ReleaseThread {
        let (steps, receiver) = mpsc::channel();
        let (spare_sender, spare) = mpsc::channel();
        let failed = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            log,
            release,
            failed: failed.clone(),
            spare: spare_sender,
        };
        std::thread::Builder::new()
            .name("switchboard-release".into())
            .spawn(move || worker.run(&receiver))
            .expect("the release thread starts");
        ReleaseThread {
            steps,
            spare,
            failed,
        }
    }

    /// An empty buffer for the next commit's outputs: one the release thread is done
    /// with when there is one, so that a flood does not allocate a new one per commit.
    pub fn buffer(&self) -> Vec<Output> {
        self.spare.try_recv().unwrap_or_default()
    }

    /// Hands over a committed group, once readers know of its records.
    pub fn group(
        &self,
        outputs: Vec<Output>,
        answers: Vec<Pending>,
        wrote: bool,
        _told: ReadersTold,
    ) {
        if outputs.is_empty() && answers.is_empty() && !wrote {
            return;
        }
        self.send(Step::Group {
            outputs,
            answers,
            wrote,
        });
    }

    /// The store was opened again with this log.
    pub fn new_log(&self, log: Option<Arc<dyn LogSync>>) {
        self.send(Step::NewLog(log));
    }

    /// Tells `done` once every group handed over so far is released.
    pub fn stop(&self, done: oneshot::Sender<()>) {
        self.send(Step::Stop(done));
    }

    /// A sync failed (or the thread died): the engine's state is ahead of what is known
    /// to be on disk.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// The engine thread's own sync failed: nothing more is released.
    pub fn fail(&self) {
        self.failed.store(true, Ordering::Release);
    }

    fn send(&self, step: Step) {
        // The thread stops by itself only when it panicked.
        if let Err(mpsc::SendError(step)) = self.steps.send(step) {
            self.fail();
            if let Step::Group { answers, .. } = step {
                answers.into_iter().for_each(Pending::refuse);
            }
        }
    }
}

/// Marks the release thread failed if it unwinds: the engine thread then stops the store
/// instead of committing steps nobody will release.
struct FailOnPanic(Arc<AtomicBool>);

impl Drop for FailOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

struct Worker {
    log: Option<Arc<dyn LogSync>>,
    release: Arc<dyn Release>,
    failed: Arc<AtomicBool>,
    spare: mpsc::Sender<Vec<Output>>,
}

impl Worker {
    fn run(mut self, steps: &mpsc::Receiver<Step>) {
        let _fail_on_panic = FailOnPanic(self.failed.clone());
        let mut round = Vec::new();
        while let Ok(first) = steps.recv() {
            // Everything waiting is covered by one sync.
            round.push(first);
            round.extend(steps.try_iter());
            self.release_round(&mut round);
        }
    }

    fn release_round(&mut self, round: &mut Vec<Step>) {
        let mut synced = false;
        for step in round.drain(..) {
            match step {
                Step::Group {
                    mut outputs,
                    answers,
                    wrote,
                } => {
                    if wrote && !synced {
                        self.sync();
                        synced = true;
                    }
                    if self.failed.load(Ordering::Acquire) {
                        answers.into_iter().for_each(Pending::refuse);
                        continue;
                    }
                    if !outputs.is_empty() {
                        self.release.release(&outputs);
                        outputs.clear();
                        let _ = self.spare.send(outputs);
                    }
                    answers.into_iter().for_each(Pending::answer);
                }
                Step::NewLog(log) => {
                    // The groups before were written to the old log: synced before it goes.
                    if !synced {
                        self.sync();
                    }
                    self.log = log;
                    synced = false;
                }
                Step::Stop(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    fn sync(&self) {
        let Some(log) = &self.log else { return };
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        let started = std::time::Instant::now();
        let synced = log.sync();
        crate::metrics::record_log_sync(started.elapsed());
        if let Err(error) = synced {
            tracing::error!(code = error.code(), error = %error, "syncing the log failed; the store stops");
            self.failed.store(true, Ordering::Release);
        }
    }
}
