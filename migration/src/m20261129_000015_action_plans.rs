//! Plans: an owner, a due date, notes and tags per tenant and action, every change appended to
//! a history as overrides are; each tenant's score zone thresholds; and alerts about one
//! subject of a day (PLAN_OVERDUE: one alert per plan), so the uniqueness of an alert becomes
//! rule, date and subject (empty for the kinds about the whole day).

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
                    .table(ActionPlans::Table)
                    .col(string(ActionPlans::TenantId))
                    .col(string(ActionPlans::ActionId))
                    .col(string_null(ActionPlans::AssignedTo))
                    .col(date_null(ActionPlans::DueDate))
                    .col(text_null(ActionPlans::Notes))
                    .col(json(ActionPlans::Tags))
                    .col(string(ActionPlans::UpdatedBy))
                    .col(timestamp_with_time_zone(ActionPlans::UpdatedAt))
                    .col(date_null(ActionPlans::OverdueAlertedDue))
                    .primary_key(
                        Index::create()
                            .col(ActionPlans::TenantId)
                            .col(ActionPlans::ActionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_action_plans_tenant")
                            .from(ActionPlans::Table, ActionPlans::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionPlanChanges::Table)
                    .col(big_pk_auto(ActionPlanChanges::Id))
                    .col(string(ActionPlanChanges::TenantId))
                    .col(string(ActionPlanChanges::ActionId))
                    .col(string_null(ActionPlanChanges::AssignedTo))
                    .col(date_null(ActionPlanChanges::DueDate))
                    .col(text_null(ActionPlanChanges::Notes))
                    .col(json(ActionPlanChanges::Tags))
                    .col(boolean(ActionPlanChanges::Cleared))
                    .col(string(ActionPlanChanges::ChangedBy))
                    .col(timestamp_with_time_zone(ActionPlanChanges::ChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_action_plan_changes_tenant")
                            .from(ActionPlanChanges::Table, ActionPlanChanges::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A tenant's history, newest first, optionally one action's.
        manager
            .create_index(
                Index::create()
                    .name("idx_action_plan_changes_tenant")
                    .table(ActionPlanChanges::Table)
                    .col(ActionPlanChanges::TenantId)
                    .col(ActionPlanChanges::Id)
                    .to_owned(),
            )
            .await?;
        add_column(
            manager,
            Tenants::Table,
            double(Zones::ZoneGood).default(70.0).to_owned(),
        )
        .await?;
        add_column(
            manager,
            Tenants::Table,
            double(Zones::ZoneFair).default(40.0).to_owned(),
        )
        .await?;
        add_column(
            manager,
            Alerts::Table,
            string(Alerts::Subject).default("").to_owned(),
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_alerts_rule_date")
                    .table(Alerts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_alerts_rule_date_subject")
                    .table(Alerts::Table)
                    .col(Alerts::RuleId)
                    .col(Alerts::Date)
                    .col(Alerts::Subject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_alerts_rule_date_subject")
                    .table(Alerts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_alerts_rule_date")
                    .table(Alerts::Table)
                    .col(Alerts::RuleId)
                    .col(Alerts::Date)
                    .unique()
                    .to_owned(),
            )
            .await?;
        drop_column(manager, Alerts::Table, Alerts::Subject).await?;
        drop_column(manager, Tenants::Table, Zones::ZoneFair).await?;
        drop_column(manager, Tenants::Table, Zones::ZoneGood).await?;
        manager
            .drop_table(Table::drop().table(ActionPlanChanges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ActionPlans::Table).to_owned())
            .await
    }
}

/// The current plans.
#[derive(DeriveIden)]
enum ActionPlans {
    Table,
    TenantId,
    ActionId,
    AssignedTo,
    DueDate,
    Notes,
    Tags,
    UpdatedBy,
    UpdatedAt,
    OverdueAlertedDue,
}

/// Every change of a plan, appended.
#[derive(DeriveIden)]
enum ActionPlanChanges {
    Table,
    Id,
    TenantId,
    ActionId,
    AssignedTo,
    DueDate,
    Notes,
    Tags,
    Cleared,
    ChangedBy,
    ChangedAt,
}

/// The tenants' zone thresholds.
#[derive(DeriveIden)]
enum Zones {
    ZoneGood,
    ZoneFair,
}

/// Alerts and their new subject.
#[derive(DeriveIden)]
enum Alerts {
    Table,
    RuleId,
    Date,
    Subject,
}
