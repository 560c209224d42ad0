//! Tenants and the shared catalog of improvement actions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(string(Tenants::Id).primary_key())
                    .col(string(Tenants::Name))
                    .col(string_null(Tenants::Industry))
                    .col(integer(Tenants::SeatCount))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImprovementActions::Table)
                    .col(string(ImprovementActions::Id).primary_key())
                    .col(string(ImprovementActions::Title))
                    .col(text_null(ImprovementActions::Description))
                    .col(string(ImprovementActions::Category))
                    .col(double(ImprovementActions::MaxScore))
                    .col(string(ImprovementActions::RuleKind))
                    .col(string_null(ImprovementActions::RuleFact))
                    .col(string_null(ImprovementActions::RuleNumerator))
                    .col(string_null(ImprovementActions::RuleDenominator))
                    .col(double_null(ImprovementActions::RuleMin))
                    .col(double_null(ImprovementActions::RuleMax))
                    .col(boolean(ImprovementActions::Scored))
                    .col(boolean(ImprovementActions::Deprecated))
                    .col(string_null(ImprovementActions::UserImpact))
                    .col(string_null(ImprovementActions::ImplementationCost))
                    .col(text_null(ImprovementActions::Remediation))
                    .col(string_null(ImprovementActions::ActionUrl))
                    .col(timestamp_with_time_zone(ImprovementActions::CreatedAt))
                    .col(timestamp_with_time_zone(ImprovementActions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_improvement_actions_category")
                    .table(ImprovementActions::Table)
                    .col(ImprovementActions::Category)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImprovementActions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}

/// Column names of `tenants`.
#[derive(DeriveIden)]
pub enum Tenants {
    Table,
    Id,
    Name,
    Industry,
    SeatCount,
    CreatedAt,
    UpdatedAt,
}

/// Column names of `improvement_actions`.
#[derive(DeriveIden)]
pub enum ImprovementActions {
    Table,
    Id,
    Title,
    Description,
    Category,
    MaxScore,
    RuleKind,
    RuleFact,
    RuleNumerator,
    RuleDenominator,
    RuleMin,
    RuleMax,
    Scored,
    Deprecated,
    UserImpact,
    ImplementationCost,
    Remediation,
    ActionUrl,
    CreatedAt,
    UpdatedAt,
}
