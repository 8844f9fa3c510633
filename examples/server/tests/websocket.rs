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
