//! securescore: scores tenants' security configuration against a catalog of improvement
//! actions once a day, keeps the history, compares tenants and explains score changes.

pub mod auth;
pub mod cli;
pub mod collector;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graph;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod net;
pub mod pipeline;
pub mod scoring;
pub mod secrets;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod webhooks;
