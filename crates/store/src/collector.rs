//! Directory collections as jobs of the job engine every replica runs: due scheduled
//! collections are queued (exactly once across replicas) at each tick, a claimed collection has
//! its lease renewed while the connector reads the directory, and what it read is stored only
//! while the claim holds: the snapshot goes in through the collectors' ingest path, so today
//! rescores live and alerts follow. The connector (`crate::msgraph`) only reads.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entity::enums::CollectionStatus;
use entity::{collection_run, graph_connection};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, TransactionTrait, UpdateMany,
};
use serde_json::json;
use tokio::sync::Notify;

use crate::config::GraphConfig;
use crate::jobs::{Claimed, Job, JobTable, Queue};
use crate::msgraph::audit::FIRST_READ_DAYS;
use crate::msgraph::client::GraphClient;
use crate::msgraph::collect::{Collected, EndpointOutcome, collect};
use crate::msgraph::credential::Credential;
use crate::pipeline::{LiveRequest, Pipeline};
use crate::secrets::SecretsKey;
use crate::service::catalog::AuditIndex;
use crate::service::connection_state::{Ended, lock_connection, record_ended};
use crate::service::connections::{
    credential_purpose, find_collection, find_connection, plan_due_collections,
};
use crate::service::directory_changes::keep_changes;
use crate::service::emergency_access::emergency_accounts_of;
use crate::service::partner_application::{self, find_partner_application};
use crate::service::snapshots::{SnapshotInput, ingest_snapshot};
use crate::service::tenants::find_tenant;

/// Claims after which a collection that keeps losing its replica is given up.
const MAX_CLAIMS: i32 = 3;

/// What the worker and `collectNow` share on one replica.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Shared>,
}

struct Shared {
    /// Collections as the job engine claims them here.
    queue: Queue,
    config: GraphConfig,
    secrets: SecretsKey,
    pipeline: Pipeline,
    /// Wakes `collectNow` requests waiting here when a collection ends.
    finished: Notify,
}

/// A claimed collection.
type Claim = Claimed<collection_run::Entity>;

impl JobTable for collection_run::Entity {
    const ID: collection_run::Column = collection_run::Column::Id;
    const CLAIM_TOKEN: collection_run::Column = collection_run::Column::ClaimToken;
    const LEASE_UNTIL: collection_run::Column = collection_run::Column::LeaseUntil;
    const ORDER: collection_run::Column = collection_run::Column::Id;
    const CLAIMS: Option<collection_run::Column> = Some(collection_run::Column::Attempts);

    /// Queued, or running with a lapsed lease (a dead replica's).
    fn claimable(now: DateTime<Utc>) -> Condition {
        Condition::any()
            .add(collection_run::Column::Status.eq(CollectionStatus::Queued.as_str()))
            .add(
                Condition::all()
                    .add(collection_run::Column::Status.eq(CollectionStatus::Running.as_str()))
                    .add(collection_run::Column::LeaseUntil.lt(now)),
            )
    }

    /// RUNNING by `replica`, started now unless a claim before this one started it.
    fn mark_claimed(
        update: UpdateMany<Self>,
        replica: &str,
        now: DateTime<Utc>,
    ) -> UpdateMany<Self> {
        update
            .col_expr(
                collection_run::Column::Status,
                Expr::value(CollectionStatus::Running.as_str()),
            )
            .col_expr(
                collection_run::Column::ClaimedBy,
                Expr::value(replica.to_owned()),
            )
            .col_expr(
                collection_run::Column::StartedAt,
                Func::coalesce([
                    Expr::col(collection_run::Column::StartedAt),
                    Expr::value(now),
                ])
                .into(),
            )
    }

    fn id_of(run: &collection_run::Model) -> i64 {
        run.id
    }
}

impl Collector {
    /// A collector for this replica; the worker starts with [`Collector::run`].
    pub fn new(
        db: DatabaseConnection,
        config: GraphConfig,
        secrets: SecretsKey,
        pipeline: Pipeline,
    ) -> Collector {
        let queue = Queue::new(db, pipeline.replica(), config.lease, config.poll);
        Collector {
            inner: Arc::new(Shared {
                queue,
                config,
                secrets,
                pipeline,
                finished: Notify::new(),
            }),
        }
    }

    /// The key credentials and webhook signing keys are sealed under.
    pub fn secrets(&self) -> &SecretsKey {
        &self.inner.secrets
    }

    /// The connector's endpoints, schedule and public address.
    pub fn config(&self) -> &GraphConfig {
        &self.inner.config
    }

    /// How often every enabled connection is collected.
    pub fn collect_interval(&self) -> Duration {
        self.inner.config.collect_interval
    }

    /// How long `collectNow` waits for its collection.
    pub fn wait(&self) -> Duration {
        self.inner.pipeline.recompute_wait()
    }

    /// Wakes the worker (a collection was just queued here).
    pub fn wake(&self) {
        self.inner.queue.wake.notify_one();
    }

    /// Waits until the collection has ended or `wait` has passed; answers it as it stands.
    pub async fn wait_for(
        &self,
        id: i64,
        wait: Duration,
    ) -> Result<Option<collection_run::Model>, DbErr> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let run = find_collection(&self.inner.queue.db, id).await?;
            let ended = run.as_ref().is_none_or(|r| r.finished_at.is_some());
            if ended || tokio::time::Instant::now() >= deadline {
                return Ok(run);
            }
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)),
                self.inner.finished.notified(),
            )
            .await;
        }
    }
}

impl Job for Collector {
    type Table = collection_run::Entity;
    const NAME: &'static str = "collection";

    fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// Queues the scheduled collections that are due.
    async fn tick(&self) {
        let interval = self.inner.config.collect_interval;
        match plan_due_collections(&self.inner.queue.db, interval, Utc::now()).await {
            Ok(0) => {}
            Ok(planned) => tracing::info!(planned, "scheduled collections queued"),
            Err(err) => tracing::error!(error = %err, "collector: planning failed; retrying"),
        }
    }

    /// Runs a claimed collection with its lease renewed, and records the outcome.
    async fn run(&self, claim: Claim) -> Result<(), DbErr> {
        self.process(claim).await;
        Ok(())
    }
}

impl Collector {
    /// Runs a claimed collection with its lease renewed, and records the outcome.
    async fn process(&self, claim: Claim) {
        let id = claim.job.id;
        let tenant = claim.job.tenant_id.clone();
        tracing::info!(collection = id, %tenant, attempt = claim.job.attempts, "collection started");
        let outcome = if claim.job.attempts > MAX_CLAIMS {
            failed(format!(
                "given up after {MAX_CLAIMS} claims: the replicas collecting it stopped each time"
            ))
        } else {
            tokio::select! {
                collected = self.collect_tenant(&tenant) => collected,
                lost = claim.keep_lease(&self.inner.queue.db) => {
                    tracing::warn!(collection = id, error = %lost, "collection claim lost; another replica takes it over");
                    return;
                }
            }
        };
        match self.finish(&claim, outcome).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    collection = id,
                    "collection claim lost before it was recorded"
                )
            }
            Err(err) => {
                tracing::error!(collection = id, error = %err, "recording the collection failed; it is taken over after its lease")
            }
        }
        self.inner.finished.notify_waiters();
    }

    /// Reads the tenant's directory with its stored connection.
    async fn collect_tenant(&self, tenant_id: &str) -> Collected {
        let connection = match find_connection(&self.inner.queue.db, tenant_id).await {
            Ok(Some(connection)) if connection.enabled => connection,
            Ok(Some(_)) => return failed("the directory connection is disabled".into()),
            Ok(None) => return failed("the directory connection was deleted".into()),
            Err(err) => return failed(format!("reading the connection failed: {err}")),
        };
        let (client_id, credential) = match self.sign_in_as(&connection).await {
            Ok(sign_in) => sign_in,
            Err(reason) => return failed(reason),
        };
        let client = match GraphClient::new(
            &self.inner.config,
            &connection.directory_id,
            &client_id,
            credential,
        ) {
            Ok(client) => client,
            Err(reason) => return failed(reason),
        };
        let emergency_accounts = match find_tenant(&self.inner.queue.db, tenant_id).await {
            Ok(Some(tenant)) => match emergency_accounts_of(&tenant) {
                Ok(accounts) => accounts,
                Err(err) => return failed(err.message().to_owned()),
            },
            Ok(None) => return failed("the tenant was deleted".into()),
            Err(err) => return failed(format!("reading the tenant failed: {}", err.message())),
        };
        let started = std::time::Instant::now();
        let audit_since = connection
            .audit_read_from
            .unwrap_or_else(|| Utc::now() - chrono::Duration::days(FIRST_READ_DAYS));
        let mut collected = collect(
            &client,
            &emergency_accounts,
            audit_since,
            AuditIndex::shipped(),
        )
        .await;
        // Only the partner application waits on each directory's consent; an app registration
        // of the directory's own that is not found there is a wrong directory or client id.
        collected.consent_missing &= connection.uses_partner_application;
        tracing::info!(
            %tenant_id,
            status = collected.status.as_str(),
            requests = client.requests(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "directory read"
        );
        collected
    }

    /// The client id and credential a connection signs in with: its own, or the partner
    /// application's as it is set now (a rotation applies from the next collection on).
    async fn sign_in_as(
        &self,
        connection: &graph_connection::Model,
    ) -> Result<(String, Credential), String> {
        let secrets = &self.inner.secrets;
        if !connection.uses_partner_application {
            let credential = secrets
                .open(
                    &credential_purpose(&connection.tenant_id),
                    &connection.credential,
                )
                .map_err(|e| e.to_string())
                .and_then(|json| Credential::from_stored(&json))?;
            return Ok((connection.client_id.clone(), credential));
        }
        let application = find_partner_application(&self.inner.queue.db)
            .await
            .map_err(|e| format!("reading the partner application failed: {e}"))?
            .ok_or("the connection signs in as the partner application, and none is set")?;
        let credential = partner_application::open_credential(secrets, &application)?;
        Ok((application.client_id, credential))
    }

    /// Stores the snapshot (idempotent per collection) and records the outcome, while the
    /// claim holds; false when it no longer did.
    async fn finish(&self, claim: &Claim, collected: Collected) -> Result<bool, DbErr> {
        let db = &self.inner.queue.db;
        let now = Utc::now();
        let mut status = collected.status;
        let mut error = collected.error.clone();
        let mut snapshot_id = None;
        // Kept before the snapshot, so the scores it brings find the events that explain them;
        // idempotent by event id, so a collection taken over stores nothing twice.
        keep_changes(db, &claim.job.tenant_id, &collected.directory_changes).await?;
        if let Some(facts) = &collected.facts {
            match ingest_snapshot(
                db,
                SnapshotInput {
                    tenant_id: claim.job.tenant_id.clone(),
                    captured_at: now.trunc_subsecs(6),
                    facts: facts.clone(),
                    idempotency_key: Some(format!("collection:{}", claim.job.id)),
                },
            )
            .await
            {
                Ok(snapshot) => snapshot_id = Some(snapshot.id),
                Err(err) => {
                    status = CollectionStatus::Failed;
                    error = Some(format!("storing the snapshot failed: {}", err.message()));
                }
            }
        }
        let endpoints: Vec<&EndpointOutcome> = collected.endpoints.iter().collect();
        let txn = db.begin().await?;
        lock_connection(&txn, &claim.job.tenant_id).await?;
        let update = collection_run::Entity::update_many()
            .col_expr(collection_run::Column::Status, Expr::value(status.as_str()))
            .col_expr(collection_run::Column::FinishedAt, Expr::value(now))
            .col_expr(collection_run::Column::SnapshotId, Expr::value(snapshot_id))
            .col_expr(
                collection_run::Column::Endpoints,
                Expr::value(json!(endpoints)),
            )
            .col_expr(
                collection_run::Column::Warnings,
                Expr::value((!collected.warnings.is_empty()).then(|| json!(collected.warnings))),
            )
            .col_expr(
                collection_run::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        if !claim.finish_if_claimed(&txn, update).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let ended = Ended {
            collected: &collected,
            status,
            error,
            stored_snapshot: snapshot_id.is_some(),
            at: now,
        };
        record_ended(&txn, &claim.job, ended).await?;
        txn.commit().await?;
        if snapshot_id.is_some() {
            self.inner
                .pipeline
                .rescore_today(LiveRequest::Tenants(vec![claim.job.tenant_id.clone()]));
        }
        tracing::info!(
            collection = claim.job.id,
            status = status.as_str(),
            "collection finished"
        );
        Ok(true)
    }
}

/// A collection that stored nothing, for a reason outside Graph's answers.
fn failed(reason: String) -> Collected {
    Collected {
        status: CollectionStatus::Failed,
        endpoints: Vec::new(),
        facts: None,
        error: Some(reason),
        warnings: Vec::new(),
        directory_changes: Vec::new(),
        audit_read_at: None,
        consent_missing: false,
    }
}
