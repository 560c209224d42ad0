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

/// The single group of the ALL_TENANTS basis.
pub const ALL_TENANTS_GROUP: &str = "all";
/// The INDUSTRY group of tenants without an industry.
pub const NO_INDUSTRY_GROUP: &str = "Unspecified";

/// The seat-size bucket label of a seat count (1–10, 11–100, 101–1,000, 1,001–10,000, over).
pub fn seat_bucket(seats: i32) -> &'static str {
    match seats {
        i32::MIN..=10 => "1-10",
        11..=100 => "11-100",
        101..=1_000 => "101-1000",
        1_001..=10_000 => "1001-10000",
        _ => "10001+",
    }
}

/// The group a tenant falls into for a basis.
pub fn group_of(tenant: &tenant::Model, basis: ComparisonBasis) -> String {
    match basis {
        ComparisonBasis::AllTenants => ALL_TENANTS_GROUP.to_owned(),
        ComparisonBasis::SeatSize => seat_bucket(tenant.seat_count).to_owned(),
        ComparisonBasis::Industry => tenant
            .industry
            .clone()
            .unwrap_or_else(|| NO_INDUSTRY_GROUP.to_owned()),
    }
}

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
    // (basis, group) -> (count, sum of scores, sum of percentages)
    let mut groups: BTreeMap<(ComparisonBasis, String), (i32, f64, f64)> = BTreeMap::new();
    for score in &scores {
        let Some(tenant) = tenants.get(&score.tenant_id) else {
            continue;
        };
        for &basis in ComparisonBasis::ALL {
            let entry = groups.entry((basis, group_of(tenant, basis))).or_default();
            entry.0 += 1;
            entry.1 += score.score;
            entry.2 += score.percentage;
        }
    }
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
            .filter(comparative_score::Column::Basis.eq(basis.as_str()))
            .filter(comparative_score::Column::GroupKey.is_not_in(live))
            .exec(&txn)
            .await?;
    }
    for ((basis, group), (count, score_sum, percentage_sum)) in groups {
        let row = comparative_score::ActiveModel {
            date: Set(date),
            basis: Set(basis.as_str().to_owned()),
            group_key: Set(group),
            tenant_count: Set(count),
            average_score: Set(score_sum / f64::from(count)),
            average_percentage: Set(percentage_sum / f64::from(count)),
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
            let group = group_of(tenant, basis);
            let row = rows
                .iter()
                .find(|r| r.basis == basis.as_str() && r.group_key == group);
            let count = row.map_or(0, |r| r.tenant_count);
            let shown = row.filter(|_| count >= 0 && count as u32 >= min_tenants);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_buckets_match_the_design() {
        assert_eq!(seat_bucket(1), "1-10");
        assert_eq!(seat_bucket(10), "1-10");
        assert_eq!(seat_bucket(11), "11-100");
        assert_eq!(seat_bucket(1000), "101-1000");
        assert_eq!(seat_bucket(1001), "1001-10000");
        assert_eq!(seat_bucket(10_000), "1001-10000");
        assert_eq!(seat_bucket(10_001), "10001+");
    }
}
