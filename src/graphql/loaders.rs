//! The request's reads, batched: one [`Reader`] implementing async-graphql's `Loader<K>` for
//! each newtype key (Sui's model), behind one `DataLoader` per request whose caches end with
//! it, so no request sees another's reads. Each batch is one `IN (…)` query of a service. The
//! catalog is one snapshot per request, from the replica's reference cache.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use entity::{
    action_plan, alert, alert_rule, daily_score, graph_connection, improvement_action, snapshot,
    tenant, webhook_attempt,
};
use sea_orm::{DatabaseConnection, DbErr};

use crate::error::{ApiError, ApiResult};
use crate::service::action_sets::DayResults;
use crate::service::reference_cache::{Catalog, ReferenceCache};
use crate::service::score_cache::ScoreCache;
use crate::service::{
    alerts, catalog, connections, plans, score_reads, snapshots, tenants, webhooks,
};

pub use crate::service::score_reads::{ScoreKey, TenantDay};

/// An alert rule's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RuleId(pub i64);

/// An alert's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlertId(pub i64);

/// A webhook delivery's id (its attempts are loaded by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub i64);

/// A snapshot's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotId(pub i64);

/// A tenant whose directory connection is read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionOf(pub String);

/// A tenant read by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantOf(pub String);

/// A tenant whose plans are read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlansOf(pub String);

/// Reads everything a request batches, through the services.
pub struct Reader {
    db: DatabaseConnection,
    cache: Arc<ScoreCache>,
}

/// The error every batch shares with the requests waiting on it.
type LoadError = Arc<DbErr>;

impl Loader<TenantDay> for Reader {
    type Value = DayResults;
    type Error = LoadError;

    async fn load(&self, keys: &[TenantDay]) -> Result<HashMap<TenantDay, Self::Value>, LoadError> {
        Ok(score_reads::action_scores_for(&self.db, &self.cache, keys).await?)
    }
}

impl Loader<ScoreKey> for Reader {
    type Value = Arc<daily_score::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[ScoreKey]) -> Result<HashMap<ScoreKey, Self::Value>, LoadError> {
        Ok(score_reads::scores_for(&self.db, &self.cache, keys).await?)
    }
}

impl Loader<RuleId> for Reader {
    type Value = alert_rule::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RuleId]) -> Result<HashMap<RuleId, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = alerts::rules_by_ids(&self.db, &ids).await?;
        Ok(found.into_iter().map(|(id, r)| (RuleId(id), r)).collect())
    }
}

impl Loader<AlertId> for Reader {
    type Value = alert::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[AlertId]) -> Result<HashMap<AlertId, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = alerts::alerts_by_ids(&self.db, &ids).await?;
        Ok(found.into_iter().map(|(id, a)| (AlertId(id), a)).collect())
    }
}

impl Loader<DeliveryId> for Reader {
    type Value = Vec<webhook_attempt::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DeliveryId],
    ) -> Result<HashMap<DeliveryId, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = webhooks::attempts_by_delivery(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(id, a)| (DeliveryId(id), a))
            .collect())
    }
}

impl Loader<SnapshotId> for Reader {
    type Value = snapshot::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[SnapshotId],
    ) -> Result<HashMap<SnapshotId, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = snapshots::snapshots_by_ids(&self.db, &ids).await?;
        Ok(found.into_iter().map(|s| (SnapshotId(s.id), s)).collect())
    }
}

impl Loader<ConnectionOf> for Reader {
    type Value = graph_connection::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ConnectionOf],
    ) -> Result<HashMap<ConnectionOf, Self::Value>, LoadError> {
        let tenants: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = connections::connections_of(&self.db, &tenants).await?;
        Ok(found
            .into_iter()
            .map(|c| (ConnectionOf(c.tenant_id.clone()), c))
            .collect())
    }
}

impl Loader<TenantOf> for Reader {
    type Value = tenant::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[TenantOf]) -> Result<HashMap<TenantOf, Self::Value>, LoadError> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = tenants::tenants_by_ids(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|t| (TenantOf(t.id.clone()), t))
            .collect())
    }
}

impl Loader<PlansOf> for Reader {
    type Value = Vec<action_plan::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[PlansOf]) -> Result<HashMap<PlansOf, Self::Value>, LoadError> {
        let tenants: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found: HashMap<PlansOf, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for plan in plans::plans_of_tenants(&self.db, &tenants).await? {
            found
                .entry(PlansOf(plan.tenant_id.clone()))
                .or_default()
                .push(plan);
        }
        Ok(found)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Every batched read, cached per key type for the request.
    pub(super) reader: DataLoader<Reader, HashMapCache>,
    /// The catalog as this request sees it, one snapshot for all its fields.
    catalog: std::sync::Mutex<Option<Arc<Catalog>>>,
    /// Taken while the snapshot is read, so sibling fields wait for it rather than race it.
    catalog_read: tokio::sync::Mutex<()>,
    references: Arc<ReferenceCache>,
    /// Tenants read with their newest stored day in this request, and that day (`None`: they
    /// have none).
    newest_days: std::sync::Mutex<HashMap<String, Option<Arc<daily_score::Model>>>>,
}

impl Loaders {
    /// Fresh loaders, with empty caches, for one request.
    pub fn new(
        db: &DatabaseConnection,
        cache: &Arc<ScoreCache>,
        references: &Arc<ReferenceCache>,
    ) -> Self {
        let reader = Reader {
            db: db.clone(),
            cache: cache.clone(),
        };
        Loaders {
            reader: DataLoader::with_cache(reader, tokio::spawn, HashMapCache::default()),
            catalog: std::sync::Mutex::new(None),
            catalog_read: tokio::sync::Mutex::new(()),
            references: references.clone(),
            newest_days: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The request's catalog snapshot: the replica's cached catalog, read when it holds none.
    async fn catalog(&self) -> ApiResult<Arc<Catalog>> {
        let held = || self.catalog.lock().ok().and_then(|held| held.clone());
        if let Some(catalog) = held() {
            return Ok(catalog);
        }
        let _turn = self.catalog_read.lock().await;
        if let Some(catalog) = held() {
            return Ok(catalog);
        }
        let db = &self.reader.loader().db;
        let catalog = self.references.catalog(|| catalog::all_actions(db)).await?;
        if let Ok(mut held) = self.catalog.lock() {
            *held = Some(Arc::clone(&catalog));
        }
        Ok(catalog)
    }

    /// The closed-day cache the request's reads go through.
    pub(super) fn score_cache(&self) -> &ScoreCache {
        &self.reader.loader().cache
    }
}

/// A request's scope of reads: its loaders, replaced by fresh ones (every cache empty, whatever
/// its key type) after each mutation field and before each subscription event, so nothing read
/// before a change, or before an event, is served after it.
pub struct RequestScope {
    db: DatabaseConnection,
    cache: Arc<ScoreCache>,
    references: Arc<ReferenceCache>,
    current: std::sync::Mutex<Arc<Loaders>>,
}

impl RequestScope {
    /// A scope with fresh loaders.
    pub fn new(
        db: &DatabaseConnection,
        cache: &Arc<ScoreCache>,
        references: &Arc<ReferenceCache>,
    ) -> Self {
        RequestScope {
            db: db.clone(),
            cache: cache.clone(),
            references: references.clone(),
            current: std::sync::Mutex::new(Arc::new(Loaders::new(db, cache, references))),
        }
    }

    /// The loaders reads go through now.
    pub fn loaders(&self) -> Arc<Loaders> {
        Arc::clone(&self.current.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Starts afresh: later reads go through new loaders.
    pub fn renew(&self) {
        let fresh = Arc::new(Loaders::new(&self.db, &self.cache, &self.references));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
    }
}

/// The request's loaders, as its scope holds them now.
pub(super) fn loaders(ctx: &Context<'_>) -> ApiResult<Arc<Loaders>> {
    ctx.data_opt::<Arc<RequestScope>>()
        .map(|scope| scope.loaders())
        .ok_or_else(|| ApiError::Internal("no request scope in the request's data".into()))
}

/// One value through the request's batch; `what` names it in errors.
async fn load<K>(
    ctx: &Context<'_>,
    key: K,
    what: &str,
) -> ApiResult<Option<<Reader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Reader: Loader<K, Error = LoadError>,
{
    loaders(ctx)?
        .reader
        .load_one(key)
        .await
        .map_err(|e| ApiError::from_db(&format!("loading {what}"), &e))
}

/// A row that stored rows reference: missing is an internal error.
fn referenced<T>(found: Option<T>, what: &str) -> ApiResult<T> {
    found.ok_or_else(|| ApiError::Internal(format!("{what} is referenced but missing")))
}

/// Keeps a tenant read with its newest stored day in the request's batch: later reads of the
/// tenant, of its latest score and of that day's score find them without a statement.
pub async fn feed_tenant_with_newest_day(
    ctx: &Context<'_>,
    tenant: &tenant::Model,
    newest: Option<daily_score::Model>,
) -> ApiResult<()> {
    let loaders = loaders(ctx)?;
    let newest = newest.map(Arc::new);
    if let Some(day) = &newest {
        let key = |date| ScoreKey {
            tenant_id: tenant.id.clone(),
            date,
        };
        loaders
            .reader
            .feed_many([(key(None), day.clone()), (key(Some(day.date)), day.clone())])
            .await;
    }
    loaders
        .reader
        .feed_one(TenantOf(tenant.id.clone()), tenant.clone())
        .await;
    if let Ok(mut held) = loaders.newest_days.lock() {
        held.insert(tenant.id.clone(), newest);
    }
    Ok(())
}

/// The tenant's newest stored day, when the request read the tenant with it: `Some(None)` when
/// it has none, `None` when the request did not read it so.
pub fn newest_day_read(
    ctx: &Context<'_>,
    tenant_id: &str,
) -> ApiResult<Option<Option<Arc<daily_score::Model>>>> {
    let loaders = loaders(ctx)?;
    Ok(loaders
        .newest_days
        .lock()
        .ok()
        .and_then(|held| held.get(tenant_id).cloned()))
}

/// The catalog as the request sees it (one snapshot for all its fields).
pub async fn load_catalog(ctx: &Context<'_>) -> ApiResult<Arc<Catalog>> {
    loaders(ctx)?.catalog().await
}

/// One catalog entry from the request's catalog snapshot; an unknown id is an internal error,
/// because stored rows only reference existing entries.
pub async fn load_action(ctx: &Context<'_>, id: &str) -> ApiResult<Arc<improvement_action::Model>> {
    let catalog = load_catalog(ctx).await?;
    referenced(catalog.get(id).cloned(), &format!("action {id}"))
}

/// One tenant-day's action scores: from the closed-day cache when it holds them (no batch to
/// wait for), else through the request's batch.
pub async fn load_action_scores(ctx: &Context<'_>, key: TenantDay) -> ApiResult<DayResults> {
    if let Some(results) = loaders(ctx)?.score_cache().actions(key.action_set_id) {
        return Ok(results);
    }
    Ok(load(ctx, key, "action scores").await?.unwrap_or_default())
}

/// A tenant's score on `date` (latest when `None`) through the request's batch and cache.
pub async fn load_score(
    ctx: &Context<'_>,
    tenant_id: &str,
    date: Option<NaiveDate>,
) -> ApiResult<Option<Arc<daily_score::Model>>> {
    let key = ScoreKey {
        tenant_id: tenant_id.to_owned(),
        date,
    };
    load(ctx, key, &format!("the score of {tenant_id}")).await
}

/// An alert's rule through the request's batch.
pub async fn load_rule(ctx: &Context<'_>, id: i64) -> ApiResult<alert_rule::Model> {
    let what = format!("alert rule {id}");
    referenced(load(ctx, RuleId(id), &what).await?, &what)
}

/// An alert through the request's batch.
pub async fn load_alert(ctx: &Context<'_>, id: i64) -> ApiResult<alert::Model> {
    let what = format!("alert {id}");
    referenced(load(ctx, AlertId(id), &what).await?, &what)
}

/// A delivery's attempts through the request's batch.
pub async fn load_attempts(
    ctx: &Context<'_>,
    delivery_id: i64,
) -> ApiResult<Vec<webhook_attempt::Model>> {
    Ok(load(ctx, DeliveryId(delivery_id), "webhook attempts")
        .await?
        .unwrap_or_default())
}

/// A collection's snapshot through the request's batch.
pub async fn load_snapshot(ctx: &Context<'_>, id: i64) -> ApiResult<snapshot::Model> {
    let what = format!("snapshot {id}");
    referenced(load(ctx, SnapshotId(id), &what).await?, &what)
}

/// A tenant's directory connection, if any, through the request's batch.
pub async fn load_connection(
    ctx: &Context<'_>,
    tenant_id: &str,
) -> ApiResult<Option<graph_connection::Model>> {
    load(
        ctx,
        ConnectionOf(tenant_id.to_owned()),
        &format!("the directory connection of {tenant_id}"),
    )
    .await
}

/// A tenant's plans through the request's batch.
pub async fn load_plans(ctx: &Context<'_>, tenant_id: &str) -> ApiResult<Vec<action_plan::Model>> {
    Ok(load(
        ctx,
        PlansOf(tenant_id.to_owned()),
        &format!("the plans of {tenant_id}"),
    )
    .await?
    .unwrap_or_default())
}

/// A tenant through the request's batch; NOT_FOUND when it does not exist.
pub async fn load_tenant(ctx: &Context<'_>, tenant_id: &str) -> ApiResult<tenant::Model> {
    let what = format!("tenant {tenant_id}");
    referenced(
        load(ctx, TenantOf(tenant_id.to_owned()), &what).await?,
        &what,
    )
}
