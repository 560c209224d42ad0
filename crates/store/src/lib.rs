//! securescore's stored side: the tables' use cases (`service`), the scoring pipeline, the job
//! engine and its jobs (scoring tasks, collections, webhook deliveries), the events and caches,
//! who may do what (`auth`), and the demo data. It knows no GraphQL schema and no HTTP route;
//! the server crate (`src/`) serves it. See `docs/design.md`, "Crates and layers".

pub mod auth;
pub mod collector;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod jobs;
pub mod pipeline;
pub mod secrets;
pub mod service;
pub mod telemetry;
pub mod webhooks;

pub use securescore_core::{domain, scoring};
pub use securescore_msgraph as msgraph;
pub use securescore_msgraph::net;
