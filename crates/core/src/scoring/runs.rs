//! The rules of closing days: which dates are due, and how a finished run is judged.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::domain::ScoringRunStatus;

/// When `date` may be closed: the day after it, at the scoring time (UTC).
pub fn close_time(date: NaiveDate, scoring_time: NaiveTime) -> DateTime<Utc> {
    (date + Duration::days(1)).and_time(scoring_time).and_utc()
}

/// The dates of the last `catch_up_days` whose close time has passed at `now`, oldest first.
pub fn dates_due(
    now: DateTime<Utc>,
    scoring_time: NaiveTime,
    catch_up_days: u32,
) -> Vec<NaiveDate> {
    let today = now.date_naive();
    (1..=i64::from(catch_up_days))
        .rev()
        .map(|back| today - Duration::days(back))
        .filter(|date| close_time(*date, scoring_time) <= now)
        .collect()
}

/// A finished run's status: SUCCEEDED without failures, FAILED when nothing was stored but
/// something failed, PARTIAL otherwise.
pub fn final_status(done: i32, failed: i32) -> ScoringRunStatus {
    match (done, failed) {
        (_, 0) => ScoringRunStatus::Succeeded,
        (0, _) => ScoringRunStatus::Failed,
        _ => ScoringRunStatus::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn yesterday_is_due_only_after_the_scoring_time() {
        let one = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            dates_due(at("2026-05-10T00:59:59Z"), one, 3),
            vec![d("2026-05-07"), d("2026-05-08")]
        );
        assert_eq!(
            dates_due(at("2026-05-10T01:00:00Z"), one, 3),
            vec![d("2026-05-07"), d("2026-05-08"), d("2026-05-09")]
        );
        assert!(dates_due(at("2026-05-10T12:00:00Z"), one, 0).is_empty());
    }

    #[test]
    fn runs_are_judged_by_their_counts() {
        assert_eq!(final_status(0, 0), ScoringRunStatus::Succeeded);
        assert_eq!(final_status(10, 0), ScoringRunStatus::Succeeded);
        assert_eq!(final_status(9, 1), ScoringRunStatus::Partial);
        assert_eq!(final_status(0, 3), ScoringRunStatus::Failed);
    }
}
