//! Responses in the query's order. async-graphql resolves a query's fields concurrently and
//! keeps them in the order they finish, while the GraphQL specification orders a response's
//! fields as the selection set orders them (fragments expanded in place, the first occurrence of
//! a response key deciding its position). A plan made from the parsed document before the request
//! runs puts every object of the response back in that order.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// The order of a response's fields, planned from the request's document before it runs.
pub struct ResponseOrder(FieldOrder);

impl ResponseOrder {
    /// The plan for `selection`, the selected operation's selection set in `document`.
    pub fn plan(document: &ExecutableDocument, selection: &SelectionSet) -> Self {
        ResponseOrder(FieldOrder::new(&[selection], document))
    }

    /// Puts `data`'s fields (and their objects', recursively) in the planned order.
    pub fn apply(&self, data: &mut Value) {
        self.0.apply(data);
    }
}

/// The order of one selection's response keys, and of each key's own selection: worked out once
/// from the document, then applied to every object answering it (every item of a list alike).
struct FieldOrder {
    /// Response keys in order of first appearance.
    keys: Vec<Name>,
    /// The order inside each key's value, by position in `keys`.
    nested: Vec<FieldOrder>,
}

impl FieldOrder {
    fn new(selections: &[&SelectionSet], document: &ExecutableDocument) -> FieldOrder {
        let mut keys = Vec::new();
        let mut seen_fragments = HashSet::new();
        for selection in selections {
            collect_keys(selection, document, &mut keys, &mut seen_fragments);
        }
        let nested = keys
            .iter()
            .map(|key| FieldOrder::new(&sub_selections(key, selections, document), document))
            .collect();
        FieldOrder { keys, nested }
    }

    fn position(&self, key: &Name) -> usize {
        self.keys
            .iter()
            .position(|k| k == key)
            .unwrap_or(usize::MAX)
    }

    fn apply(&self, value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item);
                }
            }
            Value::Object(fields) => {
                let in_order = fields.keys().map(|k| self.position(k)).is_sorted();
                if !in_order {
                    // A stable sort: anything not in the document (none in practice) stays last.
                    fields.sort_by(|a, _, b, _| self.position(a).cmp(&self.position(b)));
                }
                for (key, order) in self.keys.iter().zip(&self.nested) {
                    if !order.keys.is_empty()
                        && let Some(field) = fields.get_mut(key)
                    {
                        order.apply(field);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The response keys of a selection set in order of first appearance, fragments expanded.
fn collect_keys(
    selection_set: &SelectionSet,
    document: &ExecutableDocument,
    keys: &mut Vec<Name>,
    seen_fragments: &mut HashSet<Name>,
) {
    for_each_field(selection_set, document, seen_fragments, &mut |field| {
        let key = field.response_key().node.clone();
        if !keys.contains(&key) {
            keys.push(key);
        }
    });
}

/// The selection sets of every field answering to `key` in `selections` (fields with the same
/// response key are merged, as the specification's field merging says).
fn sub_selections<'d>(
    key: &Name,
    selections: &[&'d SelectionSet],
    document: &'d ExecutableDocument,
) -> Vec<&'d SelectionSet> {
    let mut found = Vec::new();
    let mut seen_fragments = HashSet::new();
    for selection in selections {
        for_each_field(selection, document, &mut seen_fragments, &mut |field| {
            if field.response_key().node == *key {
                found.push(&field.selection_set.node);
            }
        });
    }
    found
}

/// Calls `visit` on every field of a selection set in order, inline fragments and fragment
/// spreads expanded in place (each named fragment once).
fn for_each_field<'d>(
    selection_set: &'d SelectionSet,
    document: &'d ExecutableDocument,
    seen_fragments: &mut HashSet<Name>,
    visit: &mut impl FnMut(&'d Field),
) {
    for selection in &selection_set.items {
        match &selection.node {
            Selection::Field(field) => visit(&field.node),
            Selection::InlineFragment(fragment) => {
                for_each_field(
                    &fragment.node.selection_set.node,
                    document,
                    seen_fragments,
                    visit,
                );
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.clone();
                if seen_fragments.insert(name.clone())
                    && let Some(fragment) = document.fragments.get(&name)
                {
                    for_each_field(
                        &fragment.node.selection_set.node,
                        document,
                        seen_fragments,
                        visit,
                    );
                }
            }
        }
    }
}
