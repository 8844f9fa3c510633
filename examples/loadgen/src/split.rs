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
use crate::report::{self, Progress, Sent, Stats, now_micros};
use crate::setup::{self, agent_id, token, visitor_id};
use crate::socket::{self, Gate, Socket, hello, hold, next_json, request, sent_at, ws_url};

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
    let gate = Arc::new(Gate::new(k));
    let slots = Arc::new(Semaphore::new(options.connect_parallel.max(1)));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(k);
    for index in 0..k {
        tasks.push(tokio::spawn(agent(
            index,
            options.clone(),
            stats.clone(),
            gate.clone(),
            slots.clone(),
            socket::connect_time(&options, start, index, 1),
        )));
    }
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
            options.server_pid.and_then(report::server_memory),
        );
        std::process::exit(0);
    }
    let all = futures_util::future::join_all(tasks);
    let outcome = tokio::time::timeout(Duration::from_secs(options.timeout), all).await;
    progress.stop();
    let errors: Vec<String> = match &outcome {
        Ok(results) => results
            .iter()
            .filter_map(|result| match result {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.clone()),
                Err(error) => Some(error.to_string()),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let timed_out = outcome.is_err();
    report::agents(
        &options,
        &stats,
        timed_out,
        options.server_pid.and_then(report::server_memory),
    );
    if let Some(first) = errors.first() {
        return Err(format!(
            "{} agent connections failed (first: {first})",
            errors.len()
        ));
    }
    if timed_out {
        return Err("not every message arrived in time".into());
    }
    Ok(())
}

/// Creates the ready file whole: the visitors side must never read half of it.
fn write_ready_file(path: &Path, line: &str) -> Result<(), String> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, format!("{line}\n"))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|error| format!("writing {}: {error}", path.display()))
}

/// One agent: connects, goes online, takes its chat and counts its messages.
async fn agent(
    index: usize,
    options: Arc<Options>,
    stats: Arc<Stats>,
    gate: Arc<Gate>,
    slots: Arc<Semaphore>,
    connect_at: Option<tokio::time::Instant>,
) -> Result<(), String> {
    if let Some(at) = connect_at {
        tokio::time::sleep_until(at).await;
    }
    let slot = slots.acquire().await.expect("never closed");
    let set_up = async {
        let token = token(&options, &agent_id(&options, index), "agent");
        let mut socket = hello(&ws_url(&options), &token).await?;
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
        Ok::<_, String>((socket, assigned))
    };
    let (mut socket, assigned) = match set_up.await {
        Ok(set_up) => set_up,
        Err(error) => {
            gate.failed(&error);
            return Err(error);
        }
    };
    drop(slot);
    stats.connected(1);
    gate.ready();
    if options.idle {
        hold(socket).await;
        return Ok(());
    }
    if assigned {
        stats.chat();
    }
    // Read from the start: the chat comes whenever the visitors side starts it, and a
    // socket that is not read answers no heartbeat.
    let mut received = 0;
    while received < options.messages {
        let message = socket
            .next()
            .await
            .ok_or("the agent's connection closed")?
            .map_err(|error| error.to_string())?;
        let Message::Text(text) = message else {
            continue;
        };
        if !text.starts_with(r#"{"type":"event""#) {
            continue;
        }
        if let Some(sent_at) = sent_at(&text) {
            received += 1;
            stats.received(sent_at, now_micros());
        } else if text.contains(r#""type":"session_assigned""#) {
            stats.chat();
        }
    }
    let _ = socket.close(None).await;
    Ok(())
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
    let gate = Arc::new(Gate::new(k));
    let slots = Arc::new(Semaphore::new(options.connect_parallel.max(1)));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(k);
    for index in 0..k {
        tasks.push(tokio::spawn(visitor(
            index,
            options.clone(),
            stats.clone(),
            gate.clone(),
            slots.clone(),
            socket::connect_time(&options, start, index, 1),
            deadline,
        )));
    }
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
        report::idle(
            &options,
            &stats,
            rss_connected,
            options.hold,
            options.server_pid.and_then(report::server_memory),
        );
        remove_ready_file(&options);
        std::process::exit(if not_set_up.0 == 0 { 0 } else { 1 });
    }
    eprintln!("sending");
    let started = Instant::now();
    gate.go();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(()) | Err(VisitorError::NotSetUp)) => {}
            Ok(Err(VisitorError::Sending(error))) => errors.push(error),
            Err(error) => errors.push(error.to_string()),
        }
    }
    let elapsed = started.elapsed();
    progress.stop();
    let sent = Sent {
        elapsed,
        not_set_up: not_set_up.clone(),
        failed: (errors.len(), errors.first().map(String::as_str)),
    };
    report::visitors(
        &options,
        &stats,
        &sent,
        options.server_pid.and_then(report::server_memory),
    );
    remove_ready_file(&options);
    if not_set_up.0 + errors.len() > 0 {
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

/// Why a visitor did not finish.
enum VisitorError {
    /// It was never set up; the gate has counted it and kept the reason.
    NotSetUp,
    /// It failed while waiting for the start or sending.
    Sending(String),
}

/// One visitor: connects, starts its chat, waits for its agent and the start, sends.
async fn visitor(
    index: usize,
    options: Arc<Options>,
    stats: Arc<Stats>,
    gate: Arc<Gate>,
    slots: Arc<Semaphore>,
    connect_at: Option<tokio::time::Instant>,
    deadline: tokio::time::Instant,
) -> Result<(), VisitorError> {
    if let Some(at) = connect_at {
        tokio::time::sleep_until(at).await;
    }
    let slot = slots.acquire().await.expect("never closed");
    let set_up = async {
        let token = token(&options, &visitor_id(&options, index), "user");
        let mut socket = hello(&ws_url(&options), &token).await?;
        let mut session_id = String::new();
        if !options.idle {
            let (reply, early) = request(&mut socket, json!({"type": "start_session"})).await?;
            session_id = reply["session_id"].as_str().unwrap_or_default().to_owned();
            // Events sent before the agent's assignment would not reach the agent live.
            let active = reply["status"] == "active"
                || early.iter().any(|frame| is_active(frame, &session_id));
            if !active {
                tokio::time::timeout_at(deadline, wait_active(&mut socket, &session_id))
                    .await
                    .map_err(|_| "no agent took the chat in time".to_owned())??;
            }
        }
        Ok::<_, String>((socket, session_id))
    };
    let (mut socket, session_id) = match set_up.await {
        Ok(set_up) => set_up,
        Err(error) => {
            gate.failed(&error);
            return Err(VisitorError::NotSetUp);
        }
    };
    drop(slot);
    stats.connected(1);
    if !options.idle {
        stats.chat();
    }
    gate.ready();
    if options.idle {
        hold(socket).await;
        return Ok(());
    }
    gate.wait_reading(&mut socket)
        .await
        .map_err(VisitorError::Sending)?;
    socket::send(&mut socket, &options, index, &session_id, &stats)
        .await
        .map_err(VisitorError::Sending)?;
    let _ = futures_util::SinkExt::close(&mut socket).await;
    Ok(())
}

fn is_active(frame: &serde_json::Value, session_id: &str) -> bool {
    let event = &frame["event"];
    frame["type"] == "event"
        && event["type"] == "session_status_changed"
        && event["session_id"] == session_id
        && event["status"] == "active"
}

async fn wait_active(socket: &mut Socket, session_id: &str) -> Result<(), String> {
    loop {
        // Queue positions and the like keep coming while the chat waits: the deadline,
        // not a silent socket, bounds the wait.
        if is_active(&next_json(socket).await?, session_id) {
            return Ok(());
        }
    }
}
