//! `PartnerApplication` and `ConnectDirectoryResult`: the installation's multi-tenant app
//! registration (its credential has no field) and one line of a bulk connect.

use async_graphql::{ID, Object, SimpleObject};
use entity::enums::CredentialKind;
use entity::partner_application;

use super::directory::GraphConnection;
use crate::graphql::scalars::DateTime;

/// The installation's partner application; the credential is write-only.
pub struct PartnerApplication(pub partner_application::Model);

/// The multi-tenant app registration customers' admins consent to, so that one credential
/// signs in to each of their directories.
#[Object]
impl PartnerApplication {
    /// Its client (application) id.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// SECRET or CERTIFICATE.
    async fn credential_kind(&self) -> CredentialKind {
        self.0.credential_kind
    }

    /// When first set.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When last set (the credential's last rotation).
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

/// One entry of `connectDirectories`: its connection, or why it changed nothing.
#[derive(SimpleObject)]
pub struct ConnectDirectoryResult {
    /// The tenant the entry named.
    pub tenant_id: ID,
    /// The connection as stored; null when the entry was refused.
    pub connection: Option<GraphConnection>,
    /// Why the entry was refused; null when it went through.
    pub error: Option<String>,
}
