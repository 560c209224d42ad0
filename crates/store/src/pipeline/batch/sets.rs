//! The batch's action score sets: each written day names the packed set of its results, and a
//! set equal to one its tenant's stored days already name (that day, the day before, its newest
//! day) or the batch writes is named again instead of written twice, so history grows with
//! what changed.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use entity::action_score_set::{self, ActionResult as StoredResult};
use entity::{daily_score, tenant};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};

use super::{IDS_PER_QUERY, ROWS_PER_INSERT};
use crate::pipeline::scored_day::ScoredDay;
use crate::scoring::ActionDefinition;

/// Sets per multi-row INSERT: each carries a day's results, so fewer than rows.
const SETS_PER_INSERT: usize = ROWS_PER_INSERT / 10;

/// A day's results packed as stored, with their digest.
struct Packed {
    text: String,
    digest: i64,
}

/// The sets `days` name, in their order, and those of them written now.
pub(super) struct NamedSets {
    /// Per day, in order.
    pub(super) ids: Vec<i64>,
    /// The sets this batch wrote.
    pub(super) written: Vec<i64>,
}

/// The set each of `days` names: an equal set of the tenant where there is one (found by
/// digest among the sets its stored days of those dates, the days before and its newest day
/// name, and those this batch writes), else a new set written under `version`.
pub(super) async fn name_sets(
    txn: &DatabaseTransaction,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
    version: i64,
) -> Result<NamedSets, DbErr> {
    let packed = days
        .iter()
        .map(|day| pack(day, catalog))
        .collect::<Result<Vec<_>, _>>()?;
    let known = named_digests(txn, days).await?;
    let reusable = |tenant: &str, digest: i64| known.get(tenant).and_then(|d| d.get(&digest));
    let mut new_sets: Vec<(&str, &Packed)> = Vec::new();
    let mut batch: BTreeSet<(&str, i64)> = BTreeSet::new();
    for (day, packed) in days.iter().zip(&packed) {
        let tenant = day.tenant_id.as_str();
        if reusable(tenant, packed.digest).is_none() && batch.insert((tenant, packed.digest)) {
            new_sets.push((tenant, packed));
        }
    }
    let written = insert_sets(txn, &new_sets, version).await?;
    let ids = days
        .iter()
        .zip(&packed)
        .map(|(day, packed)| {
            reusable(&day.tenant_id, packed.digest)
                .or_else(|| written.get(&(day.tenant_id.clone(), packed.digest)))
                .copied()
                .ok_or_else(|| DbErr::Custom("a written action score set was not returned".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NamedSets {
        ids,
        written: written.into_values().collect(),
    })
}

/// Removes the sets of `ids` that no day names: those written for days a newer computation
/// kept (no reader has seen them, the transaction being open).
pub(super) async fn drop_unnamed(txn: &DatabaseTransaction, ids: &[i64]) -> Result<(), DbErr> {
    use action_score_set::Column as S;
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let named = Query::select()
            .expr(Expr::val(1))
            .from(daily_score::Entity)
            .and_where(
                Expr::col((daily_score::Entity, daily_score::Column::TenantId))
                    .equals((action_score_set::Entity, S::TenantId)),
            )
            .and_where(
                Expr::col((daily_score::Entity, daily_score::Column::ActionSetId))
                    .equals((action_score_set::Entity, S::Id)),
            )
            .to_owned();
        let delete = Query::delete()
            .from_table(action_score_set::Entity)
            .and_where(Expr::col(S::Id).is_in(chunk.iter().copied()))
            .and_where(Expr::exists(named).not())
            .to_owned();
        txn.execute(&delete).await?;
    }
    Ok(())
}

/// A day's results in action id order, packed.
fn pack(day: &ScoredDay, catalog: &[ActionDefinition]) -> Result<Packed, DbErr> {
    let mut results: Vec<StoredResult> = catalog
        .iter()
        .zip(&day.day.results)
        .map(|(action, result)| StoredResult {
            action_id: action.id.clone(),
            score: result.score,
            max_score: result.max_score,
            status: result.status,
            state: result.state,
            progress_current: result.progress.map(|p| p.current),
            progress_total: result.progress.map(|p| p.total),
            catalog_max_score: action.max_score,
            catalog_scored: action.scored,
            catalog_deprecated: action.deprecated,
            category: action.category,
        })
        .collect();
    results.sort_by(|a, b| a.action_id.cmp(&b.action_id));
    let text = action_score_set::encode(&results)
        .map_err(|e| DbErr::Custom(format!("packing action results: {e}")))?;
    Ok(Packed {
        digest: action_score_set::digest(&text),
        text,
    })
}

/// Per tenant of `days`, the digests and ids of the sets its stored days name on the dates of
/// `days`, the days before them, and its newest day: sets a stored day names, which the
/// sweeper leaves alone for longer than this transaction lasts.
async fn named_digests(
    txn: &DatabaseTransaction,
    days: &[&ScoredDay],
) -> Result<HashMap<String, HashMap<i64, i64>>, DbErr> {
    use daily_score::Column as D;
    let tenants: BTreeSet<&str> = days.iter().map(|d| d.tenant_id.as_str()).collect();
    let dates: BTreeSet<NaiveDate> = days
        .iter()
        .flat_map(|d| [d.date, d.date - Duration::days(1)])
        .collect();
    let tenants: Vec<&str> = tenants.into_iter().collect();
    let (day, set) = (daily_score::Entity, action_score_set::Entity);
    let mut found: HashMap<String, HashMap<i64, i64>> = HashMap::new();
    for chunk in tenants.chunks(IDS_PER_QUERY) {
        let query = Query::select()
            .column((day, D::TenantId))
            .column((day, D::ActionSetId))
            .column((set, action_score_set::Column::Digest))
            .from(day)
            .inner_join(
                set,
                Expr::col((set, action_score_set::Column::Id)).equals((day, D::ActionSetId)),
            )
            .inner_join(
                tenant::Entity,
                Expr::col((tenant::Entity, tenant::Column::Id)).equals((day, D::TenantId)),
            )
            .and_where(Expr::col((day, D::TenantId)).is_in(chunk.iter().copied()))
            .cond_where(
                Condition::any()
                    .add(Expr::col((day, D::Date)).is_in(dates.iter().copied()))
                    .add(
                        Expr::col((day, D::Date))
                            .equals((tenant::Entity, tenant::Column::LatestScoreDate)),
                    ),
            )
            .to_owned();
        for row in txn.query_all(&query).await? {
            let id: i64 = row.try_get("", "action_set_id")?;
            // Two equal sets (two writers that did not see each other's): the older one, so
            // that rewrites keep naming one of them.
            found
                .entry(row.try_get("", "tenant_id")?)
                .or_default()
                .entry(row.try_get("", "digest")?)
                .and_modify(|kept: &mut i64| *kept = std::cmp::min(*kept, id))
                .or_insert(id);
        }
    }
    Ok(found)
}

/// Writes `sets`; answers each one's id by tenant and digest.
async fn insert_sets(
    txn: &DatabaseTransaction,
    sets: &[(&str, &Packed)],
    version: i64,
) -> Result<HashMap<(String, i64), i64>, DbErr> {
    use action_score_set::Column as S;
    let mut ids = HashMap::with_capacity(sets.len());
    for chunk in sets.chunks(SETS_PER_INSERT) {
        let mut insert = Query::insert()
            .into_table(action_score_set::Entity)
            .columns([S::TenantId, S::Version, S::Digest, S::Results])
            .returning(Query::returning().columns([S::Id, S::TenantId, S::Digest]))
            .to_owned();
        for (tenant, packed) in chunk {
            insert.values_panic([
                (*tenant).into(),
                version.into(),
                packed.digest.into(),
                packed.text.as_str().into(),
            ]);
        }
        for row in txn.query_all(&insert).await? {
            ids.insert(
                (row.try_get("", "tenant_id")?, row.try_get("", "digest")?),
                row.try_get("", "id")?,
            );
        }
    }
    Ok(ids)
}
