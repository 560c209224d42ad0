//! `connectDirectories`: many tenants connected to the partner application at once. Each entry
//! is checked on its own; a bad one is answered with its reason and changes nothing, the rest
//! go through together. An entry already connected that way is left as it is, so sending the
//! same list again resets nobody's consent or status.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use entity::{graph_connection, tenant};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};

use super::connections::{connection_row, parse_guid, upsert_connection};
use super::partner_application::require_partner_application;
use super::tenants::{NewTenant, new_tenant_row};
use crate::error::{ApiError, ApiResult};

/// Most entries one call takes.
pub const MAX_ENTRIES: usize = 500;

/// One entry as given.
pub struct DirectoryEntry {
    /// The tenant, created when missing.
    pub tenant_id: String,
    /// Its name when created (the id when none is given).
    pub name: Option<String>,
    /// The Entra directory id.
    pub directory_id: String,
    /// Its industry when created.
    pub industry: Option<String>,
    /// Its licensed users when created.
    pub seat_count: Option<i32>,
}

/// One entry's outcome, in the order given.
pub struct EntryOutcome {
    /// The tenant the entry named.
    pub tenant_id: String,
    /// The connection as stored, or why the entry changed nothing.
    pub result: Result<graph_connection::Model, String>,
}

/// A checked entry.
struct Checked {
    tenant: NewTenant,
    directory_id: String,
}

/// Connects each entry's tenant (created when missing) to its directory through the partner
/// application. BAD_USER_INPUT for the whole call when it has more than [`MAX_ENTRIES`]
/// entries or no partner application is set.
pub async fn connect_directories(
    db: &DatabaseConnection,
    entries: Vec<DirectoryEntry>,
) -> ApiResult<Vec<EntryOutcome>> {
    if entries.len() > MAX_ENTRIES {
        return Err(ApiError::BadUserInput(format!(
            "connectDirectories takes at most {MAX_ENTRIES} entries; send the list in parts"
        )));
    }
    require_partner_application(db).await?;
    let mut checked: Vec<Result<Checked, String>> = entries.iter().map(check).collect();
    refuse_repeats(&mut checked, |c| c.tenant.id.clone(), "the tenant");
    refuse_repeats(&mut checked, |c| c.directory_id.clone(), "the directory");
    // Read before the transaction: on SQLite a read inside it would make its first write
    // fail against a concurrent writer.
    let directories: Vec<String> = checked
        .iter()
        .flatten()
        .map(|c| c.directory_id.clone())
        .collect();
    let tenants: Vec<String> = checked
        .iter()
        .flatten()
        .map(|c| c.tenant.id.clone())
        .collect();
    let holders: HashMap<String, String> = graph_connection::Entity::find()
        .filter(graph_connection::Column::DirectoryId.is_in(directories))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.directory_id, c.tenant_id))
        .collect();
    let existing: HashMap<String, graph_connection::Model> = graph_connection::Entity::find()
        .filter(graph_connection::Column::TenantId.is_in(tenants.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.tenant_id.clone(), c))
        .collect();
    let now = Utc::now();
    let txn = db.begin().await?;
    for entry in &mut checked {
        let Ok(c) = entry else { continue };
        if let Some(holder) = holders.get(&c.directory_id).filter(|h| **h != c.tenant.id) {
            *entry = Err(format!(
                "directory {} is already connected to tenant `{holder}`",
                c.directory_id
            ));
            continue;
        }
        tenant::Entity::insert(new_tenant_row(c.tenant.clone(), now))
            .on_conflict_do_nothing_on([tenant::Column::Id])
            .exec(&txn)
            .await?;
        let unchanged = existing.get(&c.tenant.id).is_some_and(|e| {
            e.uses_partner_application && e.directory_id == c.directory_id && e.enabled
        });
        if !unchanged {
            upsert_connection(
                &txn,
                connection_row(&c.tenant.id, &c.directory_id, true, true, now),
            )
            .await?;
        }
    }
    let stored: BTreeMap<String, graph_connection::Model> = graph_connection::Entity::find()
        .filter(graph_connection::Column::TenantId.is_in(tenants))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.tenant_id.clone(), c))
        .collect();
    txn.commit().await?;
    Ok(entries
        .into_iter()
        .zip(checked)
        .map(|(entry, checked)| EntryOutcome {
            result: checked.and_then(|c| {
                stored
                    .get(&c.tenant.id)
                    .cloned()
                    .ok_or_else(|| "the connection was deleted while it was made".to_owned())
            }),
            tenant_id: entry.tenant_id,
        })
        .collect())
}

/// Checks one entry on its own: the tenant id, the directory GUID, and what a new tenant gets.
fn check(entry: &DirectoryEntry) -> Result<Checked, String> {
    let name = entry.name.as_deref().unwrap_or(&entry.tenant_id);
    let tenant = NewTenant::parse(
        &entry.tenant_id,
        name,
        entry.industry.as_deref(),
        entry.seat_count.unwrap_or(0),
    )
    .map_err(|e| e.message().to_owned())?;
    let directory_id =
        parse_guid("directoryId", &entry.directory_id).map_err(|e| e.message().to_owned())?;
    Ok(Checked {
        tenant,
        directory_id,
    })
}

/// Refuses every entry whose `key` another entry of the list shares: which of them was meant
/// is not for the server to guess.
fn refuse_repeats(
    checked: &mut [Result<Checked, String>],
    key: impl Fn(&Checked) -> String,
    what: &str,
) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in checked.iter().flatten() {
        *counts.entry(key(c)).or_default() += 1;
    }
    for entry in checked.iter_mut() {
        if let Ok(c) = entry {
            let k = key(c);
            if counts[&k] > 1 {
                *entry = Err(format!("{what} {k} is named more than once in the list"));
            }
        }
    }
}
