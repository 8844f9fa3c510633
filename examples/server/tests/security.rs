//! Authentication, tenant isolation and abuse limits, end to end.

mod support;

use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";

fn unsigned(header: Value, claims: Value, signature: &str) -> String {
    use base64::Engine;
    let encode =
        |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.{signature}", encode(header), encode(claims))
}

async fn create_session(server: &TestServer, token: &str) -> (u16, Value) {
    server
        .post(
            "/api/v1/live-agent/sessions",
            token,
            json!({"initial_message": "hello"}),
        )
        .await
}

#[tokio::test]
async fn expired_forged_unsigned_and_confused_tokens_are_refused() {
    let server = TestServer::start().await;
    let claims =
        json!({"sub": "eve@example.com", "email": "eve@example.com", "exp": now_seconds() + 3600});
    let expired = sign_erp(
        json!({"sub": "eve@example.com", "exp": now_seconds() - 3600}),
        ERP_SECRET,
    );
    let forged = sign_erp(claims.clone(), "not-the-secret");
    let alg_none = unsigned(json!({"alg": "none", "typ": "JWT"}), claims.clone(), "");
    let rs256 = unsigned(
        json!({"alg": "RS256", "typ": "JWT"}),
        claims.clone(),
        "c2lnbmF0dXJl",
    );
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(ERP_SECRET.as_bytes()),
    )
    .unwrap();
    let no_user = sign_erp(
        json!({"name": "Nobody", "exp": now_seconds() + 3600}),
        ERP_SECRET,
    );
    for (name, token, code) in [
        ("expired", expired.as_str(), "token_expired"),
        ("forged", forged.as_str(), "invalid_token"),
        ("alg none", alg_none.as_str(), "invalid_token"),
        ("RS256 header", rs256.as_str(), "invalid_token"),
        ("HS512", hs512.as_str(), "invalid_token"),
        ("no user claim", no_user.as_str(), "invalid_token"),
        ("garbage", "a.b.c", "invalid_token"),
    ] {
        let (status, body) = create_session(&server, token).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
    }
    let (status, body) = server
        .call(Method::GET, "/api/v1/live-agent/sessions", None, None, &[])
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "missing_token");
    // The valid token works, so the refusals above were about the tokens.
    let (status, _) = create_session(&server, &erp_token("eve@example.com", "Eve")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn another_tenants_data_is_not_found_and_its_tokens_do_not_cross() {
    let server = TestServer::start().await;
    create_tenant(
        &server,
        "globex",
        "globex.localhost",
        "globex-secret",
        "bob@globex.localhost",
    )
    .await;
    // Three sessions in the demo tenant; none in globex.
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, created) =
            create_session(&server, &erp_token(&format!("u{n}@example.com"), "U")).await;
        assert_eq!(status, 201);
        ids.push(created["session_id"].as_str().unwrap().to_owned());
    }
    let bob = server.login("bob@globex.localhost").await;
    for id in &ids {
        for (method, path, body) in [
            (
                Method::GET,
                format!("/api/v1/live-agent/sessions/{id}"),
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/live-agent/messages/{id}"),
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/live-agent/sessions/{id}/status"),
                Some(json!({"status": "active"})),
            ),
            (
                Method::POST,
                "/api/v1/live-agent/messages".to_owned(),
                Some(json!({"session_id": id, "message_text": "hi"})),
            ),
        ] {
            let (status, answer) = server
                .call(method.clone(), &path, Some(&bob), body, &[])
                .await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
            assert_eq!(answer["error"]["code"], "not_found");
        }
    }
    let (_, listed) = server.get("/api/v1/live-agent/sessions", &bob).await;
    assert_eq!(listed["total"], 0, "globex sees none of demo's sessions");

    // A demo staff token naming globex explicitly is refused.
    let agent = server.login(AGENT).await;
    let (status, body) = server
        .call(
            Method::GET,
            "/api/v1/live-agent/sessions",
            Some(&agent),
            None,
            &[("X-Tenant-Domain", "globex.localhost")],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "wrong_tenant");
    // A demo ERP token sent to globex does not verify with globex's secret.
    let demo_user = erp_token("u0@example.com", "U");
    let (status, _) = server
        .call(
            Method::GET,
            "/api/v1/live-agent/sessions",
            Some(&demo_user),
            None,
            &[("X-Tenant-Domain", "globex.localhost")],
        )
        .await;
    assert_eq!(status, 401);
    // Another end user of the same tenant cannot see u0's session either.
    let (status, _) = server
        .get(
            &format!("/api/v1/live-agent/sessions/{}", ids[0]),
            &erp_token("u1@example.com", "U"),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_bodies_get_json_errors_and_change_nothing() {
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.max_body_bytes = 16 * 1024;
    let server = TestServer::start_with(dir, config).await;
    let user = erp_token("max@example.com", "Max");
    let big = "x".repeat(20_000);
    let (status, body) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": big}),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    // An endpoint whose JSON body is optional reads the body whole: still a JSON 413.
    let response = server
        .http
        .post(server.url("/api/v1/widget/init"))
        .header("content-type", "application/json")
        .body(format!("{{\"pad\": \"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let response = server
        .http
        .post(server.url("/api/v1/live-agent/sessions"))
        .bearer_auth(&user)
        .header("content-type", "application/json")
        .body("{\"initial_message\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed");

    let (status, body) = server
        .post(
            "/api/v1/live-agent/messages",
            &user,
            json!({"session_id": 7}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["code"], "malformed",
        "wrong types are malformed: {body}"
    );

    // Within the body limit, but longer than the engine allows for one message (8 KiB).
    let (_, created) = create_session(&server, &user).await;
    let id = created["session_id"].as_str().unwrap();
    let long = "y".repeat(9_000);
    let (status, body) = server
        .post(
            "/api/v1/live-agent/messages",
            &user,
            json!({"session_id": id, "message_text": long}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "too_long");
    let (_, history) = server
        .get(&format!("/api/v1/live-agent/messages/{id}"), &user)
        .await;
    assert_eq!(
        history["total"], 1,
        "the refused message left nothing behind"
    );

    let (status, body) = server
        .call(
            Method::DELETE,
            "/api/v1/live-agent/sessions",
            Some(&user),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn rate_limits_answer_429_per_ip_and_per_tenant() {
    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.rate_limit_ip = 3;
    let server = TestServer::start_with(dir, config).await;
    let user = erp_token("fast@example.com", "Fast");
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let (status, body) = server.get("/api/v1/live-agent/sessions", &user).await;
        if status == 429 {
            assert_eq!(body["error"]["code"], "rate_limited");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.contains(&429),
        "a burst beyond the limit is refused: {statuses:?}"
    );

    let dir = TempDir::new();
    let mut config = test_config(&dir);
    config.rate_limit_tenant = 2;
    let server = TestServer::start_with(dir, config).await;
    let mut limited = 0;
    for _ in 0..20 {
        let (status, _) = server.get("/api/v1/live-agent/sessions", &user).await;
        limited += usize::from(status == 429);
    }
    assert!(limited > 0, "the tenant's limit applies");
}

#[tokio::test]
async fn staff_read_their_own_record_and_change_their_password_only_by_proving_the_current_one() {
    let server = TestServer::start().await;
    let token = server.login(AGENT).await;
    let (status, me) = server.get("/api/v1/auth/me", &token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], AGENT);
    assert_eq!(me["role"], "agent");
    assert!(
        me.as_object()
            .unwrap()
            .keys()
            .all(|key| !key.contains("password")),
        "no hash leaves the server: {me}"
    );

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, refused) = server
        .post(
            "/api/v1/auth/password",
            &token,
            change("wrong password", NEW_PASSWORD),
        )
        .await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_credentials");
    let (status, refused) = server
        .post("/api/v1/auth/password", &token, change(PASSWORD, "short"))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["details"]["field"], "new_password");
    // Neither refusal changed anything.
    login_with(&server, AGENT, PASSWORD).await;

    let (status, answer) = server
        .post(
            "/api/v1/auth/password",
            &token,
            change(PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["token_type"], "bearer");
    login_with(&server, AGENT, NEW_PASSWORD).await;
    let (status, old) = try_login(&server, AGENT, PASSWORD).await;
    assert_eq!(status, 401, "the old password no longer works: {old}");

    // Not for visitors or ERP end users.
    let user = erp_token("vera@example.com", "Vera");
    let (status, refused) = server
        .call(
            Method::GET,
            "/api/v1/auth/me",
            Some(&user),
            None,
            &[("X-Tenant-Domain", "demo.localhost")],
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    let (status, refused) = server
        .call(
            Method::POST,
            "/api/v1/auth/password",
            Some(&user),
            Some(change(PASSWORD, NEW_PASSWORD)),
            &[("X-Tenant-Domain", "demo.localhost")],
        )
        .await;
    assert_eq!(status, 403, "{refused}");
}

#[tokio::test]
async fn a_new_password_ends_every_session_that_began_with_the_old_one() {
    let server = TestServer::start().await;
    let here = server.login(AGENT).await;
    let elsewhere = server.login(AGENT).await;
    let admin = server.login(ADMIN).await;
    let mut socket = WsClient::connect(&server.ws_url(), &elsewhere, None).await;
    // Tokens carry millisecond issue times; make sure the change is strictly later.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let (status, answer) = server
        .post(
            "/api/v1/auth/password",
            &here,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    for old in [&here, &elsewhere] {
        let (status, refused) = server.get("/api/v1/auth/me", old).await;
        assert_eq!(status, 401, "{refused}");
        assert_eq!(refused["error"]["code"], "session_revoked");
    }
    let fresh = answer["access_token"].as_str().unwrap();
    let (status, me) = server.get("/api/v1/auth/me", fresh).await;
    assert_eq!(
        status, 200,
        "the caller stays logged in with the new token: {me}"
    );
    let (status, _) = server.get("/api/v1/admin/users", &admin).await;
    assert_eq!(status, 200, "other staff members keep their sessions");

    // The socket opened with an old token is closed, and cannot come back with it.
    let ended = loop {
        let frame = next_json(&mut socket.socket)
            .await
            .expect("an error frame before the close");
        if frame["type"] == "error" {
            break frame;
        }
    };
    assert_eq!(ended["error"]["code"], "revoked");
    let (mut again, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .unwrap();
    let hello = json!({"type": "hello", "token": elsewhere});
    again
        .send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let refused = next_json(&mut again).await.expect("an error frame");
    assert_eq!(refused["error"]["code"], "session_revoked", "{refused}");
}

#[tokio::test]
async fn an_administrator_setting_a_password_ends_that_members_sessions() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let agent = server.login(AGENT).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, user) = server
        .put(
            &format!("/api/v1/admin/users/{AGENT}"),
            &admin,
            json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    let (status, refused) = server.get("/api/v1/auth/me", &agent).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "session_revoked");
    let (status, _) = server.get("/api/v1/admin/users", &admin).await;
    assert_eq!(status, 200, "the administrator's own session goes on");
    let again = login_with(&server, AGENT, NEW_PASSWORD).await;
    let (status, _) = server.get("/api/v1/auth/me", &again).await;
    assert_eq!(status, 200, "logging in with the new password works");
}

/// Logs demo's agent in with `password`, sending `header`.
async fn login_with_header(
    server: &TestServer,
    password: &str,
    header: (&str, &str),
) -> (u16, Value) {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": AGENT, "password": password})),
            &[header],
        )
        .await
}

#[tokio::test]
async fn a_login_without_a_tenant_tells_nothing_of_other_tenants_and_the_password_decides() {
    use switchboard_server::directory::{self, Credential, namespace};
    let server = TestServer::start().await;
    // Another tenant's administrator adds demo's agent's address to their own staff.
    create_tenant(
        &server,
        "globex",
        "globex.localhost",
        "globex-secret",
        AGENT,
    )
    .await;

    // Through a host that names no tenant, as an app that sends no X-Tenant-Domain does.
    let login = |password| login_with_header(&server, password, ("Host", "api.example.com"));
    // A wrong password is wrong, whether or not the address is staff elsewhere.
    let (status, body) = login("not the password").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
    // The same password in both tenants: only then must the caller say which, with
    // X-Tenant-Domain or a Host that names one of them.
    let (status, body) = login(PASSWORD).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "tenant_required");
    for header in [
        ("X-Tenant-Domain", "globex.localhost"),
        ("Host", "globex.localhost"),
    ] {
        let (status, body) = login_with_header(&server, PASSWORD, header).await;
        assert_eq!(status, 200, "{header:?}: {body}");
        assert_eq!(body["agent"]["tenant_id"], "globex");
    }

    // With different passwords, each password signs in to its own tenant, no header needed.
    let credential = Credential {
        email: AGENT.to_owned(),
        password_hash: switchboard_server::auth::passwords::hash(NEW_PASSWORD).unwrap(),
        name: "Other Agent".to_owned(),
        role: Default::default(),
        sessions_from: 0,
    };
    write_host_values(
        &server,
        vec![directory::write(
            "globex",
            namespace::CREDENTIAL,
            AGENT,
            &credential,
        )],
    )
    .await;
    for (password, tenant) in [(PASSWORD, "demo"), (NEW_PASSWORD, "globex")] {
        let (status, body) = login(password).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["agent"]["tenant_id"], tenant);
    }
}
