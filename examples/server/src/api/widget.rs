//! The website widget's API (`/api/v1/widget`): init with a widget key, the pre-chat
//! start, "leave a message", transcripts, the satisfaction rating, and chat without a
//! WebSocket.
//!
//! Every route but `init` takes the visitor token `init` returned (or an ERP user token).
//! A visitor token bound to an origin is honoured only with that `Origin`, and a visitor
//! sees only their own sessions: any other session id is "not found".

pub mod chat;
pub mod init;

use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Identity};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The widget routes.
pub fn routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(init::init))
        .routes(routes!(init::availability))
        .routes(routes!(chat::start))
        .routes(routes!(chat::session))
        .routes(routes!(chat::messages, chat::send))
        .routes(routes!(chat::typing))
        .routes(routes!(chat::read))
        .routes(routes!(chat::leave))
        .routes(routes!(chat::transcript))
        .routes(routes!(chat::email_transcript))
        .routes(routes!(chat::csat))
        .routes(routes!(chat::offline))
}

/// Refuses staff: the widget API is for visitors and end users. (A visitor token bound
/// to a site was already checked against the `Origin` when it was authenticated.)
pub fn end_user(caller: &Caller) -> ApiResult<()> {
    match &caller.identity {
        Identity::Staff { .. } => Err(ApiError::forbidden(
            "the widget API is for visitors; staff use /api/v1/agent",
        )),
        Identity::User { .. } | Identity::Visitor { .. } => Ok(()),
    }
}

/// A JSON body that may also be empty (then the default).
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "malformed",
            error.to_string(),
        )
    })
}

/// A plausible e-mail address: one `@` with text on both sides, a dot in the domain, no
/// spaces, at most 254 bytes.
#[must_use]
pub fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::plausible_email;

    #[test]
    fn emails() {
        assert!(plausible_email("ana@example.com"));
        assert!(!plausible_email("ana@example"));
        assert!(!plausible_email("ana example.com"));
        assert!(!plausible_email("a@b@c.com"));
        assert!(!plausible_email("@example.com"));
        assert!(!plausible_email("ana@ example.com"));
    }
}
