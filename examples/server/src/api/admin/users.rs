//! Staff and their roles: the engine's profile (departments, skills, languages, capacity,
//! routing) and the host's login credential, always changed together. Password hashes
//! never leave the server.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::{AgentId, DepartmentId};
use switchboard_core::protocol::model::{AgentProfile, StaffRole};
use switchboard_core::{Command, Reply};
use utoipa::ToSchema;

use super::{admin, execute};
use crate::api::openapi::{Authenticated, JsonBody, StaffRoleSchema};
use crate::api::schemas::{User, UserList};
use crate::api::tenant_config;
use crate::api::widget::plausible_email;
use crate::auth::Caller;
use crate::auth::passwords::{self, MAX_PASSWORD_BYTES};
use crate::directory::{self, Credential, Directory, namespace};
use crate::engine_loop::HostWrite;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// Shortest password accepted for new and changed logins.
pub const MIN_PASSWORD_BYTES: usize = 8;
/// Longest staff id.
const MAX_ID_BYTES: usize = 128;
/// Longest display name.
const MAX_NAME_BYTES: usize = 256;

/// A new staff member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Their id; default the e-mail in lower case.
    #[serde(default)]
    pub id: Option<String>,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password (8 to 256 bytes). Omitted: the staff member cannot log in with a
    /// password and signs in only through the tenant's ERP (single sign-on tokens).
    #[serde(default)]
    pub password: Option<String>,
    /// Role; default `agent`.
    #[serde(default)]
    #[schema(value_type = StaffRoleSchema)]
    pub role: StaffRole,
    /// Departments.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub departments: Vec<DepartmentId>,
    /// Skills with a level 1 to 10.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Languages.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Most chats at once (default 3).
    #[serde(default)]
    pub max_concurrent_chats: Option<u16>,
    /// Offers become assignments at once.
    #[serde(default)]
    pub auto_accept: bool,
    /// Weight under weighted random routing (default 1).
    #[serde(default)]
    pub routing_weight: Option<u16>,
    /// Position under fixed-order routing.
    #[serde(default)]
    pub routing_order: Option<u32>,
}

/// Changes to a staff member; omitted fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UserChanges {
    /// Login e-mail.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// A new password.
    pub password: Option<String>,
    /// Role.
    #[schema(value_type = Option<StaffRoleSchema>)]
    pub role: Option<StaffRole>,
    /// Departments.
    #[schema(value_type = Option<Vec<String>>)]
    pub departments: Option<Vec<DepartmentId>>,
    /// Skills.
    pub skills: Option<BTreeMap<String, u8>>,
    /// Languages.
    pub languages: Option<Vec<String>>,
    /// Most chats at once.
    pub max_concurrent_chats: Option<u16>,
    /// Offers become assignments at once.
    pub auto_accept: Option<bool>,
    /// Weight under weighted random routing.
    pub routing_weight: Option<u16>,
    /// Position under fixed-order routing.
    pub routing_order: Option<u32>,
}

/// Checks a login e-mail; answers it in lower case.
pub fn check_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_ascii_lowercase();
    if !plausible_email(&email) {
        return Err(ApiError::invalid("email", "is not an e-mail address"));
    }
    Ok(email)
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> ApiResult<()> {
    if password.len() < MIN_PASSWORD_BYTES || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(
            "password",
            format!("{MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Checks a display name.
pub fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(ApiError::invalid(
            "name",
            format!("1 to {MAX_NAME_BYTES} bytes"),
        ));
    }
    Ok(name.to_owned())
}

fn check_id(id: &str) -> ApiResult<()> {
    if id.is_empty()
        || id.len() > MAX_ID_BYTES
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::invalid(
            "id",
            format!("1 to {MAX_ID_BYTES} bytes without spaces"),
        ));
    }
    Ok(())
}

/// Hashes a password off the async threads.
pub async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())
}

/// The host writes of a staff member: their credential and the copy of their profile.
pub fn writes(
    tenant_id: &str,
    profile: &AgentProfile,
    credential: &Credential,
) -> ApiResult<Vec<HostWrite>> {
    Ok(vec![
        directory::write(tenant_id, namespace::CREDENTIAL, &profile.id, credential),
        tenant_config::write(
            tenant_id,
            &format!("{}{}", tenant_config::AGENT, profile.id),
            profile,
        )?,
    ])
}

/// Refuses an e-mail another staff member of the tenant logs in with.
fn email_free(directory: &Directory, tenant_id: &str, email: &str, owner: &str) -> ApiResult<()> {
    if directory
        .logins(email, Some(tenant_id))
        .iter()
        .any(|login| login.agent_id != owner)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "email_taken",
            "another staff member logs in with this e-mail",
        ));
    }
    Ok(())
}

/// A staff member as the API shows them (never the password hash).
pub fn user_json(id: &str, credential: &Credential, profile: Option<&AgentProfile>) -> Value {
    json!({
        "id": id,
        "email": credential.email,
        "name": credential.name,
        "role": credential.role,
        "departments": profile.map(|p| p.departments.clone()).unwrap_or_default(),
        "skills": profile.map(|p| p.skills.clone()).unwrap_or_default(),
        "languages": profile.map(|p| p.languages.clone()).unwrap_or_default(),
        "max_concurrent_chats": profile.map(|p| p.max_concurrent_chats),
        "auto_accept": profile.is_some_and(|p| p.auto_accept),
        "routing_weight": profile.map(|p| p.routing_weight),
        "routing_order": profile.map(|p| p.routing_order),
    })
}

/// The copy of a staff member's engine profile the server keeps next to the credential.
pub fn profile_copy(state: &SharedState, tenant_id: &str, id: &str) -> Option<AgentProfile> {
    tenant_config::get(
        &state.directory,
        tenant_id,
        &format!("{}{id}", tenant_config::AGENT),
    )
}

/// Creates a staff member in `tenant_id` as `actor`; answers their JSON.
pub async fn create_user(
    state: &SharedState,
    actor: &Caller,
    tenant_id: &str,
    body: NewUser,
) -> ApiResult<Value> {
    let email = check_email(&body.email)?;
    let name = check_name(&body.name)?;
    if let Some(password) = &body.password {
        check_password(password)?;
    }
    let id = body.id.unwrap_or_else(|| email.clone());
    check_id(&id)?;
    let _changing = state.staff_changes.lock().await;
    if state.directory.credential(tenant_id, &id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "user_exists",
            "a staff member with this id exists",
        ));
    }
    email_free(&state.directory, tenant_id, &email, &id)?;
    let profile = AgentProfile {
        id: AgentId::from(id.clone()),
        name: name.clone(),
        email: Some(email.clone()),
        role: body.role,
        departments: body.departments,
        skills: body.skills,
        languages: body.languages,
        max_concurrent_chats: body.max_concurrent_chats.unwrap_or(3),
        auto_accept: body.auto_accept,
        routing_weight: body.routing_weight.unwrap_or(1),
        routing_order: body.routing_order.unwrap_or(0),
    };
    let credential = Credential {
        email,
        // An empty hash never verifies: single sign-on only.
        password_hash: match body.password {
            Some(password) => hash(password).await?,
            None => String::new(),
        },
        name,
        role: body.role,
        sessions_from: 0,
    };
    let host_writes = writes(tenant_id, &profile, &credential)?;
    execute(
        state,
        actor,
        Command::UpsertAgent {
            agent: profile.clone(),
        },
        host_writes,
    )
    .await?;
    Ok(user_json(&id, &credential, Some(&profile)))
}

/// `GET /api/v1/admin/users`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    operation_id = "admin_users_list",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's staff.", body = UserList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn list(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let users: Vec<Value> = state
        .directory
        .credentials(caller.tenant_id())
        .iter()
        .map(|(id, credential)| {
            user_json(
                id,
                credential,
                profile_copy(&state, caller.tenant_id(), id).as_ref(),
            )
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}

/// `POST /api/v1/admin/users`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    operation_id = "admin_users_create",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "The staff member was created.", body = User),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `email`, `name`, `password` (8 to 256 bytes), `id`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 409, description = "`user_exists`, `email_taken`.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    admin(&caller)?;
    let tenant = caller.tenant_id().to_owned();
    let user = create_user(&state, &caller, &tenant, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `GET /api/v1/admin/users/{agent_id}`: with presence and load.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{agent_id}",
    operation_id = "admin_users_get",
    tag = "admin",
    security(("staff_token" = [])),
    params(("agent_id" = String, Path, description = "The staff member's id.")),
    responses(
        (status = 200, description = "The staff member, with presence and load.", body = User),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such staff member.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let credential = state
        .directory
        .credential(caller.tenant_id(), &id)
        .ok_or_else(|| ApiError::not_found("user"))?;
    let mut user = user_json(
        &id,
        &credential,
        profile_copy(&state, caller.tenant_id(), &id).as_ref(),
    );
    let command = Command::GetAgent {
        agent_id: Some(AgentId::from(id.clone())),
    };
    if let Ok((Reply::Agent { agent }, _)) =
        state.engine.execute(caller.actor.clone(), command).await
    {
        user["presence"] = json!({
            "status": agent.status,
            "connected": agent.connected,
            "active_chats": agent.active_chats,
            "pending_offers": agent.pending_offers,
        });
    }
    Ok(Json(user))
}

/// Applies changes to a staff member and commits them.
async fn change(
    state: &SharedState,
    caller: &Caller,
    id: &str,
    changes: UserChanges,
) -> ApiResult<Value> {
    let tenant = caller.tenant_id();
    let _changing = state.staff_changes.lock().await;
    let mut credential = state
        .directory
        .credential(tenant, id)
        .ok_or_else(|| ApiError::not_found("user"))?;
    if id == caller.id()
        && changes
            .role
            .is_some_and(|role| role != StaffRole::TenantAdmin)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_demote_self",
            "an administrator cannot take away their own administration",
        ));
    }
    // Without a copy (a database from before copies were kept), the profile starts from
    // the credential and the defaults.
    let mut profile = profile_copy(state, tenant, id).unwrap_or_else(|| AgentProfile {
        id: AgentId::from(id),
        name: credential.name.clone(),
        email: Some(credential.email.clone()),
        role: credential.role,
        departments: Vec::new(),
        skills: BTreeMap::new(),
        languages: Vec::new(),
        max_concurrent_chats: 3,
        auto_accept: false,
        routing_weight: 1,
        routing_order: 0,
    });
    if let Some(email) = &changes.email {
        let email = check_email(email)?;
        email_free(&state.directory, tenant, &email, id)?;
        credential.email = email.clone();
        profile.email = Some(email);
    }
    if let Some(name) = &changes.name {
        let name = check_name(name)?;
        credential.name = name.clone();
        profile.name = name;
    }
    if let Some(role) = changes.role {
        credential.role = role;
        profile.role = role;
    }
    let password_changed = changes.password.is_some();
    if let Some(password) = changes.password {
        check_password(&password)?;
        credential.password_hash = hash(password).await?;
        // Whoever knew the old password is logged out with it.
        credential.sessions_from = jiff::Timestamp::now().as_millisecond();
    }
    if let Some(departments) = changes.departments {
        profile.departments = departments;
    }
    if let Some(skills) = changes.skills {
        profile.skills = skills;
    }
    if let Some(languages) = changes.languages {
        profile.languages = languages;
    }
    if let Some(max) = changes.max_concurrent_chats {
        profile.max_concurrent_chats = max;
    }
    if let Some(auto_accept) = changes.auto_accept {
        profile.auto_accept = auto_accept;
    }
    if let Some(weight) = changes.routing_weight {
        profile.routing_weight = weight;
    }
    if let Some(order) = changes.routing_order {
        profile.routing_order = order;
    }
    let host_writes = writes(tenant, &profile, &credential)?;
    execute(
        state,
        caller,
        Command::UpsertAgent {
            agent: profile.clone(),
        },
        host_writes,
    )
    .await?;
    if password_changed {
        state.hub.end_staff(&caller.actor.tenant_id, id);
    }
    Ok(user_json(id, &credential, Some(&profile)))
}

/// `PUT /api/v1/admin/users/{agent_id}`: change any field, the password included (a new
/// password ends every session of that staff member).
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{agent_id}",
    operation_id = "admin_users_update",
    tag = "admin",
    security(("staff_token" = [])),
    params(("agent_id" = String, Path, description = "The staff member's id.")),
    request_body = UserChanges,
    responses(
        (status = 200, description = "The staff member after the change.", body = User),
        (status = 400, description = "`malformed` (also unknown fields); `invalid_input`: `email`, `name`, `password`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such staff member.", body = crate::error::ErrorBody),
        (status = 409, description = "`email_taken`, `cannot_demote_self`.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<UserChanges>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    Ok(Json(change(&state, &caller, &id, changes).await?))
}

/// Skills with a level.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillsBody {
    /// Skill name to level 1 to 10.
    pub skills: BTreeMap<String, u8>,
}

/// `PUT /api/v1/admin/users/{agent_id}/skills`: replace the skills skill-based routing
/// matches.
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{agent_id}/skills",
    operation_id = "admin_users_skills",
    tag = "admin",
    security(("staff_token" = [])),
    params(("agent_id" = String, Path, description = "The staff member's id.")),
    request_body = SkillsBody,
    responses(
        (status = 200, description = "The staff member with the new skills.", body = User),
        (status = 400, description = "`malformed` (also unknown fields), `invalid_input`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such staff member.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn skills(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<SkillsBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let changes = UserChanges {
        skills: Some(body.skills),
        ..UserChanges::default()
    };
    Ok(Json(change(&state, &caller, &id, changes).await?))
}

/// `DELETE /api/v1/admin/users/{agent_id}`: their chats go back to the queue and their
/// tokens stop working.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{agent_id}",
    operation_id = "admin_users_remove",
    tag = "admin",
    security(("staff_token" = [])),
    params(("agent_id" = String, Path, description = "The staff member's id.")),
    responses(
        (status = 204, description = "The staff member is gone: their chats go back to the queue and their tokens stop working."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such staff member.", body = crate::error::ErrorBody),
        (status = 409, description = "`cannot_remove_self`.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    if id == caller.id() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_remove_self",
            "an administrator cannot remove themselves",
        ));
    }
    let tenant = caller.tenant_id();
    let _changing = state.staff_changes.lock().await;
    if state.directory.credential(tenant, &id).is_none() {
        return Err(ApiError::not_found("user"));
    }
    let host_writes = vec![
        directory::remove(tenant, namespace::CREDENTIAL, &id),
        directory::remove(tenant, namespace::PUSH_TOKEN, &id),
        tenant_config::remove(tenant, &format!("{}{id}", tenant_config::AGENT)),
    ];
    let command = Command::RemoveAgent {
        agent_id: AgentId::from(id),
    };
    execute(&state, &caller, command, host_writes).await?;
    Ok(StatusCode::NO_CONTENT)
}
