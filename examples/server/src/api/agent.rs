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

use switchboard_core::protocol::model::SessionView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::live_agent::visible_session;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The agent routes.
pub fn routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(sessions::accept))
        .routes(routes!(sessions::decline))
        .routes(routes!(sessions::pick))
        .routes(routes!(sessions::assign))
        .routes(routes!(sessions::transfer))
        .routes(routes!(sessions::resolve))
        .routes(routes!(sessions::close))
        .routes(routes!(sessions::add_note, sessions::list_notes))
        .routes(routes!(sessions::add_tags))
        .routes(routes!(sessions::remove_tag))
        .routes(routes!(lookup::messages, sessions::send))
        .routes(routes!(lookup::transcript))
        .routes(routes!(sessions::email_transcript))
        .routes(routes!(canned::render))
        .routes(routes!(canned::send))
        .routes(routes!(sessions::transfer_answer))
        .routes(routes!(lookup::queue))
        .routes(routes!(canned::list, canned::create))
        .routes(routes!(canned::update, canned::remove))
        .routes(routes!(lookup::visitor))
        .routes(routes!(lookup::search))
        .routes(routes!(tickets::list))
        .routes(routes!(tickets::get))
        .routes(routes!(tickets::set_status))
        .routes(routes!(tickets::reply))
        .routes(routes!(tickets::assign))
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
