//! Closed days from memory: a bounded in-process cache of final `DailyScore` rows and of action
//! score sets by id. A final day changes only through a recomputation, whose `ScoresWritten`
//! event (from any replica, sent inside the writing transaction) evicts it, and a day is read
//! again after `--score-cache-ttl` whatever happened; an action score set never changes. A read
//! keeps what it loaded only when no eviction happened meanwhile (an epoch check), so a row
//! read just before a recomputation committed is never kept after it. Days are held per tenant
//! (one lookup finds a whole trend's days). Trends keep the step between two sets (see
//! [`TrendStep`]), a few hundred bytes, rather than the sets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use entity::daily_score;
use moka::sync::Cache;

use super::action_sets::DayResults;
use super::daily_scores::DateRange;
use super::epoch::Epoch;
use crate::events::Event;
use crate::scoring::trends::TrendStep;

/// The sets a trend step goes between: the stored day before's (none when there is none or it
/// is the same) and the day's.
pub type StepKey = (Option<i64>, i64);

/// Bytes a cached day is counted for, its categories included.
const DAY_BYTES: u32 = 512;
/// Bytes a cached action result is counted for.
const ACTION_RESULT_BYTES: u32 = 160;

/// A tenant's cached closed days, each with when it was kept.
type TenantDays = BTreeMap<NaiveDate, (Instant, Arc<daily_score::Model>)>;

/// The clock of kept days: tokio's, so that tests can move it with a paused runtime.
type Instant = tokio::time::Instant;

/// The closed-day cache of one replica.
pub struct ScoreCache {
    days: Option<Cache<String, Arc<TenantDays>>>,
    actions: Option<Cache<i64, DayResults>>,
    steps: Option<Cache<StepKey, Arc<TrendStep>>>,
    ttl: Duration,
    /// Orders keeping days after evicting them.
    epoch: Epoch,
}

impl ScoreCache {
    /// A cache holding at most about `max_bytes` (half for days, a quarter each for action
    /// sets and trend steps), each day for at most `ttl`; 0 bytes disables it.
    pub fn new(max_bytes: u64, ttl: Duration) -> Arc<ScoreCache> {
        let enabled = max_bytes > 0;
        Arc::new(ScoreCache {
            days: enabled.then(|| {
                Cache::builder()
                    .max_capacity(max_bytes / 2)
                    .time_to_live(ttl)
                    .weigher(|_, days: &Arc<TenantDays>| {
                        DAY_BYTES.saturating_mul(u32::try_from(days.len()).unwrap_or(u32::MAX))
                    })
                    .build()
            }),
            actions: enabled.then(|| {
                Cache::builder()
                    .max_capacity(max_bytes / 4)
                    .weigher(|_, rows: &DayResults| {
                        ACTION_RESULT_BYTES
                            .saturating_mul(u32::try_from(rows.len()).unwrap_or(u32::MAX))
                    })
                    .build()
            }),
            steps: enabled.then(|| {
                Cache::builder()
                    .max_capacity(max_bytes / 4)
                    .weigher(|_, step: &Arc<TrendStep>| step.weight())
                    .build()
            }),
            ttl,
            epoch: Epoch::default(),
        })
    }

    /// The eviction epoch; pass it back to the `keep_` calls of a read that started now.
    pub fn epoch(&self) -> u64 {
        self.epoch.current()
    }

    /// A cached final day.
    pub fn day(&self, tenant_id: &str, date: NaiveDate) -> Option<Arc<daily_score::Model>> {
        let found = self.held_days(tenant_id, DateRange::day(date)).pop();
        count("day", found.is_some());
        found
    }

    /// The cached final days of a tenant within `range`, ascending (one lookup).
    pub fn days_in(&self, tenant_id: &str, range: DateRange) -> Vec<Arc<daily_score::Model>> {
        let found = self.held_days(tenant_id, range);
        count("days", !found.is_empty());
        found
    }

    fn held_days(&self, tenant_id: &str, range: DateRange) -> Vec<Arc<daily_score::Model>> {
        let Some(days) = self.days.as_ref().and_then(|d| d.get(tenant_id)) else {
            return Vec::new();
        };
        days.range(range.from..=range.to)
            .filter(|(_, (kept, _))| kept.elapsed() < self.ttl)
            .map(|(_, (_, day))| Arc::clone(day))
            .collect()
    }

    /// Keeps the final days among `rows`, unless an eviction happened since `epoch`.
    pub fn keep_days<'a>(
        &self,
        epoch: u64,
        rows: impl IntoIterator<Item = &'a Arc<daily_score::Model>>,
    ) {
        let Some(days) = &self.days else { return };
        let mut by_tenant: BTreeMap<&str, Vec<&Arc<daily_score::Model>>> = BTreeMap::new();
        for row in rows.into_iter().filter(|r| r.r#final) {
            by_tenant.entry(&row.tenant_id).or_default().push(row);
        }
        self.epoch.keep_if_unchanged(epoch, || {
            let now = Instant::now();
            for (tenant, rows) in by_tenant {
                let mut held = days
                    .get(tenant)
                    .map(|held| held.as_ref().clone())
                    .unwrap_or_default();
                held.extend(rows.into_iter().map(|r| (r.date, (now, Arc::clone(r)))));
                days.insert(tenant.to_owned(), Arc::new(held));
            }
        });
    }

    /// A cached action score set.
    pub fn actions(&self, set_id: i64) -> Option<DayResults> {
        let found = self.actions.as_ref()?.get(&set_id);
        count("actions", found.is_some());
        found
    }

    /// Keeps an action score set (it never changes).
    pub fn keep_actions(&self, set_id: i64, results: DayResults) {
        if let Some(actions) = &self.actions {
            actions.insert(set_id, results);
        }
    }

    /// A cached trend step (sets never change, so neither do their steps).
    pub fn trend_step(&self, key: StepKey) -> Option<Arc<TrendStep>> {
        let found = self.steps.as_ref()?.get(&key);
        count("trend_steps", found.is_some());
        found
    }

    /// Keeps a trend step.
    pub fn keep_trend_step(&self, key: StepKey, step: Arc<TrendStep>) {
        if let Some(steps) = &self.steps {
            steps.insert(key, step);
        }
    }

    /// Applies an event: written days are evicted; a resynchronisation empties the cache.
    pub fn observe(&self, event: &Event) {
        let Some(days) = &self.days else { return };
        match event {
            Event::ScoresWritten { tenants, from, to } => self.epoch.evict(|| {
                let tenants: BTreeSet<&String> = tenants.iter().collect();
                for tenant in tenants {
                    let Some(held) = days.get(tenant) else {
                        continue;
                    };
                    if held.range(*from..=*to).next().is_none() {
                        continue;
                    }
                    let kept: TenantDays = held
                        .iter()
                        .filter(|(date, _)| !(*from..=*to).contains(*date))
                        .map(|(date, day)| (*date, day.clone()))
                        .collect();
                    days.insert(tenant.clone(), Arc::new(kept));
                }
            }),
            Event::Resync => self.epoch.evict(|| days.invalidate_all()),
            Event::AlertRaised { .. }
            | Event::RunUpdated { .. }
            | Event::CatalogChanged
            | Event::ComparisonsRefreshed { .. }
            | Event::Marker { .. } => {}
        }
    }
}

/// Splits `keys` into what `cached` holds for them and the keys it lacks, each key looked up
/// once however often it comes.
pub fn split_cached<K: Ord + std::hash::Hash + Copy, V>(
    keys: impl IntoIterator<Item = K>,
    cached: impl Fn(K) -> Option<V>,
) -> (HashMap<K, V>, BTreeSet<K>) {
    let mut held = HashMap::new();
    let mut missing = BTreeSet::new();
    for key in keys {
        if held.contains_key(&key) || missing.contains(&key) {
            continue;
        }
        match cached(key) {
            Some(value) => {
                held.insert(key, value);
            }
            None => {
                missing.insert(key);
            }
        }
    }
    (held, missing)
}

/// Counts a lookup of this cache or the reference cache for `/metrics`.
pub(super) fn count(kind: &'static str, hit: bool) {
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
            categories: daily_score::StoredCategories::counted(&[]),
            snapshot_id: None,
            computed_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            r#final: final_,
            no_data_max_score: 0.0,
            coverage: 100.0,
            version: 1,
            stale_actions: false,
            input_seq: 0,
            license_gaps: None,
            action_set_id: 1,
        })
    }

    #[test]
    fn only_final_days_are_kept_and_a_write_evicts_them() {
        let cache = ScoreCache::new(1 << 20, Duration::from_secs(60));
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        cache.keep_days(cache.epoch(), [&day(false)]);
        assert!(cache.day("acme", date).is_none());
        cache.keep_days(cache.epoch(), [&day(true)]);
        cache.observe(&Event::ScoresWritten {
            tenants: vec!["acme".into()],
            from: date.succ_opt().unwrap(),
            to: date.succ_opt().unwrap(),
        });
        assert_eq!(
            cache.day("acme", date),
            Some(day(true)),
            "another date was written"
        );
        cache.observe(&Event::Resync);
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

    #[tokio::test(start_paused = true)]
    async fn a_day_kept_longer_than_the_ttl_is_not_found_whatever_was_kept_after_it() {
        // Moka's own expiry runs on the real clock and is far off (an hour); the per-day check
        // runs on tokio's, which this test moves.
        let cache = ScoreCache::new(1 << 20, Duration::from_secs(3600));
        cache.keep_days(cache.epoch(), [&day(true)]);
        tokio::time::advance(Duration::from_secs(2000)).await;
        let mut next = day(true).as_ref().clone();
        next.date = next.date.succ_opt().unwrap();
        cache.keep_days(cache.epoch(), [&Arc::new(next.clone())]);
        tokio::time::advance(Duration::from_secs(2000)).await;
        let both = DateRange::parse(day(true).date, next.date).unwrap();
        assert_eq!(cache.days_in("acme", both), vec![Arc::new(next)]);
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = ScoreCache::new(0, Duration::ZERO);
        cache.keep_days(cache.epoch(), [&day(true)]);
        assert!(cache.day("acme", day(true).date).is_none());
    }
}
