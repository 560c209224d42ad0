//! `ScoreDiff`, `CategoryDelta` and `ActionChange`: why a score moved between two dates.

use async_graphql::{Context, Object, SimpleObject};

use super::action::ImprovementAction;
use super::directory_change::DirectoryChange;
use super::score::{DailyScore, Progress, category_totals};
use crate::domain::{ActionCategory, ActionState, ActionStatus, ChangeReason};
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::load_action;
use crate::graphql::scalars::Date;
use crate::scoring::diff;
use crate::service::directory_changes::{
    ChangeWindow, action_fact_paths, attach_changes, changes_in_windows,
};
use crate::service::score_reads::ScoreDiffData;

/// Two days' totals, their deltas and every action that changed.
pub struct ScoreDiff(pub ScoreDiffData);

/// How one category moved.
#[derive(SimpleObject)]
pub struct CategoryDelta {
    /// The category.
    pub category: ActionCategory,
    /// Score after minus score before.
    pub score_delta: f64,
    /// Maximum after minus maximum before.
    pub max_score_delta: f64,
}

/// Two days' totals, their deltas and every action that changed.
#[Object]
impl ScoreDiff {
    /// The earlier date.
    async fn from(&self) -> Date {
        Date(self.0.before.date)
    }

    /// The later date.
    async fn to(&self) -> Date {
        Date(self.0.after.date)
    }

    /// The earlier day's score.
    async fn before(&self) -> DailyScore {
        self.0.before.clone().into()
    }

    /// The later day's score.
    async fn after(&self) -> DailyScore {
        self.0.after.clone().into()
    }

    /// Score after minus score before.
    async fn score_delta(&self) -> f64 {
        self.0.after.score - self.0.before.score
    }

    /// Maximum after minus maximum before.
    async fn max_score_delta(&self) -> f64 {
        self.0.after.max_score - self.0.before.max_score
    }

    /// Percentage after minus percentage before.
    async fn percentage_delta(&self) -> f64 {
        self.0.after.percentage - self.0.before.percentage
    }

    /// Deltas per category, every category listed.
    async fn categories(&self) -> Vec<CategoryDelta> {
        let before = category_totals(&self.0.before);
        let after = category_totals(&self.0.after);
        diff::category_deltas(&before, &after)
            .into_iter()
            .map(|delta| CategoryDelta {
                category: delta.category,
                score_delta: delta.score,
                max_score_delta: delta.max_score,
            })
            .collect()
    }

    /// Actions whose score, max, status, state or progress differ; largest |scoreDelta| first.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Only actions that lost points.")] only_regressions: bool,
    ) -> async_graphql::Result<Vec<ActionChange>> {
        let mut changes: Vec<diff::ActionChange> = self
            .0
            .changes
            .iter()
            .filter(|c| !only_regressions || c.is_regression())
            .cloned()
            .collect();
        if ctx.look_ahead().field("directoryChanges").exists() {
            attach_directory_changes(ctx, &self.0, &mut changes).await?;
        }
        Ok(changes.into_iter().map(ActionChange).collect())
    }
}

/// Looks up the audit events between the two days' snapshots and gives each change those
/// that can move its action: three statements however many changes and events.
async fn attach_directory_changes(
    ctx: &Context<'_>,
    data: &ScoreDiffData,
    changes: &mut [diff::ActionChange],
) -> async_graphql::Result<()> {
    let window = match (data.before.snapshot_id, data.after.snapshot_id) {
        (Some(after_snapshot), Some(upto_snapshot)) => Some(ChangeWindow {
            tenant_id: data.after.tenant_id.clone(),
            after_snapshot,
            upto_snapshot,
        }),
        _ => None,
    };
    let db = ctx.db()?;
    let events = match &window {
        Some(window) => changes_in_windows(db, std::slice::from_ref(window))
            .await?
            .remove(window)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let fact_paths = if events.is_empty() {
        Default::default()
    } else {
        action_fact_paths(db).await?
    };
    attach_changes(changes, &events, &fact_paths);
    Ok(())
}

/// One action that differs between the two dates.
pub struct ActionChange(pub diff::ActionChange);

/// One action that differs between the two dates, with the values before and after.
#[Object]
impl ActionChange {
    /// The catalog entry.
    async fn action(&self, ctx: &Context<'_>) -> async_graphql::Result<ImprovementAction> {
        Ok(load_action(ctx, &self.0.action_id).await?.into())
    }

    /// Every reason that applies.
    async fn reasons(&self) -> &[ChangeReason] {
        &self.0.reasons
    }

    /// Score after minus score before (a missing side counts 0).
    async fn score_delta(&self) -> f64 {
        self.0.score_delta
    }

    /// Score on the earlier date.
    async fn score_before(&self) -> Option<f64> {
        self.0.before.as_ref().map(|r| r.score)
    }

    /// Score on the later date.
    async fn score_after(&self) -> Option<f64> {
        self.0.after.as_ref().map(|r| r.score)
    }

    /// Maximum on the earlier date.
    async fn max_score_before(&self) -> Option<f64> {
        self.0.before.as_ref().map(|r| r.max_score)
    }

    /// Maximum on the later date.
    async fn max_score_after(&self) -> Option<f64> {
        self.0.after.as_ref().map(|r| r.max_score)
    }

    /// Status on the earlier date.
    async fn status_before(&self) -> Option<ActionStatus> {
        self.0.before.as_ref().map(|r| r.status)
    }

    /// Status on the later date.
    async fn status_after(&self) -> Option<ActionStatus> {
        self.0.after.as_ref().map(|r| r.status)
    }

    /// Override state on the earlier date.
    async fn state_before(&self) -> Option<ActionState> {
        self.0.before.as_ref().map(|r| r.state)
    }

    /// Override state on the later date.
    async fn state_after(&self) -> Option<ActionState> {
        self.0.after.as_ref().map(|r| r.state)
    }

    /// Progress on the earlier date.
    async fn progress_before(&self) -> Option<Progress> {
        self.0
            .before
            .as_ref()
            .and_then(|r| r.progress)
            .map(Progress::from)
    }

    /// Progress on the later date.
    async fn progress_after(&self) -> Option<Progress> {
        self.0
            .after
            .as_ref()
            .and_then(|r| r.progress)
            .map(Progress::from)
    }

    /// The directory's audit events between the two days' snapshots (after the earlier one's
    /// capture, up to the later one's) that can move this action, oldest first: who changed
    /// what, and when. Empty when either day has no snapshot or nothing was logged.
    async fn directory_changes(&self) -> Vec<DirectoryChange> {
        self.0
            .directory_changes
            .iter()
            .flatten()
            .cloned()
            .map(DirectoryChange)
            .collect()
    }
}
