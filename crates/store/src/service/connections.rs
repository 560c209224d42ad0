//! Directory connections and their collections: connecting (the credential sealed), reading,
//! deleting, asking for a collection, and planning the scheduled ones exactly once across
//! replicas.

use chrono::{DateTime, Utc};
use entity::enums::{CollectionStatus, ConnectionStatus, CredentialKind};
use entity::{collection_run, graph_connection};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use secrecy::ExposeSecret;
use serde_json::json;

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::error::{ApiError, ApiResult};
use crate::msgraph::credential::Credential;
use crate::secrets::{SecretsError, SecretsKey};

/// What `setGraphConnection` asks for, checked.
pub struct ConnectionInput {
    /// The tenant connected.
    pub tenant_id: String,
    /// The Entra directory id (a GUID).
    pub directory_id: String,
    /// Which application it signs in as.
    pub sign_in: SignIn,
    /// Collected on schedule and on request.
    pub enabled: bool,
}

/// Which application a connection signs in as.
pub enum SignIn {
    /// Its own app registration: the client id (a GUID) and its credential.
    Own {
        /// The app registration's client id.
        client_id: String,
        /// Its credential.
        credential: Credential,
    },
    /// The installation's partner application (read at each collection).
    PartnerApplication,
}

/// The associated data a connection's sealed credential is bound to.
pub fn credential_purpose(tenant_id: &str) -> String {
    format!("graph-credential:{tenant_id}")
}

/// A GUID in its usual 36-character form, lower-cased; BAD_USER_INPUT naming `field`
/// otherwise.
pub fn parse_guid(field: &str, raw: &str) -> ApiResult<String> {
    let trimmed = raw.trim();
    match uuid::Uuid::try_parse(trimmed) {
        Ok(id) if trimmed.len() == 36 => Ok(id.hyphenated().to_string()),
        _ => Err(ApiError::BadUserInput(format!(
            "{field} must be a GUID such as 00000000-0000-0000-0000-000000000000"
        ))),
    }
}

/// Seals `credential` for `purpose`; without a key nothing is stored and the caller is told.
pub fn seal_credential(
    key: &SecretsKey,
    purpose: &str,
    credential: &Credential,
) -> ApiResult<String> {
    key.seal(purpose, credential.to_stored().expose_secret().as_bytes())
        .map_err(|e| match e {
            SecretsError::NoKey => ApiError::BadUserInput(format!(
                "credentials are stored encrypted and {e}; nothing was stored"
            )),
            SecretsError::WrongKey => ApiError::Internal("sealing the credential failed".into()),
        })
}

/// Connects (or reconnects) a tenant's directory: its own credential is sealed under the
/// secrets key (without a key nothing is stored), and the connection is collected at the
/// scheduler's next look. Signing in as the partner application needs it set.
pub async fn set_connection(
    db: &DatabaseConnection,
    key: &SecretsKey,
    input: ConnectionInput,
) -> ApiResult<graph_connection::Model> {
    let (client_id, credential_kind, credential) = match &input.sign_in {
        SignIn::Own {
            client_id,
            credential,
        } => (
            client_id.clone(),
            credential.kind(),
            seal_credential(key, &credential_purpose(&input.tenant_id), credential)?,
        ),
        SignIn::PartnerApplication => {
            super::partner_application::require_partner_application(db).await?;
            (String::new(), CredentialKind::Secret, String::new())
        }
    };
    let uses_partner = matches!(input.sign_in, SignIn::PartnerApplication);
    let txn = db.begin().await?;
    let row = connection_row(
        &input.tenant_id,
        &input.directory_id,
        uses_partner,
        input.enabled,
        Utc::now(),
    );
    let row = graph_connection::ActiveModel {
        client_id: Set(client_id),
        credential_kind: Set(credential_kind),
        credential: Set(credential),
        ..row
    };
    upsert_connection(&txn, row).await?;
    // Read back in the same transaction: a delete racing this call comes before or after
    // both, never between.
    let stored = find_connection(&txn, &input.tenant_id)
        .await?
        .ok_or_else(|| ApiError::Internal("a stored connection vanished".into()))?;
    txn.commit().await?;
    Ok(stored)
}

/// A connection as first stored (or set again): never collected, due now, signing in with
/// no credential of its own until the caller sets one.
pub fn connection_row(
    tenant_id: &str,
    directory_id: &str,
    uses_partner_application: bool,
    enabled: bool,
    now: DateTime<Utc>,
) -> graph_connection::ActiveModel {
    graph_connection::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        directory_id: Set(directory_id.to_owned()),
        client_id: Set(String::new()),
        credential_kind: Set(CredentialKind::Secret),
        credential: Set(String::new()),
        enabled: Set(enabled),
        status: Set(if enabled {
            ConnectionStatus::NeverCollected
        } else {
            ConnectionStatus::Disabled
        }),
        last_collected_at: Set(None),
        last_error: Set(None),
        missing_permissions: Set(json!([])),
        next_collect_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        audit_read_from: Set(None),
        uses_partner_application: Set(uses_partner_application),
        consented_at: Set(None),
        consent_error: Set(None),
    }
}

/// `column` of the stored connection while consent to the partner application still applies
/// (it signed in as it, still does, and to the same directory); null otherwise. Decided in
/// the upsert itself: a read before it would make SQLite refuse a concurrent write.
fn kept_while_consent_holds(column: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!(
        "CASE WHEN graph_connections.uses_partner_application AND excluded.uses_partner_application \
         AND graph_connections.directory_id = excluded.directory_id \
         THEN graph_connections.{column} ELSE NULL END"
    ))
}

/// Inserts or replaces a connection in one statement, so two concurrent connects of a tenant
/// both succeed (the later wins); a reconnect keeps when it was first connected, when it was
/// last collected, where its audit log reads from, and consent while it holds.
pub async fn upsert_connection(
    db: &impl ConnectionTrait,
    row: graph_connection::ActiveModel,
) -> Result<(), DbErr> {
    use graph_connection::Column;
    graph_connection::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::TenantId)
                .update_columns([
                    Column::DirectoryId,
                    Column::ClientId,
                    Column::CredentialKind,
                    Column::Credential,
                    Column::Enabled,
                    Column::Status,
                    Column::LastError,
                    Column::MissingPermissions,
                    Column::NextCollectAt,
                    Column::UpdatedAt,
                    Column::UsesPartnerApplication,
                ])
                .values([
                    (
                        Column::ConsentedAt,
                        kept_while_consent_holds("consented_at"),
                    ),
                    (
                        Column::ConsentError,
                        kept_while_consent_holds("consent_error"),
                    ),
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Deletes a tenant's connection; queued collections of it end as FAILED. NOT_FOUND when
/// there is none.
pub async fn delete_connection(db: &DatabaseConnection, tenant_id: &str) -> ApiResult<()> {
    let txn = db.begin().await?;
    let deleted = graph_connection::Entity::delete_by_id(tenant_id.to_owned())
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::record_not_found(
            "graph connection of tenant",
            tenant_id,
        ));
    }
    collection_run::Entity::update_many()
        .col_expr(
            collection_run::Column::Status,
            Expr::value(CollectionStatus::Failed.as_str()),
        )
        .col_expr(collection_run::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(collection_run::Column::TenantId.eq(tenant_id))
        .filter(collection_run::Column::Status.eq(CollectionStatus::Queued))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A tenant's connection, if any.
pub async fn find_connection(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Option<graph_connection::Model>, DbErr> {
    graph_connection::Entity::find_by_id(tenant_id.to_owned())
        .one(db)
        .await
}

/// The connections of these tenants (tenants without one left out).
pub async fn connections_of(
    db: &DatabaseConnection,
    tenant_ids: &[String],
) -> Result<Vec<graph_connection::Model>, DbErr> {
    graph_connection::Entity::find()
        .filter(graph_connection::Column::TenantId.is_in(tenant_ids.iter().cloned()))
        .all(db)
        .await
}

/// One collection by id.
pub async fn find_collection(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<collection_run::Model>, DbErr> {
    collection_run::Entity::find_by_id(id).one(db).await
}

/// One page of a tenant's collections, newest first.
pub async fn collection_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<collection_run::Model>> {
    let size = page_size(first)?;
    let mut query = collection_run::Entity::find()
        .filter(collection_run::Column::TenantId.eq(tenant_id))
        .order_by_desc(collection_run::Column::Id);
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(collection_run::Column::Id.lt(id));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |r| {
        encode_cursor(&r.id)
    }))
}

/// Queues a collection of a connected, enabled tenant, or answers the one already queued or
/// running (one at a time per tenant). A collection asked for counts as the scheduled one: the
/// next scheduled collection comes `interval` later.
pub async fn request_collection(
    db: &DatabaseConnection,
    tenant_id: &str,
    requested_by: Option<&str>,
    interval: std::time::Duration,
) -> ApiResult<collection_run::Model> {
    let connection = find_connection(db, tenant_id).await?.ok_or_else(|| {
        ApiError::BadUserInput(format!(
            "tenant `{tenant_id}` has no directory connection: set one with setGraphConnection"
        ))
    })?;
    if !connection.enabled {
        return Err(ApiError::BadUserInput(format!(
            "the directory connection of tenant `{tenant_id}` is disabled"
        )));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    // The connection first, then the run: the order the scheduler and a finishing collection
    // take them in, so none of them waits on another in the opposite order (a deadlock on
    // PostgreSQL). A refused insert rolls the move back.
    graph_connection::Entity::update_many()
        .col_expr(
            graph_connection::Column::NextCollectAt,
            Expr::value(now + interval_of(interval)),
        )
        .filter(graph_connection::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await?;
    match insert_queued(&txn, tenant_id, requested_by, now).await? {
        Some(run) => {
            txn.commit().await?;
            Ok(run)
        }
        None => {
            txn.rollback().await?;
            active_collection(db, tenant_id).await?.ok_or_else(|| {
                ApiError::Conflict("a collection of this tenant just ended; ask again".into())
            })
        }
    }
}

/// The collect interval as a calendar duration (12 hours if it does not fit).
fn interval_of(interval: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(12))
}

/// Inserts a queued collection; `None` when the tenant already has one queued or running.
async fn insert_queued(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    requested_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<collection_run::Model>, DbErr> {
    let row = collection_run::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        status: Set(CollectionStatus::Queued),
        requested_by: Set(requested_by.map(str::to_owned)),
        created_at: Set(now),
        endpoints: Set(json!([])),
        attempts: Set(0),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(run) => Ok(Some(run)),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The tenant's queued or running collection, if any.
pub async fn active_collection(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Option<collection_run::Model>, DbErr> {
    collection_run::Entity::find()
        .filter(collection_run::Column::TenantId.eq(tenant_id))
        .filter(
            collection_run::Column::Status
                .is_in([CollectionStatus::Queued, CollectionStatus::Running]),
        )
        .one(db)
        .await
}

/// Due connections read per page while planning.
const PLAN_PAGE: u64 = 200;

/// Queues a collection for every enabled connection whose time has come, reading them a page
/// at a time. Each connection's next time moves forward by a conditional update, so of several
/// replicas looking at once, exactly one queues it; it moves to the connection's own slot in
/// the next interval, so connections made together spread over the interval. Answers how many
/// were queued.
pub async fn plan_due_collections(
    db: &DatabaseConnection,
    interval: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    use graph_connection::Column;
    let mut planned = 0;
    let mut after: Option<(DateTime<Utc>, String)> = None;
    loop {
        let mut query = graph_connection::Entity::find()
            .filter(Column::Enabled.eq(true))
            .filter(Column::NextCollectAt.lte(now))
            .order_by_asc(Column::NextCollectAt)
            .order_by_asc(Column::TenantId)
            .limit(PLAN_PAGE);
        if let Some((at, tenant)) = &after {
            query = query.filter(
                Condition::any().add(Column::NextCollectAt.gt(*at)).add(
                    Condition::all()
                        .add(Column::NextCollectAt.eq(*at))
                        .add(Column::TenantId.gt(tenant.clone())),
                ),
            );
        }
        let due = query.all(db).await?;
        let last_page = (due.len() as u64) < PLAN_PAGE;
        for connection in &due {
            let next = next_slot(&connection.tenant_id, interval, now);
            if plan_one(db, connection, next, now).await? {
                planned += 1;
            }
        }
        match due.last() {
            Some(last) if !last_page => {
                after = Some((last.next_collect_at, last.tenant_id.clone()))
            }
            _ => return Ok(planned),
        }
    }
}

/// The tenant's next collection time after one at `now`: its own slot in the interval (a
/// fixed offset from the epoch, from a hash of its id), at least half an interval away.
pub fn next_slot(
    tenant_id: &str,
    interval: std::time::Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    use sha2::{Digest, Sha256};
    let period = interval.as_millis().clamp(1, i64::MAX as u128) as i64;
    let digest = Sha256::digest(tenant_id.as_bytes());
    let hash = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    let offset = (hash % period as u64) as i64;
    let earliest = now.timestamp_millis().saturating_add(period / 2);
    // The first instant at or after `earliest` that is `offset` past a multiple of the period.
    let slot = earliest - (earliest - offset).rem_euclid(period) + period;
    let slot = if slot - period >= earliest {
        slot - period
    } else {
        slot
    };
    DateTime::from_timestamp_millis(slot).unwrap_or(now + interval_of(interval))
}

/// Moves one connection's next time forward if nobody else did, and queues its collection;
/// true when this call queued it.
async fn plan_one(
    db: &DatabaseConnection,
    connection: &graph_connection::Model,
    next: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let moved = graph_connection::Entity::update_many()
        .col_expr(graph_connection::Column::NextCollectAt, Expr::value(next))
        .filter(graph_connection::Column::TenantId.eq(connection.tenant_id.clone()))
        .filter(graph_connection::Column::NextCollectAt.eq(connection.next_collect_at))
        .filter(graph_connection::Column::Enabled.eq(true))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    // A savepoint: on PostgreSQL a refused insert must not abort the transaction. When the
    // tenant already has a collection queued or running, the next time is not moved either,
    // so a connection set again while a collection of its old settings runs is collected
    // with its new ones as soon as that one ends.
    let savepoint = txn.begin().await?;
    let queued = insert_queued(&savepoint, &connection.tenant_id, None, now).await?;
    if queued.is_some() {
        savepoint.commit().await?;
        txn.commit().await?;
    } else {
        savepoint.rollback().await?;
        txn.rollback().await?;
    }
    Ok(queued.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_half_to_one_and_a_half_intervals_away_and_spread_over_the_interval() {
        let interval = std::time::Duration::from_secs(12 * 3600);
        let now = Utc::now();
        let mut per_hour = [0usize; 12];
        for i in 0..2_000 {
            let tenant = format!("tenant-{i}");
            let next = next_slot(&tenant, interval, now);
            let ahead = next - now;
            assert!(
                ahead >= chrono::Duration::hours(6) && ahead < chrono::Duration::hours(18),
                "{ahead}"
            );
            // The same slot from one interval to the next.
            assert_eq!(
                next_slot(&tenant, interval, next) - next,
                chrono::Duration::hours(12)
            );
            per_hour[(next.timestamp().rem_euclid(12 * 3600) / 3600) as usize] += 1;
        }
        // 2,000 connections over 12 hours: about 167 an hour, none near all of them.
        assert!(
            per_hour.iter().all(|&n| (100..240).contains(&n)),
            "{per_hour:?}"
        );
    }
}
