//! Who changed it: the directory audit events a collection kept (those that can move a
//! built-in action), one row per tenant and event id, and on each connection the time the
//! next collection reads the audit log from.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};
use crate::m20261125_000001_create_catalog_and_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryChanges::Table)
                    .col(string(DirectoryChanges::TenantId))
                    .col(string(DirectoryChanges::EventId))
                    .col(timestamp_with_time_zone(DirectoryChanges::At))
                    .col(string(DirectoryChanges::Activity))
                    .col(string(DirectoryChanges::Category))
                    .col(string_null(DirectoryChanges::Result))
                    .col(string_null(DirectoryChanges::InitiatedBy))
                    .col(json(DirectoryChanges::Targets))
                    .primary_key(
                        Index::create()
                            .col(DirectoryChanges::TenantId)
                            .col(DirectoryChanges::EventId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_directory_changes_tenant")
                            .from(DirectoryChanges::Table, DirectoryChanges::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A tenant's events between two instants, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_directory_changes_tenant_at")
                    .table(DirectoryChanges::Table)
                    .col(DirectoryChanges::TenantId)
                    .col(DirectoryChanges::At)
                    .to_owned(),
            )
            .await?;
        add_column(
            manager,
            GraphConnections::Table,
            timestamp_with_time_zone_null(GraphConnections::AuditReadFrom),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(
            manager,
            GraphConnections::Table,
            GraphConnections::AuditReadFrom,
        )
        .await?;
        manager
            .drop_table(Table::drop().table(DirectoryChanges::Table).to_owned())
            .await
    }
}

/// The kept audit events.
#[derive(DeriveIden)]
enum DirectoryChanges {
    Table,
    TenantId,
    EventId,
    At,
    Activity,
    Category,
    Result,
    InitiatedBy,
    Targets,
}

/// The connections, which gain where the next audit read starts.
#[derive(DeriveIden)]
enum GraphConnections {
    Table,
    AuditReadFrom,
}
