//! Privileged Identity Management and access reviews as Graph returns them: active
//! assignments, role management policies and their rules, access review definitions.

use serde::Deserialize;
use serde_json::Value;

use super::{null_as_empty, null_as_empty_list};

/// One `unifiedRoleAssignmentScheduleInstance`: an active role assignment, made through PIM
/// or directly.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveAssignment {
    /// Who holds the role.
    pub principal_id: String,
    /// The role's template id.
    pub role_definition_id: String,
    /// `/` for the whole directory.
    #[serde(default)]
    pub directory_scope_id: Option<String>,
    /// `Assigned` (standing) or `Activated` (an eligible assignment switched on).
    #[serde(default)]
    pub assignment_type: Option<String>,
    /// When the assignment started; none for one made outside PIM.
    #[serde(default)]
    pub start_date_time: Option<String>,
    /// When it ends; none for a permanent one.
    #[serde(default)]
    pub end_date_time: Option<String>,
}

/// One `unifiedRoleManagementPolicyAssignment`: a role's PIM policy with its rules.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePolicyAssignment {
    /// The role's template id.
    pub role_definition_id: String,
    /// The policy; absent when not expanded.
    #[serde(default)]
    pub policy: Option<RolePolicy>,
}

/// A `unifiedRoleManagementPolicy`: its rules.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RolePolicy {
    /// The rules, each told apart by its `id` (`Approval_EndUser_Assignment`, …).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub rules: Vec<RolePolicyRule>,
}

/// One rule of a role's policy: the parts the facts read of the approval and notification
/// rules.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePolicyRule {
    /// `Approval_EndUser_Assignment`, `Notification_Admin_EndUser_Assignment`, …
    #[serde(default)]
    pub id: String,
    /// An approval rule's setting.
    #[serde(default)]
    pub setting: Option<ApprovalSetting>,
    /// A notification rule's extra recipients.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub notification_recipients: Vec<String>,
}

/// `approvalSettings`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSetting {
    /// Whether activation needs an approval.
    #[serde(default)]
    pub is_approval_required: Option<bool>,
    /// The approval stages, with their approvers.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub approval_stages: Vec<ApprovalStage>,
}

/// `approvalStage`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStage {
    /// Who approves.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub primary_approvers: Vec<Value>,
}

impl RolePolicy {
    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&RolePolicyRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// One `accessReviewScheduleDefinition`, the parts the facts read.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReviewDefinition {
    /// `NotStarted`, `InProgress`, `Completed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// What is reviewed: a query scope, or principals and resources.
    #[serde(default)]
    pub scope: Option<Value>,
    /// Its settings, with the recurrence.
    #[serde(default)]
    pub settings: Option<Value>,
}

impl AccessReviewDefinition {
    /// Every `query` its scope names (nested scopes included).
    pub fn scope_queries(&self) -> Vec<&str> {
        fn walk<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    for (key, inner) in map {
                        match (key.as_str(), inner) {
                            ("query", Value::String(query)) => found.push(query),
                            _ => walk(inner, found),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        if let Some(scope) = &self.scope {
            walk(scope, &mut found);
        }
        found
    }

    /// Whether the review is still running and recurs at least monthly (every 31 days or
    /// fewer, every 4 weeks or fewer, or every month).
    pub fn recurs_monthly(&self) -> bool {
        if self.status.as_deref() == Some("Completed") {
            return false;
        }
        let Some(pattern) = self
            .settings
            .as_ref()
            .and_then(|s| s.pointer("/recurrence/pattern"))
        else {
            return false;
        };
        let interval = pattern.get("interval").and_then(Value::as_i64).unwrap_or(0);
        match pattern.get("type").and_then(Value::as_str) {
            Some("daily") => (1..=31).contains(&interval),
            Some("weekly") => (1..=4).contains(&interval),
            Some("absoluteMonthly" | "relativeMonthly") => interval == 1,
            _ => false,
        }
    }
}
