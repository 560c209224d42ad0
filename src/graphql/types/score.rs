//! `DailyScore`, `CategoryScore`, `ActionScore` and `Progress`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::action_score_set::ActionResult;
use entity::daily_score;

use super::action::ImprovementAction;
use super::planning::{ActionPlan, status_of, statuses_today};
use crate::domain::{ActionCategory, ActionState, ActionStatus};
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::{
    TenantDay, load_action, load_action_scores, load_plans, load_tenant,
};
use crate::graphql::scalars::{Date, DateTime};
use crate::scoring::planning::ScoreZone;
use crate::scoring::totals::{CategoryTotal, LicenseGap};
use crate::scoring::{ComplianceMapping, FrameworkScore, ScoredAction, framework_scores};
use crate::scoring::{potential_increase, score_impact};
use crate::service::catalog::stored_compliance;

/// A tenant's stored score for one UTC date (shared with the caches that hold it).
pub struct DailyScore(pub Arc<daily_score::Model>);

impl From<Arc<daily_score::Model>> for DailyScore {
    fn from(row: Arc<daily_score::Model>) -> Self {
        DailyScore(row)
    }
}

impl From<daily_score::Model> for DailyScore {
    fn from(row: daily_score::Model) -> Self {
        DailyScore(Arc::new(row))
    }
}

/// The per-category totals stored with a day.
pub fn category_totals(row: &daily_score::Model) -> Vec<CategoryTotal> {
    row.categories.every()
}

/// One category's totals on one date.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct CategoryScore {
    /// The category.
    pub category: ActionCategory,
    /// Sum of its action scores.
    pub score: f64,
    /// Sum of its action maxima.
    pub max_score: f64,
}

/// `current` of `total`, e.g. 90 of 120 users.
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// The numerator fact.
    pub current: f64,
    /// The denominator fact.
    pub total: f64,
}

impl From<CategoryTotal> for CategoryScore {
    fn from(total: CategoryTotal) -> Self {
        CategoryScore {
            category: total.category,
            score: total.score,
            max_score: total.max_score,
        }
    }
}

impl From<crate::scoring::Progress> for Progress {
    fn from(p: crate::scoring::Progress) -> Self {
        Progress {
            current: p.current,
            total: p.total,
        }
    }
}

impl DailyScore {
    /// The stored per-category totals.
    pub fn category_totals(&self) -> Vec<CategoryTotal> {
        category_totals(&self.0)
    }

    /// The day's action scores, through the request's batch.
    pub async fn action_rows(&self, ctx: &Context<'_>) -> ApiResult<Vec<ActionScore>> {
        let key = TenantDay::of(&self.0);
        let day_max = self.0.max_score;
        Ok(load_action_scores(ctx, key)
            .await?
            .iter()
            .map(|row| ActionScore {
                tenant_id: self.0.tenant_id.clone(),
                row: row.clone(),
                day_max_score: day_max,
            })
            .collect())
    }
}

/// The compliance mappings of the actions of `rows`, in their order, through the request's
/// batch.
pub async fn mappings_of(
    ctx: &Context<'_>,
    rows: &[ActionScore],
) -> ApiResult<Vec<Vec<ComplianceMapping>>> {
    let actions =
        futures::future::try_join_all(rows.iter().map(|a| load_action(ctx, &a.row.action_id)))
            .await?;
    actions
        .iter()
        .map(|action| stored_compliance(action))
        .collect()
}

/// A tenant's stored score for one UTC date.
#[Object]
impl DailyScore {
    /// The UTC calendar day.
    async fn date(&self) -> Date {
        Date(self.0.date)
    }

    /// Sum of the action scores, unrounded.
    async fn score(&self) -> f64 {
        self.0.score
    }

    /// Sum of the action maxima.
    async fn max_score(&self) -> f64 {
        self.0.max_score
    }

    /// `100 × score / maxScore`, 0 when `maxScore` is 0.
    async fn percentage(&self) -> f64 {
        self.0.percentage
    }

    /// The score if every PLANNED action earned its remaining points.
    async fn planned_score(&self) -> f64 {
        self.0.planned_score
    }

    /// Totals per category, every category listed.
    async fn categories(&self) -> Vec<CategoryScore> {
        self.category_totals()
            .into_iter()
            .map(CategoryScore::from)
            .collect()
    }

    /// The day's zone by the tenant's thresholds: GOOD, FAIR or POOR.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<ScoreZone> {
        let tenant = load_tenant(ctx, &self.0.tenant_id).await?;
        Ok(crate::service::tenants::zones_of(&tenant).zone(self.0.percentage))
    }

    /// Totals per compliance framework the catalog's actions map to (CIS, NIST 800-53, custom
    /// names), by framework name; from this day's action scores and the catalog's mappings.
    async fn frameworks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FrameworkScore>> {
        let rows = self.action_rows(ctx).await?;
        let mappings = mappings_of(ctx, &rows).await?;
        Ok(framework_scores(rows.iter().zip(&mappings).map(
            |(a, mapped)| {
                let scored = ScoredAction {
                    score: a.row.score,
                    max_score: a.row.max_score,
                    status: a.row.status,
                };
                (scored, mapped.as_slice())
            },
        )))
    }

    /// One score per catalog action, optionally only one status or category; by action id.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn action_scores(
        &self,
        ctx: &Context<'_>,
        status: Option<ActionStatus>,
        category: Option<ActionCategory>,
    ) -> async_graphql::Result<Vec<ActionScore>> {
        Ok(self
            .action_rows(ctx)
            .await?
            .into_iter()
            .filter(|a| status.is_none_or(|s| a.row.status == s))
            .filter(|a| category.is_none_or(|c| a.row.category == c))
            .collect())
    }

    /// The snapshot the score was computed from.
    async fn snapshot_id(&self) -> Option<ID> {
        self.0.snapshot_id.map(|id| ID(id.to_string()))
    }

    /// When the score was computed.
    async fn computed_at(&self) -> DateTime {
        DateTime(self.0.computed_at)
    }

    /// False while the date is open (today: it follows every change); true once closed, after
    /// which only `recomputeScores` rewrites it.
    async fn r#final(&self) -> bool {
        self.0.r#final
    }

    /// Points of scored, in-force actions that had no data (they count 0 of 0).
    async fn no_data_max_score(&self) -> f64 {
        self.0.no_data_max_score
    }

    /// How much of the catalog the facts could measure:
    /// `100 × maxScore / (maxScore + noDataMaxScore)`, 100 when both are 0.
    async fn coverage(&self) -> f64 {
        self.0.coverage
    }

    /// Per licence the tenant lacks, the actions that read NOT_LICENSED for it that day and
    /// their summed maxima ("Entra ID P2 would add 26 points to what you can earn").
    async fn license_gaps(&self) -> async_graphql::Result<Vec<LicenseGap>> {
        Ok(LicenseGap::from_stored(self.0.license_gaps.as_ref())
            .map_err(|e| ApiError::Internal(format!("stored licence gaps are corrupt: {e}")))?)
    }
}

/// One catalog action's score on one date.
pub struct ActionScore {
    /// The tenant.
    pub tenant_id: String,
    /// The stored result.
    pub row: ActionResult,
    /// The day's total maximum, for `scoreImpact`.
    pub day_max_score: f64,
}

impl ActionScore {
    /// Points still to gain.
    pub fn points_left(&self) -> f64 {
        potential_increase(self.row.score, self.row.max_score)
    }
}

/// One catalog action's score on one date.
#[Object]
impl ActionScore {
    /// The catalog entry.
    async fn action(&self, ctx: &Context<'_>) -> async_graphql::Result<ImprovementAction> {
        Ok(load_action(ctx, &self.row.action_id).await?.into())
    }

    /// The tenant's plan for this action, if it has one.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ActionPlan>> {
        let plans = load_plans(ctx, &self.tenant_id).await?;
        let Some(plan) = plans
            .into_iter()
            .find(|p| p.action_id == self.row.action_id)
        else {
            return Ok(None);
        };
        let statuses = statuses_today(ctx, &self.tenant_id).await?;
        let status = status_of(&statuses, &plan.action_id, plan.due_date);
        Ok(Some(ActionPlan::current(plan, status)))
    }

    /// Points earned.
    async fn score(&self) -> f64 {
        self.row.score
    }

    /// Points the action counted for in the day's maximum.
    async fn max_score(&self) -> f64 {
        self.row.max_score
    }

    /// Why the points are what they are.
    async fn status(&self) -> ActionStatus {
        self.row.status
    }

    /// The override state in force that day.
    async fn state(&self) -> ActionState {
        self.row.state
    }

    /// RATIO progress, e.g. 90 of 120 users.
    async fn progress(&self) -> Option<Progress> {
        match (self.row.progress_current, self.row.progress_total) {
            (Some(current), Some(total)) => Some(Progress { current, total }),
            _ => None,
        }
    }

    /// `maxScore - score`: points still to gain.
    async fn potential_increase(&self) -> f64 {
        self.points_left()
    }

    /// `100 × maxScore / the day's total maxScore`: how much the action weighs.
    async fn score_impact(&self) -> f64 {
        score_impact(self.row.max_score, self.day_max_score)
    }
}
