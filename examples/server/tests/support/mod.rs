//! Test support: a server on port 0 over a temporary database, HTTP and WebSocket clients,
//! and token helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use switchboard_server::Server;
use switchboard_server::config::Config;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// The demo tenant's ERP secret in tests.
pub const ERP_SECRET: &str = "test-erp-secret";
/// The demo password in tests.
pub const PASSWORD: &str = "demo";

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let path =
            std::env::temp_dir().join(format!("switchboard-server-test-{}", hex::encode(bytes)));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options for tests: port 0, a database in `dir`, known secrets, no rate limits.
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.db = dir.0.join("switchboard.db");
    config.demo = true;
    config.demo_password = PASSWORD.to_owned();
    config.demo_jwt_secret = Some(ERP_SECRET.to_owned());
    config.signing_key = None;
    config.rate_limit_ip = 0;
    config.rate_limit_tenant = 0;
    config.rate_limit_socket = 0;
    config.durability = switchboard_server::config::DurabilityOption::Normal;
    config.push_url = None;
    config.smtp_url = None;
    // The tests' receivers listen on loopback.
    config.webhook_private_targets = true;
    config
}

/// A running server and a client for it.
pub struct TestServer {
    pub server: Option<Server>,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

impl TestServer {
    /// Starts a server with the test options.
    pub async fn start() -> TestServer {
        let dir = TempDir::new();
        let config = test_config(&dir);
        Self::start_with(dir, config).await
    }

    /// Starts a server with these options (its database in `dir`).
    pub async fn start_with(dir: TempDir, config: Config) -> TestServer {
        let server = Server::start(config).await.expect("the server starts");
        let base = format!("http://{}", server.local_addr);
        TestServer {
            server: Some(server),
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// Logs a staff member in; returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": PASSWORD, "role": "agent" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login of {email}");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and
    /// JSON body (Null when the body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None, &[])
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(token), Some(body), &[])
            .await
    }

    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// The demo tenant's widget key.
pub fn widget_key(server: &TestServer) -> String {
    server
        .server
        .as_ref()
        .expect("running")
        .demo
        .as_ref()
        .expect("a demo tenant")
        .widget_key
        .clone()
        .expect("a widget key")
}

/// The site origin the demo widget key is enabled for (localhost on the server's port).
pub fn widget_origin(server: &TestServer) -> String {
    format!(
        "http://localhost:{}",
        server.server.as_ref().expect("running").local_addr.port()
    )
}

/// Inits the demo widget from its allowed origin; returns the body.
pub async fn widget_init(server: &TestServer, body: Value) -> Value {
    let key = widget_key(server);
    let origin = widget_origin(server);
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/api/v1/widget/init",
            None,
            Some(body),
            &[("X-Widget-Key", &key), ("Origin", &origin)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A widget call as the visitor, from the demo widget's origin.
pub async fn visitor_call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let origin = widget_origin(server);
    server
        .call(method, path, Some(token), body, &[("Origin", &origin)])
        .await
}

/// The password given to staff created in tests.
pub const NEW_PASSWORD: &str = "correct horse battery";

/// Logs in with a password; returns the access token.
/// A login attempt; returns the status and the answer.
pub async fn try_login(server: &TestServer, email: &str, password: &str) -> (u16, Value) {
    server
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
            &[],
        )
        .await
}

pub async fn login_with(server: &TestServer, email: &str, password: &str) -> String {
    let (status, body) = try_login(server, email, password).await;
    assert_eq!(status, 200, "login of {email}: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Creates a staff member of the demo's support department through the admin API; returns
/// their access token.
pub async fn create_staff(server: &TestServer, admin: &str, email: &str, role: &str) -> String {
    let (status, body) = server
        .post(
            "/api/v1/admin/users",
            admin,
            json!({"email": email, "name": email, "password": NEW_PASSWORD,
                   "role": role, "departments": ["support"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    login_with(server, email, NEW_PASSWORD).await
}

/// An ERP user token for the demo tenant (seed claims), valid for an hour.
pub fn erp_token(email: &str, name: &str) -> String {
    sign_erp(
        json!({
            "sub": email, "email": email, "name": name, "role": "user",
            "exp": now_seconds() + 3_600,
        }),
        ERP_SECRET,
    )
}

/// Signs claims with HS256 and `secret`.
pub fn sign_erp(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A WebSocket client speaking the server's frames.
pub struct WsClient {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub stream_id: String,
    pub last_seq: u64,
    pub welcome: Value,
    /// Frames that arrived while waiting for a reply, not yet consumed by `event`.
    pub pending: std::collections::VecDeque<Value>,
    next_id: u64,
}

impl WsClient {
    /// Connects and says hello (optionally resuming).
    pub async fn connect(url: &str, token: &str, resume: Option<(&str, u64)>) -> WsClient {
        let (socket, _) = connect_async(url).await.expect("websocket connects");
        Self::hello(socket, token, resume).await
    }

    /// Connects from a web page's origin, as the widget does: a visitor token is accepted
    /// only from the origin it was issued for.
    pub async fn connect_from(url: &str, origin: &str, token: &str) -> WsClient {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        let (socket, _) = connect_async(request).await.expect("websocket connects");
        Self::hello(socket, token, None).await
    }

    /// Says hello on a connected socket and reads the welcome.
    pub async fn hello(
        mut socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
        token: &str,
        resume: Option<(&str, u64)>,
    ) -> WsClient {
        let mut hello = json!({ "type": "hello", "token": token });
        if let Some((stream_id, last_seq)) = resume {
            hello["resume"] = json!({ "stream_id": stream_id, "last_seq": last_seq });
        }
        socket
            .send(Message::Text(hello.to_string().into()))
            .await
            .unwrap();
        let welcome = next_json(&mut socket).await.expect("a welcome frame");
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        WsClient {
            stream_id: welcome["stream_id"].as_str().unwrap().to_owned(),
            // A refused resume starts a new stream, numbered from 1.
            last_seq: if welcome["resumed"] == true {
                resume.map_or(0, |(_, seq)| seq)
            } else {
                0
            },
            welcome,
            socket,
            pending: Default::default(),
            next_id: 0,
        }
    }

    /// Sends a command; returns the reply frame (events arriving first are kept in order
    /// in the returned list).
    pub async fn command(&mut self, command: Value) -> (Value, Vec<Value>) {
        self.next_id += 1;
        let id = self.next_id;
        let frame = json!({ "type": "command", "id": id, "command": command });
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        let mut events = Vec::new();
        loop {
            let frame = next_json(&mut self.socket).await.expect("a reply");
            if frame["type"] == "reply" && frame["id"] == id {
                return (frame, events);
            }
            self.note(&frame);
            self.pending.push_back(frame.clone());
            events.push(frame);
        }
    }

    /// Waits for an event whose `event.type` is `kind`; returns it and the frames before.
    pub async fn event(&mut self, kind: &str) -> Value {
        while let Some(frame) = self.pending.pop_front() {
            if frame["type"] == "event" && frame["event"]["type"] == kind {
                return frame;
            }
        }
        loop {
            let frame = next_json(&mut self.socket)
                .await
                .unwrap_or_else(|| panic!("the socket ended waiting for {kind}"));
            self.note(&frame);
            if frame["type"] == "event" && frame["event"]["type"] == kind {
                return frame;
            }
        }
    }

    /// Waits for an event whose `event.type` is `kind` and whose `event` satisfies
    /// `wanted`; other events are skipped.
    pub async fn event_where(&mut self, kind: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = self.event(kind).await;
            if wanted(&frame["event"]) {
                return frame;
            }
        }
    }

    fn note(&mut self, frame: &Value) {
        if let Some(seq) = frame["seq"].as_u64() {
            assert_eq!(
                seq,
                self.last_seq + 1,
                "events arrive in sequence without gaps: {frame}"
            );
            self.last_seq = seq;
        }
    }
}

/// The next JSON text frame, skipping pings; None when the socket ends or 10 s pass.
pub async fn next_json(socket: &mut WebSocketStream<MaybeTlsStream<TcpStream>>) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON frames")),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Creates another tenant directly through the server's engine and directory: its domain,
/// ERP secret, and one agent with the test password.
pub async fn create_tenant(
    server: &TestServer,
    tenant_id: &str,
    domain: &str,
    secret: &str,
    agent_email: &str,
) {
    use switchboard_core::{Actor, Command, Role};
    use switchboard_server::directory::{self, Credential, ErpTokens, TenantRecord, namespace};
    let state = server.server.as_ref().expect("running").state().clone();
    let record = TenantRecord {
        domains: vec![domain.to_owned()],
        erp: ErpTokens {
            secret: secret.to_owned(),
            audience: None,
            issuer: None,
        },
        token_epoch: 0,
    };
    let writes = vec![directory::write(
        tenant_id,
        namespace::TENANT,
        "settings",
        &record,
    )];
    let root = Actor::new(tenant_id, "setup", Role::Superadmin);
    let settings = serde_json::from_value(json!({"name": tenant_id})).unwrap();
    state
        .engine
        .execute_with(root, Command::CreateTenant { settings }, writes.clone())
        .await
        .unwrap();
    state.directory.apply(&writes);
    let admin = Actor::new(tenant_id, "setup", Role::TenantAdmin);
    for command in [
        json!({"type": "upsert_queue", "queue": {"id": "main", "name": "Main", "queue_when_no_agents": true}}),
        json!({"type": "upsert_agent", "agent": {"id": agent_email, "name": "Other Agent", "email": agent_email}}),
    ] {
        state
            .engine
            .execute(admin.clone(), serde_json::from_value(command).unwrap())
            .await
            .unwrap();
    }
    let credential = Credential {
        email: agent_email.to_owned(),
        password_hash: switchboard_server::auth::passwords::hash(PASSWORD).unwrap(),
        name: "Other Agent".to_owned(),
        role: Default::default(),
        sessions_from: 0,
    };
    let writes = vec![directory::write(
        tenant_id,
        namespace::CREDENTIAL,
        agent_email,
        &credential,
    )];
    write_host_values(server, writes).await;
}

/// Commits host values through the engine thread and applies them to the directory.
pub async fn write_host_values(
    server: &TestServer,
    writes: Vec<switchboard_server::engine_loop::HostWrite>,
) {
    let state = server.server.as_ref().expect("running").state().clone();
    state
        .engine
        .run({
            let writes = writes.clone();
            move |store| {
                for (tenant, namespace, key, value) in &writes {
                    store.stage_host_value(tenant, namespace, key, value.as_deref())?;
                }
                store.commit().map(|_| ())
            }
        })
        .await
        .unwrap()
        .unwrap();
    state.directory.apply(&writes);
}

/// Sets a staff member online through the live-agent endpoint.
pub async fn go_online(server: &TestServer, token: &str) {
    let (status, body) = server
        .put(
            "/api/v1/live-agent/agent/status",
            token,
            json!({"is_online": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
