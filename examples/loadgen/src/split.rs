//! The two halves of a run split over two processes: the agents side (takes the chats,
//! receives and measures) and the visitors side (starts the chats and sends).
//!
//! They meet only at the server: every agent is online with room for one chat and
//! accepts at once, so the K chats the visitors start land on the K agents one each,
//! whichever visitor meets whichever agent. The agents side says it is ready on stdout
//! and in the optional ready file; the visitors side waits for that file when given one.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::Options;
use crate::report::{self, Progress, Sent, Stats};
use crate::setup::{self, agent_id, token, visitor_id};
use crate::socket::{self, Gate, Socket, hello, hold, request, ws_url};

/// What the agents side prints and writes to the ready file: the run's identity and size.
fn ready_line(options: &Options) -> String {
    format!(
        "ready run={} k={} m={}",
        options.run_id, options.conversations, options.messages
    )
}

/// The agents side.
pub async fn agents(options: Options) -> Result<(), String> {
    let options = Arc::new(options);
    if let Some(path) = &options.ready_file {
        // A file left by an earlier run would start the visitors too early.
        let _ = std::fs::remove_file(path);
    }
    let k = options.conversations;
    eprintln!("setting up {k} agents (run {})", options.run_id);
    setup::create_agents(&options).await?;
    let stats = Arc::new(Stats::default());
    let progress = Progress::start(stats.clone(), options.clone());
    eprintln!("connecting {k} agents");
    let Crowd {
        gate,
        finished,
        start,
    } = launch(&options, &stats, agent);
    let (failed, error) = gate.settled().await;
    if failed > 0 {
        progress.stop();
        return Err(format!(
            "{failed} of {k} agents could not connect (first: {})",
            error.unwrap_or_default()
        ));
    }
    let rss_connected = options.server_pid.and_then(report::server_memory);
    let line = ready_line(&options);
    eprintln!(
        "\n{k} agents {} in {:.1} s",
        if options.idle { "connected" } else { "online" },
        start.elapsed().as_secs_f64()
    );
    println!("{line}");
    if let Some(path) = &options.ready_file {
        write_ready_file(path, &line)?;
    }
    gate.go();
    if options.idle {
        let ready_at = Instant::now();
        let hold = Duration::from_secs(options.hold);
        while ready_at.elapsed() < hold && options.ready_file.as_deref().is_none_or(Path::exists) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        progress.stop();
        report::idle(
            &options,
            &stats,
            rss_connected,
            ready_at.elapsed().as_secs(),
        );
        std::process::exit(0);
    }
    let timeout = Duration::from_secs(options.timeout);
    let (failed, cut_short) = tokio::select! {
        (failed, error) = finished.settled() => ((failed, error), None),
        () = tokio::time::sleep(timeout) => {
            ((0, None), Some(format!("after {} s", options.timeout)))
        }
        () = visitors_gone(&options, &stats) => {
            ((0, None), Some("after the visitors side finished".to_owned()))
        }
    };
    progress.stop();
    report::agents(
        &options,
        &stats,
        cut_short.as_deref(),
        options.server_pid.and_then(report::server_memory),
    );
    if let (failed @ 1.., error) = failed {
        return Err(format!(
            "{failed} agent connections failed (first: {})",
            error.unwrap_or_default()
        ));
    }
    if cut_short.is_some() {
        return Err("not every message arrived".into());
    }
    Ok(())
}

/// Resolves once the visitors side has removed the ready file (it has finished) and
/// nothing more arrived for 5 s; never without a ready file.
async fn visitors_gone(options: &Options, stats: &Stats) {
    let Some(path) = &options.ready_file else {
        return std::future::pending().await;
    };
    while path.exists() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    loop {
        let before = stats.delivered();
        tokio::time::sleep(Duration::from_secs(5)).await;
        if stats.delivered() == before {
            return;
        }
    }
}

/// Creates the ready file whole: the visitors side must never read half of it.
fn write_ready_file(path: &Path, line: &str) -> Result<(), String> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, format!("{line}\n"))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|error| format!("writing {}: {error}", path.display()))
}

/// One connection of a side, and what it reports to.
struct Member {
    index: usize,
    options: Arc<Options>,
    stats: Arc<Stats>,
    /// Counts it in once set up: an agent online, a visitor's chat with its agent.
    gate: Arc<Gate>,
    /// Counts it in once done: its M messages arrived (an agent) or were acknowledged (a
    /// visitor), or it was never set up.
    finished: Arc<Gate>,
}

/// A side's K connections under way: the gates they meet at, and when they began.
struct Crowd {
    gate: Arc<Gate>,
    finished: Arc<Gate>,
    start: tokio::time::Instant,
}

/// Spawns the side's K connections, each a task `run` started at its connect time, at most
/// `--connect-parallel` of them connecting at once.
fn launch<F, Fut>(options: &Arc<Options>, stats: &Arc<Stats>, run: F) -> Crowd
where
    F: Fn(Member, Arc<Semaphore>, Option<tokio::time::Instant>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let k = options.conversations;
    let gate = Arc::new(Gate::new(k));
    let finished = Arc::new(Gate::new(k));
    let slots = Arc::new(Semaphore::new(options.connect_parallel.max(1)));
    let start = tokio::time::Instant::now();
    for index in 0..k {
        let member = Member {
            index,
            options: options.clone(),
            stats: stats.clone(),
            gate: gate.clone(),
            finished: finished.clone(),
        };
        let connect_at = socket::connect_time(options, start, index, 1);
        tokio::spawn(run(member, slots.clone(), connect_at));
    }
    Crowd {
        gate,
        finished,
        start,
    }
}

/// One agent: connects, goes online, takes its chat and counts its messages, then holds
/// its connection until the process ends.
async fn agent(agent: Member, slots: Arc<Semaphore>, connect_at: Option<tokio::time::Instant>) {
    if let Some(at) = connect_at {
        tokio::time::sleep_until(at).await;
    }
    let slot = slots.acquire().await.expect("never closed");
    let (socket, assigned) = match agent_online(&agent).await {
        Ok(set_up) => set_up,
        Err(error) => {
            agent.gate.failed(&error);
            agent.finished.failed(&error);
            return;
        }
    };
    drop(slot);
    agent.stats.connected(1);
    agent.gate.ready();
    if agent.options.idle {
        hold(socket).await;
        return;
    }
    if assigned {
        agent.stats.chat();
    }
    match agent_receive(&agent, socket).await {
        // An agent that leaves puts its chat back in line for the agents still waiting:
        // the connection stays open until the report.
        Ok(socket) => {
            agent.finished.ready();
            hold(socket).await;
        }
        Err(error) => agent.finished.failed(&error),
    }
}

/// Connects and goes online; whether a chat came with the status reply.
async fn agent_online(agent: &Member) -> Result<(Socket, bool), String> {
    let options = &agent.options;
    let token = token(options, &agent_id(options, agent.index), "agent");
    let mut socket = hello(&ws_url(options), &token).await?;
    let mut assigned = false;
    if !options.idle {
        let (_, early) = request(
            &mut socket,
            json!({"type": "set_agent_status", "status": "online"}),
        )
        .await?;
        assigned = early
            .iter()
            .any(|frame| frame["event"]["type"] == "session_assigned");
    }
    Ok((socket, assigned))
}

/// Reads from the start: the chat comes whenever the visitors side starts it, and a socket
/// that is not read answers no heartbeat.
async fn agent_receive(agent: &Member, mut socket: Socket) -> Result<Socket, String> {
    // A chat handed over from an agent that left counts as this agent's.
    let reassigned = |text: &str| {
        if text.contains(r#""type":"session_assigned""#) {
            agent.stats.chat();
        }
    };
    socket::receive_messages(
        &mut socket,
        agent.options.messages,
        &agent.stats,
        None,
        reassigned,
    )
    .await?;
    Ok(socket)
}

/// The visitors side.
pub async fn visitors(mut options: Options) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(options.timeout);
    if let Some(path) = options.ready_file.clone() {
        eprintln!("waiting for {}", path.display());
        let line = tokio::time::timeout_at(deadline, read_ready_file(&path))
            .await
            .map_err(|_| format!("{} did not appear in time", path.display()))?;
        adopt_run(&mut options, &line)?;
    }
    crate::fit_window(&mut options);
    let options = Arc::new(options);
    let k = options.conversations;
    let stats = Arc::new(Stats::default());
    let progress = Progress::start(stats.clone(), options.clone());
    eprintln!("connecting {k} visitors (run {})", options.run_id);
    let Crowd {
        gate,
        finished,
        start,
    } = launch(&options, &stats, move |member, slots, connect_at| {
        visitor(member, slots, connect_at, deadline)
    });
    let not_set_up = gate.settled().await;
    if not_set_up.0 > 0 {
        eprintln!(
            "\n{} of {k} visitors could not be set up (first: {}); going on with the rest",
            not_set_up.0,
            not_set_up.1.as_deref().unwrap_or_default()
        );
    }
    let rss_connected = options.server_pid.and_then(report::server_memory);
    eprintln!(
        "\n{} visitors {} in {:.1} s",
        k - not_set_up.0,
        if options.idle {
            "connected"
        } else {
            "have their chats' agents"
        },
        start.elapsed().as_secs_f64()
    );
    if options.idle {
        tokio::time::sleep(Duration::from_secs(options.hold)).await;
        progress.stop();
        report::idle(&options, &stats, rss_connected, options.hold);
        remove_ready_file(&options);
        std::process::exit(if not_set_up.0 == 0 { 0 } else { 1 });
    }
    eprintln!("sending");
    let started = Instant::now();
    gate.go();
    let failed = finished.settled().await;
    let elapsed = started.elapsed();
    progress.stop();
    let sent = Sent {
        elapsed,
        not_set_up: not_set_up.clone(),
        failed,
    };
    report::visitors(
        &options,
        &stats,
        &sent,
        options.server_pid.and_then(report::server_memory),
    );
    remove_ready_file(&options);
    if not_set_up.0 + sent.failed.0 > 0 {
        return Err("some conversations failed".into());
    }
    Ok(())
}

/// Waits for the agents side's ready file and returns its line.
async fn read_ready_file(path: &Path) -> String {
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Takes the run id from the agents side's ready line unless one was given, and refuses
/// a line of another run or size.
fn adopt_run(options: &mut Options, line: &str) -> Result<(), String> {
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let (Some(run), Some(k), Some(m)) = (field("run"), field("k"), field("m")) else {
        return Err(format!("not a ready line: {line:?}"));
    };
    if k != options.conversations.to_string() || m != options.messages.to_string() {
        return Err(format!(
            "the agents side runs k={k} m={m}, this side k={} m={}",
            options.conversations, options.messages
        ));
    }
    if options.run_id_given && run != options.run_id {
        return Err(format!(
            "the agents side runs run id {run}, this side {}",
            options.run_id
        ));
    }
    options.run_id = run;
    Ok(())
}

fn remove_ready_file(options: &Options) {
    if let Some(path) = &options.ready_file {
        let _ = std::fs::remove_file(path);
    }
}

/// One visitor: connects, starts its chat, waits for its agent and the start, sends, then
/// holds its connection until the process ends.
async fn visitor(
    visitor: Member,
    slots: Arc<Semaphore>,
    connect_at: Option<tokio::time::Instant>,
    deadline: tokio::time::Instant,
) {
    if let Some(at) = connect_at {
        tokio::time::sleep_until(at).await;
    }
    let slot = slots.acquire().await.expect("never closed");
    let set_up = tokio::time::timeout_at(deadline, visitor_chat(&visitor)).await;
    let (mut socket, session_id) = match set_up {
        Ok(Ok(set_up)) => set_up,
        Ok(Err(error)) => return visitor_not_set_up(&visitor, &error),
        Err(_) => return visitor_not_set_up(&visitor, "no chat with an agent within --timeout"),
    };
    drop(slot);
    visitor.stats.connected(1);
    if !visitor.options.idle {
        visitor.stats.chat();
    }
    visitor.gate.ready();
    if visitor.options.idle {
        hold(socket).await;
        return;
    }
    let sending = async {
        visitor.gate.wait_reading(&mut socket).await?;
        let options = &visitor.options;
        socket::send(
            &mut socket,
            options,
            visitor.index,
            &session_id,
            &visitor.stats,
        )
        .await
    };
    match sending.await {
        // A visitor who leaves ends a chat while others still run: the connection stays
        // open until the report.
        Ok(()) => {
            visitor.finished.ready();
            hold(socket).await;
        }
        Err(error) => visitor.finished.failed(&error),
    }
}

/// A visitor that could not be set up: the set-up gate keeps its failure, and with
/// nothing to wait for it counts as finished, so the others still run.
fn visitor_not_set_up(visitor: &Member, error: &str) {
    visitor.gate.failed(error);
    visitor.finished.ready();
}

/// Connects and, unless idle, starts the chat and waits until an agent has it.
async fn visitor_chat(visitor: &Member) -> Result<(Socket, String), String> {
    let options = &visitor.options;
    let token = token(options, &visitor_id(options, visitor.index), "user");
    let mut socket = hello(&ws_url(options), &token).await?;
    let mut session_id = String::new();
    if !options.idle {
        let (reply, early) = request(&mut socket, json!({"type": "start_session"})).await?;
        session_id = reply["session_id"].as_str().unwrap_or_default().to_owned();
        // Messages sent before an agent holds the chat would not reach the agent live.
        let active =
            reply["status"] == "active" || early.iter().any(|frame| is_active(frame, &session_id));
        if !active {
            wait_active(&mut socket, &session_id).await?;
        }
    }
    Ok((socket, session_id))
}

fn is_active(frame: &serde_json::Value, session_id: &str) -> bool {
    let event = &frame["event"];
    frame["type"] == "event"
        && event["type"] == "session_status_changed"
        && event["session_id"] == session_id
        && event["status"] == "active"
}

/// Waits for the chat's agent; only the set-up deadline bounds the wait, since a chat
/// may wait in line in silence for longer than a frame would be awaited otherwise.
async fn wait_active(socket: &mut Socket, session_id: &str) -> Result<(), String> {
    while let Some(message) = socket.next().await {
        if let Message::Text(text) = message.map_err(|error| error.to_string())? {
            let frame = serde_json::from_str(&text).map_err(|error| error.to_string())?;
            if is_active(&frame, session_id) {
                return Ok(());
            }
        }
    }
    Err("the server closed the connection".into())
}
