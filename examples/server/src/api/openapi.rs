//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations as the
//! router is built (see [`super::router`]), so that a route cannot exist without its
//! description; served at `GET /openapi.json`.
//!
//! This module holds what the annotations share: the document's header, the security
//! schemes, the error answers every authenticated route can give, and small schemas for
//! the engine's enums (the core crate knows nothing of OpenAPI).

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::error::{ErrorBody, ErrorDetail};

/// Security scheme of staff access tokens (`POST /api/v1/auth/login`).
pub const STAFF_TOKEN: &str = "staff_token";
/// Security scheme of visitor tokens (`POST /api/v1/widget/init`).
pub const VISITOR_TOKEN: &str = "visitor_token";
/// Security scheme of tokens the tenant's own system (ERP) signs for its users.
pub const ERP_TOKEN: &str = "erp_token";
/// Security scheme of the widget key header.
pub const WIDGET_KEY: &str = "widget_key";

const DESCRIPTION: &str = "\
REST API of the Switchboard example server: the live-agent contract, the website \
widget, the agent dashboard, tenant administration, webhooks and operations.

Every error is a JSON body `{\"error\": {\"code\", \"message\", \"details\"}}` whose \
`code` is stable. Requests carry `Authorization: Bearer <token>`; which of the three \
kinds of token an operation takes is in its security requirements. ERP user tokens name \
their tenant with `X-Tenant-Domain` (else `Host`, else `Origin`).

Chats also run over a WebSocket at `GET /ws` (commands in, replies and events out, with \
resume after a disconnect). OpenAPI does not model WebSocket frames: see `docs/api.md` \
in the repository for the frames, and for the prose of every endpoint.";

/// The document's header: title, description, tags, security schemes, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard"),
    tags(
        (name = "auth", description = "Staff log in."),
        (name = "live-agent", description = "The live-agent app's contract: sessions, messages, status."),
        (name = "widget", description = "The website widget: init with a widget key, then the visitor's side of a chat."),
        (name = "agent", description = "The agent dashboard: working on sessions, canned responses, search, tickets."),
        (name = "admin", description = "Tenant administration: staff, organisation, routing, settings, keys, privacy, analytics."),
        (name = "webhooks", description = "Webhook administration."),
        (name = "ops", description = "Health, metrics and this document."),
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Header)
)]
pub struct ApiDoc;

/// Adds what the derive cannot say: the long description and the security schemes.
struct Header;

impl Modify for Header {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.description = Some(DESCRIPTION.to_owned());
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            STAFF_TOKEN,
            bearer(
                "A staff member's access token from `POST /api/v1/auth/login` (HS256, signed \
                 by the server). An ERP token whose `role` claim is a staff role also acts \
                 as that staff member (single sign-on).",
            ),
        );
        components.add_security_scheme(
            VISITOR_TOKEN,
            bearer(
                "A website visitor's token from `POST /api/v1/widget/init` (HS256, signed by \
                 the server), honoured only from the origin it is bound to.",
            ),
        );
        components.add_security_scheme(
            ERP_TOKEN,
            bearer(
                "An end user's token signed by the tenant's own system with the tenant's ERP \
                 secret (HS256; `email` else `sub` is the account, `name` the display name). \
                 The request names the tenant: `X-Tenant-Domain`, else `Host`, else `Origin`.",
            ),
        );
        components.add_security_scheme(
            WIDGET_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Widget-Key",
                "The public key a website embeds (`wk_...`); it may instead be sent as \
                 `widget_key` in the body of `POST /api/v1/widget/init`.",
            ))),
        );
    }
}

/// An error answer with this description and the [`ErrorBody`] schema.
#[must_use]
pub fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The errors of every operation that takes a token: 401, 429 and 503.
pub struct Authenticated;

impl IntoResponses for Authenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = Limited::responses();
        responses.insert(
            "401".to_owned(),
            error_response(
                "No usable token: `missing_token`, `invalid_token`, `token_expired`, \
                 `wrong_tenant` (`X-Tenant-Domain` names another tenant), `session_revoked` \
                 (a forced logout).",
            ),
        );
        responses
    }
}

/// The errors of every `/api` operation: 429 and 503.
pub struct Limited;

impl IntoResponses for Limited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "429".to_owned(),
                error_response("`rate_limited`: too many requests from this client or tenant."),
            ),
            (
                "503".to_owned(),
                error_response(
                    "`unavailable`, `overloaded` (the engine's queue is full: retry) or \
                     `storage_unavailable`.",
                ),
            ),
        ])
    }
}

/// The errors of a JSON body beyond its content: 413 and 415.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "413".to_owned(),
                error_response("`payload_too_large`: the body is over the server's limit."),
            ),
            (
                "415".to_owned(),
                error_response("`unsupported_media_type`: send `Content-Type: application/json`."),
            ),
        ])
    }
}

/// A staff member's role (the engine's `StaffRole`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = StaffRole)]
pub enum StaffRoleSchema {
    /// Administers the tenant.
    TenantAdmin,
    /// Handles chats and assigns them to others.
    Supervisor,
    /// Handles chats.
    Agent,
    /// Sees figures, never conversation content.
    Viewer,
}

/// A message's kind (the engine's `MessageKind`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MessageKind)]
pub enum MessageKindSchema {
    /// Plain text (the default).
    Text,
    /// Markdown, rendered safely.
    Markdown,
    /// Written by the system.
    System,
    /// An attachment.
    Attachment,
}

/// An agent's presence (the engine's `AgentStatus`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AgentStatus)]
pub enum AgentStatusSchema {
    /// Takes chats.
    Online,
    /// Connected, takes no new chats.
    Away,
    /// Connected, takes no new chats.
    Busy,
    /// Not connected.
    Offline,
}

/// Who a canned response is for (the engine's `CannedScope`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CannedScope)]
pub enum CannedScopeSchema {
    /// Its author's own.
    Personal,
    /// Every agent of the tenant's (administrators create these).
    Tenant,
}

/// A chat's precise status (the engine's `SessionStatus`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SessionStatus)]
pub enum SessionStatusSchema {
    /// Just started, not routed yet.
    Pending,
    /// With a bot.
    Bot,
    /// Waiting in a queue.
    Queued,
    /// Offered to an agent.
    Offered,
    /// With an agent.
    Active,
    /// Being transferred.
    Transferring,
    /// Resolved by an agent.
    Resolved,
    /// Closed.
    Closed,
    /// The visitor left before an agent answered.
    Abandoned,
    /// No agent answered in time.
    Missed,
}

/// A ticket's status (the engine's `TicketStatus`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TicketStatus)]
pub enum TicketStatusSchema {
    /// New or reopened.
    Open,
    /// Someone works on it.
    InProgress,
    /// Waiting for the requester.
    Pending,
    /// Answered.
    Resolved,
    /// Done.
    Closed,
}

/// The serialised document, made once when the router is built.
#[derive(Clone)]
pub struct Document(pub Bytes);

/// `GET /openapi.json`: this server's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_document",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json", body = Object)),
)]
pub async fn document(Extension(document): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0)
}
