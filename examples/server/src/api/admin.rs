//! The administration API (`/api/v1/admin`), for the tenant's administrators: staff and
//! roles, departments and queues, routing rules, business hours, SLA policies, tenant-wide
//! canned responses, settings and the widget, widget keys, force logout, retention,
//! visitor export and erasure, and analytics. Creating and listing tenants is for the
//! administrators of the operator tenant (see [`operator`]).

pub mod analytics;
pub mod keys;
pub mod org;
pub mod privacy;
pub mod routing;
pub mod settings;
pub mod tenants;
pub mod users;

use axum::Router;
use axum::routing::{get, post, put};
use switchboard_core::Command;
use switchboard_store::{MAX_HOST_KEY_BYTES, MAX_HOST_VALUE_BYTES};

use crate::auth::Caller;
use crate::demo::OPERATOR_TENANT_KEY;
use crate::engine_loop::HostWrite;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The admin routes.
pub fn routes() -> Router<SharedState> {
    const A: &str = "/api/v1/admin";
    Router::new()
        .route(
            &format!("{A}/tenants"),
            get(tenants::list).post(tenants::create),
        )
        .route(&format!("{A}/users"), get(users::list).post(users::create))
        .route(
            &format!("{A}/users/{{agent_id}}"),
            get(users::get).put(users::update).delete(users::remove),
        )
        .route(
            &format!("{A}/users/{{agent_id}}/skills"),
            put(users::skills),
        )
        .route(&format!("{A}/departments"), get(org::departments))
        .route(
            &format!("{A}/departments/{{id}}"),
            put(org::put_department).delete(org::remove_department),
        )
        .route(&format!("{A}/queues"), get(org::queues))
        .route(
            &format!("{A}/queues/{{id}}"),
            put(org::put_queue).delete(org::remove_queue),
        )
        .route(
            &format!("{A}/routing-rules"),
            get(routing::rules).put(routing::set_rules),
        )
        .route(&format!("{A}/calendars"), get(routing::calendars))
        .route(
            &format!("{A}/calendars/{{id}}"),
            put(routing::put_calendar).delete(routing::remove_calendar),
        )
        .route(
            &format!("{A}/sla-policies"),
            get(routing::sla_policies).put(routing::set_sla_policies),
        )
        .route(
            &format!("{A}/canned-responses"),
            get(settings::canned).post(settings::create_canned),
        )
        .route(
            &format!("{A}/canned-responses/{{canned_id}}"),
            put(settings::update_canned).delete(settings::remove_canned),
        )
        .route(
            &format!("{A}/settings"),
            get(settings::get).put(settings::put),
        )
        .route(
            &format!("{A}/widget"),
            get(settings::widget).put(settings::put_widget),
        )
        .route(&format!("{A}/api-keys"), get(keys::list).post(keys::create))
        .route(
            &format!("{A}/api-keys/{{key}}"),
            put(keys::update).delete(keys::revoke),
        )
        .route(&format!("{A}/force-logout"), post(privacy::force_logout))
        .route(
            &format!("{A}/retention"),
            get(privacy::retention).put(privacy::set_retention),
        )
        .route(
            &format!("{A}/visitors/{{visitor_id}}/export"),
            get(privacy::export),
        )
        .route(
            &format!("{A}/visitors/{{visitor_id}}"),
            axum::routing::delete(privacy::forget),
        )
        .route(&format!("{A}/analytics"), get(analytics::report))
}

/// Refuses callers who do not administer their tenant.
pub fn admin(caller: &Caller) -> ApiResult<()> {
    caller.require_staff()?;
    caller.require_admin()
}

/// Refuses callers who are not administrators of the operator tenant: the tenant a new
/// database's setup names (the demo tenant), whose administrators run the platform.
pub fn operator(state: &SharedState, caller: &Caller) -> ApiResult<()> {
    admin(caller)?;
    let operator = state.directory.server_value(OPERATOR_TENANT_KEY);
    if operator.as_deref() == Some(caller.tenant_id()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only administrators of the operator tenant manage tenants",
        ))
    }
}

/// Runs an administrative command with the host values that go with it, committed
/// together, then updates the directory.
pub async fn execute(
    state: &SharedState,
    caller: &Caller,
    command: Command,
    writes: Vec<HostWrite>,
) -> ApiResult<switchboard_core::Timestamp> {
    let (_, at) = state
        .engine
        .execute_with(caller.actor.clone(), command, writes.clone())
        .await?;
    state.directory.apply(&writes);
    Ok(at)
}

/// Commits host values that go with no engine command, then updates the directory.
pub async fn commit_host(state: &SharedState, writes: Vec<HostWrite>) -> ApiResult<()> {
    // Checked before anything is staged, so that no write is left half-staged.
    for (tenant, namespace, key, value) in &writes {
        if [tenant.as_str(), namespace, key.as_str()]
            .iter()
            .any(|text| text.len() > MAX_HOST_KEY_BYTES)
            || value
                .as_ref()
                .is_some_and(|value| value.len() > MAX_HOST_VALUE_BYTES)
        {
            return Err(ApiError::invalid("body", "too large to keep"));
        }
    }
    let staged = writes.clone();
    state
        .engine
        .run(move |store| {
            for (tenant, namespace, key, value) in &staged {
                store.stage_host_value(tenant, namespace, key, value.as_deref())?;
            }
            store.commit().map(|_| ())
        })
        .await??;
    state.directory.apply(&writes);
    Ok(())
}
