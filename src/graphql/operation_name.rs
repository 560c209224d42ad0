//! The name of the operation a request runs, for logs and metrics: the `operationName` sent, or
//! the name of the document's only operation when none was sent.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{ServerResult, Variables};

/// Where the extension leaves the name; put one in the request's data to read it afterwards.
#[derive(Clone, Default)]
pub struct OperationName(Arc<Mutex<Option<String>>>);

impl OperationName {
    /// The name, once the document was parsed; `None` for an anonymous operation.
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|name| name.clone())
    }
}

/// Fills the request's `OperationName` when its document is parsed.
pub struct NameOperations;

impl ExtensionFactory for NameOperations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NameOperations)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NameOperations {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(slot) = ctx.data_opt::<OperationName>()
            && let Ok(mut name) = slot.0.lock()
            && name.is_none()
            && let DocumentOperations::Multiple(operations) = &document.operations
            && operations.len() == 1
        {
            // Named operations are listed by name; a single anonymous one has none.
            *name = operations.keys().next().map(|n| n.to_string());
        }
        Ok(document)
    }
}

impl OperationName {
    /// A slot already holding the name the client sent.
    pub fn sent(name: Option<&str>) -> Self {
        OperationName(Arc::new(Mutex::new(name.map(str::to_owned))))
    }
}
