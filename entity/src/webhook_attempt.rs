//! One attempt at a webhook delivery.

use sea_orm::entity::prelude::*;

/// One row of `webhook_attempts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The delivery.
    pub delivery_id: i64,
    /// When it was made.
    pub attempted_at: DateTimeUtc,
    /// The HTTP status, if an answer came back.
    pub response_status: Option<i32>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// What went wrong, if it failed.
    pub error: Option<String>,
}

/// Relations of `webhook_attempts` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
