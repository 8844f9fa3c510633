//! Tenant settings, the widget (branding and pre-chat form), and tenant-wide canned
//! responses.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Command;
use switchboard_core::protocol::model::{CannedScope, TenantSettings, WidgetBranding};
use utoipa::ToSchema;

use super::{admin, commit_host, execute};
use crate::api::agent::canned::{self, CannedBody, create_scoped, list_scoped};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{CannedAnswer, CannedList, WidgetSettings};
use crate::api::tenant_config::{self, PreChatForm, SETTINGS, WIDGET, WidgetConfig};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// `GET /api/v1/admin/settings`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings",
    operation_id = "admin_settings_get",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant settings (the engine's tenant settings).", body = Object),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: the server has no copy of this tenant's settings.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn get(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let settings = tenant_config::settings(&state.directory, caller.tenant_id())
        .ok_or_else(|| ApiError::not_found("settings"))?;
    Ok(Json(json!(settings)))
}

/// `PUT /api/v1/admin/settings`: replaces every setting (name, business hours, branding,
/// features, limits, timers, default queue, fairness cap, ticket prefix).
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings",
    operation_id = "admin_settings_put",
    tag = "admin",
    security(("staff_token" = [])),
    request_body(content = Object, description = "Every setting (the engine's tenant settings): name, business hours, branding, features, limits, timers, default queue, fairness cap, ticket prefix."),
    responses(
        (status = 200, description = "The settings as saved.", body = Object),
        (status = 400, description = "`malformed` (not the engine's shape), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put(
    State(state): State<SharedState>,
    caller: Caller,
    Body(settings): Body<Value>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let settings: TenantSettings = crate::extract::strict(settings)?;
    let copy = tenant_config::write(caller.tenant_id(), SETTINGS, &settings)?;
    let command = Command::UpdateTenantSettings {
        settings: settings.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!(settings)))
}

/// `GET /api/v1/admin/widget`: branding and the pre-chat form.
#[utoipa::path(
    get,
    path = "/api/v1/admin/widget",
    operation_id = "admin_settings_widget",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The widget's branding and pre-chat form.", body = WidgetSettings),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn widget(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let branding = tenant_config::settings(&state.directory, caller.tenant_id())
        .map(|settings| settings.branding);
    let widget = tenant_config::widget(&state.directory, caller.tenant_id());
    Ok(Json(
        json!({ "branding": branding, "pre_chat": widget.pre_chat }),
    ))
}

/// Widget changes; omitted parts keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetBody {
    /// Colours, font, logo, position, theme, texts, languages (the engine's widget
    /// branding).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub branding: Option<WidgetBranding>,
    /// The pre-chat form.
    #[serde(default)]
    pub pre_chat: Option<PreChatForm>,
}

/// `PUT /api/v1/admin/widget`: branding goes into the tenant settings (the other settings
/// are kept), the pre-chat form is the host's own.
#[utoipa::path(
    put,
    path = "/api/v1/admin/widget",
    operation_id = "admin_settings_put_widget",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = WidgetBody,
    responses(
        (status = 200, description = "The widget after the change.", body = WidgetSettings),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: a `pre_chat.*` field.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 409, description = "`settings_unknown`: the server has no copy of the settings to change the branding in; PUT the full settings once.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put_widget(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<WidgetBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let tenant = caller.tenant_id();
    let mut writes = Vec::new();
    let mut widget = tenant_config::widget(&state.directory, tenant);
    if let Some(form) = body.pre_chat {
        form.validate()?;
        widget.pre_chat = form;
        writes.push(tenant_config::write(tenant, WIDGET, &widget)?);
    }
    let mut branding = None;
    if let Some(new) = body.branding {
        let mut settings = tenant_config::settings(&state.directory, tenant).ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "settings_unknown",
                "the server has no copy of this tenant's settings: PUT the full settings to \
                 /api/v1/admin/settings once",
            )
        })?;
        settings.branding = new;
        branding = Some(settings.branding.clone());
        writes.push(tenant_config::write(tenant, SETTINGS, &settings)?);
        execute(
            &state,
            &caller,
            Command::UpdateTenantSettings { settings },
            writes,
        )
        .await?;
    } else if !writes.is_empty() {
        commit_host(&state, writes).await?;
    }
    let branding = branding.or_else(|| {
        tenant_config::settings(&state.directory, tenant).map(|settings| settings.branding)
    });
    let WidgetConfig { pre_chat } = widget;
    Ok(Json(json!({ "branding": branding, "pre_chat": pre_chat })))
}

/// `GET /api/v1/admin/canned-responses`: the tenant-wide ones.
#[utoipa::path(
    get,
    path = "/api/v1/admin/canned-responses",
    operation_id = "admin_settings_canned",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant-wide canned responses.", body = CannedList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn canned(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    list_scoped(&state, &caller, Some(CannedScope::Tenant)).await
}

/// `POST /api/v1/admin/canned-responses`: a tenant-wide one.
#[utoipa::path(
    post,
    path = "/api/v1/admin/canned-responses",
    operation_id = "admin_settings_create_canned",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = CannedBody,
    responses(
        (status = 201, description = "A tenant-wide canned response was created (`scope` in the body is ignored).", body = CannedAnswer),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 409, description = "`limit_reached`.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create_canned(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<CannedBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    admin(&caller)?;
    create_scoped(&state, &caller, body, CannedScope::Tenant).await
}

/// `PUT /api/v1/admin/canned-responses/{canned_id}`.
#[utoipa::path(
    put,
    path = "/api/v1/admin/canned-responses/{canned_id}",
    operation_id = "admin_settings_update_canned",
    tag = "admin",
    security(("staff_token" = [])),
    params(("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    request_body = CannedBody,
    responses(
        (status = 200, description = "The canned response after the change.", body = CannedAnswer),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`, `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such canned response.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update_canned(
    state: State<SharedState>,
    caller: Caller,
    id: Path<String>,
    body: Body<CannedBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    canned::update(state, caller, id, body).await
}

/// `DELETE /api/v1/admin/canned-responses/{canned_id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/canned-responses/{canned_id}",
    operation_id = "admin_settings_remove_canned",
    tag = "admin",
    security(("staff_token" = [])),
    params(("canned_id" = String, Path, description = "The canned response, `canned_...`.")),
    responses(
        (status = 204, description = "The canned response is gone."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such canned response.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove_canned(
    state: State<SharedState>,
    caller: Caller,
    id: Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    canned::remove(state, caller, id).await
}
