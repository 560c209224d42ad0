//! The built-in catalog's facts, computed from a collected directory exactly as
//! docs/connector.md (and DESIGN.md) says. Every fact is computed from what was read or left
//! out: a membership or a role that could not be read makes the facts that depend on it
//! unknown, and an unknown fact is not written.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::scoring::facts::set_path as set;

use super::directory::{
    AuthenticationMethodsPolicy, AuthorizationPolicy, ConditionalAccessPolicy, Directory,
    DirectoryUser, NamedLocation, PrincipalKind, RegistrationDetails, Side, SignInFrequency,
};
use super::governance_facts::add_governance_facts;
use super::setting_facts::add_setting_facts;

/// The Global Administrator role's template id.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Guest roles that restrict what guests see: limited access, and their own objects only.
const RESTRICTED_GUEST_ROLES: [&str; 2] = [
    "10dae51f-b6af-4016-8d66-8c2a99b929b3",
    "2af84b1e-32c8-42b7-82bc-daa82404023b",
];
/// `allowInvitesFrom` values that keep invitations to admins and Guest Inviters (or no one).
const LIMITED_INVITERS: [&str; 2] = ["adminsAndGuestInviters", "none"];
/// Permission grant policies that let users consent for themselves start with this (compared
/// lower-cased).
const SELF_CONSENT_PREFIX: &str = "managepermissiongrantsforself.";
/// The permission grant policy that lets users consent to any app.
const LEGACY_USER_CONSENT: &str = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy";
/// The user action of registering security information (MFA methods).
const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";
/// The Microsoft Intune Enrollment application.
const INTUNE_ENROLLMENT: &str = "d4ebce55-015a-49b5-a083-c84d1797ae8c";
/// Office 365 Exchange Online, Office 365 SharePoint Online and Microsoft Teams Services: the
/// resources token protection covers.
const TOKEN_PROTECTED_APPS: [&str; 3] = [
    "00000002-0000-0ff1-ce00-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
];
/// The longest sign-in frequency that limits admin sessions, in hours.
const ADMIN_SESSION_HOURS: i64 = 4;
/// The longest sign-in frequency that limits user sessions, in hours (seven days).
const USER_SESSION_HOURS: i64 = 7 * 24;
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

/// Whether an enabled policy names a user (what it targets is the policy test's to judge):
/// `Some(true/false)`, or `None` when that depends on a role or a group membership that could
/// not be read.
fn covers(
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
fn named(
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

/// Targets every resource (`All` among the included applications).
fn on_all_apps(p: &ConditionalAccessPolicy) -> bool {
    p.conditions
        .applications
        .as_ref()
        .is_some_and(|apps| lists(&apps.include_applications, "All"))
}

/// Targets a user action (`urn:user:registersecurityinfo`, …).
fn on_user_action(p: &ConditionalAccessPolicy, action: &str) -> bool {
    p.conditions
        .applications
        .as_ref()
        .is_some_and(|apps| lists(&apps.include_user_actions, action))
}

/// Targets every resource or the application `app`.
fn on_app(p: &ConditionalAccessPolicy, app: &str) -> bool {
    p.conditions.applications.as_ref().is_some_and(|apps| {
        lists(&apps.include_applications, "All") || lists(&apps.include_applications, app)
    })
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

/// Has no sign-in or user risk condition: applies whatever the risk.
fn riskless(p: &ConditionalAccessPolicy) -> bool {
    p.conditions.sign_in_risk_levels.is_empty() && p.conditions.user_risk_levels.is_empty()
}

/// Requires the `mfa` control whatever the risk (`admins.mfaProtected`, as the contract says).
fn requires_mfa_always(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "mfa") && riskless(p)
}

/// Requires MFA, by the `mfa` control or an authentication strength, whatever the risk.
fn requires_mfa_or_strength_always(p: &ConditionalAccessPolicy) -> bool {
    let strength = p
        .grant_controls
        .as_ref()
        .is_some_and(|g| g.authentication_strength.is_some());
    (grants(p, "mfa") || strength) && riskless(p)
}

/// Requires a phishing-resistant authentication strength.
fn requires_phishing_resistant_strength(p: &ConditionalAccessPolicy) -> bool {
    p.grant_controls
        .as_ref()
        .and_then(|g| g.authentication_strength.as_ref())
        .is_some_and(|s| s.is_phishing_resistant())
}

/// Blocks medium and high sign-in risk.
fn blocks_medium_and_high_sign_in_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.sign_in_risk_levels, "medium")
        && lists(&p.conditions.sign_in_risk_levels, "high")
        && grants(p, "block")
}

/// Requires a compliant or hybrid-joined device.
fn requires_managed_device(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "compliantDevice") || grants(p, "domainJoinedDevice")
}

/// Blocks the device code flow.
fn blocks_device_code_flow(p: &ConditionalAccessPolicy) -> bool {
    p.conditions
        .authentication_flows
        .as_ref()
        .is_some_and(|flows| flows.includes("deviceCodeFlow"))
        && grants(p, "block")
}

/// Requires registering security information from a compliant or hybrid-joined device.
fn requires_managed_device_to_register(p: &ConditionalAccessPolicy) -> bool {
    on_user_action(p, REGISTER_SECURITY_INFO) && requires_managed_device(p)
}

/// The session's sign-in frequency, when the policy sets one.
fn sign_in_frequency(p: &ConditionalAccessPolicy) -> Option<&SignInFrequency> {
    p.session_controls.as_ref()?.sign_in_frequency.as_ref()
}

/// Asks admins to sign in again at least every four hours and never keeps the browser
/// session.
fn limits_admin_sessions(p: &ConditionalAccessPolicy) -> bool {
    let never_persistent = p
        .session_controls
        .as_ref()
        .and_then(|s| s.persistent_browser.as_ref())
        .is_some_and(|b| b.never());
    on_all_apps(p)
        && sign_in_frequency(p).is_some_and(|f| f.within_hours(ADMIN_SESSION_HOURS))
        && never_persistent
}

/// Asks users to sign in again at least every seven days.
fn limits_user_sessions(p: &ConditionalAccessPolicy) -> bool {
    on_all_apps(p) && sign_in_frequency(p).is_some_and(|f| f.within_hours(USER_SESSION_HOURS))
}

/// Requires MFA (or a strength) and a fresh sign-in every time a device enrolls in Intune.
fn reauthenticates_intune_enrollment(p: &ConditionalAccessPolicy) -> bool {
    on_app(p, INTUNE_ENROLLMENT)
        && sign_in_frequency(p).is_some_and(SignInFrequency::every_time)
        && requires_mfa_or_strength_always(p)
}

/// Blocks authentication transfer.
fn blocks_authentication_transfer(p: &ConditionalAccessPolicy) -> bool {
    on_all_apps(p)
        && p.conditions
            .authentication_flows
            .as_ref()
            .is_some_and(|flows| flows.includes("authenticationTransfer"))
        && grants(p, "block")
}

/// The enabled policies whose locations block every untrusted place: they include `All` or an
/// untrusted location and exclude `AllTrusted` or a trusted one. `None` when that hangs on a
/// named location and the named locations were not read.
fn blocks_untrusted_locations(
    policies: &[ConditionalAccessPolicy],
    named: Option<&[NamedLocation]>,
) -> Option<Vec<ConditionalAccessPolicy>> {
    let trusted = |id: &str| -> Option<bool> {
        match id {
            "AllTrusted" => Some(true),
            "All" => Some(false),
            _ => named.map(|locations| {
                locations
                    .iter()
                    .any(|l| l.id == id && l.is_trusted == Some(true))
            }),
        }
    };
    let mut blocking = Vec::new();
    for policy in policies.iter().filter(|p| p.state == "enabled") {
        let Some(locations) = &policy.conditions.locations else {
            continue;
        };
        let mut untrusted_included = false;
        for id in &locations.include_locations {
            untrusted_included |= !trusted(id)?;
        }
        let mut trusted_excluded = false;
        for id in &locations.exclude_locations {
            trusted_excluded |= trusted(id)?;
        }
        if untrusted_included && trusted_excluded {
            blocking.push(policy.clone());
        }
    }
    Some(blocking)
}

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

/// Targets what token protection supports: Exchange Online, SharePoint Online and Teams (or
/// every resource), Windows, and desktop and mobile clients.
fn protects_tokens(p: &ConditionalAccessPolicy) -> bool {
    let windows = p.conditions.platforms.as_ref().is_some_and(|platforms| {
        lists(&platforms.include_platforms, "windows") || lists(&platforms.include_platforms, "all")
    });
    let clients = lists(&p.conditions.client_app_types, "all")
        || lists(
            &p.conditions.client_app_types,
            "mobileAppsAndDesktopClients",
        );
    TOKEN_PROTECTED_APPS.iter().all(|app| on_app(p, app)) && windows && clients
}

/// A policy test, as the coverage facts take it.
type Qualifies = fn(&ConditionalAccessPolicy) -> bool;

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
        let global = holders
            .by_user
            .keys()
            .filter(|u| holders.holds(u, GLOBAL_ADMINISTRATOR))
            .count();
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

/// The designated emergency access accounts that count as such: they exist, are enabled,
/// are cloud-only and hold Global Administrator; `None` when the users or the roles are
/// unread.
fn emergency_accounts<'a>(
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
fn add_emergency_access_facts(
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

/// How many of `people` have registration details passing `test` (none read: not counted).
fn registered<'a>(
    people: impl Iterator<Item = &'a str>,
    registrations: &HashMap<String, RegistrationDetails>,
    test: impl Fn(&RegistrationDetails) -> bool,
) -> usize {
    people
        .filter(|id| registrations.get(*id).is_some_and(&test))
        .count()
}

/// Whether a policy's exclude side names the user (by id, role or group).
fn excluded_by(
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

/// What users and guests may do, from the authorization policy: each fact only when the
/// policy states the setting.
fn add_user_setting_facts(facts: &mut Map<String, Value>, policy: &AuthorizationPolicy) {
    if let Some(permissions) = &policy.default_user_role_permissions {
        for (path, allowed) in [
            (
                "apps.userRegistrationBlocked",
                permissions.allowed_to_create_apps,
            ),
            (
                "tenants.userCreationBlocked",
                permissions.allowed_to_create_tenants,
            ),
            (
                "groups.userCreationBlocked",
                permissions.allowed_to_create_security_groups,
            ),
            (
                "devices.bitLockerKeyReadBlocked",
                permissions.allowed_to_read_bitlocker_keys_for_owned_device,
            ),
        ] {
            if let Some(allowed) = allowed {
                set(facts, path, json!(!allowed));
            }
        }
    }
    if let Some(role) = &policy.guest_user_role_id {
        let restricted = RESTRICTED_GUEST_ROLES.contains(&role.to_ascii_lowercase().as_str());
        set(facts, "guests.accessRestricted", json!(restricted));
    }
    if let Some(inviters) = &policy.allow_invites_from {
        let limited = LIMITED_INVITERS.contains(&inviters.as_str());
        set(facts, "guests.invitesLimited", json!(limited));
    }
}

/// Which sign-in methods are on, from the authentication methods policy: a method's fact only
/// when the policy lists the method.
fn add_method_facts(facts: &mut Map<String, Value>, policy: &AuthenticationMethodsPolicy) {
    for (path, method) in [
        ("authMethods.smsDisabled", "Sms"),
        ("authMethods.voiceDisabled", "Voice"),
        ("authMethods.emailOtpDisabled", "Email"),
    ] {
        if let Some(configuration) = policy.method(method) {
            set(facts, path, json!(configuration.state == "disabled"));
        }
    }
    if let Some(authenticator) = policy.method("MicrosoftAuthenticator") {
        let shown = authenticator.state == "disabled"
            || (authenticator.feature_enabled_for_all("displayAppInformationRequiredState")
                && authenticator
                    .feature_enabled_for_all("displayLocationInformationRequiredState"));
        set(facts, "authMethods.authenticatorContextShown", json!(shown));
    }
    if let Some(state) = &policy.policy_migration_state {
        set(
            facts,
            "authMethods.migrationComplete",
            json!(state == "migrationComplete"),
        );
    }
    if let Some(preferences) = &policy.system_credential_preferences {
        let enabled = preferences.state == "enabled"
            && preferences
                .include_targets
                .iter()
                .any(|t| t.id == "all_users");
        set(facts, "authMethods.systemPreferredEnabled", json!(enabled));
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
