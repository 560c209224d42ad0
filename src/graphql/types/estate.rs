//! The inputs that sort and filter an estate of tenants.

use async_graphql::{Context, Enum, ID, InputObject};

use crate::domain::ActionStatus;
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::load_catalog;
use crate::service::estate::{ActionStatusCondition, EstateFilter, EstateOrder, EstateOrderField};

/// What `tenants` can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TenantOrderField {
    /// Tenant id.
    Id,
    /// Tenant name (ties by id).
    Name,
    /// Latest percentage; tenants without a score come last in both directions.
    Percentage,
    /// Latest percentage minus the one `changeDays` before; tenants without both come last.
    PercentageChange,
}

/// Ascending or descending.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How to order `tenants`; ties are broken by id.
#[derive(InputObject)]
pub struct TenantOrder {
    /// The field.
    pub field: TenantOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

/// Which tenants to list; every condition given must hold.
#[derive(InputObject, Default)]
pub struct TenantFilter {
    /// Exactly this industry.
    pub industry: Option<String>,
    /// This seat-size group: `1-10`, `11-100`, `101-1000`, `1001-10000` or `10001+`.
    pub seat_size_group: Option<String>,
    /// Latest percentage at least this (tenants without a score are left out).
    pub percentage_at_least: Option<f64>,
    /// Latest percentage below this (tenants without a score are left out).
    pub percentage_below: Option<f64>,
    /// The latest day has this action in one of these statuses (tenants without a score are
    /// left out).
    pub action: Option<ActionStatusFilter>,
}

/// An action and the statuses a tenant's latest day must have it in.
#[derive(InputObject)]
pub struct ActionStatusFilter {
    /// A catalog action.
    pub action_id: ID,
    /// One or more statuses.
    pub statuses: Vec<ActionStatus>,
}

impl From<TenantOrder> for EstateOrder {
    fn from(order: TenantOrder) -> Self {
        EstateOrder {
            field: match order.field {
                TenantOrderField::Id => EstateOrderField::Id,
                TenantOrderField::Name => EstateOrderField::Name,
                TenantOrderField::Percentage => EstateOrderField::Percentage,
                TenantOrderField::PercentageChange => EstateOrderField::PercentageChange,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

impl TenantFilter {
    /// The filter the estate applies; an action filter must name a catalog action and at
    /// least one status.
    pub async fn checked(self, ctx: &Context<'_>) -> ApiResult<EstateFilter> {
        let action = match self.action {
            None => None,
            Some(filter) => {
                if filter.statuses.is_empty() {
                    return Err(ApiError::BadUserInput(
                        "filter.action.statuses must name at least one status".into(),
                    ));
                }
                if !load_catalog(ctx)
                    .await?
                    .contains_key(filter.action_id.as_str())
                {
                    return Err(ApiError::BadUserInput(format!(
                        "filter.action.actionId `{}` is not a catalog action",
                        filter.action_id.as_str()
                    )));
                }
                Some(ActionStatusCondition {
                    action_id: filter.action_id.to_string(),
                    statuses: filter.statuses,
                })
            }
        };
        Ok(EstateFilter {
            industry: self.industry,
            seat_size_group: self.seat_size_group,
            percentage_at_least: self.percentage_at_least,
            percentage_below: self.percentage_below,
            action,
        })
    }
}
