//! A staff member's own account: `GET /api/v1/auth/me` and
//! `POST /api/v1/auth/password`. Everything else about a staff member (name, role,
//! departments, routing) is the administrators' to change.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::admin::commit_host;
use super::admin::users::{check_password, hash, user_json};
use super::openapi::{Authenticated, JsonBody};
use super::schemas::User;
use super::tenant_config;
use crate::auth::Caller;
use crate::auth::passwords::{self, MAX_PASSWORD_BYTES};
use crate::directory::{self, Credential, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::state::SharedState;

/// The caller's login credential; staff only.
fn own_credential(state: &SharedState, caller: &Caller) -> ApiResult<Credential> {
    caller.require_staff()?;
    state
        .directory
        .credential(caller.tenant_id(), caller.id())
        .ok_or_else(|| ApiError::not_found("user"))
}

/// `GET /api/v1/auth/me`: the caller's staff record.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    operation_id = "auth_me",
    tag = "auth",
    security(("staff_token" = []), ("erp_token" = [])),
    responses(
        (status = 200, description = "The caller as administrators see them (no password hash).", body = User),
        (status = 403, description = "`forbidden`: staff only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: a single sign-on staff member without a login of this server.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn me(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    let credential = own_credential(&state, &caller)?;
    let profile = tenant_config::get(
        &state.directory,
        caller.tenant_id(),
        &format!("{}{}", tenant_config::AGENT, caller.id()),
    );
    Ok(Json(user_json(caller.id(), &credential, profile.as_ref())))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// The new one (8 to 256 bytes).
    pub new_password: String,
}

/// `POST /api/v1/auth/password`: the caller changes their own password, proving the
/// current one. Tokens already issued stay valid until they expire (an administrator's
/// force logout ends them at once).
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    operation_id = "auth_change_password",
    tag = "auth",
    security(("staff_token" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "The new password is in force."),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `new_password` shorter than 8 or longer than 256 bytes.", body = crate::error::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the current password is wrong.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: a single sign-on staff member without a login of this server.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn change_password(
    State(state): State<SharedState>,
    caller: Caller,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    let mut credential = own_credential(&state, &caller)?;
    if change.current_password.len() > MAX_PASSWORD_BYTES {
        return Err(wrong_password());
    }
    check_password(&change.new_password)
        .map_err(|_| ApiError::invalid("new_password", "8 to 256 bytes"))?;
    let (current, stored) = (change.current_password, credential.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || passwords::verify(&current, &stored))
        .await
        .map_err(|_| ApiError::internal())?;
    if !matches {
        return Err(wrong_password());
    }
    credential.password_hash = hash(change.new_password).await?;
    let write = directory::write(
        caller.tenant_id(),
        namespace::CREDENTIAL,
        caller.id(),
        &credential,
    );
    commit_host(&state, vec![write]).await?;
    tracing::info!(tenant = %caller.tenant_id(), "staff password changed");
    Ok(StatusCode::NO_CONTENT)
}

fn wrong_password() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "the current password is wrong")
}
