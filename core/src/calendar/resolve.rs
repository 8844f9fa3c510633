//! Local wall-clock times to instants, with one rule for daylight-saving changes.
//!
//! The rule, applied to every opening and closing time alike:
//!
//! * a local time that exists once is that instant;
//! * a local time that exists twice (clocks go back) is its **earlier** instant;
//! * a local time that does not exist (clocks jump forward) is the instant of the jump, the
//!   first instant whose wall clock reads later than it.
//!
//! The rule never reorders times: a later local time never maps to an earlier instant. So
//! intervals that do not overlap on the wall clock do not overlap as instants, and an interval
//! closing at the time the next one opens hands over without a gap or an overlap. (Shifting a
//! skipped time forward by the length of the jump, as the "compatible" disambiguation does,
//! would turn 02:30 into 03:30 and put it after 03:15.) For a boundary at the very start of
//! the skipped hour, such as 02:00 in Europe, both rules give the same instant; and the jump
//! rule agrees with the wall clock: a shop opening at 02:30 is open as soon as the clock reads
//! 03:00.

use jiff::Timestamp as JiffTimestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use super::civil::{DAY_SECONDS, civil_from_days};

/// Distance from a transition beyond which `local - offset` is the only candidate: offsets
/// lie within ±26 hours, so two of them differ by less than 52 hours.
const MARGIN: i64 = 3 * DAY_SECONDS;

/// Resolves local times, remembering the span of instants around the last one that share a
/// single UTC offset, so that most resolutions are a subtraction.
#[derive(Debug)]
pub(super) struct Resolver<'z> {
    zone: &'z TimeZone,
    /// First instant (seconds) of the current offset span.
    start: i64,
    /// First instant (seconds) after the current offset span.
    end: i64,
    /// UTC offset in seconds within the span.
    offset: i64,
}

impl<'z> Resolver<'z> {
    /// A resolver whose offset span contains `instant` (seconds).
    pub(super) fn new(zone: &'z TimeZone, instant: i64) -> Self {
        let mut resolver = Resolver {
            zone,
            start: 0,
            end: 0,
            offset: 0,
        };
        resolver.load(instant);
        resolver
    }

    /// The UTC offset (seconds) in force at the instant the span was last loaded around.
    pub(super) fn offset(&self) -> i64 {
        self.offset
    }

    fn load(&mut self, instant: i64) {
        let Ok(at) = JiffTimestamp::from_second(instant) else {
            // Outside what the zone database describes: an empty span sends every
            // resolution down the careful path, which has its own fallback.
            self.start = instant;
            self.end = instant;
            return;
        };
        self.offset = i64::from(self.zone.to_offset(at).seconds());
        // `preceding` is strictly before its argument; a transition exactly at `instant`
        // starts the span, so ask from one second later.
        let after = JiffTimestamp::from_second(instant.saturating_add(1)).unwrap_or(at);
        self.start = self
            .zone
            .preceding(after)
            .next()
            .map_or(i64::MIN / 4, |t| t.timestamp().as_second());
        self.end = self
            .zone
            .following(at)
            .next()
            .map_or(i64::MAX / 4, |t| t.timestamp().as_second());
    }

    /// Whether `instant` is so far inside the current span that the local time it shows
    /// belongs to no other instant.
    fn is_safe(&self, instant: i64) -> bool {
        instant >= self.start.saturating_add(MARGIN) && instant < self.end.saturating_sub(MARGIN)
    }

    /// Whether every local time in `[from, to]` (seconds) resolves by the current offset.
    pub(super) fn covers(&self, from: i64, to: i64) -> bool {
        self.is_safe(from - self.offset) && self.is_safe(to - self.offset)
    }

    /// The instant (seconds) of a local time given as seconds since 1970-01-01T00:00 local.
    pub(super) fn resolve(&mut self, local: i64) -> i64 {
        let guess = local - self.offset;
        if self.is_safe(guess) {
            return guess;
        }
        if guess < self.start || guess >= self.end {
            self.load(guess);
            let guess = local - self.offset;
            if self.is_safe(guess) {
                return guess;
            }
        }
        self.resolve_near_transition(local)
    }

    pub(super) fn resolve_near_transition(&self, local: i64) -> i64 {
        let fallback = local - self.offset;
        let Some(datetime) = civil_datetime(local) else {
            return fallback;
        };
        match self.zone.to_ambiguous_timestamp(datetime).offset() {
            AmbiguousOffset::Unambiguous { offset } => local - i64::from(offset.seconds()),
            AmbiguousOffset::Fold { before, .. } => local - i64::from(before.seconds()),
            AmbiguousOffset::Gap { before, after } => {
                // The jump lies after the instant showing `local` on the new offset (which is
                // before the jump) and no later than the one showing it on the old offset.
                let too_early = local - i64::from(after.seconds());
                let latest = local - i64::from(before.seconds());
                JiffTimestamp::from_second(too_early)
                    .ok()
                    .and_then(|at| self.zone.following(at).next())
                    .map(|t| t.timestamp().as_second())
                    .filter(|&jump| jump > too_early && jump <= latest)
                    .unwrap_or(latest)
            }
        }
    }
}

fn civil_datetime(local: i64) -> Option<DateTime> {
    let (year, month, day) = civil_from_days(local.div_euclid(DAY_SECONDS));
    let seconds = local.rem_euclid(DAY_SECONDS);
    DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(seconds / 3600).ok()?,
        i8::try_from(seconds / 60 % 60).ok()?,
        i8::try_from(seconds % 60).ok()?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> i64 {
        let datetime: DateTime = text.parse().unwrap();
        datetime
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn instant(text: &str) -> i64 {
        text.parse::<JiffTimestamp>().unwrap().as_second()
    }

    #[test]
    fn skipped_times_resolve_to_the_jump_and_repeated_times_to_their_first_pass() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let mut resolver = Resolver::new(&berlin, instant("2026-01-01T00:00:00Z"));
        let cases = [
            ("2026-03-29T01:59:00", "2026-03-29T00:59:00Z"),
            ("2026-03-29T02:00:00", "2026-03-29T01:00:00Z"),
            ("2026-03-29T02:30:00", "2026-03-29T01:00:00Z"),
            ("2026-03-29T03:00:00", "2026-03-29T01:00:00Z"),
            ("2026-03-29T03:15:00", "2026-03-29T01:15:00Z"),
            ("2026-10-25T01:59:00", "2026-10-24T23:59:00Z"),
            ("2026-10-25T02:00:00", "2026-10-25T00:00:00Z"),
            ("2026-10-25T02:30:00", "2026-10-25T00:30:00Z"),
            ("2026-10-25T03:00:00", "2026-10-25T02:00:00Z"),
            ("2026-07-01T12:00:00", "2026-07-01T10:00:00Z"),
            ("2027-01-01T12:00:00", "2027-01-01T11:00:00Z"),
        ];
        for (wall, expected) in cases {
            assert_eq!(resolver.resolve(local(wall)), instant(expected), "{wall}");
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_zone_database_everywhere() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Sydney",
            "Australia/Lord_Howe",
            "Pacific/Apia",
            "America/Santiago",
            "Asia/Kolkata",
        ] {
            let zone = TimeZone::get(name).unwrap();
            let mut resolver = Resolver::new(&zone, instant("2010-01-01T00:00:00Z"));
            let mut wall = local("2010-01-01T00:00:00");
            let end = local("2031-01-01T00:00:00");
            let mut previous = i64::MIN;
            while wall < end {
                let resolved = resolver.resolve(wall);
                let careful = Resolver::new(&zone, resolved).resolve_near_transition(wall);
                assert_eq!(resolved, careful, "{name} at local second {wall}");
                assert!(resolved >= previous, "{name}: order kept at {wall}");
                previous = resolved;
                wall += 1800 * 7 + 60;
            }
        }
    }

    #[test]
    fn a_skipped_calendar_day_collapses_onto_the_jump() {
        // Samoa skipped 2011-12-30 entirely when it crossed the date line.
        let apia = TimeZone::get("Pacific/Apia").unwrap();
        let mut resolver = Resolver::new(&apia, instant("2011-12-01T00:00:00Z"));
        let jump = instant("2011-12-30T10:00:00Z");
        assert_eq!(resolver.resolve(local("2011-12-30T09:00:00")), jump);
        assert_eq!(resolver.resolve(local("2011-12-30T17:00:00")), jump);
        assert_eq!(resolver.resolve(local("2011-12-31T00:00:00")), jump);
    }
}
