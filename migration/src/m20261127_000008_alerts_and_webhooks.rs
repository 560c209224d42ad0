//! Alert rules, alerts, webhook endpoints and the delivery outbox with its attempts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertRules::Table)
                    .col(big_pk_auto(AlertRules::Id))
                    .col(string(AlertRules::TenantId))
                    .col(string(AlertRules::Kind))
                    .col(double_null(AlertRules::Threshold))
                    .col(integer(AlertRules::WindowDays))
                    .col(boolean(AlertRules::Enabled))
                    .col(string(AlertRules::CreatedBy))
                    .col(timestamp_with_time_zone(AlertRules::CreatedAt))
                    .col(timestamp_with_time_zone_null(AlertRules::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_rules_tenant")
                            .from(AlertRules::Table, AlertRules::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_rules_tenant")
                    .table(AlertRules::Table)
                    .col(AlertRules::TenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(big_pk_auto(Alerts::Id))
                    .col(string(Alerts::TenantId))
                    .col(big_integer(Alerts::RuleId))
                    .col(date(Alerts::Date))
                    .col(timestamp_with_time_zone(Alerts::RaisedAt))
                    .col(double_null(Alerts::PercentageBefore))
                    .col(double(Alerts::PercentageAfter))
                    .col(json(Alerts::Regressions))
                    .col(string_null(Alerts::AcknowledgedBy))
                    .col(timestamp_with_time_zone_null(Alerts::AcknowledgedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alerts_tenant")
                            .from(Alerts::Table, Alerts::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alerts_rule")
                            .from(Alerts::Table, Alerts::RuleId)
                            .to(AlertRules::Table, AlertRules::Id),
                    )
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
        // A tenant's alerts, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_alerts_tenant_id")
                    .table(Alerts::Table)
                    .col(Alerts::TenantId)
                    .col(Alerts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(string(WebhookEndpoints::TenantId))
                    .col(string(WebhookEndpoints::Url))
                    .col(string(WebhookEndpoints::SigningKey))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_null(WebhookEndpoints::DisabledReason))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::FailingSince,
                    ))
                    .col(string(WebhookEndpoints::CreatedBy))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_tenant")
                            .from(WebhookEndpoints::Table, WebhookEndpoints::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(big_integer(WebhookDeliveries::EndpointId))
                    .col(big_integer(WebhookDeliveries::AlertId))
                    .col(string(WebhookDeliveries::Status))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LastAttemptAt,
                    ))
                    .col(integer_null(WebhookDeliveries::LastResponseStatus))
                    .col(string_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::ClaimedUntil,
                    ))
                    .col(string_null(WebhookDeliveries::ClaimToken))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_alert")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::AlertId)
                            .to(Alerts::Table, Alerts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_deliveries_endpoint_alert")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::AlertId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The delivery workers look for pending deliveries that are due.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(big_pk_auto(WebhookAttempts::Id))
                    .col(big_integer(WebhookAttempts::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                    .col(integer_null(WebhookAttempts::ResponseStatus))
                    .col(big_integer(WebhookAttempts::DurationMs))
                    .col(string_null(WebhookAttempts::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            Alerts::Table.into_iden(),
            AlertRules::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AlertRules {
    Table,
    Id,
    TenantId,
    Kind,
    Threshold,
    WindowDays,
    Enabled,
    CreatedBy,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    TenantId,
    RuleId,
    Date,
    RaisedAt,
    PercentageBefore,
    PercentageAfter,
    Regressions,
    AcknowledgedBy,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    TenantId,
    Url,
    SigningKey,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedBy,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    AlertId,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastResponseStatus,
    LastError,
    ClaimedUntil,
    ClaimToken,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    ResponseStatus,
    DurationMs,
    Error,
}
