//! Kill the server with SIGKILL while clients write, start it again on the same database:
//! every message the server acknowledged is there, and clients carry on after a resync.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::*;

struct Process {
    child: Child,
    base: String,
}

fn spawn(dir: &TempDir) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .env_clear()
        .env("SWITCHBOARD_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_DB", dir.0.join("switchboard.db"))
        .env("SWITCHBOARD_DEMO_JWT_SECRET", ERP_SECRET)
        .env("SWITCHBOARD_SIGNING_KEY", "restart-test-signing-key")
        .env("SWITCHBOARD_RATE_LIMIT_IP", "0")
        .env("SWITCHBOARD_RATE_LIMIT_TENANT", "0")
        .env("SWITCHBOARD_RATE_LIMIT_SOCKET", "0")
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("text");
        if let Some(address) = line.strip_prefix("Switchboard is listening on ") {
            break address.trim().to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Process { child, base }
}

fn client(base: &str, dir: TempDir) -> TestServer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    TestServer {
        server: None,
        base: base.to_owned(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        dir,
    }
}

#[tokio::test]
async fn acknowledged_messages_survive_sigkill_and_clients_resume() {
    let dir = TempDir::new();
    let mut first = spawn(&dir);
    let api = client(&first.base, TempDir::new());

    let agent_token = api.login("agent@demo.localhost").await;
    let mut agent = WsClient::connect(&api.ws_url(), &agent_token, None).await;
    agent
        .command(json!({"type": "set_agent_status", "status": "online"}))
        .await;
    let user = erp_token("kim@example.com", "Kim");
    let mut visitor = WsClient::connect(&api.ws_url(), &user, None).await;
    let (reply, _) = visitor
        .command(json!({"type": "start_session", "initial_message": "start"}))
        .await;
    let session_id = reply["ok"]["session_id"].as_str().unwrap().to_owned();
    agent.event("offered").await;
    agent
        .command(json!({"type": "accept_offer", "session_id": session_id}))
        .await;

    // Write until the server dies under us; remember what it acknowledged.
    let mut acknowledged = Vec::new();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        first.child.kill().expect("SIGKILL");
        first.child.wait().expect("reaped");
    });
    for n in 0.. {
        let frame = json!({"type": "command", "id": n, "command":
            {"type": "send_message", "session_id": session_id, "body": format!("msg {n}"), "client_message_id": format!("c{n}")}});
        use futures_util::SinkExt;
        if visitor
            .socket
            .send(tokio_tungstenite::tungstenite::Message::Text(
                frame.to_string().into(),
            ))
            .await
            .is_err()
        {
            break;
        }
        let Some(reply) = wait_reply(&mut visitor, n).await else {
            break;
        };
        if reply["ok"]["type"] == "message_accepted" {
            acknowledged.push(format!("msg {n}"));
        }
    }
    killer.await.unwrap();
    assert!(
        acknowledged.len() > 5,
        "the load ran before the kill: {}",
        acknowledged.len()
    );

    // Restart on the same file.
    let second = spawn(&dir);
    let api = client(&second.base, TempDir::new());
    let agent_token = api.login("agent@demo.localhost").await;
    let (status, history) = api
        .get(
            &format!("/api/v1/live-agent/messages/{session_id}?per_page=200"),
            &agent_token,
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let mut stored: Vec<String> = Vec::new();
    let total = history["total"].as_u64().unwrap() as u32;
    for page in (1..=total.div_ceil(200)).rev() {
        let (_, part) = api
            .get(
                &format!("/api/v1/live-agent/messages/{session_id}?per_page=200&page={page}"),
                &agent_token,
            )
            .await;
        stored.extend(
            part["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["message_text"].as_str().unwrap().to_owned()),
        );
    }
    for message in &acknowledged {
        assert!(
            stored.contains(message),
            "acknowledged {message:?} was lost"
        );
    }

    // The visitor resumes: its stream is gone with the old process, so it is told to
    // resync, and the chat carries on.
    let mut visitor = WsClient::connect(
        &api.ws_url(),
        &user,
        Some((&visitor.stream_id, visitor.last_seq)),
    )
    .await;
    assert_eq!(visitor.welcome["resumed"], false);
    assert_eq!(visitor.welcome["resync"], "unknown_stream");
    let mut agent = WsClient::connect(
        &api.ws_url(),
        &agent_token,
        Some((&agent.stream_id, agent.last_seq)),
    )
    .await;
    let (reply, _) = visitor
        .command(json!({"type": "send_message", "session_id": session_id, "body": "after restart"}))
        .await;
    assert_eq!(reply["ok"]["type"], "message_accepted", "{reply}");
    let message = agent.event("message").await;
    assert_eq!(message["event"]["message"]["body"], "after restart");
    drop(second);
}

async fn wait_reply(client: &mut WsClient, id: u64) -> Option<serde_json::Value> {
    loop {
        let frame = next_json(&mut client.socket).await?;
        if frame["type"] == "reply" && frame["id"] == id {
            return Some(frame);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_clean_shutdown_after_reads_leaves_no_log_beside_the_database() {
    let mut server = TestServer::start().await;
    let agent = server.login("agent@demo.localhost").await;
    let (status, _) = server
        .post(
            "/api/v1/live-agent/sessions",
            &erp_token("reader@example.com", "Reader"),
            json!({"initial_message": "hello"}),
        )
        .await;
    assert_eq!(status, 201);
    // Reads open the pool's connections to the file.
    let (status, listed) = server.get("/api/v1/live-agent/sessions", &agent).await;
    assert_eq!(status, 200, "{listed}");
    let database = server.dir.0.join("switchboard.db");
    let log = server.dir.0.join("switchboard.db-wal");
    assert!(
        log.exists(),
        "the server writes through a log while it runs"
    );
    server.stop().await;
    assert!(database.exists());
    assert!(
        !log.exists(),
        "the last connection to close folds the log into the database"
    );
}

#[tokio::test]
async fn a_restart_shows_the_demo_tenant_it_keeps_and_ignores_new_demo_options() {
    let mut server = TestServer::start().await;
    let first = server.server.as_ref().unwrap().demo.clone().unwrap();
    assert!(first.created);
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;

    let mut config = test_config(&dir);
    config.demo_jwt_secret = Some("another-secret-entirely".to_owned());
    config.demo_password = "another password".to_owned();
    let server = TestServer::start_with(dir, config).await;
    let again = server.server.as_ref().unwrap().demo.clone().unwrap();
    assert!(!again.created);
    assert_eq!(again.widget_key, first.widget_key);
    assert_eq!(
        again.jwt_secret, ERP_SECRET,
        "the stored secret, not the new option"
    );
    // What the banner shows is what the tenant accepts.
    let (status, _) = server
        .get(
            "/api/v1/live-agent/sessions",
            &erp_token("back@example.com", "Back"),
        )
        .await;
    assert_eq!(status, 200);
    server.login("agent@demo.localhost").await;
}
