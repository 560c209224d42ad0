//! Directory connections (Microsoft Graph) and their collections. At most one collection per
//! tenant is queued or running at a time, enforced by a partial unique index, so two replicas
//! (or a scheduled collection and `collectNow`) never collect one tenant at once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One queued or running collection per tenant.
const ONE_ACTIVE_COLLECTION: &str = "CREATE UNIQUE INDEX idx_collection_runs_one_active \
    ON collection_runs (tenant_id) WHERE status IN ('QUEUED', 'RUNNING')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GraphConnections::Table)
                    .col(string(GraphConnections::TenantId).primary_key())
                    .col(string(GraphConnections::DirectoryId))
                    .col(string(GraphConnections::ClientId))
                    .col(string(GraphConnections::CredentialKind))
                    .col(text(GraphConnections::Credential))
                    .col(boolean(GraphConnections::Enabled))
                    .col(string(GraphConnections::Status))
                    .col(timestamp_with_time_zone_null(
                        GraphConnections::LastCollectedAt,
                    ))
                    .col(text_null(GraphConnections::LastError))
                    .col(json(GraphConnections::MissingPermissions))
                    .col(timestamp_with_time_zone(GraphConnections::NextCollectAt))
                    .col(timestamp_with_time_zone(GraphConnections::CreatedAt))
                    .col(timestamp_with_time_zone(GraphConnections::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_graph_connections_tenant")
                            .from(GraphConnections::Table, GraphConnections::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Every replica looks for due connections at every poll.
        manager
            .create_index(
                Index::create()
                    .name("idx_graph_connections_next_collect_at")
                    .table(GraphConnections::Table)
                    .col(GraphConnections::NextCollectAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CollectionRuns::Table)
                    .col(big_pk_auto(CollectionRuns::Id))
                    .col(string(CollectionRuns::TenantId))
                    .col(string(CollectionRuns::Status))
                    .col(string_null(CollectionRuns::RequestedBy))
                    .col(timestamp_with_time_zone(CollectionRuns::CreatedAt))
                    .col(timestamp_with_time_zone_null(CollectionRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(CollectionRuns::FinishedAt))
                    .col(big_integer_null(CollectionRuns::SnapshotId))
                    .col(json(CollectionRuns::Endpoints))
                    .col(string_null(CollectionRuns::ClaimToken))
                    .col(string_null(CollectionRuns::ClaimedBy))
                    .col(timestamp_with_time_zone_null(CollectionRuns::LeaseUntil))
                    .col(integer(CollectionRuns::Attempts))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_collection_runs_tenant")
                            .from(CollectionRuns::Table, CollectionRuns::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collection_runs_tenant")
                    .table(CollectionRuns::Table)
                    .col(CollectionRuns::TenantId)
                    .col(CollectionRuns::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collection_runs_status")
                    .table(CollectionRuns::Table)
                    .col(CollectionRuns::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(ONE_ACTIVE_COLLECTION)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CollectionRuns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(GraphConnections::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum GraphConnections {
    Table,
    TenantId,
    DirectoryId,
    ClientId,
    CredentialKind,
    Credential,
    Enabled,
    Status,
    LastCollectedAt,
    LastError,
    MissingPermissions,
    NextCollectAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CollectionRuns {
    Table,
    Id,
    TenantId,
    Status,
    RequestedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
    SnapshotId,
    Endpoints,
    ClaimToken,
    ClaimedBy,
    LeaseUntil,
    Attempts,
}
