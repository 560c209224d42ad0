//! Stored scores read for export: batch after batch in key order from a position, so an export
//! holds one batch whatever its range, for the tenants a caller reaches.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::action_score_set::ActionResult;
use entity::{daily_score, tenant};
use sea_orm::sea_query::{Expr, ExprTrait, Order};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::action_sets::{DayResults, day_sets, results_of_days};
use super::daily_scores::DateRange;
use super::tenants::Visibility;

/// Rows read per batch.
pub const ROWS_PER_BATCH: u64 = 1000;
/// Tenant ids per `IN (…)` list when the caller's reach is a list.
const TENANTS_PER_QUERY: usize = 200;

/// The groups of tenants an export reads one after the other: every tenant at once, or the
/// visible ones sorted, in lists short enough for one `IN (…)`.
pub fn tenant_groups(visibility: &Visibility) -> Vec<Option<Vec<String>>> {
    match visibility.ids() {
        None => vec![None],
        Some(ids) => {
            let sorted: BTreeSet<&String> = ids.iter().collect();
            let sorted: Vec<String> = sorted.into_iter().cloned().collect();
            sorted
                .chunks(TENANTS_PER_QUERY)
                .map(|chunk| Some(chunk.to_vec()))
                .collect()
        }
    }
}

/// How many day rows an export over `range` for `visibility` holds (the rows it is charged
/// for), one count per tenant group.
pub async fn day_rows(
    db: &DatabaseConnection,
    range: DateRange,
    visibility: &Visibility,
) -> Result<u64, DbErr> {
    let mut rows = 0;
    for group in tenant_groups(visibility) {
        let mut query = daily_score::Entity::find()
            .filter(daily_score::Column::Date.between(range.from, range.to));
        if let Some(tenants) = group {
            query = query.filter(daily_score::Column::TenantId.is_in(tenants));
        }
        rows += sea_orm::PaginatorTrait::count(query, db).await?;
    }
    Ok(rows)
}

/// The next batch of day rows over `range` of `tenants` (all when `None`) after the
/// (tenant, date) `after`, in that order.
pub async fn score_rows_after(
    db: &DatabaseConnection,
    range: DateRange,
    tenants: Option<&[String]>,
    after: Option<(String, NaiveDate)>,
) -> Result<Vec<daily_score::Model>, DbErr> {
    let mut query = daily_score::Entity::find()
        .filter(daily_score::Column::Date.between(range.from, range.to))
        .order_by_asc(daily_score::Column::TenantId)
        .order_by_asc(daily_score::Column::Date)
        .limit(ROWS_PER_BATCH);
    if let Some(tenants) = tenants {
        query = query.filter(daily_score::Column::TenantId.is_in(tenants.iter().cloned()));
    }
    if let Some((tenant, date)) = after {
        query = query.filter(
            Condition::any()
                .add(daily_score::Column::TenantId.gt(tenant.clone()))
                .add(
                    Condition::all()
                        .add(daily_score::Column::TenantId.eq(tenant))
                        .add(daily_score::Column::Date.gt(date)),
                ),
        );
    }
    query.all(db).await
}

/// One action's result on one tenant-day, as exported.
#[derive(Clone, Debug)]
pub struct ExportedActionScore {
    /// Tenant.
    pub tenant_id: String,
    /// Date.
    pub date: NaiveDate,
    /// The stored result.
    pub result: ActionResult,
}

/// Days read per batch of action rows: a day holds one result per action.
const DAYS_PER_ACTION_BATCH: u64 = 20;

/// The next batch of the stored action results over `range` of `tenants` (all when `None`)
/// after the (tenant, date, action) `after`, in that order: the days are read in order, each
/// with its set.
pub async fn action_score_rows_after(
    db: &DatabaseConnection,
    range: DateRange,
    tenants: Option<&[String]>,
    mut after: Option<(String, NaiveDate, String)>,
) -> Result<Vec<ExportedActionScore>, DbErr> {
    use daily_score::Column as D;
    loop {
        let mut days = day_sets()
            .and_where(Expr::col(D::Date).between(range.from, range.to))
            .order_by(D::TenantId, Order::Asc)
            .order_by(D::Date, Order::Asc)
            .limit(DAYS_PER_ACTION_BATCH)
            .to_owned();
        if let Some(tenants) = tenants {
            days.and_where(Expr::col(D::TenantId).is_in(tenants.iter().cloned()));
        }
        if let Some((tenant, date, _)) = &after {
            // The day of `after` again: its actions after `after`'s.
            days.cond_where(
                Condition::any()
                    .add(Expr::col(D::TenantId).gt(tenant.clone()))
                    .add(
                        Condition::all()
                            .add(Expr::col(D::TenantId).eq(tenant.clone()))
                            .add(Expr::col(D::Date).gte(date.to_owned())),
                    ),
            );
        }
        let read = results_of_days(db, days).await?;
        let read_all = (read.len() as u64) < DAYS_PER_ACTION_BATCH;
        let mut ordered: Vec<((String, NaiveDate), DayResults)> = read.into_iter().collect();
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        let last_day = ordered.last().map(|(day, _)| day.clone());
        let rows: Vec<ExportedActionScore> = ordered
            .into_iter()
            .flat_map(|((tenant_id, date), results)| {
                results
                    .iter()
                    .map(|result| ExportedActionScore {
                        tenant_id: tenant_id.clone(),
                        date,
                        result: result.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|row| match &after {
                Some((tenant, date, action)) => {
                    (&row.tenant_id, row.date, &row.result.action_id) > (tenant, *date, action)
                }
                None => true,
            })
            .collect();
        if !rows.is_empty() {
            return Ok(rows);
        }
        // Only days without action results (or the rest of `after`'s day): read on, past the
        // last day read, unless that was the last day there is.
        let Some((tenant, date)) = last_day.filter(|_| !read_all) else {
            return Ok(Vec::new());
        };
        let action_after_all = char::MAX.to_string();
        after = Some((tenant, date, action_after_all));
    }
}

/// The names of the tenants of a batch, in one query.
pub async fn tenant_names<'a>(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>, DbErr> {
    let ids: BTreeSet<String> = ids.map(str::to_owned).collect();
    let rows: Vec<(String, String)> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Name)
        .filter(tenant::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
