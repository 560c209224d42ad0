//! securescore: scores tenants' security configuration against a catalog of improvement
//! actions once a day, keeps the history, compares tenants and explains score changes.
//!
//! This crate is the server: the GraphQL schema and its resolvers (`graphql`), the HTTP routes
//! (`http`), the command line and start-up. What it serves comes from the crates below it, named
//! here under their usual paths: `securescore-store` (services, pipeline, jobs, auth),
//! `securescore-msgraph` (the Graph connector) and `securescore-core` (domain and scoring).

pub mod cli;
pub mod config;
pub mod graphql;
pub mod http;
pub mod server;

pub use securescore_store::{
    auth, collector, db, demo, domain, error, events, jobs, msgraph, net, pipeline, scoring,
    secrets, service, telemetry, webhooks,
};
