//! The agent dashboard's API (`/api/v1/agent`), for staff who handle chats: offers,
//! picking, assigning and transferring sessions, notes, tags, canned responses, message
//! history and search, visitor profiles, and tickets.
//!
//! Every session id is looked up in the caller's tenant first: another tenant's session
//! is "not found" everywhere. Viewers are refused: they see no conversation content.

pub mod canned;
pub mod lookup;
pub mod sessions;
pub mod tickets;

use axum::Router;
use axum::routing::{delete, get, post, put};
use switchboard_core::protocol::model::SessionView;

use super::live_agent::visible_session;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The agent routes.
pub fn routes() -> Router<SharedState> {
    const S: &str = "/api/v1/agent/sessions/{session_id}";
    Router::new()
        .route(&format!("{S}/accept"), post(sessions::accept))
        .route(&format!("{S}/decline"), post(sessions::decline))
        .route(&format!("{S}/pick"), post(sessions::pick))
        .route(&format!("{S}/assign"), post(sessions::assign))
        .route(&format!("{S}/transfer"), post(sessions::transfer))
        .route(&format!("{S}/resolve"), post(sessions::resolve))
        .route(&format!("{S}/close"), post(sessions::close))
        .route(
            &format!("{S}/notes"),
            post(sessions::add_note).get(sessions::list_notes),
        )
        .route(&format!("{S}/tags"), post(sessions::add_tags))
        .route(&format!("{S}/tags/{{tag}}"), delete(sessions::remove_tag))
        .route(
            &format!("{S}/messages"),
            get(lookup::messages).post(sessions::send),
        )
        .route(&format!("{S}/transcript"), get(lookup::transcript))
        .route(
            &format!("{S}/transcript/email"),
            post(sessions::email_transcript),
        )
        .route(
            &format!("{S}/canned-responses/{{canned_id}}/render"),
            get(canned::render),
        )
        .route(
            &format!("{S}/canned-responses/{{canned_id}}/send"),
            post(canned::send),
        )
        .route(
            "/api/v1/agent/transfers/{transfer_id}/{action}",
            post(sessions::transfer_answer),
        )
        .route(
            "/api/v1/agent/queues/{queue_id}/sessions",
            get(lookup::queue),
        )
        .route(
            "/api/v1/agent/canned-responses",
            get(canned::list).post(canned::create),
        )
        .route(
            "/api/v1/agent/canned-responses/{canned_id}",
            put(canned::update).delete(canned::remove),
        )
        .route("/api/v1/agent/visitors/{visitor_id}", get(lookup::visitor))
        .route("/api/v1/agent/search", get(lookup::search))
        .route("/api/v1/agent/tickets", get(tickets::list))
        .route("/api/v1/agent/tickets/{ticket_id}", get(tickets::get))
        .route(
            "/api/v1/agent/tickets/{ticket_id}/status",
            put(tickets::set_status),
        )
        .route(
            "/api/v1/agent/tickets/{ticket_id}/messages",
            post(tickets::reply),
        )
        .route(
            "/api/v1/agent/tickets/{ticket_id}/assign",
            post(tickets::assign),
        )
}

/// Refuses callers who are not staff handling chats (viewers included).
pub fn chat_staff(caller: &Caller) -> ApiResult<()> {
    caller.require_staff()?;
    if caller.actor.role.can_handle_chats() {
        Ok(())
    } else {
        Err(ApiError::forbidden("viewers see no conversation content"))
    }
}

/// A session of the caller's tenant, for staff handling chats.
pub async fn staff_session(
    state: &SharedState,
    caller: &Caller,
    session_id: &str,
) -> ApiResult<SessionView> {
    chat_staff(caller)?;
    let (session, _) = visible_session(state, caller, session_id).await?;
    Ok(session)
}
