//! Kill switches: the ones that are on, as every replica sees them within half a second.

use std::sync::Arc;

/// The kill switches that are on, refreshed from the store in the background at most
/// every half second (so every replica sees a switch within about that time) and at
/// once after this replica set one. Calls and streamed events read the copy in place.
pub struct Switches {
    store: Arc<dyn warden_store::Store>,
    on: std::sync::RwLock<Arc<Vec<warden_store::SwitchRecord>>>,
    refresh: warden_store::fresh::Refresh,
}

impl Switches {
    pub const FRESH: std::time::Duration = std::time::Duration::from_millis(500);

    pub fn new(store: Arc<dyn warden_store::Store>) -> Self {
        Self { store, on: Default::default(), refresh: warden_store::fresh::Refresh::every(Self::FRESH) }
    }

    pub fn now(&self) -> Arc<Vec<warden_store::SwitchRecord>> {
        self.on.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the switches from the store now.
    pub async fn reload(&self) -> Result<(), warden_store::StoreError> {
        let list = Arc::new(self.store.list_switches().await?);
        *self.on.write().unwrap_or_else(|p| p.into_inner()) = list;
        Ok(())
    }

    /// Why calls to `p` are switched off, if they are.
    pub fn blocking(self: &Arc<Self>, p: &warden_llm::ProviderConfig) -> Option<String> {
        // The last known state stands while the store is unreachable.
        warden_store::fresh::in_background(
            self,
            |s| &s.refresh,
            "the gateway's kill switches",
            |s| async move { s.reload().await },
        );
        self.now().iter().find_map(|s| {
            let hit = (s.target == "external" && p.external)
                || s.target.strip_prefix("provider:") == Some(p.name.as_str())
                || s.target.strip_prefix("region:") == Some(p.region.as_str());
            hit.then(|| format!("kill switch `{}` is on ({})", s.target, s.reason))
        })
    }
}
