//! `/metrics` counts what happened. One test per process: the metrics are process-wide.

mod support;

use serde_json::json;
use support::*;

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn waiting_chats_routing_latency_and_messages_are_exposed() {
    // The server's default: every group synced (on the release thread) before it is let out.
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.durability = switchboard_server::config::DurabilityOption::Full;
    let server = TestServer::start_with(dir, config).await;
    let scrape = || async {
        let response = server
            .http
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let user = erp_token("m@example.com", "M");
    let (_, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "hi"}),
        )
        .await;
    let id = created["session_id"].as_str().unwrap().to_owned();
    let text = scrape().await;
    assert_eq!(
        value(&text, "switchboard_queue_waiting_sessions{tenant=\"demo\"}"),
        1.0
    );
    assert_eq!(value(&text, "switchboard_messages_total"), 1.0);

    let agent = server.login("agent@demo.localhost").await;
    server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true}),
        )
        .await;
    let (status, _) = server
        .put(
            &format!("/api/v1/live-agent/sessions/{id}/status"),
            &agent,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, 200);
    let text = scrape().await;
    assert_eq!(
        value(&text, "switchboard_queue_waiting_sessions{tenant=\"demo\"}"),
        0.0
    );
    assert_eq!(value(&text, "switchboard_routing_seconds_count"), 1.0);
    assert!(value(&text, "switchboard_commands_total") >= 3.0);
    // `--durability full` syncs on the release thread, once for every group it released.
    assert!(value(&text, "switchboard_log_sync_seconds_count") >= 1.0);
}
