//! ingestSnapshot (COLLECTOR, GLOBAL_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::SubsecRound;

use crate::auth::Operation;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::scalars::{DateTime, Json};
use crate::graphql::types::snapshot::Snapshot;
use crate::pipeline::LiveRequest;
use crate::service::snapshots::{self, SnapshotInput};
use crate::service::tenants;

/// A configuration snapshot.
#[derive(InputObject)]
pub struct IngestSnapshotInput {
    /// The tenant the snapshot describes.
    pub tenant_id: ID,
    /// When the configuration was captured (RFC 3339; stored to the microsecond).
    pub captured_at: DateTime,
    /// The facts: a JSON object of at most 256 KiB.
    pub facts: Json,
    /// Sending the same key again returns the first snapshot and stores nothing.
    pub idempotency_key: Option<String>,
}

/// Snapshot ingestion.
#[derive(Default)]
pub struct SnapshotMutation;

#[Object]
impl SnapshotMutation {
    /// Stores a configuration snapshot (COLLECTOR, GLOBAL_ADMIN); today's score follows it
    /// within seconds.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn ingest_snapshot(
        &self,
        ctx: &Context<'_>,
        input: IngestSnapshotInput,
    ) -> async_graphql::Result<Snapshot> {
        ctx.viewer()?
            .require_on_tenant(Operation::IngestSnapshot, &input.tenant_id)?;
        let db = ctx.db()?;
        if tenants::find_tenant(db, &input.tenant_id).await?.is_none() {
            return Err(ApiError::tenant_not_found(&input.tenant_id).into());
        }
        let snapshot = snapshots::ingest_snapshot(
            db,
            SnapshotInput {
                tenant_id: input.tenant_id.0,
                captured_at: input.captured_at.0.trunc_subsecs(6),
                facts: input.facts.0,
                idempotency_key: input.idempotency_key,
            },
        )
        .await?;
        ctx.pipeline()?
            .rescore_today(LiveRequest::Tenants(vec![snapshot.tenant_id.clone()]));
        Ok(snapshot.into())
    }
}
