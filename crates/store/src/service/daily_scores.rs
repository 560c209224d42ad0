//! Date ranges of daily scores, and the keys stored days are read by: the unit of history reads,
//! of scoring runs and of the request loaders.

use chrono::NaiveDate;
use entity::daily_score;

use crate::error::{ApiError, ApiResult};

/// Longest range one recomputation or history read may span.
pub const MAX_RANGE_DAYS: i64 = 366;

/// An inclusive range of UTC dates, at most 366 days long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
}

impl DateRange {
    /// Checks `from <= to` and the length.
    pub fn parse(from: NaiveDate, to: NaiveDate) -> ApiResult<Self> {
        if from > to {
            return Err(ApiError::BadUserInput(format!(
                "from ({from}) is after to ({to})"
            )));
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(ApiError::BadUserInput(format!(
                "the range from {from} to {to} is longer than {MAX_RANGE_DAYS} days"
            )));
        }
        Ok(DateRange { from, to })
    }

    /// A range of one day.
    pub fn day(date: NaiveDate) -> Self {
        DateRange {
            from: date,
            to: date,
        }
    }

    /// Every date in the range, ascending.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

/// A tenant's score on a date, or its latest when `date` is `None`: the key of batched reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScoreKey {
    /// Tenant.
    pub tenant_id: String,
    /// Date; `None` for the latest stored one.
    pub date: Option<NaiveDate>,
}

/// A tenant-day as read, the key of its action scores: the set it named when read holds the
/// results of the same computation, whatever was written since.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantDay {
    /// Tenant.
    pub tenant_id: String,
    /// Date.
    pub date: NaiveDate,
    /// The day's version when it was read.
    pub version: i64,
    /// The action score set the day named when it was read.
    pub action_set_id: i64,
}

impl TenantDay {
    /// The tenant-day of a stored daily score.
    pub fn of(score: &daily_score::Model) -> Self {
        TenantDay {
            tenant_id: score.tenant_id.clone(),
            date: score.date,
            version: score.version,
            action_set_id: score.action_set_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_are_checked() {
        assert!(DateRange::parse(d("2026-01-02"), d("2026-01-01")).is_err());
        assert!(DateRange::parse(d("2026-01-01"), d("2027-01-01")).is_ok());
        assert!(DateRange::parse(d("2026-01-01"), d("2027-01-02")).is_err());
        assert_eq!(
            DateRange::parse(d("2026-01-30"), d("2026-02-02"))
                .unwrap()
                .days()
                .count(),
            4
        );
    }
}
