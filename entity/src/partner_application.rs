//! The installation's partner application: one multi-tenant app registration that customers'
//! admins consent to, so that one credential signs in to many directories.

use sea_orm::entity::prelude::*;

use crate::enums::CredentialKind;

/// The one row of `partner_applications` (id 1).
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_applications")]
pub struct Model {
    /// Always 1: an installation has one partner application.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The multi-tenant app registration's client id.
    pub client_id: String,
    /// SECRET or CERTIFICATE.
    pub credential_kind: CredentialKind,
    /// The credential, sealed under the secrets key; never shown.
    pub credential: String,
    /// When first set.
    pub created_at: DateTimeUtc,
    /// When last set (a rotation).
    pub updated_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("partner_application::Model")
            .field("client_id", &self.client_id)
            .field("credential_kind", &self.credential_kind)
            .field("credential", &"[sealed]")
            .finish_non_exhaustive()
    }
}

/// Relations of `partner_applications` (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
