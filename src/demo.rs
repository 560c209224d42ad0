//! Demo mode: a dozen tenants with 90 days of drifting configuration, overrides and scores,
//! all written through the same services as real data, and a ready token per role.

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDate, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::auth::mint::{TokenRequest, mint_hs256};
use crate::demo_changes::demo_changes;
use crate::domain::AlertKind;
use crate::domain::ScoringRunKind;
use crate::domain::{ActionState, Role};
use crate::error::{ApiError, ApiResult};
use crate::graph::credential::Credential;
use crate::graph::worker::Collector;
use crate::pipeline::Pipeline;
use crate::pipeline::tasks::RunRequest;
use crate::scoring::alerts::RuleSettings;
use crate::scoring::facts::set_path;
use crate::service::alerts::{self, NewRule};
use crate::service::connections::{self, ConnectionInput};
use crate::service::daily_scores::DateRange;
use crate::service::directory_changes::keep_changes;
use crate::service::overrides::{self, OverrideChange};
use crate::service::plans::{self, PlanInput};
use crate::service::snapshots::{self, SnapshotInput};
use crate::service::tenants::{self, NewTenant};

/// Days of history the demo creates, today included.
pub const DEMO_DAYS: i64 = 90;
/// The tenant the demo's tenant-scoped tokens belong to.
pub const DEMO_TENANT: &str = "contoso";

/// (id, name, industry, seats): six Finance tenants and six in 101–1,000 seats, so that for a
/// reader of one of them five others stay out of reach and those groups' averages show (at the
/// default minimum of five), while smaller groups stay hidden.
const DEMO_TENANTS: &[(&str, &str, &str, i32)] = &[
    ("contoso", "Contoso Ltd", "Finance", 250),
    ("woodgrove-bank", "Woodgrove Bank", "Finance", 12_000),
    ("humongous-insurance", "Humongous Insurance", "Finance", 700),
    ("fabrikam-capital", "Fabrikam Capital", "Finance", 140),
    ("relecloud-credit", "Relecloud Credit Union", "Finance", 35),
    ("tailwind-traders", "Tailwind Traders Bank", "Finance", 600),
    ("adventure-works", "Adventure Works Cycles", "Retail", 320),
    ("northwind-traders", "Northwind Traders", "Retail", 45),
    ("wingtip-toys", "Wingtip Toys", "Retail", 8),
    ("litware", "Litware Inc", "Technology", 60),
    ("proseware", "Proseware", "Technology", 1_500),
    ("lamna-healthcare", "Lamna Healthcare", "Healthcare", 3_000),
    ("margies-travel", "Margie's Travel", "Transportation", 480),
];

/// A fresh random HS256 secret for one demo run.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seeds tenants, snapshots, overrides and 90 days of scores when there are no tenants yet.
pub async fn seed_if_empty(
    db: &DatabaseConnection,
    pipeline: &Pipeline,
    collector: &Collector,
) -> ApiResult<()> {
    if entity::tenant::Entity::find().count(db).await? > 0 {
        tracing::info!("demo: the database already has tenants; not seeding");
        return Ok(());
    }
    let today = Utc::now().date_naive();
    let first_day = today - Duration::days(DEMO_DAYS - 1);
    for (index, &(id, name, industry, seats)) in DEMO_TENANTS.iter().enumerate() {
        tenants::create_tenant(db, NewTenant::parse(id, name, Some(industry), seats)?).await?;
        // Most tenants aim for 70 to 85 %; every fifth has not set a goal yet.
        if index % 5 != 4 {
            tenants::set_goal(db, id, Some(70.0 + 5.0 * (index % 4) as f64)).await?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(index as u64 + 1);
        seed_history(db, &mut rng, id, seats, first_day, today, index).await?;
    }
    seed_alert_rules(db).await?;
    seed_plans(db, today).await?;
    seed_connection(db, collector).await?;
    let request = RunRequest {
        kind: ScoringRunKind::Recompute,
        range: DateRange::parse(first_day, today)?,
        tenant_ids: None,
        tenant_id: None,
        requested_by: Some("demo".into()),
    };
    let run = pipeline.run(request, StdDuration::from_secs(600)).await?;
    tracing::info!(
        tenants = run.tenants_scored,
        days = run.tenant_days_done,
        status = ?run.status,
        "demo data seeded"
    );
    Ok(())
}

/// Contoso's plans: owners, due dates behind and ahead (so the forecast climbs and one is
/// overdue), tags and notes.
async fn seed_plans(db: &DatabaseConnection, today: NaiveDate) -> ApiResult<()> {
    let plans: [(&str, &str, i64, &[&str], &str); 5] = [
        (
            "MFARegistration",
            "identity-team@contoso.example",
            -4,
            &["q4", "identity"],
            "Registration campaign for the last departments",
        ),
        (
            "BlockLegacyAuthentication",
            "identity-team@contoso.example",
            12,
            &["q4", "conditional-access"],
            "Retire the old mail clients first",
        ),
        (
            "PhishingResistantMFAForAdmins",
            "secops@contoso.example",
            25,
            &["admins"],
            "FIDO2 keys ordered for every admin",
        ),
        (
            "DisableSmsSignIn",
            "secops@contoso.example",
            40,
            &["methods"],
            "",
        ),
        (
            "RequireManagedDevice",
            "endpoint-team@contoso.example",
            75,
            &["devices"],
            "After the Intune roll-out",
        ),
    ];
    for (action, owner, due_in, tags, notes) in plans {
        plans::set_plan(
            db,
            PlanInput {
                tenant_id: DEMO_TENANT.into(),
                action_id: action.into(),
                assigned_to: Some(owner.into()),
                due_date: Some(today + Duration::days(due_in)),
                notes: Some(notes.into()),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            },
            "demo",
        )
        .await?;
    }
    Ok(())
}

/// The demo tenant's directory connection: a directory and app that exist nowhere, so its
/// first collection (queued now) fails for real and the connection says why. Nothing is
/// collected or faked.
async fn seed_connection(db: &DatabaseConnection, collector: &Collector) -> ApiResult<()> {
    let credential =
        Credential::from_input(Some("demo-secret-that-signs-in-nowhere".into()), None, None)
            .map_err(ApiError::BadUserInput)?;
    connections::set_connection(
        db,
        collector.secrets(),
        ConnectionInput {
            tenant_id: DEMO_TENANT.into(),
            directory_id: "00000000-0000-0000-0000-000000000000".into(),
            client_id: "00000000-0000-0000-0000-000000000001".into(),
            credential,
            enabled: true,
        },
    )
    .await?;
    connections::request_collection(db, DEMO_TENANT, Some("demo"), collector.collect_interval())
        .await?;
    collector.wake();
    Ok(())
}

/// Alert rules created before the history is scored, so the random walk's drops show as
/// alerts: the demo tenant watches for a fall of 2 points in a day, for a score under 35 % and
/// for plans past their due date, Woodgrove Bank for any action losing points.
async fn seed_alert_rules(db: &DatabaseConnection) -> ApiResult<()> {
    let rules = [
        (DEMO_TENANT, AlertKind::Drop, Some(2.0)),
        (DEMO_TENANT, AlertKind::BelowPercentage, Some(35.0)),
        (DEMO_TENANT, AlertKind::PlanOverdue, None),
        ("woodgrove-bank", AlertKind::Regression, None),
    ];
    for (tenant_id, kind, threshold) in rules {
        alerts::create_rule(
            db,
            NewRule {
                tenant_id: tenant_id.into(),
                settings: RuleSettings {
                    kind,
                    threshold,
                    window_days: 1,
                },
                enabled: true,
                created_by: "demo".into(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Member coverage facts of the grown catalog, each a share of the members.
const MEMBER_SHARES: [&str; 11] = [
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
const ADMIN_SHARES: [&str; 6] = [
    "admins.phishingResistantRequired",
    "admins.phishingResistantRegistered",
    "admins.cloudOnly",
    "admins.signInFrequencyLimited",
    "admins.reducedLicenseFootprint",
    "admins.withoutGlobalAdmin",
];
/// Privileged roles whose PIM policies the demo's tenants report.
const PIM_ROLES: f64 = 8.0;
/// PIM facts, each a share of those roles.
const ROLE_SHARES: [&str; 2] = [
    "pim.privilegedRolesAlertingOnAssignment",
    "pim.privilegedRolesAlertingOnActivation",
];
/// Switches of the grown catalog.
const SWITCHES: [&str; 31] = [
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
    "pim.globalAdminApprovalRequired",
    "pim.privilegedRoleAdminApprovalRequired",
    "pim.globalAdminActivationAlerted",
    "accessReviews.guests",
    "accessReviews.globalAdmins",
];
/// Counts of the grown catalog: `(path, lowest, highest)` a tenant drifts between.
const COUNTS: [(&str, i64, i64); 5] = [
    ("passwordProtection.lockoutThreshold", 3, 20),
    ("passwordProtection.lockoutDurationSeconds", 30, 120),
    ("devices.userQuota", 5, 50),
    ("pim.permanentPrivilegedAssignments", 0, 6),
    ("pim.assignmentsOutsidePim", 0, 4),
];

/// A tenant's configuration, drifting day by day.
struct Posture {
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
    fn new(rng: &mut ChaCha8Rng, seats: i32, index: usize) -> Self {
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
    fn step(&mut self, rng: &mut ChaCha8Rng) {
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

    fn facts(&self) -> Value {
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

/// Overrides the demo sets: (day offset, action, state, comment).
const DEMO_OVERRIDES: &[(i64, &str, ActionState, &str)] = &[
    (
        20,
        "UserRiskPolicy",
        ActionState::ThirdParty,
        "Covered by our third-party identity protection",
    ),
    (
        35,
        "MFARegistration",
        ActionState::Planned,
        "Roll-out planned for next quarter",
    ),
    (
        50,
        "SigninRiskPolicy",
        ActionState::RiskAccepted,
        "Accepted until the licence upgrade",
    ),
    (
        60,
        "PasswordsNeverExpire",
        ActionState::Ignored,
        "Handled by the on-premises directory",
    ),
    (
        75,
        "PasswordsNeverExpire",
        ActionState::Default,
        "Back under cloud policy",
    ),
];

async fn seed_history(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    tenant_id: &str,
    seats: i32,
    first_day: NaiveDate,
    today: NaiveDate,
    index: usize,
) -> ApiResult<()> {
    let mut posture = Posture::new(rng, seats, index);
    // Every third tenant starts collecting a few days late, so its first days have no score.
    let first_collected = if index % 3 == 2 { 4 } else { 0 };
    let now = Utc::now();
    let mut previous: Option<(Value, chrono::DateTime<Utc>)> = None;
    for (offset, date) in DateRange::parse(first_day, today)?.days().enumerate() {
        let offset = offset as i64;
        posture.step(rng);
        let skipped = rng.random_bool(0.08) && offset > first_collected;
        if offset >= first_collected && !skipped {
            let at = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
                + Duration::seconds(rng.random_range(3_600..80_000));
            let captured_at = at.min(now - Duration::minutes(1));
            let facts = posture.facts();
            if let Some((before, before_at)) = &previous {
                let changes = demo_changes(tenant_id, (before, *before_at), (&facts, captured_at));
                keep_changes(db, tenant_id, &changes).await?;
            }
            snapshots::ingest_snapshot(
                db,
                SnapshotInput {
                    tenant_id: tenant_id.to_owned(),
                    captured_at,
                    facts: facts.clone(),
                    idempotency_key: Some(format!("demo-{tenant_id}-{date}")),
                },
            )
            .await?;
            previous = Some((facts, captured_at));
        }
        for &(day, action, state, comment) in DEMO_OVERRIDES {
            if day == offset && (index + day as usize).is_multiple_of(2) {
                let updated_at =
                    (date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()).min(now);
                overrides::append_overrides(
                    db,
                    OverrideChange {
                        tenant_ids: vec![tenant_id.to_owned()],
                        action_ids: vec![action.to_owned()],
                        state,
                        comment: Some(comment.to_owned()),
                        expires_at: None,
                        updated_by: format!("admin@{tenant_id}.example"),
                        updated_at,
                    },
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The demo's partner: a GlobalAdmin of `contoso` who also looks after these tenants.
const DEMO_PARTNER_TENANTS: &[&str] = &["contoso", "woodgrove-bank", "adventure-works", "litware"];

/// One ready-made demo token: what it grants and the JWT itself.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoToken {
    /// What to call it in a picker, e.g. `SecurityReader` or `Partner (GlobalAdmin)`.
    pub label: String,
    /// The role claim it carries.
    pub role: &'static str,
    /// Its `sub` claim.
    pub subject: String,
    /// The tenants it reaches (empty for a PlatformAdmin: all of them).
    pub tenants: Vec<String>,
    /// The signed JWT.
    pub token: String,
}

/// Mints the demo's tokens with the run's secret and configured `iss`/`aud`: one per role
/// (tenant-scoped ones reach `contoso`) and a partner's reaching several tenants, valid a day.
#[derive(Clone)]
pub struct DemoTokens {
    secret: SecretString,
    issuer: Option<String>,
    audience: Option<String>,
}

impl DemoTokens {
    /// Tokens signed with `secret`, carrying `issuer` and `audience` when the server checks them.
    pub fn new(secret: SecretString, issuer: Option<String>, audience: Option<String>) -> Self {
        DemoTokens {
            secret,
            issuer,
            audience,
        }
    }

    /// A fresh set of tokens, valid for a day from now.
    pub fn mint(&self) -> Vec<DemoToken> {
        let mut grants: Vec<(String, Role, String, Vec<String>)> = Role::ALL
            .iter()
            .map(|&role| {
                let tenants = match role {
                    Role::PlatformAdmin => Vec::new(),
                    _ => vec![DEMO_TENANT.to_owned()],
                };
                let subject = format!("demo-{}", role.claim_name().to_lowercase());
                (role.claim_name().to_owned(), role, subject, tenants)
            })
            .collect();
        grants.push((
            "Partner (GlobalAdmin)".to_owned(),
            Role::GlobalAdmin,
            "demo-partner".to_owned(),
            DEMO_PARTNER_TENANTS.iter().map(|&t| t.to_owned()).collect(),
        ));
        grants
            .into_iter()
            .filter_map(|(label, role, subject, tenants)| {
                let request = TokenRequest {
                    subject: subject.clone(),
                    roles: vec![role],
                    tenants: tenants.clone(),
                    ttl: StdDuration::from_secs(24 * 3600),
                    issuer: self.issuer.clone(),
                    audience: self.audience.clone(),
                };
                match mint_hs256(&self.secret, &request) {
                    Ok(token) => Some(DemoToken {
                        label,
                        role: role.claim_name(),
                        subject,
                        tenants,
                        token,
                    }),
                    Err(err) => {
                        tracing::error!(error = %err, "demo: cannot mint a token");
                        None
                    }
                }
            })
            .collect()
    }

    /// Prints the tokens, ready to paste.
    pub fn print(&self, address: &str) {
        println!(
            "\nsecurescore demo tokens (valid 24h; tenant-scoped ones reach `{DEMO_TENANT}`)."
        );
        println!("Open http://{address}/ for the dashboard (it offers these tokens), or");
        println!("in GraphiQL at /graphql, paste one into the Bearer token field.\n");
        for token in self.mint() {
            println!("{:<22} {}", token.label, token.token);
        }
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::catalog::BuiltInCatalog;

    /// The fact at a dotted path, if the document has it.
    fn at<'a>(facts: &'a Value, path: &str) -> Option<&'a Value> {
        path.split('.').try_fold(facts, |node, key| node.get(key))
    }

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
