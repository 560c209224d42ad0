//! One alert to deliver to one endpoint: the outbox row.

use sea_orm::entity::prelude::*;

use crate::enums::DeliveryStatus;

/// One row of `webhook_deliveries`, unique per endpoint and alert.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Server-assigned id; also the `webhook-id` header (`msg_<id>`).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The alert.
    pub alert_id: i64,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (PENDING only).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, if one came back.
    pub last_response_status: Option<i32>,
    /// What went wrong with the last attempt, if it failed.
    pub last_error: Option<String>,
    /// A replica's claim on it lasts until then.
    pub claimed_until: Option<DateTimeUtc>,
    /// The token of the replica's claim.
    pub claim_token: Option<String>,
    /// When it was created (with its alert).
    pub created_at: DateTimeUtc,
    /// The JSON body every attempt sends, rendered once when the alert was raised (absent
    /// only on deliveries queued before bodies were stored).
    pub body: Option<String>,
}

/// Relations of `webhook_deliveries` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
