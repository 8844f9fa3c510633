//! Folds the engine's outputs into the read tables, inside the step's transaction.

use rusqlite::{CachedStatement, Transaction, params};
use rustc_hash::FxHashMap;
use serde::Serialize;
use switchboard_core::protocol::helpdesk::{SlaSubject, SurveyTarget};
use switchboard_core::protocol::model::{MessageKind, MessageView, SessionView};
use switchboard_core::{Output, Record};

use super::message_rows::StoredMessage;
use crate::StoreError;

/// Characters of a message kept as the session's preview in lists.
const PREVIEW_CHARS: usize = 120;

/// Writes the effects among `outputs` into the outbox.
pub(crate) fn write_effects(tx: &Transaction<'_>, outputs: &[Output]) -> Result<(), StoreError> {
    for output in outputs {
        if let Output::Effect {
            tenant_id,
            effect_id,
            effect,
        } = output
        {
            tx.prepare_cached(
                "INSERT INTO outbox (tenant_id, effect_id, effect) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                tenant_id.as_str(),
                effect_id.to_string(),
                serde_json::to_string(effect)?
            ])?;
        }
    }
    Ok(())
}

/// Writes the records among `outputs` into the read tables. Events are not stored; they
/// are delivered after the commit. Effects go to the outbox through [`write_effects`].
pub(crate) fn write_records(tx: &Transaction<'_>, outputs: &[Output]) -> Result<(), StoreError> {
    // A busy chat records its session after every message; within one commit only the
    // latest state matters. It is written where the session first appears, so the row
    // exists before anything later in the commit updates it.
    let mut latest_session: FxHashMap<(&str, u64), &SessionView> = FxHashMap::default();
    for output in outputs {
        if let Output::Persist {
            tenant_id,
            record: Record::Session { session },
        } = output
        {
            latest_session.insert((tenant_id.as_str(), session.session_id.0), session);
        }
    }
    // Likewise a session's preview: only its last message in the commit shows. Pending
    // previews are written before any other kind of record, so a record that changes the
    // preview itself (an erasure) still has the last word.
    let mut previews: FxHashMap<(&str, u64), &MessageView> = FxHashMap::default();
    // Prepared once for the whole batch: most records are messages, and looking the two
    // statements up for each one showed in profiles.
    let mut messages = MessageWriter::prepare(tx)?;
    for output in outputs {
        match output {
            Output::Persist {
                tenant_id,
                record: Record::Session { session },
            } => {
                if let Some(latest) =
                    latest_session.remove(&(tenant_id.as_str(), session.session_id.0))
                {
                    upsert_session(tx, tenant_id, latest)?;
                }
            }
            Output::Persist {
                tenant_id,
                record: Record::Message { message },
            } => {
                messages.insert(tx, tenant_id, message)?;
                if message.kind != MessageKind::System {
                    previews.insert((tenant_id.as_str(), message.session_id.0), message);
                }
            }
            Output::Persist { tenant_id, record } => {
                write_previews(tx, &mut previews)?;
                apply_record(tx, tenant_id, record)?;
            }
            Output::Effect { .. } | Output::Deliver { .. } => {}
        }
    }
    write_previews(tx, &mut previews)
}

fn write_previews(
    tx: &Transaction<'_>,
    previews: &mut FxHashMap<(&str, u64), &MessageView>,
) -> Result<(), StoreError> {
    for ((tenant, session_no), message) in previews.drain() {
        let preview: String = message.body.chars().take(PREVIEW_CHARS).collect();
        tx.prepare_cached(
            "INSERT INTO session_activity (tenant_id, session_no, preview, last_message_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, session_no) DO UPDATE SET preview = excluded.preview,
                last_message_at = max(last_message_at, excluded.last_message_at)",
        )?
        .execute(params![
            tenant,
            session_no as i64,
            preview,
            message.created_at.0
        ])?;
    }
    Ok(())
}

/// The statements that store messages.
struct MessageWriter<'tx> {
    row: CachedStatement<'tx>,
    words: CachedStatement<'tx>,
    /// Each message's JSON, in one buffer for the batch.
    view: Vec<u8>,
}

impl<'tx> MessageWriter<'tx> {
    fn prepare(tx: &'tx Transaction<'_>) -> Result<Self, StoreError> {
        Ok(MessageWriter {
            row: tx.prepare_cached(
                "INSERT INTO messages (tenant_id, session_no, seq, created_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            words: tx.prepare_cached(
                "INSERT INTO messages_fts (rowid, tenant_key, body) VALUES (?1, ?2, ?3)",
            )?,
            view: Vec::new(),
        })
    }

    /// Stores a message and indexes its words (system notices are not searchable).
    fn insert(
        &mut self,
        tx: &Transaction<'_>,
        tenant: &str,
        message: &MessageView,
    ) -> Result<(), StoreError> {
        self.view.clear();
        serde_json::to_writer(&mut self.view, &StoredMessage::of(message))?;
        let view = std::str::from_utf8(&self.view).map_err(|error| StoreError::Corrupt {
            detail: format!("a message serialized to invalid UTF-8: {error}"),
        })?;
        self.row.execute(params![
            tenant,
            message.session_id.0 as i64,
            message.seq as i64,
            message.created_at.0,
            view
        ])?;
        if message.kind == MessageKind::System {
            return Ok(());
        }
        let rowid = tx.last_insert_rowid();
        self.words
            .execute(params![rowid, tenant_key(tenant), &*message.body])?;
        Ok(())
    }
}

fn apply_record(tx: &Transaction<'_>, tenant: &str, record: &Record) -> Result<(), StoreError> {
    match record {
        // Written by `write_records`, which keeps only the latest of each per commit.
        Record::Session { .. } | Record::Message { .. } => Ok(()),
        Record::Note { note } => {
            tx.prepare_cached(
                "INSERT INTO notes (tenant_id, note_id, session_no, created_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                tenant,
                note.note_id.to_string(),
                note.session_id.0 as i64,
                note.created_at.0,
                json(note)?
            ])?;
            Ok(())
        }
        Record::Transfer { transfer } => {
            tx.prepare_cached(
                "INSERT INTO transfers (tenant_id, transfer_id, session_no, view)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant_id, transfer_id) DO UPDATE SET view = excluded.view",
            )?
            .execute(params![
                tenant,
                transfer.transfer_id.to_string(),
                transfer.session_id.0 as i64,
                json(transfer)?
            ])?;
            Ok(())
        }
        Record::AgentStatus {
            agent_id,
            status,
            at,
        } => {
            tx.prepare_cached(
                "INSERT INTO agent_status_log (tenant_id, agent_id, status, at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, agent_id.as_str(), label(status)?, at.0])?;
            Ok(())
        }
        Record::Conversation { conversation } => {
            tx.prepare_cached(
                "INSERT INTO conversations (tenant_id, conversation_id, view) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET view = excluded.view",
            )?
            .execute(params![
                tenant,
                conversation.conversation_id.to_string(),
                json(conversation)?
            ])?;
            Ok(())
        }
        Record::ConversationMessage { message } => {
            tx.prepare_cached(
                "INSERT INTO conversation_messages
                    (tenant_id, conversation_id, seq, created_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                tenant,
                message.conversation_id.to_string(),
                message.seq as i64,
                message.created_at.0,
                json(message)?
            ])?;
            Ok(())
        }
        Record::Ticket { ticket } => {
            tx.prepare_cached(
                "INSERT INTO tickets (tenant_id, ticket_id, requester_visitor_id, status,
                    assignee_id, department_id, created_at, updated_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET
                    requester_visitor_id = excluded.requester_visitor_id,
                    status = excluded.status, assignee_id = excluded.assignee_id,
                    department_id = excluded.department_id,
                    updated_at = excluded.updated_at, view = excluded.view",
            )?
            .execute(params![
                tenant,
                ticket.ticket_id.to_string(),
                ticket.requester.visitor_id.as_deref(),
                ticket.status.as_str(),
                ticket.assignee_id.as_deref(),
                ticket.department_id.as_deref(),
                ticket.created_at.0,
                ticket.updated_at.0,
                json(ticket)?
            ])?;
            Ok(())
        }
        Record::TicketMessage { message } => {
            tx.prepare_cached(
                "INSERT INTO ticket_messages (tenant_id, ticket_id, seq, created_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                tenant,
                message.ticket_id.to_string(),
                message.seq as i64,
                message.created_at.0,
                json(message)?
            ])?;
            Ok(())
        }
        Record::TicketAudit {
            ticket_id,
            actor_id,
            actor_role,
            action,
            changes,
            at,
        } => audit(
            tx,
            tenant,
            AuditRow {
                actor_id,
                actor_role: actor_role.as_str(),
                action,
                target: &ticket_id.to_string(),
                changes: Some(json(changes)?),
                at: at.0,
            },
        ),
        Record::SlaMeasurement { measurement } => {
            tx.prepare_cached(
                "INSERT INTO sla_measurements
                    (tenant_id, subject, metric, cycle, started_at, view)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant_id, subject, metric, cycle)
                 DO UPDATE SET view = excluded.view",
            )?
            .execute(params![
                tenant,
                sla_subject(&measurement.subject),
                label(&measurement.metric)?,
                measurement.cycle,
                measurement.started_at.0,
                json(measurement)?
            ])?;
            Ok(())
        }
        Record::Survey { survey } => {
            tx.prepare_cached(
                "INSERT INTO surveys (tenant_id, survey_id, visitor_id, target, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id, survey_id) DO UPDATE SET view = excluded.view",
            )?
            .execute(params![
                tenant,
                survey.survey_id.to_string(),
                survey.visitor_id.as_deref(),
                survey_target(&survey.target),
                json(survey)?
            ])?;
            Ok(())
        }
        Record::Audit {
            actor_id,
            actor_role,
            action,
            target,
            at,
        } => audit(
            tx,
            tenant,
            AuditRow {
                actor_id,
                actor_role: actor_role.as_str(),
                action,
                target,
                changes: None,
                at: at.0,
            },
        ),
        Record::Agent { agent } => {
            tx.prepare_cached(
                "INSERT INTO agents (tenant_id, agent_id, profile, removed_at)
                 VALUES (?1, ?2, ?3, NULL)
                 ON CONFLICT (tenant_id, agent_id)
                 DO UPDATE SET profile = excluded.profile, removed_at = NULL",
            )?
            .execute(params![tenant, agent.id.as_str(), json(agent)?])?;
            Ok(())
        }
        Record::AgentRemoved { agent_id, at } => {
            // The row stays: messages, measurements and the audit log still name the agent.
            tx.prepare_cached(
                "UPDATE agents SET removed_at = ?3 WHERE tenant_id = ?1 AND agent_id = ?2",
            )?
            .execute(params![tenant, agent_id.as_str(), at.0])?;
            Ok(())
        }
        Record::CannedResponse { canned_response } => {
            tx.prepare_cached(
                "INSERT INTO canned_responses (tenant_id, canned_response_id, view)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id, canned_response_id) DO UPDATE SET view = excluded.view",
            )?
            .execute(params![
                tenant,
                canned_response.canned_response_id.to_string(),
                json(canned_response)?
            ])?;
            Ok(())
        }
        Record::CannedResponseDeleted {
            canned_response_id, ..
        } => {
            tx.prepare_cached(
                "DELETE FROM canned_responses WHERE tenant_id = ?1 AND canned_response_id = ?2",
            )?
            .execute(params![tenant, canned_response_id.to_string()])?;
            Ok(())
        }
        Record::VisitorForgotten { visitor_id, .. } => {
            super::privacy::erase_visitor(tx, tenant, visitor_id)
        }
        // A kind of record this schema has no table for yet: kept whole, not dropped.
        other => {
            tx.prepare_cached("INSERT INTO other_records (tenant_id, record) VALUES (?1, ?2)")?
                .execute(params![tenant, json(other)?])?;
            Ok(())
        }
    }
}

fn upsert_session(
    tx: &Transaction<'_>,
    tenant: &str,
    session: &SessionView,
) -> Result<(), StoreError> {
    let session_no = session.session_id.0 as i64;
    tx.prepare_cached(
        "INSERT INTO sessions (tenant_id, session_id, session_no, visitor_id, status, agent_id,
            department_id, queue_id, created_at, ended_at, view)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (tenant_id, session_no) DO UPDATE SET
            status = excluded.status, agent_id = excluded.agent_id,
            department_id = excluded.department_id, queue_id = excluded.queue_id,
            ended_at = excluded.ended_at, view = excluded.view",
    )?
    .execute(params![
        tenant,
        session.session_id.to_string(),
        session_no,
        session.visitor_id.as_str(),
        session.status.as_str(),
        session.agent_id.as_deref(),
        session.department_id.as_deref(),
        session.queue_id.as_deref(),
        session.created_at.0,
        session.ended_at.map(|t| t.0),
        json(session)?
    ])?;
    tx.prepare_cached("DELETE FROM session_tags WHERE tenant_id = ?1 AND session_no = ?2")?
        .execute(params![tenant, session_no])?;
    let mut insert_tag = tx.prepare_cached(
        "INSERT OR IGNORE INTO session_tags (tenant_id, tag, session_no) VALUES (?1, ?2, ?3)",
    )?;
    for tag in &session.tags {
        insert_tag.execute(params![tenant, &**tag, session_no])?;
    }
    let seen = session
        .last_message_at
        .unwrap_or(session.created_at)
        .0
        .max(session.created_at.0);
    tx.prepare_cached(
        "INSERT INTO visitors (tenant_id, visitor_id, profile, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, visitor_id) DO UPDATE SET
            profile = excluded.profile,
            first_seen_at = min(visitors.first_seen_at, excluded.first_seen_at),
            last_seen_at = max(visitors.last_seen_at, excluded.last_seen_at)",
    )?
    .execute(params![
        tenant,
        session.visitor_id.as_str(),
        json(&*session.visitor)?,
        session.created_at.0,
        seen
    ])?;
    Ok(())
}

struct AuditRow<'a> {
    actor_id: &'a str,
    actor_role: &'a str,
    action: &'a str,
    target: &'a str,
    changes: Option<String>,
    at: i64,
}

fn audit(tx: &Transaction<'_>, tenant: &str, row: AuditRow<'_>) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit_log (tenant_id, actor_id, actor_role, action, target, changes, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        tenant,
        row.actor_id,
        row.actor_role,
        row.action,
        row.target,
        row.changes,
        row.at
    ])?;
    Ok(())
}

/// The full-text token that confines a search to one tenant: `t` and the tenant id in hex,
/// one token for the unicode61 tokenizer whatever characters the id holds.
pub(crate) fn tenant_key(tenant: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(1 + tenant.len() * 2);
    key.push('t');
    for byte in tenant.bytes() {
        key.push(char::from(HEX[usize::from(byte >> 4)]));
        key.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    key
}

pub(crate) fn sla_subject(subject: &SlaSubject) -> String {
    match subject {
        SlaSubject::Ticket { ticket_id } => ticket_id.to_string(),
        SlaSubject::Session { session_id } => session_id.to_string(),
    }
}

pub(crate) fn survey_target(target: &SurveyTarget) -> String {
    match target {
        SurveyTarget::Session { session_id } => session_id.to_string(),
        SurveyTarget::Ticket { ticket_id } => ticket_id.to_string(),
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

/// The wire name of a unit enum value (`"agent"`, `"online"`).
fn label<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(name) => Ok(name),
        other => Ok(other.to_string()),
    }
}
