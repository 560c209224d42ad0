//! A webhook delivery keeps the body it sends: rendered once when the alert is raised, so
//! every attempt of one `webhook-id` sends the same bytes (Standard Webhooks).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let body = text_null(Deliveries::Body);
        add_column(manager, Deliveries::WebhookDeliveries, body).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Deliveries::WebhookDeliveries, Deliveries::Body).await
    }
}

/// The table and its new column.
#[derive(DeriveIden)]
enum Deliveries {
    WebhookDeliveries,
    Body,
}
