//! Transcript downloads: a session's stored messages rendered as plain text or as a
//! standalone HTML page (everything the visitor or an agent typed is escaped by the
//! renderer), served as an attachment; and e-mailed transcripts of chats that have ended.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_core::protocol::model::SessionView;
use switchboard_core::transcript::{Audience, TranscriptInput, render_html, render_text};
use switchboard_core::{Command, Role};
use utoipa::IntoParams;

use super::live_agent::visible_session;
use super::tenant_config;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The policy sent with HTML transcripts: nothing loads and nothing runs.
const HTML_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:";

/// `?format=` of a transcript download.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `text` (default) or `html`.
    pub format: Option<String>,
}

/// Renders the session's transcript for a caller who may see the session (its visitor, or
/// staff who see conversation content); anyone else gets 404.
pub async fn download(
    state: &SharedState,
    caller: &Caller,
    session_id: &str,
    query: TranscriptQuery,
) -> ApiResult<Response> {
    let html = match query.format.as_deref().unwrap_or("text") {
        "text" | "txt" => false,
        "html" => true,
        other => {
            return Err(ApiError::invalid(
                "format",
                format!("{other:?} is not text or html"),
            ));
        }
    };
    let (session, _) = visible_session(state, caller, session_id).await?;
    if caller.actor.role == Role::Viewer {
        return Err(ApiError::forbidden("viewers see no conversation content"));
    }
    let settings = tenant_config::settings(&state.directory, caller.tenant_id());
    let title = settings
        .as_ref()
        .map(|settings| settings.name.clone())
        .filter(|name| !name.trim().is_empty());
    let time_zone = settings
        .and_then(|settings| settings.business_hours)
        .map(|hours| hours.time_zone);
    let audience = if caller.is_staff() {
        Audience::Staff
    } else {
        Audience::Visitor
    };
    let (tenant, id) = (caller.tenant_id().to_owned(), session_id.to_owned());
    let body = state
        .readers
        .read(move |reader| {
            let messages = reader.queries().session_messages(&tenant, &id)?;
            let input = TranscriptInput {
                title: title.as_deref(),
                time_zone: time_zone.as_deref(),
                audience,
                ..TranscriptInput::new(&session, &messages)
            };
            Ok(if html {
                render_html(&input)
            } else {
                render_text(&input)
            })
        })
        .await?;
    let (content_type, extension) = if html {
        ("text/html; charset=utf-8", "html")
    } else {
        ("text/plain; charset=utf-8", "txt")
    };
    let disposition = format!("attachment; filename=\"transcript-{session_id}.{extension}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|_| ApiError::not_found("session"))?,
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_POLICY),
        );
    }
    Ok(response)
}

/// Has a chat's transcript e-mailed, as the caller asks. The engine forgets chats when
/// they end, so for one it no longer holds, `when_ended` decides from the stored chat
/// (already checked to be the caller's to see) whether the caller may still have it sent,
/// and to which address; the server then asks as the host (the `system` actor), and the
/// engine checks the address and emits the e-mail effect as for a live chat.
pub async fn email(
    state: &SharedState,
    caller: &Caller,
    session: &SessionView,
    email: Option<String>,
    when_ended: impl FnOnce(Option<String>) -> ApiResult<Option<String>>,
) -> ApiResult<()> {
    let command = Command::EmailTranscript {
        session_id: session.session_id,
        email: email.clone(),
    };
    match state.engine.execute(caller.actor.clone(), command).await {
        Err(error) if error.status == StatusCode::NOT_FOUND => {
            let command = Command::EmailTranscript {
                session_id: session.session_id,
                email: when_ended(email)?,
            };
            let host = crate::auth::host_actor(caller.tenant_id());
            state.engine.execute(host, command).await?;
            Ok(())
        }
        outcome => outcome.map(|_| ()),
    }
}
