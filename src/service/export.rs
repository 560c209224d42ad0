//! Stored scores read for export: batch after batch in key order from a position, so an export
//! holds one batch whatever its range, for the tenants a caller reaches.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{daily_action_score, daily_score, tenant};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::daily_scores::DateRange;
use super::score_reads::current_version_only;
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

/// The next batch of the current action rows over `range` of `tenants` (all when `None`) after
/// the (tenant, date, action) `after`, in that order.
pub async fn action_score_rows_after(
    db: &DatabaseConnection,
    range: DateRange,
    tenants: Option<&[String]>,
    after: Option<(String, NaiveDate, String)>,
) -> Result<Vec<daily_action_score::Model>, DbErr> {
    let mut query = daily_action_score::Entity::find()
        .filter(daily_action_score::Column::Date.between(range.from, range.to))
        .filter(current_version_only())
        .order_by_asc(daily_action_score::Column::TenantId)
        .order_by_asc(daily_action_score::Column::Date)
        .order_by_asc(daily_action_score::Column::ActionId)
        .limit(ROWS_PER_BATCH);
    if let Some(tenants) = tenants {
        query = query.filter(daily_action_score::Column::TenantId.is_in(tenants.iter().cloned()));
    }
    if let Some((tenant, date, action)) = after {
        query = query.filter(
            Condition::any()
                .add(daily_action_score::Column::TenantId.gt(tenant.clone()))
                .add(
                    Condition::all()
                        .add(daily_action_score::Column::TenantId.eq(tenant.clone()))
                        .add(daily_action_score::Column::Date.gt(date)),
                )
                .add(
                    Condition::all()
                        .add(daily_action_score::Column::TenantId.eq(tenant))
                        .add(daily_action_score::Column::Date.eq(date))
                        .add(daily_action_score::Column::ActionId.gt(action)),
                ),
        );
    }
    query.all(db).await
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
