//! Creating, changing and listing tenants.

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{daily_score, tenant};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, JoinType,
    QueryFilter, QuerySelect, RelationDef, SqlErr,
};

use crate::auth::{Operation, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::scoring::planning::ScoreZones;

/// The tenant `tenant_id` if `viewer` may do `op` on it: FORBIDDEN without a role granting
/// `op`, and a tenant out of reach answers exactly like a missing one (NOT_FOUND).
pub async fn reachable_tenant(
    db: &DatabaseConnection,
    viewer: &Viewer,
    op: Operation,
    tenant_id: &str,
) -> ApiResult<tenant::Model> {
    viewer.require_on_tenant(op, tenant_id)?;
    find_tenant(db, tenant_id)
        .await?
        .ok_or_else(|| ApiError::tenant_not_found(tenant_id))
}

/// A validated new tenant.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// Stable id (GUID or slug).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free-text industry.
    pub industry: Option<String>,
    /// Licensed users.
    pub seat_count: i32,
}

/// Fields to change on a tenant; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TenantChanges {
    /// New name.
    pub name: Option<String>,
    /// New industry; `Some("")` clears it.
    pub industry: Option<String>,
    /// New seat count.
    pub seat_count: Option<i32>,
}

/// Which tenants a caller may reach for one operation: the one place a token's reach becomes
/// a set of tenants, for listings, the portfolio, comparisons and exports alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every tenant.
    All,
    /// Only these ids.
    Only(Vec<String>),
}

impl Visibility {
    /// The tenants `viewer` reaches for `op`: every tenant when one of its roles grants `op`
    /// everywhere, the token's tenants when one grants it on them, none otherwise.
    pub fn of(viewer: &Viewer, op: Operation) -> Visibility {
        if viewer.reaches_all_tenants(op) {
            Visibility::All
        } else if viewer.require(op).is_ok() {
            Visibility::Only(viewer.tenant_ids.clone())
        } else {
            Visibility::Only(Vec::new())
        }
    }

    /// Narrowed to `wanted` when it names any tenant: the ones out of reach are dropped, as if
    /// they did not exist.
    pub fn narrowed(self, wanted: BTreeSet<String>) -> Visibility {
        if wanted.is_empty() {
            return self;
        }
        match self {
            Visibility::All => Visibility::Only(wanted.into_iter().collect()),
            Visibility::Only(reach) => {
                Visibility::Only(reach.into_iter().filter(|t| wanted.contains(t)).collect())
            }
        }
    }

    /// The ids, unless every tenant is visible.
    pub fn ids(&self) -> Option<&[String]> {
        match self {
            Visibility::All => None,
            Visibility::Only(ids) => Some(ids),
        }
    }
}

/// Checks an id: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn validate_id(kind: &str, id: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadUserInput(format!(
            "{kind} id must be 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Trims a required text field and bounds its length.
pub fn required_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(ApiError::BadUserInput(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Trims an optional text field; empty becomes absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > max => Err(ApiError::BadUserInput(format!(
            "{field} must be at most {max} characters"
        ))),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

fn validate_seat_count(seats: i32) -> ApiResult<i32> {
    if seats < 0 {
        return Err(ApiError::BadUserInput(
            "seatCount must not be negative".into(),
        ));
    }
    Ok(seats)
}

impl NewTenant {
    /// Validates raw input into a new tenant.
    pub fn parse(id: &str, name: &str, industry: Option<&str>, seat_count: i32) -> ApiResult<Self> {
        validate_id("tenant", id)?;
        Ok(NewTenant {
            id: id.to_owned(),
            name: required_text("name", name, 200)?,
            industry: optional_text("industry", industry, 100)?,
            seat_count: validate_seat_count(seat_count)?,
        })
    }
}

/// Stores a new tenant; an existing id is a CONFLICT.
pub async fn create_tenant(db: &DatabaseConnection, new: NewTenant) -> ApiResult<tenant::Model> {
    let id = new.id.clone();
    new_tenant_row(new, Utc::now())
        .insert(db)
        .await
        .map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                ApiError::Conflict(format!("tenant `{id}` already exists"))
            }
            _ => err.into(),
        })
}

/// The row a new tenant is stored as, created at `now`, with the default zones and no goal.
pub fn new_tenant_row(new: NewTenant, now: chrono::DateTime<Utc>) -> tenant::ActiveModel {
    tenant::ActiveModel {
        id: Set(new.id.clone()),
        name: Set(new.name),
        industry: Set(new.industry),
        seat_count: Set(new.seat_count),
        created_at: Set(now),
        updated_at: Set(now),
        goal: Set(None),
        latest_score_date: Set(None),
        change_seq: Set(0),
        zone_good: Set(ScoreZones::default().good),
        zone_fair: Set(ScoreZones::default().fair),
        emergency_access_accounts: Set(None),
    }
}

/// Sets (or with `None` clears) a tenant's goal percentage, 0 to 100; a missing tenant is
/// NOT_FOUND.
pub async fn set_goal(
    db: &DatabaseConnection,
    id: &str,
    goal: Option<f64>,
) -> ApiResult<tenant::Model> {
    if goal.is_some_and(|g| !(g.is_finite() && (0.0..=100.0).contains(&g))) {
        return Err(ApiError::BadUserInput(
            "percentage must be a number from 0 to 100, or null to clear the goal".into(),
        ));
    }
    let Some(existing) = find_tenant(db, id).await? else {
        return Err(ApiError::tenant_not_found(id));
    };
    let mut row: tenant::ActiveModel = existing.into();
    row.goal = Set(goal);
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// Sets a tenant's score zone thresholds (`0 ≤ fair ≤ good ≤ 100`); a missing tenant is
/// NOT_FOUND.
pub async fn set_zones(
    db: &DatabaseConnection,
    id: &str,
    zones: ScoreZones,
) -> ApiResult<tenant::Model> {
    zones.validate().map_err(ApiError::BadUserInput)?;
    let Some(existing) = find_tenant(db, id).await? else {
        return Err(ApiError::tenant_not_found(id));
    };
    let mut row: tenant::ActiveModel = existing.into();
    row.zone_good = Set(zones.good);
    row.zone_fair = Set(zones.fair);
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// A tenant's score zone thresholds.
pub fn zones_of(tenant: &tenant::Model) -> ScoreZones {
    ScoreZones {
        good: tenant.zone_good,
        fair: tenant.zone_fair,
    }
}

/// Applies changes to an existing tenant; a missing one is NOT_FOUND.
pub async fn update_tenant(
    db: &DatabaseConnection,
    id: &str,
    changes: TenantChanges,
) -> ApiResult<tenant::Model> {
    let name = changes
        .name
        .as_deref()
        .map(|n| required_text("name", n, 200))
        .transpose()?;
    let industry = changes
        .industry
        .as_deref()
        .map(|i| optional_text("industry", Some(i), 100))
        .transpose()?;
    let seat_count = changes.seat_count.map(validate_seat_count).transpose()?;
    let existing = find_tenant(db, id)
        .await?
        .ok_or_else(|| ApiError::tenant_not_found(id))?;
    let mut row: tenant::ActiveModel = existing.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(industry) = industry {
        row.industry = Set(industry);
    }
    if let Some(seats) = seat_count {
        row.seat_count = Set(seats);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// The tenant with this id, if any.
pub async fn find_tenant(db: &DatabaseConnection, id: &str) -> ApiResult<Option<tenant::Model>> {
    Ok(tenant::Entity::find_by_id(id.to_owned()).one(db).await?)
}

/// A tenant with its newest stored day (`tenants.latest_score_date`), in one statement: what a
/// dashboard reads first.
pub async fn find_tenant_with_latest_day(
    db: &DatabaseConnection,
    id: &str,
) -> ApiResult<Option<(tenant::Model, Option<daily_score::Model>)>> {
    let newest_day: RelationDef = tenant::Entity::belongs_to(daily_score::Entity)
        .from((tenant::Column::Id, tenant::Column::LatestScoreDate))
        .to((daily_score::Column::TenantId, daily_score::Column::Date))
        .into();
    Ok(tenant::Entity::find_by_id(id.to_owned())
        .select_also(daily_score::Entity)
        .join(JoinType::LeftJoin, newest_day)
        .one(db)
        .await?)
}

/// The tenants of `ids` (for batched reads), in one query.
pub async fn tenants_by_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> Result<Vec<tenant::Model>, sea_orm::DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
}

/// Which of `ids` exist, in one query per 500 ids.
pub async fn existing_tenant_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> ApiResult<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<String> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .filter(tenant::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}
