//! Conditional Access as Graph returns it: policies, their conditions and controls,
//! authentication strengths, named locations, and what `beta` adds (token protection).

use serde::Deserialize;
use serde_json::Value;

use super::{Switch, null_as_empty, null_as_empty_list};

/// A Conditional Access policy, the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    /// The policy's id (joins it to what `beta` says of it).
    #[serde(default)]
    pub id: Option<String>,
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    #[serde(default)]
    pub state: String,
    /// Who and what the policy applies to.
    #[serde(default)]
    pub conditions: Conditions,
    /// What it requires; null for session-only policies.
    #[serde(default)]
    pub grant_controls: Option<GrantControls>,
    /// What it enforces after sign-in; null when nothing.
    #[serde(default)]
    pub session_controls: Option<SessionControls>,
}

/// A policy's session controls, the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControls {
    /// How often users must sign in again.
    #[serde(default)]
    pub sign_in_frequency: Option<SignInFrequency>,
    /// Whether the browser session persists.
    #[serde(default)]
    pub persistent_browser: Option<PersistentBrowser>,
}

/// `signInFrequencySessionControl`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInFrequency {
    /// Whether the control is on.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// `days` or `hours` (null with `everyTime`).
    #[serde(default, rename = "type")]
    pub unit: Option<String>,
    /// The number of days or hours.
    #[serde(default)]
    pub value: Option<i64>,
    /// `timeBased` or `everyTime`.
    #[serde(default)]
    pub frequency_interval: Option<String>,
}

impl SignInFrequency {
    /// Whether the control is on and asks for a sign-in every time.
    pub fn every_time(&self) -> bool {
        self.is_enabled == Some(true) && self.frequency_interval.as_deref() == Some("everyTime")
    }

    /// Whether the control is on and asks for a sign-in every time or at most every
    /// `max_hours` hours.
    pub fn within_hours(&self, max_hours: i64) -> bool {
        if self.every_time() {
            return true;
        }
        let hours = match (self.unit.as_deref(), self.value) {
            (Some("hours"), Some(value)) => value,
            (Some("days"), Some(value)) => value.saturating_mul(24),
            _ => return false,
        };
        self.is_enabled == Some(true) && hours > 0 && hours <= max_hours
    }
}

/// `persistentBrowserSessionControl`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentBrowser {
    /// Whether the control is on.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// `always` or `never`.
    #[serde(default)]
    pub mode: Option<String>,
}

impl PersistentBrowser {
    /// Whether the control is on and never persists the browser session.
    pub fn never(&self) -> bool {
        self.is_enabled == Some(true) && self.mode.as_deref() == Some("never")
    }
}

/// A policy's conditions.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    /// Applications.
    #[serde(default)]
    pub applications: Option<Applications>,
    /// Users, groups and roles.
    #[serde(default)]
    pub users: Option<UserConditions>,
    /// Client app types (`exchangeActiveSync`, `other`, `browser`, …).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub client_app_types: Vec<String>,
    /// Sign-in risk levels.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sign_in_risk_levels: Vec<String>,
    /// User risk levels.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub user_risk_levels: Vec<String>,
    /// Authentication flows (device code, authentication transfer).
    #[serde(default)]
    pub authentication_flows: Option<AuthenticationFlows>,
    /// Network locations.
    #[serde(default)]
    pub locations: Option<Locations>,
    /// Device platforms.
    #[serde(default)]
    pub platforms: Option<Platforms>,
}

/// A policy's device platform condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platforms {
    /// `all`, `windows`, `iOS`, …
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_platforms: Vec<String>,
}

/// A policy's location condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Locations {
    /// `All`, `AllTrusted` or named location ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_locations: Vec<String>,
    /// `AllTrusted` or named location ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_locations: Vec<String>,
}

/// A policy's authentication flows condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationFlows {
    /// Comma-separated flows: `deviceCodeFlow`, `authenticationTransfer`.
    #[serde(default)]
    pub transfer_methods: Option<String>,
}

impl AuthenticationFlows {
    /// Whether `flow` is among the transfer methods.
    pub fn includes(&self, flow: &str) -> bool {
        self.transfer_methods
            .as_deref()
            .is_some_and(|methods| methods.split(',').any(|m| m.trim() == flow))
    }
}

/// A policy's application condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applications {
    /// Applications included (`All`, `Office365`, app ids).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_applications: Vec<String>,
    /// User actions included (`urn:user:registersecurityinfo`, `urn:user:registerdevice`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_user_actions: Vec<String>,
}

/// A policy's user condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserConditions {
    /// `All`, `None`, `GuestsOrExternalUsers` or user ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_users: Vec<String>,
    /// User ids (or `GuestsOrExternalUsers`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_users: Vec<String>,
    /// Group ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_groups: Vec<String>,
    /// Group ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_groups: Vec<String>,
    /// Role template ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_roles: Vec<String>,
    /// Role template ids.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_roles: Vec<String>,
    /// Guests and external users included, by kind.
    #[serde(default)]
    pub include_guests_or_external_users: Option<GuestsOrExternalUsers>,
    /// Guests and external users excluded, by kind.
    #[serde(default)]
    pub exclude_guests_or_external_users: Option<GuestsOrExternalUsers>,
}

/// `conditionalAccessGuestsOrExternalUsers`: the kinds of guest or external user named.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestsOrExternalUsers {
    /// Comma-separated kinds: `internalGuest`, `b2bCollaborationGuest`,
    /// `b2bCollaborationMember`, `b2bDirectConnectUser`, `otherExternalUser`, `serviceProvider`.
    #[serde(default)]
    pub guest_or_external_user_types: Option<String>,
}

impl GuestsOrExternalUsers {
    /// Whether `kind` is among the kinds named.
    pub fn names(&self, kind: &str) -> bool {
        self.guest_or_external_user_types
            .as_deref()
            .is_some_and(|types| types.split(',').any(|t| t.trim() == kind))
    }
}

/// One side (include or exclude) of a policy's user condition.
pub struct Side<'a> {
    /// User ids, `All` (include side), `GuestsOrExternalUsers`.
    pub users: &'a [String],
    /// Role template ids.
    pub roles: &'a [String],
    /// Group ids.
    pub groups: &'a [String],
    /// Guests and external users by kind.
    pub guests: Option<&'a GuestsOrExternalUsers>,
    /// True on the include side, where `All` counts.
    pub include: bool,
}

impl UserConditions {
    /// Who the policy includes.
    pub fn include_side(&self) -> Side<'_> {
        Side {
            users: &self.include_users,
            roles: &self.include_roles,
            groups: &self.include_groups,
            guests: self.include_guests_or_external_users.as_ref(),
            include: true,
        }
    }

    /// Who the policy excludes.
    pub fn exclude_side(&self) -> Side<'_> {
        Side {
            users: &self.exclude_users,
            roles: &self.exclude_roles,
            groups: &self.exclude_groups,
            guests: self.exclude_guests_or_external_users.as_ref(),
            include: false,
        }
    }
}

/// A policy's grant controls.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    /// `block`, `mfa`, `passwordChange`, `compliantDevice`, …
    #[serde(default, deserialize_with = "null_as_empty")]
    pub built_in_controls: Vec<String>,
    /// The authentication strength required, if any.
    #[serde(default)]
    pub authentication_strength: Option<AuthenticationStrength>,
}

/// The built-in Phishing-resistant MFA authentication strength.
const PHISHING_RESISTANT_STRENGTH: &str = "00000000-0000-0000-0000-000000000004";
/// Method combinations that resist phishing.
const PHISHING_RESISTANT_COMBINATIONS: [&str; 3] = [
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
];

/// An authentication strength a policy grants with.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrength {
    /// The strength's id (built-in ones are `00000000-0000-0000-0000-00000000000N`).
    #[serde(default)]
    pub id: Option<String>,
    /// The method combinations it allows.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub allowed_combinations: Vec<String>,
}

impl AuthenticationStrength {
    /// The built-in Phishing-resistant MFA strength, or one allowing only phishing-resistant
    /// combinations.
    pub fn is_phishing_resistant(&self) -> bool {
        self.id.as_deref() == Some(PHISHING_RESISTANT_STRENGTH)
            || (!self.allowed_combinations.is_empty()
                && self
                    .allowed_combinations
                    .iter()
                    .all(|c| PHISHING_RESISTANT_COMBINATIONS.contains(&c.as_str())))
    }
}

/// One named location of `/identity/conditionalAccess/namedLocations`.
#[derive(Clone, Debug, Deserialize)]
pub struct NamedLocation {
    /// `#microsoft.graph.ipNamedLocation` or `#microsoft.graph.countryNamedLocation`.
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// The location's id, as policies name it.
    pub id: String,
    /// Whether the location is marked trusted (IP locations only).
    #[serde(default, rename = "isTrusted")]
    pub is_trusted: Option<bool>,
    /// Its IP ranges (IP locations only).
    #[serde(default, rename = "ipRanges", deserialize_with = "null_as_empty_list")]
    pub ip_ranges: Vec<Value>,
}

impl NamedLocation {
    /// A trusted IP location with at least one range.
    pub fn is_trusted_ip_range(&self) -> bool {
        self.odata_type.as_deref() == Some("#microsoft.graph.ipNamedLocation")
            && self.is_trusted == Some(true)
            && !self.ip_ranges.is_empty()
    }
}

/// What `beta` says of a Conditional Access policy beyond v1.0: whether its session is bound to
/// the device.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaPolicySession {
    /// The policy's id.
    pub id: String,
    /// Its session controls.
    #[serde(default)]
    pub session_controls: Option<BetaSessionControls>,
}

/// `beta` session controls: `secureSignInSession`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaSessionControls {
    /// Token protection.
    #[serde(default)]
    pub secure_sign_in_session: Option<Switch>,
}

impl BetaPolicySession {
    /// Whether the policy binds sign-in sessions to the device.
    pub fn binds_session(&self) -> bool {
        self.session_controls
            .as_ref()
            .and_then(|c| c.secure_sign_in_session.as_ref())
            .and_then(|s| s.is_enabled)
            == Some(true)
    }
}
