//! The host's own data, beside the engine: tenant domains and token settings, staff
//! credentials, widget keys, push tokens and webhooks. Kept in memory for the hot paths
//! (every request authenticates) and persisted as host values in the engine's store, in the
//! same transaction as the engine command they go with.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use switchboard_core::protocol::model::StaffRole;

use crate::engine_loop::HostWrite;

/// Namespaces of host values.
pub mod namespace {
    /// A tenant's domains and token settings (key `settings`).
    pub const TENANT: &str = "tenant";
    /// A staff member's login (key: agent id).
    pub const CREDENTIAL: &str = "credential";
    /// A widget key (key: the key).
    pub const WIDGET_KEY: &str = "widget_key";
    /// An agent's push registration token (key: agent id).
    pub const PUSH_TOKEN: &str = "push_token";
    /// A webhook subscription (key: webhook id).
    pub const WEBHOOK: &str = "webhook";
    /// Server-wide values (tenant `""`), such as the token signing key.
    pub const SERVER: &str = "server";
    /// A copy of the tenant's configuration as last committed (key: what it is, such as
    /// `settings` or `department/<id>`), because the engine answers no query for it.
    pub const CONFIG: &str = "config";
}

/// How a tenant's ERP signs its users' tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpTokens {
    /// HS256 secret.
    pub secret: String,
    /// Required `aud`, when set.
    #[serde(default)]
    pub audience: Option<String>,
    /// Required `iss`, when set.
    #[serde(default)]
    pub issuer: Option<String>,
}

/// A tenant as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    /// Domains that select this tenant (X-Tenant-Domain, Host, Origin), lower case.
    pub domains: Vec<String>,
    /// ERP token settings.
    pub erp: ErpTokens,
    /// Staff tokens issued before this time (ms) are refused: a forced logout.
    #[serde(default)]
    pub token_epoch: i64,
}

/// A staff member's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Login e-mail, lower case.
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Display name (mirrors the engine's profile).
    pub name: String,
    /// Role (mirrors the engine's profile).
    pub role: StaffRole,
    /// This member's staff tokens issued before this time (ms) are refused: a new
    /// password ends every session that logged in with the old one.
    #[serde(default)]
    pub sessions_from: i64,
}

/// A widget key: public, but only honoured from the listed origins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetKey {
    /// Label for administrators.
    #[serde(default)]
    pub label: String,
    /// Origins (`https://shop.example.com`) the widget may run on; empty: any.
    pub allowed_origins: Vec<String>,
    /// Revoked keys are refused.
    #[serde(default)]
    pub revoked: bool,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Where to POST.
    pub url: String,
    /// HMAC-SHA256 secret for the `X-Switchboard-Signature` header.
    pub secret: String,
    /// Event types delivered (empty: all).
    #[serde(default)]
    pub events: Vec<String>,
    /// Paused webhooks receive nothing.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

#[derive(Default)]
struct Data {
    tenants: HashMap<String, TenantRecord>,
    by_domain: HashMap<String, String>,
    credentials: HashMap<(String, String), Credential>,
    by_email: HashMap<String, Vec<(String, String)>>,
    widget_keys: HashMap<String, (String, WidgetKey)>,
    push_tokens: HashMap<(String, String), String>,
    webhooks: HashMap<String, Vec<(String, Webhook)>>,
    server: HashMap<String, String>,
    configs: HashMap<String, BTreeMap<String, String>>,
}

/// The in-memory directory.
#[derive(Default)]
pub struct Directory {
    data: RwLock<Data>,
}

/// A login match.
#[derive(Debug, Clone)]
pub struct Login {
    /// The tenant.
    pub tenant_id: String,
    /// The agent.
    pub agent_id: String,
    /// The credential.
    pub credential: Credential,
}

impl Directory {
    /// Applies committed host values (at start-up, and after each commit that wrote some).
    /// Values that do not parse are skipped with a warning.
    pub fn apply(&self, writes: &[HostWrite]) {
        let mut data = self.data.write().expect("directory lock");
        for (tenant, namespace, key, value) in writes {
            data.apply(tenant, namespace, key, value.as_deref());
        }
    }

    /// The tenant a domain selects.
    pub fn tenant_by_domain(&self, domain: &str) -> Option<String> {
        let data = self.data.read().expect("directory lock");
        data.by_domain.get(&domain.to_ascii_lowercase()).cloned()
    }

    /// A tenant's record.
    pub fn tenant(&self, tenant_id: &str) -> Option<TenantRecord> {
        self.data
            .read()
            .expect("directory lock")
            .tenants
            .get(tenant_id)
            .cloned()
    }

    /// Every tenant id.
    pub fn tenant_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .data
            .read()
            .expect("directory lock")
            .tenants
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// A tenant's primary (first) domain.
    pub fn primary_domain(&self, tenant_id: &str) -> String {
        self.tenant(tenant_id)
            .and_then(|tenant| tenant.domains.first().cloned())
            .unwrap_or_else(|| tenant_id.to_owned())
    }

    /// Staff logins with this e-mail, optionally within one tenant.
    pub fn logins(&self, email: &str, tenant_id: Option<&str>) -> Vec<Login> {
        let data = self.data.read().expect("directory lock");
        data.by_email
            .get(&email.trim().to_ascii_lowercase())
            .into_iter()
            .flatten()
            .filter(|(tenant, _)| tenant_id.is_none_or(|wanted| wanted == tenant))
            .filter_map(|(tenant, agent)| {
                data.credentials
                    .get(&(tenant.clone(), agent.clone()))
                    .map(|credential| Login {
                        tenant_id: tenant.clone(),
                        agent_id: agent.clone(),
                        credential: credential.clone(),
                    })
            })
            .collect()
    }

    /// A staff member's credential.
    pub fn credential(&self, tenant_id: &str, agent_id: &str) -> Option<Credential> {
        self.data
            .read()
            .expect("directory lock")
            .credentials
            .get(&(tenant_id.to_owned(), agent_id.to_owned()))
            .cloned()
    }

    /// A tenant's staff credentials, by agent id.
    pub fn credentials(&self, tenant_id: &str) -> Vec<(String, Credential)> {
        let data = self.data.read().expect("directory lock");
        let mut list: Vec<(String, Credential)> = data
            .credentials
            .iter()
            .filter(|((tenant, _), _)| tenant == tenant_id)
            .map(|((_, agent), credential)| (agent.clone(), credential.clone()))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    /// A widget key with its tenant.
    pub fn widget_key(&self, key: &str) -> Option<(String, WidgetKey)> {
        self.data
            .read()
            .expect("directory lock")
            .widget_keys
            .get(key)
            .cloned()
    }

    /// A tenant's widget keys.
    pub fn widget_keys(&self, tenant_id: &str) -> Vec<(String, WidgetKey)> {
        let data = self.data.read().expect("directory lock");
        let mut keys: Vec<(String, WidgetKey)> = data
            .widget_keys
            .iter()
            .filter(|(_, (tenant, _))| tenant == tenant_id)
            .map(|(key, (_, widget_key))| (key.clone(), widget_key.clone()))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys
    }

    /// An agent's push token.
    pub fn push_token(&self, tenant_id: &str, agent_id: &str) -> Option<String> {
        self.data
            .read()
            .expect("directory lock")
            .push_tokens
            .get(&(tenant_id.to_owned(), agent_id.to_owned()))
            .cloned()
    }

    /// A tenant's webhooks, by id.
    pub fn webhooks(&self, tenant_id: &str) -> Vec<(String, Webhook)> {
        self.data
            .read()
            .expect("directory lock")
            .webhooks
            .get(tenant_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether any tenant has a webhook (lets the hot path skip the work).
    pub fn has_webhooks(&self) -> bool {
        !self
            .data
            .read()
            .expect("directory lock")
            .webhooks
            .is_empty()
    }

    /// A server-wide value.
    pub fn server_value(&self, key: &str) -> Option<String> {
        self.data
            .read()
            .expect("directory lock")
            .server
            .get(key)
            .cloned()
    }

    /// One value of a tenant's configuration copy (JSON).
    pub fn config_value(&self, tenant_id: &str, key: &str) -> Option<String> {
        self.data
            .read()
            .expect("directory lock")
            .configs
            .get(tenant_id)
            .and_then(|values| values.get(key))
            .cloned()
    }

    /// The values of a tenant's configuration copy whose key starts with `prefix`, by key.
    pub fn config_values(&self, tenant_id: &str, prefix: &str) -> Vec<(String, String)> {
        let data = self.data.read().expect("directory lock");
        data.configs
            .get(tenant_id)
            .into_iter()
            .flat_map(|values| values.range(prefix.to_owned()..))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

impl Data {
    fn apply(&mut self, tenant: &str, namespace: &str, key: &str, value: Option<&str>) {
        let result = match namespace {
            namespace::TENANT => self.apply_tenant(tenant, value),
            namespace::CREDENTIAL => self.apply_credential(tenant, key, value),
            namespace::WIDGET_KEY => parse(value).map(|parsed| match parsed {
                Some(widget_key) => {
                    self.widget_keys
                        .insert(key.to_owned(), (tenant.to_owned(), widget_key));
                }
                None => {
                    self.widget_keys.remove(key);
                }
            }),
            namespace::PUSH_TOKEN => {
                let slot = (tenant.to_owned(), key.to_owned());
                match value {
                    Some(token) => self.push_tokens.insert(slot, token.to_owned()),
                    None => self.push_tokens.remove(&slot),
                };
                Ok(())
            }
            namespace::WEBHOOK => parse::<Webhook>(value).map(|parsed| {
                let list = self.webhooks.entry(tenant.to_owned()).or_default();
                list.retain(|(id, _)| id != key);
                if let Some(webhook) = parsed {
                    list.push((key.to_owned(), webhook));
                    list.sort_by(|a, b| a.0.cmp(&b.0));
                }
                if list.is_empty() {
                    self.webhooks.remove(tenant);
                }
            }),
            namespace::SERVER => {
                match value {
                    Some(text) => self.server.insert(key.to_owned(), text.to_owned()),
                    None => self.server.remove(key),
                };
                Ok(())
            }
            namespace::CONFIG => {
                let values = self.configs.entry(tenant.to_owned()).or_default();
                match value {
                    Some(text) => values.insert(key.to_owned(), text.to_owned()),
                    None => values.remove(key),
                };
                if values.is_empty() {
                    self.configs.remove(tenant);
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(namespace, error = %error, "skipping a host value that does not parse");
        }
    }

    fn apply_tenant(&mut self, tenant: &str, value: Option<&str>) -> serde_json::Result<()> {
        let parsed = parse::<TenantRecord>(value)?;
        self.by_domain.retain(|_, owner| owner != tenant);
        match parsed {
            Some(record) => {
                for domain in &record.domains {
                    self.by_domain
                        .insert(domain.to_ascii_lowercase(), tenant.to_owned());
                }
                self.tenants.insert(tenant.to_owned(), record);
            }
            None => {
                self.tenants.remove(tenant);
            }
        }
        Ok(())
    }

    fn apply_credential(
        &mut self,
        tenant: &str,
        agent: &str,
        value: Option<&str>,
    ) -> serde_json::Result<()> {
        let parsed = parse::<Credential>(value)?;
        let slot = (tenant.to_owned(), agent.to_owned());
        if let Some(old) = self.credentials.remove(&slot)
            && let Some(list) = self.by_email.get_mut(&old.email)
        {
            list.retain(|entry| entry != &slot);
            if list.is_empty() {
                self.by_email.remove(&old.email);
            }
        }
        if let Some(credential) = parsed {
            self.by_email
                .entry(credential.email.clone())
                .or_default()
                .push(slot.clone());
            self.credentials.insert(slot, credential);
        }
        Ok(())
    }
}

fn parse<T: for<'de> Deserialize<'de>>(value: Option<&str>) -> serde_json::Result<Option<T>> {
    value.map(serde_json::from_str).transpose()
}

/// A host write of a JSON value.
pub fn write<T: Serialize>(
    tenant: &str,
    namespace: &'static str,
    key: &str,
    value: &T,
) -> HostWrite {
    (
        tenant.to_owned(),
        namespace,
        key.to_owned(),
        Some(serde_json::to_string(value).expect("host values serialize")),
    )
}

/// A host write that removes a key.
pub fn remove(tenant: &str, namespace: &'static str, key: &str) -> HostWrite {
    (tenant.to_owned(), namespace, key.to_owned(), None)
}
