//! The stored days a tenant's trends read: the range's days and the last one before it, with
//! their action scores, in three statements whatever the range's length.

use std::collections::HashMap;
use std::sync::Arc;

use entity::daily_score;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::action_sets::missing_set;
use super::daily_scores::DateRange;
use super::score_cache::ScoreCache;
use super::score_reads::{TenantDay, action_scores_for, score_history, to_scored_action};
use crate::error::ApiResult;
use crate::scoring::diff::ScoredAction;
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
    let mut days: Vec<Arc<daily_score::Model>> = before.map(Arc::new).into_iter().collect();
    days.extend(score_history(db, cache, tenant_id, range, None).await?);
    let keys: Vec<TenantDay> = days.iter().map(|day| TenantDay::of(day)).collect();
    let results = action_scores_for(db, cache, &keys).await?;
    // Each distinct set becomes scored actions once, shared by every day naming it.
    let mut scored: HashMap<i64, Arc<[ScoredAction]>> = HashMap::new();
    days.iter()
        .zip(&keys)
        .map(|(day, key)| {
            let actions = match scored.get(&key.action_set_id) {
                Some(actions) => Arc::clone(actions),
                None => {
                    let rows = results
                        .get(key)
                        .ok_or_else(|| missing_set(key.action_set_id))?;
                    let actions: Arc<[ScoredAction]> = rows.iter().map(to_scored_action).collect();
                    scored.insert(key.action_set_id, Arc::clone(&actions));
                    actions
                }
            };
            Ok(StoredDay {
                date: day.date,
                percentage: day.percentage,
                actions,
            })
        })
        .collect()
}
