//! The `Viewer` type: who the token says the caller is.

use async_graphql::{ID, SimpleObject};

use crate::auth;
use crate::domain::Role;

/// The caller, as the bearer token describes them.
#[derive(SimpleObject)]
#[graphql(name = "Viewer")]
pub struct ViewerInfo {
    /// The token's subject.
    pub subject: String,
    /// Roles the token grants (unknown role names are dropped).
    pub roles: Vec<Role>,
    /// Tenants within reach (`tid` and `tenants`).
    pub tenant_ids: Vec<ID>,
}

impl From<&auth::Viewer> for ViewerInfo {
    fn from(viewer: &auth::Viewer) -> Self {
        ViewerInfo {
            subject: viewer.subject.clone(),
            roles: viewer.roles.iter().copied().collect(),
            tenant_ids: viewer.tenant_ids.iter().cloned().map(ID).collect(),
        }
    }
}
