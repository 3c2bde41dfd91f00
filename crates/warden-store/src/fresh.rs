//! Shared copies of what the store holds (the policy in force, the kill switches, the
//! gateway's providers), refreshed in the background so that no request waits on the
//! store for them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a shared copy (the policy in force, the kill switches, the providers) is due
/// for a refresh from the store. The refresh runs in the background: callers go on
/// with the copy they have, so no request waits on the store for it.
pub struct Refresh {
    every: Duration,
    checked: Mutex<Option<Instant>>,
    running: AtomicBool,
}

impl Refresh {
    pub fn every(every: Duration) -> Self {
        Self { every, checked: Mutex::new(None), running: AtomicBool::new(false) }
    }

    /// True when the copy is older than the period and no refresh is running; the
    /// caller then refreshes and calls [`Refresh::done`].
    pub fn claim(&self) -> bool {
        {
            let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            match *checked {
                Some(t) if t.elapsed() < self.every => return false,
                _ => *checked = Some(Instant::now()),
            }
        }
        !self.running.swap(true, Ordering::AcqRel)
    }

    pub fn done(&self) {
        self.running.store(false, Ordering::Release);
    }
}

/// When `owner`'s copy is due (`refresh` finds its [`Refresh`]), runs `reload` on a
/// task of its own; a failure is logged and the copy kept.
pub fn in_background<T, F, Fut, E>(
    owner: &std::sync::Arc<T>,
    refresh: fn(&T) -> &Refresh,
    what: &'static str,
    reload: F,
) where
    T: Send + Sync + 'static,
    F: FnOnce(std::sync::Arc<T>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    if !refresh(owner).claim() {
        return;
    }
    let owner = owner.clone();
    tokio::spawn(async move {
        if let Err(e) = reload(owner.clone()).await {
            tracing::warn!(error = %e, "could not refresh {what}; keeping the loaded copy");
        }
        refresh(&owner).done();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_is_due_once_per_period_and_never_twice_at_once() {
        let r = Refresh::every(Duration::from_secs(60));
        assert!(r.claim(), "a first refresh is due");
        assert!(!r.claim(), "not again within the period");
        r.done();
        let quick = Refresh::every(Duration::ZERO);
        assert!(quick.claim());
        assert!(!quick.claim(), "due, but one is still running");
        quick.done();
        assert!(quick.claim());
    }
}
