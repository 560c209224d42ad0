//! The portfolio: one date's figures over the tenants in a caller's reach, aggregated in the
//! database in a constant number of statements (per 500 ids of a listed reach).

use chrono::NaiveDate;
use entity::{action_plan, daily_score, latest_action_score, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult};

use super::tenants::Visibility;
use crate::domain::ActionCategory;
use crate::error::ApiResult;
use crate::scoring::totals::CategoryTotal;
use entity::daily_score::StoredCategories;

/// Width of the distribution's buckets, in percentage points.
pub const BUCKET_WIDTH: f64 = 10.0;
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

/// One date's figures over the tenants in reach.
#[derive(Clone, Debug, PartialEq)]
pub struct PortfolioFigures {
    /// The date; `None` when no tenant in reach has a score yet.
    pub date: Option<NaiveDate>,
    /// Tenants in reach.
    pub tenant_count: i64,
    /// Of those, tenants with a score on the date.
    pub scored_tenant_count: i64,
    /// Mean score of the scored tenants.
    pub average_score: Option<f64>,
    /// Mean percentage of the scored tenants.
    pub average_percentage: Option<f64>,
    /// Per category, the mean score and maximum of the scored tenants.
    pub categories: Vec<CategoryTotal>,
    /// Scored tenants per ten-point bucket of percentage (the last includes 100).
    pub distribution: [i64; 10],
    /// Scored tenants whose percentage is lower than on the day before.
    pub regressed_tenant_count: i64,
    /// Scored tenants in each zone of their own thresholds: GOOD, FAIR, POOR.
    pub zones: [i64; 3],
    /// Plans of the tenants in reach that are overdue today.
    pub overdue_plan_count: i64,
}

/// The figures that read more than the day rows, computed only when asked for: a caller that
/// wants two numbers does not pay for sums over every action row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioParts {
    /// Per-category sums (every action row of the date).
    pub categories: bool,
    /// Overdue plans (each plan against today's action statuses).
    pub overdue_plans: bool,
    /// Tenants lower than the day before.
    pub regressions: bool,
}

/// The portfolio of `date`, or of the newest date any tenant in reach has a score for; the
/// figures `parts` leaves out stay zero.
pub async fn portfolio(
    db: &DatabaseConnection,
    visibility: &Visibility,
    date: Option<NaiveDate>,
    parts: PortfolioParts,
) -> ApiResult<PortfolioFigures> {
    let groups: Vec<Option<&[String]>> = match visibility {
        Visibility::All => vec![None],
        Visibility::Only(ids) => ids.chunks(IDS_PER_QUERY).map(Some).collect(),
    };
    let mut tenant_count = 0;
    for group in &groups {
        let mut count = Query::select()
            .expr_as(
                Expr::col((tenant::Entity, tenant::Column::Id)).count(),
                Alias::new("n"),
            )
            .from(tenant::Entity)
            .to_owned();
        if let Some(ids) = group {
            count.and_where(
                Expr::col((tenant::Entity, tenant::Column::Id)).is_in(ids.iter().cloned()),
            );
        }
        tenant_count += number(db.query_one(&count).await?, "n")?;
    }
    let date = match date {
        Some(date) => Some(date),
        None => newest_date(db, &groups).await?,
    };
    let mut figures = PortfolioFigures {
        date,
        tenant_count,
        scored_tenant_count: 0,
        average_score: None,
        average_percentage: None,
        categories: ActionCategory::ALL
            .iter()
            .map(|&category| CategoryTotal {
                category,
                score: 0.0,
                max_score: 0.0,
            })
            .collect(),
        distribution: [0; 10],
        regressed_tenant_count: 0,
        zones: [0; 3],
        overdue_plan_count: 0,
    };
    let today = chrono::Utc::now().date_naive();
    for group in groups.iter().filter(|_| parts.overdue_plans) {
        figures.overdue_plan_count +=
            number(db.query_one(&overdue_plans(today, *group)).await?, "n")?;
    }
    let Some(date) = date else {
        return Ok(figures);
    };
    let (mut score_sum, mut percentage_sum) = (0.0, 0.0);
    for group in &groups {
        let day = db.query_one(&day_sums(date, *group)).await?;
        let Some(day) = day else { continue };
        figures.scored_tenant_count += count_in(&day, "tenant_count")?;
        score_sum += day.try_get::<Option<f64>>("", "score_sum")?.unwrap_or(0.0);
        percentage_sum += day
            .try_get::<Option<f64>>("", "percentage_sum")?
            .unwrap_or(0.0);
        for (bucket, count) in figures.distribution.iter_mut().enumerate() {
            *count += count_in(&day, &format!("bucket_{bucket}"))?;
        }
        let good = count_in(&day, "zone_good")?;
        let fair = count_in(&day, "zone_fair")?;
        figures.zones[0] += good;
        figures.zones[1] += fair;
        figures.zones[2] += count_in(&day, "tenant_count")? - good - fair;
        let categories = if parts.categories {
            db.query_all(&category_totals(date, *group)).await?
        } else {
            Vec::new()
        };
        for row in categories {
            let stored: StoredCategories = row.try_get("", "categories")?;
            for day_total in stored.every() {
                if let Some(total) = figures
                    .categories
                    .iter_mut()
                    .find(|c| c.category == day_total.category)
                {
                    total.score += day_total.score;
                    total.max_score += day_total.max_score;
                }
            }
        }
        if parts.regressions {
            figures.regressed_tenant_count +=
                number(db.query_one(&regressions(date, *group)).await?, "n")?;
        }
    }
    if figures.scored_tenant_count > 0 {
        let scored = figures.scored_tenant_count as f64;
        figures.average_score = Some(score_sum / scored);
        figures.average_percentage = Some(percentage_sum / scored);
        for total in &mut figures.categories {
            total.score /= scored;
            total.max_score /= scored;
        }
    }
    Ok(figures)
}

/// A count read from a one-row result.
fn number(row: Option<QueryResult>, column: &str) -> Result<i64, DbErr> {
    match row {
        Some(row) => count_in(&row, column),
        None => Ok(0),
    }
}

/// A count (or a sum of ones) in a row; SUM over no rows is NULL.
fn count_in(row: &QueryResult, column: &str) -> Result<i64, DbErr> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

/// The newest date any tenant of `groups` has a score for.
async fn newest_date(
    db: &DatabaseConnection,
    groups: &[Option<&[String]>],
) -> Result<Option<NaiveDate>, DbErr> {
    let mut newest = None;
    for group in groups {
        let mut query = Query::select()
            .expr_as(
                Expr::col((daily_score::Entity, daily_score::Column::Date)).max(),
                Alias::new("newest"),
            )
            .from(daily_score::Entity)
            .to_owned();
        restrict(
            &mut query,
            daily_score::Entity,
            daily_score::Column::TenantId,
            *group,
        );
        if let Some(row) = db.query_one(&query).await? {
            let date: Option<NaiveDate> = row.try_get("", "newest")?;
            newest = Ord::max(newest, date);
        }
    }
    Ok(newest)
}

/// Limits `query` to the tenants of a group (all when `None`).
fn restrict(
    query: &mut SelectStatement,
    table: impl sea_orm::sea_query::IntoIden + Copy,
    column: impl sea_orm::sea_query::IntoIden,
    group: Option<&[String]>,
) {
    if let Some(ids) = group {
        query.and_where(Expr::col((table, column)).is_in(ids.iter().cloned()));
    }
}

/// The scored tenants of `date` with their tenant rows: how many (`tenant_count`), their
/// summed score (`score_sum`) and percentage (`percentage_sum`). The portfolio adds its zones
/// and buckets, the comparisons their grouping by seats and industry.
pub fn scored_tenant_sums(date: NaiveDate) -> SelectStatement {
    Query::select()
        .expr_as(
            Expr::col((daily_score::Entity, daily_score::Column::Id)).count(),
            Alias::new("tenant_count"),
        )
        .expr_as(
            Expr::col((daily_score::Entity, daily_score::Column::Score)).sum(),
            Alias::new("score_sum"),
        )
        .expr_as(
            Expr::col((daily_score::Entity, daily_score::Column::Percentage)).sum(),
            Alias::new("percentage_sum"),
        )
        .from(daily_score::Entity)
        .inner_join(
            tenant::Entity,
            Expr::col((tenant::Entity, tenant::Column::Id))
                .equals((daily_score::Entity, daily_score::Column::TenantId)),
        )
        .and_where(Expr::col((daily_score::Entity, daily_score::Column::Date)).eq(date))
        .to_owned()
}

/// Count, sums and the ten bucket counts of the scored tenants of `date`.
fn day_sums(date: NaiveDate, group: Option<&[String]>) -> SelectStatement {
    let percentage = || Expr::col((daily_score::Entity, daily_score::Column::Percentage));
    let mut query = scored_tenant_sums(date);
    // Each tenant's zone by its own thresholds.
    let good = percentage().gte(Expr::col((tenant::Entity, tenant::Column::ZoneGood)));
    let fair = percentage()
        .gte(Expr::col((tenant::Entity, tenant::Column::ZoneFair)))
        .and(percentage().lt(Expr::col((tenant::Entity, tenant::Column::ZoneGood))));
    query.expr_as(
        Expr::case(good, 1).finally(0).sum(),
        Alias::new("zone_good"),
    );
    query.expr_as(
        Expr::case(fair, 1).finally(0).sum(),
        Alias::new("zone_fair"),
    );
    for bucket in 0..10 {
        let from = bucket as f64 * BUCKET_WIDTH;
        let mut inside = percentage().gte(from);
        if bucket < 9 {
            inside = inside.and(percentage().lt(from + BUCKET_WIDTH));
        }
        query.expr_as(
            Expr::case(inside, 1).finally(0).sum(),
            Alias::new(format!("bucket_{bucket}")),
        );
    }
    restrict(
        &mut query,
        daily_score::Entity,
        daily_score::Column::TenantId,
        group,
    );
    query
}

/// The stored category totals of the scored tenants of `date`, one row per day, by tenant (sums
/// added in one order).
fn category_totals(date: NaiveDate, group: Option<&[String]>) -> SelectStatement {
    let mut query = Query::select()
        .column(daily_score::Column::Categories)
        .from(daily_score::Entity)
        .and_where(Expr::col(daily_score::Column::Date).eq(date))
        .order_by(daily_score::Column::TenantId, sea_orm::Order::Asc)
        .to_owned();
    restrict(
        &mut query,
        daily_score::Entity,
        daily_score::Column::TenantId,
        group,
    );
    query
}

/// How many plans of the group are overdue on `today`: due before it, and their action is not
/// COMPLETED or THIRD_PARTY in today's score (kept, when today is the tenant's newest day, in
/// `latest_action_scores`).
fn overdue_plans(today: NaiveDate, group: Option<&[String]>) -> SelectStatement {
    use latest_action_score::Column as L;
    let latest = latest_action_score::Entity;
    let done = Query::select()
        .expr(Expr::val(1))
        .from(latest)
        .inner_join(
            tenant::Entity,
            Expr::col((tenant::Entity, tenant::Column::Id))
                .equals((latest, L::TenantId))
                .and(Expr::col((tenant::Entity, tenant::Column::LatestScoreDate)).eq(today)),
        )
        .and_where(
            Expr::col((latest, L::TenantId))
                .equals((action_plan::Entity, action_plan::Column::TenantId)),
        )
        .and_where(
            Expr::col((latest, L::ActionId))
                .equals((action_plan::Entity, action_plan::Column::ActionId)),
        )
        .and_where(Expr::col((latest, L::Status)).is_in(["COMPLETED", "THIRD_PARTY"]))
        .to_owned();
    let mut query = Query::select()
        .expr_as(
            Expr::col((action_plan::Entity, action_plan::Column::ActionId)).count(),
            Alias::new("n"),
        )
        .from(action_plan::Entity)
        .and_where(Expr::col((action_plan::Entity, action_plan::Column::DueDate)).lt(today))
        .and_where(Expr::exists(done).not())
        .to_owned();
    restrict(
        &mut query,
        action_plan::Entity,
        action_plan::Column::TenantId,
        group,
    );
    query
}

/// How many scored tenants of `date` have a lower percentage than the day before.
fn regressions(date: NaiveDate, group: Option<&[String]>) -> SelectStatement {
    let before = Alias::new("day_before");
    let mut query = Query::select()
        .expr_as(
            Expr::col((daily_score::Entity, daily_score::Column::Id)).count(),
            Alias::new("n"),
        )
        .from(daily_score::Entity)
        .join_as(
            JoinType::InnerJoin,
            daily_score::Entity,
            before.clone(),
            Expr::col((before.clone(), daily_score::Column::TenantId))
                .equals((daily_score::Entity, daily_score::Column::TenantId))
                .and(
                    Expr::col((before.clone(), daily_score::Column::Date))
                        .eq(date.pred_opt().unwrap_or(date)),
                ),
        )
        .and_where(Expr::col((daily_score::Entity, daily_score::Column::Date)).eq(date))
        .and_where(
            Expr::col((daily_score::Entity, daily_score::Column::Percentage))
                .lt(Expr::col((before, daily_score::Column::Percentage))),
        )
        .to_owned();
    restrict(
        &mut query,
        daily_score::Entity,
        daily_score::Column::TenantId,
        group,
    );
    query
}
