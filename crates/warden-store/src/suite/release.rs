use serde_json::json;
use warden_core::{ArtifactId, ModelId, ProjectId, ReleaseId, SubjectId, Timestamp};

use super::*;

pub(super) async fn policy_versions(store: &dyn Store) {
    let admin = human("policy-admin");
    store.create_subject(&admin).await.unwrap();
    assert!(store.latest_policy().await.unwrap().is_none());
    let v = |version: u64, restored_from: Option<u64>| PolicyVersionRecord {
        version,
        document: format!("zones: {{}} # {version}"),
        digest: format!("sha256:{version}"),
        comment: "c".into(),
        created_by: admin.id.clone(),
        created_at: T0,
        restored_from,
    };
    assert!(!store.add_policy_version(&v(2, None)).await.unwrap(), "versions start at 1 and have no gaps");
    assert!(store.add_policy_version(&v(1, None)).await.unwrap());
    assert!(!store.add_policy_version(&v(1, None)).await.unwrap(), "a version is applied once");
    assert!(store.add_policy_version(&v(2, None)).await.unwrap());
    assert!(store.add_policy_version(&v(3, Some(1))).await.unwrap());
    assert_eq!(store.latest_policy().await.unwrap(), Some(v(3, Some(1))));
    assert_eq!(store.get_policy_version(2).await.unwrap(), Some(v(2, None)));
    let all: Vec<u64> = store.list_policy_versions(10).await.unwrap().iter().map(|v| v.version).collect();
    assert_eq!(all, [3, 2, 1]);
}

pub(super) async fn releases(store: &dyn Store) {
    let author = human("release-author");
    let alice = human("approver-alice");
    let bob = human("approver-bob");
    for s in [&author, &alice, &bob] {
        store.create_subject(s).await.unwrap();
    }
    let p = ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: "releases".into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: author.id.clone(),
    };
    store.create_project(&p, &[]).await.unwrap();
    let a = ArtifactRecord {
        id: ArtifactId::generate(T0.0),
        project: p.id.clone(),
        kind: "model".into(),
        name: "scorer".into(),
        manifest: "{}".into(),
        manifest_digest: "sha256:01".into(),
        total_size: 1,
        verdict: "admitted".into(),
        evidence: json!({}),
        expires_at: None,
        created_by: author.id.clone(),
        created_at: T0,
    };
    store.create_artifact(&a).await.unwrap();
    let m = store
        .ensure_model(&ModelRecord {
            id: ModelId::generate(T0.0),
            project: p.id.clone(),
            name: "scorer".into(),
            created_by: author.id.clone(),
            created_at: T0,
        })
        .await
        .unwrap();
    for _ in 0..2 {
        store.add_model_version(&m.id, &a.id, &VersionLineage::default(), &author.id, T0).await.unwrap();
    }

    // Evaluations are numbered per version and only for versions that exist.
    let eval = |version: u64, auc: f64| EvaluationRecord {
        model: m.id.clone(),
        version,
        seq: 0,
        metrics: [("auc".to_string(), auc)].into(),
        report: Some("sha256:ab".into()),
        dataset: None,
        added_by: author.id.clone(),
        added_at: T0,
    };
    assert_eq!(store.add_evaluation(&eval(1, 0.7)).await.unwrap().seq, 1);
    assert_eq!(store.add_evaluation(&eval(1, 0.9)).await.unwrap().seq, 2);
    assert!(store.add_evaluation(&eval(9, 0.9)).await.is_err());
    assert_eq!(store.list_evaluations(&m.id, 1).await.unwrap()[1].metrics["auc"], 0.9);

    let release = |version: u64, at: Timestamp| ReleaseRecord {
        id: ReleaseId::generate(at.0),
        project: p.id.clone(),
        model: m.id.clone(),
        version,
        zone: "hipaa-ai".into(),
        kind: "release".into(),
        reason: "r".into(),
        status: "pending".into(),
        gate: "{}".into(),
        approvals_required: 2,
        approver_role: "approver".into(),
        policy_version: 1,
        created_by: author.id.clone(),
        created_at: at,
        deployed_by: None,
        deployed_at: None,
        previous: None,
        manifest: None,
        needs_review: false,
        reviewed_by: None,
        reviewed_at: None,
    };
    let decision = |who: &SubjectId, d: &str| ApprovalRecord {
        approver: who.clone(),
        decision: d.into(),
        comment: String::new(),
        mfa: true,
        at: T0,
        withdrawn_at: None,
    };
    let r1 = release(1, T0);
    store.create_release(&r1).await.unwrap();
    assert_eq!(store.get_release(&p.id, &r1.id).await.unwrap().as_ref(), Some(&r1));
    assert!(store.get_release(&ProjectId::generate(1), &r1.id).await.unwrap().is_none(), "scoped to its project");
    assert!(store.decide_release(&r1.id, &decision(&alice.id, "approve")).await.unwrap());
    assert!(
        matches!(store.decide_release(&r1.id, &decision(&alice.id, "approve")).await, Err(StoreError::Conflict(_))),
        "one standing decision per approver"
    );
    assert!(store.withdraw_approval(&r1.id, &alice.id, T0).await.unwrap());
    assert!(!store.withdraw_approval(&r1.id, &alice.id, T0).await.unwrap(), "nothing standing to withdraw");
    assert!(
        store.decide_release(&r1.id, &decision(&alice.id, "approve")).await.unwrap(),
        "approve again after withdrawing"
    );
    assert!(store.decide_release(&r1.id, &decision(&bob.id, "approve")).await.unwrap());

    let deploy = |r: &ReleaseRecord, approvers: Vec<SubjectId>, after_seq: u64, at: Timestamp| Deployment {
        release: r.id.clone(),
        project: p.id.clone(),
        zone: r.zone.clone(),
        model: m.id.clone(),
        version: r.version,
        approvers,
        after_seq,
        previous: None,
        manifest: "{\"signed\":true}".into(),
        by: author.id.clone(),
        at,
        break_glass: false,
    };
    let both = vec![bob.id.clone(), alice.id.clone()];
    assert!(!store.deploy_release(&deploy(&r1, vec![alice.id.clone()], 0, T0)).await.unwrap(), "approvals must match");
    assert!(!store.deploy_release(&deploy(&r1, both.clone(), 3, T0)).await.unwrap(), "history must match");
    let t1 = T0.plus_seconds(60);
    assert!(store.deploy_release(&deploy(&r1, both.clone(), 0, t1)).await.unwrap());
    assert!(!store.deploy_release(&deploy(&r1, both.clone(), 1, t1)).await.unwrap(), "deployed once");
    assert!(
        !store.decide_release(&r1.id, &decision(&author.id, "approve")).await.unwrap(),
        "no decisions after deploy"
    );
    let got = store.get_release(&p.id, &r1.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status.as_str(), got.deployed_at, got.manifest.as_deref()),
        ("deployed", Some(t1), Some("{\"signed\":true}"))
    );

    // A rejection ends a release.
    let r2 = release(2, T0.plus_seconds(1));
    store.create_release(&r2).await.unwrap();
    assert!(store.decide_release(&r2.id, &decision(&alice.id, "reject")).await.unwrap());
    assert!(!store.decide_release(&r2.id, &decision(&bob.id, "approve")).await.unwrap(), "nothing after a rejection");
    assert_eq!(store.get_release(&p.id, &r2.id).await.unwrap().unwrap().status, "rejected");

    // Break-glass needs no approvals and stays flagged until reviewed.
    let r3 = ReleaseRecord { kind: "break-glass".into(), ..release(2, T0.plus_seconds(2)) };
    store.create_release(&r3).await.unwrap();
    let t2 = T0.plus_seconds(120);
    assert!(store
        .deploy_release(&Deployment { break_glass: true, previous: Some(r1.id.clone()), ..deploy(&r3, vec![], 1, t2) })
        .await
        .unwrap());
    assert_eq!(store.unreviewed_releases(&p.id).await.unwrap().len(), 1);
    assert!(store.review_release(&r3.id, &alice.id, t2).await.unwrap());
    assert!(!store.review_release(&r3.id, &alice.id, t2).await.unwrap());
    assert!(store.unreviewed_releases(&p.id).await.unwrap().is_empty());

    // The history answers what was active at any moment.
    for (t, active) in [(T0, vec![]), (t1, vec![1]), (T0.plus_seconds(90), vec![1]), (t2, vec![2])] {
        let got = store.active_in_zone("hipaa-ai", Some(&p.id), t).await.unwrap();
        assert_eq!(got.iter().map(|d| d.version).collect::<Vec<u64>>(), active, "at {t:?}");
    }
    assert!(store.active_in_zone("hipaa-ai", Some(&ProjectId::generate(1)), t2).await.unwrap().is_empty());
    assert_eq!(store.zone_history("hipaa-ai", &m.id).await.unwrap().len(), 2);
    let listed: Vec<ReleaseId> =
        store.list_releases(&p.id, &Page::first(10)).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(listed, [r3.id.clone(), r2.id.clone(), r1.id.clone()]);
    assert!(store.close_release(&r3.id, "failed").await.is_ok_and(|changed| !changed), "only pending releases close");
}
