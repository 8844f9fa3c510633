//! Webhooks end to end: managed through the admin API, delivered signed to local
//! receivers, retried, logged, kept per tenant, and resumed after a restart.

mod receivers;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use hmac::{Hmac, Mac};
use receivers::{HttpReceiver, Request};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use support::*;
use switchboard_server::directory::{self, Webhook, namespace};

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";
const HOOKS: &str = "/api/v1/admin/webhooks";

/// Checks a delivery's headers and signature against `secret`; returns the body.
fn verified(request: &Request, secret: &str) -> Value {
    assert_eq!(request.method, "POST");
    assert!(
        request
            .header("content-type")
            .starts_with("application/json")
    );
    let timestamp = request.header("x-switchboard-timestamp");
    let seconds: i64 = timestamp.parse().expect("a Unix timestamp");
    assert!((seconds - now_seconds()).abs() < 120, "{timestamp}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", request.body).as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        request.header("x-switchboard-signature"),
        expected,
        "the signature verifies with the webhook's secret"
    );
    let body = request.json();
    assert_eq!(request.header("x-switchboard-event"), body["type"]);
    assert!(request.header("x-switchboard-delivery").starts_with("dlv_"));
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("evt_")));
    assert!(
        body["created_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );
    assert!(body["data"].is_object(), "{body}");
    body
}

fn types(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|request| request.header("x-switchboard-event").to_owned())
        .collect()
}

async fn create_hook(server: &TestServer, admin: &str, body: Value) -> Value {
    let (status, created) = server.post(HOOKS, admin, body).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn deliveries(server: &TestServer, admin: &str, id: &str) -> Vec<Value> {
    let (status, body) = server.get(&format!("{HOOKS}/{id}/deliveries"), admin).await;
    assert_eq!(status, 200, "{body}");
    body["deliveries"].as_array().unwrap().clone()
}

/// Polls the delivery log until `done` holds.
async fn deliveries_until(
    server: &TestServer,
    admin: &str,
    id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..300 {
        let log = deliveries(server, admin, id).await;
        if done(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the delivery log never got there: {:#?}",
        deliveries(server, admin, id).await
    );
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

#[tokio::test]
async fn administrators_manage_webhooks_and_see_each_secret_only_once() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let agent = server.login(AGENT).await;

    let (status, _) = server.get(HOOKS, &agent).await;
    assert_eq!(status, 403, "agents may not manage webhooks");
    let (status, _) = server
        .post(HOOKS, &agent, json!({"url": "https://example.com/hook"}))
        .await;
    assert_eq!(status, 403);

    for (bad, field) in [
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2_100))}),
            "url",
        ),
        (
            json!({"url": "https://example.com/hook", "events": ["session.exploded"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/hook", "secret": "short"}),
            "secret",
        ),
    ] {
        let (status, error) = server.post(HOOKS, &admin, bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {error}");
        assert_eq!(error["error"]["code"], "invalid_input");
        assert_eq!(error["error"]["details"]["field"], field);
    }

    let created = create_hook(
        &server,
        &admin,
        json!({"url": "https://hooks.example.com/in", "events": ["message.created", "message.created"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));
    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|secret| secret.starts_with("whsec_") && secret.len() > 32),
        "a generated secret, shown at creation: {created}"
    );
    assert_eq!(created["events"], json!(["message.created"]));
    assert_eq!(created["enabled"], true);

    let (status, listed) = server.get(HOOKS, &admin).await;
    assert_eq!(status, 200);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(listed["webhooks"][0]["id"], id.as_str());
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "never listed: {listed}"
    );
    let known: Vec<&str> = listed["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    for name in [
        "session.started",
        "session.status_changed",
        "session.assigned",
        "message.created",
        "ticket.created",
        "ticket.updated",
        "ticket.message_created",
        "csat.submitted",
    ] {
        assert!(known.contains(&name), "{name}");
    }

    let (status, updated) = server
        .put(
            &format!("{HOOKS}/{id}"),
            &admin,
            json!({"events": [], "enabled": false, "secret": "a-new-secret-of-enough-length"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["events"], json!([]));
    assert_eq!(updated["enabled"], false);
    assert!(updated.get("secret").is_none());
    let (status, _) = server
        .put(
            &format!("{HOOKS}/{id}"),
            &admin,
            json!({"url": "gopher://x"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = server
        .put(
            &format!("{HOOKS}/wh_missing"),
            &admin,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, 404);

    assert!(deliveries(&server, &admin, &id).await.is_empty());
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("{HOOKS}/{id}"),
            Some(&agent),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 204);
    let (_, listed) = server.get(HOOKS, &admin).await;
    assert_eq!(listed["webhooks"], json!([]));
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(&format!("{HOOKS}/{id}/deliveries"), &admin)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deliveries_are_signed_and_only_subscribed_event_types_are_sent() {
    let chats = HttpReceiver::start().await;
    let tickets = HttpReceiver::start().await;
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let chat_secret = "chat-hook-secret-0123456789";
    let chat_hook = create_hook(
        &server,
        &admin,
        json!({
            "url": chats.url("/hooks/chat"),
            "secret": chat_secret,
            "events": ["session.started", "session.status_changed", "session.assigned", "message.created"],
        }),
    )
    .await;
    let ticket_hook = create_hook(
        &server,
        &admin,
        json!({"url": tickets.url("/hooks/tickets"), "events": ["ticket.created"]}),
    )
    .await;
    let ticket_secret = ticket_hook["secret"].as_str().unwrap().to_owned();

    // A chat: started, taken, answered, resolved.
    let agent = server.login(AGENT).await;
    server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true}),
        )
        .await;
    let user = erp_token("hook.user@example.com", "Hook User");
    let session_id = start_session(&server, &user, "Order 5 is late").await;
    let status_path = format!("/api/v1/live-agent/sessions/{session_id}/status");
    let (status, _) = server
        .put(&status_path, &agent, json!({"status": "active"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post(
            "/api/v1/live-agent/messages",
            &agent,
            json!({"session_id": session_id, "message_text": "Checking now"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = server
        .put(&status_path, &agent, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 200);

    // A ticket, from an offline message.
    let mut socket = WsClient::connect(&server.ws_url(), &user, None).await;
    let (reply, _) = socket
        .command(json!({
            "type": "submit_offline_message",
            "email": "hook.user@example.com",
            "subject": "Call me back",
            "message": "About order 5",
        }))
        .await;
    assert_eq!(reply["ok"]["type"], "ticket_created", "{reply}");

    let received = chats
        .wait_until("the chat's events", |requests| {
            requests.iter().any(|request| {
                let body = request.json();
                body["type"] == "session.status_changed" && body["data"]["status"] == "resolved"
            })
        })
        .await;
    let bodies: Vec<Value> = received
        .iter()
        .map(|request| verified(request, chat_secret))
        .collect();
    let seen = types(&received);
    assert_eq!(seen[0], "session.started", "{seen:?}");
    assert!(
        seen.iter()
            .all(|name| name.starts_with("session.") || name == "message.created"),
        "{seen:?}"
    );
    let started = &bodies[0];
    assert_eq!(started["tenant_id"], "demo");
    assert_eq!(started["data"]["session_id"], session_id.as_str());
    assert_eq!(
        started["data"]["session"]["visitor"]["account"],
        "hook.user@example.com"
    );
    let texts: Vec<&str> = bodies
        .iter()
        .filter(|body| body["type"] == "message.created")
        .map(|body| body["data"]["message"]["body"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Order 5 is late"), "{texts:?}");
    assert!(texts.contains(&"Checking now"), "{texts:?}");
    let assigned = bodies
        .iter()
        .find(|body| body["type"] == "session.assigned")
        .expect("session.assigned");
    assert_eq!(assigned["data"]["agent_id"], AGENT);
    let statuses: Vec<&str> = bodies
        .iter()
        .filter(|body| body["type"] == "session.status_changed")
        .map(|body| body["data"]["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"active"), "{statuses:?}");
    assert!(statuses.contains(&"resolved"), "{statuses:?}");
    let delivery_ids: HashSet<&str> = received
        .iter()
        .map(|request| request.header("x-switchboard-delivery"))
        .collect();
    assert_eq!(delivery_ids.len(), received.len(), "one delivery id each");

    let received = tickets
        .wait_until("ticket.created", |requests| !requests.is_empty())
        .await;
    let body = verified(&received[0], &ticket_secret);
    assert_eq!(body["type"], "ticket.created");
    assert_eq!(body["data"]["ticket"]["subject"], "Call me back");
    assert_eq!(body["data"]["ticket"]["channel"], "offline_message");

    // Nothing else arrives: the chat hook gets no ticket events, the ticket hook no
    // chat events.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        types(&chats.requests())
            .iter()
            .all(|name| !name.starts_with("ticket.")),
        "{:?}",
        types(&chats.requests())
    );
    assert_eq!(types(&tickets.requests()), ["ticket.created"]);

    // Every attempt is in the log: one successful attempt per delivery.
    let chat_id = chat_hook["id"].as_str().unwrap();
    let count = chats.requests().len();
    let log = deliveries_until(&server, &admin, chat_id, |log| log.len() == count).await;
    for entry in &log {
        assert_eq!(entry["ok"], true, "{entry}");
        assert_eq!(entry["status"], 200);
        assert_eq!(entry["attempt"], 1);
        assert_eq!(entry["webhook_id"], chat_id);
        assert!(entry["at"].as_str().is_some_and(|at| at.ends_with('Z')));
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_each_attempt_is_logged() {
    let receiver = HttpReceiver::start().await;
    receiver.answer_next(&[500]);
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.webhook_retry_base_ms = 50;
    let server = TestServer::start_with(dir, config).await;
    let admin = server.login(ADMIN).await;
    let hook = create_hook(
        &server,
        &admin,
        json!({"url": receiver.url("/flaky"), "events": ["session.started"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap();
    let id = hook["id"].as_str().unwrap();

    let user = erp_token("retry@example.com", "Retry");
    start_session(&server, &user, "hello").await;
    let received = receiver
        .wait_until("two attempts", |requests| requests.len() >= 2)
        .await;
    assert_eq!(received.len(), 2, "{received:#?}");
    let (first, second) = (&received[0], &received[1]);
    verified(first, secret);
    verified(second, secret);
    assert_eq!(
        first.header("x-switchboard-delivery"),
        second.header("x-switchboard-delivery"),
        "a retry is the same delivery"
    );
    assert_eq!(first.body, second.body, "with the same payload");

    let log = deliveries_until(&server, &admin, id, |log| log.len() == 2).await;
    let delivery_id = first.header("x-switchboard-delivery");
    assert_eq!(log[0]["delivery_id"], delivery_id);
    assert_eq!(log[1]["delivery_id"], delivery_id);
    assert_eq!(log[0]["event_type"], "session.started");
    assert_eq!(
        (
            &log[1]["attempt"],
            &log[1]["ok"],
            &log[1]["status"],
            &log[1]["will_retry"]
        ),
        (&json!(1), &json!(false), &json!(500), &json!(true)),
        "{log:#?}"
    );
    assert_eq!(
        (
            &log[0]["attempt"],
            &log[0]["ok"],
            &log[0]["status"],
            &log[0]["will_retry"]
        ),
        (&json!(2), &json!(true), &json!(200), &json!(false)),
        "{log:#?}"
    );

    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let failures: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("switchboard_webhook_failures_total "))
        .expect("the failure counter")
        .trim()
        .parse()
        .unwrap();
    assert!(failures >= 1.0, "{metrics}");
    assert!(metrics.contains("switchboard_webhook_drops_total"));
}

#[tokio::test]
async fn a_tenant_webhook_receives_only_its_own_tenant_events() {
    let demo_receiver = HttpReceiver::start().await;
    let other_receiver = HttpReceiver::start().await;
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    create_hook(&server, &admin, json!({"url": demo_receiver.url("/demo")})).await;

    // A second tenant, with a webhook for every event.
    create_tenant(
        &server,
        "other",
        "other.localhost",
        "other-erp-secret",
        "bob@other.localhost",
    )
    .await;
    let other_secret = "other-tenant-webhook-secret";
    let hook = directory::write(
        "other",
        namespace::WEBHOOK,
        "wh_other",
        &Webhook {
            url: other_receiver.url("/other"),
            secret: other_secret.to_owned(),
            events: Vec::new(),
            enabled: true,
        },
    );
    write_host_values(&server, vec![hook]).await;

    // The demo tenant's chat reaches the demo webhook only.
    let user = erp_token("demo.user@example.com", "Demo User");
    start_session(&server, &user, "demo question").await;
    demo_receiver
        .wait_until("the demo chat's message", |requests| {
            requests
                .iter()
                .any(|r| r.json()["type"] == "message.created")
        })
        .await;

    // The other tenant's chat reaches the other webhook only.
    let other_user = sign_erp(
        json!({"sub": "o@example.com", "email": "o@example.com", "name": "O", "exp": now_seconds() + 600}),
        "other-erp-secret",
    );
    let (status, created) = server
        .call(
            Method::POST,
            "/api/v1/live-agent/sessions",
            Some(&other_user),
            Some(json!({"initial_message": "other question"})),
            &[("X-Tenant-Domain", "other.localhost")],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let other_session = created["session_id"].as_str().unwrap().to_owned();
    let received = other_receiver
        .wait_until("the other chat's message", |requests| {
            requests
                .iter()
                .any(|r| r.json()["type"] == "message.created")
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    for request in other_receiver.requests() {
        let body = verified(&request, other_secret);
        assert_eq!(body["tenant_id"], "other", "{body}");
        assert!(!request.body.contains("demo question"));
    }
    assert!(received.iter().any(|request| {
        let body = request.json();
        body["type"] == "session.started" && body["data"]["session_id"] == other_session.as_str()
    }));
    for request in demo_receiver.requests() {
        assert_eq!(request.json()["tenant_id"], "demo");
        assert!(!request.body.contains("other question"));
    }
}

#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    // First run: the receiver cannot be reached and the retry is far away.
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.webhook_retry_base_ms = 600_000;
    let mut server = TestServer::start_with(dir, config).await;
    let admin = server.login(ADMIN).await;
    let hook = create_hook(
        &server,
        &admin,
        json!({"url": "http://127.0.0.1:9/down", "events": ["session.started"]}),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let user = erp_token("patient@example.com", "Patient");
    start_session(&server, &user, "hello?").await;
    let log = deliveries_until(&server, &admin, &id, |log| !log.is_empty()).await;
    assert_eq!(log[0]["ok"], false);
    assert_eq!(log[0]["will_retry"], true);
    assert!(log[0]["status"].is_null(), "no answer: {}", log[0]);
    let delivery_id = log[0]["delivery_id"].as_str().unwrap().to_owned();

    // The receiver moves while the delivery waits; the server stops before the retry.
    let receiver = HttpReceiver::start().await;
    let (status, _) = server
        .put(
            &format!("{HOOKS}/{id}"),
            &admin,
            json!({"url": receiver.url("/up")}),
        )
        .await;
    assert_eq!(status, 200);
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;
    assert!(receiver.requests().is_empty());

    // Second run: the pending delivery is sent again, as the same delivery.
    let mut config = test_config(&dir);
    config.webhook_retry_base_ms = 50;
    let mut server = TestServer::start_with(dir, config).await;
    let received = receiver
        .wait_until("the resumed delivery", |requests| !requests.is_empty())
        .await;
    let body = verified(&received[0], &secret);
    assert_eq!(body["type"], "session.started");
    assert_eq!(received[0].header("x-switchboard-delivery"), delivery_id);
    let admin = server.login(ADMIN).await;
    let log = deliveries_until(&server, &admin, &id, |log| log.len() == 2).await;
    assert_eq!(log[0]["attempt"], 2, "{log:#?}");
    assert_eq!(log[0]["ok"], true);
    assert_eq!(log[1]["attempt"], 1, "the log survived the restart too");

    // Done: the next start sends nothing.
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;
    let config = test_config(&dir);
    let _server = TestServer::start_with(dir, config).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_removed_webhook_gets_no_more_retries() {
    let receiver = HttpReceiver::start().await;
    receiver.answer_next(&[503, 503, 503, 503, 503]);
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.webhook_retry_base_ms = 300;
    let server = TestServer::start_with(dir, config).await;
    let admin = server.login(ADMIN).await;
    let hook = create_hook(
        &server,
        &admin,
        json!({"url": receiver.url("/busy"), "events": ["session.started"]}),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let user = erp_token("gone@example.com", "Gone");
    start_session(&server, &user, "hi").await;
    receiver
        .wait_until("the first attempt", |requests| !requests.is_empty())
        .await;
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("{HOOKS}/{id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.requests().len(), 1, "no retry after the removal");
}

#[tokio::test]
async fn by_default_webhooks_reach_public_addresses_only() {
    let receiver = HttpReceiver::start().await;
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.webhook_private_targets = false;
    let server = TestServer::start_with(dir, config).await;
    let admin = server.login(ADMIN).await;

    // A literal inward address is refused when the webhook is made or changed.
    let (status, refused) = server
        .post(
            HOOKS,
            &admin,
            json!({"url": receiver.url("/in"), "events": ["session.started"]}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["details"]["field"], "url");
    // A name is checked where it is resolved: this one only resolves inward.
    let port = receiver.url("").rsplit(':').next().unwrap().to_owned();
    let hook = create_hook(
        &server,
        &admin,
        json!({"url": format!("http://localhost:{port}/in"), "events": ["session.started"]}),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let (status, refused) = server
        .put(
            &format!("{HOOKS}/{id}"),
            &admin,
            json!({"url": "http://169.254.169.254/latest/meta-data"}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    start_session(&server, &erp_token("probe@example.com", "Probe"), "hi").await;
    let log = deliveries_until(&server, &admin, id, |log| !log.is_empty()).await;
    // Retried as a failed connection would be: a missing name and an inward one read
    // the same in the log.
    assert_eq!(
        (&log[0]["ok"], &log[0]["will_retry"]),
        (&json!(false), &json!(true))
    );
    let error = log[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no public address"), "{error}");
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the loopback receiver"
    );

    // A webhook to a literal inward address, kept from when the operator allowed them,
    // is refused at its next attempt, for good.
    let kept = Webhook {
        url: receiver.url("/kept"),
        secret: "whsec_kept_from_before_0123".to_owned(),
        events: vec!["session.started".to_owned()],
        enabled: true,
    };
    write_host_values(
        &server,
        vec![directory::write(
            "demo",
            namespace::WEBHOOK,
            "wh_kept",
            &kept,
        )],
    )
    .await;
    start_session(&server, &erp_token("probe2@example.com", "Probe"), "hi").await;
    let log = deliveries_until(&server, &admin, "wh_kept", |log| !log.is_empty()).await;
    assert_eq!(
        (&log[0]["ok"], &log[0]["will_retry"]),
        (&json!(false), &json!(false))
    );
    let error = log[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("is not a public address"), "{error}");
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the loopback receiver"
    );
}
