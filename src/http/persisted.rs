//! Automatic persisted queries (Apollo's protocol): a client sends a query's SHA-256 in
//! `extensions.persistedQuery.sha256Hash`, alone once the server knows it (so reads can go by
//! GET and be cached by HTTP caches), with the query the first time.
//!
//! Each replica keeps its own bounded cache (moka, like the closed days): a hash unknown to the
//! replica that answers is PERSISTED_QUERY_NOT_FOUND, and the client sends the query with its
//! hash again.

use moka::sync::Cache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Bytes of query text one replica remembers (hashes included), as the parse cache bounds its
/// documents: the least recently used go first.
pub const CACHE_BYTES: u64 = 8 << 20;

/// The queries this replica has seen with their hashes.
pub struct PersistedQueries(Cache<String, String>);

/// Why a request's query could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum PersistedQueryError {
    /// The hash is not known here: send the query along with it.
    NotFound,
    /// The request is malformed (a bad extension, a hash that does not match, no query).
    Invalid(String),
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries(
            Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|hash: &String, query: &String| {
                    u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                })
                .build(),
        )
    }
}

impl PersistedQueries {
    /// The query to run: the one sent (remembered under its hash when a hash came with it), or
    /// the one remembered for the hash sent alone.
    pub fn resolve(
        &self,
        query: Option<String>,
        extensions: Option<&Map<String, Value>>,
    ) -> Result<String, PersistedQueryError> {
        let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
            return query.ok_or_else(|| PersistedQueryError::Invalid("`query` is required".into()));
        };
        let version = persisted.get("version").and_then(Value::as_i64);
        if version != Some(1) {
            return Err(PersistedQueryError::Invalid(
                "extensions.persistedQuery.version must be 1".into(),
            ));
        }
        let Some(hash) = persisted
            .get("sha256Hash")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Err(PersistedQueryError::Invalid(
                "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits".into(),
            ));
        };
        let hash = hash.to_ascii_lowercase();
        match query {
            Some(query) => {
                if format!("{:x}", Sha256::digest(query.as_bytes())) != hash {
                    return Err(PersistedQueryError::Invalid(
                        "provided sha does not match query".into(),
                    ));
                }
                self.0.insert(hash, query.clone());
                // Moka applies inserts (and evicts past the bound) lazily: a burst of large
                // registrations must not sit in memory past the bound until housekeeping.
                self.0.run_pending_tasks();
                Ok(query)
            }
            None => self.0.get(&hash).ok_or(PersistedQueryError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_queries_held_are_bounded_by_bytes_not_entries() {
        let cache = PersistedQueries::default();
        for n in 0..40 {
            let query = format!("{{ viewer {{ subject }} }} #{n}{}", " ".repeat(1 << 20));
            let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
            let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
            cache.resolve(Some(query), extensions.as_object()).unwrap();
        }
        cache.0.run_pending_tasks();
        let held: u64 = cache
            .0
            .iter()
            .map(|(h, q)| (h.len() + q.len()) as u64)
            .sum();
        assert!(held <= CACHE_BYTES, "{held} bytes of queries held");
        assert!(
            held > CACHE_BYTES / 2,
            "{held} bytes: the cache still serves"
        );
    }

    fn extension(hash: &str) -> Map<String, Value> {
        json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn a_query_sent_once_with_its_hash_is_found_by_the_hash_alone() {
        let cache = PersistedQueries::default();
        let query = "{ viewer { subject } }";
        let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
        assert_eq!(
            cache.resolve(None, Some(&extension(&hash))),
            Err(PersistedQueryError::NotFound)
        );
        assert_eq!(
            cache.resolve(Some(query.into()), Some(&extension(&hash))),
            Ok(query.to_owned())
        );
        assert_eq!(
            cache.resolve(None, Some(&extension(&hash))),
            Ok(query.to_owned())
        );
        let wrong = "0".repeat(64);
        assert!(matches!(
            cache.resolve(Some(query.into()), Some(&extension(&wrong))),
            Err(PersistedQueryError::Invalid(_))
        ));
        assert!(matches!(
            cache.resolve(None, None),
            Err(PersistedQueryError::Invalid(_))
        ));
    }
}
