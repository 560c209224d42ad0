//! What a collection read from Microsoft Graph, parsed into the parts the facts use. A part is
//! `None` when its endpoint failed: the facts that need it are left out, never guessed.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Deserialize;

mod conditional_access;
mod governance;
mod settings;

pub use conditional_access::*;
pub use governance::*;
pub use settings::*;

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
    /// `/policies/crossTenantAccessPolicy/default`.
    pub cross_tenant_default: Option<CrossTenantDefault>,
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
