//! Relay-style connections with described types: edges with cursors and page info.

use async_graphql::SimpleObject;

use crate::service::pagination::Page;

/// Declares a described connection type and its edge type for one node type, beside the node
/// type (so this module depends on none of them).
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ".")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            /// The page's items with their cursors.
            pub edges: Vec<$edge>,
            /// Whether more pages exist, and the cursors that bound this one.
            pub page_info: $crate::graphql::types::connection::PageInfo,
        }

        #[doc = concat!("One of the ", $what, " and the cursor to continue after it.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to read on from this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl From<$crate::service::pagination::Page<$node>> for $connection {
            fn from(page: $crate::service::pagination::Page<$node>) -> Self {
                let page_info = $crate::graphql::types::connection::page_info(&page);
                let edges = page
                    .items
                    .into_iter()
                    .map(|(cursor, node)| $edge { cursor, node })
                    .collect();
                $connection { edges, page_info }
            }
        }
    };
}

pub(crate) use connection_types;

/// Where a page sits in the whole list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// True when items follow this page.
    pub has_next_page: bool,
    /// True when the page started after a cursor.
    pub has_previous_page: bool,
    /// Cursor of the first item.
    pub start_cursor: Option<String>,
    /// Cursor of the last item; pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// The page info of a page.
pub(crate) fn page_info<N>(page: &Page<N>) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: page.items.first().map(|(c, _)| c.clone()),
        end_cursor: page.items.last().map(|(c, _)| c.clone()),
    }
}
