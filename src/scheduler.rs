//! The daily scoring run: every tenant's score for the current UTC date at the configured time,
//! then that date's comparisons. Safe on many replicas: each tenant-day is replaced atomically.

use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::DatabaseConnection;

use crate::service::daily_scores::{self, DateRange};

/// The next instant, strictly after `now`, at which the UTC clock reads `at`.
pub fn next_run_after(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// Scores every tenant for `now`'s date and refreshes that date's comparisons.
pub async fn run_daily_scoring(db: &DatabaseConnection, now: DateTime<Utc>) {
    let date = now.date_naive();
    match daily_scores::recompute(db, None, DateRange::day(date)).await {
        Ok(summary) => {
            tracing::info!(%date, tenants = summary.tenants_scored, "daily scoring finished")
        }
        Err(err) => {
            tracing::error!(%date, error = ?err, "daily scoring failed; the next run will retry")
        }
    }
}

/// Runs the daily scoring at `at` (UTC) forever; cancel by dropping the task.
pub async fn run_scheduler(db: DatabaseConnection, at: NaiveTime) {
    loop {
        let now = Utc::now();
        let next = next_run_after(now, at);
        tracing::info!(next_run = %next, "daily scoring scheduled");
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        run_daily_scoring(&db, Utc::now()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_run_is_today_or_tomorrow() {
        let at = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        let before: DateTime<Utc> = "2026-05-01T00:30:00Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-05-01T01:00:00Z".parse().unwrap();
        assert_eq!(
            next_run_after(before, at).to_rfc3339(),
            "2026-05-01T01:00:00+00:00"
        );
        assert_eq!(
            next_run_after(after, at).to_rfc3339(),
            "2026-05-02T01:00:00+00:00"
        );
    }
}
