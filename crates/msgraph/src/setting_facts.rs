//! Facts read from the tenant's settings rather than from who is covered: directory settings
//! (`/groupSettings`), the device registration policy, the default app management policy, the
//! default cross-tenant access policy and named locations. Each fact is written only when its source was read; a setting the tenant
//! never changed counts as Microsoft documents its default.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use securescore_core::scoring::facts::set_path as set;

use super::directory::{
    ALL_MEMBERSHIP, AppManagementPolicy, AuthenticationMethodsPolicy, AuthorizationPolicy,
    CredentialRestriction, DeviceRegistrationPolicy, Directory, GroupSetting,
};

/// The `Group.Unified` settings template (Microsoft 365 groups).
const GROUP_UNIFIED_TEMPLATE: &str = "62375ab9-6b52-47ed-826b-58e47e0e304b";
/// The `Password Rule Settings` template (password protection and smart lockout).
const PASSWORD_RULE_TEMPLATE: &str = "5cf42378-d67d-4f36-ba46-e8b86229381d";
/// Smart lockout's documented defaults: 10 failed sign-ins, then 60 seconds.
const DEFAULT_LOCKOUT_THRESHOLD: i64 = 10;
/// See `DEFAULT_LOCKOUT_THRESHOLD`.
const DEFAULT_LOCKOUT_SECONDS: i64 = 60;
/// The longest secret lifetime the catalog accepts, in days.
const MAX_PASSWORD_DAYS: f64 = 180.0;
/// The longest certificate lifetime the catalog accepts, in days.
const MAX_CERTIFICATE_DAYS: f64 = 180.0;

/// Adds every settings fact that what was read allows; `now` decides whether an app
/// management restriction dated in the future applies yet.
pub fn add_setting_facts(
    facts: &mut Map<String, Value>,
    directory: &Directory,
    now: DateTime<Utc>,
) {
    if let Some(settings) = &directory.group_settings {
        add_directory_setting_facts(facts, settings);
    }
    if let Some(policy) = &directory.device_registration_policy {
        add_device_facts(facts, policy);
    }
    if let Some(policy) = &directory.app_management_policy {
        add_app_credential_facts(facts, policy, now);
    }
    if let Some(default) = &directory.cross_tenant_default {
        let blocked = default
            .b2b_collaboration_inbound
            .as_ref()
            .is_some_and(|inbound| inbound.blocks_everything());
        set(
            facts,
            "crossTenant.collaborationInboundBlocked",
            json!(blocked),
        );
    }
    if let Some(locations) = &directory.named_locations {
        let trusted = locations.iter().any(|l| l.is_trusted_ip_range());
        set(facts, "locations.trustedIpRangeDefined", json!(trusted));
    }
}

/// The tenant-wide setting made from `template`, if the tenant has one.
fn setting<'a>(settings: &'a [GroupSetting], template: &str) -> Option<&'a GroupSetting> {
    settings.iter().find(|s| {
        s.template_id
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(template))
    })
}

/// A setting value that says `true` (Graph writes `true`, `True` or `TRUE`).
fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Microsoft 365 group creation and password protection, from `/groupSettings`. Without a
/// `Group.Unified` setting everyone may create groups; without a `Password Rule Settings` one
/// no custom list is enforced, on-premises checks are not enforced and smart lockout keeps its
/// defaults.
fn add_directory_setting_facts(facts: &mut Map<String, Value>, settings: &[GroupSetting]) {
    let groups = setting(settings, GROUP_UNIFIED_TEMPLATE);
    let restricted = groups.is_some_and(|s| {
        s.value("EnableGroupCreation")
            .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    });
    set(facts, "groups.m365CreationRestricted", json!(restricted));
    let rules = setting(settings, PASSWORD_RULE_TEMPLATE);
    let value = |name: &str| rules.and_then(|s| s.value(name));
    let custom_list = is_true(value("EnableBannedPasswordCheck"))
        && value("BannedPasswordList").is_some_and(|list| !list.trim().is_empty());
    set(
        facts,
        "passwordProtection.customListEnforced",
        json!(custom_list),
    );
    let on_premises = is_true(value("EnableBannedPasswordCheckOnPremises"))
        && value("BannedPasswordCheckOnPremisesMode").is_some_and(|m| {
            m.eq_ignore_ascii_case("Enforce") || m.eq_ignore_ascii_case("Enforced")
        });
    set(
        facts,
        "passwordProtection.onPremisesEnforced",
        json!(i64::from(on_premises)),
    );
    let number = |name: &str, default: i64| -> Option<i64> {
        match value(name) {
            None => Some(default),
            Some(text) => text.trim().parse().ok(),
        }
    };
    if let Some(threshold) = number("LockoutThreshold", DEFAULT_LOCKOUT_THRESHOLD) {
        set(
            facts,
            "passwordProtection.lockoutThreshold",
            json!(threshold),
        );
    }
    if let Some(seconds) = number("LockoutDurationInSeconds", DEFAULT_LOCKOUT_SECONDS) {
        set(
            facts,
            "passwordProtection.lockoutDurationSeconds",
            json!(seconds),
        );
    }
}

/// Who may join devices, how many, who administers them locally, and LAPS.
fn add_device_facts(facts: &mut Map<String, Value>, policy: &DeviceRegistrationPolicy) {
    if let Some(quota) = policy.user_device_quota {
        set(facts, "devices.userQuota", json!(quota));
    }
    let membership = |m: &Option<super::directory::TypedObject>| -> Option<bool> {
        m.as_ref()
            .and_then(|m| m.odata_type.as_deref())
            .map(|t| t != ALL_MEMBERSHIP)
    };
    if let Some(join) = &policy.azure_ad_join {
        if let Some(restricted) = membership(&join.allowed_to_join) {
            set(facts, "devices.joinRestricted", json!(restricted));
        }
        if let Some(local) = &join.local_admins {
            if let Some(global) = local.enable_global_admins {
                set(facts, "devices.globalAdminsNotLocalAdmins", json!(!global));
            }
            if let Some(restricted) = membership(&local.registering_users) {
                set(
                    facts,
                    "devices.registeringUsersNotLocalAdmins",
                    json!(restricted),
                );
            }
        }
    }
    if let Some(enabled) = policy
        .local_admin_password
        .as_ref()
        .and_then(|s| s.is_enabled)
    {
        set(facts, "devices.lapsEnabled", json!(enabled));
    }
}

/// Secret and certificate restrictions of the tenant default app management policy: each holds
/// when the policy is on and the restriction is in force, for applications and service
/// principals alike.
fn add_app_credential_facts(
    facts: &mut Map<String, Value>,
    policy: &AppManagementPolicy,
    now: DateTime<Utc>,
) {
    let enabled = policy.is_enabled == Some(true);
    let both = |test: &dyn Fn(&super::directory::CredentialRestrictions) -> bool| -> bool {
        enabled
            && [
                &policy.application_restrictions,
                &policy.service_principal_restrictions,
            ]
            .iter()
            .all(|r| r.as_ref().is_some_and(test))
    };
    let in_force = |list: &[CredentialRestriction], kind: &str, max_days: Option<f64>| {
        list.iter().any(|r| {
            r.restriction_type.as_deref() == Some(kind)
                && r.state.as_deref().is_none_or(|s| s == "enabled")
                && r.restrict_for_apps_created_after_date_time
                    .as_deref()
                    .is_none_or(|from| applies_by(from, now))
                && max_days.is_none_or(|max| {
                    r.max_lifetime
                        .as_deref()
                        .and_then(duration_days)
                        .is_some_and(|days| days <= max)
                })
        })
    };
    set(
        facts,
        "appCredentials.passwordAdditionBlocked",
        json!(both(&|r| in_force(
            &r.password_credentials,
            "passwordAddition",
            None
        ))),
    );
    set(
        facts,
        "appCredentials.customPasswordBlocked",
        json!(both(&|r| in_force(
            &r.password_credentials,
            "customPasswordAddition",
            None
        ))),
    );
    set(
        facts,
        "appCredentials.passwordLifetimeLimited",
        json!(both(&|r| in_force(
            &r.password_credentials,
            "passwordLifetime",
            Some(MAX_PASSWORD_DAYS)
        ))),
    );
    set(
        facts,
        "appCredentials.certificateLifetimeLimited",
        json!(both(&|r| in_force(
            &r.key_credentials,
            "asymmetricKeyLifetime",
            Some(MAX_CERTIFICATE_DAYS)
        ))),
    );
}

/// Whether a restriction dated `from` applies to every app at `now`: apps created after a
/// date still ahead are not restricted yet, and a date Graph sends unparsed never counts.
fn applies_by(from: &str, now: DateTime<Utc>) -> bool {
    DateTime::parse_from_rfc3339(from).is_ok_and(|from| from <= now)
}

/// An ISO 8601 duration (`P180D`, `P4DT12H30M5S`, `P1Y`) in days; a year counts 365 days
/// and a month 30. None when it does not parse.
fn duration_days(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut days = 0.0;
    for (part, units) in [
        (
            date,
            &[('Y', 365.0), ('M', 30.0), ('W', 7.0), ('D', 1.0)][..],
        ),
        (
            time,
            &[
                ('H', 1.0 / 24.0),
                ('M', 1.0 / 1440.0),
                ('S', 1.0 / 86_400.0),
            ][..],
        ),
    ] {
        let mut number = String::new();
        let mut unit_index = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let position = units[unit_index..].iter().position(|(u, _)| *u == c)?;
            unit_index += position;
            let value: f64 = number.parse().ok()?;
            days += value * units[unit_index].1;
            unit_index += 1;
            number.clear();
        }
        if !number.is_empty() {
            return None;
        }
    }
    (rest != "T" && !rest.is_empty()).then_some(days)
}

/// Guest roles that restrict what guests see: limited access, and their own objects only.
pub(super) const RESTRICTED_GUEST_ROLES: [&str; 2] = [
    "10dae51f-b6af-4016-8d66-8c2a99b929b3",
    "2af84b1e-32c8-42b7-82bc-daa82404023b",
];
/// `allowInvitesFrom` values that keep invitations to admins and Guest Inviters (or no one).
pub(super) const LIMITED_INVITERS: [&str; 2] = ["adminsAndGuestInviters", "none"];
/// Permission grant policies that let users consent for themselves start with this (compared
/// lower-cased).
pub(super) const SELF_CONSENT_PREFIX: &str = "managepermissiongrantsforself.";
/// The permission grant policy that lets users consent to any app.
pub(super) const LEGACY_USER_CONSENT: &str =
    "ManagePermissionGrantsForSelf.microsoft-user-default-legacy";

/// What users and guests may do, from the authorization policy: each fact only when the
/// policy states the setting.
pub(super) fn add_user_setting_facts(facts: &mut Map<String, Value>, policy: &AuthorizationPolicy) {
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
pub(super) fn add_method_facts(
    facts: &mut Map<String, Value>,
    policy: &AuthenticationMethodsPolicy,
) {
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
    fn durations_read_as_days() {
        assert_eq!(duration_days("P180D"), Some(180.0));
        assert_eq!(duration_days("P1Y"), Some(365.0));
        assert_eq!(duration_days("P2W"), Some(14.0));
        assert_eq!(duration_days("PT36H"), Some(1.5));
        let mixed = duration_days("P4DT12H30M5S").unwrap();
        assert!((mixed - (4.0 + 12.0 / 24.0 + 30.0 / 1440.0 + 5.0 / 86_400.0)).abs() < 1e-9);
        for bad in ["", "P", "PT", "180D", "P180", "PD", "P1D2Y", "P1X"] {
            assert_eq!(duration_days(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_restriction_dated_ahead_does_not_apply_yet() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(applies_by("2021-01-01T10:37:00Z", now));
        assert!(!applies_by("2027-01-01T00:00:00Z", now));
        assert!(!applies_by("soon", now));
    }

    #[test]
    fn without_settings_objects_the_documented_defaults_count() {
        let mut facts = Map::new();
        add_directory_setting_facts(&mut facts, &[]);
        assert_eq!(
            Value::Object(facts),
            json!({"groups": {"m365CreationRestricted": false},
                   "passwordProtection": {"customListEnforced": false, "onPremisesEnforced": 0,
                                          "lockoutThreshold": 10, "lockoutDurationSeconds": 60}})
        );
    }

    #[test]
    fn collaboration_is_blocked_by_default_only_for_every_user_and_every_application() {
        let blocked = |inbound: Value| {
            let default: super::super::directory::CrossTenantDefault =
                serde_json::from_value(json!({"b2bCollaborationInbound": inbound})).unwrap();
            let directory = Directory {
                cross_tenant_default: Some(default),
                ..Default::default()
            };
            let mut facts = Map::new();
            add_setting_facts(&mut facts, &directory, Utc::now());
            facts["crossTenant"]["collaborationInboundBlocked"].clone()
        };
        let side = |access: &str, target: &str| json!({"accessType": access, "targets": [{"target": target}]});
        let both =
            |users: Value, apps: Value| json!({"usersAndGroups": users, "applications": apps});
        assert_eq!(
            blocked(both(
                side("blocked", "AllUsers"),
                side("blocked", "AllApplications")
            )),
            json!(true)
        );
        // Applications still open, or a block of one group only, or Microsoft's default.
        for open in [
            both(
                side("blocked", "AllUsers"),
                side("allowed", "AllApplications"),
            ),
            both(side("blocked", "g1"), side("blocked", "AllApplications")),
            both(
                side("allowed", "AllUsers"),
                side("allowed", "AllApplications"),
            ),
            json!(null),
        ] {
            assert_eq!(blocked(open.clone()), json!(false), "{open}");
        }
    }
}
