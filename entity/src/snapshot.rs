//! An immutable record of one tenant's configuration at an instant.

use sea_orm::entity::prelude::*;

/// One row of `snapshots`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshots")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: String,
    /// When the collector captured the configuration.
    pub captured_at: DateTimeUtc,
    /// When the server stored it.
    pub received_at: DateTimeUtc,
    /// The configuration facts, a JSON object; empty when `facts_of` names the snapshot that
    /// holds them (read them through `service::snapshots`, which resolves that).
    pub facts: Json,
    /// The earlier snapshot of the same tenant whose facts this one shares, when they were
    /// equal to its tenant's previous snapshot's.
    pub facts_of: Option<i64>,
    /// Collector-chosen key; the same key twice returns the first snapshot.
    pub idempotency_key: Option<String>,
}

/// Relations of `snapshots` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
