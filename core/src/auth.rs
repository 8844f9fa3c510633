//! Who is acting, and what each role may do.
//!
//! The host authenticates (password, JWT, widget key) and vouches for the [`Actor`]: its
//! tenant, its id and its role. The engine authorises: every command checks the role here and
//! the actor's relation to the object (the assigned agent, the session's own visitor). Every
//! lookup is scoped by the actor's tenant, so another tenant's objects are "not found".

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::CommandError;
use crate::ids::TenantId;

/// The roles an actor can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: may create tenants and act in any tenant.
    Superadmin,
    /// Administers one tenant: settings, staff, routing, force logout.
    TenantAdmin,
    /// Watches and steers a tenant's chats: assigns, transfers and closes any session.
    Supervisor,
    /// Handles chats assigned to them.
    Agent,
    /// Reads queue status and dashboards; sees no conversation content.
    Viewer,
    /// A website visitor or ERP end user; sees only their own sessions.
    Visitor,
    /// The host's bot, answering sessions it was given until it hands them off.
    Bot,
    /// The host itself, reporting connection loss and answers to effects.
    System,
}

impl Role {
    /// Tenant administration: settings, staff, queues, routing rules.
    #[must_use]
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Superadmin | Role::TenantAdmin)
    }

    /// Supervision: act on any session of the tenant and on other agents' presence.
    #[must_use]
    pub fn can_supervise(self) -> bool {
        matches!(
            self,
            Role::Superadmin | Role::TenantAdmin | Role::Supervisor
        )
    }

    /// Handling chats: taking offers, writing to visitors, notes, tags, transfers.
    #[must_use]
    pub fn can_handle_chats(self) -> bool {
        matches!(
            self,
            Role::Superadmin | Role::TenantAdmin | Role::Supervisor | Role::Agent
        )
    }

    /// Staff of the tenant, viewers included: queue status, internal conversations.
    #[must_use]
    pub fn is_staff(self) -> bool {
        self.can_handle_chats() || self == Role::Viewer
    }

    /// The role's wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Superadmin => "superadmin",
            Role::TenantAdmin => "tenant_admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
            Role::Visitor => "visitor",
            Role::Bot => "bot",
            Role::System => "system",
        }
    }
}

/// An authenticated identity acting in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The tenant the command acts in.
    pub tenant_id: TenantId,
    /// The actor's id: an agent id, a visitor id, a bot id, or the host's own name.
    pub id: Arc<str>,
    /// The role the host vouches for.
    pub role: Role,
}

impl Actor {
    /// Builds an actor.
    #[must_use]
    pub fn new(tenant_id: &str, id: &str, role: Role) -> Self {
        Actor {
            tenant_id: TenantId::from(tenant_id),
            id: Arc::from(id),
            role,
        }
    }

    /// Refuses unless `allowed` holds for this actor's role.
    pub(crate) fn require(&self, allowed: bool, reason: &'static str) -> Result<(), CommandError> {
        if allowed {
            Ok(())
        } else {
            Err(CommandError::Forbidden { reason })
        }
    }
}
