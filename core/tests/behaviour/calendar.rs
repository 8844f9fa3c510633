//! Business-hours calendars seen from outside: which instants are open with holidays, special
//! days, intervals past midnight and daylight-saving changes, how the same rules drive
//! business-time arithmetic, and which configurations are refused.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_core::CommandError;
use switchboard_core::calendar::{BusinessHours, Calendar, HORIZON_MS, Holiday, SpecialDay};
use switchboard_core::time::Timestamp;

fn calendar(value: Value) -> Calendar {
    let hours: BusinessHours = serde_json::from_value(value).expect("business hours JSON");
    Calendar::compile(&hours).expect("valid business hours")
}

fn refused(value: Value) -> CommandError {
    let hours: BusinessHours = serde_json::from_value(value).expect("business hours JSON");
    Calendar::compile(&hours).expect_err("refused")
}

/// An RFC 3339 instant with its offset, such as "2026-03-29T03:00:00+02:00".
fn at(text: &str) -> Timestamp {
    let instant: jiff::Timestamp = text.parse().expect(text);
    Timestamp(instant.as_millisecond())
}

const HOUR: u64 = 3_600_000;

fn office_berlin() -> Value {
    json!({
        "time_zone": "Europe/Berlin",
        "weekly": {
            "monday": {"start": "09:00", "end": "17:00"},
            "tuesday": {"start": "09:00", "end": "17:00"},
            "wednesday": {"start": "09:00", "end": "17:00"},
            "thursday": {"start": "09:00", "end": "17:00"},
            "friday": [{"start": "09:00", "end": "12:00"}, {"start": "22:00", "end": "02:00"}]
        }
    })
}

fn assert_open(calendar: &Calendar, cases: &[(&str, bool)]) {
    for &(instant, expected) in cases {
        assert_eq!(
            calendar.is_open(at(instant)),
            expected,
            "open at {instant}?"
        );
        // The other answers agree with is_open at every checked instant.
        assert_eq!(
            calendar.next_open(at(instant)) == Some(at(instant)),
            expected,
            "next_open at {instant}"
        );
    }
}

#[test]
fn the_last_millisecond_before_closing_is_open_and_closing_itself_is_not() {
    let office = calendar(office_berlin());
    assert_open(
        &office,
        &[
            // Tuesday 2026-02-17, Berlin is UTC+1.
            ("2026-02-17T08:59:59.999+01:00", false),
            ("2026-02-17T09:00:00+01:00", true),
            ("2026-02-17T16:59:00+01:00", true),
            ("2026-02-17T16:59:59.999+01:00", true),
            ("2026-02-17T17:00:00+01:00", false),
            // Saturday and Sunday have no hours.
            ("2026-02-21T12:00:00+01:00", false),
            ("2026-02-22T12:00:00+01:00", false),
        ],
    );
}

#[test]
fn an_interval_past_midnight_belongs_to_the_date_it_starts_on() {
    let mut hours = office_berlin();
    hours["holidays"] = json!([
        // Saturday: the Friday night interval still runs into it.
        {"date": "2026-02-21", "name": "Saturday holiday"},
        // Friday: its night interval goes too.
        {"date": "2026-02-27"}
    ]);
    let office = calendar(hours);
    assert_open(
        &office,
        &[
            ("2026-02-20T21:59:59+01:00", false),
            ("2026-02-20T22:00:00+01:00", true),
            ("2026-02-21T00:00:00+01:00", true),
            ("2026-02-21T01:59:59.999+01:00", true),
            ("2026-02-21T02:00:00+01:00", false),
            // Friday the 27th is a holiday: no morning, no night, nothing on Saturday.
            ("2026-02-27T10:00:00+01:00", false),
            ("2026-02-27T23:00:00+01:00", false),
            ("2026-02-28T01:00:00+01:00", false),
            // Friday the 13th of March is an ordinary Friday again.
            ("2026-03-14T01:00:00+01:00", true),
        ],
    );
    assert_eq!(
        office.business_time_between(
            at("2026-02-20T00:00:00+01:00"),
            at("2026-02-22T00:00:00+01:00")
        ),
        7 * HOUR,
        "Friday 09:00-12:00 and 22:00-02:00"
    );
}

#[test]
fn special_days_replace_the_weekday_hours() {
    let mut hours = office_berlin();
    hours["special_days"] = json!([
        {"date": "2026-12-24", "name": "Christmas Eve", "hours": [{"start": "09:00", "end": "12:00"}]},
        {"date": "2026-12-27", "name": "Sunday sale", "hours": [{"start": "11:00", "end": "16:00"}]},
        {"date": "2026-12-31", "hours": []},
        {"date": "2026-12-18", "hours": [{"start": "20:00", "end": "03:00"}]}
    ]);
    let office = calendar(hours);
    assert_open(
        &office,
        &[
            ("2026-12-24T11:59:59+01:00", true),
            ("2026-12-24T12:00:00+01:00", false),
            ("2026-12-24T15:00:00+01:00", false),
            // A Sunday with hours.
            ("2026-12-27T10:59:00+01:00", false),
            ("2026-12-27T11:00:00+01:00", true),
            ("2026-12-27T15:59:00+01:00", true),
            // Empty hours: closed.
            ("2026-12-31T10:00:00+01:00", false),
            // A Friday whose hours are replaced as a whole, night included.
            ("2026-12-18T10:00:00+01:00", false),
            ("2026-12-18T20:00:00+01:00", true),
            ("2026-12-19T02:59:00+01:00", true),
            ("2026-12-19T03:00:00+01:00", false),
        ],
    );
}

#[test]
fn a_night_interval_is_three_hours_when_clocks_go_forward_and_five_when_they_go_back() {
    let nightly = calendar(json!({
        "time_zone": "Europe/Berlin",
        "weekly": {"sunday": {"start": "01:00", "end": "05:00"}}
    }));
    let spring = nightly.business_time_between(
        at("2026-03-29T00:00:00+01:00"),
        at("2026-03-30T00:00:00+02:00"),
    );
    assert_eq!(spring, 3 * HOUR);
    let autumn = nightly.business_time_between(
        at("2026-10-25T00:00:00+02:00"),
        at("2026-10-26T00:00:00+01:00"),
    );
    assert_eq!(autumn, 5 * HOUR);
    assert_open(
        &nightly,
        &[
            ("2026-03-29T01:59:59+01:00", true),
            // 02:00 CET does not exist; the next instant reads 03:00 CEST.
            ("2026-03-29T03:00:00+02:00", true),
            ("2026-03-29T04:59:59+02:00", true),
            ("2026-03-29T05:00:00+02:00", false),
            // Both passes through 02:00-03:00 on the night clocks go back are open.
            ("2026-10-25T02:30:00+02:00", true),
            ("2026-10-25T02:30:00+01:00", true),
            ("2026-10-25T04:59:59+01:00", true),
            ("2026-10-25T05:00:00+01:00", false),
        ],
    );
}

#[test]
fn a_boundary_inside_the_skipped_hour_falls_on_the_jump() {
    // 02:30 does not exist on 2026-03-29 in Berlin: the interval opens when the clocks jump
    // from 02:00 CET to 03:00 CEST (01:00 UTC), and the open time is one hour.
    let skipped = calendar(json!({
        "time_zone": "Europe/Berlin",
        "weekly": {"sunday": {"start": "02:30", "end": "04:00"}}
    }));
    assert_open(
        &skipped,
        &[
            ("2026-03-29T01:59:59.999+01:00", false),
            ("2026-03-29T03:00:00+02:00", true),
            ("2026-03-29T03:59:59.999+02:00", true),
            ("2026-03-29T04:00:00+02:00", false),
        ],
    );
    assert_eq!(
        skipped.next_open(at("2026-03-28T12:00:00+01:00")),
        Some(at("2026-03-29T01:00:00Z"))
    );
    assert_eq!(
        skipped.business_time_between(at("2026-03-29T00:00:00Z"), at("2026-03-30T00:00:00Z")),
        HOUR
    );
    // An interval entirely inside the skipped hour has no open time that night.
    let vanished = calendar(json!({
        "time_zone": "Europe/Berlin",
        "weekly": {"sunday": {"start": "02:10", "end": "02:50"}}
    }));
    assert_eq!(
        vanished.business_time_between(at("2026-03-29T00:00:00Z"), at("2026-03-30T00:00:00Z")),
        0
    );
    assert_eq!(
        vanished.next_open(at("2026-03-29T00:00:00Z")),
        Some(at("2026-04-05T02:10:00+02:00"))
    );
}

#[test]
fn a_boundary_inside_the_repeated_hour_is_its_first_pass() {
    // New York repeats 01:00-02:00 on 2026-11-01 (EDT, then EST). A closing at 01:30 is the
    // first 01:30 (EDT); the second pass through 01:00-01:30 (EST) is closed.
    let early = calendar(json!({
        "time_zone": "America/New_York",
        "weekly": {"sunday": {"start": "00:00", "end": "01:30"}}
    }));
    assert_open(
        &early,
        &[
            ("2026-11-01T01:29:59-04:00", true),
            ("2026-11-01T01:30:00-04:00", false),
            ("2026-11-01T01:15:00-05:00", false),
        ],
    );
    assert_eq!(
        early.business_time_between(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z")),
        HOUR + HOUR / 2
    );
    // The interval opening at 01:30 opens at the first 01:30 too, so the two hand over
    // without a gap and together cover the whole night: 00:00 EDT to 03:00 EST is 4 hours.
    let both = calendar(json!({
        "time_zone": "America/New_York",
        "weekly": {"sunday": [{"start": "00:00", "end": "01:30"}, {"start": "01:30", "end": "03:00"}]}
    }));
    assert_open(
        &both,
        &[
            ("2026-11-01T01:30:00-04:00", true),
            ("2026-11-01T01:15:00-05:00", true),
            ("2026-11-01T02:59:59-05:00", true),
            ("2026-11-01T03:00:00-05:00", false),
        ],
    );
    assert_eq!(
        both.business_time_between(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z")),
        4 * HOUR
    );
    assert_eq!(
        both.add_business_time(at("2026-11-01T00:00:00-04:00"), 2 * HOUR),
        Some(at("2026-11-01T01:00:00-05:00")),
        "two hours after midnight the clock reads 01:00 for the second time"
    );
}

#[test]
fn southern_hemisphere_changes_run_the_other_way() {
    let sunday = calendar(json!({
        "time_zone": "Australia/Sydney",
        "weekly": {"sunday": {"start": "00:00", "end": "24:00"}}
    }));
    // 2026-04-05: daylight saving ends in Sydney, a 25-hour Sunday.
    assert_eq!(
        sunday.business_time_between(
            at("2026-04-04T00:00:00+11:00"),
            at("2026-04-07T00:00:00+10:00")
        ),
        25 * HOUR
    );
    // 2026-10-04: daylight saving starts, a 23-hour Sunday.
    assert_eq!(
        sunday.business_time_between(
            at("2026-10-03T00:00:00+10:00"),
            at("2026-10-06T00:00:00+11:00")
        ),
        23 * HOUR
    );
}

#[test]
fn next_open_and_the_horizon() {
    let office = calendar(office_berlin());
    assert_eq!(
        office.next_open(at("2026-02-21T12:00:00+01:00")),
        Some(at("2026-02-23T09:00:00+01:00"))
    );
    // Three years are 1,096 days.
    assert_eq!(HORIZON_MS, 1_096 * 24 * HOUR);
    let rare = calendar(json!({
        "time_zone": "UTC",
        "weekly": {},
        "special_days": [{"date": "2029-01-01", "hours": [{"start": "00:00", "end": "01:00"}]}]
    }));
    assert_eq!(
        rare.next_open(at("2026-01-01T00:00:00Z")),
        Some(at("2029-01-01T00:00:00Z")),
        "exactly at the horizon"
    );
    assert_eq!(rare.next_open(at("2025-12-31T23:59:59.999Z")), None);
    let never = calendar(json!({"time_zone": "UTC", "weekly": {}}));
    assert_eq!(never.next_open(at("2026-01-01T00:00:00Z")), None);
    assert_eq!(never.add_business_time(at("2026-01-01T00:00:00Z"), 0), None);
    assert_eq!(
        never.business_time_between(at("2026-01-01T00:00:00Z"), at("2036-01-01T00:00:00Z")),
        0
    );
}

#[test]
fn business_time_between_is_the_inverse_of_adding() {
    let office = calendar(office_berlin());
    let start = at("2026-02-18T15:45:00+01:00");
    for ms in [0, 1, HOUR, 5 * HOUR + 17, 40 * HOUR, 400 * HOUR] {
        let due = office
            .add_business_time(start, ms)
            .expect("within the horizon");
        assert_eq!(office.business_time_between(start, due), ms, "{ms} ms");
    }
    assert_eq!(
        office.business_time_between(at("2026-02-18T12:00:00Z"), at("2026-02-18T11:00:00Z")),
        0
    );
}

#[test]
fn the_configuration_types_are_plain_data() {
    let holiday = Holiday {
        date: "2026-05-01".into(),
        name: Some("Labour Day".into()),
    };
    let special = SpecialDay {
        date: "2026-05-02".into(),
        name: None,
        hours: Vec::new(),
    };
    let hours = BusinessHours {
        time_zone: "Europe/Berlin".into(),
        weekly: Default::default(),
        holidays: vec![holiday],
        special_days: vec![special],
    };
    let value = serde_json::to_value(&hours).unwrap();
    assert_eq!(
        value,
        json!({"time_zone": "Europe/Berlin", "weekly": {},
            "holidays": [{"date": "2026-05-01", "name": "Labour Day"}],
            "special_days": [{"date": "2026-05-02", "hours": []}]})
    );
    assert!(Calendar::compile(&hours).is_ok());
}

fn assert_refused(value: Value, code: &str, details: Value) {
    let error = refused(value.clone());
    assert_eq!(error.code(), code, "{value}");
    for (key, expected) in details.as_object().unwrap() {
        assert_eq!(&error.details()[key], expected, "{key} of {value}");
    }
}

#[test]
fn invalid_configurations_are_refused_by_code_and_field() {
    let day = json!({"start": "09:00", "end": "17:00"});
    let cases = [
        (
            json!({"time_zone": "Mars/Olympus", "weekly": {}}),
            "invalid_input",
            json!({"field": "time_zone"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {"monday": {"start": "9:00", "end": "17:00"}}}),
            "invalid_input",
            json!({"field": "start"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {"monday": {"start": "09:00", "end": "25:00"}}}),
            "invalid_input",
            json!({"field": "end"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {"monday": {"start": "09:00", "end": "09:00"}}}),
            "invalid_input",
            json!({"field": "end"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {"monday": [
                {"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "17:00"}]}}),
            "invalid_input",
            json!({"field": "weekly"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {}, "special_days": [{"date": "2026-06-01", "hours": [
                {"start": "22:00", "end": "06:00"}, {"start": "23:00", "end": "23:30"}]}]}),
            "invalid_input",
            json!({"field": "hours"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {}, "holidays": [{"date": "2026-02-30"}]}),
            "invalid_input",
            json!({"field": "date"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {}, "special_days": [{"date": "01.05.2026", "hours": [day]}]}),
            "invalid_input",
            json!({"field": "date"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {},
                "holidays": [{"date": "2026-05-01"}],
                "special_days": [{"date": "2026-05-01", "hours": [day]}]}),
            "invalid_input",
            json!({"field": "date"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {},
                "special_days": [{"date": "2026-05-01", "hours": []}, {"date": "2026-05-01", "hours": [day]}]}),
            "invalid_input",
            json!({"field": "date"}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {"monday": vec![day.clone(); 17]}}),
            "limit_reached",
            json!({"limit": "intervals_per_day", "max": 16}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {},
                "holidays": (0..1_001).map(|n| json!({"date": format!("{}-01-01", 2000 + n)})).collect::<Vec<_>>()}),
            "limit_reached",
            json!({"limit": "holidays", "max": 1000}),
        ),
        (
            json!({"time_zone": "UTC", "weekly": {},
                "special_days": (0..1_001).map(|n| json!({"date": format!("{}-01-01", 2000 + n), "hours": []})).collect::<Vec<_>>()}),
            "limit_reached",
            json!({"limit": "special_days", "max": 1000}),
        ),
    ];
    for (value, code, details) in cases {
        assert_refused(value, code, details);
    }
}

proptest! {
    #[test]
    fn no_instant_or_amount_panics_and_the_answers_agree(
        t in any::<i64>(),
        near in -4_000_000_000_000i64..4_000_000_000_000,
        ms in prop_oneof![any::<u64>(), 0..100 * HOUR],
    ) {
        let office = calendar(office_berlin());
        for t in [t, near] {
            let open = office.is_open(Timestamp(t));
            let next = office.next_open(Timestamp(t));
            prop_assert_eq!(open, next == Some(Timestamp(t)));
            if let Some(next) = next {
                prop_assert!(next.0 >= t && office.is_open(next));
            }
            if let Some(due) = office.add_business_time(Timestamp(t), ms) {
                prop_assert!(due.0 >= t);
                prop_assert_eq!(office.business_time_between(Timestamp(t), due), ms);
            }
            let _ = office.business_time_between(Timestamp(t), Timestamp(t.saturating_add(near.abs())));
        }
    }
}
