//! A day's action results packed into one row (`action_score_sets`) that the tenant's days
//! with the same results share, named by `daily_scores.action_set_id`, in place of one
//! `daily_action_scores` row per tenant, day and action. Existing history is packed tenant by
//! tenant: a tenant whose days all name a set is done, so a migration stopped half way and
//! started again packs only what is left (on PostgreSQL the whole migration is one
//! transaction, so a stop leaves nothing half done at all). Down also writes back the
//! category totals this release leaves out (0 of 0), which the release before stored.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use entity::action_score_set::{self, ActionResult};
use entity::daily_score::StoredCategories;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::Date;
use sea_orm_migration::sea_orm::{ActiveEnum, ConnectionTrait, FromQueryResult};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tenants packed per round.
const TENANTS_PER_ROUND: u64 = 20;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_table("action_score_sets").await? {
            manager
                .create_table(
                    Table::create()
                        .table(ActionScoreSets::Table)
                        .col(
                            ColumnDef::new(ActionScoreSets::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(ActionScoreSets::TenantId)
                                .string()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(ActionScoreSets::Version)
                                .big_integer()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(ActionScoreSets::Digest)
                                .big_integer()
                                .not_null(),
                        )
                        .col(ColumnDef::new(ActionScoreSets::Results).text().not_null())
                        .foreign_key(
                            ForeignKey::create()
                                .from(ActionScoreSets::Table, ActionScoreSets::TenantId)
                                .to(Tenants::Table, Tenants::Id),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_action_score_sets_tenant")
                        .table(ActionScoreSets::Table)
                        .col(ActionScoreSets::TenantId)
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("daily_scores", "action_set_id").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(DailyScores::Table)
                        .add_column(
                            ColumnDef::new(DailyScores::ActionSetId)
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        if manager.has_table("daily_action_scores").await? {
            let db = manager.get_connection();
            // Sets a stopped run wrote but named no day with.
            db.execute_unprepared(
                "DELETE FROM action_score_sets WHERE version = 0 AND NOT EXISTS \
                 (SELECT 1 FROM daily_scores d WHERE d.tenant_id = action_score_sets.tenant_id \
                 AND d.action_set_id = action_score_sets.id)",
            )
            .await?;
            while pack_next_tenants(db).await? {}
            manager
                .drop_table(Table::drop().table(DailyActionScores::Table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use crate::m20261125_000003_create_scores::DailyActionScores as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(big_pk_auto(A::Id))
                    .col(string(A::TenantId))
                    .col(date(A::Date))
                    .col(string(A::ActionId))
                    .col(double(A::Score))
                    .col(double(A::MaxScore))
                    .col(string(A::Status))
                    .col(string(A::State))
                    .col(double_null(A::ProgressCurrent))
                    .col(double_null(A::ProgressTotal))
                    .col(double(A::CatalogMaxScore))
                    .col(boolean(A::CatalogScored))
                    .col(boolean(A::CatalogDeprecated))
                    .col(string(A::Category))
                    .col(big_integer(DailyScores::Version).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_daily_action_scores_tenant")
                            .from(A::Table, A::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_daily_action_scores_tenant_date_version_action")
                    .table(A::Table)
                    .col(A::TenantId)
                    .col(A::Date)
                    .col(DailyScores::Version)
                    .col(A::ActionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        unpack_days(manager.get_connection()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DailyScores::Table)
                    .drop_column(DailyScores::ActionSetId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ActionScoreSets::Table).to_owned())
            .await
    }
}

/// A day still to pack.
#[derive(FromQueryResult)]
struct DayToPack {
    id: i64,
    tenant_id: String,
    date: String,
}

/// One stored action row of a day's current version.
#[derive(FromQueryResult)]
struct StoredRow {
    tenant_id: String,
    date: String,
    action_id: String,
    score: f64,
    max_score: f64,
    status: String,
    state: String,
    progress_current: Option<f64>,
    progress_total: Option<f64>,
    catalog_max_score: f64,
    catalog_scored: bool,
    catalog_deprecated: bool,
    category: String,
}

/// Packs the days of the next few tenants with unpacked days; answers whether there were any.
async fn pack_next_tenants(db: &SchemaManagerConnection<'_>) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let tenants = tenants_with_days(
        db,
        tenants_of_days()
            .and_where(Expr::col(DailyScores::ActionSetId).eq(0))
            .limit(TENANTS_PER_ROUND),
    )
    .await?;
    if tenants.is_empty() {
        return Ok(false);
    }
    let days_query = Query::select()
        .column(DailyScores::Id)
        .column(DailyScores::TenantId)
        .expr_as(Expr::cust("CAST(date AS TEXT)"), "date")
        .from(DailyScores::Table)
        .and_where(Expr::col(DailyScores::ActionSetId).eq(0))
        .and_where(Expr::col(DailyScores::TenantId).is_in(tenants.iter().cloned()))
        .to_owned();
    let days = DayToPack::find_by_statement(backend.build(&days_query))
        .all(db)
        .await?;
    let rows_query = Query::select()
        .expr(Expr::cust(
            "a.tenant_id, CAST(a.date AS TEXT) AS date, a.action_id, a.score, a.max_score, \
             a.status, a.state, a.progress_current, a.progress_total, a.catalog_max_score, \
             a.catalog_scored, a.catalog_deprecated, a.category",
        ))
        .from_as(DailyActionScores::Table, "a")
        .join_as(
            JoinType::InnerJoin,
            DailyScores::Table,
            "d",
            Expr::cust("d.tenant_id = a.tenant_id AND d.date = a.date AND d.version = a.version"),
        )
        .and_where(Expr::col(("d", DailyScores::ActionSetId)).eq(0))
        .and_where(Expr::col(("d", DailyScores::TenantId)).is_in(tenants.iter().cloned()))
        .to_owned();
    let rows = StoredRow::find_by_statement(backend.build(&rows_query))
        .all(db)
        .await?;
    let mut results: HashMap<(String, String), BTreeMap<String, ActionResult>> = HashMap::new();
    for row in rows {
        let result = ActionResult {
            action_id: row.action_id.clone(),
            score: row.score,
            max_score: row.max_score,
            status: stored_enum(row.status)?,
            state: stored_enum(row.state)?,
            progress_current: row.progress_current,
            progress_total: row.progress_total,
            catalog_max_score: row.catalog_max_score,
            catalog_scored: row.catalog_scored,
            catalog_deprecated: row.catalog_deprecated,
            category: stored_enum(row.category)?,
        };
        results
            .entry((row.tenant_id, row.date))
            .or_default()
            .insert(row.action_id, result);
    }
    // Each distinct set of results of a tenant is stored once; its days name it.
    let mut sets: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for day in days {
        let day_results: Vec<ActionResult> = results
            .remove(&(day.tenant_id.clone(), day.date))
            .map(|by_action| by_action.into_values().collect())
            .unwrap_or_default();
        let text = action_score_set::encode(&day_results)
            .map_err(|e| DbErr::Migration(format!("packing action results: {e}")))?;
        sets.entry((day.tenant_id, text)).or_default().push(day.id);
    }
    for ((tenant_id, text), day_ids) in sets {
        let insert = Query::insert()
            .into_table(ActionScoreSets::Table)
            .columns([
                ActionScoreSets::TenantId,
                ActionScoreSets::Version,
                ActionScoreSets::Digest,
                ActionScoreSets::Results,
            ])
            .values_panic([
                tenant_id.into(),
                0i64.into(),
                action_score_set::digest(&text).into(),
                text.into(),
            ])
            .returning_col(ActionScoreSets::Id)
            .to_owned();
        let set_id: i64 = db
            .query_one(&insert)
            .await?
            .ok_or_else(|| DbErr::Migration("a packed set was not returned".into()))?
            .try_get("", "id")?;
        for chunk in day_ids.chunks(500) {
            let update = Query::update()
                .table(DailyScores::Table)
                .value(DailyScores::ActionSetId, set_id)
                .and_where(Expr::col(DailyScores::Id).is_in(chunk.iter().copied()))
                .to_owned();
            db.execute(&update).await?;
        }
    }
    Ok(true)
}

/// A day to unpack, with the set it names.
#[derive(FromQueryResult)]
struct DayToUnpack {
    tenant_id: String,
    date: Date,
    version: i64,
    action_set_id: i64,
    results: String,
}

/// Writes one `daily_action_scores` row per action of every stored day, from its set, a few
/// tenants at a time (a year of a large estate does not fit in memory as rows).
async fn unpack_days(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let tenants = tenants_with_days(db, &tenants_of_days()).await?;
    for round in tenants.chunks(TENANTS_PER_ROUND as usize) {
        let query = Query::select()
            .columns([
                (DailyScores::Table, DailyScores::TenantId),
                (DailyScores::Table, DailyScores::Date),
                (DailyScores::Table, DailyScores::Version),
                (DailyScores::Table, DailyScores::ActionSetId),
            ])
            .column((ActionScoreSets::Table, ActionScoreSets::Results))
            .from(DailyScores::Table)
            .inner_join(
                ActionScoreSets::Table,
                Expr::col((ActionScoreSets::Table, ActionScoreSets::Id))
                    .equals((DailyScores::Table, DailyScores::ActionSetId)),
            )
            .and_where(
                Expr::col((DailyScores::Table, DailyScores::TenantId)).is_in(round.iter().cloned()),
            )
            .to_owned();
        let days = DayToUnpack::find_by_statement(backend.build(&query))
            .all(db)
            .await?;
        let mut decoded: HashMap<i64, Vec<ActionResult>> = HashMap::new();
        let mut rows: Vec<[Value; 14]> = Vec::new();
        for day in days {
            let results = match decoded.entry(day.action_set_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(action_score_set::decode(&day.results)?),
            };
            for r in results.iter() {
                rows.push(unpacked_row(&day, r));
            }
        }
        for chunk in rows.chunks(500) {
            insert_unpacked(db, chunk).await?;
        }
        restore_every_category(db, round).await?;
    }
    Ok(())
}

/// Writes every category back into the day rows of `tenants` that store only the ones with
/// something scored, as the release before stored them (it reads the categories as stored).
/// Days with the same totals are updated in one statement.
async fn restore_every_category(
    db: &SchemaManagerConnection<'_>,
    tenants: &[String],
) -> Result<(), DbErr> {
    let query = Query::select()
        .columns([DailyScores::Id, DailyScores::Categories])
        .from(DailyScores::Table)
        .and_where(Expr::col(DailyScores::TenantId).is_in(tenants.iter().cloned()))
        .to_owned();
    let mut restored: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for row in db.query_all(&query).await? {
        let stored: StoredCategories = row.try_get("", "categories")?;
        let every = StoredCategories::whole(&stored.every());
        if every != stored {
            let text = serde_json::to_string(&every)
                .map_err(|e| DbErr::Migration(format!("category totals: {e}")))?;
            restored
                .entry(text)
                .or_default()
                .push(row.try_get("", "id")?);
        }
    }
    for (text, ids) in restored {
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| DbErr::Migration(format!("category totals: {e}")))?;
        for chunk in ids.chunks(500) {
            let update = Query::update()
                .table(DailyScores::Table)
                .value(DailyScores::Categories, value.clone())
                .and_where(Expr::col(DailyScores::Id).is_in(chunk.iter().copied()))
                .to_owned();
            db.execute(&update).await?;
        }
    }
    Ok(())
}

/// One `daily_action_scores` row of `day`, in [`insert_unpacked`]'s column order.
fn unpacked_row(day: &DayToUnpack, r: &ActionResult) -> [Value; 14] {
    [
        day.tenant_id.clone().into(),
        day.date.into(),
        r.action_id.clone().into(),
        r.score.into(),
        r.max_score.into(),
        r.status.as_str().into(),
        r.state.as_str().into(),
        r.progress_current.into(),
        r.progress_total.into(),
        r.catalog_max_score.into(),
        r.catalog_scored.into(),
        r.catalog_deprecated.into(),
        r.category.as_str().into(),
        day.version.into(),
    ]
}

/// Inserts unpacked rows in one statement.
async fn insert_unpacked(
    db: &SchemaManagerConnection<'_>,
    rows: &[[Value; 14]],
) -> Result<(), DbErr> {
    use crate::m20261125_000003_create_scores::DailyActionScores as A;
    let mut insert = Query::insert()
        .into_table(A::Table)
        .columns([
            A::TenantId.into_iden(),
            A::Date.into_iden(),
            A::ActionId.into_iden(),
            A::Score.into_iden(),
            A::MaxScore.into_iden(),
            A::Status.into_iden(),
            A::State.into_iden(),
            A::ProgressCurrent.into_iden(),
            A::ProgressTotal.into_iden(),
            A::CatalogMaxScore.into_iden(),
            A::CatalogScored.into_iden(),
            A::CatalogDeprecated.into_iden(),
            A::Category.into_iden(),
            DailyScores::Version.into_iden(),
        ])
        .to_owned();
    for row in rows {
        insert.values_panic(row.iter().cloned().map(SimpleExpr::from));
    }
    db.execute(&insert).await?;
    Ok(())
}

/// The distinct tenants of stored days, in id order (narrowed by the caller).
fn tenants_of_days() -> SelectStatement {
    Query::select()
        .distinct()
        .column(DailyScores::TenantId)
        .from(DailyScores::Table)
        .order_by(DailyScores::TenantId, Order::Asc)
        .to_owned()
}

/// The tenant ids `query` selects.
async fn tenants_with_days(
    db: &SchemaManagerConnection<'_>,
    query: &SelectStatement,
) -> Result<Vec<String>, DbErr> {
    db.query_all(query)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "tenant_id"))
        .collect()
}

/// A stored enum read back from its stored name.
fn stored_enum<T: ActiveEnum<Value = String>>(name: String) -> Result<T, DbErr> {
    T::try_from_value(&name)
}

#[derive(DeriveIden)]
enum ActionScoreSets {
    Table,
    Id,
    TenantId,
    Version,
    Digest,
    Results,
}

#[derive(DeriveIden)]
enum DailyScores {
    Table,
    Id,
    TenantId,
    Categories,
    Date,
    Version,
    ActionSetId,
}

#[derive(DeriveIden)]
enum DailyActionScores {
    Table,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}
