//! The widget API end to end: init with a widget key and origin, the pre-chat start routed
//! to an agent, "leave a message", transcripts, ratings, and one visitor never reaching
//! another's chat.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";

/// A visitor with a chat that the demo agent accepted; returns (visitor token, session id).
async fn accepted_chat(server: &TestServer, agent: &str, first: &str) -> (String, String) {
    let visitor = widget_init(server, json!({})).await;
    let token = visitor["visitor_token"].as_str().unwrap().to_owned();
    let (status, started) = visitor_call(
        server,
        Method::POST,
        "/api/v1/widget/sessions",
        &token,
        Some(json!({"name": "Ana", "email": "ana@example.com", "initial_message": first})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let id = started["session_id"].as_str().unwrap().to_owned();
    let (status, accepted) = server
        .post(
            &format!("/api/v1/agent/sessions/{id}/accept"),
            agent,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    (token, id)
}

#[tokio::test]
async fn init_checks_the_key_against_the_origin() {
    let server = TestServer::start().await;
    let key = widget_key(&server);
    let allowed = widget_origin(&server);

    let first = widget_init(&server, json!({})).await;
    let visitor_id = first["visitor_id"].as_str().unwrap();
    assert!(visitor_id.starts_with("v_"), "{first}");
    assert_eq!(first["token_type"], "bearer");
    assert_eq!(first["branding"]["welcome_message"], "Hi! How can we help?");
    assert_eq!(first["branding"]["primary_color"], "#2563eb");
    assert_eq!(first["tenant"]["name"], "Demo");
    assert_eq!(first["availability"]["queue_id"], "support");
    assert_eq!(first["mode"], "chat", "the demo queue waits for agents");
    assert_eq!(first["pre_chat"]["departments"][0]["id"], "support");

    // The key in the body works too, and a still-valid token keeps the visitor's id.
    let (status, again) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            Some(json!({"widget_key": key, "visitor_token": first["visitor_token"]})),
            &[("Origin", &allowed)],
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["visitor_id"], visitor_id);

    // A foreign origin, and no origin at all, are refused.
    for headers in [
        vec![
            ("X-Widget-Key", key.as_str()),
            ("Origin", "https://evil.example"),
        ],
        vec![("X-Widget-Key", key.as_str())],
    ] {
        let (status, body) = server
            .call(Method::POST, "/api/v1/widget/init", None, None, &headers)
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "origin_not_allowed");
    }

    // Unknown and missing keys.
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", "wk_nope"), ("Origin", &allowed)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unknown_widget_key");
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("Origin", &allowed)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "missing_widget_key");

    // The visitor token is bound to its origin.
    let token = first["visitor_token"].as_str().unwrap();
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            Some(token),
            Some(json!({"initial_message": "hi"})),
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // On the live-agent contract's routes too, which also take visitor tokens.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/live-agent/sessions",
            Some(json!({"initial_message": "hi"})),
        ),
        (Method::GET, "/api/v1/live-agent/sessions", None),
    ] {
        for origin in ["https://evil.example", ""] {
            let headers: Vec<(&str, &str)> = if origin.is_empty() {
                Vec::new()
            } else {
                vec![("Origin", origin)]
            };
            let (status, answer) = server
                .call(method.clone(), path, Some(token), body.clone(), &headers)
                .await;
            assert_eq!(status, 403, "{method} {path} from {origin:?}: {answer}");
            assert_eq!(answer["error"]["code"], "origin_not_allowed");
        }
        let (status, answer) = server
            .call(
                method.clone(),
                path,
                Some(token),
                body,
                &[("Origin", &allowed)],
            )
            .await;
        assert!(status < 300, "{method} {path} from its own site: {answer}");
    }

    // A revoked key is refused with its own code.
    let admin = server.login(ADMIN).await;
    let (status, revoked) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{key}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked"], true);
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", &key), ("Origin", &allowed)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "widget_key_revoked");
}

#[tokio::test]
async fn the_pre_chat_form_is_enforced_and_the_chat_goes_to_an_online_agent() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let (status, widget) = server
        .put(
            "/api/v1/admin/widget",
            &admin,
            json!({"pre_chat": {
                "require_email": true,
                "issue_types": ["billing", "technical"],
                "fields": [{"key": "plan", "label": "Your plan", "kind": "select",
                            "required": true, "options": ["free", "pro"]}]
            }}),
        )
        .await;
    assert_eq!(status, 200, "{widget}");

    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let visitor = widget_init(&server, json!({})).await;
    assert_eq!(visitor["pre_chat"]["require_email"], true);
    assert_eq!(visitor["pre_chat"]["fields"][0]["key"], "plan");
    assert_eq!(visitor["availability"]["agents_online"], 1);
    let token = visitor["visitor_token"].as_str().unwrap();

    let start = |body: Value| {
        visitor_call(
            &server,
            Method::POST,
            "/api/v1/widget/sessions",
            token,
            Some(body),
        )
    };
    let (status, body) = start(json!({"name": "Ana", "custom_fields": {"plan": "pro"}})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "email");
    let (status, body) =
        start(json!({"email": "ana@example.com", "custom_fields": {"plan": "gold"}})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "custom_fields.plan");
    let (status, body) = start(json!({
        "email": "ana@example.com", "issue_type": "shipping", "custom_fields": {"plan": "pro"}
    }))
    .await;
    assert_eq!(status, 400, "{body}");

    let (status, started) = start(json!({
        "name": "Ana", "email": "ana@example.com", "department_id": "support",
        "issue_type": "billing", "language": "en", "initial_message": "Invoice 42?",
        "custom_fields": {"plan": "pro"}, "page_url": "https://shop.example/cart"
    }))
    .await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["status"], "offered", "offered to the online agent");
    assert_eq!(started["visitor_id"], visitor["visitor_id"]);
    let id = started["session_id"].as_str().unwrap();

    let (status, accepted) = server
        .post(
            &format!("/api/v1/agent/sessions/{id}/accept"),
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["status"], "active");
    assert_eq!(accepted["agent_id"], AGENT);
    assert_eq!(accepted["visitor"]["custom_fields"]["plan"], "pro");
    assert_eq!(accepted["visitor"]["email"], "ana@example.com");
    assert_eq!(accepted["issue_type"], "billing");

    // The visitor sees their chat with the agent's name, and can write without a socket.
    let (status, own) = visitor_call(
        &server,
        Method::GET,
        &format!("/api/v1/widget/sessions/{id}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["agent_name"], "Demo Agent");
    assert!(own.get("tags").is_none(), "staff tags are not shown: {own}");
    let (status, sent) = visitor_call(
        &server,
        Method::POST,
        &format!("/api/v1/widget/sessions/{id}/messages"),
        token,
        Some(json!({"text": "Still there?"})),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let (_, history) = visitor_call(
        &server,
        Method::GET,
        &format!("/api/v1/widget/sessions/{id}/messages?after=0"),
        token,
        None,
    )
    .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] != "system")
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Invoice 42?", "Still there?"]);
}

#[tokio::test]
async fn leaving_a_message_creates_a_ticket() {
    let server = TestServer::start().await;
    let visitor = widget_init(&server, json!({})).await;
    let token = visitor["visitor_token"].as_str().unwrap();
    let (status, body) = visitor_call(
        &server,
        Method::POST,
        "/api/v1/widget/offline",
        token,
        Some(json!({"message": "Call me back"})),
    )
    .await;
    assert_eq!(status, 400, "an address to answer is needed: {body}");
    let (status, created) = visitor_call(
        &server,
        Method::POST,
        "/api/v1/widget/offline",
        token,
        Some(json!({
            "name": "Bo", "email": "bo@example.com", "subject": "Refund",
            "message": "Please refund order 7", "department_id": "support"
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let number = created["number"].as_str().unwrap();
    assert!(number.starts_with("DEMO-"), "{created}");

    let agent = server.login(AGENT).await;
    let ticket_id = created["ticket_id"].as_str().unwrap();
    let (status, ticket) = server
        .get(&format!("/api/v1/agent/tickets/{ticket_id}"), &agent)
        .await;
    assert_eq!(status, 200, "{ticket}");
    assert_eq!(ticket["subject"], "Refund");
    assert_eq!(ticket["channel"], "offline_message");
    assert_eq!(ticket["requester"]["email"], "bo@example.com");
    assert_eq!(ticket["requester"]["visitor_id"], visitor["visitor_id"]);
    let (_, open) = server
        .get("/api/v1/agent/tickets?status=open", &agent)
        .await;
    assert!(
        open["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == number),
        "{open}"
    );
}

#[tokio::test]
async fn transcripts_download_as_text_and_escaped_html() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let (token, id) = accepted_chat(&server, &agent, "<script>alert(1)</script> help").await;
    let (status, _) = server
        .post(
            &format!("/api/v1/agent/sessions/{id}/messages"),
            &agent,
            json!({"text": "Hello <b>Ana</b>"}),
        )
        .await;
    assert_eq!(status, 201);

    let download = |format: &'static str| {
        let url = server.url(&format!(
            "/api/v1/widget/sessions/{id}/transcript?format={format}"
        ));
        let origin = widget_origin(&server);
        let token = token.clone();
        let http = server.http.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .header("Origin", origin)
                .send()
                .await
                .unwrap()
        }
    };
    let html = download("html").await;
    assert_eq!(html.status(), 200);
    let headers = html.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"transcript-{id}.html\"")
    );
    assert!(headers.contains_key("content-security-policy"));
    let page = html.text().await.unwrap();
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<b>Ana</b>"));

    let text = download("text").await;
    assert_eq!(text.status(), 200);
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        text.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let body = text.text().await.unwrap();
    assert!(body.contains("<script>alert(1)</script> help"), "{body}");
    assert!(body.contains("Hello <b>Ana</b>"), "{body}");

    let bad = download("pdf").await;
    assert_eq!(bad.status(), 400);

    // E-mailed to the address given in the pre-chat form; a visitor cannot choose another.
    let path = format!("/api/v1/widget/sessions/{id}/transcript/email");
    let (status, queued) = visitor_call(&server, Method::POST, &path, &token, None).await;
    assert_eq!(status, 202, "{queued}");
    let (status, _) = visitor_call(
        &server,
        Method::POST,
        &path,
        &token,
        Some(json!({"email": "someone@else.example"})),
    )
    .await;
    assert_eq!(status, 403);
    // Three requests per chat (the refused one counted), then one every 20 minutes.
    let (status, queued) = visitor_call(&server, Method::POST, &path, &token, None).await;
    assert_eq!(status, 202, "{queued}");
    let (status, limited) = visitor_call(&server, Method::POST, &path, &token, None).await;
    assert_eq!(status, 429, "{limited}");
    assert_eq!(limited["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn a_chat_is_rated_once() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let (token, id) = accepted_chat(&server, &agent, "hello").await;
    let (status, _) = server
        .post(
            &format!("/api/v1/agent/sessions/{id}/resolve"),
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/widget/sessions/{id}/csat");
    let (status, body) = visitor_call(
        &server,
        Method::POST,
        &path,
        &token,
        Some(json!({"rating": 9})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, rated) = visitor_call(
        &server,
        Method::POST,
        &path,
        &token,
        Some(json!({"rating": 5, "comment": "Great"})),
    )
    .await;
    assert_eq!(status, 201, "{rated}");
    assert_eq!(rated["rating"], 5);
    let (status, again) = visitor_call(
        &server,
        Method::POST,
        &path,
        &token,
        Some(json!({"rating": 1})),
    )
    .await;
    assert!(
        status == 409 || status == 400,
        "rated twice: {status} {again}"
    );

    let (_, own) = visitor_call(
        &server,
        Method::GET,
        &format!("/api/v1/widget/sessions/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(own["csat"]["rating"], 5, "{own}");
    assert_eq!(own["csat"]["comment"], "Great");
}

#[tokio::test]
async fn a_visitor_never_reaches_another_visitors_chat() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    go_online(&server, &agent).await;
    let (_, id) = accepted_chat(&server, &agent, "private").await;
    let other = widget_init(&server, json!({})).await;
    let token = other["visitor_token"].as_str().unwrap();
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/widget/sessions/{id}"), None),
        (
            Method::GET,
            format!("/api/v1/widget/sessions/{id}/messages"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/messages"),
            Some(json!({"text": "hi"})),
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/typing"),
            Some(json!({"active": true})),
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/read"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/leave"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/widget/sessions/{id}/transcript"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/transcript/email"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/widget/sessions/{id}/csat"),
            Some(json!({"rating": 1})),
        ),
        (
            Method::POST,
            "/api/v1/widget/offline".to_owned(),
            Some(json!({"email": "x@example.com", "message": "m", "session_id": id})),
        ),
    ];
    for (method, path, body) in calls {
        let (status, answer) = visitor_call(&server, method.clone(), &path, token, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found", "{path}");
    }
    // Staff tokens are not widget tokens.
    let (status, _) = server
        .get(&format!("/api/v1/widget/sessions/{id}"), &agent)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn leaving_messages_is_limited_per_visitor_and_per_address() {
    let server = TestServer::start().await;
    let leave = |token: String, email: &'static str| {
        let server = &server;
        async move {
            visitor_call(
                server,
                Method::POST,
                "/api/v1/widget/offline",
                &token,
                Some(json!({"email": email, "message": "Call me back"})),
            )
            .await
        }
    };
    let token = |visitor: Value| visitor["visitor_token"].as_str().unwrap().to_owned();
    let first = token(widget_init(&server, json!({})).await);
    for n in 0..3 {
        let address = ["a@example.com", "b@example.com", "c@example.com"][n];
        let (status, body) = leave(first.clone(), address).await;
        assert_eq!(status, 201, "message {n}: {body}");
    }
    let (status, body) = leave(first, "d@example.com").await;
    assert_eq!(status, 429, "a fourth from one visitor: {body}");
    assert_eq!(body["error"]["code"], "rate_limited");

    // New visitors writing to one address: three, then that address is refused too,
    // whatever its case.
    for n in 0..3 {
        let visitor = token(widget_init(&server, json!({})).await);
        let (status, body) = leave(visitor, "victim@example.com").await;
        assert_eq!(status, 201, "visitor {n}: {body}");
    }
    let visitor = token(widget_init(&server, json!({})).await);
    let (status, body) = leave(visitor.clone(), "Victim@Example.com").await;
    assert_eq!(status, 429, "{body}");
    // Another address is still open to a new visitor.
    let other = token(widget_init(&server, json!({})).await);
    let (status, body) = leave(other, "someone@example.com").await;
    assert_eq!(status, 201, "{body}");
}
