//! Pieces the widget's and the agents' message endpoints share: the message body, the
//! answer to an accepted message, and message-window cursors.

use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Reply;
use switchboard_core::protocol::model::MessageKind;
use switchboard_store::query::HistoryQuery;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

/// A message written through REST (widget or agent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The text.
    pub text: String,
    /// `text` (default) or `markdown`.
    #[serde(default)]
    #[schema(value_type = Option<crate::api::openapi::MessageKindSchema>)]
    pub kind: Option<MessageKind>,
    /// Retries with the same id are accepted once.
    #[serde(default)]
    pub client_message_id: Option<String>,
}

/// What the engine answered to a message it took.
pub struct Accepted {
    /// The message's id.
    pub message_id: switchboard_core::ids::MessageId,
    /// Its place in the chat.
    pub seq: u64,
    /// A retry of a message already taken (same client message id).
    pub duplicate: bool,
}

/// Reads the engine's answer to `send_message`.
pub fn accepted(reply: Reply) -> ApiResult<Accepted> {
    match reply {
        Reply::MessageAccepted {
            message_id,
            seq,
            duplicate,
        } => Ok(Accepted {
            message_id,
            seq,
            duplicate,
        }),
        _ => Err(ApiError::internal()),
    }
}

/// The answer to an accepted message.
pub fn message_accepted(
    reply: Reply,
    session_id: switchboard_core::ids::SessionId,
    at: switchboard_core::Timestamp,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Accepted {
        message_id,
        seq,
        duplicate,
    } = accepted(reply)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message_id": message_id,
            "session_id": session_id,
            "seq": seq,
            "duplicate": duplicate,
            "created_at": at,
        })),
    ))
}

/// Cursors of a message window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// Messages before this cursor (scrolling up).
    pub before: Option<String>,
    /// Messages after this cursor (catching up; `0` from the start).
    pub after: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

impl WindowQuery {
    /// The store's query.
    #[must_use]
    pub fn history(self) -> HistoryQuery {
        HistoryQuery {
            before: self.before,
            after: self.after,
            limit: self
                .limit
                .unwrap_or(50)
                .clamp(1, switchboard_store::query::MAX_PAGE_SIZE),
        }
    }
}
