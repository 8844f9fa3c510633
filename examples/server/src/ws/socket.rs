//! One WebSocket connection: hello, then commands in and events out until either side
//! closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use switchboard_core::{Command, Recipient};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::frames::{self, ClientFrame, MAX_CLIENT_FRAME_BYTES, Welcome};
use super::stream::{Resume, Stream, StreamEnd};
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::SharedState;

/// Commands a connection may have waiting for the engine; reading pauses beyond this.
const MAX_IN_FLIGHT: usize = 256;
/// Per-socket read buffer.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Bytes of outgoing frames gathered before a write.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// Time allowed for the hello frame.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Close codes (4000-4999 are the application's).
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_POLICY: u16 = 4008;
const CLOSE_GOING_AWAY: u16 = 1001;
/// Time a client gets to take the error and close frames when its stream ends.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET /ws`: upgrades to the WebSocket protocol.
pub async fn upgrade(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(error) = state.limits.check_ip(peer.ip()) {
        return error.into_response();
    }
    let Some(slot) = state.hub.admit_socket() else {
        return ApiError::unavailable("too many connections").into_response();
    };
    // The library's default 128 KiB read buffer per socket would dominate the memory of
    // many idle connections; frames are small.
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(MAX_CLIENT_FRAME_BYTES)
        .max_frame_size(MAX_CLIENT_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            Connection::run(socket, state, headers).await;
        })
}

/// A frame for the client that is not an event: a command's reply, a pong, an error.
type Reply = String;

struct Connection {
    state: SharedState,
    caller: Caller,
    stream: Arc<Stream>,
}

impl Connection {
    async fn run(mut socket: WebSocket, state: SharedState, headers: HeaderMap) {
        let (caller, resume) = match hello(&mut socket, &state, &headers).await {
            Ok(found) => found,
            Err(error) => {
                let _ = socket
                    .send(Message::Text(
                        frames::error(error.code, &error.message).into(),
                    ))
                    .await;
                close(&mut socket, CLOSE_UNAUTHORIZED, error.code).await;
                return;
            }
        };
        let recipient = if caller.is_staff() {
            Recipient::Staff {
                id: caller.actor.id.as_ref().into(),
            }
        } else {
            Recipient::Visitor {
                id: caller.actor.id.clone(),
            }
        };
        let (stream, resumed, resync) = attach(&state, &caller, recipient, resume);
        let welcome = Welcome {
            kind: "welcome",
            stream_id: &stream.id,
            resumed,
            resync,
            last_seq: stream.last_seq(),
            heartbeat_ms: state.config.heartbeat * 1_000,
            actor: &caller.actor,
        };
        let text = serde_json::to_string(&welcome).expect("welcome serializes");
        if socket.send(Message::Text(text.into())).await.is_err() {
            stream.detach();
            return;
        }
        let connection = Connection {
            state,
            caller,
            stream,
        };
        connection.report_presence(true).await;
        crate::metrics::socket_opened();
        connection.serve(socket).await;
        crate::metrics::socket_closed();
        connection.stream.detach();
        connection.report_presence(false).await;
    }

    async fn serve(&self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let (replies_tx, mut replies) = mpsc::unbounded_channel::<Reply>();
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let limiter = self.state.limits.socket_limiter();
        let heartbeat = Duration::from_secs(self.state.config.heartbeat.max(1));
        let mut ticker = tokio::time::interval(heartbeat);
        ticker.tick().await;
        let mut last_heard = Instant::now();
        let mut frames = Vec::new();
        loop {
            tokio::select! {
                () = self.stream.wait() => {
                    if !self.write_ready(&mut sink, None, &mut replies, &mut frames).await {
                        return;
                    }
                }
                Some(reply) = replies.recv() => {
                    if !self.write_ready(&mut sink, Some(reply), &mut replies, &mut frames).await {
                        return;
                    }
                }
                message = incoming.next() => {
                    let Some(Ok(message)) = message else { return };
                    last_heard = Instant::now();
                    match message {
                        Message::Text(text) => {
                            let permit = in_flight.clone().acquire_owned().await.expect("never closed");
                            if let Some(frame) = self.on_text(&text, limiter.as_ref(), permit, &replies_tx) {
                                // Written with the rest, under the same guard against a
                                // client that does not read.
                                let _ = replies_tx.send(frame);
                            }
                        }
                        Message::Binary(_) => {
                            let _ = replies_tx.send(frames::error("malformed", "frames are JSON text"));
                        }
                        Message::Close(_) => return,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        let close = sink.send(close_message(CLOSE_POLICY, "heartbeat_timeout"));
                        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, close).await;
                        return;
                    }
                    let ping = sink.send(Message::Ping(Default::default()));
                    if !matches!(tokio::time::timeout(heartbeat * 3, ping).await, Ok(Ok(()))) {
                        return;
                    }
                }
            }
        }
    }

    /// Writes the replies and events that are ready, each round with one flush (one send
    /// on the socket for a commit's worth of frames), until none are left; false when the
    /// connection is over. A client that stops reading makes a write wait for as long as it
    /// likes, so the write races the stream's wake-ups: when the stream ends meanwhile
    /// because the client fell behind by more than the buffer holds, the connection is
    /// dropped at once, and when it ends for another reason (a forced logout, shutdown) the
    /// client has [`GOODBYE_TIMEOUT`] to take the rest, instead of the connection waiting on
    /// it forever.
    async fn write_ready(
        &self,
        sink: &mut SplitSink<WebSocket, Message>,
        mut first_reply: Option<Reply>,
        replies: &mut mpsc::UnboundedReceiver<Reply>,
        frames: &mut Vec<Utf8Bytes>,
    ) -> bool {
        let mut ready = Vec::new();
        loop {
            // Replies first: among frames that are ready, a client reads the answer to its
            // command before the events it caused.
            while let Some(reply) = first_reply.take().or_else(|| replies.try_recv().ok()) {
                ready.push(Message::Text(reply.into()));
            }
            frames.clear();
            if let Err(end) = self.stream.take_unwritten(frames) {
                let code = if end == StreamEnd::Shutdown {
                    CLOSE_GOING_AWAY
                } else {
                    CLOSE_POLICY
                };
                let goodbye = async {
                    let error = frames::error(end.code(), "the stream ended");
                    sink.send(Message::Text(error.into())).await?;
                    sink.send(close_message(code, end.code())).await
                };
                // The client may not be reading at all.
                let _ = tokio::time::timeout(GOODBYE_TIMEOUT, goodbye).await;
                return false;
            }
            crate::metrics::events_sent(frames.len());
            ready.extend(frames.drain(..).map(Message::Text));
            if ready.is_empty() {
                return true;
            }
            let write = async {
                for message in ready.drain(..) {
                    sink.feed(message).await?;
                }
                sink.flush().await
            };
            let mut write = std::pin::pin!(write);
            // A write that makes no progress for as long as a silent client is given (three
            // heartbeats) ends the connection: no heartbeat can be sent meanwhile.
            let stalled =
                tokio::time::sleep(Duration::from_secs(self.state.config.heartbeat.max(1)) * 3);
            let mut stalled = std::pin::pin!(stalled);
            loop {
                tokio::select! {
                    () = &mut stalled => return false,
                    written = &mut write => {
                        if written.is_err() {
                            return false;
                        }
                        break;
                    }
                    // Events pushed meanwhile are taken by the next round of the outer loop.
                    () = self.stream.wait() => match self.stream.ended() {
                        None => {}
                        // It fell behind: waiting for it to read would be pointless.
                        Some(StreamEnd::SlowConsumer) => return false,
                        // A client still reading gets the rest and then the reason.
                        Some(_) => match tokio::time::timeout(GOODBYE_TIMEOUT, &mut write).await {
                            Ok(Ok(())) => break,
                            _ => return false,
                        },
                    }
                }
            }
        }
    }

    /// Handles a text frame; returns a frame to send at once (errors, pongs).
    fn on_text(
        &self,
        text: &str,
        limiter: Option<&governor::DefaultDirectRateLimiter>,
        permit: OwnedSemaphorePermit,
        replies: &mpsc::UnboundedSender<Reply>,
    ) -> Option<String> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(error) => {
                // A command the server cannot read still gets its reply, so the client's
                // request does not hang.
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .filter(|value| value["type"] == "command")
                    .map(|value| value["id"].clone());
                let error_body =
                    serde_json::json!({ "code": "malformed", "message": error.to_string() });
                return Some(match id {
                    Some(id) => frames::reply(&Some(id), &Err(error_body)),
                    None => frames::error("malformed", &error.to_string()),
                });
            }
        };
        match frame {
            ClientFrame::Command { id, command } => {
                if limiter.is_some_and(|limiter| limiter.check().is_err())
                    || self
                        .state
                        .limits
                        .check_tenant(self.caller.tenant_id())
                        .is_err()
                {
                    let refusal = crate::rate::too_many("connection");
                    return Some(frames::reply(&id, &Err(refusal.body()["error"].clone())));
                }
                let replies = replies.clone();
                self.state.engine.submit(
                    self.caller.actor.clone(),
                    *command,
                    Vec::new(),
                    Box::new(move |result| {
                        let result = result
                            .map(|(reply, _)| reply)
                            .map_err(|error| error.body()["error"].clone());
                        // The command no longer waits for the engine. Holding the permit
                        // until the reply is written would let a client that pipelines
                        // more commands than the bound stall its own connection: the loop
                        // would wait for a permit that only its own writing releases.
                        drop(permit);
                        let _ = replies.send(frames::reply(&id, &result));
                    }),
                );
                None
            }
            ClientFrame::Ack { seq } => {
                self.stream.acknowledge(seq);
                None
            }
            ClientFrame::Ping {} => Some(r#"{"type":"pong"}"#.to_owned()),
            ClientFrame::Hello { .. } => {
                Some(frames::error("malformed", "hello was already received"))
            }
        }
    }

    /// Tells the engine a chat handler's connection came or went (it runs the disconnect
    /// grace period). Other roles have no presence.
    async fn report_presence(&self, connected: bool) {
        if !self.caller.actor.role.can_handle_chats() {
            return;
        }
        if !connected
            && self
                .state
                .hub
                .is_connected(&self.stream.tenant_id, &self.stream.recipient)
        {
            return;
        }
        let command = if connected {
            Command::AgentConnected { agent_id: None }
        } else {
            Command::AgentDisconnected { agent_id: None }
        };
        if let Err(error) = self
            .state
            .engine
            .execute(self.caller.actor.clone(), command)
            .await
        {
            tracing::debug!(code = error.code, "presence report refused");
        }
    }
}

/// Waits for the hello frame and authenticates it.
async fn hello(
    socket: &mut WebSocket,
    state: &SharedState,
    headers: &HeaderMap,
) -> Result<(Caller, Option<frames::ResumeFrom>), ApiError> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv())
        .await
        .map_err(|_| ApiError::unauthorized("hello_timeout", "no hello frame in time"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(ApiError::unauthorized(
            "missing_hello",
            "the first frame must be hello",
        ));
    };
    let ClientFrame::Hello { token, resume } = serde_json::from_str(&text).map_err(|error| {
        ApiError::unauthorized(
            "missing_hello",
            format!("the first frame must be hello: {error}"),
        )
    })?
    else {
        return Err(ApiError::unauthorized(
            "missing_hello",
            "the first frame must be hello",
        ));
    };
    let caller = match token {
        Some(token) => auth::authenticate(state, headers, &token)?,
        None => auth::authenticate(state, headers, auth::bearer(headers)?)?,
    };
    state.limits.check_tenant(caller.tenant_id())?;
    Ok((caller, resume))
}

/// Resumes the client's stream when it can, else opens a new one.
fn attach(
    state: &SharedState,
    caller: &Caller,
    recipient: Recipient,
    resume: Option<frames::ResumeFrom>,
) -> (Arc<Stream>, bool, Option<&'static str>) {
    let Some(resume) = resume else {
        return (
            state.hub.open(caller.actor.tenant_id.clone(), recipient),
            false,
            None,
        );
    };
    let resync = match state
        .hub
        .find(&resume.stream_id, &caller.actor.tenant_id, &recipient)
    {
        Some(stream) => match stream.reattach(resume.last_seq) {
            Ok(Resume::Complete) => return (stream, true, None),
            Ok(Resume::Gap) | Err(_) => {
                stream.end(StreamEnd::SlowConsumer);
                "gap"
            }
        },
        None => "unknown_stream",
    };
    (
        state.hub.open(caller.actor.tenant_id.clone(), recipient),
        false,
        Some(resync),
    )
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket.send(close_message(code, reason)).await;
}
