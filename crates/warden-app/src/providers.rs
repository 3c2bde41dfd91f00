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

use serde_json::json;
use warden_audit::{Category, ResourceRef};
use warden_core::{Principal, SubjectId, Timestamp};
pub use warden_llm::Price;
use warden_llm::{Provider, ProviderConfig, ProviderKind};
use warden_store::{ProviderRecord, Store};

use crate::{Action, App, AppError, Authorized, MasterKey, Operation, Target};

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

pub(crate) struct Providers {
    store: Arc<dyn Store>,
    key: [u8; 32],
    timeout: Duration,
    /// What a provider's answers may be (the longest streamed event).
    limits: warden_llm::Limits,
    fixed: Vec<Arc<Provider>>,
    loaded: RwLock<Loaded>,
    refresh: crate::recent::Refresh,
}

fn sealing_error(_: aes_gcm::Error) -> AppError {
    AppError::Internal("provider credential sealing failed".into())
}

impl Providers {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        keys: &MasterKey,
        timeout: Duration,
        limits: warden_llm::Limits,
        configured: &[ProviderConfig],
    ) -> Result<Self, AppError> {
        let mock = ProviderConfig::mock();
        let fixed = std::iter::once(mock)
            .chain(configured.iter().cloned())
            .map(|p| {
                Provider::with_limits(p, timeout, limits).map(Arc::new).map_err(|e| AppError::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let all = Arc::new(fixed.clone());
        Ok(Self {
            store,
            key: keys.derive(PURPOSE),
            timeout,
            limits,
            fixed,
            loaded: RwLock::new(Loaded { all, stored: BTreeMap::new() }),
            refresh: crate::recent::Refresh::every(RECHECK),
        })
    }

    fn is_fixed(&self, name: &str) -> Option<Source> {
        let p = self.fixed.iter().find(|p| p.config.name == name)?;
        Some(if p.config.kind == ProviderKind::Mock { Source::Builtin } else { Source::Config })
    }

    /// The providers in routing order, as last loaded.
    pub(crate) fn now(&self) -> Arc<Vec<Arc<Provider>>> {
        match self.loaded.read() {
            Ok(g) => g.all.clone(),
            Err(poisoned) => poisoned.into_inner().all.clone(),
        }
    }

    /// The providers for a call; starts a background refresh when the copy is old.
    pub(crate) fn current(self: &Arc<Self>) -> Arc<Vec<Arc<Provider>>> {
        crate::recent::in_background(
            self,
            |p| &p.refresh,
            "the gateway's providers",
            |p| async move { p.reload().await },
        );
        self.now()
    }

    fn seal(&self, name: &str, key: &str) -> Result<(Vec<u8>, Vec<u8>), AppError> {
        crate::seal(&self.key, name.as_bytes(), key.as_bytes()).map_err(sealing_error)
    }

    fn open(&self, r: &ProviderRecord) -> Option<Option<String>> {
        let (Some(nonce), Some(sealed)) = (&r.key_nonce, &r.key_sealed) else { return Some(None) };
        let plain = crate::open(&self.key, r.name.as_bytes(), nonce, sealed).ok()?;
        String::from_utf8(plain).ok().map(Some)
    }

    fn config_of(&self, r: &ProviderRecord, api_key: Option<String>) -> Result<ProviderConfig, AppError> {
        let prices: BTreeMap<String, Price> = serde_json::from_str(&r.prices)
            .map_err(|e| AppError::Internal(format!("stored provider `{}` has unreadable prices: {e}", r.name)))?;
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
    pub(crate) async fn reload(&self) -> Result<(), AppError> {
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
                Provider::with_limits(c, self.timeout, self.limits).map_err(|e| AppError::Internal(e.to_string()))
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

    fn view_of_record(&self, r: &ProviderRecord) -> Result<ProviderView, AppError> {
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
    async fn views(&self) -> Result<Vec<ProviderView>, AppError> {
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

/// The audit detail of a provider: what routing depends on, never the credential.
/// Prices are recorded in micro-USD per million tokens (the ledger's canonical JSON
/// holds integers only).
fn detail(c: &ProviderConfig) -> serde_json::Value {
    let micro = |x: f64| (x * 1e6).round() as i64;
    let prices: BTreeMap<&String, serde_json::Value> =
        c.prices.iter().map(|(m, p)| (m, json!({"input": micro(p.input), "output": micro(p.output)}))).collect();
    json!({"base_url": c.base_url, "region": c.region, "external": c.external, "models": c.models,
           "prices_micro_usd_per_million_tokens": prices})
}

/// Every provider the gateway knows, with where it comes from; credentials are never
/// shown, only whether there is one.
pub struct ListProviders;

impl Operation for ListProviders {
    type Output = Vec<ProviderView>;
    const ACTION: Action = Action::GatewayProviderList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.app.providers.views().await
    }
}

/// What an administrator says about a provider.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    pub base_url: String,
    pub region: String,
    pub external: bool,
    pub models: Vec<String>,
    pub prices: BTreeMap<String, Price>,
}

/// What to do with a provider's credential.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Keep the stored one (none for a new provider).
    Keep,
    Set(String),
    Clear,
}

/// Adds a provider or replaces what is stored of it. Providers from `warden.toml` and
/// the built-in mock cannot be changed here.
pub struct PutProvider {
    pub name: String,
    pub spec: ProviderSpec,
    pub credential: Credential,
}

impl Operation for PutProvider {
    type Output = ProviderView;
    const ACTION: Action = Action::GatewayProviderSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let set = &ctx.app.providers;
        let new_key = match &self.credential {
            Credential::Set(k) => Some(k.clone()),
            _ => None,
        };
        let config = ProviderConfig {
            name: self.name.clone(),
            kind: ProviderKind::OpenAi,
            base_url: Some(self.spec.base_url),
            api_key: new_key.clone(),
            region: self.spec.region,
            external: self.spec.external,
            models: self.spec.models,
            prices: self.spec.prices,
        };
        if let Some(source) = set.is_fixed(&self.name) {
            return Err(fixed_refusal(&self.name, source));
        }
        config.check().map_err(AppError::Invalid)?;
        let existing = stored(&ctx, &self.name).await?;
        let (key_nonce, key_sealed, credential) = match (&self.credential, &existing) {
            (Credential::Set(k), _) => {
                let (n, s) = set.seal(&self.name, k)?;
                (Some(n), Some(s), "set")
            }
            (Credential::Keep, Some(r)) if r.key_sealed.is_some() => {
                (r.key_nonce.clone(), r.key_sealed.clone(), "kept")
            }
            (Credential::Clear, Some(r)) if r.key_sealed.is_some() => (None, None, "cleared"),
            _ => (None, None, "none"),
        };
        let now = ctx.now();
        let record = ProviderRecord {
            name: self.name.clone(),
            base_url: config.base_url.clone().unwrap_or_default(),
            region: config.region.clone(),
            external: config.external,
            models: config.models.clone(),
            prices: serde_json::to_string(&config.prices).map_err(|e| AppError::Internal(e.to_string()))?,
            key_nonce,
            key_sealed,
            created_by: existing.as_ref().map_or_else(|| ctx.principal.id.clone(), |r| r.created_by.clone()),
            created_at: existing.as_ref().map_or(now, |r| r.created_at),
            updated_by: ctx.principal.id.clone(),
            updated_at: now,
            revision: existing.as_ref().map_or(1, |r| r.revision + 1),
        };
        if !ctx.store().put_provider(&record).await? {
            return Err(AppError::WrongState(format!(
                "provider `{}` was changed by someone else meanwhile; read it again and retry",
                self.name
            )));
        }
        let before = existing.as_ref().map(|r| set.config_of(r, None)).transpose()?;
        record_change(
            &ctx,
            &self.name,
            json!({"revision": record.revision, "credential": credential,
                          "before": before.as_ref().map(detail), "after": detail(&config)}),
        )
        .await?;
        set.reload().await?;
        set.view_of_record(&record)
    }
}

/// What the store holds of provider `name`.
async fn stored(ctx: &Authorized<'_>, name: &str) -> Result<Option<ProviderRecord>, AppError> {
    Ok(ctx.store().list_providers().await?.into_iter().find(|r| r.name == name))
}

/// Records a change to provider `name` with what changed (never its credential).
async fn record_change(ctx: &Authorized<'_>, name: &str, detail: serde_json::Value) -> Result<(), AppError> {
    let mut e = ctx.app.event(Category::Change, "gateway.provider.change", "success", ctx.principal, ctx.meta);
    e.resource = Some(ResourceRef { type_: "provider".into(), uid: name.to_string() });
    e.detail = detail;
    ctx.app.record(&e).await
}

fn fixed_refusal(name: &str, source: Source) -> AppError {
    AppError::Rule {
        status: 409,
        rule: "gateway.providers.fixed".into(),
        message: match source {
            Source::Builtin => format!("provider `{name}` is built in and cannot be changed"),
            _ => format!("provider `{name}` is configured in warden.toml; change it there"),
        },
    }
}

/// Removes a stored provider; calls to its models fail over to others or are refused.
pub struct DeleteProvider {
    pub name: String,
}

impl Operation for DeleteProvider {
    type Output = ();
    const ACTION: Action = Action::GatewayProviderSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        let set = &ctx.app.providers;
        if let Some(source) = set.is_fixed(&self.name) {
            return Err(fixed_refusal(&self.name, source));
        }
        let existing = stored(&ctx, &self.name).await?;
        let Some(existing) = existing else { return Err(AppError::NotFound(format!("provider `{}`", self.name))) };
        if !ctx.store().delete_provider(&self.name).await? {
            return Err(AppError::NotFound(format!("provider `{}`", self.name)));
        }
        record_change(&ctx, &self.name, json!({"deleted": true, "before": detail(&set.config_of(&existing, None)?)}))
            .await?;
        set.reload().await
    }
}
