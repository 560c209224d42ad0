//! Tenant-wide settings as Graph returns them: domains, the authorization and authentication
//! methods policies, directory settings, device registration and app management policies.

use serde::Deserialize;
use serde_json::Value;

use super::{Switch, TypedObject, null_as_empty, null_as_empty_list};

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

/// `/policies/crossTenantAccessPolicy/default` (`crossTenantAccessPolicyConfigurationDefault`),
/// the parts the facts read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantDefault {
    /// Users of other organizations reaching this tenant through B2B collaboration.
    #[serde(default)]
    pub b2b_collaboration_inbound: Option<CrossTenantSetting>,
}

/// `crossTenantAccessPolicyB2BSetting`: the users and groups, and the applications, one
/// direction targets.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantSetting {
    /// Whether the listed users and groups are allowed or blocked.
    #[serde(default)]
    pub users_and_groups: Option<CrossTenantTargets>,
    /// Whether the listed applications are allowed or blocked.
    #[serde(default)]
    pub applications: Option<CrossTenantTargets>,
}

/// `crossTenantAccessPolicyTargetConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantTargets {
    /// `allowed` or `blocked`.
    #[serde(default)]
    pub access_type: Option<String>,
    /// Who or what the access type applies to.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub targets: Vec<CrossTenantTarget>,
}

/// `crossTenantAccessPolicyTarget`: an object id, or a keyword such as `AllUsers`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantTarget {
    /// An object id or a keyword (`AllUsers`, `AllApplications`).
    #[serde(default)]
    pub target: Option<String>,
}

impl CrossTenantTargets {
    /// Whether the access type is `blocked` for the `everyone` keyword.
    fn blocks(&self, everyone: &str) -> bool {
        self.access_type.as_deref() == Some("blocked")
            && self
                .targets
                .iter()
                .any(|t| t.target.as_deref() == Some(everyone))
    }
}

impl CrossTenantSetting {
    /// Whether this direction blocks every user and group and every application.
    pub fn blocks_everything(&self) -> bool {
        self.users_and_groups
            .as_ref()
            .is_some_and(|u| u.blocks("AllUsers"))
            && self
                .applications
                .as_ref()
                .is_some_and(|a| a.blocks("AllApplications"))
    }
}
