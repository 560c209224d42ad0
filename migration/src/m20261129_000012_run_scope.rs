//! A scoring run records the tenants it was asked for, so that only a caller who reaches all
//! of them may read it (a run over "every tenant within reach" has no single tenant).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let scope = json_null(Runs::TenantScope);
        add_column(manager, Runs::ScoringRuns, scope).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Runs::ScoringRuns, Runs::TenantScope).await
    }
}

/// The table and its new column.
#[derive(DeriveIden)]
enum Runs {
    ScoringRuns,
    TenantScope,
}
