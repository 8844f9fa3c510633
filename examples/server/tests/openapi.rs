//! The OpenAPI document at `/openapi.json`: it is OpenAPI 3.1, it lists exactly the REST
//! routes the server answers, every operation in it is routed, its operations are
//! described (tags, security, parameters, errors), its small copies of the engine's enums
//! still match the engine, and real answers have the fields it documents.

mod support;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const AGENT: &str = "agent@demo.localhost";
const ADMIN: &str = "admin@demo.localhost";

/// Every REST route of the server, as a client calls it. `/ws` is not here: OpenAPI does
/// not model WebSocket.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/password"),
    // live-agent
    ("POST", "/api/v1/live-agent/sessions"),
    ("GET", "/api/v1/live-agent/sessions"),
    ("GET", "/api/v1/live-agent/sessions/{session_id}"),
    ("PUT", "/api/v1/live-agent/sessions/{session_id}/status"),
    ("POST", "/api/v1/live-agent/messages"),
    ("GET", "/api/v1/live-agent/messages/{session_id}"),
    ("PUT", "/api/v1/live-agent/agent/status"),
    // widget
    ("POST", "/api/v1/widget/init"),
    ("GET", "/api/v1/widget/availability"),
    ("POST", "/api/v1/widget/sessions"),
    ("GET", "/api/v1/widget/sessions/{session_id}"),
    ("GET", "/api/v1/widget/sessions/{session_id}/messages"),
    ("POST", "/api/v1/widget/sessions/{session_id}/messages"),
    ("POST", "/api/v1/widget/sessions/{session_id}/typing"),
    ("POST", "/api/v1/widget/sessions/{session_id}/read"),
    ("POST", "/api/v1/widget/sessions/{session_id}/leave"),
    ("GET", "/api/v1/widget/sessions/{session_id}/transcript"),
    (
        "POST",
        "/api/v1/widget/sessions/{session_id}/transcript/email",
    ),
    ("POST", "/api/v1/widget/sessions/{session_id}/csat"),
    ("POST", "/api/v1/widget/offline"),
    // agent
    ("POST", "/api/v1/agent/sessions/{session_id}/accept"),
    ("POST", "/api/v1/agent/sessions/{session_id}/decline"),
    ("POST", "/api/v1/agent/sessions/{session_id}/pick"),
    ("POST", "/api/v1/agent/sessions/{session_id}/assign"),
    ("POST", "/api/v1/agent/sessions/{session_id}/transfer"),
    ("POST", "/api/v1/agent/sessions/{session_id}/resolve"),
    ("POST", "/api/v1/agent/sessions/{session_id}/close"),
    ("POST", "/api/v1/agent/sessions/{session_id}/notes"),
    ("GET", "/api/v1/agent/sessions/{session_id}/notes"),
    ("POST", "/api/v1/agent/sessions/{session_id}/tags"),
    ("DELETE", "/api/v1/agent/sessions/{session_id}/tags/{tag}"),
    ("GET", "/api/v1/agent/sessions/{session_id}/messages"),
    ("POST", "/api/v1/agent/sessions/{session_id}/messages"),
    ("GET", "/api/v1/agent/sessions/{session_id}/transcript"),
    (
        "POST",
        "/api/v1/agent/sessions/{session_id}/transcript/email",
    ),
    (
        "GET",
        "/api/v1/agent/sessions/{session_id}/canned-responses/{canned_id}/render",
    ),
    (
        "POST",
        "/api/v1/agent/sessions/{session_id}/canned-responses/{canned_id}/send",
    ),
    ("POST", "/api/v1/agent/transfers/{transfer_id}/{action}"),
    ("GET", "/api/v1/agent/queues/{queue_id}/sessions"),
    ("GET", "/api/v1/agent/canned-responses"),
    ("POST", "/api/v1/agent/canned-responses"),
    ("PUT", "/api/v1/agent/canned-responses/{canned_id}"),
    ("DELETE", "/api/v1/agent/canned-responses/{canned_id}"),
    ("GET", "/api/v1/agent/visitors/{visitor_id}"),
    ("GET", "/api/v1/agent/search"),
    ("GET", "/api/v1/agent/tickets"),
    ("GET", "/api/v1/agent/tickets/{ticket_id}"),
    ("PUT", "/api/v1/agent/tickets/{ticket_id}/status"),
    ("POST", "/api/v1/agent/tickets/{ticket_id}/messages"),
    ("POST", "/api/v1/agent/tickets/{ticket_id}/assign"),
    // admin
    ("GET", "/api/v1/admin/tenants"),
    ("POST", "/api/v1/admin/tenants"),
    ("GET", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/users"),
    ("GET", "/api/v1/admin/users/{agent_id}"),
    ("PUT", "/api/v1/admin/users/{agent_id}"),
    ("DELETE", "/api/v1/admin/users/{agent_id}"),
    ("PUT", "/api/v1/admin/users/{agent_id}/skills"),
    ("GET", "/api/v1/admin/departments"),
    ("PUT", "/api/v1/admin/departments/{id}"),
    ("DELETE", "/api/v1/admin/departments/{id}"),
    ("GET", "/api/v1/admin/queues"),
    ("PUT", "/api/v1/admin/queues/{id}"),
    ("DELETE", "/api/v1/admin/queues/{id}"),
    ("GET", "/api/v1/admin/routing-rules"),
    ("PUT", "/api/v1/admin/routing-rules"),
    ("GET", "/api/v1/admin/calendars"),
    ("PUT", "/api/v1/admin/calendars/{id}"),
    ("DELETE", "/api/v1/admin/calendars/{id}"),
    ("GET", "/api/v1/admin/sla-policies"),
    ("PUT", "/api/v1/admin/sla-policies"),
    ("GET", "/api/v1/admin/canned-responses"),
    ("POST", "/api/v1/admin/canned-responses"),
    ("PUT", "/api/v1/admin/canned-responses/{canned_id}"),
    ("DELETE", "/api/v1/admin/canned-responses/{canned_id}"),
    ("GET", "/api/v1/admin/settings"),
    ("PUT", "/api/v1/admin/settings"),
    ("GET", "/api/v1/admin/widget"),
    ("PUT", "/api/v1/admin/widget"),
    ("GET", "/api/v1/admin/api-keys"),
    ("POST", "/api/v1/admin/api-keys"),
    ("PUT", "/api/v1/admin/api-keys/{key}"),
    ("DELETE", "/api/v1/admin/api-keys/{key}"),
    ("POST", "/api/v1/admin/force-logout"),
    ("GET", "/api/v1/admin/erp"),
    ("PUT", "/api/v1/admin/erp"),
    ("GET", "/api/v1/admin/retention"),
    ("PUT", "/api/v1/admin/retention"),
    ("GET", "/api/v1/admin/visitors/{visitor_id}/export"),
    ("DELETE", "/api/v1/admin/visitors/{visitor_id}"),
    ("GET", "/api/v1/admin/analytics"),
    // webhooks
    ("GET", "/api/v1/admin/webhooks"),
    ("POST", "/api/v1/admin/webhooks"),
    ("PUT", "/api/v1/admin/webhooks/{webhook_id}"),
    ("DELETE", "/api/v1/admin/webhooks/{webhook_id}"),
    ("GET", "/api/v1/admin/webhooks/{webhook_id}/deliveries"),
    // ops
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
];

/// Operations anyone may call.
const PUBLIC: &[&str] = &[
    "POST /api/v1/auth/login",
    "GET /healthz",
    "GET /metrics",
    "GET /openapi.json",
];

const TAGS: &[&str] = &[
    "live-agent",
    "auth",
    "widget",
    "agent",
    "admin",
    "webhooks",
    "ops",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

async fn fetch_document(server: &TestServer) -> Value {
    let response = server
        .http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

/// `METHOD /path` of every operation in the document.
fn operations(document: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                found.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    found
}

fn operation<'a>(document: &'a Value, key: &str) -> &'a Value {
    let (method, path) = key.split_once(' ').unwrap();
    &document["paths"][path][method.to_lowercase()]
}

/// A concrete path for a templated one: placeholder ids that look like real ones.
fn concrete(path: &str) -> String {
    path.replace("{session_id}", "ses_999999")
        .replace("{ticket_id}", "tkt_999999")
        .replace("{transfer_id}", "trf_999999")
        .replace("{canned_id}", "canned_999999")
        .replace("{action}", "accept")
        .replace("{webhook_id}", "wh_missing")
        .replace("{key}", "wk_missing")
        .replace("{agent_id}", "nobody@demo.localhost")
        .replace("{visitor_id}", "v_missing")
        .replace("{queue_id}", "missing")
        .replace("{tag}", "missing")
        .replace("{id}", "missing")
}

/// True when an answer is the router's fallback for an unknown path or method.
fn is_fallback(status: u16, body: &Value) -> bool {
    (status == 404 && body["error"]["message"] == "no such endpoint")
        || (status == 405 && body["error"]["code"] == "method_not_allowed")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_exactly_the_routes() {
    let server = TestServer::start().await;
    let document = fetch_document(&server).await;
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "OpenAPI version {version}");
    assert!(document["info"]["title"].is_string());
    let description = document["info"]["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("/ws") && description.contains("docs/api.md"),
        "the description points to the WebSocket's documentation"
    );

    let documented = operations(&document);
    let routed: BTreeSet<String> = ROUTES
        .iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "operations in the document but not in this test's list: {unknown:?}"
    );
    assert!(
        documented
            .iter()
            .all(|operation| !operation.contains("/ws"))
    );
}

#[tokio::test]
async fn every_route_and_every_documented_operation_is_answered() {
    let server = TestServer::start().await;
    // The detector itself: what the fallbacks answer.
    let (status, body) = server
        .call(Method::GET, "/api/v1/no-such-thing", None, None, &[])
        .await;
    assert!(is_fallback(status, &body), "{status} {body}");
    let (status, body) = server
        .call(Method::PATCH, "/api/v1/auth/login", None, None, &[])
        .await;
    assert!(is_fallback(status, &body), "{status} {body}");

    let document = fetch_document(&server).await;
    let mut calls: BTreeSet<String> = operations(&document);
    calls.extend(
        ROUTES
            .iter()
            .map(|(method, path)| format!("{method} {path}")),
    );
    for call in calls {
        let (method, path) = call.split_once(' ').unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        let (status, answer) = server.call(method, &concrete(path), None, body, &[]).await;
        assert!(
            !is_fallback(status, &answer),
            "{call} is documented but not routed: {status} {answer}"
        );
        if !PUBLIC.contains(&call.as_str()) && call != "POST /api/v1/widget/init" {
            assert_eq!(status, 401, "{call} without a token: {answer}");
        }
    }
}

#[tokio::test]
async fn operations_are_described() {
    let server = TestServer::start().await;
    let document = fetch_document(&server).await;
    let schemes = &document["components"]["securitySchemes"];
    for name in ["staff_token", "visitor_token", "erp_token"] {
        assert_eq!(schemes[name]["type"], "http", "{name}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{name}");
        assert_eq!(schemes[name]["bearerFormat"], "JWT", "{name}");
    }
    assert_eq!(schemes["widget_key"]["type"], "apiKey");
    assert_eq!(schemes["widget_key"]["in"], "header");
    assert_eq!(schemes["widget_key"]["name"], "X-Widget-Key");
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());

    let mut operation_ids = BTreeSet::new();
    for key in operations(&document) {
        let op = operation(&document, &key);
        let (_, path) = key.split_once(' ').unwrap();
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            operation_ids.insert(id.to_owned()),
            "{key}: operationId {id:?} is not unique"
        );

        let tags: Vec<&str> = op["tags"]
            .as_array()
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(tags.len(), 1, "{key} has one tag: {tags:?}");
        assert!(TAGS.contains(&tags[0]), "{key}: unknown tag {}", tags[0]);

        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{key} documents its success"
        );
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|text| !text.is_empty()),
                "{key} {status} is described"
            );
            let is_error = status.starts_with('4') || status.starts_with('5');
            if is_error && path.starts_with("/api/") {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{key} {status} is the JSON error"
                );
            }
        }
        if path.starts_with("/api/") {
            for status in ["429", "503"] {
                assert!(responses.contains_key(status), "{key} documents {status}");
            }
        }

        let requirements = op["security"].as_array().cloned().unwrap_or_default();
        if PUBLIC.contains(&key.as_str()) {
            assert!(requirements.is_empty(), "{key} needs no token");
        } else {
            assert!(!requirements.is_empty(), "{key} names its security");
            for requirement in &requirements {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        schemes[scheme].is_object(),
                        "{key}: unknown scheme {scheme}"
                    );
                }
            }
            if key != "POST /api/v1/widget/init" {
                assert!(responses.contains_key("401"), "{key} documents 401");
            }
        }

        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|parameters| {
                parameters
                    .iter()
                    .filter(|parameter| parameter["in"] == "path")
                    .filter_map(|parameter| parameter["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, templated, "{key}: path parameters");
    }

    // Who may call what, for the main groups.
    let names = |key: &str| -> BTreeSet<String> {
        operation(&document, key)["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|requirement| requirement.as_object().unwrap().keys().cloned())
            .collect()
    };
    let staff = BTreeSet::from(["staff_token".to_owned()]);
    let end_users = BTreeSet::from(["erp_token".to_owned(), "visitor_token".to_owned()]);
    assert_eq!(names("GET /api/v1/admin/users"), staff);
    assert_eq!(names("GET /api/v1/agent/tickets"), staff);
    assert_eq!(names("GET /api/v1/admin/webhooks"), staff);
    assert_eq!(names("POST /api/v1/widget/sessions"), end_users);
    assert_eq!(names("POST /api/v1/live-agent/sessions"), end_users);
    assert_eq!(
        names("POST /api/v1/widget/init"),
        BTreeSet::from(["widget_key".to_owned()])
    );
}

/// The values a schema allows: its `enum`, or the `enum`s of its `oneOf`.
fn enum_values(schema: &Value) -> BTreeSet<String> {
    let mut values: BTreeSet<String> = schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|value| value.as_str().map(str::to_owned))
        .collect();
    for branch in schema["oneOf"].as_array().into_iter().flatten() {
        values.extend(enum_values(branch));
    }
    values
}

#[tokio::test]
async fn the_copies_of_the_engine_enums_match_the_engine() {
    use switchboard_core::protocol::helpdesk::TicketStatus;
    use switchboard_core::protocol::model::{
        AgentStatus, CannedScope, MessageKind, SessionStatus, StaffRole,
    };

    fn check<T: serde::de::DeserializeOwned + serde::Serialize>(
        document: &Value,
        name: &str,
        known: &[T],
    ) {
        let values = enum_values(&document["components"]["schemas"][name]);
        assert!(!values.is_empty(), "{name} is an enum in the document");
        for value in &values {
            assert!(
                serde_json::from_value::<T>(Value::String(value.clone())).is_ok(),
                "{name}: the engine does not know {value:?}"
            );
        }
        let engine: BTreeSet<String> = known
            .iter()
            .map(|value| {
                serde_json::to_value(value)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(values, engine, "{name}");
    }

    let server = TestServer::start().await;
    let document = fetch_document(&server).await;
    check(
        &document,
        "StaffRole",
        &[
            StaffRole::TenantAdmin,
            StaffRole::Supervisor,
            StaffRole::Agent,
            StaffRole::Viewer,
        ],
    );
    check(
        &document,
        "MessageKind",
        &[
            MessageKind::Text,
            MessageKind::Markdown,
            MessageKind::System,
            MessageKind::Attachment,
        ],
    );
    check(
        &document,
        "AgentStatus",
        &[
            AgentStatus::Online,
            AgentStatus::Away,
            AgentStatus::Busy,
            AgentStatus::Offline,
        ],
    );
    check(
        &document,
        "CannedScope",
        &[CannedScope::Personal, CannedScope::Tenant],
    );
    use SessionStatus::*;
    check(
        &document,
        "SessionStatus",
        &[
            Pending,
            Bot,
            Queued,
            Offered,
            Active,
            Transferring,
            Resolved,
            Closed,
            Abandoned,
            Missed,
        ],
    );
    check(
        &document,
        "TicketStatus",
        &[
            TicketStatus::Open,
            TicketStatus::InProgress,
            TicketStatus::Pending,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ],
    );
}

/// Checks that `answer` has every required property of the schema `name` and no property
/// the schema does not list.
fn assert_shape(document: &Value, name: &str, answer: &Value) {
    let schema = &document["components"]["schemas"][name];
    let properties: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} is an object schema"))
        .keys()
        .map(String::as_str)
        .collect();
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let fields: BTreeSet<&str> = answer
        .as_object()
        .unwrap_or_else(|| panic!("{name}: the answer is an object: {answer}"))
        .keys()
        .map(String::as_str)
        .collect();
    let undocumented: Vec<_> = fields.difference(&properties).collect();
    let absent: Vec<_> = required.difference(&fields).collect();
    assert!(
        undocumented.is_empty(),
        "{name}: fields not in the schema: {undocumented:?}"
    );
    assert!(
        absent.is_empty(),
        "{name}: required fields missing: {absent:?}"
    );
}

/// The schema a documented response refers to.
fn response_schema(document: &Value, key: &str, status: &str) -> String {
    let reference = operation(document, key)["responses"][status]["content"]["application/json"]
        ["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{key} {status} refers to a schema"))
        .to_owned();
    reference
        .trim_start_matches("#/components/schemas/")
        .to_owned()
}

#[tokio::test]
async fn answers_have_the_documented_fields() {
    let server = TestServer::start().await;
    let document = fetch_document(&server).await;
    let check = |key: &str, status: u16, answer: &Value| {
        let name = response_schema(&document, key, &status.to_string());
        assert_shape(&document, &name, answer);
        name
    };

    // Staff log in.
    let agent = server.login(AGENT).await;
    let admin = server.login(ADMIN).await;
    let (status, answer) = try_login(&server, AGENT, PASSWORD).await;
    check("POST /api/v1/auth/login", status, &answer);
    assert_shape(&document, "LoginAgent", &answer["agent"]);

    // The live-agent contract; the agent goes online first, to take the session.
    let (status, agent_status) = server
        .put(
            "/api/v1/live-agent/agent/status",
            &agent,
            json!({"is_online": true}),
        )
        .await;
    check("PUT /api/v1/live-agent/agent/status", status, &agent_status);
    let user = erp_token("john.doe@example.com", "John Doe");
    let (status, created) = server
        .post(
            "/api/v1/live-agent/sessions",
            &user,
            json!({"initial_message": "I need help", "user_context": {"page": "/invoices"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    check("POST /api/v1/live-agent/sessions", status, &created);
    let session_id = created["session_id"].as_str().unwrap().to_owned();
    let (status, list) = server.get("/api/v1/live-agent/sessions", &agent).await;
    check("GET /api/v1/live-agent/sessions", status, &list);
    assert_shape(&document, "ContractSession", &list["sessions"][0]);
    let (status, session) = server
        .get(&format!("/api/v1/live-agent/sessions/{session_id}"), &agent)
        .await;
    check(
        "GET /api/v1/live-agent/sessions/{session_id}",
        status,
        &session,
    );
    let (status, changed) = server
        .put(
            &format!("/api/v1/live-agent/sessions/{session_id}/status"),
            &agent,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    check(
        "PUT /api/v1/live-agent/sessions/{session_id}/status",
        status,
        &changed,
    );
    let (status, sent) = server
        .post(
            "/api/v1/live-agent/messages",
            &agent,
            json!({"session_id": session_id, "message_text": "Hello", "sender_type": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    check("POST /api/v1/live-agent/messages", status, &sent);
    let (status, messages) = server
        .get(&format!("/api/v1/live-agent/messages/{session_id}"), &agent)
        .await;
    check(
        "GET /api/v1/live-agent/messages/{session_id}",
        status,
        &messages,
    );
    assert_shape(&document, "ContractMessage", &messages["messages"][0]);
    assert_shape(&document, "ContractSessionStatus", &messages["session"]);

    // The widget.
    let demo = server.server.as_ref().unwrap().demo.as_ref().unwrap();
    let origin = format!(
        "http://localhost:{}",
        server.server.as_ref().unwrap().local_addr.port()
    );
    let (status, init) = server
        .call(
            Method::POST,
            "/api/v1/widget/init",
            None,
            None,
            &[
                ("X-Widget-Key", demo.widget_key.as_deref().unwrap()),
                ("Origin", &origin),
            ],
        )
        .await;
    assert_eq!(status, 200, "{init}");
    check("POST /api/v1/widget/init", status, &init);
    for (name, field) in [
        ("WidgetTenant", "tenant"),
        ("WidgetFeatures", "features"),
        ("WidgetPreChat", "pre_chat"),
    ] {
        assert_shape(&document, name, &init[field]);
    }
    let visitor = init["visitor_token"].as_str().unwrap().to_owned();
    let as_visitor = [("Origin", origin.as_str())];
    let (status, started) = server
        .call(
            Method::POST,
            "/api/v1/widget/sessions",
            Some(&visitor),
            Some(json!({"name": "Ana", "email": "ana@example.com", "initial_message": "Hi"})),
            &as_visitor,
        )
        .await;
    assert_eq!(status, 201, "{started}");
    check("POST /api/v1/widget/sessions", status, &started);
    let widget_session = started["session_id"].as_str().unwrap().to_owned();
    let (status, view) = server
        .call(
            Method::GET,
            &format!("/api/v1/widget/sessions/{widget_session}"),
            Some(&visitor),
            None,
            &as_visitor,
        )
        .await;
    check("GET /api/v1/widget/sessions/{session_id}", status, &view);
    let (status, accepted) = server
        .call(
            Method::POST,
            &format!("/api/v1/widget/sessions/{widget_session}/messages"),
            Some(&visitor),
            Some(json!({"text": "Are you there?"})),
            &as_visitor,
        )
        .await;
    assert_eq!(status, 201, "{accepted}");
    check(
        "POST /api/v1/widget/sessions/{session_id}/messages",
        status,
        &accepted,
    );
    let (status, window) = server
        .call(
            Method::GET,
            &format!("/api/v1/widget/sessions/{widget_session}/messages"),
            Some(&visitor),
            None,
            &as_visitor,
        )
        .await;
    check(
        "GET /api/v1/widget/sessions/{session_id}/messages",
        status,
        &window,
    );

    // Administration.
    let (status, users) = server.get("/api/v1/admin/users", &admin).await;
    check("GET /api/v1/admin/users", status, &users);
    for user in users["users"].as_array().unwrap() {
        assert_shape(&document, "User", user);
    }
    let (status, one) = server
        .get(&format!("/api/v1/admin/users/{AGENT}"), &admin)
        .await;
    check("GET /api/v1/admin/users/{agent_id}", status, &one);
    assert_shape(&document, "UserPresence", &one["presence"]);
    let (status, keys) = server.get("/api/v1/admin/api-keys", &admin).await;
    check("GET /api/v1/admin/api-keys", status, &keys);
    assert_shape(&document, "ApiKey", &keys["api_keys"][0]);
    let (status, widget) = server.get("/api/v1/admin/widget", &admin).await;
    check("GET /api/v1/admin/widget", status, &widget);
    let (status, report) = server.get("/api/v1/admin/analytics", &admin).await;
    check("GET /api/v1/admin/analytics", status, &report);
    let (status, hook) = server
        .post(
            "/api/v1/admin/webhooks",
            &admin,
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    check("POST /api/v1/admin/webhooks", status, &hook);
    let (status, hooks) = server.get("/api/v1/admin/webhooks", &admin).await;
    check("GET /api/v1/admin/webhooks", status, &hooks);
    assert_shape(&document, "Webhook", &hooks["webhooks"][0]);

    // Operations.
    let (status, health) = server.call(Method::GET, "/healthz", None, None, &[]).await;
    check("GET /healthz", status, &health);
}
