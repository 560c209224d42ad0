//! The collection worker every replica runs: it queues the scheduled collections that are due
//! (exactly once across replicas), claims queued collections, or running ones whose lease
//! lapsed (a dead replica's), with `FOR UPDATE SKIP LOCKED` on PostgreSQL, renews its lease
//! while it reads the directory, and finishes only while its claim holds: the snapshot goes in
//! through the collectors' ingest path, so today rescores live and alerts follow.

use std::sync::Arc;
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use entity::enums::{CollectionStatus, ConnectionStatus};
use entity::{collection_run, graph_connection};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;
use tokio::sync::Notify;

use super::client::GraphClient;
use super::collect::{Collected, EndpointOutcome, collect};
use super::credential::Credential;
use crate::config::GraphConfig;
use crate::pipeline::{LiveRequest, Pipeline};
use crate::secrets::SecretsKey;
use crate::service::connections::{credential_purpose, find_collection, plan_due_collections};
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
    db: DatabaseConnection,
    config: GraphConfig,
    secrets: SecretsKey,
    pipeline: Pipeline,
    replica: String,
    work: Notify,
    finished: Notify,
}

/// A claimed collection.
struct Claim {
    run: collection_run::Model,
    token: String,
}

impl Collector {
    /// A collector for this replica; the worker starts with [`Collector::run`].
    pub fn new(
        db: DatabaseConnection,
        config: GraphConfig,
        secrets: SecretsKey,
        pipeline: Pipeline,
    ) -> Collector {
        let replica = pipeline.replica().to_owned();
        Collector {
            inner: Arc::new(Shared {
                db,
                config,
                secrets,
                pipeline,
                replica,
                work: Notify::new(),
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
        self.inner.work.notify_one();
    }

    /// Waits until the collection has ended or `wait` has passed; answers it as it stands.
    pub async fn wait_for(
        &self,
        id: i64,
        wait: Duration,
    ) -> Result<Option<collection_run::Model>, DbErr> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let run = find_collection(&self.inner.db, id).await?;
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

    /// Plans due collections and works through queued ones, until the task is aborted.
    pub async fn run(self) {
        let mut next_plan = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_plan {
                next_plan = tokio::time::Instant::now() + self.inner.config.poll;
                match plan_due_collections(
                    &self.inner.db,
                    self.inner.config.collect_interval,
                    Utc::now(),
                )
                .await
                {
                    Ok(0) => {}
                    Ok(planned) => tracing::info!(planned, "scheduled collections queued"),
                    Err(err) => {
                        tracing::error!(error = %err, "collector: planning failed; retrying")
                    }
                }
            }
            match self.claim().await {
                Ok(Some(claim)) => {
                    self.process(claim).await;
                    continue;
                }
                Ok(None) => {}
                Err(err) => tracing::error!(error = %err, "collector: claiming failed; retrying"),
            }
            let _ = tokio::time::timeout(self.inner.config.poll, self.inner.work.notified()).await;
        }
    }

    /// Claims the oldest queued collection, or a running one whose lease lapsed.
    async fn claim(&self) -> Result<Option<Claim>, DbErr> {
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.inner.config.lease)
            .unwrap_or(chrono::Duration::seconds(60));
        let candidate = Query::select()
            .column(collection_run::Column::Id)
            .from(collection_run::Entity)
            .cond_where(
                Condition::any()
                    .add(collection_run::Column::Status.eq(CollectionStatus::Queued.as_str()))
                    .add(
                        Condition::all()
                            .add(
                                collection_run::Column::Status
                                    .eq(CollectionStatus::Running.as_str()),
                            )
                            .add(collection_run::Column::LeaseUntil.lt(now)),
                    ),
            )
            .order_by(collection_run::Column::Id, sea_orm::sea_query::Order::Asc)
            .limit(1)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .to_owned();
        let token = uuid::Uuid::new_v4().to_string();
        let claimed = collection_run::Entity::update_many()
            .col_expr(
                collection_run::Column::Status,
                Expr::value(CollectionStatus::Running.as_str()),
            )
            .col_expr(
                collection_run::Column::ClaimToken,
                Expr::value(token.clone()),
            )
            .col_expr(
                collection_run::Column::ClaimedBy,
                Expr::value(self.inner.replica.clone()),
            )
            .col_expr(collection_run::Column::LeaseUntil, Expr::value(now + lease))
            .col_expr(
                collection_run::Column::Attempts,
                Expr::col(collection_run::Column::Attempts).add(1),
            )
            .filter(collection_run::Column::Id.in_subquery(candidate))
            .exec(&self.inner.db)
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(None);
        }
        collection_run::Entity::update_many()
            .col_expr(collection_run::Column::StartedAt, Expr::value(now))
            .filter(collection_run::Column::ClaimToken.eq(token.clone()))
            .filter(collection_run::Column::StartedAt.is_null())
            .exec(&self.inner.db)
            .await?;
        Ok(collection_run::Entity::find()
            .filter(collection_run::Column::ClaimToken.eq(token.clone()))
            .one(&self.inner.db)
            .await?
            .map(|run| Claim { run, token }))
    }

    /// Runs a claimed collection with its lease renewed, and records the outcome.
    async fn process(&self, claim: Claim) {
        let id = claim.run.id;
        let tenant = claim.run.tenant_id.clone();
        tracing::info!(collection = id, %tenant, attempt = claim.run.attempts, "collection started");
        let outcome = if claim.run.attempts > MAX_CLAIMS {
            failed(format!(
                "given up after {MAX_CLAIMS} claims: the replicas collecting it stopped each time"
            ))
        } else {
            tokio::select! {
                collected = self.collect_tenant(&tenant) => collected,
                lost = self.keep_lease(&claim) => {
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

    /// Renews the claim's lease every third of it; ends (with the reason) when the claim is
    /// lost.
    async fn keep_lease(&self, claim: &Claim) -> String {
        let lease = self.inner.config.lease;
        loop {
            tokio::time::sleep(lease / 3).await;
            let until = Utc::now()
                + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
            match collection_run::Entity::update_many()
                .col_expr(collection_run::Column::LeaseUntil, Expr::value(until))
                .filter(collection_run::Column::Id.eq(claim.run.id))
                .filter(collection_run::Column::ClaimToken.eq(claim.token.clone()))
                .exec(&self.inner.db)
                .await
            {
                Ok(result) if result.rows_affected == 1 => {}
                Ok(_) => return "the claim was taken over".into(),
                Err(err) => {
                    tracing::warn!(collection = claim.run.id, error = %err, "renewing the collection lease failed; trying again")
                }
            }
        }
    }

    /// Reads the tenant's directory with its stored connection.
    async fn collect_tenant(&self, tenant_id: &str) -> Collected {
        let connection = match graph_connection::Entity::find_by_id(tenant_id.to_owned())
            .one(&self.inner.db)
            .await
        {
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
        let emergency_accounts = match find_tenant(&self.inner.db, tenant_id).await {
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
            .unwrap_or_else(|| Utc::now() - chrono::Duration::days(super::audit::FIRST_READ_DAYS));
        let mut collected = collect(&client, &emergency_accounts, audit_since).await;
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
        let application = find_partner_application(&self.inner.db)
            .await
            .map_err(|e| format!("reading the partner application failed: {e}"))?
            .ok_or("the connection signs in as the partner application, and none is set")?;
        let credential = partner_application::open_credential(secrets, &application)?;
        Ok((application.client_id, credential))
    }

    /// Stores the snapshot (idempotent per collection) and records the outcome, while the
    /// claim holds; false when it no longer did.
    async fn finish(&self, claim: &Claim, collected: Collected) -> Result<bool, DbErr> {
        let db = &self.inner.db;
        let now = Utc::now();
        let mut status = collected.status;
        let mut error = collected.error.clone();
        let mut snapshot_id = None;
        // Kept before the snapshot, so the scores it brings find the events that explain them;
        // idempotent by event id, so a collection taken over stores nothing twice.
        keep_changes(db, &claim.run.tenant_id, &collected.directory_changes).await?;
        if let Some(facts) = &collected.facts {
            match ingest_snapshot(
                db,
                SnapshotInput {
                    tenant_id: claim.run.tenant_id.clone(),
                    captured_at: now.trunc_subsecs(6),
                    facts: facts.clone(),
                    idempotency_key: Some(format!("collection:{}", claim.run.id)),
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
        // The connection's row first, as the scheduler and `collectNow` take it before a run
        // (PostgreSQL; SQLite has one writer, and a read before the first write there could
        // only make the write fail).
        if txn.get_database_backend() == DbBackend::Postgres {
            graph_connection::Entity::find_by_id(claim.run.tenant_id.clone())
                .lock_exclusive()
                .one(&txn)
                .await?;
        }
        let recorded = collection_run::Entity::update_many()
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
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(collection_run::Column::Id.eq(claim.run.id))
            .filter(collection_run::Column::ClaimToken.eq(claim.token.clone()))
            .exec(&txn)
            .await?;
        if recorded.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        let connection_status = match status {
            CollectionStatus::Succeeded => ConnectionStatus::Ok,
            CollectionStatus::Partial => ConnectionStatus::Partial,
            _ if collected.consent_missing => ConnectionStatus::ConsentRequired,
            _ => ConnectionStatus::Failed,
        };
        let mut update = graph_connection::Entity::update_many()
            .col_expr(
                graph_connection::Column::Status,
                Expr::value(connection_status.as_str()),
            )
            .col_expr(graph_connection::Column::LastError, Expr::value(error))
            .col_expr(
                graph_connection::Column::MissingPermissions,
                Expr::value(json!(collected.missing_permissions())),
            );
        if snapshot_id.is_some() {
            update = update.col_expr(graph_connection::Column::LastCollectedAt, Expr::value(now));
        }
        if collected.consent_missing {
            // Consent recorded through a link was withdrawn since, or never reached Microsoft.
            update = update.col_expr(
                graph_connection::Column::ConsentedAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            );
        }
        if let Some(read_at) = collected.audit_read_at {
            update = update.col_expr(
                graph_connection::Column::AuditReadFrom,
                Expr::value(read_at),
            );
        }
        // A connection set again since this collection was queued keeps its fresh state.
        update
            .filter(graph_connection::Column::TenantId.eq(claim.run.tenant_id.clone()))
            .filter(graph_connection::Column::Enabled.eq(true))
            .filter(graph_connection::Column::UpdatedAt.lte(claim.run.created_at))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if snapshot_id.is_some() {
            self.inner
                .pipeline
                .rescore_today(LiveRequest::Tenants(vec![claim.run.tenant_id.clone()]));
        }
        tracing::info!(
            collection = claim.run.id,
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
