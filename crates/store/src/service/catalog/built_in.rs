//! The built-in identity catalog (`crates/store/src/data/identity-catalog.json`) and keeping it in the
//! catalog across releases: new built-in entries are added at start, entries a newer file
//! changed are updated unless a platform admin changed them, and each built-in row records the
//! file version that wrote it.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use entity::improvement_action as action;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    TryIntoModel,
};
use serde::Deserialize;

use super::{ActionInput, active_model, validate};
use crate::error::{ApiError, ApiResult};
use crate::events::{Event, notify_in_transaction};
use crate::service::change_seq::{Changed, record_change};

/// The file shipped with this release.
const SHIPPED: &str = include_str!("../../data/identity-catalog.json");

/// One fact path the built-in actions read, defined as the connector computes it.
#[derive(Clone, Debug, Deserialize)]
pub struct FactDefinition {
    /// Dotted path, e.g. `users.mfaRequired`.
    pub path: String,
    /// `number` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How the fact is computed.
    pub definition: String,
    /// The audit activity groups (`auditActivities` keys) whose events can move the fact.
    #[serde(rename = "changedBy")]
    pub changed_by: Vec<String>,
}

/// Directory audit events of one kind: where Microsoft's audit log records a change that can
/// move a fact.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuditActivityGroup {
    /// What the events change, and which Entra service logs them.
    pub description: String,
    /// Category and activity names, as Microsoft's audit activity reference spells them.
    pub matches: Vec<AuditActivities>,
    /// Only events whose target is a group the connector reads (one a Conditional Access
    /// policy or a role assignment names) are kept.
    #[serde(default)]
    pub only_groups_the_connector_reads: bool,
}

/// Activities of one audit category.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditActivities {
    /// The event's `category`.
    pub category: String,
    /// The events' `activityDisplayName`s (compared without regard to case).
    pub activities: Vec<String>,
}

/// A built-in catalog file: its version, the documents its mappings cite, its facts and its
/// entries.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltInCatalog {
    /// Raised whenever an entry is added or changed.
    pub version: i32,
    /// Framework name → the document (and version) its control ids come from.
    pub sources: BTreeMap<String, String>,
    /// Named groups of directory audit activities the facts' `changedBy` refer to.
    #[serde(rename = "auditActivities")]
    pub audit_activities: BTreeMap<String, AuditActivityGroup>,
    /// The facts the entries read.
    pub facts: Vec<FactDefinition>,
    /// The entries.
    pub actions: Vec<ActionInput>,
}

/// How many entries the shipped catalog has (the rows a per-action list is priced at).
pub fn shipped_entries() -> usize {
    static ENTRIES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ENTRIES.get_or_init(|| BuiltInCatalog::shipped().map_or(1, |c| c.actions.len().max(1)))
}

impl BuiltInCatalog {
    /// The catalog this release ships.
    pub fn shipped() -> ApiResult<BuiltInCatalog> {
        BuiltInCatalog::parse(SHIPPED)
    }

    /// Reads and validates a catalog file.
    pub fn parse(text: &str) -> ApiResult<BuiltInCatalog> {
        let catalog: BuiltInCatalog = serde_json::from_str(text)
            .map_err(|e| ApiError::Internal(format!("built-in catalog is malformed: {e}")))?;
        for entry in &catalog.actions {
            validate(entry).map_err(|e| {
                ApiError::Internal(format!("built-in action {} is invalid: {e:?}", entry.id))
            })?;
        }
        Ok(catalog)
    }
}

/// What a start did to the catalog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatalogSync {
    /// Built-in entries the catalog did not have.
    pub added: usize,
    /// Built-in entries an older file wrote and this one changed.
    pub updated: usize,
    /// Built-in entries a platform admin changed, left as they are.
    pub kept: usize,
}

impl CatalogSync {
    /// Whether scores may have to follow.
    pub fn changed(&self) -> bool {
        self.added > 0 || self.updated > 0
    }
}

/// Brings the catalog up to the file this release ships (see [`sync_built_in_catalog`]).
pub async fn load_built_in_catalog(db: &DatabaseConnection) -> ApiResult<CatalogSync> {
    sync_built_in_catalog(db, &BuiltInCatalog::shipped()?).await
}

/// Brings the catalog up to `catalog`: adds its missing entries, updates entries an older
/// version of the file wrote (and nobody changed since), leaves entries a platform admin wrote
/// alone, and never lets an older file overwrite a newer one's entries (replicas of two
/// releases may start side by side). Safe to run on several replicas at once.
pub async fn sync_built_in_catalog(
    db: &DatabaseConnection,
    catalog: &BuiltInCatalog,
) -> ApiResult<CatalogSync> {
    let ids: Vec<String> = catalog.actions.iter().map(|a| a.id.clone()).collect();
    // Read before the transaction, which then only writes (on SQLite a transaction that reads
    // first cannot always take the write lock); each update is conditional on what was read.
    let existing: HashMap<String, action::Model> = action::Entity::find()
        .filter(action::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let now = Utc::now();
    let mut sync = CatalogSync::default();
    let mut missing = Vec::new();
    let txn = db.begin().await?;
    for entry in &catalog.actions {
        let Some(row) = existing.get(&entry.id) else {
            let mut fresh = active_model(entry, now, now)?;
            fresh.built_in_version = Set(Some(catalog.version));
            missing.push(fresh);
            continue;
        };
        match row.built_in_version {
            None => sync.kept += 1,
            Some(version) if version >= catalog.version => {}
            Some(_) => {
                let mut fresh = active_model(entry, row.created_at, row.updated_at)?;
                fresh.built_in_version = Set(row.built_in_version);
                let unchanged = fresh.clone().try_into_model()? == *row;
                fresh.built_in_version = Set(Some(catalog.version));
                if !unchanged {
                    fresh.updated_at = Set(now);
                }
                // Only while no admin (or other replica) wrote the entry since it was read.
                let written = action::Entity::update_many()
                    .set(fresh)
                    .filter(action::Column::Id.eq(entry.id.as_str()))
                    .filter(action::Column::BuiltInVersion.eq(row.built_in_version))
                    .exec(&txn)
                    .await?;
                if !unchanged && written.rows_affected > 0 {
                    sync.updated += 1;
                }
            }
        }
    }
    if !missing.is_empty() {
        // Replicas starting together both get here: the first one's rows win.
        let inserted = action::Entity::insert_many(missing)
            .on_conflict(
                OnConflict::column(action::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        sync.added = usize::try_from(inserted).unwrap_or(usize::MAX);
    }
    if sync.changed() {
        record_change(&txn, Changed::All).await?;
        notify_in_transaction(&txn, &[Event::CatalogChanged]).await?;
    }
    txn.commit().await?;
    Ok(sync)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_is_valid_and_keeps_the_first_eleven() {
        let catalog = BuiltInCatalog::shipped().unwrap();
        let scored: Vec<&ActionInput> = catalog.actions.iter().filter(|a| a.scored).collect();
        assert!(scored.len() >= 25, "{} scored actions", scored.len());
        assert!(catalog.actions.iter().all(|a| a.max_score <= 10.0));
        let first_eleven: f64 = catalog.actions[..11]
            .iter()
            .filter(|a| a.scored)
            .map(|a| a.max_score)
            .sum();
        assert_eq!(first_eleven, 56.0);
        assert_eq!(catalog.actions[0].id, "AdminMFA");
        assert_eq!(catalog.actions[10].id, "ReviewSignInReports");
    }

    #[test]
    fn every_scored_built_in_action_maps_to_cis_and_nist_sources_the_file_cites() {
        let catalog = BuiltInCatalog::shipped().unwrap();
        for entry in catalog.actions.iter().filter(|a| a.scored) {
            let frameworks: Vec<&str> = entry
                .compliance
                .iter()
                .map(|m| m.framework.as_str())
                .collect();
            assert!(
                frameworks.iter().any(|f| f.contains("CIS")),
                "{} has no CIS mapping",
                entry.id
            );
            assert!(
                frameworks.iter().any(|f| f.contains("800-53")),
                "{} has no NIST 800-53 mapping",
                entry.id
            );
            for framework in frameworks {
                assert!(catalog.sources.contains_key(framework), "{framework}");
            }
            assert!(
                entry.tier.is_some() && entry.action_type.is_some(),
                "{}",
                entry.id
            );
        }
    }

    #[test]
    fn every_fact_a_built_in_rule_reads_is_defined_once() {
        let catalog = BuiltInCatalog::shipped().unwrap();
        let defined: Vec<&str> = catalog.facts.iter().map(|f| f.path.as_str()).collect();
        let mut unique = defined.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), defined.len(), "a fact is defined twice");
        for entry in &catalog.actions {
            for path in entry.rule.fact_paths() {
                assert!(
                    defined.contains(&path),
                    "{}: {path} is not defined",
                    entry.id
                );
            }
        }
    }
}
