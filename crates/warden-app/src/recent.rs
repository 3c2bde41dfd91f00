//! Short-lived copies of store facts that every gateway call needs and that rarely
//! change (a token and its subject, roles in a project, a project's budgets), so that a
//! call does not wait on the database for them.
//!
//! The rule: a copy is trusted for at most [`TTL`], and this replica drops every copy
//! after any change it makes (see `App::dispatch`). A change made on another replica
//! (a revoked token, a disabled account, a new budget) therefore takes effect here
//! within a second; a change made here, at once. Expiry and lock times are checked
//! against the clock on every use, never cached as a verdict.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What authenticating a token needs from the store.
#[derive(Debug, Clone)]
pub(crate) struct TokenFacts {
    pub record: warden_store::TokenRecord,
    pub subject: Option<warden_store::SubjectRecord>,
    pub org_roles: std::collections::BTreeSet<warden_core::Role>,
}

/// This replica's copies.
#[derive(Default)]
pub(crate) struct Recent {
    /// By token hash.
    pub tokens: Ttl<String, std::sync::Arc<TokenFacts>>,
    pub project_roles:
        Ttl<(warden_core::ProjectId, warden_core::SubjectId), std::collections::BTreeSet<warden_core::Role>>,
    pub budgets: Ttl<warden_core::ProjectId, Vec<(String, i64)>>,
}

impl Recent {
    /// Drops every copy (after a change on this replica).
    pub(crate) fn forget(&self) {
        self.tokens.clear();
        self.project_roles.clear();
        self.budgets.clear();
    }
}

/// How long a copy is trusted.
pub(crate) const TTL: Duration = Duration::from_secs(1);
/// Entries kept per cache; a full cache starts again empty.
const MAX_ENTRIES: usize = 16_384;

pub(crate) struct Ttl<K, V> {
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for Ttl<K, V> {
    fn default() -> Self {
        Self { map: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq, V: Clone> Ttl<K, V> {
    pub(crate) fn get(&self, k: &K) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(k).filter(|(at, _)| at.elapsed() < TTL).map(|(_, v)| v.clone())
    }

    pub(crate) fn put(&self, k: K, v: V) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(k, (Instant::now(), v));
    }

    /// The copy of `k`, or what `load` reads (kept when it succeeds).
    pub(crate) async fn get_or_load<E, Fut>(&self, k: K, load: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&k) {
            return Ok(v);
        }
        let v = load().await?;
        self.put(k, v.clone());
        Ok(v)
    }

    pub(crate) fn clear(&self) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_expire_and_clear() {
        let c: Ttl<u32, &str> = Ttl::default();
        c.put(1, "one");
        assert_eq!(c.get(&1), Some("one"));
        assert_eq!(c.get(&2), None);
        c.clear();
        assert_eq!(c.get(&1), None);
    }
}
