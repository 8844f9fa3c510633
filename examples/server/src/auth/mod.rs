//! Who is calling: tokens checked, the tenant resolved, and the engine actor built.

pub mod passwords;
pub mod tenant_domain;
pub mod tokens;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use switchboard_core::protocol::model::StaffRole;
use switchboard_core::{Actor, Role};

use crate::error::ApiError;
use crate::state::SharedState;
use tenant_domain::{DomainSource, requested_domain};
use tokens::{STAFF_AUDIENCE, VISITOR_AUDIENCE};

/// What kind of caller this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A staff member (login token, or ERP single sign-on).
    Staff {
        /// Display name.
        name: String,
        /// E-mail.
        email: Option<String>,
        /// Role.
        role: StaffRole,
    },
    /// An ERP end user (ERP-signed token).
    User {
        /// The account (`email`, else `sub`).
        account: String,
        /// Display name (`name`, else the account).
        name: String,
    },
    /// A website visitor (token from widget init).
    Visitor {
        /// The origin the token is bound to.
        origin: Option<String>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The engine actor.
    pub actor: Actor,
    /// What kind of caller.
    pub identity: Identity,
    /// The tenant's domain, as reported in responses.
    pub tenant_domain: String,
}

impl Caller {
    /// Staff (of any role).
    #[must_use]
    pub fn is_staff(&self) -> bool {
        matches!(self.identity, Identity::Staff { .. })
    }

    /// The tenant id.
    #[must_use]
    pub fn tenant_id(&self) -> &str {
        self.actor.tenant_id.as_str()
    }

    /// The caller's id (agent id, user account, visitor id).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.actor.id
    }

    /// The caller's display name.
    #[must_use]
    pub fn display_name(&self) -> String {
        match &self.identity {
            Identity::Staff { name, .. } | Identity::User { name, .. } => name.clone(),
            Identity::Visitor { .. } => "Visitor".to_owned(),
        }
    }

    /// Refuses unless the caller is staff.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(ApiError::forbidden("staff only"))
        }
    }

    /// Refuses unless the caller administers the tenant.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.actor.role.can_administer() {
            Ok(())
        } else {
            Err(ApiError::forbidden("tenant administrators only"))
        }
    }
}

/// The server itself as the engine's host (the `system` role): for effects' answers and
/// for what it asks on a caller's behalf after checking the caller against its records.
#[must_use]
pub fn host_actor(tenant_id: &str) -> Actor {
    Actor::new(tenant_id, "switchboard-server", Role::System)
}

/// The engine role of a staff role.
#[must_use]
pub fn engine_role(role: StaffRole) -> Role {
    match role {
        StaffRole::TenantAdmin => Role::TenantAdmin,
        StaffRole::Supervisor => Role::Supervisor,
        StaffRole::Agent => Role::Agent,
        StaffRole::Viewer => Role::Viewer,
    }
}

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_token",
            "an Authorization: Bearer token is required",
        )
    })?;
    let text = value.to_str().map_err(|_| {
        ApiError::unauthorized("invalid_token", "the Authorization header is not text")
    })?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "expected `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "expected `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

/// A staff access token issued at `now`, and its lifetime in seconds (the server's
/// `--access-token-ttl`).
pub fn issue_staff_token(
    state: &SharedState,
    tenant_id: &str,
    agent_id: &str,
    now: jiff::Timestamp,
) -> Result<(String, i64), ApiError> {
    let ttl = state.config.access_token_ttl as i64;
    let token = state
        .signing
        .sign(&tokens::ServerClaims::staff(tenant_id, agent_id, now, ttl))?;
    Ok((token, ttl))
}

/// Authenticates a token for a request with these headers.
pub fn authenticate(
    state: &SharedState,
    headers: &HeaderMap,
    token: &str,
) -> Result<Caller, ApiError> {
    tokens::check_algorithm(token)?;
    let requested = requested_domain(headers);
    if let Some(claims) = state.signing.verify(token)? {
        let tenant = state.directory.tenant(&claims.tid).ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "the token's tenant does not exist")
        })?;
        // Only an explicit header is binding: Host and Origin vary with deployment.
        if let Some((domain, DomainSource::Header)) = &requested
            && !tenant.domains.iter().any(|own| own == domain)
        {
            return Err(ApiError::unauthorized(
                "wrong_tenant",
                "the token belongs to another tenant",
            ));
        }
        let tenant_domain = state.directory.primary_domain(&claims.tid);
        return match claims.aud.as_str() {
            STAFF_AUDIENCE => {
                let credential = state
                    .directory
                    .credential(&claims.tid, &claims.sub)
                    .ok_or_else(|| {
                        ApiError::unauthorized("invalid_token", "the staff member no longer exists")
                    })?;
                if claims.iat_ms < tenant.token_epoch {
                    return Err(ApiError::unauthorized(
                        "session_revoked",
                        "the session was ended by an administrator; log in again",
                    ));
                }
                if claims.iat_ms < credential.sessions_from {
                    return Err(ApiError::unauthorized(
                        "session_revoked",
                        "the password changed after this session began; log in again",
                    ));
                }
                Ok(Caller {
                    actor: Actor::new(&claims.tid, &claims.sub, engine_role(credential.role)),
                    identity: Identity::Staff {
                        name: credential.name,
                        email: Some(credential.email),
                        role: credential.role,
                    },
                    tenant_domain,
                })
            }
            VISITOR_AUDIENCE => {
                if let Some(bound) = &claims.origin {
                    require_origin(headers, bound)?;
                }
                Ok(Caller {
                    actor: Actor::new(&claims.tid, &claims.sub, Role::Visitor),
                    identity: Identity::Visitor {
                        origin: claims.origin,
                    },
                    tenant_domain,
                })
            }
            _ => Err(ApiError::unauthorized("invalid_token", "unknown audience")),
        };
    }
    // Not ours: an ERP user token for the tenant the request names.
    let (domain, _) = requested.ok_or_else(|| {
        ApiError::unauthorized(
            "invalid_token",
            "the token does not verify and no tenant is named",
        )
    })?;
    let tenant_id = state.directory.tenant_by_domain(&domain).ok_or_else(|| {
        ApiError::unauthorized("invalid_token", format!("no tenant is served at {domain}"))
    })?;
    let tenant = state
        .directory
        .tenant(&tenant_id)
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "unknown tenant"))?;
    let claims = tokens::verify_erp(token, &tenant.erp)?;
    let account = claims.account().unwrap_or_default().to_owned();
    let staff_claim = claims
        .role
        .as_deref()
        .is_some_and(|role| !matches!(role, "user" | "visitor" | "customer"));
    if staff_claim && let Some(credential) = state.directory.credential(&tenant_id, &account) {
        // A forced logout ends single sign-on sessions too: the ERP must issue a new token.
        // `iat` has whole seconds, so a token of the logout's own second is let through.
        let issued = claims.issued_at_seconds();
        if issued > jiff::Timestamp::now().as_second() + tokens::CLOCK_LEEWAY_SECONDS {
            return Err(ApiError::unauthorized(
                "invalid_token",
                "the token says it was issued in the future",
            ));
        }
        if issued < tenant.token_epoch.div_euclid(1_000) {
            return Err(ApiError::unauthorized(
                "session_revoked",
                "the session was ended by an administrator; sign in again",
            ));
        }
        return Ok(Caller {
            actor: Actor::new(&tenant_id, &account, engine_role(credential.role)),
            identity: Identity::Staff {
                name: credential.name,
                email: Some(credential.email),
                role: credential.role,
            },
            tenant_domain: domain,
        });
    }
    let name = claims.name.clone().unwrap_or_else(|| account.clone());
    Ok(Caller {
        actor: Actor::new(&tenant_id, &account, Role::Visitor),
        identity: Identity::User { account, name },
        tenant_domain: domain,
    })
}

/// A visitor token bound to a site is honoured only from that site, on every route and
/// the WebSocket alike: a copied token is no use elsewhere.
fn require_origin(headers: &HeaderMap, bound: &str) -> Result<(), ApiError> {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .and_then(|origin| crate::api::origins::canonical(origin, false).ok());
    if origin.as_deref() == Some(bound) {
        Ok(())
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this visitor token belongs to another site",
        ))
    }
}

impl FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)?;
        let caller = authenticate(state, &parts.headers, token)?;
        state.limits.check_tenant(caller.tenant_id())?;
        Ok(caller)
    }
}
