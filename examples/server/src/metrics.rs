//! Prometheus metrics (`/metrics`), process-wide.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use switchboard_core::protocol::model::SessionView;

type TenantLabel = Vec<(String, String)>;

struct Metrics {
    registry: Registry,
    sockets: Gauge,
    events_sent: Counter,
    messages: Counter,
    commands: Counter,
    commit_seconds: Histogram,
    commit_batch: Histogram,
    log_sync_seconds: Histogram,
    projection_seconds: Histogram,
    projection_records: Histogram,
    routing_seconds: Histogram,
    waiting: Family<TenantLabel, Gauge>,
    waiting_sessions: Mutex<HashMap<String, HashSet<u64>>>,
    effects_failed: Counter,
    webhooks_failed: Counter,
    webhooks_dropped: Counter,
    webhooks_delivered: Counter,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("switchboard");
        let sockets = Gauge::default();
        let events_sent = Counter::default();
        let messages = Counter::default();
        let commands = Counter::default();
        let commit_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        let commit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let log_sync_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        let projection_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        let projection_records = Histogram::new(exponential_buckets(1.0, 2.0, 16));
        let routing_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        let waiting = Family::<TenantLabel, Gauge>::default();
        let effects_failed = Counter::default();
        let webhooks_failed = Counter::default();
        let webhooks_dropped = Counter::default();
        let webhooks_delivered = Counter::default();
        registry.register(
            "websocket_connections",
            "Open WebSocket connections",
            sockets.clone(),
        );
        registry.register(
            "events_sent",
            "Events written to WebSocket clients",
            events_sent.clone(),
        );
        registry.register("messages", "Chat messages committed", messages.clone());
        registry.register("commands", "Commands committed", commands.clone());
        registry.register(
            "commit_seconds",
            "Time to write one group of steps (with --durability full, the fsync is \
             counted in log_sync_seconds)",
            commit_seconds.clone(),
        );
        registry.register(
            "log_sync_seconds",
            "Time to make the log durable, on the release thread (one sync covers every \
             group written before it)",
            log_sync_seconds.clone(),
        );
        registry.register(
            "commit_batch_size",
            "Commands per group commit",
            commit_batch.clone(),
        );
        registry.register(
            "projection_seconds",
            "Time to bring the read tables up to date with the committed steps",
            projection_seconds.clone(),
        );
        registry.register(
            "projection_records",
            "Records written per projection",
            projection_records.clone(),
        );
        registry.register(
            "routing_seconds",
            "From a chat joining the queue to its first assignment",
            routing_seconds.clone(),
        );
        registry.register(
            "queue_waiting_sessions",
            "Chats waiting for an agent",
            waiting.clone(),
        );
        registry.register(
            "effect_failures",
            "Push and e-mail attempts that failed",
            effects_failed.clone(),
        );
        registry.register(
            "webhook_failures",
            "Webhook attempts that failed",
            webhooks_failed.clone(),
        );
        registry.register(
            "webhook_drops",
            "Webhook deliveries dropped because the delivery queue was full",
            webhooks_dropped.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries the receiver accepted",
            webhooks_delivered.clone(),
        );
        Metrics {
            registry,
            sockets,
            events_sent,
            messages,
            commands,
            commit_seconds,
            commit_batch,
            log_sync_seconds,
            projection_seconds,
            projection_records,
            routing_seconds,
            waiting,
            waiting_sessions: Mutex::default(),
            effects_failed,
            webhooks_failed,
            webhooks_dropped,
            webhooks_delivered,
        }
    })
}

/// The text exposition.
#[must_use]
pub fn render() -> String {
    let mut text = String::new();
    encode(&mut text, &metrics().registry).expect("writing to a String");
    text
}

/// A socket opened.
pub fn socket_opened() {
    metrics().sockets.inc();
}

/// A socket closed.
pub fn socket_closed() {
    metrics().sockets.dec();
}

/// Events written to a socket.
pub fn events_sent(count: usize) {
    metrics().events_sent.inc_by(count as u64);
}

/// A group commit finished.
pub fn record_commit(commands: usize, took: Duration) {
    let m = metrics();
    m.commands.inc_by(commands as u64);
    m.commit_seconds.observe(took.as_secs_f64());
    if commands > 0 {
        m.commit_batch.observe(commands as f64);
    }
}

/// The release thread synced the log.
pub fn record_log_sync(took: Duration) {
    metrics().log_sync_seconds.observe(took.as_secs_f64());
}

/// The read tables caught up with `records` committed records.
pub fn record_projection(records: usize, took: Duration) {
    let m = metrics();
    m.projection_seconds.observe(took.as_secs_f64());
    m.projection_records.observe(records as f64);
}

/// A chat message was committed.
pub fn message_committed() {
    metrics().messages.inc();
}

/// A session's recorded state: tracks waiting chats and first-assignment latency.
pub fn session_recorded(tenant_id: &str, session: &SessionView) {
    let m = metrics();
    // Called for every recorded session state (after each message): no allocation unless
    // the tenant is new to this map.
    let mut waiting = m.waiting_sessions.lock().expect("metrics lock");
    if !waiting.contains_key(tenant_id) {
        waiting.insert(tenant_id.to_owned(), HashSet::new());
    }
    let set = waiting.get_mut(tenant_id).expect("inserted above");
    let changed = if session.status.is_waiting() {
        set.insert(session.session_id.0)
    } else {
        set.remove(&session.session_id.0)
    };
    if changed {
        m.waiting
            .get_or_create(&vec![("tenant".to_owned(), tenant_id.to_owned())])
            .set(set.len() as i64);
    }
    if let (Some(first), Some(assigned)) = (session.first_assigned_at, session.assigned_at)
        && first == assigned
        && session.status.is_with_agent()
        && changed
    {
        let from = session.queued_at.unwrap_or(session.created_at);
        m.routing_seconds
            .observe(((first.0 - from.0).max(0) as f64) / 1_000.0);
    }
}

/// A push or e-mail attempt failed.
pub fn effect_failed() {
    metrics().effects_failed.inc();
}

/// A webhook attempt failed.
pub fn webhook_failed() {
    metrics().webhooks_failed.inc();
}

/// A webhook delivery was dropped: the delivery queue was full.
pub fn webhook_dropped() {
    metrics().webhooks_dropped.inc();
}

/// A webhook delivery was accepted by its receiver.
pub fn webhook_delivered() {
    metrics().webhooks_delivered.inc();
}
