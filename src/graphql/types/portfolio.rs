//! `Portfolio` and `PercentageBucket`.

use async_graphql::SimpleObject;

use super::score::CategoryScore;
use crate::graphql::scalars::Date;
use crate::scoring::planning::ScoreZone;
use crate::service::portfolio::{BUCKET_WIDTH, PortfolioFigures};

/// One date's figures over the tenants in the caller's reach.
#[derive(SimpleObject)]
pub struct Portfolio {
    /// The date: the one asked for, or the newest any tenant in reach has a score for; null
    /// when none has a score yet.
    pub date: Option<Date>,
    /// Tenants in reach.
    pub tenant_count: i32,
    /// Of those, tenants with a score on the date.
    pub scored_tenant_count: i32,
    /// Mean score of the scored tenants; null when none is scored.
    pub average_score: Option<f64>,
    /// Mean percentage of the scored tenants; null when none is scored.
    pub average_percentage: Option<f64>,
    /// Per category, the mean score and maximum of the scored tenants.
    pub categories: Vec<CategoryScore>,
    /// Scored tenants per ten-point bucket of percentage, from 0–10 to 90–100.
    pub distribution: Vec<PercentageBucket>,
    /// Scored tenants whose percentage is lower than on the day before.
    pub regressed_tenant_count: i32,
    /// Plans of the tenants in reach that are overdue today.
    pub overdue_plan_count: i32,
    /// Scored tenants per zone, each by its own thresholds.
    pub zones: Vec<ZoneCount>,
}

/// How many tenants a zone holds.
#[derive(SimpleObject)]
pub struct ZoneCount {
    /// The zone.
    pub zone: ScoreZone,
    /// Scored tenants in it.
    pub tenant_count: i32,
}

/// Tenants whose percentage lies in `[from, to)` (the last bucket includes 100).
#[derive(SimpleObject)]
pub struct PercentageBucket {
    /// Lowest percentage of the bucket.
    pub from: f64,
    /// Highest percentage of the bucket (excluded but for the last).
    pub to: f64,
    /// How many scored tenants fall into it.
    pub tenant_count: i32,
}

impl From<PortfolioFigures> for Portfolio {
    fn from(figures: PortfolioFigures) -> Self {
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Portfolio {
            date: figures.date.map(Date),
            tenant_count: count(figures.tenant_count),
            scored_tenant_count: count(figures.scored_tenant_count),
            average_score: figures.average_score,
            average_percentage: figures.average_percentage,
            categories: figures
                .categories
                .into_iter()
                .map(CategoryScore::from)
                .collect(),
            distribution: figures
                .distribution
                .iter()
                .enumerate()
                .map(|(bucket, &n)| PercentageBucket {
                    from: bucket as f64 * BUCKET_WIDTH,
                    to: (bucket + 1) as f64 * BUCKET_WIDTH,
                    tenant_count: count(n),
                })
                .collect(),
            overdue_plan_count: count(figures.overdue_plan_count),
            zones: [ScoreZone::Good, ScoreZone::Fair, ScoreZone::Poor]
                .into_iter()
                .zip(figures.zones)
                .map(|(zone, n)| ZoneCount {
                    zone,
                    tenant_count: count(n),
                })
                .collect(),
            regressed_tenant_count: count(figures.regressed_tenant_count),
        }
    }
}
