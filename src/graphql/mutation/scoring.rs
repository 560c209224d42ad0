//! recomputeScores (GLOBAL_ADMIN, SECURITY_ADMIN, PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;

use crate::auth::Operation;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::scalars::Date;
use crate::service::daily_scores::{self, DateRange};
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

/// What a recomputation did.
#[derive(SimpleObject)]
pub struct RecomputeResult {
    /// Tenants with at least one day stored.
    pub tenants_scored: i32,
    /// Tenant-days stored (days without a snapshot store nothing).
    pub days_scored: i32,
}

/// On-demand scoring.
#[derive(Default)]
pub struct ScoringMutation;

#[Object]
impl ScoringMutation {
    /// Recomputes and atomically replaces the scores of a date range, then the comparisons of
    /// those dates (GLOBAL_ADMIN, SECURITY_ADMIN, PLATFORM_ADMIN).
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
            None => {
                let mut own = Vec::new();
                for id in &viewer.tenant_ids {
                    if tenants::find_tenant(db, id).await?.is_some() {
                        own.push(id.clone());
                    }
                }
                Some(own)
            }
        };
        let summary = daily_scores::recompute(db, tenant_ids, range).await?;
        Ok(RecomputeResult {
            tenants_scored: i32::try_from(summary.tenants_scored).unwrap_or(i32::MAX),
            days_scored: i32::try_from(summary.days_scored).unwrap_or(i32::MAX),
        })
    }
}
