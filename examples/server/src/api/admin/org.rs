//! Departments (the helpdesk's teams too) and queues.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_core::Command;
use switchboard_core::ids::{DepartmentId, QueueId};
use switchboard_core::protocol::model::{AgentProfile, Department, QueueConfig};

use super::{admin, execute};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::{DepartmentList, QueueList};
use crate::api::tenant_config::{self, DEPARTMENT, QUEUE};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// A configuration object whose id comes from the path (a different id in the body is
/// refused).
pub fn with_id<T: DeserializeOwned + serde::Serialize>(id: &str, body: Value) -> ApiResult<T> {
    let Value::Object(mut fields) = body else {
        return Err(ApiError::invalid("body", "expected an object"));
    };
    match fields.get("id") {
        Some(Value::String(given)) if given != id => {
            return Err(ApiError::invalid("id", "differs from the path"));
        }
        _ => {}
    }
    fields.insert("id".to_owned(), Value::String(id.to_owned()));
    // These endpoints have always answered a body of the wrong shape with `invalid_input`.
    crate::extract::strict(Value::Object(fields))
        .map_err(|error| ApiError::invalid("body", error.message))
}

/// `GET /api/v1/admin/departments`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/departments",
    operation_id = "admin_departments",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's departments.", body = DepartmentList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn departments(
    State(state): State<SharedState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<Department> =
        tenant_config::list(&state.directory, caller.tenant_id(), DEPARTMENT);
    Ok(Json(json!({ "departments": list })))
}

/// `PUT /api/v1/admin/departments/{id}`: `{"name", "calendar_id"}`.
#[utoipa::path(
    put,
    path = "/api/v1/admin/departments/{id}",
    operation_id = "admin_put_department",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id (an `id` in the body must be the same).")),
    request_body(content = Object, description = "The engine's department: `name`, `calendar_id`."),
    responses(
        (status = 200, description = "The department as saved.", body = Object),
        (status = 400, description = "`malformed`; `invalid_input`: `body` (not the engine's shape), `id` (differs from the path), `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: something it names does not exist.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put_department(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let department: Department = with_id(&id, body)?;
    let copy = tenant_config::write(
        caller.tenant_id(),
        &format!("{DEPARTMENT}{id}"),
        &department,
    )?;
    let command = Command::UpsertDepartment {
        department: department.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!(department)))
}

/// `DELETE /api/v1/admin/departments/{id}`: refused while a queue uses it; staff lose
/// their link to it.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/departments/{id}",
    operation_id = "admin_remove_department",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id.")),
    responses(
        (status = 204, description = "The department is gone."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such department.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: a queue uses it.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove_department(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    let tenant = caller.tenant_id();
    let mut writes = vec![tenant_config::remove(tenant, &format!("{DEPARTMENT}{id}"))];
    let profiles: Vec<AgentProfile> =
        tenant_config::list(&state.directory, tenant, tenant_config::AGENT);
    for mut profile in profiles {
        if profile.departments.iter().any(|d| d.as_str() == id) {
            profile.departments.retain(|d| d.as_str() != id);
            writes.push(tenant_config::write(
                tenant,
                &format!("{}{}", tenant_config::AGENT, profile.id),
                &profile,
            )?);
        }
    }
    let command = Command::RemoveDepartment {
        department_id: DepartmentId::from(id),
    };
    execute(&state, &caller, command, writes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/queues`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/queues",
    operation_id = "admin_queues",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's queues.", body = QueueList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn queues(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<QueueConfig> = tenant_config::list(&state.directory, caller.tenant_id(), QUEUE);
    Ok(Json(json!({ "queues": list })))
}

/// `PUT /api/v1/admin/queues/{id}`: the queue's configuration (strategy, department,
/// timeouts, overflow...).
#[utoipa::path(
    put,
    path = "/api/v1/admin/queues/{id}",
    operation_id = "admin_put_queue",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id (an `id` in the body must be the same).")),
    request_body(content = Object, description = "The engine's queue configuration: `name`, `department_id`, strategy, timeouts, overflow..."),
    responses(
        (status = 200, description = "The queue as saved.", body = Object),
        (status = 400, description = "`malformed`; `invalid_input`: `body` (not the engine's shape), `id` (differs from the path), `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: something it names does not exist.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put_queue(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let queue: QueueConfig = with_id(&id, body)?;
    let copy = tenant_config::write(caller.tenant_id(), &format!("{QUEUE}{id}"), &queue)?;
    let command = Command::UpsertQueue {
        queue: queue.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!(queue)))
}

/// `DELETE /api/v1/admin/queues/{id}`: refused while sessions or rules use it.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/queues/{id}",
    operation_id = "admin_remove_queue",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id.")),
    responses(
        (status = 204, description = "The queue is gone."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such queue.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: sessions or routing rules use it.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove_queue(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    let copy = tenant_config::remove(caller.tenant_id(), &format!("{QUEUE}{id}"));
    let command = Command::RemoveQueue {
        queue_id: QueueId::from(id),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(StatusCode::NO_CONTENT)
}
