//! The governed LLM gateway: a gateway key's data class decides which providers may
//! see a request (external or not, in which regions) and what personal data is masked
//! before it leaves; placeholders are put back into the answer; every call is audited
//! with its metadata (never its payload).
//!
//! The classes and their rules are those of the policy document in force. A request is
//! checked against the OpenAI API's definition first (unknown fields and wrong types are
//! refused), and every string a provider would read goes through the class's redaction.
//!
//! Audit records: by default an answer waits until its record is durable. With
//! `wait_for_audit = false` it is returned once its record is queued, and the record is
//! committed with the next group commit (milliseconds later); a ledger whose last commit
//! failed then stops calls until one succeeds. A stream's record is written when it ends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{json, Value};
use warden_audit::Category;
use warden_core::{Principal, ProjectId};
use warden_llm::{Event, LlmError, Provider, Reply};
use warden_policy::{Action, Resource};
use warden_redact::{Mode, Redactor, StreamRestorer, Vault};
use warden_zones::Redaction;

use crate::class::DataClass;
use crate::policy::ActivePolicy;

use crate::{App, AppError, Authorized, Operation, Target};

/// The kill switches that are on, refreshed from the store in the background at most
/// every half second (so every replica sees a switch within about that time) and at
/// once after this replica set one. Calls and streamed events read the copy in place.
pub struct Switches {
    store: Arc<dyn warden_store::Store>,
    on: std::sync::RwLock<Arc<Vec<warden_store::SwitchRecord>>>,
    refresh: crate::recent::Refresh,
}

impl Switches {
    const FRESH: std::time::Duration = std::time::Duration::from_millis(500);

    pub fn new(store: Arc<dyn warden_store::Store>) -> Self {
        Self { store, on: Default::default(), refresh: crate::recent::Refresh::every(Self::FRESH) }
    }

    fn now(&self) -> Arc<Vec<warden_store::SwitchRecord>> {
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
        crate::recent::in_background(
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

/// Tokens a call may use, reserved before it is made: the prompt's estimate plus the
/// completion it asks for (or 512). Settled against the provider's usage afterwards.
fn estimate(body: &Value) -> i64 {
    let prompt: u64 = ["messages", "input"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(|v| warden_llm::estimate_tokens(&v.to_string()))
        .sum();
    let completion = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(if body.get("input").is_some() { 0 } else { 512 });
    i64::try_from(prompt.saturating_mul(2).saturating_add(completion)).unwrap_or(i64::MAX)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const DAY_MS: i64 = 86_400_000;

/// Cost budgets are kept beside token budgets under `usd:<period>`, in micro-USD.
pub const COST_PREFIX: &str = "usd:";

/// The start (ms) of the budget window `period` that `now` falls in (UTC).
fn window(period: &str, now: warden_core::Timestamp) -> i64 {
    let day = now.0.div_euclid(DAY_MS);
    match period.trim_start_matches(COST_PREFIX) {
        "month" => {
            let (_, _, d) = civil(day);
            (day - (d - 1)) * DAY_MS
        }
        _ => day * DAY_MS,
    }
}

/// Counters a call holds reservations on, returned or settled when it ends.
struct Held {
    store: std::sync::Arc<dyn warden_store::Store>,
    /// The tokens reserved on each counter: the call's estimate.
    amount: i64,
    /// (scope, window) of each token counter held.
    tokens: Vec<(String, i64)>,
    /// (scope, window) of each cost counter held, the micro-USD reserved on each, and
    /// the price used: the highest (output) price of any provider that may answer, so
    /// cost budgets never undercount.
    costs: Vec<(String, i64)>,
    cost_amount: i64,
    price: f64,
}

fn cost_of(tokens: i64, price: f64) -> i64 {
    // Tokens times micro-USD per token, rounded up.
    (tokens.max(0) as f64 * price).ceil().min(i64::MAX as f64) as i64
}

impl Held {
    /// Corrects every token (and cost) reservation to what the call used.
    async fn settle(self, used: i64) {
        let corrections = self
            .tokens
            .iter()
            .map(|(s, w)| (s, *w, used - self.amount))
            .chain(self.costs.iter().map(|(s, w)| (s, *w, cost_of(used, self.price) - self.cost_amount)));
        for (scope, w, delta) in corrections {
            if let Err(e) = self.store.adjust(scope, w, delta).await {
                tracing::error!(error = %e, scope, "could not settle a gateway reservation");
            }
        }
    }
}

/// Reserves the call's request and tokens against the key's rate limits and the
/// project's budgets, or says which limit it would break (429). Nothing is held when
/// it refuses.
async fn reserve(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    body: &Value,
    model: &str,
    providers: &[std::sync::Arc<Provider>],
) -> Result<Held, GatewayError> {
    let store = ctx.app.store.clone();
    let now = ctx.now();
    let minute = now.0 - now.0.rem_euclid(60_000);
    let key = ctx.principal.scope.as_ref().map(|s| s.token_id.to_string()).unwrap_or_default();
    // Micro-USD per token: the highest price any allowed provider charges for the model.
    // An external provider without a price cannot be counted, so with a cost budget it
    // is refused rather than let through uncounted.
    let unpriced = providers.iter().find(|p| p.config.external && p.config.price(model).is_none());
    let price =
        providers.iter().filter_map(|p| p.config.price(model)).map(|p| p.input.max(p.output)).fold(0.0_f64, f64::max);
    let fail = |msg: String, code: &str| GatewayError::new(429, "rate_limit_error", code, msg, None);
    let unavailable =
        |e: warden_store::StoreError| GatewayError::new(503, "server_error", "store_unavailable", e.to_string(), None);
    let budgets =
        ctx.app.recent.budgets.get_or_load(project.clone(), || store.budgets(project)).await.map_err(unavailable)?;
    let tpm = ctx.app.config.key_tokens_per_minute;
    // The estimate walks the whole body: only when a token limit or budget needs it.
    let amount = if tpm > 0 || !budgets.is_empty() { estimate(body) } else { 0 };
    let mut held = Held {
        store: store.clone(),
        amount,
        tokens: Vec::new(),
        costs: Vec::new(),
        cost_amount: cost_of(amount, price),
        price,
    };
    let rpm = ctx.app.config.key_requests_per_minute;
    if rpm > 0 && !store.reserve(&format!("rpm:{key}"), minute, 1, rpm).await.map_err(unavailable)? {
        return Err(fail(format!("rate limit: this key may make {rpm} requests per minute"), "rate_limit_exceeded"));
    }
    let mut checks: Vec<(String, i64, i64, String, &str)> = Vec::new();
    if tpm > 0 {
        checks.push((
            format!("tpm:{key}"),
            minute,
            tpm,
            format!("rate limit: this key may use {tpm} tokens per minute"),
            "rate_limit_exceeded",
        ));
    }
    let mut cost_checks: Vec<(String, i64, i64, String)> = Vec::new();
    for (period, limit) in budgets {
        let w = window(&period, now);
        if let Some(p) = period.strip_prefix(COST_PREFIX) {
            if let Some(u) = unpriced {
                held.settle(0).await;
                return Err(GatewayError::forbidden(format!(
                    "the project has a {p} cost budget and provider `{}` has no price for `{model}`; \
                     calls that cannot be counted are not made",
                    u.config.name
                )));
            }
            cost_checks.push((
                format!("budget:{project}:{period}"),
                w,
                limit,
                format!(
                    "the project's {p} budget of {:.2} USD would be exceeded; the call was not made",
                    limit as f64 / 1e6
                ),
            ));
            continue;
        }
        checks.push((
            format!("budget:{project}:{period}"),
            w,
            limit,
            format!("the project's {period} budget of {limit} tokens would be exceeded; the call was not made"),
            "insufficient_quota",
        ));
    }
    for (scope, w, limit, msg, code) in checks {
        if !store.reserve(&scope, w, amount, limit).await.map_err(unavailable)? {
            held.settle(0).await;
            return Err(fail(msg, code));
        }
        held.tokens.push((scope, w));
    }
    for (scope, w, limit, msg) in cost_checks {
        if !store.reserve(&scope, w, held.cost_amount, limit).await.map_err(unavailable)? {
            held.settle(0).await;
            return Err(fail(msg, "insufficient_quota"));
        }
        held.costs.push((scope, w));
    }
    Ok(held)
}

/// An error in OpenAI's shape: the HTTP status and `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayError {
    pub status: u16,
    pub body: Value,
}

/// A request that breaks the OpenAI request schema or a limit: the caller's mistake.
impl From<warden_llm::RequestError> for GatewayError {
    fn from(r: warden_llm::RequestError) -> Self {
        GatewayError { status: 400, body: r.to_openai() }
    }
}

impl GatewayError {
    pub fn new(status: u16, kind: &str, code: &str, message: impl Into<String>, param: Option<&str>) -> Self {
        Self { status, body: json!({"error": {"message": message.into(), "type": kind, "param": param, "code": code}}) }
    }
    fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::new(400, "invalid_request_error", "invalid_request", message, param)
    }
    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "permission_denied", "policy_denied", message, None)
    }
}

/// Keeps a call's payloads (request as sent, answer as received) when the class's
/// policy says so.
async fn log_payload(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    class: &DataClass,
    sent: &Value,
    received: &Value,
) -> Result<Option<String>, GatewayError> {
    let Some(target) = ctx.app.payload_target(ctx.principal, project, class) else { return Ok(None) };
    ctx.app
        .log_payload(&target, sent, received)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not keep a payload the policy requires");
            GatewayError::new(503, "server_error", "payload_log_unavailable", "the payload log is unavailable", None)
        })
        .map(Some)
}

/// The caller's gateway key: its project and class (narrowed by the request header),
/// with the class's rules from the policy document in force.
fn key_of(
    policy: &ActivePolicy,
    principal: &Principal,
    header: Option<&str>,
) -> Result<(ProjectId, DataClass), GatewayError> {
    let scope = principal.scope.as_ref();
    let (Some(project), Some(class)) =
        (scope.and_then(|s| s.project.clone()), scope.and_then(|s| s.data_class.as_deref()))
    else {
        return Err(GatewayError::forbidden(
            "this credential is not a gateway key; create a token bound to a project and a data class",
        ));
    };
    let key_class = DataClass::of(policy, class).ok_or_else(|| {
        GatewayError::forbidden(format!("the key's data class `{class}` is not declared in the policy in force"))
    })?;
    let class = match header {
        None => key_class,
        Some(h) => {
            let asked = DataClass::of(policy, h).ok_or_else(|| {
                GatewayError::invalid(format!("unknown data class `{h}` in x-warden-data-class"), None)
            })?;
            if !asked.at_least_as_strict_as(&key_class) {
                return Err(GatewayError::forbidden(format!(
                    "a request may narrow its key's data class, never widen it: `{}` is less strict than `{}`",
                    asked.name, key_class.name
                )));
            }
            asked
        }
    };
    Ok((project, class))
}

fn model_of(body: &Value) -> Result<String, GatewayError> {
    match body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        _ => Err(GatewayError::invalid("`model` is required and must be a string", Some("model"))),
    }
}

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
    fn of(policy: &ActivePolicy, principal: &Principal) -> Origin {
        let Some(zone) = principal.scope.as_ref().and_then(|s| s.zone.clone()) else { return Origin::default() };
        let z = policy.document.zones.get(&zone);
        Origin {
            region: z.map(|z| z.region.clone()),
            egress_allow: z.filter(|z| z.egress.default_deny).map(|z| z.egress.allow.clone()),
            zone: Some(zone),
        }
    }

    /// Why the zone's egress rules keep the call from `p`, if they do. Providers without
    /// a URL (the built-in mock) run inside Warden.
    fn refuses(&self, p: &Provider) -> Option<String> {
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
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest)
}

async fn route(app: &App, model: &str, class: &DataClass, origin: &Origin) -> Result<Vec<Arc<Provider>>, GatewayError> {
    let offering: Vec<Arc<Provider>> = app.providers().iter().filter(|p| p.offers(model)).cloned().collect();
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
        match app.switches.blocking(&p.config) {
            None => open.push(p),
            Some(why) => switched.push(format!("{} (provider `{}`)", why, p.config.name)),
        }
    }
    if open.is_empty() {
        return Err(GatewayError::new(403, "permission_denied", "kill_switch", switched.join("; "), None));
    }
    Ok(open)
}

/// The redactor for a class, or none when its data goes out as written.
fn redactor(app: &App, class: &DataClass) -> Option<Redactor> {
    let mode = match class.redaction {
        Redaction::None => return None,
        Redaction::Mask => Mode::Mask,
        Redaction::Hash => Mode::Hash { key: app.keys.derive("gateway-redaction-hash").to_vec() },
        Redaction::Drop => Mode::Drop,
    };
    Some(Redactor::new(warden_redact::Detector::new(), mode))
}

/// Masks personal data in one string in place, adding to the counts.
fn redact_string(r: &Redactor, s: &mut String, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    let out = r.redact(s, vault);
    for (k, v) in out.counts {
        *counts.entry(k).or_insert(0) += v;
    }
    *s = out.text;
}

/// Masks personal data in every string of a chat request that the provider reads:
/// messages, names, tool calls, tool definitions, schemas, `user`, `metadata`, … (all but
/// the structural fields; see `warden_llm::visit_chat_text`).
fn redact_request(r: &Redactor, body: &mut Value, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    warden_llm::visit_chat_text(body, &mut |s: &mut String| redact_string(r, s, vault, counts));
}

/// Masks personal data in every string of an embeddings request (inputs, `user`).
fn redact_inputs(r: &Redactor, body: &mut Value, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    warden_llm::visit_embeddings_text(body, &mut |s: &mut String| redact_string(r, s, vault, counts));
}

/// What the audit record of a call says.
struct CallRecord {
    project: ProjectId,
    key: Option<String>,
    class: String,
    model: String,
    provider: String,
    region: String,
    external: bool,
    redactions: BTreeMap<String, usize>,
    started: Instant,
    /// The sealed payload log, when the class keeps one.
    payload_log: Option<String>,
}

impl CallRecord {
    fn new(
        ctx: &Authorized<'_>,
        project: &ProjectId,
        class: &DataClass,
        model: &str,
        p: &Provider,
        redactions: BTreeMap<String, usize>,
        started: Instant,
    ) -> Self {
        Self {
            project: project.clone(),
            key: ctx.principal.scope.as_ref().map(|s| s.token_id.to_string()),
            class: class.name.clone(),
            model: model.to_string(),
            provider: p.config.name.clone(),
            region: p.config.region.clone(),
            external: p.config.external,
            redactions,
            started,
            payload_log: None,
        }
    }

    /// A whole answer: settles the reservation to the reported usage (or keeps the
    /// estimate) and records the call.
    async fn answered(
        self,
        ctx: &Authorized<'_>,
        action: &str,
        held: Held,
        usage: Option<&Value>,
    ) -> Result<(), GatewayError> {
        let mut e = self.event(ctx.app, ctx.principal, ctx.meta, action);
        usage_into(&mut e.detail, usage);
        let used = total_tokens(usage).unwrap_or(held.amount);
        held.settle(used).await;
        record_call(ctx, e).await
    }

    fn event(
        &self,
        app: &App,
        ctx_principal: &Principal,
        meta: &crate::RequestMeta,
        action: &str,
    ) -> warden_audit::AuditEvent {
        let mut e = app.event(Category::Change, action, "success", ctx_principal, meta);
        e.project = Some(self.project.to_string());
        e.data_classes = vec![self.class.clone()];
        let redactions: serde_json::Map<String, Value> =
            self.redactions.iter().map(|(k, v)| (format!("redacted_{}", k.to_lowercase()), json!(v))).collect();
        let mut detail = json!({
            "model": self.model,
            "provider": self.provider,
            "region": self.region,
            // An external provider is a transfer to an external destination.
            "transfer": if self.external { "external" } else { "internal" },
            "latency_ms": self.started.elapsed().as_millis() as i64,
        });
        if let Some(k) = &self.key {
            put(&mut detail, "key", json!(k));
        }
        if let Some(p) = &self.payload_log {
            put(&mut detail, "payload_log", json!(p));
        }
        if let (Some(d), Value::Object(r)) = (detail.as_object_mut(), Value::Object(redactions)) {
            d.extend(r);
        }
        e.detail = detail;
        e
    }
}

/// Sets `key` on a JSON object (anything else is left alone).
fn put(v: &mut Value, key: &str, x: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), x);
    }
}

fn total_tokens(usage: Option<&Value>) -> Option<i64> {
    usage.and_then(|u| u.get("total_tokens")).and_then(Value::as_i64)
}

fn usage_into(detail: &mut Value, usage: Option<&Value>) {
    if let Some(u) = usage {
        for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            if let Some(n) = u.get(k).and_then(Value::as_i64) {
                put(detail, k, json!(n));
            }
        }
    }
}

/// A chat completion through the gateway.
pub struct Chat {
    pub body: Value,
    /// `x-warden-data-class`.
    pub class_header: Option<String>,
}

/// A chat completion's answer: JSON, or server-sent events ready to send (each already
/// `data: …\n\n`, ending with `data: [DONE]`).
pub enum ChatReply {
    Json(Value),
    Stream(futures_util::stream::BoxStream<'static, bytes::Bytes>),
}

fn gateway_target(principal: &Principal) -> Result<Target, AppError> {
    match principal.scope.as_ref().and_then(|s| s.project.clone()) {
        Some(p) => Ok(Target::of(Resource::Project(p))),
        None => Err(AppError::Forbidden(
            "this credential is not a gateway key; create a token bound to a project and a data class".into(),
        )),
    }
}

/// Events as bytes on the wire.
fn sse(v: &Value) -> bytes::Bytes {
    bytes::Bytes::from(format!("data: {v}\n\n"))
}

impl Operation for Chat {
    type Output = Result<ChatReply, GatewayError>;
    const ACTION: Action = Action::GatewayInvoke;
    async fn target(&self, _: &App, principal: &Principal) -> Result<Target, AppError> {
        gateway_target(principal)
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let labels = (self.body.get("model").and_then(Value::as_str).map(str::to_string), self.class_header.clone());
        let out = chat(&ctx, self).await;
        Ok(refused(&ctx, "gateway.chat", labels, out).await)
    }
}

/// Records an answered call. By default the answer waits until the record is durable;
/// with `wait_for_audit = false` the record is queued for the next group commit and the
/// answer does not wait for it (saving the commit's latency at the risk of losing the
/// records of the last moments before a crash).
async fn record_call(ctx: &Authorized<'_>, e: warden_audit::AuditEvent) -> Result<(), GatewayError> {
    if ctx.app.config.gateway_wait_for_audit {
        return ctx
            .app
            .record(&e)
            .await
            .map_err(|err| GatewayError::new(503, "server_error", "audit_unavailable", err.to_string(), None));
    }
    ctx.app
        .ledger()
        .append_behind(&e)
        .await
        .map_err(|err| GatewayError::new(503, "server_error", "audit_unavailable", err.to_string(), None))
}

/// When answers do not wait for their records, a ledger that has just failed to commit
/// stops calls (fail closed) until a commit succeeds again.
fn ledger_ok(app: &App) -> Result<(), GatewayError> {
    if !app.config.gateway_wait_for_audit && app.ledger().failing() {
        return Err(GatewayError::new(
            503,
            "server_error",
            "audit_unavailable",
            "the audit ledger cannot record calls right now; try again shortly",
            None,
        ));
    }
    Ok(())
}

/// A call that was refused or failed is recorded too: refusals by a class rule as
/// `deny`, everything else as `failure`, with the reason.
/// A gateway call's answer, its refusal (if it is one) recorded first. `labels` are the
/// requested model and the `x-warden-data-class` header, read before the call took the
/// body.
async fn refused<T>(
    ctx: &Authorized<'_>,
    action: &str,
    labels: (Option<String>, Option<String>),
    out: Result<T, GatewayError>,
) -> Result<T, GatewayError> {
    if let Err(err) = &out {
        record_refusal(ctx, action, labels, err).await;
    }
    out
}

async fn record_refusal(
    ctx: &Authorized<'_>,
    action: &str,
    labels: (Option<String>, Option<String>),
    err: &GatewayError,
) {
    let (model, header) = labels;
    let outcome = if err.status == 403 { "deny" } else { "failure" };
    let mut e = ctx.app.event(Category::Change, action, outcome, ctx.principal, ctx.meta);
    let scope = ctx.principal.scope.as_ref();
    e.project = scope.and_then(|s| s.project.as_ref()).map(|p| p.to_string());
    e.data_classes = header.or_else(|| scope.and_then(|s| s.data_class.clone())).into_iter().collect();
    e.reason = err.body.pointer("/error/message").and_then(Value::as_str).map(str::to_string);
    let mut detail = json!({"status": i64::from(err.status)});
    if let Some(m) = model {
        put(&mut detail, "model", json!(m));
    }
    if let Some(k) = scope.map(|s| s.token_id.to_string()) {
        put(&mut detail, "key", json!(k));
    }
    e.detail = detail;
    if let Err(err) = ctx.app.record(&e).await {
        tracing::error!(error = %err, "could not record a refused gateway call");
    }
}

/// A gateway call made ready for its providers: the caller's key read, the body checked
/// and redacted, the providers its class allows chosen in order, its budget held.
struct Prepared {
    started: Instant,
    project: ProjectId,
    class: DataClass,
    model: String,
    body: Value,
    providers: Vec<Arc<Provider>>,
    vault: Vault,
    redactions: BTreeMap<String, usize>,
    held: Held,
}

/// The steps every gateway call shares, in order. `check` is the endpoint's request
/// definition; `redact` redacts the endpoint's text fields (after refusing what cannot
/// be redacted).
async fn prepare(
    ctx: &Authorized<'_>,
    mut body: Value,
    class_header: Option<&str>,
    check: fn(&Value) -> Result<(), warden_llm::RequestError>,
    redact: fn(&Redactor, &DataClass, &mut Value, &mut Vault, &mut BTreeMap<String, usize>) -> Result<(), GatewayError>,
) -> Result<Prepared, GatewayError> {
    let started = Instant::now();
    ledger_ok(ctx.app)?;
    let policy = ctx.app.policy().await;
    let (project, class) = key_of(&policy, ctx.principal, class_header)?;
    if !body.is_object() {
        return Err(GatewayError::invalid("the body must be a JSON object", None));
    }
    let model = model_of(&body)?;
    // Every field as the OpenAI API defines it (and its limits), before anything is
    // reserved or any provider called; an unknown field would reach the provider unseen
    // by redaction, so it is refused.
    check(&body)?;
    let providers = route(ctx.app, &model, &class, &Origin::of(&policy, ctx.principal)).await?;
    let mut vault = Vault::default();
    let mut redactions = BTreeMap::new();
    if let Some(r) = redactor(ctx.app, &class) {
        redact(&r, &class, &mut body, &mut vault, &mut redactions)?;
    }
    let held = reserve(ctx, &project, &body, &model, &providers).await?;
    Ok(Prepared { started, project, class, model, body, providers, vault, redactions, held })
}

/// Calls the providers in order until one answers; a retryable failure moves on to the
/// next, any other ends the call. On failure the held budget is released.
async fn first_answer<T, F, Fut>(
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

fn redact_chat(
    r: &Redactor,
    class: &DataClass,
    body: &mut Value,
    vault: &mut Vault,
    counts: &mut BTreeMap<String, usize>,
) -> Result<(), GatewayError> {
    if let Some(part) = warden_llm::opaque_parts(body).first() {
        return Err(GatewayError::forbidden(format!(
            "data class `{}` requires redaction, and `{part}` is an image, audio or file that cannot be \
             checked for personal data; send text only (rule data_classes.{}.llm_redaction)",
            class.name, class.name
        )));
    }
    redact_request(r, body, vault, counts);
    Ok(())
}

fn redact_embeddings(
    r: &Redactor,
    _: &DataClass,
    body: &mut Value,
    vault: &mut Vault,
    counts: &mut BTreeMap<String, usize>,
) -> Result<(), GatewayError> {
    redact_inputs(r, body, vault, counts);
    Ok(())
}

async fn chat(ctx: &Authorized<'_>, op: Chat) -> Result<ChatReply, GatewayError> {
    let Prepared { started, project, class, model, body, providers, vault, redactions, held } =
        prepare(ctx, op.body, op.class_header.as_deref(), warden_llm::check_chat_request, redact_chat).await?;
    let (p, reply, held) = first_answer(&providers, held, |p| {
        let body = &body;
        async move { p.chat(body).await }
    })
    .await?;
    let record = CallRecord::new(ctx, &project, &class, &model, &p, redactions, started);
    Ok(match reply {
        Reply::Json(mut v) => {
            let mut record = record;
            // Settled and recorded either way; a payload the policy requires
            // but could not keep fails the call (closed).
            let logged = log_payload(ctx, &project, &class, &body, &v).await;
            record.payload_log = logged.as_ref().ok().cloned().flatten();
            restore_json(&mut v, &vault);
            record.answered(ctx, "gateway.chat", held, v.get("usage")).await?;
            logged?;
            ChatReply::Json(v)
        }
        Reply::Stream(events) => {
            let e = record.event(ctx.app, ctx.principal, ctx.meta, "gateway.chat");
            let watch = (ctx.app.switches.clone(), p.config.clone());
            let payload =
                ctx.app.payload_target(ctx.principal, &project, &class).map(|t| ctx.app.stream_payload(t, &body));
            let ledger = ctx.app.ledger().clone();
            ChatReply::Stream(restore_stream(events, vault, e, ledger, watch, held, payload))
        }
    })
}

fn upstream_error(e: LlmError) -> GatewayError {
    match e {
        // The provider's own client errors pass through in its words.
        LlmError::Status { status, body } if (400..500).contains(&status) && status != 429 => {
            GatewayError { status, body }
        }
        LlmError::Status { status: 429, .. } => {
            GatewayError::new(429, "rate_limit_error", "upstream_rate_limited", "the provider is rate limiting", None)
        }
        LlmError::Timeout => GatewayError::new(504, "server_error", "upstream_timeout", e.to_string(), None),
        // A request no provider may be sent (too many inputs, wrong types): the caller's.
        LlmError::InvalidRequest(r) => r.into(),
        other => GatewayError::new(502, "server_error", "upstream_error", other.to_string(), None),
    }
}

/// Puts the masked values back into every string of each answer's message: its text,
/// refusal, tool calls (names and arguments) and function call.
fn restore_json(v: &mut Value, vault: &Vault) {
    if vault.is_empty() {
        return;
    }
    if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
        for c in choices {
            if let Some(m) = c.get_mut("message") {
                warden_llm::for_each_string(m, &mut |s| *s = vault.restore(s));
            }
        }
    }
}

/// A text field of a streamed answer's delta, restored on its own (placeholders may be
/// split across events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Content,
    Refusal,
    FunctionCall,
    /// A tool call's arguments, by the tool call's index.
    Tool(i64),
}

impl Slot {
    /// A delta carrying `text` in this field.
    fn delta(self, text: String) -> Value {
        match self {
            Slot::Content => json!({"content": text}),
            Slot::Refusal => json!({"refusal": text}),
            Slot::FunctionCall => json!({"function_call": {"arguments": text}}),
            Slot::Tool(i) => json!({"tool_calls": [{"index": i, "function": {"arguments": text}}]}),
        }
    }
}

/// The text fields of a streamed delta that may carry placeholders.
fn streamed_text(delta: &mut Value) -> Vec<(Slot, &mut String)> {
    let mut out = Vec::new();
    let Some(d) = delta.as_object_mut() else { return out };
    for (k, v) in d.iter_mut() {
        match (k.as_str(), v) {
            ("content", Value::String(s)) => out.push((Slot::Content, s)),
            ("refusal", Value::String(s)) => out.push((Slot::Refusal, s)),
            ("function_call", f) => {
                if let Some(Value::String(s)) = f.get_mut("arguments") {
                    out.push((Slot::FunctionCall, s));
                }
            }
            ("tool_calls", Value::Array(calls)) => {
                for (n, call) in calls.iter_mut().enumerate() {
                    let i = call.get("index").and_then(Value::as_i64).unwrap_or(i64::try_from(n).unwrap_or(0));
                    if let Some(Value::String(s)) = call.pointer_mut("/function/arguments") {
                        out.push((Slot::Tool(i), s));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Passes events on as they arrive, putting values back into content deltas (holding
/// back only a `[` that may start a placeholder), and writes the audit record when the
/// stream ends, with the usage the provider reported.
fn restore_stream(
    events: warden_llm::EventStream,
    vault: Vault,
    mut record: warden_audit::AuditEvent,
    ledger: std::sync::Arc<warden_audit::Ledger>,
    watch: (std::sync::Arc<Switches>, warden_llm::ProviderConfig),
    held: Held,
    payload: Option<crate::payload::StreamPayload>,
) -> futures_util::stream::BoxStream<'static, bytes::Bytes> {
    struct State {
        /// The payloads to keep when the stream ends, when the class keeps them.
        payload: Option<crate::payload::StreamPayload>,
        held: Option<Held>,
        /// Tokens the provider reported, or the characters streamed (estimated).
        used: Option<i64>,
        streamed: i64,
        watch: (std::sync::Arc<Switches>, warden_llm::ProviderConfig),
        events: warden_llm::EventStream,
        vault: Vault,
        /// One per choice and streamed text field: (choice, what), what being
        /// `content`, `refusal`, `function_call`, or the index of a tool call.
        restorers: BTreeMap<(i64, Slot), StreamRestorer>,
        record: Option<(warden_audit::AuditEvent, std::sync::Arc<warden_audit::Ledger>)>,
        done: bool,
    }
    impl State {
        /// Settles the reservations and writes the audit record, once.
        fn finish(&mut self, outcome: &str, reason: Option<String>) {
            if let Some(held) = self.held.take() {
                let used = self.used.unwrap_or(if self.streamed > 0 { held.amount.min(self.streamed) } else { 0 });
                tokio::spawn(held.settle(used));
            }
            let payload = self.payload.take();
            if let Some((mut e, ledger)) = self.record.take() {
                e.outcome = outcome.into();
                e.reason = reason;
                tokio::spawn(async move {
                    // The payloads first, so the record can name their log.
                    if let Some(p) = payload {
                        match p.keep().await {
                            Ok(id) => put(&mut e.detail, "payload_log", json!(id)),
                            Err(err) => tracing::error!(error = %err, "could not keep a streamed payload"),
                        }
                    }
                    if let Err(err) = ledger.append(&e).await {
                        tracing::error!(error = %err, "could not record a gateway call");
                    }
                });
            }
        }
    }
    impl Drop for State {
        /// The client went away mid-stream: the upstream stream is dropped with this
        /// state, and the call still settles and is recorded.
        fn drop(&mut self) {
            self.finish("failure", Some("the client disconnected before the stream ended".into()));
        }
    }
    record.outcome = "success".into();
    let state = State {
        payload,
        held: Some(held),
        used: None,
        streamed: 0,
        watch,
        events,
        vault,
        restorers: BTreeMap::new(),
        record: Some((record, ledger)),
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let finish = |st: &mut State, outcome: &str, reason: Option<String>| st.finish(outcome, reason);
        let next = st.events.next().await;
        // A kill switch turned on while the stream runs cuts it.
        if let Some(why) = st.watch.0.blocking(&st.watch.1) {
            let msg = json!({"error": {"message": format!("the stream was cut: {why}"), "type": "server_error",
                                       "param": null, "code": "kill_switch"}});
            finish(&mut st, "failure", Some(format!("stream cut: {why}")));
            st.done = true;
            let mut out = sse(&msg).to_vec();
            out.extend_from_slice(b"data: [DONE]\n\n");
            return Some((bytes::Bytes::from(out), st));
        }
        match next {
            Some(Ok(Event::Data(mut v))) => {
                if let Some(p) = st.payload.as_mut() {
                    p.chunks.push(v.clone());
                }
                if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
                    for c in choices {
                        let index = c.get("index").and_then(Value::as_i64).unwrap_or(0);
                        let Some(delta) = c.get_mut("delta") else { continue };
                        for (slot, s) in streamed_text(delta) {
                            let r = st.restorers.entry((index, slot)).or_default();
                            *s = r.push(s, &st.vault);
                        }
                    }
                }
                if let Some((e, _)) = st.record.as_mut() {
                    usage_into(&mut e.detail, v.get("usage"));
                }
                if let Some(t) = total_tokens(v.get("usage")) {
                    st.used = Some(t);
                }
                st.streamed += v
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map_or(0, |c| i64::try_from(warden_llm::estimate_tokens(c)).unwrap_or(0) + 1);
                Some((sse(&v), st))
            }
            Some(Ok(Event::Done)) | None => {
                // Whatever a restorer still holds goes out before the end.
                let mut tail = Vec::new();
                for ((index, slot), r) in std::mem::take(&mut st.restorers) {
                    let rest = r.finish(&st.vault);
                    if !rest.is_empty() {
                        tail.extend_from_slice(&sse(&json!({"object": "chat.completion.chunk",
                            "choices": [{"index": index, "delta": slot.delta(rest), "finish_reason": null}]})));
                    }
                }
                tail.extend_from_slice(b"data: [DONE]\n\n");
                finish(&mut st, "success", None);
                st.done = true;
                Some((bytes::Bytes::from(tail), st))
            }
            Some(Err(e)) => {
                // A clean end of stream that says what went wrong, never a hang.
                let err = upstream_error(e);
                let msg = err.body.clone();
                let why = msg.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
                finish(&mut st, "failure", Some(why));
                st.done = true;
                let mut out = sse(&msg).to_vec();
                out.extend_from_slice(b"data: [DONE]\n\n");
                Some((bytes::Bytes::from(out), st))
            }
        }
    })
    .boxed()
}

/// Embeddings through the gateway.
pub struct Embeddings {
    pub body: Value,
    pub class_header: Option<String>,
}

impl Operation for Embeddings {
    type Output = Result<Value, GatewayError>;
    const ACTION: Action = Action::GatewayInvoke;
    async fn target(&self, _: &App, principal: &Principal) -> Result<Target, AppError> {
        gateway_target(principal)
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let labels = (self.body.get("model").and_then(Value::as_str).map(str::to_string), self.class_header.clone());
        let out = embeddings(&ctx, self).await;
        Ok(refused(&ctx, "gateway.embeddings", labels, out).await)
    }
}

async fn embeddings(ctx: &Authorized<'_>, op: Embeddings) -> Result<Value, GatewayError> {
    let Prepared { started, project, class, model, body, providers, redactions, held, .. } =
        prepare(ctx, op.body, op.class_header.as_deref(), warden_llm::check_embeddings_request, redact_embeddings)
            .await?;
    let (p, v, held) = first_answer(&providers, held, |p| {
        let body = &body;
        async move { p.embeddings(body).await }
    })
    .await?;
    let record = CallRecord::new(ctx, &project, &class, &model, &p, redactions, started);
    record.answered(ctx, "gateway.embeddings", held, v.get("usage")).await?;
    Ok(v)
}

/// The models a gateway key may use: those of providers its class allows.
pub struct Models {
    pub class_header: Option<String>,
}

impl Operation for Models {
    type Output = Result<Value, GatewayError>;
    const ACTION: Action = Action::GatewayInvoke;
    async fn target(&self, _: &App, principal: &Principal) -> Result<Target, AppError> {
        gateway_target(principal)
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let policy = ctx.app.policy().await;
        let class = match key_of(&policy, ctx.principal, self.class_header.as_deref()) {
            Ok((_, c)) => c,
            Err(e) => return Ok(Err(e)),
        };
        let origin = Origin::of(&policy, ctx.principal);
        let mut usable = Vec::new();
        let providers = ctx.app.providers();
        for p in providers.iter() {
            if class.refuses(p).is_none()
                && origin.refuses(p).is_none()
                && ctx.app.switches.blocking(&p.config).is_none()
            {
                usable.push(p);
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        let data: Vec<Value> = usable
            .into_iter()
            .flat_map(|p| p.config.models.iter().map(move |m| (m, p)))
            .filter(|(m, _)| seen.insert(m.to_string()))
            .map(|(m, p)| json!({"id": m, "object": "model", "created": 0, "owned_by": p.config.name}))
            .collect();
        Ok(Ok(json!({"object": "list", "data": data})))
    }
}

/// Turns a kill switch on (`reason: Some`) or off (`None`). Targets: `external` (all
/// external egress), `provider:<name>`, `region:<name>`. Recorded as a protection change.
pub struct SetSwitch {
    pub target: String,
    pub reason: Option<String>,
}

impl Operation for SetSwitch {
    type Output = Option<warden_store::SwitchRecord>;
    const ACTION: Action = Action::GatewaySwitch;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let t = self.target.as_str();
        let providers = ctx.app.providers();
        let known_provider = |n: &str| providers.iter().any(|p| p.config.name == n);
        let ok = t == "external"
            || t.strip_prefix("provider:").is_some_and(known_provider)
            || t.strip_prefix("region:").is_some_and(|r| !r.is_empty() && r.len() <= 64);
        if !ok {
            return Err(AppError::Invalid(format!(
                "switch target `{t}`: use `external`, `provider:<a configured provider>` or `region:<name>`"
            )));
        }
        let out = match self.reason {
            Some(reason) => {
                if reason.trim().is_empty() {
                    return Err(AppError::Invalid("say why the switch is turned on (`reason`)".into()));
                }
                crate::text::text_ok("reason", &reason, 500)?;
                let record = warden_store::SwitchRecord {
                    target: self.target,
                    reason,
                    set_by: ctx.principal.id.clone(),
                    set_at: ctx.now(),
                };
                ctx.store().set_switch(&record).await?;
                Some(record)
            }
            None => {
                if !ctx.store().clear_switch(t).await? {
                    return Err(AppError::NotFound(format!("kill switch `{t}` (it is not on)")));
                }
                None
            }
        };
        ctx.app.switches.reload().await?;
        Ok(out)
    }
}

pub struct ListSwitches;

impl Operation for ListSwitches {
    type Output = Vec<warden_store::SwitchRecord>;
    const ACTION: Action = Action::GatewaySwitchList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_switches().await?)
    }
}

/// Sets (`tokens: Some`) or removes a project's token budget for a day or a month.
pub struct SetBudget {
    pub project: ProjectId,
    pub period: String,
    pub tokens: Option<i64>,
}

impl Operation for SetBudget {
    type Output = ();
    const ACTION: Action = Action::GatewayBudgetSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !matches!(self.period.as_str(), "day" | "month" | "usd:day" | "usd:month") {
            return Err(AppError::BadParameter(format!(
                "budget period `{}`: use day or month (tokens), usd:day or usd:month (cost)",
                self.period
            )));
        }
        if self.tokens.is_some_and(|t| t < 0) {
            return Err(AppError::Invalid("`tokens` must be zero or more".into()));
        }
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        ctx.store().set_budget(&self.project, &self.period, self.tokens, &ctx.principal.id, ctx.now()).await?;
        Ok(())
    }
}

/// A project's budgets with what this window has used (and holds for calls in flight).
pub struct GetBudgets {
    pub project: ProjectId,
}

impl Operation for GetBudgets {
    /// (period, tokens, used, window start)
    type Output = Vec<(String, i64, i64, warden_core::Timestamp)>;
    const ACTION: Action = Action::GatewayBudgetRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let mut out = Vec::new();
        for (period, tokens) in ctx.store().budgets(&self.project).await? {
            let w = window(&period, ctx.now());
            let used = ctx.store().counter(&format!("budget:{}:{period}", self.project), w).await?;
            out.push((period, tokens, used, warden_core::Timestamp(w)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_windows() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        let t = warden_core::Timestamp(1_709_251_199_000); // 2024-02-29T23:59:59Z
        assert_eq!(window("day", t), 19_782 * DAY_MS);
        assert_eq!(window("month", t), 19_754 * DAY_MS, "2024-02-01");
        assert!(estimate(&json!({"messages": [{"content": "a b c"}], "max_tokens": 10})) > 10);
    }
}
