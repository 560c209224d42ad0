//! Subscription root: live updates over WebSocket (`graphql-transport-ws` at `/graphql`). Each
//! subscription checks the caller like the matching query, then listens to the event bus and
//! loads, for every event of its tenant or run, what the caller may see.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Context, ID, Subscription};
use chrono::NaiveDate;
use futures::Stream;
use futures::stream::{self, BoxStream, StreamExt};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::context::ContextExt;
use super::runs_query::visibility;
use super::types::alerts::Alert;
use super::types::run::ScoringRun;
use super::types::score::DailyScore;
use crate::auth::{Operation, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::service::daily_scores::DateRange;
use crate::service::score_cache::ScoreCache;
use crate::service::{alerts, runs, score_reads, tenants};

/// Most subscriptions one WebSocket connection may hold at once.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 20;

/// The subscriptions a connection holds, in its connection data.
#[derive(Clone, Default)]
pub struct ConnectionSlots(Arc<AtomicUsize>);

/// One subscription's place among its connection's; freed when the subscription ends.
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a place for a new subscription, or refuses one past the limit.
fn take_slot(ctx: &Context<'_>) -> ApiResult<Slot> {
    let slots = ctx
        .data_opt::<ConnectionSlots>()
        .ok_or_else(|| ApiError::BadUserInput("subscriptions are served over WebSocket".into()))?;
    let held = slots.0.fetch_add(1, Ordering::SeqCst);
    let slot = Slot(slots.0.clone());
    if held >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
        return Err(ApiError::BadUserInput(format!(
            "a connection may hold at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions"
        )));
    }
    Ok(slot)
}

/// Checks that the caller may read `tenant_id` and that it exists (a tenant out of reach
/// answers exactly like a missing one).
async fn readable_tenant(ctx: &Context<'_>, tenant_id: &str) -> ApiResult<Viewer> {
    let viewer = ctx.viewer()?.clone();
    viewer.require_on_tenant(Operation::ReadTenantData, tenant_id)?;
    tenants::find_tenant(ctx.db()?, tenant_id)
        .await?
        .ok_or_else(|| ApiError::tenant_not_found(tenant_id))?;
    Ok(viewer)
}

/// Turns the bus into a stream of events, skipping ahead when the subscriber fell behind.
fn events(receiver: Receiver<Arc<Event>>, slot: Slot) -> impl Stream<Item = Arc<Event>> {
    stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, (receiver, slot))),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind; events skipped");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// Live updates.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates over WebSocket at `/graphql` (`graphql-transport-ws`; the bearer token goes in
/// `connection_init`'s payload as `{"Authorization": "Bearer …"}`).
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// A tenant's score each time one of its days is written: today as it is rescored live,
    /// and every day a close or recomputation writes (same roles as reading scores).
    async fn score_updated(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<DailyScore>>> {
        let viewer = readable_tenant(ctx, &tenant_id).await?;
        let slot = take_slot(ctx)?;
        let db = ctx.db()?.clone();
        let tenant = tenant_id.0;
        let written = events(ctx.pipeline()?.events().subscribe(), slot).filter_map(move |event| {
            let tenant = tenant.clone();
            std::future::ready(match &*event {
                Event::ScoresWritten { tenants, from, to } if tenants.contains(&tenant) => {
                    Some((tenant, *from, *to))
                }
                _ => None,
            })
        });
        Ok(written
            .then(move |(tenant, from, to)| {
                let (db, viewer) = (db.clone(), viewer.clone());
                async move { days_written(&db, &viewer, &tenant, from, to).await }
            })
            .flat_map(stream::iter))
    }

    /// A tenant's alerts as they are raised (same roles as reading alerts).
    async fn alert_raised(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Alert>>> {
        let viewer = readable_tenant(ctx, &tenant_id).await?;
        let slot = take_slot(ctx)?;
        let db = ctx.db()?.clone();
        let tenant = tenant_id.0;
        Ok(
            events(ctx.pipeline()?.events().subscribe(), slot).filter_map(move |event| {
                let (db, viewer, tenant) = (db.clone(), viewer.clone(), tenant.clone());
                async move {
                    match &*event {
                        Event::AlertRaised {
                            tenant_id,
                            alert_id,
                        } if *tenant_id == tenant => Some(
                            async {
                                viewer.require_on_tenant(Operation::ReadTenantData, &tenant)?;
                                let alert = alerts::find_alert(&db, &alert_id.to_string()).await?;
                                Ok(Alert(alert))
                            }
                            .await,
                        ),
                        _ => None,
                    }
                }
            }),
        )
    }

    /// A scoring run each time its status or counts change, until it finishes (visible to its
    /// requester and to PLATFORM_ADMINs, as `scoringRun`).
    async fn scoring_run_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<ScoringRun>>> {
        let visible = visibility(ctx)?;
        let missing = || ApiError::record_not_found("scoring run", &id);
        let run_id: i64 = id.parse().map_err(|_| missing())?;
        let db = ctx.db()?.clone();
        // Listening before reading, so an update between the two is not missed.
        let receiver = ctx.pipeline()?.events().subscribe();
        let current = runs::find_run(&db, &visible, run_id)
            .await?
            .ok_or_else(missing)?;
        let slot = take_slot(ctx)?;
        let first = stream::iter([Ok(ScoringRun::from(current.clone()))]);
        if current.finished_at.is_some() {
            return Ok(first.boxed());
        }
        let updates = events(receiver, slot)
            .filter(move |event| {
                std::future::ready(
                    matches!(&**event, Event::RunUpdated { run_id: r } if *r == run_id),
                )
            })
            .then(move |_| {
                let (db, visible) = (db.clone(), visible.clone());
                async move {
                    runs::find_run(&db, &visible, run_id).await?.ok_or_else(|| {
                        ApiError::record_not_found("scoring run", &run_id.to_string())
                    })
                }
            })
            // Up to and including the update that finishes the run.
            .scan(false, |done, run| {
                let item = if *done {
                    None
                } else {
                    *done = run.as_ref().map_or(true, |r| r.finished_at.is_some());
                    Some(
                        run.map(ScoringRun::from)
                            .map_err(async_graphql::Error::from),
                    )
                };
                std::future::ready(item)
            });
        Ok(first.chain(updates).boxed())
    }
}

/// The caller's view of a tenant's days written over `from..=to`, oldest first.
async fn days_written(
    db: &DatabaseConnection,
    viewer: &Viewer,
    tenant: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<async_graphql::Result<DailyScore>> {
    if let Err(err) = viewer.require_on_tenant(Operation::ReadTenantData, tenant) {
        return vec![Err(err.into())];
    }
    // Written just now: read from the database, past the cache.
    let uncached = ScoreCache::new(0, std::time::Duration::ZERO);
    match score_reads::score_history(db, &uncached, tenant, DateRange { from, to }, None).await {
        Ok(days) => days.into_iter().map(|d| Ok(DailyScore::from(d))).collect(),
        Err(err) => vec![Err(err.into())],
    }
}
