//! `AlertRule` and `Alert`.

use async_graphql::{Context, ID, Object};
use entity::{alert, alert_rule};

use super::connection::connection_types;
use super::diff::ActionChange;
use crate::domain::AlertKind;
use crate::graphql::loaders::load_rule;
use crate::graphql::scalars::{Date, DateTime};
use crate::scoring::diff;

connection_types!(AlertConnection, AlertEdge, Alert, "alerts");

/// A tenant's rule for raising alerts on its scores.
pub struct AlertRule(pub alert_rule::Model);

/// A tenant's rule for raising alerts on its scores, evaluated whenever a date's scores are
/// written (live today and at close).
#[Object]
impl AlertRule {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant watched.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// What is watched.
    async fn kind(&self) -> AlertKind {
        self.0.kind
    }

    /// BELOW_PERCENTAGE: the percentage under which it fires; DROP: the points the percentage
    /// must fall by; null for REGRESSION.
    async fn threshold(&self) -> Option<f64> {
        self.0.threshold
    }

    /// DROP compares with this many days before (1 to 90); 1 for the other kinds.
    async fn window_days(&self) -> i32 {
        self.0.window_days
    }

    /// Whether it is evaluated.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Who created it (the token's `sub`).
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// An alert a rule raised for one date.
pub struct Alert(pub alert::Model);

/// An alert a rule raised for one date: at most one per rule and date.
#[Object]
impl Alert {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant.
    async fn tenant_id(&self) -> ID {
        ID(self.0.tenant_id.clone())
    }

    /// The rule that fired (still shown after it was deleted).
    async fn rule(&self, ctx: &Context<'_>) -> async_graphql::Result<AlertRule> {
        Ok(AlertRule(load_rule(ctx, self.0.rule_id).await?))
    }

    /// The scored date.
    async fn date(&self) -> Date {
        Date(self.0.date)
    }

    /// When it was raised.
    async fn raised_at(&self) -> DateTime {
        DateTime(self.0.raised_at)
    }

    /// The percentage compared with: `windowDays` before for DROP, the day before otherwise;
    /// null when that day has no score.
    async fn percentage_before(&self) -> Option<f64> {
        self.0.percentage_before
    }

    /// The date's percentage.
    async fn percentage_after(&self) -> f64 {
        self.0.percentage_after
    }

    /// The actions that lost points against the day before, largest loss first.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn regressions(&self) -> async_graphql::Result<Vec<ActionChange>> {
        let changes: Vec<diff::ActionChange> = serde_json::from_value(self.0.regressions.clone())
            .map_err(|e| {
            crate::error::ApiError::Internal(format!("alert {} regressions: {e}", self.0.id))
        })?;
        Ok(changes.into_iter().map(ActionChange).collect())
    }

    /// The action whose plan became overdue (PLAN_OVERDUE); null for the other kinds.
    async fn overdue_action(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::action::ImprovementAction>> {
        if self.0.subject.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            crate::graphql::loaders::load_action(ctx, &self.0.subject)
                .await?
                .into(),
        ))
    }

    /// Who acknowledged it.
    async fn acknowledged_by(&self) -> Option<&str> {
        self.0.acknowledged_by.as_deref()
    }

    /// When it was acknowledged.
    async fn acknowledged_at(&self) -> Option<DateTime> {
        self.0.acknowledged_at.map(DateTime)
    }
}
