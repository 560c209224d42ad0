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
        let table = Actions::ImprovementActions;
        add_column(manager, table, string_null(Actions::Tier)).await?;
        add_column(manager, table, string_null(Actions::ActionType)).await?;
        add_column(manager, table, json_null(Actions::Threats)).await?;
        add_column(manager, table, json_null(Actions::Compliance)).await?;
        add_column(manager, table, integer_null(Actions::BuiltInVersion)).await?;
        // The first release loaded these eleven from its file and never touched them again:
        // an entry whose update time is still its creation time is as that file wrote it.
        // One a platform admin changed keeps no version, so upgrades leave it alone.
        let written_by_version_one = Query::update()
            .table(table)
            .value(Actions::BuiltInVersion, 1)
            .and_where(Expr::col(Actions::Id).is_in(VERSION_ONE_IDS))
            .and_where(Expr::col(Actions::CreatedAt).equals(Actions::UpdatedAt))
            .to_owned();
        manager.exec_stmt(written_by_version_one).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Actions::ImprovementActions;
        for column in [
            Actions::BuiltInVersion,
            Actions::Compliance,
            Actions::Threats,
            Actions::ActionType,
            Actions::Tier,
        ] {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}

/// The catalog table and its new columns.
#[derive(DeriveIden, Clone, Copy)]
enum Actions {
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
