//! Open time as a stream of instants, walking local dates forward.
//!
//! Every local date contributes its intervals (weekly or from a dated exception), resolved
//! to instants. Intervals are handed out in order of opening, and each is clipped to start
//! where the previous ones ended, so the pieces never overlap even where an evening interval
//! runs into the next date's hours. Whole weeks are skipped only where that cannot change the
//! answer: no dated exception nearby and one UTC offset throughout.

use super::Calendar;
use super::civil::{DAY_SECONDS, weekday_index};
use super::hours::Slot;
use super::resolve::Resolver;

/// First instant handled (0001-01-01T00:00:00Z, ms); earlier instants are never open.
pub(super) const EARLIEST_MS: i64 = -62_135_596_800_000;
/// First instant no longer handled (9999-01-01T00:00:00Z, ms); it and later ones are never
/// open. Local dates stay well inside what the zone database can convert.
pub(super) const LATEST_MS: i64 = 253_370_764_800_000;

/// One step of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Open from the first instant up to (excluding) the second, in ms.
    Open(i64, i64),
    /// A whole week skipped, holding this many open ms, all before the limit.
    Week(i64),
    /// Nothing more opens at or before the limit.
    End,
}

/// Walks the open pieces of a calendar from a starting instant.
pub(super) struct Walker<'c> {
    calendar: &'c Calendar,
    resolver: Resolver<'c>,
    /// Where the walk began (ms); nothing before it is handed out.
    origin: i64,
    /// The next local date to load, as a day number.
    day: i64,
    /// Local midnight (seconds) of the loaded date.
    base: i64,
    slots: &'c [Slot],
    next_slot: usize,
    /// Position in the dated exceptions, see [`super::hours::Rules::day_slots`].
    hint: usize,
    /// End of the open time handed out so far (ms).
    cursor: i64,
}

impl<'c> Walker<'c> {
    /// A walk from `origin` (ms, within the handled range).
    pub(super) fn new(calendar: &'c Calendar, origin: i64) -> Self {
        let resolver = Resolver::new(&calendar.zone, origin.div_euclid(1000));
        let local = origin.div_euclid(1000) + resolver.offset();
        // The previous date's evening interval may still be open at `origin`; dates before it
        // close by local midnight of the origin's date.
        let day = local.div_euclid(DAY_SECONDS) - 1;
        Walker {
            calendar,
            resolver,
            origin,
            day,
            base: 0,
            slots: &[],
            next_slot: 0,
            hint: calendar.rules.overrides.partition_point(|o| o.day < day),
            cursor: origin,
        }
    }

    /// The next open piece starting at or before `limit` (ms), or a skipped week if it
    /// holds less than `skip_below` open ms and ends by `limit`.
    pub(super) fn step(&mut self, limit: i64, skip_below: i64) -> Step {
        let limit = limit.min(LATEST_MS - 1);
        loop {
            if let Some(&(start, end)) = self.slots.get(self.next_slot) {
                let open = self.instant(self.base + i64::from(start) * 60);
                if open > limit {
                    return Step::End;
                }
                self.next_slot += 1;
                let close = self.instant(self.base + i64::from(end) * 60).min(LATEST_MS);
                let open = open.max(self.cursor);
                if close > open {
                    self.cursor = close;
                    return Step::Open(open, close);
                }
                continue;
            }
            if self.calendar.rules.week_open_ms < skip_below
                && let Some(week) = self.skip_week(limit)
            {
                return Step::Week(week);
            }
            let base = self.day * DAY_SECONDS;
            // Every interval of this date and later ones opens at or after its midnight.
            if self.instant(base) > limit {
                return Step::End;
            }
            self.base = base;
            self.slots = self.calendar.rules.day_slots(self.day, &mut self.hint);
            self.next_slot = 0;
            self.day += 1;
        }
    }

    fn instant(&mut self, local_seconds: i64) -> i64 {
        self.resolver.resolve(local_seconds) * 1000
    }

    /// Skips the seven dates from `self.day` if they are plain weekly dates at one offset,
    /// returning their open time.
    fn skip_week(&mut self, limit: i64) -> Option<i64> {
        let first = self.day;
        let rules = &self.calendar.rules;
        // The date before matters too: its evening interval clips the first date's hours.
        if !rules.no_overrides_between(first - 1, first + 6) {
            return None;
        }
        // Local times from the date before up to the end of the evening interval of the last
        // date (at most two days past its midnight).
        let from = (first - 1) * DAY_SECONDS;
        let to = (first + 8) * DAY_SECONDS;
        if !self.resolver.covers(from, to) {
            return None;
        }
        let offset = self.resolver.offset();
        // The origin must lie before the date before, or its clipping would make this week
        // differ from the pattern; and the whole week must end by the limit.
        if (from - offset) * 1000 < self.origin || (to - offset) * 1000 > limit {
            return None;
        }
        let last = first + 6;
        if let Some(close) = rules.last_close[weekday_index(last)] {
            let close = (last * DAY_SECONDS + i64::from(close) * 60 - offset) * 1000;
            self.cursor = self.cursor.max(close);
        }
        self.day = first + 7;
        Some(rules.week_open_ms)
    }
}
