//! API shapes, built from entities with `From`, so no column reaches the schema by accident.

pub mod action;
pub mod comparison;
pub mod diff;
pub mod overrides;
pub mod score;
pub mod snapshot;
pub mod tenant;
pub mod viewer;

use async_graphql::connection::{Connection, Edge};
use async_graphql::OutputType;

use crate::service::pagination::Page;

/// Turns a service page into a Relay connection of API nodes.
pub fn connection<Row, Node: OutputType>(page: Page<Row>, node: impl Fn(Row) -> Node) -> Connection<String, Node> {
    let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
    connection
        .edges
        .extend(page.items.into_iter().map(|(cursor, row)| Edge::new(cursor, node(row))));
    connection
}
