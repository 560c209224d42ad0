//! A stand-in for the Microsoft identity platform and Microsoft Graph on loopback, serving the
//! documented shapes: the token endpoint (client secret, or a PS256 client assertion whose
//! `x5t#S256` and signature it checks), and the ten v1.0 endpoints with `@odata.nextLink`
//! paging. A test can make an endpoint answer 403, answer 429 with `Retry-After` once, expire
//! the tokens it issued, or slow every answer down.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The stand-in's directory id.
pub const DIRECTORY: &str = "8f2c5a1e-4b7d-4c3a-9e61-2d5f0b8a7c44";
/// The app registration's client id.
pub const CLIENT: &str = "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38";
/// The app's client secret.
pub const CLIENT_SECRET: &str = "Xq8~stand-in-secret.value_0123456789";

/// Test certificate (PEM) registered on the app.
pub const CERTIFICATE: &str = include_str!("../fixtures/graph-app.crt");
/// Its private key.
pub const PRIVATE_KEY: &str = include_str!("../fixtures/graph-app.key");
/// Its public key.
const PUBLIC_KEY: &str = include_str!("../fixtures/graph-app.pub");

/// What a test can change while the stand-in runs.
#[derive(Default)]
pub struct Behaviour {
    /// Paths (after `/v1.0`, without query) answering 403.
    pub forbidden: HashSet<String>,
    /// Paths answering 429 with `Retry-After` to their next request (then served).
    pub throttle_once: HashSet<String>,
    /// The `Retry-After` a throttled path sends; `1` when unset.
    pub retry_after: Option<String>,
    /// Paths answering 403 because the tenant lacks a licence, as Graph answers a tenant
    /// without Entra ID P1 for registration details.
    pub unlicensed: HashSet<String>,
    /// Tokens stop working after this many Graph requests each.
    pub token_uses: Option<usize>,
    /// Every Graph answer waits this long.
    pub delay: Option<Duration>,
    /// Errors echo what was sent, as a careless endpoint or a proxy may: the token endpoint its
    /// form body (percent-encoded), Graph the `Authorization` header.
    pub echo_requests: bool,
    /// Directories besides [`DIRECTORY`] whose admin consented to the client (a multi-tenant
    /// app): their tokens are issued and Graph serves them the same directory.
    pub consented: HashSet<String>,
    /// Directories that exist but where nobody consented to the client: their token requests
    /// answer AADSTS700016, until the admin consent endpoint is followed.
    pub awaiting_consent: HashSet<String>,
    /// When set, the admin consent endpoint answers with this `error` and `error_description`
    /// (the admin declined) instead of consenting.
    pub consent_declined: Option<(String, String)>,
}

/// The shared state of the stand-in.
pub struct Shared {
    /// List endpoints' items by path.
    collections: HashMap<String, Vec<Value>>,
    /// Single-object endpoints by path.
    objects: HashMap<String, Value>,
    /// Items per page.
    page_size: usize,
    /// What the test asked for.
    pub behaviour: Mutex<Behaviour>,
    /// Issued tokens and how often each was used.
    tokens: Mutex<HashMap<String, usize>>,
    /// Every request: `METHOD path?query`.
    pub requests: Mutex<Vec<String>>,
    /// Token requests granted.
    pub tokens_issued: Mutex<usize>,
    /// Graph requests that did not offer `Accept-Encoding: gzip`.
    pub without_gzip: Mutex<usize>,
}

/// A running stand-in.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its state.
    pub state: Arc<Shared>,
}

impl StandIn {
    /// Serves `directory` (see [`Directory`]) in pages of `page_size`.
    pub async fn start(directory: Directory, page_size: usize) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut directory = directory;
        directory.derive_schedule_instances();
        directory.derive_beta();
        let state = Arc::new(Shared {
            collections: directory.collections,
            objects: directory.objects,
            page_size,
            behaviour: Mutex::new(Behaviour::default()),
            tokens: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            tokens_issued: Mutex::new(0),
            without_gzip: Mutex::new(0),
        });
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/{tenant}/v2.0/adminconsent", get(admin_consent))
            .route("/v1.0/{*path}", get(graph))
            .route("/beta/{*path}", get(graph_beta))
            // As Graph does, answers are gzip-compressed for a client that offers it.
            .layer(tower_http::compression::CompressionLayer::new().gzip(true))
            .with_state((state.clone(), url.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn { url, state }
    }

    /// Changes what the stand-in does.
    pub fn behave(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.state.behaviour.lock().unwrap());
    }

    /// Graph requests made so far (token requests excluded).
    pub fn graph_requests(&self) -> Vec<String> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("GET "))
            .cloned()
            .collect()
    }

    /// Token requests granted so far.
    pub fn tokens_issued(&self) -> usize {
        *self.state.tokens_issued.lock().unwrap()
    }

    /// The access tokens granted so far.
    pub fn access_tokens(&self) -> Vec<String> {
        self.state.tokens.lock().unwrap().keys().cloned().collect()
    }
}

/// A directory as Graph serves it.
#[derive(Default)]
pub struct Directory {
    collections: HashMap<String, Vec<Value>>,
    objects: HashMap<String, Value>,
}

/// Built-in role template ids the default PIM policies are listed for.
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
/// The `beta` paths the connector reads.
pub const BETA_POLICIES: &str = "/beta/identity/conditionalAccess/policies";
pub const BETA_AUTHENTICATOR: &str = "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator";
/// The directory audit log.
pub const AUDIT_LOG: &str = "/auditLogs/directoryAudits";
/// Where Graph lists active role assignments as PIM records them.
const SCHEDULE_INSTANCES: &str = "/roleManagement/directory/roleAssignmentScheduleInstances";

impl Directory {
    /// A tenant that never changed the settings the newer endpoints read, in Microsoft's
    /// documented shapes: no directory settings objects, the device registration policy's
    /// defaults, the default app management policy off, the cross-tenant access policy's
    /// service default, no named locations, the default PIM
    /// policies of Global and Privileged Role Administrator, no access reviews. (Active assignments are derived from
    /// `roleAssignments` when not given, as Graph lists directly made assignments.)
    pub fn tenant() -> Self {
        Directory::default()
            .list("/groupSettings", vec![])
            .object(
                "/policies/deviceRegistrationPolicy",
                json!({"id": "deviceRegistrationPolicy", "displayName": "Device Registration Policy",
                       "userDeviceQuota": 50, "multiFactorAuthConfiguration": "notRequired",
                       "azureADRegistration": {"isAdminConfigurable": false,
                           "allowedToRegister": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"}},
                       "azureADJoin": {"isAdminConfigurable": true,
                           "allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                           "localAdmins": {"enableGlobalAdmins": true,
                               "registeringUsers": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"}}},
                       "localAdminPassword": {"isEnabled": false}}),
            )
            .object(
                "/policies/defaultAppManagementPolicy",
                json!({"id": "00000000-0000-0000-0000-000000000000", "displayName": "Default app management tenant policy",
                       "description": "Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.",
                       "isEnabled": false,
                       "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": []},
                       "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []}}),
            )
            .object("/policies/crossTenantAccessPolicy/default", cross_tenant_service_default())
            .list("/identity/conditionalAccess/namedLocations", vec![])
            .list(
                "/policies/roleManagementPolicyAssignments",
                vec![
                    role_policy(GLOBAL_ADMINISTRATOR, false, &[], &[], &[], &[]),
                    role_policy(PRIVILEGED_ROLE_ADMINISTRATOR, false, &[], &[], &[], &[]),
                ],
            )
            .list("/identityGovernance/accessReviews/definitions", vec![])
            .list(AUDIT_LOG, vec![])
    }

    /// Lists every role assignment as an active schedule instance made outside PIM (no start,
    /// no end), unless the directory names its instances itself.
    fn derive_schedule_instances(&mut self) {
        if self.collections.contains_key(SCHEDULE_INSTANCES) {
            return;
        }
        let Some(assignments) = self
            .collections
            .get("/roleManagement/directory/roleAssignments")
        else {
            return;
        };
        let instances = assignments
            .iter()
            .map(|a| {
                json!({"id": a["id"], "principalId": a["principalId"],
                       "roleDefinitionId": a["roleDefinitionId"], "directoryScopeId": a["directoryScopeId"],
                       "appScopeId": null, "startDateTime": null, "endDateTime": null,
                       "assignmentType": "Assigned", "memberType": "Direct",
                       "roleAssignmentOriginId": a["id"], "roleAssignmentScheduleId": a["id"]})
            })
            .collect();
        self.collections
            .insert(SCHEDULE_INSTANCES.to_owned(), instances);
    }

    /// Serves in `beta` what the v1.0 answers say, unless the directory names it: the same
    /// Conditional Access policies (no token protection), and Microsoft Authenticator's
    /// configuration with its companion-app setting left to Microsoft (`default`).
    fn derive_beta(&mut self) {
        if !self.collections.contains_key(BETA_POLICIES)
            && let Some(policies) = self.collections.get("/identity/conditionalAccess/policies")
        {
            let policies = policies.clone();
            self.collections.insert(BETA_POLICIES.to_owned(), policies);
        }
        if !self.objects.contains_key(BETA_AUTHENTICATOR) {
            let listed = self
                .objects
                .get("/policies/authenticationMethodsPolicy")
                .and_then(|policy| policy["authenticationMethodConfigurations"].as_array())
                .and_then(|methods| {
                    methods
                        .iter()
                        .find(|m| m["id"] == "MicrosoftAuthenticator")
                        .cloned()
                });
            let mut authenticator = listed.unwrap_or_else(|| {
                json!({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                       "id": "MicrosoftAuthenticator", "state": "enabled", "featureSettings": {}})
            });
            if authenticator["featureSettings"].is_null() {
                authenticator["featureSettings"] = json!({});
            }
            authenticator["featureSettings"]["companionAppAllowedState"] = json!({"state": "default",
                "includeTarget": {"targetType": "group", "id": "all_users"},
                "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}});
            self.objects
                .insert(BETA_AUTHENTICATOR.to_owned(), authenticator);
        }
    }

    /// Sets a list endpoint's items (path after `/v1.0`, or `/beta/…` for beta, no query).
    pub fn list(mut self, path: &str, items: Vec<Value>) -> Self {
        self.collections.insert(path.to_owned(), items);
        self
    }

    /// Sets a single-object endpoint.
    pub fn object(mut self, path: &str, object: Value) -> Self {
        self.objects.insert(path.to_owned(), object);
        self
    }
}

type AppState = (Arc<Shared>, String);

/// An OAuth error as the identity platform answers it.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "error": error,
            "error_description": format!("{description}\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2026-11-29 00:00:00Z"),
            "error_codes": [7000215],
        })),
    )
        .into_response()
}

async fn token(
    State((state, base)): State<AppState>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let echo = if state.behaviour.lock().unwrap().echo_requests {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        format!(" Request body: {body}")
    } else {
        String::new()
    };
    state
        .requests
        .lock()
        .unwrap()
        .push(format!("POST /{tenant}/oauth2/v2.0/token"));
    if state
        .behaviour
        .lock()
        .unwrap()
        .awaiting_consent
        .contains(&tenant)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                form.get("client_id")
                    .map(String::as_str)
                    .unwrap_or_default()
            ),
        );
    }
    if tenant != DIRECTORY && !state.behaviour.lock().unwrap().consented.contains(&tenant) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("scope").map(String::as_str) != Some(&format!("{base}/.default"))
        || form.get("client_id").map(String::as_str) != Some(CLIENT)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS900144: The request is not a client credentials request for Graph.",
        );
    }
    let authenticated = match (form.get("client_secret"), form.get("client_assertion")) {
        (Some(secret), None) => secret == CLIENT_SECRET,
        (None, Some(assertion)) => {
            form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && assertion_is_valid(assertion, &format!("{base}/{DIRECTORY}/oauth2/v2.0/token"))
        }
        _ => false,
    };
    if !authenticated {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            &format!(
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{CLIENT}'.{echo}"
            ),
        );
    }
    let access_token = uuid::Uuid::new_v4().simple().to_string();
    state.tokens.lock().unwrap().insert(access_token.clone(), 0);
    *state.tokens_issued.lock().unwrap() += 1;
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token}))
        .into_response()
}

/// The admin consent endpoint, as an admin who signs in and accepts (or declines) sees it:
/// a redirect to `redirect_uri` with `admin_consent=True`, `tenant`, `scope` and `state`, or
/// with `error`, `error_description` and `state`.
async fn admin_consent(
    State((state, base)): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    state
        .requests
        .lock()
        .unwrap()
        .push(format!("GET /{tenant}/v2.0/adminconsent"));
    let scope = format!("{base}/.default");
    let (Some(redirect), Some(CLIENT), Some(true)) = (
        query.get("redirect_uri"),
        query.get("client_id").map(String::as_str),
        query.get("scope").map(|s| *s == scope),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS900144: a parameter is missing or wrong",
        )
            .into_response();
    };
    let mut behaviour = state.behaviour.lock().unwrap();
    let mut target = reqwest::Url::parse(redirect).unwrap();
    {
        let mut pairs = target.query_pairs_mut();
        match &behaviour.consent_declined {
            Some((error, description)) => {
                pairs
                    .append_pair("error", error)
                    .append_pair("error_description", description);
            }
            None => {
                pairs
                    .append_pair("admin_consent", "True")
                    .append_pair("tenant", &tenant)
                    .append_pair("scope", &scope);
            }
        }
        if let Some(value) = query.get("state") {
            pairs.append_pair("state", value);
        }
    }
    if behaviour.consent_declined.is_none() && behaviour.awaiting_consent.remove(&tenant) {
        behaviour.consented.insert(tenant);
    }
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, target.to_string())],
    )
        .into_response()
}

/// Checks a client assertion as the identity platform does: PS256 with the registered
/// certificate's key, `x5t#S256` its thumbprint, audience the token endpoint, issuer and
/// subject the client, not expired.
fn assertion_is_valid(assertion: &str, audience: &str) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return false;
    };
    let der = {
        use x509_cert::der::{DecodePem, Encode};
        x509_cert::Certificate::from_pem(CERTIFICATE.as_bytes())
            .unwrap()
            .to_der()
            .unwrap()
    };
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(&der));
    if header.alg != jsonwebtoken::Algorithm::PS256 || header.x5t_s256 != Some(thumbprint) {
        return false;
    }
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT]);
    validation.sub = Some(CLIENT.to_owned());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub", "nbf"]);
    jsonwebtoken::decode::<Value>(assertion, &key, &validation).is_ok()
}

/// Graph's error body.
fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message, "innerError": {"request-id": "0000"}}})),
    )
        .into_response()
}

/// `graph` for `beta` paths (kept in the directory under `/beta/…`).
async fn graph_beta(
    state: State<AppState>,
    Path(path): Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    graph(state, Path(format!("beta/{path}")), query, headers).await
}

/// The audit log filtered as Graph filters it on `activityDateTime ge T` (the only filter the
/// connector sends it); other lists whole.
fn logged_since(path: &str, items: &[Value], filter: Option<&String>) -> Vec<Value> {
    let since = filter
        .filter(|_| path == AUDIT_LOG)
        .and_then(|f| f.strip_prefix("activityDateTime ge "))
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("an RFC 3339 instant"));
    items
        .iter()
        .filter(|item| {
            since.is_none_or(|since| {
                let at = item["activityDateTime"].as_str().unwrap_or_default();
                chrono::DateTime::parse_from_rfc3339(at).is_ok_and(|at| at >= since)
            })
        })
        .cloned()
        .collect()
}

async fn graph(
    State((state, base)): State<AppState>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/{path}");
    let mut raw_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    raw_query.sort();
    state
        .requests
        .lock()
        .unwrap()
        .push(format!("GET {path}?{}", raw_query.join("&")));
    let gzip = headers
        .get("accept-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim() == "gzip"));
    if !gzip {
        *state.without_gzip.lock().unwrap() += 1;
    }
    let delay = state.behaviour.lock().unwrap().delay;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    {
        let uses_allowed = state.behaviour.lock().unwrap().token_uses;
        let mut tokens = state.tokens.lock().unwrap();
        match tokens.get_mut(&bearer) {
            None => {
                return graph_error(
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationToken",
                    "Access token is empty.",
                );
            }
            Some(uses) => {
                *uses += 1;
                if uses_allowed.is_some_and(|allowed| *uses > allowed) {
                    return graph_error(
                        StatusCode::UNAUTHORIZED,
                        "InvalidAuthenticationToken",
                        "Lifetime validation failed, the token is expired.",
                    );
                }
            }
        }
    }
    {
        let mut behaviour = state.behaviour.lock().unwrap();
        if behaviour.forbidden.contains(&path) {
            let echo = if behaviour.echo_requests {
                format!(" Headers: Authorization: Bearer {bearer}")
            } else {
                String::new()
            };
            return graph_error(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                &format!("Insufficient privileges to complete the operation.{echo}"),
            );
        }
        if behaviour.unlicensed.contains(&path) {
            return graph_error(
                StatusCode::FORBIDDEN,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            );
        }
        if behaviour.throttle_once.remove(&path) {
            let mut response = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests.",
            );
            let wait = behaviour.retry_after.clone().unwrap_or_else(|| "1".into());
            response
                .headers_mut()
                .insert("retry-after", wait.parse().unwrap());
            return response;
        }
    }
    if let Some(object) = state.objects.get(&path) {
        let mut object = object.clone();
        object["@odata.context"] = json!(format!("{base}/v1.0/$metadata#{path}/$entity"));
        return axum::Json(object).into_response();
    }
    let Some(items) = state.collections.get(&path) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{path}' does not exist."),
        );
    };
    let items = &logged_since(&path, items, query.get("$filter"));
    let expand_principal = query.get("$expand").map(String::as_str) == Some("principal");
    let skip: usize = query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(state.page_size)
        .map(|item| {
            let mut item = item.clone();
            if !expand_principal && let Some(object) = item.as_object_mut() {
                object.remove("principal");
            }
            item
        })
        .collect();
    let mut body = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#{}", path.trim_start_matches('/')),
        "value": page,
    });
    if skip + state.page_size < items.len() {
        let mut kept: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        kept.sort();
        kept.push(format!("$skiptoken={}", skip + state.page_size));
        let versioned = if path.starts_with("/beta/") {
            path.clone()
        } else {
            format!("/v1.0{path}")
        };
        body["@odata.nextLink"] = json!(format!("{base}{versioned}?{}", kept.join("&")));
    }
    axum::Json(body).into_response()
}

/// A notification rule of a role's PIM policy.
fn notification(id: &str, recipients: &[&str]) -> Value {
    let (caller, level) = match id {
        "Notification_Admin_Admin_Eligibility" => ("Admin", "Eligibility"),
        "Notification_Admin_Admin_Assignment" => ("Admin", "Assignment"),
        _ => ("EndUser", "Assignment"),
    };
    json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "id": id,
           "notificationType": "Email", "recipientType": "Admin", "notificationLevel": "All",
           "isDefaultRecipientsEnabled": true, "notificationRecipients": recipients,
           "target": {"caller": caller, "operations": ["all"], "level": level,
                      "inheritableSettings": [], "enforcedSettings": []}})
}

/// A role's PIM policy assignment with its rules expanded: whether activation needs approval
/// and by whom, and who hears of eligibility, assignment and activation.
pub fn role_policy(
    role: &str,
    approval: bool,
    approvers: &[&str],
    eligibility_alert: &[&str],
    assignment_alert: &[&str],
    activation_alert: &[&str],
) -> Value {
    let approvers: Vec<Value> = approvers
        .iter()
        .map(|id| json!({"@odata.type": "#microsoft.graph.singleUser", "userId": id, "description": null}))
        .collect();
    let policy_id = format!(
        "DirectoryRole_cab01047-8ad9-4792-8e42-569340767f1b_{}",
        uuid::Uuid::new_v4()
    );
    json!({"id": format!("{policy_id}_{role}"), "policyId": policy_id, "scopeId": "/", "scopeType": "DirectoryRole",
    "roleDefinitionId": role,
    "policy": {"id": policy_id, "displayName": "DirectoryRole", "description": "DirectoryRole",
        "isOrganizationDefault": false, "scopeId": "/", "scopeType": "DirectoryRole",
        "rules": [
            {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
             "id": "Expiration_EndUser_Assignment", "isExpirationRequired": true, "maximumDuration": "PT8H",
             "target": {"caller": "EndUser", "operations": ["all"], "level": "Assignment",
                        "inheritableSettings": [], "enforcedSettings": []}},
            {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
             "id": "Approval_EndUser_Assignment",
             "target": {"caller": "EndUser", "operations": ["all"], "level": "Assignment",
                        "inheritableSettings": [], "enforcedSettings": []},
             "setting": {"isApprovalRequired": approval, "isApprovalRequiredForExtension": false,
                 "isRequestorJustificationRequired": true, "approvalMode": "SingleStage",
                 "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": true,
                     "escalationTimeInMinutes": 0, "isEscalationEnabled": false,
                     "primaryApprovers": approvers, "escalationApprovers": []}]}},
            notification("Notification_Admin_Admin_Eligibility", eligibility_alert),
            notification("Notification_Admin_Admin_Assignment", assignment_alert),
            notification("Notification_Admin_EndUser_Assignment", activation_alert),
        ]}})
}

/// One direction of a cross-tenant access setting in Microsoft's shape: users and groups, and
/// applications, each `allowed` or `blocked` for the given targets.
pub fn cross_tenant_direction(access: &str, users: &[(&str, &str)], apps: &str) -> Value {
    let users: Vec<Value> = users
        .iter()
        .map(|(target, kind)| json!({"target": target, "targetType": kind}))
        .collect();
    json!({"usersAndGroups": {"accessType": access, "targets": users},
           "applications": {"accessType": apps,
               "targets": [{"target": "AllApplications", "targetType": "application"}]}})
}

/// `/policies/crossTenantAccessPolicy/default` as Microsoft documents a tenant that never
/// changed it (`isServiceDefault`): B2B collaboration allowed, B2B direct connect blocked, no
/// inbound trust.
pub fn cross_tenant_service_default() -> Value {
    let all = [("AllUsers", "user")];
    json!({"isServiceDefault": true,
           "inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": false,
                            "isHybridAzureADJoinedDeviceAccepted": false},
           "b2bCollaborationOutbound": cross_tenant_direction("allowed", &all, "allowed"),
           "b2bCollaborationInbound": cross_tenant_direction("allowed", &all, "allowed"),
           "b2bDirectConnectOutbound": cross_tenant_direction("blocked", &all, "blocked"),
           "b2bDirectConnectInbound": cross_tenant_direction("blocked", &all, "blocked")})
}
