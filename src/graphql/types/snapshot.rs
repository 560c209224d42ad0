//! `Snapshot`.

use async_graphql::{ID, Object};
use entity::snapshot;

use super::connection::connection_types;
use crate::graphql::scalars::{DateTime, Json};

connection_types!(SnapshotConnection, SnapshotEdge, Snapshot, "snapshots");

/// One tenant's configuration at an instant, as a collector pushed it.
pub struct Snapshot(pub snapshot::Model);

impl From<snapshot::Model> for Snapshot {
    fn from(row: snapshot::Model) -> Self {
        Snapshot(row)
    }
}

/// One tenant's configuration at an instant, as a collector pushed it.
#[Object]
impl Snapshot {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Owning tenant.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// When the configuration was captured.
    async fn captured_at(&self) -> DateTime {
        DateTime(self.0.captured_at)
    }

    /// The configuration facts.
    async fn facts(&self) -> Json {
        Json(self.0.facts.clone())
    }

    /// When the server stored the snapshot.
    async fn received_at(&self) -> DateTime {
        DateTime(self.0.received_at)
    }
}
