//! The host's copy of a tenant's configuration.
//!
//! The engine applies settings, departments, queues, staff profiles, routing rules,
//! calendars and SLA policies but answers no query for them, so every administrative change
//! also writes what it set as a host value (namespace `config`) in the same transaction as
//! the engine command. The widget reads branding and the pre-chat form from here, and the
//! admin API lists what it configured. The pre-chat form is the host's own: only here.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use switchboard_core::protocol::model::TenantSettings;
use switchboard_store::{MAX_HOST_KEY_BYTES, MAX_HOST_VALUE_BYTES};
use utoipa::ToSchema;

use crate::directory::{Directory, namespace};
use crate::engine_loop::HostWrite;
use crate::error::ApiError;

/// Key of the tenant settings.
pub const SETTINGS: &str = "settings";
/// Key of the widget configuration (pre-chat form).
pub const WIDGET: &str = "widget";
/// Key of the routing rules.
pub const ROUTING_RULES: &str = "routing_rules";
/// Key of the SLA policies.
pub const SLA_POLICIES: &str = "sla_policies";
/// Key prefix of departments.
pub const DEPARTMENT: &str = "department/";
/// Key prefix of queues.
pub const QUEUE: &str = "queue/";
/// Key prefix of calendars.
pub const CALENDAR: &str = "calendar/";
/// Key prefix of staff profiles.
pub const AGENT: &str = "agent/";

/// Most custom fields in a pre-chat form.
pub const MAX_PRE_CHAT_FIELDS: usize = 20;
/// Most issue types offered.
pub const MAX_ISSUE_TYPES: usize = 50;
/// Most options of a select field.
pub const MAX_FIELD_OPTIONS: usize = 50;
/// Longest field key.
pub const MAX_FIELD_KEY_BYTES: usize = 64;
/// Longest label, option or issue type.
pub const MAX_LABEL_BYTES: usize = 200;

/// One value of the copy.
pub fn get<T: DeserializeOwned>(directory: &Directory, tenant_id: &str, key: &str) -> Option<T> {
    let text = directory.config_value(tenant_id, key)?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(key, error = %error, "a configuration copy does not parse");
            None
        }
    }
}

/// The values under a key prefix, by key.
pub fn list<T: DeserializeOwned>(directory: &Directory, tenant_id: &str, prefix: &str) -> Vec<T> {
    directory
        .config_values(tenant_id, prefix)
        .into_iter()
        .filter_map(|(_, text)| serde_json::from_str(&text).ok())
        .collect()
}

/// The tenant's settings as last committed, when the host knows them.
pub fn settings(directory: &Directory, tenant_id: &str) -> Option<TenantSettings> {
    get(directory, tenant_id, SETTINGS)
}

/// The widget configuration (the default when none was saved).
pub fn widget(directory: &Directory, tenant_id: &str) -> WidgetConfig {
    get(directory, tenant_id, WIDGET).unwrap_or_default()
}

/// A host write of one value, refused before anything is submitted when it is too large
/// to keep.
pub fn write<T: Serialize>(tenant_id: &str, key: &str, value: &T) -> Result<HostWrite, ApiError> {
    if key.len() > MAX_HOST_KEY_BYTES {
        return Err(ApiError::invalid("id", "too long"));
    }
    let text = serde_json::to_string(value).map_err(|_| ApiError::internal())?;
    if text.len() > MAX_HOST_VALUE_BYTES {
        return Err(ApiError::invalid(
            "body",
            format!("the configuration is larger than {MAX_HOST_VALUE_BYTES} bytes"),
        ));
    }
    Ok((
        tenant_id.to_owned(),
        namespace::CONFIG,
        key.to_owned(),
        Some(text),
    ))
}

/// A host write removing one value.
pub fn remove(tenant_id: &str, key: &str) -> HostWrite {
    (
        tenant_id.to_owned(),
        namespace::CONFIG,
        key.to_owned(),
        None,
    )
}

/// What the widget shows besides branding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetConfig {
    /// The form before a chat starts.
    pub pre_chat: PreChatForm,
}

/// The pre-chat form: name, e-mail, department, issue type and custom fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PreChatForm {
    /// Show the form at all.
    pub enabled: bool,
    /// A name is required.
    pub require_name: bool,
    /// An e-mail address is required.
    pub require_email: bool,
    /// Let the visitor choose a department (the tenant's departments are offered).
    pub ask_department: bool,
    /// Issue types offered; when set, a session's issue type must be one of them.
    pub issue_types: Vec<String>,
    /// Extra fields, kept on the session as custom fields.
    pub fields: Vec<PreChatField>,
}

impl Default for PreChatForm {
    fn default() -> Self {
        PreChatForm {
            enabled: true,
            require_name: false,
            require_email: false,
            ask_department: true,
            issue_types: Vec::new(),
            fields: Vec::new(),
        }
    }
}

/// An extra pre-chat field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreChatField {
    /// The key it is stored under (letters, digits, `_` and `-`).
    pub key: String,
    /// Shown to the visitor.
    pub label: String,
    /// Input kind.
    #[serde(default)]
    pub kind: FieldKind,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
    /// Choices of a `select` field.
    #[serde(default)]
    pub options: Vec<String>,
}

/// How a pre-chat field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    #[default]
    Text,
    /// Several lines.
    Textarea,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A number.
    Number,
    /// One of `options`.
    Select,
    /// Yes or no.
    Checkbox,
}

impl PreChatForm {
    /// Checks every size and shape of an administrator's form.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.issue_types.len() > MAX_ISSUE_TYPES {
            return Err(ApiError::invalid(
                "pre_chat.issue_types",
                format!("at most {MAX_ISSUE_TYPES}"),
            ));
        }
        for issue in &self.issue_types {
            check_label("pre_chat.issue_types", issue)?;
        }
        if self.fields.len() > MAX_PRE_CHAT_FIELDS {
            return Err(ApiError::invalid(
                "pre_chat.fields",
                format!("at most {MAX_PRE_CHAT_FIELDS}"),
            ));
        }
        let mut keys = std::collections::BTreeSet::new();
        for field in &self.fields {
            let key_ok = !field.key.is_empty()
                && field.key.len() <= MAX_FIELD_KEY_BYTES
                && field
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !key_ok {
                return Err(ApiError::invalid(
                    "pre_chat.fields.key",
                    format!("1 to {MAX_FIELD_KEY_BYTES} letters, digits, '_' or '-'"),
                ));
            }
            if !keys.insert(field.key.as_str()) {
                return Err(ApiError::invalid(
                    "pre_chat.fields.key",
                    format!("{:?} appears twice", field.key),
                ));
            }
            check_label("pre_chat.fields.label", &field.label)?;
            if field.options.len() > MAX_FIELD_OPTIONS {
                return Err(ApiError::invalid(
                    "pre_chat.fields.options",
                    format!("at most {MAX_FIELD_OPTIONS}"),
                ));
            }
            for option in &field.options {
                check_label("pre_chat.fields.options", option)?;
            }
            if field.kind == FieldKind::Select && field.options.is_empty() {
                return Err(ApiError::invalid(
                    "pre_chat.fields.options",
                    "a select field needs options",
                ));
            }
        }
        Ok(())
    }
}

fn check_label(field: &str, text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() || text.len() > MAX_LABEL_BYTES {
        return Err(ApiError::invalid(
            field,
            format!("1 to {MAX_LABEL_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_checked() {
        let mut form = PreChatForm::default();
        assert!(form.validate().is_ok());
        form.fields.push(PreChatField {
            key: "order id".into(),
            label: "Order".into(),
            kind: FieldKind::Text,
            required: true,
            options: Vec::new(),
        });
        assert!(form.validate().is_err(), "spaces in a key");
        form.fields[0].key = "order_id".into();
        assert!(form.validate().is_ok());
        form.fields[0].kind = FieldKind::Select;
        assert!(form.validate().is_err(), "a select without options");
    }

    #[test]
    fn the_copy_lists_by_prefix() {
        let directory = Directory::default();
        directory.apply(&[
            write("t", "department/a", &1).unwrap(),
            write("t", "department/b", &2).unwrap(),
            write("t", "queue/a", &3).unwrap(),
            write("u", "department/c", &4).unwrap(),
        ]);
        assert_eq!(list::<i32>(&directory, "t", DEPARTMENT), vec![1, 2]);
        directory.apply(&[remove("t", "department/a")]);
        assert_eq!(list::<i32>(&directory, "t", DEPARTMENT), vec![2]);
        assert_eq!(get::<i32>(&directory, "t", "queue/a"), Some(3));
    }
}
