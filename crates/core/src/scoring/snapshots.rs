//! Which snapshot counts for a date: the latest captured on or before the end of that UTC day.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The last microsecond of a UTC date: a snapshot captured then still counts for it.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date
        .succ_opt()
        .unwrap_or(date)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    next.and_utc() - Duration::microseconds(1)
}

/// The instant whose override states count for `date`: its end for a day that has ended, `now`
/// for the open day (an override that expires later today counts until it expires).
pub fn states_instant(date: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    end_of_day(date).min(now)
}

/// The id of the snapshot that counts for `date`, from `(id, captured_at)` pairs sorted by
/// capture time (ties by id); `None` when nothing was captured by the end of the date.
pub fn snapshot_for_date(captures: &[(i64, DateTime<Utc>)], date: NaiveDate) -> Option<i64> {
    let end = end_of_day(date);
    let taken = captures.partition_point(|(_, captured_at)| *captured_at <= end);
    taken
        .checked_sub(1)
        .and_then(|i| captures.get(i))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn end_of_day_is_the_last_microsecond() {
        assert_eq!(
            end_of_day(d("2026-03-01")).to_rfc3339(),
            "2026-03-01T23:59:59.999999+00:00"
        );
    }

    #[test]
    fn the_open_day_uses_the_states_in_force_now() {
        let now = at("2026-03-02T10:00:00Z");
        assert_eq!(
            states_instant(d("2026-03-01"), now),
            end_of_day(d("2026-03-01"))
        );
        assert_eq!(states_instant(d("2026-03-02"), now), now);
    }

    #[test]
    fn the_latest_capture_by_the_end_of_the_day_counts() {
        let captures = [
            (1, at("2026-03-01T08:00:00Z")),
            (2, at("2026-03-01T23:59:59.999999Z")),
            (3, at("2026-03-03T00:00:00Z")),
        ];
        assert_eq!(snapshot_for_date(&captures, d("2026-02-28")), None);
        assert_eq!(snapshot_for_date(&captures, d("2026-03-01")), Some(2));
        assert_eq!(snapshot_for_date(&captures, d("2026-03-02")), Some(2));
        assert_eq!(snapshot_for_date(&captures, d("2026-03-03")), Some(3));
    }
}
