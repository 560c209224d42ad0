//! One job engine for the work replicas share out through the database: scoring tasks
//! (`pipeline`), directory collections (`collections`) and webhook deliveries (`webhooks`).
//!
//! Modelled on crates.io's `crates_io_worker`: a table of jobs ([`JobTable`]), a claim of the
//! oldest claimable row with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's single writer
//! serialises the one-statement claim), a claim token that every later write of the row checks
//! ([`Claimed::finish_if_claimed`], [`Claimed::renew`]), a lease after which a dead replica's
//! job is claimable again, a retry schedule ([`Backoff`]), and a [`Job`] whose `run` the
//! engine's loop ([`run`]) calls for each claim. Tests drain a queue with [`run_pending`]
//! instead of waiting on the loop's timers. See `docs/design.md`, "The job engine".

mod claim;
mod runner;

pub use claim::{Backoff, Claimed, JobTable, claim_next};
pub use runner::{Job, Queue, run, run_pending};
