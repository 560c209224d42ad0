//! `collect`: one collection of a large directory (10,000 users by default) from a Graph
//! stand-in on loopback, paged as Graph pages (100 items), against a raw baseline in the same
//! run: one plain HTTP client fetching the same pages one after another with no retry logic,
//! no parsing and no facts. Rounds alternate the two; medians and ranges are printed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use securescore::config::GraphConfig;
use securescore::msgraph::client::GraphClient;
use securescore::msgraph::collect::collect;
use securescore::msgraph::credential::Credential;
use securescore::service::catalog::AuditIndex;

/// Items per page, as Graph pages `/users` when `$top` is not given.
const PAGE: usize = 100;
/// The largest `$top` Graph honours on the lists that take it.
const MAX_TOP: usize = 999;
/// Rounds of each side.
const ROUNDS: usize = 3;
const DIRECTORY: &str = "8f2c5a1e-4b7d-4c3a-9e61-2d5f0b8a7c44";
const CLIENT: &str = "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38";

/// What the stand-in serves and counts.
pub struct StandIn {
    lists: HashMap<String, Vec<Value>>,
    objects: HashMap<String, Value>,
    requests: AtomicUsize,
}

/// A directory of `users` users: 1 in 20 a guest, 1 in 50 disabled, 60 % registered for MFA,
/// 40 role assignments (5 to groups of 25), 12 Conditional Access policies, 3 domains, and the
/// settings, PIM policies and reviews catalog v3 reads.
fn directory(users: usize) -> StandIn {
    let mut lists = HashMap::new();
    let user_list: Vec<Value> = (0..users)
        .map(|i| {
            json!({"id": format!("u{i}"), "userType": if i % 20 == 0 { "Guest" } else { "Member" },
                   "accountEnabled": i % 50 != 1, "onPremisesSyncEnabled": null})
        })
        .collect();
    let registrations: Vec<Value> = (0..users)
        .map(|i| json!({"id": format!("u{i}"), "isMfaRegistered": i % 5 < 3, "isAdmin": false}))
        .collect();
    let roles = [
        "62e90394-69f5-4237-9190-012177145e10",
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "4a5d8f65-41da-4de4-8968-e035b65339cf",
    ];
    let assignments: Vec<Value> = (0..40)
        .map(|i| {
            let (principal, kind) = if i < 5 {
                (format!("g{i}"), "group")
            } else {
                (format!("u{}", i * 37), "user")
            };
            json!({"id": format!("a{i}"), "roleDefinitionId": roles[i % roles.len()], "directoryScopeId": "/",
                   "principalId": principal, "principal": {"@odata.type": format!("#microsoft.graph.{kind}"), "id": principal}})
        })
        .collect();
    for g in 0..6 {
        let members: Vec<Value> = (0..25)
            .map(|m| json!({"@odata.type": "#microsoft.graph.user", "id": format!("u{}", g * 100 + m)}))
            .collect();
        lists.insert(format!("/groups/g{g}/transitiveMembers"), members);
    }
    let policies: Vec<Value> = (0..12)
        .map(|p| {
            json!({"id": format!("p{p}"), "state": if p % 4 == 3 { "disabled" } else { "enabled" },
                   "conditions": {"applications": {"includeApplications": ["All"]},
                       "users": {"includeUsers": if p % 3 == 0 { json!(["All"]) } else { json!([]) },
                                 "includeRoles": if p % 3 == 1 { json!([roles[0], roles[1]]) } else { json!([]) },
                                 "includeGroups": if p % 3 == 2 { json!(["g5"]) } else { json!([]) },
                                 "excludeUsers": ["u3"], "excludeGroups": [], "excludeRoles": []},
                       "clientAppTypes": if p == 0 { json!(["exchangeActiveSync", "other"]) } else { json!(["all"]) },
                       "signInRiskLevels": if p == 2 { json!(["high"]) } else { json!([]) },
                       "userRiskLevels": if p == 5 { json!(["high"]) } else { json!([]) }},
                   "grantControls": {"operator": "OR", "builtInControls": match p { 0 => json!(["block"]), 5 => json!(["passwordChange"]), _ => json!(["mfa"]) }}})
        })
        .collect();
    lists.insert("/users".into(), user_list);
    lists.insert(
        "/reports/authenticationMethods/userRegistrationDetails".into(),
        registrations,
    );
    lists.insert(
        "/roleManagement/directory/roleAssignments".into(),
        assignments.clone(),
    );
    lists.insert("/identity/conditionalAccess/policies".into(), policies);
    lists.insert(
        "/domains".into(),
        vec![
            json!({"id": "contoso.com", "authenticationType": "Managed", "isVerified": true, "passwordValidityPeriodInDays": 2147483647}),
            json!({"id": "contoso.onmicrosoft.com", "authenticationType": "Managed", "isVerified": true, "passwordValidityPeriodInDays": 2147483647}),
            json!({"id": "fed.contoso.com", "authenticationType": "Federated", "isVerified": true, "passwordValidityPeriodInDays": 90}),
        ],
    );
    let objects = HashMap::from([
        (
            "/policies/authorizationPolicy".to_owned(),
            json!({"allowedToUseSSPR": true, "defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": []}}),
        ),
        (
            "/policies/authenticationMethodsPolicy".to_owned(),
            json!({"id": "authenticationMethodsPolicy"}),
        ),
        (
            "/policies/identitySecurityDefaultsEnforcementPolicy".to_owned(),
            json!({"isEnabled": false}),
        ),
        (
            "/policies/adminConsentRequestPolicy".to_owned(),
            json!({"isEnabled": true}),
        ),
        (
            "/policies/deviceRegistrationPolicy".to_owned(),
            json!({"userDeviceQuota": 20,
                   "azureADJoin": {"allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                       "localAdmins": {"enableGlobalAdmins": false,
                           "registeringUsers": {"@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"}}},
                   "localAdminPassword": {"isEnabled": true}}),
        ),
        (
            "/policies/defaultAppManagementPolicy".to_owned(),
            json!({"isEnabled": true,
                   "applicationRestrictions": {"passwordCredentials": [{"restrictionType": "passwordAddition", "state": "enabled"}], "keyCredentials": []},
                   "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []}}),
        ),
        (
            "/policies/crossTenantAccessPolicy/default".to_owned(),
            json!({"isServiceDefault": false,
                   "b2bCollaborationInbound": {
                       "usersAndGroups": {"accessType": "blocked",
                           "targets": [{"target": "AllUsers", "targetType": "user"}]},
                       "applications": {"accessType": "blocked",
                           "targets": [{"target": "AllApplications", "targetType": "application"}]}}}),
        ),
    ]);
    // Catalog v3's endpoints: every assignment as PIM lists it (half standing, assigned
    // outside PIM), one PIM policy per directory role (Graph has about 130), two directory
    // settings, three named locations, four access reviews.
    let instances: Vec<Value> = assignments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let start = if i % 2 == 0 { Value::Null } else { json!("2025-01-01T00:00:00Z") };
            json!({"id": a["id"], "principalId": a["principalId"], "roleDefinitionId": a["roleDefinitionId"],
                   "directoryScopeId": "/", "startDateTime": start, "endDateTime": null,
                   "assignmentType": "Assigned", "memberType": "Direct"})
        })
        .collect();
    let role_policies: Vec<Value> = (0..130)
        .map(|r| {
            let role = roles
                .get(r)
                .map_or_else(|| format!("00000000-0000-0000-0000-{r:012}"), |id| (*id).to_owned());
            let notification = |id: &str| {
                json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "id": id,
                       "notificationType": "Email", "recipientType": "Admin", "notificationLevel": "All",
                       "isDefaultRecipientsEnabled": true, "notificationRecipients": []})
            };
            json!({"id": format!("DirectoryRole_{r}_{role}"), "scopeId": "/", "scopeType": "DirectoryRole",
                   "roleDefinitionId": role,
                   "policy": {"id": format!("DirectoryRole_{r}"), "rules": [
                       {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
                        "id": "Approval_EndUser_Assignment",
                        "setting": {"isApprovalRequired": r == 0, "approvalMode": "SingleStage",
                            "approvalStages": [{"primaryApprovers": if r == 0 { json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": "u1"}]) } else { json!([]) }}]}},
                       notification("Notification_Admin_Admin_Eligibility"),
                       notification("Notification_Admin_Admin_Assignment"),
                       notification("Notification_Admin_EndUser_Assignment"),
                   ]}})
        })
        .collect();
    lists.insert(
        "/roleManagement/directory/roleAssignmentScheduleInstances".into(),
        instances,
    );
    lists.insert(
        "/policies/roleManagementPolicyAssignments".into(),
        role_policies,
    );
    lists.insert(
        "/groupSettings".into(),
        vec![
            json!({"templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
                   "values": [{"name": "EnableGroupCreation", "value": "false"}]}),
            json!({"templateId": "5cf42378-d67d-4f36-ba46-e8b86229381d",
                   "values": [{"name": "LockoutThreshold", "value": "10"},
                              {"name": "LockoutDurationInSeconds", "value": "60"},
                              {"name": "EnableBannedPasswordCheck", "value": "True"},
                              {"name": "BannedPasswordList", "value": "contoso"}]}),
        ],
    );
    lists.insert(
        "/identity/conditionalAccess/namedLocations".into(),
        (0..3)
            .map(|l| {
                json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": format!("loc{l}"),
                       "isTrusted": l == 0, "ipRanges": [{"cidrAddress": format!("203.0.113.{l}/32")}]})
            })
            .collect(),
    );
    lists.insert(
        "/identityGovernance/accessReviews/definitions".into(),
        (0..4)
            .map(|r| {
                json!({"id": format!("r{r}"), "status": "InProgress",
                       "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                                 "query": "/users?$filter=(userType eq 'Guest')"},
                       "settings": {"recurrence": {"pattern": {"type": "absoluteMonthly", "interval": r + 1}}}})
            })
            .collect(),
    );
    // A week of audit events, one per ten users: policy edits and role grants the connector
    // keeps, user updates it does not.
    lists.insert(
        "/auditLogs/directoryAudits".into(),
        (0..users / 10)
            .map(|e| {
                let (category, activity) = match e % 3 {
                    0 => ("Policy", "Update conditional access policy"),
                    1 => ("RoleManagement", "Add member to role"),
                    _ => ("UserManagement", "Update user"),
                };
                json!({"id": format!("ev{e}"), "category": category, "activityDisplayName": activity,
                       "activityDateTime": format!("2026-12-0{}T{:02}:00:00Z", 1 + e % 6, e % 24),
                       "result": "success", "loggedByService": "Core Directory",
                       "initiatedBy": {"user": {"id": "admin", "userPrincipalName": "admin@contoso.example"}},
                       "targetResources": [{"id": format!("t{e}"), "type": "Policy", "displayName": "Require MFA",
                                            "modifiedProperties": [{"displayName": "ConditionalAccessPolicy"}]}]})
            })
            .collect(),
    );
    lists.insert(
        "/subscribedSkus".into(),
        vec![
            json!({"capabilityStatus": "Enabled", "skuPartNumber": "SPE_E3", "appliesTo": "User",
                   "servicePlans": [{"servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User"}]}),
        ],
    );
    StandIn {
        lists,
        objects,
        requests: AtomicUsize::new(0),
    }
}

type Shared = (Arc<StandIn>, String);

async fn token(State((state, _)): State<Shared>) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "bench-token"}))
        .into_response()
}

async fn graph(
    State((state, base)): State<Shared>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let path = format!("/{path}");
    if let Some(object) = state.objects.get(&path) {
        return axum::Json(object.clone()).into_response();
    }
    let items = state
        .lists
        .get(&path)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let skip: usize = query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // As Graph: `$top` up to 999 where the list takes it, 100 otherwise.
    let top = query
        .get("$top")
        .and_then(|t| t.parse().ok())
        .map_or(PAGE, |t: usize| t.min(MAX_TOP));
    let page: Vec<&Value> = items.iter().skip(skip).take(top).collect();
    let mut body = json!({"value": page});
    if skip + top < items.len() {
        body["@odata.nextLink"] = json!(format!(
            "{base}/v1.0{path}?$top={top}&$skiptoken={}",
            skip + top
        ));
    }
    axum::Json(body).into_response()
}

/// The page size a collection asks of `path`: the largest `$top` on the lists that take it.
fn page_of(path: &str) -> usize {
    if path == "/users" || path.ends_with("/transitiveMembers") {
        MAX_TOP
    } else {
        PAGE
    }
}

/// The peak resident set size of this process so far (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The URLs the raw baseline fetches: every page of every endpoint a collection reads.
fn baseline_urls(state: &StandIn, base: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for (path, items) in &state.lists {
        let mut skip = 0;
        let top = page_of(path);
        loop {
            urls.push(format!("{base}/v1.0{path}?$top={top}&$skiptoken={skip}"));
            skip += top;
            if skip >= items.len() {
                break;
            }
        }
    }
    urls.extend(state.objects.keys().map(|p| format!("{base}/v1.0{p}")));
    urls
}

/// Median and range of `samples`, in milliseconds.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms (range {:.1}–{:.1})",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    )
}

/// The stand-in on loopback for a directory of `users` (every directory id signs in and is
/// served the same directory); its base URL, state and task.
pub async fn serve_standin(
    users: usize,
) -> Result<(String, Arc<StandIn>, tokio::task::JoinHandle<()>), String> {
    let state = Arc::new(directory(users));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let app = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/v1.0/{*path}", get(graph))
        .route("/beta/{*path}", get(graph))
        .with_state((state.clone(), base.clone()));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base, state, server))
}

/// The stand-in's counters.
impl StandIn {
    /// Requests answered so far (token and Graph).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Runs the benchmark and prints its figures.
pub async fn run(users: usize) -> Result<(), String> {
    let (base, state, server) = serve_standin(users).await?;
    let config = GraphConfig {
        authority_url: base.clone(),
        graph_url: base.clone(),
        allow_http: true,
        ..Default::default()
    };
    let raw = reqwest::Client::new();
    let urls = baseline_urls(&state, &base);
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    let mut requests = 0;
    let mut facts = Value::Null;
    println!(
        "collect: {users} users, pages of {PAGE} ($top up to {MAX_TOP} where a list takes it), {ROUNDS} rounds alternating"
    );
    let rss_before = peak_rss_mib().unwrap_or(f64::NAN);
    for round in 1..=ROUNDS {
        let credential = Credential::from_input(Some("bench-secret".into()), None, None)?;
        let client = GraphClient::new(&config, DIRECTORY, CLIENT, credential)?;
        let before = state.requests.load(Ordering::Relaxed);
        let started = Instant::now();
        let collected = collect(
            &client,
            &[],
            chrono::Utc::now() - chrono::Duration::days(7),
            AuditIndex::shipped(),
        )
        .await;
        ours.push(started.elapsed());
        requests = state.requests.load(Ordering::Relaxed) - before;
        if collected.error.is_some() {
            return Err(format!("the collection failed: {:?}", collected.error));
        }
        facts = collected.facts.unwrap_or_default();
        let started = Instant::now();
        for url in &urls {
            let response = raw.get(url).send().await.map_err(|e| e.to_string())?;
            response.bytes().await.map_err(|e| e.to_string())?;
        }
        baseline.push(started.elapsed());
        println!(
            "  round {round}: collection {:.1} ms, raw fetch {:.1} ms",
            ours[round - 1].as_secs_f64() * 1000.0,
            baseline[round - 1].as_secs_f64() * 1000.0
        );
    }
    server.abort();
    let ratio = {
        let mut o = ours.clone();
        let mut b = baseline.clone();
        o.sort();
        b.sort();
        o[o.len() / 2].as_secs_f64() / b[b.len() / 2].as_secs_f64()
    };
    println!(
        "collection (token, 20 endpoints, the audit log, groups, facts): {}",
        summary(&mut ours)
    );
    println!(
        "raw sequential fetch of the same {} pages: {}",
        urls.len(),
        summary(&mut baseline)
    );
    println!(
        "requests per collection: {requests} (token included); ratio collection / raw: {ratio:.2}"
    );
    println!(
        "peak RSS of the process (stand-in's directory included): {:.1} MiB before the first round, {:.1} MiB after the last",
        rss_before,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    println!("facts: {facts}");
    Ok(())
}
