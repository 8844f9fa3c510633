//! Routing rules: which queue, strategy and actions a new session gets.

use super::state::TenantState;
use crate::error::CommandError;
use crate::ids::DepartmentId;
use crate::protocol::model::{RoutingRule, Strategy, VisitorProfile};
use crate::time::Timestamp;

/// What a visitor asks for when starting a chat.
pub(crate) struct StartRequest {
    pub visitor: VisitorProfile,
    pub department_id: Option<DepartmentId>,
    pub issue_type: Option<String>,
    pub language: Option<String>,
    pub initial_message: Option<String>,
    pub client_message_id: Option<String>,
}

/// Where routing sends a new session and how.
pub(crate) struct Route {
    pub queue: Option<u32>,
    pub strategy: Strategy,
    pub priority: u8,
    pub required_skills: Vec<String>,
    pub max_wait_ms: Option<u64>,
    pub welcome_message: Option<String>,
    pub queue_message: Option<String>,
    pub bot: Option<crate::ids::BotId>,
    /// The matching rule asked for "outside business hours" explicitly.
    pub for_closed_hours: bool,
}

fn contains_ignore_case(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|item| item.eq_ignore_ascii_case(v)))
}

fn language_listed(list: &[String], language: Option<&str>) -> bool {
    language.is_some_and(|wanted| {
        list.iter().any(|listed| {
            wanted.eq_ignore_ascii_case(listed)
                || wanted
                    .get(..listed.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(listed))
                    && wanted.as_bytes().get(listed.len()) == Some(&b'-')
        })
    })
}

impl TenantState {
    fn rule_matches(&self, now: Timestamp, rule: &RoutingRule, request: &StartRequest) -> bool {
        let t = &rule.triggers;
        let profile = &request.visitor;
        if rule.enabled == Some(false) {
            return false;
        }
        if let Some(open) = t.business_hours
            && self.is_open(now, request.department_id.as_ref()) != open
        {
            return false;
        }
        if !t.visitor_location.is_empty()
            && !contains_ignore_case(&t.visitor_location, profile.country.as_deref())
        {
            return false;
        }
        if !t.page_url_contains.is_empty()
            && !profile
                .page_url
                .as_deref()
                .is_some_and(|url| t.page_url_contains.iter().any(|part| url.contains(part)))
        {
            return false;
        }
        if let Some(kind) = &t.visitor_type
            && profile.visitor_type.as_deref() != Some(kind.as_str())
        {
            return false;
        }
        if let Some(department) = &t.department
            && request.department_id.as_ref() != Some(department)
        {
            return false;
        }
        if !t.language.is_empty() && !language_listed(&t.language, request.language.as_deref()) {
            return false;
        }
        if !t.issue_type.is_empty()
            && !contains_ignore_case(&t.issue_type, request.issue_type.as_deref())
        {
            return false;
        }
        t.attributes.iter().all(|(key, wanted)| {
            profile.custom_fields.get(key) == Some(wanted)
                || profile.user_context.get(key) == Some(wanted)
        })
    }

    /// The queue of a department: the first queue (by id) that belongs to it.
    pub(crate) fn department_queue(&self, department: &DepartmentId) -> Option<u32> {
        self.queue_index
            .values()
            .copied()
            .find(|&q| self.queue(q).config.department_id.as_ref() == Some(department))
    }

    /// The tenant's default queue: the configured one, else the first by id.
    pub(crate) fn default_queue(&self) -> Option<u32> {
        self.settings
            .default_queue_id
            .as_ref()
            .and_then(|id| self.queue_no(id))
            .or_else(|| self.queue_index.values().next().copied())
    }

    /// Evaluates the rules in order; the first match decides, else the department's queue,
    /// else the default queue.
    pub(crate) fn route(&self, now: Timestamp, request: &StartRequest) -> Route {
        let rule = self
            .rules
            .iter()
            .find(|r| self.rule_matches(now, r, request));
        let actions = rule.map(|r| &r.actions);
        let queue = actions
            .and_then(|a| a.queue.as_ref())
            .and_then(|id| self.queue_no(id))
            .or_else(|| {
                request
                    .department_id
                    .as_ref()
                    .and_then(|d| self.department_queue(d))
            })
            .or_else(|| self.default_queue());
        let queue_config = queue.map(|q| &self.queue(q).config);
        let strategy = match actions {
            Some(a) if a.auto_assign == Some(false) => Strategy::Manual,
            Some(a) if a.assignment_type.is_some() => a.assignment_type.unwrap_or_default(),
            _ => queue_config.map_or_else(Strategy::default, |c| c.strategy),
        };
        let max_wait_ms = actions
            .and_then(|a| {
                a.max_wait_seconds
                    .map(|s| s.saturating_mul(1000))
                    .or(a.max_wait_time.map(|m| m.saturating_mul(60_000)))
            })
            .or_else(|| queue_config.and_then(|c| c.max_wait_ms));
        Route {
            queue,
            strategy,
            priority: actions.and_then(|a| a.priority).unwrap_or(0),
            required_skills: actions
                .map(|a| a.required_skills.clone())
                .unwrap_or_default(),
            max_wait_ms,
            welcome_message: actions.and_then(|a| a.welcome_message.clone()),
            queue_message: actions.and_then(|a| a.queue_message.clone()),
            bot: actions
                .and_then(|a| a.bot.clone())
                .filter(|_| self.settings.features.bots),
            for_closed_hours: rule.is_some_and(|r| r.triggers.business_hours == Some(false)),
        }
    }

    /// Why a new chat cannot start now, if it cannot.
    pub(crate) fn unavailable_reason(&self, now: Timestamp, route: &Route) -> Option<&'static str> {
        if route.bot.is_some() {
            return None;
        }
        if !route.for_closed_hours && !self.is_open(now, self.queue_department(route.queue)) {
            return Some("outside_business_hours");
        }
        let queue = self.queue(route.queue?);
        if queue.online_agents == 0 && !queue.config.queue_when_no_agents {
            return Some("no_agents_online");
        }
        if queue
            .config
            .max_length
            .is_some_and(|max| queue.waiting.len() as u32 >= max)
        {
            return Some("queue_full");
        }
        None
    }
}

/// Checks every field of a visitor profile against the limits.
pub(crate) fn validate_profile(
    limits: &crate::limits::Limits,
    profile: &VisitorProfile,
) -> Result<(), CommandError> {
    limits.check_short("visitor.name", profile.name.as_deref())?;
    limits.check_short("visitor.email", profile.email.as_deref())?;
    limits.check_short("visitor.account", profile.account.as_deref())?;
    limits.check_url("visitor.page_url", profile.page_url.as_deref())?;
    limits.check_short("visitor.tenant_domain", profile.tenant_domain.as_deref())?;
    limits.check_short("visitor.country", profile.country.as_deref())?;
    limits.check_short("visitor.visitor_type", profile.visitor_type.as_deref())?;
    limits.check_fields("visitor.custom_fields", &profile.custom_fields)?;
    limits.check_fields("visitor.user_context", &profile.user_context)?;
    Ok(())
}
