//! Closed days from memory: a bounded in-process cache of final `DailyScore` rows and of action
//! rows by version. A final day changes only through a recomputation, whose `ScoresWritten`
//! event (from any replica, sent inside the writing transaction) evicts it, and a day is read
//! again after `--score-cache-ttl` whatever happened; action rows of a version never change. A read
//! keeps what it loaded only when no eviction happened meanwhile (an epoch check), so a row
//! read just before a recomputation committed is never kept after it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use entity::{daily_action_score, daily_score};
use moka::sync::Cache;

use super::daily_scores::TenantDay;
use crate::events::Event;

/// Bytes a cached day is counted for, beyond its categories.
const DAY_BYTES: u32 = 256;
/// Bytes a cached action row is counted for.
const ACTION_ROW_BYTES: u32 = 200;

/// The closed-day cache of one replica.
pub struct ScoreCache {
    days: Option<Cache<(String, NaiveDate), Arc<daily_score::Model>>>,
    actions: Option<Cache<TenantDay, Arc<Vec<daily_action_score::Model>>>>,
    epoch: AtomicU64,
}

impl ScoreCache {
    /// A cache holding at most about `max_bytes` (half for days, half for action rows), each
    /// day for at most `ttl`; 0 bytes disables it.
    pub fn new(max_bytes: u64, ttl: Duration) -> Arc<ScoreCache> {
        let enabled = max_bytes > 0;
        Arc::new(ScoreCache {
            days: enabled.then(|| {
                Cache::builder()
                    .max_capacity(max_bytes / 2)
                    .time_to_live(ttl)
                    .weigher(|_, day: &Arc<daily_score::Model>| {
                        DAY_BYTES.saturating_add(
                            u32::try_from(day.categories.to_string().len()).unwrap_or(u32::MAX),
                        )
                    })
                    .build()
            }),
            actions: enabled.then(|| {
                Cache::builder()
                    .max_capacity(max_bytes / 2)
                    .weigher(|_, rows: &Arc<Vec<daily_action_score::Model>>| {
                        ACTION_ROW_BYTES
                            .saturating_mul(u32::try_from(rows.len()).unwrap_or(u32::MAX))
                    })
                    .build()
            }),
            epoch: AtomicU64::new(0),
        })
    }

    /// The eviction epoch; pass it back to the `keep_` calls of a read that started now.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// A cached final day.
    pub fn day(&self, tenant_id: &str, date: NaiveDate) -> Option<Arc<daily_score::Model>> {
        let found = self.days.as_ref()?.get(&(tenant_id.to_owned(), date));
        count("day", found.is_some());
        found
    }

    /// Keeps the final days among `rows`, unless an eviction happened since `epoch`.
    pub fn keep_days<'a>(
        &self,
        epoch: u64,
        rows: impl IntoIterator<Item = &'a Arc<daily_score::Model>>,
    ) {
        let Some(days) = &self.days else { return };
        if self.epoch() != epoch {
            return;
        }
        for row in rows.into_iter().filter(|r| r.r#final) {
            days.insert((row.tenant_id.clone(), row.date), Arc::clone(row));
        }
    }

    /// The cached action rows of a tenant-day's version.
    pub fn actions(&self, key: &TenantDay) -> Option<Arc<Vec<daily_action_score::Model>>> {
        let found = self.actions.as_ref()?.get(key);
        count("actions", found.is_some());
        found
    }

    /// Keeps the action rows of a tenant-day's version (they never change).
    pub fn keep_actions(&self, key: TenantDay, rows: Vec<daily_action_score::Model>) {
        if let Some(actions) = &self.actions {
            actions.insert(key, Arc::new(rows));
        }
    }

    /// Applies an event: written days are evicted; a resynchronisation empties the cache.
    pub fn observe(&self, event: &Event) {
        let Some(days) = &self.days else { return };
        match event {
            Event::ScoresWritten { tenants, from, to } => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
                let dates: Vec<NaiveDate> = from.iter_days().take_while(|d| d <= to).collect();
                let tenants: BTreeSet<&String> = tenants.iter().collect();
                for tenant in tenants {
                    for date in &dates {
                        days.invalidate(&(tenant.clone(), *date));
                    }
                }
            }
            Event::Resync => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
                days.invalidate_all();
            }
            Event::AlertRaised { .. }
            | Event::RunUpdated { .. }
            | Event::CatalogChanged
            | Event::ComparisonsRefreshed { .. } => {}
        }
    }
}

/// Counts a lookup for `/metrics`.
fn count(kind: &'static str, hit: bool) {
    metrics::counter!(
        crate::telemetry::SCORE_CACHE,
        "kind" => kind,
        "result" => if hit { "hit" } else { "miss" }
    )
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(final_: bool) -> Arc<daily_score::Model> {
        Arc::new(daily_score::Model {
            id: 1,
            tenant_id: "acme".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            score: 1.0,
            max_score: 2.0,
            percentage: 50.0,
            planned_score: 1.0,
            categories: serde_json::json!([]),
            snapshot_id: None,
            computed_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            r#final: final_,
            no_data_max_score: 0.0,
            coverage: 100.0,
            version: 1,
            stale_actions: false,
            input_seq: 0,
        })
    }

    #[test]
    fn only_final_days_are_kept_and_a_write_evicts_them() {
        let cache = ScoreCache::new(1 << 20, Duration::from_secs(60));
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        cache.keep_days(cache.epoch(), [&day(false)]);
        assert!(cache.day("acme", date).is_none());
        cache.keep_days(cache.epoch(), [&day(true)]);
        assert_eq!(cache.day("acme", date), Some(day(true)));
        cache.observe(&Event::ScoresWritten {
            tenants: vec!["acme".into()],
            from: date,
            to: date,
        });
        assert!(cache.day("acme", date).is_none());
    }

    #[test]
    fn a_read_that_straddles_an_eviction_keeps_nothing() {
        let cache = ScoreCache::new(1 << 20, Duration::from_secs(60));
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let started = cache.epoch();
        cache.observe(&Event::ScoresWritten {
            tenants: vec!["acme".into()],
            from: date,
            to: date,
        });
        cache.keep_days(started, [&day(true)]);
        assert!(cache.day("acme", date).is_none());
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = ScoreCache::new(0, Duration::ZERO);
        cache.keep_days(cache.epoch(), [&day(true)]);
        assert!(cache.day("acme", day(true).date).is_none());
    }
}
