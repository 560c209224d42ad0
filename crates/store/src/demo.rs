//! Demo mode: a dozen tenants with 90 days of drifting configuration, overrides and scores,
//! all written through the same services as real data, and a ready token per role.

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDate, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::collector::Collector;
use crate::domain::ActionState;
use crate::domain::AlertKind;
use crate::domain::ScoringRunKind;
use crate::error::{ApiError, ApiResult};
use crate::msgraph::credential::Credential;
use crate::pipeline::Pipeline;
use crate::pipeline::tasks::RunRequest;
use crate::scoring::alerts::RuleSettings;
use crate::service::alerts::{self, NewRule};
use crate::service::connections::{self, ConnectionInput, SignIn};
use crate::service::daily_scores::DateRange;
use crate::service::directory_changes::keep_changes;
use crate::service::overrides::{self, OverrideChange};
use crate::service::plans::{self, PlanInput};
use crate::service::snapshots::{self, SnapshotInput};
use crate::service::tenants::{self, NewTenant};

mod changes;
mod posture;
mod tokens;

use changes::demo_changes;
use posture::Posture;
pub use tokens::{DemoToken, DemoTokens};

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
            sign_in: SignIn::Own {
                client_id: "00000000-0000-0000-0000-000000000001".into(),
                credential,
            },
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
