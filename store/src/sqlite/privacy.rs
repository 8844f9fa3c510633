//! Erasing a visitor and purging old sessions. Both remove text from the read tables and
//! then checkpoint, so the journal (which holds the original inputs) no longer has it.

use std::collections::BTreeSet;

use rusqlite::{Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::ids::SessionId;
use switchboard_core::protocol::helpdesk::{SurveyView, TicketMessageView, TicketView};
use switchboard_core::protocol::model::{
    NoteView, SenderKind, SessionView, TransferView, VisitorProfile,
};
use switchboard_core::{Actor, Command, Effect, Output, Timestamp};

use super::durable::DurableEngine;
use super::message_rows::StoredMessage;
use crate::StoreError;
use crate::query::RetentionReport;

/// The longest retention period accepted (100 years), in days.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

const DAY_MS: i64 = 86_400_000;

impl DurableEngine {
    /// Forgets a visitor: the engine drops them from its memory (refused while they have a
    /// live chat or an open ticket), and in the same transaction their messages and notes
    /// become tombstones (empty body, no attachment), their profile and ticket contact
    /// fields are erased and their visitor row is removed. The audit entry of the erasure
    /// stays. A snapshot then replaces the journal, which held their original inputs.
    pub fn forget_visitor(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        visitor_id: &str,
    ) -> Result<Vec<Output>, StoreError> {
        self.require_nothing_staged()?;
        let command = Command::ForgetVisitor {
            visitor_id: visitor_id.into(),
        };
        let (_, outputs) = self.execute(now, actor, command)?;
        self.checkpoint()?;
        self.truncate_wal()?;
        Ok(outputs)
    }

    /// Sets (or with `None` clears) a tenant's retention period: ended sessions older than
    /// `days` are purged by [`apply_retention`](Self::apply_retention).
    pub fn set_retention(&mut self, tenant_id: &str, days: Option<u32>) -> Result<(), StoreError> {
        let connection = self.connection_mut()?;
        match days {
            Some(days) if days == 0 || days > MAX_RETENTION_DAYS => Err(StoreError::invalid(
                "days",
                format!("between 1 and {MAX_RETENTION_DAYS}"),
            )),
            Some(days) => {
                connection.execute(
                    "INSERT INTO retention (tenant_id, days) VALUES (?1, ?2)
                     ON CONFLICT (tenant_id) DO UPDATE SET days = excluded.days",
                    params![tenant_id, days],
                )?;
                Ok(())
            }
            None => {
                connection.execute(
                    "DELETE FROM retention WHERE tenant_id = ?1",
                    params![tenant_id],
                )?;
                Ok(())
            }
        }
    }

    /// A tenant's retention period in days, if one is set.
    pub fn retention(&self, tenant_id: &str) -> Result<Option<u32>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .connection()
            .query_row(
                "SELECT days FROM retention WHERE tenant_id = ?1",
                params![tenant_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Purges, for every tenant with a retention period, the closed, abandoned and missed
    /// sessions that ended more than that many days before `now` (a resolved chat is still
    /// live until it closes), with their messages, notes, tags, transfers and
    /// surveys, and visitors left with no session or ticket. Measurements and the audit
    /// log stay (they hold no message text).
    pub fn apply_retention(&mut self, now: Timestamp) -> Result<RetentionReport, StoreError> {
        self.require_nothing_staged()?;
        // Purging works on the read tables: they must hold every committed record first.
        self.project()?;
        let connection = self.connection_mut()?;
        let tx = connection.transaction()?;
        let policies: Vec<(String, i64)> = {
            let mut statement = tx.prepare("SELECT tenant_id, days FROM retention")?;
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut report = RetentionReport::default();
        for (tenant, days) in policies {
            let cutoff = now.0.saturating_sub(days.saturating_mul(DAY_MS));
            let purged = purge_ended_sessions(&tx, &tenant, cutoff)?;
            report.sessions += purged.sessions;
            report.messages += purged.messages;
        }
        tx.commit()?;
        if report.sessions > 0 {
            self.checkpoint()?;
            self.truncate_wal()?;
        }
        Ok(report)
    }

    /// Moves everything from the WAL into the file and empties it, so removed text does
    /// not linger in old WAL frames. Readers still on old frames may keep part of it.
    fn truncate_wal(&mut self) -> Result<(), StoreError> {
        self.connection_mut()?
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Erases one visitor's personal data from the read tables (see
/// [`DurableEngine::forget_visitor`]).
pub(crate) fn erase_visitor(
    tx: &Transaction<'_>,
    tenant: &str,
    visitor_id: &str,
) -> Result<(), StoreError> {
    let sessions: Vec<i64> = column(
        tx,
        "SELECT session_no FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2",
        params![tenant, visitor_id],
    )?;
    for &session_no in &sessions {
        let by_session = params![tenant, session_no];
        tx.execute(
            "DELETE FROM messages_fts WHERE rowid IN
               (SELECT id FROM messages WHERE tenant_id = ?1 AND session_no = ?2)",
            by_session,
        )?;
        rewrite::<StoredMessage>(
            tx,
            "messages",
            "id",
            "SELECT id, view FROM messages WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
            |message| {
                message.body = "".into();
                message.attachment = None;
                message.client_message_id = None;
                if message.sender.kind == SenderKind::Visitor {
                    message.sender.id = None;
                    message.sender.name = None;
                }
            },
        )?;
        tx.execute(
            "UPDATE messages SET erased = 1 WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
        )?;
        tx.execute(
            "UPDATE session_activity SET preview = NULL WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
        )?;
        rewrite::<NoteView>(
            tx,
            "notes",
            "rowid",
            "SELECT rowid, view FROM notes WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
            |note| note.body = "".into(),
        )?;
        rewrite::<TransferView>(
            tx,
            "transfers",
            "rowid",
            "SELECT rowid, view FROM transfers WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
            |transfer| transfer.reason.clear(),
        )?;
    }
    rewrite::<SessionView>(
        tx,
        "sessions",
        "rowid",
        "SELECT rowid, view FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2",
        params![tenant, visitor_id],
        |session| {
            session.visitor_id = "".into();
            session.visitor = VisitorProfile::default().into();
            session.issue_type = None;
            session.handoff_reason = None;
            if let Some(csat) = &mut session.csat {
                csat.comment = None;
            }
        },
    )?;
    tx.execute(
        "UPDATE sessions SET visitor_id = ''
         WHERE tenant_id = ?1 AND visitor_id = ?2",
        params![tenant, visitor_id],
    )?;
    tx.execute(
        "DELETE FROM visitors WHERE tenant_id = ?1 AND visitor_id = ?2",
        params![tenant, visitor_id],
    )?;

    let tickets: Vec<String> = column(
        tx,
        "SELECT ticket_id FROM tickets WHERE tenant_id = ?1 AND requester_visitor_id = ?2",
        params![tenant, visitor_id],
    )?;
    for ticket in &tickets {
        rewrite::<TicketMessageView>(
            tx,
            "ticket_messages",
            "rowid",
            "SELECT rowid, view FROM ticket_messages WHERE tenant_id = ?1 AND ticket_id = ?2",
            params![tenant, ticket],
            |message| {
                message.body = "".into();
                message.attachments.clear();
                if message.sender.kind == SenderKind::Visitor {
                    message.sender.id = None;
                    message.sender.name = None;
                }
            },
        )?;
        tx.execute(
            "UPDATE ticket_messages SET erased = 1 WHERE tenant_id = ?1 AND ticket_id = ?2",
            params![tenant, ticket],
        )?;
    }
    rewrite::<TicketView>(
        tx,
        "tickets",
        "rowid",
        "SELECT rowid, view FROM tickets WHERE tenant_id = ?1 AND requester_visitor_id = ?2",
        params![tenant, visitor_id],
        |ticket| {
            ticket.requester = Default::default();
            ticket.subject = "".into();
            ticket.description = "".into();
            if &*ticket.created_by == visitor_id {
                ticket.created_by = "".into();
            }
        },
    )?;
    tx.execute(
        "UPDATE tickets SET requester_visitor_id = NULL
         WHERE tenant_id = ?1 AND requester_visitor_id = ?2",
        params![tenant, visitor_id],
    )?;
    // Surveys addressed to them, and surveys about their chats and tickets.
    let mut targets: Vec<String> = sessions
        .iter()
        .map(|&no| SessionId(no as u64).to_string())
        .collect();
    targets.extend(tickets.iter().cloned());
    let mut surveys: Vec<String> = column(
        tx,
        "SELECT survey_id FROM surveys WHERE tenant_id = ?1 AND visitor_id = ?2",
        params![tenant, visitor_id],
    )?;
    for target in &targets {
        surveys.extend(column::<String>(
            tx,
            "SELECT survey_id FROM surveys WHERE tenant_id = ?1 AND target = ?2",
            params![tenant, target],
        )?);
    }
    for survey in &surveys {
        rewrite::<SurveyView>(
            tx,
            "surveys",
            "rowid",
            "SELECT rowid, view FROM surveys WHERE tenant_id = ?1 AND survey_id = ?2",
            params![tenant, survey],
            |survey| {
                survey.visitor_id = None;
                survey.comment = None;
            },
        )?;
        tx.execute(
            "UPDATE surveys SET visitor_id = NULL WHERE tenant_id = ?1 AND survey_id = ?2",
            params![tenant, survey],
        )?;
    }
    // The audit trail keeps what was done and when, not by whom or with which text: their
    // own actions lose the actor id, and changes to their tickets lose the values.
    tx.execute(
        "UPDATE audit_log SET actor_id = '' WHERE tenant_id = ?1 AND actor_id = ?2
           AND actor_role = 'visitor'",
        params![tenant, visitor_id],
    )?;
    for ticket in &tickets {
        tx.execute(
            "UPDATE audit_log SET changes = NULL WHERE tenant_id = ?1 AND target = ?2",
            params![tenant, ticket],
        )?;
    }
    drop_pending_effects(tx, tenant, &sessions, &tickets)
}

/// Drops effects not yet carried out that would still send their data somewhere (a
/// transcript or confirmation e-mail, a push with a message preview).
fn drop_pending_effects(
    tx: &Transaction<'_>,
    tenant: &str,
    sessions: &[i64],
    tickets: &[String],
) -> Result<(), StoreError> {
    let sessions: BTreeSet<u64> = sessions.iter().map(|&no| no as u64).collect();
    let pending: Vec<(i64, String)> = {
        let mut statement = tx.prepare("SELECT id, effect FROM outbox WHERE tenant_id = ?1")?;
        statement
            .query_map(params![tenant], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, effect) in pending {
        let concerned = match serde_json::from_str::<Effect>(&effect)? {
            Effect::EmailTranscript { session_id, .. }
            | Effect::PushNotification { session_id, .. } => sessions.contains(&session_id.0),
            Effect::EmailTicketConfirmation { ticket_id, .. } => {
                tickets.contains(&ticket_id.to_string())
            }
            _ => false,
        };
        if concerned {
            tx.execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
        }
    }
    Ok(())
}

/// Removes the sessions of `tenant` that ended before `cutoff`, and what hangs off them.
fn purge_ended_sessions(
    tx: &Transaction<'_>,
    tenant: &str,
    cutoff: i64,
) -> Result<RetentionReport, StoreError> {
    let expired: Vec<(i64, String, String)> = {
        let mut statement = tx.prepare(
            "SELECT session_no, session_id, visitor_id FROM sessions
             WHERE tenant_id = ?1 AND ended_at IS NOT NULL AND ended_at < ?2
               AND status IN ('closed', 'abandoned', 'missed')",
        )?;
        statement
            .query_map(params![tenant, cutoff], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<Result<_, _>>()?
    };
    let mut report = RetentionReport::default();
    let mut visitors = BTreeSet::new();
    for (session_no, session_id, visitor_id) in expired {
        let by_session = params![tenant, session_no];
        tx.execute(
            "DELETE FROM messages_fts WHERE rowid IN
               (SELECT id FROM messages WHERE tenant_id = ?1 AND session_no = ?2)",
            by_session,
        )?;
        report.messages += tx.execute(
            "DELETE FROM messages WHERE tenant_id = ?1 AND session_no = ?2",
            by_session,
        )? as u64;
        for table in [
            "notes",
            "session_tags",
            "transfers",
            "session_activity",
            "sessions",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE tenant_id = ?1 AND session_no = ?2"),
                by_session,
            )?;
        }
        tx.execute(
            "DELETE FROM surveys WHERE tenant_id = ?1 AND target = ?2",
            params![tenant, session_id],
        )?;
        report.sessions += 1;
        visitors.insert(visitor_id);
    }
    for visitor in visitors {
        tx.execute(
            "DELETE FROM visitors WHERE tenant_id = ?1 AND visitor_id = ?2
               AND NOT EXISTS (SELECT 1 FROM sessions WHERE tenant_id = ?1 AND visitor_id = ?2)
               AND NOT EXISTS (SELECT 1 FROM tickets
                               WHERE tenant_id = ?1 AND requester_visitor_id = ?2)",
            params![tenant, visitor],
        )?;
    }
    Ok(report)
}

/// Rewrites the JSON `view` of the rows `select` returns (row key, view) with `change`.
fn rewrite<T: Serialize + DeserializeOwned>(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    select: &str,
    args: impl rusqlite::Params,
    mut change: impl FnMut(&mut T),
) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = {
        let mut statement = tx.prepare(select)?;
        statement
            .query_map(args, |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut update = tx.prepare(&format!("UPDATE {table} SET view = ?1 WHERE {key} = ?2"))?;
    for (id, view) in rows {
        let mut value: T = serde_json::from_str(&view)?;
        change(&mut value);
        update.execute(params![serde_json::to_string(&value)?, id])?;
    }
    Ok(())
}

fn column<T: rusqlite::types::FromSql>(
    tx: &Transaction<'_>,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError> {
    let mut statement = tx.prepare(sql)?;
    let values = statement
        .query_map(args, |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(values)
}
