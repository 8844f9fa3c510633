//! Routing rules, business-hours calendars and SLA policies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::Command;
use switchboard_core::ids::CalendarId;
use switchboard_core::protocol::helpdesk::{CalendarConfig, SlaPolicy};
use switchboard_core::protocol::model::RoutingRule;
use utoipa::ToSchema;

use super::org::with_id;
use super::{admin, execute};
use crate::api::openapi::{Authenticated, JsonBody};
use crate::api::schemas::CalendarList;
use crate::api::tenant_config::{self, CALENDAR, ROUTING_RULES, SLA_POLICIES};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// The routing rules, in order.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// Rules; the first whose triggers all hold decides (by priority, then order).
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<RoutingRule>,
}

/// `GET /api/v1/admin/routing-rules`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/routing-rules",
    operation_id = "admin_rules",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The routing rules, in order.", body = RulesBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn rules(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let rules: Vec<RoutingRule> =
        tenant_config::get(&state.directory, caller.tenant_id(), ROUTING_RULES).unwrap_or_default();
    Ok(Json(json!({ "rules": rules })))
}

/// `PUT /api/v1/admin/routing-rules`: replaces every rule (department, availability,
/// issue type, language, page, visitor type... to a queue, strategy and messages).
#[utoipa::path(
    put,
    path = "/api/v1/admin/routing-rules",
    operation_id = "admin_set_rules",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = RulesBody,
    responses(
        (status = 200, description = "The rules as saved.", body = RulesBody),
        (status = 400, description = "`malformed` (also unknown fields or a rule the engine cannot read); `invalid_input`; `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: a rule names a queue or department that does not exist.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn set_rules(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let body: RulesBody = crate::extract::strict(body)?;
    admin(&caller)?;
    let copy = tenant_config::write(caller.tenant_id(), ROUTING_RULES, &body.rules)?;
    let command = Command::SetRoutingRules {
        rules: body.rules.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!({ "rules": body.rules })))
}

/// `GET /api/v1/admin/calendars`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/calendars",
    operation_id = "admin_calendars",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The tenant's business-hours calendars.", body = CalendarList),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn calendars(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<CalendarConfig> =
        tenant_config::list(&state.directory, caller.tenant_id(), CALENDAR);
    Ok(Json(json!({ "calendars": list })))
}

/// `PUT /api/v1/admin/calendars/{id}`: `{"name", "time_zone", "weekly", "holidays",
/// "special_days"}`.
#[utoipa::path(
    put,
    path = "/api/v1/admin/calendars/{id}",
    operation_id = "admin_put_calendar",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id (an `id` in the body must be the same).")),
    request_body(content = Object, description = "The engine's calendar: `name`, `time_zone`, `weekly`, `holidays`, `special_days`."),
    responses(
        (status = 200, description = "The calendar as saved.", body = Object),
        (status = 400, description = "`malformed`; `invalid_input`: `body` (not the engine's shape), `id` (differs from the path), `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: something it names does not exist.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn put_calendar(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let calendar: CalendarConfig = with_id(&id, body)?;
    let copy = tenant_config::write(caller.tenant_id(), &format!("{CALENDAR}{id}"), &calendar)?;
    let command = Command::UpsertCalendar {
        calendar: calendar.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!(calendar)))
}

/// `DELETE /api/v1/admin/calendars/{id}`: refused while a department or policy uses it.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/calendars/{id}",
    operation_id = "admin_remove_calendar",
    tag = "admin",
    security(("staff_token" = [])),
    params(("id" = String, Path, description = "Its id.")),
    responses(
        (status = 204, description = "The calendar is gone."),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no such calendar.", body = crate::error::ErrorBody),
        (status = 409, description = "`illegal_transition`: a department or SLA policy uses it.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn remove_calendar(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    let copy = tenant_config::remove(caller.tenant_id(), &format!("{CALENDAR}{id}"));
    let command = Command::RemoveCalendar {
        calendar_id: CalendarId::from(id),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The SLA policies.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesBody {
    /// Every policy; open tickets and chats re-select theirs.
    #[schema(value_type = Vec<Object>)]
    pub policies: Vec<SlaPolicy>,
}

/// `GET /api/v1/admin/sla-policies`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sla-policies",
    operation_id = "admin_sla_policies",
    tag = "admin",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The SLA policies.", body = PoliciesBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn sla_policies(
    State(state): State<SharedState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let policies: Vec<SlaPolicy> =
        tenant_config::get(&state.directory, caller.tenant_id(), SLA_POLICIES).unwrap_or_default();
    Ok(Json(json!({ "policies": policies })))
}

/// `PUT /api/v1/admin/sla-policies`: replaces every policy.
#[utoipa::path(
    put,
    path = "/api/v1/admin/sla-policies",
    operation_id = "admin_set_sla_policies",
    tag = "admin",
    security(("staff_token" = [])),
    request_body = PoliciesBody,
    responses(
        (status = 200, description = "The policies as saved; open tickets and chats re-select theirs.", body = PoliciesBody),
        (status = 400, description = "`malformed` (also unknown fields or a policy the engine cannot read); `invalid_input`; `too_long`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: tenant administrators only.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: a policy names a calendar that does not exist.", body = crate::error::ErrorBody),
        Authenticated,
        JsonBody,
    ),
)]
pub async fn set_sla_policies(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let body: PoliciesBody = crate::extract::strict(body)?;
    admin(&caller)?;
    let copy = tenant_config::write(caller.tenant_id(), SLA_POLICIES, &body.policies)?;
    let command = Command::SetSlaPolicies {
        policies: body.policies.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!({ "policies": body.policies })))
}
