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

use serde_json::json;
use warden_audit::{Category, ResourceRef};
use warden_core::Principal;
pub use warden_llm::Price;
use warden_llm::{ProviderConfig, ProviderKind};
use warden_store::ProviderRecord;

pub use warden_gateway::{ProviderView, Providers, Source};

use crate::{Action, App, AppError, Authorized, Operation, Target};

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
        Ok(ctx.app.providers.views().await?)
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
        Ok(set.view_of_record(&record)?)
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
        Ok(set.reload().await?)
    }
}
