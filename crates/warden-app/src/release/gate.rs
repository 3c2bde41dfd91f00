//! A version's facts, the placement question and the release gate: what the policy
//! engine is asked before anything is released, pulled into a zone or explained.

use super::*;

/// A model version and what placement depends on.
pub(crate) struct VersionFacts {
    pub model: ModelRecord,
    pub version: ModelVersionRecord,
    pub artifact: ArtifactRecord,
}

/// Whether intake verified a signature (detached, or an OpenSSF model-signing bundle).
pub(crate) fn signed(evidence: &Value) -> bool {
    let verified = |v: &Value| v.pointer("/verified").and_then(Value::as_bool) == Some(true);
    let detached = evidence.pointer("/signatures").and_then(Value::as_array).is_some_and(|s| s.iter().any(verified));
    detached || evidence.pointer("/model_signing").is_some_and(verified)
}

/// The artifact's scan verdict for placement: `unsafe` when intake did not admit it or a
/// file scanned unsafe, `unknown` when a file's format is not one Warden can assess (the
/// zone decides whether that may be placed), else `safe`.
pub(crate) fn scan_verdict(a: &ArtifactRecord) -> &'static str {
    let verdicts: Vec<&str> = match a.evidence.pointer("/scans") {
        Some(Value::Object(m)) => m.values().filter_map(|s| s.pointer("/verdict").and_then(Value::as_str)).collect(),
        Some(Value::Array(v)) => v.iter().filter_map(|s| s.pointer("/verdict").and_then(Value::as_str)).collect(),
        _ => Vec::new(),
    };
    if a.verdict != "admitted" || verdicts.iter().any(|v| *v != "safe" && *v != "unknown") {
        "unsafe"
    } else if verdicts.contains(&"unknown") {
        "unknown"
    } else {
        "safe"
    }
}

pub(crate) async fn version_facts(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    model: &str,
    version: u64,
) -> Result<VersionFacts, AppError> {
    let m =
        ctx.store().get_model(project, model).await?.ok_or_else(|| AppError::NotFound(format!("model `{model}`")))?;
    let v = ctx
        .store()
        .list_model_versions(&m.id)
        .await?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or_else(|| AppError::NotFound(format!("version {version} of model `{model}`")))?;
    let a = ctx
        .store()
        .get_artifact(project, &v.artifact)
        .await?
        .ok_or_else(|| AppError::Internal(format!("version {version} names a missing artifact")))?;
    Ok(VersionFacts { model: m, version: v, artifact: a })
}

/// The placement facts of a model version for a zone: its effective classes (declared,
/// and those of every dataset upstream of it) and its artifact's evidence.
pub(crate) async fn placement(ctx: &Authorized<'_>, f: &VersionFacts, zone: &str) -> Result<Placement, AppError> {
    let classes = ctx.app.effective_classes(&f.model.id, f.version.version, &f.version.lineage.data_classes).await?;
    let now = ctx.now();
    let permitted = f
        .artifact
        .evidence
        .pointer("/metadata/permitted_zones")
        .and_then(Value::as_array)
        .map(|z| z.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Placement {
        zone: zone.to_string(),
        classes: classes.into_keys().collect(),
        signed: signed(&f.artifact.evidence),
        scan_verdict: scan_verdict(&f.artifact).to_string(),
        expired: f.artifact.expires_at.is_some_and(|e| e <= now),
        permitted_zones: permitted,
    })
}

pub(crate) async fn placement_of(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    model: &str,
    version: u64,
    zone: &str,
) -> Result<(Placement, VersionFacts), AppError> {
    let f = version_facts(ctx, project, model, version).await?;
    Ok((placement(ctx, &f, zone).await?, f))
}

/// The release rule for a project: its own (by name) or `default`.
pub(crate) fn rule_for<'a>(
    policy: &'a ActivePolicy,
    project_name: &str,
) -> (String, Option<&'a warden_policy_doc::ReleaseRule>) {
    match policy.document.releases.get(project_name) {
        Some(r) => (project_name.to_string(), Some(r)),
        None => ("default".to_string(), policy.document.releases.get("default")),
    }
}

/// The automated gate's result.
#[derive(Debug, Clone)]
pub struct Gate {
    pub passed: bool,
    /// The first failing rule.
    pub failed_rule: Option<String>,
    pub checks: Vec<Value>,
    pub placement: Explanation,
    pub evaluation: Option<EvaluationRecord>,
}

impl Gate {
    fn summary(&self) -> String {
        self.checks
            .iter()
            .filter(|c| c["passed"] == json!(false))
            .filter_map(|c| c["detail"].as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs the gate: placement (classes, zone controls, scan, expiry, permitted zones, by
/// the policy engine) and, when the release rule requires it, evaluation evidence that
/// meets the rule's thresholds. `enforce_evaluation` is off for break-glass.
pub(crate) async fn gate(
    ctx: &Authorized<'_>,
    policy: &ActivePolicy,
    facts: &VersionFacts,
    project_name: &str,
    zone: &str,
    enforce_evaluation: bool,
) -> Result<Gate, AppError> {
    let p = placement(ctx, facts, zone).await?;
    let placed = explain(policy, ctx.principal, p);
    let mut checks = vec![json!({
        "check": "placement",
        "passed": placed.allowed,
        "rules": placed.rules,
        "detail": if placed.allowed { "placement allowed".to_string() } else { placed.explanation.clone() },
        "facts": {
            "classes": placed.facts.classes,
            "signed": placed.facts.signed,
            "scan_verdict": placed.facts.scan_verdict,
            "expired": placed.facts.expired,
            "permitted_zones": placed.facts.permitted_zones,
        },
    })];
    let mut failed_rule = placed.rules.first().cloned().filter(|_| !placed.allowed);
    // Residency: data resident elsewhere reaches the zone only with an approved transfer.
    let node = warden_lineage::model_node(facts.model.id.as_str(), facts.version.version);
    let breaches = ctx.app.residency_breaches(&node, zone, 64).await?;
    if !breaches.is_empty() {
        let list: Vec<String> = breaches.iter().map(|(d, r)| format!("{d} (resident in {r})")).collect();
        checks.push(json!({"check": "residency", "passed": false, "rules": ["residency"],
            "detail": format!("upstream data is resident outside zone `{zone}`'s region without an approved transfer: {}",
                              list.join(", "))}));
        failed_rule.get_or_insert_with(|| "residency".to_string());
    }
    // What holds the version or any data upstream of it (asked once): the version's own
    // deletion tasks are their own check; quarantines anywhere, and deletion tasks on
    // the data, are the quarantine check. Nothing held goes anywhere (break-glass
    // included).
    let targets = ctx.app.with_upstream_data(&node).await?;
    let (own_tasks, holds): (Vec<_>, Vec<_>) = ctx
        .app
        .holds_on(&targets)
        .await?
        .into_iter()
        .partition(|h| h.target == node && matches!(h.by, crate::quarantine::HeldBy::Deletion { .. }));
    // Data a subject asked to have deleted: the version may not go anywhere until the
    // deletion request's task on it is closed with evidence.
    if !own_tasks.is_empty() {
        let requests: Vec<String> = own_tasks
            .iter()
            .filter_map(|h| match &h.by {
                crate::quarantine::HeldBy::Deletion { request, task } => Some(format!("{request} task {task}")),
                crate::quarantine::HeldBy::Quarantine { .. } => None,
            })
            .collect();
        checks.push(json!({"check": "deletion", "passed": false, "rules": ["deletion.open-tasks"],
            "detail": format!("the version has open deletion tasks ({}): close them with evidence first",
                              requests.join(", "))}));
        failed_rule.get_or_insert_with(|| "deletion.open-tasks".to_string());
    }
    if !holds.is_empty() {
        checks.push(json!({"check": "quarantine", "passed": false, "rules": ["quarantine.active"],
            "detail": crate::quarantine::describe(&holds, "release the version")}));
        failed_rule.get_or_insert_with(|| "quarantine.active".to_string());
    }
    let (rule_name, rule) = rule_for(policy, project_name);
    let evaluations = ctx.store().list_evaluations(&facts.model.id, facts.version.version).await?;
    let latest = evaluations.last().cloned();
    if let Some(rule) = rule.filter(|r| r.require_evaluation) {
        let id = format!("releases.{rule_name}.evaluation");
        let (passed, detail) = match &latest {
            None => (false, "no evaluation evidence is attached to the version".to_string()),
            Some(e) => {
                let misses: Vec<String> = rule
                    .evaluation
                    .iter()
                    .filter_map(|(metric, t)| match e.metrics.get(metric) {
                        Some(v) if t.met_by(*v) => None,
                        Some(v) => Some(format!("{metric} = {v} does not meet {t}")),
                        None => Some(format!("{metric} is missing (needs {t})")),
                    })
                    .collect();
                if misses.is_empty() {
                    (true, format!("evaluation {} meets the thresholds", e.seq))
                } else {
                    (false, format!("evaluation {}: {}", e.seq, misses.join(", ")))
                }
            }
        };
        checks.push(json!({"check": "evaluation", "passed": passed, "rules": [id], "detail": detail,
                           "enforced": enforce_evaluation}));
        if !passed && enforce_evaluation && failed_rule.is_none() {
            failed_rule = Some(id);
        }
    }
    Ok(Gate { passed: failed_rule.is_none(), failed_rule, checks, placement: placed, evaluation: latest })
}

/// A new release's gate: the zone must be declared, then the gate runs on the version;
/// a failure is recorded and refused. Returns the version's facts, the project's name
/// and the gate.
pub(crate) async fn gated(
    ctx: &Authorized<'_>,
    policy: &ActivePolicy,
    project: &ProjectId,
    model: &str,
    version: u64,
    zone: &str,
    enforce_evaluation: bool,
) -> Result<(VersionFacts, String, Gate), AppError> {
    policy.zone_declared(zone)?;
    let facts = version_facts(ctx, project, model, version).await?;
    let pname = project_name(ctx, project).await?;
    let g = gate(ctx, policy, &facts, &pname, zone, enforce_evaluation).await?;
    if !g.passed {
        return Err(refuse_gate(ctx, project, None, &g).await);
    }
    Ok((facts, pname, g))
}

/// Records a release event (its own resource, so the release's history is searchable).
pub(crate) async fn release_event(
    ctx: &Authorized<'_>,
    action: &str,
    outcome: &str,
    project: &ProjectId,
    release: Option<&ReleaseId>,
    reason: Option<String>,
    detail: Value,
) -> Result<(), AppError> {
    let mut e = ctx.app.event(Category::Change, action, outcome, ctx.principal, ctx.meta);
    e.project = Some(project.to_string());
    e.resource = release.map(|r| ResourceRef { type_: "release".into(), uid: r.to_string() });
    e.reason = reason;
    e.detail = detail;
    ctx.app.record(&e).await
}

/// A refused gate: recorded, then answered as 422 naming the rule.
pub(crate) async fn refuse_gate(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    release: Option<&ReleaseId>,
    g: &Gate,
) -> AppError {
    let rule = g.failed_rule.clone().unwrap_or_else(|| "releases.gate".into());
    let message = format!("the release gate failed: {}", g.summary());
    if let Err(e) = release_event(
        ctx,
        "release.gate",
        "failure",
        project,
        release,
        Some(message.clone()),
        json!({"checks": g.checks, "rule": rule}),
    )
    .await
    {
        return e;
    }
    AppError::rule(422, rule, message)
}

pub(crate) fn reason_ok(field: &str, reason: &str, min: usize) -> Result<(), AppError> {
    if reason.trim().chars().count() < min {
        return Err(AppError::Invalid(format!(
            "`{field}` is required (at least {min} characters) and is kept on record"
        )));
    }
    crate::text::text_ok(field, reason, 2000)
}

/// A pull by a workload identity bound to `zone`: the blob must belong to an admitted
/// artifact the policy lets into the zone (permitted there, unexpired, safe, signed if
/// the zone requires it). A refusal names the rule and is recorded.
pub(crate) async fn pull_into_zone(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    digest: &str,
    zone: &str,
) -> Result<(), AppError> {
    let policy = ctx.app.policy().await;
    let now = ctx.now();
    let mut refusal = None;
    for a in ctx.store().artifacts_with_blob(project, digest).await? {
        let permitted = a
            .evidence
            .pointer("/metadata/permitted_zones")
            .and_then(Value::as_array)
            .map(|z| z.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let facts = Placement {
            zone: zone.to_string(),
            classes: BTreeSet::new(),
            signed: signed(&a.evidence),
            scan_verdict: scan_verdict(&a).to_string(),
            expired: a.expires_at.is_some_and(|e| e <= now),
            permitted_zones: permitted,
        };
        let e = explain(&policy, ctx.principal, facts);
        if e.allowed {
            return Ok(());
        }
        refusal.get_or_insert((
            e.rules.first().cloned().unwrap_or_default(),
            format!("artifact {}: {}", a.id, e.explanation),
        ));
    }
    let (rule, message) = refusal.unwrap_or_else(|| {
        (
            "artifact.permitted-zones".into(),
            format!("blob {digest} belongs to no admitted artifact permitted in zone `{zone}`"),
        )
    });
    let message = format!("pull into zone `{zone}` refused: {message}");
    Err(refuse_pull(ctx, project, digest, 403, &rule, message, json!({"zone": zone, "rule": rule})).await?)
}

/// Records a refused pull of a blob (`blob.pull`, deny) and answers the refusal.
pub(crate) async fn refuse_pull(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    digest: &str,
    status: u16,
    rule: &str,
    message: String,
    detail: Value,
) -> Result<AppError, AppError> {
    let mut e = ctx.app.event(Category::Authorization, "blob.pull", "deny", ctx.principal, ctx.meta);
    e.project = Some(project.to_string());
    e.resource = Some(ResourceRef { type_: "blob".into(), uid: digest.to_string() });
    e.reason = Some(message.clone());
    e.detail = detail;
    ctx.app.record(&e).await?;
    Ok(AppError::rule(status, rule, message))
}

/// A placement question: facts given directly, or read from a model version.
#[derive(Debug, Clone)]
pub enum PlacementQuestion {
    Facts(Placement),
    Version { project: ProjectId, model: String, version: u64, zone: String },
}

/// `warden policy explain`: which rule allows or denies a placement.
pub struct ExplainPlacement {
    pub question: PlacementQuestion,
}

impl Operation for ExplainPlacement {
    type Output = Explanation;
    const ACTION: Action = Action::PolicyExplain;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let facts = match self.question {
            PlacementQuestion::Facts(f) => f,
            PlacementQuestion::Version { project, model, version, zone } => {
                // Reading a version's facts is reading the project's registry.
                if !ctx.may_in(Action::ModelRead, &project).await? {
                    return Err(AppError::Forbidden(format!("reading models of project {project} is not allowed")));
                }
                placement_of(&ctx, &project, &model, version, &zone).await?.0
            }
        };
        let policy = ctx.app.policy().await;
        Ok(explain(&policy, ctx.principal, facts))
    }
}
