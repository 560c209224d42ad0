//! Scoring tasks as jobs of the job engine: do a claimed task, record it, finish its run.

use entity::enums::ScoringTaskKind;
use entity::{scoring_run, scoring_task};
use sea_orm::{DbErr, EntityTrait};

use super::Pipeline;
use super::batch::{BatchOutcome, is_lost_claim, score_batch};
use super::tasks::{Claim, RETRIES, finish_run, start_run};
use crate::error::ApiError;
use crate::events::Event;
use crate::jobs::{Job, Queue};
use crate::service::comparisons::refresh_comparisons;
use crate::service::daily_scores::DateRange;
use crate::telemetry;

impl Job for Pipeline {
    type Table = scoring_task::Entity;
    const NAME: &'static str = "scoring";

    fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// Does the claimed task, records it, and finishes its run after the comparisons task.
    async fn run(&self, claim: Claim) -> Result<(), DbErr> {
        let db = self.db();
        start_run(db, claim.job.run_id).await?;
        let run = scoring_run::Entity::find_by_id(claim.job.run_id)
            .one(db)
            .await?
            .ok_or_else(|| DbErr::Custom(format!("task {} has no run", claim.job.id)))?;
        if claim.job.attempts > RETRIES.attempts() {
            claim
                .give_up(
                    db,
                    "the task was claimed too often (its replicas kept dying)",
                )
                .await?;
        } else {
            match do_task(self, &claim, &run).await {
                Ok(outcome) => {
                    // The rows are committed whatever becomes of the claim: their events go out.
                    super::announce(self, &outcome);
                    if !claim.finish(db, &outcome).await? {
                        tracing::warn!(task = claim.job.id, "task taken over by another replica");
                        return Ok(());
                    }
                    self.events()
                        .publish(vec![Event::RunUpdated { run_id: run.id }])
                        .await;
                    count_tenant_days(&outcome);
                }
                Err(err) if is_lost_claim(&err) => {
                    tracing::warn!(task = claim.job.id, "task taken over by another replica");
                    return Ok(());
                }
                Err(err) => {
                    tracing::error!(task = claim.job.id, run = run.id, error = %err, "scoring task failed; it will be retried");
                    return claim.retry_later(db, &err.to_string()).await;
                }
            }
        }
        if claim.job.kind == ScoringTaskKind::Comparisons {
            finish_run(db, run.id).await?;
            self.inner.run_finished.notify_waiters();
            self.events()
                .publish(vec![Event::RunUpdated { run_id: run.id }])
                .await;
            tracing::info!(run = run.id, kind = ?run.kind, from = %run.date_from, to = %run.date_to, "scoring run finished");
        }
        Ok(())
    }
}

/// Counts a batch's tenant-days by what became of them.
fn count_tenant_days(outcome: &BatchOutcome) {
    let count = |n: i32| u64::try_from(n).unwrap_or(0);
    metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "scored")
        .increment(count(outcome.stored));
    metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "superseded")
        .increment(count(outcome.superseded));
    metrics::counter!(telemetry::TENANT_DAYS, "outcome" => "failed")
        .increment(count(outcome.failed));
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
    match claim.job.kind {
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
