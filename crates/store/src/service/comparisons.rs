//! Comparative scores: averages of tenant groups per date, shown only when they cannot single
//! out a tenant the caller may not read.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use entity::{comparative_score, daily_score, tenant};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::domain::ComparisonBasis;
use crate::error::ApiResult;
use crate::events::{Event, notify_in_transaction};
use crate::scoring::comparison::{
    GroupAverage, ScoredTenants, average_is_shown, group_averages, group_of,
};
use crate::service::reference_cache::ReferenceCache;
use crate::service::tenants::Visibility;

/// Sums of the scored tenants of `date` per seat count and industry, optionally only those in
/// `among`; a constant number of rows whatever the population (one statement per 500 ids).
async fn scored_tenant_sums(
    db: &DatabaseConnection,
    date: NaiveDate,
    among: Option<&[String]>,
) -> ApiResult<Vec<(i32, Option<String>, i32, f64, f64)>> {
    let base = super::portfolio::scored_tenant_sums(date)
        .column((tenant::Entity, tenant::Column::SeatCount))
        .column((tenant::Entity, tenant::Column::Industry))
        .group_by_col((tenant::Entity, tenant::Column::SeatCount))
        .group_by_col((tenant::Entity, tenant::Column::Industry))
        .to_owned();
    let queries: Vec<_> = match among {
        None => vec![base],
        Some(ids) => ids
            .chunks(500)
            .map(|chunk| {
                base.clone()
                    .and_where(
                        Expr::col((daily_score::Entity, daily_score::Column::TenantId))
                            .is_in(chunk.iter().cloned()),
                    )
                    .to_owned()
            })
            .collect(),
    };
    let mut sums = Vec::new();
    for query in queries {
        for row in db.query_all(&query).await? {
            sums.push((
                row.try_get::<i32>("", "seat_count")?,
                row.try_get::<Option<String>>("", "industry")?,
                i32::try_from(row.try_get::<i64>("", "tenant_count")?).unwrap_or(i32::MAX),
                row.try_get::<Option<f64>>("", "score_sum")?.unwrap_or(0.0),
                row.try_get::<Option<f64>>("", "percentage_sum")?
                    .unwrap_or(0.0),
            ));
        }
    }
    Ok(sums)
}

/// Every group's average of `date` from sums per seat count and industry.
fn averages_of(
    sums: &[(i32, Option<String>, i32, f64, f64)],
) -> BTreeMap<(ComparisonBasis, String), GroupAverage> {
    group_averages(sums.iter().map(
        |(seat_count, industry, tenant_count, score_sum, percentage_sum)| ScoredTenants {
            seat_count: *seat_count,
            industry: industry.as_deref(),
            tenant_count: *tenant_count,
            score_sum: *score_sum,
            percentage_sum: *percentage_sum,
        },
    ))
}

/// Recomputes every group's averages for `date` from the stored daily scores, aggregated in
/// the database.
pub async fn refresh_comparisons(db: &DatabaseConnection, date: NaiveDate) -> ApiResult<()> {
    let groups = averages_of(&scored_tenant_sums(db, date, None).await?);
    let now = Utc::now();
    let txn = db.begin().await?;
    // Rows of groups that no longer have members are removed; the others are upserted.
    for &basis in ComparisonBasis::ALL {
        let live: Vec<String> = groups
            .keys()
            .filter(|(b, _)| *b == basis)
            .map(|(_, g)| g.clone())
            .collect();
        comparative_score::Entity::delete_many()
            .filter(comparative_score::Column::Date.eq(date))
            .filter(comparative_score::Column::Basis.eq(basis))
            .filter(comparative_score::Column::GroupKey.is_not_in(live))
            .exec(&txn)
            .await?;
    }
    for ((basis, group), average) in groups {
        let row = comparative_score::ActiveModel {
            date: Set(date),
            basis: Set(basis),
            group_key: Set(group),
            tenant_count: Set(average.tenant_count),
            average_score: Set(average.average_score),
            average_percentage: Set(average.average_percentage),
            computed_at: Set(now),
            ..Default::default()
        };
        comparative_score::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    comparative_score::Column::Date,
                    comparative_score::Column::Basis,
                    comparative_score::Column::GroupKey,
                ])
                .update_columns([
                    comparative_score::Column::TenantCount,
                    comparative_score::Column::AverageScore,
                    comparative_score::Column::AveragePercentage,
                    comparative_score::Column::ComputedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    notify_in_transaction(&txn, &[Event::ComparisonsRefreshed { date }]).await?;
    txn.commit().await?;
    Ok(())
}

/// One basis of a tenant's comparison; averages are `None` below the minimum group size.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Basis.
    pub basis: ComparisonBasis,
    /// The tenant's group within it.
    pub group: String,
    /// How many tenants the group had that day.
    pub tenant_count: i32,
    /// Average score, shown only for groups of at least the minimum size.
    pub average_score: Option<f64>,
    /// Average percentage, likewise.
    pub average_percentage: Option<f64>,
}

/// The three bases for the tenant's groups on `date`, as a caller who reaches `reach` may
/// see them.
pub async fn tenant_comparison(
    db: &DatabaseConnection,
    cache: &ReferenceCache,
    tenant: &tenant::Model,
    date: NaiveDate,
    min_tenants: u32,
    reach: &Visibility,
) -> ApiResult<Vec<Comparison>> {
    let rows = cache
        .comparisons(date, || {
            comparative_score::Entity::find()
                .filter(comparative_score::Column::Date.eq(date))
                .all(db)
        })
        .await?;
    let in_reach = match reach.ids() {
        Some(ids) => Some(averages_of(&scored_tenant_sums(db, date, Some(ids)).await?)),
        None => None,
    };
    Ok(ComparisonBasis::ALL
        .iter()
        .map(|&basis| {
            let group = group_of(tenant.seat_count, tenant.industry.as_deref(), basis);
            let row = rows
                .iter()
                .find(|r| r.basis == basis && r.group_key == group);
            let count = row.map_or(0, |r| r.tenant_count);
            let reached = in_reach.as_ref().map(|groups| {
                groups
                    .get(&(basis, group.clone()))
                    .map_or(0, |g| g.tenant_count)
            });
            let shown = row.filter(|_| average_is_shown(count, reached, min_tenants));
            Comparison {
                basis,
                group,
                tenant_count: count,
                average_score: shown.map(|r| r.average_score),
                average_percentage: shown.map(|r| r.average_percentage),
            }
        })
        .collect())
}
