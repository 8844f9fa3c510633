//! API keys of the widget: public keys a website embeds, honoured only from the origins
//! they list. Revoked keys are kept (listed as revoked) and refused at init.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{admin, commit_host};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::origins::{self, MAX_ORIGINS};
use crate::api::schemas::{ApiKey, ApiKeyList};
use crate::auth::Caller;
use crate::directory::{self, WidgetKey, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// Most widget keys per tenant, revoked ones included.
pub const MAX_KEYS: usize = 50;
/// Longest label.
pub const MAX_LABEL_BYTES: usize = 100;

fn key_json(key: &str, widget_key: &WidgetKey) -> Value {
    json!({
        "key": key,
        "label": widget_key.label,
        "allowed_origins": widget_key.allowed_origins,
        "revoked": widget_key.revoked,
    })
}

fn check_label(label: &str) -> ApiResult<String> {
    let label = label.trim();
    if label.len() > MAX_LABEL_BYTES {
        return Err(ApiError::invalid(
            "label",
            format!("at most {MAX_LABEL_BYTES} bytes"),
        ));
    }
    Ok(label.to_owned())
}

fn check_origins(list: &[String]) -> ApiResult<Vec<String>> {
    if list.len() > MAX_ORIGINS {
        return Err(ApiError::invalid(
            "allowed_origins",
            format!("at most {MAX_ORIGINS}"),
        ));
    }
    let mut checked: Vec<String> = Vec::new();
    for origin in list {
        let canonical = origins::canonical(origin, true).map_err(|reason| {
            ApiError::invalid("allowed_origins", format!("{origin:?}: {reason}"))
        })?;
        if !checked.contains(&canonical) {
            checked.push(canonical);
        }
    }
    Ok(checked)
}

/// A new key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewKey {
    /// For administrators.
    pub label: String,
    /// Origins the widget runs on (`https://shop.example.com`, `https://*.example.com`);
    /// empty: any site.
    pub allowed_origins: Vec<String>,
}

/// `GET /api/v1/admin/api-keys`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/api-keys",
    operation_id = "admin_api_keys_list",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's widget keys, revoked ones included.", body = ApiKeyList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let keys: Vec<Value> = state
        .directory
        .widget_keys(caller.tenant_id())
        .iter()
        .map(|(key, widget_key)| key_json(key, widget_key))
        .collect();
    Ok(Json(json!({ "api_keys": keys })))
}

/// `POST /api/v1/admin/api-keys`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/api-keys",
    operation_id = "admin_api_keys_create",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = NewKey,
    responses(
        (status = 201, description = "A new widget key.", body = ApiKey),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `label` (at most 100 bytes), `allowed_origins`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 409, description = "`limit_reached`: at most 50 keys, revoked ones included.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    admin(&caller)?;
    let tenant = caller.tenant_id();
    if state.directory.widget_keys(tenant).len() >= MAX_KEYS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "limit_reached",
            format!("a tenant has at most {MAX_KEYS} widget keys"),
        ));
    }
    let widget_key = WidgetKey {
        label: check_label(&body.label)?,
        allowed_origins: check_origins(&body.allowed_origins)?,
        revoked: false,
    };
    let key = format!("wk_{}", crate::random_token(16));
    let write = directory::write(tenant, namespace::WIDGET_KEY, &key, &widget_key);
    commit_host(&state, vec![write]).await?;
    Ok((StatusCode::CREATED, Json(key_json(&key, &widget_key))))
}

fn own_key(state: &SharedState, caller: &Caller, key: &str) -> ApiResult<WidgetKey> {
    match state.directory.widget_key(key) {
        Some((tenant, widget_key)) if tenant == caller.tenant_id() => Ok(widget_key),
        _ => Err(ApiError::not_found("api key")),
    }
}

/// Changes to a key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeyChanges {
    /// New label.
    pub label: Option<String>,
    /// New origins.
    pub allowed_origins: Option<Vec<String>>,
}

/// `PUT /api/v1/admin/api-keys/{key}`: relabel or change the origins of a live key.
#[utoipa::path(
    put,
    path = "/api/v1/admin/api-keys/{key}",
    operation_id = "admin_api_keys_update",
    tag = "admin",
    security(("staff_token" = [])),
    params(("key" = String, Path, description = "The widget key, `wk_...`.")),
    request_body = KeyChanges,
    responses(
        (status = 200, description = "The key after the change.", body = ApiKey),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `label`, `allowed_origins`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such key in the caller's tenant.", body = crate::error::ErrorBody),
        (status = 409, description = "`widget_key_revoked`: a revoked key cannot change.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(changes): Body<KeyChanges>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let mut widget_key = own_key(&state, &caller, &key)?;
    if widget_key.revoked {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "widget_key_revoked",
            "a revoked key cannot change",
        ));
    }
    if let Some(label) = changes.label {
        widget_key.label = check_label(&label)?;
    }
    if let Some(list) = changes.allowed_origins {
        widget_key.allowed_origins = check_origins(&list)?;
    }
    let write = directory::write(caller.tenant_id(), namespace::WIDGET_KEY, &key, &widget_key);
    commit_host(&state, vec![write]).await?;
    Ok(Json(key_json(&key, &widget_key)))
}

/// `DELETE /api/v1/admin/api-keys/{key}`: revoke; widgets using it can no longer init.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/api-keys/{key}",
    operation_id = "admin_api_keys_revoke",
    tag = "admin",
    security(("staff_token" = [])),
    params(("key" = String, Path, description = "The widget key, `wk_...`.")),
    responses(
        (status = 200, description = "The key, revoked: widgets using it can no longer init.", body = ApiKey),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such key in the caller's tenant.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn revoke(
    State(state): State<SharedState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let mut widget_key = own_key(&state, &caller, &key)?;
    if !widget_key.revoked {
        widget_key.revoked = true;
        let write = directory::write(caller.tenant_id(), namespace::WIDGET_KEY, &key, &widget_key);
        commit_host(&state, vec![write]).await?;
    }
    Ok(Json(key_json(&key, &widget_key)))
}
