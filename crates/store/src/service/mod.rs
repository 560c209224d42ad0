//! Use cases over the database: each function is one unit of work, with its own transaction
//! where it writes more than one row.

pub mod action_rollup;
pub mod action_sets;
pub mod alerts;
pub mod bulk_connect;
pub mod catalog;
pub mod change_seq;
pub mod comparisons;
pub mod connection_state;
pub mod connections;
pub mod consent;
pub mod daily_scores;
pub mod directory_changes;
pub mod emergency_access;
pub mod epoch;
pub mod estate;
pub mod export;
pub mod overrides;
pub mod pagination;
pub mod partner_application;
pub mod plans;
pub mod portfolio;
pub mod reference_cache;
pub mod runs;
pub mod score_cache;
pub mod score_reads;
pub mod snapshots;
pub mod tenants;
pub mod trends;
pub mod webhooks;
