//! The agent dashboard API end to end: offers, picking, transfers, notes, tags, canned
//! responses, history with cursors, search, visitor profiles, and tenant isolation.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";
/// A widget visitor of the demo tenant starting a chat; returns (visitor id, session id).
async fn start_chat(server: &TestServer, name: &str, first: &str) -> (String, String) {
    let key = widget_key(server);
    let origin = widget_origin(server);
    let (status, visitor) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", &key), ("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 200, "{visitor}");
    let (status, started) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            visitor["visitor_token"].as_str(),
            Some(json!({"name": name, "initial_message": first})),
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    (
        visitor["visitor_id"].as_str().unwrap().to_owned(),
        started["session_id"].as_str().unwrap().to_owned(),
    )
}

fn path(id: &str, rest: &str) -> String {
    format!("/api/v1/agent/sessions/{id}/{rest}")
}

#[tokio::test]
async fn offers_are_accepted_declined_and_transferred() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let agent = server.login(AGENT).await;
    let bob = create_staff(&server, &admin, "bob@demo.localhost", "agent").await;
    go_online(&server, &agent).await;

    // Declined: the session waits in the queue; nobody else is online.
    let (_, first) = start_chat(&server, "Ana", "first").await;
    let (status, declined) = server
        .post(&path(&first, "decline"), &agent, json!({}))
        .await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["status"], "queued");
    assert_eq!(declined["agent_id"], Value::Null);

    // Picked from the queue by Bob.
    go_online(&server, &bob).await;
    let (status, picked) = server.post(&path(&first, "pick"), &bob, json!({})).await;
    assert_eq!(status, 200, "{picked}");
    assert_eq!(picked["status"], "active");
    assert_eq!(picked["agent_id"], "bob@demo.localhost");

    // Accepted, then transferred to Bob, who accepts.
    let (_, second) = start_chat(&server, "Cy", "second").await;
    let (status, accepted) = server
        .post(&path(&second, "accept"), &agent, json!({}))
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["agent_id"], AGENT);
    let (status, transfer) = server
        .post(
            &path(&second, "transfer"),
            &agent,
            json!({"to_agent_id": "bob@demo.localhost", "reason": "billing expert"}),
        )
        .await;
    assert_eq!(status, 202, "{transfer}");
    let transfer_id = transfer["transfer_id"].as_str().unwrap();
    // Only the target may accept.
    let (status, _) = server
        .post(
            &format!("/api/v1/agent/transfers/{transfer_id}/accept"),
            &agent,
            json!({}),
        )
        .await;
    assert!(status == 403 || status == 404 || status == 409, "{status}");
    let (status, answered) = server
        .post(
            &format!("/api/v1/agent/transfers/{transfer_id}/accept"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["outcome"], "accepted");
    let (_, moved) = server
        .get(&format!("/api/v1/live-agent/sessions/{second}"), &bob)
        .await;
    assert_eq!(moved["assigned_agent_id"], "bob@demo.localhost", "{moved}");
    assert_eq!(moved["status"], "active");

    // A department transfer can be cancelled by its requester.
    let (status, transfer) = server
        .post(
            &path(&second, "transfer"),
            &bob,
            json!({"to_department_id": "support", "reason": "rebalance"}),
        )
        .await;
    assert_eq!(status, 202, "{transfer}");
    let transfer_id = transfer["transfer_id"].as_str().unwrap();
    let (status, cancelled) = server
        .post(
            &format!("/api/v1/agent/transfers/{transfer_id}/cancel"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["outcome"], "cancelled");
    let (status, _) = server
        .post("/api/v1/agent/transfers/trf_x/accept", &bob, json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn notes_tags_canned_history_search_and_profiles() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let (visitor_id, id) = start_chat(&server, "Ana", "My invoice is wrong").await;
    let (status, _) = server.post(&path(&id, "accept"), &agent, json!({})).await;
    assert_eq!(status, 200);

    // Notes.
    let (status, note) = server
        .post(&path(&id, "notes"), &agent, json!({"body": "VIP customer"}))
        .await;
    assert_eq!(status, 201, "{note}");
    assert!(note["note_id"].as_str().unwrap().starts_with("note_"));
    let (status, notes) = server.get(&path(&id, "notes"), &agent).await;
    assert_eq!(status, 200, "{notes}");
    assert_eq!(notes["notes"][0]["body"], "VIP customer");
    assert_eq!(notes["notes"][0]["author_id"], AGENT);

    // Tags.
    let (status, tagged) = server
        .post(
            &path(&id, "tags"),
            &agent,
            json!({"tags": ["vip", "billing"]}),
        )
        .await;
    assert_eq!(status, 200, "{tagged}");
    assert_eq!(tagged["tags"], json!(["vip", "billing"]));
    let (status, untagged) = server
        .call(
            Method::DELETE,
            &path(&id, "tags/vip"),
            Some(&agent),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{untagged}");
    assert_eq!(untagged["tags"], json!(["billing"]));

    // Canned responses: create, list, render, send, update, delete.
    let (status, canned) = server
        .post(
            "/api/v1/agent/canned-responses",
            &agent,
            json!({"title": "Hi", "shortcut": "/hi", "body": "Hello {{visitor.name}}!"}),
        )
        .await;
    assert_eq!(status, 201, "{canned}");
    assert_eq!(canned["scope"], "personal");
    let canned_id = canned["canned_response_id"].as_str().unwrap().to_owned();
    let (_, listed) = server.get("/api/v1/agent/canned-responses", &agent).await;
    assert!(
        listed["canned_responses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["canned_response_id"] == canned_id.as_str()),
        "{listed}"
    );
    let (status, rendered) = server
        .get(
            &path(&id, &format!("canned-responses/{canned_id}/render")),
            &agent,
        )
        .await;
    assert_eq!(status, 200, "{rendered}");
    assert_eq!(rendered["text"], "Hello Ana!");
    let (status, sent) = server
        .post(
            &path(&id, &format!("canned-responses/{canned_id}/send")),
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let (status, updated) = server
        .put(
            &format!("/api/v1/agent/canned-responses/{canned_id}"),
            &agent,
            json!({"title": "Hi", "body": "Welcome back, {{visitor.name}}"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let (_, rendered) = server
        .get(
            &path(&id, &format!("canned-responses/{canned_id}/render")),
            &agent,
        )
        .await;
    assert_eq!(rendered["text"], "Welcome back, Ana");
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/agent/canned-responses/{canned_id}"),
            Some(&agent),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 204);
    let (_, listed) = server.get("/api/v1/agent/canned-responses", &agent).await;
    assert!(
        !listed["canned_responses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["canned_response_id"] == canned_id.as_str())
    );

    // History with cursors: the newest two, then the ones before.
    for n in 1..=3 {
        let (status, _) = server
            .post(
                &path(&id, "messages"),
                &agent,
                json!({"text": format!("reply {n}")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, newest) = server.get(&path(&id, "messages?limit=2"), &agent).await;
    assert_eq!(status, 200, "{newest}");
    let bodies = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(bodies(&newest), ["reply 2", "reply 3"]);
    assert_eq!(newest["newer"], Value::Null);
    let older = newest["older"].as_str().unwrap();
    let (_, before) = server
        .get(
            &path(&id, &format!("messages?limit=2&before={older}")),
            &agent,
        )
        .await;
    assert_eq!(bodies(&before), ["Hello Ana!", "reply 1"]);
    let (status, bad) = server.get(&path(&id, "messages?before=nope"), &agent).await;
    assert_eq!(status, 400, "{bad}");

    // Search.
    let (status, found) = server.get("/api/v1/agent/search?q=invoice", &agent).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["messages"][0]["body"], "My invoice is wrong");
    assert_eq!(found["messages"][0]["session_id"], id.as_str());
    let (_, nothing) = server.get("/api/v1/agent/search?q=zebra", &agent).await;
    assert_eq!(nothing["messages"], json!([]));

    // The visitor's profile with their chats.
    let (status, profile) = server
        .get(&format!("/api/v1/agent/visitors/{visitor_id}"), &agent)
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["profile"]["name"], "Ana");
    assert_eq!(profile["session_count"], 1);
    assert_eq!(profile["sessions"][0]["session_id"], id.as_str());
    let (status, _) = server.get("/api/v1/agent/visitors/v_unknown", &agent).await;
    assert_eq!(status, 404);

    // The transcript for staff shows the tags; the queue list answers.
    let (status, _) = server
        .get(&path(&id, "transcript?format=text"), &agent)
        .await;
    assert_eq!(status, 200);
    let (status, queue) = server
        .get("/api/v1/agent/queues/support/sessions", &agent)
        .await;
    assert_eq!(status, 200, "{queue}");
}

#[tokio::test]
async fn viewers_and_visitors_are_refused() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let (_, id) = start_chat(&server, "Ana", "hello").await;
    let viewer = create_staff(&server, &admin, "vera@demo.localhost", "viewer").await;
    for p in [
        path(&id, "messages"),
        path(&id, "notes"),
        "/api/v1/agent/search?q=hello".to_owned(),
    ] {
        let (status, body) = server.get(&p, &viewer).await;
        assert_eq!(status, 403, "{p}: {body}");
    }
    let user = erp_token("someone@example.com", "Someone");
    let (status, _) = server.get(&path(&id, "messages"), &user).await;
    assert_eq!(status, 403);
    let (status, _) = server.get(&path(&id, "messages"), "not-a-token").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn another_tenants_session_is_not_found() {
    let server = TestServer::start().await;
    let operator = server.login(ADMIN).await;
    let (status, tenant) = server
        .post(
            "/api/v1/admin/tenants",
            &operator,
            json!({"tenant_id": "acme", "name": "Acme", "domains": ["acme.test"],
                   "admin": {"email": "root@acme.test", "name": "Root", "password": NEW_PASSWORD}}),
        )
        .await;
    assert_eq!(status, 201, "{tenant}");
    let acme_admin = login_with(&server, "root@acme.test", NEW_PASSWORD).await;
    go_online(&server, &acme_admin).await;
    let (status, key) = server
        .post(
            "/api/v1/admin/api-keys",
            &acme_admin,
            json!({"label": "shop", "allowed_origins": ["https://shop.acme.test"]}),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let key = key["key"].as_str().unwrap();
    let shop = "https://shop.acme.test";
    let (status, visitor) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", key), ("Origin", shop)],
        )
        .await;
    assert_eq!(status, 200, "{visitor}");
    assert_eq!(visitor["tenant"]["name"], "Acme");
    let token = visitor["visitor_token"].as_str().unwrap();
    let (status, started) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            Some(token),
            Some(json!({"name": "Zoe", "initial_message": "acme question"})),
            &[("Origin", shop)],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["session_id"].as_str().unwrap().to_owned();

    // The demo tenant has no session: every endpoint taking this id answers 404.
    let agent = server.login(AGENT).await;
    let posts = [
        ("accept", json!({})),
        ("decline", json!({})),
        ("pick", json!({})),
        ("assign", json!({"agent_id": AGENT})),
        ("transfer", json!({"to_agent_id": AGENT, "reason": "x"})),
        ("resolve", json!({})),
        ("close", json!({})),
        ("notes", json!({"body": "x"})),
        ("tags", json!({"tags": ["x"]})),
        ("messages", json!({"text": "x"})),
        ("transcript/email", json!({})),
        ("canned-responses/canned_1/send", json!({})),
    ];
    for (rest, body) in posts {
        let (status, answer) = server.post(&path(&id, rest), &agent, body).await;
        assert_eq!(status, 404, "{rest}: {answer}");
    }
    for rest in [
        "notes",
        "messages",
        "transcript",
        "canned-responses/canned_1/render",
    ] {
        let (status, answer) = server.get(&path(&id, rest), &agent).await;
        assert_eq!(status, 404, "{rest}: {answer}");
    }
    let (status, _) = server
        .call(
            Method::DELETE,
            &path(&id, "tags/x"),
            Some(&agent),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(
            &format!("/api/v1/agent/search?q=acme&session_id={id}"),
            &agent,
        )
        .await;
    assert_eq!(status, 404);
    let (_, found) = server.get("/api/v1/agent/search?q=acme", &agent).await;
    assert_eq!(found["messages"], json!([]), "search stays in the tenant");
    let (status, _) = server
        .get(&format!("/api/v1/live-agent/sessions/{id}"), &agent)
        .await;
    assert_eq!(status, 404);
    let demo_admin = server.login(ADMIN).await;
    let visitor_id = visitor["visitor_id"].as_str().unwrap();
    let (status, _) = server
        .get(
            &format!("/api/v1/admin/visitors/{visitor_id}/export"),
            &demo_admin,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(&format!("/api/v1/agent/visitors/{visitor_id}"), &agent)
        .await;
    assert_eq!(status, 404);

    // A demo visitor's token does not reach it either.
    let key = widget_key(&server);
    let origin = widget_origin(&server);
    let (_, demo_visitor) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", &key), ("Origin", &origin)],
        )
        .await;
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/widget/sessions/{id}/transcript"),
            demo_visitor["visitor_token"].as_str(),
            None,
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 404);

    // In its own tenant the session is there.
    let (status, accepted) = server
        .post(&path(&id, "accept"), &acme_admin, json!({}))
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["agent_id"], "root@acme.test");
}
