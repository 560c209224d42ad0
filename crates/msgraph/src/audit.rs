//! The directory audit log a collection reads (`/auditLogs/directoryAudits`) and the events it
//! keeps: those the catalog declares can move a fact (docs/connector.md, "Who changed it").

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use securescore_core::domain::{ChangeTarget, DirectoryChange};

/// The permission the audit log needs.
pub const AUDIT_PERMISSION: &str = "AuditLog.Read.All";
/// The endpoint's name on a collection's results.
pub const AUDIT_ENDPOINT: &str = "/auditLogs/directoryAudits";
/// How far back the first collection of a connection reads.
pub const FIRST_READ_DAYS: i64 = 7;

/// The request for the events logged at or after `since`, filtered by Graph.
pub fn audit_request(since: DateTime<Utc>) -> String {
    format!(
        "{AUDIT_ENDPOINT}?$filter=activityDateTime ge {}",
        since.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// One `directoryAudit`, the properties read.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAudit {
    /// Unique id of the activity.
    pub id: String,
    /// When it was performed (UTC).
    pub activity_date_time: DateTime<Utc>,
    /// The activity's name, e.g. `Update conditional access policy`.
    pub activity_display_name: String,
    /// The resource category, e.g. `Policy`, `RoleManagement`.
    pub category: String,
    /// success, failure, timeout.
    #[serde(default)]
    pub result: Option<String>,
    /// Who started it.
    #[serde(default)]
    pub initiated_by: Option<Initiator>,
    /// What it changed.
    #[serde(default)]
    pub target_resources: Option<Vec<TargetResource>>,
}

/// `auditActivityInitiator`: a user or an app.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Initiator {
    /// The user who started it.
    #[serde(default)]
    pub user: Option<Identity>,
    /// The app that started it.
    #[serde(default)]
    pub app: Option<Identity>,
}

/// The naming properties of `userIdentity` and `appIdentity`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The user's principal name.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `targetResource`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    /// The resource's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Its display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its type: User, Group, Policy, Role, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The properties changed.
    #[serde(default)]
    pub modified_properties: Option<Vec<ModifiedProperty>>,
}

/// `modifiedProperty`: only its name is kept.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    /// The property's name.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl DirectoryAudit {
    /// The event as kept and shown.
    fn into_change(self) -> DirectoryChange {
        let initiated_by = self.initiated_by.and_then(|by| {
            by.user
                .and_then(|u| u.user_principal_name.or(u.display_name))
                .or_else(|| by.app.and_then(|a| a.display_name))
        });
        DirectoryChange {
            id: self.id,
            at: self.activity_date_time,
            activity: self.activity_display_name,
            category: self.category,
            result: self.result,
            initiated_by,
            targets: self
                .target_resources
                .unwrap_or_default()
                .into_iter()
                .map(|t| ChangeTarget {
                    kind: t.kind.unwrap_or_default(),
                    id: t.id,
                    display_name: t.display_name,
                    modified_properties: t
                        .modified_properties
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.display_name)
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Which audit events a collection keeps: those the catalog says can move a fact (the server's
/// catalog index answers it; this crate does not read the catalog).
pub trait AuditSelection: Sync {
    /// Whether to keep `change`; `groups_read` are the groups the connector read the members of.
    fn keeps(&self, change: &DirectoryChange, groups_read: &HashSet<String>) -> bool;
}

/// The events `selection` keeps; `groups_read` are the groups the connector read the members
/// of.
pub fn kept_changes(
    events: Vec<DirectoryAudit>,
    groups_read: &HashSet<String>,
    selection: &impl AuditSelection,
) -> Vec<DirectoryChange> {
    events
        .into_iter()
        .map(DirectoryAudit::into_change)
        .filter(|change| selection.keeps(change, groups_read))
        .collect()
}
