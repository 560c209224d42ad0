//! The worker every replica runs: claim a task, do it, record it, and finish its run.

use std::time::Duration;

use entity::enums::ScoringTaskKind;
use entity::scoring_run;
use sea_orm::{DbErr, EntityTrait};

use super::Pipeline;
use super::batch::{BatchOutcome, is_lost_claim, score_batch};
use super::tasks::{Claim, MAX_ATTEMPTS, claim_task, finish_run};
use crate::error::ApiError;
use crate::events::Event;
use crate::service::comparisons::refresh_comparisons;
use crate::service::daily_scores::DateRange;
use crate::telemetry;

/// How often an idle worker looks for tasks planned by other replicas.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Claims and does tasks until the task is aborted.
pub async fn run_worker(pipeline: Pipeline) {
    loop {
        match work_once(&pipeline).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::error!(error = %err, "scoring worker: claiming failed"),
        }
        let _ = tokio::time::timeout(IDLE_POLL, pipeline.inner.work.notified()).await;
    }
}

/// Claims one task and does it; false when there was none.
async fn work_once(pipeline: &Pipeline) -> Result<bool, DbErr> {
    let db = pipeline.db();
    let lease = chrono::Duration::from_std(pipeline.config().lease)
        .unwrap_or(chrono::Duration::seconds(60));
    let Some(claim) = claim_task(db, pipeline.replica(), lease).await? else {
        return Ok(false);
    };
    let run = scoring_run::Entity::find_by_id(claim.task.run_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("task {} has no run", claim.task.id)))?;
    if claim.task.attempts > MAX_ATTEMPTS {
        claim
            .give_up(
                db,
                "the task was claimed too often (its replicas kept dying)",
            )
            .await?;
    } else {
        let done = do_task(pipeline, &claim, &run).await;
        match done {
            Ok(outcome) => {
                // The rows are committed whatever becomes of the claim: their events go out.
                super::announce(pipeline, &outcome);
                if !claim.finish(db, &outcome).await? {
                    tracing::warn!(task = claim.task.id, "task taken over by another replica");
                    return Ok(true);
                }
                pipeline
                    .events()
                    .publish(vec![Event::RunUpdated { run_id: run.id }])
                    .await;
                let count = |n: i32| u64::try_from(n).unwrap_or(0);
                metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "scored")
                    .increment(count(outcome.stored));
                metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "superseded")
                    .increment(count(outcome.superseded));
                metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "failed")
                    .increment(count(outcome.failed));
            }
            Err(err) if is_lost_claim(&err) => {
                tracing::warn!(task = claim.task.id, "task taken over by another replica");
                return Ok(true);
            }
            Err(err) => {
                tracing::error!(task = claim.task.id, run = run.id, error = %err, "scoring task failed; it will be retried");
                claim.retry_later(db, &err.to_string()).await?;
                return Ok(true);
            }
        }
    }
    if claim.task.kind == ScoringTaskKind::Comparisons {
        finish_run(db, run.id).await?;
        pipeline.inner.run_finished.notify_waiters();
        pipeline
            .events()
            .publish(vec![Event::RunUpdated { run_id: run.id }])
            .await;
        tracing::info!(run = run.id, kind = ?run.kind, from = %run.date_from, to = %run.date_to, "scoring run finished");
    }
    Ok(true)
}

/// Does a claimed task: a batch of tenants over the run's dates, or the run's comparisons.
async fn do_task(
    pipeline: &Pipeline,
    claim: &Claim,
    run: &scoring_run::Model,
) -> Result<BatchOutcome, DbErr> {
    let db = pipeline.db();
    let range = DateRange {
        from: run.date_from,
        to: run.date_to,
    };
    match claim.task.kind {
        ScoringTaskKind::Tenants => score_batch(db, &claim.tenant_ids()?, range, claim).await,
        ScoringTaskKind::Comparisons => {
            for date in range.days() {
                refresh_comparisons(db, date).await.map_err(api_to_db)?;
                // Other replicas evict when they hear the refresh; this one at once.
                pipeline
                    .reference_cache()
                    .observe(&Event::ComparisonsRefreshed { date });
            }
            Ok(BatchOutcome::default())
        }
    }
}

/// The database error inside a service error (services wrap them as INTERNAL).
fn api_to_db(err: ApiError) -> DbErr {
    DbErr::Custom(format!("{err:?}"))
}
