//! Snapshots: the whole live state of an engine as one JSON document, and back.
//!
//! A durable host recovers an engine by restoring its latest snapshot and replaying the
//! inputs journaled after it. The document holds everything that decides future behaviour:
//! the configuration, the clock, every tenant's state (counters and random generators
//! included), the armed deadlines and the outputs not yet drained. Derived indexes (agent
//! pools, Fenwick trees, per-priority counts) are written as they are rather than rebuilt,
//! so a restored engine is equal to the original field for field.
//!
//! The document is `{"format": 1, "engine": {...}}`. The shape inside `engine` is private to
//! this crate and changes only with [`SNAPSHOT_FORMAT`]. Hash maps are written sorted by
//! key, so the same state always gives the same text.
//!
//! Values shared through `Arc` (visitor profiles, names, calendars) come back as separate
//! copies: equality holds, but a restored engine may use more memory than one that built
//! the same state step by step, until the shared values are replaced in the normal course.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::state::TenantState;
use super::{Engine, EngineConfig};
use crate::ids::TenantId;
use crate::protocol::output::Output;
use crate::time::Timestamp;
use crate::timer::Timers;

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// Why a snapshot could not be written or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or not the shape of a snapshot (a missing field, a wrong type, a calendar
    /// that no longer compiles).
    #[error("malformed snapshot: {0}")]
    Malformed(String),
    /// Written in a format this build does not read.
    #[error("unsupported snapshot format {found} (this build reads format {supported})")]
    UnsupportedFormat {
        /// The document's format.
        found: u32,
        /// The format this build reads.
        supported: u32,
    },
    /// The state could not be written as JSON (a bug in the engine, not in the input).
    #[error("snapshot could not be written: {0}")]
    Encode(String),
}

/// The engine's fields, borrowed for writing.
#[derive(Serialize)]
struct EngineRef<'a> {
    config: &'a EngineConfig,
    now: Timestamp,
    tenants: &'a [TenantState],
    #[serde(with = "sorted_pairs")]
    tenant_index: &'a FxHashMap<TenantId, u32>,
    timers: &'a Timers,
    outputs: &'a VecDeque<Output>,
}

/// The engine's fields, owned for reading. Same names and order as [`EngineRef`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineDoc {
    config: EngineConfig,
    now: Timestamp,
    tenants: Vec<TenantState>,
    #[serde(with = "sorted_pairs")]
    tenant_index: FxHashMap<TenantId, u32>,
    timers: Timers,
    outputs: VecDeque<Output>,
}

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    format: u32,
    engine: EngineRef<'a>,
}

#[derive(Deserialize)]
struct Envelope {
    format: u32,
    engine: EngineDoc,
}

/// Only the format, to tell an unsupported document from a malformed one.
#[derive(Deserialize)]
struct Header {
    format: u32,
}

impl Engine {
    /// The whole live state as a JSON document (format [`SNAPSHOT_FORMAT`]): the
    /// configuration, the clock, every tenant (counters and random generators included), the
    /// armed deadlines and the outputs not yet drained.
    ///
    /// [`restore`](Engine::restore) gives back an engine equal to this one, which answers
    /// every later input exactly as this one would. The same state always gives the same
    /// text.
    pub fn snapshot(&self) -> Result<String, SnapshotError> {
        let envelope = EnvelopeRef {
            format: SNAPSHOT_FORMAT,
            engine: EngineRef {
                config: &self.config,
                now: self.now,
                tenants: &self.tenants,
                tenant_index: &self.tenant_index,
                timers: &self.timers,
                outputs: &self.outputs,
            },
        };
        serde_json::to_string(&envelope).map_err(|e| SnapshotError::Encode(e.to_string()))
    }

    /// Rebuilds an engine from a [`snapshot`](Engine::snapshot):
    /// `Engine::restore(&e.snapshot()?)? == e`.
    ///
    /// Refuses, without panicking, text that is not JSON or not a snapshot's shape
    /// ([`SnapshotError::Malformed`], calendars that no longer compile included) and other
    /// formats ([`SnapshotError::UnsupportedFormat`]). The document is trusted to be one this
    /// crate wrote: references between its parts (agent and queue numbers) are not checked.
    pub fn restore(snapshot: &str) -> Result<Engine, SnapshotError> {
        let envelope = match serde_json::from_str::<Envelope>(snapshot) {
            Ok(envelope) => envelope,
            Err(error) => {
                // A newer format need not parse as this one: report the format first.
                if let Ok(header) = serde_json::from_str::<Header>(snapshot) {
                    check_format(header.format)?;
                }
                return Err(SnapshotError::Malformed(error.to_string()));
            }
        };
        check_format(envelope.format)?;
        let EngineDoc {
            config,
            now,
            tenants,
            tenant_index,
            timers,
            outputs,
        } = envelope.engine;
        Ok(Engine {
            config,
            now,
            tenants,
            tenant_index,
            timers,
            outputs,
        })
    }
}

fn check_format(found: u32) -> Result<(), SnapshotError> {
    if found == SNAPSHOT_FORMAT {
        Ok(())
    } else {
        Err(SnapshotError::UnsupportedFormat {
            found,
            supported: SNAPSHOT_FORMAT,
        })
    }
}

/// A map as a list of `[key, value]` pairs, for maps whose keys are not strings in JSON
/// (tuples, structs, enums). Written in the map's own order.
pub(crate) mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<'a, M, K, V, S>(map: &'a M, serializer: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        serializer.collect_seq(map)
    }

    pub(crate) fn deserialize<'de, M, K, V, D>(deserializer: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Vec::<(K, V)>::deserialize(deserializer).map(|pairs| pairs.into_iter().collect())
    }
}

/// A hash map as a list of `[key, value]` pairs sorted by key, so the text does not depend
/// on the map's internal order.
pub(crate) mod sorted_pairs {
    use std::collections::HashMap;
    use std::hash::BuildHasher;

    use serde::{Serialize, Serializer};

    pub(crate) use super::pairs::deserialize;

    pub(crate) fn serialize<K, V, H, S>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        K: Serialize + Ord,
        V: Serialize,
        H: BuildHasher,
        S: Serializer,
    {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(entries)
    }
}

/// Counts per priority (256 slots) as `[priority, count]` pairs for the slots that are not
/// zero.
pub(crate) mod per_priority {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        counts: &[u32; 256],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            counts
                .iter()
                .enumerate()
                .filter(|&(_, &count)| count != 0)
                .map(|(priority, &count)| (priority as u8, count)),
        )
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Box<[u32; 256]>, D::Error> {
        let mut counts = Box::new([0; 256]);
        for (priority, count) in Vec::<(u8, u32)>::deserialize(deserializer)? {
            counts[usize::from(priority)] = count;
        }
        Ok(counts)
    }
}

/// A tenant's generator as the decimal text of its 128-bit state: many JSON readers (and
/// `serde_json::Value`) hold no integer past 2^64, so a number would not survive them.
pub(crate) mod rng {
    use std::borrow::Cow;

    use rand_pcg::Pcg64Mcg;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// The generator's own serde form.
    #[derive(Deserialize)]
    struct State {
        state: u128,
    }

    pub(crate) fn serialize<S: Serializer>(
        rng: &Pcg64Mcg,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(rng).map_err(S::Error::custom)?;
        let state: State = serde_json::from_str(&text).map_err(S::Error::custom)?;
        serializer.collect_str(&state.state)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Pcg64Mcg, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        let state: u128 = text
            .parse()
            .map_err(|_| D::Error::custom(format!("invalid generator state {text:?}")))?;
        serde_json::from_str(&format!("{{\"state\":{state}}}")).map_err(D::Error::custom)
    }
}
