//! The gateway's providers: the built-in `mock`, those `warden.toml` names (fixed for
//! the life of the process), and those administrators add, change and remove through
//! the API. Stored providers keep their credential sealed with AES-256-GCM under a key
//! derived from the master key, with the provider's name as associated data, so a
//! sealed key copied onto another provider's row does not open.
//!
//! Every replica keeps the providers in memory. A call never waits for the store: when
//! the copy is more than a second old, a refresh runs in the background and the call
//! uses the copy it has. A change made on this replica is loaded before it answers.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use warden_core::{SubjectId, Timestamp};
use warden_crypto::MasterKey;
pub use warden_llm::Price;
use warden_llm::{Provider, ProviderConfig, ProviderKind};
use warden_store::{ProviderRecord, Store};

use crate::Error;

/// How long a replica trusts its copy of the stored providers.
const RECHECK: Duration = Duration::from_secs(1);
/// The master-key purpose of the credential key.
const PURPOSE: &str = "gateway-provider-credential";

/// Where a provider comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Builtin,
    Config,
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Builtin => "builtin",
            Source::Config => "config",
            Source::Api => "api",
        }
    }
}

/// What the API shows of a provider: never its credential, only whether it has one.
#[derive(Debug, Clone)]
pub struct ProviderView {
    pub config: ProviderConfig,
    pub source: Source,
    pub has_api_key: bool,
    /// False when a stored credential does not open with this installation's master
    /// key; such a provider is not used until an administrator sets its key again.
    pub usable: bool,
    /// For stored providers: who changed it last, when, and its revision.
    pub updated: Option<(SubjectId, Timestamp, i64)>,
}

struct Loaded {
    /// Fixed providers first, then the stored ones by name.
    all: Arc<Vec<Arc<Provider>>>,
    /// Stored providers by name with the revision they were built from.
    stored: BTreeMap<String, (i64, Arc<Provider>)>,
}

pub struct Providers {
    store: Arc<dyn Store>,
    key: [u8; 32],
    timeout: Duration,
    /// What a provider's answers may be (the longest streamed event).
    limits: warden_llm::Limits,
    fixed: Vec<Arc<Provider>>,
    loaded: RwLock<Loaded>,
    refresh: warden_store::fresh::Refresh,
}

fn sealing_error(_: warden_crypto::SealError) -> Error {
    Error::Internal("provider credential sealing failed".into())
}

impl Providers {
    pub fn new(
        store: Arc<dyn Store>,
        keys: &MasterKey,
        timeout: Duration,
        limits: warden_llm::Limits,
        configured: &[ProviderConfig],
    ) -> Result<Self, Error> {
        let mock = ProviderConfig::mock();
        let fixed = std::iter::once(mock)
            .chain(configured.iter().cloned())
            .map(|p| Provider::with_limits(p, timeout, limits).map(Arc::new).map_err(|e| Error::Invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let all = Arc::new(fixed.clone());
        Ok(Self {
            store,
            key: keys.derive(PURPOSE),
            timeout,
            limits,
            fixed,
            loaded: RwLock::new(Loaded { all, stored: BTreeMap::new() }),
            refresh: warden_store::fresh::Refresh::every(RECHECK),
        })
    }

    pub fn is_fixed(&self, name: &str) -> Option<Source> {
        let p = self.fixed.iter().find(|p| p.config.name == name)?;
        Some(if p.config.kind == ProviderKind::Mock { Source::Builtin } else { Source::Config })
    }

    /// The providers in routing order, as last loaded.
    pub fn now(&self) -> Arc<Vec<Arc<Provider>>> {
        match self.loaded.read() {
            Ok(g) => g.all.clone(),
            Err(poisoned) => poisoned.into_inner().all.clone(),
        }
    }

    /// The providers for a call; starts a background refresh when the copy is old.
    pub fn current(self: &Arc<Self>) -> Arc<Vec<Arc<Provider>>> {
        warden_store::fresh::in_background(
            self,
            |p| &p.refresh,
            "the gateway's providers",
            |p| async move { p.reload().await },
        );
        self.now()
    }

    pub fn seal(&self, name: &str, key: &str) -> Result<(Vec<u8>, Vec<u8>), Error> {
        warden_crypto::seal(&self.key, name.as_bytes(), key.as_bytes()).map_err(sealing_error)
    }

    pub fn open(&self, r: &ProviderRecord) -> Option<Option<String>> {
        let (Some(nonce), Some(sealed)) = (&r.key_nonce, &r.key_sealed) else { return Some(None) };
        let plain = warden_crypto::open(&self.key, r.name.as_bytes(), nonce, sealed).ok()?;
        String::from_utf8(plain).ok().map(Some)
    }

    pub fn config_of(&self, r: &ProviderRecord, api_key: Option<String>) -> Result<ProviderConfig, Error> {
        let prices: BTreeMap<String, Price> = serde_json::from_str(&r.prices)
            .map_err(|e| Error::Internal(format!("stored provider `{}` has unreadable prices: {e}", r.name)))?;
        Ok(ProviderConfig {
            name: r.name.clone(),
            kind: ProviderKind::OpenAi,
            base_url: Some(r.base_url.clone()),
            api_key,
            region: r.region.clone(),
            external: r.external,
            models: r.models.clone(),
            prices,
        })
    }

    /// Reads the stored providers and rebuilds those whose revision changed (the others
    /// keep their HTTP client and its open connections).
    pub async fn reload(&self) -> Result<(), Error> {
        let records = self.store.list_providers().await?;
        let previous = match self.loaded.read() {
            Ok(g) => g.stored.clone(),
            Err(poisoned) => poisoned.into_inner().stored.clone(),
        };
        let mut stored = BTreeMap::new();
        for r in &records {
            if self.is_fixed(&r.name).is_some() {
                tracing::error!(provider = %r.name, "a stored provider has the name of a configured one; it is not used");
                continue;
            }
            if let Some((rev, p)) = previous.get(&r.name).filter(|(rev, _)| *rev == r.revision) {
                stored.insert(r.name.clone(), (*rev, p.clone()));
                continue;
            }
            let Some(api_key) = self.open(r) else {
                tracing::error!(provider = %r.name, "a stored provider's credential does not open with the master key; it is not used");
                continue;
            };
            let built = self.config_of(r, api_key).and_then(|c| {
                Provider::with_limits(c, self.timeout, self.limits).map_err(|e| Error::Internal(e.to_string()))
            });
            match built {
                Ok(p) => {
                    stored.insert(r.name.clone(), (r.revision, Arc::new(p)));
                }
                Err(e) => tracing::error!(provider = %r.name, error = %e, "a stored provider could not be loaded"),
            }
        }
        let all = Arc::new(self.fixed.iter().cloned().chain(stored.values().map(|(_, p)| p.clone())).collect());
        let mut g = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        *g = Loaded { all, stored };
        Ok(())
    }

    pub fn view_of_record(&self, r: &ProviderRecord) -> Result<ProviderView, Error> {
        let usable = self.open(r).is_some();
        Ok(ProviderView {
            config: self.config_of(r, None)?,
            source: Source::Api,
            has_api_key: r.key_sealed.is_some(),
            usable,
            updated: Some((r.updated_by.clone(), r.updated_at, r.revision)),
        })
    }

    /// Every provider, fixed ones first, as the store has them now.
    pub async fn views(&self) -> Result<Vec<ProviderView>, Error> {
        let mut out: Vec<ProviderView> = self
            .fixed
            .iter()
            .map(|p| ProviderView {
                config: ProviderConfig { api_key: None, ..p.config.clone() },
                source: self.is_fixed(&p.config.name).unwrap_or(Source::Config),
                has_api_key: p.config.api_key.is_some(),
                usable: true,
                updated: None,
            })
            .collect();
        for r in self.store.list_providers().await? {
            if self.is_fixed(&r.name).is_none() {
                out.push(self.view_of_record(&r)?);
            }
        }
        Ok(out)
    }
}
