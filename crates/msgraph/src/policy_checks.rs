//! What a Conditional Access policy requires, one test each: the resources and user actions
//! it targets, its grant and session controls, the flows and locations it blocks.

use super::directory::{ConditionalAccessPolicy, NamedLocation, SignInFrequency};

/// The user action of registering security information (MFA methods).
pub(super) const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";
/// The Microsoft Intune Enrollment application.
pub(super) const INTUNE_ENROLLMENT: &str = "d4ebce55-015a-49b5-a083-c84d1797ae8c";
/// Office 365 Exchange Online, Office 365 SharePoint Online and Microsoft Teams Services: the
/// resources token protection covers.
pub(super) const TOKEN_PROTECTED_APPS: [&str; 3] = [
    "00000002-0000-0ff1-ce00-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
];
/// The longest sign-in frequency that limits admin sessions, in hours.
pub(super) const ADMIN_SESSION_HOURS: i64 = 4;
/// The longest sign-in frequency that limits user sessions, in hours (seven days).
pub(super) const USER_SESSION_HOURS: i64 = 7 * 24;

/// Targets every resource (`All` among the included applications).
pub(super) fn on_all_apps(p: &ConditionalAccessPolicy) -> bool {
    p.conditions
        .applications
        .as_ref()
        .is_some_and(|apps| lists(&apps.include_applications, "All"))
}

/// Targets a user action (`urn:user:registersecurityinfo`, …).
pub(super) fn on_user_action(p: &ConditionalAccessPolicy, action: &str) -> bool {
    p.conditions
        .applications
        .as_ref()
        .is_some_and(|apps| lists(&apps.include_user_actions, action))
}

/// Targets every resource or the application `app`.
pub(super) fn on_app(p: &ConditionalAccessPolicy, app: &str) -> bool {
    p.conditions.applications.as_ref().is_some_and(|apps| {
        lists(&apps.include_applications, "All") || lists(&apps.include_applications, app)
    })
}

pub(super) fn grants(policy: &ConditionalAccessPolicy, control: &str) -> bool {
    policy
        .grant_controls
        .as_ref()
        .is_some_and(|g| g.built_in_controls.iter().any(|c| c == control))
}

pub(super) fn lists(values: &[String], value: &str) -> bool {
    values.iter().any(|v| v == value)
}

/// Blocks legacy authentication: `block`, for both Exchange ActiveSync and other clients.
pub(super) fn blocks_legacy_auth(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "block")
        && lists(&p.conditions.client_app_types, "exchangeActiveSync")
        && lists(&p.conditions.client_app_types, "other")
}

/// Answers high sign-in risk with MFA or a block.
pub(super) fn answers_sign_in_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.sign_in_risk_levels, "high") && (grants(p, "mfa") || grants(p, "block"))
}

/// Answers high user risk with a password change or a block.
pub(super) fn answers_user_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.user_risk_levels, "high")
        && (grants(p, "passwordChange") || grants(p, "block"))
}

/// Has no sign-in or user risk condition: applies whatever the risk.
pub(super) fn riskless(p: &ConditionalAccessPolicy) -> bool {
    p.conditions.sign_in_risk_levels.is_empty() && p.conditions.user_risk_levels.is_empty()
}

/// Requires the `mfa` control whatever the risk (`admins.mfaProtected`, as the contract says).
pub(super) fn requires_mfa_always(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "mfa") && riskless(p)
}

/// Requires MFA, by the `mfa` control or an authentication strength, whatever the risk.
pub(super) fn requires_mfa_or_strength_always(p: &ConditionalAccessPolicy) -> bool {
    let strength = p
        .grant_controls
        .as_ref()
        .is_some_and(|g| g.authentication_strength.is_some());
    (grants(p, "mfa") || strength) && riskless(p)
}

/// Requires a phishing-resistant authentication strength.
pub(super) fn requires_phishing_resistant_strength(p: &ConditionalAccessPolicy) -> bool {
    p.grant_controls
        .as_ref()
        .and_then(|g| g.authentication_strength.as_ref())
        .is_some_and(|s| s.is_phishing_resistant())
}

/// Blocks medium and high sign-in risk.
pub(super) fn blocks_medium_and_high_sign_in_risk(p: &ConditionalAccessPolicy) -> bool {
    lists(&p.conditions.sign_in_risk_levels, "medium")
        && lists(&p.conditions.sign_in_risk_levels, "high")
        && grants(p, "block")
}

/// Requires a compliant or hybrid-joined device.
pub(super) fn requires_managed_device(p: &ConditionalAccessPolicy) -> bool {
    grants(p, "compliantDevice") || grants(p, "domainJoinedDevice")
}

/// Blocks the device code flow.
pub(super) fn blocks_device_code_flow(p: &ConditionalAccessPolicy) -> bool {
    p.conditions
        .authentication_flows
        .as_ref()
        .is_some_and(|flows| flows.includes("deviceCodeFlow"))
        && grants(p, "block")
}

/// Requires registering security information from a compliant or hybrid-joined device.
pub(super) fn requires_managed_device_to_register(p: &ConditionalAccessPolicy) -> bool {
    on_user_action(p, REGISTER_SECURITY_INFO) && requires_managed_device(p)
}

/// The session's sign-in frequency, when the policy sets one.
pub(super) fn sign_in_frequency(p: &ConditionalAccessPolicy) -> Option<&SignInFrequency> {
    p.session_controls.as_ref()?.sign_in_frequency.as_ref()
}

/// Asks admins to sign in again at least every four hours and never keeps the browser
/// session.
pub(super) fn limits_admin_sessions(p: &ConditionalAccessPolicy) -> bool {
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
pub(super) fn limits_user_sessions(p: &ConditionalAccessPolicy) -> bool {
    on_all_apps(p) && sign_in_frequency(p).is_some_and(|f| f.within_hours(USER_SESSION_HOURS))
}

/// Requires MFA (or a strength) and a fresh sign-in every time a device enrolls in Intune.
pub(super) fn reauthenticates_intune_enrollment(p: &ConditionalAccessPolicy) -> bool {
    on_app(p, INTUNE_ENROLLMENT)
        && sign_in_frequency(p).is_some_and(SignInFrequency::every_time)
        && requires_mfa_or_strength_always(p)
}

/// Blocks authentication transfer.
pub(super) fn blocks_authentication_transfer(p: &ConditionalAccessPolicy) -> bool {
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
pub(super) fn blocks_untrusted_locations(
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

/// Targets what token protection supports: Exchange Online, SharePoint Online and Teams (or
/// every resource), Windows, and desktop and mobile clients.
pub(super) fn protects_tokens(p: &ConditionalAccessPolicy) -> bool {
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
pub(super) type Qualifies = fn(&ConditionalAccessPolicy) -> bool;
