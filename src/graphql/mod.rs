//! The GraphQL API: one schema builder, thin API types, resolvers that go through the viewer.

pub mod budget;
pub mod context;
pub mod cost;
pub mod document_limits;
pub mod input_text;
pub mod loaders;
pub mod mutation;
pub mod operation;
pub mod parse_cache;
pub mod prefetch;
pub mod prices;
pub mod query;
pub mod response_order;
pub mod runs_query;
pub mod scalars;
pub mod schema;
pub mod subscription;
pub mod types;

pub use schema::{AppSchema, build_schema, schema_sdl};
