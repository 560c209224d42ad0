//! securescore: scores tenants' security configuration against a catalog of improvement
//! actions once a day, keeps the history, compares tenants and explains score changes.

pub mod auth;
pub mod cli;
pub mod collector;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod pipeline;
pub mod secrets;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod webhooks;

pub use securescore_core::{domain, scoring};
pub use securescore_msgraph as msgraph;
pub use securescore_msgraph::net;
