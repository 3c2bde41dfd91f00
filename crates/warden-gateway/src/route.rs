//! Which providers may answer a call, in which order, and the failover loop over them.

use std::sync::Arc;

use warden_core::Principal;
use warden_llm::{LlmError, Provider};
use warden_policy_doc::Document;

use crate::*;

/// Providers that offer `model` and that `class` allows, in configured order; or why
/// there are none.
/// Where a call comes from: a zone-bound key's zone, its region and egress rules.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub zone: Option<String>,
    pub region: Option<String>,
    /// Hosts the zone may reach, when its egress is deny-by-default.
    pub egress_allow: Option<Vec<String>>,
}

impl Origin {
    pub fn of(doc: &Document, principal: &Principal) -> Origin {
        let Some(zone) = principal.scope.as_ref().and_then(|s| s.zone.clone()) else { return Origin::default() };
        let z = doc.zones.get(&zone);
        Origin {
            region: z.map(|z| z.region.clone()),
            egress_allow: z.filter(|z| z.egress.default_deny).map(|z| z.egress.allow.clone()),
            zone: Some(zone),
        }
    }

    /// Why the zone's egress rules keep the call from `p`, if they do. Providers without
    /// a URL (the built-in mock) run inside Warden.
    pub fn refuses(&self, p: &Provider) -> Option<String> {
        let allow = self.egress_allow.as_ref()?;
        let host = p.config.base_url.as_deref().map(host_of)?;
        (!allow.iter().any(|a| a == host)).then(|| {
            let zone = self.zone.as_deref().unwrap_or("");
            format!(
                "zone `{zone}` allows egress only to {} (provider `{}` is at `{host}`; rule zones.{zone}.egress)",
                if allow.is_empty() { "nothing".to_string() } else { allow.join(", ") },
                p.config.name
            )
        })
    }
}

/// The host of a URL: between `://` and the next `/` or `:`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest)
}

pub fn route(
    providers: &[Arc<Provider>],
    switches: &Arc<Switches>,
    model: &str,
    class: &DataClass,
    origin: &Origin,
) -> Result<Vec<Arc<Provider>>, GatewayError> {
    let offering: Vec<Arc<Provider>> = providers.iter().filter(|p| p.offers(model)).cloned().collect();
    if offering.is_empty() {
        return Err(GatewayError::new(
            404,
            "invalid_request_error",
            "model_not_found",
            format!("The model `{model}` does not exist or is not offered by any provider"),
            Some("model"),
        ));
    }
    let why = |p: &Provider| class.refuses(p).or_else(|| origin.refuses(p));
    let (mut allowed, refused): (Vec<Arc<Provider>>, Vec<Arc<Provider>>) =
        offering.into_iter().partition(|p| why(p).is_none());
    if allowed.is_empty() {
        let why: Vec<String> = refused.iter().filter_map(|p| why(p)).collect();
        return Err(GatewayError::forbidden(why.join("; ")));
    }
    // The caller's region first (a stable sort keeps the configured order otherwise).
    if let Some(region) = &origin.region {
        allowed.sort_by_key(|p| p.config.region != *region);
    }
    let mut open = Vec::new();
    let mut switched = Vec::new();
    for p in allowed {
        match switches.blocking(&p.config) {
            None => open.push(p),
            Some(why) => switched.push(format!("{} (provider `{}`)", why, p.config.name)),
        }
    }
    if open.is_empty() {
        return Err(GatewayError::new(403, "permission_denied", "kill_switch", switched.join("; "), None));
    }
    Ok(open)
}

/// Calls the providers in order until one answers; a retryable failure moves on to the
/// next, any other ends the call. On failure the held budget is released.
pub async fn first_answer<T, F, Fut>(
    providers: &[Arc<Provider>],
    held: Held,
    mut call: F,
) -> Result<(Arc<Provider>, T, Held), GatewayError>
where
    F: FnMut(Arc<Provider>) -> Fut,
    Fut: std::future::Future<Output = Result<T, LlmError>>,
{
    let mut last = None;
    for p in providers {
        match call(p.clone()).await {
            Ok(answer) => return Ok((p.clone(), answer, held)),
            Err(e) if e.retryable() => {
                tracing::warn!(provider = %p.config.name, error = %e, "provider failed; trying the next allowed one");
                last = Some(e);
            }
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    held.settle(0).await;
    Err(upstream_error(last.unwrap_or(LlmError::Unreachable("no provider answered".into()))))
}
