//! Parsed documents by their text: a dashboard sends the same few documents over and over,
//! and parsing (async-graphql's pest grammar) was the largest single cost of answering one. Only
//! documents that parsed within the limits are kept (a refusal is worked out again, and costs
//! the sender); the cache is bounded by the bytes of the texts it holds.

use std::sync::Arc;

use async_graphql::ServerResult;
use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;

use super::document_limits::parse_within_limits;

/// Bytes of document text held at most.
const MAX_TEXT_BYTES: u64 = 8 << 20;
/// Longest document kept: a larger one is parsed every time rather than pushing out the many
/// small documents dashboards repeat.
const MAX_CACHED_TEXT_BYTES: usize = 64 * 1024;

/// The parse cache of one schema.
#[derive(Clone)]
pub struct ParsedDocuments {
    documents: Cache<Arc<str>, Arc<ExecutableDocument>>,
    max_fields: usize,
}

impl ParsedDocuments {
    /// An empty cache for documents within `max_fields`.
    pub fn new(max_fields: usize) -> Self {
        ParsedDocuments {
            documents: Cache::builder()
                .max_capacity(MAX_TEXT_BYTES)
                .weigher(|text: &Arc<str>, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
            max_fields,
        }
    }

    /// `query` parsed and checked against the limits, from the cache when it was seen before.
    pub fn parse(&self, query: &str) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.documents.get(query) {
            return Ok(document.as_ref().clone());
        }
        let document = parse_within_limits(query, self.max_fields)?;
        if query.len() <= MAX_CACHED_TEXT_BYTES {
            self.documents
                .insert(Arc::from(query), Arc::new(document.clone()));
            // Moka applies inserts (and evicts past the bound) lazily; a burst of new documents
            // must not sit in memory past the bound until the next housekeeping.
            self.documents.run_pending_tasks();
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_parses_the_same_from_the_cache_and_a_refusal_is_never_kept() {
        let cache = ParsedDocuments::new(3);
        let query = "{ viewer { subject roles } }";
        let first = cache.parse(query).unwrap();
        assert!(cache.documents.get(query).is_some());
        assert_eq!(
            format!("{:?}", cache.parse(query).unwrap()),
            format!("{first:?}")
        );
        let too_many = "{ viewer { subject roles tenants issuer } }";
        assert!(cache.parse(too_many).is_err());
        assert!(cache.parse(too_many).is_err());
        assert!(cache.documents.get(too_many).is_none());
    }
}
