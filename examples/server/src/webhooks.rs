//! Webhooks: committed facts (a chat started or changed status, a message, a ticket opened
//! or changed, a rating) POSTed to the URLs each tenant subscribed, signed with
//! HMAC-SHA256.
//!
//! After every commit the engine thread hands the outputs to [`Webhooks::offer`], which
//! returns at once when no tenant has a webhook. Otherwise it derives the
//! [events](events::EVENT_TYPES) of the tenants that subscribed to them, builds each payload
//! once and queues one [`Delivery`] per subscribed webhook on a bounded channel; when the
//! channel is full the delivery is dropped, counted in the metrics and logged, so the engine
//! thread never waits.
//!
//! The [`Deliverer`] takes deliveries off the queue, records them as pending host values
//! (namespace [`PENDING_NAMESPACE`]), POSTs them (5 s timeout, retries with exponential
//! backoff), writes every attempt to the [delivery log](history) and removes the pending
//! value when the delivery succeeded or failed for good. Deliveries still pending at
//! start-up (the server stopped or crashed while they waited for a retry) are sent again, so
//! delivery is at least once from the moment a delivery is recorded as pending (normally a
//! few milliseconds after its commit); receivers deduplicate by `X-Switchboard-Delivery`.
//! Deliveries are not ordered across events. See `docs/webhooks.md`.
//!
//! Each request carries:
//!
//! - the body `{"id", "type", "tenant_id", "created_at", "data"}` (`id` names the event,
//!   `created_at` is RFC 3339, `data` holds the engine's views with times in milliseconds),
//! - `X-Switchboard-Event`: the type,
//! - `X-Switchboard-Delivery`: the delivery id, the same for each attempt,
//! - `X-Switchboard-Timestamp`: Unix seconds of the attempt,
//! - `X-Switchboard-Signature`: `sha256=` and the hex HMAC-SHA256 of
//!   `"<timestamp>.<body>"` keyed with the webhook's secret.

pub mod delivery;
pub mod events;
pub mod history;
pub mod targets;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use switchboard_core::{Output, Timestamp};
use tokio::sync::mpsc::{self, error::TrySendError};

pub use delivery::{Deliverer, Delivery, PENDING_NAMESPACE, load_pending, signature};
pub use history::History;

use crate::directory::{Directory, Webhook};

/// Whether a webhook wants events of this type (an empty list subscribes to all).
#[must_use]
pub fn subscribes(webhook: &Webhook, event_type: &str) -> bool {
    webhook.enabled
        && (webhook.events.is_empty() || webhook.events.iter().any(|name| name == event_type))
}

/// The offering side: derives events after each commit and queues their deliveries.
#[derive(Clone)]
pub struct Webhooks {
    directory: Arc<Directory>,
    history: Arc<History>,
    queue: mpsc::Sender<Delivery>,
}

impl Webhooks {
    /// The offering side over `directory`, and the queue's receiving end for the
    /// [`Deliverer`]; at most `capacity` deliveries wait.
    #[must_use]
    pub fn new(
        directory: Arc<Directory>,
        history: Arc<History>,
        capacity: usize,
    ) -> (Webhooks, mpsc::Receiver<Delivery>) {
        let (queue, receiver) = mpsc::channel(capacity.max(1));
        (
            Webhooks {
                directory,
                history,
                queue,
            },
            receiver,
        )
    }

    /// The delivery log.
    #[must_use]
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Queues deliveries for the outputs of one commit. Never blocks.
    pub fn offer(&self, outputs: &[Output]) {
        if !self.directory.has_webhooks() {
            return;
        }
        let mut hooks: HashMap<String, Vec<(String, Webhook)>> = HashMap::new();
        let directory = &self.directory;
        let mut wanted = |tenant: &str, event_type: &str| {
            if !hooks.contains_key(tenant) {
                let mut list = directory.webhooks(tenant);
                list.retain(|(_, webhook)| webhook.enabled);
                hooks.insert(tenant.to_owned(), list);
            }
            hooks[tenant]
                .iter()
                .any(|(_, webhook)| subscribes(webhook, event_type))
        };
        let derived = events::derive(outputs, &mut wanted);
        if derived.is_empty() {
            return;
        }
        let created_at = crate::api::convert::time(Timestamp(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
                }),
        ));
        let mut dropped = 0usize;
        for event in derived {
            let event_id = format!("evt_{}", crate::random_token(12));
            let body: Arc<str> = Arc::from(
                json!({
                    "id": event_id,
                    "type": event.event_type,
                    "tenant_id": event.tenant_id,
                    "created_at": created_at,
                    "data": event.data,
                })
                .to_string(),
            );
            let subscribed = hooks
                .get(&event.tenant_id)
                .into_iter()
                .flatten()
                .filter(|(_, webhook)| subscribes(webhook, event.event_type));
            for (webhook_id, _) in subscribed {
                let delivery = Delivery {
                    delivery_id: format!("dlv_{}", crate::random_token(12)),
                    event_id: event_id.clone(),
                    tenant_id: event.tenant_id.clone(),
                    webhook_id: webhook_id.clone(),
                    event_type: event.event_type.to_owned(),
                    body: body.clone(),
                    attempts: 0,
                };
                match self.queue.try_send(delivery) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        dropped += 1;
                        crate::metrics::webhook_dropped();
                    }
                    Err(TrySendError::Closed(_)) => {
                        tracing::debug!("webhook deliveries have stopped; delivery not queued");
                    }
                }
            }
        }
        if dropped > 0 {
            tracing::warn!(dropped, "webhook queue full; deliveries dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{self, namespace};

    fn hook(events: &[&str]) -> Webhook {
        Webhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "secret".into(),
            events: events.iter().map(|name| (*name).to_owned()).collect(),
            enabled: true,
        }
    }

    #[test]
    fn offers_only_to_subscribed_webhooks_and_drops_when_the_queue_is_full() {
        let started = events::tests::started_chat();
        let directory = Arc::new(Directory::default());
        let (webhooks, mut queue) = Webhooks::new(directory.clone(), Arc::default(), 2);
        webhooks.offer(&started);
        assert!(queue.try_recv().is_err(), "no webhooks: nothing queued");

        directory.apply(&[
            directory::write(
                "t1",
                namespace::WEBHOOK,
                "wh_a",
                &hook(&["message.created"]),
            ),
            directory::write("t2", namespace::WEBHOOK, "wh_b", &hook(&[])),
        ]);
        webhooks.offer(&started);
        let delivery = queue.try_recv().expect("the message event");
        assert_eq!(delivery.webhook_id, "wh_a");
        assert_eq!(delivery.event_type, "message.created");
        let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["tenant_id"], "t1");
        assert_eq!(body["id"], delivery.event_id.as_str());
        assert_eq!(body["data"]["message"]["body"], "hello");
        assert!(
            queue.try_recv().is_err(),
            "only the subscribed type, only this tenant"
        );

        // All events, a queue of two: the rest is dropped without blocking.
        directory.apply(&[directory::write(
            "t1",
            namespace::WEBHOOK,
            "wh_a",
            &hook(&[]),
        )]);
        webhooks.offer(&started);
        assert!(queue.try_recv().is_ok());
        assert!(queue.try_recv().is_ok());
        assert!(queue.try_recv().is_err());

        // A paused webhook gets nothing.
        let mut paused = hook(&[]);
        paused.enabled = false;
        directory.apply(&[directory::write("t1", namespace::WEBHOOK, "wh_a", &paused)]);
        webhooks.offer(&started);
        assert!(queue.try_recv().is_err());
    }
}
