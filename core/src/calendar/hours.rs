//! Business hours as configured, and their checked, compact form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::civil::{civil_from_days, days_from_civil, weekday_index};
use crate::error::CommandError;

/// At most this many holidays per calendar.
pub(super) const MAX_HOLIDAYS: usize = 1_000;
/// At most this many special days per calendar.
pub(super) const MAX_SPECIAL_DAYS: usize = 1_000;
/// At most this many opening intervals on one day (weekly or special).
pub(super) const MAX_INTERVALS_PER_DAY: usize = 16;

const MINUTES_PER_DAY: u16 = 24 * 60;
const MINUTES_PER_WEEK: usize = 7 * 24 * 60;

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    fn index(self) -> usize {
        self as usize
    }
}

/// Opening time to closing time, local wall clock, `"HH:MM"`. A closing time earlier than the
/// opening time runs past midnight into the next day; `"24:00"` closes at midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Opening time.
    pub start: String,
    /// Closing time (exclusive: open until the last minute before it).
    pub end: String,
}

/// One interval or several for a day; a single object is accepted as written in widget
/// settings (`{"monday": {"start": "09:00", "end": "17:00"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DayHours {
    /// Several intervals.
    Many(Vec<Interval>),
    /// One interval.
    One(Interval),
}

impl DayHours {
    fn intervals(&self) -> &[Interval] {
        match self {
            DayHours::Many(list) => list,
            DayHours::One(one) => std::slice::from_ref(one),
        }
    }
}

/// A local date on which the calendar is closed all day.
///
/// An interval belongs to the date it starts on: a holiday removes that date's intervals,
/// including one running past midnight, and leaves the previous evening's interval running
/// into the holiday untouched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// Local date, `"YYYY-MM-DD"`.
    pub date: String,
    /// Label for people, such as "New Year's Day".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A local date with its own opening intervals instead of its weekday's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    /// Local date, `"YYYY-MM-DD"`.
    pub date: String,
    /// Label for people, such as "Christmas Eve".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The intervals starting on that date; empty: closed.
    pub hours: Vec<Interval>,
}

/// Weekly business hours in a time zone, with dated exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// IANA time zone name, such as "Europe/Berlin".
    pub time_zone: String,
    /// Opening intervals per day; a missing day is closed.
    pub weekly: BTreeMap<Weekday, DayHours>,
    /// Dates closed all day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<Holiday>,
    /// Dates with their own hours. A date may appear once across holidays and special days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_days: Vec<SpecialDay>,
}

/// Opening minute to closing minute after local midnight of the date the interval starts on;
/// the closing minute exceeds 1440 for intervals that run into the next day.
pub(super) type Slot = (u16, u16);

/// A dated exception: the day number and where its slots are (none for a holiday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Override {
    pub(super) day: i64,
    first: u32,
    len: u32,
}

/// Business hours checked and laid out for the arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rules {
    /// All slots: each weekday's and each special day's, sorted by opening within a day.
    slots: Vec<Slot>,
    /// Where each weekday's slots are (Monday first).
    weekly: [(u32, u32); 7],
    /// Dated exceptions sorted by day.
    pub(super) overrides: Vec<Override>,
    /// Open time in any seven consecutive days of the weekly pattern at a fixed UTC offset.
    pub(super) week_open_ms: i64,
    /// Latest closing minute of each weekday's pattern.
    pub(super) last_close: [Option<u16>; 7],
    /// Whether any date can be open at all.
    pub(super) ever_open: bool,
}

impl Rules {
    /// Parses and checks business hours (everything except the time zone).
    pub(super) fn parse(hours: &BusinessHours) -> Result<Rules, CommandError> {
        if hours.holidays.len() > MAX_HOLIDAYS {
            return Err(CommandError::LimitReached {
                limit: "holidays",
                max: MAX_HOLIDAYS as u64,
            });
        }
        if hours.special_days.len() > MAX_SPECIAL_DAYS {
            return Err(CommandError::LimitReached {
                limit: "special_days",
                max: MAX_SPECIAL_DAYS as u64,
            });
        }
        let mut slots = Vec::new();
        let mut weekly = [(0, 0); 7];
        for (day, day_hours) in &hours.weekly {
            weekly[day.index()] = push_day(&mut slots, day_hours.intervals(), "weekly")?;
        }
        let mut overrides = Vec::with_capacity(hours.holidays.len() + hours.special_days.len());
        for holiday in &hours.holidays {
            overrides.push(Override {
                day: parse_date(&holiday.date)?,
                first: 0,
                len: 0,
            });
        }
        for special in &hours.special_days {
            let day = parse_date(&special.date)?;
            let (first, len) = push_day(&mut slots, &special.hours, "hours")?;
            overrides.push(Override { day, first, len });
        }
        overrides.sort_unstable_by_key(|o| o.day);
        if let Some(pair) = overrides.windows(2).find(|pair| pair[0].day == pair[1].day) {
            let (year, month, day) = civil_from_days(pair[0].day);
            return Err(CommandError::invalid(
                "date",
                format!("{year:04}-{month:02}-{day:02} is listed more than once"),
            ));
        }
        let mut rules = Rules {
            slots,
            weekly,
            overrides,
            week_open_ms: 0,
            last_close: [None; 7],
            ever_open: false,
        };
        rules.ever_open = !rules.slots.is_empty();
        rules.week_open_ms = rules.measure_week();
        rules.last_close =
            std::array::from_fn(|weekday| rules.weekly_slots(weekday).iter().map(|s| s.1).max());
        Ok(rules)
    }

    fn weekly_slots(&self, weekday: usize) -> &[Slot] {
        let (first, len) = self.weekly[weekday];
        self.range(first, len)
    }

    fn range(&self, first: u32, len: u32) -> &[Slot] {
        let first = first as usize;
        self.slots
            .get(first..first + len as usize)
            .unwrap_or_default()
    }

    /// The slots of local day `day`. `hint` is an index into the overrides at or before the
    /// first one on or after `day`; it is advanced so that a walk forward costs O(1) per day.
    pub(super) fn day_slots(&self, day: i64, hint: &mut usize) -> &[Slot] {
        while self.overrides.get(*hint).is_some_and(|o| o.day < day) {
            *hint += 1;
        }
        match self.overrides.get(*hint) {
            Some(o) if o.day == day => self.range(o.first, o.len),
            _ => self.weekly_slots(weekday_index(day)),
        }
    }

    /// Whether no date in `[first, last]` has an exception.
    pub(super) fn no_overrides_between(&self, first: i64, last: i64) -> bool {
        let index = self.overrides.partition_point(|o| o.day < first);
        self.overrides.get(index).is_none_or(|o| o.day > last)
    }

    /// Open minutes of the weekly pattern on the seven-day circle, times 60,000: intervals
    /// of different days may overlap past midnight, so this is the measure of their union.
    fn measure_week(&self) -> i64 {
        let mut open = vec![false; MINUTES_PER_WEEK];
        for weekday in 0..7 {
            for &(start, end) in self.weekly_slots(weekday) {
                for minute in start..end {
                    open[(weekday * usize::from(MINUTES_PER_DAY) + usize::from(minute))
                        % MINUTES_PER_WEEK] = true;
                }
            }
        }
        let minutes = open.iter().filter(|&&minute| minute).count();
        i64::try_from(minutes).unwrap_or(0) * 60_000
    }
}

/// Checks one day's intervals and appends them to `slots`, sorted by opening.
fn push_day(
    slots: &mut Vec<Slot>,
    intervals: &[Interval],
    field: &'static str,
) -> Result<(u32, u32), CommandError> {
    if intervals.len() > MAX_INTERVALS_PER_DAY {
        return Err(CommandError::LimitReached {
            limit: "intervals_per_day",
            max: MAX_INTERVALS_PER_DAY as u64,
        });
    }
    let first = slots.len();
    for interval in intervals {
        slots.push(parse_interval(interval)?);
    }
    let day = &mut slots[first..];
    day.sort_unstable();
    if let Some(pair) = day.windows(2).find(|pair| pair[1].0 < pair[0].1) {
        return Err(CommandError::invalid(
            field,
            format!(
                "intervals of one day overlap: {} and {}",
                clock(pair[0]),
                clock(pair[1])
            ),
        ));
    }
    // Both fit: the slot list holds at most 16 intervals for each of 7 weekdays and 1,000
    // special days.
    let len = u32::try_from(slots.len() - first).unwrap_or(0);
    Ok((u32::try_from(first).unwrap_or(0), len))
}

fn parse_interval(interval: &Interval) -> Result<Slot, CommandError> {
    let start = parse_minute("start", &interval.start)?;
    let mut end = parse_minute("end", &interval.end)?;
    if start == MINUTES_PER_DAY {
        return Err(CommandError::invalid(
            "start",
            "24:00 is not an opening time",
        ));
    }
    if end == start {
        return Err(CommandError::invalid(
            "end",
            "an interval must not be empty",
        ));
    }
    if end < start {
        end += MINUTES_PER_DAY;
    }
    Ok((start, end))
}

fn clock((start, end): Slot) -> String {
    let end = end % MINUTES_PER_DAY;
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        start / 60,
        start % 60,
        end / 60,
        end % 60
    )
}

fn parse_minute(field: &'static str, text: &str) -> Result<u16, CommandError> {
    let invalid = || CommandError::invalid(field, format!("{text:?} is not a time \"HH:MM\""));
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(invalid());
    }
    let hours: u16 = hours.parse().map_err(|_| invalid())?;
    let minutes: u16 = minutes.parse().map_err(|_| invalid())?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

/// The day number of a `"YYYY-MM-DD"` date.
fn parse_date(text: &str) -> Result<i64, CommandError> {
    let invalid =
        || CommandError::invalid("date", format!("{text:?} is not a date \"YYYY-MM-DD\""));
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, &byte)| {
            if index == 4 || index == 7 {
                byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<i16>().map_err(|_| invalid());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let month = i8::try_from(month).map_err(|_| invalid())?;
    let day = i8::try_from(day).map_err(|_| invalid())?;
    // jiff knows month lengths and leap years.
    jiff::civil::Date::new(year, month, day).map_err(|_| invalid())?;
    Ok(days_from_civil(
        i64::from(year),
        i64::from(month),
        i64::from(day),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(value: serde_json::Value) -> Result<Rules, CommandError> {
        let hours: BusinessHours = serde_json::from_value(value).unwrap();
        Rules::parse(&hours)
    }

    fn error(value: serde_json::Value) -> (String, serde_json::Value) {
        let error = rules(value).unwrap_err();
        (error.code().to_owned(), error.details())
    }

    #[test]
    fn the_shape_without_exceptions_is_unchanged() {
        let text = r#"{"time_zone":"UTC","weekly":{"monday":{"start":"09:00","end":"17:00"}}}"#;
        let hours: BusinessHours = serde_json::from_str(text).unwrap();
        assert!(hours.holidays.is_empty() && hours.special_days.is_empty());
        assert_eq!(serde_json::to_string(&hours).unwrap(), text);
    }

    #[test]
    fn exceptions_round_trip_and_names_are_optional() {
        let value = json!({
            "time_zone": "UTC",
            "weekly": {},
            "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}, {"date": "2026-12-26"}],
            "special_days": [{"date": "2026-12-24", "hours": [{"start": "09:00", "end": "12:00"}]}]
        });
        let hours: BusinessHours = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(hours.holidays[1].name, None);
        assert_eq!(serde_json::to_value(&hours).unwrap(), value);
    }

    #[test]
    fn dates_parse_to_day_numbers() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2024-02-29").unwrap(), 19_782);
        assert_eq!(parse_date("1969-12-31").unwrap(), -1);
    }

    #[test]
    fn malformed_dates_are_refused() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-4-01",
            "26-04-01",
            "2026/04/01",
            "+026-04-01",
            "2026-04-01T00:00",
            "",
            "2026-0a-01",
        ] {
            let (code, details) =
                error(json!({"time_zone": "UTC", "weekly": {}, "holidays": [{"date": bad}]}));
            assert_eq!(
                (code.as_str(), &details["field"]),
                ("invalid_input", &json!("date")),
                "{bad}"
            );
            let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
                "special_days": [{"date": bad, "hours": []}]}));
            assert_eq!(
                (code.as_str(), &details["field"]),
                ("invalid_input", &json!("date")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_date_listed_twice_is_refused_across_both_lists() {
        let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
            "holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25", "name": "again"}]}));
        assert_eq!(
            (code.as_str(), &details["field"]),
            ("invalid_input", &json!("date"))
        );
        let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
            "holidays": [{"date": "2026-12-24"}],
            "special_days": [{"date": "2026-12-24", "hours": []}]}));
        assert_eq!(
            (code.as_str(), &details["field"]),
            ("invalid_input", &json!("date"))
        );
        assert!(details["reason"].as_str().unwrap().contains("2026-12-24"));
    }

    #[test]
    fn limits_on_exceptions_and_intervals() {
        let dates: Vec<String> = (0..1_001)
            .map(|n| {
                let (y, m, d) = civil_from_days(20_000 + n);
                format!("{y:04}-{m:02}-{d:02}")
            })
            .collect();
        let holidays: Vec<_> = dates.iter().map(|date| json!({"date": date})).collect();
        let (code, details) =
            error(json!({"time_zone": "UTC", "weekly": {}, "holidays": holidays}));
        assert_eq!(
            (code.as_str(), &details),
            ("limit_reached", &json!({"limit": "holidays", "max": 1000}))
        );
        assert!(
            rules(json!({"time_zone": "UTC", "weekly": {}, "holidays": holidays[..1000]})).is_ok()
        );

        let special: Vec<_> = dates
            .iter()
            .map(|date| json!({"date": date, "hours": []}))
            .collect();
        let (code, details) =
            error(json!({"time_zone": "UTC", "weekly": {}, "special_days": special}));
        assert_eq!(
            (code.as_str(), &details),
            (
                "limit_reached",
                &json!({"limit": "special_days", "max": 1000})
            )
        );
        assert!(
            rules(json!({"time_zone": "UTC", "weekly": {}, "special_days": special[..1000]}))
                .is_ok()
        );

        let many: Vec<_> = (0..17)
            .map(|h| json!({"start": format!("{h:02}:00"), "end": format!("{h:02}:30")}))
            .collect();
        let limit = json!({"limit": "intervals_per_day", "max": 16});
        let (code, details) = error(json!({"time_zone": "UTC", "weekly": {"monday": many}}));
        assert_eq!((code.as_str(), &details), ("limit_reached", &limit));
        let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
            "special_days": [{"date": "2026-01-01", "hours": many}]}));
        assert_eq!((code.as_str(), &details), ("limit_reached", &limit));
        assert!(rules(json!({"time_zone": "UTC", "weekly": {"monday": many[..16]}})).is_ok());
    }

    #[test]
    fn intervals_of_one_day_must_not_overlap() {
        for (day, field) in [
            (
                json!([{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]),
                "weekly",
            ),
            (
                json!([{"start": "22:00", "end": "02:00"}, {"start": "23:00", "end": "23:30"}]),
                "weekly",
            ),
            (
                json!([{"start": "09:00", "end": "12:00"}, {"start": "09:00", "end": "10:00"}]),
                "weekly",
            ),
        ] {
            let (code, details) = error(json!({"time_zone": "UTC", "weekly": {"friday": day}}));
            assert_eq!(
                (code.as_str(), &details["field"]),
                ("invalid_input", &json!(field)),
                "{day}"
            );
            let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
                "special_days": [{"date": "2026-01-01", "hours": day}]}));
            assert_eq!(
                (code.as_str(), &details["field"]),
                ("invalid_input", &json!("hours")),
                "{day}"
            );
        }
        // Touching is not overlapping, and listing order does not matter.
        let touching =
            json!([{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "13:00"}]);
        let parsed = rules(json!({"time_zone": "UTC", "weekly": {"friday": touching}})).unwrap();
        assert_eq!(parsed.weekly_slots(4), &[(540, 780), (780, 1020)]);
        // An evening interval may run into the next day's hours: they belong to different dates.
        assert!(
            rules(json!({"time_zone": "UTC", "weekly": {
            "friday": {"start": "22:00", "end": "02:00"},
            "saturday": {"start": "01:00", "end": "05:00"}}}))
            .is_ok()
        );
    }

    #[test]
    fn malformed_times_are_refused_by_field() {
        for (start, end, field) in [
            ("9:00", "17:00", "start"),
            ("09:00", "17:0", "end"),
            ("24:00", "02:00", "start"),
            ("09:00", "09:00", "end"),
            ("09:60", "10:00", "start"),
            ("09:00", "24:01", "end"),
            ("0900", "10:00", "start"),
        ] {
            let (code, details) = error(json!({"time_zone": "UTC", "weekly": {},
                "special_days": [{"date": "2026-01-01", "hours": [{"start": start, "end": end}]}]}));
            assert_eq!(
                (code.as_str(), &details["field"]),
                ("invalid_input", &json!(field)),
                "{start}-{end}"
            );
        }
    }

    #[test]
    fn the_weekly_measure_counts_overlaps_past_midnight_once() {
        let parsed = rules(json!({"time_zone": "UTC", "weekly": {
            "monday": {"start": "09:00", "end": "17:00"},
            "friday": {"start": "22:00", "end": "02:00"},
            "saturday": {"start": "01:00", "end": "05:00"},
            "sunday": {"start": "23:00", "end": "01:00"}}}))
        .unwrap();
        // 8 h Monday, 4 h Friday night, 3 h more on Saturday (01:00-02:00 counted once), and
        // 2 h from Sunday 23:00 into Monday 01:00, wrapping round the week.
        assert_eq!(parsed.week_open_ms, (8 + 4 + 3 + 2) * 3_600_000);
        let always = rules(json!({"time_zone": "UTC", "weekly": {
            "monday": {"start": "00:00", "end": "24:00"}, "tuesday": {"start": "00:00", "end": "24:00"},
            "wednesday": {"start": "00:00", "end": "24:00"}, "thursday": {"start": "00:00", "end": "24:00"},
            "friday": {"start": "00:00", "end": "24:00"}, "saturday": {"start": "00:00", "end": "24:00"},
            "sunday": {"start": "00:00", "end": "24:00"}}}))
        .unwrap();
        assert_eq!(always.week_open_ms, 7 * 86_400_000);
        assert_eq!(always.last_close, [Some(1440); 7]);
    }

    #[test]
    fn day_slots_prefer_the_dated_exception() {
        let parsed = rules(json!({"time_zone": "UTC",
            "weekly": {"thursday": {"start": "09:00", "end": "17:00"}},
            "holidays": [{"date": "1970-01-08"}],
            "special_days": [{"date": "1970-01-15", "hours": [{"start": "10:00", "end": "12:00"}]}]}))
        .unwrap();
        let mut hint = 0;
        assert_eq!(parsed.day_slots(0, &mut hint), &[(540, 1020)]);
        assert_eq!(parsed.day_slots(7, &mut hint), &[] as &[Slot]);
        assert_eq!(parsed.day_slots(14, &mut hint), &[(600, 720)]);
        assert_eq!(parsed.day_slots(21, &mut hint), &[(540, 1020)]);
        assert!(parsed.no_overrides_between(15, 100));
        assert!(!parsed.no_overrides_between(6, 7));
        assert!(parsed.ever_open);
    }
}
