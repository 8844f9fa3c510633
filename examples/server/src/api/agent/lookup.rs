//! Reading for the dashboard: message history with cursors, transcripts, a queue's waiting
//! sessions, visitor profiles and full-text search.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::QueueId;
use switchboard_core::{Command, Reply};
use switchboard_store::query::{MAX_PAGE_SIZE, SearchQuery};
use utoipa::IntoParams;

use super::{chat_staff, staff_session};
use crate::api::messages::WindowQuery;
use crate::api::openapi::Authenticated;
use crate::api::schemas::{MessageWindow, QueueEntries, SearchResults};
use crate::api::transcript::{self, TranscriptQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::state::SharedState;

/// `GET .../messages?before=&after=&limit=`: a window of the session's messages, oldest
/// first; `older` and `newer` are the cursors of the neighbouring windows.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{session_id}/messages",
    operation_id = "agent_messages",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), WindowQuery),
    responses(
        (status = 200, description = "A window of the session's messages, oldest first, with `older` and `newer` cursors.", body = MessageWindow),
        (status = 400, description = "`invalid_input`: a bad cursor or parameter.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn messages(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Query(query): Query<WindowQuery>,
) -> ApiResult<Json<Value>> {
    staff_session(&state, &caller, &session_id).await?;
    let (tenant, history) = (caller.tenant_id().to_owned(), query.history());
    let page = state
        .readers
        .read(move |reader| {
            Ok(reader
                .queries()
                .message_history(&tenant, &session_id, &history)?)
        })
        .await?;
    Ok(Json(
        serde_json::to_value(page).map_err(|_| ApiError::internal())?,
    ))
}

/// `GET .../transcript?format=text|html`: download, with the session's tags.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{session_id}/transcript",
    operation_id = "agent_transcript",
    tag = "agent",
    security(("staff_token" = [])),
    params(("session_id" = String, Path, description = "The session, `ses_...`."), TranscriptQuery),
    responses(
        (status = 200, description = "The transcript as an attachment, with the session's tags.", content((String = "text/plain"), (String = "text/html"))),
        (status = 400, description = "`invalid_input`: a format other than text or html.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such session in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn transcript(
    State(state): State<SharedState>,
    caller: Caller,
    Path(session_id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> ApiResult<Response> {
    chat_staff(&caller)?;
    transcript::download(&state, &caller, &session_id, query).await
}

/// `GET /api/v1/agent/queues/{queue_id}/sessions`: the queue's waiting sessions in order.
#[utoipa::path(
    get,
    path = "/api/v1/agent/queues/{queue_id}/sessions",
    operation_id = "agent_queue",
    tag = "agent",
    security(("staff_token" = [])),
    params(("queue_id" = String, Path, description = "The queue.")),
    responses(
        (status = 200, description = "The queue's waiting sessions, in order.", body = QueueEntries),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such queue.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn queue(
    State(state): State<SharedState>,
    caller: Caller,
    Path(queue_id): Path<String>,
) -> ApiResult<Json<Value>> {
    chat_staff(&caller)?;
    let command = Command::ListQueue {
        queue_id: QueueId::from(queue_id),
    };
    let (reply, _) = state.engine.execute(caller.actor.clone(), command).await?;
    let Reply::Queue { entries } = reply else {
        return Err(ApiError::internal());
    };
    Ok(Json(json!({ "sessions": entries })))
}

/// `GET /api/v1/agent/visitors/{visitor_id}`: profile, first and last seen, and the
/// latest sessions and tickets.
#[utoipa::path(
    get,
    path = "/api/v1/agent/visitors/{visitor_id}",
    operation_id = "agent_visitor",
    tag = "agent",
    security(("staff_token" = [])),
    params(("visitor_id" = String, Path, description = "The visitor (a visitor id or an end user's account).")),
    responses(
        (status = 200, description = "The visitor's profile, first and last seen, and latest sessions and tickets.", body = Object),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such visitor.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn visitor(
    State(state): State<SharedState>,
    caller: Caller,
    Path(visitor_id): Path<String>,
) -> ApiResult<Json<Value>> {
    chat_staff(&caller)?;
    let tenant = caller.tenant_id().to_owned();
    let record = state
        .readers
        .read(move |reader| Ok(reader.queries().visitor(&tenant, &visitor_id)?))
        .await?;
    Ok(Json(
        serde_json::to_value(record).map_err(|_| ApiError::internal())?,
    ))
}

/// `?q=&session_id=&limit=&offset=` of a search.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (all of them, as words or prefixes).
    pub q: String,
    /// Only in this session.
    pub session_id: Option<String>,
    /// At most this many (default 20, at most 200).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// `GET /api/v1/agent/search`: the tenant's messages with every word, best first.
#[utoipa::path(
    get,
    path = "/api/v1/agent/search",
    operation_id = "agent_search",
    tag = "agent",
    security(("staff_token" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "The tenant's messages with every word, best first.", body = SearchResults),
        (status = 400, description = "`invalid_input`: a bad parameter or query.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for staff who handle chats (viewers see no conversation content), or the engine's rule for this step.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: `session_id` is no session of the tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn search(
    State(state): State<SharedState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    chat_staff(&caller)?;
    if let Some(session_id) = &params.session_id {
        staff_session(&state, &caller, session_id).await?;
    }
    let query = SearchQuery {
        text: params.q,
        session_id: params.session_id,
        limit: params.limit.unwrap_or(20).clamp(1, MAX_PAGE_SIZE),
        offset: params.offset.unwrap_or(0),
    };
    let tenant = caller.tenant_id().to_owned();
    let hits = state
        .readers
        .read(move |reader| Ok(reader.queries().search_messages(&tenant, &query)?))
        .await?;
    let messages: Vec<_> = hits.into_iter().map(|hit| hit.message).collect();
    Ok(Json(json!({ "messages": messages })))
}
