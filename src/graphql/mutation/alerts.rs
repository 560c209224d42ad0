//! Alert rules and acknowledgements (GLOBAL_ADMIN, SECURITY_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::domain::AlertKind;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
use crate::graphql::types::alerts::{Alert, AlertRule};
use crate::scoring::alerts::RuleSettings;
use crate::service::alerts::{self, NewRule, RuleChange};
use crate::service::tenants;

/// A new alert rule.
#[derive(InputObject)]
pub struct CreateAlertRuleInput {
    /// The tenant watched.
    pub tenant_id: ID,
    /// What is watched.
    pub kind: AlertKind,
    /// 0 to 100: the percentage for BELOW_PERCENTAGE, the points of the fall for DROP (above
    /// 0); none for REGRESSION.
    pub threshold: Option<f64>,
    /// DROP: days back to compare with, 1 to 90; 1 for the other kinds.
    #[graphql(default = 1)]
    pub window_days: i32,
    /// Whether it is evaluated.
    #[graphql(default = true)]
    pub enabled: bool,
}

/// Changes to an alert rule; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateAlertRuleInput {
    /// The rule.
    pub id: ID,
    /// New threshold.
    pub threshold: Option<f64>,
    /// New window (DROP only).
    pub window_days: Option<i32>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// Alert rules and acknowledgements.
#[derive(Default)]
pub struct AlertMutation;

/// The rule `id` if it exists within the caller's reach; NOT_FOUND otherwise.
async fn reachable_rule(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<entity::alert_rule::Model> {
    let viewer = ctx.viewer()?;
    viewer.require(Operation::ManageAlerts)?;
    let rule = alerts::find_rule(ctx.db()?, id).await?;
    viewer.require_on_record(Operation::ManageAlerts, &rule.tenant_id, || {
        ApiError::record_not_found("alert rule", id)
    })?;
    Ok(rule)
}

#[Object]
impl AlertMutation {
    /// Creates an alert rule (GLOBAL_ADMIN, SECURITY_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn create_alert_rule(
        &self,
        ctx: &Context<'_>,
        input: CreateAlertRuleInput,
    ) -> async_graphql::Result<AlertRule> {
        let viewer = ctx.viewer()?;
        viewer.require_on_tenant(Operation::ManageAlerts, &input.tenant_id)?;
        let db = ctx.db()?;
        tenants::find_tenant(db, &input.tenant_id)
            .await?
            .ok_or_else(|| ApiError::tenant_not_found(&input.tenant_id))?;
        let rule = alerts::create_rule(
            db,
            NewRule {
                tenant_id: input.tenant_id.0,
                settings: RuleSettings {
                    kind: input.kind,
                    threshold: input.threshold,
                    window_days: input.window_days,
                },
                enabled: input.enabled,
                created_by: viewer.subject.clone(),
            },
        )
        .await?;
        Ok(AlertRule(rule))
    }

    /// Changes an alert rule (GLOBAL_ADMIN, SECURITY_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn update_alert_rule(
        &self,
        ctx: &Context<'_>,
        input: UpdateAlertRuleInput,
    ) -> async_graphql::Result<AlertRule> {
        let rule = reachable_rule(ctx, &input.id).await?;
        let change = RuleChange {
            threshold: input.threshold,
            window_days: input.window_days,
            enabled: input.enabled,
        };
        Ok(AlertRule(
            alerts::update_rule(ctx.db()?, rule, change).await?,
        ))
    }

    /// Deletes an alert rule; its alerts stay (GLOBAL_ADMIN, SECURITY_ADMIN). Answers its id.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn delete_alert_rule(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let rule = reachable_rule(ctx, &id).await?;
        alerts::delete_rule(ctx.db()?, rule).await?;
        Ok(id)
    }

    /// Acknowledges an alert; acknowledging it again changes nothing
    /// (GLOBAL_ADMIN, SECURITY_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn acknowledge_alert(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Alert> {
        let viewer = ctx.viewer()?;
        viewer.require(Operation::ManageAlerts)?;
        let db = ctx.db()?;
        let alert = alerts::find_alert(db, &id).await?;
        viewer.require_on_record(Operation::ManageAlerts, &alert.tenant_id, || {
            ApiError::record_not_found("alert", &id)
        })?;
        Ok(Alert(
            alerts::acknowledge(db, alert, &viewer.subject).await?,
        ))
    }
}
