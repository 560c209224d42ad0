//! `Portfolio`, `PercentageBucket` and the per-action rollup.

use async_graphql::{ComplexObject, Context, SimpleObject};

use super::action::ImprovementAction;
use super::score::CategoryScore;
use crate::domain::ActionStatus;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::load_catalog;
use crate::graphql::scalars::Date;
use crate::scoring::planning::ScoreZone;
use crate::service::action_rollup::{self, RollupDay};
use crate::service::catalog;
use crate::service::portfolio::{BUCKET_WIDTH, PortfolioFigures};
use crate::service::tenants::Visibility;

/// One date's figures over the tenants in the caller's reach.
#[derive(SimpleObject)]
#[graphql(complex)]
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
    /// The tenants the figures are over.
    #[graphql(skip)]
    pub reach: Visibility,
    /// The day of each tenant the per-action rollup reads.
    #[graphql(skip)]
    pub rollup_day: RollupDay,
}

#[ComplexObject]
impl Portfolio {
    /// Per catalog action, how many of the portfolio's tenants have it in each status and the
    /// points they leave (`maxScore - score`, summed), largest `pointsAtStake` first; on the
    /// date asked for, or each tenant's latest day when none was. Only actions mapped to
    /// `framework` when one is given.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        framework: Option<String>,
    ) -> async_graphql::Result<Vec<ActionRollup>> {
        let db = ctx.db()?;
        let tallies = action_rollup::action_rollup(db, &self.reach, self.rollup_day).await?;
        let catalog = load_catalog(ctx).await?;
        let mut rows = Vec::with_capacity(tallies.len());
        for tally in tallies {
            let Some(action) = catalog.get(&tally.action_id) else {
                continue;
            };
            if let Some(framework) = &framework
                && !catalog::stored_compliance(action)?
                    .iter()
                    .any(|m| &m.framework == framework)
            {
                continue;
            }
            rows.push(ActionRollup {
                action: ImprovementAction::from(action.clone()),
                statuses: tally
                    .statuses
                    .into_iter()
                    .map(|(status, n)| StatusCount {
                        status,
                        tenant_count: i32::try_from(n).unwrap_or(i32::MAX),
                    })
                    .collect(),
                points_at_stake: tally.points_at_stake,
            });
        }
        Ok(rows)
    }
}

/// One catalog action across the portfolio's tenants.
#[derive(SimpleObject)]
pub struct ActionRollup {
    /// The action.
    pub action: ImprovementAction,
    /// Tenants per status; only the statuses some tenant has.
    pub statuses: Vec<StatusCount>,
    /// The sum over those tenants of `maxScore - score`.
    pub points_at_stake: f64,
}

/// How many tenants have an action in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: ActionStatus,
    /// Tenants with the action in it.
    pub tenant_count: i32,
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

impl Portfolio {
    /// The figures over `reach`, whose rollup reads `rollup_day`.
    pub fn new(figures: PortfolioFigures, reach: Visibility, rollup_day: RollupDay) -> Self {
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Portfolio {
            reach,
            rollup_day,
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
