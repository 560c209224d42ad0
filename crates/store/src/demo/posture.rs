//! A demo tenant's configuration as it drifts day by day, and the facts it reports.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::scoring::facts::set_path;

/// Member coverage facts of the grown catalog, each a share of the members.
pub(super) const MEMBER_SHARES: [&str; 11] = [
    "users.mfaRequired",
    "users.signInRiskBlocked",
    "users.managedDeviceRequired",
    "users.deviceCodeFlowBlocked",
    "users.phishingResistantRequired",
    "users.securityInfoRegistrationManaged",
    "users.signInFrequencyLimited",
    "users.intuneEnrollmentReauthenticated",
    "users.authenticationTransferBlocked",
    "users.untrustedLocationsBlocked",
    "users.tokenProtectionEnforced",
];
/// Admin facts of the grown catalog, each a share of the admins.
pub(super) const ADMIN_SHARES: [&str; 6] = [
    "admins.phishingResistantRequired",
    "admins.phishingResistantRegistered",
    "admins.cloudOnly",
    "admins.signInFrequencyLimited",
    "admins.reducedLicenseFootprint",
    "admins.withoutGlobalAdmin",
];
/// Privileged roles whose PIM policies the demo's tenants report.
pub(super) const PIM_ROLES: f64 = 8.0;
/// PIM facts, each a share of those roles.
pub(super) const ROLE_SHARES: [&str; 2] = [
    "pim.privilegedRolesAlertingOnAssignment",
    "pim.privilegedRolesAlertingOnActivation",
];
/// Switches of the grown catalog.
pub(super) const SWITCHES: [&str; 32] = [
    "apps.adminConsentWorkflow",
    "apps.userRegistrationBlocked",
    "apps.userConsentDisabled",
    "tenants.userCreationBlocked",
    "groups.userCreationBlocked",
    "groups.m365CreationRestricted",
    "guests.accessRestricted",
    "guests.invitesLimited",
    "authMethods.smsDisabled",
    "authMethods.voiceDisabled",
    "authMethods.emailOtpDisabled",
    "authMethods.authenticatorContextShown",
    "authMethods.systemPreferredEnabled",
    "authMethods.migrationComplete",
    "authMethods.authenticatorLiteDisabled",
    "devices.bitLockerKeyReadBlocked",
    "devices.joinRestricted",
    "devices.globalAdminsNotLocalAdmins",
    "devices.registeringUsersNotLocalAdmins",
    "devices.lapsEnabled",
    "locations.trustedIpRangeDefined",
    "passwordProtection.customListEnforced",
    "appCredentials.passwordAdditionBlocked",
    "appCredentials.customPasswordBlocked",
    "appCredentials.passwordLifetimeLimited",
    "appCredentials.certificateLifetimeLimited",
    "crossTenant.collaborationInboundBlocked",
    "pim.globalAdminApprovalRequired",
    "pim.privilegedRoleAdminApprovalRequired",
    "pim.globalAdminActivationAlerted",
    "accessReviews.guests",
    "accessReviews.globalAdmins",
];
/// Counts of the grown catalog: `(path, lowest, highest)` a tenant drifts between.
pub(super) const COUNTS: [(&str, i64, i64); 5] = [
    ("passwordProtection.lockoutThreshold", 3, 20),
    ("passwordProtection.lockoutDurationSeconds", 30, 120),
    ("devices.userQuota", 5, 50),
    ("pim.permanentPrivilegedAssignments", 0, 6),
    ("pim.assignmentsOutsidePim", 0, 4),
];

/// A tenant's configuration, drifting day by day.
pub(super) struct Posture {
    users: f64,
    admins: f64,
    admin_mfa: f64,
    mfa: f64,
    legacy_blocked: f64,
    sign_in_risk: f64,
    user_risk: f64,
    never_expire: bool,
    consent_restricted: bool,
    global_admins: i64,
    sspr: bool,
    weekly_review: bool,
    member_shares: [f64; MEMBER_SHARES.len()],
    admin_shares: [f64; ADMIN_SHARES.len()],
    role_shares: [f64; ROLE_SHARES.len()],
    switches: [bool; SWITCHES.len()],
    counts: [i64; COUNTS.len()],
    /// Synchronized from on-premises, enforcing password protection there or not.
    hybrid: Option<bool>,
    /// A collector that sends no user-risk or SSPR facts, so the demo shows partial coverage.
    partial_collector: bool,
    /// Entra ID P2 held (P1 always is): without it the risk policies read NOT_LICENSED.
    entra_p2: bool,
    /// A break-glass pair named and excluded from every policy, one with a passkey.
    emergency_pair: bool,
}

impl Posture {
    pub(super) fn new(rng: &mut ChaCha8Rng, seats: i32, index: usize) -> Self {
        Posture {
            users: f64::from(seats.max(1)),
            admins: f64::from(rng.random_range(2..7)),
            admin_mfa: rng.random_range(0.0..0.6),
            mfa: rng.random_range(0.1..0.7),
            legacy_blocked: rng.random_range(0.0..0.5),
            sign_in_risk: rng.random_range(0.0..0.4),
            user_risk: rng.random_range(0.0..0.4),
            never_expire: rng.random_bool(0.4),
            consent_restricted: rng.random_bool(0.3),
            global_admins: rng.random_range(1..8),
            sspr: rng.random_bool(0.5),
            weekly_review: rng.random_bool(0.2),
            member_shares: std::array::from_fn(|_| rng.random_range(0.0..0.6)),
            admin_shares: std::array::from_fn(|_| rng.random_range(0.0..0.8)),
            role_shares: std::array::from_fn(|_| rng.random_range(0.0..0.8)),
            switches: std::array::from_fn(|_| rng.random_bool(0.4)),
            counts: std::array::from_fn(|i| rng.random_range(COUNTS[i].1..=COUNTS[i].2)),
            hybrid: (index % 3 == 1).then(|| rng.random_bool(0.5)),
            // Every fourth tenant's collector is partial: its scores show a coverage below
            // 100 %. Every third (contoso first) lacks P2; every other one names a break-glass pair.
            partial_collector: index % 4 == 3,
            entra_p2: !index.is_multiple_of(3),
            emergency_pair: index.is_multiple_of(2),
        }
    }

    /// One day's drift: mostly improving, sometimes regressing.
    pub(super) fn step(&mut self, rng: &mut ChaCha8Rng) {
        let drift = |rng: &mut ChaCha8Rng, share: f64| {
            (share + rng.random_range(-0.03..0.04)).clamp(0.0, 1.0)
        };
        self.admin_mfa = drift(rng, self.admin_mfa);
        self.mfa = drift(rng, self.mfa);
        self.legacy_blocked = drift(rng, self.legacy_blocked);
        self.sign_in_risk = drift(rng, self.sign_in_risk);
        self.user_risk = drift(rng, self.user_risk);
        if rng.random_bool(0.04) {
            self.never_expire = !self.never_expire;
        }
        if rng.random_bool(0.03) {
            self.consent_restricted = !self.consent_restricted;
        }
        if rng.random_bool(0.05) {
            self.global_admins = (self.global_admins + rng.random_range(-1..2)).clamp(1, 8);
        }
        if rng.random_bool(0.03) {
            self.sspr = !self.sspr;
        }
        if rng.random_bool(0.1) {
            self.weekly_review = !self.weekly_review;
        }
        for share in self
            .member_shares
            .iter_mut()
            .chain(self.admin_shares.iter_mut())
            .chain(self.role_shares.iter_mut())
        {
            *share = drift(rng, *share);
        }
        for (count, (_, lowest, highest)) in self.counts.iter_mut().zip(COUNTS) {
            if rng.random_bool(0.03) {
                *count = (*count + rng.random_range(-1..2)).clamp(lowest, highest);
            }
        }
        for switch in &mut self.switches {
            if rng.random_bool(0.02) {
                *switch = !*switch;
            }
        }
    }

    pub(super) fn facts(&self) -> Value {
        let users = |share: f64| (self.users * share).round();
        let mut facts = json!({
            "users": {
                "total": self.users,
                "mfaRegistered": users(self.mfa),
                "legacyAuthBlocked": users(self.legacy_blocked),
                "signInRiskCovered": users(self.sign_in_risk),
                "userRiskCovered": users(self.user_risk),
            },
            "admins": { "total": self.admins, "mfaProtected": (self.admins * self.admin_mfa).round() },
            "passwordPolicy": { "neverExpires": self.never_expire },
            "apps": { "userConsentRestricted": self.consent_restricted },
            "roles": { "globalAdmins": self.global_admins },
            "sspr": { "enabled": self.sspr },
            "reviews": { "signInWeekly": self.weekly_review },
            "licenses": { "entraP1": true, "entraP2": self.entra_p2, "entraIdGovernance": false },
            "emergencyAccess": if self.emergency_pair {
                json!({ "accounts": 2, "excludedFromAllPolicies": true, "phishingResistant": 1 })
            } else {
                json!({ "accounts": 0, "excludedFromAllPolicies": false, "phishingResistant": 0 })
            },
        });
        if let Some(all) = facts.as_object_mut() {
            for (path, share) in MEMBER_SHARES.iter().zip(self.member_shares) {
                set_path(all, path, json!(users(share)));
            }
            for (path, share) in ADMIN_SHARES.iter().zip(self.admin_shares) {
                set_path(all, path, json!((self.admins * share).round()));
            }
            for (path, share) in ROLE_SHARES.iter().zip(self.role_shares) {
                set_path(all, path, json!((PIM_ROLES * share).round()));
            }
            set_path(all, "pim.privilegedRoles", json!(PIM_ROLES));
            for (path, on) in SWITCHES.iter().zip(self.switches) {
                set_path(all, path, json!(on));
            }
            for ((path, _, _), count) in COUNTS.iter().zip(self.counts) {
                set_path(all, path, json!(count));
            }
            set_path(
                all,
                "hybrid.synchronized",
                json!(i64::from(self.hybrid.is_some())),
            );
            set_path(
                all,
                "passwordProtection.onPremisesEnforced",
                json!(i64::from(self.hybrid == Some(true))),
            );
        }
        if self.partial_collector
            && let Some(all) = facts.as_object_mut()
        {
            all.remove("sspr");
            if let Some(users) = all.get_mut("users").and_then(Value::as_object_mut) {
                users.remove("userRiskCovered");
            }
        }
        facts
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::demo::changes::lookup as at;
    use crate::service::catalog::BuiltInCatalog;

    #[test]
    fn every_fact_of_the_built_in_catalog_is_in_the_demo() {
        let catalog = BuiltInCatalog::shipped().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // A full collector (index 0) and the partial one (index 3), which leaves two out.
        let full = Posture::new(&mut rng, 250, 0).facts();
        let partial = Posture::new(&mut rng, 250, 3).facts();
        for fact in &catalog.facts {
            if fact.path == "securityDefaults.enabled" {
                continue; // collected by the connector, read by no action
            }
            assert!(at(&full, &fact.path).is_some(), "{} missing", fact.path);
        }
        assert!(at(&partial, "sspr.enabled").is_none());
        assert!(at(&partial, "users.userRiskCovered").is_none());
    }
}
