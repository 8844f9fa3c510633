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
use crate::api::tenant_config::{self, DEPARTMENT, QUEUE};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// A configuration object whose id comes from the path (a different id in the body is
/// refused).
pub fn with_id<T: DeserializeOwned>(id: &str, body: Value) -> ApiResult<T> {
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
    serde_json::from_value(Value::Object(fields)).map_err(|error| ApiError::invalid("body", error))
}

/// `GET /api/v1/admin/departments`.
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
pub async fn queues(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<QueueConfig> = tenant_config::list(&state.directory, caller.tenant_id(), QUEUE);
    Ok(Json(json!({ "queues": list })))
}

/// `PUT /api/v1/admin/queues/{id}`: the queue's configuration (strategy, department,
/// timeouts, overflow...).
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
