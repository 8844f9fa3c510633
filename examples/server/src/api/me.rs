//! A staff member's own account: `GET /api/v1/auth/me` and
//! `POST /api/v1/auth/password`. Everything else about a staff member (name, role,
//! departments, routing) is the administrators' to change.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::admin::commit_host;
use super::admin::users::{check_password, hash, profile_copy, user_json};
use super::openapi::{Authenticated, JsonBody};
use super::schemas::{PasswordChanged, User};
use crate::auth::passwords::{self, MAX_PASSWORD_BYTES};
use crate::auth::{Caller, issue_staff_token};
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
        (status = 200, description = "The caller's staff record, as administrators see it but without presence (no password hash).", body = User),
        (status = 403, description = "`forbidden`: staff only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: the caller's staff record was removed.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn me(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    let credential = own_credential(&state, &caller)?;
    let profile = profile_copy(&state, caller.tenant_id(), caller.id());
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
/// current one. Every session that logged in before ends: the member's other tokens are
/// refused and their sockets closed. The caller gets a fresh token in the answer.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    operation_id = "auth_change_password",
    tag = "auth",
    security(("staff_token" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "The new password is in force; every earlier token of this staff member, the caller's included, is refused, and `access_token` replaces the caller's.", body = PasswordChanged),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `new_password` shorter than 8 or longer than 256 bytes.", body = crate::error::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the current password is wrong.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: staff only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: the caller's staff record was removed.", body = crate::error::ErrorBody),
        (status = 409, description = "`no_password_login`: the caller signs in only through single sign-on; `password_changed`: the password changed while this request was checked.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn change_password(
    State(state): State<SharedState>,
    caller: Caller,
    Body(change): Body<PasswordChange>,
) -> ApiResult<Json<Value>> {
    let credential = own_credential(&state, &caller)?;
    if credential.password_hash.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_password_login",
            "this staff member signs in only through single sign-on; an administrator can set a password",
        ));
    }
    if change.current_password.len() > MAX_PASSWORD_BYTES {
        return Err(wrong_password());
    }
    check_password(&change.new_password)
        .map_err(|_| ApiError::invalid("new_password", "8 to 256 bytes"))?;
    let verified = credential.password_hash.clone();
    if !passwords::verify_off_runtime(change.current_password, verified.clone()).await {
        return Err(wrong_password());
    }
    let new_hash = hash(change.new_password).await?;
    // Written back under the lock administrators' changes take, from the credential as it
    // is now: one that changed meanwhile (a new role, a removal, another new password) is
    // not overwritten with the copy read before the slow hashing.
    let _changing = state.staff_changes.lock().await;
    let mut latest = own_credential(&state, &caller)?;
    if latest.password_hash != verified {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "password_changed",
            "the password was changed meanwhile",
        ));
    }
    let now = jiff::Timestamp::now();
    latest.password_hash = new_hash;
    latest.sessions_from = now.as_millisecond();
    let write = directory::write(
        caller.tenant_id(),
        namespace::CREDENTIAL,
        caller.id(),
        &latest,
    );
    commit_host(&state, vec![write]).await?;
    state.hub.end_staff(&caller.actor.tenant_id, caller.id());
    tracing::info!(tenant = %caller.tenant_id(), "staff password changed");
    let (token, ttl) = issue_staff_token(&state, caller.tenant_id(), caller.id(), now)?;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
    })))
}

fn wrong_password() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "the current password is wrong")
}
