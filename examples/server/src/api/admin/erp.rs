//! The tenant's ERP token settings: the HS256 secret its ERP signs user tokens with, and
//! the `aud` and `iss` those tokens must carry. Administrators read them (never the
//! secret) and change them: rotating a leaked secret, or starting to require the claims.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::tenants::{check_claim, check_secret};
use super::{admin, commit_host};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::ErpSettings;
use crate::auth::Caller;
use crate::directory::{self, ErpTokens, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::state::SharedState;

/// New ERP token settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ErpUpdate {
    /// A new HS256 secret (16 to 256 bytes). Omitted: the secret stays, unless
    /// `rotate_secret`.
    pub secret: Option<String>,
    /// Generate a new secret, answered once.
    pub rotate_secret: bool,
    /// The `aud` every token must carry; omitted or null: none required.
    pub audience: Option<String>,
    /// The `iss` every token must carry; omitted or null: none required.
    pub issuer: Option<String>,
}

/// `GET /api/v1/admin/erp`: the ERP token settings, without the secret.
#[utoipa::path(
    get,
    path = "/api/v1/admin/erp",
    operation_id = "admin_erp",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The settings (the secret is never shown).", body = ErpSettings),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn get(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let record = state
        .directory
        .tenant(caller.tenant_id())
        .ok_or_else(ApiError::internal)?;
    Ok(Json(view(&record.erp, None)))
}

/// The settings as answered: `secret` only when the server just generated it.
fn view(erp: &ErpTokens, generated: Option<String>) -> Value {
    json!({
        "audience": erp.audience,
        "issuer": erp.issuer,
        "secret": generated,
    })
}

/// `PUT /api/v1/admin/erp`: replaces the required `aud` and `iss`, and sets or rotates the
/// secret. Tokens signed with the old secret stop verifying at once.
#[utoipa::path(
    put,
    path = "/api/v1/admin/erp",
    operation_id = "admin_set_erp",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = ErpUpdate,
    responses(
        (status = 200, description = "The settings; `secret` only when it was generated.", body = ErpSettings),
        (status = 400, description = "`malformed`; `invalid_input`: `secret` (16 to 256 bytes, or given together with `rotate_secret`), `audience`, `issuer` (at most 256 bytes).", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<ErpUpdate>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    if body.secret.is_some() && body.rotate_secret {
        return Err(ApiError::invalid(
            "secret",
            "give a secret or ask for a new one, not both",
        ));
    }
    let audience = check_claim("audience", body.audience)?;
    let issuer = check_claim("issuer", body.issuer)?;
    let given = body
        .secret
        .map(|secret| check_secret(secret, "secret"))
        .transpose()?;
    let generated = body.rotate_secret.then(|| crate::random_token(32));
    // Serialised with the other changes of the tenant's record (a forced logout, staff).
    let _changing = state.staff_changes.lock().await;
    let tenant = caller.tenant_id();
    let mut record = state
        .directory
        .tenant(tenant)
        .ok_or_else(ApiError::internal)?;
    if let Some(secret) = given.or_else(|| generated.clone()) {
        record.erp.secret = secret;
    }
    record.erp.audience = audience;
    record.erp.issuer = issuer;
    let write = directory::write(tenant, namespace::TENANT, "settings", &record);
    commit_host(&state, vec![write]).await?;
    tracing::info!(tenant = %tenant, rotated = generated.is_some(), "ERP token settings changed");
    Ok(Json(view(&record.erp, generated)))
}
