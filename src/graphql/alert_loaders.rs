//! DataLoaders for alerts and webhooks, so a page of alerts or deliveries costs one query per
//! kind of thing it shows (rules, alerts, attempts), not one per item.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{alert, alert_rule, webhook_attempt};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::loaders::loaders;
use crate::error::{ApiError, ApiResult};

/// Loads alert rules by id (deleted ones included: an alert keeps its rule).
pub struct AlertRuleLoader(DatabaseConnection);

impl Loader<i64> for AlertRuleLoader {
    type Value = alert_rule::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = alert_rule::Entity::find()
            .filter(alert_rule::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Loads alerts by id.
pub struct AlertLoader(DatabaseConnection);

impl Loader<i64> for AlertLoader {
    type Value = alert::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = alert::Entity::find()
            .filter(alert::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }
}

/// Loads the attempts of deliveries, oldest first.
pub struct AttemptLoader(DatabaseConnection);

impl Loader<i64> for AttemptLoader {
    type Value = Vec<webhook_attempt::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(keys.iter().copied()))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        let mut by_delivery: HashMap<i64, Self::Value> = HashMap::new();
        for row in rows {
            by_delivery.entry(row.delivery_id).or_default().push(row);
        }
        Ok(by_delivery)
    }
}

/// The alert and webhook loaders of one request.
pub struct AlertLoaders {
    rules: DataLoader<AlertRuleLoader, HashMapCache>,
    alerts: DataLoader<AlertLoader, HashMapCache>,
    attempts: DataLoader<AttemptLoader, HashMapCache>,
}

impl AlertLoaders {
    /// Fresh loaders on `db`.
    pub fn new(db: &DatabaseConnection) -> Self {
        AlertLoaders {
            rules: DataLoader::with_cache(
                AlertRuleLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            alerts: DataLoader::with_cache(
                AlertLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            attempts: DataLoader::with_cache(
                AttemptLoader(db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }

    /// Forgets everything read so far.
    pub fn clear(&self) {
        self.rules.clear::<i64>();
        self.alerts.clear::<i64>();
        self.attempts.clear::<i64>();
    }
}

/// An alert's rule through the request's batch.
pub async fn load_rule(ctx: &Context<'_>, id: i64) -> ApiResult<alert_rule::Model> {
    loaders(ctx)?
        .alert_loaders
        .rules
        .load_one(id)
        .await
        .map_err(|e| ApiError::from_db("loading alert rules", &e))?
        .ok_or_else(|| ApiError::Internal(format!("alert rule {id} is referenced but missing")))
}

/// An alert through the request's batch.
pub async fn load_alert(ctx: &Context<'_>, id: i64) -> ApiResult<alert::Model> {
    loaders(ctx)?
        .alert_loaders
        .alerts
        .load_one(id)
        .await
        .map_err(|e| ApiError::from_db("loading alerts", &e))?
        .ok_or_else(|| ApiError::Internal(format!("alert {id} is referenced but missing")))
}

/// A delivery's attempts through the request's batch.
pub async fn load_attempts(
    ctx: &Context<'_>,
    delivery_id: i64,
) -> ApiResult<Vec<webhook_attempt::Model>> {
    Ok(loaders(ctx)?
        .alert_loaders
        .attempts
        .load_one(delivery_id)
        .await
        .map_err(|e| ApiError::from_db("loading webhook attempts", &e))?
        .unwrap_or_default())
}
