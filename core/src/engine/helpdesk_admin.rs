//! Helpdesk configuration: business-hours calendars, SLA policies and ticket templates.
//! Every change is audited; calendar and policy changes re-time every open ticket and chat.

use std::sync::Arc;

use super::Ctx;
use super::state::TenantState;
use super::tickets::validate_tags;
use crate::auth::Actor;
use crate::calendar::Calendar;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{CalendarId, TicketTemplateId};
use crate::limits::Limits;
use crate::protocol::helpdesk::{CalendarConfig, SlaPolicy, TicketTemplate};
use crate::protocol::reply::Reply;

fn validate_policy(limits: &Limits, policy: &SlaPolicy) -> Result<(), CommandError> {
    limits.check_id("policy.id", &policy.id)?;
    limits.check_short("policy.name", Some(&policy.name))?;
    let c = &policy.conditions;
    limits.check_count("conditions.priorities", c.priorities.len())?;
    limits.check_count("conditions.departments", c.departments.len())?;
    for department in &c.departments {
        limits.check_id("conditions.departments", department)?;
    }
    if let Some(team) = &policy.escalation.reassign_team_id {
        limits.check_id("escalation.reassign_team_id", team)?;
    }
    limits.check_count("conditions.channels", c.channels.len())?;
    validate_tags(limits, &c.tags)?;
    if !(1..=99).contains(&policy.warning_percent) {
        return Err(CommandError::invalid(
            "policy.warning_percent",
            "must be 1 to 99",
        ));
    }
    let targets = &policy.targets;
    let all = [
        targets.first_response,
        targets.next_response,
        targets.periodic_update,
        targets.resolution,
    ];
    if all.iter().flatten().any(|t| t.minutes == 0) {
        return Err(CommandError::invalid(
            "policy.targets",
            "a target must be at least one minute",
        ));
    }
    // A year of minutes: long enough for any real target, short enough that due times
    // stay within the calendar's search horizon.
    if all.iter().flatten().any(|t| t.minutes > 525_600) {
        return Err(CommandError::invalid(
            "policy.targets",
            "a target must be at most a year",
        ));
    }
    Ok(())
}

impl TenantState {
    pub(crate) fn upsert_calendar(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        config: CalendarConfig,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        cx.limits.check_id("calendar.id", &config.id)?;
        cx.limits.check_short("calendar.name", Some(&config.name))?;
        cx.limits
            .check_short("calendar.time_zone", Some(&config.hours.time_zone))?;
        super::admin::validate_hours_names(cx.limits, &config.hours)?;
        let max = u64::from(self.settings.limits.max_calendars);
        if !self.calendars.contains_key(&config.id) && self.calendars.len() as u64 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_calendars",
                max,
            });
        }
        let compiled = Arc::new(Calendar::compile(&config.hours)?);
        self.close_all_sla_segments(cx);
        self.calendars.insert(config.id.clone(), compiled);
        self.audit(cx, actor, "upsert_calendar", config.id.to_string());
        self.reselect_all_sla(cx);
        Ok(Reply::Ok)
    }

    pub(crate) fn remove_calendar(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        calendar_id: &CalendarId,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        if !self.calendars.contains_key(calendar_id) {
            return Err(CommandError::not_found(ObjectKind::Calendar, calendar_id));
        }
        let in_use = self
            .departments
            .values()
            .any(|d| d.calendar_id.as_ref() == Some(calendar_id))
            || self
                .sla_policies
                .iter()
                .any(|p| p.calendar_id.as_ref() == Some(calendar_id));
        if in_use {
            return Err(CommandError::invalid(
                "calendar_id",
                "a department or SLA policy still uses this calendar",
            ));
        }
        self.calendars.remove(calendar_id);
        self.audit(cx, actor, "remove_calendar", calendar_id.to_string());
        Ok(Reply::Ok)
    }

    pub(crate) fn set_sla_policies(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        mut policies: Vec<SlaPolicy>,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        let max = self.settings.limits.max_sla_policies as usize;
        if policies.len() > max {
            return Err(CommandError::LimitReached {
                limit: "max_sla_policies",
                max: max as u64,
            });
        }
        let mut ids = std::collections::BTreeSet::new();
        for policy in &policies {
            validate_policy(cx.limits, policy)?;
            if !ids.insert(policy.id.clone()) {
                return Err(CommandError::AlreadyExists {
                    kind: ObjectKind::SlaPolicy,
                    id: policy.id.to_string(),
                });
            }
            if let Some(calendar) = &policy.calendar_id
                && !self.calendars.contains_key(calendar)
            {
                return Err(CommandError::not_found(ObjectKind::Calendar, calendar));
            }
            if let Some(team) = &policy.escalation.reassign_team_id
                && !self.departments.contains_key(team)
            {
                return Err(CommandError::not_found(ObjectKind::Department, team));
            }
        }
        // Equal positions keep list order.
        policies.sort_by_key(|p| p.position);
        self.close_all_sla_segments(cx);
        self.sla_policies = policies;
        self.audit(cx, actor, "set_sla_policies", self.id.to_string());
        self.reselect_all_sla(cx);
        Ok(Reply::Ok)
    }

    pub(crate) fn upsert_ticket_template(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        template: TicketTemplate,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        let limits = cx.limits;
        limits.check_id("template.id", &template.id)?;
        Limits::check_required("template.name", &template.name, limits.max_short_text_bytes)?;
        Limits::check_required(
            "template.subject",
            &template.subject,
            limits.max_long_text_bytes,
        )?;
        Limits::check_len(
            "template.description",
            &template.description,
            limits.max_ticket_text_bytes,
        )?;
        validate_tags(limits, &template.tags)?;
        if let Some(team) = &template.team_id
            && !self.departments.contains_key(team)
        {
            return Err(CommandError::not_found(ObjectKind::Department, team));
        }
        let max = u64::from(self.settings.limits.max_ticket_templates);
        if !self.templates.contains_key(&template.id) && self.templates.len() as u64 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_ticket_templates",
                max,
            });
        }
        self.audit(cx, actor, "upsert_ticket_template", template.id.to_string());
        self.templates.insert(template.id.clone(), template);
        Ok(Reply::Ok)
    }

    pub(crate) fn remove_ticket_template(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        template_id: &TicketTemplateId,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        if self.templates.remove(template_id).is_none() {
            return Err(CommandError::not_found(
                ObjectKind::TicketTemplate,
                template_id,
            ));
        }
        self.audit(cx, actor, "remove_ticket_template", template_id.to_string());
        Ok(Reply::Ok)
    }
}
