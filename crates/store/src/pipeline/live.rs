//! Live rescoring of today: after a snapshot, an override, a catalog change or an override's
//! expiry, the affected tenants' rows for the current date are rescored in the background,
//! coalescing bursts into batches; when the date changes, every tenant's new row is opened.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{action_override, tenant};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;

use super::batch::{Unfenced, score_batch};
use super::{Pipeline, today};
use crate::service::daily_scores::DateRange;

/// How long a burst of requests is gathered before rescoring.
const COALESCE: Duration = Duration::from_millis(50);
/// How often overrides that expired are looked for.
const EXPIRY_POLL: Duration = Duration::from_secs(1);

/// Which tenants' today to rescore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveRequest {
    /// These tenants.
    Tenants(Vec<String>),
    /// Every tenant (a catalog change).
    AllTenants,
}

/// Rescores today for the tenants asked for, until the task is aborted.
pub async fn run_live_rescorer(
    pipeline: Pipeline,
    mut requests: mpsc::UnboundedReceiver<LiveRequest>,
) {
    let mut expired_since = Utc::now();
    // The start-up request covers today; a new date opens with every tenant's row.
    let mut opened = today();
    let mut expiry_poll = tokio::time::interval(EXPIRY_POLL);
    loop {
        let mut wanted = Wanted::default();
        let mut received = 0;
        tokio::select! {
            request = requests.recv() => match request {
                Some(request) => {
                    received += 1;
                    wanted.add(request);
                }
                None => return,
            },
            _ = expiry_poll.tick() => {
                if today() != opened {
                    opened = today();
                    wanted.add(LiveRequest::AllTenants);
                }
                let now = Utc::now();
                match expired_between(&pipeline, expired_since, now).await {
                    Ok(tenants) => {
                        expired_since = now;
                        if tenants.is_empty() && !wanted.all {
                            continue;
                        }
                        wanted.add(LiveRequest::Tenants(tenants));
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "live rescoring: looking for expired overrides failed");
                        continue;
                    }
                }
            }
        }
        let asked = std::time::Instant::now();
        tokio::time::sleep(COALESCE).await;
        while let Ok(request) = requests.try_recv() {
            received += 1;
            wanted.add(request);
        }
        match rescore(&pipeline, wanted).await {
            Ok(()) => metrics::histogram!(crate::telemetry::LIVE_LAG)
                .record(asked.elapsed().as_secs_f64()),
            Err(err) => tracing::error!(error = %err, "live rescoring of today failed"),
        }
        pipeline.live_handled(received);
    }
}

/// The tenants gathered from a burst of requests.
#[derive(Default)]
struct Wanted {
    all: bool,
    tenants: BTreeSet<String>,
}

impl Wanted {
    fn add(&mut self, request: LiveRequest) {
        match request {
            LiveRequest::AllTenants => self.all = true,
            LiveRequest::Tenants(ids) => self.tenants.extend(ids),
        }
    }
}

/// Rescores today for what was asked, batch by batch.
async fn rescore(pipeline: &Pipeline, wanted: Wanted) -> Result<(), DbErr> {
    let db = pipeline.db();
    let tenant_ids: Vec<String> = if wanted.all {
        tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .order_by_asc(tenant::Column::Id)
            .into_tuple()
            .all(db)
            .await?
    } else {
        wanted.tenants.into_iter().collect()
    };
    if tenant_ids.is_empty() {
        return Ok(());
    }
    let batch = pipeline.config().batch_tenant_days.max(1);
    for chunk in tenant_ids.chunks(batch) {
        let range = DateRange::day(today());
        let outcome = score_batch(db, chunk, range, &Unfenced).await?;
        super::announce(pipeline, &outcome);
        if !outcome.failed_tenants.is_empty() {
            tracing::error!(failed = ?outcome.failed_tenants, "live rescoring: some tenants failed");
        }
    }
    Ok(())
}

/// Tenants with an override that expired in `(since, until]`.
async fn expired_between(
    pipeline: &Pipeline,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    action_override::Entity::find()
        .select_only()
        .column(action_override::Column::TenantId)
        .distinct()
        .filter(action_override::Column::ExpiresAt.gt(since))
        .filter(action_override::Column::ExpiresAt.lte(until))
        .into_tuple()
        .all(pipeline.db())
        .await
}
