//! Which operation of a document a request runs, decided once: the one `operationName` names,
//! or the document's only one; and its name for logs and metrics.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};

/// The operation a request selects in its document.
pub struct SelectedOperation<'d> {
    /// The operation's name as the document gives it (`None` for an anonymous one).
    pub name: Option<&'d str>,
    /// The operation itself.
    pub definition: &'d OperationDefinition,
}

/// The operation `sent` names in `document`, or its only operation when none was named;
/// `None` when the name is unknown or several operations leave the choice open (async-graphql
/// refuses such a request).
pub fn select_operation<'d>(
    document: &'d ExecutableDocument,
    sent: Option<&str>,
) -> Option<SelectedOperation<'d>> {
    match &document.operations {
        DocumentOperations::Single(operation) => Some(SelectedOperation {
            name: None,
            definition: &operation.node,
        }),
        DocumentOperations::Multiple(operations) => {
            let (name, operation) = match sent {
                Some(sent) => operations.get_key_value(sent)?,
                None if operations.len() == 1 => operations.iter().next()?,
                None => return None,
            };
            Some(SelectedOperation {
                name: Some(name.as_str()),
                definition: &operation.node,
            })
        }
    }
}

/// The operation's name for logs and metrics: `sent` when the client named one (known to the
/// document or not), else the selected operation's own name.
pub fn operation_name(
    selected: Option<&SelectedOperation<'_>>,
    sent: Option<&str>,
) -> Option<String> {
    sent.or_else(|| selected.and_then(|s| s.name))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::OperationType;

    use super::*;

    fn name(query: &str, sent: Option<&str>) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        operation_name(select_operation(&document, sent).as_ref(), sent)
    }

    fn is_mutation(query: &str, sent: Option<&str>) -> bool {
        let document = async_graphql::parser::parse_query(query).unwrap();
        select_operation(&document, sent)
            .is_some_and(|s| s.definition.ty == OperationType::Mutation)
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
        assert_eq!(name("query A { a }", Some("Z")).as_deref(), Some("Z"));
    }

    #[test]
    fn the_selected_operation_is_the_named_one_or_the_only_one() {
        assert!(is_mutation("mutation { a }", None));
        assert!(!is_mutation("{ a }", None));
        assert!(is_mutation("query Q { a } mutation M { b }", Some("M")));
        assert!(!is_mutation("query Q { a } mutation M { b }", Some("Q")));
        assert!(!is_mutation("query Q { a } mutation M { b }", None));
        assert!(!is_mutation("mutation M { b }", Some("Z")));
    }
}
