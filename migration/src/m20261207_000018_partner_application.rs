//! One partner application for many tenants: the installation's multi-tenant app registration
//! (one row, its credential sealed), and on each connection whether it signs in as that
//! application, when the directory's admin consented to it, and what Microsoft said when one
//! did not.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerApplications::Table)
                    .col(integer(PartnerApplications::Id).primary_key())
                    .col(string(PartnerApplications::ClientId))
                    .col(string(PartnerApplications::CredentialKind))
                    .col(text(PartnerApplications::Credential))
                    .col(timestamp_with_time_zone(PartnerApplications::CreatedAt))
                    .col(timestamp_with_time_zone(PartnerApplications::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        add_column(
            manager,
            GraphConnections::Table,
            boolean(GraphConnections::UsesPartnerApplication)
                .default(false)
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            GraphConnections::Table,
            timestamp_with_time_zone_null(GraphConnections::ConsentedAt),
        )
        .await?;
        add_column(
            manager,
            GraphConnections::Table,
            string_null(GraphConnections::ConsentError),
        )
        .await?;
        // connectDirectories refuses a directory already connected to another tenant.
        manager
            .create_index(
                Index::create()
                    .name("idx_graph_connections_directory")
                    .table(GraphConnections::Table)
                    .col(GraphConnections::DirectoryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_graph_connections_directory")
                    .table(GraphConnections::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            GraphConnections::ConsentError,
            GraphConnections::ConsentedAt,
            GraphConnections::UsesPartnerApplication,
        ] {
            drop_column(manager, GraphConnections::Table, column).await?;
        }
        manager
            .drop_table(Table::drop().table(PartnerApplications::Table).to_owned())
            .await
    }
}

/// The installation's partner application (at most one row, id 1).
#[derive(DeriveIden)]
enum PartnerApplications {
    Table,
    Id,
    ClientId,
    CredentialKind,
    Credential,
    CreatedAt,
    UpdatedAt,
}

/// The columns added to the connections.
#[derive(DeriveIden)]
enum GraphConnections {
    Table,
    DirectoryId,
    UsesPartnerApplication,
    ConsentedAt,
    ConsentError,
}
