//! The stored days a tenant's trends read: the range's days and the last one before it, with
//! their action scores, in three statements whatever the range's length.

use entity::daily_score;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::daily_scores::DateRange;
use super::score_cache::ScoreCache;
use super::score_reads::{TenantDay, action_scores_for, score_history, to_scored_action};
use crate::error::ApiResult;
use crate::scoring::planning::StoredDay;

/// The stored days of `range` in date order, preceded by the last stored day before it when
/// there is one (its change to the range's first day belongs to the range).
pub async fn stored_days(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    tenant_id: &str,
    range: DateRange,
) -> ApiResult<Vec<StoredDay>> {
    let before = daily_score::Entity::find()
        .filter(daily_score::Column::TenantId.eq(tenant_id))
        .filter(daily_score::Column::Date.lt(range.from))
        .order_by_desc(daily_score::Column::Date)
        .one(db)
        .await?;
    let mut days: Vec<daily_score::Model> = before.into_iter().collect();
    days.extend(
        score_history(db, cache, tenant_id, range, None)
            .await?
            .iter()
            .map(|day| day.as_ref().clone()),
    );
    let keys: Vec<TenantDay> = days.iter().map(TenantDay::of).collect();
    let mut rows = action_scores_for(db, cache, &keys).await?;
    days.iter()
        .map(|day| {
            let actions = rows
                .remove(&TenantDay::of(day))
                .unwrap_or_default()
                .iter()
                .map(to_scored_action)
                .collect();
            Ok(StoredDay {
                date: day.date,
                percentage: day.percentage,
                actions,
            })
        })
        .collect()
}
