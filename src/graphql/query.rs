//! Query root fields.

use async_graphql::{Context, ID, MergedObject, Object};

use super::context::ContextExt;
use super::loaders::feed_tenant_with_newest_day;
use super::prefetch::{prefetch_changes_if_selected, prefetch_scores_if_selected};
use super::runs_query::RunQuery;
use super::scalars::Date;
use super::types::TenantConnection;
use super::types::action::ImprovementAction;
use super::types::estate::{TenantFilter, TenantOrder};
use super::types::partner::PartnerApplication;
use super::types::portfolio::Portfolio;
use super::types::tenant::Tenant;
use super::types::viewer::ViewerInfo;
use crate::auth::Operation;
use crate::domain::ActionCategory;
use crate::service::action_rollup::RollupDay;
use crate::service::estate::{self, EstateOrder, EstateOrderField};
use crate::service::partner_application::find_partner_application;
use crate::service::tenants::{self, Visibility};
use crate::service::{catalog, portfolio};

/// Reads: the caller, tenants and their scores, the catalog, scoring runs.
#[derive(MergedObject, Default)]
pub struct Query(CoreQuery, RunQuery);

/// The caller, tenants and their scores, the catalog.
#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// Who the bearer token says the caller is.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<ViewerInfo> {
        Ok(ctx.viewer()?.into())
    }

    /// A tenant by id; null when it does not exist or is outside the caller's reach.
    async fn tenant(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Tenant>> {
        let viewer = ctx.viewer()?;
        if !viewer.can_see_tenant(&id) {
            return Ok(None);
        }
        let Some((tenant, newest)) = tenants::find_tenant_with_latest_day(ctx.db()?, &id).await?
        else {
            return Ok(None);
        };
        feed_tenant_with_newest_day(ctx, &tenant, newest).await?;
        Ok(Some(Tenant::from(tenant)))
    }

    /// The tenants within the caller's reach, sorted and filtered in the database (by id when
    /// no order is given); a cursor taken under one order is refused under another.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Order; ties are broken by id.")] order_by: Option<TenantOrder>,
        #[graphql(desc = "Conditions every tenant listed meets.")] filter: Option<TenantFilter>,
        #[graphql(
            default_with = "crate::service::estate::DEFAULT_CHANGE_DAYS",
            desc = "Days between the two percentages of PERCENTAGE_CHANGE, 1 to 366."
        )]
        change_days: i32,
    ) -> async_graphql::Result<TenantConnection> {
        let viewer = ctx.viewer()?;
        let visibility = Visibility::of(viewer, Operation::SeeTenants);
        let order = order_by.map_or(
            EstateOrder {
                field: EstateOrderField::Id,
                descending: false,
            },
            EstateOrder::from,
        );
        let filter = filter.unwrap_or_default().checked(ctx).await?;
        let page = estate::estate_page(
            ctx.db()?,
            &visibility,
            order,
            &filter,
            change_days,
            first,
            after.as_deref(),
        )
        .await?
        .map(|row| row.tenant);
        let readable: Vec<String> = page
            .items
            .iter()
            .map(|(_, tenant)| tenant.id.clone())
            .filter(|id| {
                viewer
                    .require_on_tenant(Operation::ReadTenantData, id)
                    .is_ok()
            })
            .collect();
        prefetch_scores_if_selected(ctx, &readable).await?;
        prefetch_changes_if_selected(ctx, &readable).await?;
        Ok(page.map(Tenant::from).into())
    }

    /// One date's figures over the tenants in the caller's reach (every tenant for a
    /// PLATFORM_ADMIN) that pass `filter`: the newest date any of them has a score for when
    /// `date` is omitted.
    async fn portfolio(
        &self,
        ctx: &Context<'_>,
        date: Option<Date>,
        #[graphql(desc = "Conditions every tenant counted meets, as `tenants` takes them.")]
        filter: Option<TenantFilter>,
    ) -> async_graphql::Result<Portfolio> {
        let viewer = ctx.viewer()?;
        viewer.require(Operation::ReadTenantData)?;
        let db = ctx.db()?;
        let mut visibility = Visibility::of(viewer, Operation::ReadTenantData);
        if let Some(filter) = filter {
            let filter = filter.checked(ctx).await?;
            visibility = Visibility::Only(estate::filtered_ids(db, &visibility, &filter).await?);
        }
        let date = date.map(|d| d.0);
        let ahead = ctx.look_ahead();
        let parts = portfolio::PortfolioParts {
            categories: ahead.field("categories").exists(),
            overdue_plans: ahead.field("overduePlanCount").exists(),
            regressions: ahead.field("regressedTenantCount").exists(),
        };
        let figures = portfolio::portfolio(db, &visibility, date, parts).await?;
        let rollup_day = date.map_or(RollupDay::Latest, RollupDay::On);
        Ok(Portfolio::new(figures, visibility, rollup_day))
    }

    /// The catalog, optionally one category; deprecated entries only when asked.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        category: Option<ActionCategory>,
        #[graphql(default = false)] include_deprecated: bool,
    ) -> async_graphql::Result<Vec<ImprovementAction>> {
        ctx.viewer()?.require(Operation::ReadCatalog)?;
        let rows = catalog::list_actions(ctx.db()?, category, include_deprecated).await?;
        Ok(rows.into_iter().map(ImprovementAction::from).collect())
    }

    /// The installation's partner application, if one is set (PLATFORM_ADMIN).
    async fn partner_application(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerApplication>> {
        ctx.viewer()?.require(Operation::ManagePartnerApplication)?;
        Ok(find_partner_application(ctx.db()?)
            .await?
            .map(PartnerApplication))
    }

    /// Every framework name the catalog's entries map to, sorted.
    async fn frameworks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        ctx.viewer()?.require(Operation::ReadCatalog)?;
        Ok(catalog::framework_names(ctx.db()?).await?)
    }

    /// One catalog entry by id, deprecated or not; null when unknown.
    async fn action(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ImprovementAction>> {
        ctx.viewer()?.require(Operation::ReadCatalog)?;
        let row = catalog::find_action(ctx.db()?, &id).await?;
        Ok(row.map(ImprovementAction::from))
    }
}
