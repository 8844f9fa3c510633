//! SLA policies at work: which policy applies to a ticket or chat, arming its deadline,
//! firing warnings and breaches exactly once, measurements, and escalation.

use std::sync::Arc;

use serde_json::json;

use super::Ctx;
use super::sla_clock::{Due, Target, take_due};
use super::state::TenantState;
use super::tickets::{SlaState, change};
use crate::auth::{Actor, Role};
use crate::calendar::Calendar;
use crate::ids::{AgentId, DepartmentId, SessionId, TicketId};
use crate::protocol::event::Event;
use crate::protocol::helpdesk::{
    Channel, SlaMeasurement, SlaMetric, SlaOutcome, SlaPolicy, SlaSubject, SlaView, TicketPriority,
};
use crate::protocol::output::{Recipient, Record};
use crate::time::Timestamp;
use crate::timer::TimerKey;

/// A ticket or a chat, by engine number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Ticket(u64),
    Session(u64),
}

impl Subject {
    fn wire(self) -> SlaSubject {
        match self {
            Subject::Ticket(no) => SlaSubject::Ticket {
                ticket_id: TicketId(no),
            },
            Subject::Session(no) => SlaSubject::Session {
                session_id: SessionId(no),
            },
        }
    }
}

/// What selects a policy.
pub(crate) struct SlaFacts<'a> {
    pub priority: Option<TicketPriority>,
    pub department: Option<&'a DepartmentId>,
    pub channel: Channel,
    pub tags: &'a [Arc<str>],
}

fn matches(policy: &SlaPolicy, facts: &SlaFacts<'_>) -> bool {
    let c = &policy.conditions;
    policy.enabled
        && (c.priorities.is_empty() || facts.priority.is_some_and(|p| c.priorities.contains(&p)))
        && (c.departments.is_empty() || facts.department.is_some_and(|d| c.departments.contains(d)))
        && (c.channels.is_empty() || c.channels.contains(&facts.channel))
        && (c.tags.is_empty() || facts.tags.iter().any(|t| c.tags.iter().any(|c| **c == **t)))
}

impl TenantState {
    /// The first enabled policy, by position, whose conditions hold.
    pub(crate) fn select_sla_policy(&self, facts: &SlaFacts<'_>) -> Option<u32> {
        self.sla_policies
            .iter()
            .position(|policy| matches(policy, facts))
            .map(|index| index as u32)
    }

    /// Business hours for a policy: its own calendar, else the department's, else the
    /// tenant's; `None` when none is set (every moment counts).
    pub(crate) fn sla_calendar_for(
        &self,
        policy: Option<u32>,
        department: Option<&DepartmentId>,
    ) -> Option<Arc<Calendar>> {
        let from_policy = policy
            .and_then(|p| self.sla_policies.get(p as usize)?.calendar_id.as_ref())
            .and_then(|id| self.calendars.get(id));
        let from_department = department
            .and_then(|d| self.departments.get(d))
            .and_then(|d| d.calendar_id.as_ref())
            .and_then(|id| self.calendars.get(id));
        from_policy
            .or(from_department)
            .cloned()
            .or_else(|| self.calendar.clone())
    }

    fn sla_state(&self, subject: Subject) -> Option<&SlaState> {
        match subject {
            Subject::Ticket(no) => self.tickets.get(&no).map(|t| &t.sla),
            Subject::Session(no) => self.sessions.get(&no).and_then(|s| s.sla.as_deref()),
        }
    }

    fn sla_state_mut(&mut self, subject: Subject) -> Option<&mut SlaState> {
        match subject {
            Subject::Ticket(no) => self.tickets.get_mut(&no).map(|t| &mut t.sla),
            Subject::Session(no) => self
                .sessions
                .get_mut(&no)
                .and_then(|s| s.sla.as_deref_mut()),
        }
    }

    fn subject_department(&self, subject: Subject) -> Option<&DepartmentId> {
        match subject {
            Subject::Ticket(no) => self.tickets.get(&no)?.department_id.as_ref(),
            Subject::Session(no) => self.sessions.get(&no)?.department_id.as_ref(),
        }
    }

    fn subject_agent(&self, subject: Subject) -> Option<AgentId> {
        match subject {
            Subject::Ticket(no) => self.tickets.get(&no)?.assignee.clone(),
            Subject::Session(no) => {
                let agent = self.sessions.get(&no)?.agent?;
                Some(self.agent(agent).profile.id.clone())
            }
        }
    }

    fn subject_calendar(&self, subject: Subject) -> Option<Arc<Calendar>> {
        let policy = self.sla_state(subject)?.policy;
        self.sla_calendar_for(policy, self.subject_department(subject))
    }

    pub(crate) fn ticket_calendar(&self, no: u64) -> Option<Arc<Calendar>> {
        self.subject_calendar(Subject::Ticket(no))
    }

    fn timer_key(&self, subject: Subject) -> TimerKey {
        match subject {
            Subject::Ticket(ticket) => TimerKey::TicketSla {
                tenant: self.no,
                ticket,
            },
            Subject::Session(session) => TimerKey::SessionSla {
                tenant: self.no,
                session,
            },
        }
    }

    fn ticket_facts(&self, no: u64) -> SlaFacts<'_> {
        let ticket = &self.tickets[&no];
        SlaFacts {
            priority: Some(ticket.priority),
            department: ticket.department_id.as_ref(),
            channel: ticket.channel,
            tags: &ticket.tags,
        }
    }

    /// A new ticket: first response and resolution start counting now.
    pub(crate) fn start_ticket_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let policy = self.select_sla_policy(&self.ticket_facts(no));
        let sla = &mut self.tickets.get_mut(&no).expect("live ticket").sla;
        sla.policy = policy;
        sla.clocks.get_mut(SlaMetric::FirstResponse).start(cx.now);
        sla.clocks.get_mut(SlaMetric::Resolution).start(cx.now);
        self.rearm_sla(cx, Subject::Ticket(no));
    }

    /// Priority, department or tags changed: the policy is chosen again and due times
    /// follow. Time already counted and warnings already sent stand.
    pub(crate) fn reselect_ticket_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let policy = self.select_sla_policy(&self.ticket_facts(no));
        self.switch_policy(cx, Subject::Ticket(no), policy);
    }

    /// Moves a subject to another policy (or the same one with new rules). Running
    /// segments are closed under the old calendar so business time is counted with the
    /// hours that applied while it passed.
    pub(crate) fn switch_policy(
        &mut self,
        cx: &mut Ctx<'_>,
        subject: Subject,
        policy: Option<u32>,
    ) {
        self.close_segments(cx, subject);
        let Some(state) = self.sla_state_mut(subject) else {
            return;
        };
        state.policy = policy;
        self.rearm_sla(cx, subject);
    }

    /// Ends the running stretch of every clock now, counted under the hours that applied
    /// while it passed, and starts the next stretch now.
    pub(crate) fn close_segments(&mut self, cx: &mut Ctx<'_>, subject: Subject) {
        let calendar = self.subject_calendar(subject);
        let Some(state) = self.sla_state_mut(subject) else {
            return;
        };
        for clock in &mut state.clocks.0 {
            if clock.state == crate::protocol::helpdesk::SlaClockState::Running {
                clock.pause(cx.now, calendar.as_deref());
                clock.resume(cx.now);
            }
        }
    }

    /// Every open ticket and chat with SLA clocks.
    fn sla_subjects(&self) -> Vec<Subject> {
        let mut sessions: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.sla.is_some())
            .map(|(&no, _)| no)
            .collect();
        sessions.sort_unstable();
        self.tickets
            .keys()
            .map(|&no| Subject::Ticket(no))
            .chain(sessions.into_iter().map(Subject::Session))
            .collect()
    }

    /// Before policies or hours change: what is due under the old rules fires, and every
    /// running stretch is counted under the old hours. Follow with
    /// [`reselect_all_sla`](Self::reselect_all_sla) once the change is made.
    pub(crate) fn close_all_sla_segments(&mut self, cx: &mut Ctx<'_>) {
        for subject in self.sla_subjects() {
            self.flush_sla(cx, subject);
            self.close_segments(cx, subject);
        }
    }

    pub(crate) fn rearm_ticket_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        self.rearm_sla(cx, Subject::Ticket(no));
    }

    /// Sets the subject's one deadline to its earliest pending warning or breach.
    pub(crate) fn rearm_sla(&mut self, cx: &mut Ctx<'_>, subject: Subject) {
        let key = self.timer_key(subject);
        let silent = match subject {
            Subject::Ticket(no) => self.tickets.get(&no).is_none_or(|t| t.deleted_at.is_some()),
            Subject::Session(_) => false,
        };
        // Most chats have no policy: no calendar lookup for them.
        let has_policy = self.sla_state(subject).is_some_and(|s| s.policy.is_some());
        let calendar = if has_policy && !silent {
            self.subject_calendar(subject)
        } else {
            None
        };
        let next = self
            .sla_state(subject)
            .filter(|_| !silent)
            .and_then(|state| {
                let policy = self.sla_policies.get(state.policy? as usize)?;
                state.clocks.next_deadline(
                    &policy.targets,
                    policy.warning_percent,
                    calendar.as_deref(),
                )
            });
        match next {
            Some(at) => cx.timers.set(key, at),
            None => cx.timers.cancel(key),
        }
    }

    pub(crate) fn flush_ticket_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        self.flush_sla(cx, Subject::Ticket(no));
    }

    /// Fires every warning and breach due by now, so a change made after a due time
    /// never swallows it (the host may poll late).
    pub(crate) fn flush_sla(&mut self, cx: &mut Ctx<'_>, subject: Subject) {
        if let Subject::Ticket(no) = subject
            && self.tickets.get(&no).is_none_or(|t| t.deleted_at.is_some())
        {
            return;
        }
        let Some(policy_no) = self.sla_state(subject).and_then(|s| s.policy) else {
            return;
        };
        let calendar = self.subject_calendar(subject);
        let Some(policy) = self.sla_policies.get(policy_no as usize) else {
            return;
        };
        let (targets, percent) = (policy.targets, policy.warning_percent);
        let state = self.sla_state_mut(subject).expect("checked");
        let fired = take_due(
            &mut state.clocks,
            &targets,
            percent,
            calendar.as_deref(),
            cx.now,
        );
        // Everything due is announced under the policy it fell due under; escalation
        // (which may change the policy) comes once, after all of it.
        let mut breached = false;
        for due in fired {
            let metric = match due {
                Due::Warning { metric, .. } | Due::Breach { metric, .. } => metric,
            };
            let cycle = self
                .sla_state(subject)
                .map_or(1, |s| s.clocks.get(metric).cycles + 1);
            breached |= self.announce_due(cx, subject, policy_no, due, cycle);
        }
        if breached {
            self.escalate_subject(cx, subject, policy_no);
        }
    }

    fn escalate_subject(&mut self, cx: &mut Ctx<'_>, subject: Subject, policy_no: u32) {
        if let (Subject::Ticket(no), Some(policy)) =
            (subject, self.sla_policies.get(policy_no as usize))
        {
            let escalation = policy.escalation.clone();
            self.escalate(cx, no, &escalation);
        }
    }

    pub(crate) fn on_sla_timer(&mut self, cx: &mut Ctx<'_>, subject: Subject) {
        self.flush_sla(cx, subject);
        self.rearm_sla(cx, subject);
    }

    fn announce_due(
        &mut self,
        cx: &mut Ctx<'_>,
        subject: Subject,
        policy_no: u32,
        due: Due,
        cycle: u32,
    ) -> bool {
        let policy_id = self.sla_policies[policy_no as usize].id.clone();
        let handlers = self.sla_recipients(subject);

        match due {
            Due::Warning { metric, due_at } => {
                let to = self.with_watchers(handlers, false);
                self.deliver(
                    cx,
                    to,
                    Event::SlaWarning {
                        subject: subject.wire(),
                        metric,
                        cycle,
                        policy_id,
                        due_at,
                    },
                );
                false
            }
            Due::Breach { metric, due_at } => {
                let escalation = self.sla_policies[policy_no as usize].escalation.clone();
                let to = if escalation.notify_supervisors {
                    self.with_watchers(handlers, false)
                } else {
                    handlers
                };
                self.deliver(
                    cx,
                    to,
                    Event::SlaBreached {
                        subject: subject.wire(),
                        metric,
                        cycle,
                        policy_id,
                        due_at,
                    },
                );
                let outcome = SlaOutcome::Breached;
                self.record_measurement(cx, subject, policy_no, metric, outcome, None, cycle);
                true
            }
        }
    }

    /// The assignee (or holding agent), else the online agents of the ticket's team; when
    /// that is nobody, the online supervisors and administrators.
    fn sla_recipients(&self, subject: Subject) -> Vec<Recipient> {
        let handlers = match subject {
            Subject::Ticket(no) => self.ticket_handlers(no),
            Subject::Session(no) => match self.sessions.get(&no).and_then(|s| s.agent) {
                Some(agent) => vec![self.staff(agent)],
                None => Vec::new(),
            },
        };
        if handlers.is_empty() {
            // Nobody works on it: the people who can do something about that hear of it.
            self.watcher_recipients(false)
        } else {
            handlers
        }
    }

    fn escalate(
        &mut self,
        cx: &mut Ctx<'_>,
        no: u64,
        escalation: &crate::protocol::helpdesk::SlaEscalation,
    ) {
        let mut changes = Vec::new();
        let ticket = &self.tickets[&no];
        if escalation.raise_priority && ticket.priority != TicketPriority::Critical {
            let raised = ticket.priority.raised();
            changes.push(change("priority", json!(ticket.priority), json!(raised)));
            self.tickets.get_mut(&no).expect("live ticket").priority = raised;
        }
        let before = self.ticket_handlers(no);
        if let Some(team) = &escalation.reassign_team_id
            && self.departments.contains_key(team)
        {
            changes.extend(self.reassign_ticket(no, None, Some(team.clone())));
        }
        if changes.is_empty() {
            return;
        }
        self.reselect_ticket_sla(cx, no);
        let system = Actor::new(&self.id, "system", Role::System);
        self.ticket_changed_with(cx, &system, no, "sla_escalation", changes, before);
    }

    /// Ends the current cycle of one clock and records it when the policy measures it.
    pub(crate) fn complete_clock(&mut self, cx: &mut Ctx<'_>, subject: Subject, metric: SlaMetric) {
        // Whatever fell due before this instant fires first, in order.
        self.flush_sla(cx, subject);
        let Some(state) = self.sla_state(subject) else {
            return;
        };
        // Without a policy nothing is measured, so business time does not matter.
        let calendar = if state.policy.is_some() {
            self.subject_calendar(subject)
        } else {
            None
        };
        let target = state
            .policy
            .and_then(|p| self.sla_policies.get(p as usize)?.targets.get(metric))
            .map(Target::from);
        let policy = state.policy;
        let state = self.sla_state_mut(subject).expect("checked");
        let Some(done) = state
            .clocks
            .get_mut(metric)
            .complete(cx.now, calendar.as_deref(), target)
        else {
            return;
        };
        let (Some(policy_no), Some(_)) = (policy, target) else {
            return;
        };
        let cycle = self
            .sla_state(subject)
            .map_or(1, |s| s.clocks.get(metric).cycles);
        if done.late_breach {
            let due = Due::Breach {
                metric,
                due_at: cx.now,
            };
            self.announce_due(cx, subject, policy_no, due, cycle);
        }
        let outcome = done.outcome;
        self.record_measurement(cx, subject, policy_no, metric, outcome, Some(cx.now), cycle);
        if done.late_breach {
            self.escalate_subject(cx, subject, policy_no);
        }
    }

    pub(crate) fn complete_ticket_clock(&mut self, cx: &mut Ctx<'_>, no: u64, metric: SlaMetric) {
        self.complete_clock(cx, Subject::Ticket(no), metric);
    }

    /// The subject ends (a closed ticket, an ended chat): breached cycles are recorded as
    /// completed, unbreached unfinished ones are dropped.
    pub(crate) fn stop_clocks(&mut self, cx: &mut Ctx<'_>, subject: Subject) {
        for metric in SlaMetric::ALL {
            let Some(clock) = self.sla_state(subject).map(|s| s.clocks.get(metric)) else {
                return;
            };
            if !clock.in_cycle() {
                continue;
            }
            if clock.breached {
                self.complete_clock(cx, subject, metric);
            } else if let Some(state) = self.sla_state_mut(subject) {
                state.clocks.get_mut(metric).discard();
            }
        }
        let key = self.timer_key(subject);
        cx.timers.cancel(key);
    }

    pub(crate) fn stop_ticket_clocks(&mut self, cx: &mut Ctx<'_>, no: u64) {
        self.stop_clocks(cx, Subject::Ticket(no));
    }

    /// Writes one cycle's measurement: at breach time (`completed_at` empty) and when the
    /// cycle ends.
    #[allow(clippy::too_many_arguments)]
    fn record_measurement(
        &mut self,
        cx: &mut Ctx<'_>,
        subject: Subject,
        policy_no: u32,
        metric: SlaMetric,
        outcome: SlaOutcome,
        completed_at: Option<Timestamp>,
        cycle: u32,
    ) {
        let calendar = self.subject_calendar(subject);
        let Some(state) = self.sla_state(subject) else {
            return;
        };
        let Some(policy) = self.sla_policies.get(policy_no as usize) else {
            return;
        };
        let Some(target) = policy.targets.get(metric).map(Target::from) else {
            return;
        };
        let clock = state.clocks.get(metric);
        let measured = clock.measure(cx.now, calendar.as_deref());
        let measurement = SlaMeasurement {
            subject: subject.wire(),
            policy_id: policy.id.clone(),
            metric,
            cycle,
            outcome,
            target_ms: target.ms,
            business_hours: target.business,
            elapsed_ms: measured.elapsed_ms,
            elapsed_business_ms: measured.elapsed_business_ms,
            started_at: measured.started_at,
            completed_at,
            department_id: self.subject_department(subject).cloned(),
            agent_id: self.subject_agent(subject),
        };
        self.persist(cx, Record::SlaMeasurement { measurement });
    }

    /// The SLA as staff see it, when a policy applies.
    pub(crate) fn sla_view(
        &self,
        state: &SlaState,
        department: Option<&DepartmentId>,
        now: Timestamp,
    ) -> Option<SlaView> {
        let policy_no = state.policy?;
        let policy = &self.sla_policies[policy_no as usize];
        let calendar = self.sla_calendar_for(state.policy, department);
        let clocks = SlaMetric::ALL
            .iter()
            .filter_map(|&metric| {
                state.clocks.get(metric).view(
                    metric,
                    policy.targets.get(metric).map(Target::from),
                    calendar.as_deref(),
                    now,
                )
            })
            .collect();
        Some(SlaView {
            policy_id: policy.id.clone(),
            clocks,
        })
    }

    /// Every open ticket and chat chooses its policy again (the policies or a calendar
    /// changed).
    pub(crate) fn reselect_all_sla(&mut self, cx: &mut Ctx<'_>) {
        for subject in self.sla_subjects() {
            let policy = match subject {
                Subject::Ticket(no) => self.select_sla_policy(&self.ticket_facts(no)),
                Subject::Session(no) => self.select_sla_policy(&self.session_facts(no)),
            };
            if let Some(state) = self.sla_state_mut(subject) {
                state.policy = policy;
            }
            self.rearm_sla(cx, subject);
        }
    }

    fn session_facts(&self, no: u64) -> SlaFacts<'_> {
        let session = &self.sessions[&no];
        SlaFacts {
            priority: None,
            department: session.department_id.as_ref(),
            channel: Channel::Chat,
            tags: &session.tags,
        }
    }

    // ---- chats ----

    /// A new chat: its first-response clock starts now (chats have no pause). Chats no
    /// policy covers carry no clocks at all, which keeps the common case small.
    pub(crate) fn start_session_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let policy = self.select_sla_policy(&self.session_facts(no));
        if policy.is_none() {
            return;
        }
        let mut state = SlaState {
            policy,
            ..SlaState::default()
        };
        state.clocks.get_mut(SlaMetric::FirstResponse).start(cx.now);
        self.sessions.get_mut(&no).expect("live session").sla = Some(Box::new(state));
        self.rearm_sla(cx, Subject::Session(no));
    }

    /// An agent's public message in a chat meets first and next response.
    pub(crate) fn session_agent_replied(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let subject = Subject::Session(no);
        // `complete_clock` fires whatever fell due first.
        self.complete_clock(cx, subject, SlaMetric::FirstResponse);
        self.complete_clock(cx, subject, SlaMetric::NextResponse);
        self.rearm_sla(cx, subject);
    }

    /// A visitor's message after the first response starts a next-response cycle.
    pub(crate) fn session_visitor_wrote(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let answered = self.sessions[&no].first_response_at.is_some();
        let Some(state) = self.sla_state_mut(Subject::Session(no)) else {
            return;
        };
        let next = state.clocks.get_mut(SlaMetric::NextResponse);
        if answered && !next.in_cycle() {
            next.start(cx.now);
            self.rearm_sla(cx, Subject::Session(no));
        }
    }

    /// The chat is over (resolved or ended).
    pub(crate) fn end_session_sla(&mut self, cx: &mut Ctx<'_>, no: u64) {
        let subject = Subject::Session(no);
        if self.sla_state(subject).is_none() {
            return;
        }
        self.flush_sla(cx, subject);
        self.stop_clocks(cx, subject);
    }
}
