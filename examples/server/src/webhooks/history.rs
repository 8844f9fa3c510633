//! The delivery log: every webhook attempt, the most recent [`LOG_LIMIT`] per tenant, in
//! memory for the admin API and in the store as host values (namespace
//! [`DELIVERY_NAMESPACE`]) so it survives a restart.
//!
//! The stored log is a ring: attempt number `seq` of a tenant is kept under the key
//! `seq % LOG_LIMIT`, so writing a new attempt replaces the oldest and the stored count
//! never grows past the limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use switchboard_store::{DurableEngine, StoreError};

use crate::engine_loop::HostWrite;

/// Host value namespace of the stored delivery log.
pub const DELIVERY_NAMESPACE: &str = "webhook_delivery";
/// Attempts kept per tenant.
pub const LOG_LIMIT: usize = 200;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Position in the tenant's log (increasing).
    pub seq: u64,
    /// The delivery (the same for every attempt of one event to one webhook).
    pub delivery_id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The event (the payload's `id`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Whether the receiver answered 2xx.
    pub ok: bool,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// Whether another attempt follows (false for a success and the last failure).
    pub will_retry: bool,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// When it was made (RFC 3339).
    pub at: String,
}

#[derive(Default)]
struct TenantLog {
    next_seq: u64,
    attempts: VecDeque<Attempt>,
}

/// The per-tenant logs.
#[derive(Default)]
pub struct History {
    tenants: Mutex<HashMap<String, TenantLog>>,
}

impl History {
    /// The logs stored in `store` (values that do not parse are skipped).
    pub fn load(store: &DurableEngine) -> Result<History, StoreError> {
        let history = History::default();
        {
            let mut tenants = history.tenants.lock().expect("history lock");
            for value in store.host_values(DELIVERY_NAMESPACE)? {
                let Ok(attempt) = serde_json::from_str::<Attempt>(&value.value) else {
                    tracing::warn!("skipping a stored webhook attempt that does not parse");
                    continue;
                };
                let log = tenants.entry(value.tenant_id).or_default();
                log.next_seq = log.next_seq.max(attempt.seq + 1);
                log.attempts.push_back(attempt);
            }
            for log in tenants.values_mut() {
                log.attempts
                    .make_contiguous()
                    .sort_by_key(|attempt| attempt.seq);
                while log.attempts.len() > LOG_LIMIT {
                    log.attempts.pop_front();
                }
            }
        }
        Ok(history)
    }

    /// Numbers an attempt and returns the host write that stores it. The attempt joins the
    /// in-memory log with [`History::insert`], once it is stored.
    pub fn number(&self, tenant_id: &str, attempt: &mut Attempt) -> HostWrite {
        let mut tenants = self.tenants.lock().expect("history lock");
        let log = tenants.entry(tenant_id.to_owned()).or_default();
        attempt.seq = log.next_seq;
        log.next_seq += 1;
        (
            tenant_id.to_owned(),
            DELIVERY_NAMESPACE,
            slot_key(attempt.seq),
            Some(serde_json::to_string(attempt).expect("attempts serialize")),
        )
    }

    /// Adds a numbered attempt to the in-memory log, dropping the oldest past the limit.
    pub fn insert(&self, tenant_id: &str, attempt: Attempt) {
        let mut tenants = self.tenants.lock().expect("history lock");
        let log = tenants.entry(tenant_id.to_owned()).or_default();
        let at = log
            .attempts
            .iter()
            .rposition(|other| other.seq < attempt.seq)
            .map_or(0, |index| index + 1);
        log.attempts.insert(at, attempt);
        while log.attempts.len() > LOG_LIMIT {
            log.attempts.pop_front();
        }
    }

    /// A tenant's most recent attempts, newest first, optionally of one webhook only.
    #[must_use]
    pub fn recent(&self, tenant_id: &str, webhook_id: Option<&str>, limit: usize) -> Vec<Attempt> {
        let tenants = self.tenants.lock().expect("history lock");
        tenants
            .get(tenant_id)
            .map(|log| {
                log.attempts
                    .iter()
                    .rev()
                    .filter(|attempt| webhook_id.is_none_or(|id| attempt.webhook_id == id))
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The ring slot of attempt `seq`.
fn slot_key(seq: u64) -> String {
    format!("{:04}", seq % LOG_LIMIT as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(webhook: &str) -> Attempt {
        Attempt {
            seq: 0,
            delivery_id: "dlv".into(),
            webhook_id: webhook.into(),
            event_id: "evt".into(),
            event_type: "message.created".into(),
            attempt: 1,
            ok: true,
            status: Some(200),
            error: None,
            will_retry: false,
            duration_ms: 1,
            at: String::new(),
        }
    }

    #[test]
    fn the_log_is_bounded_per_tenant_and_its_slots_wrap() {
        let history = History::default();
        let mut keys = std::collections::HashSet::new();
        for n in 0..(LOG_LIMIT + 25) {
            let mut entry = attempt(if n % 2 == 0 { "a" } else { "b" });
            let (tenant, namespace, key, value) = history.number("t1", &mut entry);
            assert_eq!((tenant.as_str(), namespace), ("t1", DELIVERY_NAMESPACE));
            assert!(value.is_some());
            keys.insert(key);
            history.insert("t1", entry);
        }
        assert_eq!(
            keys.len(),
            LOG_LIMIT,
            "the stored ring never grows past the limit"
        );
        let all = history.recent("t1", None, usize::MAX);
        assert_eq!(all.len(), LOG_LIMIT);
        assert_eq!(all[0].seq, (LOG_LIMIT + 24) as u64, "newest first");
        assert!(
            history
                .recent("t1", Some("a"), 10)
                .iter()
                .all(|a| a.webhook_id == "a")
        );
        assert!(history.recent("t2", None, 10).is_empty());
    }
}
