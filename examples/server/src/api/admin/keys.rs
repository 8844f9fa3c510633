//! API keys of the widget: public keys a website embeds, honoured only from the origins
//! they list. Revoked keys are kept (listed as revoked) and refused at init.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{admin, commit_host};
use crate::api::origins::{self, MAX_ORIGINS};
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
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewKey {
    /// For administrators.
    pub label: String,
    /// Origins the widget runs on (`https://shop.example.com`, `https://*.example.com`);
    /// empty: any site.
    pub allowed_origins: Vec<String>,
}

/// `GET /api/v1/admin/api-keys`.
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
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyChanges {
    /// New label.
    pub label: Option<String>,
    /// New origins.
    pub allowed_origins: Option<Vec<String>>,
}

/// `PUT /api/v1/admin/api-keys/{key}`: relabel or change the origins of a live key.
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
