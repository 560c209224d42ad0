//! `WebhookEndpoint`, `WebhookDelivery`, `WebhookAttempt` and `CreatedWebhookEndpoint`.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

use super::alerts::Alert;
use super::connection::connection_types;
use crate::domain::DeliveryStatus;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::{load_alert, load_attempts};
use crate::graphql::scalars::DateTime;
use crate::service::webhooks;

connection_types!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook deliveries"
);

/// A URL the tenant's alerts are delivered to.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A URL the tenant's alerts are delivered to, signed as Standard Webhooks; its secret was
/// shown once, at creation.
#[Object]
impl WebhookEndpoint {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// Whether deliveries are sent.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why the server disabled it (every delivery failed for 3 days), if it did.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// Its deliveries, newest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let page = webhooks::delivery_page(ctx.db()?, self.0.id, first, after.as_deref()).await?;
        Ok(page.map(WebhookDelivery).into())
    }
}

/// One alert to deliver to one endpoint.
pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One alert to deliver to one endpoint: retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
/// 10 h, then FAILED.
#[Object]
impl WebhookDelivery {
    /// Server-assigned id; the `webhook-id` header is `msg_` followed by it.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The alert delivered.
    async fn alert(&self, ctx: &Context<'_>) -> async_graphql::Result<Alert> {
        Ok(Alert(load_alert(ctx, self.0.alert_id).await?))
    }

    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status
    }

    /// Attempts made.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// The HTTP status of the last attempt, if an answer came back.
    async fn last_response_status(&self) -> Option<i32> {
        self.0.last_response_status
    }

    /// What went wrong with the last attempt, if it failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// When the last attempt was made.
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.0.last_attempt_at.map(DateTime)
    }

    /// When the next attempt is due (PENDING only).
    async fn next_attempt_at(&self) -> Option<DateTime> {
        self.0.next_attempt_at.map(DateTime)
    }

    /// Every attempt, oldest first.
    async fn attempt_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookAttempt>> {
        Ok(load_attempts(ctx, self.0.id)
            .await?
            .into_iter()
            .map(WebhookAttempt::from)
            .collect())
    }
}

/// One attempt at a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// When it was made.
    pub attempted_at: DateTime,
    /// The HTTP status, if an answer came back.
    pub response_status: Option<i32>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// What went wrong, if it failed.
    pub error: Option<String>,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(row: webhook_attempt::Model) -> Self {
        WebhookAttempt {
            attempted_at: DateTime(row.attempted_at),
            response_status: row.response_status,
            duration_ms: row.duration_ms,
            error: row.error,
        }
    }
}

/// A new endpoint and its signing secret.
#[derive(SimpleObject)]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_` + base64 of the HMAC key: shown this once, never readable again.
    pub secret: String,
}
