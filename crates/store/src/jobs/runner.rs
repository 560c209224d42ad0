//! The loop every replica runs per kind of job, and the drain tests use.

use std::future::Future;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Notify, watch};

use super::claim::{Claimed, JobTable, claim_next};

/// Where and how one kind of job is claimed on this replica.
pub struct Queue {
    /// The database holding the jobs.
    pub db: DatabaseConnection,
    /// This replica's name, recorded on its claims.
    pub replica: String,
    /// How long a claim holds unless renewed.
    pub lease: chrono::Duration,
    /// How long an idle loop waits before looking again.
    pub poll: Duration,
    /// Wakes an idle loop at once (a job was just queued on this replica).
    pub wake: Notify,
    /// Claims and jobs of this queue under way on this replica, by any runner.
    under_way: watch::Sender<UnderWay>,
}

impl Queue {
    /// A queue on `db` for `replica`; `lease` falls back to a minute if out of range.
    pub fn new(db: DatabaseConnection, replica: &str, lease: Duration, poll: Duration) -> Queue {
        Queue {
            db,
            replica: replica.to_owned(),
            lease: chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60)),
            poll,
            wake: Notify::new(),
            under_way: watch::Sender::new(UnderWay::default()),
        }
    }
}

/// One kind of job: its table, its queue, and what running one claim does.
pub trait Job: Clone + Send + Sync + 'static {
    /// The table its jobs are rows of.
    type Table: JobTable;
    /// Named in logs.
    const NAME: &'static str;

    /// Its queue on this replica.
    fn queue(&self) -> &Queue;

    /// Done at most once per poll interval before looking for work (e.g. queueing what a
    /// schedule made due); its errors are its own to log.
    fn tick(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Does a claimed job and records its outcome while the claim holds; an error leaves
    /// the job to be claimed again once its lease lapses.
    fn run(&self, claim: Claimed<Self::Table>) -> impl Future<Output = Result<(), DbErr>> + Send;
}

/// Claims one job and runs it; false when none was claimable.
async fn work_once<J: Job>(job: &J) -> Result<bool, DbErr> {
    let queue = job.queue();
    // Counted from before the claim, so a drain never sees a claimed job as none.
    let mut running = Running::start(queue);
    let Some(claim) = claim_next::<J::Table>(&queue.db, &queue.replica, queue.lease).await? else {
        return Ok(false);
    };
    running.claimed = true;
    let id = claim.id();
    if let Err(err) = job.run(claim).await {
        tracing::error!(job = J::NAME, id, error = %err, "a job failed; it is claimed again after its lease");
    }
    Ok(true)
}

/// What a queue's runners on this replica are doing.
#[derive(Clone, Copy, Debug, Default)]
struct UnderWay {
    /// Claims and jobs in progress.
    running: usize,
    /// Jobs that ended so far.
    ended: u64,
}

/// Counts a claim and its job as under way while it lives (an aborted run too).
struct Running<'q> {
    queue: &'q Queue,
    claimed: bool,
}

impl<'q> Running<'q> {
    fn start(queue: &'q Queue) -> Running<'q> {
        queue.under_way.send_modify(|u| u.running += 1);
        Running {
            queue,
            claimed: false,
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let claimed = self.claimed;
        self.queue.under_way.send_modify(|u| {
            u.running -= 1;
            u.ended += u64::from(claimed);
        });
    }
}

/// Ticks, claims and runs jobs until the task is aborted; waits a poll interval (or a wake)
/// whenever none is claimable.
pub async fn run<J: Job>(job: J) {
    let mut next_tick = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_tick {
            next_tick = tokio::time::Instant::now() + job.queue().poll;
            job.tick().await;
        }
        match work_once(&job).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::error!(job = J::NAME, error = %err, "claiming failed; retrying"),
        }
        let _ = tokio::time::timeout(job.queue().poll, job.queue().wake.notified()).await;
    }
}

/// Ticks, claims and runs jobs until none is claimable and none runs on this replica (its
/// loop may hold one, and finishing it can make another claimable); answers how many ran here.
pub async fn run_pending<J: Job>(job: &J) -> Result<usize, DbErr> {
    let mut watch = job.queue().under_way.subscribe();
    let mut total = 0;
    loop {
        let ended_before = watch.borrow_and_update().ended;
        job.tick().await;
        let mut ran = 0;
        while work_once(job).await? {
            ran += 1;
        }
        total += ran;
        let settled = *watch
            .wait_for(|u| u.running == 0)
            .await
            .map_err(|_| DbErr::Custom("the job queue was dropped".into()))?;
        if ran == 0 && settled.ended == ended_before {
            return Ok(total);
        }
    }
}
