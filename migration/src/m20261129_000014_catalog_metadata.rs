//! Catalog entries carry Microsoft's control-profile metadata (tier, action type, threats) and
//! their compliance mappings, and remember which built-in catalog version wrote them, so an
//! upgrade updates the built-in entries nobody changed and leaves an admin's alone.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};

/// The entries the first built-in catalog (version 1) loaded.
const VERSION_ONE_IDS: [&str; 11] = [
    "AdminMFA",
    "MFARegistration",
    "BlockLegacyAuthentication",
    "PasswordsNeverExpire",
    "SigninRiskPolicy",
    "UserRiskPolicy",
    "RestrictUserConsent",
    "MoreThanOneGlobalAdmin",
    "FewGlobalAdmins",
    "SelfServicePasswordReset",
    "ReviewSignInReports",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Catalog::ImprovementActions;
        add_column(manager, table, string_null(Catalog::Tier)).await?;
        add_column(manager, table, string_null(Catalog::ActionType)).await?;
        add_column(manager, table, json_null(Catalog::Threats)).await?;
        add_column(manager, table, json_null(Catalog::Compliance)).await?;
        add_column(manager, table, integer_null(Catalog::BuiltInVersion)).await?;
        // The first release loaded these eleven from its file and never touched them again:
        // an entry whose update time is still its creation time is as that file wrote it.
        // One a platform admin changed keeps no version, so upgrades leave it alone.
        let written_by_version_one = Query::update()
            .table(table)
            .value(Catalog::BuiltInVersion, 1)
            .and_where(Expr::col(Catalog::Id).is_in(VERSION_ONE_IDS))
            .and_where(Expr::col(Catalog::CreatedAt).equals(Catalog::UpdatedAt))
            .to_owned();
        manager.exec_stmt(written_by_version_one).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Catalog::ImprovementActions;
        for column in [
            Catalog::BuiltInVersion,
            Catalog::Compliance,
            Catalog::Threats,
            Catalog::ActionType,
            Catalog::Tier,
        ] {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}

/// The catalog table and its new columns.
#[derive(DeriveIden, Clone, Copy)]
enum Catalog {
    ImprovementActions,
    Id,
    Tier,
    ActionType,
    Threats,
    Compliance,
    BuiltInVersion,
    CreatedAt,
    UpdatedAt,
}
