//! What a collection read from Microsoft Graph, parsed into the parts the facts use. A part is
//! `None` when its endpoint failed: the facts that need it are left out, never guessed.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

/// The directory as one collection saw it.
#[derive(Debug, Default)]
pub struct Directory {
    /// `/users`.
    pub users: Option<Vec<DirectoryUser>>,
    /// `/reports/authenticationMethods/userRegistrationDetails`, by user id.
    pub registrations: Option<HashMap<String, RegistrationDetails>>,
    /// `/roleManagement/directory/roleAssignments?$expand=principal`.
    pub role_assignments: Option<Vec<RoleAssignment>>,
    /// `/groups/{id}/transitiveMembers`, for every group named: the user ids among the members.
    pub group_members: HashMap<String, Option<HashSet<String>>>,
    /// `/identity/conditionalAccess/policies`.
    pub policies: Option<Vec<ConditionalAccessPolicy>>,
    /// `/domains`.
    pub domains: Option<Vec<Domain>>,
    /// `/policies/authorizationPolicy`.
    pub authorization_policy: Option<AuthorizationPolicy>,
    /// `/policies/authenticationMethodsPolicy`.
    pub authentication_methods_policy: Option<AuthenticationMethodsPolicy>,
    /// `/policies/identitySecurityDefaultsEnforcementPolicy`: `isEnabled`.
    pub security_defaults_enabled: Option<bool>,
    /// `/policies/adminConsentRequestPolicy`: `isEnabled`.
    pub admin_consent_workflow_enabled: Option<bool>,
    /// `/subscribedSkus`.
    pub subscribed_skus: Option<Vec<SubscribedSku>>,
    /// `/groupSettings`: the tenant-wide directory settings.
    pub group_settings: Option<Vec<GroupSetting>>,
    /// `/policies/deviceRegistrationPolicy`.
    pub device_registration_policy: Option<DeviceRegistrationPolicy>,
    /// `/policies/defaultAppManagementPolicy`.
    pub app_management_policy: Option<AppManagementPolicy>,
    /// `/identity/conditionalAccess/namedLocations`.
    pub named_locations: Option<Vec<NamedLocation>>,
    /// `/roleManagement/directory/roleAssignmentScheduleInstances`: active role assignments
    /// as Privileged Identity Management records them.
    pub active_assignments: Option<Vec<ActiveAssignment>>,
    /// `/policies/roleManagementPolicyAssignments` for directory roles, with their rules.
    pub role_policies: Option<Vec<RolePolicyAssignment>>,
    /// `/identityGovernance/accessReviews/definitions`.
    pub access_reviews: Option<Vec<AccessReviewDefinition>>,
    /// `beta/identity/conditionalAccess/policies`: the ids of the policies whose session is
    /// bound to the device (token protection, which v1.0 does not have).
    pub token_protected_policies: Option<HashSet<String>>,
    /// `beta/…/authenticationMethodConfigurations/MicrosoftAuthenticator`: Microsoft
    /// Authenticator with its companion-app setting (which v1.0 does not have).
    pub authenticator_beta: Option<MethodConfiguration>,
    /// The tenant's emergency access accounts (user object ids), left out of every coverage
    /// fact.
    pub emergency_accounts: HashSet<String>,
    /// When the collection read the directory: restrictions dated after it do not apply yet.
    pub collected_at: chrono::DateTime<chrono::Utc>,
    /// Each user's guest or external kind, built from `users` on first use.
    pub external_kinds: std::sync::OnceLock<HashMap<String, Option<&'static str>>>,
}

/// One user of `/users`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    /// Object id.
    pub id: String,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Whether the account can sign in.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// True when the user is synchronized from on-premises Active Directory.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    /// `PendingAcceptance` or `Accepted` for a user invited from outside; null otherwise.
    #[serde(default)]
    pub external_user_state: Option<String>,
    /// The licences assigned to the user, by SKU.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub assigned_licenses: Vec<AssignedLicense>,
}

/// One licence assigned to a user: its SKU.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    /// The SKU's id, as `subscribedSkus` names it.
    pub sku_id: String,
}

impl DirectoryUser {
    /// A member: `userType` `Member` and `accountEnabled` true.
    pub fn is_member(&self) -> bool {
        self.user_type.as_deref() == Some("Member") && self.account_enabled == Some(true)
    }

    /// The user's kind as Conditional Access's `guestOrExternalUserTypes` names it; none for an
    /// internal member.
    pub fn external_kind(&self) -> Option<&'static str> {
        match (
            self.user_type.as_deref(),
            self.external_user_state.is_some(),
        ) {
            (Some("Guest"), true) => Some("b2bCollaborationGuest"),
            (Some("Guest"), false) => Some("internalGuest"),
            (Some("Member"), true) => Some("b2bCollaborationMember"),
            _ => None,
        }
    }
}

/// One row of `userRegistrationDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationDetails {
    /// The user's object id.
    pub id: String,
    /// Whether the user registered a strong authentication method.
    #[serde(default)]
    pub is_mfa_registered: bool,
    /// The methods registered (`mobilePhone`, `fido2`, `windowsHelloForBusiness`, …).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub methods_registered: Vec<String>,
}

/// Registered methods that resist phishing: passkeys (FIDO2, device-bound), Windows Hello for
/// Business and the macOS platform credential.
const PHISHING_RESISTANT_METHODS: [&str; 7] = [
    "fido2",
    "fido2SecurityKey",
    "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator",
    "passKeyDeviceBoundWindowsHello",
    "windowsHelloForBusiness",
    "macOsSecureEnclaveKey",
];

impl RegistrationDetails {
    /// Whether a phishing-resistant method is among those registered.
    pub fn has_phishing_resistant_method(&self) -> bool {
        self.methods_registered
            .iter()
            .any(|m| PHISHING_RESISTANT_METHODS.contains(&m.as_str()))
    }
}

/// Who holds a role assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A user.
    User,
    /// A (role-assignable) group.
    Group,
    /// A service principal or anything else: holds no user role.
    Other,
}

/// One active role assignment with its principal expanded. An assignment without its role or
/// principal id does not parse: the endpoint fails rather than losing an admin.
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "RawRoleAssignment")]
pub struct RoleAssignment {
    /// The role definition (for built-in roles, the template id).
    pub role_definition_id: String,
    /// `/` for the whole directory.
    pub directory_scope_id: String,
    /// The principal's object id.
    pub principal_id: String,
    /// What the principal is, from its `@odata.type`.
    pub principal_kind: PrincipalKind,
}

/// A role assignment as Graph sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoleAssignment {
    role_definition_id: String,
    #[serde(default)]
    directory_scope_id: Option<String>,
    principal_id: String,
    #[serde(default)]
    principal: Option<TypedObject>,
}

impl From<RawRoleAssignment> for RoleAssignment {
    fn from(raw: RawRoleAssignment) -> Self {
        let principal_kind = match raw.principal.as_ref().and_then(|p| p.odata_type.as_deref()) {
            Some("#microsoft.graph.user") => PrincipalKind::User,
            Some("#microsoft.graph.group") => PrincipalKind::Group,
            _ => PrincipalKind::Other,
        };
        RoleAssignment {
            role_definition_id: raw.role_definition_id,
            directory_scope_id: raw.directory_scope_id.unwrap_or_else(|| "/".into()),
            principal_id: raw.principal_id,
            principal_kind,
        }
    }
}

/// A directory object with its type: a role assignment's principal, a group's member.
#[derive(Clone, Debug, Deserialize)]
pub struct TypedObject {
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, …
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// Object id.
    #[serde(default)]
    pub id: Option<String>,
}

impl TypedObject {
    /// The object's id when it is a user.
    pub fn user_id(self) -> Option<String> {
        (self.odata_type.as_deref() == Some("#microsoft.graph.user"))
            .then_some(self.id)
            .flatten()
    }
}

/// A policy read for one switch (`isEnabled`): security defaults, the admin consent workflow.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Switch {
    /// Whether the policy is on.
    #[serde(default)]
    pub is_enabled: Option<bool>,
}

/// One commercial subscription of `/subscribedSkus`, the parts the licence facts read.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    /// The SKU's id, as users' `assignedLicenses` name it.
    #[serde(default)]
    pub sku_id: Option<String>,
    /// The SKU's part number, e.g. `AAD_PREMIUM_P2`.
    #[serde(default)]
    pub sku_part_number: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted` or `LockedOut`.
    #[serde(default)]
    pub capability_status: Option<String>,
    /// The service plans the SKU includes.
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

/// One service plan of a SKU.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    /// E.g. `AAD_PREMIUM_P2`.
    #[serde(default)]
    pub service_plan_name: Option<String>,
    /// `Success` when fully provisioned.
    #[serde(default)]
    pub provisioning_status: Option<String>,
}

impl SubscribedSku {
    /// Whether this SKU is in force (`Enabled`, or `Warning` in its grace period) and has the
    /// service plan `name` provisioned.
    pub fn provides(&self, name: &str) -> bool {
        matches!(
            self.capability_status.as_deref(),
            Some("Enabled" | "Warning")
        ) && self.service_plans.iter().any(|plan| {
            plan.service_plan_name.as_deref() == Some(name)
                && plan.provisioning_status.as_deref() == Some("Success")
        })
    }
}

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

/// One domain of `/domains`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// The domain name.
    pub id: String,
    /// `Managed` or `Federated`.
    #[serde(default)]
    pub authentication_type: Option<String>,
    /// Whether ownership was verified.
    #[serde(default)]
    pub is_verified: bool,
    /// Days before a password expires; 2147483647 means never.
    #[serde(default)]
    pub password_validity_period_in_days: Option<i64>,
}

/// The tenant's authorization policy, the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationPolicy {
    /// Whether users may use self-service password reset.
    #[serde(default, rename = "allowedToUseSSPR")]
    pub allowed_to_use_sspr: Option<bool>,
    /// What the default user role may do.
    #[serde(default)]
    pub default_user_role_permissions: Option<DefaultUserRolePermissions>,
    /// Who may invite guests: `none`, `adminsAndGuestInviters`,
    /// `adminsGuestInvitersAndAllMembers` or `everyone`.
    #[serde(default)]
    pub allow_invites_from: Option<String>,
    /// The role guests get, which sets what they can see.
    #[serde(default)]
    pub guest_user_role_id: Option<String>,
}

/// `defaultUserRolePermissions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultUserRolePermissions {
    /// Permission grant policies assigned to the default user role.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub permission_grant_policies_assigned: Vec<String>,
    /// Whether users may register applications.
    #[serde(default)]
    pub allowed_to_create_apps: Option<bool>,
    /// Whether users may create security groups.
    #[serde(default)]
    pub allowed_to_create_security_groups: Option<bool>,
    /// Whether users may create tenants.
    #[serde(default)]
    pub allowed_to_create_tenants: Option<bool>,
    /// Whether a device's registered owners may read its BitLocker recovery keys.
    #[serde(default)]
    pub allowed_to_read_bitlocker_keys_for_owned_device: Option<bool>,
}

/// The tenant's authentication methods policy, the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationMethodsPolicy {
    /// One configuration per method (`Sms`, `Voice`, `Email`, `MicrosoftAuthenticator`, …).
    #[serde(default)]
    pub authentication_method_configurations: Vec<MethodConfiguration>,
    /// System-preferred multifactor authentication.
    #[serde(default)]
    pub system_credential_preferences: Option<SystemCredentialPreferences>,
    /// `preMigration`, `migrationInProgress` or `migrationComplete`.
    #[serde(default)]
    pub policy_migration_state: Option<String>,
}

impl AuthenticationMethodsPolicy {
    /// The configuration of the method with this id (compared without case).
    pub fn method(&self, id: &str) -> Option<&MethodConfiguration> {
        self.authentication_method_configurations
            .iter()
            .find(|m| m.id.eq_ignore_ascii_case(id))
    }
}

/// One method's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodConfiguration {
    /// The method, e.g. `Sms`.
    #[serde(default)]
    pub id: String,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub state: String,
    /// Method-specific settings (Microsoft Authenticator's context display).
    #[serde(default)]
    pub feature_settings: Option<Value>,
}

impl MethodConfiguration {
    /// The `state` of a feature setting (`enabled`, `disabled`, `default`), when stated.
    pub fn feature_state(&self, feature: &str) -> Option<&str> {
        self.feature_settings
            .as_ref()?
            .get(feature)?
            .get("state")?
            .as_str()
    }

    /// Whether a feature setting (`displayAppInformationRequiredState`, …) is `enabled` for
    /// the `all_users` target.
    pub fn feature_enabled_for_all(&self, feature: &str) -> bool {
        let Some(setting) = self.feature_settings.as_ref().and_then(|f| f.get(feature)) else {
            return false;
        };
        setting.get("state").and_then(Value::as_str) == Some("enabled")
            && setting.pointer("/includeTarget/id").and_then(Value::as_str) == Some("all_users")
    }
}

/// `systemCredentialPreferences`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemCredentialPreferences {
    /// `enabled`, `disabled` or `default`.
    #[serde(default)]
    pub state: String,
    /// Who it applies to.
    #[serde(default)]
    pub include_targets: Vec<FeatureTarget>,
}

/// A group (or `all_users`) a setting applies to.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureTarget {
    /// A group id or `all_users`.
    #[serde(default)]
    pub id: String,
}

/// Graph sends `null` for an empty collection in places; both read as empty.
fn null_as_empty<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    null_as_empty_list(deserializer)
}

/// `null_as_empty` for lists of any item.
fn null_as_empty_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// One tenant-wide directory setting of `/groupSettings`: its template and its values.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSetting {
    /// The template the setting was made from (e.g. `Group.Unified`'s).
    #[serde(default)]
    pub template_id: Option<String>,
    /// Name and value pairs; values are strings.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub values: Vec<SettingValue>,
}

/// One `settingValue`.
#[derive(Clone, Debug, Deserialize)]
pub struct SettingValue {
    /// The setting's name, e.g. `EnableGroupCreation`.
    pub name: String,
    /// Its value as a string; null when unset.
    #[serde(default)]
    pub value: Option<String>,
}

impl GroupSetting {
    /// The value of `name`, when set.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .and_then(|v| v.value.as_deref())
    }
}

/// `/policies/deviceRegistrationPolicy`, the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistrationPolicy {
    /// The most devices a user may join or register.
    #[serde(default)]
    pub user_device_quota: Option<i64>,
    /// Who may join devices, and who becomes their local administrator.
    #[serde(default, rename = "azureADJoin")]
    pub azure_ad_join: Option<AzureAdJoinPolicy>,
    /// Windows LAPS.
    #[serde(default)]
    pub local_admin_password: Option<Switch>,
}

/// `azureADJoinPolicy`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureAdJoinPolicy {
    /// All, selected or no users may join devices.
    #[serde(default)]
    pub allowed_to_join: Option<TypedObject>,
    /// Who becomes a local administrator of a joined device.
    #[serde(default)]
    pub local_admins: Option<LocalAdminSettings>,
}

/// `localAdminSettings`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalAdminSettings {
    /// Whether Global Administrators are local administrators of every joined device.
    #[serde(default)]
    pub enable_global_admins: Option<bool>,
    /// All, selected or no registering users become local administrators.
    #[serde(default)]
    pub registering_users: Option<TypedObject>,
}

/// The `@odata.type` of a `deviceRegistrationMembership` naming everyone.
pub const ALL_MEMBERSHIP: &str = "#microsoft.graph.allDeviceRegistrationMembership";

/// `/policies/defaultAppManagementPolicy` (`tenantAppManagementPolicy`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppManagementPolicy {
    /// Whether the tenant default policy is enforced.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Restrictions on applications.
    #[serde(default)]
    pub application_restrictions: Option<CredentialRestrictions>,
    /// Restrictions on service principals.
    #[serde(default)]
    pub service_principal_restrictions: Option<CredentialRestrictions>,
}

/// `appManagementConfiguration`: restrictions on secrets and certificates.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRestrictions {
    /// Restrictions on password credentials (secrets).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub password_credentials: Vec<CredentialRestriction>,
    /// Restrictions on key credentials (certificates).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub key_credentials: Vec<CredentialRestriction>,
}

/// One `passwordCredentialConfiguration` or `keyCredentialConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRestriction {
    /// `passwordAddition`, `passwordLifetime`, `customPasswordAddition`,
    /// `asymmetricKeyLifetime`, …
    #[serde(default)]
    pub restriction_type: Option<String>,
    /// `enabled` or `disabled`; absent in older answers, where a listed restriction applies.
    #[serde(default)]
    pub state: Option<String>,
    /// The longest lifetime allowed, as an ISO 8601 duration (`P180D`).
    #[serde(default)]
    pub max_lifetime: Option<String>,
    /// The restriction applies to apps created after this time.
    #[serde(default)]
    pub restrict_for_apps_created_after_date_time: Option<String>,
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

impl Directory {
    /// A user's guest or external kind: `Some(None)` for an internal member, `None` when the
    /// users were not read or the user is not among them.
    pub fn external_kind(&self, user: &str) -> Option<Option<&'static str>> {
        let users = self.users.as_ref()?;
        let kinds = self.external_kinds.get_or_init(|| {
            users
                .iter()
                .map(|u| (u.id.clone(), u.external_kind()))
                .collect()
        });
        kinds.get(user).copied()
    }

    /// Groups whose members the facts need: those holding a role at directory scope, and
    /// those a policy includes or excludes, sorted.
    pub fn groups_named(
        assignments: Option<&[RoleAssignment]>,
        policies: Option<&[ConditionalAccessPolicy]>,
    ) -> BTreeSet<String> {
        let mut groups = BTreeSet::new();
        for assignment in assignments.into_iter().flatten() {
            if assignment.principal_kind == PrincipalKind::Group
                && assignment.directory_scope_id == "/"
            {
                groups.insert(assignment.principal_id.clone());
            }
        }
        for policy in policies.into_iter().flatten() {
            if let Some(users) = &policy.conditions.users {
                groups.extend(users.include_groups.iter().cloned());
                groups.extend(users.exclude_groups.iter().cloned());
            }
        }
        groups
    }
}

/// One `unifiedRoleAssignmentScheduleInstance`: an active role assignment, made through PIM
/// or directly.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveAssignment {
    /// Who holds the role.
    pub principal_id: String,
    /// The role's template id.
    pub role_definition_id: String,
    /// `/` for the whole directory.
    #[serde(default)]
    pub directory_scope_id: Option<String>,
    /// `Assigned` (standing) or `Activated` (an eligible assignment switched on).
    #[serde(default)]
    pub assignment_type: Option<String>,
    /// When the assignment started; none for one made outside PIM.
    #[serde(default)]
    pub start_date_time: Option<String>,
    /// When it ends; none for a permanent one.
    #[serde(default)]
    pub end_date_time: Option<String>,
}

/// One `unifiedRoleManagementPolicyAssignment`: a role's PIM policy with its rules.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePolicyAssignment {
    /// The role's template id.
    pub role_definition_id: String,
    /// The policy; absent when not expanded.
    #[serde(default)]
    pub policy: Option<RolePolicy>,
}

/// A `unifiedRoleManagementPolicy`: its rules.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RolePolicy {
    /// The rules, each told apart by its `id` (`Approval_EndUser_Assignment`, …).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub rules: Vec<RolePolicyRule>,
}

/// One rule of a role's policy: the parts the facts read of the approval and notification
/// rules.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePolicyRule {
    /// `Approval_EndUser_Assignment`, `Notification_Admin_EndUser_Assignment`, …
    #[serde(default)]
    pub id: String,
    /// An approval rule's setting.
    #[serde(default)]
    pub setting: Option<ApprovalSetting>,
    /// A notification rule's extra recipients.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub notification_recipients: Vec<String>,
}

/// `approvalSettings`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSetting {
    /// Whether activation needs an approval.
    #[serde(default)]
    pub is_approval_required: Option<bool>,
    /// The approval stages, with their approvers.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub approval_stages: Vec<ApprovalStage>,
}

/// `approvalStage`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStage {
    /// Who approves.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub primary_approvers: Vec<Value>,
}

impl RolePolicy {
    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&RolePolicyRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// One `accessReviewScheduleDefinition`, the parts the facts read.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReviewDefinition {
    /// `NotStarted`, `InProgress`, `Completed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// What is reviewed: a query scope, or principals and resources.
    #[serde(default)]
    pub scope: Option<Value>,
    /// Its settings, with the recurrence.
    #[serde(default)]
    pub settings: Option<Value>,
}

impl AccessReviewDefinition {
    /// Every `query` its scope names (nested scopes included).
    pub fn scope_queries(&self) -> Vec<&str> {
        fn walk<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    for (key, inner) in map {
                        match (key.as_str(), inner) {
                            ("query", Value::String(query)) => found.push(query),
                            _ => walk(inner, found),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        if let Some(scope) = &self.scope {
            walk(scope, &mut found);
        }
        found
    }

    /// Whether the review is still running and recurs at least monthly (every 31 days or
    /// fewer, every 4 weeks or fewer, or every month).
    pub fn recurs_monthly(&self) -> bool {
        if self.status.as_deref() == Some("Completed") {
            return false;
        }
        let Some(pattern) = self
            .settings
            .as_ref()
            .and_then(|s| s.pointer("/recurrence/pattern"))
        else {
            return false;
        };
        let interval = pattern.get("interval").and_then(Value::as_i64).unwrap_or(0);
        match pattern.get("type").and_then(Value::as_str) {
            Some("daily") => (1..=31).contains(&interval),
            Some("weekly") => (1..=4).contains(&interval),
            Some("absoluteMonthly" | "relativeMonthly") => interval == 1,
            _ => false,
        }
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
