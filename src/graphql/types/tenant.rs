//! `Tenant` and everything read through it; each field checks the caller's right to read.

use async_graphql::{Context, ID, Object};
use entity::tenant;

use super::alerts::{Alert, AlertConnection, AlertRule};
use super::comparison::ComparativeScore;
use super::connection::connection_types;
use super::diff::ScoreDiff;
use super::directory::{CollectionRun, CollectionRunConnection, GraphConnection};
use super::directory_change::{DirectoryChange, DirectoryChangeConnection};
use super::overrides::ActionOverride;
use super::planning::{
    ActionPlan, ActionPlanConnection, ForecastPoint, TrendPoint, status_of, statuses_today,
};
use super::score::{ActionScore, DailyScore, mappings_of};
use super::snapshot::Snapshot;
use super::webhooks::WebhookEndpoint;
use super::{ActionOverrideConnection, SnapshotConnection};
use crate::auth::Operation;
use crate::domain::{ActionCategory, ActionStatus};
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::{
    TenantDay, load_action_scores, load_connection, load_plans, load_score, newest_day_read,
};
use crate::graphql::prefetch::prefetch_action_scores_if_selected;
use crate::graphql::scalars::{Date, DateTime};
use crate::scoring::planning::{self, PlanStatus, ScoreZones};
use crate::scoring::rank_improvements;
use crate::scoring::trends::{self as trend_points, TrendPeriod};
use crate::service::daily_scores::DateRange;
use crate::service::estate::{MAX_CHANGE_DAYS, days_before};
use crate::service::tenants::Visibility;
use crate::service::{
    alerts, comparisons, connections, directory_changes, emergency_access, overrides, plans,
    score_reads, snapshots, tenants, trends, webhooks,
};

connection_types!(TenantConnection, TenantEdge, Tenant, "tenants");

/// An organisation being scored.
pub struct Tenant(pub tenant::Model);

impl From<tenant::Model> for Tenant {
    fn from(row: tenant::Model) -> Self {
        Tenant(row)
    }
}

impl Tenant {
    /// Checks that the caller may read this tenant's data and hands out the database.
    fn readable<'c>(&self, ctx: &'c Context<'_>) -> ApiResult<&'c sea_orm::DatabaseConnection> {
        ctx.viewer()?
            .require_on_tenant(Operation::ReadTenantData, &self.0.id)?;
        ctx.db()
    }
}

/// An organisation being scored.
#[Object]
impl Tenant {
    /// Stable id chosen at creation (a GUID or slug), also used in tokens.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Free-text industry, e.g. `Finance`.
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }

    /// Licensed users.
    async fn seat_count(&self) -> i32 {
        self.0.seat_count
    }

    /// When the tenant was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// Latest percentage minus the percentage `days` before the latest date; null when either
    /// day has no score.
    async fn percentage_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "crate::service::estate::DEFAULT_CHANGE_DAYS",
            desc = "Days back, 1 to 366."
        )]
        days: i32,
    ) -> async_graphql::Result<Option<f64>> {
        self.readable(ctx)?;
        if !(1..=MAX_CHANGE_DAYS).contains(&days) {
            return Err(ApiError::BadUserInput(format!(
                "days must be from 1 to {MAX_CHANGE_DAYS}"
            ))
            .into());
        }
        let Some(latest) = load_score(ctx, &self.0.id, None).await? else {
            return Ok(None);
        };
        let earlier = load_score(ctx, &self.0.id, Some(days_before(latest.date, days))).await?;
        Ok(earlier.map(|earlier| latest.percentage - earlier.percentage))
    }

    /// The percentage the tenant's admins aim for (0 to 100); null when none is set.
    async fn goal(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        self.readable(ctx)?;
        Ok(self.0.goal)
    }

    /// The score on `date`, or the latest when `date` is omitted; null when none is stored.
    async fn score(
        &self,
        ctx: &Context<'_>,
        date: Option<Date>,
    ) -> async_graphql::Result<Option<DailyScore>> {
        self.readable(ctx)?;
        let row = load_score(ctx, &self.0.id, date.map(|d| d.0)).await?;
        Ok(row.map(DailyScore::from))
    }

    /// Stored scores from `from` to `to` (at most 366 days), ascending; missing days are absent.
    #[graphql(complexity = "crate::graphql::cost::days(&from, &to, child_complexity)")]
    async fn score_history(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<Vec<DailyScore>> {
        let db = self.readable(ctx)?;
        let range = DateRange::parse(from.0, to.0)?;
        let cache = ctx.pipeline()?.score_cache();
        let newest = newest_day_read(ctx, &self.0.id)?;
        let newest = newest.as_ref().map(Option::as_ref);
        let rows = score_reads::score_history(db, cache, &self.0.id, range, newest).await?;
        let days = rows.iter().map(|day| TenantDay::of(day)).collect();
        prefetch_action_scores_if_selected(ctx, days).await?;
        Ok(rows.into_iter().map(DailyScore::from).collect())
    }

    /// Why the score moved between two stored dates; a missing day is NOT_FOUND naming it.
    async fn score_diff(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<ScoreDiff> {
        let db = self.readable(ctx)?;
        Ok(ScoreDiff(
            score_reads::score_diff(db, ctx.pipeline()?.score_cache(), &self.0.id, from.0, to.0)
                .await?,
        ))
    }

    /// The three comparison bases for this tenant's groups on `date` (latest score's date when
    /// omitted); empty when the tenant has no score.
    async fn comparison(
        &self,
        ctx: &Context<'_>,
        date: Option<Date>,
    ) -> async_graphql::Result<Vec<ComparativeScore>> {
        let db = self.readable(ctx)?;
        let date = match date {
            Some(d) => Some(d.0),
            None => load_score(ctx, &self.0.id, None).await?.map(|s| s.date),
        };
        let Some(date) = date else {
            return Ok(Vec::new());
        };
        let min_tenants = ctx.scoring()?.comparison_min_tenants;
        let viewer = ctx.viewer()?;
        let reach = Visibility::of(viewer, Operation::ReadTenantData);
        let cache = ctx.pipeline()?.reference_cache();
        let rows =
            comparisons::tenant_comparison(db, cache, &self.0, date, min_tenants, &reach).await?;
        Ok(rows.into_iter().map(ComparativeScore::from).collect())
    }

    /// Actions with points left on `date` (latest when omitted), largest potential increase first
    /// (ties by action id), optionally only one category, status or compliance framework (the
    /// actions the catalog maps to it); with `includeCompleted`, the actions with no points left
    /// follow, so every action is ranked.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn improvement_actions(
        &self,
        ctx: &Context<'_>,
        date: Option<Date>,
        category: Option<ActionCategory>,
        status: Option<ActionStatus>,
        #[graphql(default = false)] include_completed: bool,
        framework: Option<String>,
    ) -> async_graphql::Result<Vec<ActionScore>> {
        self.readable(ctx)?;
        let Some(day) = load_score(ctx, &self.0.id, date.map(|d| d.0)).await? else {
            return Ok(Vec::new());
        };
        let mut rows: Vec<ActionScore> = DailyScore(day)
            .action_rows(ctx)
            .await?
            .into_iter()
            .filter(|a| category.is_none_or(|c| a.row.category == c))
            .filter(|a| status.is_none_or(|s| a.row.status == s))
            .collect();
        if let Some(framework) = &framework {
            let mappings = mappings_of(ctx, &rows).await?;
            let mut mapped = mappings
                .iter()
                .map(|m| m.iter().any(|m| &m.framework == framework));
            rows.retain(|_| mapped.next().unwrap_or(false));
        }
        let candidates = rows.into_iter();
        Ok(rank_improvements(
            candidates,
            ActionScore::points_left,
            |a| a.row.action_id.as_str(),
            include_completed,
        ))
    }

    /// Current override states that are not DEFAULT, by action id.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn overrides(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ActionOverride>> {
        let db = self.readable(ctx)?;
        let rows = overrides::current_overrides(db, &self.0.id).await?;
        Ok(rows.into_iter().map(ActionOverride::from).collect())
    }

    /// Every override change, newest first, optionally for one action.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn override_history(
        &self,
        ctx: &Context<'_>,
        action_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ActionOverrideConnection> {
        let db = self.readable(ctx)?;
        let page = overrides::override_history_page(
            db,
            &self.0.id,
            action_id.as_ref().map(|id| id.as_str()),
            first,
            after.as_deref(),
        )
        .await?;
        let entries: Vec<_> = page.items.iter().map(|(_, row)| row).collect();
        let replaced = overrides::replaced_at(db, &entries).await?;
        Ok(page
            .map(|row| {
                let at = replaced.get(&row.id).copied();
                ActionOverride::replaced(row, at)
            })
            .into())
    }

    /// The tenant's plans, due date ascending (undated last); optionally only one status,
    /// owner or tag.
    #[graphql(complexity = "crate::graphql::cost::actions(child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        status: Option<PlanStatus>,
        assigned_to: Option<String>,
        tag: Option<String>,
    ) -> async_graphql::Result<Vec<ActionPlan>> {
        self.readable(ctx)?;
        let statuses = statuses_today(ctx, &self.0.id).await?;
        let mut plans = load_plans(ctx, &self.0.id).await?;
        plans::sort_plans(&mut plans);
        let mut shown = Vec::new();
        for plan in plans {
            if assigned_to
                .as_ref()
                .is_some_and(|a| plan.assigned_to.as_ref() != Some(a))
            {
                continue;
            }
            if let Some(tag) = &tag
                && !plans::stored_tags(&plan.tags)?.contains(tag)
            {
                continue;
            }
            let plan_status = status_of(&statuses, &plan.action_id, plan.due_date);
            if status.is_some_and(|s| s != plan_status) {
                continue;
            }
            shown.push(ActionPlan::current(plan, plan_status));
        }
        Ok(shown)
    }

    /// Every change of the tenant's plans, newest first, optionally one action's; a cleared
    /// plan shows as an entry with `cleared` true.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn plan_history(
        &self,
        ctx: &Context<'_>,
        action_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ActionPlanConnection> {
        let db = self.readable(ctx)?;
        let page = plans::plan_history_page(
            db,
            &self.0.id,
            action_id.as_ref().map(|id| id.as_str()),
            first,
            after.as_deref(),
        )
        .await?;
        let statuses = statuses_today(ctx, &self.0.id).await?;
        Ok(page
            .map(|row| {
                let status = status_of(&statuses, &row.action_id, row.due_date);
                ActionPlan::change(row, status)
            })
            .into())
    }

    /// The score the plans lead to, one point per date from tomorrow to `to` (at most 366
    /// days ahead); empty while today has no score.
    #[graphql(complexity = "crate::graphql::cost::days_ahead(&to, child_complexity)")]
    async fn forecast(
        &self,
        ctx: &Context<'_>,
        to: Date,
    ) -> async_graphql::Result<Vec<ForecastPoint>> {
        self.readable(ctx)?;
        let today = chrono::Utc::now().date_naive();
        if to.0 <= today || (to.0 - today).num_days() > planning::MAX_PLANNING_DAYS {
            return Err(ApiError::BadUserInput(format!(
                "to must lie 1 to {} days after today ({today})",
                planning::MAX_PLANNING_DAYS
            ))
            .into());
        }
        let Some(day) = load_score(ctx, &self.0.id, Some(today)).await? else {
            return Ok(Vec::new());
        };
        let rows = load_action_scores(ctx, TenantDay::of(&day)).await?;
        let left: std::collections::HashMap<&str, (f64, crate::domain::ActionStatus)> = rows
            .iter()
            .map(|r| (r.action_id.as_str(), (r.max_score - r.score, r.status)))
            .collect();
        let planned: Vec<planning::PlannedPoints> = load_plans(ctx, &self.0.id)
            .await?
            .iter()
            .map(|plan| {
                let (points_left, status) = left
                    .get(plan.action_id.as_str())
                    .map_or((0.0, None), |(p, s)| (*p, Some(*s)));
                planning::PlannedPoints {
                    due: plan.due_date,
                    points_left,
                    status: planning::plan_status(status, plan.due_date, today),
                }
            })
            .collect();
        Ok(
            planning::forecast(today, to.0, day.score, day.max_score, &planned)
                .into_iter()
                .map(ForecastPoint::from)
                .collect(),
        )
    }

    /// How each period of `[from, to]` (at most 366 days) went: points achieved and
    /// regressed between consecutive stored days, regressions, risk-accepted points, and the
    /// percentage at the period's end.
    #[graphql(complexity = "crate::graphql::cost::days(&from, &to, child_complexity)")]
    async fn trends(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        #[graphql(default_with = "TrendPeriod::Week")] period: TrendPeriod,
    ) -> async_graphql::Result<Vec<TrendPoint>> {
        let db = self.readable(ctx)?;
        let range = DateRange::parse(from.0, to.0)?;
        let cache = ctx.pipeline()?.score_cache();
        let days = trends::trend_days(db, cache, &self.0.id, range).await?;
        Ok(trend_points::trends(&days, from.0, to.0, period)
            .into_iter()
            .map(Into::<TrendPoint>::into)
            .collect())
    }

    /// The score zone thresholds (GOOD from `good`, FAIR from `fair`).
    async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<ScoreZones> {
        self.readable(ctx)?;
        Ok(tenants::zones_of(&self.0))
    }

    /// The tenant's alert rules, oldest first.
    async fn alert_rules(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AlertRule>> {
        let db = self.readable(ctx)?;
        Ok(alerts::rules_of(db, &self.0.id)
            .await?
            .into_iter()
            .map(AlertRule)
            .collect())
    }

    /// The tenant's alerts, newest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only alerts nobody acknowledged yet.", default = false)]
        unacknowledged_only: bool,
    ) -> async_graphql::Result<AlertConnection> {
        let db = self.readable(ctx)?;
        let page = alerts::alert_page(db, &self.0.id, first, after.as_deref(), unacknowledged_only)
            .await?;
        Ok(page.map(Alert).into())
    }

    /// The tenant's webhook endpoints, oldest first.
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookEndpoint>> {
        let db = self.readable(ctx)?;
        Ok(webhooks::endpoints_of(db, &self.0.id)
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    /// The tenant's Microsoft Entra directory connection; null when none.
    async fn graph_connection(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<GraphConnection>> {
        ctx.viewer()?
            .require_on_tenant(Operation::ReadConnections, &self.0.id)?;
        Ok(load_connection(ctx, &self.0.id).await?.map(GraphConnection))
    }

    /// The tenant's emergency access accounts (Entra user object ids): left out of every
    /// coverage fact the connector computes, and scored on their own.
    async fn emergency_access_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<String>> {
        ctx.viewer()?
            .require_on_tenant(Operation::ReadConnections, &self.0.id)?;
        Ok(emergency_access::emergency_accounts_of(&self.0)?)
    }

    /// Collections of the tenant's directory, newest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn collection_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CollectionRunConnection> {
        ctx.viewer()?
            .require_on_tenant(Operation::ReadConnections, &self.0.id)?;
        let page =
            connections::collection_page(ctx.db()?, &self.0.id, first, after.as_deref()).await?;
        Ok(page.map(CollectionRun::from).into())
    }

    /// The directory's audit events that collections kept because they can move a catalog
    /// action, logged from `from` to `to` (both included), newest first (readers of the
    /// tenant's scores; the events name people).
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn directory_changes(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<DirectoryChangeConnection> {
        let db = self.readable(ctx)?;
        let page =
            directory_changes::change_page(db, &self.0.id, from.0, to.0, first, after.as_deref())
                .await?;
        Ok(page.map(DirectoryChange::from).into())
    }

    /// Snapshots, newest capture first.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<SnapshotConnection> {
        let db = self.readable(ctx)?;
        let page = snapshots::snapshot_page(db, &self.0.id, first, after.as_deref()).await?;
        Ok(page.map(Snapshot::from).into())
    }
}
