//! Internal notes and tags: staff-only annotations of a session.

use std::sync::Arc;

use super::Ctx;
use super::messages::{Party, forbidden};
use super::state::{Session, TenantState};
use crate::auth::Actor;
use crate::error::CommandError;
use crate::ids::{NoteId, SessionId};
use crate::limits::Limits;
use crate::protocol::event::Event;
use crate::protocol::model::NoteView;
use crate::protocol::output::{Recipient, Record};
use crate::protocol::reply::Reply;

impl TenantState {
    /// Staff who see a session's internal side: its agent and online supervisors.
    pub(crate) fn internal_recipients(
        &self,
        session: &Session,
        author: Option<u32>,
    ) -> Vec<Recipient> {
        let mut to = Vec::new();
        if let Some(agent) = session.agent {
            to.push(self.staff(agent));
        }
        if let Some(author) = author {
            let author = self.staff(author);
            if !to.contains(&author) {
                to.push(author);
            }
        }
        self.with_watchers(to, false)
    }

    pub(crate) fn add_note(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        body: String,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        let Party::Staff {
            agent: Some(author),
            ..
        } = party
        else {
            return Err(forbidden());
        };
        if !party.may_work_on() {
            return Err(forbidden());
        }
        Limits::check_required("body", &body, cx.limits.max_note_bytes)?;
        self.counters.note += 1;
        let note = NoteView {
            note_id: NoteId(self.counters.note),
            session_id,
            author_id: self.agent(author).profile.id.clone(),
            body: Arc::from(body),
            created_at: cx.now,
        };
        let to = self.internal_recipients(&self.sessions[&session_id.0], Some(author));
        self.persist(cx, Record::Note { note: note.clone() });
        let note_id = note.note_id;
        self.deliver(cx, to, Event::NoteAdded { note });
        Ok(Reply::NoteAdded { note_id })
    }

    pub(crate) fn change_tags(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        session_id: SessionId,
        tags: Vec<String>,
        add: bool,
    ) -> Result<Reply, CommandError> {
        let party = self.party(actor, session_id)?;
        if !party.may_work_on() {
            return Err(forbidden());
        }
        cx.limits.check_count("tags", tags.len())?;
        for tag in &tags {
            Limits::check_required("tags", tag.trim(), cx.limits.max_short_text_bytes)?;
        }
        let session = &self.sessions[&session_id.0];
        let mut updated = session.tags.clone();
        for tag in tags {
            let tag = tag.trim();
            if add {
                if !updated.iter().any(|t| &**t == tag) {
                    updated.push(Arc::from(tag));
                }
            } else {
                updated.retain(|t| &**t != tag);
            }
        }
        cx.limits.check_count("tags", updated.len())?;
        if updated == session.tags {
            return Ok(Reply::Ok);
        }
        let author = match party {
            Party::Staff { agent, .. } => agent,
            _ => None,
        };
        let to = self.internal_recipients(session, author);
        self.sessions.get_mut(&session_id.0).expect("checked").tags = updated.clone();
        self.persist_session(cx, session_id.0);
        self.deliver(
            cx,
            to,
            Event::TagsChanged {
                session_id,
                tags: updated,
            },
        );
        Ok(Reply::Ok)
    }
}
