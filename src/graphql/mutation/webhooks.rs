//! Webhook endpoints (GLOBAL_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::types::webhooks::{CreatedWebhookEndpoint, WebhookEndpoint};
use crate::service::{tenants, webhooks};

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// The tenant whose alerts are delivered.
    pub tenant_id: ID,
    /// An HTTPS URL whose host resolves to public addresses only.
    pub url: String,
}

/// Changes to a webhook endpoint; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// New URL, checked as at creation.
    pub url: Option<String>,
    /// Enabled or not; enabling clears the reason it was disabled.
    pub enabled: Option<bool>,
}

/// Webhook endpoints.
#[derive(Default)]
pub struct WebhookMutation;

/// The endpoint `id` if it exists within the caller's reach; NOT_FOUND otherwise.
async fn reachable_endpoint(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<entity::webhook_endpoint::Model> {
    let viewer = ctx.viewer()?;
    viewer.require(Operation::ManageWebhooks)?;
    let endpoint = webhooks::find_endpoint(ctx.db()?, id).await?;
    viewer.require_on_record(Operation::ManageWebhooks, &endpoint.tenant_id, || {
        ApiError::record_not_found("webhook endpoint", id)
    })?;
    Ok(endpoint)
}

#[Object]
impl WebhookMutation {
    /// Creates a webhook endpoint; the answer holds its signing secret, shown this once
    /// (GLOBAL_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> async_graphql::Result<CreatedWebhookEndpoint> {
        let viewer = ctx.viewer()?;
        viewer.require_on_tenant(Operation::ManageWebhooks, &input.tenant_id)?;
        let db = ctx.db()?;
        tenants::find_tenant(db, &input.tenant_id)
            .await?
            .ok_or_else(|| ApiError::tenant_not_found(&input.tenant_id))?;
        let (endpoint, secret) = webhooks::create_endpoint(
            db,
            &input.tenant_id,
            &input.url,
            ctx.webhooks()?.allow_private,
            &viewer.subject,
            ctx.collector()?.secrets(),
        )
        .await?;
        Ok(CreatedWebhookEndpoint {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Changes a webhook endpoint (GLOBAL_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let endpoint = reachable_endpoint(ctx, &input.id).await?;
        let updated = webhooks::update_endpoint(
            ctx.db()?,
            endpoint,
            input.url.as_deref(),
            input.enabled,
            ctx.webhooks()?.allow_private,
        )
        .await?;
        Ok(WebhookEndpoint(updated))
    }

    /// Deletes a webhook endpoint: nothing more is sent to it (GLOBAL_ADMIN). Answers its id.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ID> {
        let endpoint = reachable_endpoint(ctx, &id).await?;
        webhooks::delete_endpoint(ctx.db()?, endpoint).await?;
        Ok(id)
    }
}
