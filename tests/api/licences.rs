//! Licences, emergency access accounts and collections that say what they could not read,
//! end to end against the Graph stand-in: a tenant without Entra ID P2, a break-glass pair
//! excluded from Conditional Access, a licence refusal, items that do not parse.

use std::time::Duration;

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::directory::{
    GLOBAL_ADMIN, READ, admin, assignment, connect_and_collect, connected_app, member,
    paper_directory, policy, registration, registration_with, secret_input, sku, user,
    users_condition,
};
use crate::graph_standin::{Directory, StandIn};
use crate::helpers::{error_code, eventually, token};

const ALICE: &str = "00000000-0000-4000-8000-00000000a11c";
const BOB: &str = "00000000-0000-4000-8000-000000000b0b";
const CAROL: &str = "00000000-0000-4000-8000-00000000ca01";
const GUEST: &str = "00000000-0000-4000-8000-000000009e57";
const BREAK_GLASS_1: &str = "00000000-0000-4000-8000-00000000b601";
const BREAK_GLASS_2: &str = "00000000-0000-4000-8000-00000000b602";
const DAVE: &str = "00000000-0000-4000-8000-00000000da7e";
const GHOST: &str = "00000000-0000-4000-8000-000000000505";

const SET_ACCOUNTS: &str = "mutation($ids: [String!]!) {
    setEmergencyAccessAccounts(tenantId: \"acme\", userIds: $ids) { id emergencyAccessAccounts } }";

/// A tenant with Microsoft 365 E3 (Entra ID P1) whose EMS E5 (P2) is suspended, and two
/// emergency access accounts:
/// - Members: alice (Global Administrator, Authenticator), bob (registered), carol (not),
///   the break-glass pair bg1 (FIDO2 key) and bg2 (nothing registered), both cloud-only
///   Global Administrators, and dave, a Global Administrator synchronized from on-premises.
///   A guest, not a member.
/// - Policies: MFA for everyone but bg1 and bg2; legacy authentication blocked for everyone
///   but the group `g-bg` (bg1 only); high sign-in risk answered with MFA for everyone but
///   bg1. So bg1 is excluded from every enabled policy; bg2 is not (legacy authentication).
fn break_glass_directory() -> Directory {
    let cloud = |id: &str| user(id, "Member", true);
    let mut dave = user(DAVE, "Member", true);
    dave["onPremisesSyncEnabled"] = json!(true);
    Directory::tenant()
        .list(
            "/users",
            vec![
                cloud(ALICE),
                cloud(BOB),
                cloud(CAROL),
                user(GUEST, "Guest", true),
                cloud(BREAK_GLASS_1),
                cloud(BREAK_GLASS_2),
                dave,
            ],
        )
        .list(
            "/reports/authenticationMethods/userRegistrationDetails",
            vec![
                registration(ALICE, true),
                registration(BOB, true),
                registration(CAROL, false),
                registration(GUEST, false),
                registration_with(BREAK_GLASS_1, true, json!(["fido2SecurityKey"])),
                registration(BREAK_GLASS_2, false),
                registration(DAVE, true),
            ],
        )
        .list(
            "/roleManagement/directory/roleAssignments",
            vec![
                assignment("a1", GLOBAL_ADMIN, ALICE, "user", "/"),
                assignment("a2", GLOBAL_ADMIN, BREAK_GLASS_1, "user", "/"),
                assignment("a3", GLOBAL_ADMIN, BREAK_GLASS_2, "user", "/"),
                assignment("a4", GLOBAL_ADMIN, DAVE, "user", "/"),
            ],
        )
        .list(
            "/groups/g-bg/transitiveMembers",
            vec![member(BREAK_GLASS_1, "user")],
        )
        .list(
            "/identity/conditionalAccess/policies",
            vec![
                policy(
                    "MFA for everyone",
                    "enabled",
                    &["All"],
                    users_condition(
                        json!({"includeUsers": ["All"], "excludeUsers": [BREAK_GLASS_1, BREAK_GLASS_2]}),
                    ),
                    json!({}),
                    &["mfa"],
                ),
                policy(
                    "Block legacy authentication",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-bg"]})),
                    json!({"clientAppTypes": ["exchangeActiveSync", "other"]}),
                    &["block"],
                ),
                policy(
                    "High sign-in risk",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeUsers": ["All"], "excludeUsers": [BREAK_GLASS_1]})),
                    json!({"signInRiskLevels": ["high"]}),
                    &["mfa"],
                ),
            ],
        )
        .list("/domains", vec![])
        .object(
            "/policies/authorizationPolicy",
            json!({"id": "authorizationPolicy"}),
        )
        .object(
            "/policies/authenticationMethodsPolicy",
            json!({"id": "authenticationMethodsPolicy"}),
        )
        .object(
            "/policies/identitySecurityDefaultsEnforcementPolicy",
            json!({"isEnabled": false}),
        )
        .object(
            "/policies/adminConsentRequestPolicy",
            json!({"isEnabled": false}),
        )
        .list(
            "/subscribedSkus",
            vec![
                sku(
                    "SPE_E3",
                    "Enabled",
                    &[("AAD_PREMIUM", "Success"), ("EXCHANGE_S_ENTERPRISE", "Success")],
                ),
                // Suspended: its P2 plan gives nothing.
                sku("EMSPREMIUM", "Suspended", &[("AAD_PREMIUM_P2", "Success")]),
                // In force, but its governance plan is not provisioned.
                sku(
                    "Microsoft_Entra_ID_Governance",
                    "Warning",
                    &[("Entra_Identity_Governance", "PendingActivation")],
                ),
            ],
        )
}

/// The facts of `break_glass_directory` with bg1, bg2, dave and a ghost named, by hand.
fn break_glass_facts() -> Value {
    json!({
        // Members: alice, bob, carol (bg1, bg2 and dave are named: left out). Registered:
        // alice and bob. Every policy covers all three.
        "users": {"total": 3, "mfaRegistered": 2, "legacyAuthBlocked": 3, "signInRiskCovered": 3,
                  "userRiskCovered": 0, "mfaRequired": 3, "signInRiskBlocked": 0,
                  "managedDeviceRequired": 0, "deviceCodeFlowBlocked": 0,
                  "phishingResistantRequired": 0, "securityInfoRegistrationManaged": 0,
                  "signInFrequencyLimited": 0, "intuneEnrollmentReauthenticated": 0,
                  "authenticationTransferBlocked": 0, "untrustedLocationsBlocked": 0,
                  "tokenProtectionEnforced": 0},
        // Admins: alice only (the named three left out); she is covered by the MFA policy,
        // registered only Authenticator, is cloud-only, holds no licence and is a Global
        // Administrator.
        "admins": {"total": 1, "mfaProtected": 1, "phishingResistantRequired": 0,
                   "phishingResistantRegistered": 0, "cloudOnly": 1, "signInFrequencyLimited": 0,
                   "reducedLicenseFootprint": 1, "withoutGlobalAdmin": 0},
        // Global Administrators still count everyone: alice, bg1, bg2, dave.
        "roles": {"globalAdmins": 4},
        // Dave is synchronized from on-premises.
        "hybrid": {"synchronized": 1},
        "apps": {"userConsentRestricted": true, "userConsentDisabled": true,
                 "adminConsentWorkflow": false},
        // The settings of a tenant that never changed them (`Directory::tenant`).
        "groups": {"m365CreationRestricted": false},
        "passwordProtection": {"customListEnforced": false, "onPremisesEnforced": 0,
                               "lockoutThreshold": 10, "lockoutDurationSeconds": 60},
        "devices": {"userQuota": 50, "joinRestricted": false, "globalAdminsNotLocalAdmins": false,
                    "registeringUsersNotLocalAdmins": false, "lapsEnabled": false},
        "appCredentials": {"passwordAdditionBlocked": false, "customPasswordBlocked": false,
                           "passwordLifetimeLimited": false, "certificateLifetimeLimited": false},
        // Microsoft's default lets every organization collaborate.
        "crossTenant": {"collaborationInboundBlocked": false},
        "locations": {"trustedIpRangeDefined": false},
        // Alice's Global Administrator is standing and was assigned outside PIM (the
        // emergency accounts' are left out); the default policies of two roles.
        "pim": {"permanentPrivilegedAssignments": 1, "assignmentsOutsidePim": 1,
                "globalAdminApprovalRequired": false, "privilegedRoleAdminApprovalRequired": false,
                "globalAdminActivationAlerted": false, "privilegedRoles": 2,
                "privilegedRolesAlertingOnAssignment": 0, "privilegedRolesAlertingOnActivation": 0},
        "accessReviews": {"guests": false, "globalAdmins": false},
        // Microsoft Authenticator's companion-app setting is left to Microsoft.
        "authMethods": {"authenticatorLiteDisabled": false},
        "securityDefaults": {"enabled": false},
        "licenses": {"entraP1": true, "entraP2": false, "entraIdGovernance": false},
        // bg1 and bg2 count (dave is synchronized, the ghost does not exist); bg1 is excluded
        // from all three policies; bg1 has a FIDO2 key.
        "emergencyAccess": {"accounts": 2, "excludedFromAllPolicies": true, "phishingResistant": 1},
    })
}

/// The tenant's score with every action's status, once today was rescored from a snapshot
/// whose facts satisfy `ready`.
async fn score_when(app: &crate::helpers::TestApp, ready: impl Fn(&Value) -> bool) -> Value {
    eventually("today rescored", Duration::from_secs(20), || async {
        let body = app
            .graphql(
                &admin(),
                "{ tenant(id: \"acme\") { score { score maxScore coverage
                    licenseGaps { license actions maxScore }
                    actionScores { status score maxScore action { id requiresLicenses } } } } }",
                json!({}),
            )
            .await;
        let score = body["data"]["tenant"]["score"].clone();
        ready(&score).then_some(score)
    })
    .await
}

fn status_of<'a>(score: &'a Value, action: &str) -> &'a Value {
    score["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"]["id"] == action)
        .unwrap_or_else(|| panic!("{action}: {score}"))
}

#[tokio::test]
async fn a_tenant_without_p2_and_with_a_break_glass_pair_is_scored_on_what_it_can_do() {
    let standin = StandIn::start(break_glass_directory(), 3).await;
    let app = connected_app(&standin, |_| {}).await;
    // Bad ids change nothing.
    for ids in [
        json!(["alice"]),
        json!([GHOST, GHOST.to_uppercase()]),
        json!([ALICE, BOB, CAROL, DAVE, GHOST]),
    ] {
        let refused = app
            .graphql(&admin(), SET_ACCOUNTS, json!({"ids": ids}))
            .await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    }
    let named = app
        .graphql(
            &admin(),
            SET_ACCOUNTS,
            json!({"ids": [BREAK_GLASS_1, BREAK_GLASS_2, DAVE, GHOST.to_uppercase()]}),
        )
        .await;
    assert_eq!(
        named["data"]["setEmergencyAccessAccounts"]["emergencyAccessAccounts"],
        json!([BREAK_GLASS_1, BREAK_GLASS_2, DAVE, GHOST]),
        "{named}"
    );
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["snapshot"]["facts"], break_glass_facts(), "{run}");
    assert_eq!(
        run["warnings"],
        json!([
            format!(
                "emergency access account {GHOST} is not a user of this directory; it is not counted as one"
            ),
            format!(
                "emergency access account {DAVE} is synchronized from on-premises (it should be cloud-only); it is not counted as one"
            ),
        ]),
        "{run}"
    );
    let score = score_when(&app, |s| s["score"].as_f64().is_some_and(|v| v > 0.0)).await;
    // Without P2 the three risk policies read NOT_LICENSED and count 0 of 0: 7 + 7 + 5; so
    // do the nine PIM and access review actions: 5 + 3 + 3 + 2 + 2 + 2 + 1 + 2 + 2 = 22.
    assert_eq!(
        score["licenseGaps"],
        json!([{"license": "ENTRA_P2", "actions": 12, "maxScore": 41.0}]),
        "{score}"
    );
    for risk in [
        "SigninRiskPolicy",
        "UserRiskPolicy",
        "BlockMediumHighSignInRisk",
    ] {
        let row = status_of(&score, risk);
        assert_eq!(row["status"], "NOT_LICENSED", "{row}");
        assert_eq!(row["maxScore"], 0.0);
        assert_eq!(row["action"]["requiresLicenses"], json!(["ENTRA_P2"]));
    }
    // The break-glass actions: two accounts (3 of 3), bg1 excluded everywhere (2 of 2), one
    // of two with a passkey (1 of 2).
    for (action, points) in [
        ("EmergencyAccessAccounts", 3.0),
        ("EmergencyAccessExcludedFromPolicies", 2.0),
        ("EmergencyAccessPhishingResistant", 1.0),
    ] {
        assert_eq!(status_of(&score, action)["score"], points, "{action}");
    }
    // Scored: AdminMFA 10 + MFARegistration 6 (2 of 3) + BlockLegacyAuthentication 8 +
    // RestrictUserConsent 4 + MoreThanOneGlobalAdmin 1 + FewGlobalAdmins 1 (4) +
    // MFAForAllUsers 9 + CloudOnlyAdmins 5 + the break-glass 3 + 2 + 1 = 50, of those plus
    // PhishingResistantMFAForAdmins 8, AdminsRegisterPhishingResistantMethods 5,
    // RequireManagedDevice 6, BlockDeviceCodeFlow 5, AdminConsentWorkflow 4 = 82. Without
    // data: PasswordsNeverExpire 8, SelfServicePasswordReset 1, the five method actions
    // 4 + 4 + 2 + 5 + 3, the two guest actions 5 + 3, the three creation actions 4 + 3 + 2
    // = 44; not licensed counts in neither. Catalog v3 adds, on the settings of a tenant that
    // never changed them: DisableUserConsent 3, AdminsWithoutApplicationLicences 3,
    // SmartLockoutThreshold 2 and SmartLockoutDuration 1 (the defaults comply) = 9, of 22
    // for the eight Conditional Access ones (all 0) and 36 for the rest (BlockExternal-
    // CollaborationByDefault's 2 among them: Microsoft's default lets everyone collaborate)
    // = 58; without data
    // AuthenticationMethodsMigrationComplete 2 and BlockBitLockerKeySelfService 2. The two
    // read from beta: TokenProtection 0 of 2, DisableAuthenticatorLite 0 of 1.
    assert_eq!(score["score"], 50.0 + 9.0, "{score}");
    assert_eq!(score["maxScore"], 82.0 + 58.0 + 3.0, "{score}");
    assert!(
        (score["coverage"].as_f64().unwrap() - 100.0 * 143.0 / (126.0 + 61.0 + 4.0)).abs() < 1e-9,
        "{score}"
    );
    // Clearing the accounts collects again: everyone counts as usual, nobody is an
    // emergency account.
    let cleared = app
        .graphql(&admin(), SET_ACCOUNTS, json!({"ids": []}))
        .await;
    assert_eq!(
        cleared["data"]["setEmergencyAccessAccounts"]["emergencyAccessAccounts"],
        json!([]),
        "{cleared}"
    );
    let facts = eventually("collected again", Duration::from_secs(20), || async {
        let body = app.graphql(&admin(), READ, json!({})).await;
        let runs = body["data"]["tenant"]["collectionRuns"]["edges"].clone();
        let newest = &runs[0]["node"];
        (runs.as_array().map(Vec::len) == Some(2) && newest["status"] == "SUCCEEDED")
            .then(|| newest["snapshot"]["facts"].clone())
    })
    .await;
    // Members now: alice, bob, carol, bg1, bg2, dave; admins the four Global Administrators.
    assert_eq!(facts["users"]["total"], 6, "{facts}");
    assert_eq!(facts["admins"]["total"], 4, "{facts}");
    assert_eq!(
        facts["emergencyAccess"],
        json!({"accounts": 0, "excludedFromAllPolicies": false, "phishingResistant": 0})
    );
    let reader = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            "{ tenant(id: \"acme\") { emergencyAccessAccounts } }",
            json!({}),
        )
        .await;
    assert_eq!(
        reader["data"]["tenant"]["emergencyAccessAccounts"],
        json!([])
    );
}

#[tokio::test]
async fn a_licence_refusal_names_the_licence_not_a_permission() {
    let standin = StandIn::start(paper_directory(), 100).await;
    standin.behave(|b| {
        b.unlicensed
            .insert("/reports/authenticationMethods/userRegistrationDetails".into());
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let registrations = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "/reports/authenticationMethods/userRegistrationDetails")
        .unwrap();
    assert_eq!(registrations["httpStatus"], 403);
    assert_eq!(
        registrations["missingLicense"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
    assert!(registrations["missingPermission"].is_null(), "{run}");
    // The facts that need registrations are left out, never guessed.
    let facts = &run["snapshot"]["facts"];
    assert!(facts["users"].get("mfaRegistered").is_none(), "{facts}");
    assert!(
        facts["admins"].get("phishingResistantRegistered").is_none(),
        "{facts}"
    );
    assert!(
        facts["emergencyAccess"].get("phishingResistant").is_none(),
        "{facts}"
    );
    assert_eq!(facts["users"]["total"], 6);
    let read = app.graphql(&admin(), READ, json!({})).await;
    let connection = &read["data"]["tenant"]["graphConnection"];
    assert_eq!(connection["status"], "PARTIAL", "{read}");
    assert_eq!(
        connection["missingPermissions"],
        json!([]),
        "no permission would help: {read}"
    );
}

#[tokio::test]
async fn an_item_that_does_not_parse_fails_its_endpoint_with_the_field_and_position() {
    let mut odd = registration("u3", false);
    odd["isMfaRegistered"] = Value::Null;
    let directory = paper_directory()
        .list(
            "/reports/authenticationMethods/userRegistrationDetails",
            vec![registration("u1", true), registration("u2", true), odd],
        )
        .list(
            "/roleManagement/directory/roleAssignments",
            vec![
                assignment("a1", GLOBAL_ADMIN, "u1", "user", "/"),
                json!({"id": "a2", "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": "/"}),
            ],
        );
    // Pages of two: the bad registration is on the second page, read after the first parsed.
    let standin = StandIn::start(directory, 2).await;
    standin.behave(|b| {
        b.throttle_once.insert("/domains".into());
        b.retry_after = Some("0.25".into());
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let endpoint = |name: &str| {
        run["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {run}"))
            .clone()
    };
    let registrations = endpoint("/reports/authenticationMethods/userRegistrationDetails");
    assert_eq!(
        registrations["error"], "item 2: isMfaRegistered: invalid type: null, expected a boolean",
        "{run}"
    );
    assert_eq!(registrations["httpStatus"], 200);
    let assignments = endpoint("/roleManagement/directory/roleAssignments");
    assert_eq!(
        assignments["error"], "item 1: the item: missing field `principalId`",
        "an assignment without its principal is an error, never one admin fewer: {run}"
    );
    // A fractional Retry-After was honoured and the read retried.
    assert_eq!(endpoint("/domains")["attempts"], 2);
    assert!(endpoint("/domains")["error"].is_null());
    let facts = &run["snapshot"]["facts"];
    assert!(facts["users"].get("mfaRegistered").is_none(), "{facts}");
    assert!(facts.get("admins").is_none(), "{facts}");
    assert!(facts.get("roles").is_none(), "{facts}");
    assert_eq!(facts["users"]["total"], 6, "{facts}");
    assert_eq!(facts["passwordPolicy"]["neverExpires"], true, "{facts}");
    let read = app.graphql(&admin(), READ, json!({})).await;
    assert!(
        read["data"]["tenant"]["graphConnection"]["lastError"]
            .as_str()
            .unwrap()
            .contains("item 2: isMfaRegistered"),
        "{read}"
    );
}
