//! `DirectoryChange` and `DirectoryChangeTarget`: who changed what in the directory, and when.

use async_graphql::{ID, Object};

use super::connection::connection_types;
use crate::domain;
use crate::graphql::scalars::DateTime;

connection_types!(
    DirectoryChangeConnection,
    DirectoryChangeEdge,
    DirectoryChange,
    "directory changes"
);

/// One event of the directory's audit log that can move a catalog action.
pub struct DirectoryChange(pub domain::DirectoryChange);

/// One event of the directory's audit log (`directoryAudit`) a collection kept because it can
/// move a catalog action: who did what to which object, and when.
#[Object]
impl DirectoryChange {
    /// The event's id in the audit log.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// When it happened (`activityDateTime`).
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }

    /// The activity, as the audit log names it (`activityDisplayName`).
    async fn activity(&self) -> &str {
        &self.0.activity
    }

    /// The audit category, e.g. `Policy`, `RoleManagement`.
    async fn category(&self) -> &str {
        &self.0.category
    }

    /// `success`, `failure` or `timeout`.
    async fn result(&self) -> Option<&str> {
        self.0.result.as_deref()
    }

    /// The user's principal name or the app's display name.
    async fn initiated_by(&self) -> Option<&str> {
        self.0.initiated_by.as_deref()
    }

    /// The objects it changed.
    async fn targets(&self) -> Vec<DirectoryChangeTarget> {
        self.0
            .targets
            .iter()
            .cloned()
            .map(DirectoryChangeTarget)
            .collect()
    }
}

/// One object an audit event changed.
pub struct DirectoryChangeTarget(pub domain::ChangeTarget);

/// One object an audit event changed (`targetResource`).
#[Object]
impl DirectoryChangeTarget {
    /// Its type: `Policy`, `User`, `Group`, `Role`, …
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Its id.
    async fn id(&self) -> Option<&str> {
        self.0.id.as_deref()
    }

    /// Its display name.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }

    /// The names of the properties the event changed.
    async fn modified_properties(&self) -> &[String] {
        &self.0.modified_properties
    }
}

impl From<domain::DirectoryChange> for DirectoryChange {
    fn from(change: domain::DirectoryChange) -> Self {
        DirectoryChange(change)
    }
}
