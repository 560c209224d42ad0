//! Runs and their tasks in the database: planning, which tasks the job engine may claim, and
//! finishing, retrying or giving a claimed task up.
//!
//! Tasks are claimed, renewed and written through `crate::jobs`: a task whose lease lapsed (its
//! replica died) is claimable again, and every write of a task checks its claim token first.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ScoringRunKind, ScoringRunStatus, ScoringTaskKind, ScoringTaskStatus};
use entity::{scoring_run, scoring_task, snapshot, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, UpdateMany,
};
use serde_json::json;

use super::batch::{BatchOutcome, WriteFence};
use crate::jobs::{Backoff, Claimed, JobTable};
use crate::service::daily_scores::DateRange;

/// What a run covers.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// DAILY or RECOMPUTE.
    pub kind: ScoringRunKind,
    /// Dates.
    pub range: DateRange,
    /// The tenants to score; `None`: every tenant.
    pub tenant_ids: Option<Vec<String>>,
    /// The one tenant asked for, shown on the run.
    pub tenant_id: Option<String>,
    /// Token subject of the requester.
    pub requested_by: Option<String>,
}

/// Plans a run: the run row, one task per batch of tenants (at most `batch_tenant_days`
/// tenant-days each) and the comparisons task, in one transaction. A DAILY run is created only
/// if its date has no close yet (or only a failed one); `None` when there was nothing to plan.
pub async fn plan_run(
    db: &DatabaseConnection,
    request: RunRequest,
    batch_tenant_days: usize,
) -> Result<Option<scoring_run::Model>, DbErr> {
    let first_captures = first_capture_dates(db, request.tenant_ids.as_deref()).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let close_date = (request.kind == ScoringRunKind::Daily).then_some(request.range.from);
    if let Some(date) = close_date {
        // A failed close keeps its record but no longer holds the date.
        scoring_run::Entity::update_many()
            .col_expr(
                scoring_run::Column::CloseDate,
                Expr::value(Option::<NaiveDate>::None),
            )
            .filter(scoring_run::Column::CloseDate.eq(date))
            .filter(scoring_run::Column::Status.eq(ScoringRunStatus::Failed))
            .exec(&txn)
            .await?;
    }
    let run = scoring_run::ActiveModel {
        kind: Set(request.kind),
        date_from: Set(request.range.from),
        date_to: Set(request.range.to),
        tenant_id: Set(request.tenant_id.clone()),
        tenant_scope: Set(request.tenant_ids.as_ref().map(|ids| json!(ids))),
        status: Set(ScoringRunStatus::Queued),
        tenant_days_planned: Set(0),
        tenant_days_done: Set(0),
        tenant_days_failed: Set(0),
        tenants_scored: Set(0),
        requested_by: Set(request.requested_by.clone()),
        close_date: Set(close_date),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = scoring_run::Entity::insert(run)
        .on_conflict(
            OnConflict::column(scoring_run::Column::CloseDate)
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning(&txn)
        .await;
    let run = match inserted {
        Ok(run) => run,
        Err(DbErr::RecordNotInserted) => return Ok(None), // another replica planned this close
        Err(err) => return Err(err),
    };
    let mut planned_total = 0;
    let days_of = |first: NaiveDate| request.range.days().filter(|d| *d >= first).count();
    let mut batch: Vec<String> = Vec::new();
    let mut batch_days = 0;
    let mut tasks = Vec::new();
    for (tenant_id, first) in first_captures {
        let days = days_of(first);
        if days == 0 {
            continue;
        }
        if !batch.is_empty() && batch_days + days > batch_tenant_days {
            tasks.push((std::mem::take(&mut batch), batch_days));
            batch_days = 0;
        }
        batch.push(tenant_id);
        batch_days += days;
    }
    if !batch.is_empty() {
        tasks.push((batch, batch_days));
    }
    let mut rows: Vec<scoring_task::ActiveModel> = Vec::with_capacity(tasks.len() + 1);
    for (tenant_ids, days) in tasks {
        let days = i32::try_from(days).unwrap_or(i32::MAX);
        planned_total += days;
        rows.push(task_row(
            run.id,
            ScoringTaskKind::Tenants,
            json!(tenant_ids),
            days,
            now,
        ));
    }
    rows.push(task_row(
        run.id,
        ScoringTaskKind::Comparisons,
        json!([]),
        0,
        now,
    ));
    for chunk in rows.chunks(500) {
        scoring_task::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let mut run: scoring_run::ActiveModel = run.into();
    run.tenant_days_planned = Set(planned_total);
    let run = run.update(&txn).await?;
    txn.commit().await?;
    Ok(Some(run))
}

fn task_row(
    run_id: i64,
    kind: ScoringTaskKind,
    tenant_ids: serde_json::Value,
    planned: i32,
    now: DateTime<Utc>,
) -> scoring_task::ActiveModel {
    scoring_task::ActiveModel {
        run_id: Set(run_id),
        kind: Set(kind),
        tenant_ids: Set(tenant_ids),
        status: Set(ScoringTaskStatus::Pending),
        planned: Set(planned),
        done: Set(0),
        failed: Set(0),
        tenants_scored: Set(0),
        attempts: Set(0),
        not_before: Set(now),
        ..Default::default()
    }
}

/// Each tenant's first capture date (tenants without a snapshot are absent), by tenant id:
/// one index probe per tenant, whatever the length of the history.
async fn first_capture_dates(
    db: &DatabaseConnection,
    tenant_ids: Option<&[String]>,
) -> Result<Vec<(String, NaiveDate)>, DbErr> {
    let first_capture = Query::select()
        .expr(Expr::col((snapshot::Entity, snapshot::Column::CapturedAt)).min())
        .from(snapshot::Entity)
        .and_where(
            Expr::col((snapshot::Entity, snapshot::Column::TenantId))
                .equals((tenant::Entity, tenant::Column::Id)),
        )
        .to_owned();
    let query = || {
        tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .expr_as(
                Expr::SubQuery(None, Box::new(first_capture.clone().into())),
                "first",
            )
            .order_by_asc(tenant::Column::Id)
    };
    let mut firsts: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
    match tenant_ids {
        None => firsts = query().into_tuple().all(db).await?,
        Some(ids) => {
            for chunk in ids.chunks(500) {
                let rows: Vec<(String, Option<DateTime<Utc>>)> = query()
                    .filter(tenant::Column::Id.is_in(chunk.iter().cloned()))
                    .into_tuple()
                    .all(db)
                    .await?;
                firsts.extend(rows);
            }
            firsts.sort();
        }
    }
    Ok(firsts
        .into_iter()
        .filter_map(|(tenant, first)| Some((tenant, first?.date_naive())))
        .collect())
}

/// Pauses between a task's failed attempts; after the last its tenant-days count as failed.
pub const RETRIES: Backoff = Backoff(&[
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(10),
    std::time::Duration::from_secs(50),
    std::time::Duration::from_secs(250),
]);

/// A claimed scoring task.
pub type Claim = Claimed<scoring_task::Entity>;

impl JobTable for scoring_task::Entity {
    const ID: scoring_task::Column = scoring_task::Column::Id;
    const CLAIM_TOKEN: scoring_task::Column = scoring_task::Column::ClaimToken;
    const LEASE_UNTIL: scoring_task::Column = scoring_task::Column::LeaseUntil;
    const ORDER: scoring_task::Column = scoring_task::Column::Id;
    const CLAIMS: Option<scoring_task::Column> = Some(scoring_task::Column::Attempts);

    /// Pending and due, or running with a lapsed lease; a comparisons task only once its run
    /// has no tenant task left to do.
    fn claimable(now: DateTime<Utc>) -> Condition {
        let blocking = Alias::new("blocking");
        let unfinished_tenant_tasks = Query::select()
            .expr(Expr::val(1))
            .from_as(scoring_task::Entity, blocking.clone())
            .and_where(
                Expr::col((blocking.clone(), scoring_task::Column::RunId))
                    .equals((scoring_task::Entity, scoring_task::Column::RunId)),
            )
            .and_where(
                Expr::col((blocking.clone(), scoring_task::Column::Kind))
                    .eq(ScoringTaskKind::Tenants.as_str()),
            )
            .and_where(Expr::col((blocking, scoring_task::Column::Status)).is_in([
                ScoringTaskStatus::Pending.as_str(),
                ScoringTaskStatus::Running.as_str(),
            ]))
            .to_owned();
        let column = |c: scoring_task::Column| Expr::col((scoring_task::Entity, c));
        let status = |s: ScoringTaskStatus| column(scoring_task::Column::Status).eq(s.as_str());
        Condition::all()
            .add(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(status(ScoringTaskStatus::Pending))
                            .add(column(scoring_task::Column::NotBefore).lte(now)),
                    )
                    .add(
                        Condition::all()
                            .add(status(ScoringTaskStatus::Running))
                            .add(column(scoring_task::Column::LeaseUntil).lt(now)),
                    ),
            )
            .add(
                Condition::any()
                    .add(column(scoring_task::Column::Kind).eq(ScoringTaskKind::Tenants.as_str()))
                    .add(Expr::exists(unfinished_tenant_tasks).not()),
            )
    }

    fn mark_claimed(
        update: UpdateMany<Self>,
        replica: &str,
        _now: DateTime<Utc>,
    ) -> UpdateMany<Self> {
        update
            .col_expr(
                scoring_task::Column::Status,
                Expr::value(ScoringTaskStatus::Running.as_str()),
            )
            .col_expr(
                scoring_task::Column::ClaimedBy,
                Expr::value(replica.to_owned()),
            )
    }

    fn id_of(task: &scoring_task::Model) -> i64 {
        task.id
    }
}

/// Marks a run RUNNING when the first of its tasks is claimed.
pub async fn start_run(db: &DatabaseConnection, run_id: i64) -> Result<(), DbErr> {
    scoring_run::Entity::update_many()
        .col_expr(
            scoring_run::Column::Status,
            Expr::value(ScoringRunStatus::Running.as_str()),
        )
        .col_expr(scoring_run::Column::StartedAt, Expr::value(Utc::now()))
        .filter(scoring_run::Column::Id.eq(run_id))
        .filter(scoring_run::Column::Status.eq(ScoringRunStatus::Queued))
        .exec(db)
        .await?;
    Ok(())
}

impl Claimed<scoring_task::Entity> {
    /// The batch's tenant ids.
    pub fn tenant_ids(&self) -> Result<Vec<String>, DbErr> {
        serde_json::from_value(self.job.tenant_ids.clone())
            .map_err(|e| DbErr::Custom(format!("task {} has corrupt tenant ids: {e}", self.job.id)))
    }

    /// Marks the task done with `outcome` and adds it to the run's counters, in one
    /// transaction; false when the claim was lost meanwhile (nothing is counted then).
    pub async fn finish(
        &self,
        db: &DatabaseConnection,
        outcome: &BatchOutcome,
    ) -> Result<bool, DbErr> {
        let txn = db.begin().await?;
        let failed_tenants =
            (!outcome.failed_tenants.is_empty()).then(|| json!(outcome.failed_tenants));
        let update = scoring_task::Entity::update_many()
            .col_expr(
                scoring_task::Column::Status,
                Expr::value(ScoringTaskStatus::Done.as_str()),
            )
            .col_expr(scoring_task::Column::Done, Expr::value(outcome.done()))
            .col_expr(scoring_task::Column::Failed, Expr::value(outcome.failed))
            .col_expr(
                scoring_task::Column::TenantsScored,
                Expr::value(outcome.tenants_scored),
            )
            .col_expr(
                scoring_task::Column::FailedTenants,
                Expr::value(failed_tenants),
            )
            .col_expr(scoring_task::Column::FinishedAt, Expr::value(Utc::now()))
            .filter(scoring_task::Column::Status.eq(ScoringTaskStatus::Running));
        if !self.finish_if_claimed(&txn, update).await? {
            return Ok(false);
        }
        let correction = outcome.done() + outcome.failed - self.job.planned;
        add_to_run(&txn, self.job.run_id, outcome, correction).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// After an error: due again after a backoff, or given up (every planned tenant-day
    /// failed) after the last attempt.
    pub async fn retry_later(&self, db: &DatabaseConnection, reason: &str) -> Result<(), DbErr> {
        let Some(backoff) = RETRIES.after(self.job.attempts) else {
            return self.give_up(db, reason).await;
        };
        let update = scoring_task::Entity::update_many()
            .col_expr(
                scoring_task::Column::Status,
                Expr::value(ScoringTaskStatus::Pending.as_str()),
            )
            .col_expr(
                scoring_task::Column::NotBefore,
                Expr::value(Utc::now() + backoff),
            );
        self.finish_if_claimed(db, Self::released(update)).await?;
        Ok(())
    }

    /// Gives the task up: every tenant-day it planned counts as failed.
    pub async fn give_up(&self, db: &DatabaseConnection, reason: &str) -> Result<(), DbErr> {
        let outcome = BatchOutcome {
            failed: self.job.planned,
            failed_tenants: self
                .tenant_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t, reason.to_owned()))
                .collect(),
            ..Default::default()
        };
        let txn = db.begin().await?;
        let update = scoring_task::Entity::update_many()
            .col_expr(
                scoring_task::Column::Status,
                Expr::value(ScoringTaskStatus::Failed.as_str()),
            )
            .col_expr(scoring_task::Column::Failed, Expr::value(outcome.failed))
            .col_expr(
                scoring_task::Column::FailedTenants,
                Expr::value(Some(json!(outcome.failed_tenants))),
            )
            .col_expr(scoring_task::Column::FinishedAt, Expr::value(Utc::now()));
        if self.finish_if_claimed(&txn, update).await? {
            add_to_run(&txn, self.job.run_id, &outcome, 0).await?;
        }
        txn.commit().await
    }
}

impl WriteFence for Claim {
    async fn hold(&self, txn: &DatabaseTransaction) -> Result<bool, DbErr> {
        self.renew(txn).await
    }
}

/// Adds a task's counts to its run; `planned_correction` adjusts the plan to what the task
/// found (snapshots ingested after planning).
async fn add_to_run(
    txn: &DatabaseTransaction,
    run_id: i64,
    outcome: &BatchOutcome,
    planned_correction: i32,
) -> Result<(), DbErr> {
    let add = |column: scoring_run::Column, n: i32| (column, Expr::col(column).add(n));
    let mut update = scoring_run::Entity::update_many();
    for (column, value) in [
        add(scoring_run::Column::TenantDaysDone, outcome.done()),
        add(scoring_run::Column::TenantDaysFailed, outcome.failed),
        add(scoring_run::Column::TenantsScored, outcome.tenants_scored),
        add(scoring_run::Column::TenantDaysPlanned, planned_correction),
    ] {
        update = update.col_expr(column, value);
    }
    update
        .filter(scoring_run::Column::Id.eq(run_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Closes a run whose tasks are all finished: SUCCEEDED, PARTIAL or FAILED by its counts.
pub async fn finish_run(db: &DatabaseConnection, run_id: i64) -> Result<(), DbErr> {
    let Some(run) = scoring_run::Entity::find_by_id(run_id).one(db).await? else {
        return Ok(());
    };
    let status = crate::scoring::runs::final_status(run.tenant_days_done, run.tenant_days_failed);
    let now = Utc::now();
    let finished = scoring_run::Entity::update_many()
        .col_expr(scoring_run::Column::Status, Expr::value(status.as_str()))
        .col_expr(scoring_run::Column::FinishedAt, Expr::value(now))
        .filter(scoring_run::Column::Id.eq(run_id))
        .filter(scoring_run::Column::FinishedAt.is_null())
        .exec(db)
        .await?;
    if finished.rows_affected == 1 {
        let kind = run.kind.as_str();
        metrics::counter!(crate::telemetry::RUNS, "kind" => kind, "status" => status.as_str())
            .increment(1);
        let took = now - run.started_at.unwrap_or(run.created_at);
        metrics::histogram!(crate::telemetry::RUN_DURATION, "kind" => kind)
            .record(took.to_std().unwrap_or_default().as_secs_f64());
    }
    Ok(())
}

/// The dates among `dates` that have a close in one of `statuses`.
pub async fn dates_with_close(
    db: &impl ConnectionTrait,
    dates: &[NaiveDate],
    statuses: &[ScoringRunStatus],
) -> Result<Vec<NaiveDate>, DbErr> {
    let rows: Vec<Option<NaiveDate>> = scoring_run::Entity::find()
        .select_only()
        .column(scoring_run::Column::CloseDate)
        .filter(scoring_run::Column::CloseDate.is_in(dates.iter().copied()))
        .filter(scoring_run::Column::Status.is_in(statuses.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}
