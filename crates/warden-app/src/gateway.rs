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

use serde_json::{json, Value};
use warden_audit::Category;
use warden_core::{Principal, ProjectId};
use warden_llm::{Provider, Reply};
use warden_policy::{Action, Resource};
use warden_redact::Vault;

use crate::policy::ActivePolicy;

use warden_gateway::{
    first_answer, put, redact_chat, redact_embeddings, redactor, reserve, restore_json, restore_stream, route,
    total_tokens, usage_into, window, Account, DataClass, Held, Limits, Origin,
};

use crate::{App, AppError, Authorized, Operation, Target};

pub use warden_gateway::{GatewayError, Switches, COST_PREFIX};

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
    let key_class = DataClass::of(&policy.document, class).ok_or_else(|| {
        GatewayError::forbidden(format!("the key's data class `{class}` is not declared in the policy in force"))
    })?;
    let class = match header {
        None => key_class,
        Some(h) => {
            let asked = DataClass::of(&policy.document, h).ok_or_else(|| {
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
    /// The model version that made the call (`x-warden-model-version`), when it said.
    caller: Option<Caller>,
}

/// A registered model version calling the gateway (an application's own model, asking
/// an LLM for part of its answer): its calls are its inference data access.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    model: warden_core::ModelId,
    name: String,
    version: u64,
}

/// The version named by `x-warden-model-version` (`NAME@NUMBER`), in the key's project.
/// Absent: none. Unknown or malformed: refused, so a record never names a version that
/// does not exist.
async fn caller_version(ctx: &Authorized<'_>, header: Option<&str>) -> Result<Option<Caller>, GatewayError> {
    const PARAM: Option<&str> = Some("x-warden-model-version");
    let Some(h) = header else { return Ok(None) };
    let project = ctx.principal.scope.as_ref().and_then(|s| s.project.clone());
    let parsed = h.rsplit_once('@').and_then(|(n, v)| Some((n, v.parse::<u64>().ok().filter(|v| *v > 0)?)));
    let (Some(project), Some((name, version))) = (project, parsed) else {
        return Err(GatewayError::invalid("`x-warden-model-version` must be NAME@NUMBER, e.g. fraud@3", PARAM));
    };
    let unavailable =
        |e: warden_store::StoreError| GatewayError::new(503, "server_error", "store_unavailable", e.to_string(), None);
    let model = ctx.store().get_model(&project, name).await.map_err(unavailable)?;
    let known = match &model {
        Some(m) => {
            ctx.store().list_model_versions(&m.id).await.map_err(unavailable)?.iter().any(|v| v.version == version)
        }
        None => false,
    };
    match model {
        Some(m) if known => {
            // A held version (quarantined, or awaiting deletion) makes no calls.
            let node = warden_lineage::model_node(m.id.as_str(), version);
            let holds = ctx
                .app
                .holds_on(std::slice::from_ref(&node))
                .await
                .map_err(|e| GatewayError::new(503, "server_error", "store_unavailable", e.to_string(), None))?;
            if !holds.is_empty() {
                return Err(GatewayError::new(
                    409,
                    "invalid_request_error",
                    "quarantine_active",
                    crate::quarantine::describe(&holds, &format!("call as {name}@{version}")),
                    PARAM,
                ));
            }
            Ok(Some(Caller { model: m.id, name: name.to_string(), version }))
        }
        _ => Err(GatewayError::invalid(
            format!("`x-warden-model-version`: {name}@{version} is not a model version of this key's project"),
            PARAM,
        )),
    }
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
            caller: None,
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
        // A call sends data to a provider: data access, not a change.
        let mut e = app.event(Category::DataAccess, action, "success", ctx_principal, meta);
        e.project = Some(self.project.to_string());
        // Where the caller runs, for a workload's key bound to a zone.
        e.zone = ctx_principal.scope.as_ref().and_then(|s| s.zone.clone());
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
        if let Some(c) = &self.caller {
            put(&mut detail, "caller", json!(format!("{}@{}", c.name, c.version)));
            e.resource = Some(crate::evidence::version_resource(&c.model, c.version));
        }
        if let (Some(d), Value::Object(r)) = (detail.as_object_mut(), Value::Object(redactions)) {
            d.extend(r);
        }
        e.detail = detail;
        e
    }
}

/// A chat completion through the gateway.
pub struct Chat {
    pub body: Value,
    /// `x-warden-data-class`.
    pub class_header: Option<String>,
    /// `x-warden-model-version`: the registered version making the call.
    pub caller: Option<String>,
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
    let mut e = ctx.app.event(Category::DataAccess, action, outcome, ctx.principal, ctx.meta);
    let scope = ctx.principal.scope.as_ref();
    e.project = scope.and_then(|s| s.project.as_ref()).map(|p| p.to_string());
    e.zone = scope.and_then(|s| s.zone.clone());
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
    redact: warden_gateway::RedactFn,
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
    let origin = Origin::of(&policy.document, ctx.principal);
    let providers = route(&ctx.app.providers(), &ctx.app.switches, &model, &class, &origin)?;
    let mut vault = Vault::default();
    let mut redactions = BTreeMap::new();
    if let Some(r) = redactor(&ctx.app.keys, &class) {
        redact(&r, &class, &mut body, &mut vault, &mut redactions)?;
    }
    let unavailable =
        |e: warden_store::StoreError| GatewayError::new(503, "server_error", "store_unavailable", e.to_string(), None);
    let store = &ctx.app.store;
    let budgets =
        ctx.app.recent.budgets.get_or_load(project.clone(), || store.budgets(&project)).await.map_err(unavailable)?;
    let limits = Limits {
        requests_per_minute: ctx.app.config.key_requests_per_minute,
        tokens_per_minute: ctx.app.config.key_tokens_per_minute,
    };
    let key = ctx.principal.scope.as_ref().map(|s| s.token_id.to_string()).unwrap_or_default();
    let account = Account { key: &key, limits, project: &project, budgets, now: ctx.now() };
    let held = reserve(store, account, &body, &model, &providers).await?;
    Ok(Prepared { started, project, class, model, body, providers, vault, redactions, held })
}

async fn chat(ctx: &Authorized<'_>, op: Chat) -> Result<ChatReply, GatewayError> {
    let caller = caller_version(ctx, op.caller.as_deref()).await?;
    let Prepared { started, project, class, model, body, providers, vault, redactions, held } =
        prepare(ctx, op.body, op.class_header.as_deref(), warden_llm::check_chat_request, redact_chat).await?;
    let (p, reply, held) = first_answer(&providers, held, |p| {
        let body = &body;
        async move { p.chat(body).await }
    })
    .await?;
    let mut record = CallRecord::new(ctx, &project, &class, &model, &p, redactions, started);
    record.caller = caller;
    Ok(match reply {
        Reply::Json(mut v) => {
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

/// Embeddings through the gateway.
pub struct Embeddings {
    pub body: Value,
    pub class_header: Option<String>,
    /// `x-warden-model-version`: the registered version making the call.
    pub caller: Option<String>,
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
    let caller = caller_version(ctx, op.caller.as_deref()).await?;
    let Prepared { started, project, class, model, body, providers, redactions, held, .. } =
        prepare(ctx, op.body, op.class_header.as_deref(), warden_llm::check_embeddings_request, redact_embeddings)
            .await?;
    let (p, v, held) = first_answer(&providers, held, |p| {
        let body = &body;
        async move { p.embeddings(body).await }
    })
    .await?;
    let mut record = CallRecord::new(ctx, &project, &class, &model, &p, redactions, started);
    record.caller = caller;
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
        let origin = Origin::of(&policy.document, ctx.principal);
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
