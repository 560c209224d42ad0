//! createTenant and updateTenant (PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::graphql::context::ContextExt;
use crate::graphql::types::tenant::Tenant;
use crate::service::tenants::{self, NewTenant, TenantChanges};

/// A new tenant.
#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Stable id: 1 to 64 letters, digits, `-`, `_` or `.`.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Free-text industry.
    pub industry: Option<String>,
    /// Licensed users, 0 or more.
    pub seat_count: i32,
}

/// Changes to a tenant; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// The tenant.
    pub id: ID,
    /// New name.
    pub name: Option<String>,
    /// New industry; an empty string clears it.
    pub industry: Option<String>,
    /// New seat count.
    pub seat_count: Option<i32>,
}

/// Tenant administration.
#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Creates a tenant (PLATFORM_ADMIN); an existing id is a CONFLICT.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> async_graphql::Result<Tenant> {
        ctx.viewer()?.require(Operation::ManageTenants)?;
        let new = NewTenant::parse(
            &input.id,
            &input.name,
            input.industry.as_deref(),
            input.seat_count,
        )?;
        Ok(tenants::create_tenant(ctx.db()?, new).await?.into())
    }

    /// Sets the percentage a tenant aims for, 0 to 100; null clears it
    /// (GLOBAL_ADMIN, SECURITY_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_tenant_goal(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        percentage: Option<f64>,
    ) -> async_graphql::Result<Tenant> {
        ctx.viewer()?
            .require_on_tenant(Operation::SetGoal, &tenant_id)?;
        Ok(tenants::set_goal(ctx.db()?, &tenant_id, percentage)
            .await?
            .into())
    }

    /// Changes a tenant (PLATFORM_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantInput,
    ) -> async_graphql::Result<Tenant> {
        ctx.viewer()?.require(Operation::ManageTenants)?;
        let changes = TenantChanges {
            name: input.name,
            industry: input.industry,
            seat_count: input.seat_count,
        };
        Ok(tenants::update_tenant(ctx.db()?, &input.id, changes)
            .await?
            .into())
    }
}
