//! Satisfaction surveys: sent when a chat or ticket is resolved or when an agent asks,
//! answered once with a rating of one to five, told to the rated agent and supervisors,
//! recorded when sent and when answered, forgotten when they expire, and refused when the
//! tenant turned them off.

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::ids::{SessionId, SurveyId, TicketId};
use switchboard_core::protocol::helpdesk::{SurveyTarget, SurveyView};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_core::{Actor, Command, CommandError, Event, Output, Record, Reply, Role};

fn cmd(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad command {value}: {e}"))
}

fn run(h: &mut Harness, actor: &Actor, command: Value) -> Reply {
    h.ok(actor, cmd(command))
}

fn refuse(h: &mut Harness, actor: &Actor, command: Value) -> CommandError {
    h.err(actor, cmd(command))
}

/// Alice (online) chats with visitor v1; an online supervisor watches.
fn chatting(settings: TenantSettings) -> (Harness, SessionId) {
    let mut h = Harness::with_settings(settings);
    h.add_agent("boss", json!({"role": "supervisor"}));
    h.online("boss");
    h.online_agent("alice", json!({}));
    let session = h.start("v1", json!({}));
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "accept_offer", "session_id": session}),
    );
    h.clear();
    (h, session.parse().expect("a session id"))
}

fn resolved_chat() -> (Harness, SessionId) {
    let (mut h, session) = chatting(TenantSettings::default());
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    (h, session)
}

/// Surveys requested from a visitor since the last clear.
fn requested(h: &Harness, visitor_id: &str) -> Vec<(SurveyId, SurveyTarget)> {
    h.events_for(&visitor_r(visitor_id))
        .into_iter()
        .filter_map(|e| match e {
            Event::SurveyRequested {
                survey_id, target, ..
            } => Some((*survey_id, *target)),
            _ => None,
        })
        .collect()
}

fn survey_records(h: &Harness) -> Vec<SurveyView> {
    h.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist {
                record: Record::Survey { survey },
                ..
            } => Some(survey.clone()),
            _ => None,
        })
        .collect()
}

fn answer(survey: SurveyId, rating: u8) -> Value {
    json!({"type": "submit_csat", "survey_id": survey, "rating": rating})
}

/// A ticket asked by visitor v1 and assigned to alice.
fn ticket_for_v1(h: &mut Harness) -> TicketId {
    match run(
        h,
        &agent("alice"),
        json!({"type": "create_ticket", "subject": "Broken", "assignee_id": "alice",
               "requester": {"visitor_id": "v1"}}),
    ) {
        Reply::TicketCreated { ticket_id, .. } => ticket_id,
        other => panic!("unexpected reply {other:?}"),
    }
}

#[test]
fn resolving_a_chat_asks_its_visitor_for_a_rating() {
    let (mut h, session) = chatting(TenantSettings::default());
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    let asked = requested(&h, "v1");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].1,
        SurveyTarget::Session {
            session_id: session
        }
    );
    let expires_at = h
        .events_for(&visitor_r("v1"))
        .into_iter()
        .find_map(|e| match e {
            Event::SurveyRequested { expires_at, .. } => Some(*expires_at),
            _ => None,
        })
        .unwrap();
    let week = 7 * 24 * 3_600_000;
    assert_eq!(expires_at.0, h.now + week);
    assert!(
        !h.event_names_for(&staff("alice"))
            .contains(&"survey_requested")
    );
}

#[test]
fn a_visitor_answers_a_survey_once() {
    let (mut h, _) = resolved_chat();
    let (survey, _) = requested(&h, "v1")[0];
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "survey_id": survey, "rating": 4, "comment": "Quick and kind"}),
    );
    let again = refuse(&mut h, &visitor("v1"), answer(survey, 1));
    assert_eq!(again.code(), "illegal_transition");
    assert_eq!(again.details()["state"], "answered");
}

#[test]
fn a_rating_outside_one_to_five_is_invalid() {
    let (mut h, _) = resolved_chat();
    let (survey, _) = requested(&h, "v1")[0];
    for rating in [0, 6, 255] {
        let error = refuse(&mut h, &visitor("v1"), answer(survey, rating));
        assert_eq!(error.code(), "invalid_input", "{rating}");
        assert_eq!(error.details()["field"], "rating");
    }
    run(&mut h, &visitor("v1"), answer(survey, 1));
}

#[test]
fn another_visitor_cannot_answer_someone_elses_survey() {
    let (mut h, _) = resolved_chat();
    let (survey, _) = requested(&h, "v1")[0];
    let error = refuse(&mut h, &visitor("v2"), answer(survey, 1));
    assert_eq!(error.code(), "not_found");
    assert_eq!(error.details()["kind"], "survey");
    run(&mut h, &visitor("v1"), answer(survey, 5));
}

#[test]
fn a_visitor_may_answer_by_naming_the_session() {
    let (mut h, session) = resolved_chat();
    let (survey, _) = requested(&h, "v1")[0];
    h.clear();
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "session_id": session, "rating": 3}),
    );
    let records = survey_records(&h);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].survey_id, survey,
        "the outstanding survey is answered"
    );
    assert_eq!(records[0].rating, Some(3));
    let view = h.session_json(&session.to_string()).unwrap();
    assert_eq!(view["csat"]["rating"], 3);
    let again = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "session_id": session, "rating": 5}),
    );
    assert_eq!(again.code(), "illegal_transition");
}

#[test]
fn an_agent_asks_for_a_rating_during_a_chat_and_asking_twice_gives_the_same_survey() {
    let (mut h, session) = chatting(TenantSettings::default());
    let ask = json!({"type": "request_csat", "session_id": session});
    let first = match run(&mut h, &agent("alice"), ask.clone()) {
        Reply::SurveySent { survey_id } => survey_id,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(
        requested(&h, "v1"),
        vec![(
            first,
            SurveyTarget::Session {
                session_id: session
            }
        )]
    );
    h.clear();
    let second = match run(&mut h, &agent("alice"), ask) {
        Reply::SurveySent { survey_id } => survey_id,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(second, first);
    assert!(
        requested(&h, "v1").is_empty(),
        "the visitor is not asked twice"
    );
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    assert!(
        requested(&h, "v1").is_empty(),
        "resolving does not ask again while one is outstanding"
    );
}

#[test]
fn an_agent_asks_for_a_rating_on_a_ticket_and_asking_twice_gives_the_same_survey() {
    let mut h = Harness::new();
    h.add_agent("alice", json!({"departments": ["support"]}));
    let ticket = ticket_for_v1(&mut h);
    h.clear();
    let ask = json!({"type": "request_csat", "ticket_id": ticket});
    let first = match run(&mut h, &agent("alice"), ask.clone()) {
        Reply::SurveySent { survey_id } => survey_id,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(
        requested(&h, "v1"),
        vec![(first, SurveyTarget::Ticket { ticket_id: ticket })]
    );
    let second = match run(&mut h, &agent("alice"), ask) {
        Reply::SurveySent { survey_id } => survey_id,
        other => panic!("unexpected reply {other:?}"),
    };
    assert_eq!(second, first);
    assert_eq!(requested(&h, "v1").len(), 1);
}

#[test]
fn only_the_agent_on_the_chat_or_a_supervisor_asks_for_a_rating() {
    let (mut h, session) = chatting(TenantSettings::default());
    h.online_agent("bob", json!({}));
    let ask = json!({"type": "request_csat", "session_id": session});
    let error = refuse(&mut h, &agent("bob"), ask.clone());
    assert_eq!(error.code(), "forbidden");
    let error = refuse(&mut h, &visitor("v1"), ask.clone());
    assert_eq!(error.code(), "forbidden");
    let error = refuse(&mut h, &visitor("v2"), ask.clone());
    assert_eq!(error.code(), "not_found");
    assert!(matches!(
        run(&mut h, &supervisor("boss"), ask),
        Reply::SurveySent { .. }
    ));
}

#[test]
fn resolving_a_ticket_of_a_known_visitor_sends_a_survey() {
    let mut h = Harness::new();
    h.add_agent("alice", json!({"departments": ["support"]}));
    let ticket = ticket_for_v1(&mut h);
    let anonymous = match run(
        &mut h,
        &agent("alice"),
        json!({"type": "create_ticket", "subject": "By mail", "requester": {"email": "x@example.com"}}),
    ) {
        Reply::TicketCreated { ticket_id, .. } => ticket_id,
        other => panic!("unexpected reply {other:?}"),
    };
    h.clear();
    for id in [ticket, anonymous] {
        run(
            &mut h,
            &agent("alice"),
            json!({"type": "set_ticket_status", "ticket_id": id, "status": "resolved"}),
        );
    }
    let (survey, target) = requested(&h, "v1")[0];
    assert_eq!(target, SurveyTarget::Ticket { ticket_id: ticket });
    let records = survey_records(&h);
    assert_eq!(records.len(), 1, "nobody to ask for the anonymous ticket");
    assert_eq!(records[0].survey_id, survey);
    assert_eq!(records[0].agent_id.as_deref(), Some("alice"));
}

#[test]
fn an_answer_reaches_the_rated_agent_and_online_supervisors_only() {
    let (mut h, session) = chatting(TenantSettings::default());
    h.online_agent("bob", json!({}));
    h.add_agent("watcher", json!({"role": "viewer"}));
    h.online("watcher");
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    let (survey, _) = requested(&h, "v1")[0];
    h.clear();
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "survey_id": survey, "rating": 2, "comment": "Slow"}),
    );
    let heard = |h: &Harness, who| {
        h.events_for(&who).into_iter().any(|e| {
            matches!(e, Event::CsatSubmitted { survey: s }
                if s.survey_id == survey && s.rating == Some(2) && s.agent_id.as_deref() == Some("alice"))
        })
    };
    assert!(heard(&h, staff("alice")), "the rated agent");
    assert!(heard(&h, staff("boss")), "an online supervisor");
    assert!(!heard(&h, staff("bob")), "another agent");
    assert!(!heard(&h, staff("watcher")), "a viewer");
    assert!(!heard(&h, visitor_r("v1")), "the visitor");
}

#[test]
fn an_expired_survey_can_no_longer_be_answered() {
    let settings = serde_json::from_value(json!({"timing": {"survey_expiry_ms": 60_000}})).unwrap();
    let (mut h, session) = chatting(settings);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    let (survey, _) = requested(&h, "v1")[0];
    h.advance(60_000);
    let error = refuse(&mut h, &visitor("v1"), answer(survey, 5));
    assert_eq!(error.code(), "not_found");
}

#[test]
fn a_survey_can_be_answered_until_it_expires() {
    let settings = serde_json::from_value(json!({"timing": {"survey_expiry_ms": 60_000}})).unwrap();
    let (mut h, session) = chatting(settings);
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    let (survey, _) = requested(&h, "v1")[0];
    h.advance(59_999);
    run(&mut h, &visitor("v1"), answer(survey, 5));
}

#[test]
fn with_ratings_turned_off_no_survey_is_sent_and_requests_are_refused() {
    let settings = serde_json::from_value(json!({"features": {"csat": false}})).unwrap();
    let (mut h, session) = chatting(settings);
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "request_csat", "session_id": session}),
    );
    assert_eq!(error.code(), "feature_disabled");
    assert_eq!(error.details()["feature"], "csat");
    run(
        &mut h,
        &agent("alice"),
        json!({"type": "resolve_session", "session_id": session}),
    );
    assert!(requested(&h, "v1").is_empty());
    assert!(survey_records(&h).is_empty());
    let error = refuse(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "session_id": session, "rating": 5}),
    );
    assert_eq!(error.code(), "feature_disabled");
    let ticket = ticket_for_v1(&mut h);
    let error = refuse(
        &mut h,
        &agent("alice"),
        json!({"type": "request_csat", "ticket_id": ticket}),
    );
    assert_eq!(error.code(), "feature_disabled");
}

#[test]
fn survey_records_are_written_when_sent_and_when_answered() {
    let (mut h, session) = resolved_chat();
    let sent = survey_records(&h);
    assert_eq!(sent.len(), 1);
    let survey = sent[0].survey_id;
    assert_eq!(
        sent[0].target,
        SurveyTarget::Session {
            session_id: session
        }
    );
    assert_eq!(sent[0].visitor_id.as_deref(), Some("v1"));
    assert_eq!(sent[0].agent_id.as_deref(), Some("alice"));
    assert_eq!(sent[0].sent_at.0, h.now);
    assert_eq!((sent[0].rating, sent[0].answered_at), (None, None));
    h.now += 30_000;
    h.clear();
    run(
        &mut h,
        &visitor("v1"),
        json!({"type": "submit_csat", "survey_id": survey, "rating": 5, "comment": "Great"}),
    );
    let answered = survey_records(&h);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].survey_id, survey);
    assert_eq!(answered[0].rating, Some(5));
    assert_eq!(answered[0].comment.as_deref(), Some("Great"));
    assert_eq!(answered[0].answered_at.map(|t| t.0), Some(h.now));
    assert_eq!(answered[0].sent_at, sent[0].sent_at);
}

#[test]
fn staff_cannot_answer_a_survey_for_the_visitor() {
    let (mut h, _) = resolved_chat();
    let (survey, _) = requested(&h, "v1")[0];
    for who in [
        agent("alice"),
        supervisor("boss"),
        Actor::new(TENANT, "host", Role::System),
    ] {
        let error = refuse(&mut h, &who, answer(survey, 5));
        assert_eq!(error.code(), "forbidden", "{who:?}");
    }
}
