//! The demo's directory audit events: where a demo tenant's configuration moved from one
//! snapshot to the next, one event of the kind the catalog declares can move that fact, by one
//! of the tenant's demo admins, so "who changed it" has something to show.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{ChangeTarget, DirectoryChange};
use crate::service::catalog::AuditIndex;

/// Who the demo's events name, in turn.
const DEMO_ADMINS: &[&str] = &["adele.vance", "megan.bowen", "lee.gu"];

/// The events between two of a tenant's snapshots: one per kind of change (the first group the
/// catalog declares for a fact that changed; one policy edit moves many coverage facts),
/// logged halfway between the two captures.
pub fn demo_changes(
    tenant_id: &str,
    before: (&Value, DateTime<Utc>),
    after: (&Value, DateTime<Utc>),
) -> Vec<DirectoryChange> {
    let index = AuditIndex::shipped();
    let at = before.1 + (after.1 - before.1) / 2;
    let mut changed = Vec::new();
    flatten("", after.0, &mut changed);
    let groups: std::collections::BTreeMap<&str, (&str, &str)> = changed
        .into_iter()
        .filter(|(path, value)| lookup(before.0, path) != Some(value))
        .filter_map(|(path, _)| {
            let (group, category, activity) = index.first_activity_changing(&path)?;
            Some((group, (category, activity)))
        })
        .collect();
    groups
        .into_iter()
        .map(|(group, (category, activity))| {
            let (kind, name) = target_of(group, tenant_id);
            let admin = DEMO_ADMINS[(group.len() + at.timestamp() as usize) % DEMO_ADMINS.len()];
            DirectoryChange {
                id: format!("demo-{tenant_id}-{}-{group}", at.timestamp()),
                at,
                activity: activity.to_owned(),
                category: category.to_owned(),
                result: Some("success".into()),
                initiated_by: Some(format!("{admin}@{tenant_id}.example")),
                targets: vec![ChangeTarget {
                    kind: kind.to_owned(),
                    id: None,
                    display_name: Some(name),
                    modified_properties: Vec::new(),
                }],
            }
        })
        .collect()
}

/// What a group's events change, as the demo names it.
fn target_of(group: &str, tenant_id: &str) -> (&'static str, String) {
    match group {
        "conditionalAccess" => ("Policy", "Baseline: require MFA".into()),
        "authenticationStrengths" => ("Policy", "Phishing-resistant MFA".into()),
        "roleAssignments" | "roleSettings" => ("Role", "Global Administrator".into()),
        "policyGroupMembership" => ("Group", "CA-Pilot".into()),
        "userLifecycle" | "userLicences" | "securityInfo" => {
            ("User", format!("new.hire@{tenant_id}.example"))
        }
        "domains" => ("Domain", format!("{tenant_id}.example")),
        "directorySettings" => ("Directory", "Password Rule Settings".into()),
        "accessReviews" => ("AccessReview", "Quarterly guest review".into()),
        "authorizationPolicy" => ("Policy", "Authorization Policy".into()),
        "deviceRegistrationPolicy" => ("Policy", "Device Registration Policy".into()),
        "crossTenantAccess" => ("Policy", "Cross-tenant access default".into()),
        "authenticationMethodsPolicy" => ("Policy", "Authentication Methods Policy".into()),
        _ => ("Policy", group.to_owned()),
    }
}

/// Every leaf of `facts` with its dotted path.
fn flatten(prefix: &str, facts: &Value, into: &mut Vec<(String, Value)>) {
    match facts {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, into);
            }
        }
        leaf => into.push((prefix.to_owned(), leaf.clone())),
    }
}

/// The value at a dotted path.
pub(super) fn lookup<'a>(facts: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(facts, |node, key| node.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_that_moved_get_one_event_per_kind_of_change_that_moves_them() {
        let start = Utc::now() - chrono::Duration::days(1);
        let end = Utc::now();
        let before = json!({"users": {"total": 10, "mfaRequired": 8, "legacyAuthBlocked": 9},
                            "reviews": {"signInWeekly": true}});
        let after = json!({"users": {"total": 10, "mfaRequired": 6, "legacyAuthBlocked": 7},
                           "reviews": {"signInWeekly": false}});
        let events = demo_changes("contoso", (&before, start), (&after, end));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].activity, "Update Conditional Access policy");
        assert!(events[0].at > start && events[0].at < end);
        assert!(AuditIndex::shipped().moves(["users.mfaRequired"], &events[0]));
        assert!(AuditIndex::shipped().moves(["users.legacyAuthBlocked"], &events[0]));
    }
}
