//! Integration tests: a real server on port 0, its own database, GraphQL over HTTP.

mod alerts;
mod auth;
mod cache;
mod catalog;
mod cursors;
mod demo;
mod estate;
mod export;
mod helpers;
mod http_spec;
mod hygiene;
mod keys;
mod limits;
mod operate;
mod outage;
mod pipeline;
mod replicas;
mod roles;
mod round_trips;
mod schema;
mod scoring;
mod snapshots;
mod subscriptions;
mod tenants;
mod text;
mod versions;
