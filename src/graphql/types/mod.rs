//! API shapes, built from entities with `From`, so no column reaches the schema by accident.

pub mod action;
pub mod alerts;
pub mod comparison;
pub mod connection;
pub mod diff;
pub mod directory;
pub mod directory_change;
pub mod estate;
pub mod overrides;
pub mod partner;
pub mod planning;
pub mod portfolio;
pub mod run;
pub mod score;
pub mod snapshot;
pub mod tenant;
pub mod viewer;
pub mod webhooks;

pub use overrides::ActionOverrideConnection;
pub use run::ScoringRunConnection;
pub use snapshot::SnapshotConnection;
pub use tenant::TenantConnection;
