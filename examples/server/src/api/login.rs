//! `POST /api/v1/auth/login`: a staff member's e-mail and password for an access token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::openapi::{JsonBody, Limited};
use super::schemas::LoginAnswer;
use crate::auth::issue_staff_token;
use crate::auth::passwords::{self, MAX_PASSWORD_BYTES};
use crate::auth::tenant_domain::requested_domain;
use crate::directory::Login;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::state::SharedState;

/// The login body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// The app sends `agent`; any staff role may log in.
    #[serde(default)]
    pub role: Option<String>,
}

/// Tenants whose passwords one login tries when the e-mail is staff in several and the
/// request names none of them: each try is a password hash to verify. With more, the
/// request must name its tenant.
const MAX_TENANTS_TRIED: usize = 8;

/// Issues an access token. The tenant comes from `X-Tenant-Domain` when sent; without it,
/// the e-mail decides, then the `Host` header when the e-mail is staff in several
/// tenants, then the password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "auth_login",
    tag = "auth",
    params(("X-Tenant-Domain" = Option<String>, Header, description = "The tenant, when the e-mail is staff in several.")),
    request_body = LoginBody,
    responses(
        (status = 200, description = "A staff access token.", body = LoginAnswer),
        (status = 400, description = "`malformed`; `invalid_input`: an over-long e-mail or password.", body = crate::error::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the e-mail or password is wrong.", body = crate::error::ErrorBody),
        (status = 409, description = "`tenant_required`: the e-mail and password are staff in several tenants (or the e-mail in more than 8); send `X-Tenant-Domain`.", body = crate::error::ErrorBody),
        Limited,
        JsonBody,
    ),
)]
pub async fn login(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Body(body): Body<LoginBody>,
) -> ApiResult<Json<Value>> {
    if body.email.len() > 320 || body.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid("password", "too long"));
    }
    let explicit = headers
        .get(crate::auth::tenant_domain::TENANT_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase);
    let mut candidates = match &explicit {
        Some(domain) => match state.directory.tenant_by_domain(domain) {
            Some(tenant) => state.directory.logins(&body.email, Some(&tenant)),
            None => Vec::new(),
        },
        None => state.directory.logins(&body.email, None),
    };
    if candidates.len() > 1 {
        let by_host = requested_domain(&headers)
            .and_then(|(domain, _)| state.directory.tenant_by_domain(&domain));
        if candidates
            .iter()
            .any(|login| Some(&login.tenant_id) == by_host.as_ref())
        {
            candidates.retain(|login| Some(&login.tenant_id) == by_host.as_ref());
        }
    }
    // The password decides among the tenants where the e-mail is staff. Answering "several
    // tenants" before checking it would tell anyone whether an address is staff elsewhere
    // (and any tenant admin can add an address to their own tenant). Each tenant tried is
    // one password hash to verify, so the time taken still grows with their number.
    if candidates.len() > MAX_TENANTS_TRIED {
        return Err(tenant_required());
    }
    let password = body.password;
    let mut matched: Vec<Login> = Vec::new();
    if candidates.is_empty() {
        passwords::verify_off_runtime(password.clone(), passwords::decoy().to_owned()).await;
    }
    for login in candidates {
        let stored = login.credential.password_hash.clone();
        if passwords::verify_off_runtime(password.clone(), stored).await {
            matched.push(login);
        }
    }
    if matched.len() > 1 {
        return Err(tenant_required());
    }
    let Some(login) = matched.pop() else {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "the e-mail or password is wrong",
        ));
    };
    let (token, ttl) = issue_staff_token(
        &state,
        &login.tenant_id,
        &login.agent_id,
        jiff::Timestamp::now(),
    )?;
    let domain = state.directory.primary_domain(&login.tenant_id);
    tracing::info!(tenant = %login.tenant_id, "staff login");
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "agent": {
            "id": login.agent_id,
            "email": login.credential.email,
            "name": login.credential.name,
            "role": login.credential.role,
            "tenant_id": login.tenant_id,
            "tenant_domain": domain,
        },
    })))
}

fn tenant_required() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "tenant_required",
        "this e-mail is staff in several tenants: send X-Tenant-Domain",
    )
}
