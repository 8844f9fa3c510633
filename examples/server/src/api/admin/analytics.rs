//! A tenant's chat figures over a time range, computed from its stored sessions: volumes,
//! answered, abandoned and missed chats, first response, wait and handle times, per
//! department and per agent.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::analytics::{Analytics, AnalyticsQuery};
use switchboard_core::ids::{AgentId, DepartmentId, TenantId};
use switchboard_core::{Record, Role, Timestamp};
use switchboard_store::query::{MAX_PAGE_SIZE, SessionFilter};
use utoipa::IntoParams;

use crate::api::openapi::Authenticated;
use crate::api::schemas::AnalyticsAnswer;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::SharedState;

/// The default range: the last 30 days.
const DEFAULT_RANGE_MS: i64 = 30 * 24 * 3_600_000;
/// Most sessions one report reads.
pub const MAX_SESSIONS: u32 = 10_000;

/// The range and filters; times are milliseconds since the epoch or RFC 3339.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Start, included (default 30 days before `to`).
    pub from: Option<String>,
    /// End, excluded (default: none).
    pub to: Option<String>,
    /// Only this department.
    pub department_id: Option<String>,
    /// Only this agent.
    pub agent_id: Option<String>,
}

fn parse_time(field: &str, text: &str) -> ApiResult<Timestamp> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    text.parse::<jiff::Timestamp>()
        .map(|at| Timestamp(at.as_millisecond()))
        .map_err(|_| ApiError::invalid(field, "milliseconds since the epoch or RFC 3339"))
}

/// `GET /api/v1/admin/analytics` (administrators, supervisors and viewers).
#[utoipa::path(
    get,
    path = "/api/v1/admin/analytics",
    operation_id = "admin_analytics_report",
    tag = "admin",
    security(("staff_token" = [])),
    params(ReportParams),
    responses(
        (status = 200, description = "Chat figures over the range, from at most 10,000 sessions.", body = AnalyticsAnswer),
        (status = 400, description = "`invalid_input`: `from` or `to` is not milliseconds or RFC 3339, or `from` is not before `to`.", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: for administrators, supervisors and viewers.", body = crate::error::ErrorBody),
        Authenticated,
    ),
)]
pub async fn report(
    State(state): State<SharedState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    if caller.actor.role == Role::Agent {
        return Err(ApiError::forbidden(
            "analytics are for administrators, supervisors and viewers",
        ));
    }
    // Without an end the range is open, so that a chat started this very millisecond
    // counts.
    let to = params
        .to
        .as_deref()
        .map(|text| parse_time("to", text))
        .transpose()?;
    let from = match &params.from {
        Some(text) => parse_time("from", text)?,
        None => {
            let end = to.unwrap_or(Timestamp(jiff::Timestamp::now().as_millisecond()));
            Timestamp(end.0.saturating_sub(DEFAULT_RANGE_MS))
        }
    };
    if to.is_some_and(|to| from >= to) {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    let tenant = caller.tenant_id().to_owned();
    let filter = SessionFilter {
        department_id: params.department_id.clone(),
        agent_id: params.agent_id.clone(),
        created_from: Some(from),
        created_to: to,
        per_page: MAX_PAGE_SIZE,
        ..SessionFilter::default()
    };
    let query = AnalyticsQuery {
        tenant_id: TenantId::from(tenant.as_str()),
        from,
        to: to.unwrap_or(Timestamp(i64::MAX)),
        department_id: params.department_id.map(DepartmentId::from),
        agent_id: params.agent_id.map(AgentId::from),
    };
    let (report, read, total) = state
        .readers
        .read(move |reader| {
            let queries = reader.queries();
            let tenant_id = TenantId::from(tenant.as_str());
            let mut analytics = Analytics::default();
            let mut read = 0u64;
            let mut total = 0u64;
            for page in 1..=MAX_SESSIONS / MAX_PAGE_SIZE {
                let result = queries.list_sessions(
                    &tenant,
                    &SessionFilter {
                        page,
                        ..filter.clone()
                    },
                )?;
                total = result.total;
                let last = result.sessions.len() < MAX_PAGE_SIZE as usize;
                for summary in result.sessions {
                    read += 1;
                    let record = Record::Session {
                        session: Box::new(summary.session),
                    };
                    analytics.ingest(&tenant_id, &record);
                }
                if last {
                    break;
                }
            }
            Ok((analytics.report(&query), read, total))
        })
        .await?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "sessions_read": read,
        "truncated": read < total,
        "report": report,
    })))
}
