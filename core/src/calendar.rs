//! Business hours: weekly opening intervals in an IANA time zone.
//!
//! The zone rules come from the time-zone database bundled into the build (jiff), not from
//! the host's files, so every host (server, browser, phone) decides "open" identically.

use std::collections::BTreeMap;

use jiff::Timestamp as JiffTimestamp;
use jiff::civil::Weekday as JiffWeekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::CommandError;
use crate::time::Timestamp;

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

    fn from_jiff(day: JiffWeekday) -> Self {
        match day {
            JiffWeekday::Monday => Weekday::Monday,
            JiffWeekday::Tuesday => Weekday::Tuesday,
            JiffWeekday::Wednesday => Weekday::Wednesday,
            JiffWeekday::Thursday => Weekday::Thursday,
            JiffWeekday::Friday => Weekday::Friday,
            JiffWeekday::Saturday => Weekday::Saturday,
            JiffWeekday::Sunday => Weekday::Sunday,
        }
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

/// Weekly business hours in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// IANA time zone name, such as "Europe/Berlin".
    pub time_zone: String,
    /// Opening intervals per day; a missing day is closed.
    pub weekly: BTreeMap<Weekday, DayHours>,
}

/// Business hours parsed once, ready to answer "open at this instant?".
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    zone: TimeZone,
    /// Per weekday (Monday first): opening minute to closing minute after midnight. The closing
    /// minute may exceed 1440 for intervals that run into the next day.
    days: [Vec<(u16, u16)>; 7],
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

impl Calendar {
    /// Parses and checks business hours.
    pub fn compile(hours: &BusinessHours) -> Result<Calendar, CommandError> {
        let zone = TimeZone::get(&hours.time_zone).map_err(|_| {
            CommandError::invalid(
                "time_zone",
                format!("unknown time zone {:?}", hours.time_zone),
            )
        })?;
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, day_hours) in &hours.weekly {
            let intervals = day_hours.intervals();
            if intervals.len() > 16 {
                return Err(CommandError::LimitReached {
                    limit: "intervals_per_day",
                    max: 16,
                });
            }
            for interval in intervals {
                let start = parse_minute("start", &interval.start)?;
                let mut end = parse_minute("end", &interval.end)?;
                if start == 24 * 60 {
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
                    end += 24 * 60;
                }
                days[day.index()].push((start, end));
            }
        }
        Ok(Calendar { zone, days })
    }

    /// Whether the instant falls inside an opening interval.
    #[must_use]
    pub fn is_open(&self, now: Timestamp) -> bool {
        let Ok(instant) = JiffTimestamp::from_millisecond(now.as_millis()) else {
            return false;
        };
        let local = instant.to_zoned(self.zone.clone()).datetime();
        let minute =
            u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs());
        let today = Weekday::from_jiff(local.weekday()).index();
        let yesterday = (today + 6) % 7;
        self.days[today]
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
            || self.days[yesterday]
                .iter()
                .any(|&(_, end)| end > 24 * 60 && minute + 24 * 60 < end)
    }
}
