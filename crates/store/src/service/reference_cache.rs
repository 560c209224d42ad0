//! The catalog and each date's comparison averages from memory: every dashboard reads them and
//! they change rarely, only through writes that announce themselves. A catalog write or a
//! comparison refresh sends its event inside its transaction (every replica evicts when it
//! hears it) and evicts on the writing replica as soon as it commits, so a caller reads its own
//! write; whatever happens, an entry is read again after `--score-cache-ttl`. A read keeps what
//! it loaded only when no eviction happened meanwhile (an epoch check), so a value read just
//! before a write committed is never kept after it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use entity::{comparative_score, improvement_action};
use moka::sync::Cache;

use super::epoch::Epoch;
use super::score_cache::count;
use crate::events::Event;

/// Every catalog entry by id, as one read saw them.
pub type Catalog = HashMap<String, Arc<improvement_action::Model>>;

/// Dates whose comparison rows are kept at once.
const COMPARISON_DATES: u64 = 64;

/// The catalog and comparison cache of one replica.
pub struct ReferenceCache {
    catalog: Cache<(), Arc<Catalog>>,
    comparisons: Cache<NaiveDate, Arc<Vec<comparative_score::Model>>>,
    epoch: Epoch,
}

impl ReferenceCache {
    /// An empty cache whose entries are read again after `ttl` at the latest.
    pub fn new(ttl: Duration) -> Arc<ReferenceCache> {
        Arc::new(ReferenceCache {
            catalog: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
            comparisons: Cache::builder()
                .max_capacity(COMPARISON_DATES)
                .time_to_live(ttl)
                .build(),
            epoch: Epoch::default(),
        })
    }

    /// The catalog, read with `load` when it is not held.
    pub async fn catalog<E, F>(&self, load: impl FnOnce() -> F) -> Result<Arc<Catalog>, E>
    where
        F: Future<Output = Result<Catalog, E>>,
    {
        self.get_or_load(&self.catalog, (), "catalog", load).await
    }

    /// The comparison rows of `date`, read with `load` when they are not held.
    pub async fn comparisons<E, F>(
        &self,
        date: NaiveDate,
        load: impl FnOnce() -> F,
    ) -> Result<Arc<Vec<comparative_score::Model>>, E>
    where
        F: Future<Output = Result<Vec<comparative_score::Model>, E>>,
    {
        self.get_or_load(&self.comparisons, date, "comparisons", load)
            .await
    }

    async fn get_or_load<K, V, E, F>(
        &self,
        cache: &Cache<K, Arc<V>>,
        key: K,
        kind: &'static str,
        load: impl FnOnce() -> F,
    ) -> Result<Arc<V>, E>
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
        V: Send + Sync + 'static,
        F: Future<Output = Result<V, E>>,
    {
        if let Some(found) = cache.get(&key) {
            count(kind, true);
            return Ok(found);
        }
        count(kind, false);
        let started = self.epoch.current();
        let value = Arc::new(load().await?);
        // Kept only if nothing was evicted while it was read.
        self.epoch
            .keep_if_unchanged(started, || cache.insert(key, Arc::clone(&value)));
        Ok(value)
    }

    /// Applies an event: a catalog change or a refreshed date evicts what it changed; a
    /// resynchronisation empties the cache.
    pub fn observe(&self, event: &Event) {
        match event {
            Event::CatalogChanged => self.epoch.evict(|| self.catalog.invalidate_all()),
            Event::ComparisonsRefreshed { date } => {
                self.epoch.evict(|| self.comparisons.invalidate(date));
            }
            Event::Resync => self.epoch.evict(|| {
                self.catalog.invalidate_all();
                self.comparisons.invalidate_all();
            }),
            Event::ScoresWritten { .. }
            | Event::AlertRaised { .. }
            | Event::RunUpdated { .. }
            | Event::Marker { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str) -> Catalog {
        let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let row = improvement_action::Model {
            id: "mfa".into(),
            title: title.into(),
            description: None,
            category: crate::domain::ActionCategory::Identity,
            max_score: 10.0,
            rule: serde_json::json!({}),
            scored: true,
            deprecated: false,
            user_impact: None,
            implementation_cost: None,
            remediation: None,
            action_url: None,
            tier: None,
            action_type: None,
            threats: None,
            compliance: None,
            built_in_version: None,
            requires_licenses: None,
            created_at: now,
            updated_at: now,
        };
        HashMap::from([("mfa".to_owned(), Arc::new(row))])
    }

    async fn title(cache: &ReferenceCache, loaded: &str) -> String {
        let loaded = loaded.to_owned();
        let catalog = cache
            .catalog(|| async move { Ok::<_, ()>(entry(&loaded)) })
            .await
            .unwrap();
        catalog["mfa"].title.clone()
    }

    #[tokio::test]
    async fn the_catalog_is_read_once_until_a_change_evicts_it() {
        let cache = ReferenceCache::new(Duration::from_secs(60));
        assert_eq!(title(&cache, "first").await, "first");
        assert_eq!(title(&cache, "second").await, "first");
        cache.observe(&Event::CatalogChanged);
        assert_eq!(title(&cache, "third").await, "third");
    }

    #[tokio::test]
    async fn a_read_that_straddles_an_eviction_keeps_nothing() {
        let cache = ReferenceCache::new(Duration::from_secs(60));
        let read = cache
            .catalog(|| async {
                // The write commits and is heard while this read is under way.
                cache.observe(&Event::CatalogChanged);
                Ok::<_, ()>(entry("before the write"))
            })
            .await
            .unwrap();
        assert_eq!(read["mfa"].title, "before the write");
        assert_eq!(title(&cache, "after the write").await, "after the write");
    }

    #[tokio::test]
    async fn a_refresh_evicts_its_date_only() {
        let cache = ReferenceCache::new(Duration::from_secs(60));
        let (one, two) = (
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        );
        let rows = |n: usize| async move {
            Ok::<_, ()>(vec![comparative_score::Model {
                id: n as i64,
                date: one,
                basis: crate::domain::ComparisonBasis::AllTenants,
                group_key: "all".into(),
                tenant_count: 1,
                average_score: 1.0,
                average_percentage: 1.0,
                computed_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            }])
        };
        cache.comparisons(one, || rows(1)).await.unwrap();
        cache.comparisons(two, || rows(2)).await.unwrap();
        cache.observe(&Event::ComparisonsRefreshed { date: one });
        assert_eq!(cache.comparisons(one, || rows(3)).await.unwrap()[0].id, 3);
        assert_eq!(cache.comparisons(two, || rows(4)).await.unwrap()[0].id, 2);
    }
}
