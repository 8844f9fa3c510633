//! Effects carried out for real, end to end: pushes in the FCM HTTP v1 format to a local
//! push endpoint, e-mails to a local SMTP server, and effects left in the outbox by a stopped
//! server carried out by the next start.

mod receivers;
mod support;

use std::time::Duration;

use receivers::{HttpReceiver, SmtpSink};
use serde_json::{Value, json};
use support::*;
use switchboard_core::{Actor, Command, Role};

const AGENT: &str = "agent@demo.localhost";
const PUSH_PATH: &str = "/v1/projects/demo/messages:send";
const PUSH_TOKEN: &str = "test-push-access-token";

/// The agent's presence as the engine sees it.
async fn agent_view(server: &TestServer) -> Value {
    let state = server.server.as_ref().unwrap().state();
    let (reply, _) = state
        .engine
        .execute(
            Actor::new("demo", AGENT, Role::Agent),
            Command::GetAgent { agent_id: None },
        )
        .await
        .expect("the agent");
    serde_json::to_value(reply).unwrap()["agent"].clone()
}

/// Goes online with a device token for pushes; returns the access token.
async fn agent_online_with_device(server: &TestServer, device: &str) -> String {
    let agent = server.login(AGENT).await;
    let (status, body) = server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true, "fcm_token": device}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    agent
}

async fn start_session(server: &TestServer, user: &str, text: &str) -> String {
    let (status, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            user,
            json!({"initial_message": text}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["session_id"].as_str().unwrap().to_owned()
}

fn assert_fcm_v1(push: &receivers::Request, device: &str) -> Value {
    assert_eq!(push.method, "POST");
    assert_eq!(push.path, PUSH_PATH);
    assert_eq!(push.header("authorization"), format!("Bearer {PUSH_TOKEN}"));
    assert!(push.header("content-type").starts_with("application/json"));
    let body = push.json();
    let message = &body["message"];
    assert_eq!(message["token"], device, "{body}");
    assert!(message["notification"]["title"].is_string(), "{body}");
    assert!(message["notification"]["body"].is_string(), "{body}");
    assert!(
        message["data"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string),
        "FCM data values are strings: {body}"
    );
    message.clone()
}

#[tokio::test]
async fn pushes_for_a_new_session_and_a_new_message_use_the_fcm_v1_format() {
    let push = HttpReceiver::start().await;
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.push_url = Some(push.url(PUSH_PATH));
    config.push_token = Some(PUSH_TOKEN.to_owned());
    let server = TestServer::start_with(dir, config).await;
    let agent = agent_online_with_device(&server, "device-token-1").await;

    // A new chat is offered to the online agent: a new_session push.
    let user = erp_token("john.doe@example.com", "John Doe");
    let session_id = start_session(&server, &user, "I need help with invoice generation").await;
    let received = push
        .wait_until("the new_session push", |requests| !requests.is_empty())
        .await;
    let message = assert_fcm_v1(&received[0], "device-token-1");
    assert_eq!(
        message["data"],
        json!({
            "type": "new_session",
            "session_id": session_id,
            "tenant_domain": "demo.localhost",
            "user_account": "john.doe@example.com",
            "user_name": "John Doe",
            "message_preview": "I need help with invoice generation",
        })
    );
    assert_eq!(
        message["notification"],
        json!({"title": "New Live Agent Request", "body": "User from demo.localhost needs assistance"})
    );

    // The agent takes it over a WebSocket, then loses the connection.
    let mut socket = WsClient::connect(&server.ws_url(), &agent, None).await;
    let (status, taken) = server
        .put(
            &format!("/api/v1/live-agent/sessions/{session_id}/status"),
            &agent,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, 200, "{taken}");
    socket.socket.close(None).await.unwrap();
    for _ in 0..100 {
        if agent_view(&server).await["connected"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(agent_view(&server).await["connected"], false);

    // The user writes while the agent is disconnected: a new_message push.
    let (status, _) = server
        .post(
            "/api/v1/live-agent/messages",
            &user,
            json!({"session_id": session_id, "message_text": "Can you help me with the payment issue?"}),
        )
        .await;
    assert_eq!(status, 201);
    let received = push
        .wait_until("the new_message push", |requests| {
            requests
                .iter()
                .any(|request| request.json()["message"]["data"]["type"] == "new_message")
        })
        .await;
    let request = received
        .iter()
        .find(|request| request.json()["message"]["data"]["type"] == "new_message")
        .unwrap();
    let message = assert_fcm_v1(request, "device-token-1");
    assert_eq!(
        message["data"],
        json!({
            "type": "new_message",
            "session_id": session_id,
            "sender_type": "user",
            "sender_name": "John Doe",
            "message_text": "Can you help me with the payment issue?",
        })
    );
    assert_eq!(
        message["notification"],
        json!({"title": "New message from John Doe", "body": "Can you help me with the payment issue?"})
    );
}

#[tokio::test]
async fn a_transcript_is_mailed_to_the_address_on_the_chat() {
    let smtp = SmtpSink::start().await;
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.smtp_url = Some(smtp.url.clone());
    let server = TestServer::start_with(dir, config).await;
    let user = erp_token("mail.me@example.com", "Mail Me");
    let session_id = start_session(&server, &user, "Where is order 7781?").await;

    let mut socket = WsClient::connect(&server.ws_url(), &user, None).await;
    let (reply, _) = socket
        .command(json!({"type": "email_transcript", "session_id": session_id}))
        .await;
    assert_eq!(reply["ok"]["type"], "ok", "{reply}");

    let mail = smtp.wait_for_mail_to("mail.me@example.com").await;
    assert_eq!(mail.to, ["mail.me@example.com"]);
    assert_eq!(mail.from, "no-reply@switchboard.localhost");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some(format!("Your chat transcript ({session_id})").as_str())
    );
    assert!(
        mail.header("Content-Type")
            .is_some_and(|value| value.starts_with("multipart/alternative")),
        "{}",
        mail.data
    );
    assert!(
        mail.text().contains("Where is order 7781?"),
        "the transcript holds the chat: {}",
        mail.text()
    );
}

#[tokio::test]
async fn an_offline_message_is_confirmed_by_mail_with_its_ticket_number() {
    let smtp = SmtpSink::start().await;
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.smtp_url = Some(smtp.url.clone());
    let server = TestServer::start_with(dir, config).await;
    let user = erp_token("offline@example.com", "Offline User");

    let mut socket = WsClient::connect(&server.ws_url(), &user, None).await;
    let (reply, _) = socket
        .command(json!({
            "type": "submit_offline_message",
            "name": "Offline User",
            "email": "offline@example.com",
            "subject": "Invoice export fails",
            "message": "The export button does nothing. Please call back.",
        }))
        .await;
    assert_eq!(reply["ok"]["type"], "ticket_created", "{reply}");
    let number = reply["ok"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("a ticket number: {reply}"))
        .to_owned();

    let mail = smtp.wait_for_mail_to("offline@example.com").await;
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some(format!("[{number}] We received your message").as_str())
    );
    let text = mail.text();
    assert!(text.contains(&format!("opened ticket {number}")), "{text}");
    assert!(text.contains("Invoice export fails"), "{text}");
}

#[tokio::test]
async fn effects_left_in_the_outbox_are_carried_out_after_a_restart() {
    // First run: the push endpoint cannot be reached, and the next retry is far away.
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.push_url = Some("http://127.0.0.1:9/unreachable".to_owned());
    config.push_token = Some(PUSH_TOKEN.to_owned());
    config.effect_retry_base_ms = 600_000;
    let mut server = TestServer::start_with(dir, config).await;
    agent_online_with_device(&server, "device-token-2").await;
    let user = erp_token("later@example.com", "Later");
    let session_id = start_session(&server, &user, "Anyone there?").await;
    // The attempt failed (connection refused) and the effect waits in the outbox.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;

    // Second run: the endpoint works; the effect is carried out without any new command.
    let push = HttpReceiver::start().await;
    let mut config = test_config(&dir);
    config.push_url = Some(push.url(PUSH_PATH));
    config.push_token = Some(PUSH_TOKEN.to_owned());
    let mut server = TestServer::start_with(dir, config).await;
    let received = push
        .wait_until("the push left in the outbox", |requests| {
            !requests.is_empty()
        })
        .await;
    let message = assert_fcm_v1(&received[0], "device-token-2");
    assert_eq!(message["data"]["type"], "new_session");
    assert_eq!(message["data"]["session_id"], session_id.as_str());

    // Once done, it is not carried out again by the next start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;
    let mut config = test_config(&dir);
    config.push_url = Some(push.url(PUSH_PATH));
    config.push_token = Some(PUSH_TOKEN.to_owned());
    let _server = TestServer::start_with(dir, config).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(push.requests().len(), 1, "{:#?}", push.requests());
}
