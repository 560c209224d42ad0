//! A tenant's connection to its Microsoft Entra directory through Microsoft Graph.

use sea_orm::entity::prelude::*;

use crate::enums::{ConnectionStatus, CredentialKind};

/// One row of `graph_connections` (one per tenant).
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "graph_connections")]
pub struct Model {
    /// The tenant connected.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The Entra directory (tenant) id, a GUID.
    pub directory_id: String,
    /// The app registration's client id; empty when it signs in as the partner application.
    pub client_id: String,
    /// SECRET or CERTIFICATE (the partner application's is read at each collection).
    pub credential_kind: CredentialKind,
    /// The credential, sealed under the secrets key; never shown; empty when it signs in as
    /// the partner application.
    pub credential: String,
    /// Collected on schedule and on request.
    pub enabled: bool,
    /// After the last collection.
    pub status: ConnectionStatus,
    /// When the last successful or partial collection ended.
    pub last_collected_at: Option<DateTimeUtc>,
    /// Why the last collection failed or was partial.
    pub last_error: Option<String>,
    /// Permissions the last collection found missing (JSON array of names).
    pub missing_permissions: Json,
    /// When the scheduler next plans a collection.
    pub next_collect_at: DateTimeUtc,
    /// When connected.
    pub created_at: DateTimeUtc,
    /// When last changed.
    pub updated_at: DateTimeUtc,
    /// Where the next collection reads the audit log from: the start of the last collection
    /// whose audit read succeeded (none before the first: the last 7 days).
    pub audit_read_from: Option<DateTimeUtc>,
    /// Signs in as the installation's partner application rather than with its own.
    pub uses_partner_application: bool,
    /// When the directory's admin consented to the partner application (through its link).
    pub consented_at: Option<DateTimeUtc>,
    /// What Microsoft said when the admin did not consent (`error: description`).
    pub consent_error: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("graph_connection::Model")
            .field("tenant_id", &self.tenant_id)
            .field("directory_id", &self.directory_id)
            .field("client_id", &self.client_id)
            .field("credential_kind", &self.credential_kind)
            .field("credential", &"[sealed]")
            .field("enabled", &self.enabled)
            .field("status", &self.status)
            .field("uses_partner_application", &self.uses_partner_application)
            .finish_non_exhaustive()
    }
}

/// Relations of `graph_connections` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
