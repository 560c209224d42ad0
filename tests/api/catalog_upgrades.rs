//! Upgrading the built-in catalog: new built-in entries arrive at start and show as
//! ACTION_ADDED, entries an older file wrote are updated, and an entry a platform admin changed
//! stays as the admin left it.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use securescore::domain::Role;
use securescore::pipeline::LiveRequest;
use securescore::scoring::ScoringRule;
use securescore::service::catalog::{
    ActionInput, BuiltInCatalog, CatalogSync, sync_built_in_catalog,
};
use serde_json::{Value, json};

use crate::helpers::{
    built_in_actions, day, eventually, fresh_database, noon, partial_mfa_facts, platform_admin,
    spawn_app, spawn_app_on, token,
};

/// The file the first release shipped: eleven entries, no metadata.
const FIRST_RELEASE_CATALOG: &str = include_str!("../fixtures/identity-catalog-v1.json");

const ENTRY: &str =
    "query($id: ID!) { action(id: $id) { title maxScore tier compliance { framework } } }";

async fn entry(app: &crate::helpers::TestApp, id: &str) -> Value {
    let body = app
        .graphql(&platform_admin(), ENTRY, json!({"id": id}))
        .await;
    body["data"]["action"].clone()
}

async fn built_in_version(app: &crate::helpers::TestApp, id: &str) -> Option<i64> {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT built_in_version FROM improvement_actions WHERE id = '{id}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<Option<i32>>(0)
        .unwrap()
        .map(i64::from)
}

#[tokio::test]
async fn a_database_the_first_release_loaded_gets_the_new_catalog_and_keeps_an_admins_change() {
    // The database as the first release left it: migrations up to 13, its eleven entries
    // loaded at one instant, then FewGlobalAdmins changed through that release's upsertAction
    // (which rewrote the row and moved `updated_at`).
    let (url, database) = fresh_database().await;
    let db = securescore::db::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    // Back to the first release's last migration, the thirteenth.
    let later = Migrator::migrations().len() as u32 - 13;
    Migrator::down(&db, Some(later)).await.unwrap();
    let backend = db.get_database_backend();
    let entries: Vec<Value> = serde_json::from_str(FIRST_RELEASE_CATALOG).unwrap();
    assert_eq!(entries.len(), 11);
    let loaded = "2026-01-05T08:00:00+00:00";
    for e in &entries {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "INSERT INTO improvement_actions (id, title, description, category, max_score, rule, scored, deprecated, user_impact, implementation_cost, remediation, action_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6::json, $7, false, $8, $9, $10, $11, $12::timestamptz, $12::timestamptz)",
                _ => "INSERT INTO improvement_actions (id, title, description, category, max_score, rule, scored, deprecated, user_impact, implementation_cost, remediation, action_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?, ?)",
            },
            {
                let text = |k: &str| e[k].as_str().map(str::to_owned);
                let mut values: Vec<sea_orm::Value> = vec![
                    text("id").into(),
                    text("title").into(),
                    text("description").into(),
                    text("category").into(),
                    e["maxScore"].as_f64().into(),
                    e["rule"].to_string().into(),
                    e["scored"].as_bool().unwrap_or(true).into(),
                    text("userImpact").into(),
                    text("implementationCost").into(),
                    text("remediation").into(),
                    text("actionUrl").into(),
                    loaded.into(),
                ];
                if backend != sea_orm::DbBackend::Postgres {
                    values.push(loaded.into());
                }
                values
            },
        ))
        .await
        .unwrap();
    }
    db.execute_raw(Statement::from_string(
        backend,
        "UPDATE improvement_actions SET max_score = 2, title = 'Keep at most four global admins', updated_at = '2026-02-01T09:30:00+00:00' WHERE id = 'FewGlobalAdmins'",
    ))
    .await
    .unwrap();
    drop(db);

    let app = spawn_app_on(url, database).await;
    assert_eq!(
        app.count("improvement_actions").await,
        built_in_actions() as i64
    );
    // Untouched entries now carry this release's metadata and version.
    let admin_mfa = entry(&app, "AdminMFA").await;
    assert_eq!(admin_mfa["tier"], "CORE", "{admin_mfa}");
    assert_eq!(admin_mfa["compliance"].as_array().unwrap().len(), 2);
    let shipped = BuiltInCatalog::shipped().unwrap();
    assert_eq!(
        built_in_version(&app, "AdminMFA").await,
        Some(shipped.version.into())
    );
    // The new entries arrived.
    assert_eq!(entry(&app, "MFAForAllUsers").await["maxScore"], 9.0);
    // The admin's entry is as the admin left it.
    assert_eq!(
        entry(&app, "FewGlobalAdmins").await,
        json!({"title": "Keep at most four global admins", "maxScore": 2.0, "tier": null, "compliance": []})
    );
    assert_eq!(built_in_version(&app, "FewGlobalAdmins").await, None);
}

/// The next catalog file: one entry added, one entry changed, and a change to the entry an
/// admin has changed.
fn next_release(shipped: &BuiltInCatalog) -> BuiltInCatalog {
    let mut next = shipped.clone();
    next.version += 1;
    let edit = |id: &str, next: &mut BuiltInCatalog, change: &dyn Fn(&mut ActionInput)| {
        let entry = next.actions.iter_mut().find(|a| a.id == id).unwrap();
        change(entry);
    };
    edit("SelfServicePasswordReset", &mut next, &|a| {
        a.max_score = 2.0
    });
    edit("FewGlobalAdmins", &mut next, &|a| {
        a.title = "Keep global admins to four or fewer".into()
    });
    let mut added = next.actions[0].clone();
    added.id = "CertificateBasedAuthentication".into();
    added.title = "Offer certificate-based authentication".into();
    added.max_score = 3.0;
    added.rule = ScoringRule::Boolean {
        fact: "authMethods.certificateEnabled".into(),
    };
    next.actions.push(added);
    next
}

#[tokio::test]
async fn a_newer_catalog_adds_and_updates_entries_and_the_day_shows_what_it_added() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let mut facts = partial_mfa_facts();
    facts["authMethods"] = json!({"certificateEnabled": true});
    facts["roles"] = json!({"globalAdmins": 3});
    app.ingest("acme", &noon(-1), facts).await;
    let recomputed = app.recompute("acme", &day(-1), &day(-1)).await;
    assert!(recomputed["errors"].is_null(), "{recomputed}");

    // A platform admin changes an entry through the API.
    let changed = app
        .graphql(
            &platform_admin(),
            "mutation { upsertAction(input: {id: \"FewGlobalAdmins\", title: \"Our own wording\", category: IDENTITY, maxScore: 1, rule: {kind: RANGE, fact: \"roles.globalAdmins\", max: 4}}) { id } }",
            json!({}),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");

    let shipped = BuiltInCatalog::shipped().unwrap();
    let next = next_release(&shipped);
    let sync = sync_built_in_catalog(&app.db, &next).await.unwrap();
    assert_eq!(
        sync,
        CatalogSync {
            added: 1,
            updated: 1,
            kept: 1
        }
    );
    // Running it again changes nothing; a replica of the older release starting beside it
    // does not take anything back.
    let again = sync_built_in_catalog(&app.db, &next).await.unwrap();
    assert_eq!((again.added, again.updated), (0, 0));
    let older_replica = app.replica(|_| {}).await;
    assert_eq!(
        entry(&older_replica, "SelfServicePasswordReset").await["maxScore"],
        2.0
    );
    assert_eq!(
        entry(&app, "FewGlobalAdmins").await["title"],
        "Our own wording"
    );
    assert_eq!(
        built_in_version(&app, "CertificateBasedAuthentication").await,
        Some(next.version.into())
    );

    // Today follows (every start rescores today; here the sync ran without a start).
    app.pipeline.rescore_today(LiveRequest::AllTenants);
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let diff = eventually("today scored with the new entry", Duration::from_secs(10), || {
        let (app, reader) = (&app, reader.clone());
        async move {
            let body = app
                .graphql(
                    &reader,
                    "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreDiff(from: $f, to: $t) {
                        changes { action { id } reasons scoreBefore scoreAfter maxScoreBefore maxScoreAfter } } } }",
                    json!({"f": day(-1), "t": day(0)}),
                )
                .await;
            let changes = body["data"]["tenant"]["scoreDiff"]["changes"].as_array()?.clone();
            changes
                .iter()
                .any(|c| c["action"]["id"] == "CertificateBasedAuthentication")
                .then_some(changes)
        }
    })
    .await;
    let added = diff
        .iter()
        .find(|c| c["action"]["id"] == "CertificateBasedAuthentication")
        .unwrap();
    assert_eq!(added["reasons"], json!(["ACTION_ADDED"]), "{added}");
    assert_eq!(added["scoreAfter"], 3.0);
    let sspr = diff
        .iter()
        .find(|c| c["action"]["id"] == "SelfServicePasswordReset");
    // SSPR had no data yesterday and today (0 of 0): its new maximum changes no score.
    assert!(sspr.is_none(), "{diff:?}");
}
