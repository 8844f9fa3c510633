//! Snapshots of the engine's live state, checksummed: SQLite has no page checksums, so a
//! snapshot damaged on disk is caught here rather than restored into a wrong engine.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use switchboard_core::{Engine, SNAPSHOT_FORMAT, SnapshotError};

use crate::{ENGINE_VERSION, StoreError};

/// Stores the engine's state as covering journal entries up to `seq`.
pub(crate) fn write(tx: &Transaction<'_>, seq: u64, engine: &Engine) -> Result<(), StoreError> {
    let state = engine.snapshot().map_err(|error| StoreError::Corrupt {
        detail: format!("the engine could not be snapshotted: {error}"),
    })?;
    tx.execute(
        "INSERT OR REPLACE INTO snapshots (seq, format, engine_version, checksum, state)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            seq as i64,
            SNAPSHOT_FORMAT,
            ENGINE_VERSION,
            crc32fast::hash(state.as_bytes()),
            state.as_bytes()
        ],
    )?;
    Ok(())
}

/// The engine of the newest snapshot and the journal entry it covers.
pub(crate) fn load_latest(connection: &Connection) -> Result<(Engine, u64), StoreError> {
    let row = connection
        .query_row(
            "SELECT seq, format, checksum, state FROM snapshots ORDER BY seq DESC LIMIT 1",
            [],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, u32>(1)?,
                    row.get::<_, u32>(2)?,
                    row.get::<_, Vec<u8>>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((seq, format, checksum, state)) = row else {
        return Err(StoreError::Corrupt {
            detail: "the database holds no snapshot".into(),
        });
    };
    let Ok(seq) = u64::try_from(seq) else {
        return Err(StoreError::Corrupt {
            detail: format!("snapshot sequence {seq} is negative"),
        });
    };
    if format > SNAPSHOT_FORMAT {
        return Err(StoreError::NewerVersion {
            found: format,
            supported: SNAPSHOT_FORMAT,
        });
    }
    if crc32fast::hash(&state) != checksum {
        return Err(StoreError::Corrupt {
            detail: format!("snapshot {seq} does not match its checksum"),
        });
    }
    let text = std::str::from_utf8(&state).map_err(|_| StoreError::Corrupt {
        detail: format!("snapshot {seq} is not UTF-8"),
    })?;
    let engine = Engine::restore(text).map_err(|error| match error {
        SnapshotError::UnsupportedFormat { found, supported } => {
            StoreError::NewerVersion { found, supported }
        }
        other => StoreError::Corrupt {
            detail: format!("snapshot {seq}: {other}"),
        },
    })?;
    Ok((engine, seq))
}
