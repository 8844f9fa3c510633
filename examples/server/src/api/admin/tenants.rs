//! Tenants, for the operator tenant's administrators: a new tenant comes with its domains,
//! the secret its ERP signs user tokens with, its settings, a `general` queue every agent
//! serves, and its first administrator.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::protocol::model::{QueueConfig, StaffRole, TenantSettings};
use switchboard_core::{Actor, Command, Role};
use utoipa::ToSchema;

use super::operator;
use super::users::{NewUser, check_email, check_name, check_password, create_user};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{TenantCreated, TenantList};
use crate::api::tenant_config;
use crate::auth::Caller;
use crate::directory::{self, ErpTokens, TenantRecord, namespace};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::state::SharedState;

/// The queue a new tenant starts with.
const DEFAULT_QUEUE: &str = "general";
/// Longest tenant id.
const MAX_TENANT_ID_BYTES: usize = 64;
/// Most domains per tenant.
const MAX_DOMAINS: usize = 16;
/// Longest domain.
const MAX_DOMAIN_BYTES: usize = 253;
/// Shortest and longest ERP secret.
const ERP_SECRET_BYTES: (usize, usize) = (16, 256);
/// Longest ERP audience or issuer.
const MAX_CLAIM_BYTES: usize = 256;

/// The ERP's token settings of a new tenant.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ErpBody {
    /// HS256 secret (16 to 256 bytes); generated and answered once when omitted.
    pub secret: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
}

/// The first administrator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstAdmin {
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password.
    pub password: String,
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Its id: 1 to 64 lower-case letters, digits, `-` or `_`.
    pub tenant_id: String,
    /// Display name (wins over `settings.name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Domains that select it (`X-Tenant-Domain`, `Host`), at least one.
    pub domains: Vec<String>,
    /// ERP token settings.
    #[serde(default)]
    pub erp: ErpBody,
    /// Settings (the engine's tenant settings); default everything.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<TenantSettings>,
    /// The first administrator.
    pub admin: FirstAdmin,
}

fn check_tenant_id(id: &str) -> ApiResult<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TENANT_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "tenant_id",
            "1 to 64 lower-case letters, digits, '-' or '_'",
        ))
    }
}

fn check_domains(state: &SharedState, domains: &[String]) -> ApiResult<Vec<String>> {
    if domains.is_empty() || domains.len() > MAX_DOMAINS {
        return Err(ApiError::invalid(
            "domains",
            format!("1 to {MAX_DOMAINS} domains"),
        ));
    }
    let mut checked = Vec::new();
    for domain in domains {
        let domain = domain.trim().to_ascii_lowercase();
        let ok = !domain.is_empty()
            && domain.len() <= MAX_DOMAIN_BYTES
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-']);
        if !ok {
            return Err(ApiError::invalid(
                "domains",
                format!("{domain:?} is not a host name"),
            ));
        }
        if state.directory.tenant_by_domain(&domain).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "domain_taken",
                format!("{domain} already selects another tenant"),
            ));
        }
        if !checked.contains(&domain) {
            checked.push(domain);
        }
    }
    Ok(checked)
}

fn check_erp(erp: ErpBody) -> ApiResult<(ErpTokens, bool)> {
    let audience = check_claim("erp.audience", erp.audience)?;
    let issuer = check_claim("erp.issuer", erp.issuer)?;
    let (secret, generated) = match erp.secret {
        Some(secret) => (check_secret(secret, "erp.secret")?, false),
        None => (crate::random_token(32), true),
    };
    Ok((
        ErpTokens {
            secret,
            audience,
            issuer,
        },
        generated,
    ))
}

/// An `aud` or `iss` a tenant requires of its ERP's tokens (`field` names it in errors).
pub(super) fn check_claim(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    match value {
        Some(value) if value.len() > MAX_CLAIM_BYTES => Err(ApiError::invalid(
            field,
            format!("longer than {MAX_CLAIM_BYTES} bytes"),
        )),
        Some(value) if value.trim().is_empty() => Err(ApiError::invalid(field, "empty")),
        other => Ok(other),
    }
}

/// An ERP token secret of an acceptable length (`field` names it in errors).
pub(super) fn check_secret(secret: String, field: &str) -> ApiResult<String> {
    let (min, max) = ERP_SECRET_BYTES;
    if secret.len() < min || secret.len() > max {
        return Err(ApiError::invalid(field, format!("{min} to {max} bytes")));
    }
    Ok(secret)
}

/// `GET /api/v1/admin/tenants` (operator): every tenant with its domains.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants",
    operation_id = "admin_tenants_list",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Every tenant with its domains.", body = TenantList),
        (status = 403, description = "`forbidden`: administrators of the operator tenant only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    operator(&state, &caller)?;
    let tenants: Vec<Value> = state
        .directory
        .tenant_ids()
        .into_iter()
        .filter_map(|id| {
            let record = state.directory.tenant(&id)?;
            let name = tenant_config::settings(&state.directory, &id).map(|s| s.name);
            Some(json!({ "tenant_id": id, "name": name, "domains": record.domains }))
        })
        .collect();
    Ok(Json(json!({ "tenants": tenants })))
}

/// `POST /api/v1/admin/tenants` (operator): creates the tenant, then its first
/// administrator. The ERP secret is answered only here, and only when generated.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants",
    operation_id = "admin_tenants_create",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = NewTenant,
    responses(
        (status = 201, description = "The tenant, its `general` queue and its first administrator were created. The ERP secret is shown only here, and only when generated.", body = TenantCreated),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `tenant_id`, `domains`, `erp.*`, the administrator's `email`, `name` or `password`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: administrators of the operator tenant only.", body = crate::error::ErrorBody),
        (status = 409, description = "`tenant_exists`, `domain_taken` (a domain selects another tenant).", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<NewTenant>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    operator(&state, &caller)?;
    check_tenant_id(&body.tenant_id)?;
    if state.directory.tenant(&body.tenant_id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "tenant_exists",
            "a tenant with this id exists",
        ));
    }
    let domains = check_domains(&state, &body.domains)?;
    let (erp, generated) = check_erp(body.erp)?;
    // The administrator is checked before the tenant exists, so that both are made.
    check_email(&body.admin.email)?;
    check_name(&body.admin.name)?;
    check_password(&body.admin.password)?;
    let mut settings = body.settings.unwrap_or_default();
    if let Some(name) = body.name {
        settings.name = name;
    }
    let tenant_id = body.tenant_id;
    let record = TenantRecord {
        domains: domains.clone(),
        erp: erp.clone(),
        token_epoch: 0,
    };
    let writes = vec![
        directory::write(&tenant_id, namespace::TENANT, "settings", &record),
        tenant_config::write(&tenant_id, tenant_config::SETTINGS, &settings)?,
    ];
    // The operator acts in the new tenant as the platform's superadmin.
    let root = Caller {
        actor: Actor::new(&tenant_id, caller.id(), Role::Superadmin),
        identity: caller.identity.clone(),
        tenant_domain: domains[0].clone(),
    };
    let name = settings.name.clone();
    super::execute(&state, &root, Command::CreateTenant { settings }, writes).await?;
    // A queue every agent serves, so that chats can start at once.
    let queue: QueueConfig =
        serde_json::from_value(json!({ "id": DEFAULT_QUEUE, "name": "General" }))
            .map_err(|_| ApiError::internal())?;
    let copy = tenant_config::write(
        &tenant_id,
        &format!("{}{DEFAULT_QUEUE}", tenant_config::QUEUE),
        &queue,
    )?;
    super::execute(&state, &root, Command::UpsertQueue { queue }, vec![copy]).await?;
    let first_admin = NewUser {
        id: None,
        email: body.admin.email,
        name: body.admin.name,
        password: Some(body.admin.password),
        role: StaffRole::TenantAdmin,
        departments: Vec::new(),
        skills: Default::default(),
        languages: Vec::new(),
        max_concurrent_chats: None,
        auto_accept: false,
        routing_weight: None,
        routing_order: None,
    };
    let admin = create_user(&state, &root, &tenant_id, first_admin).await?;
    tracing::info!(tenant = %tenant_id, "tenant created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "tenant_id": tenant_id,
            "name": name,
            "domains": domains,
            "erp": {
                "secret": generated.then_some(erp.secret),
                "audience": erp.audience,
                "issuer": erp.issuer,
            },
            "admin": admin,
        })),
    ))
}
