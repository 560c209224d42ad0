//! Relay-style connections with described types: edges with cursors and page info.

use async_graphql::SimpleObject;

use super::alerts::Alert;
use super::overrides::ActionOverride;
use super::run::ScoringRun;
use super::snapshot::Snapshot;
use super::tenant::Tenant;
use super::webhooks::WebhookDelivery;
use crate::service::pagination::Page;

/// Declares a described connection type and its edge type for one node type.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ".")]
        #[derive(SimpleObject)]
        pub struct $connection {
            /// The page's items with their cursors.
            pub edges: Vec<$edge>,
            /// Whether more pages exist, and the cursors that bound this one.
            pub page_info: PageInfo,
        }

        #[doc = concat!("One of the ", $what, " and the cursor to continue after it.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to read on from this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl From<Page<$node>> for $connection {
            fn from(page: Page<$node>) -> Self {
                let page_info = page_info(&page);
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

connection_types!(TenantConnection, TenantEdge, Tenant, "tenants");
connection_types!(SnapshotConnection, SnapshotEdge, Snapshot, "snapshots");
connection_types!(
    ScoringRunConnection,
    ScoringRunEdge,
    ScoringRun,
    "scoring runs"
);
connection_types!(
    ActionOverrideConnection,
    ActionOverrideEdge,
    ActionOverride,
    "override changes"
);
connection_types!(AlertConnection, AlertEdge, Alert, "alerts");
connection_types!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook deliveries"
);

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
fn page_info<N>(page: &Page<N>) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: page.items.first().map(|(c, _)| c.clone()),
        end_cursor: page.items.last().map(|(c, _)| c.clone()),
    }
}
