//! The walk (offset spans, week skipping, clipping) checked against a plain reference: every
//! date's intervals resolved one by one, merged, and searched.

use serde_json::{Value, json};

use super::civil::{DAY_SECONDS, civil_from_days};
use super::resolve::Resolver;
use super::*;

/// Small deterministic generator, so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + i64::try_from(self.below(u64::try_from(high - low).unwrap())).unwrap()
    }
}

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
    "UTC",
];

/// 2025-01-01 as a day number; the random dates and instants lie in the years after it.
const FIRST_DAY: i64 = 20_089;
const SPAN_DAYS: i64 = 3 * 365;

fn clock(minute: i64) -> String {
    let minute = minute % 1440;
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Up to three non-overlapping intervals, the last possibly running past midnight.
fn random_day(rng: &mut Rng) -> Vec<Value> {
    let mut intervals = Vec::new();
    let mut minute = 0;
    for _ in 0..rng.below(4) {
        // Times on the half hour land inside skipped and repeated hours now and then.
        let start = minute + rng.range(0, 12) * 30;
        if start >= 1440 {
            break;
        }
        let end = start + rng.range(1, 40) * 30;
        let end = if end > 1440 && rng.below(2) == 0 {
            1440
        } else {
            end.min(start + 1439)
        };
        let shown_end = if end == 1440 {
            "24:00".to_owned()
        } else {
            clock(end)
        };
        intervals.push(json!({"start": clock(start), "end": shown_end}));
        if end >= 1440 {
            break;
        }
        minute = end;
    }
    intervals
}

fn random_calendar(rng: &mut Rng) -> Calendar {
    let zone = ZONES[usize::try_from(rng.below(ZONES.len() as u64)).unwrap()];
    let mut weekly = serde_json::Map::new();
    for name in [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ] {
        if rng.below(5) > 0 {
            weekly.insert(name.to_owned(), Value::Array(random_day(rng)));
        }
    }
    let mut days: Vec<i64> = (0..rng.below(40))
        .map(|_| FIRST_DAY + rng.range(0, SPAN_DAYS))
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut holidays = Vec::new();
    let mut special_days = Vec::new();
    for day in days {
        if rng.below(2) == 0 {
            holidays.push(json!({"date": date(day)}));
        } else {
            special_days.push(json!({"date": date(day), "hours": random_day(rng)}));
        }
    }
    let hours: BusinessHours = serde_json::from_value(json!({
        "time_zone": zone, "weekly": weekly, "holidays": holidays, "special_days": special_days
    }))
    .unwrap();
    Calendar::compile(&hours).unwrap()
}

/// Open spans of the dates `[first, last]`, merged.
fn reference_spans(calendar: &Calendar, first: i64, last: i64) -> Vec<(i64, i64)> {
    let resolver = Resolver::new(&calendar.zone, first * DAY_SECONDS);
    let mut raw = Vec::new();
    let mut hint = 0;
    for day in first..=last {
        for &(start, end) in calendar.rules.day_slots(day, &mut hint) {
            let local = day * DAY_SECONDS;
            let open = resolver.resolve_near_transition(local + i64::from(start) * 60) * 1000;
            let close = resolver.resolve_near_transition(local + i64::from(end) * 60) * 1000;
            if close > open {
                raw.push((open, close));
            }
        }
    }
    raw.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (open, close) in raw {
        match merged.last_mut() {
            Some(last) if open <= last.1 => last.1 = last.1.max(close),
            _ => merged.push((open, close)),
        }
    }
    merged
}

struct Reference {
    spans: Vec<(i64, i64)>,
}

impl Reference {
    fn is_open(&self, t: i64) -> bool {
        self.spans
            .iter()
            .any(|&(open, close)| open <= t && t < close)
    }

    fn next_open(&self, t: i64) -> Option<i64> {
        let found = self
            .spans
            .iter()
            .find(|&&(_, close)| close > t)
            .map(|&(open, _)| open.max(t))?;
        (found - t <= HORIZON).then_some(found)
    }

    fn between(&self, from: i64, to: i64) -> i64 {
        self.spans
            .iter()
            .map(|&(open, close)| (close.min(to) - open.max(from)).max(0))
            .sum()
    }

    fn add(&self, start: i64, ms: i64) -> Option<i64> {
        let mut remaining = ms;
        for &(open, close) in &self.spans {
            if close <= start {
                continue;
            }
            let open = open.max(start);
            if remaining <= close - open {
                let due = open + remaining;
                return (due - start <= HORIZON).then_some(due);
            }
            remaining -= close - open;
        }
        None
    }
}

#[test]
fn the_walk_agrees_with_the_reference_on_random_calendars() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..300 {
        let calendar = random_calendar(&mut rng);
        // The reference covers the random dates with room on both sides; queries stay within
        // a year of the start so that nothing depends on dates it does not cover.
        let reference = Reference {
            spans: reference_spans(&calendar, FIRST_DAY - 10, FIRST_DAY + SPAN_DAYS + 1200),
        };
        for _ in 0..40 {
            let mut t = rng.range(FIRST_DAY, FIRST_DAY + SPAN_DAYS) * DAY_SECONDS * 1000
                + rng.range(0, DAY_SECONDS * 1000);
            if rng.below(3) == 0 {
                // On a whole minute, to hit openings and closings exactly.
                t -= t.rem_euclid(60_000);
            }
            let context = format!("round {round}, zone {:?}, t {t}", calendar.zone.iana_name());
            assert_eq!(
                calendar.is_open(Timestamp(t)),
                reference.is_open(t),
                "{context}"
            );
            assert_eq!(
                calendar.next_open(Timestamp(t)).map(|t| t.0),
                reference.next_open(t),
                "{context}"
            );
            let span = rng.range(0, 400 * DAY_SECONDS * 1000);
            assert_eq!(
                calendar.business_time_between(Timestamp(t), Timestamp(t + span)),
                u64::try_from(reference.between(t, t + span)).unwrap(),
                "{context}, span {span}"
            );
            let ms = match rng.below(4) {
                0 => 0,
                1 => rng.range(0, 4 * 3_600_000),
                2 => rng.range(0, 40) * 3_600_000,
                _ => rng.range(0, 2_000) * 3_600_000,
            };
            let due = calendar.add_business_time(Timestamp(t), u64::try_from(ms).unwrap());
            assert_eq!(due.map(|t| t.0), reference.add(t, ms), "{context}, ms {ms}");
            if let Some(due) = due {
                let counted = calendar.business_time_between(Timestamp(t), due);
                assert_eq!(counted, u64::try_from(ms).unwrap(), "{context}, ms {ms}");
            }
        }
    }
}

#[test]
fn extreme_instants_neither_panic_nor_open() {
    let calendar = Calendar::compile(
        &serde_json::from_value(json!({"time_zone": "Europe/Berlin", "weekly": {
            "monday": {"start": "00:00", "end": "24:00"},
            "sunday": {"start": "22:00", "end": "06:00"}}}))
        .unwrap(),
    )
    .unwrap();
    for t in [
        i64::MIN,
        i64::MIN + 1,
        EARLIEST_MS - 1,
        EARLIEST_MS,
        EARLIEST_MS + 1,
        -1,
        0,
        LATEST_MS - HORIZON - 1,
        LATEST_MS - 1,
        LATEST_MS,
        i64::MAX - 1,
        i64::MAX,
    ] {
        let _ = calendar.is_open(Timestamp(t));
        let _ = calendar.next_open(Timestamp(t));
        let _ = calendar.add_business_time(Timestamp(t), u64::MAX);
        let _ = calendar.add_business_time(Timestamp(t), HORIZON_MS);
        let _ = calendar.add_business_time(Timestamp(t), 3_600_000);
        let _ = calendar.business_time_between(Timestamp(t), Timestamp(i64::MAX));
        let _ = calendar.business_time_between(Timestamp(i64::MIN), Timestamp(t));
    }
    assert!(!calendar.is_open(Timestamp(i64::MIN)));
    assert!(!calendar.is_open(Timestamp(i64::MAX)));
    assert_eq!(calendar.next_open(Timestamp(i64::MIN)), None);
    assert_eq!(calendar.next_open(Timestamp(i64::MAX)), None);
    assert_eq!(calendar.add_business_time(Timestamp(i64::MAX), 0), None);
    // Everything handled, 8,000 years of it, still answers (by skipping weeks).
    let total = calendar.business_time_between(Timestamp(i64::MIN), Timestamp(i64::MAX));
    assert!(total > 0);
}

#[test]
fn week_skipping_matches_walking_every_date() {
    let mut rng = Rng(0x0dd_ba11_5eed_0002);
    for _ in 0..200 {
        let calendar = random_calendar(&mut rng);
        let from = rng.range(FIRST_DAY, FIRST_DAY + SPAN_DAYS) * DAY_SECONDS * 1000;
        let to = from + rng.range(0, 800 * DAY_SECONDS * 1000);
        let mut walker = Walker::new(&calendar, from);
        let mut total = 0;
        loop {
            // No skipping at all: every date is loaded.
            match walker.step(to, i64::MIN) {
                Step::Open(open, close) if open < to => total += close.min(to) - open,
                Step::Week(_) => unreachable!("skipping was not allowed"),
                Step::Open(..) | Step::End => break,
            }
        }
        assert_eq!(
            calendar.business_time_between(Timestamp(from), Timestamp(to)),
            u64::try_from(total).unwrap()
        );
    }
}
