//! The partner application and connecting many directories to it at once (PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::types::directory::GraphConnection;
use crate::graphql::types::partner::{ConnectDirectoryResult, PartnerApplication};
use crate::msgraph::credential::Credential;
use crate::service::bulk_connect::{self, DirectoryEntry};
use crate::service::connections::parse_guid;
use crate::service::partner_application;

/// The partner application: a multi-tenant app registration's client id and exactly one
/// credential (a client secret, or a certificate with its private key). Write-only.
#[derive(InputObject)]
pub struct SetPartnerApplicationInput {
    /// The app registration's client (application) id, a GUID.
    pub client_id: String,
    /// A client secret.
    pub client_secret: Option<String>,
    /// A PEM X.509 certificate registered on the app.
    pub certificate_pem: Option<String>,
    /// The certificate's RSA private key, PEM (PKCS#8 or PKCS#1).
    pub private_key_pem: Option<String>,
}

/// One directory to connect through the partner application.
#[derive(InputObject)]
pub struct ConnectDirectoryInput {
    /// The tenant, created when missing.
    pub tenant_id: ID,
    /// Its name when created (the id when omitted).
    pub name: Option<String>,
    /// The Entra directory (tenant) id, a GUID.
    pub directory_id: String,
    /// Its industry when created.
    pub industry: Option<String>,
    /// Its licensed users when created (0 when omitted).
    pub seat_count: Option<i32>,
}

/// The partner application and bulk connects.
#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Sets (or rotates) the partner application (PLATFORM_ADMIN). The credential is stored
    /// encrypted and never shown again; every connection using it signs in with the new one
    /// from its next collection on.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_partner_application(
        &self,
        ctx: &Context<'_>,
        input: SetPartnerApplicationInput,
    ) -> async_graphql::Result<PartnerApplication> {
        ctx.viewer()?.require(Operation::ManagePartnerApplication)?;
        let client_id = parse_guid("clientId", &input.client_id)?;
        let credential = Credential::from_input(
            input.client_secret,
            input.certificate_pem,
            input.private_key_pem,
        )
        .map_err(ApiError::BadUserInput)?;
        let application = partner_application::set_partner_application(
            ctx.db()?,
            ctx.collector()?.secrets(),
            client_id,
            &credential,
        )
        .await?;
        Ok(PartnerApplication(application))
    }

    /// Connects up to 500 directories through the partner application, each tenant created
    /// when missing (PLATFORM_ADMIN). Each entry answers its connection (with its consent
    /// URL) or why it changed nothing; an entry already connected that way is left as it is.
    #[graphql(
        complexity = "crate::graphql::cost::mutation(child_complexity.saturating_mul(inputs.len().max(1)))"
    )]
    async fn connect_directories(
        &self,
        ctx: &Context<'_>,
        inputs: Vec<ConnectDirectoryInput>,
    ) -> async_graphql::Result<Vec<ConnectDirectoryResult>> {
        ctx.viewer()?.require(Operation::ManagePartnerApplication)?;
        let entries = inputs
            .into_iter()
            .map(|input| DirectoryEntry {
                tenant_id: input.tenant_id.0,
                name: input.name,
                directory_id: input.directory_id,
                industry: input.industry,
                seat_count: input.seat_count,
            })
            .collect();
        let outcomes = bulk_connect::connect_directories(ctx.db()?, entries).await?;
        ctx.collector()?.wake();
        Ok(outcomes
            .into_iter()
            .map(|outcome| {
                let (connection, error) = match outcome.result {
                    Ok(connection) => (Some(GraphConnection(connection)), None),
                    Err(error) => (None, Some(error)),
                };
                ConnectDirectoryResult {
                    tenant_id: ID(outcome.tenant_id),
                    connection,
                    error,
                }
            })
            .collect())
    }
}
