//! The WebSocket protocol end to end: hello, commands and replies, events with
//! per-stream sequence numbers, resume without gap or duplicate, heartbeats, refusals.

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use support::*;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

const AGENT: &str = "agent@demo.localhost";

/// An online agent and a visitor with a chat the agent has accepted.
async fn chat(server: &TestServer) -> (WsClient, WsClient, String) {
    let agent_token = server.login(AGENT).await;
    let mut agent = WsClient::connect(&server.ws_url(), &agent_token, None).await;
    let (reply, _) = agent
        .command(json!({"type": "set_agent_status", "status": "online"}))
        .await;
    assert!(reply["ok"].is_object(), "{reply}");

    let user = erp_token("vera@example.com", "Vera");
    let mut visitor = WsClient::connect(&server.ws_url(), &user, None).await;
    let (reply, _) = visitor
        .command(json!({"type": "start_session", "initial_message": "Hello, anyone there?"}))
        .await;
    let session_id = reply["ok"]["session_id"]
        .as_str()
        .expect("a session")
        .to_owned();

    let offered = agent.event("offered").await;
    assert_eq!(
        offered["event"]["offer"]["session_id"],
        session_id.as_str(),
        "{offered}"
    );
    let (reply, _) = agent
        .command(json!({"type": "accept_offer", "session_id": session_id}))
        .await;
    assert!(reply["ok"].is_object(), "{reply}");
    (agent, visitor, session_id)
}

#[tokio::test]
async fn a_chat_runs_over_websockets_with_typing_and_sequenced_events() {
    let server = TestServer::start().await;
    let (mut agent, mut visitor, session_id) = chat(&server).await;
    assert_eq!(agent.welcome["actor"]["role"], "agent");
    assert_eq!(visitor.welcome["actor"]["role"], "visitor");
    assert_eq!(visitor.welcome["resumed"], false);

    agent
        .command(json!({"type": "set_typing", "session_id": session_id, "active": true}))
        .await;
    let typing = visitor.event("typing").await;
    assert_eq!(typing["event"]["session_id"], session_id.as_str());
    let (reply, _) = agent
        .command(json!({"type": "send_message", "session_id": session_id, "body": "Hi Vera!"}))
        .await;
    assert_eq!(reply["ok"]["type"], "message_accepted", "{reply}");
    let message = visitor.event("message").await;
    assert_eq!(message["event"]["message"]["body"], "Hi Vera!");
    // The sender's own devices get the message too.
    let echo = agent.event("message").await;
    assert_eq!(echo["event"]["message"]["body"], "Hi Vera!");

    visitor
        .command(
            json!({"type": "send_message", "session_id": session_id, "body": "My invoice fails"}),
        )
        .await;
    let message = agent.event("message").await;
    assert_eq!(message["event"]["message"]["body"], "My invoice fails");
    // WsClient checked every event's seq was the previous one plus one.
    assert!(agent.last_seq >= 3 && visitor.last_seq >= 3);

    // A refused command answers with the engine's error and the connection stays up.
    let (reply, _) = visitor
        .command(json!({"type": "accept_offer", "session_id": session_id}))
        .await;
    assert_eq!(reply["error"]["code"], "forbidden", "{reply}");
    let (reply, _) = visitor.command(json!({"type": "no_such_command"})).await;
    assert_eq!(reply["error"]["code"], "malformed", "{reply}");
    let (reply, _) = visitor
        .command(json!({"type": "send_message", "session_id": session_id, "body": "still here"}))
        .await;
    assert_eq!(
        reply["ok"]["type"], "message_accepted",
        "the connection survived: {reply}"
    );
}

#[tokio::test]
async fn a_reconnecting_client_resumes_with_no_gap_and_no_duplicate() {
    let server = TestServer::start().await;
    let (agent, mut visitor, session_id) = chat(&server).await;
    let (stream_id, seen) = (agent.stream_id.clone(), agent.last_seq);
    drop(agent);
    for n in 1..=3 {
        visitor
            .command(json!({"type": "send_message", "session_id": session_id, "body": format!("while away {n}")}))
            .await;
    }
    let agent_token = server.login(AGENT).await;
    let mut agent =
        WsClient::connect(&server.ws_url(), &agent_token, Some((&stream_id, seen))).await;
    assert_eq!(agent.welcome["resumed"], true, "{}", agent.welcome);
    assert_eq!(agent.welcome["stream_id"], stream_id.as_str());
    for n in 1..=3 {
        let message = agent.event("message").await;
        assert_eq!(
            message["event"]["message"]["body"],
            format!("while away {n}")
        );
    }
    // And live events continue on the same numbering.
    visitor
        .command(json!({"type": "send_message", "session_id": session_id, "body": "back?"}))
        .await;
    let message = agent.event("message").await;
    assert_eq!(message["event"]["message"]["body"], "back?");

    // Resuming a stream that does not exist asks the client to reload.
    let mut stranger =
        WsClient::connect(&server.ws_url(), &agent_token, Some(("str_nope", 4))).await;
    assert_eq!(stranger.welcome["resumed"], false);
    assert_eq!(stranger.welcome["resync"], "unknown_stream");
    let (reply, _) = stranger.command(json!({"type": "get_agent"})).await;
    assert!(reply["ok"].is_object());
}

#[tokio::test]
async fn another_identity_cannot_take_over_a_stream() {
    let server = TestServer::start().await;
    let (agent, _visitor, _) = chat(&server).await;
    let stream_id = agent.stream_id.clone();
    drop(agent);
    let other = erp_token("mallory@example.com", "Mallory");
    let hijack = WsClient::connect(&server.ws_url(), &other, Some((&stream_id, 0))).await;
    assert_eq!(
        hijack.welcome["resumed"], false,
        "a stream belongs to its owner"
    );
    assert_ne!(hijack.stream_id, stream_id);
}

#[tokio::test]
async fn bad_credentials_are_refused_with_a_close_code() {
    let server = TestServer::start().await;
    for hello in [
        json!({"type": "hello", "token": "not.a.token"}),
        json!({"type": "hello", "token": sign_erp(json!({"sub": "x", "exp": now_seconds() + 60}), "wrong")}),
        json!({"type": "command", "command": {"type": "get_agent"}}),
    ] {
        let (mut socket, _) = connect_async(server.ws_url()).await.unwrap();
        socket
            .send(Message::Text(hello.to_string().into()))
            .await
            .unwrap();
        let error = next_json(&mut socket).await.expect("an error frame");
        assert_eq!(error["type"], "error", "{error}");
        let close = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .unwrap();
        match close {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4401),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_silent_client_is_disconnected_after_three_heartbeats() {
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.heartbeat = 1;
    let server = TestServer::start_with(dir, config).await;
    let (mut socket, _) = connect_async(server.ws_url()).await.unwrap();
    let hello = json!({"type": "hello", "token": erp_token("quiet@example.com", "Q")});
    socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    // Reading answers pings automatically, so stay silent by not reading for a while.
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    let mut closed = false;
    while let Ok(Some(message)) =
        tokio::time::timeout(std::time::Duration::from_secs(3), socket.next()).await
    {
        match message {
            Ok(Message::Close(frame)) => {
                assert_eq!(
                    frame.map(|f| f.reason.to_string()).as_deref(),
                    Some("heartbeat_timeout")
                );
                closed = true;
                break;
            }
            Ok(_) => continue,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the server closed the silent connection");
}

/// How a socket's remaining frames ended.
#[derive(Debug, PartialEq)]
enum Ending {
    /// A close frame with this code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Dropped,
    /// Nothing more arrived for 10 s while the connection stayed open.
    StillOpen,
}

/// Reads what is left on a socket; returns the message events and error codes seen, and how
/// it ended.
async fn drain(client: &mut WsClient) -> (Vec<serde_json::Value>, Vec<String>, Ending) {
    let (mut messages, mut errors) = (Vec::new(), Vec::new());
    loop {
        let next =
            tokio::time::timeout(std::time::Duration::from_secs(10), client.socket.next()).await;
        let frame = match next {
            Err(_) => return (messages, errors, Ending::StillOpen),
            Ok(None | Some(Err(_))) => return (messages, errors, Ending::Dropped),
            Ok(Some(Ok(Message::Close(frame)))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.to_string())
                });
                return (messages, errors, Ending::Closed(code, reason));
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                serde_json::from_str::<serde_json::Value>(&text).unwrap()
            }
            Ok(Some(Ok(_))) => continue,
        };
        if frame["type"] == "error" {
            errors.push(frame["error"]["code"].as_str().unwrap_or("").to_owned());
        } else if frame["type"] == "event" && frame["event"]["type"] == "message" {
            messages.push(frame["event"]["message"].clone());
        }
    }
}

/// Open WebSocket connections as the server counts them.
async fn open_connections(server: &TestServer) -> u64 {
    let (status, health) = server
        .call(reqwest::Method::GET, "/healthz", None, None, &[])
        .await;
    assert_eq!(status, 200, "{health}");
    health["connections"].as_u64().unwrap()
}

/// A chat between an agent whose socket has a small receive buffer (once it stops reading,
/// the connection's buffers fill after a few hundred kilobytes rather than megabytes) and
/// an ERP user.
struct SmallReaderChat {
    agent: WsClient,
    agent_token: String,
    visitor: WsClient,
    user: String,
    session_id: String,
}

async fn chat_with_a_small_reader(server: &TestServer) -> SmallReaderChat {
    let agent_token = server.login(AGENT).await;
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(8 * 1024).unwrap();
    let tcp = tcp
        .connect(server.server.as_ref().unwrap().local_addr)
        .await
        .unwrap();
    let (socket, _) = tokio_tungstenite::client_async(
        server.ws_url(),
        tokio_tungstenite::MaybeTlsStream::Plain(tcp),
    )
    .await
    .unwrap();
    let mut agent = WsClient::hello(socket, &agent_token, None).await;
    go_online(server, &agent_token).await;

    let user = erp_token("vera@example.com", "Vera");
    let mut visitor = WsClient::connect(&server.ws_url(), &user, None).await;
    let (reply, _) = visitor
        .command(json!({"type": "start_session", "initial_message": "Hello"}))
        .await;
    let session_id = reply["ok"]["session_id"].as_str().unwrap().to_owned();
    agent.event("offered").await;
    let (reply, _) = agent
        .command(json!({"type": "accept_offer", "session_id": session_id}))
        .await;
    assert!(reply["ok"].is_object(), "{reply}");
    SmallReaderChat {
        agent,
        agent_token,
        visitor,
        user,
        session_id,
    }
}

/// Waits until the server holds `expected` connections; fails with `why` after 30 s.
async fn wait_for_connections(server: &TestServer, expected: u64, why: &str) {
    let mut polls = 0;
    while open_connections(server).await != expected {
        polls += 1;
        assert!(polls < 600, "{why}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_while_others_are_still_served() {
    // A short stream buffer: 16 events (or 256 KiB of them, the floor of its byte bound).
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.resume_buffer = 16;
    let server = TestServer::start_with(dir, config).await;

    let SmallReaderChat {
        agent: mut stalled,
        agent_token,
        mut visitor,
        user,
        session_id,
    } = chat_with_a_small_reader(&server).await;
    visitor
        .event_where("message", |event| event["message"]["body"] == "Hello")
        .await;
    let (stream_id, last_read) = (stalled.stream_id.clone(), stalled.last_seq);
    assert_eq!(open_connections(&server).await, 2);

    // From here the agent reads nothing while the visitor keeps writing long messages and
    // reads every one of them back on their own socket.
    let filler = "x".repeat(7 * 1024);
    let mut sent = 0;
    while sent < 5_000 && open_connections(&server).await == 2 {
        let (status, body) = server
            .post(
                "/api/v1/live-agent/messages",
                &user,
                json!({"session_id": session_id, "message_text": format!("{sent} {filler}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let echo = visitor
            .event_where("message", |event| {
                event["message"]["sender"]["kind"] == "visitor"
            })
            .await;
        let body = echo["event"]["message"]["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("{sent} ")), "in order: {sent}");
        sent += 1;
    }
    wait_for_connections(
        &server,
        1,
        &format!(
            "the server still holds the connection of a client that read nothing for \
             {sent} messages"
        ),
    )
    .await;

    // The stalled client got only part of the chat before its connection ended.
    let (received, errors, ending) = drain(&mut stalled).await;
    assert_ne!(ending, Ending::StillOpen, "the server ended the connection");
    if let Ending::Closed(code, reason) = &ending {
        assert_eq!((*code, reason.as_str()), (4008, "slow_consumer"));
    }
    assert!(
        errors.iter().all(|code| code == "slow_consumer"),
        "{errors:?}"
    );
    assert!(
        received.len() < sent,
        "cut off before all {sent} messages: got {}",
        received.len()
    );
    for (number, message) in received.iter().enumerate() {
        let body = message["body"].as_str().unwrap();
        assert!(
            body.starts_with(&format!("{number} ")),
            "what arrived is the start of the chat, without gaps"
        );
    }

    // Everyone else is still served: the visitor's socket, new messages, new connections.
    let (status, _) = server
        .post(
            "/api/v1/live-agent/messages",
            &user,
            json!({"session_id": session_id, "message_text": "still there?"}),
        )
        .await;
    assert_eq!(status, 201);
    let echo = visitor
        .event_where("message", |event| {
            event["message"]["sender"]["kind"] == "visitor"
        })
        .await;
    assert_eq!(echo["event"]["message"]["body"], "still there?");

    // The cut-off client cannot resume its stream: it must reload over REST.
    let mut back = WsClient::connect(
        &server.ws_url(),
        &agent_token,
        Some((&stream_id, last_read)),
    )
    .await;
    assert_eq!(back.welcome["resumed"], false, "{}", back.welcome);
    assert!(
        back.welcome["resync"] == "gap" || back.welcome["resync"] == "unknown_stream",
        "{}",
        back.welcome
    );
    let (status, history) = server
        .get(
            &format!("/api/v1/live-agent/messages/{session_id}?per_page=1"),
            &agent_token,
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["messages"][0]["message_text"], "still there?");
    let (reply, _) = back.command(json!({"type": "get_agent"})).await;
    assert!(reply["ok"].is_object(), "{reply}");
}

#[tokio::test]
async fn a_client_may_pipeline_more_commands_than_are_allowed_in_flight() {
    // The server takes at most 256 commands per connection waiting for the engine; a client
    // that sends more before reading any reply must still get every reply.
    let server = TestServer::start().await;
    let agent_token = server.login(AGENT).await;
    let mut agent = WsClient::connect(&server.ws_url(), &agent_token, None).await;
    const COMMANDS: u64 = 600;
    for id in 1..=COMMANDS {
        let frame =
            json!({"type": "command", "id": id, "command": {"type": "list_canned_responses"}});
        agent
            .socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    let mut answered = Vec::new();
    while (answered.len() as u64) < COMMANDS {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(30), agent.socket.next())
            .await
            .expect("every reply arrives")
            .expect("the connection stays open")
            .unwrap();
        if let Message::Text(text) = frame {
            let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "reply" {
                assert!(frame["ok"].is_object() || frame["ok"].is_array(), "{frame}");
                answered.push(frame["id"].as_u64().unwrap());
            }
        }
    }
    assert_eq!(answered, (1..=COMMANDS).collect::<Vec<_>>(), "in order");
}

#[tokio::test]
async fn a_write_the_client_never_takes_ends_the_connection_even_if_it_keeps_talking() {
    // A stream buffer far larger than what is sent: the client is never a slow consumer by
    // count. It does not read, but keeps sending pings, so it is never silent either; the
    // server's write stalls once the socket buffers are full, and a write stalled for three
    // heartbeats ends the connection.
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.resume_buffer = 4_096;
    config.heartbeat = 1;
    let server = TestServer::start_with(dir, config).await;

    let SmallReaderChat {
        agent: stalled,
        visitor,
        user,
        session_id,
        ..
    } = chat_with_a_small_reader(&server).await;
    // The visitor reads everything: only the agent's connection may stall, however fast the
    // messages below go out.
    let mut visitor_socket = visitor.socket;
    let reader =
        tokio::spawn(async move { while let Some(Ok(_)) = visitor_socket.next().await {} });

    let (mut writer, _unread) = stalled.socket.split();
    let talker = tokio::spawn(async move {
        let ping = json!({"type": "ping"}).to_string();
        while writer
            .send(Message::Text(ping.clone().into()))
            .await
            .is_ok()
        {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });

    let filler = "x".repeat(7 * 1024);
    let mut sent = 0;
    while sent < 2_000 && open_connections(&server).await == 2 {
        let (status, body) = server
            .post(
                "/api/v1/live-agent/messages",
                &user,
                json!({"session_id": session_id, "message_text": format!("{sent} {filler}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        sent += 1;
    }
    assert!(sent < 4_096, "fewer events than the stream holds");
    wait_for_connections(
        &server,
        1,
        &format!(
            "the server still holds a connection whose write has not moved for {sent} messages"
        ),
    )
    .await;
    talker.abort();
    reader.abort();
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_with_503_until_one_closes() {
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.max_connections = Some(2);
    let server = TestServer::start_with(dir, config).await;
    let token = server.login(AGENT).await;
    let first = WsClient::connect(&server.ws_url(), &token, None).await;
    let _second = WsClient::connect(&server.ws_url(), &token, None).await;

    let refused = connect_async(server.ws_url())
        .await
        .expect_err("over the cap");
    let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
        panic!("an HTTP answer, not {refused:?}");
    };
    assert_eq!(response.status(), 503);
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let (status, health) = server.get("/healthz", &token).await;
    assert_eq!(status, 200, "REST goes on at the cap: {health}");

    drop(first);
    let mut admitted = None;
    for _ in 0..100 {
        if let Ok((socket, _)) = connect_async(server.ws_url()).await {
            admitted = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let socket = admitted.expect("a closed connection frees its place");
    WsClient::hello(socket, &token, None).await;
}

#[tokio::test]
async fn a_visitor_token_opens_a_socket_only_from_its_own_site() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start().await;
    let visitor = widget_init(&server, json!({})).await;
    let token = visitor["visitor_token"].as_str().unwrap();
    for origin in [Some("https://evil.example"), None] {
        let mut request = server.ws_url().into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        let (mut socket, _) = connect_async(request).await.unwrap();
        socket
            .send(Message::Text(
                json!({"type": "hello", "token": token}).to_string().into(),
            ))
            .await
            .unwrap();
        let error = next_json(&mut socket).await.expect("an error frame");
        assert_eq!(error["type"], "error", "{origin:?}: {error}");
        assert_eq!(error["error"]["code"], "origin_not_allowed", "{error}");
    }
    // From the site the token was issued for, the same token is welcome.
    let client = WsClient::connect_from(&server.ws_url(), &widget_origin(&server), token).await;
    assert_eq!(client.welcome["type"], "welcome");
}
