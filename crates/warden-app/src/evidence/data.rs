//! Question 1 (what data did a model version access?), question 2 (where was it stored
//! and processed?) and question 7 (retention, holds, quarantine and deletion).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{json, Value};
use warden_core::{DatasetId, DeletionId, ProjectId, Timestamp};
use warden_lineage::Direction;
use warden_store::{AuditEntry, DatasetRecord};

use super::{about, event_of, version_resource, when, Cites};
use crate::release::VersionFacts;
use crate::text::rfc3339;
use crate::{AppError, Authorized};

/// How far upstream a model version's data is looked for.
const DEPTH: u32 = 64;
/// Most nodes one walk reaches.
const REACH: usize = 10_000;
/// Most gateway records cited per group (class and zone; zone, provider and region);
/// the counts cover them all.
const CITED_CALLS: usize = 200;
/// Most gateway records cited in one answer, across its groups (each group keeps at
/// least its first and last call), so that a version called from many places still
/// fits in one answer.
const CITED_CALLS_TOTAL: usize = 2_000;

/// The calls a group cites: up to `CITED_CALLS`, fewer when there are many groups, and
/// always its first and last.
fn sample_calls<'c>(calls: &[&'c AuditEntry], groups: usize) -> Vec<&'c AuditEntry> {
    let n = (CITED_CALLS_TOTAL / groups.max(1)).clamp(2, CITED_CALLS);
    let mut picked: Vec<&AuditEntry> = calls.iter().take(n.saturating_sub(1)).copied().collect();
    if let Some(last) = calls.last() {
        if picked.last().is_none_or(|p| p.index != last.index) {
            picked.push(last);
        }
    }
    picked
}
/// Most gateway records read for one version.
const CALLS: usize = 20_000;

/// One dataset a version touched, and how.
struct Touched {
    node: String,
    kinds: BTreeSet<&'static str>,
    /// Lineage path from the version to the dataset (the version first).
    path: Vec<String>,
    /// Inference runs that read it.
    runs: BTreeSet<String>,
    evidence: BTreeSet<u64>,
    /// Its classes and what the catalog knows of it, read with the graph.
    classes: Vec<String>,
    facts: Option<crate::catalog::DatasetFacts>,
}

/// What the lineage graph, the version's record and its evaluations say it touched.
struct Reach {
    facts: VersionFacts,
    node: String,
    datasets: BTreeMap<String, Touched>,
    /// Class → the lineage path that brought it.
    classes: BTreeMap<String, Vec<String>>,
    /// Training runs upstream and inference runs downstream.
    runs: BTreeSet<String>,
    /// The version's registration entry.
    registered: Option<AuditEntry>,
    /// The version's registration and evaluation entries.
    own: Vec<AuditEntry>,
    /// Gateway calls naming the version.
    calls: Vec<AuditEntry>,
}

fn display(node: &str) -> &str {
    node.strip_prefix("dataset:").unwrap_or(node)
}

/// Shortest paths from `start` over the walk's edges, against the graph's direction
/// when `upstream`.
fn paths(walk: &warden_lineage::Walk, upstream: bool) -> HashMap<String, Vec<String>> {
    let mut next: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(from, to) in &walk.edges {
        if upstream {
            next.entry(to).or_default().push(from);
        } else {
            next.entry(from).or_default().push(to);
        }
    }
    let name = |i: u32| walk.nodes.get(i as usize).map(|(n, _)| n.clone()).unwrap_or_default();
    let mut parent: HashMap<u32, u32> = HashMap::new();
    let mut seen = BTreeSet::from([0u32]);
    let mut queue = VecDeque::from([0u32]);
    while let Some(n) = queue.pop_front() {
        for &m in next.get(&n).into_iter().flatten() {
            if seen.insert(m) {
                parent.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    let mut out = HashMap::new();
    for &i in &seen {
        let mut path = vec![name(i)];
        let mut at = i;
        while let Some(&p) = parent.get(&at) {
            path.push(name(p));
            at = p;
        }
        path.reverse();
        out.insert(name(i), path);
    }
    out
}

async fn reach(ctx: &Authorized<'_>, project: &ProjectId, model: &str, version: u64) -> Result<Reach, AppError> {
    let facts = crate::release::version_facts(ctx, project, model, version).await?;
    let node = warden_lineage::model_node(facts.model.id.as_str(), version);
    let resource = version_resource(&facts.model.id, version);
    let resource = format!("{}:{}", resource.type_, resource.uid);
    let own = about(ctx, &resource, &["model.version.create", "model.evaluation.add"], 10_000).await?;
    let registered =
        own.iter().find(|e| e.leaf.action == "model.version.create" && e.leaf.outcome == "success").cloned();
    let mut datasets: BTreeMap<String, Touched> = BTreeMap::new();
    let mut runs = BTreeSet::new();
    fn touch<'d>(
        datasets: &'d mut BTreeMap<String, Touched>,
        node: &str,
        kind: &'static str,
        path: Vec<String>,
    ) -> &'d mut Touched {
        let t = datasets.entry(node.to_string()).or_insert_with(|| Touched {
            node: node.to_string(),
            kinds: BTreeSet::new(),
            path,
            runs: BTreeSet::new(),
            evidence: BTreeSet::new(),
            classes: Vec::new(),
            facts: None,
        });
        t.kinds.insert(kind);
        t
    }
    // Evaluations name their dataset; their ledger entries carry it.
    let evaluated: BTreeMap<String, Vec<u64>> = {
        let mut m: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for e in own.iter().filter(|e| e.leaf.action == "model.evaluation.add" && e.leaf.outcome == "success") {
            if let Some(d) = event_of(e)["detail"]["dataset"].as_str() {
                m.entry(format!("dataset:{d}")).or_default().push(e.index);
            }
        }
        for ev in ctx.store().list_evaluations(&facts.model.id, version).await? {
            if let Some(d) = ev.dataset {
                m.entry(format!("dataset:{d}")).or_default();
            }
        }
        m
    };
    let mut classes = {
        let l = ctx.app.lineage().await?;
        // Each class with the lineage path that brings it, found without the version's
        // own declaration (a declared class must not hide where the data carrying it
        // came from).
        let classes = l.graph.upstream_classes(&node, DEPTH, |n| {
            if n == node {
                Vec::new()
            } else {
                l.classes.get(n).cloned().unwrap_or_default()
            }
        });
        if let Some(walk) = l.graph.walk(&node, Direction::Upstream, DEPTH, REACH) {
            let up = paths(&walk, true);
            for (n, _) in &walk.nodes {
                if let Some(run) = n.strip_prefix("run:") {
                    runs.insert(run.to_string());
                }
                if !n.starts_with("dataset:") {
                    continue;
                }
                let path = up.get(n).cloned().unwrap_or_default();
                // Linked straight to the version by an evaluation only: evaluation
                // data; anything else upstream trained it.
                let direct_eval = path.len() == 2 && evaluated.contains_key(n);
                let declared = facts.version.lineage.datasets.iter().any(|d| format!("dataset:{d}") == *n);
                let t = touch(&mut datasets, n, if direct_eval && !declared { "evaluation" } else { "training" }, path);
                if direct_eval {
                    t.kinds.insert("evaluation");
                    t.evidence.extend(evaluated.get(n).into_iter().flatten());
                }
                if declared {
                    if let Some(r) = &registered {
                        t.evidence.insert(r.index);
                    }
                }
            }
        }
        // Inference runs: runs that read the version, and the datasets they read with it.
        if let Some(walk) = l.graph.walk(&node, Direction::Downstream, 1, REACH) {
            for (n, _) in walk.nodes.iter().filter(|(n, d)| *d == 1 && n.starts_with("run:")) {
                runs.insert(n.trim_start_matches("run:").to_string());
                let Some(inputs) = l.graph.walk(n, Direction::Upstream, 1, REACH) else { continue };
                for (d, _) in inputs.nodes.iter().filter(|(d, dist)| *dist == 1 && d.starts_with("dataset:")) {
                    let t = touch(&mut datasets, d, "inference", vec![node.clone(), n.clone(), d.clone()]);
                    t.runs.insert(n.trim_start_matches("run:").to_string());
                }
            }
        }
        for t in datasets.values_mut() {
            t.classes = l.classes.get(&t.node).cloned().unwrap_or_default();
            t.facts = l.datasets.get(&t.node).cloned();
        }
        classes
    };
    // Declared classes no lineage brings keep the version as their path.
    for c in &facts.version.lineage.data_classes {
        classes.entry(c.clone()).or_insert_with(|| vec![node.clone()]);
    }
    let calls = about(ctx, &resource, &["gateway.chat", "gateway.embeddings"], CALLS).await?;
    Ok(Reach { facts, node, datasets, classes, runs, registered, own, calls })
}

/// A string field of an event, or empty.
fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// Gateway calls grouped by a key read from each call's event, oldest first in each.
fn group_calls<K: Ord>(calls: &[AuditEntry], key: impl Fn(&Value) -> K) -> BTreeMap<K, Vec<&AuditEntry>> {
    let mut groups: BTreeMap<K, Vec<&AuditEntry>> = BTreeMap::new();
    for c in calls {
        groups.entry(key(&event_of(c))).or_default().push(c);
    }
    groups
}

/// Cites the evidence a touched dataset rests on (entries already read by [`reach`]).
fn cite_indexes(all: &[&AuditEntry], wanted: &BTreeSet<u64>, cites: &mut Cites) -> Vec<u64> {
    all.iter().filter(|e| wanted.contains(&e.index)).map(|e| cites.cite(e)).collect()
}

pub(super) async fn data_access(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    model: &str,
    version: u64,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let r = reach(ctx, project, model, version).await?;
    let own_refs: Vec<&AuditEntry> = r.own.iter().collect();
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for t in r.datasets.values() {
        let facts = t.facts.as_ref();
        if facts.is_some_and(|f| !f.classified) {
            findings.push(format!("{} is not classified", display(&t.node)));
        }
        rows.push(json!({
            "dataset": display(&t.node),
            "id": facts.map(|f| f.id.to_string()),
            "kinds": t.kinds,
            "classes": t.classes,
            "path": t.path,
            "runs": t.runs,
            "evidence": cite_indexes(&own_refs, &t.evidence, cites),
        }));
    }
    // Inference through the gateway: calls that named this version, by class and zone.
    let groups = group_calls(&r.calls, |ev| (text(&ev["data_classes"][0]), text(&ev["zone"])));
    let gateway: Vec<Value> = groups
        .iter()
        .map(|((class, zone), calls)| {
            let answered = calls.iter().filter(|c| c.leaf.outcome == "success").count();
            json!({
                "kind": "inference", "via": "gateway", "class": class, "zone": (!zone.is_empty()).then_some(zone),
                "calls": calls.len(), "answered": answered,
                "first": calls.first().map(|c| when(c)), "last": calls.last().map(|c| when(c)),
                "evidence": sample_calls(calls, groups.len()).into_iter().map(|c| cites.cite(c)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let declared = &r.facts.version.lineage.data_classes;
    let classes: Vec<Value> =
        r.classes.iter().map(|(c, path)| json!({"class": c, "declared": declared.contains(c), "path": path})).collect();
    Ok(json!({
        "model": {"project": project, "name": r.facts.model.name, "id": r.facts.model.id, "version": version,
                  "node": r.node, "registered": r.registered.as_ref().map(|e| json!({"at": when(e), "evidence": [cites.cite(e)]}))},
        "datasets": rows,
        "gateway": gateway,
        "classes": classes,
        "runs": r.runs,
        "findings": findings,
    }))
}

pub(super) async fn locations(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    model: &str,
    version: u64,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let r = reach(ctx, project, model, version).await?;
    let policy = ctx.app.policy().await;
    let region_of = |zone: &str| policy.document.zones.get(zone).map(|z| z.region.clone());
    let approved: BTreeSet<(DatasetId, String)> = ctx.store().approved_transfers().await?.into_iter().collect();

    // Where each dataset is stored.
    let mut stored = Vec::new();
    let mut resident: Vec<(String, DatasetId, String)> = Vec::new();
    for t in r.datasets.values() {
        let f = t.facts.as_ref();
        if let Some(f) = f {
            if let Some(res) = &f.residency {
                resident.push((display(&t.node).to_string(), f.id.clone(), res.clone()));
            }
        }
        stored.push(json!({
            "dataset": display(&t.node), "id": f.map(|f| f.id.to_string()),
            "residency": f.and_then(|f| f.residency.clone()), "kinds": t.kinds,
        }));
    }
    // Every place it was processed: runs (the zone their sender's token was bound to),
    // deployments, gateway calls (the caller's zone, the provider's region).
    let mut places: Vec<Value> = Vec::new();
    let mut findings: Vec<String> = Vec::new();
    // Each use is judged by the policy in force when it happened: the zone's region in
    // the latest version applied at or before that moment (the current one for uses
    // older than every stored version).
    let mut history: Vec<(Timestamp, u64, BTreeMap<String, String>)> = Vec::new();
    for v in ctx.store().list_policy_versions(1000).await? {
        if let Ok(doc) = warden_policy_doc::Document::parse(&v.document) {
            let regions = doc.zones.iter().map(|(z, d)| (z.clone(), d.region.clone())).collect();
            history.push((v.created_at, v.version, regions));
        }
    }
    let in_force = |zone: &str, at: Timestamp| -> Option<(String, u64)> {
        match history.iter().find(|(t, _, _)| *t <= at) {
            Some((_, version, regions)) => regions.get(zone).map(|r| (r.clone(), *version)),
            None => region_of(zone).map(|r| (r, policy.version)),
        }
    };
    let check = |zone: &str, at: Timestamp, what: &str, findings: &mut Vec<String>| {
        let Some((region, version)) = in_force(zone, at) else { return };
        for (name, id, res) in &resident {
            if *res != region && !approved.contains(&(id.clone(), zone.to_string())) {
                findings.push(format!(
                    "{name} (resident in {res}) was used by {what} in zone {zone} ({region} under policy v{version}) \
                     at {} without an approved transfer",
                    rfc3339(at)
                ));
            }
        }
    };
    for run in &r.runs {
        let Some(rec) = ctx.store().get_lineage_run(run).await? else { continue };
        let at = rec.started_at.map(rfc3339).unwrap_or_default();
        if let Some(z) = &rec.zone {
            check(z, rec.started_at.unwrap_or(rec.updated_at), &format!("run {run}"), &mut findings);
        }
        places.push(json!({
            "via": "run", "run": run, "job": format!("{}/{}", rec.job_namespace, rec.job_name),
            "zone": rec.zone, "region": rec.zone.as_deref().and_then(region_of), "at": at,
        }));
        if rec.zone.is_none() {
            findings.push(format!("run {run} recorded no zone (its sender's token is not bound to one)"));
        }
    }
    for d in ctx.store().version_deployments(&r.facts.model.id, version).await? {
        let entry = super::change::deploy_entry(ctx, &d.release).await?;
        check(&d.zone, d.deployed_at, &format!("release {}", d.release), &mut findings);
        places.push(json!({
            "via": "release", "release": d.release, "zone": d.zone, "region": region_of(&d.zone),
            "at": rfc3339(d.deployed_at), "evidence": entry.iter().map(|e| cites.cite(e)).collect::<Vec<_>>(),
        }));
    }
    let groups =
        group_calls(&r.calls, |ev| (text(&ev["zone"]), text(&ev["detail"]["provider"]), text(&ev["detail"]["region"])));
    for ((zone, provider, region), calls) in &groups {
        if !zone.is_empty() {
            for c in calls.first().into_iter().chain(calls.last()) {
                check(zone, c.leaf.time, "gateway calls", &mut findings);
            }
        }
        places.push(json!({
            "via": "gateway", "zone": (!zone.is_empty()).then_some(zone), "provider": provider,
            "provider_region": (!region.is_empty()).then_some(region), "calls": calls.len(),
            "first": calls.first().map(|c| when(c)), "last": calls.last().map(|c| when(c)),
            "evidence": sample_calls(calls, groups.len()).into_iter().map(|c| cites.cite(c)).collect::<Vec<_>>(),
        }));
    }
    findings.sort();
    findings.dedup();
    Ok(json!({
        "model": {"project": project, "name": r.facts.model.name, "id": r.facts.model.id, "version": version},
        "stored": stored,
        "processed": places,
        "policy_version": policy.version,
        "findings": findings,
    }))
}

async fn dataset_by_ref(ctx: &Authorized<'_>, reference: &str) -> Result<DatasetRecord, AppError> {
    crate::named_data::DatasetRef::parse(reference)?
        .find(ctx.store())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("dataset `{reference}` (give its id or NAMESPACE/NAME)")))
}

/// One deletion request with its tasks and the entries that record it.
async fn deletion_json(ctx: &Authorized<'_>, id: &DeletionId, cites: &mut Cites) -> Result<Option<Value>, AppError> {
    let Some((req, tasks)) = ctx.store().get_deletion(id).await? else { return Ok(None) };
    let events = about(ctx, &format!("deletion:{id}"), &[], 1_000).await?;
    let requested = events.iter().find(|e| e.leaf.action == "deletion.requested");
    let rows: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let closed = events.iter().find(|e| {
                e.leaf.action == "deletion.task-closed" && event_of(e)["detail"]["task"].as_u64() == Some(t.seq)
            });
            json!({
                "seq": t.seq, "target": t.target, "kind": t.kind, "owner": t.owner, "due_at": rfc3339(t.due_at),
                "status": t.status, "evidence_text": t.evidence, "closed_by": t.closed_by,
                "closed_at": t.closed_at.map(rfc3339),
                "evidence": closed.iter().map(|e| cites.cite(e)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let open = tasks.iter().filter(|t| t.status == "open").count();
    Ok(Some(json!({
        "request": req.id, "subject": req.subject_ref, "reason": req.reason,
        "requested_by": req.requested_by, "requested_at": rfc3339(req.requested_at), "due_at": rfc3339(req.due_at),
        "tasks": rows, "open_tasks": open,
        "evidence": requested.iter().map(|e| cites.cite(e)).collect::<Vec<_>>(),
    })))
}

pub(super) async fn data_handling(
    ctx: &Authorized<'_>,
    dataset: Option<&str>,
    subject: Option<&str>,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let now = ctx.now();
    let mut findings = Vec::new();
    match (dataset, subject) {
        (Some(reference), None) => {
            let d = dataset_by_ref(ctx, reference).await?;
            let policy = ctx.app.policy().await;
            let (class_days, effective) = crate::payload::retention_days(&policy, &d);
            // The content Warden holds for it, each piece with its deadline.
            let mut held_content = Vec::new();
            for a in ctx.store().dataset_artifacts(1000).await? {
                if crate::payload::artifact_dataset(&a).as_ref() != Some(&d.id) {
                    continue;
                }
                let due = effective.map(|days| crate::payload::delete_by(&a, days));
                if due.is_some_and(|t| t <= now) && d.legal_hold.is_none() {
                    findings.push(format!("artifact {} is past its retention and not yet purged", a.id));
                }
                held_content
                    .push(json!({"artifact": a.id, "since": rfc3339(a.created_at), "delete_by": due.map(rfc3339)}));
            }
            let history: Vec<Value> = about(ctx, &format!("dataset:{}", d.id), &[], 1_000)
                .await?
                .iter()
                .map(|e| {
                    let ev = event_of(e);
                    json!({"action": e.leaf.action, "outcome": e.leaf.outcome, "by": e.leaf.actor, "at": when(e),
                           "reason": ev.get("reason"), "evidence": [cites.cite(e)]})
                })
                .collect();
            let node = warden_lineage::dataset_node(&d.namespace, &d.name);
            let mut requests: BTreeSet<DeletionId> = BTreeSet::new();
            for (id, _) in ctx.store().deletion_tasks_on(&node).await? {
                requests.insert(id);
            }
            let mut deletions = Vec::new();
            for id in &requests {
                if let Some(v) = deletion_json(ctx, id, cites).await? {
                    for t in v["tasks"].as_array().into_iter().flatten() {
                        if t["status"] == "open" && t["due_at"].as_str().is_some_and(|due| due < rfc3339(now).as_str())
                        {
                            findings.push(format!("deletion task {}#{} on {} is overdue", id, t["seq"], t["target"]));
                        }
                    }
                    deletions.push(v);
                }
            }
            let mut quarantines = Vec::new();
            for q in ctx.store().quarantines_on(&node).await? {
                let events = about(ctx, &format!("quarantine:{}", q.id), &[], 100).await?;
                quarantines.push(json!({
                    "id": q.id, "reason": q.reason, "placed_by": q.placed_by, "placed_at": rfc3339(q.placed_at),
                    "lifted_by": q.lifted_by, "lifted_at": q.lifted_at.map(rfc3339), "lift_reason": q.lift_reason,
                    "open": q.lifted_at.is_none(),
                    "evidence": events.iter().filter(|e| e.leaf.category == "change").map(|e| cites.cite(e)).collect::<Vec<_>>(),
                }));
            }
            if d.legal_hold.is_some() && !requests.is_empty() {
                findings.push("a legal hold blocks deletion while deletion requests name the dataset".into());
            }
            Ok(json!({
                "dataset": {
                    "id": d.id, "name": format!("{}/{}", d.namespace, d.name), "project": d.project,
                    "classes": d.all_classes(), "residency": d.residency, "location": d.location,
                    "legal_hold": d.legal_hold, "published": d.published, "classified": d.classified,
                },
                "retention": {"dataset_days": d.retention_days, "class_days": class_days, "effective_days": effective,
                              "content": held_content},
                "history": history,
                "quarantines": quarantines,
                "deletions": deletions,
                "pending": deletions.iter().map(|v| v["open_tasks"].as_u64().unwrap_or(0)).sum::<u64>(),
                "findings": findings,
            }))
        }
        (None, Some(s)) => {
            let mut deletions = Vec::new();
            for id in ctx.store().deletions_for_subject(s).await? {
                if let Some(v) = deletion_json(ctx, &id, cites).await? {
                    deletions.push(v);
                }
            }
            if deletions.is_empty() {
                findings.push(format!("no deletion request names `{s}`"));
            }
            Ok(json!({
                "subject": s,
                "deletions": deletions,
                "pending": deletions.iter().map(|v| v["open_tasks"].as_u64().unwrap_or(0)).sum::<u64>(),
                "findings": findings,
            }))
        }
        _ => Err(AppError::BadParameter("name exactly one of a dataset and a data subject".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::Timestamp;
    use warden_store::AuditLeaf;

    fn entry(index: u64) -> AuditEntry {
        let leaf = AuditLeaf {
            time: Timestamp(0),
            category: "data_access".into(),
            action: "gateway.chat".into(),
            actor: None,
            resource: None,
            outcome: "success".into(),
            project: None,
            request_id: None,
            event: "{}".into(),
            leaf_hash: Vec::new(),
        };
        AuditEntry { index, leaf }
    }

    #[test]
    fn many_groups_share_the_citations_and_keep_their_ends() {
        let calls: Vec<AuditEntry> = (0..1000).map(entry).collect();
        let refs: Vec<&AuditEntry> = calls.iter().collect();
        let one = sample_calls(&refs, 1);
        assert_eq!(one.len(), CITED_CALLS);
        assert_eq!(one.last().map(|e| e.index), Some(999), "the last call is always cited");
        let many = sample_calls(&refs, 500);
        assert_eq!(many.iter().map(|e| e.index).collect::<Vec<_>>(), vec![0, 1, 2, 999]);
        assert!(500 * many.len() <= CITED_CALLS_TOTAL, "the answer stays within its total");
        let most = sample_calls(&refs, 5000);
        assert_eq!(most.iter().map(|e| e.index).collect::<Vec<_>>(), vec![0, 999], "first and last at least");
        let few: Vec<&AuditEntry> = refs.iter().take(1).copied().collect();
        assert_eq!(sample_calls(&few, 3).len(), 1, "one call is cited once");
    }
}
