//! Connecting a tenant's Microsoft Entra directory and collecting it now.

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::types::directory::{CollectionRun, GraphConnection};
use crate::graphql::types::tenant::Tenant;
use crate::msgraph::credential::Credential;
use crate::service::connections::{self, ConnectionInput, SignIn, parse_guid};
use crate::service::{emergency_access, tenants};

/// A directory connection: the directory, the app registration, and exactly one credential
/// (a client secret, or a certificate with its private key). The credential is write-only.
#[derive(InputObject)]
pub struct SetGraphConnectionInput {
    /// The tenant connected.
    pub tenant_id: ID,
    /// The Entra directory (tenant) id, a GUID.
    pub directory_id: String,
    /// The app registration's client (application) id, a GUID; omitted when it signs in as
    /// the partner application.
    pub client_id: Option<String>,
    /// A client secret.
    pub client_secret: Option<String>,
    /// A PEM X.509 certificate registered on the app.
    pub certificate_pem: Option<String>,
    /// The certificate's RSA private key, PEM (PKCS#8 or PKCS#1).
    pub private_key_pem: Option<String>,
    /// Collected on schedule and on request.
    #[graphql(default = true)]
    pub enabled: bool,
    /// Sign in as the installation's partner application (its admin consents through
    /// `consentUrl`); `clientId` and the credential are then omitted.
    #[graphql(default = false)]
    pub use_partner_application: bool,
}

/// Directory connections and collections.
#[derive(Default)]
pub struct ConnectionMutation;

/// Checks the caller may do `op` on the tenant and that it exists (`reachable_tenant`).
async fn reachable_tenant(
    ctx: &Context<'_>,
    op: Operation,
    tenant_id: &str,
) -> async_graphql::Result<()> {
    tenants::reachable_tenant(ctx.db()?, ctx.viewer()?, op, tenant_id).await?;
    Ok(())
}

#[Object]
impl ConnectionMutation {
    /// Connects (or reconnects) a tenant's Entra directory; it is collected within a scheduler
    /// tick (GLOBAL_ADMIN of the tenant, PLATFORM_ADMIN). The credential is stored encrypted
    /// and never shown again.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_graph_connection(
        &self,
        ctx: &Context<'_>,
        input: SetGraphConnectionInput,
    ) -> async_graphql::Result<GraphConnection> {
        reachable_tenant(ctx, Operation::ManageConnection, &input.tenant_id).await?;
        let directory_id = parse_guid("directoryId", &input.directory_id)?;
        let sign_in = if input.use_partner_application {
            let own = [
                &input.client_id,
                &input.client_secret,
                &input.certificate_pem,
                &input.private_key_pem,
            ];
            if own.iter().any(|field| field.is_some()) {
                return Err(ApiError::BadUserInput(
                    "a connection that signs in as the partner application has no clientId or credential of its own"
                        .into(),
                )
                .into());
            }
            SignIn::PartnerApplication
        } else {
            let client_id = input.client_id.as_deref().ok_or_else(|| {
                ApiError::BadUserInput("give clientId, or usePartnerApplication: true".into())
            })?;
            SignIn::Own {
                client_id: parse_guid("clientId", client_id)?,
                credential: Credential::from_input(
                    input.client_secret,
                    input.certificate_pem,
                    input.private_key_pem,
                )
                .map_err(ApiError::BadUserInput)?,
            }
        };
        let collector = ctx.collector()?;
        let connection = connections::set_connection(
            ctx.db()?,
            collector.secrets(),
            ConnectionInput {
                tenant_id: input.tenant_id.0,
                directory_id,
                sign_in,
                enabled: input.enabled,
            },
        )
        .await?;
        collector.wake();
        Ok(GraphConnection(connection))
    }

    /// Deletes a tenant's directory connection and its credential; answers the tenant id
    /// (GLOBAL_ADMIN of the tenant, PLATFORM_ADMIN). Past collections stay.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn delete_graph_connection(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> async_graphql::Result<ID> {
        reachable_tenant(ctx, Operation::ManageConnection, &tenant_id).await?;
        connections::delete_connection(ctx.db()?, &tenant_id).await?;
        Ok(tenant_id)
    }

    /// Collects the tenant's directory now, or joins the collection under way; waits up to
    /// `--recompute-wait` and answers the collection as it stands (GLOBAL_ADMIN,
    /// SECURITY_ADMIN, PLATFORM_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn collect_now(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> async_graphql::Result<CollectionRun> {
        reachable_tenant(ctx, Operation::CollectNow, &tenant_id).await?;
        let viewer = ctx.viewer()?;
        let collector = ctx.collector()?;
        let run = connections::request_collection(
            ctx.db()?,
            &tenant_id,
            Some(&viewer.subject),
            collector.collect_interval(),
        )
        .await?;
        collector.wake();
        let run = collector
            .wait_for(run.id, collector.wait())
            .await?
            .unwrap_or(run);
        Ok(CollectionRun(run))
    }

    /// Names the tenant's emergency access accounts, Entra user object ids, at most 4 (an
    /// empty list clears them) (GLOBAL_ADMIN of the tenant, PLATFORM_ADMIN). A connected
    /// directory is collected again; an id the directory does not hold is a warning on that
    /// collection.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_emergency_access_accounts(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        user_ids: Vec<String>,
    ) -> async_graphql::Result<Tenant> {
        ctx.viewer()?
            .require_on_tenant(Operation::ManageConnection, &tenant_id)?;
        let db = ctx.db()?;
        let tenant = emergency_access::set_emergency_accounts(db, &tenant_id, &user_ids).await?;
        let connected = connections::find_connection(db, &tenant_id)
            .await?
            .is_some_and(|c| c.enabled);
        if connected {
            let viewer = ctx.viewer()?;
            let collector = ctx.collector()?;
            connections::request_collection(
                db,
                &tenant_id,
                Some(&viewer.subject),
                collector.collect_interval(),
            )
            .await?;
            collector.wake();
        }
        Ok(tenant.into())
    }
}
