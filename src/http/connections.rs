//! Open connections, bounded: the process raises its open-file limit to the hard limit at start
//! and holds at most `--max-connections` client connections (less a reserve of descriptors for
//! the database, outbound calls and files). When a new client arrives at the cap, the
//! connection idle the longest (a keep-alive connection with no request in flight) is closed to
//! make room; one busy with a request or a subscription is never closed for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Descriptors kept for everything that is not a client connection: the database pool, the
/// listeners, outbound HTTP (webhooks, Graph, the identity provider), files and logs.
pub const RESERVED_DESCRIPTORS: u64 = 128;
/// How long a new client waits for a place at the cap before it is turned away.
const WAIT_FOR_A_PLACE: Duration = Duration::from_secs(2);

/// Raises the soft open-file limit to the hard limit; returns the limit now in force (`None`
/// where the platform has none to read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(error = %err, "cannot raise the open-file limit");
            None
        }
    }
}

/// The most client connections to hold: `wanted`, lowered to fit under `open_files` with the
/// reserve kept (at least 1).
pub fn connection_cap(wanted: usize, open_files: Option<u64>) -> usize {
    let fits = open_files.map_or(u64::MAX, |limit| {
        limit.saturating_sub(RESERVED_DESCRIPTORS).max(1)
    });
    wanted
        .min(usize::try_from(fits).unwrap_or(usize::MAX))
        .max(1)
}

/// The places for client connections, and the open connections to close when one is needed.
pub struct ConnectionLimit {
    places: Arc<Semaphore>,
    open: Mutex<Vec<Weak<Connection>>>,
}

/// One client connection: its place, whether it is busy, and how to ask it to close.
/// Subscriptions hold it for as long as their socket is open.
pub struct Connection {
    _place: OwnedSemaphorePermit,
    busy: AtomicUsize,
    idle_since: Mutex<Instant>,
    close: Notify,
}

/// Marks a connection busy while held.
pub struct Busy(Arc<Connection>);

impl ConnectionLimit {
    /// Room for `cap` connections.
    pub fn new(cap: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            places: Arc::new(Semaphore::new(cap)),
            open: Mutex::new(Vec::new()),
        })
    }

    /// A place for a new connection: at once when one is free; otherwise after closing the
    /// connection idle the longest; `None` when every connection stayed busy for a while.
    pub async fn admit(&self) -> Option<Arc<Connection>> {
        let place = match Arc::clone(&self.places).try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                let closing = self.close_longest_idle();
                metrics::counter!(
                    crate::telemetry::CONNECTIONS_AT_CAP,
                    "outcome" => if closing { "idle_closed" } else { "waited" }
                )
                .increment(1);
                tokio::time::timeout(WAIT_FOR_A_PLACE, Arc::clone(&self.places).acquire_owned())
                    .await
                    .ok()?
                    .ok()?
            }
        };
        let connection = Arc::new(Connection {
            _place: place,
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            close: Notify::new(),
        });
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|held| held.strong_count() > 0);
        open.push(Arc::downgrade(&connection));
        Some(connection)
    }

    /// Asks the connection idle the longest to close; false when none is idle.
    fn close_longest_idle(&self) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|held| held.strong_count() > 0);
        let longest = open
            .iter()
            .enumerate()
            .filter_map(|(at, held)| held.upgrade().map(|c| (at, c)))
            .filter(|(_, connection)| connection.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, connection)| connection.idle_since());
        match longest {
            Some((at, connection)) => {
                open.swap_remove(at);
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Connection {
    /// Marks this connection busy until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(self))
    }

    /// Completes when the server wants this connection closed to make room.
    pub async fn close_requested(&self) {
        self.close.notified().await;
    }

    fn idle_since(&self) -> Instant {
        *self.idle_since.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_reserve_under_the_open_file_limit() {
        assert_eq!(connection_cap(4096, Some(1024)), 896);
        assert_eq!(connection_cap(100, Some(1024)), 100);
        assert_eq!(connection_cap(4096, Some(64)), 1);
        assert_eq!(connection_cap(4096, None), 4096);
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_longest_idle_connection_is_closed_and_a_busy_one_never() {
        let limit = ConnectionLimit::new(2);
        let busy = limit.admit().await.unwrap();
        let _working = busy.busy();
        let first_idle = limit.admit().await.unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let third = tokio::spawn({
            let limit = Arc::clone(&limit);
            async move { limit.admit().await }
        });
        // The idle one is asked to close; once it has, the newcomer gets its place.
        tokio::time::timeout(Duration::from_secs(1), first_idle.close_requested())
            .await
            .expect("the idle connection was asked to close");
        drop(first_idle);
        let third = third.await.unwrap().expect("the newcomer was admitted");
        // Every connection busy: nothing is closed, and the next newcomer is turned away.
        let _third_working = third.busy();
        assert!(limit.admit().await.is_none());
        assert_eq!(busy.busy.load(Ordering::SeqCst), 1);
    }
}
