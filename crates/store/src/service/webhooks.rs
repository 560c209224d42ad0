//! Webhook endpoints and their deliveries: creating (with a secret shown once), changing,
//! deleting, and reading what was delivered.

use std::collections::HashMap;

use chrono::Utc;
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::error::{ApiError, ApiResult};
use crate::secrets::SecretsKey;
use crate::webhooks::address::{parse_url, resolve};
use crate::webhooks::signing::{new_secret, signing_key, stored_form};

/// Most endpoints a tenant may have (deleted ones not counted).
pub const MAX_ENDPOINTS_PER_TENANT: u64 = 10;

/// Checks a URL as a webhook target: syntax, scheme, and every address its host resolves to.
async fn checked_url(raw: &str, allow_private: bool) -> ApiResult<String> {
    let target = parse_url(raw, allow_private).map_err(ApiError::BadUserInput)?;
    resolve(&target, allow_private)
        .await
        .map_err(|e| ApiError::BadUserInput(format!("url: {e}")))?;
    Ok(target.url.to_string())
}

/// Stores a new endpoint; answers it with its secret, which is never readable again.
pub async fn create_endpoint(
    db: &DatabaseConnection,
    tenant_id: &str,
    url: &str,
    allow_private: bool,
    created_by: &str,
    secrets: &SecretsKey,
) -> ApiResult<(webhook_endpoint::Model, String)> {
    let url = checked_url(url, allow_private).await?;
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    if count >= MAX_ENDPOINTS_PER_TENANT {
        return Err(ApiError::BadUserInput(format!(
            "a tenant may have at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints"
        )));
    }
    let secret = new_secret();
    let row = webhook_endpoint::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        url: Set(url),
        signing_key: Set(
            stored_form(secrets, tenant_id, &secret.stored_key).map_err(ApiError::Internal)?
        ),
        enabled: Set(true),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_by: Set(created_by.to_owned()),
        created_at: Set(Utc::now()),
        deleted_at: Set(None),
        ..Default::default()
    };
    Ok((row.insert(db).await?, secret.secret))
}

/// An endpoint that exists and is not deleted; NOT_FOUND otherwise.
pub async fn find_endpoint(
    db: &DatabaseConnection,
    id: &str,
) -> ApiResult<webhook_endpoint::Model> {
    let missing = || ApiError::record_not_found("webhook endpoint", id);
    let id: i64 = id.parse().map_err(|_| missing())?;
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(missing)
}

/// Changes an endpoint's URL or enables/disables it; enabling clears the reason it was
/// disabled and its failing streak, so its pending deliveries resume.
pub async fn update_endpoint(
    db: &DatabaseConnection,
    endpoint: webhook_endpoint::Model,
    url: Option<&str>,
    enabled: Option<bool>,
    allow_private: bool,
) -> ApiResult<webhook_endpoint::Model> {
    let url = match url {
        Some(url) => Some(checked_url(url, allow_private).await?),
        None => None,
    };
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    if let Some(url) = url {
        row.url = Set(url);
    }
    if let Some(enabled) = enabled {
        row.enabled = Set(enabled);
        if enabled {
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        }
    }
    Ok(row.update(db).await?)
}

/// Deletes an endpoint: nothing more is sent to it.
pub async fn delete_endpoint(
    db: &DatabaseConnection,
    endpoint: webhook_endpoint::Model,
) -> ApiResult<()> {
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    row.deleted_at = Set(Some(Utc::now()));
    row.enabled = Set(false);
    row.update(db).await?;
    Ok(())
}

/// A tenant's endpoints, oldest first.
pub async fn endpoints_of(
    db: &DatabaseConnection,
    tenant_id: &str,
) -> ApiResult<Vec<webhook_endpoint::Model>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// An endpoint's deliveries, newest first.
pub async fn delivery_page(
    db: &DatabaseConnection,
    endpoint_id: i64,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<webhook_delivery::Model>> {
    let size = page_size(first)?;
    let mut query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_delivery::Column::Id);
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(webhook_delivery::Column::Id.lt(id));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |d| {
        encode_cursor(&d.id)
    }))
}

/// The attempts of deliveries, oldest first, by delivery, one query per batch.
pub async fn attempts_by_delivery(
    db: &DatabaseConnection,
    delivery_ids: &[i64],
) -> Result<HashMap<i64, Vec<webhook_attempt::Model>>, DbErr> {
    let rows = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(delivery_ids.iter().copied()))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await?;
    let mut by_delivery: HashMap<i64, Vec<webhook_attempt::Model>> = HashMap::new();
    for row in rows {
        by_delivery.entry(row.delivery_id).or_default().push(row);
    }
    Ok(by_delivery)
}

/// Seals every signing key still stored as plaintext (kept from before a secrets key was
/// configured); answers how many. A no-op without a key.
pub async fn seal_plaintext_signing_keys(
    db: &DatabaseConnection,
    secrets: &SecretsKey,
) -> ApiResult<usize> {
    if !secrets.is_configured() {
        return Ok(0);
    }
    let plaintext = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::SigningKey.not_like("v1:%"))
        .all(db)
        .await?;
    let count = plaintext.len();
    for endpoint in plaintext {
        let key = signing_key(secrets, &endpoint.tenant_id, &endpoint.signing_key)
            .map_err(ApiError::Internal)?;
        let sealed = stored_form(secrets, &endpoint.tenant_id, &key).map_err(ApiError::Internal)?;
        // Only the row as read: a concurrent replica sealing it too leaves one sealed value.
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::SigningKey,
                sea_orm::sea_query::Expr::value(sealed),
            )
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .filter(webhook_endpoint::Column::SigningKey.eq(endpoint.signing_key.clone()))
            .exec(db)
            .await?;
    }
    Ok(count)
}
