//! An organisation being scored.

use sea_orm::entity::prelude::*;

/// One row of `tenants`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    /// Stable id chosen at creation (a GUID or slug), also used in tokens.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free-text industry, e.g. `Finance`.
    pub industry: Option<String>,
    /// Licensed users.
    pub seat_count: i32,
    /// When the tenant was created.
    pub created_at: DateTimeUtc,
    /// When the tenant was last changed.
    pub updated_at: DateTimeUtc,
    /// The percentage the tenant's admins aim for (0 to 100), if set.
    pub goal: Option<f64>,
    /// The newest date with a stored score (kept by the writers of scores).
    pub latest_score_date: Option<Date>,
    /// Bumped by every change that affects the tenant's scores, in that change's transaction.
    pub change_seq: i64,
    /// From this percentage up a day is in the GOOD zone.
    pub zone_good: f64,
    /// From this percentage up (under `zone_good`) a day is FAIR.
    pub zone_fair: f64,
    /// The tenant's emergency access accounts: a JSON array of Entra user object ids.
    pub emergency_access_accounts: Option<Json>,
}

/// Relations of `tenants` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
