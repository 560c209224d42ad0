//! Migrations: the only source of securescore's tables, on SQLite and PostgreSQL alike.

pub use m20261207_000019_latest_action_scores::{LATEST_ACTIONS_FROM_HISTORY, TALLIES_FROM_LATEST};
pub use sea_orm_migration::prelude::*;

mod columns;

mod m20261125_000001_create_catalog_and_tenants;
mod m20261125_000002_create_snapshots_and_overrides;
mod m20261125_000003_create_scores;
mod m20261126_000004_rule_as_json;
mod m20261126_000005_scoring_runs;
mod m20261126_000006_tenant_goal;
mod m20261127_000007_score_versions;
mod m20261127_000008_alerts_and_webhooks;
mod m20261127_000009_latest_score_date;
mod m20261129_000010_change_sequences;
mod m20261129_000011_delivery_body;
mod m20261129_000012_run_scope;
mod m20261129_000013_graph_connections;
mod m20261129_000014_catalog_metadata;
mod m20261129_000015_action_plans;
mod m20261206_000016_licences_and_emergency_access;
mod m20261207_000017_directory_changes;
mod m20261207_000018_partner_application;
mod m20261207_000019_latest_action_scores;
mod m20261208_000020_shared_snapshot_facts;
mod m20261208_000021_action_score_sets;

/// Runs securescore's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_catalog_and_tenants::Migration),
            Box::new(m20261125_000002_create_snapshots_and_overrides::Migration),
            Box::new(m20261125_000003_create_scores::Migration),
            Box::new(m20261126_000004_rule_as_json::Migration),
            Box::new(m20261126_000005_scoring_runs::Migration),
            Box::new(m20261126_000006_tenant_goal::Migration),
            Box::new(m20261127_000007_score_versions::Migration),
            Box::new(m20261127_000008_alerts_and_webhooks::Migration),
            Box::new(m20261127_000009_latest_score_date::Migration),
            Box::new(m20261129_000010_change_sequences::Migration),
            Box::new(m20261129_000011_delivery_body::Migration),
            Box::new(m20261129_000012_run_scope::Migration),
            Box::new(m20261129_000013_graph_connections::Migration),
            Box::new(m20261129_000014_catalog_metadata::Migration),
            Box::new(m20261129_000015_action_plans::Migration),
            Box::new(m20261206_000016_licences_and_emergency_access::Migration),
            Box::new(m20261207_000017_directory_changes::Migration),
            Box::new(m20261207_000018_partner_application::Migration),
            Box::new(m20261207_000019_latest_action_scores::Migration),
            Box::new(m20261208_000020_shared_snapshot_facts::Migration),
            Box::new(m20261208_000021_action_score_sets::Migration),
        ]
    }
}
