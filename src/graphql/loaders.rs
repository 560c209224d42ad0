//! DataLoaders made fresh for each request: anything resolved per list item is batched into
//! one query per batch and cached for the rest of the request (see `prefetch` for lists).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use entity::{daily_action_score, daily_score, improvement_action};
use sea_orm::{DatabaseConnection, DbErr};

use super::alert_loaders::AlertLoaders;
use crate::error::{ApiError, ApiResult};
use crate::service::score_cache::ScoreCache;
use crate::service::{catalog, score_reads};

pub use crate::service::score_reads::{ScoreKey, TenantDay};

/// Loads catalog entries by id.
pub struct ActionLoader(DatabaseConnection);

impl Loader<String> for ActionLoader {
    type Value = improvement_action::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        catalog::actions_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Loads the action scores of tenant-days.
pub struct ActionScoresLoader(DatabaseConnection, Arc<ScoreCache>);

impl Loader<TenantDay> for ActionScoresLoader {
    type Value = Vec<daily_action_score::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TenantDay],
    ) -> Result<HashMap<TenantDay, Self::Value>, Self::Error> {
        score_reads::action_scores_for(&self.0, &self.1, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Loads tenants' scores on a date, or their latest.
pub struct ScoreLoader(DatabaseConnection, Arc<ScoreCache>);

impl Loader<ScoreKey> for ScoreLoader {
    type Value = Arc<daily_score::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ScoreKey]) -> Result<HashMap<ScoreKey, Self::Value>, Self::Error> {
        score_reads::scores_for(&self.0, &self.1, keys)
            .await
            .map_err(Arc::new)
    }
}

/// The loaders of one request; their caches end with it, so no request sees another's reads.
pub struct Loaders {
    pub(super) actions: DataLoader<ActionLoader, HashMapCache>,
    pub(super) action_scores: DataLoader<ActionScoresLoader, HashMapCache>,
    pub(super) scores: DataLoader<ScoreLoader, HashMapCache>,
    /// Taken while prefetching catalog entries (see `prefetch`).
    pub(super) action_prefetch: tokio::sync::Mutex<()>,
    /// Alert rules, alerts and webhook attempts.
    pub(super) alert_loaders: AlertLoaders,
}

impl Loaders {
    /// Fresh loaders, with empty caches, for one request.
    pub fn new(db: &DatabaseConnection, cache: &Arc<ScoreCache>) -> Self {
        Loaders {
            actions: DataLoader::with_cache(
                ActionLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            action_scores: DataLoader::with_cache(
                ActionScoresLoader(db.clone(), cache.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            scores: DataLoader::with_cache(
                ScoreLoader(db.clone(), cache.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            action_prefetch: tokio::sync::Mutex::new(()),
            alert_loaders: AlertLoaders::new(db),
        }
    }

    /// Forgets everything read so far, after a mutation may have changed it.
    pub fn clear_caches(&self) {
        self.actions.clear::<String>();
        self.action_scores.clear::<TenantDay>();
        self.scores.clear::<ScoreKey>();
        self.alert_loaders.clear();
    }
}

/// The request's loaders.
pub(super) fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data_opt::<Arc<Loaders>>()
        .map(Arc::as_ref)
        .ok_or_else(|| ApiError::Internal("no loaders in the request's data".into()))
}

/// One catalog entry through the request's batch; an unknown id is an internal error,
/// because stored rows only reference existing entries.
pub async fn load_action(ctx: &Context<'_>, id: &str) -> ApiResult<improvement_action::Model> {
    loaders(ctx)?
        .actions
        .load_one(id.to_owned())
        .await
        .map_err(|e| ApiError::from_db(&format!("loading action {id}"), &e))?
        .ok_or_else(|| ApiError::Internal(format!("action {id} is referenced but missing")))
}

/// One tenant-day's action scores through the request's batch.
pub async fn load_action_scores(
    ctx: &Context<'_>,
    key: TenantDay,
) -> ApiResult<Vec<daily_action_score::Model>> {
    Ok(loaders(ctx)?
        .action_scores
        .load_one(key)
        .await
        .map_err(|e| ApiError::from_db("loading action scores", &e))?
        .unwrap_or_default())
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
    loaders(ctx)?
        .scores
        .load_one(key)
        .await
        .map_err(|e| ApiError::from_db(&format!("loading the score of {tenant_id}"), &e))
}
