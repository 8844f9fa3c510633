//! The journal's rows: each holds one or more consecutive entries as JSON lines, keyed by
//! the sequence number of its first.
//!
//! A commit writes its group of entries as one row (or several of at most [`ROW_BYTES`])
//! of a row each: in a flood, inserting entries one by one took a third of the commit's
//! time. Compact JSON never holds a raw line break (one inside a string is escaped), so a
//! line break separates entries unambiguously, and a row written one entry at a time by an
//! older build is a row of one line.

use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::StoreError;

/// The most bytes a row holds, unless one entry alone is larger (it then has a row of its
/// own). Bounds the memory a replay holds for one row.
const ROW_BYTES: usize = 1024 * 1024;

/// Separates the entries of a row.
const SEPARATOR: u8 = b'\n';

/// The entries staged for the next commit, serialized as the journal stores them.
#[derive(Debug, Default)]
pub(crate) struct StagedEntries {
    /// Every entry's JSON, each followed by a line break.
    lines: Vec<u8>,
    /// Where each entry ends in `lines` (after its line break).
    ends: Vec<usize>,
}

/// Where the entries stood before an entry was staged, to take it back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    bytes: usize,
    entries: usize,
}

impl StagedEntries {
    /// Stages an entry; the mark takes it back with [`unstage`](Self::unstage).
    pub(crate) fn stage<T: Serialize>(&mut self, entry: &T) -> Result<Mark, StoreError> {
        let mark = Mark {
            bytes: self.lines.len(),
            entries: self.ends.len(),
        };
        if let Err(error) = serde_json::to_writer(&mut self.lines, entry) {
            self.unstage(mark);
            return Err(error.into());
        }
        self.lines.push(SEPARATOR);
        self.ends.push(self.lines.len());
        Ok(mark)
    }

    /// Takes back the entries staged since `mark` (the engine refused the command).
    pub(crate) fn unstage(&mut self, mark: Mark) {
        self.lines.truncate(mark.bytes);
        self.ends.truncate(mark.entries);
    }

    /// Entries staged.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.ends.clear();
    }

    /// Writes the staged entries as journal rows, the first numbered `first_seq`.
    pub(crate) fn write(&self, tx: &Transaction<'_>, first_seq: u64) -> Result<(), StoreError> {
        let mut insert = tx.prepare_cached("INSERT INTO journal (seq, entry) VALUES (?1, ?2)")?;
        let mut write_row = |seq: u64, range: std::ops::Range<usize>| -> Result<(), StoreError> {
            let row =
                std::str::from_utf8(&self.lines[range]).map_err(|error| StoreError::Corrupt {
                    detail: format!("a journal entry serialized to invalid UTF-8: {error}"),
                })?;
            insert.execute(params![seq as i64, row])?;
            Ok(())
        };
        let (mut seq, mut row_start, mut row_end, mut row_entries) = (first_seq, 0, 0, 0);
        for &end in &self.ends {
            // Rows leave out their last line break.
            if row_entries > 0 && end - 1 - row_start > ROW_BYTES {
                write_row(seq, row_start..row_end - 1)?;
                seq += row_entries;
                row_start = row_end;
                row_entries = 0;
            }
            row_end = end;
            row_entries += 1;
        }
        if row_entries > 0 {
            write_row(seq, row_start..row_end - 1)?;
        }
        Ok(())
    }
}

/// The entries of the journal row numbered `seq`, each with its own sequence number, as
/// JSON: the caller parses only those it replays, after checking who wrote them.
pub(crate) fn entries_of_row(seq: u64, row: &str) -> impl Iterator<Item = (u64, &str)> {
    (seq..).zip(row.split(char::from(SEPARATOR)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::JournalEntry;
    use switchboard_core::Timestamp;

    fn timeout(at: i64) -> JournalEntry {
        JournalEntry::Timeout { now: Timestamp(at) }
    }

    fn rows_of(staged: &StagedEntries, first_seq: u64) -> Vec<(u64, String)> {
        let mut connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE journal (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)")
            .unwrap();
        let tx = connection.transaction().unwrap();
        staged.write(&tx, first_seq).unwrap();
        tx.commit().unwrap();
        let mut statement = connection
            .prepare("SELECT seq, entry FROM journal ORDER BY seq")
            .unwrap();
        statement
            .query_map([], |row| Ok((row.get::<_, i64>(0)? as u64, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn read_back(rows: &[(u64, String)]) -> Vec<(u64, JournalEntry)> {
        rows.iter()
            .flat_map(|(seq, row)| entries_of_row(*seq, row))
            .map(|(seq, entry)| (seq, serde_json::from_str(entry).unwrap()))
            .collect()
    }

    #[test]
    fn a_group_is_one_row_that_reads_back_entry_by_entry() {
        let mut staged = StagedEntries::default();
        for at in 1..=3 {
            staged.stage(&timeout(at)).unwrap();
        }
        let rows = rows_of(&staged, 40);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].0, 40);
        assert_eq!(
            read_back(&rows),
            vec![(40, timeout(1)), (41, timeout(2)), (42, timeout(3))]
        );
    }

    #[test]
    fn a_line_break_inside_an_entry_stays_inside_it() {
        let actor = switchboard_core::Actor::new("acme", "v1", switchboard_core::Role::Visitor);
        let command: switchboard_core::Command = serde_json::from_value(serde_json::json!({
            "type": "send_message", "session_id": "ses_1", "body": "two\nlines\r\n"
        }))
        .unwrap();
        let entry = JournalEntry::Command {
            now: Timestamp(5),
            actor,
            command: Box::new(command),
        };
        let mut staged = StagedEntries::default();
        staged.stage(&entry).unwrap();
        staged.stage(&timeout(6)).unwrap();
        let rows = rows_of(&staged, 1);
        assert_eq!(read_back(&rows), vec![(1, entry), (2, timeout(6))]);
    }

    #[test]
    fn a_large_group_is_split_into_rows_that_number_on() {
        let mut staged = StagedEntries::default();
        let entry = timeout(1);
        let entry_bytes = serde_json::to_vec(&entry).unwrap().len() + 1;
        let count = ROW_BYTES / entry_bytes * 2 + 10;
        for _ in 0..count {
            staged.stage(&entry).unwrap();
        }
        let rows = rows_of(&staged, 7);
        assert_eq!(rows.len(), 3, "two full rows and the rest");
        assert!(rows.iter().all(|(_, row)| row.len() <= ROW_BYTES));
        let entries = read_back(&rows);
        assert_eq!(entries.len(), count);
        assert!(
            entries
                .iter()
                .zip(7..)
                .all(|((seq, read), expected)| *seq == expected && *read == entry),
            "every entry once, numbered without a gap across rows"
        );
    }

    #[test]
    fn an_unstaged_entry_is_not_written() {
        let mut staged = StagedEntries::default();
        staged.stage(&timeout(1)).unwrap();
        let mark = staged.stage(&timeout(2)).unwrap();
        staged.unstage(mark);
        staged.stage(&timeout(3)).unwrap();
        assert_eq!(staged.len(), 2);
        let rows = rows_of(&staged, 1);
        assert_eq!(read_back(&rows), vec![(1, timeout(1)), (2, timeout(3))]);
    }

    #[test]
    fn a_row_written_one_entry_at_a_time_reads_the_same() {
        let row = serde_json::to_string(&timeout(9)).unwrap();
        assert_eq!(read_back(&[(12, row)]), vec![(12, timeout(9))]);
    }
}
