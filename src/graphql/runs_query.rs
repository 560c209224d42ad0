//! Query fields about scoring runs.

use async_graphql::{Context, ID, Object};

use super::context::ContextExt;
use super::types::ScoringRunConnection;
use super::types::run::ScoringRun;
use crate::domain::ScoringRunStatus;
use crate::error::ApiResult;
use crate::service::runs::{self, RunVisibility};

/// Reads of scoring runs.
#[derive(Default)]
pub struct RunQuery;

/// The runs the caller may see (`RunVisibility::of`).
pub(super) fn visibility(ctx: &Context<'_>) -> ApiResult<RunVisibility> {
    Ok(RunVisibility::of(ctx.viewer()?))
}

#[Object]
impl RunQuery {
    /// A scoring run by id; null when it does not exist, or the caller is not a PLATFORM_ADMIN
    /// and either did not request it or does not reach every tenant it covers.
    async fn scoring_run(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ScoringRun>> {
        let visibility = visibility(ctx)?;
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(runs::find_run(ctx.db()?, &visibility, id)
            .await?
            .map(ScoringRun::from))
    }

    /// Scoring runs, newest first: every run for a PLATFORM_ADMIN, the caller's own otherwise.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn scoring_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only runs with this status.")] status: Option<ScoringRunStatus>,
    ) -> async_graphql::Result<ScoringRunConnection> {
        let visibility = visibility(ctx)?;
        let page = runs::run_page(ctx.db()?, &visibility, status, first, after.as_deref()).await?;
        Ok(page.map(ScoringRun::from).into())
    }
}
