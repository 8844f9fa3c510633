//! Tenant administration: settings, departments, queues, staff and routing rules. Every
//! change leaves an audit record.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Ctx;
use super::state::{Agent, Queue, TenantState};
use crate::auth::Actor;
use crate::calendar::Calendar;
use crate::error::{CommandError, ObjectKind};
use crate::ids::{AgentId, DepartmentId, QueueId, RuleId};
use crate::limits::Limits;
use crate::protocol::event::UnassignReason;
use crate::protocol::model::{
    AgentProfile, AgentStatus, Department, QueueConfig, RoutingRule, StaffRole, TenantSettings,
};
use crate::protocol::output::Record;
use crate::protocol::reply::Reply;
use crate::timer::TimerKey;

/// Checks every field of tenant settings against the limits.
pub(crate) fn validate_settings(
    limits: &Limits,
    settings: &TenantSettings,
) -> Result<(), CommandError> {
    limits.check_short("name", Some(&settings.name))?;
    let b = &settings.branding;
    for (field, value) in [
        ("branding.primary_color", &b.primary_color),
        ("branding.secondary_color", &b.secondary_color),
        ("branding.font_family", &b.font_family),
        ("branding.position", &b.position),
        ("branding.theme", &b.theme),
    ] {
        limits.check_short(field, value.as_deref())?;
    }
    limits.check_url("branding.logo_url", b.logo_url.as_deref())?;
    limits.check_long("branding.welcome_message", b.welcome_message.as_deref())?;
    limits.check_long("branding.offline_message", b.offline_message.as_deref())?;
    limits.check_count("branding.languages", b.languages.len())?;
    for language in &b.languages {
        limits.check_id("branding.languages", language)?;
    }
    if let Some(queue) = &settings.default_queue_id {
        limits.check_id("default_queue_id", queue)?;
    }
    if let Some(cap) = settings.fairness_cap
        && (cap.max_assignments == 0 || cap.window_ms == 0)
    {
        return Err(CommandError::invalid(
            "fairness_cap",
            "max_assignments and window_ms must be positive",
        ));
    }
    if let Some(prefix) = &settings.ticket_prefix
        && (prefix.is_empty()
            || prefix.len() > 16
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(CommandError::invalid(
            "ticket_prefix",
            "1 to 16 letters, digits or underscores",
        ));
    }
    // A year: longer would keep surveys and resolved tickets in memory indefinitely.
    const YEAR_MS: u64 = 365 * 24 * 3_600_000;
    if settings.timing.survey_expiry_ms > YEAR_MS || settings.timing.ticket_auto_close_ms > YEAR_MS
    {
        return Err(CommandError::invalid(
            "timing",
            "survey_expiry_ms and ticket_auto_close_ms are at most a year",
        ));
    }
    if let Some(hours) = &settings.business_hours {
        validate_hours_names(limits, hours)?;
        limits.check_short("business_hours.time_zone", Some(&hours.time_zone))?;
    }
    Ok(())
}

/// Names of holidays and special days are kept with the settings: they are limited too.
pub(crate) fn validate_hours_names(
    limits: &Limits,
    hours: &crate::calendar::BusinessHours,
) -> Result<(), CommandError> {
    let names = hours
        .holidays
        .iter()
        .map(|h| h.name.as_deref())
        .chain(hours.special_days.iter().map(|d| d.name.as_deref()));
    for name in names {
        limits.check_short("name", name)?;
    }
    Ok(())
}

fn validate_agent(limits: &Limits, agent: &AgentProfile) -> Result<(), CommandError> {
    limits.check_id("agent.id", &agent.id)?;
    Limits::check_required("agent.name", &agent.name, limits.max_short_text_bytes)?;
    limits.check_short("agent.email", agent.email.as_deref())?;
    limits.check_count("agent.departments", agent.departments.len())?;
    limits.check_count("agent.skills", agent.skills.len())?;
    limits.check_count("agent.languages", agent.languages.len())?;
    for skill in agent.skills.keys() {
        limits.check_id("agent.skills", skill)?;
    }
    if agent.skills.values().any(|level| !(1..=10).contains(level)) {
        return Err(CommandError::invalid("agent.skills", "levels are 1 to 10"));
    }
    for language in &agent.languages {
        limits.check_id("agent.languages", language)?;
    }
    if agent.max_concurrent_chats > 1000 {
        return Err(CommandError::invalid(
            "agent.max_concurrent_chats",
            "at most 1000",
        ));
    }
    Ok(())
}

fn validate_queue(limits: &Limits, queue: &QueueConfig) -> Result<(), CommandError> {
    limits.check_id("queue.id", &queue.id)?;
    limits.check_short("queue.name", Some(&queue.name))?;
    if queue.offer_timeout_ms == 0 || queue.external_timeout_ms == 0 {
        return Err(CommandError::invalid("queue", "timeouts must be positive"));
    }
    if queue.broadcast_limit == 0 {
        return Err(CommandError::invalid(
            "queue.broadcast_limit",
            "must be positive",
        ));
    }
    Ok(())
}

impl TenantState {
    pub(crate) fn require_admin(actor: &Actor) -> Result<(), CommandError> {
        actor.require(
            actor.role.can_administer(),
            "only administrators change configuration",
        )
    }

    pub(crate) fn update_settings(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        settings: TenantSettings,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        validate_settings(cx.limits, &settings)?;
        let calendar = settings
            .business_hours
            .as_ref()
            .map(Calendar::compile)
            .transpose()?
            .map(Arc::new);
        let hours_changed = self.settings.business_hours != settings.business_hours;
        if hours_changed {
            self.close_all_sla_segments(cx);
        }
        self.settings = settings;
        self.calendar = calendar;
        if hours_changed {
            self.reselect_all_sla(cx);
        }
        self.audit(cx, actor, "update_tenant_settings", self.id.to_string());
        // A looser fairness cap can free agents at once.
        let queues: Vec<u32> = self.queue_index.values().copied().collect();
        self.drain_queues(queues);
        Ok(Reply::Ok)
    }

    pub(crate) fn upsert_department(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        department: Department,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        cx.limits.check_id("department.id", &department.id)?;
        Limits::check_required(
            "department.name",
            &department.name,
            cx.limits.max_short_text_bytes,
        )?;
        let max = self.settings.limits.max_departments;
        if !self.departments.contains_key(&department.id) && self.departments.len() as u32 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_departments",
                max: u64::from(max),
            });
        }
        if let Some(calendar) = &department.calendar_id
            && !self.calendars.contains_key(calendar)
        {
            return Err(CommandError::not_found(ObjectKind::Calendar, calendar));
        }
        self.audit(cx, actor, "upsert_department", department.id.to_string());
        let hours_changed = self
            .departments
            .get(&department.id)
            .is_some_and(|old| old.calendar_id != department.calendar_id)
            || department.calendar_id.is_some();
        if hours_changed {
            self.close_all_sla_segments(cx);
        }
        self.departments.insert(department.id.clone(), department);
        if hours_changed {
            self.reselect_all_sla(cx);
        }
        Ok(Reply::Ok)
    }

    pub(crate) fn remove_department(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        department_id: &DepartmentId,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        if !self.departments.contains_key(department_id) {
            return Err(CommandError::not_found(
                ObjectKind::Department,
                department_id,
            ));
        }
        let in_use = self
            .queues
            .iter()
            .flatten()
            .any(|q| q.config.department_id.as_ref() == Some(department_id));
        if in_use {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Department,
                state: "used by a queue",
                action: "remove",
            });
        }
        // A department's hours stop applying: count what passed under them first.
        self.close_all_sla_segments(cx);
        self.departments.remove(department_id);
        self.reselect_all_sla(cx);
        let mut changed = Vec::new();
        for agent in self.agents.iter_mut().flatten() {
            let before = agent.profile.departments.len();
            agent.profile.departments.retain(|d| d != department_id);
            if agent.profile.departments.len() != before {
                changed.push(agent.profile.clone());
            }
        }
        self.audit(cx, actor, "remove_department", department_id.to_string());
        for agent in changed {
            self.persist(cx, Record::Agent { agent });
        }
        Ok(Reply::Ok)
    }

    /// The queues an agent serves: those of its departments and those without one.
    fn queues_for(&self, profile: &AgentProfile) -> Vec<u32> {
        self.queue_index
            .values()
            .copied()
            .filter(|&q| {
                self.queue(q)
                    .config
                    .department_id
                    .as_ref()
                    .is_none_or(|d| profile.departments.contains(d))
            })
            .collect()
    }

    /// Moves the agent into exactly `queues`, keeping pools and members in step.
    fn set_agent_queues(&mut self, cx: &mut Ctx<'_>, no: u32, mut queues: Vec<u32>) {
        queues.sort_unstable();
        self.unpool_agent(cx, no);
        for &old in &self.agent(no).queues.clone() {
            self.queue_mut(old).members.remove(&no);
        }
        for &new in &queues {
            self.queue_mut(new).members.insert(no);
        }
        self.agent_mut(no).queues = queues;
        self.reindex_agent(cx, no);
    }

    pub(crate) fn upsert_queue(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        config: QueueConfig,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        validate_queue(cx.limits, &config)?;
        if let Some(department) = &config.department_id
            && !self.departments.contains_key(department)
        {
            return Err(CommandError::not_found(ObjectKind::Department, department));
        }
        if let Some(overflow) = &config.overflow_queue_id
            && overflow != &config.id
            && self.queue_no(overflow).is_none()
        {
            return Err(CommandError::not_found(ObjectKind::Queue, overflow));
        }
        let existing = self.queue_no(&config.id);
        let max = self.settings.limits.max_queues;
        if existing.is_none() && self.queue_index.len() as u32 >= max {
            return Err(CommandError::LimitReached {
                limit: "max_queues",
                max: u64::from(max),
            });
        }
        self.audit(cx, actor, "upsert_queue", config.id.to_string());
        let queue_no = match existing {
            Some(no) => {
                let department_changed =
                    self.queue(no).config.department_id != config.department_id;
                self.queue_mut(no).config = config;
                if !department_changed {
                    self.dispatch_queue(no);
                    return Ok(Reply::Ok);
                }
                no
            }
            None => {
                let no = self.queues.len() as u32;
                self.queue_index.insert(config.id.clone(), no);
                self.queues.push(Some(Queue::new(config)));
                no
            }
        };
        let agents: Vec<u32> = (0..self.agents.len() as u32)
            .filter(|&a| self.agents[a as usize].is_some())
            .collect();
        for agent in agents {
            let queues = self.queues_for(&self.agent(agent).profile);
            if queues != self.agent(agent).queues {
                self.set_agent_queues(cx, agent, queues);
            }
        }
        self.dispatch_queue(queue_no);
        Ok(Reply::Ok)
    }

    pub(crate) fn remove_queue(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        queue_id: &QueueId,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        let no = self
            .queue_no(queue_id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Queue, queue_id))?;
        let in_use = self.sessions.values().any(|s| s.queue == Some(no))
            || self
                .rules
                .iter()
                .any(|r| r.actions.queue.as_ref() == Some(queue_id));
        if in_use {
            return Err(CommandError::IllegalTransition {
                kind: ObjectKind::Queue,
                state: "in use by sessions or rules",
                action: "remove",
            });
        }
        for agent in self.queue(no).members.clone() {
            let queues: Vec<u32> = self
                .agent(agent)
                .queues
                .iter()
                .copied()
                .filter(|&q| q != no)
                .collect();
            self.set_agent_queues(cx, agent, queues);
        }
        self.queues[no as usize] = None;
        self.queue_index.remove(queue_id);
        cx.timers.cancel(TimerKey::QueueFlush {
            tenant: self.no,
            queue: no,
        });
        self.audit(cx, actor, "remove_queue", queue_id.to_string());
        Ok(Reply::Ok)
    }

    pub(crate) fn upsert_agent(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        profile: AgentProfile,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        validate_agent(cx.limits, &profile)?;
        for department in &profile.departments {
            if !self.departments.contains_key(department) {
                return Err(CommandError::not_found(ObjectKind::Department, department));
            }
        }
        let existing = self.agent_no(&profile.id);
        let max = self.settings.limits.max_agents;
        if existing.is_none() && self.agent_count >= max {
            return Err(CommandError::LimitReached {
                limit: "max_agents",
                max: u64::from(max),
            });
        }
        self.audit(cx, actor, "upsert_agent", profile.id.to_string());
        self.persist(
            cx,
            Record::Agent {
                agent: profile.clone(),
            },
        );
        let queues = self.queues_for(&profile);
        let no = match existing {
            Some(no) => {
                self.unpool_agent(cx, no);
                let agent = self.agent_mut(no);
                agent.name = Arc::from(profile.name.as_str());
                agent.profile = profile;
                no
            }
            None => {
                let no = self.agents.len() as u32;
                self.agent_index.insert(profile.id.clone(), no);
                self.agents.push(Some(Agent::new(profile)));
                self.agent_count += 1;
                no
            }
        };
        let skills = self.agent(no).profile.skills.clone();
        let profile = self.skill_profiles.intern(&skills);
        self.agent_mut(no).skill_profile = profile;
        self.set_agent_queues(cx, no, queues);
        // Offers from queues the agent no longer serves are taken back.
        let stale: Vec<u64> = self
            .agent(no)
            .offers
            .iter()
            .copied()
            .filter(|s| {
                self.sessions[s]
                    .queue
                    .is_none_or(|q| !self.agent(no).queues.contains(&q))
            })
            .collect();
        for session in stale {
            self.withdraw_offer_from(
                cx,
                session,
                no,
                crate::protocol::event::WithdrawReason::AgentUnavailable,
                false,
            );
        }
        let agent = self.agent(no);
        if agent.profile.role != StaffRole::Agent && agent.status != AgentStatus::Offline {
            self.watchers.insert(no);
        } else {
            self.watchers.remove(&no);
        }
        if !self.agent(no).handles_chats() {
            self.withdraw_agent_offers(
                cx,
                no,
                crate::protocol::event::WithdrawReason::AgentUnavailable,
            );
            self.hand_back_chats(cx, no, UnassignReason::AgentRemoved);
        }
        self.announce_agent(no);
        self.drain_for_agents(&[no]);
        Ok(Reply::Ok)
    }

    pub(crate) fn remove_agent(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        agent_id: &AgentId,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        let no = self
            .agent_no(agent_id)
            .ok_or_else(|| CommandError::not_found(ObjectKind::Agent, agent_id))?;
        self.audit(cx, actor, "remove_agent", agent_id.to_string());
        self.persist(
            cx,
            Record::AgentRemoved {
                agent_id: agent_id.clone(),
                at: cx.now,
            },
        );
        self.agent_mut(no).status = AgentStatus::Offline;
        self.reindex_agent(cx, no);
        self.withdraw_agent_offers(
            cx,
            no,
            crate::protocol::event::WithdrawReason::AgentUnavailable,
        );
        self.hand_back_chats(cx, no, UnassignReason::AgentRemoved);
        self.set_agent_queues(cx, no, Vec::new());
        for session in self.sessions.values_mut() {
            if session.agent == Some(no) {
                session.agent = None;
            }
            if session.preferred_agent == Some(no) {
                session.preferred_agent = None;
            }
        }
        self.last_agent_of_visitor.forget_agent(no);
        self.watchers.remove(&no);
        let assigned: Vec<u64> = self
            .tickets
            .iter()
            .filter(|(_, t)| t.assignee.as_ref() == Some(agent_id))
            .map(|(&ticket, _)| ticket)
            .collect();
        for ticket in assigned {
            let team = self.tickets[&ticket].team_id.clone();
            let changes = self.reassign_ticket(ticket, None, team);
            self.ticket_changed(cx, actor, ticket, "assign", changes);
        }
        for key in [
            TimerKey::WrapUp {
                tenant: self.no,
                agent: no,
            },
            TimerKey::DisconnectGrace {
                tenant: self.no,
                agent: no,
            },
            TimerKey::Fairness {
                tenant: self.no,
                agent: no,
            },
        ] {
            cx.timers.cancel(key);
        }
        // Watchers hear the agent is gone (the end-of-step announcement skips removed agents).
        let to = self.with_watchers(vec![self.staff(no)], true);
        self.deliver(
            cx,
            to,
            crate::protocol::event::Event::AgentUpdated {
                agent: self.agent_view(no),
            },
        );
        self.persist(
            cx,
            crate::protocol::output::Record::AgentStatus {
                agent_id: agent_id.clone(),
                status: AgentStatus::Offline,
                at: cx.now,
            },
        );
        self.agents[no as usize] = None;
        self.agent_index.remove(agent_id.as_str());
        self.agent_count -= 1;
        Ok(Reply::Ok)
    }

    pub(crate) fn set_routing_rules(
        &mut self,
        cx: &mut Ctx<'_>,
        actor: &Actor,
        mut rules: Vec<RoutingRule>,
    ) -> Result<Reply, CommandError> {
        Self::require_admin(actor)?;
        let limits = cx.limits;
        if rules.len() > limits.max_rules {
            return Err(CommandError::LimitReached {
                limit: "max_rules",
                max: limits.max_rules as u64,
            });
        }
        let mut ids = BTreeSet::new();
        for (index, rule) in rules.iter_mut().enumerate() {
            let id = rule
                .id
                .get_or_insert_with(|| RuleId::from(format!("rule_{}", index + 1)));
            limits.check_id("rule.id", id)?;
            if !ids.insert(id.clone()) {
                return Err(CommandError::invalid(
                    "rule.id",
                    format!("{id} appears twice"),
                ));
            }
            limits.check_short("rule.name", rule.name.as_deref())?;
            let t = &rule.triggers;
            for (field, list) in [
                ("triggers.visitor_location", &t.visitor_location),
                ("triggers.page_url_contains", &t.page_url_contains),
                ("triggers.language", &t.language),
                ("triggers.issue_type", &t.issue_type),
            ] {
                limits.check_count(field, list.len())?;
                for item in list {
                    Limits::check_len(field, item, limits.max_url_bytes)?;
                }
            }
            limits.check_short("triggers.visitor_type", t.visitor_type.as_deref())?;
            limits.check_fields("triggers.attributes", &t.attributes)?;
            let a = &rule.actions;
            if let Some(queue) = &a.queue
                && self.queue_no(queue).is_none()
            {
                return Err(CommandError::not_found(ObjectKind::Queue, queue));
            }
            limits.check_long("actions.welcome_message", a.welcome_message.as_deref())?;
            limits.check_long("actions.queue_message", a.queue_message.as_deref())?;
            limits.check_count("actions.required_skills", a.required_skills.len())?;
            for skill in &a.required_skills {
                limits.check_id("actions.required_skills", skill)?;
            }
            if let Some(bot) = &a.bot {
                limits.check_id("actions.bot", bot)?;
            }
        }
        rules.sort_by_key(|r| r.priority);
        self.audit(
            cx,
            actor,
            "set_routing_rules",
            format!("{} rules", rules.len()),
        );
        self.rules = rules;
        Ok(Reply::Ok)
    }
}
