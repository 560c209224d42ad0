//! Webhook deliveries as jobs of the job engine every replica runs: each due delivery is
//! claimed by one replica, which POSTs the signed alert to the endpoint's address as resolved
//! and checked now, records the attempt, and schedules the next one on the Standard Webhooks
//! schedule until a 2xx answer or the last attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::enums::DeliveryStatus;
use entity::{alert, alert_rule, webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait,
    UpdateMany,
};

use super::address::{parse_url, resolve};
use super::payload::alert_body;
use super::signing::{signature, signing_key};
use crate::config::WebhookConfig;
use crate::jobs::{Backoff, Claimed, Job, JobTable, Queue};
use crate::secrets::SecretsKey;

/// Pauses after each failed attempt; after the last the delivery is FAILED.
pub const RETRIES: Backoff = Backoff(&[
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
]);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim lasts: a replica that dies mid-attempt gives the delivery back after it.
const CLAIM_LEASE: Duration = Duration::from_secs(60);
/// An endpoint whose every attempt failed for this long is disabled.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(3);

/// A claimed delivery.
type Claim = Claimed<webhook_delivery::Entity>;

impl JobTable for webhook_delivery::Entity {
    const ID: webhook_delivery::Column = webhook_delivery::Column::Id;
    const CLAIM_TOKEN: webhook_delivery::Column = webhook_delivery::Column::ClaimToken;
    const LEASE_UNTIL: webhook_delivery::Column = webhook_delivery::Column::ClaimedUntil;
    const ORDER: webhook_delivery::Column = webhook_delivery::Column::NextAttemptAt;
    /// A delivery counts the attempts it made, not its claims.
    const CLAIMS: Option<webhook_delivery::Column> = None;

    /// Pending, due, not claimed or with a lapsed claim, to an endpoint that is enabled.
    fn claimable(now: DateTime<Utc>) -> Condition {
        let live_endpoints = Query::select()
            .column(webhook_endpoint::Column::Id)
            .from(webhook_endpoint::Entity)
            .and_where(Expr::col(webhook_endpoint::Column::Enabled).eq(true))
            .and_where(Expr::col(webhook_endpoint::Column::DeletedAt).is_null())
            .to_owned();
        let column = |c: webhook_delivery::Column| Expr::col((webhook_delivery::Entity, c));
        Condition::all()
            .add(column(webhook_delivery::Column::Status).eq(DeliveryStatus::Pending.as_str()))
            .add(column(webhook_delivery::Column::NextAttemptAt).lte(now))
            .add(
                column(webhook_delivery::Column::ClaimedUntil)
                    .is_null()
                    .or(column(webhook_delivery::Column::ClaimedUntil).lt(now)),
            )
            .add(column(webhook_delivery::Column::EndpointId).in_subquery(live_endpoints))
    }

    fn mark_claimed(update: UpdateMany<Self>, _: &str, _: DateTime<Utc>) -> UpdateMany<Self> {
        update
    }

    fn id_of(delivery: &webhook_delivery::Model) -> i64 {
        delivery.id
    }
}

/// Webhook deliveries as jobs of the job engine on this replica; cheap to clone.
#[derive(Clone)]
pub struct Deliveries {
    inner: Arc<Shared>,
}

struct Shared {
    queue: Queue,
    config: WebhookConfig,
    secrets: SecretsKey,
}

impl Deliveries {
    /// Deliveries claimed by `replica`, looked for every `config.poll` when idle.
    pub fn new(
        db: DatabaseConnection,
        replica: &str,
        config: WebhookConfig,
        secrets: SecretsKey,
    ) -> Deliveries {
        Deliveries {
            inner: Arc::new(Shared {
                queue: Queue::new(db, replica, CLAIM_LEASE, config.poll),
                config,
                secrets,
            }),
        }
    }
}

impl Job for Deliveries {
    type Table = webhook_delivery::Entity;
    const NAME: &'static str = "webhook delivery";

    fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// Attempts the claimed delivery and records the attempt.
    async fn run(&self, claim: Claim) -> Result<(), DbErr> {
        let db = &self.inner.queue.db;
        let delivery = &claim.job;
        let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
            .one(db)
            .await?
            .ok_or_else(|| DbErr::Custom(format!("endpoint {} vanished", delivery.endpoint_id)))?;
        let body = match &delivery.body {
            Some(body) => body.clone(),
            None => legacy_body(db, delivery).await?,
        };
        let started = Instant::now();
        let outcome = attempt(
            delivery,
            &endpoint,
            body.into_bytes(),
            &self.inner.config,
            &self.inner.secrets,
        )
        .await;
        let took = started.elapsed();
        record(db, &claim, &endpoint, outcome, took).await
    }
}

/// The body of a delivery queued before bodies were stored: rendered from its alert (whose
/// raising time is the payload's timestamp) and stored, so its later attempts send the same.
async fn legacy_body(
    db: &DatabaseConnection,
    delivery: &webhook_delivery::Model,
) -> Result<String, DbErr> {
    let alert = alert::Entity::find_by_id(delivery.alert_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("alert {} vanished", delivery.alert_id)))?;
    let rule = alert_rule::Entity::find_by_id(alert.rule_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("rule {} vanished", alert.rule_id)))?;
    let body = alert_body(&alert, &rule);
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Body, Expr::value(body.clone()))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Body.is_null())
        .exec(db)
        .await?;
    Ok(body)
}

/// What one attempt got.
struct Outcome {
    /// The HTTP status, when an answer came back.
    status: Option<u16>,
    /// Why it failed, when it did.
    error: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// POSTs the stored body, signed now, to the endpoint's address as resolved and checked now.
async fn attempt(
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    body: Vec<u8>,
    config: &WebhookConfig,
    secrets: &SecretsKey,
) -> Outcome {
    let failed = |error: String| Outcome {
        status: None,
        error: Some(error),
    };
    let target = match parse_url(&endpoint.url, config.allow_private) {
        Ok(target) => target,
        Err(error) => return failed(error),
    };
    let address = match resolve(&target, config.allow_private).await {
        Ok(address) => address,
        Err(error) => return failed(error),
    };
    let id = format!("msg_{}", delivery.id);
    let timestamp = Utc::now().timestamp();
    let key = match signing_key(secrets, &endpoint.tenant_id, &endpoint.signing_key) {
        Ok(key) => key,
        Err(error) => return failed(error),
    };
    let signed = match signature(&key, &id, timestamp, &body) {
        Ok(signed) => signed,
        Err(error) => return failed(error),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .resolve(&target.host, address)
        .user_agent(concat!("securescore/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => return failed(format!("building the HTTP client: {e}")),
    };
    let sent = client
        .post(target.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Outcome {
            status: Some(response.status().as_u16()),
            error: None,
        },
        Ok(response) => Outcome {
            status: Some(response.status().as_u16()),
            error: Some(format!("the endpoint answered {}", response.status())),
        },
        Err(e) if e.is_timeout() => {
            failed(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))
        }
        Err(e) if e.is_connect() => failed(format!("cannot connect to {address}")),
        Err(e) => failed(format!("the request failed: {e}")),
    }
}

/// Stores the attempt and its consequences, if the claim is still ours.
async fn record(
    db: &DatabaseConnection,
    claim: &Claim,
    endpoint: &webhook_endpoint::Model,
    outcome: Outcome,
    took: Duration,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let attempts = claim.job.attempts + 1;
    let (status, next) = if outcome.succeeded() {
        (DeliveryStatus::Succeeded, None)
    } else {
        match RETRIES.after(attempts) {
            Some(pause) => (DeliveryStatus::Pending, Some(now + pause)),
            None => (DeliveryStatus::Failed, None),
        }
    };
    metrics::counter!(
        crate::telemetry::WEBHOOK_ATTEMPTS,
        "outcome" => if outcome.succeeded() { "succeeded" } else { "failed" }
    )
    .increment(1);
    let txn = db.begin().await?;
    let update = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(status.as_str()),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LastResponseStatus,
            Expr::value(outcome.status.map(i32::from)),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(outcome.error.clone()),
        );
    if !claim
        .finish_if_claimed(&txn, Claim::released(update))
        .await?
    {
        // The claim lapsed and another replica took the delivery over; its record counts.
        return txn.rollback().await;
    }
    if status != DeliveryStatus::Pending {
        crate::telemetry::count_delivery(status, 1);
    }
    webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
        delivery_id: Set(claim.job.id),
        attempted_at: Set(now),
        response_status: Set(outcome.status.map(i32::from)),
        duration_ms: Set(i64::try_from(took.as_millis()).unwrap_or(i64::MAX)),
        error: Set(outcome.error.clone()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    record_endpoint_health(&txn, endpoint, &outcome, now).await?;
    txn.commit().await
}

/// Clears or starts the endpoint's failing streak, and disables it after [`DISABLE_AFTER`].
async fn record_endpoint_health(
    txn: &sea_orm::DatabaseTransaction,
    endpoint: &webhook_endpoint::Model,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let update = webhook_endpoint::Entity::update_many()
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id));
    let update = match (outcome.succeeded(), endpoint.failing_since) {
        (true, _) => update.col_expr(
            webhook_endpoint::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
        (false, None) => update.col_expr(webhook_endpoint::Column::FailingSince, Expr::value(now)),
        (false, Some(since)) if now - since >= DISABLE_AFTER => update
            .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
            .col_expr(
                webhook_endpoint::Column::DisabledReason,
                Expr::value(format!(
                    "every delivery failed since {}; last error: {}",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    outcome.error.as_deref().unwrap_or("unknown")
                )),
            ),
        (false, Some(_)) => return Ok(()),
    };
    update.exec(txn).await.map(|_| ())
}
