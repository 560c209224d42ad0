//! Who a Conditional Access policy covers: the privileged roles, who holds which role
//! (directly or through a group), whether a policy names a user, and how many of a set of
//! people some qualifying policy covers.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use super::directory::{
    ConditionalAccessPolicy, Directory, PrincipalKind, RegistrationDetails, Side,
};

/// The privileged-roles data file.
#[derive(Deserialize)]
pub(super) struct PrivilegedRoles {
    roles: Vec<PrivilegedRole>,
}

/// One privileged role.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PrivilegedRole {
    template_id: String,
}

/// Template ids of the roles whose holders are admins (`crates/msgraph/src/privileged_roles.json`).
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
pub(super) struct RoleHolders {
    by_user: HashMap<String, HashSet<String>>,
}

/// Who holds which role; `None` when the assignments, or the members of a group holding a
/// role, could not be read.
pub(super) fn role_holders(directory: &Directory) -> Option<RoleHolders> {
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
    pub(super) fn holds(&self, user: &str, role: &str) -> bool {
        self.by_user
            .get(user)
            .is_some_and(|roles| roles.contains(role))
    }

    /// How many users hold `role`.
    pub(super) fn holding(&self, role: &str) -> usize {
        self.by_user.keys().filter(|u| self.holds(u, role)).count()
    }

    /// Users holding a privileged role.
    pub(super) fn admins(&self) -> HashSet<&str> {
        self.by_user
            .iter()
            .filter(|(_, roles)| roles.iter().any(|r| is_privileged(r)))
            .map(|(user, _)| user.as_str())
            .collect()
    }
}

/// Whether an enabled policy names a user (what it targets is the policy test's to judge):
/// `Some(true/false)`, or `None` when that depends on a role or a group membership that could
/// not be read.
pub(super) fn covers(
    policy: &ConditionalAccessPolicy,
    user: &str,
    roles: Option<&RoleHolders>,
    directory: &Directory,
) -> Option<bool> {
    if policy.state != "enabled" {
        return Some(false);
    }
    let Some(users) = &policy.conditions.users else {
        return Some(false);
    };
    let included = named(user, users.include_side(), roles, directory);
    match included {
        Some(true) => {}
        other => return other,
    }
    let excluded = named(user, users.exclude_side(), roles, directory)?;
    Some(!excluded)
}

/// Whether one side (include or exclude) of a policy names the user: through its user list
/// (`All` counts on the include side only; `GuestsOrExternalUsers` names every guest and
/// external user), the guest and external kinds it names, a role the user holds, or a group
/// the user is a transitive member of. `None` when the answer hangs on something unread.
pub(super) fn named(
    user: &str,
    side: Side<'_>,
    roles: Option<&RoleHolders>,
    directory: &Directory,
) -> Option<bool> {
    if side
        .users
        .iter()
        .any(|u| u == user || (side.include && u == "All"))
    {
        return Some(true);
    }
    let mut unknown = false;
    let names_guests = side.users.iter().any(|u| u == "GuestsOrExternalUsers");
    if names_guests || side.guests.is_some() {
        match directory.external_kind(user) {
            Some(Some(kind)) if names_guests || side.guests.is_some_and(|g| g.names(kind)) => {
                return Some(true);
            }
            Some(_) => {}
            None => unknown = true,
        }
    }
    if !side.roles.is_empty() {
        match roles {
            Some(roles) if side.roles.iter().any(|r| roles.holds(user, r)) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    for group in side.groups {
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
pub(super) fn covered_count<'a>(
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

/// How many of `people` have registration details passing `test` (none read: not counted).
pub(super) fn registered<'a>(
    people: impl Iterator<Item = &'a str>,
    registrations: &HashMap<String, RegistrationDetails>,
    test: impl Fn(&RegistrationDetails) -> bool,
) -> usize {
    people
        .filter(|id| registrations.get(*id).is_some_and(&test))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::GLOBAL_ADMINISTRATOR;

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
}
