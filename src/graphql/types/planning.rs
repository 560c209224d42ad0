//! `ActionPlan`, `ForecastPoint` and `TrendPoint`: what admins plan and how it went.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{NaiveDate, Utc};
use entity::{action_plan, action_plan_change};

use super::action::ImprovementAction;
use super::connection::connection_types;
use crate::domain::ActionStatus;
use crate::error::ApiResult;
use crate::graphql::loaders::{TenantDay, load_action, load_action_scores, load_score};
use crate::graphql::scalars::{Date, DateTime};
use crate::scoring::planning::{self, PlanStatus};
use crate::service::plans::stored_tags;

connection_types!(
    ActionPlanConnection,
    ActionPlanEdge,
    ActionPlan,
    "plan changes"
);

/// A plan, current or as one change of the history left it.
pub struct ActionPlan {
    tenant_id: String,
    action_id: String,
    assigned_to: Option<String>,
    due_date: Option<NaiveDate>,
    notes: Option<String>,
    tags: serde_json::Value,
    cleared: bool,
    status: PlanStatus,
    updated_by: String,
    updated_at: chrono::DateTime<Utc>,
}

impl ActionPlan {
    /// A current plan, with its status today.
    pub fn current(row: action_plan::Model, status: PlanStatus) -> ActionPlan {
        ActionPlan {
            tenant_id: row.tenant_id,
            action_id: row.action_id,
            assigned_to: row.assigned_to,
            due_date: row.due_date,
            notes: row.notes,
            tags: row.tags,
            cleared: false,
            status,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
        }
    }

    /// A change of the history, with the status today of what it set.
    pub fn change(row: action_plan_change::Model, status: PlanStatus) -> ActionPlan {
        ActionPlan {
            tenant_id: row.tenant_id,
            action_id: row.action_id,
            assigned_to: row.assigned_to,
            due_date: row.due_date,
            notes: row.notes,
            tags: row.tags,
            cleared: row.cleared,
            status,
            updated_by: row.changed_by,
            updated_at: row.changed_at,
        }
    }
}

/// An owner, a due date, notes and tags for one action of a tenant.
#[Object]
impl ActionPlan {
    /// The tenant.
    async fn tenant_id(&self) -> ID {
        ID(self.tenant_id.clone())
    }

    /// The catalog action.
    async fn action(&self, ctx: &Context<'_>) -> async_graphql::Result<ImprovementAction> {
        Ok(load_action(ctx, &self.action_id).await?.into())
    }

    /// Who owns it (free text, e.g. an address).
    async fn assigned_to(&self) -> Option<&str> {
        self.assigned_to.as_deref()
    }

    /// When it is due.
    async fn due_date(&self) -> Option<Date> {
        self.due_date.map(Date)
    }

    /// Notes.
    async fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// Tags.
    async fn tags(&self) -> async_graphql::Result<Vec<String>> {
        Ok(stored_tags(&self.tags)?)
    }

    /// COMPLETED when today's score has the action COMPLETED or THIRD_PARTY; otherwise
    /// OVERDUE once the due date has passed; otherwise OPEN.
    async fn status(&self) -> PlanStatus {
        self.status
    }

    /// True for the history entry that cleared the plan.
    async fn cleared(&self) -> bool {
        self.cleared
    }

    /// Who set it.
    async fn updated_by(&self) -> &str {
        &self.updated_by
    }

    /// When.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.updated_at)
    }
}

/// Each action's status in a tenant's score of today (empty when today is not scored yet),
/// through the request's batch.
pub async fn statuses_today(
    ctx: &Context<'_>,
    tenant_id: &str,
) -> ApiResult<HashMap<String, ActionStatus>> {
    let today = Utc::now().date_naive();
    let Some(day) = load_score(ctx, tenant_id, Some(today)).await? else {
        return Ok(HashMap::new());
    };
    Ok(load_action_scores(ctx, TenantDay::of(&day))
        .await?
        .iter()
        .map(|row| (row.action_id.clone(), row.status))
        .collect())
}

/// A plan's status today, from today's statuses.
pub fn status_of(
    statuses: &HashMap<String, ActionStatus>,
    action_id: &str,
    due: Option<NaiveDate>,
) -> PlanStatus {
    planning::plan_status(
        statuses.get(action_id).copied(),
        due,
        Utc::now().date_naive(),
    )
}

/// The score a tenant's plans lead to on one date.
#[derive(SimpleObject)]
pub struct ForecastPoint {
    /// The date.
    pub date: Date,
    /// Today's score plus the points of the plans due by then.
    pub score: f64,
    /// Today's maximum.
    pub max_score: f64,
    /// `100 × score / maxScore`.
    pub percentage: f64,
}

impl From<planning::ForecastPoint> for ForecastPoint {
    fn from(point: planning::ForecastPoint) -> Self {
        ForecastPoint {
            date: Date(point.date),
            score: point.score,
            max_score: point.max_score,
            percentage: point.percentage,
        }
    }
}

/// How one period of the history went.
#[derive(SimpleObject)]
pub struct TrendPoint {
    /// First date of the period.
    pub from: Date,
    /// Last date of the period.
    pub to: Date,
    /// Sum of the actions' positive score changes between consecutive stored days.
    pub points_achieved: f64,
    /// Sum of their negative changes, as a positive number.
    pub points_regressed: f64,
    /// How many changes lost points.
    pub regressed_actions: i32,
    /// Maxima of the RISK_ACCEPTED actions on the period's last stored day.
    pub risk_accepted_points: f64,
    /// The percentage of the period's last stored day; null without a stored day.
    pub percentage_at_end: Option<f64>,
}

impl From<crate::scoring::trends::TrendPoint> for TrendPoint {
    fn from(point: crate::scoring::trends::TrendPoint) -> Self {
        TrendPoint {
            from: Date(point.from),
            to: Date(point.to),
            points_achieved: point.points_achieved,
            points_regressed: point.points_regressed,
            regressed_actions: point.regressed_actions,
            risk_accepted_points: point.risk_accepted_points,
            percentage_at_end: point.percentage_at_end,
        }
    }
}
