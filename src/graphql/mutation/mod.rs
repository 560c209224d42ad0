//! Mutation root: one object per domain, merged, behind a root that gives the request fresh
//! loaders after each mutation field, so that a later field of the same request reads what an
//! earlier one changed.

mod alerts;
mod catalog;
mod connections;
mod overrides;
mod partner;
mod planning;
mod scoring;
mod snapshots;
mod tenants;
mod webhooks;

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, MergedObject, ObjectType, OutputType, Positioned, ServerResult,
    Value, registry,
};

use super::loaders::RequestScope;

/// The mutation root.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationFields(
    tenants::TenantMutation,
    catalog::CatalogMutation,
    snapshots::SnapshotMutation,
    overrides::OverrideMutation,
    scoring::ScoringMutation,
    alerts::AlertMutation,
    webhooks::WebhookMutation,
    connections::ConnectionMutation,
    partner::PartnerMutation,
    planning::PlanningMutation,
);

/// What the schema runs as its mutation root: `MutationFields`, with the request's scope renewed
/// after each of its fields (mutation fields run one after another).
#[derive(Default)]
pub struct Mutation(MutationFields);

impl ContainerType for Mutation {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let resolved = self.0.resolve_field(ctx).await;
        if let Some(scope) = ctx.data_opt::<Arc<RequestScope>>() {
            scope.renew();
        }
        resolved
    }
}

impl OutputType for Mutation {
    fn type_name() -> Cow<'static, str> {
        MutationFields::type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        MutationFields::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl ObjectType for Mutation {}
