//! The JWT claims securescore reads.

use serde::{Deserialize, Serialize};

/// Claims of a securescore bearer token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The caller's subject; recorded as `updatedBy` on overrides.
    pub sub: String,
    /// Role names, case-sensitive; unknown names grant nothing.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The caller's own tenant; absent for a PlatformAdmin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// Extra tenants, for partners who look after several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<String>>,
    /// Expiry, seconds since the epoch (required).
    pub exp: u64,
    /// Not valid before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Issuer, checked when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, checked when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}
