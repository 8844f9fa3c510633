//! Identifiers.
//!
//! Two families:
//! - *Named* ids are chosen by the host (a tenant slug, an agent's account, a queue name). They
//!   are shared, cheaply cloned strings.
//! - *Numbered* ids are minted by the engine from per-tenant counters, so the same inputs always
//!   give the same ids. On the wire they are strings with a prefix (`"ses_12"`), which keeps
//!   them readable and safe for JavaScript and Dart, whose integers lose precision past 2^53.
//!
//! Numbered ids are unique within one tenant, not across tenants: every lookup is scoped by the
//! actor's tenant, so another tenant's `ses_12` is simply not there.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! named_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Arc<str>);

        impl $name {
            /// The id as a string slice.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(Arc::from(value))
            }
        }

        impl From<Arc<str>> for $name {
            fn from(value: Arc<str>) -> Self {
                Self(value)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(Arc::from(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

named_id!(
    /// A tenant: one customer organisation, fully isolated from every other.
    TenantId
);
named_id!(
    /// A staff member (agent, supervisor, tenant admin or viewer) of one tenant.
    AgentId
);
named_id!(
    /// A visitor or end user, as the host identifies them (an ERP account, a widget visitor).
    VisitorId
);
named_id!(
    /// A department or team.
    DepartmentId
);
named_id!(
    /// A routing queue.
    QueueId
);
named_id!(
    /// A bot identity that answers sessions before handing them to people.
    BotId
);
named_id!(
    /// A routing rule.
    RuleId
);
named_id!(
    /// A business-hours calendar.
    CalendarId
);
named_id!(
    /// An SLA policy.
    SlaPolicyId
);
named_id!(
    /// A ticket template.
    TicketTemplateId
);

macro_rules! numbered_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The prefix this id carries on the wire.
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.strip_prefix($prefix)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .filter(|digits| {
                        !digits.is_empty()
                            && digits.len() <= 20
                            && digits.bytes().all(|b| b.is_ascii_digit())
                            && !(digits.len() > 1 && digits.starts_with('0'))
                    })
                    .and_then(|digits| digits.parse().ok())
                    .map($name)
                    .ok_or(InvalidId { expected_prefix: $prefix })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A string that does not have the shape of the numbered id it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: expected \"{expected_prefix}_<number>\"")]
pub struct InvalidId {
    /// The prefix the id should have carried.
    pub expected_prefix: &'static str,
}

numbered_id!(
    /// A chat session between a visitor and the tenant's staff (or bot).
    SessionId,
    "ses"
);
numbered_id!(
    /// A message in a session or an internal conversation.
    MessageId,
    "msg"
);
numbered_id!(
    /// A transfer of a session from one agent to another agent or department.
    TransferId,
    "trf"
);
numbered_id!(
    /// An internal agent-to-agent conversation (direct or group).
    ConversationId,
    "conv"
);
numbered_id!(
    /// An internal note on a session.
    NoteId,
    "note"
);
numbered_id!(
    /// A canned response.
    CannedResponseId,
    "canned"
);
numbered_id!(
    /// An effect the host must carry out and, where it asks for an answer, report back on.
    EffectId,
    "eff"
);
numbered_id!(
    /// A helpdesk ticket (its human-readable number, such as `ACME-00001`, is separate).
    TicketId,
    "tkt"
);
numbered_id!(
    /// A satisfaction survey sent to a visitor or requester.
    SurveyId,
    "srv"
);
