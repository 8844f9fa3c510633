//! Tenant settings, the widget (branding and pre-chat form), and tenant-wide canned
//! responses.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Command;
use switchboard_core::protocol::model::{CannedScope, TenantSettings, WidgetBranding};

use super::{admin, commit_host, execute};
use crate::api::agent::canned::{self, CannedBody, create_scoped, list_scoped};
use crate::api::tenant_config::{self, PreChatForm, SETTINGS, WIDGET, WidgetConfig};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// `GET /api/v1/admin/settings`.
pub async fn get(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let settings = tenant_config::settings(&state.directory, caller.tenant_id())
        .ok_or_else(|| ApiError::not_found("settings"))?;
    Ok(Json(json!(settings)))
}

/// `PUT /api/v1/admin/settings`: replaces every setting (name, business hours, branding,
/// features, limits, timers, default queue, fairness cap, ticket prefix).
pub async fn put(
    State(state): State<SharedState>,
    caller: Caller,
    Body(settings): Body<TenantSettings>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let copy = tenant_config::write(caller.tenant_id(), SETTINGS, &settings)?;
    let command = Command::UpdateTenantSettings {
        settings: settings.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!(settings)))
}

/// `GET /api/v1/admin/widget`: branding and the pre-chat form.
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetBody {
    /// Colours, font, logo, position, theme, texts, languages.
    #[serde(default)]
    pub branding: Option<WidgetBranding>,
    /// The pre-chat form.
    #[serde(default)]
    pub pre_chat: Option<PreChatForm>,
}

/// `PUT /api/v1/admin/widget`: branding goes into the tenant settings (the other settings
/// are kept), the pre-chat form is the host's own.
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
pub async fn canned(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    list_scoped(&state, &caller, Some(CannedScope::Tenant)).await
}

/// `POST /api/v1/admin/canned-responses`: a tenant-wide one.
pub async fn create_canned(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<CannedBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    admin(&caller)?;
    create_scoped(&state, &caller, body, CannedScope::Tenant).await
}

/// `PUT /api/v1/admin/canned-responses/{canned_id}`.
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
pub async fn remove_canned(
    state: State<SharedState>,
    caller: Caller,
    id: Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    canned::remove(state, caller, id).await
}
