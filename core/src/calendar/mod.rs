//! Business hours: weekly opening intervals in an IANA time zone, with holidays and special
//! days, and arithmetic in business time (the clock that only runs while the calendar is
//! open).
//!
//! The zone rules come from the time-zone database bundled into the build (jiff), not from
//! the host's files, so every host (server, browser, phone) gets identical answers.
//!
//! Each local date has its intervals: a special day's if it is one, none if it is a holiday,
//! else its weekday's. An interval belongs to the date it starts on, so a Friday 22:00-02:00
//! interval runs until Saturday 02:00 even if Saturday is a holiday, and a holiday on Friday
//! removes all of it. How openings and closings become instants across daylight-saving
//! changes is described on [`Calendar`].

mod civil;
mod hours;
mod resolve;
mod walk;

#[cfg(test)]
mod tests;

use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use hours::{BusinessHours, DayHours, Holiday, Interval, SpecialDay, Weekday};

use crate::error::CommandError;
use crate::time::Timestamp;
use hours::Rules;
use walk::{EARLIEST_MS, LATEST_MS, Step, Walker};

/// How far ahead [`Calendar::next_open`] and [`Calendar::add_business_time`] look: three
/// years of 365 days plus a leap day. A calendar with nothing open in that span is treated
/// as never opening again, which bounds the work of every call.
pub const HORIZON_MS: u64 = 1_096 * 24 * 60 * 60 * 1000;

/// [`HORIZON_MS`] as a difference of instants (it fits easily).
const HORIZON: i64 = HORIZON_MS as i64;

/// Business hours parsed once, ready to answer "open at this instant?" and to count in
/// business time.
///
/// # Daylight-saving changes
///
/// Every opening and closing time is turned into an instant by one rule:
///
/// * a local time that exists once is that instant;
/// * a local time that exists twice (clocks go back) is its **earlier** instant, for openings
///   and closings alike;
/// * a local time that does not exist (clocks go forward) is the instant of the jump, the
///   first instant at which the wall clock reads later than it.
///
/// So an interval 01:00-05:00 is 3 hours of open time on a night the clocks go forward one
/// hour and 5 hours on a night they go back. The rule keeps the order of times: an interval
/// closing at the time the next one opens hands over without a gap or an overlap, even inside
/// a repeated hour. For a boundary at the start of a skipped hour (02:00 in Europe) it is
/// jiff's "compatible" choice; for one strictly inside it (02:30) the compatible choice would
/// be 03:30, later than 03:15, which could turn intervals around, so the jump (03:00) is used:
/// open as soon as the wall clock shows a time inside the interval.
///
/// Instants before 0001-01-01 or from 9999-01-01 (UTC) on are never open.
///
/// # Serialization
///
/// A calendar serializes as the [`BusinessHours`] it was compiled from, and deserializing
/// compiles them again (the zone comes from the bundled database by name), so an invalid
/// document, such as one naming an unknown time zone, is refused with the compile error.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    zone: TimeZone,
    rules: Rules,
    /// What the calendar was compiled from: its serialized form.
    hours: BusinessHours,
}

impl Calendar {
    /// Parses and checks business hours.
    ///
    /// Refuses (`invalid_input`, naming the field) an unknown time zone, a time that is not
    /// `"HH:MM"`, an empty interval, intervals of one date that overlap (`weekly` or `hours`),
    /// a date that is not `"YYYY-MM-DD"`, and a date listed twice across holidays and special
    /// days (`date`). Refuses (`limit_reached`) more than 1,000 holidays, more than 1,000
    /// special days and more than 16 intervals on one date.
    pub fn compile(hours: &BusinessHours) -> Result<Calendar, CommandError> {
        let zone = TimeZone::get(&hours.time_zone).map_err(|_| {
            CommandError::invalid(
                "time_zone",
                format!("unknown time zone {:?}", hours.time_zone),
            )
        })?;
        let rules = Rules::parse(hours)?;
        Ok(Calendar {
            zone,
            rules,
            hours: hours.clone(),
        })
    }

    /// The business hours this calendar was compiled from.
    #[must_use]
    pub fn hours(&self) -> &BusinessHours {
        &self.hours
    }

    /// Whether the instant falls inside an opening interval. Closing instants are closed:
    /// with 09:00-17:00, 16:59:59.999 is open and 17:00:00.000 is not.
    #[must_use]
    pub fn is_open(&self, now: Timestamp) -> bool {
        let now = now.as_millis();
        if !(EARLIEST_MS..LATEST_MS).contains(&now) {
            return false;
        }
        matches!(Walker::new(self, now).step(now, 0), Step::Open(open, _) if open == now)
    }

    /// `from` itself if the calendar is open then, else the next instant it opens; `None`
    /// if it does not open within [`HORIZON_MS`] of `from`.
    #[must_use]
    pub fn next_open(&self, from: Timestamp) -> Option<Timestamp> {
        let limit = from.as_millis().saturating_add(HORIZON);
        let start = from.as_millis().max(EARLIEST_MS);
        if !self.rules.ever_open || start > limit || start >= LATEST_MS {
            return None;
        }
        let mut walker = Walker::new(self, start);
        loop {
            // Only weeks without any open time may be skipped here.
            match walker.step(limit, 1) {
                Step::Open(open, _) => return Some(Timestamp(open)),
                Step::Week(_) => {}
                Step::End => return None,
            }
        }
    }

    /// The instant at which `ms` milliseconds of open time have passed since `start`.
    ///
    /// Counting begins at [`next_open`](Self::next_open)`(start)`, so `ms == 0` gives that
    /// instant. When the amount runs out exactly as an interval closes, the answer is the
    /// closing instant, not the next opening. `None` if the answer lies more than
    /// [`HORIZON_MS`] after `start`.
    #[must_use]
    pub fn add_business_time(&self, start: Timestamp, ms: u64) -> Option<Timestamp> {
        let limit = start.as_millis().saturating_add(HORIZON);
        let origin = start.as_millis().max(EARLIEST_MS);
        // Open time never runs faster than the wall clock.
        let mut remaining = i64::try_from(ms).ok().filter(|&ms| ms <= HORIZON)?;
        if !self.rules.ever_open || origin > limit || origin >= LATEST_MS {
            return None;
        }
        let mut walker = Walker::new(self, origin);
        loop {
            // A week is skipped only if the amount outlasts it, so the answer is never inside.
            match walker.step(limit, remaining) {
                Step::Open(open, close) => {
                    if remaining <= close - open {
                        let due = open + remaining;
                        return (due <= limit).then_some(Timestamp(due));
                    }
                    remaining -= close - open;
                }
                Step::Week(open) => remaining -= open,
                Step::End => return None,
            }
        }
    }

    /// Open milliseconds in `[from, to)`; 0 if `to <= from`.
    #[must_use]
    pub fn business_time_between(&self, from: Timestamp, to: Timestamp) -> u64 {
        let from = from.as_millis().max(EARLIEST_MS);
        let to = to.as_millis().min(LATEST_MS);
        if to <= from || !self.rules.ever_open {
            return 0;
        }
        let mut walker = Walker::new(self, from);
        let mut total: i64 = 0;
        loop {
            match walker.step(to, i64::MAX) {
                Step::Open(open, close) if open < to => total += close.min(to) - open,
                Step::Week(open) => total += open,
                Step::Open(..) | Step::End => break,
            }
        }
        u64::try_from(total).unwrap_or(0)
    }
}

impl Serialize for Calendar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.hours.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Calendar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hours = BusinessHours::deserialize(deserializer)?;
        Calendar::compile(&hours).map_err(serde::de::Error::custom)
    }
}
