//! Evidence benchmark: the auditor's questions on a store with 1,000,000 audit entries,
//! 10,000 datasets and 1,000 model versions (SQLite), answered through `App::dispatch`
//! as the API does (proofs and signature included), next to one full scan of the
//! ledger for the same subject (what answering without the search index would cost).
//!
//! Run: `cargo bench -p warden-app --bench evidence`. `WARDEN_BENCH_ENTRIES`,
//! `WARDEN_BENCH_DATASETS` and `WARDEN_BENCH_VERSIONS` change the sizes.

mod common;

use common::{env, percentile, Lcg};

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use warden_app::evidence::{AccessScope, Evidence, Question};
use warden_app::{App, AppConfig, RequestMeta, SystemClock};
use warden_audit::{AuditEvent, Category, ResourceRef};
use warden_core::{
    ArtifactId, AuthMethod, DatasetId, ModelId, Principal, PrincipalKind, ProjectId, ReleaseId, Role, SubjectId,
    Timestamp,
};
use warden_store::{
    ApprovalRecord, ArtifactRecord, DatasetRecord, Deployment, MemberRef, MembershipRecord, ModelRecord, ProjectRecord,
    ReleaseRecord, Store, SubjectRecord, VersionLineage,
};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

const PROJECTS: usize = 10;
const ZONES: [&str; 2] = ["standard-ai", "eu-ai"];

/// What the generated store holds, for picking subjects.
struct World {
    projects: Vec<ProjectId>,
    versions: Vec<(ProjectId, String, ModelId, u64)>,
    datasets: Vec<DatasetId>,
    releases: Vec<(ProjectId, ReleaseId)>,
}

async fn run() {
    let entries = env("WARDEN_BENCH_ENTRIES", 1_000_000);
    let n_datasets = env("WARDEN_BENCH_DATASETS", 10_000);
    let n_versions = env("WARDEN_BENCH_VERSIONS", 1_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.db");
    let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&path).await.unwrap());
    let key = warden_audit::SigningKey::generate("warden/bench").unwrap();
    let ledger = warden_audit::Ledger::open(store.clone(), key, Default::default()).await.unwrap();
    let blobs = warden_blob::BlobStore::local(&dir.path().join("blobs")).unwrap();
    let app =
        App::new(store.clone(), ledger.clone(), blobs, Arc::new(SystemClock), AppConfig::default(), None).unwrap();
    let now = app.now();
    let t0 = Timestamp(now.0 - 30 * 86_400_000);

    // ----------------------------------------------------------------- the records
    let started = Instant::now();
    let admin = SubjectRecord::new(SubjectId::generate_user(t0.0), PrincipalKind::Human, "admin", t0);
    store.create_subject(&admin).await.unwrap();
    let mut people = Vec::new();
    for i in 0..50 {
        let s = SubjectRecord::new(SubjectId::generate_user(t0.0 + i), PrincipalKind::Human, &format!("user{i}"), t0);
        store.create_subject(&s).await.unwrap();
        people.push(s.id);
    }
    let mut world = World { projects: Vec::new(), versions: Vec::new(), datasets: Vec::new(), releases: Vec::new() };
    for p in 0..PROJECTS {
        let id = ProjectId::generate(t0.0 + p as i64);
        let rec = ProjectRecord {
            id: id.clone(),
            name: format!("project-{p}"),
            description: String::new(),
            cost_centre: None,
            created_at: t0,
            created_by: admin.id.clone(),
        };
        let members: Vec<MembershipRecord> = (0..5)
            .map(|m| MembershipRecord {
                project: id.clone(),
                member: MemberRef::Subject(people[(p * 5 + m) % people.len()].clone()),
                role: [Role::ProjectOwner, Role::DataScientist, Role::Approver][m % 3],
                added_at: t0,
                added_by: admin.id.clone(),
            })
            .collect();
        store.create_project(&rec, &members).await.unwrap();
        world.projects.push(id);
    }
    let mut rng = Lcg(11);
    for d in 0..n_datasets {
        let project = world.projects[d % PROJECTS].clone();
        let mut rec = DatasetRecord::unclassified("s3://lake", &format!("table-{d}"), Some(project), t0);
        rec.classes = vec!["public".into()];
        rec.residency = Some(if d % 2 == 0 { "us-east" } else { "eu-west" }.into());
        rec.classified = true;
        store.create_dataset(&rec).await.unwrap();
        world.datasets.push(rec.id);
    }
    let mut edges = Vec::new();
    for v in 0..n_versions {
        let project = world.projects[v % PROJECTS].clone();
        let name = format!("model-{}", v / 10);
        let art = ArtifactRecord {
            id: ArtifactId::generate(t0.0 + v as i64),
            project: project.clone(),
            kind: "model".into(),
            name: name.clone(),
            manifest: "{}".into(),
            manifest_digest: "sha256:00".into(),
            total_size: 1,
            verdict: "admitted".into(),
            evidence: json!({}),
            expires_at: None,
            created_by: admin.id.clone(),
            created_at: t0,
        };
        store.create_artifact(&art).await.unwrap();
        let model = store
            .ensure_model(&ModelRecord {
                id: ModelId::generate(t0.0 + v as i64),
                project: project.clone(),
                name: name.clone(),
                created_by: admin.id.clone(),
                created_at: t0,
            })
            .await
            .unwrap();
        let picked: Vec<usize> = (0..3).map(|_| rng.next(n_datasets)).collect();
        let lineage = VersionLineage {
            datasets: picked.iter().map(|d| format!("s3://lake/table-{d}")).collect(),
            ..VersionLineage::default()
        };
        let ver = store.add_model_version(&model.id, &art.id, &lineage, &admin.id, t0).await.unwrap();
        let node = warden_lineage::model_node(model.id.as_str(), ver.version);
        for d in picked {
            edges.push((warden_lineage::dataset_node("s3://lake", &format!("table-{d}")), node.clone()));
        }
        world.versions.push((project, name, model.id, ver.version));
    }
    store.add_lineage_edges(&edges).await.unwrap();
    // A release of one version of every tenth model, to one of two zones each.
    for (i, (project, _, model, version)) in world.versions.iter().enumerate().step_by(10).take(100) {
        let id = ReleaseId::generate(t0.0 + i as i64);
        let zone = ZONES[i / 10 % 2].to_string();
        let by = people[i % people.len()].clone();
        let approver = people[(i + 1) % people.len()].clone();
        store
            .create_release(&ReleaseRecord {
                id: id.clone(),
                project: project.clone(),
                model: model.clone(),
                version: *version,
                zone: zone.clone(),
                kind: "release".into(),
                reason: "bench".into(),
                status: "pending".into(),
                gate: "{}".into(),
                approvals_required: 1,
                approver_role: "approver".into(),
                policy_version: 1,
                created_by: by.clone(),
                created_at: t0,
                deployed_by: None,
                deployed_at: None,
                previous: None,
                manifest: None,
                needs_review: false,
                reviewed_by: None,
                reviewed_at: None,
            })
            .await
            .unwrap();
        let approval = ApprovalRecord {
            approver: approver.clone(),
            decision: "approve".into(),
            comment: String::new(),
            mfa: true,
            at: t0,
            withdrawn_at: None,
        };
        assert!(store.decide_release(&id, &approval).await.unwrap());
        let deployed = store
            .deploy_release(&Deployment {
                release: id.clone(),
                project: project.clone(),
                zone,
                model: model.clone(),
                version: *version,
                approvers: vec![approver],
                after_seq: 0,
                previous: None,
                manifest: "{}".into(),
                by,
                at: Timestamp(t0.0 + 1000),
                break_glass: false,
            })
            .await
            .unwrap();
        assert!(deployed);
        world.releases.push((project.clone(), id));
    }
    println!(
        "records: {PROJECTS} projects, {} datasets, {} model versions, {} releases in {:.1} s",
        world.datasets.len(),
        world.versions.len(),
        world.releases.len(),
        started.elapsed().as_secs_f64()
    );

    // ----------------------------------------------------------------- the ledger
    // Every release's story, each version's registration and a share of gateway calls
    // naming versions, each dataset's creation, then decisions on projects as filler,
    // interleaved as a real ledger is.
    let started = Instant::now();
    let mut n = 0usize;
    let mut wave: Vec<AuditEvent> = Vec::with_capacity(512);
    let mut k = 0usize;
    let at = |k: usize| Timestamp(t0.0 + (k as i64) * 2);
    let actor = |e: &mut AuditEvent, s: &SubjectId| {
        e.actor.uid = Some(s.to_string());
        e.actor.mfa = Some(true);
    };
    while n < entries {
        let mut e;
        let which = k % 20;
        let grants = PROJECTS * 5;
        if k < grants {
            // Each membership's ledger entry, as dispatch records it.
            let (p, m) = (k / 5, k % 5);
            e = AuditEvent::new(t0, Category::Change, "project.member.add", "success");
            e.project = Some(world.projects[p].to_string());
            e.resource = Some(ResourceRef { type_: "project".into(), uid: world.projects[p].to_string() });
            let role = [Role::ProjectOwner, Role::DataScientist, Role::Approver][m % 3];
            let member = people[(p * 5 + m) % people.len()].to_string();
            e.detail = json!({"member": member, "requested_role": role.as_str()});
        } else if k - grants < world.releases.len() * 3 {
            let k = k - grants;
            let (project, id) = &world.releases[k / 3];
            let action = ["release.created", "release.approved", "release.deployed"][k % 3];
            e = AuditEvent::new(at(k + grants), Category::Change, action, "success");
            e.project = Some(project.to_string());
            e.resource = Some(ResourceRef { type_: "release".into(), uid: id.to_string() });
            e.detail = json!({"manifest": {"release": id.to_string()}});
        } else if which < 4 {
            let (project, _, model, version) = &world.versions[rng.next(world.versions.len())];
            e = AuditEvent::new(at(k), Category::DataAccess, "gateway.chat", "success");
            e.project = Some(project.to_string());
            e.resource = Some(ResourceRef { type_: "model".into(), uid: format!("{model}@{version}") });
            e.data_classes = vec!["public".into()];
            e.zone = Some(ZONES[k % 2].into());
            e.detail = json!({"provider": "mock", "region": "us-east", "caller": "bench"});
        } else if which == 4 && k / 20 < world.datasets.len() {
            let d = &world.datasets[k / 20];
            e = AuditEvent::new(at(k), Category::Change, "dataset.create", "success");
            e.resource = Some(ResourceRef { type_: "dataset".into(), uid: d.to_string() });
        } else if which == 5 && k / 20 < world.versions.len() {
            let (project, _, model, version) = &world.versions[k / 20];
            e = AuditEvent::new(at(k), Category::Change, "model.version.create", "success");
            e.project = Some(project.to_string());
            e.resource = Some(ResourceRef { type_: "model".into(), uid: format!("{model}@{version}") });
        } else {
            let project = &world.projects[rng.next(PROJECTS)];
            e = AuditEvent::new(at(k), Category::Authorization, "model.read", "allow");
            e.project = Some(project.to_string());
            e.resource = Some(ResourceRef { type_: "project".into(), uid: project.to_string() });
        }
        actor(&mut e, &people[rng.next(people.len())]);
        wave.push(e);
        k += 1;
        n += 1;
        if wave.len() == 512 || n == entries {
            let appends = wave.iter().map(|e| ledger.append(e));
            for r in futures_util::future::join_all(appends).await {
                r.unwrap();
            }
            wave.clear();
        }
    }
    let size = store.audit_size().await.unwrap();
    let mut head = 0;
    while head < size {
        head = store.index_audit(100_000).await.unwrap();
    }
    println!("ledger: {size} entries appended and indexed in {:.1} s", started.elapsed().as_secs_f64());

    // ----------------------------------------------------------------- questions
    let auditor = Principal {
        id: SubjectId::generate_user(now.0),
        name: "auditor".into(),
        kind: PrincipalKind::Human,
        org_roles: BTreeSet::from([Role::Auditor]),
        method: AuthMethod::Token,
        mfa: false,
        totp_enrolled: false,
        scope: None,
    };
    let meta = RequestMeta::default();
    let ask = |q: Question| {
        let (app, auditor, meta) = (&app, &auditor, &meta);
        async move {
            let t = Instant::now();
            let b = app.dispatch(auditor, meta, Evidence(q)).await.unwrap();
            (t.elapsed(), b.entries.len())
        }
    };
    // The first answer loads the lineage graph into the replica.
    let (cold, _) = ask(Question::DataAccess {
        project: world.versions[0].0.clone(),
        model: world.versions[0].1.clone(),
        version: world.versions[0].3,
    })
    .await;
    println!("cold: the first answer (loads the lineage graph) in {:.0} ms", ms(cold));
    let runs = 20;
    let mut worst = Duration::ZERO;
    let mut report = |name: &str, mut times: Vec<Duration>, cited: usize| {
        let (p50, p99) = (percentile(&mut times, 0.5), percentile(&mut times, 0.99));
        worst = worst.max(p99);
        println!(
            "{name:<34} p50 {:>7.1} ms  p99 {:>7.1} ms  ({} entries cited on average; goal < 1000 ms)",
            ms(p50),
            ms(p99),
            cited / times.len()
        );
    };
    let mut pick = Lcg(23);
    macro_rules! measure {
        ($name:expr, $q:expr) => {{
            let mut times = Vec::new();
            let mut cited = 0;
            for _ in 0..runs {
                let (t, c) = ask($q(&mut pick)).await;
                times.push(t);
                cited += c;
            }
            report($name, times, cited);
        }};
    }
    measure!("1 data-access MODEL@V", |r: &mut Lcg| {
        let (p, m, _, v) = world.versions[r.next(world.versions.len())].clone();
        Question::DataAccess { project: p, model: m, version: v }
    });
    measure!("2 locations MODEL@V", |r: &mut Lcg| {
        let (p, m, _, v) = world.versions[r.next(world.versions.len())].clone();
        Question::Locations { project: p, model: m, version: v }
    });
    measure!("3 access --project P --at T", |r: &mut Lcg| Question::Access {
        scope: AccessScope::Project(world.projects[r.next(PROJECTS)].clone()),
        at: Timestamp(now.0 - 86_400_000),
    });
    measure!("3 access --zone Z", |r: &mut Lcg| Question::Access {
        scope: AccessScope::Zone(ZONES[r.next(2)].into()),
        at: app.now()
    });
    measure!("4 active --zone Z --at T", |r: &mut Lcg| Question::Active {
        zone: ZONES[r.next(2)].into(),
        at: app.now(),
        window: None
    });
    measure!("4 active --zone Z --from --to", |r: &mut Lcg| Question::Active {
        zone: ZONES[r.next(2)].into(),
        at: app.now(),
        window: Some((t0, app.now()))
    });
    measure!("5 change RELEASE", |r: &mut Lcg| {
        let (p, id) = world.releases[r.next(world.releases.len())].clone();
        Question::Change { project: p, release: id }
    });
    measure!("6 log --from --to --subject RELEASE", |r: &mut Lcg| {
        let (_, id) = world.releases[r.next(world.releases.len())].clone();
        Question::Log { from: t0, to: app.now(), subject: Some(id.to_string()) }
    });
    measure!("7 data-handling DATASET", |r: &mut Lcg| Question::DataHandling {
        dataset: Some(world.datasets[r.next(world.datasets.len())].to_string()),
        subject: None,
    });

    // ----------------------------------------------------------------- baseline
    // One subject's events found by reading the whole ledger (each leaf parsed), as a
    // tool without the search index would.
    let (_, release) = &world.releases[0];
    let wanted = format!("release:{release}");
    let t = Instant::now();
    let mut from = 0;
    let mut found = 0;
    loop {
        let batch = store.audit_entries(from, 10_000).await.unwrap();
        let Some(last) = batch.last().map(|e| e.index) else { break };
        for e in &batch {
            let v: serde_json::Value = serde_json::from_str(&e.leaf.event).unwrap();
            let r = &v["resource"];
            if r.is_object() && format!("{}:{}", r["type"].as_str().unwrap(), r["uid"].as_str().unwrap()) == wanted {
                found += 1;
            }
        }
        from = last + 1;
    }
    let scan = t.elapsed();
    println!(
        "baseline: a full scan of the {size}-entry ledger for one release's {found} events: {:.0} ms; \
         slowest evidence p99 / scan = {:.3}",
        ms(scan),
        worst.as_secs_f64() / scan.as_secs_f64()
    );
    println!(
        "evidence goal (every answer < 1 s at p99): {}",
        if worst < Duration::from_secs(1) { "met" } else { "NOT met" }
    );
}
