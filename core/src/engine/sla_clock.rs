//! SLA clocks as plain state machines: start, pause, resume, complete, and what comes due.
//!
//! A clock counts time in cycles. Time is accumulated per running segment, in wall-clock
//! and in business time, so a paused stretch never counts and a clock that resumes carries
//! on where it stopped. Warnings and breaches are flags per cycle: each fires at most once
//! per cycle however often due times are recomputed.

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::protocol::helpdesk::{
    SlaClockState, SlaClockView, SlaMetric, SlaOutcome, SlaTarget, SlaTargets,
};
use crate::time::Timestamp;

/// A target in milliseconds and the kind of time it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub ms: u64,
    pub business: bool,
}

impl From<SlaTarget> for Target {
    fn from(target: SlaTarget) -> Self {
        Target {
            ms: u64::from(target.minutes) * 60_000,
            business: target.business_hours,
        }
    }
}

/// Open time in `[from, to)`; without a calendar every moment is open.
pub(crate) fn business_between(calendar: Option<&Calendar>, from: Timestamp, to: Timestamp) -> u64 {
    match calendar {
        Some(calendar) => calendar.business_time_between(from, to),
        None => to.ms_since(from),
    }
}

/// The instant `ms` of the target's kind of time after `start`; `None` if that never comes
/// (a calendar that does not open again). Nothing left to count means due at `start`, even
/// outside business hours: the target was used up before, not at the next opening.
pub(crate) fn advance(
    calendar: Option<&Calendar>,
    business: bool,
    start: Timestamp,
    ms: u64,
) -> Option<Timestamp> {
    if ms == 0 {
        return Some(start);
    }
    match (business, calendar) {
        (true, Some(calendar)) => calendar.add_business_time(start, ms),
        _ => Some(start.plus_ms(ms)),
    }
}

/// One metric's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Clock {
    pub state: SlaClockState,
    pub cycle_started: Option<Timestamp>,
    pub running_since: Option<Timestamp>,
    pub elapsed_ms: u64,
    pub elapsed_business_ms: u64,
    pub warned: bool,
    pub breached: bool,
    pub cycles: u32,
    pub breaches: u32,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            state: SlaClockState::Idle,
            cycle_started: None,
            running_since: None,
            elapsed_ms: 0,
            elapsed_business_ms: 0,
            warned: false,
            breached: false,
            cycles: 0,
            breaches: 0,
        }
    }
}

/// A cycle's measurement at the moment it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Measured {
    pub elapsed_ms: u64,
    pub elapsed_business_ms: u64,
    pub started_at: Timestamp,
}

impl Clock {
    /// Counting, or paused mid-cycle.
    pub(crate) fn in_cycle(&self) -> bool {
        matches!(self.state, SlaClockState::Running | SlaClockState::Paused)
    }

    /// Starts a new cycle at `now`.
    pub(crate) fn start(&mut self, now: Timestamp) {
        self.state = SlaClockState::Running;
        self.cycle_started = Some(now);
        self.running_since = Some(now);
        self.elapsed_ms = 0;
        self.elapsed_business_ms = 0;
        self.warned = false;
        self.breached = false;
    }

    fn close_segment(&mut self, now: Timestamp, calendar: Option<&Calendar>) {
        if let Some(since) = self.running_since.take() {
            self.elapsed_ms = self.elapsed_ms.saturating_add(now.ms_since(since));
            self.elapsed_business_ms = self
                .elapsed_business_ms
                .saturating_add(business_between(calendar, since, now));
        }
    }

    /// Stops counting until [`resume`](Clock::resume).
    pub(crate) fn pause(&mut self, now: Timestamp, calendar: Option<&Calendar>) {
        if self.state == SlaClockState::Running {
            self.close_segment(now, calendar);
            self.state = SlaClockState::Paused;
        }
    }

    /// Counts again from `now`.
    pub(crate) fn resume(&mut self, now: Timestamp) {
        if self.state == SlaClockState::Paused {
            self.state = SlaClockState::Running;
            self.running_since = Some(now);
        }
    }

    /// Time counted in this cycle up to `now`.
    pub(crate) fn measure(&self, now: Timestamp, calendar: Option<&Calendar>) -> Measured {
        let (mut wall, mut business) = (self.elapsed_ms, self.elapsed_business_ms);
        if let Some(since) = self.running_since {
            wall = wall.saturating_add(now.ms_since(since));
            business = business.saturating_add(business_between(calendar, since, now));
        }
        Measured {
            elapsed_ms: wall,
            elapsed_business_ms: business,
            started_at: self.cycle_started.unwrap_or(now),
        }
    }

    /// Ends the cycle. The outcome is breached when the breach fired or the measurement
    /// is past the target (a breach not yet polled for); the second case is returned as
    /// `late_breach` so the caller can still announce it, once.
    pub(crate) fn complete(
        &mut self,
        now: Timestamp,
        calendar: Option<&Calendar>,
        target: Option<Target>,
    ) -> Option<Completion> {
        if !self.in_cycle() {
            return None;
        }
        self.close_segment(now, calendar);
        let measured = Measured {
            elapsed_ms: self.elapsed_ms,
            elapsed_business_ms: self.elapsed_business_ms,
            started_at: self.cycle_started.unwrap_or(now),
        };
        let over = target.is_some_and(|t| {
            let counted = if t.business {
                measured.elapsed_business_ms
            } else {
                measured.elapsed_ms
            };
            counted > t.ms
        });
        let late_breach = over && !self.breached;
        if late_breach {
            self.breached = true;
            self.breaches += 1;
        }
        self.cycles += 1;
        self.state = if self.breached {
            SlaClockState::Breached
        } else {
            SlaClockState::Achieved
        };
        Some(Completion {
            measured,
            outcome: if self.breached {
                SlaOutcome::Breached
            } else {
                SlaOutcome::Achieved
            },
            late_breach,
        })
    }

    /// Reopens a completed cycle (a reopened ticket's resolution clock): the time counted
    /// so far stands, the flags too.
    pub(crate) fn reopen(&mut self, now: Timestamp) {
        if matches!(
            self.state,
            SlaClockState::Achieved | SlaClockState::Breached
        ) {
            self.cycles = self.cycles.saturating_sub(1);
            self.state = SlaClockState::Running;
            self.running_since = Some(now);
        }
    }

    /// Drops an unfinished cycle without a measurement.
    pub(crate) fn discard(&mut self) {
        if self.in_cycle() {
            self.state = SlaClockState::Idle;
            self.running_since = None;
        }
    }

    fn counted(&self, target: Target) -> u64 {
        if target.business {
            self.elapsed_business_ms
        } else {
            self.elapsed_ms
        }
    }

    /// When the warning and the breach of a running cycle come due (each `None` once fired).
    pub(crate) fn deadlines(
        &self,
        target: Target,
        warning_percent: u8,
        calendar: Option<&Calendar>,
    ) -> (Option<Timestamp>, Option<Timestamp>) {
        let (SlaClockState::Running, Some(since)) = (self.state, self.running_since) else {
            return (None, None);
        };
        let counted = self.counted(target);
        let warn_ms = target.ms / 100 * u64::from(warning_percent)
            + target.ms % 100 * u64::from(warning_percent) / 100;
        let warn_at = (!self.warned)
            .then(|| {
                advance(
                    calendar,
                    target.business,
                    since,
                    warn_ms.saturating_sub(counted),
                )
            })
            .flatten();
        let due_at = (!self.breached)
            .then(|| {
                advance(
                    calendar,
                    target.business,
                    since,
                    target.ms.saturating_sub(counted),
                )
            })
            .flatten();
        (warn_at, due_at)
    }

    /// The due time of the running cycle, fired or not.
    pub(crate) fn due_at(&self, target: Target, calendar: Option<&Calendar>) -> Option<Timestamp> {
        let (SlaClockState::Running, Some(since)) = (self.state, self.running_since) else {
            return None;
        };
        advance(
            calendar,
            target.business,
            since,
            target.ms.saturating_sub(self.counted(target)),
        )
    }

    /// The clock as staff see it.
    pub(crate) fn view(
        &self,
        metric: SlaMetric,
        target: Option<Target>,
        calendar: Option<&Calendar>,
        now: Timestamp,
    ) -> Option<SlaClockView> {
        let target = target?;
        let measured = self.measure(now, calendar);
        Some(SlaClockView {
            metric,
            state: self.state,
            target_ms: target.ms,
            business_hours: target.business,
            started_at: self.cycle_started,
            due_at: self.due_at(target, calendar),
            elapsed_ms: measured.elapsed_ms,
            elapsed_business_ms: measured.elapsed_business_ms,
            warned: self.warned,
            breached: self.breached,
            cycles: self.cycles,
            breaches: self.breaches,
        })
    }
}

/// The result of ending a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Completion {
    pub measured: Measured,
    pub outcome: SlaOutcome,
    pub late_breach: bool,
}

/// The four clocks of one ticket or chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Clocks(pub [Clock; 4]);

impl Clocks {
    pub(crate) fn get(&self, metric: SlaMetric) -> &Clock {
        &self.0[metric.index()]
    }

    pub(crate) fn get_mut(&mut self, metric: SlaMetric) -> &mut Clock {
        &mut self.0[metric.index()]
    }

    pub(crate) fn pause_all(&mut self, now: Timestamp, calendar: Option<&Calendar>) {
        for clock in &mut self.0 {
            clock.pause(now, calendar);
        }
    }

    pub(crate) fn resume_all(&mut self, now: Timestamp) {
        for clock in &mut self.0 {
            clock.resume(now);
        }
    }

    /// The earliest warning or breach still to fire.
    pub(crate) fn next_deadline(
        &self,
        targets: &SlaTargets,
        warning_percent: u8,
        calendar: Option<&Calendar>,
    ) -> Option<Timestamp> {
        SlaMetric::ALL
            .iter()
            .filter_map(|&metric| {
                let target = Target::from(targets.get(metric)?);
                let (warn, due) = self
                    .get(metric)
                    .deadlines(target, warning_percent, calendar);
                warn.into_iter().chain(due).min()
            })
            .min()
    }
}

/// What came due on a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Warning {
        metric: SlaMetric,
        due_at: Timestamp,
    },
    Breach {
        metric: SlaMetric,
        due_at: Timestamp,
    },
}

/// Marks and returns the warnings and breaches due at `now`, warnings first.
pub(crate) fn take_due(
    clocks: &mut Clocks,
    targets: &SlaTargets,
    warning_percent: u8,
    calendar: Option<&Calendar>,
    now: Timestamp,
) -> Vec<Due> {
    let mut fired = Vec::new();
    for metric in SlaMetric::ALL {
        let Some(target) = targets.get(metric).map(Target::from) else {
            continue;
        };
        let clock = clocks.get_mut(metric);
        let (warn_at, due_at) = clock.deadlines(target, warning_percent, calendar);
        let breach_due = due_at.filter(|&at| at <= now);
        if warn_at.is_some_and(|at| at <= now) || (breach_due.is_some() && !clock.warned) {
            clock.warned = true;
            let due_at = clock.due_at(target, calendar).unwrap_or(now);
            fired.push(Due::Warning { metric, due_at });
        }
        if let Some(due_at) = breach_due {
            clock.breached = true;
            clock.breaches += 1;
            fired.push(Due::Breach { metric, due_at });
        }
    }
    fired
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(minutes: u32) -> SlaTargets {
        SlaTargets {
            first_response: Some(SlaTarget {
                minutes,
                business_hours: false,
            }),
            ..SlaTargets::default()
        }
    }

    const MIN: u64 = 60_000;

    #[test]
    fn paused_time_does_not_count_towards_the_due_time() {
        let mut clocks = Clocks::default();
        let fr = SlaMetric::FirstResponse;
        clocks.get_mut(fr).start(Timestamp(0));
        clocks.pause_all(Timestamp(10 * MIN as i64), None);
        clocks.resume_all(Timestamp(70 * MIN as i64));
        // 10 minutes counted before the pause; 50 left from minute 70.
        assert_eq!(
            clocks.next_deadline(&target(60), 100, None),
            Some(Timestamp(120 * MIN as i64))
        );
    }

    #[test]
    fn warning_and_breach_fire_once_each() {
        let mut clocks = Clocks::default();
        clocks.get_mut(SlaMetric::FirstResponse).start(Timestamp(0));
        let targets = target(10);
        let at = |m: u64| Timestamp((m * MIN) as i64);
        assert_eq!(take_due(&mut clocks, &targets, 80, None, at(7)), vec![]);
        let fired = take_due(&mut clocks, &targets, 80, None, at(8));
        assert!(matches!(fired.as_slice(), [Due::Warning { .. }]));
        assert_eq!(take_due(&mut clocks, &targets, 80, None, at(9)), vec![]);
        let fired = take_due(&mut clocks, &targets, 80, None, at(10));
        assert!(matches!(fired.as_slice(), [Due::Breach { .. }]));
        assert_eq!(take_due(&mut clocks, &targets, 80, None, at(100)), vec![]);
        assert_eq!(clocks.next_deadline(&targets, 80, None), None);
    }

    #[test]
    fn a_breach_found_late_still_warns_first() {
        let mut clocks = Clocks::default();
        clocks.get_mut(SlaMetric::FirstResponse).start(Timestamp(0));
        let fired = take_due(
            &mut clocks,
            &target(10),
            80,
            None,
            Timestamp(60 * MIN as i64),
        );
        assert!(matches!(
            fired.as_slice(),
            [Due::Warning { .. }, Due::Breach { .. }]
        ));
    }

    #[test]
    fn a_target_already_used_up_is_due_at_once_even_outside_business_hours() {
        let hours: crate::calendar::BusinessHours = serde_json::from_value(serde_json::json!({
            "time_zone": "UTC",
            "weekly": { "monday": [{ "start": "09:00", "end": "17:00" }] }
        }))
        .expect("hours");
        let calendar = Calendar::compile(&hours).expect("calendar");
        let mut clock = Clock::default();
        // Monday 2026-11-23 08:00 UTC, before opening.
        let monday_early = Timestamp(1_795_420_800_000);
        clock.start(monday_early);
        clock.elapsed_business_ms = 5 * MIN;
        let target = Target {
            ms: 5 * MIN,
            business: true,
        };
        assert_eq!(clock.due_at(target, Some(&calendar)), Some(monday_early));
        let target = Target {
            ms: 6 * MIN,
            business: true,
        };
        // One minute left counts from the 09:00 opening.
        assert_eq!(
            clock.due_at(target, Some(&calendar)),
            Some(Timestamp(1_795_420_800_000 + 61 * MIN as i64))
        );
    }

    #[test]
    fn completing_past_the_target_is_a_late_breach_once() {
        let mut clock = Clock::default();
        clock.start(Timestamp(0));
        let t = Some(Target {
            ms: 10 * MIN,
            business: false,
        });
        let done = clock
            .complete(Timestamp(11 * MIN as i64), None, t)
            .expect("in a cycle");
        assert_eq!(done.outcome, SlaOutcome::Breached);
        assert!(done.late_breach);
        assert_eq!(clock.breaches, 1);
        assert!(
            clock
                .complete(Timestamp(12 * MIN as i64), None, t)
                .is_none()
        );
    }
}
