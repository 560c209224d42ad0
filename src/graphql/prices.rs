//! The prices of requests already priced: a dashboard sends the same few documents with the
//! same variables over and over, and working a price out is a validation pass over the whole
//! document. A price depends on the document, the operation chosen and the variables (a page's
//! `first`, a history's dates), so all three make the key. Only prices of requests that
//! validated and paid are kept, and the cache is bounded by the bytes of its keys.

use async_graphql::Request;
use moka::sync::Cache;

/// Bytes of keys held at most.
const MAX_KEY_BYTES: u64 = 8 << 20;
/// Longest key kept: a larger request is priced every time rather than pushing out the many
/// small ones dashboards repeat.
const MAX_CACHED_KEY_BYTES: usize = 64 * 1024;

/// The price cache of one schema.
#[derive(Clone)]
pub struct Prices {
    prices: Cache<String, u64>,
}

impl Default for Prices {
    /// An empty cache.
    fn default() -> Self {
        Prices {
            prices: Cache::builder()
                .max_capacity(MAX_KEY_BYTES)
                .weigher(|key: &String, _| u32::try_from(key.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl Prices {
    /// The key of `request`: its operation name, its variables and its document.
    pub fn key(request: &Request) -> String {
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        let operation = request.operation_name.as_deref().unwrap_or_default();
        format!("{operation}\u{0}{variables}\u{0}{}", request.query)
    }

    /// The price of the request with `key`, when it was priced before.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.prices.get(key)
    }

    /// Keeps the price of the request with `key`.
    pub fn keep(&self, key: String, price: u64) {
        if key.len() <= MAX_CACHED_KEY_BYTES {
            self.prices.insert(key, price);
            // Moka applies inserts lazily; a burst of new requests must not sit in memory
            // past the bound until the next housekeeping.
            self.prices.run_pending_tasks();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_document_with_other_variables_or_another_operation_has_its_own_price() {
        let request = |first: i64, operation: Option<&str>| {
            let mut request =
                Request::new("query A($n: Int) { tenants(first: $n) { totalCount } }").variables(
                    async_graphql::Variables::from_json(serde_json::json!({"n": first})),
                );
            request.operation_name = operation.map(str::to_owned);
            Prices::key(&request)
        };
        let prices = Prices::default();
        prices.keep(request(10, None), 21);
        assert_eq!(prices.get(&request(10, None)), Some(21));
        assert_eq!(prices.get(&request(50, None)), None);
        assert_eq!(prices.get(&request(10, Some("A"))), None);
        let huge = "x".repeat(MAX_CACHED_KEY_BYTES + 1);
        prices.keep(huge.clone(), 1);
        assert_eq!(prices.get(&huge), None);
    }
}
