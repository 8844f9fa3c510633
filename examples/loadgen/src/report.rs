//! Counters, the progress line and the final report.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::{Mode, Options};

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
    received: AtomicU64,
    latency: Mutex<Histogram<u64>>,
    started: Mutex<Option<Instant>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            connections: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"),
            ),
            started: Mutex::new(None),
        }
    }
}

impl Stats {
    /// Connections opened.
    pub fn connected(&self, count: u64) {
        self.connections.fetch_add(count, Ordering::Relaxed);
    }

    /// The sending phase began.
    pub fn start(&self) {
        *self.started.lock().expect("stats lock") = Some(Instant::now());
    }

    /// A message was sent.
    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// A message arrived after `latency_us`.
    pub fn received(&self, latency_us: u64) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .latency
            .lock()
            .expect("stats lock")
            .record(latency_us.max(1));
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
                eprint!(
                    "\r[{}] connections {:>6}  sent {:>9}  delivered {:>9} ({:>7} msg/s)  p99 {:>8.2} ms   ",
                    if options.mode == Mode::Flood {
                        "flood"
                    } else {
                        "paced"
                    },
                    stats.connections.load(Ordering::Relaxed),
                    stats.sent.load(Ordering::Relaxed),
                    received,
                    received - last,
                    p99 as f64 / 1_000.0,
                );
                last = received;
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

/// The idle-connections report.
pub fn idle(
    options: &Options,
    stats: &Stats,
    connected: Option<(u64, u64)>,
    held: Option<(u64, u64)>,
) {
    println!(
        "idle: {} connections open ({} visitors, {} agents)",
        stats.connections.load(Ordering::Relaxed),
        options.conversations,
        options.conversations
    );
    memory("server when connected", connected);
    memory(&format!("server after {} s", options.hold), held);
}

/// The final report.
pub fn finish(options: &Options, stats: &Stats, elapsed: Duration, server: Option<(u64, u64)>) {
    let received = stats.received.load(Ordering::Relaxed);
    let latency = stats.latency.lock().expect("stats lock");
    let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1_000.0;
    println!(
        "{} K={} M={} size={}{}",
        if options.mode == Mode::Flood {
            "flood"
        } else {
            "paced"
        },
        options.conversations,
        options.messages,
        options.size,
        if options.mode == Mode::Paced {
            format!(" R={}", options.rate)
        } else {
            String::new()
        }
    );
    println!(
        "delivered {received} messages in {:.2} s: {:.0} messages/s",
        elapsed.as_secs_f64(),
        received as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency (send to receive): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        latency.max() as f64 / 1_000.0
    );
    memory("server", server);
}
