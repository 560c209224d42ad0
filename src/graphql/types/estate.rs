//! The inputs that sort and filter an estate of tenants.

use async_graphql::{Enum, InputObject};

use crate::service::estate::{EstateFilter, EstateOrder, EstateOrderField};

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

impl From<TenantFilter> for EstateFilter {
    fn from(filter: TenantFilter) -> Self {
        EstateFilter {
            industry: filter.industry,
            seat_size_group: filter.seat_size_group,
            percentage_at_least: filter.percentage_at_least,
            percentage_below: filter.percentage_below,
        }
    }
}
