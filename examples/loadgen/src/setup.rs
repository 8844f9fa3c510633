//! Creates the run's agents through the admin API (SSO-only: they connect with tokens
//! signed by the tenant's ERP secret, so no password hashing is involved).

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::Options;

/// The agent of conversation `index`.
pub fn agent_id(options: &Options, index: usize) -> String {
    format!("lg-{}-a{index}@load.test", options.run_id)
}

/// The visitor of conversation `index`.
pub fn visitor_id(options: &Options, index: usize) -> String {
    format!("lg-{}-v{index}@load.test", options.run_id)
}

/// Logs the administrator in and creates one auto-accepting agent per conversation (making
/// room for them under the tenant's staff limit when needed).
pub async fn create_agents(options: &Options) -> Result<(), String> {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", options.base))
        .header("X-Tenant-Domain", &options.tenant_domain)
        .json(&json!({ "email": options.admin_email, "password": options.admin_password }))
        .send()
        .await
        .map_err(|error| format!("login: {error}"))?
        .json()
        .await
        .map_err(|error| format!("login: {error}"))?;
    let token = login["access_token"]
        .as_str()
        .ok_or_else(|| format!("login refused: {login}"))?
        .to_owned();
    make_room(options, &http, &token).await?;
    let results: Vec<Result<(), String>> = futures_util::stream::iter(0..options.conversations)
        .map(|index| {
            let (http, token) = (http.clone(), token.clone());
            let id = agent_id(options, index);
            let url = format!("{}/api/v1/admin/users", options.base);
            async move {
                let body = json!({
                    "id": id, "name": format!("Load agent {index}"), "email": id,
                    "role": "agent", "departments": ["support"],
                    "max_concurrent_chats": 1, "auto_accept": true,
                });
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|error| format!("creating agent {index}: {error}"))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "creating agent {index}: {} {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    ))
                }
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Raises the tenant's staff limit when the run's agents would not fit under it: the
/// default (10,000) is just below what K=10,000 needs with the tenant's own staff.
async fn make_room(options: &Options, http: &reqwest::Client, token: &str) -> Result<(), String> {
    let get = |path: &str| {
        http.get(format!("{}/api/v1/admin/{path}", options.base))
            .bearer_auth(token)
            .send()
    };
    let users: Value = get("users")
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("listing users: {error}"))?
        .json()
        .await
        .map_err(|error| format!("listing users: {error}"))?;
    let mut settings: Value = get("settings")
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("reading the tenant settings: {error}"))?
        .json()
        .await
        .map_err(|error| format!("reading the tenant settings: {error}"))?;
    let staff = users["users"].as_array().map_or(0, Vec::len);
    let needed = (staff + options.conversations) as u64;
    let limit = settings["limits"]["max_agents"]
        .as_u64()
        .unwrap_or(u64::MAX);
    if limit >= needed {
        return Ok(());
    }
    eprintln!("raising the tenant's staff limit from {limit} to {needed}");
    settings["limits"]["max_agents"] = json!(needed);
    http.put(format!("{}/api/v1/admin/settings", options.base))
        .bearer_auth(token)
        .json(&settings)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("raising the staff limit: {error}"))?;
    Ok(())
}

/// A token signed with the tenant's ERP secret: a visitor, or an agent by single sign-on.
pub fn token(options: &Options, account: &str, role: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
        + 24 * 3_600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": account, "email": account, "name": account, "role": role, "exp": exp }),
        &jsonwebtoken::EncodingKey::from_secret(options.erp_secret.as_bytes()),
    )
    .expect("signing a token")
}

/// Reads conversation `index`'s chat over REST as its agent and returns how many messages
/// the server's read tables hold for it. The server answers a read only once its tables
/// hold every step committed before the read began, so when this returns, every delivered
/// message of the run is readable.
pub async fn read_back(options: &Options, index: usize, session_id: &str) -> Result<u64, String> {
    let agent_token = token(options, &agent_id(options, index), "agent");
    let page: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/agent/sessions/{session_id}/messages?limit=1",
            options.base
        ))
        .bearer_auth(agent_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("reading the chat back: {error}"))?
        .json()
        .await
        .map_err(|error| format!("reading the chat back: {error}"))?;
    page["total"]
        .as_u64()
        .ok_or_else(|| format!("reading the chat back: no total in {page}"))
}
