//! The name of the operation a request runs, for logs and metrics: the `operationName` sent, or
//! the name of the document's only operation when none was sent.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};

/// The operation's name: `sent` when the client named one, else the document's only
/// operation's name; `None` for an anonymous operation or an unnamed choice among several.
pub fn operation_name(document: &ExecutableDocument, sent: Option<&str>) -> Option<String> {
    if let Some(name) = sent {
        return Some(name.to_owned());
    }
    match &document.operations {
        // Named operations are listed by name; a single anonymous one has none.
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(query: &str, sent: Option<&str>) -> Option<String> {
        operation_name(&async_graphql::parser::parse_query(query).unwrap(), sent)
    }

    #[test]
    fn the_sent_name_wins_else_the_only_operation_names_itself() {
        assert_eq!(name("query A { a }", None).as_deref(), Some("A"));
        assert_eq!(
            name("query A { a } query B { b }", Some("B")).as_deref(),
            Some("B")
        );
        assert_eq!(name("query A { a } query B { b }", None), None);
        assert_eq!(name("{ a }", None), None);
    }
}
