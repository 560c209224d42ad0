//! Licences and emergency access accounts: catalog entries declare the licences they need,
//! a day's row keeps what the missing licences kept out of reach, a tenant names its
//! emergency access accounts, and a collection keeps its warnings.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each new column, on its table.
const COLUMNS: [(Table, Column); 4] = [
    (Table::ImprovementActions, Column::RequiresLicenses),
    (Table::DailyScores, Column::LicenseGaps),
    (Table::Tenants, Column::EmergencyAccessAccounts),
    (Table::CollectionRuns, Column::Warnings),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            add_column(manager, table, json_null(column)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}

/// The tables that gain a column.
#[derive(DeriveIden, Clone, Copy)]
enum Table {
    ImprovementActions,
    DailyScores,
    Tenants,
    CollectionRuns,
}

/// The new columns (all JSON, null for rows written before).
#[derive(DeriveIden, Clone, Copy)]
enum Column {
    RequiresLicenses,
    LicenseGaps,
    EmergencyAccessAccounts,
    Warnings,
}
