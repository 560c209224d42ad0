//! Subscription root: live updates over WebSocket (`graphql-transport-ws` at `/graphql`). Each
//! subscription checks the caller like the matching query, then listens to the event bus and
//! loads, for every event of its tenant or run, what the caller may see. With budgets on, each
//! event sent is charged to the caller at the subscription's price: score events the bucket
//! cannot pay for are coalesced into the latest, sent once it can; alerts are never dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Context, ID, Subscription};
use chrono::NaiveDate;
use futures::Stream;
use futures::stream::{self, BoxStream, StreamExt};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::budget::{CostAccount, CostBudgets};
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

/// The caller, once it may read `tenant_id` and that tenant exists (`reachable_tenant`).
async fn readable_tenant(ctx: &Context<'_>, tenant_id: &str) -> ApiResult<Viewer> {
    let viewer = ctx.viewer()?.clone();
    tenants::reachable_tenant(ctx.db()?, &viewer, Operation::ReadTenantData, tenant_id).await?;
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
        let payer = EventPayer::of(ctx);
        let tenant = tenant_id.0;
        let watched = tenant.clone();
        let written = events(ctx.pipeline()?.events().subscribe(), slot).filter_map(move |event| {
            std::future::ready(match &*event {
                Event::ScoresWritten { tenants, from, to } if tenants.contains(&watched) => {
                    Some(DateRange {
                        from: *from,
                        to: *to,
                    })
                }
                _ => None,
            })
        });
        Ok(paid_or_coalesced(written.boxed(), payer)
            .then(move |range| {
                let (db, viewer, tenant) = (db.clone(), viewer.clone(), tenant.clone());
                async move { days_written(&db, &viewer, &tenant, range.from, range.to).await }
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
        let payer = EventPayer::of(ctx);
        let tenant = tenant_id.0;
        Ok(
            events(ctx.pipeline()?.events().subscribe(), slot).filter_map(move |event| {
                let (db, viewer, tenant) = (db.clone(), viewer.clone(), tenant.clone());
                let payer = payer.clone();
                async move {
                    match &*event {
                        Event::AlertRaised {
                            tenant_id,
                            alert_id,
                        } if *tenant_id == tenant => Some(
                            async {
                                viewer.require_on_tenant(Operation::ReadTenantData, &tenant)?;
                                // Charged when the bucket holds it, sent either way.
                                if let Some(payer) = &payer {
                                    let _ = payer.pay();
                                }
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

/// Who pays for a subscription's events, and what each costs: the subscription's own price.
#[derive(Clone)]
struct EventPayer {
    account: CostAccount,
    budgets: CostBudgets,
    cost: u64,
}

impl EventPayer {
    /// The payer of the subscription being started; none with budgets off.
    fn of(ctx: &Context<'_>) -> Option<EventPayer> {
        let account = ctx.data_opt::<CostAccount>()?.clone();
        let budgets = ctx.data_opt::<CostBudgets>()?.clone();
        let cost = account.requested_cost();
        Some(EventPayer {
            account,
            budgets,
            cost,
        })
    }

    /// Charges one event; on refusal, the seconds until one fits.
    fn pay(&self) -> Result<(), u64> {
        self.account.charge_event(&self.budgets, self.cost)
    }
}

/// The written ranges, each sent once the caller's bucket pays for it: one the bucket cannot
/// pay for waits, merged with every later one into a single range, and goes as soon as it can
/// (so the subscriber ends on the latest state and pays for one event, not the backlog).
fn paid_or_coalesced(
    written: BoxStream<'static, DateRange>,
    payer: Option<EventPayer>,
) -> BoxStream<'static, DateRange> {
    let Some(payer) = payer else {
        return written;
    };
    struct State {
        written: BoxStream<'static, DateRange>,
        payer: EventPayer,
        waiting: Option<(DateRange, tokio::time::Instant)>,
    }
    let state = State {
        written,
        payer,
        waiting: None,
    };
    stream::unfold(state, |mut state| async move {
        loop {
            let retry_at = state.waiting.map(|(_, at)| at);
            tokio::select! {
                next = state.written.next() => {
                    let range = next?;
                    let merged = match state.waiting {
                        Some((held, _)) => DateRange {
                            from: held.from.min(range.from),
                            to: held.to.max(range.to),
                        },
                        None => range,
                    };
                    if state.waiting.is_some() {
                        // Still throttled: this event joins the one waiting.
                        state.waiting = state.waiting.map(|(_, at)| (merged, at));
                        continue;
                    }
                    match state.payer.pay() {
                        Ok(()) => return Some((merged, state)),
                        Err(wait) => {
                            let at = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
                            state.waiting = Some((merged, at));
                        }
                    }
                }
                () = async { tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)).await }, if retry_at.is_some() => {
                    let Some((held, _)) = state.waiting.take() else { continue };
                    match state.payer.pay() {
                        Ok(()) => return Some((held, state)),
                        Err(wait) => {
                            let at = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
                            state.waiting = Some((held, at));
                        }
                    }
                }
            }
        }
    })
    .boxed()
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
