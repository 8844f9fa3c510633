//! The administration API (`/api/v1/admin`), for the tenant's administrators: staff and
//! roles, departments and queues, routing rules, business hours, SLA policies, tenant-wide
//! canned responses, settings and the widget, widget keys, force logout, retention,
//! visitor export and erasure, and analytics. Creating and listing tenants is for the
//! administrators of the operator tenant (see [`operator`]).

pub mod analytics;
pub mod erp;
pub mod keys;
pub mod org;
pub mod privacy;
pub mod routing;
pub mod settings;
pub mod tenants;
pub mod users;

use switchboard_core::Command;
use switchboard_store::{MAX_HOST_KEY_BYTES, MAX_HOST_VALUE_BYTES};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::demo::OPERATOR_TENANT_KEY;
use crate::engine_loop::HostWrite;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The admin routes.
pub fn routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(tenants::list, tenants::create))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::remove))
        .routes(routes!(users::skills))
        .routes(routes!(org::departments))
        .routes(routes!(org::put_department, org::remove_department))
        .routes(routes!(org::queues))
        .routes(routes!(org::put_queue, org::remove_queue))
        .routes(routes!(routing::rules, routing::set_rules))
        .routes(routes!(routing::calendars))
        .routes(routes!(routing::put_calendar, routing::remove_calendar))
        .routes(routes!(routing::sla_policies, routing::set_sla_policies))
        .routes(routes!(settings::canned, settings::create_canned))
        .routes(routes!(settings::update_canned, settings::remove_canned))
        .routes(routes!(settings::get, settings::put))
        .routes(routes!(settings::widget, settings::put_widget))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::update, keys::revoke))
        .routes(routes!(privacy::force_logout))
        .routes(routes!(erp::get, erp::put))
        .routes(routes!(privacy::retention, privacy::set_retention))
        .routes(routes!(privacy::export))
        .routes(routes!(privacy::forget))
        .routes(routes!(analytics::report))
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
