//! A URL a tenant's alerts are delivered to.

use sea_orm::entity::prelude::*;

/// One row of `webhook_endpoints`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The HMAC key (the decoded bytes of the `whsec_` secret), base64; never shown again.
    pub signing_key: String,
    /// Whether deliveries are sent.
    pub enabled: bool,
    /// Why the server disabled it, if it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed, if the last one did.
    pub failing_since: Option<DateTimeUtc>,
    /// The `sub` of the token that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// When it was deleted, if it was (its deliveries stop).
    pub deleted_at: Option<DateTimeUtc>,
}

/// Relations of `webhook_endpoints` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
