//! Who changed it: a collection reads the directory's audit log, keeps the events that can move
//! an action, and a diff (and a REGRESSION alert with its webhook body) names them under the
//! actions they can move.

use chrono::{Duration, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use crate::directory::{
    COLLECT, admin, connect_and_collect, connected_app, paper_directory, paper_facts, secret_input,
};
use crate::graph_standin::{AUDIT_LOG, StandIn};
use crate::helpers::{day, error_code, eventually, noon, token};
use securescore::domain::Role;

/// An audit event in Microsoft's `directoryAudit` shape.
fn audit(
    id: &str,
    at: chrono::DateTime<Utc>,
    category: &str,
    activity: &str,
    by: &str,
    targets: Value,
) -> Value {
    json!({
        "id": id,
        "category": category,
        "correlationId": "5d2e4c1b-9f8a-4b7c-8d6e-1f0a2b3c4d5e",
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {"app": null, "user": {"id": format!("id-{by}"), "displayName": null,
                        "userPrincipalName": format!("{by}@contoso.com"), "ipAddress": "203.0.113.7"}},
        "targetResources": targets,
        "additionalDetails": [],
    })
}

/// A target in Microsoft's `targetResource` shape.
fn target(kind: &str, id: &str, name: &str, properties: &[&str]) -> Value {
    json!({
        "id": id, "displayName": name, "type": kind, "userPrincipalName": null, "groupType": null,
        "modifiedProperties": properties.iter().map(|p| json!({"displayName": p, "oldValue": "[]", "newValue": "[]"})).collect::<Vec<_>>(),
    })
}

const DIFF: &str = "query($from: Date!, $to: Date!) { tenant(id: \"acme\") { scoreDiff(from: $from, to: $to) {
    changes(onlyRegressions: true) { action { id } scoreDelta
      directoryChanges { id at activity category result initiatedBy targets { type id displayName modifiedProperties } } } } } }";

/// The ids under each regressed action, by action id.
fn ids_by_action(changes: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ids = c["directoryChanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
            (c["action"]["id"].as_str().unwrap().to_owned(), ids)
        })
        .collect()
}

#[tokio::test]
async fn a_regression_names_the_admins_and_policies_behind_it() {
    let now = Utc::now();
    let yesterday_capture = chrono::DateTime::parse_from_rfc3339(&noon(-1))
        .unwrap()
        .to_utc();
    let ca_edit = audit(
        "ev-ca-edit",
        now - Duration::hours(3),
        "Policy",
        "Update conditional access policy",
        "alice",
        json!([target(
            "Policy",
            "p-admin-mfa",
            "MFA for administrators",
            &["ConditionalAccessPolicy"]
        )]),
    );
    let events = vec![
        // Logged before yesterday's snapshot: kept, but explains nothing between the two days.
        audit(
            "ev-before",
            yesterday_capture - Duration::hours(1),
            "Policy",
            "Update conditional access policy",
            "alice",
            json!([target(
                "Policy",
                "p-admin-mfa",
                "MFA for administrators",
                &["ConditionalAccessPolicy"]
            )]),
        ),
        ca_edit.clone(),
        audit(
            "ev-role",
            now - Duration::hours(2),
            "RoleManagement",
            "Add member to role",
            "bob",
            json!([
                target("User", "u5", "erin", &["Role.DisplayName"]),
                target("Role", "r-ga", "Global Administrator", &[])
            ]),
        ),
        // Unrelated: no catalog fact reads what it changes.
        audit(
            "ev-unrelated",
            now - Duration::minutes(100),
            "UserManagement",
            "Update user",
            "bob",
            json!([target("User", "u4", "dave", &["JobTitle"])]),
        ),
        // A group nothing reads, and one a policy names.
        audit(
            "ev-other-group",
            now - Duration::minutes(90),
            "GroupManagement",
            "Add member to group",
            "bob",
            json!([
                target("User", "u4", "dave", &[]),
                target("Group", "g-marketing", "Marketing", &[])
            ]),
        ),
        audit(
            "ev-pilot",
            now - Duration::hours(1),
            "GroupManagement",
            "Add member to group",
            "carol",
            json!([
                target("User", "u4", "dave", &[]),
                target("Group", "g-pilot", "Pilot", &[])
            ]),
        ),
        // The same event on a later page again.
        ca_edit,
    ];
    let standin = StandIn::start(paper_directory().list(AUDIT_LOG, events), 2).await;
    let app = connected_app(&standin, |_| {}).await;
    let regression = app
        .graphql(
            &admin(),
            "mutation { createAlertRule(input: {tenantId: \"acme\", kind: REGRESSION}) { id } }",
            json!({}),
        )
        .await;
    assert!(regression["errors"].is_null(), "{regression}");
    let endpoint = app.graphql(&admin(), "mutation { createWebhookEndpoint(input: {tenantId: \"acme\", url: \"http://127.0.0.1:9/hook\"}) { secret } }", json!({})).await;
    assert!(endpoint["errors"].is_null(), "{endpoint}");
    // Yesterday, a collector pushed: every admin and every member under MFA.
    let mut yesterday = paper_facts();
    yesterday["admins"]["mfaProtected"] = yesterday["admins"]["total"].clone();
    yesterday["users"]["mfaRequired"] = yesterday["users"]["total"].clone();
    let pushed = app.ingest("acme", &noon(-1), yesterday).await;
    assert!(pushed["errors"].is_null(), "{pushed}");
    // Yesterday is scored before today's collection: today's first write (the live rescore
    // the collection starts, or the recompute below, whichever comes first) compares with it.
    let scored = app.recompute("acme", &day(-1), &day(-1)).await;
    assert!(scored["errors"].is_null(), "{scored}");
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let audit_endpoint = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == AUDIT_LOG)
        .cloned()
        .unwrap();
    assert_eq!(audit_endpoint["items"], 7, "{run}");
    assert!(audit_endpoint["error"].is_null(), "{run}");
    let recomputed = app.recompute("acme", &day(-1), &day(0)).await;
    assert!(recomputed["errors"].is_null(), "{recomputed}");
    // Kept: four events (the unrelated one and the other group's are not; the one seen twice
    // is stored once).
    assert_eq!(app.count("directory_changes").await, 4);

    let body = app
        .graphql(&admin(), DIFF, json!({"from": day(-1), "to": day(0)}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let changes = &body["data"]["tenant"]["scoreDiff"]["changes"];
    let by_action = ids_by_action(changes);
    assert_eq!(
        by_action["AdminMFA"],
        ["ev-ca-edit", "ev-role", "ev-pilot"],
        "{changes}"
    );
    assert_eq!(
        by_action["MFAForAllUsers"],
        ["ev-ca-edit", "ev-pilot"],
        "{changes}"
    );
    let admin_mfa = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"]["id"] == "AdminMFA")
        .unwrap();
    assert_eq!(admin_mfa["scoreDelta"], -2.5, "{admin_mfa}");
    assert_eq!(
        admin_mfa["directoryChanges"][0],
        json!({"id": "ev-ca-edit", "at": (now - Duration::hours(3)).to_rfc3339_opts(SecondsFormat::Secs, true),
               "activity": "Update conditional access policy", "category": "Policy", "result": "success",
               "initiatedBy": "alice@contoso.com",
               "targets": [{"type": "Policy", "id": "p-admin-mfa", "displayName": "MFA for administrators",
                            "modifiedProperties": ["ConditionalAccessPolicy"]}]}),
    );

    // The alert carries them, and so does its webhook body.
    let node = eventually("today's REGRESSION alert", std::time::Duration::from_secs(20), || async {
        let alerts = app.graphql(&admin(), "{ tenant(id: \"acme\") { alerts(unacknowledgedOnly: false) { edges { node { date regressions { action { id } directoryChanges { id initiatedBy } } } } } } }", json!({})).await;
        alerts["data"]["tenant"]["alerts"]["edges"]
            .as_array()?
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["date"] == day(0))
            .cloned()
    })
    .await;
    assert_eq!(
        ids_by_action(&node["regressions"])["AdminMFA"],
        ["ev-ca-edit", "ev-role", "ev-pilot"],
        "{node}"
    );
    let bodies = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT body FROM webhook_deliveries",
        ))
        .await
        .unwrap();
    let delivered: Vec<Value> = bodies
        .iter()
        .map(|row| serde_json::from_str(&row.try_get::<String>("", "body").unwrap()).unwrap())
        .collect();
    let today = delivered
        .iter()
        .find(|b| b["data"]["date"] == day(0))
        .unwrap_or_else(|| panic!("{delivered:?}"));
    let admin_mfa = today["data"]["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["actionId"] == "AdminMFA")
        .unwrap();
    let names: Vec<&str> = admin_mfa["directoryChanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["initiatedBy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com"],
        "{today}"
    );

    // The tenant's list: every kept event in the range, newest first, page by page.
    let list = "query($from: DateTime!, $to: DateTime!, $after: String) { tenant(id: \"acme\") {
        directoryChanges(from: $from, to: $to, first: 3, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }";
    let range = json!({"from": noon(-2), "to": (now + Duration::minutes(5)).to_rfc3339()});
    let first = app.graphql(&admin(), list, range.clone()).await;
    let page = &first["data"]["tenant"]["directoryChanges"];
    let ids: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ev-pilot", "ev-role", "ev-ca-edit"], "{first}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let mut next = range.clone();
    next["after"] = page["pageInfo"]["endCursor"].clone();
    let second = app.graphql(&admin(), list, next).await;
    let rest: Vec<&str> = second["data"]["tenant"]["directoryChanges"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["ev-before"], "{second}");
    // Events name people: a collector does not read them; another tenant's reader sees no tenant.
    let collector = app
        .graphql(&token(&[Role::Collector], &["acme"]), list, range.clone())
        .await;
    assert_eq!(error_code(&collector), Some("FORBIDDEN"), "{collector}");
    let outsider = app
        .graphql(
            &token(&[Role::SecurityReader], &["other"]),
            list,
            range.clone(),
        )
        .await;
    assert!(outsider["data"]["tenant"].is_null(), "{outsider}");
    let backwards = app
        .graphql(
            &admin(),
            list,
            json!({"from": range["to"], "to": range["from"]}),
        )
        .await;
    assert_eq!(
        error_code(&backwards),
        Some("BAD_USER_INPUT"),
        "{backwards}"
    );

    // The next collection reads from where the first began, and stores nothing twice.
    let read_from: Option<chrono::DateTime<Utc>> = {
        entity::graph_connection::Entity::find_by_id("acme".to_owned())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .audit_read_from
    };
    let read_from = read_from.expect("the first read recorded where the next starts");
    let again = app.graphql(&admin(), COLLECT, json!({})).await;
    assert_eq!(
        again["data"]["collectNow"]["status"], "SUCCEEDED",
        "{again}"
    );
    let filters: Vec<String> = standin
        .graph_requests()
        .into_iter()
        .filter(|r| r.starts_with(&format!("GET {AUDIT_LOG}?")))
        .collect();
    let expected = format!(
        "$filter=activityDateTime ge {}",
        read_from.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    assert!(
        filters.last().unwrap().contains(&expected),
        "{filters:?} should hold {expected}"
    );
    assert_eq!(app.count("directory_changes").await, 4);
}

#[tokio::test]
async fn a_tenant_without_the_audit_logs_licence_is_collected_as_before() {
    let events = vec![audit(
        "ev-1",
        Utc::now() - Duration::hours(1),
        "Policy",
        "Update conditional access policy",
        "alice",
        json!([]),
    )];
    let standin = StandIn::start(paper_directory().list(AUDIT_LOG, events), 100).await;
    standin.behave(|b| {
        b.unlicensed.insert(AUDIT_LOG.to_owned());
    });
    let app = connected_app(&standin, |_| {}).await;
    let run = connect_and_collect(&app, secret_input()).await;
    assert_eq!(
        run["status"], "SUCCEEDED",
        "the audit log adds no fact: {run}"
    );
    assert_eq!(run["snapshot"]["facts"], paper_facts(), "{run}");
    let audit_endpoint = run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == AUDIT_LOG)
        .cloned()
        .unwrap();
    assert_eq!(audit_endpoint["httpStatus"], 403, "{run}");
    assert_eq!(
        audit_endpoint["missingLicense"], "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "{run}"
    );
    assert!(audit_endpoint["missingPermission"].is_null(), "{run}");
    let connection = app
        .graphql(
            &admin(),
            "{ tenant(id: \"acme\") { graphConnection { status missingPermissions } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        connection["data"]["tenant"]["graphConnection"],
        json!({"status": "OK", "missingPermissions": []}),
        "{connection}"
    );
    assert_eq!(app.count("directory_changes").await, 0);
    let read_from = {
        entity::graph_connection::Entity::find_by_id("acme".to_owned())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .audit_read_from
    };
    assert!(
        read_from.is_none(),
        "the next collection reads the last 7 days again"
    );
}
