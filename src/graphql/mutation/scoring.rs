//! recomputeScores (GLOBAL_ADMIN, SECURITY_ADMIN, PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;

use crate::auth::Operation;
use crate::domain::ScoringRunKind;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::scalars::Date;
use crate::graphql::types::run::ScoringRun;
use crate::pipeline::tasks::RunRequest;
use crate::service::daily_scores::DateRange;
use crate::service::tenants;

/// What to recompute.
#[derive(InputObject)]
pub struct RecomputeScoresInput {
    /// One tenant; omitted: every tenant within reach (all tenants for a PLATFORM_ADMIN).
    pub tenant_id: Option<ID>,
    /// First date.
    pub from: Date,
    /// Last date: at most 366 days after `from`, and not after today (UTC).
    pub to: Date,
}

/// What a recomputation did, as far as it got within `--recompute-wait`.
#[derive(SimpleObject)]
pub struct RecomputeResult {
    /// Tenants with at least one day stored so far (or found already stored from a newer
    /// state).
    pub tenants_scored: i32,
    /// Tenant-days stored so far, or found already stored from a newer state (days without a
    /// snapshot store nothing).
    pub days_scored: i32,
    /// The run; follow it with `scoringRun(id)` when it is still RUNNING.
    pub run: ScoringRun,
}

/// On-demand scoring.
#[derive(Default)]
pub struct ScoringMutation;

#[Object]
impl ScoringMutation {
    /// Recomputes and replaces the scores of a date range (closed days included), then the
    /// comparisons of those dates (GLOBAL_ADMIN, SECURITY_ADMIN, PLATFORM_ADMIN). Answers when
    /// the run finishes or after `--recompute-wait`, whichever comes first; the run goes on.
    #[graphql(
        complexity = "crate::graphql::cost::recompute(input.tenant_id.is_some(), &input.from, &input.to, child_complexity)"
    )]
    async fn recompute_scores(
        &self,
        ctx: &Context<'_>,
        input: RecomputeScoresInput,
    ) -> async_graphql::Result<RecomputeResult> {
        let viewer = ctx.viewer()?;
        viewer.require(Operation::Recompute)?;
        let range = DateRange::parse(input.from.0, input.to.0)?;
        let today = Utc::now().date_naive();
        if range.to > today {
            return Err(ApiError::BadUserInput(format!(
                "to ({}) is after today ({today})",
                range.to
            ))
            .into());
        }
        let db = ctx.db()?;
        let tenant_ids = match &input.tenant_id {
            Some(id) => {
                viewer.require_on_tenant(Operation::Recompute, id)?;
                if tenants::find_tenant(db, id).await?.is_none() {
                    return Err(ApiError::tenant_not_found(id).into());
                }
                Some(vec![id.0.clone()])
            }
            None if viewer.reaches_all_tenants(Operation::Recompute) => None,
            None => Some(viewer.tenant_ids.clone()),
        };
        let pipeline = ctx.pipeline()?;
        let request = RunRequest {
            kind: ScoringRunKind::Recompute,
            range,
            tenant_ids,
            tenant_id: input.tenant_id.map(|id| id.0),
            requested_by: Some(viewer.subject.clone()),
        };
        let run = pipeline.run(request, pipeline.recompute_wait()).await?;
        Ok(RecomputeResult {
            tenants_scored: run.tenants_scored,
            days_scored: run.tenant_days_done,
            run: run.into(),
        })
    }
}
