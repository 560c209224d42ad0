//! Configuration snapshots pushed by collectors and the append-only override history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::{ImprovementActions, Tenants};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Snapshots::Table)
                    .col(big_pk_auto(Snapshots::Id))
                    .col(string(Snapshots::TenantId))
                    .col(timestamp_with_time_zone(Snapshots::CapturedAt))
                    .col(timestamp_with_time_zone(Snapshots::ReceivedAt))
                    .col(json(Snapshots::Facts))
                    .col(string_null(Snapshots::IdempotencyKey))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_snapshots_tenant")
                            .from(Snapshots::Table, Snapshots::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Scoring reads "the latest snapshot captured by the end of D" per tenant.
        manager
            .create_index(
                Index::create()
                    .name("idx_snapshots_tenant_captured")
                    .table(Snapshots::Table)
                    .col(Snapshots::TenantId)
                    .col(Snapshots::CapturedAt)
                    .to_owned(),
            )
            .await?;
        // NULL keys never collide, so snapshots without a key are unconstrained.
        manager
            .create_index(
                Index::create()
                    .name("uq_snapshots_tenant_idempotency_key")
                    .table(Snapshots::Table)
                    .col(Snapshots::TenantId)
                    .col(Snapshots::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionOverrides::Table)
                    .col(big_pk_auto(ActionOverrides::Id))
                    .col(string(ActionOverrides::TenantId))
                    .col(string(ActionOverrides::ActionId))
                    .col(string(ActionOverrides::State))
                    .col(text_null(ActionOverrides::Comment))
                    .col(string(ActionOverrides::UpdatedBy))
                    .col(timestamp_with_time_zone(ActionOverrides::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_action_overrides_tenant")
                            .from(ActionOverrides::Table, ActionOverrides::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_action_overrides_action")
                            .from(ActionOverrides::Table, ActionOverrides::ActionId)
                            .to(ImprovementActions::Table, ImprovementActions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The state in force at an instant is the newest row at or before it, per action.
        manager
            .create_index(
                Index::create()
                    .name("idx_action_overrides_tenant_updated")
                    .table(ActionOverrides::Table)
                    .col(ActionOverrides::TenantId)
                    .col(ActionOverrides::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_action_overrides_tenant_action")
                    .table(ActionOverrides::Table)
                    .col(ActionOverrides::TenantId)
                    .col(ActionOverrides::ActionId)
                    .col(ActionOverrides::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActionOverrides::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Snapshots::Table).to_owned())
            .await
    }
}

/// Column names of `snapshots`.
#[derive(DeriveIden)]
pub enum Snapshots {
    Table,
    Id,
    TenantId,
    CapturedAt,
    ReceivedAt,
    Facts,
    IdempotencyKey,
}

/// Column names of `action_overrides`.
#[derive(DeriveIden)]
pub enum ActionOverrides {
    Table,
    Id,
    TenantId,
    ActionId,
    State,
    Comment,
    UpdatedBy,
    UpdatedAt,
}
