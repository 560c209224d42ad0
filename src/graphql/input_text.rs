//! One guard for every string a request brings in, in variables and in literal arguments of
//! any field: NUL and the other control characters (but tab, line feed and carriage return, for
//! free text such as comments) are BAD_USER_INPUT naming where they were, before anything
//! reaches a resolver or the database (PostgreSQL refuses NUL in text; SQLite would store it, and
//! the two would disagree). Object keys count too, so a fact named with a NUL is refused.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{ServerError, ServerResult, Value, Variables};

use crate::domain::forbidden_character;
use crate::error::code;

/// Refuses control characters in a request's variables and in the literal arguments of its
/// document (every operation and fragment).
pub fn check_input_text(document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
    for (name, value) in variables.iter() {
        check_value(&format!("${name}"), value)?;
    }
    let sets: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(operation) => vec![&operation.node.selection_set.node],
        DocumentOperations::Multiple(operations) => operations
            .values()
            .map(|operation| &operation.node.selection_set.node)
            .collect(),
    };
    for set in sets.into_iter().chain(
        document
            .fragments
            .values()
            .map(|f| &f.node.selection_set.node),
    ) {
        check_selection_set(set)?;
    }
    Ok(())
}

fn check_selection_set(set: &SelectionSet) -> ServerResult<()> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    let at = format!("{}.{}", field.node.name.node, name.node);
                    if let Some(value) = value.node.clone().into_const() {
                        check_value(&at, &value)?;
                    }
                }
                check_selection_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => {
                check_selection_set(&fragment.node.selection_set.node)?;
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

/// Refuses `value` (at `at`) when a string or object key in it holds a forbidden character.
fn check_value(at: &str, value: &Value) -> ServerResult<()> {
    match value {
        Value::String(text) => check_text(at, text),
        Value::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_value(&format!("{at}[{i}]"), item)),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            let at = format!("{at}.{key}");
            check_text(&at, key.as_str())?;
            check_value(&at, item)
        }),
        _ => Ok(()),
    }
}

fn check_text(at: &str, text: &str) -> ServerResult<()> {
    match forbidden_character(text) {
        None => Ok(()),
        Some(c) => {
            let printable: String = at.chars().filter(|c| !c.is_control()).collect();
            let mut error = ServerError::new(
                format!(
                    "`{printable}` contains the control character U+{:04X}; control characters \
                     other than tab and line breaks are refused",
                    c as u32
                ),
                None,
            );
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code::BAD_USER_INPUT);
            error.extensions = Some(extensions);
            Err(error)
        }
    }
}
