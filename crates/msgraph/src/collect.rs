//! One collection: sign in, read the contract's endpoints (and no others), record what each
//! answered, and compute the facts from what was read.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use securescore_core::domain::CollectionStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use chrono::{DateTime, Utc};

use super::audit::{
    AUDIT_ENDPOINT, AUDIT_PERMISSION, AuditSelection, DirectoryAudit, audit_request, kept_changes,
};
use super::client::{Fetched, GraphClient};
use super::directory::{
    AccessReviewDefinition, ActiveAssignment, AppManagementPolicy, AuthenticationMethodsPolicy,
    AuthorizationPolicy, BetaPolicySession, ConditionalAccessPolicy, CrossTenantDefault,
    DeviceRegistrationPolicy, Directory, DirectoryUser, Domain, GroupSetting, MethodConfiguration,
    NamedLocation, RegistrationDetails, RoleAssignment, RolePolicyAssignment, SubscribedSku,
    Switch, TypedObject,
};
use super::facts::{compute_facts, emergency_account_warnings};
use securescore_core::domain::DirectoryChange;

/// Group membership reads in flight at once.
const GROUP_READS_AT_ONCE: usize = 4;

/// One endpoint of the contract: its request and the application permission it needs.
struct Endpoint {
    /// The request, after `/v1.0` (or after `/beta` for the `BETA_` ones).
    request: &'static str,
    /// The permission a 403 means is missing.
    permission: &'static str,
}

const USERS: Endpoint = Endpoint {
    request: "/users?$select=id,userType,accountEnabled,onPremisesSyncEnabled,externalUserState,assignedLicenses&$top=999",
    permission: "User.Read.All",
};
const REGISTRATIONS: Endpoint = Endpoint {
    request: "/reports/authenticationMethods/userRegistrationDetails",
    permission: "AuditLog.Read.All",
};
const ROLE_ASSIGNMENTS: Endpoint = Endpoint {
    request: "/roleManagement/directory/roleAssignments?$expand=principal",
    permission: "RoleManagement.Read.Directory",
};
const GROUP_MEMBERS_PERMISSION: &str = "GroupMember.Read.All";
const POLICIES: Endpoint = Endpoint {
    request: "/identity/conditionalAccess/policies",
    permission: "Policy.Read.All",
};
const DOMAINS: Endpoint = Endpoint {
    request: "/domains",
    permission: "Domain.Read.All",
};
const AUTHORIZATION_POLICY: Endpoint = Endpoint {
    request: "/policies/authorizationPolicy",
    permission: "Policy.Read.All",
};
const AUTHENTICATION_METHODS_POLICY: Endpoint = Endpoint {
    request: "/policies/authenticationMethodsPolicy",
    permission: "Policy.Read.All",
};
const SECURITY_DEFAULTS: Endpoint = Endpoint {
    request: "/policies/identitySecurityDefaultsEnforcementPolicy",
    permission: "Policy.Read.All",
};
const ADMIN_CONSENT_REQUESTS: Endpoint = Endpoint {
    request: "/policies/adminConsentRequestPolicy",
    permission: "Policy.Read.All",
};
const SUBSCRIBED_SKUS: Endpoint = Endpoint {
    request: "/subscribedSkus",
    permission: "Organization.Read.All",
};
const GROUP_SETTINGS: Endpoint = Endpoint {
    request: "/groupSettings",
    permission: "GroupSettings.Read.All",
};
const DEVICE_REGISTRATION_POLICY: Endpoint = Endpoint {
    request: "/policies/deviceRegistrationPolicy",
    permission: "Policy.Read.DeviceConfiguration",
};
const APP_MANAGEMENT_POLICY: Endpoint = Endpoint {
    request: "/policies/defaultAppManagementPolicy",
    permission: "Policy.Read.All",
};
const CROSS_TENANT_DEFAULT: Endpoint = Endpoint {
    request: "/policies/crossTenantAccessPolicy/default",
    permission: "Policy.Read.All",
};
const NAMED_LOCATIONS: Endpoint = Endpoint {
    request: "/identity/conditionalAccess/namedLocations",
    permission: "Policy.Read.All",
};
const ACTIVE_ASSIGNMENTS: Endpoint = Endpoint {
    request: "/roleManagement/directory/roleAssignmentScheduleInstances",
    permission: "RoleManagement.Read.Directory",
};
const ROLE_POLICIES: Endpoint = Endpoint {
    request: "/policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'&$expand=policy($expand=rules)",
    permission: "RoleManagement.Read.Directory",
};
const ACCESS_REVIEWS: Endpoint = Endpoint {
    request: "/identityGovernance/accessReviews/definitions",
    permission: "AccessReview.Read.All",
};
/// Token protection (`secureSignInSession`) exists only in `beta`: the policies are read again
/// there for it alone.
const BETA_POLICIES: Endpoint = Endpoint {
    request: "/identity/conditionalAccess/policies",
    permission: "Policy.Read.All",
};
/// Microsoft Authenticator's companion-app setting exists only in `beta`.
const BETA_AUTHENTICATOR: Endpoint = Endpoint {
    request: "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator",
    permission: "Policy.Read.All",
};

/// Graph error codes that mean the tenant lacks a licence, not the app a permission.
const LICENSE_ERROR_CODES: [&str; 1] = ["Authentication_RequestFromNonPremiumTenantOrB2CTenant"];

/// What one endpoint answered, as stored on the collection and shown as `EndpointResult`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOutcome {
    /// The Graph path without version or query (`/domains`), or the token endpoint's path.
    pub name: String,
    /// The last HTTP status; none when nothing answered.
    pub http_status: Option<u16>,
    /// Items read.
    pub items: u32,
    /// Tries of the request that took most.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<String>,
    /// The permission a 403 says is missing.
    pub missing_permission: Option<String>,
    /// The error code of a 403 that says the tenant lacks a licence.
    #[serde(default)]
    pub missing_license: Option<String>,
}

impl EndpointOutcome {
    fn new<T>(name: String, fetched: &Fetched<T>, permission: &str) -> EndpointOutcome {
        let refused = fetched.http_status == Some(403);
        let missing_license = fetched
            .error_code
            .clone()
            .filter(|code| refused && LICENSE_ERROR_CODES.contains(&code.as_str()));
        EndpointOutcome {
            name,
            http_status: fetched.http_status,
            items: u32::try_from(fetched.items.len()).unwrap_or(u32::MAX),
            attempts: fetched.attempts,
            error: fetched.error.clone(),
            missing_permission: (refused && missing_license.is_none())
                .then(|| permission.to_owned()),
            missing_license,
        }
    }
}

/// What a collection found.
#[derive(Debug)]
pub struct Collected {
    /// SUCCEEDED, PARTIAL or FAILED.
    pub status: CollectionStatus,
    /// Every request's outcome, in the order made.
    pub endpoints: Vec<EndpointOutcome>,
    /// The facts to store; none when the collection failed.
    pub facts: Option<Value>,
    /// Why it failed or what is missing, for the connection's `lastError`.
    pub error: Option<String>,
    /// What the collection noticed without failing for it.
    pub warnings: Vec<String>,
    /// The audit events kept: those that can move a fact.
    pub directory_changes: Vec<DirectoryChange>,
    /// When the audit log was read whole: the instant the read began, where the next
    /// collection reads from.
    pub audit_read_at: Option<DateTime<Utc>>,
    /// The token endpoint answered that the application is not in the directory
    /// (AADSTS700016): a multi-tenant application its admin has not consented to.
    pub consent_missing: bool,
}

impl Collected {
    /// Permissions the endpoints' 403s named, sorted, once each.
    pub fn missing_permissions(&self) -> Vec<String> {
        let mut missing: Vec<String> = self
            .endpoints
            .iter()
            .filter_map(|e| e.missing_permission.clone())
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}

/// The path an endpoint result is named by: without version or query.
fn endpoint_name(request: &str) -> String {
    request.split('?').next().unwrap_or(request).to_owned()
}

/// The token endpoint's code for an application that has no service principal in the
/// directory: nobody there consented to it.
const APPLICATION_NOT_IN_DIRECTORY: &str = "AADSTS700016";

/// Runs one collection with a client for the directory; `emergency_accounts` are the
/// tenant's designated emergency access accounts; the audit log is read from `audit_since`.
pub async fn collect(
    client: &GraphClient,
    emergency_accounts: &[String],
    audit_since: DateTime<Utc>,
    audits: &impl AuditSelection,
) -> Collected {
    if let Err(refused) = client.sign_in().await {
        let token_path = reqwest::Url::parse(client.token_url())
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| "/oauth2/v2.0/token".into());
        return Collected {
            status: CollectionStatus::Failed,
            endpoints: vec![EndpointOutcome {
                name: token_path,
                http_status: refused.http_status,
                items: 0,
                attempts: refused.attempts,
                error: Some(refused.reason.clone()),
                missing_permission: None,
                missing_license: None,
            }],
            facts: None,
            error: Some(format!("sign-in refused: {}", refused.reason)),
            warnings: Vec::new(),
            directory_changes: Vec::new(),
            audit_read_at: None,
            consent_missing: refused.reason.contains(APPLICATION_NOT_IN_DIRECTORY),
        };
    }
    let audit_started = Utc::now();
    let audit_path = audit_request(audit_since);
    let (
        users,
        registrations,
        assignments,
        policies,
        domains,
        authorization,
        authentication_methods,
        security_defaults,
        admin_consent,
        skus,
        group_settings,
        device_registration,
        app_management,
        cross_tenant,
        named_locations,
        active_assignments,
        role_policies,
        access_reviews,
        beta_policies,
        beta_authenticator,
        audit,
    ) = futures::join!(
        client.get::<DirectoryUser>(USERS.request),
        client.get::<RegistrationDetails>(REGISTRATIONS.request),
        client.get::<RoleAssignment>(ROLE_ASSIGNMENTS.request),
        client.get::<ConditionalAccessPolicy>(POLICIES.request),
        client.get::<Domain>(DOMAINS.request),
        client.get::<AuthorizationPolicy>(AUTHORIZATION_POLICY.request),
        client.get::<AuthenticationMethodsPolicy>(AUTHENTICATION_METHODS_POLICY.request),
        client.get::<Switch>(SECURITY_DEFAULTS.request),
        client.get::<Switch>(ADMIN_CONSENT_REQUESTS.request),
        client.get::<SubscribedSku>(SUBSCRIBED_SKUS.request),
        client.get::<GroupSetting>(GROUP_SETTINGS.request),
        client.get::<DeviceRegistrationPolicy>(DEVICE_REGISTRATION_POLICY.request),
        client.get::<AppManagementPolicy>(APP_MANAGEMENT_POLICY.request),
        client.get::<CrossTenantDefault>(CROSS_TENANT_DEFAULT.request),
        client.get::<NamedLocation>(NAMED_LOCATIONS.request),
        client.get::<ActiveAssignment>(ACTIVE_ASSIGNMENTS.request),
        client.get::<RolePolicyAssignment>(ROLE_POLICIES.request),
        client.get::<AccessReviewDefinition>(ACCESS_REVIEWS.request),
        client.get_beta::<BetaPolicySession>(BETA_POLICIES.request),
        client.get_beta::<MethodConfiguration>(BETA_AUTHENTICATOR.request),
        client.get::<DirectoryAudit>(&audit_path),
    );
    let mut endpoints = vec![
        outcome(&USERS, &users),
        outcome(&REGISTRATIONS, &registrations),
        outcome(&ROLE_ASSIGNMENTS, &assignments),
        outcome(&POLICIES, &policies),
        outcome(&DOMAINS, &domains),
        outcome(&AUTHORIZATION_POLICY, &authorization),
        outcome(&AUTHENTICATION_METHODS_POLICY, &authentication_methods),
        outcome(&SECURITY_DEFAULTS, &security_defaults),
        outcome(&ADMIN_CONSENT_REQUESTS, &admin_consent),
        outcome(&SUBSCRIBED_SKUS, &skus),
        outcome(&GROUP_SETTINGS, &group_settings),
        outcome(&DEVICE_REGISTRATION_POLICY, &device_registration),
        outcome(&APP_MANAGEMENT_POLICY, &app_management),
        outcome(&CROSS_TENANT_DEFAULT, &cross_tenant),
        outcome(&NAMED_LOCATIONS, &named_locations),
        outcome(&ACTIVE_ASSIGNMENTS, &active_assignments),
        outcome(&ROLE_POLICIES, &role_policies),
        outcome(&ACCESS_REVIEWS, &access_reviews),
        beta_outcome(&BETA_POLICIES, &beta_policies),
        beta_outcome(&BETA_AUTHENTICATOR, &beta_authenticator),
    ];
    let mut directory = Directory {
        users: whole(users),
        registrations: whole(registrations)
            .map(|rows| rows.into_iter().map(|r| (r.id.clone(), r)).collect()),
        role_assignments: whole(assignments),
        policies: whole(policies),
        domains: whole(domains),
        authorization_policy: first(authorization),
        authentication_methods_policy: first(authentication_methods),
        security_defaults_enabled: first(security_defaults).and_then(|s| s.is_enabled),
        admin_consent_workflow_enabled: first(admin_consent).and_then(|s| s.is_enabled),
        subscribed_skus: whole(skus),
        group_settings: whole(group_settings),
        device_registration_policy: first(device_registration),
        app_management_policy: first(app_management),
        cross_tenant_default: first(cross_tenant),
        named_locations: whole(named_locations),
        active_assignments: whole(active_assignments),
        role_policies: whole(role_policies),
        access_reviews: whole(access_reviews),
        token_protected_policies: whole(beta_policies).map(|policies| {
            policies
                .into_iter()
                .filter(BetaPolicySession::binds_session)
                .map(|p| p.id)
                .collect()
        }),
        authenticator_beta: first(beta_authenticator),
        collected_at: chrono::Utc::now(),
        emergency_accounts: emergency_accounts.iter().cloned().collect(),
        group_members: HashMap::new(),
        external_kinds: Default::default(),
    };
    let groups = Directory::groups_named(
        directory.role_assignments.as_deref(),
        directory.policies.as_deref(),
    );
    let groups_read: HashSet<String> = groups.iter().cloned().collect();
    let group_reads: Vec<(String, Fetched<TypedObject>)> = futures::stream::iter(groups)
        .map(|group| async move {
            let fetched = client
                .get(&format!("/groups/{group}/transitiveMembers?$top=999"))
                .await;
            (group, fetched)
        })
        .buffered(GROUP_READS_AT_ONCE)
        .collect()
        .await;
    let mut warnings = Vec::new();
    for (group, fetched) in group_reads {
        let mut outcome = EndpointOutcome::new(
            format!("/groups/{group}/transitiveMembers"),
            &fetched,
            GROUP_MEMBERS_PERMISSION,
        );
        let members = if fetched.http_status == Some(404) {
            // A deleted group still named by a policy or an assignment: Entra treats it as
            // empty, and so do the facts.
            outcome.error = None;
            warnings.push(format!(
                "group {group}, named by a policy or a role assignment, no longer exists (404); it counts as having no members"
            ));
            Some(HashSet::new())
        } else {
            whole(fetched).map(|members| {
                members
                    .into_iter()
                    .filter_map(TypedObject::user_id)
                    .collect::<HashSet<String>>()
            })
        };
        endpoints.push(outcome);
        directory.group_members.insert(group, members);
    }
    warnings.extend(emergency_account_warnings(&directory));
    let facts = compute_facts(&directory);
    let failed: Vec<&EndpointOutcome> = endpoints.iter().filter(|e| e.error.is_some()).collect();
    let (status, error, facts) = if failed.is_empty() {
        (CollectionStatus::Succeeded, None, Some(facts))
    } else if failed.len() == endpoints.len() {
        (
            CollectionStatus::Failed,
            Some(format!(
                "every endpoint failed; first: {}",
                describe(failed[0])
            )),
            None,
        )
    } else {
        let list: Vec<String> = failed.iter().map(|e| describe(e)).collect();
        (
            CollectionStatus::Partial,
            Some(format!("left out: {}", list.join("; "))),
            Some(facts),
        )
    };
    // The audit log explains changes; it adds no fact, so its failure (a tenant without the
    // licence it needs, say) is recorded on its result and leaves the status as it is.
    let audit_outcome = EndpointOutcome::new(AUDIT_ENDPOINT.into(), &audit, AUDIT_PERMISSION);
    let audit_read_at = audit.ok().then_some(audit_started);
    let directory_changes = kept_changes(audit.items, &groups_read, audits);
    endpoints.push(audit_outcome);
    Collected {
        status,
        endpoints,
        facts,
        error,
        warnings,
        directory_changes,
        audit_read_at,
        consent_missing: false,
    }
}

/// The outcome of one of the fixed endpoints.
fn outcome<T>(endpoint: &Endpoint, fetched: &Fetched<T>) -> EndpointOutcome {
    EndpointOutcome::new(
        endpoint_name(endpoint.request),
        fetched,
        endpoint.permission,
    )
}

/// The outcome of one of the fixed `beta` endpoints, named with its version.
fn beta_outcome<T>(endpoint: &Endpoint, fetched: &Fetched<T>) -> EndpointOutcome {
    EndpointOutcome::new(
        format!("/beta{}", endpoint_name(endpoint.request)),
        fetched,
        endpoint.permission,
    )
}

/// `name (status): error`.
fn describe(outcome: &EndpointOutcome) -> String {
    let status = outcome
        .http_status
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!(
        "{}{status}: {}",
        outcome.name,
        outcome.error.as_deref().unwrap_or("failed")
    )
}

/// The items of an endpoint read whole, every item parsed; none otherwise.
fn whole<T>(fetched: Fetched<T>) -> Option<Vec<T>> {
    fetched.ok().then_some(fetched.items)
}

/// A single-object endpoint (older answers wrap it in `value`: the first item).
fn first<T>(fetched: Fetched<T>) -> Option<T> {
    whole(fetched)?.into_iter().next()
}
