//! The body of an alert's webhook: rendered once, when the alert is raised, and stored with
//! each delivery, so every attempt of one `webhook-id` sends the same bytes.

use entity::{alert, alert_rule};
use serde_json::json;

use crate::scoring::diff::ActionChange;

/// The event type of an alert.
pub const ALERT_RAISED: &str = "securescore.alert.raised";

/// The JSON body of an alert's delivery; its `timestamp` is when the alert was raised.
pub fn alert_body(alert: &alert::Model, rule: &alert_rule::Model) -> String {
    let regressions: Vec<ActionChange> =
        serde_json::from_value(alert.regressions.clone()).unwrap_or_default();
    let raised_at = alert
        .raised_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "type": ALERT_RAISED,
        "timestamp": raised_at,
        "data": {
            "alertId": alert.id.to_string(),
            "tenantId": alert.tenant_id,
            "ruleId": rule.id.to_string(),
            "kind": rule.kind.as_str(),
            "threshold": rule.threshold,
            "windowDays": rule.window_days,
            "date": alert.date.to_string(),
            "percentageBefore": alert.percentage_before,
            "percentageAfter": alert.percentage_after,
            "overdueActionId": (!alert.subject.is_empty()).then_some(&alert.subject),
            "regressions": regressions.iter().map(|c| json!({
                "actionId": c.action_id,
                "scoreDelta": c.score_delta,
                "reasons": c.reasons,
                "directoryChanges": c.directory_changes.as_deref().unwrap_or_default(),
            })).collect::<Vec<_>>(),
            "raisedAt": raised_at,
        }
    })
    .to_string()
}
