//! Opening a file: creating it atomically, recognising it, refusing what is not ours, too
//! new or damaged, and applying migrations.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::schema::{self, APPLICATION_ID};
use crate::StoreError;

/// How hard a commit works to survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit reaches the disk (`synchronous = FULL`) before it returns: an
    /// acknowledged step survives a crash of the process, the OS or the power.
    #[default]
    Full,
    /// Commits reach the OS (`synchronous = NORMAL` in WAL mode): they survive a crash of
    /// the process, but a power cut may lose the last ones.
    Normal,
    /// Commits reach the OS, like [`Normal`](Self::Normal), and the host makes them
    /// durable with a [`LogSyncer`](super::LogSyncer) before it lets anything they
    /// produced leave the process: [`Full`](Self::Full)'s guarantee, with the wait for
    /// the disk on a thread of the host's choosing. A host that commits again while the
    /// previous group is still syncing keeps the core busy instead of idle, and one sync
    /// covers every group written before it.
    SyncedByHost,
}

/// Opens an existing Switchboard file for writing after checking it, or reports why not.
pub(crate) fn open_existing(
    path: &Path,
    durability: Durability,
    verify: bool,
) -> Result<Connection, StoreError> {
    check_header(path)?;
    let mut connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| not_a_database(path, error))?;
    configure(&connection, durability)?;
    let application_id: i32 =
        connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    if application_id != APPLICATION_ID {
        return Err(StoreError::NotADatabase {
            path: path.display().to_string(),
            reason: format!("application id {application_id:#x} is not Switchboard's"),
        });
    }
    schema::migrate(&mut connection)?;
    if verify {
        quick_check(&connection)?;
    }
    Ok(connection)
}

/// Opens an existing file read-only, for queries from another thread.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    check_header(path)?;
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| not_a_database(path, error))?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    let found = schema::version(&connection)?;
    if found > schema::SCHEMA_VERSION {
        return Err(StoreError::NewerVersion {
            found,
            supported: schema::SCHEMA_VERSION,
        });
    }
    Ok(connection)
}

/// Creates a new file: built under a temporary name and renamed into place, so `path`
/// either does not exist or holds a complete, initialised store. `initialise` writes the
/// first rows (the empty engine's snapshot) inside the creating transaction.
pub(crate) fn create(
    path: &Path,
    page_size: u32,
    initialise: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let leftover = sidecar(path, suffix);
        if leftover.exists() {
            // SQLite would apply a leftover log to the new file.
            return Err(StoreError::Corrupt {
                detail: format!(
                    "{} exists without its database; move it away or restore the database",
                    leftover.display()
                ),
            });
        }
    }
    let temporary = temporary_path(path);
    remove_if_present(&temporary)?;
    let result = (|| {
        let mut connection = Connection::open(&temporary)?;
        // Only an empty file takes a page size: in WAL mode it is fixed for good.
        connection.pragma_update(None, "page_size", page_size)?;
        connection.pragma_update(None, "application_id", APPLICATION_ID)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut connection)?;
        let transaction = connection.transaction()?;
        initialise(&transaction)?;
        transaction.commit()?;
        connection.close().map_err(|(_, error)| error)?;
        fs::rename(&temporary, path)?;
        sync_directory(path)
    })();
    if result.is_err() {
        // Best effort: a half-built file under the temporary name is worthless.
        let _ = remove_if_present(&temporary);
    }
    result
}

/// Page sizes SQLite accepts: powers of two in this range.
const PAGE_SIZES: std::ops::RangeInclusive<u32> = 512..=65_536;

/// Refuses a page size SQLite would ignore (it keeps its default without a word).
pub(crate) fn check_page_size(page_size: u32) -> Result<(), StoreError> {
    if page_size.is_power_of_two() && PAGE_SIZES.contains(&page_size) {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            field: "page_size",
            reason: format!("{page_size} is not a power of two from 512 to 65,536"),
        })
    }
}

/// SQLite's `synchronous` setting for a durability.
pub(crate) fn synchronous(durability: Durability) -> &'static str {
    match durability {
        Durability::Full => "FULL",
        Durability::Normal | Durability::SyncedByHost => "NORMAL",
    }
}

fn configure(connection: &Connection, durability: Durability) -> Result<(), StoreError> {
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt {
            detail: format!("could not switch to WAL mode (got {mode})"),
        });
    }
    connection.pragma_update(None, "synchronous", synchronous(durability))?;
    // Deleted content (purged sessions, erased visitors, replaced snapshots and journal
    // entries) is overwritten with zeros, in its pages and on the free list.
    connection.pragma_update(None, "secure_delete", true)?;
    connection.pragma_update(None, "foreign_keys", false)?;
    // 64 MiB of page cache (negative: in KiB): the indexes of a busy file stay in memory.
    connection.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}

/// SQLite's structural check of every page. Linear in the file's size.
fn quick_check(connection: &Connection) -> Result<(), StoreError> {
    let mut statement = connection.prepare("PRAGMA quick_check")?;
    let findings: Vec<String> = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if findings.len() == 1 && findings[0] == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            detail: findings.join("; "),
        })
    }
}

/// Recognises an SQLite file and a truncated one before SQLite sees it: SQLite would
/// otherwise treat an empty file as a new database and some truncations as valid.
pub(crate) fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut file = fs::File::open(path)?;
    let length = file.metadata()?.len();
    let mut header = [0u8; 100];
    if length < header.len() as u64 {
        return Err(StoreError::Corrupt {
            detail: format!("the file is {length} bytes, shorter than an SQLite header"),
        });
    }
    file.read_exact(&mut header)?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(StoreError::NotADatabase {
            path: path.display().to_string(),
            reason: "no SQLite header".into(),
        });
    }
    let application_id = i32::from_be_bytes([header[68], header[69], header[70], header[71]]);
    if application_id != APPLICATION_ID {
        return Err(StoreError::NotADatabase {
            path: path.display().to_string(),
            reason: format!("application id {application_id:#x} is not Switchboard's"),
        });
    }
    // The page count in the header is valid when its "version valid for" matches the
    // change counter (as SQLite itself decides); then the file must hold that many pages.
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    let change_counter = u32::from_be_bytes([header[24], header[25], header[26], header[27]]);
    let page_count = u32::from_be_bytes([header[28], header[29], header[30], header[31]]);
    let valid_for = u32::from_be_bytes([header[92], header[93], header[94], header[95]]);
    // A crash in the middle of a checkpoint can leave the file short of the header's count
    // while the WAL still holds the pages; SQLite finishes that checkpoint on open.
    if change_counter == valid_for && length < u64::from(page_count) * page_size && !has_wal(path) {
        return Err(StoreError::Corrupt {
            detail: format!(
                "the file is truncated: {length} bytes, the header says {page_count} pages of {page_size}"
            ),
        });
    }
    Ok(())
}

fn has_wal(path: &Path) -> bool {
    fs::metadata(sidecar(path, "-wal")).is_ok_and(|meta| meta.len() > 0)
}

/// SQLite's companion file of `path` (`-wal`, `-shm`, `-journal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

fn not_a_database(path: &Path, error: rusqlite::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::NotADatabase { reason, .. } => StoreError::NotADatabase {
            path: path.display().to_string(),
            reason,
        },
        other => other,
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".creating");
    path.with_file_name(name)
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        match fs::remove_file(sidecar(path, suffix)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Makes the rename itself durable.
fn sync_directory(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::File::open(directory)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
