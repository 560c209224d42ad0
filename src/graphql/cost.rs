//! Complexity of list fields: their selection costs once per row they may return, so
//! `max_complexity` bounds the rows a request can make the server load and serialize.

use crate::graphql::scalars::Date;
use crate::service::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Cost of a list with one row per catalog action (a day's action scores, the improvement list,
/// a diff's changes, overrides, plans): the shipped catalog's size times the selection; inside
/// a history it is multiplied again by the days.
pub fn actions(child_complexity: usize) -> usize {
    crate::service::catalog::shipped_entries()
        .saturating_mul(child_complexity)
        .max(1)
}

/// What every mutation field costs before its work: mutations write, so even the smallest
/// one costs what ten fields read do, and each alias of it is charged again.
pub const MUTATION_BASE: usize = 10;
/// Points per tenant-day a recomputation of every tenant in reach is priced at (the tenants
/// are counted only when it runs): ten tenants' worth.
const ALL_TENANTS_PER_DAY: usize = 10;

/// Cost of a mutation field that does a fixed amount of work.
pub fn mutation(child_complexity: usize) -> usize {
    MUTATION_BASE.saturating_add(child_complexity)
}

/// Cost of a mutation over `items` (a bulk change's tenant × action pairs).
pub fn bulk_mutation(items: usize, child_complexity: usize) -> usize {
    mutation(child_complexity).saturating_add(items)
}

/// Cost of `recomputeScores`: its tenant-days (every tenant in reach priced as ten).
pub fn recompute(one_tenant: bool, from: &Date, to: &Date, child_complexity: usize) -> usize {
    let tenants = if one_tenant { 1 } else { ALL_TENANTS_PER_DAY };
    mutation(child_complexity).saturating_add(days(from, to, tenants))
}

/// Cost of a connection field asked for `first` rows.
pub fn page(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.map_or(DEFAULT_PAGE_SIZE, |n| {
        n.clamp(0, MAX_PAGE_SIZE as i32) as u64
    });
    (rows as usize).saturating_mul(child_complexity).max(1)
}

/// Cost of a per-day list over `from..=to` (an inverted range costs one day; it is refused).
pub fn days(from: &Date, to: &Date, child_complexity: usize) -> usize {
    let days = (to.0 - from.0).num_days().saturating_add(1).max(1);
    usize::try_from(days)
        .unwrap_or(usize::MAX)
        .saturating_mul(child_complexity)
}

/// Cost of a per-day list from tomorrow to `to` (a date in the past costs one day; it is
/// refused).
pub fn days_ahead(to: &Date, child_complexity: usize) -> usize {
    let today = Date(chrono::Utc::now().date_naive());
    days(&today, to, child_complexity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date(s.parse().unwrap())
    }

    #[test]
    fn connections_cost_their_page_size_times_their_selection() {
        assert_eq!(page(None, 3), 60);
        assert_eq!(page(Some(100), 3), 300);
        assert_eq!(page(Some(5000), 3), 300);
        assert_eq!(page(Some(0), 3), 1);
    }

    #[test]
    fn mutations_cost_ten_plus_their_work() {
        assert_eq!(mutation(2), 12);
        assert_eq!(bulk_mutation(500, 2), 512);
        let (from, to) = (date("2026-01-01"), date("2026-12-31"));
        assert_eq!(recompute(true, &from, &to, 3), 13 + 365);
        assert_eq!(recompute(false, &from, &to, 3), 13 + 3650);
    }

    #[test]
    fn histories_cost_their_days_times_their_selection() {
        assert_eq!(days(&date("2026-01-01"), &date("2026-01-01"), 4), 4);
        assert_eq!(days(&date("2026-01-01"), &date("2026-12-31"), 4), 365 * 4);
        assert_eq!(days(&date("2026-02-01"), &date("2026-01-01"), 4), 4);
    }
}
