//! The live-agent REST contract (seed section 4) and its curl scenarios (section 9.2),
//! against a real server over HTTP.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const AGENT: &str = "agent@demo.localhost";

#[tokio::test]
async fn test_1_create_session_from_the_erp() {
    let server = TestServer::start().await;
    let user = erp_token("john.doe@example.com", "John Doe");
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/live-agent/sessions",
            Some(&user),
            Some(json!({
                "initial_message": "I need help with invoices",
                "user_context": {"page": "/invoices"}
            })),
            &[("X-Tenant-Domain", "demo.localhost")],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tenant_domain"], "demo.localhost");
    assert_eq!(body["user_account"], "john.doe@example.com");
    assert_eq!(body["user_name"], "John Doe");
    assert_eq!(body["status"], "pending");
    assert!(body["session_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        body["message"],
        "Session created. An agent will respond shortly."
    );

    // The agent sees it, with the first message as preview and the user context as metadata.
    let agent = server.login(AGENT).await;
    let session_id = body["session_id"].as_str().unwrap();
    let (status, details) = server
        .get(&format!("/api/v1/live-agent/sessions/{session_id}"), &agent)
        .await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(details["metadata"], json!({"page": "/invoices"}));
    assert_eq!(details["unread_count_agent"], 1);
    assert_eq!(details["user_name"], "John Doe");
}

#[tokio::test]
async fn the_tenant_comes_from_the_header_else_host_else_origin() {
    let server = TestServer::start().await;
    let user = erp_token("ana@example.com", "Ana");
    // No X-Tenant-Domain: the Host header (127.0.0.1) is one of the demo tenant's domains.
    let (status, body) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "Hi"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tenant_domain"], "127.0.0.1");
    // A header naming a domain nobody serves: the ERP token cannot be checked.
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/live-agent/sessions",
            Some(&user),
            Some(json!({})),
            &[("X-Tenant-Domain", "tenant1.example.com")],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn test_3_and_4_messages_both_ways_persist_with_unread_counts() {
    let mut server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    let (status, presence) = server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true, "fcm_token": "device-1"}),
        )
        .await;
    assert_eq!(status, 200, "{presence}");
    assert_eq!(presence["agent_id"], AGENT);
    assert_eq!(presence["agent_name"], "Demo Agent");
    assert_eq!(presence["is_online"], true);
    assert_eq!(presence["status"], "online");

    let user = erp_token("john.doe@example.com", "John Doe");
    let (_, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "I need help with invoices"}),
        )
        .await;
    let session_id = created["session_id"].as_str().unwrap().to_owned();

    // The agent takes it (the app's assignSession call).
    let (status, taken) = server
        .put(
            &format!("/api/v1/live-agent/sessions/{session_id}/status"),
            &agent,
            json!({"status": "active", "assigned_agent_id": AGENT, "assigned_agent_name": "Demo Agent"}),
        )
        .await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["status"], "active");
    assert_eq!(taken["assigned_agent_name"], "Demo Agent");

    // Test 3: the agent writes.
    let (status, sent) = server
        .post(
            "/api/v1/live-agent/messages",
            &agent,
            json!({"session_id": session_id, "message_text": "How can I help you?", "sender_type": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert!(sent["message_id"].is_u64(), "{sent}");
    assert_eq!(sent["sender_type"], "agent");
    assert_eq!(sent["sender_name"], "Demo Agent");
    assert_eq!(sent["message_text"], "How can I help you?");
    assert_eq!(sent["notification_sent"], true);

    // The user answers; the agent's unread count goes up (replying read the first one).
    let (status, _) = server
        .post(
            "/api/v1/live-agent/messages",
            &user,
            json!({"session_id": session_id, "message_text": "Invoice 42 fails"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, listed) = server
        .get("/api/v1/live-agent/sessions?status=active", &agent)
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    let row = &listed["sessions"][0];
    assert_eq!(row["unread_count_agent"], 1);
    assert_eq!(row["preview"], "Invoice 42 fails");
    assert_eq!(row["assigned_agent_name"], "Demo Agent");

    // Test 4: log out and in again (here: restart the server), the history is there and
    // reading it with mark_as_read clears the agent's unread count.
    let dir = std::mem::replace(&mut server.dir, TempDir::new());
    server.stop().await;
    let config = test_config(&dir);
    let server = TestServer::start_with(dir, config).await;
    let agent = server.login(AGENT).await;
    let (status, history) = server
        .get(
            &format!("/api/v1/live-agent/messages/{session_id}?mark_as_read=true"),
            &agent,
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["total"], 3);
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["message_text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "I need help with invoices",
            "How can I help you?",
            "Invoice 42 fails"
        ]
    );
    assert!(
        history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["read_by_agent"] == true)
    );
    assert_eq!(history["session"]["status"], "active");
    let (_, details) = server
        .get(&format!("/api/v1/live-agent/sessions/{session_id}"), &agent)
        .await;
    assert_eq!(details["unread_count_agent"], 0, "{details}");
    assert_eq!(
        details["unread_count_user"], 1,
        "the user has not read the agent's reply"
    );
}

#[tokio::test]
async fn list_filters_pagination_and_assigned_to_me() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true}),
        )
        .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let user = erp_token(&format!("user{n}@example.com"), &format!("User {n}"));
        let (_, created) = server
            .post(
                "/api/v1/live-agent/sessions",
                &user,
                json!({"initial_message": format!("question {n}")}),
            )
            .await;
        ids.push(created["session_id"].as_str().unwrap().to_owned());
    }
    // Take the first two.
    for id in &ids[..2] {
        let (status, body) = server
            .put(
                &format!("/api/v1/live-agent/sessions/{id}/status"),
                &agent,
                json!({"status": "active"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, page) = server
        .get("/api/v1/live-agent/sessions?page=1&per_page=2", &agent)
        .await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 1);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["sessions"][0]["session_id"],
        ids[4].as_str(),
        "newest first"
    );
    let (_, last) = server
        .get("/api/v1/live-agent/sessions?page=3&per_page=2", &agent)
        .await;
    assert_eq!(last["sessions"].as_array().unwrap().len(), 1);

    let (_, mine) = server
        .get("/api/v1/live-agent/sessions?assigned_to_me=true", &agent)
        .await;
    assert_eq!(mine["total"], 2, "{mine}");
    let (_, pending) = server
        .get("/api/v1/live-agent/sessions?status=pending", &agent)
        .await;
    assert_eq!(pending["total"], 3);
    let (_, other_tenant) = server
        .get(
            "/api/v1/live-agent/sessions?tenant=tenant1.example.com",
            &agent,
        )
        .await;
    assert_eq!(other_tenant["total"], 0);
    let (status, bad) = server
        .get("/api/v1/live-agent/sessions?status=sleeping", &agent)
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "invalid_input");

    // An end user lists only their own sessions.
    let user = erp_token("user1@example.com", "User 1");
    let (_, own) = server.get("/api/v1/live-agent/sessions", &user).await;
    assert_eq!(own["total"], 1);
    assert_eq!(own["sessions"][0]["session_id"], ids[1].as_str());
}

#[tokio::test]
async fn message_pages_count_back_from_the_newest() {
    let server = TestServer::start().await;
    let user = erp_token("pat@example.com", "Pat");
    let (_, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "m1"}),
        )
        .await;
    let id = created["session_id"].as_str().unwrap().to_owned();
    for n in 2..=7 {
        let (status, body) = server
            .post(
                "/api/v1/live-agent/messages",
                &user,
                json!({"session_id": id, "message_text": format!("m{n}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let texts = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message_text"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/api/v1/live-agent/messages/{id}");
    let (_, first) = server.get(&format!("{path}?per_page=3"), &user).await;
    assert_eq!(texts(&first), ["m5", "m6", "m7"]);
    let (_, second) = server
        .get(&format!("{path}?per_page=3&page=2"), &user)
        .await;
    assert_eq!(texts(&second), ["m2", "m3", "m4"]);
    let (_, third) = server
        .get(&format!("{path}?per_page=3&page=3"), &user)
        .await;
    assert_eq!(texts(&third), ["m1"]);
    let (_, beyond) = server
        .get(&format!("{path}?per_page=3&page=4"), &user)
        .await;
    assert_eq!(texts(&beyond), Vec::<String>::new());
    assert_eq!(beyond["total"], 7);
}

#[tokio::test]
async fn resolving_and_closing_follow_the_contract_statuses() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true}),
        )
        .await;
    let user = erp_token("sam@example.com", "Sam");
    let (_, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "hello"}),
        )
        .await;
    let id = created["session_id"].as_str().unwrap().to_owned();
    let status_path = format!("/api/v1/live-agent/sessions/{id}/status");
    server
        .put(&status_path, &agent, json!({"status": "active"}))
        .await;
    let (status, resolved) = server
        .put(&status_path, &agent, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    let (status, closed) = server
        .put(&status_path, &agent, json!({"status": "closed"}))
        .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    let (status, error) = server
        .put(&status_path, &agent, json!({"status": "sleeping"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["code"], "invalid_input");
    // The user may not take sessions, and the agent may not write as the user.
    let (status, _) = server
        .put(&status_path, &user, json!({"status": "active"}))
        .await;
    assert_eq!(status, 403);
    let (status, error) = server
        .post(
            "/api/v1/live-agent/messages",
            &agent,
            json!({"session_id": id, "message_text": "x", "sender_type": "user"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(error["error"]["code"], "sender_type_mismatch");
}
