//! Date ranges of daily scores: the unit of history reads and of scoring runs.

use chrono::NaiveDate;

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
