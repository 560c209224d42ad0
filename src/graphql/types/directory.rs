//! `GraphConnection`, `CollectionRun` and `EndpointResult`: a tenant's directory connection
//! and its collections. The credential has no field.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::enums::{CollectionStatus, ConnectionStatus, CredentialKind};
use entity::{collection_run, graph_connection, partner_application};

use super::connection::connection_types;
use super::snapshot::Snapshot;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::load_snapshot;
use crate::graphql::scalars::DateTime;
use crate::msgraph::collect::EndpointOutcome;
use crate::service::consent;
use crate::service::partner_application::find_partner_application;

connection_types!(
    CollectionRunConnection,
    CollectionRunEdge,
    CollectionRun,
    "collections"
);

/// A tenant's connection to its Microsoft Entra directory.
pub struct GraphConnection(pub graph_connection::Model);

/// A tenant's connection to its Microsoft Entra directory; the credential is write-only.
#[Object]
impl GraphConnection {
    /// The tenant connected.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// The Entra directory (tenant) id.
    async fn directory_id(&self) -> &str {
        &self.0.directory_id
    }

    /// The app registration's client (application) id: the partner application's when the
    /// connection signs in as it (empty while none is set).
    async fn client_id(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(match self.partner_application(ctx).await? {
            Some(application) => application.client_id,
            None if self.0.uses_partner_application => String::new(),
            None => self.0.client_id.clone(),
        })
    }

    /// SECRET or CERTIFICATE (the partner application's when it signs in as it).
    async fn credential_kind(&self, ctx: &Context<'_>) -> async_graphql::Result<CredentialKind> {
        Ok(self
            .partner_application(ctx)
            .await?
            .map_or(self.0.credential_kind, |a| a.credential_kind))
    }

    /// Signs in as the installation's partner application.
    async fn uses_partner_application(&self) -> bool {
        self.0.uses_partner_application
    }

    /// The admin consent link to send the directory's admin, valid 30 days from today (the
    /// same link all day);
    /// null unless the connection signs in as the partner application, one is set, and the
    /// server knows its public address (`--public-url`).
    async fn consent_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(application) = self.partner_application(ctx).await? else {
            return Ok(None);
        };
        let collector = ctx.collector()?;
        let state = consent::sign_state(
            collector.secrets(),
            &self.0.tenant_id,
            &self.0.directory_id,
            chrono::Utc::now(),
        );
        Ok(state.and_then(|state| {
            consent::consent_url(
                collector.config(),
                &application.client_id,
                &self.0.directory_id,
                &state,
            )
        }))
    }

    /// When the directory's admin consented to the partner application through its link
    /// (cleared when a collection finds the consent missing).
    async fn consented_at(&self) -> Option<DateTime> {
        self.0.consented_at.map(DateTime)
    }

    /// What Microsoft answered when the admin did not consent (`error: description`).
    async fn consent_error(&self) -> Option<&str> {
        self.0.consent_error.as_deref()
    }

    /// Collected on schedule and on request.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Where the connection stands after its last collection.
    async fn status(&self) -> ConnectionStatus {
        self.0.status
    }

    /// When the last collection that stored a snapshot ended.
    async fn last_collected_at(&self) -> Option<DateTime> {
        self.0.last_collected_at.map(DateTime)
    }

    /// Why the last collection failed, or which endpoints it left out.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// Application permissions the last collection found missing (a 403's endpoint).
    async fn missing_permissions(&self) -> Vec<String> {
        serde_json::from_value(self.0.missing_permissions.clone()).unwrap_or_default()
    }

    /// When connected.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

impl GraphConnection {
    /// The partner application, when this connection signs in as it and one is set.
    async fn partner_application(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<partner_application::Model>> {
        if !self.0.uses_partner_application {
            return Ok(None);
        }
        Ok(find_partner_application(ctx.db()?).await?)
    }
}

/// One collection of a tenant's directory.
pub struct CollectionRun(pub collection_run::Model);

impl From<collection_run::Model> for CollectionRun {
    fn from(row: collection_run::Model) -> Self {
        CollectionRun(row)
    }
}

/// One collection of a tenant's directory from Microsoft Graph.
#[Object]
impl CollectionRun {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant collected.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// Where it stands.
    async fn status(&self) -> CollectionStatus {
        self.0.status
    }

    /// Token subject of who asked; null for scheduled collections.
    async fn requested_by(&self) -> Option<&str> {
        self.0.requested_by.as_deref()
    }

    /// When it was queued.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When a replica first claimed it.
    async fn started_at(&self) -> Option<DateTime> {
        self.0.started_at.map(DateTime)
    }

    /// When it ended.
    async fn finished_at(&self) -> Option<DateTime> {
        self.0.finished_at.map(DateTime)
    }

    /// The snapshot it stored; null when it stored none.
    async fn snapshot(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Snapshot>> {
        let Some(id) = self.0.snapshot_id else {
            return Ok(None);
        };
        Ok(Some(Snapshot(load_snapshot(ctx, id).await?)))
    }

    /// What each request answered: the token endpoint when sign-in failed, else every Graph
    /// endpoint read.
    async fn endpoints(&self) -> Vec<EndpointResult> {
        serde_json::from_value::<Vec<EndpointOutcome>>(self.0.endpoints.clone())
            .unwrap_or_default()
            .into_iter()
            .map(EndpointResult::from)
            .collect()
    }

    /// What the collection noticed without failing for it: a group a policy names that no
    /// longer exists, an emergency access account that does not count as one.
    async fn warnings(&self) -> Vec<String> {
        self.0
            .warnings
            .clone()
            .and_then(|w| serde_json::from_value(w).ok())
            .unwrap_or_default()
    }
}

/// What one endpoint answered during a collection.
#[derive(SimpleObject)]
pub struct EndpointResult {
    /// The Graph path without version or query, e.g. `/domains`.
    pub name: String,
    /// The last HTTP status; null when nothing answered.
    pub http_status: Option<i32>,
    /// Items read.
    pub items: i32,
    /// Tries of the request that took most (429, 503, 504 and transport errors are retried).
    pub attempts: i32,
    /// Why it failed.
    pub error: Option<String>,
    /// The application permission a 403 means is missing.
    pub missing_permission: Option<String>,
    /// The error code of a 403 that says the tenant lacks a licence (e.g.
    /// `Authentication_RequestFromNonPremiumTenantOrB2CTenant`): no permission would help.
    pub missing_license: Option<String>,
}

impl From<EndpointOutcome> for EndpointResult {
    fn from(outcome: EndpointOutcome) -> Self {
        EndpointResult {
            name: outcome.name,
            http_status: outcome.http_status.map(i32::from),
            items: i32::try_from(outcome.items).unwrap_or(i32::MAX),
            attempts: i32::try_from(outcome.attempts).unwrap_or(i32::MAX),
            error: outcome.error,
            missing_permission: outcome.missing_permission,
            missing_license: outcome.missing_license,
        }
    }
}
