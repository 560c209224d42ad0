//! A webhook delivery keeps the body it sends: rendered once when the alert is raised, so
//! every attempt of one `webhook-id` sends the same bytes (Standard Webhooks).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::WebhookDeliveries)
                    .add_column(text_null(Deliveries::Body))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::WebhookDeliveries)
                    .drop_column(Deliveries::Body)
                    .to_owned(),
            )
            .await
    }
}

/// The table and its new column.
#[derive(DeriveIden)]
enum Deliveries {
    WebhookDeliveries,
    Body,
}
