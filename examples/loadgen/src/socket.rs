//! One conversation: an agent connection and a visitor connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

use crate::report::{Stats, now_micros};
use crate::setup::{agent_id, token, visitor_id};
use crate::{Mode, Options};

/// A client WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Marks a load message's body: `lg:<conversation>:<seq>:<sent, µs since the epoch>:`.
const MARKER: &str = "lg:";

/// Waits until every conversation is set up, then releases them all at once.
pub struct Gate {
    expected: usize,
    /// Conversations set up, and those that failed to.
    settled: watch::Sender<(usize, usize)>,
    first_error: Mutex<Option<String>>,
    go: watch::Sender<bool>,
}

impl Gate {
    /// A gate for `expected` conversations.
    pub fn new(expected: usize) -> Gate {
        Gate {
            expected,
            settled: watch::Sender::new((0, 0)),
            first_error: Mutex::new(None),
            go: watch::Sender::new(false),
        }
    }

    /// One more is set up.
    pub fn ready(&self) {
        self.settled.send_modify(|(ready, _)| *ready += 1);
    }

    /// One could not be set up.
    pub fn failed(&self, error: &str) {
        self.first_error
            .lock()
            .expect("gate lock")
            .get_or_insert_with(|| error.to_owned());
        self.settled.send_modify(|(_, failed)| *failed += 1);
    }

    /// Waits until every one is set up or has failed; returns how many failed and the
    /// first error.
    pub async fn settled(&self) -> (usize, Option<String>) {
        let mut settled = self.settled.subscribe();
        let expected = self.expected;
        let (_, failed) = *settled
            .wait_for(|(ready, failed)| ready + failed >= expected)
            .await
            .expect("the sender lives in self");
        (failed, self.first_error.lock().expect("gate lock").clone())
    }

    /// Waits until every one is set up; the first error when one failed.
    pub async fn all_ready(&self) -> Result<(), String> {
        match self.settled().await {
            (0, _) => Ok(()),
            (_, error) => Err(error.unwrap_or_default()),
        }
    }

    /// Releases them.
    pub fn go(&self) {
        self.go.send_replace(true);
    }

    /// Resolves once released, reading the socket meanwhile: a socket nobody reads answers
    /// no heartbeat, and the server closes it after three.
    pub async fn wait_reading(&self, socket: &mut Socket) -> Result<(), String> {
        let mut go = self.go.subscribe();
        loop {
            tokio::select! {
                // Release first: an agent may hold another conversation's chat, whose
                // visitor may already be sending once released, and those frames must
                // stay unread here.
                biased;
                released = go.wait_for(|go| *go) => {
                    return released.map(|_| ()).map_err(|error| error.to_string());
                }
                frame = socket.next() => match frame {
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Err(error.to_string()),
                    None => return Err("the server closed the connection".into()),
                },
            }
        }
    }
}

/// When connection set-up number `index` may start, at `--connect-rate` with `per`
/// connections per set-up; `None` when unpaced.
pub fn connect_time(
    options: &Options,
    start: Instant,
    index: usize,
    per: usize,
) -> Option<Instant> {
    (options.connect_rate > 0.0)
        .then(|| start + Duration::from_secs_f64((index * per) as f64 / options.connect_rate))
}

/// Holds an idle connection open, answering the server's heartbeats, until it closes.
pub async fn hold(mut socket: Socket) {
    while let Some(Ok(_)) = socket.next().await {}
}

/// One conversation's state.
pub struct Conversation {
    /// Its number.
    pub index: usize,
    /// The run's options.
    pub options: Arc<Options>,
    /// Shared counters.
    pub stats: Arc<Stats>,
    /// Counts it in when connected (and, unless idle, assigned) and releases the exchange.
    pub gate: Arc<Gate>,
    /// Bounds concurrent connection set-ups.
    pub connect_slots: Arc<Semaphore>,
    /// When it may start connecting (`--connect-rate`).
    pub connect_at: Option<Instant>,
}

impl Conversation {
    /// Connects both sides, waits for the start, runs the exchange; returns the chat's
    /// session id (empty when idle).
    pub async fn run(self) -> Result<String, String> {
        if let Some(at) = self.connect_at {
            tokio::time::sleep_until(at).await;
        }
        let slot = self.connect_slots.acquire().await.expect("never closed");
        let (mut agent, mut visitor, session_id) = match self.connect().await {
            Ok(connected) => connected,
            Err(error) => {
                self.gate.failed(&error);
                return Err(error);
            }
        };
        drop(slot);
        self.stats.connected(2);
        self.gate.ready();
        if self.options.idle {
            // Held until the process exits.
            tokio::join!(hold(agent), hold(visitor));
            return Ok(session_id);
        }
        tokio::try_join!(
            self.gate.wait_reading(&mut agent),
            self.gate.wait_reading(&mut visitor)
        )?;
        let receive = tokio::spawn(receive(agent, self.options.messages, self.stats.clone()));
        send(
            &mut visitor,
            &self.options,
            self.index,
            &session_id,
            &self.stats,
        )
        .await?;
        receive.await.map_err(|error| error.to_string())??;
        let _ = visitor.close(None).await;
        Ok(session_id)
    }

    /// Both connections, and unless idle the agent online and the chat assigned.
    async fn connect(&self) -> Result<(Socket, Socket, String), String> {
        let ws_url = ws_url(&self.options);
        let agent_token = token(&self.options, &agent_id(&self.options, self.index), "agent");
        let mut agent = hello(&ws_url, &agent_token).await?;
        let visitor_token = token(
            &self.options,
            &visitor_id(&self.options, self.index),
            "user",
        );
        let mut visitor = hello(&ws_url, &visitor_token).await?;
        let mut session_id = String::new();
        if !self.options.idle {
            let (_, early) = request(
                &mut agent,
                json!({"type": "set_agent_status", "status": "online"}),
            )
            .await?;
            let (reply, _) = request(&mut visitor, json!({"type": "start_session"})).await?;
            session_id = reply["session_id"].as_str().unwrap_or_default().to_owned();
            // A waiting chat may be assigned before the status reply arrives.
            if !early
                .iter()
                .any(|frame| frame["event"]["type"] == "session_assigned")
            {
                wait_for(&mut agent, "session_assigned").await?;
            }
        }
        Ok((agent, visitor, session_id))
    }
}

/// The server's WebSocket endpoint.
pub fn ws_url(options: &Options) -> String {
    format!("{}/ws", options.base.replacen("http", "ws", 1))
}

/// Connects and authenticates.
pub async fn hello(url: &str, token: &str) -> Result<Socket, String> {
    // Small frames must not wait for Nagle's algorithm (the `true`). The limit is for a
    // server out of file descriptors, which leaves new connections unaccepted in its
    // backlog rather than refusing them.
    let (mut socket, _) = tokio::time::timeout(
        Duration::from_secs(60),
        connect_async_with_config(url, None, true),
    )
    .await
    .map_err(|_| "connecting: no answer within 60 s".to_owned())?
    .map_err(|error| format!("connecting: {error}"))?;
    socket
        .send(Message::Text(
            json!({"type": "hello", "token": token}).to_string().into(),
        ))
        .await
        .map_err(|error| error.to_string())?;
    let welcome = next_json(&mut socket).await?;
    if welcome["type"] != "welcome" {
        return Err(format!("no welcome: {welcome}"));
    }
    Ok(socket)
}

/// The next text frame, parsed.
async fn next_json(socket: &mut Socket) -> Result<Value, String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .map_err(|_| "no frame within 60 s".to_owned())?
            .ok_or("the server closed the connection")?
            .map_err(|error| error.to_string())?;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).map_err(|error| error.to_string());
        }
    }
}

/// Sends a command; returns its reply and the frames that arrived before it.
pub async fn request(socket: &mut Socket, command: Value) -> Result<(Value, Vec<Value>), String> {
    let frame = json!({"type": "command", "id": "setup", "command": command});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .map_err(|error| error.to_string())?;
    let mut before = Vec::new();
    loop {
        let frame = next_json(socket).await?;
        if frame["type"] == "reply" {
            let reply = frame
                .get("ok")
                .cloned()
                .ok_or_else(|| format!("refused: {frame}"))?;
            return Ok((reply, before));
        }
        before.push(frame);
    }
}

async fn wait_for(socket: &mut Socket, kind: &str) -> Result<(), String> {
    loop {
        let frame = next_json(socket).await?;
        if frame["type"] == "event" && frame["event"]["type"] == kind {
            return Ok(());
        }
    }
}

/// The visitor's side: M messages, flooded within a window or paced.
pub async fn send(
    socket: &mut Socket,
    options: &Options,
    index: usize,
    session_id: &str,
    stats: &Stats,
) -> Result<(), String> {
    let total = options.messages;
    let (mut sent, mut answered) = (0usize, 0usize);
    let period = Duration::from_secs_f64(1.0 / options.rate.max(0.001));
    // Visitors started together tick together: K messages in one burst every period,
    // whose queueing the latency would measure unless spread over the period.
    let offset = if options.spread {
        period.mul_f64(index as f64 / options.conversations.max(1) as f64)
    } else {
        Duration::ZERO
    };
    let mut ticker = tokio::time::interval_at(Instant::now() + offset, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let prefix = format!(
        r#"{{"type":"command","command":{{"type":"send_message","session_id":"{session_id}","body":""#
    );
    while answered < total {
        let may_send = sent < total
            && match options.mode {
                Mode::Flood => sent - answered < options.window,
                Mode::Paced => true,
            };
        tokio::select! {
            biased;
            message = socket.next() => {
                let Some(Ok(message)) = message else {
                    return Err("the visitor's connection closed".into());
                };
                if let Message::Text(text) = message
                    && text.starts_with(r#"{"type":"reply""#)
                {
                    if text.contains(r#""error""#) {
                        return Err(format!("a message was refused: {text}"));
                    }
                    answered += 1;
                    stats.acknowledged();
                }
            }
            _ = ticker.tick(), if may_send && options.mode == Mode::Paced => {
                write_message(socket, &prefix, index, sent, options.size).await?;
                sent += 1;
                stats.sent();
            }
            () = std::future::ready(()), if may_send && options.mode == Mode::Flood => {
                write_message(socket, &prefix, index, sent, options.size).await?;
                sent += 1;
                stats.sent();
            }
        }
    }
    Ok(())
}

async fn write_message(
    socket: &mut Socket,
    prefix: &str,
    index: usize,
    seq: usize,
    size: usize,
) -> Result<(), String> {
    let mut body = format!("{MARKER}{index}:{seq}:{}:", now_micros());
    while body.len() < size {
        body.push('x');
    }
    let frame = format!(r#"{prefix}{body}"}}}}"#);
    socket
        .send(Message::Text(frame.into()))
        .await
        .map_err(|error| error.to_string())
}

/// The agent's side: counts the visitor's messages and records their latency.
async fn receive(mut socket: Socket, expected: usize, stats: Arc<Stats>) -> Result<(), String> {
    let quiet_limit = Some(Duration::from_secs(120));
    receive_messages(&mut socket, expected, &stats, quiet_limit, |_| {}).await?;
    let _ = socket.close(None).await;
    Ok(())
}

/// Reads an agent's socket until `expected` load messages have arrived, recording each
/// one's latency; `other_event` sees every other event frame. Fails when the connection
/// ends, or when no frame comes for `quiet_limit`.
pub async fn receive_messages(
    socket: &mut Socket,
    expected: usize,
    stats: &Stats,
    quiet_limit: Option<Duration>,
    mut other_event: impl FnMut(&str),
) -> Result<(), String> {
    let mut received = 0;
    while received < expected {
        let next = match quiet_limit {
            Some(limit) => tokio::time::timeout(limit, socket.next())
                .await
                .map_err(|_| format!("no frame within {} s", limit.as_secs()))?,
            None => socket.next().await,
        };
        let message = next
            .ok_or("the agent's connection closed")?
            .map_err(|error| error.to_string())?;
        let Message::Text(text) = message else {
            continue;
        };
        if !text.starts_with(r#"{"type":"event""#) {
            continue;
        }
        match sent_at(&text) {
            Some(sent_at) => {
                received += 1;
                stats.received(sent_at, now_micros());
            }
            None => other_event(&text),
        }
    }
    Ok(())
}

/// The send time (µs since the epoch) a load message's event carries.
pub fn sent_at(text: &str) -> Option<u64> {
    let at = text.find(MARKER)?;
    text[at + MARKER.len()..]
        .split(':')
        .nth(2)
        .and_then(|field| field.parse().ok())
}
