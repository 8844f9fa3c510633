//! `switchboard-loadgen`: opens K visitor and K agent WebSocket connections to a running
//! Switchboard server, runs K conversations in which the visitor sends M messages to the
//! agent, and reports delivered messages per second, delivery latency percentiles (send to
//! receive) and the server's memory.
//!
//! A message counts as delivered when the agent's connection receives its event; the server
//! commits every message before it releases the event, so this is durable delivery. The
//! server writes its read tables (history, search) in batches after the commit; a one-process
//! run also reports when a REST read, which waits for those tables, first returns once every
//! message has arrived.
//!
//! # One process or two
//!
//! By default (`--side both`) one process holds both ends of every conversation: 2K
//! sockets, more than a process may open where its file limit is 20,000 and K is 10,000.
//! Split the run over two processes on the same machine instead, each holding K sockets:
//!
//! - `--side agents` creates the K agents (each takes one chat and accepts it at once),
//!   connects them and sets them online, then prints `ready run=ID k=K m=M` on stdout and
//!   writes the same line to `--ready-file` when given. It counts and times what arrives,
//!   and reports the delivered rate (from the first message's send to the last delivery)
//!   and the latency percentiles once all K×M messages have arrived; or, with what did
//!   arrive, `--timeout` seconds after it was ready, or 5 s after the visitors side
//!   finished with messages still missing.
//! - `--side visitors` connects the K visitors, starts their chats, waits until each has
//!   its agent, sends, and reports what it sent and the server acknowledged (committed).
//!   With `--ready-file` it first waits for that file (so both sides may be started
//!   together), takes the run id from it, refuses one of another K or M, and removes the
//!   file when it finishes.
//!
//! The sides need no pairing of their own: every agent is online with room for one chat,
//! so the server routes the K chats to the K agents, one each. Messages carry their send
//! time (µs since the epoch), so latency is measured across the two processes by the
//! machine's one clock. Give both sides the same `-k`, `-m` and `--mode`. The run id only
//! keeps a run's identities apart from earlier runs'; the visitors side takes the agents
//! side's from the ready file. Use a new database for each run all the same: agents of an
//! earlier run may still be online, or hold chats.
//!
//! The server holds all 2K sockets: its own file limit must exceed 2K plus the few files
//! it keeps open, or the last connections are never accepted (they fail here after 60 s).
//!
//! K=10,000, flood (the agents side's report is in `agents.txt`):
//!
//! ```sh
//! switchboard-loadgen --side agents -k 10000 -m 100 --ready-file lg.ready \
//!     --erp-secret SECRET --server-pid PID > agents.txt &
//! switchboard-loadgen --side visitors -k 10000 -m 100 --ready-file lg.ready \
//!     --erp-secret SECRET --server-pid PID
//! wait; cat agents.txt
//! ```
//!
//! Paced: add `--mode paced -r 1 --spread` to both. Idle (memory of 2K open connections):
//! `--idle` on both, with a long `--hold` on the agents side (it holds its connections
//! until the visitors side removes the ready file, at most that long). Without a ready
//! file, start the visitors side once the agents side has printed its `ready` line.
//!
//! In flood mode, all visitors together keep at most `--max-in-flight` messages
//! unanswered (the window per visitor shrinks at large K): beyond its engine queue the
//! server refuses commands as `overloaded`, which fails the run.

mod report;
mod setup;
mod socket;
mod split;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};

use report::{Progress, Stats};
use socket::{Conversation, Gate};

/// Command-line options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "switchboard-loadgen",
    version,
    about,
    after_help = "Split over two processes on one machine (each holds K sockets instead of 2K):\n  \
        switchboard-loadgen --side agents   -k 10000 -m 100 --ready-file lg.ready \
        --erp-secret SECRET > agents.txt &\n  \
        switchboard-loadgen --side visitors -k 10000 -m 100 --ready-file lg.ready \
        --erp-secret SECRET\n  \
        wait; cat agents.txt\n\
        The agents side reports delivery and latency once all K*M messages arrived; the visitors \
        side reports what it sent. Use a new database for each run."
)]
pub struct Options {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    /// Which end of the conversations this process runs: both, or one of them with the
    /// other in a second process (when 2K sockets exceed one process's file limit).
    #[arg(long, value_enum, default_value_t = Side::Both)]
    pub side: Side,
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
    /// Paced mode: start the visitors' clocks spread over one period instead of all at
    /// once (otherwise every period begins with a burst of K messages).
    #[arg(long)]
    pub spread: bool,
    /// Message size in bytes.
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// Unanswered messages a visitor may have in flight in flood mode.
    #[arg(long, default_value_t = 32)]
    pub window: usize,
    /// Flood mode: most unanswered messages of all visitors together; the window shrinks
    /// to keep K × window within it, because the server refuses commands (`overloaded`)
    /// beyond its engine queue of 65,536 (the default leaves K up to 2,048 at a window
    /// of 32).
    #[arg(long, default_value_t = 65_536)]
    pub max_in_flight: usize,
    /// Only open the connections and hold them idle (for the memory figure).
    #[arg(long)]
    pub idle: bool,
    /// Seconds to hold idle connections before measuring (the agents side: at most this
    /// long, less when the visitors side removes the ready file first).
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
    /// Connections opened at once while setting up.
    #[arg(long, default_value_t = 64)]
    pub connect_parallel: usize,
    /// Connections opened per second while setting up (0: as fast as --connect-parallel
    /// allows).
    #[arg(long, default_value_t = 0.0)]
    pub connect_rate: f64,
    /// Split mode: the file the agents side writes its ready line to; the visitors side
    /// waits for it, takes the run id from it and removes it when done.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
    /// Split mode: seconds the agents side waits, once ready, for all messages before it
    /// reports what arrived; seconds the visitors side waits for the ready file and for
    /// its chats' agents.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
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
    /// Distinguishes the identities of this run from earlier runs on the same database
    /// (default: from the clock; the visitors side of a split run takes the agents side's
    /// from the ready file).
    #[arg(long, default_value_t = default_run_id(), hide_default_value = true)]
    pub run_id: String,
    /// Set when --run-id was given rather than defaulted.
    #[arg(skip)]
    pub run_id_given: bool,
}

/// How visitors send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// As fast as the sockets take, with a window of unanswered messages.
    Flood,
    /// R messages per second per conversation.
    Paced,
}

impl Mode {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Flood => "flood",
            Mode::Paced => "paced",
        }
    }
}

/// Which end of the conversations a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    /// Visitors and agents in this one process.
    Both,
    /// The agents: they take the chats, receive and measure.
    Agents,
    /// The visitors: they start the chats and send.
    Visitors,
}

fn default_run_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    format!("{:x}", seconds % 0xff_ffff)
}

fn main() -> std::process::ExitCode {
    let mut options = Options::parse();
    options.run_id_given = std::env::args().any(|arg| arg.starts_with("--run-id"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        match options.side {
            Side::Both => run(options).await,
            Side::Agents => split::agents(options).await,
            Side::Visitors => split::visitors(options).await,
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard-loadgen: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Shrinks the flood window to keep all visitors' unanswered messages under
/// `--max-in-flight`, and says so.
pub fn fit_window(options: &mut Options) {
    let k = options.conversations.max(1);
    // A visitor never has more unanswered than it has messages.
    let window = options.window.min(options.messages).max(1);
    let fitted = (options.max_in_flight / k).clamp(1, window);
    if options.mode == Mode::Flood && !options.idle && fitted < window {
        eprintln!(
            "flood window {fitted} per visitor instead of {window}: {k} × {window} would exceed --max-in-flight {}",
            options.max_in_flight
        );
        options.window = fitted;
    }
}

/// Both ends in this process.
async fn run(mut options: Options) -> Result<(), String> {
    fit_window(&mut options);
    let options = Arc::new(options);
    let k = options.conversations;
    eprintln!("setting up {k} agents");
    setup::create_agents(&options).await?;
    let stats = Arc::new(Stats::default());
    let progress = Progress::start(stats.clone(), options.clone());
    eprintln!("connecting {k} agents and {k} visitors");
    let gate = Arc::new(Gate::new(k));
    let mut tasks = Vec::with_capacity(k);
    let connect_slots = Arc::new(tokio::sync::Semaphore::new(options.connect_parallel.max(1)));
    let connect_start = tokio::time::Instant::now();
    for index in 0..k {
        let conversation = Conversation {
            index,
            options: options.clone(),
            stats: stats.clone(),
            gate: gate.clone(),
            connect_slots: connect_slots.clone(),
            connect_at: socket::connect_time(&options, connect_start, index, 2),
        };
        tasks.push(tokio::spawn(conversation.run()));
    }
    gate.all_ready().await?;
    let rss_connected = options.server_pid.and_then(report::server_memory);
    if options.idle {
        tokio::time::sleep(Duration::from_secs(options.hold)).await;
        progress.stop();
        report::idle(&options, &stats, rss_connected, options.hold);
        std::process::exit(0);
    }
    eprintln!("all {k} conversations are assigned; sending");
    let start = Instant::now();
    gate.go();
    let mut first_session = None;
    for task in tasks {
        match task.await {
            Ok(Ok(session_id)) => {
                first_session.get_or_insert(session_id);
            }
            Ok(Err(error)) => return Err(error),
            Err(error) => return Err(error.to_string()),
        }
    }
    let elapsed = start.elapsed();
    progress.stop();
    // Delivery needs the commit; the server fills its read tables (history, search) after
    // it, in batches. The run is whole once a read sees every message.
    let session_id = first_session.ok_or("no conversation ran")?;
    let held = setup::read_back(&options, 0, &session_id).await?;
    let readable = start.elapsed();
    if held < options.messages as u64 {
        return Err(format!(
            "conversation 0's chat holds {held} messages after the run, fewer than the {} sent",
            options.messages
        ));
    }
    report::finish(
        &options,
        &stats,
        (elapsed, readable),
        options.server_pid.and_then(report::server_memory),
    );
    Ok(())
}
