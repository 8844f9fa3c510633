//! One conversation: an agent connection and a visitor connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

use crate::report::{Stats, now_micros};
use crate::setup::{agent_id, token, visitor_id};
use crate::{Mode, Options};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Marks a load message's body: `lg:<conversation>:<seq>:<sent, µs since the epoch>:`.
const MARKER: &str = "lg:";

/// One conversation's state.
pub struct Conversation {
    /// Its number.
    pub index: usize,
    /// The run's options.
    pub options: Arc<Options>,
    /// Shared counters.
    pub stats: Arc<Stats>,
    /// Reached when connected (and, unless idle, assigned).
    pub ready: Arc<Barrier>,
    /// Set when every conversation may start sending.
    pub go: Arc<AtomicBool>,
    /// Bounds concurrent connection set-ups.
    pub connect_slots: Arc<Semaphore>,
}

impl Conversation {
    /// Connects both sides, waits for the start, runs the exchange.
    pub async fn run(self) -> Result<(), String> {
        let slot = self.connect_slots.acquire().await.expect("never closed");
        let ws_url = format!("{}/ws", self.options.base.replacen("http", "ws", 1));
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
        drop(slot);
        self.stats.connected(2);
        self.ready.wait().await;
        if self.options.idle {
            // Hold the sockets until the process exits.
            std::future::pending::<()>().await;
        }
        while !self.go.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
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
        Ok(())
    }
}

async fn hello(url: &str, token: &str) -> Result<Socket, String> {
    // Small frames must not wait for Nagle's algorithm.
    let (mut socket, _) = connect_async_with_config(url, None, true)
        .await
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
async fn request(socket: &mut Socket, command: Value) -> Result<(Value, Vec<Value>), String> {
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
async fn send(
    socket: &mut Socket,
    options: &Options,
    index: usize,
    session_id: &str,
    stats: &Stats,
) -> Result<(), String> {
    let total = options.messages;
    let (mut sent, mut answered) = (0usize, 0usize);
    let period = Duration::from_secs_f64(1.0 / options.rate.max(0.001));
    let mut ticker = tokio::time::interval(period);
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
    let mut received = 0;
    while received < expected {
        let message = tokio::time::timeout(Duration::from_secs(120), socket.next())
            .await
            .map_err(|_| "no message within 120 s".to_owned())?
            .ok_or("the agent's connection closed")?
            .map_err(|error| error.to_string())?;
        let Message::Text(text) = message else {
            continue;
        };
        if !text.starts_with(r#"{"type":"event""#) {
            continue;
        }
        let Some(at) = text.find(MARKER) else {
            continue;
        };
        let mut fields = text[at + MARKER.len()..].split(':');
        let sent_at = fields.nth(2).and_then(|field| field.parse::<u64>().ok());
        if let Some(sent_at) = sent_at {
            received += 1;
            stats.received(now_micros().saturating_sub(sent_at));
        }
    }
    let _ = socket.close(None).await;
    Ok(())
}
