//! Sending deliveries: signed POSTs with a timeout, retried with exponential backoff, each
//! attempt written to the delivery log, and the delivery kept in the store as pending until
//! it succeeded or failed for good.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use switchboard_core::Timestamp;
use switchboard_store::{DurableEngine, MAX_HOST_VALUE_BYTES, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use super::history::{Attempt, History};
use super::targets;
use crate::config::Config;
use crate::directory::Directory;
use crate::engine_loop::{EngineHandle, HostWrite};

/// Host value namespace of deliveries not finished yet (key: delivery id).
pub const PENDING_NAMESPACE: &str = "webhook_pending";
/// Timeout of one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts in flight at once.
const SENDING: usize = 16;
/// Deliveries taken off the queue and not finished (sending, or waiting for a retry).
const ACCEPTED: usize = 4_096;
/// Deliveries recorded as pending in one commit.
const BATCH: usize = 256;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3_600);

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Unique per event and webhook; the same for each attempt (`X-Switchboard-Delivery`).
    pub delivery_id: String,
    /// The event (the payload's `id`).
    pub event_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The event type (`X-Switchboard-Event`).
    pub event_type: String,
    /// The JSON payload, signed as sent.
    pub body: Arc<str>,
    /// Attempts made so far (before a restart, too).
    #[serde(default)]
    pub attempts: u32,
}

impl Delivery {
    /// The host write that stores it as pending, unless it is too large to store.
    fn pending_write(&self) -> Option<HostWrite> {
        let value = serde_json::to_string(self).ok()?;
        if value.len() > MAX_HOST_VALUE_BYTES {
            tracing::debug!(
                delivery_id = %self.delivery_id,
                "delivery too large to keep across a restart"
            );
            return None;
        }
        Some((
            self.tenant_id.clone(),
            PENDING_NAMESPACE,
            self.delivery_id.clone(),
            Some(value),
        ))
    }

    fn pending_removal(&self) -> HostWrite {
        (
            self.tenant_id.clone(),
            PENDING_NAMESPACE,
            self.delivery_id.clone(),
            None,
        )
    }
}

/// Deliveries left pending by the last run, oldest first (values that do not parse are
/// skipped).
pub fn load_pending(store: &DurableEngine) -> Result<Vec<Delivery>, StoreError> {
    let mut pending: Vec<Delivery> = store
        .host_values(PENDING_NAMESPACE)?
        .into_iter()
        .filter_map(
            |value| match serde_json::from_str::<Delivery>(&value.value) {
                Ok(delivery) => Some(delivery),
                Err(_) => {
                    tracing::warn!("skipping a pending webhook delivery that does not parse");
                    None
                }
            },
        )
        .collect();
    pending.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
    Ok(pending)
}

/// The `X-Switchboard-Signature` value: `sha256=` and the hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` keyed with the webhook's secret.
#[must_use]
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Writes to the store after an attempt: the log entry, and the pending delivery updated
/// or removed.
struct Record {
    tenant_id: String,
    attempt: Option<Attempt>,
    pending: Option<HostWrite>,
}

/// The delivery workers.
pub struct Deliverer {
    engine: EngineHandle,
    directory: Arc<Directory>,
    history: Arc<History>,
    http: reqwest::Client,
    /// Whether webhooks may reach non-public addresses ([`targets`]).
    private_targets: bool,
    attempts: u32,
    retry_base: Duration,
    sending: Semaphore,
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    retry: bool,
}

impl Deliverer {
    /// The workers for these options.
    pub fn new(
        config: &Config,
        engine: EngineHandle,
        directory: Arc<Directory>,
        history: Arc<History>,
    ) -> Result<Deliverer, String> {
        let mut http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !config.webhook_private_targets {
            if targets::system_proxy_configured() {
                // The proxy resolves the names (and its own name must resolve here, even
                // inward), so names are left to its policy; literal addresses are still
                // refused.
                tracing::info!(
                    "webhooks go through the system's HTTP proxy: its policy decides which names they reach"
                );
            } else {
                http = http.dns_resolver(Arc::new(targets::PublicOnly));
            }
        }
        let http = http
            .build()
            .map_err(|error| format!("webhook HTTP client: {error}"))?;
        Ok(Deliverer {
            engine,
            directory,
            history,
            http,
            private_targets: config.webhook_private_targets,
            attempts: config.webhook_attempts.max(1),
            retry_base: Duration::from_millis(config.webhook_retry_base_ms.max(1)),
            sending: Semaphore::new(SENDING),
        })
    }

    /// Carries out `pending` (left by the last run) and then what arrives on `queue`,
    /// until `stop` turns true or the queue closes. Deliveries waiting for a retry when it
    /// stops stay pending in the store for the next start.
    ///
    /// Deliveries leave the queue in batches, each recorded as pending in one commit
    /// before its first attempt. At most `SENDING` attempts run at once, and at most
    /// `ACCEPTED` deliveries are out of the queue (sending or waiting for a retry): past
    /// that, new ones wait in the queue, and when the queue is full they are dropped.
    pub async fn run(
        self,
        mut queue: mpsc::Receiver<Delivery>,
        pending: Vec<Delivery>,
        mut stop: watch::Receiver<bool>,
    ) {
        let this = Arc::new(self);
        let (records, record_queue) = mpsc::unbounded_channel();
        tokio::spawn(this.clone().record(record_queue));
        let accepted = Arc::new(Semaphore::new(ACCEPTED));
        if !pending.is_empty() {
            tracing::info!(count = pending.len(), "resuming pending webhook deliveries");
        }
        for delivery in pending {
            this.start(delivery, None, &records, &stop);
        }
        loop {
            let permit = tokio::select! {
                permit = accepted.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
                _ = stop.wait_for(|stop| *stop) => return,
            };
            let first = tokio::select! {
                next = queue.recv() => match next {
                    Some(delivery) => delivery,
                    None => return,
                },
                _ = stop.wait_for(|stop| *stop) => return,
            };
            let mut batch = vec![(first, permit)];
            while batch.len() < BATCH {
                let Ok(permit) = accepted.clone().try_acquire_owned() else {
                    break;
                };
                match queue.try_recv() {
                    Ok(delivery) => batch.push((delivery, permit)),
                    Err(_) => break,
                }
            }
            let writes: Vec<HostWrite> = batch
                .iter()
                .filter_map(|(delivery, _)| delivery.pending_write())
                .collect();
            if let Err(error) = this.write(writes).await {
                // Delivered all the same, only not kept across a restart.
                tracing::warn!(error = %error, "recording pending webhook deliveries failed");
            }
            for (delivery, permit) in batch {
                this.start(delivery, Some(permit), &records, &stop);
            }
        }
    }

    fn start(
        self: &Arc<Self>,
        delivery: Delivery,
        permit: Option<OwnedSemaphorePermit>,
        records: &mpsc::UnboundedSender<Record>,
        stop: &watch::Receiver<bool>,
    ) {
        let (this, records, stop) = (self.clone(), records.clone(), stop.clone());
        tokio::spawn(async move {
            this.deliver(delivery, records, stop).await;
            drop(permit);
        });
    }

    /// Attempts one delivery until it succeeds, fails for good, or the server stops.
    async fn deliver(
        &self,
        mut delivery: Delivery,
        records: mpsc::UnboundedSender<Record>,
        mut stop: watch::Receiver<bool>,
    ) {
        // At least one attempt per start, even for a delivery resumed after its last.
        let last = self.attempts.max(delivery.attempts + 1);
        loop {
            if *stop.borrow() {
                return;
            }
            let webhook = self
                .directory
                .webhooks(&delivery.tenant_id)
                .into_iter()
                .find(|(id, _)| *id == delivery.webhook_id)
                .map(|(_, webhook)| webhook)
                .filter(|webhook| webhook.enabled);
            let Some(webhook) = webhook else {
                // Removed or paused since: nothing to send, nothing left to keep.
                let _ = records.send(Record {
                    tenant_id: delivery.tenant_id.clone(),
                    attempt: None,
                    pending: Some(delivery.pending_removal()),
                });
                return;
            };
            let (outcome, took) = {
                let Ok(_slot) = self.sending.acquire().await else {
                    return;
                };
                delivery.attempts += 1;
                let started = Instant::now();
                let outcome = self.attempt(&webhook.url, &webhook.secret, &delivery).await;
                (outcome, started.elapsed())
            };
            let ok = outcome.error.is_none();
            let again = !ok && outcome.retry && delivery.attempts < last;
            if !ok {
                crate::metrics::webhook_failed();
                if again {
                    tracing::warn!(
                        tenant_id = %delivery.tenant_id,
                        webhook_id = %delivery.webhook_id,
                        delivery_id = %delivery.delivery_id,
                        attempt = delivery.attempts,
                        status = outcome.status,
                        "webhook delivery failed; retrying"
                    );
                } else {
                    tracing::error!(
                        tenant_id = %delivery.tenant_id,
                        webhook_id = %delivery.webhook_id,
                        delivery_id = %delivery.delivery_id,
                        attempts = delivery.attempts,
                        status = outcome.status,
                        "webhook delivery failed for good"
                    );
                }
            } else {
                crate::metrics::webhook_delivered();
            }
            let pending = if again {
                delivery.pending_write()
            } else {
                Some(delivery.pending_removal())
            };
            let _ = records.send(Record {
                tenant_id: delivery.tenant_id.clone(),
                attempt: Some(self.attempt_entry(&delivery, outcome, again, took)),
                pending,
            });
            if !again {
                return;
            }
            let exponent = delivery.attempts.saturating_sub(1).min(20);
            let backoff = self
                .retry_base
                .saturating_mul(1u32 << exponent)
                .min(MAX_BACKOFF);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }

    fn attempt_entry(
        &self,
        delivery: &Delivery,
        outcome: Outcome,
        will_retry: bool,
        took: Duration,
    ) -> Attempt {
        Attempt {
            seq: 0,
            delivery_id: delivery.delivery_id.clone(),
            webhook_id: delivery.webhook_id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            attempt: delivery.attempts,
            ok: outcome.error.is_none() && outcome.status.is_some(),
            status: outcome.status,
            error: outcome.error,
            will_retry,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            at: crate::api::convert::time(now()),
        }
    }

    /// One signed POST.
    async fn attempt(&self, url: &str, secret: &str, delivery: &Delivery) -> Outcome {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
            .to_string();
        if !self.private_targets
            && let Some(refused) = reqwest::Url::parse(url)
                .ok()
                .and_then(|url| targets::refused_literal(&url))
        {
            // Registered while private targets were allowed: it will not become public.
            return Outcome {
                status: None,
                error: Some(format!("refused: {refused}")),
                retry: false,
            };
        }
        let body = delivery.body.to_string();
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Switchboard-Event", &delivery.event_type)
            .header("X-Switchboard-Delivery", &delivery.delivery_id)
            .header("X-Switchboard-Timestamp", &timestamp)
            .header(
                "X-Switchboard-Signature",
                signature(secret, &timestamp, &body),
            )
            .body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    Outcome {
                        status: Some(status.as_u16()),
                        error: None,
                        retry: false,
                    }
                } else {
                    // The receiver's own errors (bad request, gone, forbidden) will not
                    // change by trying again; overload, timeouts and server errors may.
                    let retry = status.is_server_error()
                        || matches!(status.as_u16(), 408 | 409 | 425 | 429);
                    Outcome {
                        status: Some(status.as_u16()),
                        error: Some(format!("the receiver answered {status}")),
                        retry,
                    }
                }
            }
            Err(error) => {
                if let Some(refusal) = targets::not_public(&error) {
                    // Retried like a connection that failed: a name may be missing now
                    // and resolve later, and the log shows no difference between the two.
                    return Outcome {
                        status: None,
                        error: Some(format!("refused: {refusal}")),
                        retry: true,
                    };
                }
                let what = if error.is_timeout() {
                    "timed out".to_owned()
                } else if error.is_connect() {
                    "could not connect".to_owned()
                } else {
                    error.without_url().to_string()
                };
                Outcome {
                    status: None,
                    error: Some(what),
                    retry: true,
                }
            }
        }
    }

    /// Writes attempts and pending changes in batches: one commit for what has queued up.
    async fn record(self: Arc<Self>, mut queue: mpsc::UnboundedReceiver<Record>) {
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match queue.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
            let mut writes = Vec::with_capacity(batch.len() * 2);
            for record in &mut batch {
                if let Some(attempt) = &mut record.attempt {
                    writes.push(self.history.number(&record.tenant_id, attempt));
                }
                writes.extend(record.pending.take());
            }
            if let Err(error) = self.write(writes).await {
                tracing::warn!(error = %error, "recording webhook attempts failed");
            }
            for record in batch {
                if let Some(attempt) = record.attempt {
                    self.history.insert(&record.tenant_id, attempt);
                }
            }
        }
    }

    /// Commits host values on the engine thread.
    async fn write(&self, writes: Vec<HostWrite>) -> Result<(), String> {
        if writes.is_empty() {
            return Ok(());
        }
        self.engine
            .run(move |store| {
                for (tenant, namespace, key, value) in &writes {
                    if let Err(error) =
                        store.stage_host_value(tenant, namespace, key, value.as_deref())
                    {
                        tracing::warn!(code = error.code(), namespace, "webhook value refused");
                    }
                }
                store.commit().map(|outputs| {
                    // Nothing but host values was staged, so nothing is left to release.
                    debug_assert!(outputs.is_empty());
                })
            })
            .await
            .map_err(|error| error.message)?
            .map_err(|error| error.to_string())
    }
}

fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_of_timestamp_dot_body() {
        let body = r#"{"id":"evt_1","type":"message.created"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("1700000000.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(signature("s3cret", "1700000000", body), expected);
        assert_eq!(expected.len(), "sha256=".len() + 64);
        assert_ne!(signature("s3cret", "1700000001", body), expected);
        assert_ne!(signature("other", "1700000000", body), expected);
    }

    #[test]
    fn pending_deliveries_round_trip_and_oversize_ones_are_not_kept() {
        let delivery = Delivery {
            delivery_id: "dlv_1".into(),
            event_id: "evt_1".into(),
            tenant_id: "t1".into(),
            webhook_id: "wh_1".into(),
            event_type: "message.created".into(),
            body: Arc::from("{}"),
            attempts: 2,
        };
        let (tenant, namespace, key, value) = delivery.pending_write().unwrap();
        assert_eq!(
            (tenant.as_str(), namespace, key.as_str()),
            ("t1", PENDING_NAMESPACE, "dlv_1")
        );
        let back: Delivery = serde_json::from_str(&value.unwrap()).unwrap();
        assert_eq!(back, delivery);
        let large = Delivery {
            body: Arc::from("x".repeat(MAX_HOST_VALUE_BYTES)),
            ..delivery
        };
        assert!(large.pending_write().is_none());
    }
}
