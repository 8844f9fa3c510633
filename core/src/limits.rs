//! Size limits on every piece of input.
//!
//! The engine enforces these itself, whatever body limit the transport has, so that no host
//! can forget them. Lengths are in bytes of UTF-8.

use serde::{Deserialize, Serialize};

use crate::error::CommandError;

/// Input size limits. The defaults suit a chat product; hosts may tighten or loosen them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Any id chosen by the host (tenant, agent, visitor, queue, department, bot, rule).
    pub max_id_bytes: usize,
    /// A chat or conversation message body.
    pub max_message_bytes: usize,
    /// An internal note.
    pub max_note_bytes: usize,
    /// Names, titles, e-mail addresses, colours and other short text.
    pub max_short_text_bytes: usize,
    /// URLs (page url, logo, attachment).
    pub max_url_bytes: usize,
    /// Reasons, welcome and queue messages, canned response bodies.
    pub max_long_text_bytes: usize,
    /// Entries in a list or map (tags, skills, custom fields, members, rule conditions).
    pub max_list_entries: usize,
    /// A serialized custom field or user-context value.
    pub max_field_value_bytes: usize,
    /// Routing rules per tenant.
    pub max_rules: usize,
    /// Client message ids remembered per session for idempotent retries.
    pub idempotency_window: usize,
    /// A ticket description or ticket message (e-mails run longer than chat lines).
    pub max_ticket_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_id_bytes: 128,
            max_message_bytes: 8 * 1024,
            max_note_bytes: 8 * 1024,
            max_short_text_bytes: 256,
            max_url_bytes: 2048,
            max_long_text_bytes: 4 * 1024,
            max_list_entries: 64,
            max_field_value_bytes: 1024,
            max_rules: 200,
            idempotency_window: 32,
            max_ticket_text_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// Checks a text against a byte limit.
    pub fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), CommandError> {
        if text.len() > max {
            return Err(CommandError::TooLong {
                field,
                len: text.len(),
                max,
            });
        }
        Ok(())
    }

    /// Checks a required, non-blank text against a byte limit.
    pub fn check_required(field: &'static str, text: &str, max: usize) -> Result<(), CommandError> {
        if text.trim().is_empty() {
            return Err(CommandError::invalid(field, "must not be empty"));
        }
        Self::check_len(field, text, max)
    }

    /// Checks a host-chosen id: non-empty, within the id limit, printable, no whitespace.
    pub fn check_id(&self, field: &'static str, id: &str) -> Result<(), CommandError> {
        if id.is_empty() {
            return Err(CommandError::invalid(field, "must not be empty"));
        }
        Self::check_len(field, id, self.max_id_bytes)?;
        if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(CommandError::invalid(
                field,
                "must not contain whitespace or control characters",
            ));
        }
        Ok(())
    }

    /// Checks the number of entries in a list or map.
    pub fn check_count(&self, field: &'static str, count: usize) -> Result<(), CommandError> {
        if count > self.max_list_entries {
            return Err(CommandError::LimitReached {
                limit: field,
                max: self.max_list_entries as u64,
            });
        }
        Ok(())
    }

    /// Checks an optional short text.
    pub fn check_short(&self, field: &'static str, text: Option<&str>) -> Result<(), CommandError> {
        text.map_or(Ok(()), |t| {
            Self::check_len(field, t, self.max_short_text_bytes)
        })
    }

    /// Checks an optional URL.
    pub fn check_url(&self, field: &'static str, text: Option<&str>) -> Result<(), CommandError> {
        text.map_or(Ok(()), |t| Self::check_len(field, t, self.max_url_bytes))
    }

    /// Checks an optional long text.
    pub fn check_long(&self, field: &'static str, text: Option<&str>) -> Result<(), CommandError> {
        text.map_or(Ok(()), |t| {
            Self::check_len(field, t, self.max_long_text_bytes)
        })
    }

    /// Checks a map of free-form JSON values: entry count, key length and serialized size.
    pub fn check_fields(
        &self,
        field: &'static str,
        fields: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Result<(), CommandError> {
        self.check_count(field, fields.len())?;
        for (key, value) in fields {
            self.check_id(field, key)?;
            let size = serde_json::to_string(value).map_or(usize::MAX, |s| s.len());
            if size > self.max_field_value_bytes {
                return Err(CommandError::TooLong {
                    field,
                    len: size,
                    max: self.max_field_value_bytes,
                });
            }
        }
        Ok(())
    }
}
