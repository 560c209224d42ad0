//! Live events for subscriptions and caches: scores written, alerts raised, runs updated, the
//! catalog or a date's comparisons changed. Payloads are small (ids only; a subscriber loads
//! what its caller may see). On PostgreSQL every replica publishes through `NOTIFY` and
//! forwards what it hears on `LISTEN` to its own subscribers, so events cross replicas; on
//! SQLite (one process) they stay in process.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "securescore_events";
/// Events a slow subscriber may fall behind by before it skips ahead.
const CAPACITY: usize = 4096;
/// Tenant ids per `ScoresWritten` notification (PostgreSQL payloads stay under 8000 bytes).
const TENANTS_PER_NOTIFICATION: usize = 80;

/// Something subscribers may want to hear about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "e")]
pub enum Event {
    /// Rows of these tenants over these dates were written.
    #[serde(rename = "s")]
    ScoresWritten {
        /// Tenants.
        #[serde(rename = "t")]
        tenants: Vec<String>,
        /// First date written.
        #[serde(rename = "f")]
        from: NaiveDate,
        /// Last date written.
        #[serde(rename = "u")]
        to: NaiveDate,
    },
    /// An alert was raised.
    #[serde(rename = "a")]
    AlertRaised {
        /// Its tenant.
        #[serde(rename = "t")]
        tenant_id: String,
        /// The alert.
        #[serde(rename = "i")]
        alert_id: i64,
    },
    /// A scoring run's status or counts changed.
    #[serde(rename = "r")]
    RunUpdated {
        /// The run.
        #[serde(rename = "i")]
        run_id: i64,
    },
    /// The catalog changed (an entry was created or replaced, or the built-in one synced).
    #[serde(rename = "c")]
    CatalogChanged,
    /// The comparison averages of a date were recomputed.
    #[serde(rename = "g")]
    ComparisonsRefreshed {
        /// The date.
        #[serde(rename = "d")]
        date: NaiveDate,
    },
    /// Events may have been missed (the listener reconnected): forget what was derived from
    /// them. Local to a replica, never published.
    #[serde(rename = "x")]
    Resync,
    /// A marker a replica sends itself to learn when every event published before it has been
    /// handed to its caches ([`crate::pipeline::Pipeline::settled`]); it changes nothing.
    #[serde(rename = "m")]
    Marker {
        /// Chosen at random by the replica waiting for it.
        #[serde(rename = "k")]
        key: u64,
    },
}

/// Publishes events and hands out subscriptions to them; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<Event>>,
    db: DatabaseConnection,
}

impl EventBus {
    /// A bus on `db`; on PostgreSQL also the task that listens for other replicas' events.
    pub fn start(db: DatabaseConnection) -> (EventBus, Option<JoinHandle<()>>) {
        let (local, _) = broadcast::channel(CAPACITY);
        let bus = EventBus { local, db };
        let listener = (bus.db.get_database_backend() == DbBackend::Postgres)
            .then(|| tokio::spawn(listen(bus.clone())));
        (bus, listener)
    }

    /// A new subscription to every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    /// Publishes events to every replica's subscribers; a failure is logged, never raised
    /// (subscriptions are live updates, not a delivery guarantee: the API always has the rows).
    /// Events about written rows go with their write instead: [`notify_in_transaction`], then
    /// [`EventBus::committed`].
    pub async fn publish(&self, events: Vec<Event>) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            self.send_locally(events);
            return;
        }
        for event in events.into_iter().flat_map(split) {
            if let Err(err) = self.db.execute_raw(notification(&event)).await {
                tracing::warn!(error = %err, "publishing an event failed");
            }
        }
    }

    /// Hands events already sent with [`notify_in_transaction`] to this replica's subscribers,
    /// once their transaction committed: on PostgreSQL the listener does (every replica hears
    /// the commit's notifications), so nothing is left to do; elsewhere they go out now.
    pub fn committed(&self, events: Vec<Event>) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            self.send_locally(events);
        }
    }

    fn send_locally(&self, events: Vec<Event>) {
        for event in events {
            let _ = self.local.send(Arc::new(event));
        }
    }
}

/// Sends events inside the transaction that writes what they announce: PostgreSQL delivers them
/// to every replica when it commits and never for a write rolled back, so an eviction cannot
/// be lost between a commit and a publish; a failure fails the write. Nothing on SQLite, whose
/// one process hears of its writes through [`EventBus::committed`].
pub async fn notify_in_transaction(
    txn: &impl ConnectionTrait,
    events: &[Event],
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for event in events.iter().cloned().flat_map(split) {
        txn.execute_raw(notification(&event)).await?;
    }
    Ok(())
}

/// The `pg_notify` statement carrying one event.
fn notification(event: &Event) -> Statement {
    // An event is plain data: it always serializes.
    let payload = serde_json::to_string(event).unwrap_or_default();
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    )
}

/// Splits a large `ScoresWritten` into notifications that fit PostgreSQL's payload limit.
fn split(event: Event) -> Vec<Event> {
    match event {
        Event::ScoresWritten { tenants, from, to } if tenants.len() > TENANTS_PER_NOTIFICATION => {
            tenants
                .chunks(TENANTS_PER_NOTIFICATION)
                .map(|chunk| Event::ScoresWritten {
                    tenants: chunk.to_vec(),
                    from,
                    to,
                })
                .collect()
        }
        other => vec![other],
    }
}

/// Forwards what every replica publishes to this replica's subscribers, reconnecting after a
/// lost connection.
async fn listen(bus: EventBus) {
    loop {
        let pool = bus.db.get_postgres_connection_pool();
        match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(mut listener) => {
                let _ = bus.local.send(Arc::new(Event::Resync));
                if let Err(err) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %err, "LISTEN failed; retrying");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(notification) => {
                                match serde_json::from_str::<Event>(notification.payload()) {
                                    Ok(event) => {
                                        let _ = bus.local.send(Arc::new(event));
                                    }
                                    Err(err) => tracing::warn!(error = %err, "an unreadable event"),
                                }
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "the event listener lost its connection");
                                break;
                            }
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot listen for events; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_small_and_large_ones_are_split() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let tenants: Vec<String> = (0..200).map(|i| format!("{i:0>64}")).collect();
        let parts = split(Event::ScoresWritten {
            tenants: tenants.clone(),
            from: date,
            to: date,
        });
        assert_eq!(parts.len(), 3);
        for part in &parts {
            let payload = serde_json::to_string(part).unwrap();
            assert!(payload.len() < 8000, "{}", payload.len());
            assert_eq!(serde_json::from_str::<Event>(&payload).unwrap(), *part);
        }
    }
}
