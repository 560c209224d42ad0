//! Comparison groups: which group a tenant falls into for each basis, and the groups' averages.

use std::collections::BTreeMap;

use crate::domain::ComparisonBasis;

/// The single group of the ALL_TENANTS basis.
pub const ALL_TENANTS_GROUP: &str = "all";
/// The INDUSTRY group of tenants without an industry.
pub const NO_INDUSTRY_GROUP: &str = "Unspecified";

/// The seat-size buckets: label, lowest and highest seat count (none above the last).
const SEAT_BUCKETS: [(&str, i32, Option<i32>); 5] = [
    ("1-10", i32::MIN, Some(10)),
    ("11-100", 11, Some(100)),
    ("101-1000", 101, Some(1_000)),
    ("1001-10000", 1_001, Some(10_000)),
    ("10001+", 10_001, None),
];

/// The seat-size bucket label of a seat count (1–10, 11–100, 101–1,000, 1,001–10,000, over).
pub fn seat_bucket(seats: i32) -> &'static str {
    SEAT_BUCKETS
        .iter()
        .find(|(_, _, max)| max.is_none_or(|max| seats <= max))
        .map_or("10001+", |(label, _, _)| label)
}

/// The seat counts of a bucket label, lowest and highest; `None` for an unknown label.
pub fn seat_bucket_bounds(label: &str) -> Option<(i32, Option<i32>)> {
    SEAT_BUCKETS
        .iter()
        .find(|(name, _, _)| *name == label)
        .map(|(_, min, max)| (*min, *max))
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

/// Scored tenants of one date that share a seat count and an industry, summed.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredTenants<'a> {
    /// Licensed users.
    pub seat_count: i32,
    /// Industry, if any.
    pub industry: Option<&'a str>,
    /// How many tenants.
    pub tenant_count: i32,
    /// Sum of their scores.
    pub score_sum: f64,
    /// Sum of their percentages.
    pub percentage_sum: f64,
}

/// Every group's average over the scored tenants of one date, per basis and group.
pub fn group_averages<'a>(
    tenants: impl IntoIterator<Item = ScoredTenants<'a>>,
) -> BTreeMap<(ComparisonBasis, String), GroupAverage> {
    let mut sums: BTreeMap<(ComparisonBasis, String), (i32, f64, f64)> = BTreeMap::new();
    for members in tenants {
        for &basis in ComparisonBasis::ALL {
            let entry = sums
                .entry((basis, group_of(members.seat_count, members.industry, basis)))
                .or_default();
            entry.0 += members.tenant_count;
            entry.1 += members.score_sum;
            entry.2 += members.percentage_sum;
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

/// Whether a group's average may be shown to a caller: the group has at least `min_tenants`
/// members, and either the caller reaches all of them (`members_in_reach` is `None` for a
/// caller who reaches every tenant) or at least `min_tenants` lie outside the caller's reach,
/// so that `tenant_count × average` minus the scores the caller can read never singles out a
/// hidden tenant.
pub fn average_is_shown(
    tenant_count: i32,
    members_in_reach: Option<i32>,
    min_tenants: u32,
) -> bool {
    let at_least_k = |n: i32| u32::try_from(n).is_ok_and(|n| n >= min_tenants);
    let hidden = members_in_reach.map_or(0, |reached| tenant_count - reached);
    at_least_k(tenant_count) && (hidden == 0 || at_least_k(hidden))
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
        assert_eq!(seat_bucket(0), "1-10");
        assert_eq!(seat_bucket_bounds("101-1000"), Some((101, Some(1_000))));
        assert_eq!(seat_bucket_bounds("10001+"), Some((10_001, None)));
        assert_eq!(seat_bucket_bounds("huge"), None);
    }

    #[test]
    fn averages_are_per_basis_and_group() {
        let t = |seats, industry, score, percentage| ScoredTenants {
            seat_count: seats,
            industry,
            tenant_count: 1,
            score_sum: score,
            percentage_sum: percentage,
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
    }

    #[test]
    fn averages_never_single_out_a_hidden_tenant() {
        // A platform admin sees any group of at least k.
        assert!(average_is_shown(5, None, 5));
        assert!(!average_is_shown(4, None, 5));
        // A reader of one tenant in a group of 5: 4 hidden, fewer than k.
        assert!(!average_is_shown(5, Some(1), 5));
        assert!(average_is_shown(6, Some(1), 5));
        // A partner reaching k - 1 of 9 leaves 5 hidden; reaching 5 of 9 leaves 4.
        assert!(average_is_shown(9, Some(4), 5));
        assert!(!average_is_shown(9, Some(5), 5));
        // A partner reaching every member learns nothing new.
        assert!(average_is_shown(7, Some(7), 5));
    }
}
