//! The deadline table: one entry per thing that can come due, ordered by deadline.
//!
//! Each key has at most one deadline; setting it again moves it. Entries are validated when
//! they fire (the owner re-checks its state), so a deadline that was overtaken by events is
//! a harmless no-op, and an extra `handle_timeout` changes nothing.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Timestamp;

/// What a deadline belongs to. Tenants, agents, queues and sessions are by engine number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum TimerKey {
    /// An outstanding offer (single or broadcast) expires.
    Offer { tenant: u32, session: u64 },
    /// A queued session reaches its queue's maximum wait.
    MaxWait { tenant: u32, session: u64 },
    /// Inactivity warning or close of an active session.
    Inactivity { tenant: u32, session: u64 },
    /// The visitor has waited too long for an agent reply.
    NoReply { tenant: u32, session: u64 },
    /// An outstanding transfer expires.
    Transfer { tenant: u32, session: u64 },
    /// A typing indicator (0: visitor side, 1: agent side) goes stale.
    Typing { tenant: u32, session: u64, side: u8 },
    /// A resolved session closes.
    ResolvedClose { tenant: u32, session: u64 },
    /// The host's router did not answer in time.
    External { tenant: u32, session: u64 },
    /// An agent's earliest wrap-up slot ends.
    WrapUp { tenant: u32, agent: u32 },
    /// A disconnected agent's grace period ends.
    DisconnectGrace { tenant: u32, agent: u32 },
    /// An agent's oldest assignment leaves the fairness window.
    Fairness { tenant: u32, agent: u32 },
    /// Coalesced queue position updates are due.
    QueueFlush { tenant: u32, queue: u32 },
    /// A ticket's next SLA warning or breach.
    TicketSla { tenant: u32, ticket: u64 },
    /// A resolved ticket closes.
    TicketAutoClose { tenant: u32, ticket: u64 },
    /// A chat's next SLA warning or breach.
    SessionSla { tenant: u32, session: u64 },
    /// A survey stops accepting answers.
    SurveyExpiry { tenant: u32, survey: u64 },
}

/// Deadlines by key, and keys by deadline.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Timers {
    by_deadline: BTreeSet<(Timestamp, TimerKey)>,
    by_key: FxHashMap<TimerKey, Timestamp>,
}

impl Timers {
    /// Sets (or moves) the deadline of `key`.
    pub(crate) fn set(&mut self, key: TimerKey, at: Timestamp) {
        if let Some(previous) = self.by_key.insert(key, at) {
            if previous == at {
                return;
            }
            self.by_deadline.remove(&(previous, key));
        }
        self.by_deadline.insert((at, key));
    }

    /// Sets the deadline unless the key already has one that is earlier or equal.
    pub(crate) fn set_if_earlier(&mut self, key: TimerKey, at: Timestamp) {
        match self.by_key.get(&key) {
            Some(&existing) if existing <= at => {}
            _ => self.set(key, at),
        }
    }

    /// Removes the deadline of `key`, if any.
    pub(crate) fn cancel(&mut self, key: TimerKey) {
        if let Some(at) = self.by_key.remove(&key) {
            self.by_deadline.remove(&(at, key));
        }
    }

    /// The deadline of `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: TimerKey) -> Option<Timestamp> {
        self.by_key.get(&key).copied()
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.by_deadline.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, TimerKey)> {
        let &(at, key) = self.by_deadline.first()?;
        if at > now {
            return None;
        }
        self.by_deadline.pop_first();
        self.by_key.remove(&key);
        Some((at, key))
    }

    /// Number of armed deadlines.
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }
}

/// Written as the list of `[deadline, key]` in deadline order; the index by key is rebuilt.
impl Serialize for Timers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_deadline.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Timers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut timers = Timers::default();
        for (at, key) in Vec::<(Timestamp, TimerKey)>::deserialize(deserializer)? {
            timers.set(key, at);
        }
        Ok(timers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(session: u64) -> TimerKey {
        TimerKey::Offer { tenant: 0, session }
    }

    #[test]
    fn earliest_deadline_fires_first_and_moved_deadlines_do_not_fire_twice() {
        let mut timers = Timers::default();
        timers.set(offer(1), Timestamp(50));
        timers.set(offer(2), Timestamp(20));
        timers.set(offer(1), Timestamp(10));
        assert_eq!(timers.next_deadline(), Some(Timestamp(10)));
        assert_eq!(
            timers.pop_due(Timestamp(100)),
            Some((Timestamp(10), offer(1)))
        );
        assert_eq!(
            timers.pop_due(Timestamp(100)),
            Some((Timestamp(20), offer(2)))
        );
        assert_eq!(timers.pop_due(Timestamp(100)), None);
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn nothing_fires_before_its_deadline_and_cancel_removes_it() {
        let mut timers = Timers::default();
        timers.set(offer(1), Timestamp(50));
        assert_eq!(timers.pop_due(Timestamp(49)), None);
        timers.cancel(offer(1));
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn set_if_earlier_keeps_the_earlier_deadline() {
        let mut timers = Timers::default();
        timers.set_if_earlier(offer(1), Timestamp(30));
        timers.set_if_earlier(offer(1), Timestamp(40));
        assert_eq!(timers.get(offer(1)), Some(Timestamp(30)));
        timers.set_if_earlier(offer(1), Timestamp(20));
        assert_eq!(timers.get(offer(1)), Some(Timestamp(20)));
    }
}
