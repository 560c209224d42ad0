//! Mutation root: one object per domain, merged.

mod alerts;
mod catalog;
mod overrides;
mod scoring;
mod snapshots;
mod tenants;
mod webhooks;

use async_graphql::MergedObject;

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct Mutation(
    tenants::TenantMutation,
    catalog::CatalogMutation,
    snapshots::SnapshotMutation,
    overrides::OverrideMutation,
    scoring::ScoringMutation,
    alerts::AlertMutation,
    webhooks::WebhookMutation,
);
