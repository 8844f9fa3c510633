//! Analytics computed from the engine's own records.
//!
//! The engine's [`Record`]s are the single source of truth: a host feeds [`Analytics`] the
//! records it persisted (on start-up, from its store) and then the live output stream, and
//! asks for [`AnalyticsReport`]s. Nothing here reads a clock or touches storage, so the same
//! records always give the same report, in a server, an app or a test.
//!
//! Four records count; every other record is ignored:
//!
//! | record | keyed by | in range by | department | agent |
//! |---|---|---|---|---|
//! | [`Record::Session`] | session id | `created_at` | `department_id` | `agent_id` |
//! | [`Record::Ticket`] | ticket id | `created_at` | `department_id` | `assignee_id` |
//! | [`Record::SlaMeasurement`] | subject, metric, cycle | `started_at` | `department_id` | `agent_id` |
//! | [`Record::Survey`] | survey id | `answered_at` | `department_id` | `agent_id` |
//!
//! Every record is an upsert: the one ingested last for a key is the item's current state,
//! so records must be fed in the order the engine emitted them.
//!
//! # Memory
//!
//! One compact summary is kept per item, holding only what a report needs (durations are
//! worked out on ingest, never message bodies or profiles). Department and agent ids are
//! interned once per tenant, so a summary refers to them by a 4-byte number however many
//! copies of the id string the records carried. On a 64-bit target, summary plus key:
//!
//! | item | bytes |
//! |---|---|
//! | session | 88 |
//! | ticket | 72 |
//! | SLA measurement | 56 |
//! | survey | 40 |
//!
//! plus the hash table's slack (about one control byte per slot and up to half the slots
//! empty), and once per distinct department or agent id its string and an index entry.
//! Deleted tickets and unanswered surveys take no room.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, DepartmentId, SessionId, SurveyId, TenantId, TicketId};
use crate::protocol::helpdesk::{
    SlaMeasurement, SlaMetric, SlaOutcome, SlaSubject, SurveyView, TicketStatus, TicketView,
};
use crate::protocol::model::{SessionStatus, SessionView};
use crate::protocol::output::{Output, Record};
use crate::time::Timestamp;

/// What to report on: one tenant, a time range and optional filters.
///
/// Every figure of the report is computed over the items that pass all of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsQuery {
    /// The tenant; other tenants' records never count.
    pub tenant_id: TenantId,
    /// Start of the range, included.
    pub from: Timestamp,
    /// End of the range, excluded: `[from, to)`, so consecutive ranges never count an item
    /// twice.
    pub to: Timestamp,
    /// Only items of this department; `None`: every department and none.
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
    /// Only items of this agent; `None`: every agent and none.
    #[serde(default)]
    pub agent_id: Option<AgentId>,
}

/// The figures for a query: over everything, and per department and per agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnalyticsReport {
    /// Every item in the query.
    pub totals: Metrics,
    /// Per department the items belong to, the group without a department (`key: None`)
    /// first, then by id. Only groups with at least one item are listed.
    pub by_department: Vec<GroupMetrics>,
    /// Per agent the items belong to, the group without an agent (`key: None`) first, then
    /// by id. Only groups with at least one item are listed.
    pub by_agent: Vec<GroupMetrics>,
}

/// The figures of one department or agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// The department or agent id; `None`: items without one.
    pub key: Option<String>,
    /// Its figures.
    pub metrics: Metrics,
}

/// Volumes, durations, rates, SLA compliance and satisfaction of a set of items.
///
/// Durations are milliseconds. Rates are in `0..=1`, `None` when nothing was there to
/// divide by.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Chats started.
    pub sessions: u64,
    /// Chats an agent took (`first_assigned_at` set), whatever happened later.
    pub sessions_answered: u64,
    /// Chats the visitor left while waiting (status `abandoned`).
    pub sessions_abandoned: u64,
    /// Chats nobody took in time or that could not be served (status `missed`).
    pub sessions_missed: u64,
    /// Tickets created (deleted tickets do not count).
    pub tickets: u64,
    /// Tickets now resolved or closed.
    pub tickets_resolved: u64,
    /// Chats: creation to the first public agent reply.
    pub chat_first_response: DurationStats,
    /// Tickets: creation to the first public agent reply.
    pub ticket_first_response: DurationStats,
    /// Tickets now resolved or closed: creation to the last resolution.
    pub ticket_resolution: DurationStats,
    /// Answered chats: start of the wait (first queued, else created) to the first
    /// assignment.
    pub wait_time: DurationStats,
    /// Answered chats that ended: first assignment to the end (the resolve, for a chat an
    /// agent resolved).
    pub handle_time: DurationStats,
    /// `sessions_abandoned` over the chats whose wait is decided: those answered, abandoned or
    /// missed, each counted once. Chats still waiting, and chats a bot kept to the end, are
    /// left out because they neither reached an agent nor gave up.
    pub abandonment_rate: Option<f64>,
    /// SLA compliance per metric and overall.
    pub sla: SlaCompliance,
    /// Answered satisfaction surveys.
    pub csat: CsatStats,
}

/// Count, mean and median of a set of durations.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DurationStats {
    /// Durations measured.
    pub count: u64,
    /// Their mean in whole milliseconds, rounded down; `None` when `count` is 0.
    pub average_ms: Option<u64>,
    /// Their median: the middle one, or for an even count the mean of the two middle ones
    /// rounded down; `None` when `count` is 0.
    pub median_ms: Option<u64>,
}

/// Achieved and breached SLA cycles, per metric and overall.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SlaCompliance {
    /// Every metric together.
    pub overall: SlaStats,
    /// First response.
    pub first_response: SlaStats,
    /// Next response.
    pub next_response: SlaStats,
    /// Periodic update.
    pub periodic_update: SlaStats,
    /// Resolution.
    pub resolution: SlaStats,
}

impl SlaCompliance {
    /// The figures of one metric.
    #[must_use]
    pub fn metric(&self, metric: SlaMetric) -> &SlaStats {
        match metric {
            SlaMetric::FirstResponse => &self.first_response,
            SlaMetric::NextResponse => &self.next_response,
            SlaMetric::PeriodicUpdate => &self.periodic_update,
            SlaMetric::Resolution => &self.resolution,
        }
    }
}

/// Measured SLA cycles with their outcome.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SlaStats {
    /// Cycles within target.
    pub achieved: u64,
    /// Cycles past target (a breached cycle still running counts: its outcome is known).
    pub breached: u64,
    /// `achieved / (achieved + breached)`; `None` when both are 0.
    pub compliance: Option<f64>,
}

/// Answered satisfaction surveys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CsatStats {
    /// Surveys answered with a rating of 1 to 5.
    pub responses: u64,
    /// Mean rating; `None` without responses.
    pub average: Option<f64>,
    /// Responses per rating: index 0 holds the ones, index 4 the fives.
    pub distribution: [u64; 5],
}

/// A pure accumulator of records, per tenant, that answers [`AnalyticsQuery`]s.
#[derive(Debug, Clone, Default)]
pub struct Analytics {
    tenants: FxHashMap<TenantId, TenantRecords>,
}

impl Analytics {
    /// Takes one record of a tenant into account; records that carry no analytics are
    /// ignored.
    pub fn ingest(&mut self, tenant_id: &TenantId, record: &Record) {
        match record {
            Record::Session { session } => self.tenant(tenant_id).upsert_session(session),
            Record::Ticket { ticket } => self.tenant(tenant_id).upsert_ticket(ticket),
            Record::SlaMeasurement { measurement } => {
                self.tenant(tenant_id).upsert_measurement(measurement);
            }
            Record::Survey { survey } => self.tenant(tenant_id).upsert_survey(survey),
            _ => {}
        }
    }

    /// Takes an engine output into account: its record if it persists one.
    pub fn ingest_output(&mut self, output: &Output) {
        if let Output::Persist { tenant_id, record } = output {
            self.ingest(tenant_id, record);
        }
    }

    /// The figures for a query; a tenant without records gives an empty report.
    #[must_use]
    pub fn report(&self, query: &AnalyticsQuery) -> AnalyticsReport {
        self.tenants
            .get(&query.tenant_id)
            .map(|tenant| tenant.report(query))
            .unwrap_or_default()
    }

    fn tenant(&mut self, tenant_id: &TenantId) -> &mut TenantRecords {
        self.tenants.entry(tenant_id.clone()).or_default()
    }
}

/// A department or agent id, interned per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct NameNo(u32);

/// The department and agent ids a tenant's records mention, each stored once.
#[derive(Debug, Clone, Default)]
struct Names {
    numbers: FxHashMap<Arc<str>, NameNo>,
    names: Vec<Arc<str>>,
}

impl Names {
    fn intern(&mut self, name: &Arc<str>) -> NameNo {
        if let Some(&no) = self.numbers.get(name) {
            return no;
        }
        let no = NameNo(u32::try_from(self.names.len()).expect("fewer than 2^32 distinct ids"));
        self.names.push(name.clone());
        self.numbers.insert(name.clone(), no);
        no
    }

    fn find(&self, name: &str) -> Option<NameNo> {
        self.numbers.get(name).copied()
    }

    fn name(&self, no: NameNo) -> &str {
        &self.names[no.0 as usize]
    }
}

/// The key of an SLA measurement upsert.
type MeasurementKey = (SlaSubject, SlaMetric, u32);

/// Everything kept of one tenant.
#[derive(Debug, Clone, Default)]
struct TenantRecords {
    names: Names,
    sessions: FxHashMap<SessionId, SessionFacts>,
    tickets: FxHashMap<TicketId, TicketFacts>,
    measurements: FxHashMap<MeasurementKey, MeasurementFacts>,
    surveys: FxHashMap<SurveyId, SurveyFacts>,
}

/// Where an item belongs, for the range and the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placement {
    at: Timestamp,
    department: Option<NameNo>,
    agent: Option<NameNo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionFacts {
    placement: Placement,
    status: SessionStatus,
    wait_ms: Option<u64>,
    first_response_ms: Option<u64>,
    handle_ms: Option<u64>,
}

impl SessionFacts {
    fn answered(&self) -> bool {
        self.wait_ms.is_some()
    }

    fn wait_decided(&self) -> bool {
        self.answered()
            || matches!(
                self.status,
                SessionStatus::Abandoned | SessionStatus::Missed
            )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TicketFacts {
    placement: Placement,
    resolved: bool,
    first_response_ms: Option<u64>,
    resolution_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct MeasurementFacts {
    placement: Placement,
    achieved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SurveyFacts {
    placement: Placement,
    rating: u8,
}

fn duration(from: Timestamp, to: Option<Timestamp>) -> Option<u64> {
    to.map(|to| to.ms_since(from))
}

impl TenantRecords {
    fn place(
        &mut self,
        at: Timestamp,
        department: Option<&DepartmentId>,
        agent: Option<&AgentId>,
    ) -> Placement {
        Placement {
            at,
            department: department.map(|id| self.names.intern(&id.0)),
            agent: agent.map(|id| self.names.intern(&id.0)),
        }
    }

    fn upsert_session(&mut self, session: &SessionView) {
        let placement = self.place(
            session.created_at,
            session.department_id.as_ref(),
            session.agent_id.as_ref(),
        );
        let assigned_at = session.first_assigned_at;
        // A chat requeued after its first assignment is queued later than it was taken; its
        // wait then ran from its creation.
        let wait_start = session
            .queued_at
            .filter(|queued| assigned_at.is_some_and(|assigned| *queued <= assigned))
            .unwrap_or(session.created_at);
        let facts = SessionFacts {
            placement,
            status: session.status,
            wait_ms: duration(wait_start, assigned_at),
            first_response_ms: duration(session.created_at, session.first_response_at),
            handle_ms: assigned_at.and_then(|assigned| duration(assigned, session.ended_at)),
        };
        self.sessions.insert(session.session_id, facts);
    }

    fn upsert_ticket(&mut self, ticket: &TicketView) {
        if ticket.deleted_at.is_some() {
            self.tickets.remove(&ticket.ticket_id);
            return;
        }
        let placement = self.place(
            ticket.created_at,
            ticket.department_id.as_ref(),
            ticket.assignee_id.as_ref(),
        );
        let resolved = matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed);
        let facts = TicketFacts {
            placement,
            resolved,
            first_response_ms: duration(ticket.created_at, ticket.first_response_at),
            resolution_ms: duration(ticket.created_at, ticket.resolved_at).filter(|_| resolved),
        };
        self.tickets.insert(ticket.ticket_id, facts);
    }

    fn upsert_measurement(&mut self, measurement: &SlaMeasurement) {
        let placement = self.place(
            measurement.started_at,
            measurement.department_id.as_ref(),
            measurement.agent_id.as_ref(),
        );
        let key = (measurement.subject, measurement.metric, measurement.cycle);
        let facts = MeasurementFacts {
            placement,
            achieved: measurement.outcome == SlaOutcome::Achieved,
        };
        self.measurements.insert(key, facts);
    }

    /// Only answered surveys are kept: an unanswered one has no rating and no place in time.
    /// A rating without an answer time is placed at the time the survey was sent.
    fn upsert_survey(&mut self, survey: &SurveyView) {
        let Some(rating) = survey.rating.filter(|rating| (1..=5).contains(rating)) else {
            self.surveys.remove(&survey.survey_id);
            return;
        };
        let placement = self.place(
            survey.answered_at.unwrap_or(survey.sent_at),
            survey.department_id.as_ref(),
            survey.agent_id.as_ref(),
        );
        self.surveys
            .insert(survey.survey_id, SurveyFacts { placement, rating });
    }

    fn report(&self, query: &AnalyticsQuery) -> AnalyticsReport {
        let scope = Scope::new(&self.names, query);
        let mut tally = Tally::default();
        for facts in self.sessions.values() {
            if scope.admits(facts.placement) {
                tally.add(facts.placement, |sums| sums.add_session(facts));
            }
        }
        for facts in self.tickets.values() {
            if scope.admits(facts.placement) {
                tally.add(facts.placement, |sums| sums.add_ticket(facts));
            }
        }
        for (&(_, metric, _), facts) in &self.measurements {
            if scope.admits(facts.placement) {
                tally.add(facts.placement, |sums| sums.add_measurement(metric, facts));
            }
        }
        for facts in self.surveys.values() {
            if scope.admits(facts.placement) {
                tally.add(facts.placement, |sums| sums.add_survey(facts));
            }
        }
        tally.finish(&self.names)
    }
}

/// What a filter asks for, resolved against the tenant's interned ids.
#[derive(Debug, Clone, Copy)]
enum Wanted {
    Any,
    Only(NameNo),
    /// An id no record mentions: nothing can match.
    Nothing,
}

impl Wanted {
    fn new(names: &Names, id: Option<&str>) -> Wanted {
        match id {
            None => Wanted::Any,
            Some(id) => names.find(id).map_or(Wanted::Nothing, Wanted::Only),
        }
    }

    fn admits(self, value: Option<NameNo>) -> bool {
        match self {
            Wanted::Any => true,
            Wanted::Only(wanted) => value == Some(wanted),
            Wanted::Nothing => false,
        }
    }
}

/// A query's range and filters.
#[derive(Debug, Clone, Copy)]
struct Scope {
    from: Timestamp,
    to: Timestamp,
    department: Wanted,
    agent: Wanted,
}

impl Scope {
    fn new(names: &Names, query: &AnalyticsQuery) -> Scope {
        Scope {
            from: query.from,
            to: query.to,
            department: Wanted::new(names, query.department_id.as_deref()),
            agent: Wanted::new(names, query.agent_id.as_deref()),
        }
    }

    fn admits(self, placement: Placement) -> bool {
        (self.from..self.to).contains(&placement.at)
            && self.department.admits(placement.department)
            && self.agent.admits(placement.agent)
    }
}

/// Running sums for the totals and every group.
#[derive(Debug, Default)]
struct Tally {
    totals: Sums,
    by_department: BTreeMap<Option<NameNo>, Sums>,
    by_agent: BTreeMap<Option<NameNo>, Sums>,
}

impl Tally {
    fn add(&mut self, placement: Placement, add: impl Fn(&mut Sums)) {
        add(&mut self.totals);
        add(self.by_department.entry(placement.department).or_default());
        add(self.by_agent.entry(placement.agent).or_default());
    }

    fn finish(self, names: &Names) -> AnalyticsReport {
        AnalyticsReport {
            totals: self.totals.finish(),
            by_department: finish_groups(self.by_department, names),
            by_agent: finish_groups(self.by_agent, names),
        }
    }
}

fn finish_groups(groups: BTreeMap<Option<NameNo>, Sums>, names: &Names) -> Vec<GroupMetrics> {
    let mut groups: Vec<GroupMetrics> = groups
        .into_iter()
        .map(|(key, sums)| GroupMetrics {
            key: key.map(|no| names.name(no).to_owned()),
            metrics: sums.finish(),
        })
        .collect();
    // Interned numbers follow first sight, not the ids' order.
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    groups
}

/// Counts and duration samples of one set of items, before the figures are worked out.
#[derive(Debug, Default)]
struct Sums {
    sessions: u64,
    sessions_answered: u64,
    sessions_abandoned: u64,
    sessions_missed: u64,
    sessions_wait_decided: u64,
    tickets: u64,
    tickets_resolved: u64,
    chat_first_response: Vec<u64>,
    ticket_first_response: Vec<u64>,
    ticket_resolution: Vec<u64>,
    wait_time: Vec<u64>,
    handle_time: Vec<u64>,
    /// Achieved and breached cycles per metric, in [`SlaMetric::ALL`] order.
    sla: [(u64, u64); 4],
    csat: [u64; 5],
}

impl Sums {
    fn add_session(&mut self, facts: &SessionFacts) {
        self.sessions += 1;
        self.sessions_answered += u64::from(facts.answered());
        self.sessions_abandoned += u64::from(facts.status == SessionStatus::Abandoned);
        self.sessions_missed += u64::from(facts.status == SessionStatus::Missed);
        self.sessions_wait_decided += u64::from(facts.wait_decided());
        self.chat_first_response.extend(facts.first_response_ms);
        self.wait_time.extend(facts.wait_ms);
        self.handle_time.extend(facts.handle_ms);
    }

    fn add_ticket(&mut self, facts: &TicketFacts) {
        self.tickets += 1;
        self.tickets_resolved += u64::from(facts.resolved);
        self.ticket_first_response.extend(facts.first_response_ms);
        self.ticket_resolution.extend(facts.resolution_ms);
    }

    fn add_measurement(&mut self, metric: SlaMetric, facts: &MeasurementFacts) {
        let (achieved, breached) = &mut self.sla[metric.index()];
        if facts.achieved {
            *achieved += 1;
        } else {
            *breached += 1;
        }
    }

    fn add_survey(&mut self, facts: &SurveyFacts) {
        self.csat[usize::from(facts.rating - 1)] += 1;
    }

    fn finish(self) -> Metrics {
        Metrics {
            sessions: self.sessions,
            sessions_answered: self.sessions_answered,
            sessions_abandoned: self.sessions_abandoned,
            sessions_missed: self.sessions_missed,
            tickets: self.tickets,
            tickets_resolved: self.tickets_resolved,
            chat_first_response: DurationStats::of(self.chat_first_response),
            ticket_first_response: DurationStats::of(self.ticket_first_response),
            ticket_resolution: DurationStats::of(self.ticket_resolution),
            wait_time: DurationStats::of(self.wait_time),
            handle_time: DurationStats::of(self.handle_time),
            abandonment_rate: ratio(self.sessions_abandoned, self.sessions_wait_decided),
            sla: SlaCompliance::of(self.sla),
            csat: CsatStats::of(self.csat),
        }
    }
}

/// `part / whole`, `None` when `whole` is 0.
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl DurationStats {
    fn of(mut samples: Vec<u64>) -> DurationStats {
        samples.sort_unstable();
        DurationStats {
            count: samples.len() as u64,
            average_ms: mean(&samples),
            median_ms: median(&samples),
        }
    }
}

fn mean(samples: &[u64]) -> Option<u64> {
    let count = u128::try_from(samples.len()).ok().filter(|&n| n > 0)?;
    let sum: u128 = samples.iter().map(|&ms| u128::from(ms)).sum();
    u64::try_from(sum / count).ok()
}

/// The median of sorted samples; the mean of the two middle ones (rounded down) for an even
/// count.
fn median(sorted: &[u64]) -> Option<u64> {
    let upper = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[upper]),
        _ => mean(&sorted[upper - 1..=upper]),
    }
}

impl SlaStats {
    fn of(achieved: u64, breached: u64) -> SlaStats {
        SlaStats {
            achieved,
            breached,
            compliance: ratio(achieved, achieved + breached),
        }
    }
}

impl SlaCompliance {
    fn of(counts: [(u64, u64); 4]) -> SlaCompliance {
        let stats = |metric: SlaMetric| {
            let (achieved, breached) = counts[metric.index()];
            SlaStats::of(achieved, breached)
        };
        let achieved = counts.iter().map(|(achieved, _)| achieved).sum();
        let breached = counts.iter().map(|(_, breached)| breached).sum();
        SlaCompliance {
            overall: SlaStats::of(achieved, breached),
            first_response: stats(SlaMetric::FirstResponse),
            next_response: stats(SlaMetric::NextResponse),
            periodic_update: stats(SlaMetric::PeriodicUpdate),
            resolution: stats(SlaMetric::Resolution),
        }
    }
}

impl CsatStats {
    fn of(distribution: [u64; 5]) -> CsatStats {
        let responses = distribution.iter().sum();
        let points = distribution
            .iter()
            .zip(1u64..)
            .map(|(&count, rating)| count * rating)
            .sum();
        CsatStats {
            responses,
            average: ratio(points, responses),
            distribution,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_down() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7]), Some(7));
        assert_eq!(median(&[1, 2, 9]), Some(2));
        assert_eq!(median(&[1, 2, 5, 9]), Some(3));
        assert_eq!(median(&[u64::MAX - 1, u64::MAX]), Some(u64::MAX - 1));
    }

    #[test]
    fn the_mean_is_rounded_down_and_does_not_overflow() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1, 2]), Some(1));
        assert_eq!(mean(&[u64::MAX, u64::MAX]), Some(u64::MAX));
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn summaries_stay_within_the_documented_size() {
        use std::mem::size_of;
        assert!(size_of::<SessionId>() + size_of::<SessionFacts>() <= 88);
        assert!(size_of::<TicketId>() + size_of::<TicketFacts>() <= 72);
        assert!(size_of::<MeasurementKey>() + size_of::<MeasurementFacts>() <= 56);
        assert!(size_of::<SurveyId>() + size_of::<SurveyFacts>() <= 40);
    }
}
