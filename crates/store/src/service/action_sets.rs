//! Reads of the packed action results of scored days (`action_score_sets`): a day names its
//! set, a set is immutable and shared by the tenant's days whose results are the same, so a
//! read decodes each distinct set once however many days name it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::action_score_set::{self, ActionResult};
use entity::daily_score;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr};

/// A day's results, in action id order.
pub type DayResults = Arc<Vec<ActionResult>>;

/// Set ids per `IN (…)` list.
const SETS_PER_QUERY: usize = 5_000;

/// The sets with `ids`, decoded, one statement per 5,000 ids.
pub async fn read_sets(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, DayResults>, DbErr> {
    let ids: Vec<i64> = ids
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut sets = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(SETS_PER_QUERY) {
        let query = Query::select()
            .columns([
                action_score_set::Column::Id,
                action_score_set::Column::Results,
            ])
            .from(action_score_set::Entity)
            .and_where(Expr::col(action_score_set::Column::Id).is_in(chunk.iter().copied()))
            .to_owned();
        for row in db.query_all(&query).await? {
            let id: i64 = row.try_get("", "id")?;
            let results: String = row.try_get("", "results")?;
            sets.insert(id, Arc::new(action_score_set::decode(&results)?));
        }
    }
    Ok(sets)
}

/// The results of the days `days` selects (a query on `daily_scores` whose rows carry
/// `tenant_id`, `date` and `action_set_id`), per tenant-day: one statement for the days and
/// one per 5,000 distinct sets, each sent and decoded once.
pub async fn results_of_days(
    db: &impl ConnectionTrait,
    days: SelectStatement,
) -> Result<HashMap<(String, NaiveDate), DayResults>, DbErr> {
    let named: Vec<(String, NaiveDate, i64)> = db
        .query_all(&days)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("", "tenant_id")?,
                row.try_get("", "date")?,
                row.try_get("", "action_set_id")?,
            ))
        })
        .collect::<Result<_, DbErr>>()?;
    let sets = read_sets(db, named.iter().map(|(_, _, set)| *set)).await?;
    named
        .into_iter()
        .map(|(tenant_id, date, set)| {
            let results = sets.get(&set).cloned().ok_or_else(|| missing_set(set))?;
            Ok(((tenant_id, date), results))
        })
        .collect()
}

/// A select of the `tenant_id`, `date` and `action_set_id` of stored days, for
/// [`results_of_days`].
pub fn day_sets() -> SelectStatement {
    Query::select()
        .columns([
            daily_score::Column::TenantId,
            daily_score::Column::Date,
            daily_score::Column::ActionSetId,
        ])
        .from(daily_score::Entity)
        .to_owned()
}

/// A day names a set that is not stored: the sweeper keeps every named set, so this is a bug.
pub fn missing_set(id: i64) -> DbErr {
    DbErr::Custom(format!(
        "action score set {id} is named by a day but not stored"
    ))
}
