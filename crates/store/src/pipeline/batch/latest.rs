//! Each tenant's newest day, kept beside its history: the pointer on the tenant
//! (`tenants.latest_score_date`), that day's actions in `latest_action_scores` (the narrow rows
//! a reach's estate per action aggregates) and their sums over every tenant in
//! `latest_action_tallies` (what the whole estate's rollup reads). All move in the transaction
//! that writes the day.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entity::{latest_action_score, latest_action_tally, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, Statement,
};

use super::{IDS_PER_QUERY, ROWS_PER_INSERT};
use crate::domain::ActionStatus;
use crate::pipeline::scored_day::ScoredDay;
use crate::scoring::ActionDefinition;

/// Moves each written tenant's pointer to its newest scored date (never back) and keeps the
/// actions of the days that are now their tenant's newest. The pointer's row is locked by the
/// update even when the date stays, so two writers of one tenant take turns here and the one
/// that commits last leaves the actions of the newest day it saw.
pub(super) async fn keep_latest(
    txn: &DatabaseTransaction,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
) -> Result<(), DbErr> {
    let mut newest: BTreeMap<&str, &ScoredDay> = BTreeMap::new();
    for day in days {
        let kept = newest.entry(day.tenant_id.as_str()).or_insert(day);
        if day.date > kept.date {
            *kept = day;
        }
    }
    let mut by_date: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for (tenant, day) in &newest {
        by_date
            .entry(day.date)
            .or_default()
            .push((*tenant).to_owned());
    }
    let mut still_newest: HashSet<String> = HashSet::with_capacity(newest.len());
    for (date, tenants) in by_date {
        for chunk in tenants.chunks(IDS_PER_QUERY) {
            still_newest.extend(advance_pointers(txn, date, chunk).await?);
        }
    }
    let kept: Vec<&ScoredDay> = newest
        .into_values()
        .filter(|day| still_newest.contains(&day.tenant_id))
        .collect();
    replace_actions(txn, catalog, &kept).await
}

/// `UPDATE tenants SET latest_score_date = date WHERE id IN (…) AND latest_score_date <= date`
/// (or none yet): answers the tenants whose newest day `date` now is.
async fn advance_pointers(
    txn: &DatabaseTransaction,
    date: NaiveDate,
    tenants: &[String],
) -> Result<Vec<String>, DbErr> {
    let mut update = Query::update();
    update
        .table(tenant::Entity)
        .value(tenant::Column::LatestScoreDate, date)
        .cond_where(
            Condition::all()
                .add(tenant::Column::Id.is_in(tenants.iter().cloned()))
                .add(
                    Condition::any()
                        .add(tenant::Column::LatestScoreDate.is_null())
                        .add(tenant::Column::LatestScoreDate.lte(date)),
                ),
        )
        .returning(Query::returning().column(tenant::Column::Id));
    let statement = txn.get_database_backend().build(&update);
    txn.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "id"))
        .collect()
}

/// Makes `latest_action_scores` of each day's tenant hold that day's actions, and moves
/// `latest_action_tallies` by the difference. The tenants' rows are read first (their pointer
/// rows are locked, so no other writer changes them meanwhile) and only rows that are new or
/// whose status or points changed are written: a day that changed nothing writes nothing here.
/// Actions no longer in the catalog are dropped.
async fn replace_actions(
    txn: &DatabaseTransaction,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
) -> Result<(), DbErr> {
    use latest_action_score::Column as C;
    let catalog_ids: HashSet<&str> = catalog.iter().map(|action| action.id.as_str()).collect();
    let mut new_rows = RowBatch::new(Write::Insert);
    let mut changed_rows = RowBatch::new(Write::Replace);
    let mut tallies = TallyChange::default();
    for chunk in days.chunks(IDS_PER_QUERY) {
        let tenants = || chunk.iter().map(|day| day.tenant_id.clone());
        // Per tenant, per action: looked up by borrowed ids, no string copied per row.
        let mut stored: HashMap<String, HashMap<String, (ActionStatus, f64)>> = HashMap::new();
        for row in latest_action_score::Entity::find()
            .filter(C::TenantId.is_in(tenants()))
            .all(txn)
            .await?
        {
            stored
                .entry(row.tenant_id)
                .or_default()
                .insert(row.action_id, (row.status, row.points_at_stake));
        }
        let mut dropped = false;
        for (action, (status, points)) in stored.values().flatten() {
            if !catalog_ids.contains(action.as_str()) {
                tallies.leave(action, *status, *points);
                dropped = true;
            }
        }
        if dropped {
            latest_action_score::Entity::delete_many()
                .filter(C::TenantId.is_in(tenants()))
                .filter(C::ActionId.is_not_in(catalog_ids.iter().map(|id| (*id).to_owned())))
                .exec(txn)
                .await?;
        }
        for day in chunk {
            let kept = stored.get(day.tenant_id.as_str());
            for (action, result) in catalog.iter().zip(&day.day.results) {
                let now = (result.status, result.max_score - result.score);
                let before = kept.and_then(|actions| actions.get(action.id.as_str()));
                if before == Some(&now) {
                    continue;
                }
                if let Some((status, points)) = before {
                    tallies.leave(&action.id, *status, *points);
                }
                tallies.enter(&action.id, now.0, now.1);
                // The tenant's stored rows were read under its pointer's lock: a row not among
                // them cannot be there, so it is inserted with no conflict to check.
                let batch = if before.is_some() {
                    &mut changed_rows
                } else {
                    &mut new_rows
                };
                batch
                    .push(txn, (&day.tenant_id, &action.id, now.0, now.1))
                    .await?;
            }
        }
    }
    new_rows.flush(txn).await?;
    changed_rows.flush(txn).await?;
    tallies.apply(txn).await
}

/// How a write moves `latest_action_tallies`: per action and status, tenants and millionths of
/// a point to add (negative to take away).
#[derive(Default)]
struct TallyChange(BTreeMap<String, BTreeMap<&'static str, (i64, i64)>>);

impl TallyChange {
    /// A tenant's action enters `status` with `points` at stake.
    fn enter(&mut self, action: &str, status: ActionStatus, points: f64) {
        self.add(action, status, 1, micro_points(points));
    }

    /// A tenant's action leaves `status`, where it had `points` at stake.
    fn leave(&mut self, action: &str, status: ActionStatus, points: f64) {
        self.add(action, status, -1, -micro_points(points));
    }

    /// Adds `tenants` and `micro` millionths of a point to the action's `status`.
    fn add(&mut self, action: &str, status: ActionStatus, tenants: i64, micro: i64) {
        // The action id is copied once per action, not once per row.
        if !self.0.contains_key(action) {
            self.0.insert(action.to_owned(), BTreeMap::new());
        }
        if let Some(statuses) = self.0.get_mut(action) {
            let entry = statuses.entry(status.as_str()).or_default();
            entry.0 += tenants;
            entry.1 += micro;
        }
    }

    /// Adds the change to the stored tallies, in key order (so two writers lock the rows they
    /// share in the same order), as the transaction's last writes to them.
    async fn apply(self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        use latest_action_tally::Column as C;
        let rows: Vec<latest_action_tally::ActiveModel> = self
            .0
            .into_iter()
            .flat_map(|(action, statuses)| {
                statuses
                    .into_iter()
                    .filter(|(_, change)| *change != (0, 0))
                    .map(
                        move |(status, (tenants, micro))| latest_action_tally::ActiveModel {
                            action_id: Set(action.clone()),
                            status: Set(status.to_owned()),
                            tenants: Set(tenants),
                            micro_points: Set(micro),
                        },
                    )
            })
            .collect();
        let stored = latest_action_tally::Entity;
        let excluded = Alias::new("excluded");
        let sum =
            |column: C| Expr::col((stored, column)).add(Expr::col((excluded.clone(), column)));
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            latest_action_tally::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([C::ActionId, C::Status])
                        .value(C::Tenants, sum(C::Tenants))
                        .value(C::MicroPoints, sum(C::MicroPoints))
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
}

/// Points in whole millionths, as the tallies keep them.
fn micro_points(points: f64) -> i64 {
    (points * 1_000_000.0).round() as i64
}

/// How a batch of `latest_action_scores` rows is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Rows known to be absent: a plain insert.
    Insert,
    /// Rows that replace the stored row of the same tenant and action.
    Replace,
}

/// A tenant, an action, its status and its points at stake.
type LatestRow<'a> = (&'a str, &'a str, ActionStatus, f64);

/// `latest_action_scores` rows gathered and written [`ROWS_PER_INSERT`] at a time. On
/// PostgreSQL a batch is one JSON parameter expanded by `jsonb_to_recordset` rather than four
/// bind parameters per row (the first close's figures are in docs/benchmarks.md).
struct RowBatch {
    write: Write,
    rows: Vec<serde_json::Value>,
    models: Vec<latest_action_score::ActiveModel>,
}

impl RowBatch {
    fn new(write: Write) -> RowBatch {
        RowBatch {
            write,
            rows: Vec::new(),
            models: Vec::new(),
        }
    }

    /// Adds a row; writes the batch once it is full.
    async fn push(&mut self, txn: &DatabaseTransaction, row: LatestRow<'_>) -> Result<(), DbErr> {
        let (tenant, action, status, points) = row;
        if txn.get_database_backend() == DbBackend::Postgres {
            self.rows.push(serde_json::json!({
                "t": tenant, "a": action, "s": status.as_str(), "p": points
            }));
        } else {
            self.models.push(latest_action_score::ActiveModel {
                tenant_id: Set(tenant.to_owned()),
                action_id: Set(action.to_owned()),
                status: Set(status),
                points_at_stake: Set(points),
            });
        }
        if self.rows.len() + self.models.len() >= ROWS_PER_INSERT {
            self.flush(txn).await?;
        }
        Ok(())
    }

    /// Writes what was gathered.
    async fn flush(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        use latest_action_score::Column as C;
        if !self.rows.is_empty() {
            let on_conflict = match self.write {
                Write::Insert => "",
                Write::Replace => {
                    " ON CONFLICT (tenant_id, action_id) DO UPDATE \
                     SET status = excluded.status, points_at_stake = excluded.points_at_stake"
                }
            };
            let sql = format!(
                "INSERT INTO latest_action_scores (tenant_id, action_id, status, points_at_stake) \
                 SELECT r.t, r.a, r.s, r.p FROM jsonb_to_recordset($1::jsonb) \
                 AS r(t text, a text, s text, p double precision){on_conflict}"
            );
            let rows = serde_json::Value::Array(std::mem::take(&mut self.rows));
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [rows.into()],
            ))
            .await?;
        }
        if !self.models.is_empty() {
            let insert = latest_action_score::Entity::insert_many(std::mem::take(&mut self.models));
            let insert = match self.write {
                Write::Insert => insert,
                Write::Replace => insert.on_conflict(
                    OnConflict::columns([C::TenantId, C::ActionId])
                        .update_columns([C::Status, C::PointsAtStake])
                        .to_owned(),
                ),
            };
            insert.exec_without_returning(txn).await?;
        }
        Ok(())
    }
}
