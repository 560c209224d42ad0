//! The emergency access accounts' facts: which designated accounts count, whether one is
//! excluded from every enabled policy, which have a phishing-resistant method, and what the
//! collection says about those that do not count.

use serde_json::{Map, Value, json};

use securescore_core::scoring::facts::set_path as set;

use super::coverage::{RoleHolders, named, registered, role_holders};
use super::directory::{ConditionalAccessPolicy, Directory, DirectoryUser, RegistrationDetails};
use super::facts::GLOBAL_ADMINISTRATOR;

/// The designated emergency access accounts that count as such: they exist, are enabled,
/// are cloud-only and hold Global Administrator; `None` when the users or the roles are
/// unread.
pub(super) fn emergency_accounts<'a>(
    directory: &'a Directory,
    roles: Option<&RoleHolders>,
) -> Option<Vec<&'a DirectoryUser>> {
    let roles = roles?;
    let mut accounts: Vec<&DirectoryUser> = directory
        .users
        .as_ref()?
        .iter()
        .filter(|u| {
            directory.emergency_accounts.contains(&u.id)
                && u.account_enabled == Some(true)
                && u.on_premises_sync_enabled != Some(true)
                && roles.holds(&u.id, GLOBAL_ADMINISTRATOR)
        })
        .collect();
    accounts.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Some(accounts)
}

/// `emergencyAccess.*`: how many designated accounts count, whether one of them is excluded
/// from every enabled policy, and how many have a phishing-resistant method registered.
pub(super) fn add_emergency_access_facts(
    facts: &mut Map<String, Value>,
    directory: &Directory,
    roles: Option<&RoleHolders>,
) {
    let Some(accounts) = emergency_accounts(directory, roles) else {
        return;
    };
    set(facts, "emergencyAccess.accounts", json!(accounts.len()));
    if let Some(policies) = &directory.policies {
        let enabled: Vec<&ConditionalAccessPolicy> =
            policies.iter().filter(|p| p.state == "enabled").collect();
        let mut unknown = false;
        let mut excluded_somewhere = false;
        for account in &accounts {
            let mut verdict = Some(true);
            for policy in &enabled {
                match excluded_by(policy, &account.id, roles, directory) {
                    Some(true) => {}
                    Some(false) => {
                        verdict = Some(false);
                        break;
                    }
                    None => verdict = None,
                }
            }
            match verdict {
                Some(true) => excluded_somewhere = true,
                Some(false) => {}
                None => unknown = true,
            }
        }
        if excluded_somewhere || !unknown {
            set(
                facts,
                "emergencyAccess.excludedFromAllPolicies",
                json!(excluded_somewhere),
            );
        }
    }
    if let Some(registrations) = &directory.registrations {
        let count = registered(
            accounts.iter().map(|a| a.id.as_str()),
            registrations,
            RegistrationDetails::has_phishing_resistant_method,
        );
        set(facts, "emergencyAccess.phishingResistant", json!(count));
    }
}

/// Whether a policy's exclude side names the user (by id, role or group).
pub(super) fn excluded_by(
    policy: &ConditionalAccessPolicy,
    user: &str,
    roles: Option<&RoleHolders>,
    directory: &Directory,
) -> Option<bool> {
    let Some(users) = &policy.conditions.users else {
        return Some(false);
    };
    named(user, users.exclude_side(), roles, directory)
}

/// What the collection says about designated emergency access accounts that do not count
/// (not in the directory, disabled, synchronized, or without Global Administrator), one
/// sentence each; nothing when the users are unread.
pub fn emergency_account_warnings(directory: &Directory) -> Vec<String> {
    let Some(users) = &directory.users else {
        return Vec::new();
    };
    let roles = role_holders(directory);
    let mut designated: Vec<&String> = directory.emergency_accounts.iter().collect();
    designated.sort();
    designated
        .into_iter()
        .filter_map(|id| {
            let problem = match users.iter().find(|u| &u.id == id) {
                None => "is not a user of this directory",
                Some(u) if u.account_enabled != Some(true) => "is disabled",
                Some(u) if u.on_premises_sync_enabled == Some(true) => {
                    "is synchronized from on-premises (it should be cloud-only)"
                }
                Some(_)
                    if roles
                        .as_ref()
                        .is_some_and(|r| !r.holds(id, GLOBAL_ADMINISTRATOR)) =>
                {
                    "does not hold Global Administrator"
                }
                Some(_) => return None,
            };
            Some(format!(
                "emergency access account {id} {problem}; it is not counted as one"
            ))
        })
        .collect()
}
