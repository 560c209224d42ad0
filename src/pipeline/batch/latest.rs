//! Each tenant's newest day, kept beside its history: the pointer on the tenant
//! (`tenants.latest_score_date`) and that day's actions in `latest_action_scores`, the narrow
//! rows the estate per action aggregates. Both move in the transaction that writes the day.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entity::{latest_action_score, tenant};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter,
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

/// Makes `latest_action_scores` of each day's tenant hold that day's actions. The tenants' rows
/// are read first (their pointer rows are locked, so no other writer changes them meanwhile)
/// and only rows that are new or whose status or points changed are written: a day that
/// changed nothing writes nothing here. Actions no longer in the catalog are dropped.
async fn replace_actions(
    txn: &DatabaseTransaction,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
) -> Result<(), DbErr> {
    use latest_action_score::Column as C;
    let catalog_ids: HashSet<&str> = catalog.iter().map(|action| action.id.as_str()).collect();
    let mut pending = Vec::with_capacity(ROWS_PER_INSERT);
    for chunk in days.chunks(IDS_PER_QUERY) {
        let tenants = || chunk.iter().map(|day| day.tenant_id.clone());
        let stored: HashMap<(String, String), (ActionStatus, f64)> =
            latest_action_score::Entity::find()
                .filter(C::TenantId.is_in(tenants()))
                .all(txn)
                .await?
                .into_iter()
                .map(|row| {
                    (
                        (row.tenant_id, row.action_id),
                        (row.status, row.points_at_stake),
                    )
                })
                .collect();
        if stored
            .keys()
            .any(|(_, action)| !catalog_ids.contains(action.as_str()))
        {
            latest_action_score::Entity::delete_many()
                .filter(C::TenantId.is_in(tenants()))
                .filter(C::ActionId.is_not_in(catalog_ids.iter().map(|id| (*id).to_owned())))
                .exec(txn)
                .await?;
        }
        for day in chunk {
            for (action, result) in catalog.iter().zip(&day.day.results) {
                let now = (result.status, result.max_score - result.score);
                let key = (day.tenant_id.clone(), action.id.clone());
                if stored.get(&key) == Some(&now) {
                    continue;
                }
                pending.push(latest_action_score::ActiveModel {
                    tenant_id: Set(key.0),
                    action_id: Set(key.1),
                    status: Set(now.0),
                    points_at_stake: Set(now.1),
                });
                if pending.len() == ROWS_PER_INSERT {
                    upsert(std::mem::take(&mut pending))
                        .exec_without_returning(txn)
                        .await?;
                }
            }
        }
    }
    if !pending.is_empty() {
        upsert(pending).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Inserts `rows`, replacing the stored row of the same tenant and action.
fn upsert(
    rows: Vec<latest_action_score::ActiveModel>,
) -> sea_orm::InsertMany<latest_action_score::ActiveModel> {
    use latest_action_score::Column as C;
    latest_action_score::Entity::insert_many(rows).on_conflict(
        OnConflict::columns([C::TenantId, C::ActionId])
            .update_columns([C::Status, C::PointsAtStake])
            .to_owned(),
    )
}
