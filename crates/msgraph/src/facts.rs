//! The built-in catalog's facts, computed from a collected directory exactly as
//! docs/connector.md says. Every fact is computed from what was read or left
//! out: a membership or a role that could not be read makes the facts that depend on it
//! unknown, and an unknown fact is not written.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use securescore_core::scoring::facts::set_path as set;

use super::coverage::{covered_count, registered, role_holders};
use super::directory::{ConditionalAccessPolicy, Directory, DirectoryUser, RegistrationDetails};
use super::emergency_facts::add_emergency_access_facts;
pub use super::emergency_facts::emergency_account_warnings;
use super::governance_facts::add_governance_facts;
use super::policy_checks::*;
use super::setting_facts::{
    LEGACY_USER_CONSENT, SELF_CONSENT_PREFIX, add_method_facts, add_setting_facts,
    add_user_setting_facts,
};

/// The Global Administrator role's template id.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// SKUs that license no applications (Microsoft Entra ID P1 and P2): an admin holding only
/// these has a reduced licence footprint.
const IDENTITY_ONLY_SKUS: [&str; 2] = ["AAD_PREMIUM", "AAD_PREMIUM_P2"];
/// `passwordValidityPeriodInDays` meaning "never expires".
const NEVER_EXPIRES: i64 = 2_147_483_647;
/// Service plans that carry each licence: `(fact, plans)`; P2 implies P1.
const LICENSE_PLANS: [(&str, &[&str]); 3] = [
    ("licenses.entraP1", &["AAD_PREMIUM", "AAD_PREMIUM_P2"]),
    ("licenses.entraP2", &["AAD_PREMIUM_P2"]),
    ("licenses.entraIdGovernance", &["Entra_Identity_Governance"]),
];

/// Whether an admin holds licences for no applications: every SKU assigned is Microsoft Entra
/// ID P1 or P2 (or none is). An admin holding a SKU the tenant's subscriptions do not name
/// does not count.
fn has_reduced_license_footprint(
    user: &DirectoryUser,
    skus: &[super::directory::SubscribedSku],
) -> bool {
    user.assigned_licenses.iter().all(|license| {
        skus.iter().any(|sku| {
            sku.sku_id.as_deref() == Some(license.sku_id.as_str())
                && sku
                    .sku_part_number
                    .as_deref()
                    .is_some_and(|part| IDENTITY_ONLY_SKUS.contains(&part))
        })
    })
}

/// The facts document of one collection: only what could be computed.
pub fn compute_facts(directory: &Directory) -> Value {
    let mut facts = Map::new();
    // Emergency access accounts count in no coverage fact, numerator or denominator.
    let counted = |id: &str| !directory.emergency_accounts.contains(id);
    let members: Option<Vec<&DirectoryUser>> = directory.users.as_ref().map(|users| {
        users
            .iter()
            .filter(|u| u.is_member() && counted(&u.id))
            .collect()
    });
    let roles = role_holders(directory);
    if let Some(members) = &members {
        set(&mut facts, "users.total", json!(members.len()));
        if let Some(registrations) = &directory.registrations {
            let count = registered(members.iter().map(|u| u.id.as_str()), registrations, |r| {
                r.is_mfa_registered
            });
            set(&mut facts, "users.mfaRegistered", json!(count));
        }
    }
    if let Some(holders) = &roles {
        let admins = holders.admins();
        set(
            &mut facts,
            "admins.total",
            json!(admins.iter().filter(|a| counted(a)).count()),
        );
        let global = holders.holding(GLOBAL_ADMINISTRATOR);
        set(&mut facts, "roles.globalAdmins", json!(global));
        let mut admins: Vec<&str> = admins.into_iter().filter(|a| counted(a)).collect();
        admins.sort_unstable();
        if let Some(policies) = &directory.policies {
            let admin_facts: [(&str, Qualifies); 3] = [
                ("admins.mfaProtected", |p| {
                    on_all_apps(p) && requires_mfa_always(p)
                }),
                ("admins.phishingResistantRequired", |p| {
                    on_all_apps(p) && requires_phishing_resistant_strength(p)
                }),
                ("admins.signInFrequencyLimited", limits_admin_sessions),
            ];
            for (path, qualifies) in admin_facts {
                let people = admins.iter().copied();
                if let Some(count) =
                    covered_count(people, policies, qualifies, Some(holders), directory)
                {
                    set(&mut facts, path, json!(count));
                }
            }
        }
        if let Some(registrations) = &directory.registrations {
            let count = registered(
                admins.iter().copied(),
                registrations,
                RegistrationDetails::has_phishing_resistant_method,
            );
            set(
                &mut facts,
                "admins.phishingResistantRegistered",
                json!(count),
            );
        }
        if let Some(users) = &directory.users {
            let cloud_accounts: HashSet<&str> = users
                .iter()
                .filter(|u| u.on_premises_sync_enabled != Some(true))
                .map(|u| u.id.as_str())
                .collect();
            let cloud_only = admins
                .iter()
                .filter(|a| cloud_accounts.contains(**a))
                .count();
            set(&mut facts, "admins.cloudOnly", json!(cloud_only));
            if let Some(skus) = &directory.subscribed_skus {
                let by_id: HashMap<&str, &DirectoryUser> =
                    users.iter().map(|u| (u.id.as_str(), u)).collect();
                let reduced = admins
                    .iter()
                    .filter(|a| {
                        by_id
                            .get(**a)
                            .is_some_and(|user| has_reduced_license_footprint(user, skus))
                    })
                    .count();
                set(&mut facts, "admins.reducedLicenseFootprint", json!(reduced));
            }
        }
        let finer_grained = admins
            .iter()
            .filter(|a| !holders.holds(a, GLOBAL_ADMINISTRATOR))
            .count();
        set(
            &mut facts,
            "admins.withoutGlobalAdmin",
            json!(finer_grained),
        );
    }
    if let (Some(members), Some(policies)) = (&members, &directory.policies) {
        let member_facts: [(&str, Qualifies); 12] = [
            ("users.legacyAuthBlocked", |p| {
                on_all_apps(p) && blocks_legacy_auth(p)
            }),
            ("users.signInRiskCovered", |p| {
                on_all_apps(p) && answers_sign_in_risk(p)
            }),
            ("users.userRiskCovered", |p| {
                on_all_apps(p) && answers_user_risk(p)
            }),
            ("users.mfaRequired", |p| {
                on_all_apps(p) && requires_mfa_or_strength_always(p)
            }),
            ("users.signInRiskBlocked", |p| {
                on_all_apps(p) && blocks_medium_and_high_sign_in_risk(p)
            }),
            ("users.managedDeviceRequired", |p| {
                on_all_apps(p) && requires_managed_device(p)
            }),
            ("users.deviceCodeFlowBlocked", |p| {
                on_all_apps(p) && blocks_device_code_flow(p)
            }),
            ("users.phishingResistantRequired", |p| {
                on_all_apps(p) && requires_phishing_resistant_strength(p)
            }),
            (
                "users.securityInfoRegistrationManaged",
                requires_managed_device_to_register,
            ),
            ("users.signInFrequencyLimited", limits_user_sessions),
            (
                "users.intuneEnrollmentReauthenticated",
                reauthenticates_intune_enrollment,
            ),
            (
                "users.authenticationTransferBlocked",
                blocks_authentication_transfer,
            ),
        ];
        for (path, qualifies) in member_facts {
            let people = members.iter().map(|u| u.id.as_str());
            if let Some(count) =
                covered_count(people, policies, qualifies, roles.as_ref(), directory)
            {
                set(&mut facts, path, json!(count));
            }
        }
        if let Some(protected) = &directory.token_protected_policies {
            let people = members.iter().map(|u| u.id.as_str());
            let qualifies = |p: &ConditionalAccessPolicy| {
                p.id.as_ref().is_some_and(|id| protected.contains(id)) && protects_tokens(p)
            };
            if let Some(count) =
                covered_count(people, policies, qualifies, roles.as_ref(), directory)
            {
                set(&mut facts, "users.tokenProtectionEnforced", json!(count));
            }
        }
        let blocking = blocks_untrusted_locations(policies, directory.named_locations.as_deref());
        if let Some(count) = blocking.and_then(|blocking| {
            let people = members.iter().map(|u| u.id.as_str());
            let qualifies: Qualifies = |p| on_all_apps(p) && grants(p, "block");
            covered_count(people, &blocking, qualifies, roles.as_ref(), directory)
        }) {
            set(&mut facts, "users.untrustedLocationsBlocked", json!(count));
        }
    }
    if let Some(users) = &directory.users {
        let synchronized = users
            .iter()
            .any(|u| u.on_premises_sync_enabled == Some(true));
        set(
            &mut facts,
            "hybrid.synchronized",
            json!(i64::from(synchronized)),
        );
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
        let self_consent = assigned
            .iter()
            .any(|p| p.to_ascii_lowercase().starts_with(SELF_CONSENT_PREFIX));
        set(&mut facts, "apps.userConsentDisabled", json!(!self_consent));
        if let Some(sspr) = policy.allowed_to_use_sspr {
            set(&mut facts, "sspr.enabled", json!(sspr));
        }
        add_user_setting_facts(&mut facts, policy);
    }
    if let Some(policy) = &directory.authentication_methods_policy {
        add_method_facts(&mut facts, policy);
    }
    if let Some(authenticator) = &directory.authenticator_beta {
        let disabled = authenticator.state == "disabled"
            || authenticator.feature_state("companionAppAllowedState") == Some("disabled");
        set(
            &mut facts,
            "authMethods.authenticatorLiteDisabled",
            json!(disabled),
        );
    }
    if let Some(enabled) = directory.security_defaults_enabled {
        set(&mut facts, "securityDefaults.enabled", json!(enabled));
    }
    if let Some(enabled) = directory.admin_consent_workflow_enabled {
        set(&mut facts, "apps.adminConsentWorkflow", json!(enabled));
    }
    if let Some(skus) = &directory.subscribed_skus {
        for (path, plans) in LICENSE_PLANS {
            let held = skus.iter().any(|sku| plans.iter().any(|p| sku.provides(p)));
            set(&mut facts, path, json!(held));
        }
    }
    add_emergency_access_facts(&mut facts, directory, roles.as_ref());
    add_setting_facts(&mut facts, directory, directory.collected_at);
    add_governance_facts(&mut facts, directory);
    Value::Object(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn settings_are_read_as_stated_and_left_out_when_not() {
        let directory = Directory {
            authorization_policy: Some(
                serde_json::from_value(json!({
                    "guestUserRoleId": "2AF84B1E-32C8-42B7-82BC-DAA82404023B",
                    "allowInvitesFrom": "adminsGuestInvitersAndAllMembers",
                    "defaultUserRolePermissions": {"allowedToCreateApps": true}
                }))
                .unwrap(),
            ),
            authentication_methods_policy: Some(
                serde_json::from_value(json!({
                    "authenticationMethodConfigurations": [
                        {"id": "sms", "state": "disabled"},
                        {"id": "MicrosoftAuthenticator", "state": "disabled"}
                    ],
                    "systemCredentialPreferences": {"state": "default",
                        "includeTargets": [{"id": "all_users", "targetType": "group"}]}
                }))
                .unwrap(),
            ),
            ..Default::default()
        };
        let facts = compute_facts(&directory);
        assert_eq!(
            facts,
            json!({
                // No grant policy assigned: users may consent to nothing.
                "apps": {"userConsentRestricted": true, "userConsentDisabled": true,
                         "userRegistrationBlocked": false},
                "guests": {"accessRestricted": true, "invitesLimited": false},
                // Voice and Email are not listed: left out. Authenticator off shows no prompt.
                "authMethods": {"smsDisabled": true, "authenticatorContextShown": true,
                                "systemPreferredEnabled": false}
            })
        );
    }

    #[test]
    fn a_custom_strength_of_phishing_resistant_combinations_only_counts_as_one() {
        let strength = |combinations: serde_json::Value| {
            serde_json::from_value::<super::super::directory::AuthenticationStrength>(
                json!({"id": "custom", "allowedCombinations": combinations}),
            )
            .unwrap()
            .is_phishing_resistant()
        };
        assert!(strength(json!(["fido2", "windowsHelloForBusiness"])));
        assert!(!strength(json!(["fido2", "password,sms"])));
        assert!(!strength(json!([])));
    }
}
