//! The built-in catalog's facts, computed from a collected directory exactly as
//! docs/connector.md (and DESIGN.md) says. Every fact is computed from what was read or left
//! out: a membership or a role that could not be read makes the facts that depend on it
//! unknown, and an unknown fact is not written.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::directory::{ConditionalAccessPolicy, Directory, DirectoryUser, PrincipalKind};

/// The Global Administrator role's template id.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// The permission grant policy that lets users consent to any app.
const LEGACY_USER_CONSENT: &str = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy";
/// `passwordValidityPeriodInDays` meaning "never expires".
const NEVER_EXPIRES: i64 = 2_147_483_647;

/// The privileged-roles data file.
#[derive(Deserialize)]
struct PrivilegedRoles {
    roles: Vec<PrivilegedRole>,
}

/// One privileged role.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrivilegedRole {
    template_id: String,
}

/// Template ids of the roles whose holders are admins (`src/graph/privileged_roles.json`).
static PRIVILEGED: LazyLock<HashSet<String>> = LazyLock::new(|| {
    serde_json::from_str::<PrivilegedRoles>(include_str!("privileged_roles.json"))
        .map(|file| file.roles.into_iter().map(|r| r.template_id).collect())
        .unwrap_or_default()
});

/// True when holders of this role are admins.
pub fn is_privileged(role_template_id: &str) -> bool {
    PRIVILEGED.contains(role_template_id)
}

/// What the facts know about roles: for every user holding a role at directory scope, the
/// roles held directly or through a group.
struct RoleHolders {
    by_user: HashMap<String, HashSet<String>>,
}

/// Who holds which role; `None` when the assignments, or the members of a group holding a
/// role, could not be read.
fn role_holders(directory: &Directory) -> Option<RoleHolders> {
    let mut by_user: HashMap<String, HashSet<String>> = HashMap::new();
    for assignment in directory.role_assignments.as_ref()? {
        if assignment.directory_scope_id != "/" {
            continue;
        }
        let holders: Vec<String> = match assignment.principal_kind {
            PrincipalKind::User => vec![assignment.principal_id.clone()],
            PrincipalKind::Group => directory
                .group_members
                .get(&assignment.principal_id)?
                .as_ref()?
                .iter()
                .cloned()
                .collect(),
            PrincipalKind::Other => continue,
        };
        for user in holders {
            by_user
                .entry(user)
                .or_default()
                .insert(assignment.role_definition_id.clone());
        }
    }
    Some(RoleHolders { by_user })
}

impl RoleHolders {
    fn holds(&self, user: &str, role: &str) -> bool {
        self.by_user
            .get(user)
            .is_some_and(|roles| roles.contains(role))
    }

    /// Users holding a privileged role.
    fn admins(&self) -> HashSet<&str> {
        self.by_user
            .iter()
            .filter(|(_, roles)| roles.iter().any(|r| is_privileged(r)))
            .map(|(user, _)| user.as_str())
            .collect()
    }
}

/// Whether a policy covers a user: `Some(true/false)`, or `None` when that depends on a role or
/// a group membership that could not be read.
fn covers(
    policy: &ConditionalAccessPolicy,
    user: &str,
    roles: Option<&RoleHolders>,
    directory: &Directory,
) -> Option<bool> {
    if policy.state != "enabled" {
        return Some(false);
    }
    let all_apps = policy
        .conditions
        .applications
        .as_ref()
        .is_some_and(|apps| apps.include_applications.iter().any(|a| a == "All"));
    if !all_apps {
        return Some(false);
    }
    let Some(users) = &policy.conditions.users else {
        return Some(false);
    };
    let included = named(
        user,
        &users.include_users,
        &users.include_roles,
        &users.include_groups,
        roles,
        directory,
        true,
    );
    match included {
        Some(true) => {}
        other => return other,
    }
    let excluded = named(
        user,
        &users.exclude_users,
        &users.exclude_roles,
        &users.exclude_groups,
        roles,
        directory,
        false,
    )?;
    Some(!excluded)
}

/// Whether one side (include or exclude) of a policy names the user: through its user list
/// (`All` counts on the include side only), a role the user holds, or a group the user is a
/// transitive member of. `None` when the answer hangs on something unread.
fn named(
    user: &str,
    users: &[String],
    role_ids: &[String],
    groups: &[String],
    roles: Option<&RoleHolders>,
    directory: &Directory,
    include_side: bool,
) -> Option<bool> {
    if users
        .iter()
        .any(|u| u == user || (include_side && u == "All"))
    {
        return Some(true);
    }
    let mut unknown = false;
    if !role_ids.is_empty() {
        match roles {
            Some(roles) if role_ids.iter().any(|r| roles.holds(user, r)) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    for group in groups {
        match directory.group_members.get(group).and_then(Option::as_ref) {
            Some(members) if members.contains(user) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown { None } else { Some(false) }
}

/// How many of `people` some policy passing `qualifies` covers; `None` when that is unknown
/// for anyone.
fn covered_count<'a>(
    people: impl Iterator<Item = &'a str>,
    policies: &[ConditionalAccessPolicy],
    qualifies: impl Fn(&ConditionalAccessPolicy) -> bool,
    roles: Option<&RoleHolders>,
    directory: &Directory,
) -> Option<i64> {
    let qualifying: Vec<&ConditionalAccessPolicy> =
        policies.iter().filter(|p| qualifies(p)).collect();
    let mut count = 0;
    for person in people {
        let mut unknown = false;
        let mut covered = false;
        for policy in &qualifying {
            match covers(policy, person, roles, directory) {
                Some(true) => {
                    covered = true;
                    break;
                }
                Some(false) => {}
                None => unknown = true,
            }
        }
        if covered {
            count += 1;
        } else if unknown {
            return None;
        }
    }
    Some(count)
}

fn grants(policy: &ConditionalAccessPolicy, control: &str) -> bool {
    policy
        .grant_controls
        .as_ref()
        .is_some_and(|g| g.built_in_controls.iter().any(|c| c == control))
}

fn lists(values: &[String], value: &str) -> bool {
    values.iter().any(|v| v == value)
}

/// Blocks legacy authentication: `block`, for both Exchange ActiveSync and other clients.
fn blocks_legacy_auth(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "block")
        && lists(&p.conditions.client_app_types, "exchangeActiveSync")
        && lists(&p.conditions.client_app_types, "other")
}

/// Answers high sign-in risk with MFA or a block.
fn answers_sign_in_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.sign_in_risk_levels, "high") && (grants(p, "mfa") || grants(p, "block"))
}

/// Answers high user risk with a password change or a block.
fn answers_user_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.user_risk_levels, "high")
        && (grants(p, "passwordChange") || grants(p, "block"))
}

/// Requires MFA whatever the risk.
fn requires_mfa_always(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "mfa")
        && p.conditions.sign_in_risk_levels.is_empty()
        && p.conditions.user_risk_levels.is_empty()
}

/// The facts document of one collection: only what could be computed.
pub fn compute_facts(directory: &Directory) -> Value {
    let mut facts = Map::new();
    let members: Option<Vec<&DirectoryUser>> = directory
        .users
        .as_ref()
        .map(|users| users.iter().filter(|u| u.is_member()).collect());
    let roles = role_holders(directory);
    if let Some(members) = &members {
        set(&mut facts, "users.total", json!(members.len()));
        if let Some(registered) = &directory.mfa_registered {
            let count = members
                .iter()
                .filter(|u| registered.get(&u.id).copied().unwrap_or(false))
                .count();
            set(&mut facts, "users.mfaRegistered", json!(count));
        }
    }
    if let Some(holders) = &roles {
        let admins = holders.admins();
        set(&mut facts, "admins.total", json!(admins.len()));
        let global = holders
            .by_user
            .keys()
            .filter(|u| holders.holds(u, GLOBAL_ADMINISTRATOR))
            .count();
        set(&mut facts, "roles.globalAdmins", json!(global));
        if let Some(policies) = &directory.policies {
            let mut admins: Vec<&str> = admins.into_iter().collect();
            admins.sort_unstable();
            if let Some(count) = covered_count(
                admins.into_iter(),
                policies,
                requires_mfa_always,
                Some(holders),
                directory,
            ) {
                set(&mut facts, "admins.mfaProtected", json!(count));
            }
        }
    }
    if let (Some(members), Some(policies)) = (&members, &directory.policies) {
        for (path, qualifies) in [
            (
                "users.legacyAuthBlocked",
                blocks_legacy_auth as fn(&ConditionalAccessPolicy) -> bool,
            ),
            ("users.signInRiskCovered", answers_sign_in_risk),
            ("users.userRiskCovered", answers_user_risk),
        ] {
            let people = members.iter().map(|u| u.id.as_str());
            if let Some(count) =
                covered_count(people, policies, qualifies, roles.as_ref(), directory)
            {
                set(&mut facts, path, json!(count));
            }
        }
    }
    if let Some(domains) = &directory.domains {
        let managed: Vec<_> = domains
            .iter()
            .filter(|d| d.is_verified && d.authentication_type.as_deref() == Some("Managed"))
            .collect();
        if !managed.is_empty() {
            let never = managed
                .iter()
                .all(|d| d.password_validity_period_in_days == Some(NEVER_EXPIRES));
            set(&mut facts, "passwordPolicy.neverExpires", json!(never));
        }
    }
    if let Some(policy) = &directory.authorization_policy {
        let assigned = policy
            .default_user_role_permissions
            .as_ref()
            .map(|p| p.permission_grant_policies_assigned.as_slice())
            .unwrap_or_default();
        set(
            &mut facts,
            "apps.userConsentRestricted",
            json!(!assigned.iter().any(|p| p == LEGACY_USER_CONSENT)),
        );
        if let Some(sspr) = policy.allowed_to_use_sspr {
            set(&mut facts, "sspr.enabled", json!(sspr));
        }
    }
    Value::Object(facts)
}

/// Writes `value` at a dotted path, creating the objects on the way.
fn set(facts: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut current = facts;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let next = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(map) = next else { return };
        current = map;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_marks_the_four_roles_the_contract_names_and_no_reader() {
        for role in [
            GLOBAL_ADMINISTRATOR,
            "e8611ab8-c189-46e8-94e1-60213ab1f814",
            "194ae4cb-b126-40b2-bd5b-6091b380977d",
            "fe930be7-5e62-47db-91af-98c3a49a38b1",
        ] {
            assert!(is_privileged(role), "{role}");
        }
        // Reports Reader, Global Reader, Security Reader.
        for reader in [
            "4a5d8f65-41da-4de4-8968-e035b65339cf",
            "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
            "5d6b6bb7-de71-4623-b4af-96380a352509",
        ] {
            assert!(!is_privileged(reader), "{reader}");
        }
    }

    #[test]
    fn nothing_read_gives_no_facts() {
        assert_eq!(compute_facts(&Directory::default()), json!({}));
    }

    #[test]
    fn a_policy_excluding_an_unread_group_leaves_its_fact_out() {
        let policy: ConditionalAccessPolicy = serde_json::from_value(json!({
            "state": "enabled",
            "conditions": {
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"], "excludeGroups": ["g1"]},
                "clientAppTypes": ["exchangeActiveSync", "other"]
            },
            "grantControls": {"builtInControls": ["block"]}
        }))
        .unwrap();
        let user: DirectoryUser = serde_json::from_value(
            json!({"id": "u1", "userType": "Member", "accountEnabled": true}),
        )
        .unwrap();
        let mut directory = Directory {
            users: Some(vec![user]),
            policies: Some(vec![policy]),
            role_assignments: Some(vec![]),
            ..Default::default()
        };
        directory.group_members.insert("g1".into(), None);
        let facts = compute_facts(&directory);
        assert_eq!(facts["users"]["total"], json!(1));
        assert!(facts["users"].get("legacyAuthBlocked").is_none());
        directory
            .group_members
            .insert("g1".into(), Some(HashSet::new()));
        assert_eq!(
            compute_facts(&directory)["users"]["legacyAuthBlocked"],
            json!(1)
        );
    }
}
