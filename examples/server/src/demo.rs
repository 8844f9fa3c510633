//! The demo tenant a new database starts with, so the server is usable at once.

use serde_json::json;
use switchboard_core::protocol::model::{AgentProfile, Department, QueueConfig, TenantSettings};
use switchboard_core::{Actor, Command, Role};

use crate::api::tenant_config;
use crate::auth::passwords;
use crate::config::Config;
use crate::directory::{self, Credential, ErpTokens, TenantRecord, WidgetKey, namespace};
use crate::engine_loop::EngineHandle;
use crate::error::ApiError;

/// The demo tenant's id.
pub const TENANT_ID: &str = "demo";
/// Its domain.
pub const DOMAIN: &str = "demo.localhost";
/// The demo agent's login.
pub const AGENT_EMAIL: &str = "agent@demo.localhost";
/// The demo administrator's login.
pub const ADMIN_EMAIL: &str = "admin@demo.localhost";
/// The server value naming the operator tenant: its administrators run the platform
/// (create and list tenants). The demo tenant is the operator of a new database.
pub const OPERATOR_TENANT_KEY: &str = "operator_tenant";

/// The demo tenant, for the start-up banner.
#[derive(Debug, Clone)]
pub struct DemoTenant {
    /// The ERP token secret.
    pub jwt_secret: String,
    /// Whether the secret was generated (and must be printed).
    pub generated_secret: bool,
    /// A widget key that is not revoked (a new tenant's always has one).
    pub widget_key: Option<String>,
    /// Whether this start created it (else it was kept from an earlier one, and the demo
    /// options, read only when a database is created, did not apply).
    pub created: bool,
}

/// The demo tenant an earlier start created, if the database still has it: a restart
/// shows the same logins and widget key as the first start did (not the ERP secret,
/// which was shown once). An ERP secret set in the options that differs from the stored
/// one is reported: it applies only to a new database.
#[must_use]
pub fn existing(directory: &directory::Directory, config: &Config) -> Option<DemoTenant> {
    let tenant = directory.tenant(TENANT_ID)?;
    let widget_key = directory
        .widget_keys(TENANT_ID)
        .into_iter()
        .find(|(_, key)| !key.revoked)
        .map(|(id, _)| id);
    if config
        .demo_jwt_secret
        .as_ref()
        .is_some_and(|option| *option != tenant.erp.secret)
    {
        tracing::warn!(
            "SWITCHBOARD_DEMO_JWT_SECRET applies only when a new database is created; \
             the demo tenant keeps the secret it was created with"
        );
    }
    Some(DemoTenant {
        jwt_secret: tenant.erp.secret,
        // Not known any more, and not printed: see `created`.
        generated_secret: false,
        widget_key,
        created: false,
    })
}

/// Creates the demo tenant: a support department and queue, an agent and an admin, a
/// widget key for local origins, and the ERP token secret.
pub async fn create(
    engine: &EngineHandle,
    directory: &directory::Directory,
    config: &Config,
) -> Result<DemoTenant, ApiError> {
    let root = Actor::new(TENANT_ID, "setup", Role::Superadmin);
    let admin = Actor::new(TENANT_ID, ADMIN_EMAIL, Role::TenantAdmin);
    let (jwt_secret, generated_secret) = match &config.demo_jwt_secret {
        Some(secret) => (secret.clone(), false),
        None => (crate::random_token(32), true),
    };
    let port = config.listen.port();
    let tenant = TenantRecord {
        domains: vec![
            DOMAIN.to_owned(),
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ],
        erp: ErpTokens {
            secret: jwt_secret.clone(),
            audience: None,
            issuer: None,
        },
        token_epoch: 0,
    };
    let widget_key = format!("wk_{}", crate::random_token(12));
    let origins = ["localhost", "127.0.0.1", DOMAIN]
        .iter()
        .map(|host| format!("http://{host}:{port}"))
        .collect();
    let settings: TenantSettings = serde_json::from_value(json!({
        "name": "Demo",
        "default_queue_id": "support",
        "branding": { "welcome_message": "Hi! How can we help?", "primary_color": "#2563eb" }
    }))
    .expect("valid demo settings");
    let password = config.demo_password.clone();
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())?;
    let mut writes = vec![
        directory::write(TENANT_ID, namespace::TENANT, "settings", &tenant),
        directory::write(
            TENANT_ID,
            namespace::WIDGET_KEY,
            &widget_key,
            &WidgetKey {
                label: "Demo widget".to_owned(),
                allowed_origins: origins,
                revoked: false,
            },
        ),
    ];
    writes.push(tenant_config::write(
        TENANT_ID,
        tenant_config::SETTINGS,
        &settings,
    )?);
    // The tenant whose administrators run the platform (create tenants).
    writes.push((
        String::new(),
        namespace::SERVER,
        OPERATOR_TENANT_KEY.to_owned(),
        Some(TENANT_ID.to_owned()),
    ));
    engine
        .execute_with(root, Command::CreateTenant { settings }, writes.clone())
        .await?;
    directory.apply(&writes);
    let department: Department =
        serde_json::from_value(json!({"id": "support", "name": "Support"}))
            .expect("a valid demo department");
    let queue: QueueConfig = serde_json::from_value(json!({
        "id": "support", "name": "Support", "department_id": "support",
        "queue_when_no_agents": true
    }))
    .expect("a valid demo queue");
    let steps = [
        (
            tenant_config::write(TENANT_ID, "department/support", &department)?,
            Command::UpsertDepartment { department },
        ),
        (
            tenant_config::write(TENANT_ID, "queue/support", &queue)?,
            Command::UpsertQueue { queue },
        ),
    ];
    for (copy, command) in steps {
        engine
            .execute_with(admin.clone(), command, vec![copy.clone()])
            .await?;
        directory.apply(&[copy]);
    }
    for (email, name, role) in [
        (AGENT_EMAIL, "Demo Agent", "agent"),
        (ADMIN_EMAIL, "Demo Admin", "tenant_admin"),
    ] {
        let agent: AgentProfile = serde_json::from_value(json!({
            "id": email, "name": name, "email": email, "role": role,
            "departments": ["support"], "max_concurrent_chats": 5
        }))
        .expect("a valid demo profile");
        let credential = Credential {
            email: email.to_owned(),
            password_hash: hash.clone(),
            name: name.to_owned(),
            role: serde_json::from_value(json!(role)).expect("a staff role"),
            sessions_from: 0,
        };
        let write = directory::write(TENANT_ID, namespace::CREDENTIAL, email, &credential);
        let writes = vec![
            write,
            tenant_config::write(
                TENANT_ID,
                &format!("{}{email}", tenant_config::AGENT),
                &agent,
            )?,
        ];
        let command = Command::UpsertAgent { agent };
        engine
            .execute_with(admin.clone(), command, writes.clone())
            .await?;
        directory.apply(&writes);
    }
    Ok(DemoTenant {
        jwt_secret,
        generated_secret,
        widget_key: Some(widget_key),
        created: true,
    })
}
