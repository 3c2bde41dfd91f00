//! Question 5 (was the model changed through an approved process?) and question 4
//! (which version was active in which zone, when?).

use serde_json::{json, Value};
use warden_core::{ProjectId, ReleaseId, Timestamp};
use warden_store::{AuditEntry, DeploymentRecord, ReleaseRecord};

use super::{about, event_of, when, Cites};
use crate::text::rfc3339;
use crate::{AppError, Authorized};

/// The ledger actions that put a release into its zone.
const DEPLOYS: &[&str] = &["release.deployed", "release.break-glass"];
/// Most events one release's story holds (decisions, gate refusals, deploys).
const RELEASE_EVENTS: usize = 1_000;

pub(super) async fn change(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    id: &ReleaseId,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let r = ctx
        .store()
        .get_release(project, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("release `{id}` in project `{project}`")))?;
    let model = crate::release::model_name(ctx, &r.project, &r.model).await?;
    let events = about(ctx, &format!("release:{id}"), &[], RELEASE_EVENTS).await?;
    let mut findings: Vec<String> = Vec::new();

    let proposed = events.iter().find(|e| e.leaf.action == "release.created");
    let proposal = proposed.map(|e| {
        let ev = event_of(e);
        json!({"by": ev["actor"]["uid"], "name": ev["actor"]["name"], "at": when(e), "evidence": [cites.cite(e)]})
    });
    if proposed.is_none() {
        findings.push("no ledger entry records the release's creation".into());
    }

    // Every decision, in order, with whether the approver had a second factor.
    let mut decisions = Vec::new();
    for e in events.iter().filter(|e| {
        e.leaf.action.starts_with("release.approved")
            || e.leaf.action.starts_with("release.rejected")
            || e.leaf.action == "release.approval-withdrawn"
    }) {
        let ev = event_of(e);
        let mfa = ev["actor"]["mfa"].as_bool().unwrap_or(false);
        let who = ev["actor"]["uid"].as_str().unwrap_or_default().to_string();
        if e.leaf.outcome == "success" && e.leaf.action == "release.approved" {
            if !mfa {
                findings.push(format!("approval by {who} without a second factor"));
            }
            if Some(who.as_str()) == r.created_by.as_str().into() {
                findings.push(format!("{who} approved their own release"));
            }
        }
        decisions.push(json!({
            "decision": e.leaf.action.trim_start_matches("release."),
            "outcome": e.leaf.outcome,
            "by": who, "name": ev["actor"]["name"], "mfa": mfa, "at": when(e),
            "comment": ev.get("reason"), "evidence": [cites.cite(e)],
        }));
    }
    let gate_refusals: Vec<Value> = events
        .iter()
        .filter(|e| e.leaf.action == "release.gate")
        .map(|e| {
            let ev = event_of(e);
            json!({"at": when(e), "reason": ev.get("reason"), "rule": ev["detail"].get("rule"), "evidence": [cites.cite(e)]})
        })
        .collect();

    let deployed =
        events.iter().rev().find(|e| DEPLOYS.contains(&e.leaf.action.as_str()) && e.leaf.outcome == "success");
    let deployment = deployed.map(|e| {
        let ev = event_of(e);
        let mfa = ev["actor"]["mfa"].as_bool().unwrap_or(false);
        json!({"by": ev["actor"]["uid"], "name": ev["actor"]["name"], "mfa": mfa, "at": when(e),
               "break_glass": e.leaf.action == "release.break-glass",
               "manifest_digest": ev["detail"].get("manifest_digest"), "evidence": [cites.cite(e)]})
    });
    if deployment.as_ref().is_some_and(|d| d["mfa"] == json!(false)) {
        findings.push("deployed without a second factor".into());
    }
    if r.status == "deployed" && deployed.is_none() {
        findings.push("the release is deployed but no ledger entry records the deploy".into());
    }
    if r.needs_review {
        findings.push("a break-glass deploy not yet reviewed".into());
    }
    let reviewed = events.iter().find(|e| e.leaf.action == "release.reviewed").map(|e| {
        let ev = event_of(e);
        json!({"by": ev["actor"]["uid"], "at": when(e), "comment": ev.get("reason"), "evidence": [cites.cite(e)]})
    });

    // The evaluation the gate relied on: the manifest names it; its own record in the
    // ledger carries the metrics and the dataset.
    let manifest: Option<Value> = deployed.map(|e| event_of(e)["detail"]["manifest"].clone());
    let evaluation = match manifest.as_ref().and_then(|m| m["evaluation"]["seq"].as_u64()) {
        Some(seq) => {
            let res = super::version_resource(&r.model, r.version);
            let evals =
                about(ctx, &format!("{}:{}", res.type_, res.uid), &["model.evaluation.add"], RELEASE_EVENTS).await?;
            let e = evals.iter().find(|e| event_of(e)["detail"]["evaluation"].as_u64() == Some(seq));
            if e.is_none() {
                findings.push(format!("evaluation {seq} has no ledger entry"));
            }
            e.map(|e| {
                let ev = event_of(e);
                json!({"seq": seq, "metrics": ev["detail"]["metrics"], "dataset": ev["detail"]["dataset"],
                       "report": ev["detail"]["report"], "by": ev["actor"]["uid"], "at": when(e),
                       "evidence": [cites.cite(e)]})
            })
        }
        None => None,
    };
    let policy = ctx.store().get_policy_version(r.policy_version).await?;

    Ok(json!({
        "release": release_json(&r, &model),
        "proposed": proposal,
        "decisions": decisions,
        "approvals_required": r.approvals_required,
        "approver_role": r.approver_role,
        "gate": serde_json::from_str::<Value>(&r.gate).unwrap_or(Value::Null),
        "gate_refusals": gate_refusals,
        "evaluation": evaluation,
        "policy": {"version": r.policy_version, "digest": policy.map(|p| p.digest)},
        "deployed": deployment,
        "reviewed": reviewed,
        // The signed manifest: the verifier checks its signature with the log key and
        // that it is the manifest the deploy's ledger entry carries.
        "manifest": r.manifest,
        "findings": findings,
    }))
}

fn release_json(r: &ReleaseRecord, model: &str) -> Value {
    json!({
        "id": r.id, "project": r.project, "model": model, "model_id": r.model, "version": r.version,
        "zone": r.zone, "kind": r.kind, "status": r.status, "reason": r.reason,
        "created_by": r.created_by, "created_at": rfc3339(r.created_at),
        "deployed_by": r.deployed_by, "deployed_at": r.deployed_at.map(rfc3339),
        "previous": r.previous,
    })
}

/// The deploy entry of a release, if the ledger has one.
pub(super) async fn deploy_entry(ctx: &Authorized<'_>, release: &ReleaseId) -> Result<Option<AuditEntry>, AppError> {
    let found = about(ctx, &format!("release:{release}"), DEPLOYS, RELEASE_EVENTS).await?;
    Ok(found.into_iter().rev().find(|e| e.leaf.outcome == "success"))
}

pub(super) async fn active(
    ctx: &Authorized<'_>,
    zone: &str,
    at: Timestamp,
    window: Option<(Timestamp, Timestamp)>,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let (deployments, history) = match window {
        None => (ctx.store().active_in_zone(zone, None, at).await?, false),
        Some((from, to)) => {
            if to < from {
                return Err(AppError::BadParameter("`to` is before `from`".into()));
            }
            (ctx.store().zone_deployments_between(zone, from, to, 10_000).await?, true)
        }
    };
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for d in deployments {
        rows.push(deployment_row(ctx, &d, cites, &mut findings).await?);
    }
    let key = if history { "deployments" } else { "active" };
    Ok(json!({ "zone": zone, key: rows, "findings": findings }))
}

async fn deployment_row(
    ctx: &Authorized<'_>,
    d: &DeploymentRecord,
    cites: &mut Cites,
    findings: &mut Vec<String>,
) -> Result<Value, AppError> {
    let r = ctx.store().get_release(&d.project, &d.release).await?;
    let model = crate::release::model_name(ctx, &d.project, &d.model).await?;
    let entry = deploy_entry(ctx, &d.release).await?;
    if entry.is_none() {
        findings.push(format!("deployment of {} has no ledger entry", d.release));
    }
    Ok(json!({
        "project": d.project, "model": model, "model_id": d.model, "version": d.version,
        "release": d.release, "kind": r.as_ref().map(|r| r.kind.clone()),
        "deployed_at": rfc3339(d.deployed_at),
        "deployed_by": r.as_ref().and_then(|r| r.deployed_by.clone()),
        "evidence": entry.iter().map(|e| cites.cite(e)).collect::<Vec<_>>(),
    }))
}
