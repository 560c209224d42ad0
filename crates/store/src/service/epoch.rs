//! The eviction epoch that both read caches share: a read keeps what it loaded only when no
//! eviction happened since it started, and the check and the keep happen as one step with
//! respect to evictions, so a value read just before a write committed is never kept after
//! the write's eviction.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Orders a cache's keeps and evictions.
#[derive(Default)]
pub struct Epoch {
    value: AtomicU64,
    /// Held by a keep from its check to its write, and by an eviction.
    changes: Mutex<()>,
}

impl Epoch {
    /// The epoch now; a read that starts now passes it back to [`Epoch::keep_if_unchanged`].
    pub fn current(&self) -> u64 {
        self.value.load(Ordering::SeqCst)
    }

    /// Runs `keep` when nothing was evicted since `started`, with evictions held off until it
    /// returns; says whether it ran.
    pub fn keep_if_unchanged(&self, started: u64, keep: impl FnOnce()) -> bool {
        let _changing = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if self.current() != started {
            return false;
        }
        keep();
        true
    }

    /// Moves the epoch on and runs `evict`, with keeps held off until it returns.
    pub fn evict(&self, evict: impl FnOnce()) {
        let _changing = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        self.value.fetch_add(1, Ordering::SeqCst);
        evict();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_keep_started_before_an_eviction_does_nothing() {
        let epoch = Epoch::default();
        let started = epoch.current();
        epoch.evict(|| {});
        assert!(!epoch.keep_if_unchanged(started, || panic!("kept a stale read")));
        assert!(epoch.keep_if_unchanged(epoch.current(), || {}));
    }

    /// A keep racing an eviction never leaves a value older than the eviction behind: the
    /// "truth" moves on before every eviction, and whatever was kept is checked against it.
    #[test]
    fn a_keep_racing_an_eviction_never_outlives_it() {
        let epoch = Arc::new(Epoch::default());
        let truth = Arc::new(AtomicU64::new(0));
        let held = Arc::new(Mutex::new(None::<u64>));
        let line_up = Arc::new(Barrier::new(2));
        let evictor = {
            let (epoch, truth, held, line_up) =
                (epoch.clone(), truth.clone(), held.clone(), line_up.clone());
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    line_up.wait();
                    truth.fetch_add(1, Ordering::SeqCst);
                    epoch.evict(|| *held.lock().unwrap() = None);
                }
            })
        };
        let mut stale = 0;
        for _ in 0..20_000 {
            let started = epoch.current();
            let read = truth.load(Ordering::SeqCst);
            line_up.wait();
            epoch.keep_if_unchanged(started, || {
                // A keep that takes a moment, as a real insert may: the race's window.
                for _ in 0..200 {
                    std::hint::spin_loop();
                }
                *held.lock().unwrap() = Some(read);
            });
            // Once the eviction is through, nothing older than the truth may be held.
            while epoch.current() == started {
                std::hint::spin_loop();
            }
            let _quiet = epoch.changes.lock().unwrap();
            if held
                .lock()
                .unwrap()
                .is_some_and(|kept| kept < truth.load(Ordering::SeqCst))
            {
                stale += 1;
            }
        }
        evictor.join().unwrap();
        assert_eq!(stale, 0, "{stale} stale values outlived their eviction");
    }
}
