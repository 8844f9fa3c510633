//! The admin API end to end: staff and roles, configuration, the widget and its keys,
//! force logout, retention, visitor export and erasure, analytics, and tenants.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";
const NEW_PASSWORD: &str = "correct horse battery";

fn origin(server: &TestServer) -> String {
    format!(
        "http://localhost:{}",
        server.server.as_ref().unwrap().local_addr.port()
    )
}

async fn delete(server: &TestServer, path: &str, token: &str) -> (u16, Value) {
    server
        .call(Method::DELETE, path, Some(token), None, &[])
        .await
}

async fn init(server: &TestServer, key: &str, origin: &str) -> (u16, Value) {
    server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[("X-Widget-Key", key), ("Origin", origin)],
        )
        .await
}

#[tokio::test]
async fn an_admin_creates_staff_who_can_log_in() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let (status, created) = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "Carla@Demo.localhost", "name": "Carla", "password": NEW_PASSWORD,
                   "role": "supervisor", "departments": ["support"],
                   "skills": {"billing": 7}, "languages": ["en", "pt"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "carla@demo.localhost");
    assert_eq!(created["role"], "supervisor");
    assert_eq!(created["skills"]["billing"], 7);
    assert!(created.get("password_hash").is_none());
    assert!(!created.to_string().contains("argon2"));

    let (status, login) = try_login(&server, "carla@demo.localhost", NEW_PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["agent"]["role"], "supervisor");
    let carla = login["access_token"].as_str().unwrap().to_owned();
    let (status, _) = server.get("/api/v1/agent/canned-responses", &carla).await;
    assert_eq!(status, 200);

    // Weak passwords, bad e-mails and taken e-mails are refused.
    for (body, code) in [
        (
            json!({"email": "d@demo.localhost", "name": "D", "password": "short"}),
            "invalid_input",
        ),
        (
            json!({"email": "not-an-email", "name": "D", "password": NEW_PASSWORD}),
            "invalid_input",
        ),
        (
            json!({"email": "carla@demo.localhost", "name": "C2", "password": NEW_PASSWORD, "id": "c2"}),
            "email_taken",
        ),
        (
            json!({"email": "x@demo.localhost", "name": "X", "password": NEW_PASSWORD, "id": "carla@demo.localhost"}),
            "user_exists",
        ),
    ] {
        let (status, body) = server.post("/api/v1/admin/users", &admin, body).await;
        assert!(status == 400 || status == 409, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
    }

    // The list shows everyone without hashes.
    let (_, users) = server.get("/api/v1/admin/users", &admin).await;
    let list = users["users"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{users}");
    assert!(!users.to_string().contains("argon2"));

    // A new password and role; the old password stops working.
    let (status, updated) = server
        .put(
            "/api/v1/admin/users/carla@demo.localhost",
            &admin,
            json!({"password": "another long secret", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["role"], "agent");
    assert_eq!(updated["skills"]["billing"], 7, "other fields are kept");
    let (status, _) = try_login(&server, "carla@demo.localhost", NEW_PASSWORD).await;
    assert_eq!(status, 401);
    let (status, _) = try_login(&server, "carla@demo.localhost", "another long secret").await;
    assert_eq!(status, 200);
    let (status, skills) = server
        .put(
            "/api/v1/admin/users/carla@demo.localhost/skills",
            &admin,
            json!({"skills": {"technical": 3}}),
        )
        .await;
    assert_eq!(status, 200, "{skills}");
    assert_eq!(skills["skills"], json!({"technical": 3}));
    let (status, one) = server
        .get("/api/v1/admin/users/carla@demo.localhost", &admin)
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["presence"]["status"], "offline");

    // Removal: the login and the token stop working.
    let (status, _) = delete(&server, "/api/v1/admin/users/carla@demo.localhost", &admin).await;
    assert_eq!(status, 204);
    let (status, _) = server.get("/api/v1/agent/canned-responses", &carla).await;
    assert_eq!(status, 401);
    let (status, _) = try_login(&server, "carla@demo.localhost", "another long secret").await;
    assert_eq!(status, 401);

    // An administrator cannot remove or demote themselves.
    let (status, body) = delete(&server, "/api/v1/admin/users/admin@demo.localhost", &admin).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = server
        .put(
            "/api/v1/admin/users/admin@demo.localhost",
            &admin,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn only_administrators_administer() {
    let server = TestServer::start().await;
    let agent = server.login(AGENT).await;
    let user = erp_token("john@example.com", "John");
    for path in [
        "/api/v1/admin/users",
        "/api/v1/admin/settings",
        "/api/v1/admin/api-keys",
        "/api/v1/admin/retention",
        "/api/v1/admin/tenants",
        "/api/v1/admin/departments",
    ] {
        let (status, body) = server.get(path, &agent).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let (status, _) = server.get(path, &user).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = server
        .post("/api/v1/admin/force-logout", &agent, json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = server
        .post(
            "/api/v1/admin/users",
            &agent,
            json!({"email": "e@demo.localhost", "name": "E", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = server.get("/api/v1/admin/analytics", &agent).await;
    assert_eq!(status, 403);
    let (status, _) = server.get("/api/v1/admin/users", "garbage").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn force_logout_refuses_every_older_staff_token() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let agent = server.login(AGENT).await;
    let (status, _) = server.get("/api/v1/agent/canned-responses", &agent).await;
    assert_eq!(status, 200);
    // Tokens carry millisecond issue times; make sure the logout is strictly later.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, done) = server
        .post(
            "/api/v1/admin/force-logout",
            &admin,
            json!({"reason": "maintenance"}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    let (status, refused) = server.get("/api/v1/agent/canned-responses", &agent).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "session_revoked");
    let (status, _) = server.get("/api/v1/admin/users", &admin).await;
    assert_eq!(status, 401, "the admin's old token too");
    let fresh = done["access_token"].as_str().unwrap();
    let (status, _) = server.get("/api/v1/admin/users", fresh).await;
    assert_eq!(status, 200, "the admin stays logged in with the new token");
    let again = server.login(AGENT).await;
    let (status, _) = server.get("/api/v1/agent/canned-responses", &again).await;
    assert_eq!(status, 200, "logging in again works");
}

#[tokio::test]
async fn configuration_round_trips() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;

    let (status, department) = server
        .put(
            "/api/v1/admin/departments/sales",
            &admin,
            json!({"name": "Sales"}),
        )
        .await;
    assert_eq!(status, 200, "{department}");
    let (_, departments) = server.get("/api/v1/admin/departments", &admin).await;
    let ids: Vec<&str> = departments["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sales", "support"]);
    let (status, _) = server
        .put(
            "/api/v1/admin/departments/sales",
            &admin,
            json!({"id": "other", "name": "x"}),
        )
        .await;
    assert_eq!(status, 400);

    let (status, queue) = server
        .put(
            "/api/v1/admin/queues/sales",
            &admin,
            json!({"name": "Sales", "department_id": "sales", "strategy": "round_robin"}),
        )
        .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["strategy"], "round_robin");
    let (_, queues) = server.get("/api/v1/admin/queues", &admin).await;
    assert_eq!(queues["queues"].as_array().unwrap().len(), 2, "{queues}");
    let (status, body) = delete(&server, "/api/v1/admin/departments/sales", &admin).await;
    assert_eq!(status, 409, "a queue uses it: {body}");

    let (status, rules) = server
        .put(
            "/api/v1/admin/routing-rules",
            &admin,
            json!({"rules": [{"id": "sales-pages", "priority": 1,
                              "triggers": {"issue_type": ["pricing"]},
                              "actions": {"queue": "sales"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{rules}");
    let (_, rules) = server.get("/api/v1/admin/routing-rules", &admin).await;
    assert_eq!(rules["rules"][0]["id"], "sales-pages");
    let (status, body) = server
        .put(
            "/api/v1/admin/routing-rules",
            &admin,
            json!({"rules": [{"actions": {"queue": "nowhere"}}]}),
        )
        .await;
    assert!(status == 400 || status == 404, "{status} {body}");
    let (_, rules) = server.get("/api/v1/admin/routing-rules", &admin).await;
    assert_eq!(
        rules["rules"][0]["id"], "sales-pages",
        "a refused change keeps the old"
    );

    let (status, calendar) = server
        .put(
            "/api/v1/admin/calendars/lisbon",
            &admin,
            json!({"name": "Lisbon office", "time_zone": "Europe/Lisbon",
                   "weekly": {"monday": {"start": "09:00", "end": "18:00"}}}),
        )
        .await;
    assert_eq!(status, 200, "{calendar}");
    let (_, calendars) = server.get("/api/v1/admin/calendars", &admin).await;
    assert_eq!(calendars["calendars"][0]["id"], "lisbon");
    let (status, body) = server
        .put(
            "/api/v1/admin/calendars/mars",
            &admin,
            json!({"time_zone": "Mars/Olympus", "weekly": {}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let (status, policies) = server
        .put(
            "/api/v1/admin/sla-policies",
            &admin,
            json!({"policies": [{"id": "standard", "name": "Standard",
                                 "targets": {"first_response": {"minutes": 60}}}]}),
        )
        .await;
    assert_eq!(status, 200, "{policies}");
    let (_, policies) = server.get("/api/v1/admin/sla-policies", &admin).await;
    assert_eq!(policies["policies"][0]["id"], "standard");

    // Tenant-wide canned responses.
    let (status, canned) = server
        .post(
            "/api/v1/admin/canned-responses",
            &admin,
            json!({"title": "Bye", "body": "Goodbye {{visitor.name}}"}),
        )
        .await;
    assert_eq!(status, 201, "{canned}");
    assert_eq!(canned["scope"], "tenant");
    let agent = server.login(AGENT).await;
    let (_, visible) = server.get("/api/v1/agent/canned-responses", &agent).await;
    assert_eq!(
        visible["canned_responses"][0]["title"], "Bye",
        "agents see it"
    );
    let canned_path = format!(
        "/api/v1/admin/canned-responses/{}",
        canned["canned_response_id"].as_str().unwrap()
    );
    let change = json!({"title": "Bye", "body": "See you"});
    let (status, _) = server.put(&canned_path, &agent, change.clone()).await;
    assert_eq!(status, 403, "agents do not change tenant-wide ones");
    let (status, _) = server.put(&canned_path, &admin, change).await;
    assert_eq!(status, 200);
    let (_, listed) = server.get("/api/v1/admin/canned-responses", &admin).await;
    assert_eq!(listed["canned_responses"][0]["body"], "See you");
    let (status, _) = delete(&server, &canned_path, &admin).await;
    assert_eq!(status, 204);
    let (_, listed) = server.get("/api/v1/admin/canned-responses", &admin).await;
    assert_eq!(listed["canned_responses"], json!([]));
}

#[tokio::test]
async fn branding_and_widget_keys() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let (status, widget) = server
        .put(
            "/api/v1/admin/widget",
            &admin,
            json!({"branding": {"primary_color": "#ff0000", "welcome_message": "Olá!",
                                "position": "bottom-left"}}),
        )
        .await;
    assert_eq!(status, 200, "{widget}");
    let (_, settings) = server.get("/api/v1/admin/settings", &admin).await;
    assert_eq!(settings["branding"]["primary_color"], "#ff0000");
    assert_eq!(
        settings["default_queue_id"], "support",
        "other settings are kept"
    );
    let (status, seen) = init(&server, &widget_key(&server), &origin(&server)).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["branding"]["welcome_message"], "Olá!");
    assert_eq!(seen["branding"]["position"], "bottom-left");

    // Settings as a whole.
    let mut all = settings.clone();
    all["name"] = json!("Demo Inc");
    let (status, _) = server.put("/api/v1/admin/settings", &admin, all).await;
    assert_eq!(status, 200);
    let (_, seen) = init(&server, &widget_key(&server), &origin(&server)).await;
    assert_eq!(seen["tenant"]["name"], "Demo Inc");
    assert_eq!(seen["branding"]["welcome_message"], "Olá!");

    // Keys: origins are checked and canonical; a key works only from them.
    let (status, body) = server
        .post(
            "/api/v1/admin/api-keys",
            &admin,
            json!({"label": "bad", "allowed_origins": ["https://shop.example/path"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let too_many: Vec<String> = (0..40).map(|n| format!("https://s{n}.example")).collect();
    let (status, _) = server
        .post(
            "/api/v1/admin/api-keys",
            &admin,
            json!({"allowed_origins": too_many}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, key) = server
        .post(
            "/api/v1/admin/api-keys",
            &admin,
            json!({"label": "Shop", "allowed_origins": ["HTTPS://Shop.Example/", "https://*.blog.example"]}),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    assert_eq!(
        key["allowed_origins"],
        json!(["https://shop.example", "https://*.blog.example"])
    );
    let id = key["key"].as_str().unwrap().to_owned();
    assert_eq!(init(&server, &id, "https://shop.example").await.0, 200);
    assert_eq!(init(&server, &id, "https://news.blog.example").await.0, 200);
    assert_eq!(init(&server, &id, "https://blog.example").await.0, 403);
    assert_eq!(init(&server, &id, "http://shop.example").await.0, 403);
    let (_, keys) = server.get("/api/v1/admin/api-keys", &admin).await;
    assert_eq!(keys["api_keys"].as_array().unwrap().len(), 2, "{keys}");
    let (status, changed) = server
        .put(
            &format!("/api/v1/admin/api-keys/{id}"),
            &admin,
            json!({"allowed_origins": ["https://new.example"]}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(init(&server, &id, "https://shop.example").await.0, 403);
    assert_eq!(init(&server, &id, "https://new.example").await.0, 200);
    let (status, _) = delete(&server, &format!("/api/v1/admin/api-keys/{id}"), &admin).await;
    assert_eq!(status, 200);
    let (status, body) = init(&server, &id, "https://new.example").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "widget_key_revoked");
}

#[tokio::test]
async fn retention_export_and_erasure() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let (_, retention) = server.get("/api/v1/admin/retention", &admin).await;
    assert_eq!(retention["days"], Value::Null);
    let (status, _) = server
        .put("/api/v1/admin/retention", &admin, json!({"days": 0}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = server
        .put("/api/v1/admin/retention", &admin, json!({"days": 30}))
        .await;
    assert_eq!(status, 200);
    let (_, retention) = server.get("/api/v1/admin/retention", &admin).await;
    assert_eq!(retention["days"], 30);

    // A visitor with a chat.
    let origin = origin(&server);
    let (_, visitor) = init(&server, &widget_key(&server), &origin).await;
    let token = visitor["visitor_token"].as_str().unwrap();
    let visitor_id = visitor["visitor_id"].as_str().unwrap();
    let (status, started) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            Some(token),
            Some(
                json!({"name": "Eve", "email": "eve@example.com", "initial_message": "my secret"}),
            ),
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let export_path = format!("/api/v1/admin/visitors/{visitor_id}/export");
    let response = server
        .http
        .get(server.url(&export_path))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["messages"][0]["body"], "my secret");
    assert_eq!(export["visitor"]["profile"]["email"], "eve@example.com");

    // Refused while the chat is open; done once it ended.
    let forget = format!("/api/v1/admin/visitors/{visitor_id}");
    let (status, body) = delete(&server, &forget, &admin).await;
    assert_eq!(status, 409, "{body}");
    let session_id = started["session_id"].as_str().unwrap();
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/api/v1/widget/sessions/{session_id}/leave"),
            Some(token),
            None,
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = delete(&server, &forget, &admin).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.get(&export_path, &admin).await;
    assert_eq!(status, 404, "nothing is left under their id");
}

#[tokio::test]
async fn analytics_count_the_tenants_chats() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let origin = origin(&server);
    for n in 0..3 {
        let (_, visitor) = init(&server, &widget_key(&server), &origin).await;
        let (status, _) = server
            .call(
                Method::POST,
                "/api/v1/widget/sessions",
                visitor["visitor_token"].as_str(),
                Some(json!({"initial_message": format!("q{n}")})),
                &[("Origin", &origin)],
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, report) = server.get("/api/v1/admin/analytics", &admin).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["report"]["totals"]["sessions"], 3, "{report}");
    assert_eq!(report["sessions_read"], 3);
    assert_eq!(report["truncated"], false);
    let (_, none) = server
        .get("/api/v1/admin/analytics?from=0&to=1000", &admin)
        .await;
    assert_eq!(none["report"]["totals"]["sessions"], 0);
    let (status, _) = server
        .get("/api/v1/admin/analytics?from=yesterday", &admin)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_operator_creates_tenants_and_other_admins_cannot() {
    let server = TestServer::start().await;
    let operator = server.login(ADMIN).await;
    let body = json!({"tenant_id": "acme", "name": "Acme", "domains": ["acme.test"],
                      "admin": {"email": "root@acme.test", "name": "Root", "password": NEW_PASSWORD}});
    let (status, created) = server
        .post("/api/v1/admin/tenants", &operator, body.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["admin"]["role"], "tenant_admin");
    assert_eq!(
        created["erp"]["secret"].as_str().unwrap().len(),
        64,
        "generated and shown once"
    );
    let (status, again) = server.post("/api/v1/admin/tenants", &operator, body).await;
    assert_eq!(status, 409, "{again}");
    let (status, taken) = server
        .post(
            "/api/v1/admin/tenants",
            &operator,
            json!({"tenant_id": "other", "domains": ["ACME.test"],
                   "admin": {"email": "o@other.test", "name": "O", "password": NEW_PASSWORD}}),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    assert_eq!(taken["error"]["code"], "domain_taken");
    let (status, _) = server
        .post(
            "/api/v1/admin/tenants",
            &operator,
            json!({"tenant_id": "Bad Id", "domains": ["bad.test"],
                   "admin": {"email": "o@bad.test", "name": "O", "password": NEW_PASSWORD}}),
        )
        .await;
    assert_eq!(status, 400);
    let (_, tenants) = server.get("/api/v1/admin/tenants", &operator).await;
    let ids: Vec<&str> = tenants["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "demo"]);
    assert!(!tenants.to_string().contains("secret"));

    // The new tenant's admin administers Acme only.
    let (status, login) = try_login(&server, "root@acme.test", NEW_PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["agent"]["tenant_id"], "acme");
    let root = login["access_token"].as_str().unwrap();
    let (status, _) = server.get("/api/v1/admin/tenants", root).await;
    assert_eq!(status, 403);
    let (_, users) = server.get("/api/v1/admin/users", root).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    let (_, queues) = server.get("/api/v1/admin/queues", root).await;
    assert_eq!(queues["queues"][0]["id"], "general");
    let (status, _) = server
        .get("/api/v1/admin/users/agent@demo.localhost", root)
        .await;
    assert_eq!(status, 404, "another tenant's staff are not found");

    // Its widget offers "leave a message" while nobody is online.
    let (status, key) = server
        .post(
            "/api/v1/admin/api-keys",
            root,
            json!({"allowed_origins": ["https://acme.test"]}),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let (status, seen) = init(&server, key["key"].as_str().unwrap(), "https://acme.test").await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["mode"], "leave_a_message");
    assert_eq!(seen["tenant"]["name"], "Acme");
    let token = seen["visitor_token"].as_str().unwrap();
    let (status, refused) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            Some(token),
            Some(json!({"initial_message": "anyone?"})),
            &[("Origin", "https://acme.test")],
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "chat_unavailable");
    assert_eq!(refused["error"]["details"]["reason"], "no_agents_online");
    let (status, ticket) = server
        .call(
            Method::POST,
            "/api/v1/widget/offline",
            Some(token),
            Some(json!({"email": "zoe@example.com", "message": "anyone?"})),
            &[("Origin", "https://acme.test")],
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert!(
        ticket["number"].as_str().unwrap().starts_with("ACME-"),
        "{ticket}"
    );
}

#[tokio::test]
async fn staff_without_a_password_sign_in_only_through_the_erp() {
    let server = TestServer::start().await;
    let admin = server.login("admin@demo.localhost").await;
    let (status, body) = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "sso@demo.localhost", "name": "Sso Agent", "departments": ["support"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = try_login(&server, "sso@demo.localhost", "").await;
    assert_eq!(status, 401, "no password login");
    let (status, _) = try_login(&server, "sso@demo.localhost", "anything-at-all").await;
    assert_eq!(status, 401);
    // A token from the tenant's ERP with a staff role acts as that staff member.
    let sso = sign_erp(
        json!({"sub": "sso@demo.localhost", "email": "sso@demo.localhost", "role": "agent", "exp": now_seconds() + 600}),
        ERP_SECRET,
    );
    let (status, presence) = server
        .put(
            "/api/v1/live-agent/agent/status",
            &sso,
            json!({"is_online": true}),
        )
        .await;
    assert_eq!(status, 200, "{presence}");
    assert_eq!(presence["agent_name"], "Sso Agent");
    // They see their own record, and have no password of this server to change.
    let (status, me) = server.get("/api/v1/auth/me", &sso).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Sso Agent");
    let (status, refused) = server
        .post(
            "/api/v1/auth/password",
            &sso,
            json!({"current_password": "", "new_password": "a new password"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "no_password_login");
    // The same token without a staff role is an end user, who has no agent status.
    let user = sign_erp(
        json!({"sub": "sso@demo.localhost", "email": "sso@demo.localhost", "exp": now_seconds() + 600}),
        ERP_SECRET,
    );
    let (status, _) = server
        .put(
            "/api/v1/live-agent/agent/status",
            &user,
            json!({"is_online": true}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_forced_logout_ends_single_sign_on_tokens_issued_before_it() {
    let server = TestServer::start().await;
    let admin = server.login("admin@demo.localhost").await;
    let sso = |claims: Value| sign_erp(claims, ERP_SECRET);
    let account = "agent@demo.localhost";
    let earlier = sso(
        json!({"sub": account, "role": "agent", "iat": now_seconds() - 5, "exp": now_seconds() + 600}),
    );
    let undated = sso(json!({"sub": account, "role": "agent", "exp": now_seconds() + 600}));
    for token in [&earlier, &undated] {
        let (status, me) = server.get("/api/v1/auth/me", token).await;
        assert_eq!(status, 200, "before the logout: {me}");
    }
    let (status, done) = server
        .post("/api/v1/admin/force-logout", &admin, json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    for (name, token) in [("issued before", &earlier), ("without iat", &undated)] {
        let (status, refused) = server.get("/api/v1/auth/me", token).await;
        assert_eq!(status, 401, "{name}: {refused}");
        assert_eq!(refused["error"]["code"], "session_revoked", "{name}");
    }
    // A token that claims to come from the future is no way around it.
    let ahead = sso(
        json!({"sub": account, "role": "agent", "iat": now_seconds() + 3_600, "exp": now_seconds() + 7_200}),
    );
    let (status, refused) = server.get("/api/v1/auth/me", &ahead).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_token");
    // The ERP signs the user in again with a token issued after the logout, in the same
    // second or later.
    let fresh = sso(
        json!({"sub": account, "role": "agent", "iat": now_seconds(), "exp": now_seconds() + 600}),
    );
    let (status, me) = server.get("/api/v1/auth/me", &fresh).await;
    assert_eq!(status, 200, "{me}");
    // End users' tokens are not staff sessions: a forced logout leaves them alone.
    let (status, listed) = server
        .get(
            "/api/v1/live-agent/sessions",
            &erp_token("eve@example.com", "Eve"),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
}

/// The status an ERP user token gets listing its chats.
async fn erp_status(server: &TestServer, token: &str) -> u16 {
    server
        .call(
            Method::GET,
            "/api/v1/live-agent/sessions",
            Some(token),
            None,
            &[("X-Tenant-Domain", "demo.localhost")],
        )
        .await
        .0
}

#[tokio::test]
async fn administrators_rotate_the_erp_secret_and_require_claims() {
    let server = TestServer::start().await;
    let admin = server.login("admin@demo.localhost").await;
    let agent = server.login("agent@demo.localhost").await;
    let (status, _) = server.get("/api/v1/admin/erp", &agent).await;
    assert_eq!(status, 403, "administrators only");
    let (status, settings) = server.get("/api/v1/admin/erp", &admin).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        settings,
        json!({"audience": null, "issuer": null, "secret": null})
    );

    let token = |claims: Value, secret: &str| sign_erp(claims, secret);
    let user = |extra: Value| {
        let mut claims = json!({"sub": "erp@example.com", "exp": now_seconds() + 600});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims
    };
    assert_eq!(
        erp_status(&server, &token(user(json!({})), ERP_SECRET)).await,
        200
    );

    // Requiring aud and iss: tokens without them stop working at once.
    let (status, changed) = server
        .put(
            "/api/v1/admin/erp",
            &admin,
            json!({"audience": "switchboard", "issuer": "our-erp"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed,
        json!({"audience": "switchboard", "issuer": "our-erp", "secret": null})
    );
    let claimed = json!({"aud": "switchboard", "iss": "our-erp"});
    assert_eq!(
        erp_status(&server, &token(user(json!({})), ERP_SECRET)).await,
        401
    );
    assert_eq!(
        erp_status(&server, &token(user(claimed.clone()), ERP_SECRET)).await,
        200
    );

    // Rotating the secret: the new one is shown once, the old one no longer verifies.
    let (status, rotated) = server
        .put(
            "/api/v1/admin/erp",
            &admin,
            json!({"audience": "switchboard", "issuer": "our-erp", "rotate_secret": true}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(
        erp_status(&server, &token(user(claimed.clone()), ERP_SECRET)).await,
        401
    );
    assert_eq!(
        erp_status(&server, &token(user(claimed.clone()), &secret)).await,
        200
    );
    let (_, settings) = server.get("/api/v1/admin/erp", &admin).await;
    assert_eq!(settings["secret"], Value::Null, "never shown again");

    // Bad input changes nothing.
    for bad in [
        json!({"secret": "short"}),
        json!({"secret": "a-long-enough-secret-0123", "rotate_secret": true}),
        json!({"audience": "x".repeat(257)}),
        json!({"issuer": "  "}),
        json!({"unknown": 1}),
    ] {
        let (status, refused) = server.put("/api/v1/admin/erp", &admin, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {refused}");
    }
    assert_eq!(
        erp_status(&server, &token(user(claimed), &secret)).await,
        200
    );
}

#[tokio::test]
async fn a_misspelt_field_is_refused_instead_of_resetting_what_it_meant_to_change() {
    let server = TestServer::start().await;
    let admin = server.login("admin@demo.localhost").await;
    let (_, before) = server.get("/api/v1/admin/settings", &admin).await;
    assert_eq!(before["name"], "Demo", "{before}");
    // Each endpoint with the code it gives any body of the wrong shape.
    for (path, body, code) in [
        ("/api/v1/admin/settings", json!({"nmae": "x"}), "malformed"),
        (
            "/api/v1/admin/settings",
            json!({"name": "Demo", "timing": {"bogus": 1}}),
            "malformed",
        ),
        (
            "/api/v1/admin/queues/q2",
            json!({"nmae": "typo", "strategyy": "x"}),
            "invalid_input",
        ),
        (
            "/api/v1/admin/routing-rules",
            json!({"rules": [{"conditions": [], "queue_id": "nope"}]}),
            "malformed",
        ),
    ] {
        let (status, refused) = server.put(path, &admin, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {refused}");
        assert_eq!(refused["error"]["code"], code, "{path}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("unknown field"),
            "{refused}"
        );
    }
    let (_, after) = server.get("/api/v1/admin/settings", &admin).await;
    assert_eq!(after, before, "nothing changed");
    let (_, queues) = server.get("/api/v1/admin/queues", &admin).await;
    assert!(!queues.to_string().contains("q2"), "{queues}");
    // The same bodies spelt right are taken.
    let (status, saved) = server
        .put("/api/v1/admin/queues/q2", &admin, json!({"name": "Second"}))
        .await;
    assert_eq!(status, 200, "{saved}");
}
