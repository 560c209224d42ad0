//! The scoring pipeline: today's rows rescored live in the background, past days closed by
//! runs that replicas share through tasks in the database, and a scheduler that never skips a
//! date. See docs/design.md, "The pipeline: open days, closed days, runs". Unlike the rest of
//! the server, the pipeline writes scores, tasks and alerts itself rather than through
//! `service`: those writes are fenced (claims, change sequences) and versioned, and belong to
//! the engine.

mod alerting;
pub mod batch;
mod live;
mod scheduler;
mod scored_day;
pub mod sweeper;
pub mod tasks;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use entity::scoring_run;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::ScoringConfig;
use crate::error::ApiResult;
use crate::events::{Event, EventBus};
use crate::jobs::Queue;
use crate::scoring::ActionDefinition;
use crate::service::catalog;
use crate::service::reference_cache::ReferenceCache;
use crate::service::score_cache::ScoreCache;
pub use live::LiveRequest;

/// How often an idle scoring worker looks for tasks planned by other replicas.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(500);
use tasks::RunRequest;

/// A handle on this replica's pipeline: resolvers use it to ask for live rescoring and to start
/// runs; it is cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Shared>,
}

/// What the pipeline's background tasks and its handle share.
struct Shared {
    db: DatabaseConnection,
    config: ScoringConfig,
    /// Scoring tasks as the job engine claims them here (the replica's name, the lease; woken
    /// when this replica planned a run).
    queue: Queue,
    /// Wakes waiting `recomputeScores` requests when a run finishes here.
    run_finished: Notify,
    /// Tenants whose today needs rescoring.
    live: mpsc::UnboundedSender<LiveRequest>,
    /// Live rescoring requests sent so far.
    live_asked: AtomicU64,
    /// Live rescoring requests handled so far (rescored, or failed and logged).
    live_done: watch::Sender<u64>,
    /// The keys of the markers the eviction task has passed, in order.
    markers: broadcast::Sender<u64>,
    /// Where scores written, alerts raised and runs updated are announced.
    events: EventBus,
    /// Closed days from memory, evicted by the events of every replica.
    score_cache: Arc<ScoreCache>,
    /// The catalog and comparisons from memory, evicted likewise.
    reference_cache: Arc<ReferenceCache>,
}

/// The pipeline's background tasks; dropping this stops them.
pub struct Background {
    handles: Vec<JoinHandle<()>>,
}

impl Background {
    /// Stops `task` with the others.
    pub fn adopt(&mut self, task: JoinHandle<()>) {
        self.handles.push(task);
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.abort();
        }
    }
}

impl Pipeline {
    /// Starts the worker and the live rescorer, and rescores today for every tenant once, so
    /// nothing queued by a replica that died is lost; the scheduler starts with
    /// [`Pipeline::start_scheduler`].
    pub fn start(db: DatabaseConnection, config: ScoringConfig) -> (Pipeline, Background) {
        let (live_sender, live_receiver) = mpsc::unbounded_channel();
        let (events, listener) = EventBus::start(db.clone());
        let score_cache = ScoreCache::new(config.score_cache_bytes, config.score_cache_ttl);
        let reference_cache = ReferenceCache::new(config.score_cache_ttl);
        let (markers, _) = broadcast::channel(64);
        let evictions = tokio::spawn(evict_changed_reads(
            events.subscribe(),
            score_cache.clone(),
            reference_cache.clone(),
            markers.clone(),
        ));
        let replica = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let pipeline = Pipeline {
            inner: Arc::new(Shared {
                queue: Queue::new(db.clone(), &replica, config.lease, IDLE_POLL),
                db,
                config,
                run_finished: Notify::new(),
                live: live_sender,
                live_asked: AtomicU64::new(0),
                live_done: watch::Sender::new(0),
                markers,
                events,
                score_cache,
                reference_cache,
            }),
        };
        pipeline.rescore_today(LiveRequest::AllTenants);
        let mut handles = vec![
            tokio::spawn(crate::jobs::run(pipeline.clone())),
            tokio::spawn(live::run_live_rescorer(pipeline.clone(), live_receiver)),
            tokio::spawn(sweeper::run_sweeper(pipeline.clone())),
        ];
        handles.extend(listener);
        handles.push(evictions);
        (pipeline, Background { handles })
    }

    /// Starts planning closes (when configured), once start-up work such as demo seeding is
    /// done, so that the first closes see it.
    pub fn start_scheduler(&self, background: &mut Background) {
        if self.inner.config.run_scheduler {
            background
                .handles
                .push(tokio::spawn(scheduler::run_scheduler(self.clone())));
        }
    }

    /// The bus that announces scores written, alerts raised and runs updated.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// The closed-day cache.
    pub fn score_cache(&self) -> &Arc<ScoreCache> {
        &self.inner.score_cache
    }

    /// The catalog and comparison cache.
    pub fn reference_cache(&self) -> &Arc<ReferenceCache> {
        &self.inner.reference_cache
    }

    /// This replica's name, as recorded on the tasks it claims.
    pub fn replica(&self) -> &str {
        &self.inner.queue.replica
    }

    /// Asks for today's rows of some tenants (or all) to be rescored soon; bursts coalesce.
    pub fn rescore_today(&self, request: LiveRequest) {
        // The receiver lives as long as the background tasks; after shutdown nothing is lost,
        // because every replica rescores today at start.
        self.inner.live_asked.fetch_add(1, Ordering::SeqCst);
        let _ = self.inner.live.send(request);
    }

    /// Waits, at most `limit`, until this replica has handled what was asked of it so far:
    /// every live rescoring request, and every event published before now (its own and, on
    /// PostgreSQL, every replica's committed ones) handed to its caches. False when `limit`
    /// passed first. Tests use it instead of sleeping before they count or compare reads.
    pub async fn settled(&self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, self.settle()).await.is_ok()
    }

    async fn settle(&self) {
        let asked = self.inner.live_asked.load(Ordering::SeqCst);
        let mut done = self.inner.live_done.subscribe();
        let _ = done.wait_for(|done| *done >= asked).await;
        // Notifications reach every listener in the order their transactions committed, so
        // once the marker is through, so is everything committed before it.
        let key = rand::random::<u64>();
        let mut passed = self.inner.markers.subscribe();
        self.events().publish(vec![Event::Marker { key }]).await;
        loop {
            match passed.recv().await {
                Ok(seen) if seen == key => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Counts `handled` live rescoring requests as done.
    fn live_handled(&self, handled: u64) {
        if handled > 0 {
            self.inner.live_done.send_modify(|done| *done += handled);
        }
    }

    /// How long `recomputeScores` waits for its run.
    pub fn recompute_wait(&self) -> std::time::Duration {
        self.inner.config.recompute_wait
    }

    /// Plans a run and waits at most `wait` for it to finish; the run goes on after the wait
    /// either way. Answers with the run as it stands.
    pub async fn run(
        &self,
        request: RunRequest,
        wait: std::time::Duration,
    ) -> ApiResult<scoring_run::Model> {
        let batch = self.inner.config.batch_tenant_days;
        let run = tasks::plan_run(&self.inner.db, request, batch)
            .await?
            .ok_or_else(|| DbErr::Custom("a recomputation run was not created".into()))?;
        self.inner.queue.wake.notify_one();
        self.inner
            .events
            .publish(vec![Event::RunUpdated { run_id: run.id }])
            .await;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let current = scoring_run::Entity::find_by_id(run.id)
                .one(&self.inner.db)
                .await?
                .ok_or_else(|| DbErr::Custom(format!("run {} vanished", run.id)))?;
            if current.finished_at.is_some() || tokio::time::Instant::now() >= deadline {
                return Ok(current);
            }
            // Woken when a run finishes on this replica; polled for runs finished elsewhere.
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + std::time::Duration::from_millis(200)),
                self.inner.run_finished.notified(),
            )
            .await;
        }
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    fn config(&self) -> &ScoringConfig {
        &self.inner.config
    }
}

/// The catalog as the engine sees it, every entry included (deprecated ones score 0 of 0).
async fn load_catalog(db: &impl ConnectionTrait) -> ApiResult<Vec<ActionDefinition>> {
    catalog::list_actions(db, None, true)
        .await?
        .iter()
        .map(catalog::to_definition)
        .collect()
}

/// Evicts what every replica writes (days, the catalog, comparisons) from this replica's
/// caches, until the task is aborted.
async fn evict_changed_reads(
    mut events: tokio::sync::broadcast::Receiver<Arc<Event>>,
    scores: Arc<ScoreCache>,
    references: Arc<ReferenceCache>,
    markers: broadcast::Sender<u64>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            // Events were missed: whatever they evicted is unknown.
            Err(RecvError::Lagged(_)) => Arc::new(Event::Resync),
            Err(RecvError::Closed) => return,
        };
        scores.observe(&event);
        references.observe(&event);
        if let Event::Marker { key } = &*event {
            let _ = markers.send(*key);
        }
    }
}

/// Hands what a stored batch announced (sent in its transactions) to this replica's
/// subscribers.
fn announce(pipeline: &Pipeline, outcome: &batch::BatchOutcome) {
    pipeline.events().committed(outcome.events.clone());
}

/// Today's date, UTC.
fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}
