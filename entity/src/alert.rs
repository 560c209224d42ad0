//! An alert raised by a rule for one date.

use sea_orm::entity::prelude::*;

/// One row of `alerts`, unique per rule, date and subject.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The rule that fired.
    pub rule_id: i64,
    /// The scored date.
    pub date: Date,
    /// When it was raised.
    pub raised_at: DateTimeUtc,
    /// The percentage compared with (the day before, or `windowDays` before for DROP).
    pub percentage_before: Option<f64>,
    /// The date's percentage.
    pub percentage_after: f64,
    /// The actions that lost points against the previous day (`ActionChange`s, as JSON).
    pub regressions: Json,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTimeUtc>,
    /// What the alert is about within its day: the action whose plan became overdue
    /// (PLAN_OVERDUE); empty for the kinds about the whole day.
    pub subject: String,
}

/// Relations of `alerts` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
