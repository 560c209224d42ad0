//! `ActionOverride`.

use async_graphql::{Context, ID, Object};
use entity::action_override;

use super::action::ImprovementAction;
use super::connection::connection_types;
use crate::domain::ActionState;
use crate::graphql::loaders::load_action;
use crate::graphql::scalars::DateTime;

connection_types!(
    ActionOverrideConnection,
    ActionOverrideEdge,
    ActionOverride,
    "override changes"
);

/// A tenant's state on one action, as set by an admin.
pub struct ActionOverride(
    pub action_override::Model,
    pub Option<chrono::DateTime<chrono::Utc>>,
);

impl From<action_override::Model> for ActionOverride {
    fn from(row: action_override::Model) -> Self {
        ActionOverride(row, None)
    }
}

impl ActionOverride {
    /// A history entry that a later entry replaced at `replaced_at`.
    pub fn replaced(
        row: action_override::Model,
        replaced_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        ActionOverride(row, replaced_at)
    }
}

/// A tenant's state on one action, as set by an admin.
#[Object]
impl ActionOverride {
    /// Tenant.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// The action.
    async fn action(&self, ctx: &Context<'_>) -> async_graphql::Result<ImprovementAction> {
        Ok(load_action(ctx, &self.0.action_id).await?.into())
    }

    /// The state set.
    async fn state(&self) -> ActionState {
        self.0.state
    }

    /// When the state stops (or stopped) being in force on its own; DEFAULT applies after it.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(DateTime)
    }

    /// When the state stopped (or will stop) being in force: its expiry or the next change of
    /// the same action, whichever comes first; null while it lasts.
    async fn ended_at(&self) -> Option<DateTime> {
        let ends = [self.0.expires_at, self.1];
        ends.into_iter().flatten().min().map(DateTime)
    }

    /// Why it was set.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// The token subject that set it.
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }

    /// When it was set.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}
