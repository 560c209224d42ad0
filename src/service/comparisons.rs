//! Comparative scores: averages of tenant groups per date, shown only for large enough groups.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use entity::{comparative_score, daily_score, tenant};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};

use super::tenants;
use crate::domain::ComparisonBasis;
use crate::error::ApiResult;
use crate::scoring::comparison::{ScoredTenant, average_is_shown, group_averages, group_of};

/// Recomputes every group's averages for `date` from the stored daily scores.
pub async fn refresh_comparisons(db: &DatabaseConnection, date: NaiveDate) -> ApiResult<()> {
    let scores = daily_score::Entity::find()
        .filter(daily_score::Column::Date.eq(date))
        .all(db)
        .await?;
    let tenants: BTreeMap<String, tenant::Model> = tenants::all_tenants(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let groups = group_averages(scores.iter().filter_map(|score| {
        let tenant = tenants.get(&score.tenant_id)?;
        Some(ScoredTenant {
            seat_count: tenant.seat_count,
            industry: tenant.industry.as_deref(),
            score: score.score,
            percentage: score.percentage,
        })
    }));
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

/// The three bases for the tenant's groups on `date`.
pub async fn tenant_comparison(
    db: &DatabaseConnection,
    tenant: &tenant::Model,
    date: NaiveDate,
    min_tenants: u32,
) -> ApiResult<Vec<Comparison>> {
    let rows = comparative_score::Entity::find()
        .filter(comparative_score::Column::Date.eq(date))
        .all(db)
        .await?;
    Ok(ComparisonBasis::ALL
        .iter()
        .map(|&basis| {
            let group = group_of(tenant.seat_count, tenant.industry.as_deref(), basis);
            let row = rows
                .iter()
                .find(|r| r.basis == basis && r.group_key == group);
            let count = row.map_or(0, |r| r.tenant_count);
            let shown = row.filter(|_| average_is_shown(count, min_tenants));
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
