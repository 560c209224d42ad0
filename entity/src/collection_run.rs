//! One collection of a tenant's directory from Microsoft Graph.

use sea_orm::entity::prelude::*;

use crate::enums::CollectionStatus;

/// One row of `collection_runs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_runs")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant collected.
    pub tenant_id: String,
    /// Where it stands.
    pub status: CollectionStatus,
    /// Token subject of who asked; none for scheduled collections.
    pub requested_by: Option<String>,
    /// When it was queued.
    pub created_at: DateTimeUtc,
    /// When a replica first claimed it.
    pub started_at: Option<DateTimeUtc>,
    /// When it ended.
    pub finished_at: Option<DateTimeUtc>,
    /// The snapshot it stored.
    pub snapshot_id: Option<i64>,
    /// What each endpoint answered (JSON array).
    pub endpoints: Json,
    /// The claim's token; only its holder may finish the collection.
    pub claim_token: Option<String>,
    /// The replica holding the claim.
    pub claimed_by: Option<String>,
    /// When the claim lapses unless renewed.
    pub lease_until: Option<DateTimeUtc>,
    /// How many times it was claimed.
    pub attempts: i32,
    /// What the collection noticed without failing for it, as a JSON array of sentences.
    pub warnings: Option<Json>,
}

/// Relations of `collection_runs` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
