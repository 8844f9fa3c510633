//! Read queries over the committed tables. Every query is scoped to one tenant: another
//! tenant's rows are never read, and their ids are "not found".

use std::str::FromStr;

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Params, params};
use serde::de::DeserializeOwned;
use switchboard_core::Timestamp;
use switchboard_core::ids::SessionId;
use switchboard_core::protocol::model::{MessageView, NoteView, SessionView};

use super::message_rows::{self, JOINED_MESSAGE_COLUMNS, MESSAGE_COLUMNS};
use super::records::tenant_key;
use crate::StoreError;
use crate::query::{
    HistoryQuery, MAX_PAGE_SIZE, MAX_SEARCH_BYTES, MAX_SEARCH_TERMS, MessagePage, SearchHit,
    SearchQuery, SessionFilter, SessionPage, SessionSummary, VisitorExport, VisitorRecord,
    VisitorRecordHeader,
};

/// Read queries on one connection (the engine's own, or a [`Reader`](super::Reader)'s).
#[derive(Debug, Clone, Copy)]
pub struct Queries<'c> {
    connection: &'c Connection,
}

impl<'c> Queries<'c> {
    pub(crate) fn new(connection: &'c Connection) -> Self {
        Queries { connection }
    }

    /// A window of a session's messages (see [`HistoryQuery`]).
    pub fn message_history(
        &self,
        tenant_id: &str,
        session_id: &str,
        query: &HistoryQuery,
    ) -> Result<MessagePage, StoreError> {
        let session_no = self.session_no(tenant_id, session_id)?;
        let limit = page_size(query.limit, 50)?;
        let after = query.after.as_deref().map(decode_cursor).transpose()?;
        let before = query.before.as_deref().map(decode_cursor).transpose()?;
        let low = after.unwrap_or(0) as i64;
        let high = before.map_or(i64::MAX, |seq| seq as i64);
        // From `after` forwards; otherwise back from `before` (or the end).
        let order = if after.is_some() { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = ?1 AND session_no = ?2
               AND seq > ?3 AND seq < ?4 ORDER BY seq {order} LIMIT ?5"
        );
        let mut messages = self.messages(
            &sql,
            params![tenant_id, session_no, low, high, i64::from(limit)],
        )?;
        if after.is_none() {
            messages.reverse();
        }
        let exists = |sql: &str, seq: u64| -> Result<bool, StoreError> {
            Ok(self
                .connection
                .query_row(sql, params![tenant_id, session_no, seq as i64], |_| Ok(()))
                .optional()?
                .is_some())
        };
        let (older, newer) = match (messages.first(), messages.last()) {
            (Some(first), Some(last)) => (
                exists(
                    "SELECT 1 FROM messages WHERE tenant_id = ?1 AND session_no = ?2 AND seq < ?3",
                    first.seq,
                )?
                .then(|| first.seq.to_string()),
                exists(
                    "SELECT 1 FROM messages WHERE tenant_id = ?1 AND session_no = ?2 AND seq > ?3",
                    last.seq,
                )?
                .then(|| last.seq.to_string()),
            ),
            _ => (None, None),
        };
        let total: i64 = self.connection.query_row(
            "SELECT count(*) FROM messages WHERE tenant_id = ?1 AND session_no = ?2",
            params![tenant_id, session_no],
            |row| row.get(0),
        )?;
        Ok(MessagePage {
            messages,
            older,
            newer,
            total: total as u64,
        })
    }

    /// Sessions matching `filter`, newest first.
    pub fn list_sessions(
        &self,
        tenant_id: &str,
        filter: &SessionFilter,
    ) -> Result<SessionPage, StoreError> {
        let per_page = page_size(filter.per_page, 20)?;
        let page = filter.page.max(1);
        let mut clauses = vec!["tenant_id = ?".to_owned()];
        let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(tenant_id.to_owned())];
        if !filter.statuses.is_empty() {
            let marks = vec!["?"; filter.statuses.len()].join(", ");
            clauses.push(format!("status IN ({marks})"));
            for status in &filter.statuses {
                args.push(Box::new(status.as_str()));
            }
        }
        for (column, value) in [
            ("agent_id", &filter.agent_id),
            ("department_id", &filter.department_id),
            ("visitor_id", &filter.visitor_id),
        ] {
            if let Some(value) = value {
                if value.is_empty() {
                    // Erased visitors' sessions all carry the empty id.
                    return Err(StoreError::invalid(column, "must not be empty"));
                }
                clauses.push(format!("{column} = ?"));
                args.push(Box::new(value.clone()));
            }
        }
        if let Some(tag) = &filter.tag {
            clauses.push(
                "session_no IN (SELECT session_no FROM session_tags
                                WHERE tenant_id = sessions.tenant_id AND tag = ?)"
                    .to_owned(),
            );
            args.push(Box::new(tag.clone()));
        }
        if let Some(from) = filter.created_from {
            clauses.push("created_at >= ?".to_owned());
            args.push(Box::new(from.0));
        }
        if let Some(to) = filter.created_to {
            clauses.push("created_at < ?".to_owned());
            args.push(Box::new(to.0));
        }
        let condition = clauses.join(" AND ");
        let arg_refs: Vec<&dyn ToSql> = args.iter().map(|arg| arg.as_ref()).collect();
        let total: i64 = self.connection.query_row(
            &format!("SELECT count(*) FROM sessions WHERE {condition}"),
            arg_refs.as_slice(),
            |row| row.get(0),
        )?;
        let offset = i64::from(page - 1) * i64::from(per_page);
        let mut statement = self.connection.prepare(&format!(
            "SELECT view, preview, last_message_at
             FROM sessions LEFT JOIN session_activity USING (tenant_id, session_no)
             WHERE {condition}
             ORDER BY created_at DESC, session_no DESC LIMIT {per_page} OFFSET {offset}"
        ))?;
        let rows = statement.query_map(arg_refs.as_slice(), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut sessions = Vec::new();
        for row in rows {
            let (view, preview, last_message_at) = row?;
            sessions.push(summary(&view, preview, last_message_at)?);
        }
        Ok(SessionPage {
            sessions,
            total: total as u64,
            page,
            per_page,
        })
    }

    /// One session's last recorded state.
    pub fn session(&self, tenant_id: &str, session_id: &str) -> Result<SessionSummary, StoreError> {
        let session_no = self.session_no(tenant_id, session_id)?;
        let (view, preview, last_message_at) = self.connection.query_row(
            "SELECT view, preview, last_message_at
             FROM sessions LEFT JOIN session_activity USING (tenant_id, session_no)
             WHERE tenant_id = ?1 AND session_no = ?2",
            params![tenant_id, session_no],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            },
        )?;
        summary(&view, preview, last_message_at)
    }

    /// Every message of a session, oldest first, in one read (transcripts need them all).
    pub fn session_messages(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<Vec<MessageView>, StoreError> {
        let session_no = self.session_no(tenant_id, session_id)?;
        self.messages(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE tenant_id = ?1 AND session_no = ?2 ORDER BY seq"
            ),
            params![tenant_id, session_no],
        )
    }

    /// Every internal note of a session, oldest first.
    pub fn session_notes(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<Vec<NoteView>, StoreError> {
        let session_no = self.session_no(tenant_id, session_id)?;
        self.views(
            "SELECT view FROM notes WHERE tenant_id = ?1 AND session_no = ?2
             ORDER BY created_at, note_id",
            params![tenant_id, session_no],
        )
    }

    /// Messages of one tenant containing every word of `query.text`, best match first.
    pub fn search_messages(
        &self,
        tenant_id: &str,
        query: &SearchQuery,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let limit = page_size(query.limit, 20)?;
        let expression = match_expression(tenant_id, &query.text)?;
        let session_no = match &query.session_id {
            Some(session_id) => Some(self.session_no(tenant_id, session_id)?),
            None => None,
        };
        let messages = self.messages(
            &format!(
                "SELECT {JOINED_MESSAGE_COLUMNS}
                 FROM messages_fts AS f JOIN messages AS m ON m.id = f.rowid
                 WHERE messages_fts MATCH ?1 AND m.tenant_id = ?2 AND m.erased = 0
                   AND (?3 IS NULL OR m.session_no = ?3)
                 ORDER BY f.rank, m.id DESC LIMIT ?4 OFFSET ?5"
            ),
            params![
                expression,
                tenant_id,
                session_no,
                i64::from(limit),
                i64::from(query.offset)
            ],
        )?;
        Ok(messages
            .into_iter()
            .map(|message| SearchHit { message })
            .collect())
    }

    /// A visitor's profile with their latest sessions and tickets.
    pub fn visitor(&self, tenant_id: &str, visitor_id: &str) -> Result<VisitorRecord, StoreError> {
        require_visitor_id(visitor_id)?;
        let header = self
            .visitor_header(tenant_id, visitor_id)?
            .ok_or_else(|| not_found("visitor", visitor_id))?;
        let session_count: i64 = self.connection.query_row(
            "SELECT count(*) FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2",
            params![tenant_id, visitor_id],
            |row| row.get(0),
        )?;
        Ok(VisitorRecord {
            visitor_id: visitor_id.to_owned(),
            header,
            session_count: session_count as u64,
            sessions: self.views(
                "SELECT view FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2
                 ORDER BY created_at DESC, session_no DESC LIMIT 50",
                params![tenant_id, visitor_id],
            )?,
            tickets: self.views(
                "SELECT view FROM tickets WHERE tenant_id = ?1 AND requester_visitor_id = ?2
                 ORDER BY created_at DESC, ticket_id DESC LIMIT 50",
                params![tenant_id, visitor_id],
            )?,
        })
    }

    /// Everything stored about one visitor, for a subject access request.
    pub fn export_visitor(
        &self,
        tenant_id: &str,
        visitor_id: &str,
    ) -> Result<VisitorExport, StoreError> {
        require_visitor_id(visitor_id)?;
        let by_visitor = params![tenant_id, visitor_id];
        let export = VisitorExport {
            tenant_id: tenant_id.to_owned(),
            visitor_id: visitor_id.to_owned(),
            visitor: self.visitor_header(tenant_id, visitor_id)?,
            sessions: self.views(
                "SELECT view FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2
                 ORDER BY created_at, session_no",
                by_visitor,
            )?,
            messages: self.messages(
                &format!(
                    "SELECT {JOINED_MESSAGE_COLUMNS} FROM sessions AS s JOIN messages AS m
                       ON m.tenant_id = s.tenant_id AND m.session_no = s.session_no
                     WHERE s.tenant_id = ?1 AND s.visitor_id = ?2
                     ORDER BY s.created_at, s.session_no, m.seq"
                ),
                by_visitor,
            )?,
            notes: self.views(
                "SELECT n.view FROM sessions AS s JOIN notes AS n
                   ON n.tenant_id = s.tenant_id AND n.session_no = s.session_no
                 WHERE s.tenant_id = ?1 AND s.visitor_id = ?2
                 ORDER BY s.created_at, s.session_no, n.created_at, n.note_id",
                by_visitor,
            )?,
            transfers: self.views(
                "SELECT t.view FROM sessions AS s JOIN transfers AS t
                   ON t.tenant_id = s.tenant_id AND t.session_no = s.session_no
                 WHERE s.tenant_id = ?1 AND s.visitor_id = ?2
                 ORDER BY s.created_at, s.session_no, t.transfer_id",
                by_visitor,
            )?,
            tickets: self.views(
                "SELECT view FROM tickets WHERE tenant_id = ?1 AND requester_visitor_id = ?2
                 ORDER BY created_at, ticket_id",
                by_visitor,
            )?,
            ticket_messages: self.views(
                "SELECT m.view FROM tickets AS t JOIN ticket_messages AS m
                   ON m.tenant_id = t.tenant_id AND m.ticket_id = t.ticket_id
                 WHERE t.tenant_id = ?1 AND t.requester_visitor_id = ?2
                 ORDER BY t.created_at, t.ticket_id, m.seq",
                by_visitor,
            )?,
            surveys: self.views(
                "SELECT view FROM surveys WHERE tenant_id = ?1 AND visitor_id = ?2
                 ORDER BY survey_id",
                by_visitor,
            )?,
        };
        if export.visitor.is_none() && export.sessions.is_empty() && export.tickets.is_empty() {
            return Err(not_found("visitor", visitor_id));
        }
        Ok(export)
    }

    fn visitor_header(
        &self,
        tenant_id: &str,
        visitor_id: &str,
    ) -> Result<Option<VisitorRecordHeader>, StoreError> {
        let row = self
            .connection
            .query_row(
                "SELECT profile, first_seen_at, last_seen_at FROM visitors
                 WHERE tenant_id = ?1 AND visitor_id = ?2",
                params![tenant_id, visitor_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(profile, first, last)| {
            Ok(VisitorRecordHeader {
                profile: serde_json::from_str(&profile)?,
                first_seen_at: Timestamp(first),
                last_seen_at: Timestamp(last),
            })
        })
        .transpose()
    }

    /// The number of a session of this tenant, or "not found" (also for malformed ids).
    fn session_no(&self, tenant_id: &str, session_id: &str) -> Result<i64, StoreError> {
        let session_no = SessionId::from_str(session_id)
            .map_err(|_| not_found("session", session_id))?
            .0 as i64;
        self.connection
            .query_row(
                "SELECT session_no FROM sessions WHERE tenant_id = ?1 AND session_no = ?2",
                params![tenant_id, session_no],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| not_found("session", session_id))
    }

    fn views<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: impl Params,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let rows = statement.query_map(args, |row| row.get::<_, String>(0))?;
        let mut views = Vec::new();
        for row in rows {
            views.push(serde_json::from_str(&row?)?);
        }
        Ok(views)
    }

    /// Chat messages read with [`MESSAGE_COLUMNS`], in the query's order.
    fn messages(&self, sql: &str, args: impl Params) -> Result<Vec<MessageView>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let rows = statement.query_map(args, |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        let mut messages = Vec::new();
        for row in rows {
            messages.push(message_rows::read_view(row?)?);
        }
        Ok(messages)
    }
}

/// Erased visitors' rows carry the empty id; it never names anyone.
fn require_visitor_id(visitor_id: &str) -> Result<(), StoreError> {
    if visitor_id.is_empty() {
        Err(not_found("visitor", visitor_id))
    } else {
        Ok(())
    }
}

fn not_found(kind: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

fn page_size(asked: u32, default: u32) -> Result<u32, StoreError> {
    match asked {
        0 => Ok(default),
        n if n > MAX_PAGE_SIZE => Err(StoreError::invalid(
            "limit",
            format!("at most {MAX_PAGE_SIZE} rows per page"),
        )),
        n => Ok(n),
    }
}

fn decode_cursor(cursor: &str) -> Result<u64, StoreError> {
    cursor
        .parse::<u64>()
        .ok()
        .filter(|&seq| i64::try_from(seq).is_ok())
        .ok_or_else(|| StoreError::invalid("cursor", "not a cursor this store issued"))
}

/// Builds the FTS5 expression: the tenant's token AND each word as a quoted prefix. Words
/// are quoted so nothing the user types is read as search syntax.
fn match_expression(tenant_id: &str, text: &str) -> Result<String, StoreError> {
    if text.len() > MAX_SEARCH_BYTES {
        return Err(StoreError::invalid(
            "text",
            format!("at most {MAX_SEARCH_BYTES} bytes"),
        ));
    }
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() {
        return Err(StoreError::invalid("text", "no word to search for"));
    }
    if words.len() > MAX_SEARCH_TERMS {
        return Err(StoreError::invalid(
            "text",
            format!("at most {MAX_SEARCH_TERMS} words"),
        ));
    }
    let mut expression = format!("tenant_key : \"{}\"", tenant_key(tenant_id));
    for word in words {
        // Words hold no quote (split on every non-alphanumeric character).
        expression.push_str(&format!(" AND body : \"{word}\"*"));
    }
    Ok(expression)
}

/// A session's recorded state with its latest message: messages after that state was
/// recorded still move `last_message_at` on.
fn summary(
    view: &str,
    preview: Option<String>,
    last_message_at: Option<i64>,
) -> Result<SessionSummary, StoreError> {
    let mut session: SessionView = serde_json::from_str(view)?;
    session.last_message_at = session.last_message_at.max(last_message_at.map(Timestamp));
    Ok(SessionSummary { session, preview })
}
