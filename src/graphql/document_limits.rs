//! Bounds a query document before async-graphql walks it: the number of fields it selects
//! (aliases included, fragments expanded) and how deeply fragments and selections nest.
//!
//! async-graphql's own depth and complexity checks expand every fragment spread as they go,
//! so a few hundred bytes of fragments that each spread the next one twice make them visit
//! billions of nodes. This check counts each fragment once, so its cost is linear in the
//! document, and it refuses such documents before anything else looks at them.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult};
use std::collections::{HashMap, HashSet};

/// Deepest nesting of selections and fragment spreads the count follows, counted as
/// async-graphql counts its default recursion limit of 32, which refuses deeper ones anyway.
const MAX_NESTING: usize = 32;

/// Why a document was refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// More fields than allowed.
    TooManyFields,
    /// Selections or fragments nest deeper than `MAX_NESTING`.
    TooDeep,
}

/// Counts the fields a document selects once fragments are expanded, each fragment's
/// count computed once.
struct FieldCounter<'a> {
    document: &'a ExecutableDocument,
    max_fields: u64,
    fragment_counts: HashMap<&'a str, u64>,
    expanding: HashSet<&'a str>,
}

impl<'a> FieldCounter<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, nesting: usize) -> Result<u64, Refusal> {
        if nesting > MAX_NESTING {
            return Err(Refusal::TooDeep);
        }
        let mut total: u64 = 0;
        for selection in &set.items {
            let count = match &selection.node {
                Selection::Field(field) => {
                    let inner = &field.node.selection_set.node;
                    1 + if inner.items.is_empty() {
                        0
                    } else {
                        self.selection_set(inner, nesting + 1)?
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node, nesting + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), nesting + 1)?
                }
            };
            total = total.saturating_add(count);
            if total > self.max_fields {
                return Err(Refusal::TooManyFields);
            }
        }
        Ok(total)
    }

    /// A fragment's expanded count; unknown and cyclic spreads count nothing here and are
    /// reported by validation.
    fn fragment(&mut self, name: &'a str, nesting: usize) -> Result<u64, Refusal> {
        if let Some(count) = self.fragment_counts.get(name) {
            return Ok(*count);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(0);
        };
        if !self.expanding.insert(name) {
            return Ok(0);
        }
        let count = self.selection_set(&fragment.node.selection_set.node, nesting);
        self.expanding.remove(name);
        let count = count?;
        self.fragment_counts.insert(name, count);
        Ok(count)
    }
}

/// Checks that all operations of `document` together select at most `max_fields` fields.
fn check_document(document: &ExecutableDocument, max_fields: usize) -> Result<(), Refusal> {
    let mut counter = FieldCounter {
        document,
        max_fields: max_fields as u64,
        fragment_counts: HashMap::new(),
        expanding: HashSet::new(),
    };
    let mut total: u64 = 0;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.selection_set(&operation.node.selection_set.node, 0)?);
        if total > counter.max_fields {
            return Err(Refusal::TooManyFields);
        }
    }
    Ok(())
}

/// A syntax error with pest's echo of the offending line dropped: the location is already in
/// `locations`, and echoing a long single-line query would return it whole.
fn syntax_error(err: async_graphql::parser::Error) -> ServerError {
    let position = err.positions().next();
    let reason = match &err {
        async_graphql::parser::Error::Syntax { message, .. } => message
            .lines()
            .last()
            .and_then(|line| line.trim().strip_prefix("= "))
            .map(str::to_owned)
            .unwrap_or_else(|| "invalid syntax".to_owned()),
        other => other.to_string(),
    };
    ServerError::new(format!("syntax error: {reason}"), position)
}

/// Parses a request's document and refuses it when it selects more than `max_fields` fields
/// (aliases included, fragments expanded) or nests too deeply.
pub fn parse_within_limits(query: &str, max_fields: usize) -> ServerResult<ExecutableDocument> {
    let document = async_graphql::parser::parse_query(query).map_err(syntax_error)?;
    check_document(&document, max_fields).map_err(|refusal| match refusal {
        Refusal::TooManyFields => ServerError::new(
            format!(
                "the query selects more than {max_fields} fields (aliases included, fragments \
                 expanded)"
            ),
            None,
        ),
        Refusal::TooDeep => ServerError::new(
            format!("selections and fragments nest more than {MAX_NESTING} levels deep"),
            None,
        ),
    })?;
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, max_fields: usize) -> Result<(), Refusal> {
        check_document(
            &async_graphql::parser::parse_query(query).unwrap(),
            max_fields,
        )
    }

    /// `levels` fragments, each spreading the next twice: 2^levels fields in a few lines.
    fn fragment_bomb(levels: usize) -> String {
        let mut query = "{ ...F0 }\n".to_owned();
        for i in 0..levels {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str(&format!(
            "fragment F{levels} on Query {{ a: __typename }}\n"
        ));
        query
    }

    #[test]
    fn fields_aliases_and_inline_fragments_are_counted() {
        assert_eq!(check("{ a b { c d } }", 4), Ok(()));
        assert_eq!(check("{ a b { c d } }", 3), Err(Refusal::TooManyFields));
        assert_eq!(check("{ x: a y: a z: a }", 2), Err(Refusal::TooManyFields));
        assert_eq!(
            check("{ ... on Query { a b } }", 1),
            Err(Refusal::TooManyFields)
        );
    }

    #[test]
    fn every_operation_of_the_document_counts() {
        assert_eq!(check("query A { a } query B { b }", 2), Ok(()));
        assert_eq!(
            check("query A { a } query B { b }", 1),
            Err(Refusal::TooManyFields)
        );
    }

    #[test]
    fn fragments_count_once_per_spread_without_being_walked_again() {
        assert_eq!(check(&fragment_bomb(3), 8), Ok(()));
        assert_eq!(check(&fragment_bomb(3), 7), Err(Refusal::TooManyFields));
        assert_eq!(check(&fragment_bomb(30), 1000), Err(Refusal::TooManyFields));
    }

    #[test]
    fn long_fragment_chains_and_cycles_are_bounded() {
        let mut chain = "{ ...F0 }\n".to_owned();
        for i in 0..10_000 {
            chain.push_str(&format!("fragment F{i} on Query {{ a ...F{} }}\n", i + 1));
        }
        assert_eq!(check(&chain, usize::MAX), Err(Refusal::TooDeep));
        assert_eq!(
            check(
                "{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }",
                10
            ),
            Ok(())
        );
    }

    #[test]
    fn syntax_errors_name_the_reason_without_echoing_the_query() {
        let long = format!("{{ a {} !!! }}", "b ".repeat(10_000));
        let err = syntax_error(async_graphql::parser::parse_query(&long).unwrap_err());
        assert!(
            err.message.starts_with("syntax error: expected"),
            "{}",
            err.message
        );
        assert!(err.message.len() < 200, "{}", err.message);
        assert_eq!(err.locations.len(), 1);
    }
}
