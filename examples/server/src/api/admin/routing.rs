//! Routing rules, business-hours calendars and SLA policies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Command;
use switchboard_core::ids::CalendarId;
use switchboard_core::protocol::helpdesk::{CalendarConfig, SlaPolicy};
use switchboard_core::protocol::model::RoutingRule;

use super::org::with_id;
use super::{admin, execute};
use crate::api::tenant_config::{self, CALENDAR, ROUTING_RULES, SLA_POLICIES};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Body, Path};
use crate::state::SharedState;

/// The routing rules, in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// Rules; the first whose triggers all hold decides (by priority, then order).
    pub rules: Vec<RoutingRule>,
}

/// `GET /api/v1/admin/routing-rules`.
pub async fn rules(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let rules: Vec<RoutingRule> =
        tenant_config::get(&state.directory, caller.tenant_id(), ROUTING_RULES).unwrap_or_default();
    Ok(Json(json!({ "rules": rules })))
}

/// `PUT /api/v1/admin/routing-rules`: replaces every rule (department, availability,
/// issue type, language, page, visitor type... to a queue, strategy and messages).
pub async fn set_rules(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<RulesBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let copy = tenant_config::write(caller.tenant_id(), ROUTING_RULES, &body.rules)?;
    let command = Command::SetRoutingRules {
        rules: body.rules.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!({ "rules": body.rules })))
}

/// `GET /api/v1/admin/calendars`.
pub async fn calendars(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let list: Vec<CalendarConfig> =
        tenant_config::list(&state.directory, caller.tenant_id(), CALENDAR);
    Ok(Json(json!({ "calendars": list })))
}

/// `PUT /api/v1/admin/calendars/{id}`: `{"name", "time_zone", "weekly", "holidays",
/// "special_days"}`.
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliciesBody {
    /// Every policy; open tickets and chats re-select theirs.
    pub policies: Vec<SlaPolicy>,
}

/// `GET /api/v1/admin/sla-policies`.
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
pub async fn set_sla_policies(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<PoliciesBody>,
) -> ApiResult<Json<Value>> {
    admin(&caller)?;
    let copy = tenant_config::write(caller.tenant_id(), SLA_POLICIES, &body.policies)?;
    let command = Command::SetSlaPolicies {
        policies: body.policies.clone(),
    };
    execute(&state, &caller, command, vec![copy]).await?;
    Ok(Json(json!({ "policies": body.policies })))
}
