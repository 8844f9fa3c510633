//! `switchboard-loadgen`: opens K visitor and K agent WebSocket connections to a running
//! Switchboard server, runs K conversations in which the visitor sends M messages to the
//! agent, and reports delivered messages per second, delivery latency percentiles (send to
//! receive) and the server's memory.
//!
//! A message counts as delivered when the agent's connection receives its event; the server
//! commits every message before it releases the event, so this is durable delivery.

mod report;
mod setup;
mod socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use tokio::sync::Barrier;

use report::{Progress, Stats};
use socket::Conversation;

/// Command-line options.
#[derive(Debug, Clone, Parser)]
#[command(name = "switchboard-loadgen", version, about)]
pub struct Options {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    /// Conversations (K): K visitor and K agent connections.
    #[arg(long, short = 'k', default_value_t = 200)]
    pub conversations: usize,
    /// Messages per conversation (M).
    #[arg(long, short = 'm', default_value_t = 200)]
    pub messages: usize,
    /// Flood (as fast as the sockets take) or paced (R messages per second each).
    #[arg(long, value_enum, default_value_t = Mode::Flood)]
    pub mode: Mode,
    /// Messages per second per conversation in paced mode (R).
    #[arg(long, short = 'r', default_value_t = 10.0)]
    pub rate: f64,
    /// Message size in bytes.
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// Unanswered messages a visitor may have in flight in flood mode.
    #[arg(long, default_value_t = 32)]
    pub window: usize,
    /// Only open the connections and hold them idle (for the memory figure).
    #[arg(long)]
    pub idle: bool,
    /// Seconds to hold idle connections before measuring.
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
    /// The tenant's domain.
    #[arg(long, default_value = "demo.localhost")]
    pub tenant_domain: String,
    /// The tenant's ERP token secret (signs the visitors' and agents' tokens).
    #[arg(long, env = "SWITCHBOARD_DEMO_JWT_SECRET")]
    pub erp_secret: String,
    /// A tenant administrator's login, used to create the load agents.
    #[arg(long, default_value = "admin@demo.localhost")]
    pub admin_email: String,
    /// Its password.
    #[arg(long, env = "SWITCHBOARD_DEMO_PASSWORD", default_value = "demo")]
    pub admin_password: String,
    /// The server's process id, for its memory figures.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Distinguishes the identities of this run from earlier runs on the same database.
    #[arg(long, default_value_t = default_run_id())]
    pub run_id: String,
}

/// How visitors send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// As fast as the sockets take, with a window of unanswered messages.
    Flood,
    /// R messages per second per conversation.
    Paced,
}

fn default_run_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    format!("{:x}", seconds % 0xff_ffff)
}

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard-loadgen: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = Arc::new(options);
    let k = options.conversations;
    eprintln!("setting up {k} agents");
    setup::create_agents(&options).await?;
    let stats = Arc::new(Stats::default());
    let progress = Progress::start(stats.clone(), options.clone());
    eprintln!("connecting {k} agents and {k} visitors");
    let ready = Arc::new(Barrier::new(k + 1));
    let go = Arc::new(AtomicBool::new(false));
    let started_at = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(k);
    let connect_slots = Arc::new(tokio::sync::Semaphore::new(64));
    for index in 0..k {
        let conversation = Conversation {
            index,
            options: options.clone(),
            stats: stats.clone(),
            ready: ready.clone(),
            go: go.clone(),
            connect_slots: connect_slots.clone(),
        };
        tasks.push(tokio::spawn(conversation.run()));
    }
    ready.wait().await;
    let rss_connected = options.server_pid.and_then(report::server_memory);
    if options.idle {
        tokio::time::sleep(Duration::from_secs(options.hold)).await;
        progress.stop();
        report::idle(
            &options,
            &stats,
            rss_connected,
            options.server_pid.and_then(report::server_memory),
        );
        std::process::exit(0);
    }
    eprintln!("all {k} conversations are assigned; sending");
    let start = Instant::now();
    started_at.store(1, Ordering::Relaxed);
    go.store(true, Ordering::Release);
    stats.start();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(error) => return Err(error.to_string()),
        }
    }
    let elapsed = start.elapsed();
    progress.stop();
    report::finish(
        &options,
        &stats,
        elapsed,
        options.server_pid.and_then(report::server_memory),
    );
    Ok(())
}
