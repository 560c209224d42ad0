//! Raising alerts in the transaction that writes the scores: the enabled rules of the written
//! days' tenants are evaluated against the stored days, each firing rule adds at most one alert
//! per date, and each alert recent enough to matter gets a pending delivery per enabled webhook
//! endpoint (the outbox), so an acknowledged score change never loses its alert.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use entity::enums::DeliveryStatus;
use entity::{action_plan, alert, alert_rule, daily_score, webhook_delivery, webhook_endpoint};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::scored_day::ScoredDay;
use crate::domain::{ActionStatus, AlertKind};
use crate::scoring::alerts::{RuleSettings, WrittenDay, fires, plan_overdue_fires};
use crate::scoring::diff::{ActionChange, ScoredAction, diff_actions};
use crate::service::action_sets::{day_sets, results_of_days};
use crate::service::directory_changes::{
    ChangeWindow, action_fact_paths, attach_changes, changes_in_windows,
};
use crate::service::score_reads::to_scored_action;
use crate::webhooks::payload::alert_body;

/// Alerts dated more than this many days before today (a recomputation of history) are
/// recorded but not delivered.
pub const DELIVERY_HORIZON_DAYS: i64 = 7;
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

/// Evaluates the rules of the written `days` inside `txn` and stores the alerts that fire, with
/// their deliveries; answers the new alerts.
pub async fn raise_alerts(
    txn: &DatabaseTransaction,
    days: &[&ScoredDay],
) -> Result<Vec<alert::Model>, DbErr> {
    let tenants: BTreeSet<&str> = days.iter().map(|d| d.tenant_id.as_str()).collect();
    let rules = enabled_rules(txn, &tenants).await?;
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let watched: Vec<&ScoredDay> = days
        .iter()
        .copied()
        .filter(|d| rules.contains_key(&d.tenant_id))
        .collect();
    let watched_tenants: Vec<String> = rules.keys().cloned().collect();
    let (Some(first), Some(last)) = (
        watched.iter().map(|d| d.date).min(),
        watched.iter().map(|d| d.date).max(),
    ) else {
        return Ok(Vec::new());
    };
    let longest_back = rules
        .values()
        .flatten()
        .map(|r| settings(r).days_back())
        .max()
        .unwrap_or(1);
    let stored = stored_days(
        txn,
        &watched_tenants,
        first - Duration::days(longest_back),
        last,
    )
    .await?;
    // Every alert lists the actions that lost points against the day before.
    let actions = stored_actions(txn, &watched_tenants, first - Duration::days(1), last).await?;
    let rule_ids: Vec<i64> = rules.values().flatten().map(|r| r.id).collect();
    let already = existing_alerts(txn, &rule_ids, first, last).await?;
    let windows: Vec<ChangeWindow> = watched
        .iter()
        .filter_map(|day| change_window(day, &stored))
        .collect();
    let events = changes_in_windows(txn, &windows).await?;
    let fact_paths = if events.is_empty() {
        HashMap::new()
    } else {
        action_fact_paths(txn).await?
    };

    let now = Utc::now();
    let mut raised = Vec::new();
    for day in watched {
        let previous = day.date - Duration::days(1);
        let mut regressions: Vec<ActionChange> = match (
            actions.get(&(day.tenant_id.clone(), previous)),
            actions.get(&(day.tenant_id.clone(), day.date)),
        ) {
            (Some(before), Some(after)) => diff_actions(before, after)
                .into_iter()
                .filter(ActionChange::is_regression)
                .collect(),
            _ => Vec::new(),
        };
        let day_events = change_window(day, &stored)
            .and_then(|window| events.get(&window))
            .map(Vec::as_slice)
            .unwrap_or_default();
        attach_changes(&mut regressions, day_events, &fact_paths);
        for rule in &rules[&day.tenant_id] {
            if rule.kind == AlertKind::PlanOverdue || already.contains(&(rule.id, day.date)) {
                continue;
            }
            let rule_settings = settings(rule);
            let before_date = day.date - Duration::days(rule_settings.days_back());
            let written = WrittenDay {
                percentage: day.day.totals.percentage,
                percentage_before: stored
                    .get(&(day.tenant_id.clone(), before_date))
                    .map(|(percentage, _)| *percentage),
                regressions: &regressions,
            };
            if !fires(&rule_settings, &written) {
                continue;
            }
            let stored = serde_json::to_value(&regressions)
                .map_err(|e| DbErr::Custom(format!("serializing regressions: {e}")))?;
            let model = alert::ActiveModel {
                tenant_id: Set(day.tenant_id.clone()),
                rule_id: Set(rule.id),
                date: Set(day.date),
                raised_at: Set(now),
                percentage_before: Set(written.percentage_before),
                percentage_after: Set(written.percentage),
                regressions: Set(stored),
                acknowledged_by: Set(None),
                acknowledged_at: Set(None),
                subject: Set(String::new()),
                ..Default::default()
            };
            let id = alert::Entity::insert(model).exec(txn).await?.last_insert_id;
            let row = alert::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| DbErr::Custom(format!("alert {id} vanished")))?;
            raised.push((row, rule));
        }
    }
    raise_overdue_plans(
        txn,
        &rules,
        &watched_days(days, &rules),
        &actions,
        &mut raised,
    )
    .await?;
    enqueue_deliveries(txn, &raised).await?;
    Ok(raised.into_iter().map(|(alert, _)| alert).collect())
}

/// The written days of today whose tenant has a PLAN_OVERDUE rule (plans are overdue against
/// today only).
fn watched_days<'a>(
    days: &[&'a ScoredDay],
    rules: &HashMap<String, Vec<alert_rule::Model>>,
) -> Vec<&'a ScoredDay> {
    let today = Utc::now().date_naive();
    days.iter()
        .copied()
        .filter(|d| d.date == today)
        .filter(|d| {
            rules
                .get(&d.tenant_id)
                .is_some_and(|r| r.iter().any(|r| r.kind == AlertKind::PlanOverdue))
        })
        .collect()
}

/// One PLAN_OVERDUE alert per plan that became overdue on a written day of today (its action
/// not done in that day's rows) and per PLAN_OVERDUE rule of its tenant; the plan records the
/// due date it was alerted for, so it fires once per due date.
async fn raise_overdue_plans<'r>(
    txn: &DatabaseTransaction,
    rules: &'r HashMap<String, Vec<alert_rule::Model>>,
    days: &[&ScoredDay],
    actions: &HashMap<(String, NaiveDate), Vec<ScoredAction>>,
    raised: &mut Vec<(alert::Model, &'r alert_rule::Model)>,
) -> Result<(), DbErr> {
    if days.is_empty() {
        return Ok(());
    }
    let tenants: Vec<&str> = days.iter().map(|d| d.tenant_id.as_str()).collect();
    let plans = action_plan::Entity::find()
        .filter(action_plan::Column::TenantId.is_in(tenants))
        .filter(action_plan::Column::DueDate.is_not_null())
        .all(txn)
        .await?;
    let now = Utc::now();
    for day in days {
        let statuses: HashMap<&str, ActionStatus> = actions
            .get(&(day.tenant_id.clone(), day.date))
            .map(|rows| {
                rows.iter()
                    .map(|r| (r.action_id.as_str(), r.status))
                    .collect()
            })
            .unwrap_or_default();
        let overdue = plans.iter().filter(|p| {
            p.tenant_id == day.tenant_id
                && plan_overdue_fires(
                    p.due_date,
                    p.overdue_alerted_due,
                    statuses.get(p.action_id.as_str()).copied(),
                    day.date,
                )
        });
        for plan in overdue {
            for rule in rules[&day.tenant_id]
                .iter()
                .filter(|r| r.kind == AlertKind::PlanOverdue)
            {
                let model = alert::ActiveModel {
                    tenant_id: Set(day.tenant_id.clone()),
                    rule_id: Set(rule.id),
                    date: Set(day.date),
                    raised_at: Set(now),
                    percentage_before: Set(None),
                    percentage_after: Set(day.day.totals.percentage),
                    regressions: Set(serde_json::json!([])),
                    acknowledged_by: Set(None),
                    acknowledged_at: Set(None),
                    subject: Set(plan.action_id.clone()),
                    ..Default::default()
                };
                let inserted = alert::Entity::insert(model)
                    .on_conflict(
                        OnConflict::columns([
                            alert::Column::RuleId,
                            alert::Column::Date,
                            alert::Column::Subject,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_with_returning(txn)
                    .await;
                match inserted {
                    Ok(row) => raised.push((row, rule)),
                    Err(DbErr::RecordNotInserted) => {}
                    Err(error) => return Err(error),
                }
            }
            action_plan::Entity::update_many()
                .col_expr(
                    action_plan::Column::OverdueAlertedDue,
                    sea_orm::sea_query::Expr::value(plan.due_date),
                )
                .filter(action_plan::Column::TenantId.eq(plan.tenant_id.as_str()))
                .filter(action_plan::Column::ActionId.eq(plan.action_id.as_str()))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// The rule's settings as the engine sees them.
fn settings(rule: &alert_rule::Model) -> RuleSettings {
    RuleSettings {
        kind: rule.kind,
        threshold: rule.threshold,
        window_days: rule.window_days,
    }
}

/// Enabled, undeleted rules per tenant.
async fn enabled_rules(
    txn: &DatabaseTransaction,
    tenants: &BTreeSet<&str>,
) -> Result<HashMap<String, Vec<alert_rule::Model>>, DbErr> {
    let ids: Vec<&str> = tenants.iter().copied().collect();
    let mut rules: HashMap<String, Vec<alert_rule::Model>> = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows = alert_rule::Entity::find()
            .filter(alert_rule::Column::TenantId.is_in(chunk.iter().copied()))
            .filter(alert_rule::Column::Enabled.eq(true))
            .filter(alert_rule::Column::DeletedAt.is_null())
            .order_by_asc(alert_rule::Column::Id)
            .all(txn)
            .await?;
        for row in rows {
            rules.entry(row.tenant_id.clone()).or_default().push(row);
        }
    }
    Ok(rules)
}

/// Stored percentages of `tenants` over `from..=to` and the snapshots that counted, as
/// written so far in `txn`.
async fn stored_days(
    txn: &DatabaseTransaction,
    tenants: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<(String, NaiveDate), (f64, Option<i64>)>, DbErr> {
    let mut found = HashMap::new();
    for chunk in tenants.chunks(IDS_PER_QUERY) {
        let rows: Vec<(String, NaiveDate, f64, Option<i64>)> = daily_score::Entity::find()
            .select_only()
            .column(daily_score::Column::TenantId)
            .column(daily_score::Column::Date)
            .column(daily_score::Column::Percentage)
            .column(daily_score::Column::SnapshotId)
            .filter(daily_score::Column::TenantId.is_in(chunk.iter().cloned()))
            .filter(daily_score::Column::Date.between(from, to))
            .into_tuple()
            .all(txn)
            .await?;
        found.extend(rows.into_iter().map(|(t, d, p, s)| ((t, d), (p, s))));
    }
    Ok(found)
}

/// The window of audit events behind a day's regressions: after the day before's snapshot, up
/// to the day's.
fn change_window(
    day: &ScoredDay,
    stored: &HashMap<(String, NaiveDate), (f64, Option<i64>)>,
) -> Option<ChangeWindow> {
    let previous = day.date - Duration::days(1);
    let (_, before) = stored.get(&(day.tenant_id.clone(), previous))?;
    Some(ChangeWindow {
        tenant_id: day.tenant_id.clone(),
        after_snapshot: (*before)?,
        upto_snapshot: day.snapshot_id,
    })
}

/// The stored action results of `tenants` over `from..=to`, per tenant-day.
async fn stored_actions(
    txn: &DatabaseTransaction,
    tenants: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<(String, NaiveDate), Vec<ScoredAction>>, DbErr> {
    let mut found: HashMap<(String, NaiveDate), Vec<ScoredAction>> = HashMap::new();
    for chunk in tenants.chunks(IDS_PER_QUERY) {
        let days = day_sets()
            .and_where(Expr::col(daily_score::Column::TenantId).is_in(chunk.iter().cloned()))
            .and_where(Expr::col(daily_score::Column::Date).between(from, to))
            .to_owned();
        for (day, results) in results_of_days(txn, days).await? {
            found.insert(day, results.iter().map(to_scored_action).collect());
        }
    }
    Ok(found)
}

/// (rule, date) pairs that already have their alert.
async fn existing_alerts(
    txn: &DatabaseTransaction,
    rule_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashSet<(i64, NaiveDate)>, DbErr> {
    let mut found = HashSet::new();
    for chunk in rule_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, NaiveDate)> = alert::Entity::find()
            .select_only()
            .column(alert::Column::RuleId)
            .column(alert::Column::Date)
            .filter(alert::Column::RuleId.is_in(chunk.iter().copied()))
            .filter(alert::Column::Date.between(from, to))
            .into_tuple()
            .all(txn)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// A pending delivery of each recent alert to each enabled endpoint of its tenant, due now.
async fn enqueue_deliveries(
    txn: &DatabaseTransaction,
    raised: &[(alert::Model, &alert_rule::Model)],
) -> Result<(), DbErr> {
    let now = Utc::now();
    let horizon = now.date_naive() - Duration::days(DELIVERY_HORIZON_DAYS);
    // Each body rendered once, for every endpoint and every attempt.
    let recent: Vec<(&alert::Model, String)> = raised
        .iter()
        .filter(|(alert, _)| alert.date >= horizon)
        .map(|(alert, rule)| (alert, alert_body(alert, rule)))
        .collect();
    let tenants: BTreeSet<&str> = recent.iter().map(|(a, _)| a.tenant_id.as_str()).collect();
    if tenants.is_empty() {
        return Ok(());
    }
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.is_in(tenants))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .all(txn)
        .await?;
    let rows: Vec<webhook_delivery::ActiveModel> = recent
        .iter()
        .flat_map(|(alert, body)| {
            endpoints
                .iter()
                .filter(|e| e.tenant_id == alert.tenant_id)
                .map(|endpoint| webhook_delivery::ActiveModel {
                    endpoint_id: Set(endpoint.id),
                    alert_id: Set(alert.id),
                    status: Set(DeliveryStatus::Pending),
                    attempts: Set(0),
                    next_attempt_at: Set(Some(now)),
                    last_attempt_at: Set(None),
                    last_response_status: Set(None),
                    last_error: Set(None),
                    claimed_until: Set(None),
                    claim_token: Set(None),
                    created_at: Set(now),
                    body: Set(Some(body.clone())),
                    ..Default::default()
                })
        })
        .collect();
    if !rows.is_empty() {
        let queued = rows.len() as u64;
        webhook_delivery::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        // Counted before the commit: a rolled-back write over-counts, never under-counts.
        crate::telemetry::count_delivery(DeliveryStatus::Pending, queued);
    }
    Ok(())
}
