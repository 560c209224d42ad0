//! Comparison groups: which group a tenant falls into for each basis, and the groups' averages.

use std::collections::BTreeMap;

use crate::domain::ComparisonBasis;

/// The single group of the ALL_TENANTS basis.
pub const ALL_TENANTS_GROUP: &str = "all";
/// The INDUSTRY group of tenants without an industry.
pub const NO_INDUSTRY_GROUP: &str = "Unspecified";

/// The seat-size bucket label of a seat count (1–10, 11–100, 101–1,000, 1,001–10,000, over).
pub fn seat_bucket(seats: i32) -> &'static str {
    match seats {
        i32::MIN..=10 => "1-10",
        11..=100 => "11-100",
        101..=1_000 => "101-1000",
        1_001..=10_000 => "1001-10000",
        _ => "10001+",
    }
}

/// The group a tenant with these seats and industry falls into for a basis.
pub fn group_of(seat_count: i32, industry: Option<&str>, basis: ComparisonBasis) -> String {
    match basis {
        ComparisonBasis::AllTenants => ALL_TENANTS_GROUP.to_owned(),
        ComparisonBasis::SeatSize => seat_bucket(seat_count).to_owned(),
        ComparisonBasis::Industry => industry.unwrap_or(NO_INDUSTRY_GROUP).to_owned(),
    }
}

/// One group's members on one date and their averages.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupAverage {
    /// How many tenants had a score that day in the group.
    pub tenant_count: i32,
    /// Mean of their scores.
    pub average_score: f64,
    /// Mean of their percentages.
    pub average_percentage: f64,
}

/// One scored tenant of a date, as the comparison needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredTenant<'a> {
    /// Licensed users.
    pub seat_count: i32,
    /// Industry, if any.
    pub industry: Option<&'a str>,
    /// The day's score.
    pub score: f64,
    /// The day's percentage.
    pub percentage: f64,
}

/// Every group's average over the scored tenants of one date, per basis and group.
pub fn group_averages<'a>(
    tenants: impl IntoIterator<Item = ScoredTenant<'a>>,
) -> BTreeMap<(ComparisonBasis, String), GroupAverage> {
    let mut sums: BTreeMap<(ComparisonBasis, String), (i32, f64, f64)> = BTreeMap::new();
    for tenant in tenants {
        for &basis in ComparisonBasis::ALL {
            let entry = sums
                .entry((basis, group_of(tenant.seat_count, tenant.industry, basis)))
                .or_default();
            entry.0 += 1;
            entry.1 += tenant.score;
            entry.2 += tenant.percentage;
        }
    }
    sums.into_iter()
        .map(|(key, (count, score, percentage))| {
            (
                key,
                GroupAverage {
                    tenant_count: count,
                    average_score: score / f64::from(count),
                    average_percentage: percentage / f64::from(count),
                },
            )
        })
        .collect()
}

/// Whether a group's average may be shown: the group has at least `min_tenants` members.
pub fn average_is_shown(tenant_count: i32, min_tenants: u32) -> bool {
    u32::try_from(tenant_count).is_ok_and(|count| count >= min_tenants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_buckets_match_the_design() {
        assert_eq!(seat_bucket(1), "1-10");
        assert_eq!(seat_bucket(10), "1-10");
        assert_eq!(seat_bucket(11), "11-100");
        assert_eq!(seat_bucket(1000), "101-1000");
        assert_eq!(seat_bucket(1001), "1001-10000");
        assert_eq!(seat_bucket(10_000), "1001-10000");
        assert_eq!(seat_bucket(10_001), "10001+");
    }

    #[test]
    fn averages_are_per_basis_and_group() {
        let t = |seats, industry, score, percentage| ScoredTenant {
            seat_count: seats,
            industry,
            score,
            percentage,
        };
        let groups = group_averages([
            t(5, Some("Finance"), 10.0, 20.0),
            t(50, Some("Finance"), 30.0, 60.0),
            t(8, None, 20.0, 40.0),
        ]);
        let all = &groups[&(ComparisonBasis::AllTenants, "all".to_owned())];
        assert_eq!((all.tenant_count, all.average_score), (3, 20.0));
        let small = &groups[&(ComparisonBasis::SeatSize, "1-10".to_owned())];
        assert_eq!((small.tenant_count, small.average_percentage), (2, 30.0));
        let none = &groups[&(ComparisonBasis::Industry, "Unspecified".to_owned())];
        assert_eq!(none.tenant_count, 1);
        assert!(average_is_shown(5, 5));
        assert!(!average_is_shown(4, 5));
    }
}
