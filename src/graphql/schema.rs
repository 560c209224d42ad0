//! The one schema builder, used by the server, the tests and the SDL export.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Response, SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use super::document_limits::DocumentLimits;
use super::input_text::InputText;
use super::loaders::RequestLoaders;
use super::mutation::Mutation;
use super::operation_name::NameOperations;
use super::query::Query;
use super::response_order::ResponseOrder;
use super::subscription::SubscriptionRoot;
use crate::config::{RequestLimits, ScoringConfig, WebhookConfig};
use crate::pipeline::Pipeline;

/// The served schema.
pub type AppSchema = Schema<Query, Mutation, SubscriptionRoot>;

/// The schema's types, without data or limits.
fn schema_builder() -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .extension(ExecutionMarker)
}

/// The served schema with its data, DataLoaders and limits attached.
pub fn build_schema(
    db: DatabaseConnection,
    pipeline: Pipeline,
    scoring: ScoringConfig,
    webhooks: WebhookConfig,
    limits: &RequestLimits,
) -> AppSchema {
    schema_builder()
        .extension(RequestLoaders(db.clone(), pipeline.score_cache().clone()))
        .extension(ResponseOrder)
        .extension(NameOperations)
        .extension(InputText)
        .data(db)
        .data(pipeline)
        .data(scoring)
        .data(webhooks)
        .extension(DocumentLimits {
            max_fields: limits.max_fields,
        })
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The schema in SDL, sorted, as checked in at `schema.graphql`.
pub fn schema_sdl() -> String {
    schema_builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}

/// Set once execution starts: a response without it failed as a request (parse, validation,
/// limits), which GraphQL over HTTP answers differently from a field error.
#[derive(Clone, Default)]
pub struct ExecutionStarted(Arc<AtomicBool>);

impl ExecutionStarted {
    /// Whether the operation reached execution.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Marks `ExecutionStarted` in the request's data.
struct ExecutionMarker;

impl ExtensionFactory for ExecutionMarker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ExecutionMarker)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ExecutionMarker {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(flag) = ctx.data_opt::<ExecutionStarted>() {
            flag.0.store(true, Ordering::SeqCst);
        }
        next.run(ctx, operation_name).await
    }
}
