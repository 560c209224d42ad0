//! Per-tenant change sequences: every change that affects a tenant's scores (a snapshot, an
//! override, a catalog entry) bumps the tenant's `change_seq` inside the change's own
//! transaction, so a computation that reads the sequence and its inputs in one consistent read
//! knows exactly which state it scored; the pipeline never lets a computation from an older
//! sequence overwrite a day computed from a newer one (see `pipeline::batch`).

use entity::tenant;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

/// Which tenants a change affects.
pub enum Changed<'a> {
    /// These tenants.
    Tenants(&'a [String]),
    /// Every tenant (a catalog change).
    All,
}

/// Bumps the change sequence of the tenants `changed` names; call it inside the transaction
/// that makes the change.
pub async fn record_change(conn: &impl ConnectionTrait, changed: Changed<'_>) -> Result<(), DbErr> {
    let bump = || {
        tenant::Entity::update_many().col_expr(
            tenant::Column::ChangeSeq,
            Expr::col(tenant::Column::ChangeSeq).add(1),
        )
    };
    match changed {
        Changed::All => {
            bump().exec(conn).await?;
        }
        Changed::Tenants(ids) => {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            // Sorted, so concurrent changes lock the tenants' rows in the same order.
            for chunk in ids.chunks(IDS_PER_QUERY) {
                bump()
                    .filter(tenant::Column::Id.is_in(chunk.iter().cloned()))
                    .exec(conn)
                    .await?;
            }
        }
    }
    Ok(())
}
