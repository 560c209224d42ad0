//! Facts about Privileged Identity Management and access reviews: standing and unmanaged
//! privileged assignments, what activating a role requires and who hears of it, and whether
//! guests and Global Administrators are reviewed. Each fact is written only when its source
//! was read.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use securescore_core::scoring::facts::set_path as set;

use super::coverage::is_privileged;
use super::directory::{Directory, RolePolicy};
use super::facts::GLOBAL_ADMINISTRATOR;

/// The Privileged Role Administrator role's template id.
const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
/// The rule that says whether activating a role needs an approval.
const ACTIVATION_APPROVAL: &str = "Approval_EndUser_Assignment";
/// The rule that notifies admins when someone activates the role.
const ACTIVATION_ALERT: &str = "Notification_Admin_EndUser_Assignment";
/// The rules that notify admins when someone is made eligible for, or assigned, the role.
const ASSIGNMENT_ALERTS: [&str; 2] = [
    "Notification_Admin_Admin_Eligibility",
    "Notification_Admin_Admin_Assignment",
];
/// What a guest review's scope query filters on.
const GUEST_FILTER: &str = "userType eq 'Guest'";

/// Adds the PIM and access review facts that what was read allows.
pub fn add_governance_facts(facts: &mut Map<String, Value>, directory: &Directory) {
    if let Some(active) = &directory.active_assignments {
        let privileged = active.iter().filter(|a| {
            a.directory_scope_id.as_deref().unwrap_or("/") == "/"
                && is_privileged(&a.role_definition_id)
                && !directory.emergency_accounts.contains(&a.principal_id)
        });
        let (mut permanent, mut outside_pim) = (0, 0);
        for assignment in privileged {
            if assignment.assignment_type.as_deref() == Some("Assigned")
                && assignment.end_date_time.is_none()
            {
                permanent += 1;
            }
            if assignment.start_date_time.is_none() {
                outside_pim += 1;
            }
        }
        set(
            facts,
            "pim.permanentPrivilegedAssignments",
            json!(permanent),
        );
        set(facts, "pim.assignmentsOutsidePim", json!(outside_pim));
    }
    if let Some(assignments) = &directory.role_policies {
        let policy_of = |role: &str| -> Option<&RolePolicy> {
            assignments
                .iter()
                .find(|a| a.role_definition_id == role)
                .and_then(|a| a.policy.as_ref())
        };
        for (path, role) in [
            ("pim.globalAdminApprovalRequired", GLOBAL_ADMINISTRATOR),
            (
                "pim.privilegedRoleAdminApprovalRequired",
                PRIVILEGED_ROLE_ADMINISTRATOR,
            ),
        ] {
            if let Some(policy) = policy_of(role) {
                set(facts, path, json!(requires_approval(policy)));
            }
        }
        if let Some(policy) = policy_of(GLOBAL_ADMINISTRATOR) {
            set(
                facts,
                "pim.globalAdminActivationAlerted",
                json!(alerts(policy, &[ACTIVATION_ALERT])),
            );
        }
        let mut roles = HashSet::new();
        let (mut assignment_alerted, mut activation_alerted) = (0, 0);
        for assignment in assignments {
            let role = assignment.role_definition_id.as_str();
            let Some(policy) = &assignment.policy else {
                continue;
            };
            if !is_privileged(role) || !roles.insert(role) {
                continue;
            }
            assignment_alerted += i64::from(alerts(policy, &ASSIGNMENT_ALERTS));
            activation_alerted += i64::from(alerts(policy, &[ACTIVATION_ALERT]));
        }
        set(facts, "pim.privilegedRoles", json!(roles.len()));
        set(
            facts,
            "pim.privilegedRolesAlertingOnAssignment",
            json!(assignment_alerted),
        );
        set(
            facts,
            "pim.privilegedRolesAlertingOnActivation",
            json!(activation_alerted),
        );
    }
    if let Some(reviews) = &directory.access_reviews {
        let running: Vec<_> = reviews.iter().filter(|r| r.recurs_monthly()).collect();
        let guests = running
            .iter()
            .any(|r| r.scope_queries().iter().any(|q| q.contains(GUEST_FILTER)));
        let global_admin_scope =
            format!("/roleManagement/directory/roleDefinitions/{GLOBAL_ADMINISTRATOR}");
        let global_admins = running.iter().any(|r| {
            r.scope_queries()
                .iter()
                .any(|q| q.contains(&global_admin_scope))
        });
        set(facts, "accessReviews.guests", json!(guests));
        set(facts, "accessReviews.globalAdmins", json!(global_admins));
    }
}

/// Whether activating the role needs an approval from someone named.
fn requires_approval(policy: &RolePolicy) -> bool {
    policy
        .rule(ACTIVATION_APPROVAL)
        .and_then(|r| r.setting.as_ref())
        .is_some_and(|s| {
            s.is_approval_required == Some(true)
                && s.approval_stages
                    .iter()
                    .any(|stage| !stage.primary_approvers.is_empty())
        })
}

/// Whether every one of `rules` sends its notification to someone named (beyond the default
/// recipients, who are the role's own admins).
fn alerts(policy: &RolePolicy, rules: &[&str]) -> bool {
    rules.iter().all(|id| {
        policy
            .rule(id)
            .is_some_and(|r| !r.notification_recipients.is_empty())
    })
}
