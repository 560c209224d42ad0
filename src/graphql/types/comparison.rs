//! `ComparativeScore`.

use async_graphql::SimpleObject;

use crate::domain::ComparisonBasis;
use crate::service::comparisons::Comparison;

/// The average of the tenants in one group on one date.
#[derive(SimpleObject)]
pub struct ComparativeScore {
    /// How the group is formed.
    pub basis: ComparisonBasis,
    /// The group: `all`, a seat bucket like `11-100`, or an industry.
    pub group: String,
    /// How many tenants the group had that day.
    pub tenant_count: i32,
    /// Average score; null below the minimum group size.
    pub average_score: Option<f64>,
    /// Average percentage; null below the minimum group size.
    pub average_percentage: Option<f64>,
}

impl From<Comparison> for ComparativeScore {
    fn from(c: Comparison) -> Self {
        ComparativeScore {
            basis: c.basis,
            group: c.group,
            tenant_count: c.tenant_count,
            average_score: c.average_score,
            average_percentage: c.average_percentage,
        }
    }
}
