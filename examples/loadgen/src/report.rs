//! Counters, the progress line and the final report.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::{Mode, Options, Side};

/// Microseconds since the epoch (comparable across processes on one machine).
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros() as u64)
}

/// Shared counters and the latency histogram (µs).
pub struct Stats {
    connections: AtomicU64,
    sent: AtomicU64,
    acknowledged: AtomicU64,
    received: AtomicU64,
    chats: AtomicU64,
    first_sent_us: AtomicU64,
    last_received_us: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            connections: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            received: AtomicU64::new(0),
            chats: AtomicU64::new(0),
            first_sent_us: AtomicU64::new(u64::MAX),
            last_received_us: AtomicU64::new(0),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"),
            ),
        }
    }
}

impl Stats {
    /// Connections opened.
    pub fn connected(&self, count: u64) {
        self.connections.fetch_add(count, Ordering::Relaxed);
    }

    /// A message was sent.
    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// The server committed a sent message.
    pub fn acknowledged(&self) {
        self.acknowledged.fetch_add(1, Ordering::Relaxed);
    }

    /// Messages received so far.
    pub fn delivered(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// A chat got its agent.
    pub fn chat(&self) {
        self.chats.fetch_add(1, Ordering::Relaxed);
    }

    /// A message sent at `sent_us` arrived at `now_us` (µs since the epoch).
    pub fn received(&self, sent_us: u64, now_us: u64) {
        self.received.fetch_add(1, Ordering::Relaxed);
        // The agents side of a split run never sees the start signal: its measured span
        // runs from the first send any message records to the last delivery.
        self.first_sent_us.fetch_min(sent_us, Ordering::Relaxed);
        self.last_received_us.fetch_max(now_us, Ordering::Relaxed);
        let _ = self
            .latency
            .lock()
            .expect("stats lock")
            .record(now_us.saturating_sub(sent_us).max(1));
    }
}

/// The once-a-second progress line on stderr.
pub struct Progress {
    stop: Arc<AtomicBool>,
}

impl Progress {
    /// Starts printing.
    pub fn start(stats: Arc<Stats>, options: Arc<Options>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            while !stopped.load(Ordering::Relaxed) {
                tick.tick().await;
                let received = stats.received.load(Ordering::Relaxed);
                let p99 = stats
                    .latency
                    .lock()
                    .expect("stats lock")
                    .value_at_quantile(0.99);
                let mode = if options.idle {
                    "idle"
                } else {
                    options.mode.name()
                };
                let connections = stats.connections.load(Ordering::Relaxed);
                let chats = stats.chats.load(Ordering::Relaxed);
                let sent = stats.sent.load(Ordering::Relaxed);
                let ms = p99 as f64 / 1_000.0;
                // The rate is of what this process sees: deliveries, or sends on the
                // visitors side.
                let counted = if options.side == Side::Visitors {
                    sent
                } else {
                    received
                };
                let rate = counted - last;
                last = counted;
                match options.side {
                    Side::Both => eprint!(
                        "\r[{mode}] connections {connections:>6}  sent {sent:>9}  delivered {received:>9} ({rate:>7} msg/s)  p99 {ms:>8.2} ms   "
                    ),
                    Side::Agents => eprint!(
                        "\r[agents {mode}] agents {connections:>6}  chats {chats:>6}  delivered {received:>9} ({rate:>7} msg/s)  p99 {ms:>8.2} ms   "
                    ),
                    Side::Visitors => eprint!(
                        "\r[visitors {mode}] visitors {connections:>6}  chats {chats:>6}  sent {sent:>9} ({rate:>7} msg/s)   "
                    ),
                }
            }
        });
        Progress { stop }
    }

    /// Stops printing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        eprintln!();
    }
}

/// The server's resident memory (current, peak) in KiB, from /proc.
pub fn server_memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn memory(label: &str, memory: Option<(u64, u64)>) {
    if let Some((rss, peak)) = memory {
        println!(
            "{label}: RSS {:.1} MiB (peak {:.1} MiB)",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
}

/// The idle-connections report, after holding them `held_s` seconds; `connected` is the
/// server's memory when they were all open.
pub fn idle(options: &Options, stats: &Stats, connected: Option<(u64, u64)>, held_s: u64) {
    let held = options.server_pid.and_then(server_memory);
    let open = stats.connections.load(Ordering::Relaxed);
    let k = options.conversations;
    match options.side {
        Side::Both => println!("idle: {open} connections open ({k} visitors, {k} agents)"),
        Side::Agents => println!("idle: {open} agent connections open (of {k})"),
        Side::Visitors => println!("idle: {open} visitor connections open (of {k})"),
    }
    memory("server when connected", connected);
    memory(&format!("server after {held_s} s"), held);
}

/// The run's parameters, the report's first line.
fn heading(options: &Options) -> String {
    let side = match options.side {
        Side::Both => "",
        Side::Agents => "agents ",
        Side::Visitors => "visitors ",
    };
    format!(
        "{side}{} K={} M={} size={}{}",
        options.mode.name(),
        options.conversations,
        options.messages,
        options.size,
        match options.mode {
            Mode::Paced if options.spread => format!(" R={} spread", options.rate),
            Mode::Paced => format!(" R={}", options.rate),
            Mode::Flood => String::new(),
        }
    )
}

fn latency(stats: &Stats) {
    let latency = stats.latency.lock().expect("stats lock");
    let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1_000.0;
    println!(
        "latency (send to receive): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        latency.max() as f64 / 1_000.0
    );
}

/// The final report.
pub fn finish(
    options: &Options,
    stats: &Stats,
    (delivered, readable): (Duration, Duration),
    server: Option<(u64, u64)>,
) {
    let received = stats.received.load(Ordering::Relaxed);
    println!("{}", heading(options));
    println!(
        "delivered {received} messages in {:.2} s: {:.0} messages/s",
        delivered.as_secs_f64(),
        received as f64 / delivered.as_secs_f64()
    );
    println!(
        "readable over REST (history and search) after {:.2} s: {:.0} messages/s",
        readable.as_secs_f64(),
        received as f64 / readable.as_secs_f64()
    );
    latency(stats);
    memory("server", server);
}

/// The agents side's report: what arrived, over the span from the first message's send
/// to the last one's delivery.
pub fn agents(
    options: &Options,
    stats: &Stats,
    cut_short: Option<&str>,
    server: Option<(u64, u64)>,
) {
    let received = stats.received.load(Ordering::Relaxed);
    let expected = (options.conversations * options.messages) as u64;
    let chats = stats.chats.load(Ordering::Relaxed);
    println!("{}", heading(options));
    println!("chats assigned: {chats} of {}", options.conversations);
    let first = stats.first_sent_us.load(Ordering::Relaxed);
    let last = stats.last_received_us.load(Ordering::Relaxed);
    let span = last.saturating_sub(first) as f64 / 1e6;
    if received == 0 {
        println!("delivered 0 of {expected} messages");
    } else {
        println!(
            "delivered {received} of {expected} messages in {span:.2} s (first send to last delivery): {:.0} messages/s",
            received as f64 / span.max(1e-6)
        );
        latency(stats);
    }
    if let Some(when) = cut_short {
        println!(
            "stopped waiting {when}: {} messages missing",
            expected - received.min(expected)
        );
    }
    memory("server", server);
}

/// What the visitors side sent.
pub struct Sent {
    /// From the start signal to the last acknowledgement.
    pub elapsed: Duration,
    /// Conversations that could not be set up, and the first reason.
    pub not_set_up: (usize, Option<String>),
    /// Conversations that failed while sending, and the first reason.
    pub failed: (usize, Option<String>),
}

/// The visitors side's report: what it sent (every message counted was acknowledged,
/// that is committed, by the server).
pub fn visitors(options: &Options, stats: &Stats, sent: &Sent, server: Option<(u64, u64)>) {
    let count = stats.sent.load(Ordering::Relaxed);
    let elapsed = sent.elapsed.as_secs_f64();
    println!("{}", heading(options));
    println!(
        "chats started: {} of {}",
        stats.chats.load(Ordering::Relaxed),
        options.conversations
    );
    let acknowledged = stats.acknowledged.load(Ordering::Relaxed);
    println!(
        "sent {count} of {} messages, {acknowledged} acknowledged, in {elapsed:.2} s: {:.0} messages/s",
        options.conversations * options.messages,
        acknowledged as f64 / elapsed.max(1e-6)
    );
    if let (failures @ 1.., error) = &sent.not_set_up {
        println!(
            "not set up: {failures} conversations (first: {})",
            error.as_deref().unwrap_or_default()
        );
    }
    if let (failures @ 1.., error) = &sent.failed {
        println!(
            "failed while sending: {failures} conversations (first: {})",
            error.as_deref().unwrap_or_default()
        );
    }
    memory("server", server);
}
