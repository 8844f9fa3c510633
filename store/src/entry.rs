//! One accepted input of the engine, as the journal keeps it.

use serde::{Deserialize, Serialize};
use switchboard_core::{Actor, Command, CommandError, Engine, Timestamp};

/// An input the engine accepted. Replaying the entries after a snapshot, in order, rebuilds
/// the engine exactly, because the engine is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalEntry {
    /// `Engine::handle(now, actor, command)` returned `Ok`.
    Command {
        /// The time the host passed.
        now: Timestamp,
        /// Who acted.
        actor: Actor,
        /// What they asked for.
        command: Box<Command>,
    },
    /// `Engine::handle_timeout(now)`.
    Timeout {
        /// The time the host passed.
        now: Timestamp,
    },
}

impl JournalEntry {
    /// Applies the entry to `engine`, discarding its outputs (they were stored when the
    /// entry was first committed). A command the engine refuses now was accepted when it
    /// was written, so the caller treats the error as divergence.
    pub fn replay(self, engine: &mut Engine) -> Result<(), CommandError> {
        self.apply(engine)?;
        while engine.poll_output().is_some() {}
        Ok(())
    }

    /// Applies the entry to `engine` and leaves its outputs there for the caller to poll:
    /// recovery keeps the records of entries whose records a crash left unwritten.
    pub fn apply(self, engine: &mut Engine) -> Result<(), CommandError> {
        match self {
            JournalEntry::Command {
                now,
                actor,
                command,
            } => {
                engine.handle(now, &actor, *command)?;
            }
            JournalEntry::Timeout { now } => engine.handle_timeout(now),
        }
        Ok(())
    }
}

/// The journal form of a command, borrowed: written before the engine consumes the command.
#[cfg(feature = "sqlite")]
#[derive(Serialize)]
#[serde(tag = "type", rename = "command")]
pub(crate) struct CommandEntryRef<'a> {
    pub now: Timestamp,
    pub actor: &'a Actor,
    pub command: &'a Command,
}
