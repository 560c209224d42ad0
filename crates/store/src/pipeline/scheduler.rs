//! Closing days: at start and at every tick, every date of the last `--catch-up-days` whose
//! close time has passed and that has no successful close gets a DAILY run, oldest first.

use chrono::Utc;
use entity::enums::{ScoringRunKind, ScoringRunStatus};
use sea_orm::DbErr;

use super::Pipeline;
use super::tasks::{RunRequest, dates_with_close, plan_run};
use crate::scoring::runs::dates_due;
use crate::service::daily_scores::DateRange;

/// Plans missing closes now and at every tick, until the task is aborted.
pub async fn run_scheduler(pipeline: Pipeline) {
    let mut tick = tokio::time::interval(pipeline.config().tick);
    loop {
        tick.tick().await;
        if let Err(err) = plan_missing_closes(&pipeline).await {
            tracing::error!(error = %err, "scheduler: planning closes failed; the next tick retries");
        }
    }
}

/// Plans a close for every due date without a successful or running one, oldest first.
async fn plan_missing_closes(pipeline: &Pipeline) -> Result<(), DbErr> {
    let config = pipeline.config();
    let due = dates_due(Utc::now(), config.scoring_time, config.catch_up_days);
    if due.is_empty() {
        return Ok(());
    }
    let db = pipeline.db();
    // Succeeded or partial closes are done; queued or running ones are under way.
    let taken = dates_with_close(
        db,
        &due,
        &[
            ScoringRunStatus::Succeeded,
            ScoringRunStatus::Partial,
            ScoringRunStatus::Queued,
            ScoringRunStatus::Running,
        ],
    )
    .await?;
    for date in due.into_iter().filter(|d| !taken.contains(d)) {
        let request = RunRequest {
            kind: ScoringRunKind::Daily,
            range: DateRange::day(date),
            tenant_ids: None,
            tenant_id: None,
            requested_by: None,
        };
        if let Some(run) = plan_run(db, request, config.batch_tenant_days).await? {
            tracing::info!(%date, run = run.id, tenant_days = run.tenant_days_planned, "close planned");
            pipeline.inner.queue.wake.notify_one();
        }
    }
    Ok(())
}
