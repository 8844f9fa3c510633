//! The one error type of the store.

use switchboard_core::CommandError;

/// Why a store operation failed. Every variant has a stable snake_case [`code`](StoreError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file is not a Switchboard database (not SQLite, or another application's).
    #[error("{path} is not a Switchboard database: {reason}")]
    NotADatabase {
        /// The file.
        path: String,
        /// What gave it away.
        reason: String,
    },
    /// The database was written by a newer Switchboard; this build cannot read it safely.
    #[error("the database has schema version {found}; this build supports up to {supported}")]
    NewerVersion {
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// The file is damaged (truncated, overwritten, a checksum that does not match).
    #[error("the database is damaged: {detail}")]
    Corrupt {
        /// What the check found.
        detail: String,
    },
    /// The journal holds inputs written by another engine version, which may not replay the
    /// same way. Open the file with the version that wrote it; it checkpoints on close.
    #[error("the journal was written by engine {written_by}; this is engine {running}")]
    JournalFromOtherVersion {
        /// The version that wrote the journal.
        written_by: String,
        /// This build.
        running: String,
    },
    /// Replaying the journal refused an input the engine had accepted: the file does not
    /// belong to this engine configuration or was altered.
    #[error("replaying journal entry {seq} failed: {error}")]
    ReplayDiverged {
        /// The journal entry.
        seq: u64,
        /// What the engine said.
        error: CommandError,
    },
    /// The engine refused the command; nothing changed and nothing was written.
    #[error(transparent)]
    Refused(#[from] CommandError),
    /// A commit failed earlier, so the engine in memory may be ahead of the disk. Nothing
    /// from the failed steps was released; reopen the store to recover the committed state.
    #[error("a commit failed earlier; reopen the store")]
    Poisoned,
    /// A query or request argument is out of range or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Nothing with this id in this tenant.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked up.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// File-system trouble (creating, renaming, reading the file).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// An error from SQLite that is none of the above (disk full, locked, ...).
    #[cfg(feature = "sqlite")]
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
}

impl StoreError {
    /// A stable snake_case code for bindings and HTTP bodies.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotADatabase { .. } => "not_a_database",
            StoreError::NewerVersion { .. } => "newer_version",
            StoreError::Corrupt { .. } => "corrupt",
            StoreError::JournalFromOtherVersion { .. } => "journal_from_other_version",
            StoreError::ReplayDiverged { .. } => "replay_diverged",
            StoreError::Refused(error) => error.code(),
            StoreError::Poisoned => "poisoned",
            StoreError::InvalidInput { .. } => "invalid_input",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Io(_) => "io",
            #[cfg(feature = "sqlite")]
            StoreError::Sqlite(_) => "storage",
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    /// SQLite's own corruption codes become [`StoreError::Corrupt`], so a damaged page found
    /// in the middle of a query is reported as damage, not as a generic failure.
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                detail: error.to_string(),
            },
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                path: String::new(),
                reason: error.to_string(),
            },
            _ => StoreError::Sqlite(error),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    /// Stored JSON that no longer parses means the file was altered.
    fn from(error: serde_json::Error) -> Self {
        StoreError::Corrupt {
            detail: format!("stored JSON does not parse: {error}"),
        }
    }
}
