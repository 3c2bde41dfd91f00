//! Counts presentations of bad tokens per source address and locks the address out for a
//! while after too many: token guessing cannot be charged to an account (the token names
//! none), so it is charged to where it comes from. Kept in memory per replica.

use std::collections::HashMap;
use std::sync::Mutex;

use warden_core::Timestamp;

#[derive(Default)]
pub(crate) struct SourceGuard {
    entries: Mutex<HashMap<String, (i64, Option<Timestamp>)>>,
}

const MAX_TRACKED: usize = 100_000;

impl SourceGuard {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (i64, Option<Timestamp>)>) -> R) -> R {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut map)
    }

    pub(crate) fn is_locked(&self, source: &str, now: Timestamp) -> bool {
        self.with(|m| m.get(source).and_then(|e| e.1).is_some_and(|until| until > now))
    }

    /// Counts one failure; returns true when the source is now locked.
    pub(crate) fn failure(&self, source: &str, now: Timestamp, max: i64, lock_seconds: i64) -> bool {
        self.with(|m| {
            if m.len() >= MAX_TRACKED {
                m.retain(|_, e| e.1.is_some_and(|until| until > now));
            }
            let e = m.entry(source.to_string()).or_insert((0, None));
            if e.1.is_some_and(|until| until <= now) {
                *e = (0, None);
            }
            e.0 += 1;
            if e.0 >= max {
                e.1 = Some(now.plus_seconds(lock_seconds));
            }
            e.1.is_some()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_and_expires() {
        let g = SourceGuard::default();
        let t = Timestamp(1_000_000);
        assert!(!g.failure("10.0.0.1", t, 3, 60));
        assert!(!g.failure("10.0.0.1", t, 3, 60));
        assert!(!g.is_locked("10.0.0.1", t));
        assert!(g.failure("10.0.0.1", t, 3, 60));
        assert!(g.is_locked("10.0.0.1", t));
        assert!(!g.is_locked("10.0.0.2", t), "other sources are unaffected");
        let later = t.plus_seconds(61);
        assert!(!g.is_locked("10.0.0.1", later));
        assert!(!g.failure("10.0.0.1", later, 3, 60), "the count starts again after the lock");
    }
}
