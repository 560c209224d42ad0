//! What a finished collection leaves on its tenant's directory connection: its status, the
//! last error, the permissions it lacked, when it last stored a snapshot, whether consent still
//! holds and from when the audit log is read next.

use chrono::{DateTime, Utc};
use entity::enums::{CollectionStatus, ConnectionStatus};
use entity::{collection_run, graph_connection};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde_json::json;

use crate::msgraph::collect::Collected;

/// Takes the connection's row first, as the scheduler and `collectNow` take it before a run
/// (PostgreSQL; SQLite has one writer, and a read before the first write there could only
/// make the write fail).
pub async fn lock_connection(txn: &DatabaseTransaction, tenant_id: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        graph_connection::Entity::find_by_id(tenant_id.to_owned())
            .lock_exclusive()
            .one(txn)
            .await?;
    }
    Ok(())
}

/// How `run` ended, as its connection keeps it.
pub struct Ended<'a> {
    /// What the connector returned.
    pub collected: &'a Collected,
    /// The collection's final status (FAILED when its snapshot could not be stored).
    pub status: CollectionStatus,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Whether a snapshot was stored.
    pub stored_snapshot: bool,
    /// When it ended.
    pub at: DateTime<Utc>,
}

/// Records on the connection how `run` ended, inside the transaction that records the run; a
/// connection set again since the run was queued keeps its fresh state.
pub async fn record_ended(
    txn: &DatabaseTransaction,
    run: &collection_run::Model,
    ended: Ended<'_>,
) -> Result<(), DbErr> {
    let collected = ended.collected;
    let connection_status = match ended.status {
        CollectionStatus::Succeeded => ConnectionStatus::Ok,
        CollectionStatus::Partial => ConnectionStatus::Partial,
        _ if collected.consent_missing => ConnectionStatus::ConsentRequired,
        _ => ConnectionStatus::Failed,
    };
    let mut update = graph_connection::Entity::update_many()
        .col_expr(
            graph_connection::Column::Status,
            Expr::value(connection_status.as_str()),
        )
        .col_expr(
            graph_connection::Column::LastError,
            Expr::value(ended.error),
        )
        .col_expr(
            graph_connection::Column::MissingPermissions,
            Expr::value(json!(collected.missing_permissions())),
        );
    if ended.stored_snapshot {
        update = update.col_expr(
            graph_connection::Column::LastCollectedAt,
            Expr::value(ended.at),
        );
    }
    if collected.consent_missing {
        // Consent recorded through a link was withdrawn since, or never reached Microsoft.
        update = update.col_expr(
            graph_connection::Column::ConsentedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    }
    if let Some(read_at) = collected.audit_read_at {
        update = update.col_expr(
            graph_connection::Column::AuditReadFrom,
            Expr::value(read_at),
        );
    }
    update
        .filter(graph_connection::Column::TenantId.eq(run.tenant_id.clone()))
        .filter(graph_connection::Column::Enabled.eq(true))
        .filter(graph_connection::Column::UpdatedAt.lte(run.created_at))
        .exec(txn)
        .await?;
    Ok(())
}
