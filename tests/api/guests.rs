//! Conditional Access as Entra enforces it for guests and external users, and groups that no
//! longer exist, end to end against the Graph stand-in.

use serde_json::{Value, json};

use crate::directory::{
    GLOBAL_ADMIN, assignment, connect_and_collect, connected_app, policy, registration,
    secret_input, sku, user, users_condition,
};
use crate::graph_standin::{Directory, StandIn};

/// A user invited from another organisation (`externalUserState` set).
fn invited(id: &str, user_type: &str) -> Value {
    let mut invited = user(id, user_type, true);
    invited["externalUserState"] = json!("Accepted");
    invited
}

/// The phishing-resistant authentication strength, as Graph returns it on a policy.
fn phishing_resistant(mut policy: Value) -> Value {
    policy["grantControls"]["builtInControls"] = json!([]);
    policy["grantControls"]["authenticationStrength"] = json!({
        "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
        "policyType": "builtIn", "requirementsSatisfied": "mfa",
        "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]});
    policy
}

/// Worked out by hand:
/// - m1, m2: internal members. gm: a member invited from outside (`b2bCollaborationMember`).
///   g1: an invited guest (`b2bCollaborationGuest`); g2: a guest without an external state
///   (`internalGuest`). Members: m1, m2, gm.
/// - Global Administrators: m1, gm, g1, g2 (three of them guests or external).
/// - Phishing-resistant MFA for Global Administrators, excluding B2B guests and members: covers
///   m1 and g2 only (2 of 4 admins).
/// - MFA for all users excluding `GuestsOrExternalUsers`: covers m1 and m2 (2 of 3 members); of
///   the admins, m1 only.
/// - Legacy authentication blocked for every kind of guest and external user (and nobody
///   else): of the members, gm.
/// - Compliant devices for all but the group `g-deleted`, which Graph answers 404 for: empty,
///   so all three members are covered, and the collection warns instead of failing.
fn guest_directory() -> Directory {
    Directory::tenant()
        .list(
            "/users",
            vec![
                user("m1", "Member", true),
                user("m2", "Member", true),
                invited("gm", "Member"),
                invited("g1", "Guest"),
                user("g2", "Guest", true),
            ],
        )
        .list(
            "/reports/authenticationMethods/userRegistrationDetails",
            ["m1", "m2", "gm", "g1", "g2"]
                .iter()
                .map(|id| registration(id, true))
                .collect(),
        )
        .list(
            "/roleManagement/directory/roleAssignments",
            ["m1", "gm", "g1", "g2"]
                .iter()
                .enumerate()
                .map(|(i, id)| assignment(&format!("a{i}"), GLOBAL_ADMIN, id, "user", "/"))
                .collect(),
        )
        .list(
            "/identity/conditionalAccess/policies",
            vec![
                phishing_resistant(policy(
                    "Phishing-resistant admins, no B2B",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeRoles": [GLOBAL_ADMIN],
                        "excludeGuestsOrExternalUsers": {
                            "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bCollaborationMember",
                            "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}}})),
                    json!({}),
                    &[],
                )),
                policy(
                    "MFA for everyone inside",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeUsers": ["All"], "excludeUsers": ["GuestsOrExternalUsers"]})),
                    json!({}),
                    &["mfa"],
                ),
                policy(
                    "Block legacy authentication for guests",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeGuestsOrExternalUsers": {
                        "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider",
                        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}}})),
                    json!({"clientAppTypes": ["exchangeActiveSync", "other"]}),
                    &["block"],
                ),
                policy(
                    "Compliant devices",
                    "enabled",
                    &["All"],
                    users_condition(json!({"includeUsers": ["All"], "excludeGroups": ["g-deleted"]})),
                    json!({}),
                    &["compliantDevice"],
                ),
            ],
        )
        .list("/domains", vec![])
        .object("/policies/authorizationPolicy", json!({"id": "authorizationPolicy"}))
        .object("/policies/authenticationMethodsPolicy", json!({"id": "authenticationMethodsPolicy"}))
        .object("/policies/identitySecurityDefaultsEnforcementPolicy", json!({"isEnabled": false}))
        .object("/policies/adminConsentRequestPolicy", json!({"isEnabled": false}))
        .list("/subscribedSkus", vec![sku("SPE_E5", "Enabled", &[("AAD_PREMIUM_P2", "Success")])])
}

#[tokio::test]
async fn guests_are_covered_as_entra_enforces_and_a_deleted_group_is_empty_with_a_warning() {
    let standin = StandIn::start(guest_directory(), 100).await;
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(
        run["warnings"],
        json!([
            "group g-deleted, named by a policy or a role assignment, no longer exists (404); it counts as having no members"
        ]),
        "{run}"
    );
    let deleted = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "/groups/g-deleted/transitiveMembers")
        .unwrap();
    assert_eq!(deleted["httpStatus"], 404);
    assert!(deleted["error"].is_null(), "{run}");
    let facts = &run["snapshot"]["facts"];
    assert_eq!(facts["users"]["total"], 3, "{facts}");
    assert_eq!(facts["users"]["mfaRequired"], 2, "{facts}");
    assert_eq!(facts["users"]["legacyAuthBlocked"], 1, "{facts}");
    assert_eq!(facts["users"]["managedDeviceRequired"], 3, "{facts}");
    assert_eq!(facts["admins"]["total"], 4, "{facts}");
    assert_eq!(facts["admins"]["phishingResistantRequired"], 2, "{facts}");
    assert_eq!(facts["admins"]["mfaProtected"], 1, "{facts}");
    // Only the contract's reads: the users with their external state.
    assert!(
        standin
            .graph_requests()
            .iter()
            .any(|r| r.starts_with("GET /users?") && r.contains("externalUserState")),
        "{:?}",
        standin.graph_requests()
    );
}
