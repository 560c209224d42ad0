//! One collection: sign in, read the ten endpoints (and no others), record what each answered,
//! and compute the facts from what was read.

use std::collections::{HashMap, HashSet};

use entity::enums::CollectionStatus;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{Fetched, GraphClient};
use super::directory::{
    AuthenticationMethodsPolicy, AuthorizationPolicy, ConditionalAccessPolicy, Directory,
    DirectoryUser, Domain, RegistrationDetails, RoleAssignment,
};
use super::facts::compute_facts;

/// Group membership reads in flight at once.
const GROUP_READS_AT_ONCE: usize = 4;

/// One endpoint of the contract: its request and the application permission it needs.
struct Endpoint {
    /// The request, after `/v1.0`.
    request: &'static str,
    /// The permission a 403 means is missing.
    permission: &'static str,
}

const USERS: Endpoint = Endpoint {
    request: "/users?$select=id,userType,accountEnabled,onPremisesSyncEnabled",
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
}

impl EndpointOutcome {
    fn new(name: String, fetched: &Fetched, permission: &str) -> EndpointOutcome {
        EndpointOutcome {
            name,
            http_status: fetched.http_status,
            items: u32::try_from(fetched.items.len()).unwrap_or(u32::MAX),
            attempts: fetched.attempts,
            error: fetched.error.clone(),
            missing_permission: (fetched.http_status == Some(403)).then(|| permission.to_owned()),
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

/// Runs one collection with a client for the directory.
pub async fn collect(client: &GraphClient) -> Collected {
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
            }],
            facts: None,
            error: Some(format!("sign-in refused: {}", refused.reason)),
        };
    }
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
    ) = futures::join!(
        client.get(USERS.request),
        client.get(REGISTRATIONS.request),
        client.get(ROLE_ASSIGNMENTS.request),
        client.get(POLICIES.request),
        client.get(DOMAINS.request),
        client.get(AUTHORIZATION_POLICY.request),
        client.get(AUTHENTICATION_METHODS_POLICY.request),
        client.get(SECURITY_DEFAULTS.request),
        client.get(ADMIN_CONSENT_REQUESTS.request),
    );
    let mut endpoints: Vec<EndpointOutcome> = [
        (&USERS, &users),
        (&REGISTRATIONS, &registrations),
        (&ROLE_ASSIGNMENTS, &assignments),
        (&POLICIES, &policies),
        (&DOMAINS, &domains),
        (&AUTHORIZATION_POLICY, &authorization),
        (&AUTHENTICATION_METHODS_POLICY, &authentication_methods),
        (&SECURITY_DEFAULTS, &security_defaults),
        (&ADMIN_CONSENT_REQUESTS, &admin_consent),
    ]
    .into_iter()
    .map(|(e, f)| EndpointOutcome::new(endpoint_name(e.request), f, e.permission))
    .collect();
    let mut directory = Directory {
        users: parse_items::<DirectoryUser>(&users),
        registrations: parse_items::<RegistrationDetails>(&registrations)
            .map(|rows| rows.into_iter().map(|r| (r.id.clone(), r)).collect()),
        role_assignments: assignments.ok().then(|| {
            assignments
                .items
                .iter()
                .filter_map(RoleAssignment::parse)
                .collect()
        }),
        policies: parse_items::<ConditionalAccessPolicy>(&policies),
        domains: parse_items::<Domain>(&domains),
        authorization_policy: parse_single::<AuthorizationPolicy>(&authorization),
        authentication_methods_policy: parse_single::<AuthenticationMethodsPolicy>(
            &authentication_methods,
        ),
        security_defaults_enabled: switch(&security_defaults),
        admin_consent_workflow_enabled: switch(&admin_consent),
        group_members: HashMap::new(),
    };
    let groups = Directory::groups_named(
        directory.role_assignments.as_deref(),
        directory.policies.as_deref(),
    );
    let group_reads: Vec<(String, Fetched)> = futures::stream::iter(groups)
        .map(|group| async move {
            let fetched = client
                .get(&format!("/groups/{group}/transitiveMembers"))
                .await;
            (group, fetched)
        })
        .buffered(GROUP_READS_AT_ONCE)
        .collect()
        .await;
    for (group, fetched) in group_reads {
        endpoints.push(EndpointOutcome::new(
            format!("/groups/{group}/transitiveMembers"),
            &fetched,
            GROUP_MEMBERS_PERMISSION,
        ));
        let members = fetched.ok().then(|| {
            fetched
                .items
                .iter()
                .filter(|m| {
                    m.get("@odata.type").and_then(Value::as_str) == Some("#microsoft.graph.user")
                })
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect::<HashSet<String>>()
        });
        directory.group_members.insert(group, members);
    }
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
    Collected {
        status,
        endpoints,
        facts,
        error,
    }
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

/// A policy whose only reading is one switch (`isEnabled`): security defaults, the admin
/// consent workflow.
fn switch(fetched: &Fetched) -> Option<bool> {
    if !fetched.ok() {
        return None;
    }
    fetched.items.first()?.get("isEnabled")?.as_bool()
}

/// The items of a list endpoint, when it was read whole and every item parses.
fn parse_items<T: for<'de> Deserialize<'de>>(fetched: &Fetched) -> Option<Vec<T>> {
    if !fetched.ok() {
        return None;
    }
    fetched
        .items
        .iter()
        .map(|item| T::deserialize(item).ok())
        .collect()
}

/// A single-object endpoint (older answers wrap it in `value`: the first item).
fn parse_single<T: for<'de> Deserialize<'de>>(fetched: &Fetched) -> Option<T> {
    if !fetched.ok() {
        return None;
    }
    T::deserialize(fetched.items.first()?).ok()
}
