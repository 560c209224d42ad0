//! DataLoaders: anything resolved per list item is batched into one query per batch.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{daily_action_score, improvement_action};
use sea_orm::{DatabaseConnection, DbErr};

use crate::service::{catalog, score_reads};

pub use crate::service::score_reads::TenantDay;

/// Loads catalog entries by id.
pub struct ActionLoader(pub DatabaseConnection);

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
pub struct ActionScoresLoader(pub DatabaseConnection);

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

/// One catalog entry through the request's batch; an unknown id is an internal error,
/// because stored rows only reference existing entries.
pub async fn load_action(
    ctx: &async_graphql::Context<'_>,
    id: &str,
) -> crate::error::ApiResult<improvement_action::Model> {
    use crate::error::ApiError;
    let loader = ctx
        .data_opt::<async_graphql::dataloader::DataLoader<ActionLoader>>()
        .ok_or_else(|| ApiError::Internal("no action loader in schema data".into()))?;
    loader
        .load_one(id.to_owned())
        .await
        .map_err(|e| ApiError::Internal(format!("loading action {id}: {e}")))?
        .ok_or_else(|| ApiError::Internal(format!("action {id} is referenced but missing")))
}

/// One tenant-day's action scores through the request's batch.
pub async fn load_action_scores(
    ctx: &async_graphql::Context<'_>,
    key: TenantDay,
) -> crate::error::ApiResult<Vec<daily_action_score::Model>> {
    use crate::error::ApiError;
    let loader = ctx
        .data_opt::<async_graphql::dataloader::DataLoader<ActionScoresLoader>>()
        .ok_or_else(|| ApiError::Internal("no action score loader in schema data".into()))?;
    Ok(loader
        .load_one(key)
        .await
        .map_err(|e| ApiError::Internal(format!("loading action scores: {e}")))?
        .unwrap_or_default())
}
