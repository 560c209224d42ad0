//! The Graph connector end to end, against the stand-in on loopback: a directory worked out
//! on paper, collected through paging, a 429, an expired token; a certificate credential; a
//! forbidden endpoint; a wrong secret; no secrets key; the schedule.

use std::time::Duration;

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::graph_standin::{
    BETA_AUTHENTICATOR, BETA_POLICIES, CERTIFICATE, CLIENT, CLIENT_SECRET, DIRECTORY, Directory,
    PRIVATE_KEY, StandIn, cross_tenant_direction, cross_tenant_service_default, role_policy,
};
use crate::helpers::{TestApp, error_code, eventually, platform_admin, spawn_app_with, token};

pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const SECURITY_READER: &str = "5d6b6bb7-de71-4623-b4af-96380a352509";
const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

pub fn user(id: &str, user_type: &str, enabled: bool) -> Value {
    json!({"id": id, "userType": user_type, "accountEnabled": enabled, "onPremisesSyncEnabled": null})
}

pub fn synced_user(id: &str) -> Value {
    json!({"id": id, "userType": "Member", "accountEnabled": true, "onPremisesSyncEnabled": true})
}

pub fn registration(id: &str, mfa: bool) -> Value {
    let methods = if mfa {
        json!(["microsoftAuthenticatorPush"])
    } else {
        json!([])
    };
    registration_with(id, mfa, methods)
}

pub fn registration_with(id: &str, mfa: bool, methods: Value) -> Value {
    json!({"id": id, "userPrincipalName": format!("{id}@contoso.com"), "userType": "member",
           "isAdmin": false, "isMfaRegistered": mfa, "isMfaCapable": mfa, "isSsprRegistered": false,
           "methodsRegistered": methods})
}

/// `policy` granting through an authentication strength instead of built-in controls.
fn with_strength(mut policy: Value, id: &str, combinations: &[&str]) -> Value {
    policy["grantControls"]["authenticationStrength"] = json!({"id": id, "displayName": "strength",
        "policyType": "builtIn", "requirementsSatisfied": "mfa", "allowedCombinations": combinations});
    policy
}

pub fn assignment(id: &str, role: &str, principal: &str, kind: &str, scope: &str) -> Value {
    json!({"id": id, "roleDefinitionId": role, "principalId": principal, "directoryScopeId": scope,
           "principal": {"@odata.type": format!("#microsoft.graph.{kind}"), "id": principal}})
}

pub fn member(id: &str, kind: &str) -> Value {
    json!({"@odata.type": format!("#microsoft.graph.{kind}"), "id": id})
}

pub fn policy(
    name: &str,
    state: &str,
    apps: &[&str],
    users: Value,
    extra: Value,
    grant: &[&str],
) -> Value {
    let mut conditions = json!({
        "applications": {"includeApplications": apps, "excludeApplications": []},
        "users": users,
        "clientAppTypes": ["all"],
        "signInRiskLevels": [],
        "userRiskLevels": [],
    });
    for (key, value) in extra.as_object().unwrap() {
        conditions[key] = value.clone();
    }
    json!({"id": uuid::Uuid::new_v4().to_string(), "displayName": name, "state": state,
           "conditions": conditions,
           "grantControls": {"operator": "OR", "builtInControls": grant}})
}

pub fn users_condition(include: Value) -> Value {
    let mut users = json!({"includeUsers": [], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                           "includeRoles": [], "excludeRoles": []});
    for (key, value) in include.as_object().unwrap() {
        users[key] = value.clone();
    }
    users
}

/// The directory worked out on paper (facts below, in `PAPER_FACTS`):
/// - alice (u1), bob (u2), carol (u3), dave (u4), erin (u5), heidi (u8): enabled members;
///   frank (u6) is disabled, grace (u7) a guest: neither counts as a member.
/// - MFA registered: alice, bob, dave, heidi, and frank and grace (not members).
/// - Global Administrator: alice directly, bob through the group `g-admins`, carol (the
///   break-glass account) directly, and a service principal (not a user). User
///   Administrator: heidi through `g-helpdesk`. Security Reader (erin) is not an admin role;
///   dave's Helpdesk Administrator is scoped to an administrative unit, not the directory.
/// - Policies: MFA for Global and User Administrators excluding carol; legacy authentication
///   blocked for all users except the group `g-breakglass` (carol); a report-only and an
///   Office-365-only sign-in risk policy (neither counts); a high sign-in risk policy for the
///   group `g-pilot` (dave, erin, grace); a disabled user risk policy.
/// - Domains: two verified managed ones that never expire passwords, a federated one and an
///   unverified one that do (neither counts).
/// - Heidi is synchronized from on-premises; alice has a FIDO2 key and bob Windows Hello.
/// - More policies: MFA through an authentication strength for everyone but erin; the
///   Phishing-resistant MFA strength for Global Administrators; medium and high sign-in risk
///   blocked for `g-pilot`; compliant devices for everyone but `g-breakglass`; the device code
///   flow blocked for everyone.
/// - Users may not register apps or create security groups but may create tenants; guests see
///   limited directory data, and everyone may invite them.
/// - Methods: SMS and email on, voice off; Authenticator shows the app but not the location;
///   system-preferred MFA on for all users.
pub fn paper_directory() -> Directory {
    let policies = paper_policies();
    // Beta says the same of every policy, and that the last one binds sessions to the device.
    let mut beta_policies = policies.clone();
    let token_protection = beta_policies.last_mut().unwrap();
    token_protection["sessionControls"] = json!({"secureSignInSession": {"isEnabled": true}});
    Directory::tenant()
        .list(
            "/users",
            vec![
                licensed(user("u1", "Member", true), &[P2_SKU]),
                licensed(user("u2", "Member", true), &[E5_SKU, P2_SKU]),
                user("u3", "Member", true),
                licensed(user("u4", "Member", true), &[E5_SKU]),
                user("u5", "Member", true),
                user("u6", "Member", false),
                user("u7", "Guest", true),
                licensed(synced_user("u8"), &[UNKNOWN_SKU]),
            ],
        )
        .list(
            "/reports/authenticationMethods/userRegistrationDetails",
            vec![
                registration_with("u1", true, json!(["fido2SecurityKey", "microsoftAuthenticatorPush"])),
                registration_with("u2", true, json!(["windowsHelloForBusiness"])),
                registration("u3", false),
                registration("u4", true),
                registration("u5", false),
                registration("u6", true),
                registration("u7", true),
                registration("u8", true),
            ],
        )
        .list(
            "/roleManagement/directory/roleAssignments",
            vec![
                assignment("a1", GLOBAL_ADMIN, "u1", "user", "/"),
                assignment("a2", GLOBAL_ADMIN, "g-admins", "group", "/"),
                assignment("a3", GLOBAL_ADMIN, "u3", "user", "/"),
                assignment("a4", GLOBAL_ADMIN, "sp1", "servicePrincipal", "/"),
                assignment("a5", SECURITY_READER, "u5", "user", "/"),
                assignment("a6", USER_ADMIN, "g-helpdesk", "group", "/"),
                assignment("a7", HELPDESK_ADMIN, "u4", "user", "/administrativeUnits/au1"),
            ],
        )
        .list("/groups/g-admins/transitiveMembers", vec![member("u2", "user"), member("g-nested", "group"), member("d1", "device")])
        .list("/groups/g-helpdesk/transitiveMembers", vec![member("u8", "user")])
        .list("/groups/g-breakglass/transitiveMembers", vec![member("u3", "user")])
        .list("/groups/g-pilot/transitiveMembers", vec![member("u4", "user"), member("u5", "user"), member("u7", "user")])
        .list("/identity/conditionalAccess/policies", policies)
        .list(BETA_POLICIES, beta_policies)
        .object(
            BETA_AUTHENTICATOR,
            json!({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                   "id": "MicrosoftAuthenticator", "state": "enabled",
                   "featureSettings": {"companionAppAllowedState": {"state": "disabled",
                       "includeTarget": {"targetType": "group", "id": "all_users"},
                       "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}}}}),
        )
        .list(
            "/identity/conditionalAccess/namedLocations",
            vec![
                json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": OFFICE, "displayName": "Office",
                       "createdDateTime": "2025-03-01T10:00:00Z", "modifiedDateTime": "2025-03-01T10:00:00Z",
                       "isTrusted": true,
                       "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}]}),
                json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": COUNTRIES, "displayName": "Blocked countries",
                       "createdDateTime": "2025-03-01T10:00:00Z", "modifiedDateTime": "2025-03-01T10:00:00Z",
                       "countriesAndRegions": ["KP"], "includeUnknownCountriesAndRegions": true,
                       "countryLookupMethod": "clientIpAddress"}),
            ],
        )
        .list(
            "/groupSettings",
            vec![
                group_setting("62375ab9-6b52-47ed-826b-58e47e0e304b", "Group.Unified",
                    &[("EnableGroupCreation", "false"), ("GroupCreationAllowedGroupId", "")]),
                group_setting("5cf42378-d67d-4f36-ba46-e8b86229381d", "Password Rule Settings",
                    &[("BannedPasswordCheckOnPremisesMode", "Audit"), ("EnableBannedPasswordCheckOnPremises", "True"),
                      ("EnableBannedPasswordCheck", "True"), ("LockoutDurationInSeconds", "30"),
                      ("LockoutThreshold", "5"), ("BannedPasswordList", "contoso\tfabrikam")]),
            ],
        )
        .object(
            "/policies/deviceRegistrationPolicy",
            json!({"id": "deviceRegistrationPolicy", "displayName": "Device Registration Policy",
                   "userDeviceQuota": 2, "multiFactorAuthConfiguration": "notRequired",
                   "azureADRegistration": {"isAdminConfigurable": false,
                       "allowedToRegister": {"@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"}},
                   "azureADJoin": {"isAdminConfigurable": true,
                       "allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                       "localAdmins": {"enableGlobalAdmins": true,
                           "registeringUsers": {"@odata.type": "#microsoft.graph.enumeratedDeviceRegistrationMembership",
                               "users": ["3c8ef067-8b96-44de-b2ae-557dfa0f97a0"], "groups": []}}},
                   "localAdminPassword": {"isEnabled": false}}),
        )
        .object(
            "/policies/defaultAppManagementPolicy",
            json!({"id": "00000000-0000-0000-0000-000000000000", "displayName": "Default app management tenant policy",
                   "isEnabled": true,
                   "applicationRestrictions": {
                       "passwordCredentials": [
                           credential_restriction("passwordAddition", None, "2021-01-01T10:37:00Z"),
                           credential_restriction("passwordLifetime", Some("P365D"), "2017-01-01T10:37:00Z"),
                           credential_restriction("customPasswordAddition", None, "2099-01-01T00:00:00Z"),
                       ],
                       "keyCredentials": [credential_restriction("asymmetricKeyLifetime", Some("P90D"), "2015-01-01T10:37:00Z")]},
                   "servicePrincipalRestrictions": {
                       "passwordCredentials": [credential_restriction("passwordAddition", None, "2021-01-01T10:37:00Z")],
                       "keyCredentials": [credential_restriction("asymmetricKeyLifetime", Some("P180D"), "2015-01-01T10:37:00Z")]}}),
        )
        .object("/policies/crossTenantAccessPolicy/default", {
            // Customized: B2B collaboration inbound blocked for every external user and
            // application (partners would be opened one by one in their own settings).
            let mut default = cross_tenant_service_default();
            default["isServiceDefault"] = json!(false);
            default["b2bCollaborationInbound"] =
                cross_tenant_direction("blocked", &[("AllUsers", "user")], "blocked");
            default
        })
        .list(
            "/roleManagement/directory/roleAssignmentScheduleInstances",
            vec![
                active("a1", GLOBAL_ADMIN, "u1", "/", "Assigned", None, None),
                active("a2", GLOBAL_ADMIN, "g-admins", "/", "Assigned", Some("2025-01-01T00:00:00Z"), None),
                active("a3", GLOBAL_ADMIN, "u3", "/", "Assigned", None, None),
                active("a4", GLOBAL_ADMIN, "sp1", "/", "Assigned", None, None),
                active("a5", SECURITY_READER, "u5", "/", "Assigned", None, None),
                active("a6", USER_ADMIN, "g-helpdesk", "/", "Activated",
                    Some("2026-12-06T09:00:00Z"), Some("2026-12-06T17:00:00Z")),
                active("a7", HELPDESK_ADMIN, "u4", "/administrativeUnits/au1", "Assigned", None, None),
            ],
        )
        .list(
            "/policies/roleManagementPolicyAssignments",
            vec![
                role_policy(GLOBAL_ADMIN, true, &["approver-1"], &["soc@contoso.com"], &[], &["soc@contoso.com"]),
                role_policy(PRIVILEGED_ROLE_ADMIN, true, &[], &[], &[], &[]),
                role_policy(USER_ADMIN, false, &[], &["soc@contoso.com"], &["soc@contoso.com"], &[]),
                role_policy(SECURITY_READER, false, &[], &["soc@contoso.com"], &["soc@contoso.com"], &["soc@contoso.com"]),
            ],
        )
        .list(
            "/identityGovernance/accessReviews/definitions",
            vec![
                access_review("InProgress",
                    json!({"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                           "query": "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
                           "queryType": "MicrosoftGraph"}),
                    "absoluteMonthly", 1),
                access_review("InProgress", global_admin_review_scope(), "absoluteMonthly", 3),
                access_review("Completed", global_admin_review_scope(), "weekly", 1),
            ],
        )
        .list(
            "/domains",
            vec![
                json!({"id": "contoso.com", "authenticationType": "Managed", "isVerified": true, "isDefault": true, "passwordValidityPeriodInDays": 2147483647}),
                json!({"id": "contoso.onmicrosoft.com", "authenticationType": "Managed", "isVerified": true, "isInitial": true, "passwordValidityPeriodInDays": 2147483647}),
                json!({"id": "fed.contoso.com", "authenticationType": "Federated", "isVerified": true, "passwordValidityPeriodInDays": 90}),
                json!({"id": "new.contoso.com", "authenticationType": "Managed", "isVerified": false, "passwordValidityPeriodInDays": 90}),
            ],
        )
        .object(
            "/policies/authorizationPolicy",
            json!({"id": "authorizationPolicy", "allowedToUseSSPR": true, "allowEmailVerifiedUsersToJoinOrganization": false,
                   "allowInvitesFrom": "everyone", "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
                   "defaultUserRolePermissions": {"allowedToCreateApps": false, "allowedToCreateTenants": true,
                       "allowedToCreateSecurityGroups": false, "allowedToReadOtherUsers": true,
                       "allowedToReadBitlockerKeysForOwnedDevice": true,
                       "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"]}}),
        )
        .object(
            "/policies/authenticationMethodsPolicy",
            json!({"id": "authenticationMethodsPolicy", "policyVersion": "1.5",
                   "policyMigrationState": "migrationInProgress",
                   "systemCredentialPreferences": {"state": "enabled", "excludeTargets": [],
                       "includeTargets": [{"id": "all_users", "targetType": "group"}]},
                   "authenticationMethodConfigurations": [
                       {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "enabled"},
                       {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "disabled"},
                       {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email", "state": "enabled"},
                       {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": "enabled"},
                       {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                        "id": "MicrosoftAuthenticator", "state": "enabled",
                        "featureSettings": {
                            "displayAppInformationRequiredState": {"state": "enabled",
                                "includeTarget": {"targetType": "group", "id": "all_users"},
                                "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}},
                            "displayLocationInformationRequiredState": {"state": "default",
                                "includeTarget": {"targetType": "group", "id": "all_users"},
                                "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}}}}
                   ]}),
        )
        .object(
            "/policies/identitySecurityDefaultsEnforcementPolicy",
            json!({"id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults", "isEnabled": false}),
        )
        .object(
            "/policies/adminConsentRequestPolicy",
            json!({"isEnabled": true, "notifyReviewers": true, "remindersEnabled": true, "requestDurationInDays": 30, "reviewers": [], "version": 1}),
        )
        // Microsoft 365 E5 (which includes Entra ID P2), in Microsoft's documented shape.
        .list("/subscribedSkus", vec![
            with_sku_id(sku("SPE_E5", "Enabled", &[("AAD_PREMIUM", "Success"), ("AAD_PREMIUM_P2", "Success"), ("EXCHANGE_S_ENTERPRISE", "Success")]), E5_SKU),
            with_sku_id(sku("AAD_PREMIUM_P2", "Enabled", &[("AAD_PREMIUM", "Success"), ("AAD_PREMIUM_P2", "Success"), ("MFA_PREMIUM", "Success")]), P2_SKU),
        ])
}

/// The paper directory's Conditional Access policies (see `paper_directory`).
fn paper_policies() -> Vec<Value> {
    vec![
        policy(
            "MFA for admins",
            "enabled",
            &["All"],
            users_condition(
                json!({"includeRoles": [GLOBAL_ADMIN, USER_ADMIN], "excludeUsers": ["u3"]}),
            ),
            json!({}),
            &["mfa"],
        ),
        policy(
            "Block legacy authentication",
            "enabled",
            &["All"],
            users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-breakglass"]})),
            json!({"clientAppTypes": ["exchangeActiveSync", "other"]}),
            &["block"],
        ),
        policy(
            "Sign-in risk (report-only)",
            "enabledForReportingButNotEnforced",
            &["All"],
            users_condition(json!({"includeUsers": ["All"]})),
            json!({"signInRiskLevels": ["high", "medium"]}),
            &["mfa"],
        ),
        policy(
            "Sign-in risk (Office 365)",
            "enabled",
            &["Office365"],
            users_condition(json!({"includeUsers": ["All"]})),
            json!({"signInRiskLevels": ["high"]}),
            &["mfa"],
        ),
        policy(
            "Sign-in risk (pilot)",
            "enabled",
            &["All"],
            users_condition(json!({"includeGroups": ["g-pilot"]})),
            json!({"signInRiskLevels": ["high"]}),
            &["mfa"],
        ),
        policy(
            "User risk (off)",
            "disabled",
            &["All"],
            users_condition(json!({"includeUsers": ["All"]})),
            json!({"userRiskLevels": ["high"]}),
            &["passwordChange"],
        ),
        with_strength(
            policy(
                "MFA strength for everyone",
                "enabled",
                &["All"],
                users_condition(json!({"includeUsers": ["All"], "excludeUsers": ["u5"]})),
                json!({}),
                &[],
            ),
            "00000000-0000-0000-0000-000000000002",
            &[
                "windowsHelloForBusiness",
                "fido2",
                "password,microsoftAuthenticatorPush",
            ],
        ),
        with_strength(
            policy(
                "Phishing-resistant admins",
                "enabled",
                &["All"],
                users_condition(json!({"includeRoles": [GLOBAL_ADMIN]})),
                json!({}),
                &[],
            ),
            "00000000-0000-0000-0000-000000000004",
            &[
                "windowsHelloForBusiness",
                "fido2",
                "x509CertificateMultiFactor",
            ],
        ),
        policy(
            "Block risky sign-ins (pilot)",
            "enabled",
            &["All"],
            users_condition(json!({"includeGroups": ["g-pilot"]})),
            json!({"signInRiskLevels": ["high", "medium"]}),
            &["block"],
        ),
        policy(
            "Compliant devices",
            "enabled",
            &["All"],
            users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-breakglass"]})),
            json!({}),
            &["compliantDevice"],
        ),
        policy(
            "Block device code flow",
            "enabled",
            &["All"],
            users_condition(json!({"includeUsers": ["All"]})),
            json!({"authenticationFlows": {"transferMethods": "deviceCodeFlow,authenticationTransfer"}}),
            &["block"],
        ),
        policy(
            "Register security info from managed devices",
            "enabled",
            &[],
            users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-pilot"]})),
            json!({"applications": {"includeApplications": [], "excludeApplications": [],
                                            "includeUserActions": ["urn:user:registersecurityinfo"]}}),
            &["compliantDevice", "domainJoinedDevice"],
        ),
        with_session(
            policy(
                "Admin sessions",
                "enabled",
                &["All"],
                users_condition(json!({"includeRoles": [GLOBAL_ADMIN]})),
                json!({}),
                &[],
            ),
            json!({"signInFrequency": {"value": 4, "type": "hours", "isEnabled": true,
                               "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"},
                           "persistentBrowser": {"mode": "never", "isEnabled": true}}),
        ),
        with_session(
            policy(
                "Fortnightly sign-in",
                "enabled",
                &["All"],
                users_condition(json!({"includeUsers": ["All"]})),
                json!({}),
                &[],
            ),
            json!({"signInFrequency": {"value": 14, "type": "days", "isEnabled": true,
                               "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"}}),
        ),
        with_session(
            policy(
                "Intune enrollment",
                "enabled",
                &["d4ebce55-015a-49b5-a083-c84d1797ae8c"],
                users_condition(json!({"includeUsers": ["All"], "excludeUsers": ["u5"]})),
                json!({}),
                &["mfa"],
            ),
            json!({"signInFrequency": {"value": null, "type": null, "isEnabled": true,
                               "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime"}}),
        ),
        policy(
            "Block outside the office",
            "enabled",
            &["All"],
            users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-breakglass"]})),
            json!({"locations": {"includeLocations": ["All"], "excludeLocations": [OFFICE]}}),
            &["block"],
        ),
        policy(
            "Block listed countries (report-only)",
            "enabledForReportingButNotEnforced",
            &["All"],
            users_condition(json!({"includeUsers": ["All"]})),
            json!({"locations": {"includeLocations": [COUNTRIES], "excludeLocations": ["AllTrusted"]}}),
            &["block"],
        ),
        policy(
            "Token protection",
            "enabled",
            &[
                "00000002-0000-0ff1-ce00-000000000000",
                "00000003-0000-0ff1-ce00-000000000000",
                "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
            ],
            users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-pilot"]})),
            json!({"clientAppTypes": ["mobileAppsAndDesktopClients"],
                           "platforms": {"includePlatforms": ["windows"], "excludePlatforms": []}}),
            &[],
        ),
    ]
}

/// The SKU ids the paper directory's users hold.
const P2_SKU: &str = "84a661c4-e949-4bd2-a560-ed7766fcaf2b";
const E5_SKU: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";
/// A SKU no subscription of the tenant names.
const UNKNOWN_SKU: &str = "00000000-1111-2222-3333-444444444444";
/// Named locations: a trusted office range and a list of countries.
const OFFICE: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";
const COUNTRIES: &str = "1c2a5b4e-8d3f-4a6b-9c7d-2e1f0a3b4c5d";
const PRIVILEGED_ROLE_ADMIN: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";

/// `user` holding licences for `skus`.
fn licensed(mut user: Value, skus: &[&str]) -> Value {
    user["assignedLicenses"] = skus
        .iter()
        .map(|sku| json!({"disabledPlans": [], "skuId": sku}))
        .collect();
    user
}

/// `policy` with session controls.
fn with_session(mut policy: Value, controls: Value) -> Value {
    policy["sessionControls"] = controls;
    policy
}

/// A tenant-wide directory setting as `GET /v1.0/groupSettings` lists it.
fn group_setting(template: &str, name: &str, values: &[(&str, &str)]) -> Value {
    let values: Vec<Value> = values
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({"id": uuid::Uuid::new_v4().to_string(), "displayName": name, "templateId": template, "values": values})
}

/// One restriction of the default app management policy.
fn credential_restriction(kind: &str, max_lifetime: Option<&str>, after: &str) -> Value {
    json!({"restrictionType": kind, "state": "enabled", "maxLifetime": max_lifetime,
           "restrictForAppsCreatedAfterDateTime": after})
}

/// One `unifiedRoleAssignmentScheduleInstance`.
fn active(
    id: &str,
    role: &str,
    principal: &str,
    scope: &str,
    kind: &str,
    start: Option<&str>,
    end: Option<&str>,
) -> Value {
    json!({"id": id, "principalId": principal, "roleDefinitionId": role, "directoryScopeId": scope,
           "appScopeId": null, "startDateTime": start, "endDateTime": end, "assignmentType": kind,
           "memberType": "Direct", "roleAssignmentOriginId": id, "roleAssignmentScheduleId": id})
}

/// The scope of a review of who holds Global Administrator.
fn global_admin_review_scope() -> Value {
    json!({"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
           "principalScopes": [{"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                                "query": "/users", "queryType": "MicrosoftGraph"}],
           "resourceScopes": [{"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                               "query": format!("/roleManagement/directory/roleDefinitions/{GLOBAL_ADMIN}"),
                               "queryType": "MicrosoftGraph"}]})
}

/// One `accessReviewScheduleDefinition`.
fn access_review(status: &str, scope: Value, recurrence: &str, interval: i64) -> Value {
    json!({"id": uuid::Uuid::new_v4().to_string(), "displayName": "Access review", "status": status,
           "scope": scope,
           "reviewers": [{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}],
           "settings": {"mailNotificationsEnabled": true, "reminderNotificationsEnabled": true,
               "justificationRequiredOnApproval": true, "defaultDecisionEnabled": true,
               "defaultDecision": "Deny", "instanceDurationInDays": 14, "autoApplyDecisionsEnabled": true,
               "recommendationsEnabled": true,
               "recurrence": {"pattern": {"type": recurrence, "interval": interval, "month": 0, "dayOfMonth": 0,
                                          "daysOfWeek": [], "firstDayOfWeek": "sunday", "index": "first"},
                              "range": {"type": "noEnd", "numberOfOccurrences": 0, "recurrenceTimeZone": null,
                                        "startDate": "2025-01-01", "endDate": null}}}})
}

/// One `subscribedSku` as `GET /v1.0/subscribedSkus` returns it.
pub fn sku(part_number: &str, capability: &str, plans: &[(&str, &str)]) -> Value {
    let plans: Vec<Value> = plans
        .iter()
        .map(|(name, status)| {
            json!({"servicePlanId": uuid::Uuid::new_v4().to_string(),
            "servicePlanName": name, "provisioningStatus": status, "appliesTo": "User"})
        })
        .collect();
    json!({"accountName": "Contoso", "accountId": "f97aeefc-af85-414d-8ae4-b457f90efc40",
           "appliesTo": "User", "capabilityStatus": capability, "consumedUnits": 14,
           "id": format!("48a80680-7326-48cd-9935-b556b81d3a4e_{}", uuid::Uuid::new_v4()),
           "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
           "servicePlans": plans, "skuId": uuid::Uuid::new_v4().to_string(), "skuPartNumber": part_number,
           "subscriptionIds": [uuid::Uuid::new_v4().to_string()]})
}

/// `sku` with a fixed `skuId`, as users' `assignedLicenses` name it.
fn with_sku_id(mut sku: Value, id: &str) -> Value {
    sku["skuId"] = json!(id);
    sku
}

/// The facts of `paper_directory`, counted by hand.
pub fn paper_facts() -> Value {
    json!({
        // Members: u1 u2 u3 u4 u5 u8; registered among them: u1 u2 u4 u8.
        "users": {
            "total": 6,
            "mfaRegistered": 4,
            // Everyone but carol, who is in the excluded break-glass group.
            "legacyAuthBlocked": 5,
            // The pilot group's members: dave and erin (grace is a guest).
            "signInRiskCovered": 2,
            // The only user risk policy is disabled.
            "userRiskCovered": 0,
            // The strength policy covers all but erin (the admins' mfa policy adds nobody).
            "mfaRequired": 5,
            // The pilot group's members again: dave and erin.
            "signInRiskBlocked": 2,
            // Everyone but carol.
            "managedDeviceRequired": 5,
            // Authentication transfer is blocked by the same policy as the device code flow.
            "deviceCodeFlowBlocked": 6,
            "authenticationTransferBlocked": 6,
            // The Phishing-resistant MFA strength names Global Administrators: alice, bob
            // (through g-admins) and carol.
            "phishingResistantRequired": 3,
            // Registering security information needs a managed device for all but g-pilot:
            // alice, bob, carol, heidi.
            "securityInfoRegistrationManaged": 4,
            // Only the four-hour admin policy is within seven days (the fortnightly one is
            // not): the three Global Administrators.
            "signInFrequencyLimited": 3,
            // Intune enrollment asks for MFA every time of everyone but erin.
            "intuneEnrollmentReauthenticated": 5,
            // Everything outside the trusted office range is blocked for all but carol (the
            // report-only country policy counts for nobody).
            "untrustedLocationsBlocked": 5,
            // Token protection (beta) for Exchange, SharePoint and Teams on Windows clients,
            // everyone but g-pilot: alice, bob, carol, heidi.
            "tokenProtectionEnforced": 4,
        },
        // Heidi is synchronized from on-premises.
        "hybrid": {"synchronized": 1},
        // Admins: alice, bob, carol (Global Administrator), heidi (User Administrator).
        // MFA-protected: all but carol, who is excluded (a strength is not the mfa control).
        // Phishing-resistant strength: the three Global Administrators. Registered a
        // phishing-resistant method: alice and bob. Cloud-only: all but heidi.
        // Four-hour sessions, never persistent: the three Global Administrators. Licences:
        // alice holds Entra ID P2 alone and carol nothing (reduced); bob holds E5 too and
        // heidi a SKU the tenant does not subscribe to. Heidi alone works without Global
        // Administrator.
        "admins": {"total": 4, "mfaProtected": 3, "phishingResistantRequired": 3,
                   "phishingResistantRegistered": 2, "cloudOnly": 3, "signInFrequencyLimited": 3,
                   "reducedLicenseFootprint": 2, "withoutGlobalAdmin": 1},
        "roles": {"globalAdmins": 3},
        "passwordPolicy": {"neverExpires": true},
        // Users may still consent to low-risk apps: restricted, not disabled.
        "apps": {"userConsentRestricted": true, "userConsentDisabled": false,
                 "adminConsentWorkflow": true, "userRegistrationBlocked": true},
        // Owners may read their BitLocker keys; anyone may join devices (two each); Global
        // Administrators become local administrators, registering users only when selected;
        // LAPS is off.
        "devices": {"bitLockerKeyReadBlocked": false, "userQuota": 2, "joinRestricted": false,
                    "globalAdminsNotLocalAdmins": false, "registeringUsersNotLocalAdmins": true,
                    "lapsEnabled": false},
        "locations": {"trustedIpRangeDefined": true},
        // A custom banned list is enforced; on premises it only audits; lockout after 5
        // attempts for 30 seconds.
        "passwordProtection": {"customListEnforced": true, "onPremisesEnforced": 0,
                               "lockoutThreshold": 5, "lockoutDurationSeconds": 30},
        // Password addition is blocked for apps and service principals; custom passwords only
        // for apps created after 2099; secrets may live 365 days; certificates at most 90 and
        // 180 days.
        "appCredentials": {"passwordAdditionBlocked": true, "customPasswordBlocked": false,
                           "passwordLifetimeLimited": false, "certificateLifetimeLimited": true},
        // B2B collaboration inbound blocks every external user and every application.
        "crossTenant": {"collaborationInboundBlocked": true},
        // Standing privileged assignments at directory scope: alice, g-admins, carol and the
        // service principal (heidi's group activated hers for a day; erin's role is not
        // privileged; dave's is scoped to a unit). Without a start, made outside PIM: alice,
        // carol, the service principal. Activation: Global Administrator needs an approver
        // and alerts soc@; Privileged Role Administrator requires approval but names no
        // approver. Alerts on eligibility and assignment: User Administrator alone.
        "pim": {"permanentPrivilegedAssignments": 4, "assignmentsOutsidePim": 3,
                "globalAdminApprovalRequired": true, "privilegedRoleAdminApprovalRequired": false,
                "globalAdminActivationAlerted": true, "privilegedRoles": 3,
                "privilegedRolesAlertingOnAssignment": 1, "privilegedRolesAlertingOnActivation": 1},
        // Guests are reviewed monthly; Global Administrators quarterly (and a weekly review
        // is completed): not monthly.
        "accessReviews": {"guests": true, "globalAdmins": false},
        "tenants": {"userCreationBlocked": false},
        "groups": {"userCreationBlocked": true, "m365CreationRestricted": true},
        "guests": {"accessRestricted": true, "invitesLimited": false},
        "sspr": {"enabled": true},
        "securityDefaults": {"enabled": false},
        "authMethods": {"smsDisabled": false, "voiceDisabled": true, "emailOtpDisabled": false,
                        "authenticatorContextShown": false, "systemPreferredEnabled": true,
                        "migrationComplete": false, "authenticatorLiteDisabled": true},
        // Microsoft 365 E5 carries P1 and P2; no Entra ID Governance plan.
        "licenses": {"entraP1": true, "entraP2": true, "entraIdGovernance": false},
        // No account is named as an emergency access account.
        "emergencyAccess": {"accounts": 0, "excludedFromAllPolicies": false, "phishingResistant": 0},
    })
}

/// A server whose connector reads the stand-in (the test servers' secrets key is set).
pub async fn connected_app(
    standin: &StandIn,
    customize: impl FnOnce(&mut securescore::config::ServeConfig),
) -> TestApp {
    let url = standin.url.clone();
    let app = spawn_app_with(move |config| {
        config.graph.max_attempts = 4;
        // The scheduler looks once at start and then not within a test, so a collection a
        // test asks for is never joined to a scheduled one (the schedule test shortens it).
        config.graph.poll = Duration::from_secs(600);
        config.graph.authority_url = url.clone();
        config.graph.graph_url = url;
        config.graph.max_retry_after = Duration::from_secs(2);
        customize(config);
    })
    .await;
    app.create_tenant("acme", None, 10).await;
    app
}

pub const SET_CONNECTION: &str =
    "mutation($input: SetGraphConnectionInput!) { setGraphConnection(input: $input) {
    tenantId directoryId clientId credentialKind enabled status lastError missingPermissions } }";
pub const COLLECT: &str =
    "mutation { collectNow(tenantId: \"acme\") { id status requestedBy startedAt finishedAt
    snapshot { id facts } warnings endpoints { name httpStatus items attempts error missingPermission missingLicense } } }";
pub const READ: &str = "{ tenant(id: \"acme\") { graphConnection { status lastCollectedAt lastError missingPermissions }
    collectionRuns { edges { node { id status requestedBy snapshot { facts } } } } } }";

pub fn secret_input() -> Value {
    json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "clientId": CLIENT, "clientSecret": CLIENT_SECRET}})
}

pub fn admin() -> String {
    token(&[Role::GlobalAdmin], &["acme"])
}

/// Connects with `input` and collects now; answers the collection.
pub async fn connect_and_collect(app: &TestApp, input: Value) -> Value {
    let set = app.graphql(&admin(), SET_CONNECTION, input).await;
    assert!(set["errors"].is_null(), "{set}");
    let body = app.graphql(&admin(), COLLECT, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["collectNow"].clone()
}

#[tokio::test]
async fn a_hand_worked_directory_is_collected_exactly_through_paging_throttling_and_an_expired_token()
 {
    let standin = StandIn::start(paper_directory(), 2).await;
    standin.behave(|b| {
        b.throttle_once.insert("/users".into());
        // The token expires after 40 of the collection's 57 reads; the client takes a new one
        // once, however many reads in flight see it expire.
        b.token_uses = Some(40);
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["requestedBy"], "tester@example.com", "{run}");
    assert_eq!(run["snapshot"]["facts"], paper_facts(), "{run}");
    let endpoints = run["endpoints"].as_array().unwrap();
    let named = |name: &str| {
        endpoints
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {run}"))
    };
    assert_eq!(named("/users")["items"], 8);
    assert_eq!(
        named("/users")["attempts"],
        2,
        "the 429 was retried after Retry-After"
    );
    assert_eq!(
        named("/roleManagement/directory/roleAssignments")["items"],
        7
    );
    assert_eq!(named("/groups/g-admins/transitiveMembers")["items"], 3);
    assert_eq!(named("/policies/authorizationPolicy")["items"], 1);
    assert_eq!(
        endpoints.len(),
        25,
        "eighteen fixed endpoints, two in beta, four groups and the audit log: {run}"
    );
    assert!(
        endpoints
            .iter()
            .all(|e| e["error"].is_null() && e["httpStatus"] == 200),
        "{run}"
    );
    assert_eq!(
        standin.tokens_issued(),
        2,
        "one token, renewed once when it expired"
    );
    assert!(
        standin.graph_requests().len() >= 57,
        "every page at least once, the throttled one twice (reads that met the expired token are sent again)"
    );
    // Only the contract's endpoints were read (pages included).
    let allowed = [
        "/users?",
        "/reports/authenticationMethods/userRegistrationDetails?",
        "/roleManagement/directory/roleAssignments?",
        "/identity/conditionalAccess/policies?",
        "/domains?",
        "/policies/authorizationPolicy?",
        "/policies/authenticationMethodsPolicy?",
        "/policies/identitySecurityDefaultsEnforcementPolicy?",
        "/policies/adminConsentRequestPolicy?",
        "/subscribedSkus?",
        "/groupSettings?",
        "/policies/deviceRegistrationPolicy?",
        "/policies/defaultAppManagementPolicy?",
        "/policies/crossTenantAccessPolicy/default?",
        "/identity/conditionalAccess/namedLocations?",
        "/roleManagement/directory/roleAssignmentScheduleInstances?",
        "/policies/roleManagementPolicyAssignments?",
        "/identityGovernance/accessReviews/definitions?",
        "/beta/identity/conditionalAccess/policies?",
        "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator?",
        "/auditLogs/directoryAudits?",
    ];
    for request in standin.graph_requests() {
        let path = request.trim_start_matches("GET ");
        assert!(
            allowed.iter().any(|a| path.starts_with(a))
                || (path.starts_with("/groups/") && path.contains("/transitiveMembers?")),
            "{request}"
        );
    }
    assert_eq!(
        *standin.state.without_gzip.lock().unwrap(),
        0,
        "every Graph request offers gzip"
    );
    // Paging: eight users in pages of two (the first page asked for twice at least: the 429).
    let users: Vec<String> = standin
        .graph_requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /users?"))
        .collect();
    let pages: std::collections::BTreeSet<&String> = users.iter().collect();
    assert_eq!(pages.len(), 4, "{users:?}");
    assert!(users.len() >= 5, "{users:?}");
    // Scored like any snapshot: the first eleven 7.5 + 6 + 6.67 + 8 + 2.33 + 0 + 4 + 1 + 1 + 1
    // = 37.5 of 56; the new ones 7.5 + 6 + 2.5 + 3.75 + 1.67 + 5 + 5 + 0 + 4 + 0 + 0 + 3 + 5
    // + 0 + 4 + 0 + 2 + 4 = 53.42 of 82.
    let score = eventually(
        "today rescored from the collection",
        Duration::from_secs(20),
        || async {
            let body = app
                .graphql(
                    &admin(),
                    "{ tenant(id: \"acme\") { score { score maxScore coverage } } }",
                    json!({}),
                )
                .await;
            let score = body["data"]["tenant"]["score"].clone();
            (score["score"].as_f64().is_some_and(|s| s > 0.0)).then_some(score)
        },
    )
    .await;
    // Catalog v3's 39 in file order: 3 + 2 + 2.25 + 1 + 1.67 + 2 + 2.5 + 1 + 0 + 0 + 0
    // + 0.75 + 1.5 + 2 + 3 + 0 (on-premises audits only: 0 of 1 synchronized directory) + 2
    // + 0 + 0 + 1 + 0 + 1 + 0 + 3 + 0 + 0 + 2 + 2 (external collaboration blocked) + 0 (4
    // standing) + 0 (3 outside PIM) + 3 + 0 + 0.67 + 2 + 0.33 + 2 + 0 + 1.33 (token
    // protection, 4 of 6) + 1 = 44 of 87.
    assert!(
        (score["score"].as_f64().unwrap() - (37.5 + 51.75 + 5.0 / 3.0 + 44.0)).abs() < 1e-9,
        "{score}"
    );
    // The emergency access actions: 0 of 3 (no account named) and 0 of 2; the third is 0 of 0.
    assert_eq!(score["maxScore"], 143.0 + 87.0);
    assert_eq!(score["coverage"], 100.0);
    let read = app
        .graphql(&token(&[Role::SecurityReader], &["acme"]), READ, json!({}))
        .await;
    let connection = &read["data"]["tenant"]["graphConnection"];
    assert_eq!(connection["status"], "OK", "{read}");
    assert!(connection["lastCollectedAt"].is_string(), "{read}");
    assert_eq!(connection["missingPermissions"], json!([]));
}

#[tokio::test]
async fn a_certificate_signs_in_with_a_client_assertion_and_a_key_that_does_not_match_is_refused() {
    let standin = StandIn::start(paper_directory(), 100).await;
    let app = connected_app(&standin, |_| {}).await;
    let other_key = include_str!("../fixtures/other.key");
    let mismatched = app
        .graphql(
            &admin(),
            SET_CONNECTION,
            json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "clientId": CLIENT,
            "certificatePem": CERTIFICATE, "privateKeyPem": other_key}}),
        )
        .await;
    assert_eq!(
        error_code(&mismatched),
        Some("BAD_USER_INPUT"),
        "{mismatched}"
    );
    assert!(
        mismatched.to_string().contains("does not match"),
        "{mismatched}"
    );
    assert_eq!(app.count("graph_connections").await, 0);
    let run = connect_and_collect(
        &app,
        json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "clientId": CLIENT,
            "certificatePem": CERTIFICATE, "privateKeyPem": PRIVATE_KEY}}),
    )
    .await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["snapshot"]["facts"], paper_facts());
    assert!(
        !app.stored_text("graph_connections", "credential")
            .await
            .contains("PRIVATE KEY")
    );
}

#[tokio::test]
async fn a_connection_without_catalog_v3s_permissions_keeps_every_other_fact_and_names_them() {
    let standin = StandIn::start(paper_directory(), 100).await;
    standin.behave(|b| {
        for path in [
            "/groupSettings",
            "/policies/deviceRegistrationPolicy",
            "/identityGovernance/accessReviews/definitions",
        ] {
            b.forbidden.insert(path.into());
        }
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    // Everything but what those three endpoints feed: the Microsoft 365 group setting,
    // password protection, the device registration facts (BitLocker comes from the
    // authorization policy) and the access reviews.
    let mut expected = paper_facts();
    let facts = expected.as_object_mut().unwrap();
    facts.remove("passwordProtection");
    facts.remove("accessReviews");
    facts["groups"]
        .as_object_mut()
        .unwrap()
        .remove("m365CreationRestricted");
    facts.insert("devices".into(), json!({"bitLockerKeyReadBlocked": false}));
    assert_eq!(run["snapshot"]["facts"], expected, "never a guess");
    let read = app.graphql(&admin(), READ, json!({})).await;
    assert_eq!(
        read["data"]["tenant"]["graphConnection"]["missingPermissions"],
        json!([
            "AccessReview.Read.All",
            "GroupSettings.Read.All",
            "Policy.Read.DeviceConfiguration"
        ]),
        "{read}"
    );
}

#[tokio::test]
async fn a_forbidden_endpoint_leaves_its_facts_out_and_names_the_permission() {
    let standin = StandIn::start(paper_directory(), 100).await;
    standin.behave(|b| {
        b.forbidden.insert("/domains".into());
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let domains = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "/domains")
        .unwrap()
        .clone();
    assert_eq!(domains["httpStatus"], 403);
    assert_eq!(domains["missingPermission"], "Domain.Read.All");
    assert!(
        domains["error"]
            .as_str()
            .unwrap()
            .contains("Authorization_RequestDenied")
    );
    let mut expected = paper_facts();
    expected.as_object_mut().unwrap().remove("passwordPolicy");
    assert_eq!(run["snapshot"]["facts"], expected, "never a guess");
    let read = app.graphql(&admin(), READ, json!({})).await;
    let connection = &read["data"]["tenant"]["graphConnection"];
    assert_eq!(connection["status"], "PARTIAL", "{read}");
    assert_eq!(connection["missingPermissions"], json!(["Domain.Read.All"]));
    assert!(
        connection["lastError"]
            .as_str()
            .unwrap()
            .contains("/domains (403)"),
        "{read}"
    );
    // The action reads NO_DATA and coverage shows the gap.
    let status = eventually("today rescored", Duration::from_secs(20), || async {
        let body = app.graphql(&admin(), "{ tenant(id: \"acme\") { score { coverage actionScores { status action { id } } } } }", json!({})).await;
        let score = body["data"]["tenant"]["score"].clone();
        score["coverage"].as_f64().filter(|c| *c < 100.0).map(|_| score)
    })
    .await;
    let never_expire = status["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"]["id"] == "PasswordsNeverExpire")
        .unwrap();
    assert_eq!(never_expire["status"], "NO_DATA");
    assert!(
        (status["coverage"].as_f64().unwrap() - 100.0 * (230.0 - 8.0) / 230.0).abs() < 1e-9,
        "{status}"
    );
}

#[tokio::test]
async fn a_wrong_secret_fails_the_collection_stores_nothing_and_is_never_shown() {
    let standin = StandIn::start(paper_directory(), 100).await;
    let app = connected_app(&standin, |_| {}).await;
    let wrong = "Wr0ng~secret-value-that-must-never-show";
    let mut input = secret_input();
    input["input"]["clientSecret"] = json!(wrong);
    let set = app.graphql(&admin(), SET_CONNECTION, input).await;
    assert_eq!(
        set["data"]["setGraphConnection"]["credentialKind"], "SECRET",
        "{set}"
    );
    assert_eq!(
        set["data"]["setGraphConnection"]["status"],
        "NEVER_COLLECTED"
    );
    let body = app.graphql(&admin(), COLLECT, json!({})).await;
    let run = &body["data"]["collectNow"];
    assert_eq!(run["status"], "FAILED", "{body}");
    assert!(run["snapshot"].is_null());
    assert_eq!(
        run["endpoints"][0]["name"],
        format!("/{DIRECTORY}/oauth2/v2.0/token")
    );
    assert_eq!(run["endpoints"][0]["httpStatus"], 401);
    assert!(
        run["endpoints"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid_client: AADSTS7000215"),
        "{body}"
    );
    assert_eq!(app.count("snapshots").await, 0);
    assert!(
        standin.graph_requests().is_empty(),
        "no Graph read without a token"
    );
    let read = app.graphql(&platform_admin(), READ, json!({})).await;
    assert_eq!(
        read["data"]["tenant"]["graphConnection"]["status"],
        "FAILED"
    );
    assert!(
        read["data"]["tenant"]["graphConnection"]["lastError"]
            .as_str()
            .unwrap()
            .contains("AADSTS7000215")
    );
    for answer in [&set, &body, &read] {
        assert!(!answer.to_string().contains(wrong), "{answer}");
    }
    assert!(
        !app.stored_text("graph_connections", "credential")
            .await
            .contains(wrong)
    );
    assert!(
        !app.stored_text("collection_runs", "endpoints")
            .await
            .contains(wrong)
    );
}

#[tokio::test]
async fn without_a_secrets_key_or_with_bad_input_nothing_is_stored() {
    let standin = StandIn::start(paper_directory(), 100).await;
    let app = connected_app(&standin, |config| config.secrets_key_file = None).await;
    let body = app.graphql(&admin(), SET_CONNECTION, secret_input()).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body.to_string().contains("--secrets-key-file"), "{body}");
    let keyed = connected_app(&standin, |_| {}).await;
    for (change, needle) in [
        (
            json!({"directoryId": "contoso.onmicrosoft.com"}),
            "directoryId must be a GUID",
        ),
        (
            json!({"certificatePem": CERTIFICATE, "privateKeyPem": PRIVATE_KEY}),
            "not both",
        ),
        (json!({"clientSecret": null}), "give a credential"),
        (
            json!({"clientSecret": null, "certificatePem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "privateKeyPem": PRIVATE_KEY}),
            "not a PEM X.509 certificate",
        ),
    ] {
        let mut input = secret_input();
        for (key, value) in change.as_object().unwrap() {
            input["input"][key] = value.clone();
        }
        let body = keyed.graphql(&admin(), SET_CONNECTION, input).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert!(body.to_string().contains(needle), "{needle}: {body}");
    }
    for server in [&app, &keyed] {
        assert_eq!(server.count("graph_connections").await, 0);
    }
    let collect = keyed.graphql(&admin(), COLLECT, json!({})).await;
    assert_eq!(error_code(&collect), Some("BAD_USER_INPUT"), "{collect}");
    assert_eq!(keyed.count("collection_runs").await, 0);
}

#[tokio::test]
async fn a_connection_is_collected_on_schedule_without_anyone_asking() {
    let standin = StandIn::start(paper_directory(), 100).await;
    let app = connected_app(&standin, |config| {
        config.graph.poll = Duration::from_millis(100);
    })
    .await;
    let set = app.graphql(&admin(), SET_CONNECTION, secret_input()).await;
    assert!(set["errors"].is_null(), "{set}");
    let run = eventually(
        "the scheduled collection",
        Duration::from_secs(20),
        || async {
            let body = app.graphql(&admin(), READ, json!({})).await;
            let node = body["data"]["tenant"]["collectionRuns"]["edges"][0]["node"].clone();
            (node["status"] == "SUCCEEDED").then_some(node)
        },
    )
    .await;
    assert!(run["requestedBy"].is_null(), "{run}");
    assert_eq!(run["snapshot"]["facts"], paper_facts());
    // Collected once per interval (12 hours): nothing is due now, so no second collection
    // follows (asked of the planner itself rather than waited for).
    let due = securescore::service::connections::plan_due_collections(
        &app.db,
        Duration::from_secs(12 * 3600),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(due, 0);
    assert_eq!(app.count("collection_runs").await, 1);
    // Set again, it is collected at the scheduler's next look; a collection asked for right
    // after joins that one or counts as it: one more. Only when the scheduled one had already
    // finished before the ask arrived (the scheduler looks every 100 ms and the stand-in
    // answers in milliseconds) does the ask make a second, after it, never beside it.
    let set = app.graphql(&admin(), SET_CONNECTION, secret_input()).await;
    assert!(set["errors"].is_null(), "{set}");
    let asked = app.graphql(&admin(), COLLECT, json!({})).await;
    assert!(asked["errors"].is_null(), "{asked}");
    // `collectNow` answers once its collection finished: by then there is exactly one more.
    assert_eq!(
        asked["data"]["collectNow"]["status"], "SUCCEEDED",
        "{asked}"
    );
    let runs = app.count("collection_runs").await;
    if runs == 3 {
        let asked_before_it_ended = app
            .count(
                "collection_runs s JOIN collection_runs a ON a.tenant_id = s.tenant_id \
                 AND a.id > s.id WHERE s.requested_by IS NULL AND a.requested_by IS NOT NULL \
                 AND s.id > (SELECT MIN(id) FROM collection_runs) AND s.finished_at > a.created_at",
            )
            .await;
        assert_eq!(
            asked_before_it_ended, 0,
            "a second collection only after the first ended"
        );
        let scheduled_after_the_ask = app
            .count(
                "collection_runs WHERE requested_by IS NULL AND id > \
                 (SELECT MIN(id) FROM collection_runs WHERE requested_by IS NOT NULL)",
            )
            .await;
        assert_eq!(
            scheduled_after_the_ask, 0,
            "the ask counts as the scheduled collection"
        );
    } else {
        assert_eq!(runs, 2);
    }
    let deleted = app
        .graphql(
            &admin(),
            "mutation { deleteGraphConnection(tenantId: \"acme\") }",
            json!({}),
        )
        .await;
    assert_eq!(
        deleted["data"]["deleteGraphConnection"], "acme",
        "{deleted}"
    );
    let read = app.graphql(&admin(), READ, json!({})).await;
    assert!(
        read["data"]["tenant"]["graphConnection"].is_null(),
        "{read}"
    );
    assert_eq!(
        read["data"]["tenant"]["collectionRuns"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        runs as usize,
        "past collections stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_and_deletes_racing_each_other_each_answer_cleanly() {
    let app = std::sync::Arc::new(spawn_app_with(|_| {}).await);
    app.create_tenant("acme", None, 10).await;
    let delete = "mutation { deleteGraphConnection(tenantId: \"acme\") }";
    let mut clients = Vec::new();
    for client in 0..4 {
        let app = app.clone();
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for round in 0..40 {
                let body = if (round + client) % 2 == 0 {
                    app.graphql(&admin(), SET_CONNECTION, secret_input()).await
                } else {
                    app.graphql(&admin(), delete, json!({})).await
                };
                answers.push(body);
            }
            answers
        }));
    }
    for client in clients {
        for body in client.await.unwrap() {
            // A connect answers the connection it stored; a delete answers the tenant or,
            // when another delete came first, NOT_FOUND. Never an internal error.
            let clean = body["errors"].is_null() || error_code(&body) == Some("NOT_FOUND");
            assert!(clean, "{body}");
            if let Some(set) = body["data"]["setGraphConnection"].as_object() {
                assert_eq!(set["directoryId"], DIRECTORY, "{body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_asked_for_while_the_scheduler_plans_never_deadlock() {
    // The scheduler looks every 2 ms, and every connect makes the connection due again, so
    // `collectNow` and the planner take the same rows over and over; they took them in
    // opposite orders once, and PostgreSQL answered "deadlock detected".
    let app = std::sync::Arc::new(
        spawn_app_with(|config| config.graph.poll = Duration::from_millis(2)).await,
    );
    app.create_tenant("acme", None, 10).await;
    let set = app.graphql(&admin(), SET_CONNECTION, secret_input()).await;
    assert!(set["errors"].is_null(), "{set}");
    let collect = "mutation { collectNow(tenantId: \"acme\") { status } }";
    let mut clients = Vec::new();
    for client in 0..6 {
        let app = app.clone();
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for round in 0..100 {
                let body = if (round + client) % 2 == 0 {
                    app.graphql(&admin(), SET_CONNECTION, secret_input()).await
                } else {
                    app.graphql(&admin(), collect, json!({})).await
                };
                answers.push(body);
            }
            answers
        }));
    }
    for client in clients {
        for body in client.await.unwrap() {
            // A collection that ended between the insert and the read asks to be asked again.
            let clean = body["errors"].is_null() || error_code(&body) == Some("CONFLICT");
            assert!(clean, "{body}");
        }
    }
}

/// POSTs a GraphQL document to a server process.
async fn post(address: &str, caller: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .bearer_auth(caller)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn no_log_line_shows_a_credential_even_at_debug_level() {
    let standin = StandIn::start(paper_directory(), 100).await;
    let (database_url, _database) = crate::helpers::fresh_database().await;
    let key = crate::helpers::secrets_key_file();
    let server = crate::hygiene::ServerProcess::start_logging(
        &database_url,
        &[
            "--secrets-key-file",
            key.to_str().unwrap(),
            "--graph-authority-url",
            &standin.url,
            "--graph-url",
            &standin.url,
            "--graph-allow-http",
        ],
        Some("debug"),
    );
    let created = post(
        &server.address,
        &platform_admin(),
        "mutation { createTenant(input: {id: \"acme\", name: \"Acme\", seatCount: 10}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(created["data"]["createTenant"]["id"], "acme", "{created}");
    let wrong = "Wr0ng~secret-value-that-must-never-be-logged";
    let mut input = secret_input();
    input["input"]["clientSecret"] = json!(wrong);
    let set = post(&server.address, &admin(), SET_CONNECTION, input).await;
    assert!(set["errors"].is_null(), "{set}");
    let failed = post(&server.address, &admin(), COLLECT, json!({})).await;
    assert_eq!(failed["data"]["collectNow"]["status"], "FAILED", "{failed}");
    let certificate = json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "clientId": CLIENT,
        "certificatePem": CERTIFICATE, "privateKeyPem": PRIVATE_KEY}});
    let set = post(&server.address, &admin(), SET_CONNECTION, certificate).await;
    assert!(set["errors"].is_null(), "{set}");
    let collected = post(&server.address, &admin(), COLLECT, json!({})).await;
    assert_eq!(
        collected["data"]["collectNow"]["status"], "SUCCEEDED",
        "{collected}"
    );
    // The partner application's secret, set, used and refused.
    let partner_secret = "Partn3r~secret-value-that-must-never-be-logged";
    let partner = post(
        &server.address,
        &platform_admin(),
        "mutation($s: String!) { setPartnerApplication(input: {clientId: \"3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38\", clientSecret: $s}) { clientId } }",
        json!({"s": partner_secret}),
    )
    .await;
    assert!(partner["errors"].is_null(), "{partner}");
    let uses = json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "usePartnerApplication": true}});
    let set = post(&server.address, &admin(), SET_CONNECTION, uses).await;
    assert!(set["errors"].is_null(), "{set}");
    let refused = post(&server.address, &admin(), COLLECT, json!({})).await;
    assert_eq!(
        refused["data"]["collectNow"]["status"], "FAILED",
        "{refused}"
    );
    let log = server.stop();
    assert!(
        log.contains("collection finished"),
        "the collections were logged:\n{log}"
    );
    // The wrong secret, and any line of the private key's body.
    let key_lines: Vec<&str> = PRIVATE_KEY
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    assert!(!key_lines.is_empty());
    for secret in [wrong, partner_secret].into_iter().chain(key_lines) {
        assert!(
            !log.contains(secret),
            "the log shows a credential: {secret}"
        );
    }
}

#[tokio::test]
async fn webhook_keys_stored_before_a_secrets_key_are_sealed_at_the_next_start() {
    let app = spawn_app_with(|config| config.secrets_key_file = None).await;
    app.create_tenant("acme", None, 10).await;
    let created = app
        .graphql(
            &admin(),
            "mutation { createWebhookEndpoint(input: {tenantId: \"acme\", url: \"http://127.0.0.1:9/hook\"}) { secret } }",
            json!({}),
        )
        .await;
    let secret = created["data"]["createWebhookEndpoint"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let key = secret.trim_start_matches("whsec_").to_owned();
    assert_eq!(
        app.stored_text("webhook_endpoints", "signing_key").await,
        key,
        "kept as before without a key"
    );
    let keyed = app
        .replica(|config| config.secrets_key_file = Some(crate::helpers::secrets_key_file()))
        .await;
    let stored = keyed.stored_text("webhook_endpoints", "signing_key").await;
    assert!(
        stored.starts_with("v1:") && !stored.contains(&key),
        "{stored}"
    );
    let secrets =
        securescore::secrets::SecretsKey::from_file(&crate::helpers::secrets_key_file()).unwrap();
    assert_eq!(
        securescore::webhooks::signing::signing_key(&secrets, "acme", &stored).unwrap(),
        key,
        "the sealed key signs as the plaintext one did"
    );
}

#[tokio::test]
async fn endpoints_that_echo_the_request_never_show_the_secret_or_the_token() {
    let standin = StandIn::start(paper_directory(), 100).await;
    standin.behave(|b| {
        b.echo_requests = true;
        b.forbidden.insert("/domains".into());
    });
    let app = connected_app(&standin, |_| {}).await;
    // A token endpoint echoing a wrong secret, percent-encoded as the form carried it.
    let wrong = "Wr0ng~secret/with+signs=and spaces&more";
    let percent: String = form_urlencoded::byte_serialize(wrong.as_bytes()).collect();
    let mut input = secret_input();
    input["input"]["clientSecret"] = json!(wrong);
    let refused = connect_and_collect(&app, input).await;
    assert_eq!(refused["status"], "FAILED", "{refused}");
    let error = refused["endpoints"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("invalid_client: AADSTS7000215"),
        "{error}"
    );
    // Graph echoing the access token in a 403.
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let tokens = standin.access_tokens();
    assert!(!tokens.is_empty());
    let read = app.graphql(&platform_admin(), READ, json!({})).await;
    let runs = app
        .graphql(
            &admin(),
            "{ tenant(id: \"acme\") { collectionRuns { edges { node { endpoints { error } } } } } }",
            json!({}),
        )
        .await;
    for answer in [&refused, &run, &read, &runs] {
        let text = answer.to_string();
        for secret in [wrong, percent.as_str()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "the access token in {text}");
        }
    }
    assert!(runs.to_string().contains("[redacted]"), "{runs}");
    let stored = app.stored_text("collection_runs", "endpoints").await;
    assert!(!stored.contains(&percent) && !tokens.iter().any(|t| stored.contains(t.as_str())));
}

#[tokio::test]
async fn a_page_over_the_limit_fails_its_endpoint_and_is_never_read_whole() {
    let standin = StandIn::start(paper_directory(), 100).await;
    // 2 KiB: the directory's larger lists exceed it, its small objects do not.
    let app = connected_app(&standin, |config| config.graph.max_page_bytes = 2048).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_ne!(run["status"], "SUCCEEDED", "{run}");
    let refused: Vec<&Value> = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["error"]
                .as_str()
                .is_some_and(|error| error.contains("a page is larger than 2048 bytes"))
        })
        .collect();
    assert!(!refused.is_empty(), "{run}");
    for endpoint in &refused {
        assert_eq!(endpoint["items"], 0, "{endpoint}");
    }
}
