//! DataLoaders made fresh for each request: anything resolved per list item is batched into
//! one query per batch, and lists prefetch what their items will ask for in one query, so the
//! items find it in the request's cache whatever the timing of the batches.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Context, Request, ServerResult};
use entity::{daily_action_score, improvement_action};
use sea_orm::{DatabaseConnection, DbErr};

use crate::error::{ApiError, ApiResult};
use crate::service::{catalog, score_reads};

pub use crate::service::score_reads::TenantDay;

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
pub struct ActionScoresLoader(DatabaseConnection);

impl Loader<TenantDay> for ActionScoresLoader {
    type Value = Vec<daily_action_score::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TenantDay],
    ) -> Result<HashMap<TenantDay, Self::Value>, Self::Error> {
        score_reads::action_scores_for(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// The loaders of one request; their caches end with it, so no request sees another's reads.
pub struct Loaders {
    actions: DataLoader<ActionLoader, HashMapCache>,
    action_scores: DataLoader<ActionScoresLoader, HashMapCache>,
}

impl Loaders {
    fn new(db: &DatabaseConnection) -> Self {
        Loaders {
            actions: DataLoader::with_cache(
                ActionLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            action_scores: DataLoader::with_cache(
                ActionScoresLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }
}

/// The extension that gives every request its own `Loaders`.
pub struct RequestLoaders(pub DatabaseConnection);

impl ExtensionFactory for RequestLoaders {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLoaders(self.0.clone()))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLoaders {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(Loaders::new(&self.0))).await
    }
}

fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data_opt::<Loaders>()
        .ok_or_else(|| ApiError::Internal("no loaders in the request's data".into()))
}

/// One catalog entry through the request's batch; an unknown id is an internal error,
/// because stored rows only reference existing entries.
pub async fn load_action(ctx: &Context<'_>, id: &str) -> ApiResult<improvement_action::Model> {
    loaders(ctx)?
        .actions
        .load_one(id.to_owned())
        .await
        .map_err(|e| ApiError::Internal(format!("loading action {id}: {e}")))?
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
        .map_err(|e| ApiError::Internal(format!("loading action scores: {e}")))?
        .unwrap_or_default())
}

/// When the current field's items select `action`, loads all their catalog entries in one
/// query so that each item finds its entry cached.
pub async fn prefetch_actions_if_selected<'i>(
    ctx: &Context<'_>,
    action_ids: impl IntoIterator<Item = &'i str>,
) -> ApiResult<()> {
    if !ctx.look_ahead().field("action").exists() {
        return Ok(());
    }
    prefetch_actions(ctx, action_ids).await
}

async fn prefetch_actions<'i>(
    ctx: &Context<'_>,
    action_ids: impl IntoIterator<Item = &'i str>,
) -> ApiResult<()> {
    let ids: BTreeSet<String> = action_ids.into_iter().map(str::to_owned).collect();
    loaders(ctx)?
        .actions
        .load_many(ids)
        .await
        .map_err(|e| ApiError::Internal(format!("loading actions: {e}")))?;
    Ok(())
}

/// When the current field's items select `actionScores`, loads every day's action scores in
/// one query, and their catalog entries in one more when those select `action`.
pub async fn prefetch_action_scores_if_selected(
    ctx: &Context<'_>,
    days: Vec<TenantDay>,
) -> ApiResult<()> {
    let action_scores = ctx.look_ahead().field("actionScores");
    if !action_scores.exists() {
        return Ok(());
    }
    let loaded = loaders(ctx)?
        .action_scores
        .load_many(days)
        .await
        .map_err(|e| ApiError::Internal(format!("loading action scores: {e}")))?;
    if action_scores.field("action").exists() {
        let ids = loaded.values().flatten().map(|row| row.action_id.as_str());
        prefetch_actions(ctx, ids).await?;
    }
    Ok(())
}
