//! Analytics computed from the engine's records: chats driven through the real engine, and
//! tickets, SLA measurements and surveys as literal records; upserts, the `[from, to)` range,
//! department and agent filters, tenant isolation, empty reports, CSAT and SLA compliance.

use std::sync::Arc;

use crate::support::*;
use serde_json::json;
use switchboard_core::analytics::{
    Analytics, AnalyticsQuery, AnalyticsReport, DurationStats, GroupMetrics, Metrics,
};
use switchboard_core::ids::{SessionId, SurveyId, TenantId, TicketId};
use switchboard_core::protocol::helpdesk::{
    Channel, Requester, SlaMeasurement, SlaMetric, SlaOutcome, SlaSubject, SurveyTarget,
    SurveyView, TicketPriority, TicketStatus, TicketView,
};
use switchboard_core::protocol::model::{SessionStatus, SessionView, VisitorProfile};
use switchboard_core::{Output, Record, Timestamp};

const T: i64 = 1_000_000;

fn query(tenant: &str, from: i64, to: i64) -> AnalyticsQuery {
    AnalyticsQuery {
        tenant_id: tenant.into(),
        from: Timestamp(from),
        to: Timestamp(to),
        department_id: None,
        agent_id: None,
    }
}

fn everything(tenant: &str) -> AnalyticsQuery {
    query(tenant, i64::MIN, i64::MAX)
}

fn stats(count: u64, average_ms: u64, median_ms: u64) -> DurationStats {
    DurationStats {
        count,
        average_ms: Some(average_ms),
        median_ms: Some(median_ms),
    }
}

fn group<'a>(groups: &'a [GroupMetrics], key: Option<&str>) -> &'a Metrics {
    &groups
        .iter()
        .find(|g| g.key.as_deref() == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {groups:?}"))
        .metrics
}

fn keys(groups: &[GroupMetrics]) -> Vec<Option<&str>> {
    groups.iter().map(|g| g.key.as_deref()).collect()
}

// ---- literal records ----

fn session(no: u64, status: SessionStatus, created_at: i64) -> SessionView {
    SessionView {
        session_id: SessionId(no),
        status,
        visitor_id: format!("v{no}").as_str().into(),
        visitor: Arc::new(VisitorProfile::default()),
        queue_id: None,
        department_id: None,
        issue_type: None,
        language: None,
        priority: 0,
        agent_id: None,
        agent_name: None,
        bot_id: None,
        handoff_reason: None,
        tags: Vec::new(),
        created_at: Timestamp(created_at),
        queued_at: None,
        assigned_at: None,
        first_assigned_at: None,
        first_response_at: None,
        last_message_at: None,
        ended_at: None,
        unread_count_agent: 0,
        unread_count_visitor: 0,
        message_count: 0,
        transfer_count: 0,
        csat: None,
        end_reason: None,
    }
}

fn session_record(view: SessionView) -> Record {
    Record::Session {
        session: Box::new(view),
    }
}

fn ticket(no: u64, status: TicketStatus, created_at: i64) -> TicketView {
    TicketView {
        ticket_id: TicketId(no),
        number: format!("ACME-{no:05}").into(),
        subject: "Printer on fire".into(),
        description: "".into(),
        requester: Requester::default(),
        status,
        priority: TicketPriority::Medium,
        channel: Channel::Web,
        department_id: None,
        assignee_id: None,
        team_id: None,
        due_at: None,
        tags: Vec::new(),
        source_session_id: None,
        template_id: None,
        created_by: "alice".into(),
        created_at: Timestamp(created_at),
        updated_at: Timestamp(created_at),
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        deleted_at: None,
        message_count: 0,
        reopen_count: 0,
        sla: None,
    }
}

fn ticket_record(view: TicketView) -> Record {
    Record::Ticket {
        ticket: Box::new(view),
    }
}

fn measurement(
    ticket_no: u64,
    metric: SlaMetric,
    cycle: u32,
    outcome: SlaOutcome,
    started_at: i64,
) -> SlaMeasurement {
    SlaMeasurement {
        subject: SlaSubject::Ticket {
            ticket_id: TicketId(ticket_no),
        },
        policy_id: "standard".into(),
        metric,
        cycle,
        outcome,
        target_ms: 3_600_000,
        business_hours: false,
        elapsed_ms: 1_000,
        elapsed_business_ms: 1_000,
        started_at: Timestamp(started_at),
        completed_at: Some(Timestamp(started_at + 1_000)),
        department_id: None,
        agent_id: None,
    }
}

fn measurement_record(measurement: SlaMeasurement) -> Record {
    Record::SlaMeasurement { measurement }
}

fn survey(no: u64, rating: Option<u8>, answered_at: i64) -> SurveyView {
    SurveyView {
        survey_id: SurveyId(no),
        target: SurveyTarget::Session {
            session_id: SessionId(no),
        },
        visitor_id: None,
        agent_id: None,
        department_id: None,
        sent_at: Timestamp(answered_at - 60_000),
        expires_at: Timestamp(answered_at + 86_400_000),
        rating,
        comment: None,
        answered_at: rating.map(|_| Timestamp(answered_at)),
    }
}

fn survey_record(survey: SurveyView) -> Record {
    Record::Survey { survey }
}

fn analytics_of(tenant: &str, records: impl IntoIterator<Item = Record>) -> Analytics {
    let mut analytics = Analytics::default();
    let tenant = TenantId::from(tenant);
    for record in records {
        analytics.ingest(&tenant, &record);
    }
    analytics
}

// ---- the engine ----

#[test]
fn chats_driven_through_the_engine_give_hand_computed_figures() {
    let mut h = Harness::new();
    h.cmd_json(
        &admin(),
        json!({"type": "upsert_department", "department": {"id": "sales", "name": "Sales"}}),
    )
    .unwrap();
    h.cmd_json(
        &admin(),
        json!({"type": "upsert_queue", "queue": {"id": "sales", "department_id": "sales",
            "queue_when_no_agents": true, "max_wait_ms": 60_000}}),
    )
    .unwrap();
    h.online_agent("alice", json!({"max_concurrent_chats": 1}));
    assert_eq!(h.now, T);

    // A (support): created and queued at T, taken at T+5s, first reply at T+8s, resolved at
    // T+68s, then closed.
    let a = h.start("va", json!({"department_id": "support"}));
    h.advance(5_000);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": a}),
    )
    .unwrap();
    // B (support) waits behind A (alice has one slot) and its visitor leaves at T+20s.
    let b = h.start("vb", json!({"department_id": "support"}));
    // C (sales) has no agent and is missed at its maximum wait, T+65s.
    let c = h.start("vc", json!({"department_id": "sales"}));
    h.advance(3_000);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "send_message", "session_id": a, "body": "hello"}),
    )
    .unwrap();
    h.advance(12_000);
    h.cmd_json(
        &visitor("vb"),
        json!({"type": "leave_session", "session_id": b}),
    )
    .unwrap();
    h.advance(45_000);
    assert!(h.session_json(&c).is_none(), "C was missed");
    h.advance(3_000);
    for command in ["resolve_session", "close_session"] {
        h.cmd_json(&agent("alice"), json!({"type": command, "session_id": a}))
            .unwrap();
    }
    // D (support): created at T+68s, taken at T+70s, first reply at T+71s and resolved at
    // once (a reply alone records no new session state; the resolve brings it along).
    let d = h.start("vd", json!({"department_id": "support"}));
    h.advance(2_000);
    h.cmd_json(
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": d}),
    )
    .unwrap();
    h.advance(1_000);
    for command in [
        json!({"type": "send_message", "session_id": d, "body": "hi"}),
        json!({"type": "resolve_session", "session_id": d}),
    ] {
        h.cmd_json(&agent("alice"), command).unwrap();
    }

    let session_records = h
        .outputs
        .iter()
        .filter(|o| {
            matches!(
                o,
                Output::Persist {
                    record: Record::Session { .. },
                    ..
                }
            )
        })
        .count();
    assert!(
        session_records > 4,
        "every change of a chat is recorded again"
    );
    let mut analytics = Analytics::default();
    for output in &h.outputs {
        analytics.ingest_output(output);
    }
    let report = analytics.report(&everything(TENANT));
    let totals = &report.totals;

    assert_eq!(totals.sessions, 4);
    assert_eq!(totals.sessions_answered, 2, "A and D");
    assert_eq!(totals.sessions_abandoned, 1, "B");
    assert_eq!(totals.sessions_missed, 1, "C");
    // Waits: A 5_000 (T to T+5s), D 2_000 (T+68s to T+70s): mean 3_500, median the mean of
    // the two, 3_500.
    assert_eq!(totals.wait_time, stats(2, 3_500, 3_500));
    // First replies: A 8_000, D 3_000.
    assert_eq!(totals.chat_first_response, stats(2, 5_500, 5_500));
    // Handle: A 63_000 (T+5s to its resolve at T+68s), D 1_000 (T+70s to T+71s).
    assert_eq!(totals.handle_time, stats(2, 32_000, 32_000));
    // Decided waits: A and D answered, B abandoned, C missed: 1 of 4.
    assert_eq!(totals.abandonment_rate, Some(0.25));
    assert_eq!(totals.tickets, 0);
    assert_eq!(totals.sla.overall.compliance, None);
    assert_eq!(totals.csat.responses, 0);

    assert_eq!(
        keys(&report.by_department),
        [Some("sales"), Some("support")]
    );
    let sales = group(&report.by_department, Some("sales"));
    assert_eq!(
        (
            sales.sessions,
            sales.sessions_missed,
            sales.abandonment_rate
        ),
        (1, 1, Some(0.0))
    );
    assert_eq!(sales.wait_time.count, 0);
    let support = group(&report.by_department, Some("support"));
    assert_eq!(support.sessions, 3);
    assert_eq!(support.abandonment_rate, Some(1.0 / 3.0));
    assert_eq!(support.handle_time, totals.handle_time);

    assert_eq!(keys(&report.by_agent), [None, Some("alice")]);
    let nobody = group(&report.by_agent, None);
    assert_eq!((nobody.sessions, nobody.sessions_answered), (2, 0));
    let alice = group(&report.by_agent, Some("alice"));
    assert_eq!((alice.sessions, alice.sessions_answered), (2, 2));
    assert_eq!(alice.wait_time, totals.wait_time);

    // The range places chats by creation: [T+5s, T+68s) holds B and C only.
    let middle = analytics.report(&query(TENANT, T + 5_000, T + 68_000));
    assert_eq!(middle.totals.sessions, 2);
    assert_eq!(middle.totals.sessions_answered, 0);
    assert_eq!(middle.totals.abandonment_rate, Some(0.5));
}

#[test]
fn a_report_serializes_to_plain_json_and_back() {
    let analytics = analytics_of(
        "acme",
        [
            session_record(session(1, SessionStatus::Abandoned, T)),
            survey_record(survey(1, Some(4), T)),
        ],
    );
    let report = analytics.report(&everything("acme"));
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["totals"]["sessions"], 1);
    assert_eq!(value["totals"]["abandonment_rate"], 1.0);
    assert_eq!(
        value["totals"]["csat"]["distribution"],
        json!([0, 0, 0, 1, 0])
    );
    assert_eq!(value["totals"]["wait_time"]["median_ms"], json!(null));
    assert_eq!(value["by_agent"][0]["key"], json!(null));
    let back: AnalyticsReport = serde_json::from_value(value).unwrap();
    assert_eq!(back, report);
}

// ---- upserts ----

#[test]
fn a_session_seen_twice_counts_once_with_its_later_state() {
    let mut queued = session(1, SessionStatus::Queued, T);
    queued.queued_at = Some(Timestamp(T));
    let mut taken = queued.clone();
    taken.status = SessionStatus::Active;
    taken.agent_id = Some("alice".into());
    taken.first_assigned_at = Some(Timestamp(T + 4_000));
    let analytics = analytics_of("acme", [session_record(queued), session_record(taken)]);
    let report = analytics.report(&everything("acme"));
    assert_eq!(report.totals.sessions, 1);
    assert_eq!(report.totals.sessions_answered, 1);
    assert_eq!(report.totals.wait_time, stats(1, 4_000, 4_000));
    assert_eq!(
        keys(&report.by_agent),
        [Some("alice")],
        "the earlier, unassigned state is gone"
    );
}

#[test]
fn tickets_measurements_and_surveys_are_upserts_too() {
    let open = ticket(1, TicketStatus::Open, T);
    let mut resolved = open.clone();
    resolved.status = TicketStatus::Resolved;
    resolved.resolved_at = Some(Timestamp(T + 10_000));
    let mut deleted = ticket(2, TicketStatus::Open, T);
    let created = deleted.clone();
    deleted.deleted_at = Some(Timestamp(T + 1));
    let running = measurement(1, SlaMetric::Resolution, 1, SlaOutcome::Breached, T);
    let mut completed = running.clone();
    completed.elapsed_ms = 9_000_000;
    let analytics = analytics_of(
        "acme",
        [
            ticket_record(open),
            ticket_record(resolved),
            ticket_record(created),
            ticket_record(deleted),
            measurement_record(running),
            measurement_record(completed),
            survey_record(survey(1, None, T)),
            survey_record(survey(1, Some(2), T)),
            survey_record(survey(2, Some(5), T)),
            survey_record(survey(2, Some(3), T)),
        ],
    );
    let totals = analytics.report(&everything("acme")).totals;
    assert_eq!((totals.tickets, totals.tickets_resolved), (1, 1));
    assert_eq!(totals.ticket_resolution, stats(1, 10_000, 10_000));
    assert_eq!(
        (
            totals.sla.resolution.achieved,
            totals.sla.resolution.breached
        ),
        (0, 1)
    );
    assert_eq!(totals.csat.distribution, [0, 1, 1, 0, 0]);
}

#[test]
fn ticket_first_response_and_resolution_count_only_what_happened() {
    let mut answered = ticket(1, TicketStatus::InProgress, T);
    answered.first_response_at = Some(Timestamp(T + 1_000));
    let mut solved = ticket(2, TicketStatus::Closed, T);
    solved.first_response_at = Some(Timestamp(T + 3_000));
    solved.resolved_at = Some(Timestamp(T + 7_000));
    let mut reopened = ticket(3, TicketStatus::Open, T);
    reopened.first_response_at = Some(Timestamp(T + 8_000));
    reopened.resolved_at = Some(Timestamp(T + 9_000));
    let untouched = ticket(4, TicketStatus::Open, T);
    let analytics = analytics_of(
        "acme",
        [answered, solved, reopened, untouched].map(ticket_record),
    );
    let totals = analytics.report(&everything("acme")).totals;
    assert_eq!(totals.tickets, 4);
    assert_eq!(totals.tickets_resolved, 1, "only the closed one");
    // 1_000, 3_000, 8_000: mean 4_000, median 3_000.
    assert_eq!(totals.ticket_first_response, stats(3, 4_000, 3_000));
    // A reopened ticket is no longer resolved, whatever its last resolution.
    assert_eq!(totals.ticket_resolution, stats(1, 7_000, 7_000));
    assert_eq!(totals.sessions, 0);
    assert_eq!(totals.chat_first_response, DurationStats::default());
}

// ---- durations ----

#[test]
fn medians_of_even_counts_are_the_mean_of_the_middle_two_and_averages_round_down() {
    let waits = [1_000, 2_000, 4_001, 9_000];
    let records = waits.iter().zip(1..).map(|(&wait, no)| {
        let mut view = session(no, SessionStatus::Active, T);
        view.first_assigned_at = Some(Timestamp(T + wait));
        session_record(view)
    });
    let analytics = analytics_of("acme", records);
    // Mean 16_001 / 4 = 4_000.25, rounded down; median (2_000 + 4_001) / 2 = 3_000.5,
    // rounded down.
    assert_eq!(
        analytics.report(&everything("acme")).totals.wait_time,
        stats(4, 4_000, 3_000)
    );
    // An odd count takes the middle one: without the 9_000, 1_000, 2_000 and 4_001.
    let mut odd = analytics.clone();
    let mut later = session(4, SessionStatus::Active, T + 1);
    later.first_assigned_at = Some(Timestamp(T + 9_000));
    odd.ingest(&"acme".into(), &session_record(later));
    assert_eq!(
        odd.report(&query("acme", T, T + 1)).totals.wait_time,
        stats(3, 2_333, 2_000)
    );
}

#[test]
fn waits_run_from_the_first_queueing_else_from_creation_and_handle_time_needs_an_end() {
    let mut queued_late = session(1, SessionStatus::Active, T);
    queued_late.queued_at = Some(Timestamp(T + 3_000));
    queued_late.first_assigned_at = Some(Timestamp(T + 10_000));
    let mut never_queued = session(2, SessionStatus::Closed, T);
    never_queued.first_assigned_at = Some(Timestamp(T + 6_000));
    never_queued.ended_at = Some(Timestamp(T + 26_000));
    let analytics = analytics_of("acme", [queued_late, never_queued].map(session_record));
    let totals = analytics.report(&everything("acme")).totals;
    // 7_000 (queued T+3s, taken T+10s) and 6_000 (created T, taken T+6s).
    assert_eq!(totals.wait_time, stats(2, 6_500, 6_500));
    // Only the ended chat: T+6s to T+26s.
    assert_eq!(totals.handle_time, stats(1, 20_000, 20_000));
}

// ---- abandonment ----

#[test]
fn abandonment_counts_over_chats_whose_wait_is_decided() {
    let mut answered = session(1, SessionStatus::Closed, T);
    answered.first_assigned_at = Some(Timestamp(T + 1_000));
    answered.ended_at = Some(Timestamp(T + 2_000));
    let abandoned = session(2, SessionStatus::Abandoned, T);
    let missed = session(3, SessionStatus::Missed, T);
    let still_waiting = session(4, SessionStatus::Queued, T);
    let bot_only = session(5, SessionStatus::Closed, T);
    // Taken, handed back to the queue, then left: answered and abandoned, counted once.
    let mut requeued_and_left = session(6, SessionStatus::Abandoned, T);
    requeued_and_left.first_assigned_at = Some(Timestamp(T + 1_000));
    let analytics = analytics_of(
        "acme",
        [
            answered,
            abandoned,
            missed,
            still_waiting,
            bot_only,
            requeued_and_left,
        ]
        .map(session_record),
    );
    let totals = analytics.report(&everything("acme")).totals;
    assert_eq!(totals.sessions, 6);
    assert_eq!(totals.sessions_abandoned, 2);
    // Decided: the answered, the abandoned, the missed and the requeued one; 2 of 4.
    assert_eq!(totals.abandonment_rate, Some(0.5));

    let undecided = analytics_of(
        "acme",
        [session_record(session(1, SessionStatus::Queued, T))],
    );
    assert_eq!(
        undecided
            .report(&everything("acme"))
            .totals
            .abandonment_rate,
        None
    );
}

// ---- range ----

#[test]
fn the_range_includes_its_start_and_excludes_its_end_for_every_kind_of_item() {
    let (from, to) = (T, T + 60_000);
    let mut records = Vec::new();
    for (no, at) in (1..).zip([from - 1, from, to - 1, to]) {
        records.push(session_record(session(no, SessionStatus::Abandoned, at)));
        records.push(ticket_record(ticket(no, TicketStatus::Open, at)));
        records.push(measurement_record(measurement(
            no,
            SlaMetric::FirstResponse,
            1,
            SlaOutcome::Achieved,
            at,
        )));
        records.push(survey_record(survey(no, Some(5), at)));
    }
    let analytics = analytics_of("acme", records);
    let totals = analytics.report(&query("acme", from, to)).totals;
    assert_eq!(totals.sessions, 2);
    assert_eq!(totals.tickets, 2);
    assert_eq!(totals.sla.first_response.achieved, 2);
    assert_eq!(totals.csat.responses, 2);

    let next = analytics.report(&query("acme", to, to + 1)).totals;
    assert_eq!(
        (next.sessions, next.tickets, next.csat.responses),
        (1, 1, 1),
        "the end of one range starts the next"
    );
    let reversed = analytics.report(&query("acme", to, from)).totals;
    assert_eq!(reversed.sessions, 0);
}

#[test]
fn surveys_are_placed_by_their_answer_not_by_their_sending() {
    let mut late_answer = survey(1, Some(4), T + 120_000);
    late_answer.sent_at = Timestamp(T - 120_000);
    let analytics = analytics_of("acme", [survey_record(late_answer)]);
    assert_eq!(
        analytics
            .report(&query("acme", T - 120_000, T))
            .totals
            .csat
            .responses,
        0
    );
    assert_eq!(
        analytics
            .report(&query("acme", T, T + 120_001))
            .totals
            .csat
            .responses,
        1
    );
}

// ---- filters ----

/// Support: alice (chat, ticket, breached SLA, a 5), bob (chat); sales: bob (ticket, a 1);
/// nowhere: an unassigned chat.
fn staffed_records() -> Vec<Record> {
    let mut alice_chat = session(1, SessionStatus::Active, T);
    alice_chat.department_id = Some("support".into());
    alice_chat.agent_id = Some("alice".into());
    alice_chat.first_assigned_at = Some(Timestamp(T + 1_000));
    let mut bob_chat = session(2, SessionStatus::Active, T);
    bob_chat.department_id = Some("support".into());
    bob_chat.agent_id = Some("bob".into());
    bob_chat.first_assigned_at = Some(Timestamp(T + 3_000));
    let unassigned_chat = session(3, SessionStatus::Abandoned, T);
    let mut alice_ticket = ticket(1, TicketStatus::Open, T);
    alice_ticket.department_id = Some("support".into());
    alice_ticket.assignee_id = Some("alice".into());
    let mut bob_ticket = ticket(2, TicketStatus::Resolved, T);
    bob_ticket.department_id = Some("sales".into());
    bob_ticket.assignee_id = Some("bob".into());
    let mut alice_sla = measurement(1, SlaMetric::FirstResponse, 1, SlaOutcome::Breached, T);
    alice_sla.department_id = Some("support".into());
    alice_sla.agent_id = Some("alice".into());
    let mut alice_survey = survey(1, Some(5), T);
    alice_survey.department_id = Some("support".into());
    alice_survey.agent_id = Some("alice".into());
    let mut bob_survey = survey(2, Some(1), T);
    bob_survey.department_id = Some("sales".into());
    bob_survey.agent_id = Some("bob".into());
    vec![
        session_record(alice_chat),
        session_record(bob_chat),
        session_record(unassigned_chat),
        ticket_record(alice_ticket),
        ticket_record(bob_ticket),
        measurement_record(alice_sla),
        survey_record(alice_survey),
        survey_record(bob_survey),
    ]
}

#[test]
fn the_department_filter_keeps_the_items_of_that_department() {
    let analytics = analytics_of("acme", staffed_records());
    let mut support = everything("acme");
    support.department_id = Some("support".into());
    let report = analytics.report(&support);
    let totals = &report.totals;
    assert_eq!((totals.sessions, totals.tickets), (2, 1));
    assert_eq!(totals.wait_time, stats(2, 2_000, 2_000));
    assert_eq!(totals.sla.overall.breached, 1);
    assert_eq!(totals.csat.distribution, [0, 0, 0, 0, 1]);
    assert_eq!(keys(&report.by_department), [Some("support")]);
    assert_eq!(keys(&report.by_agent), [Some("alice"), Some("bob")]);

    support.department_id = Some("marketing".into());
    let unknown = analytics.report(&support);
    assert_eq!(unknown.totals, Metrics::default());
    assert!(unknown.by_department.is_empty() && unknown.by_agent.is_empty());
}

#[test]
fn the_agent_filter_keeps_the_items_of_that_agent_and_combines_with_the_department() {
    let analytics = analytics_of("acme", staffed_records());
    let mut bob = everything("acme");
    bob.agent_id = Some("bob".into());
    let report = analytics.report(&bob);
    assert_eq!(report.totals.sessions, 1);
    assert_eq!(report.totals.tickets, 1);
    assert_eq!(report.totals.tickets_resolved, 1);
    assert_eq!(report.totals.csat.average, Some(1.0));
    assert_eq!(keys(&report.by_agent), [Some("bob")]);
    assert_eq!(
        keys(&report.by_department),
        [Some("sales"), Some("support")]
    );

    bob.department_id = Some("sales".into());
    let totals = analytics.report(&bob).totals;
    assert_eq!(
        (totals.sessions, totals.tickets, totals.csat.responses),
        (0, 1, 1)
    );
}

#[test]
fn groups_cover_every_item_including_those_without_a_department_or_agent() {
    let report = analytics_of("acme", staffed_records()).report(&everything("acme"));
    assert_eq!(
        keys(&report.by_department),
        [None, Some("sales"), Some("support")]
    );
    assert_eq!(keys(&report.by_agent), [None, Some("alice"), Some("bob")]);
    let alice = group(&report.by_agent, Some("alice"));
    assert_eq!(
        (
            alice.sessions,
            alice.tickets,
            alice.sla.overall.breached,
            alice.csat.responses
        ),
        (1, 1, 1, 1)
    );
    let nowhere = group(&report.by_department, None);
    assert_eq!((nowhere.sessions, nowhere.sessions_abandoned), (1, 1));
    let sum: u64 = report
        .by_department
        .iter()
        .map(|g| g.metrics.sessions)
        .sum();
    assert_eq!(sum, report.totals.sessions);
}

// ---- tenants ----

#[test]
fn another_tenants_records_never_reach_a_report() {
    let mut analytics = analytics_of("acme", staffed_records());
    let before = analytics.report(&everything("acme"));
    // The same numbered ids exist in every tenant.
    for record in staffed_records() {
        analytics.ingest_output(&Output::Persist {
            tenant_id: "globex".into(),
            record,
        });
    }
    let mut later = session(1, SessionStatus::Missed, T);
    later.department_id = Some("support".into());
    analytics.ingest(&"globex".into(), &session_record(later));
    assert_eq!(analytics.report(&everything("acme")), before);
    let globex = analytics.report(&everything("globex"));
    assert_eq!(globex.totals.sessions_missed, 1);
    assert_eq!(globex.totals.sessions, before.totals.sessions);
}

// ---- empty ----

#[test]
fn an_empty_report_has_zero_counts_and_no_rates() {
    let empty = Metrics::default();
    assert_eq!(empty.sessions, 0);
    assert_eq!(empty.abandonment_rate, None);
    assert_eq!(empty.wait_time, DurationStats::default());
    assert_eq!(empty.wait_time.average_ms, None);
    assert_eq!(empty.sla.overall.compliance, None);
    assert_eq!(empty.csat.average, None);
    assert_eq!(empty.csat.distribution, [0; 5]);

    let unknown_tenant = Analytics::default().report(&everything("acme"));
    assert_eq!(unknown_tenant.totals, empty);
    assert!(unknown_tenant.by_department.is_empty() && unknown_tenant.by_agent.is_empty());

    let nothing_in_range = analytics_of("acme", staffed_records()).report(&query("acme", 0, T));
    assert_eq!(nothing_in_range, AnalyticsReport::default());
}

#[test]
fn records_without_analytics_are_ignored() {
    let mut analytics = Analytics::default();
    analytics.ingest(
        &"acme".into(),
        &Record::AgentStatus {
            agent_id: "alice".into(),
            status: switchboard_core::protocol::model::AgentStatus::Online,
            at: Timestamp(T),
        },
    );
    assert_eq!(
        analytics.report(&everything("acme")),
        AnalyticsReport::default()
    );
}

// ---- CSAT ----

#[test]
fn csat_counts_answered_ratings_per_score_and_averages_them() {
    let ratings = [
        Some(5),
        Some(5),
        Some(4),
        Some(3),
        Some(1),
        None,
        Some(0),
        Some(6),
    ];
    let records = ratings
        .into_iter()
        .zip(1..)
        .map(|(rating, no)| survey_record(survey(no, rating, T)));
    let csat = analytics_of("acme", records)
        .report(&everything("acme"))
        .totals
        .csat;
    // Unanswered and out-of-scale answers do not count: 5, 5, 4, 3, 1.
    assert_eq!(csat.responses, 5);
    assert_eq!(csat.distribution, [1, 0, 1, 1, 2]);
    // (5 + 5 + 4 + 3 + 1) / 5 = 3.6
    assert_eq!(csat.average, Some(3.6));
}

// ---- SLA ----

#[test]
fn sla_compliance_is_achieved_over_measured_per_metric_and_overall() {
    use SlaMetric::*;
    use SlaOutcome::*;
    let cycles = [
        (1, FirstResponse, 1, Achieved),
        (2, FirstResponse, 1, Achieved),
        (3, FirstResponse, 1, Achieved),
        (4, FirstResponse, 1, Breached),
        (1, Resolution, 1, Achieved),
        (2, Resolution, 1, Breached),
        (1, PeriodicUpdate, 1, Breached),
        (1, PeriodicUpdate, 2, Breached),
    ];
    let records = cycles.map(|(ticket_no, metric, cycle, outcome)| {
        measurement_record(measurement(ticket_no, metric, cycle, outcome, T))
    });
    let sla = analytics_of("acme", records)
        .report(&everything("acme"))
        .totals
        .sla;
    assert_eq!(
        (sla.first_response.achieved, sla.first_response.breached),
        (3, 1)
    );
    assert_eq!(sla.first_response.compliance, Some(0.75));
    assert_eq!(sla.resolution.compliance, Some(0.5));
    assert_eq!(
        sla.periodic_update.compliance,
        Some(0.0),
        "each cycle counts"
    );
    assert_eq!(sla.next_response.compliance, None);
    assert_eq!(sla.metric(NextResponse), &sla.next_response);
    // 4 achieved of 8 measured.
    assert_eq!((sla.overall.achieved, sla.overall.breached), (4, 4));
    assert_eq!(sla.overall.compliance, Some(0.5));
}

#[test]
fn the_same_cycle_number_of_different_subjects_or_metrics_stays_apart() {
    let ticket_cycle = measurement(1, SlaMetric::FirstResponse, 1, SlaOutcome::Achieved, T);
    let mut chat_cycle = ticket_cycle.clone();
    chat_cycle.subject = SlaSubject::Session {
        session_id: SessionId(1),
    };
    let mut other_metric = ticket_cycle.clone();
    other_metric.metric = SlaMetric::Resolution;
    let analytics = analytics_of(
        "acme",
        [ticket_cycle, chat_cycle, other_metric].map(measurement_record),
    );
    assert_eq!(
        analytics
            .report(&everything("acme"))
            .totals
            .sla
            .overall
            .achieved,
        3
    );
}
