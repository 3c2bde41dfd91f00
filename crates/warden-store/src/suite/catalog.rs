use warden_core::{DatasetId, DeletionId, TransferId};

use super::*;

pub(super) async fn catalog_and_lineage(store: &dyn Store) {
    let owner = human("catalog-owner");
    store.create_subject(&owner).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let v0 = store.catalog_version().await.unwrap();
    let mk = |ns: &str, name: &str, classified: bool| DatasetRecord {
        id: DatasetId::generate(T0.0),
        namespace: ns.into(),
        name: name.into(),
        project: classified.then(|| p.id.clone()),
        location: Some("s3://lake/claims".into()),
        layer: Some("raw".into()),
        classes: if classified { vec!["personal_data".into()] } else { vec![] },
        columns: vec![ColumnRecord {
            name: "ssn".into(),
            type_: Some("text".into()),
            classes: vec!["personal_data".into()],
        }],
        residency: Some("eu-west".into()),
        owner: Some("claims-team".into()),
        retention_days: Some(365),
        tags: [("source".to_string(), "core".to_string())].into(),
        classified,
        created_at: T0,
        updated_at: T0,
        legal_hold: None,
        published: false,
    };
    let claims = mk("s3://lake", "claims", true);
    store.create_dataset(&claims).await.unwrap();
    assert!(matches!(store.create_dataset(&mk("s3://lake", "claims", true)).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_dataset(&claims.id).await.unwrap().as_ref(), Some(&claims));
    assert_eq!(store.find_dataset("s3://lake", "claims").await.unwrap().as_ref(), Some(&claims));
    assert!(store.catalog_version().await.unwrap() > v0, "writes bump the catalog version");

    // An event: its run, the datasets it names (new ones unclassified), its edges.
    let write = |state: &str, edges: Vec<(String, String)>, datasets: Vec<DatasetRecord>| LineageWrite {
        event: LineageEventRecord {
            run_id: Some("3f5e83fa-3480-44ff-99c5-ff943904e5e8".into()),
            event_type: state.into(),
            event_time: T0,
            producer: "test".into(),
            received_at: T0,
            received_by: owner.id.clone(),
            event: "{}".into(),
        },
        run: Some(LineageRunRecord {
            run_id: "3f5e83fa-3480-44ff-99c5-ff943904e5e8".into(),
            job_namespace: "airflow".into(),
            job_name: "train".into(),
            state: state.into(),
            parent_run: None,
            zone: Some("hipaa-ai".into()),
            started_at: (state == "START").then_some(T0),
            ended_at: (state == "COMPLETE").then_some(T0.plus_seconds(5)),
            updated_at: T0,
        }),
        datasets,
        edges,
    };
    let e = |a: &str, b: &str| (a.to_string(), b.to_string());
    let features = mk("s3://lake", "features", false);
    store
        .write_lineage(&write(
            "START",
            vec![e("dataset:s3://lake/claims", "run:r1"), e("run:r1", "dataset:s3://lake/features")],
            vec![claims.clone(), features.clone()],
        ))
        .await
        .unwrap();
    store.write_lineage(&write("COMPLETE", vec![e("run:r1", "dataset:s3://lake/features")], vec![])).await.unwrap();
    store.write_lineage(&write("RUNNING", vec![], vec![])).await.unwrap();
    let run = store.get_lineage_run("3f5e83fa-3480-44ff-99c5-ff943904e5e8").await.unwrap().unwrap();
    assert_eq!(run.state, "COMPLETE", "a late RUNNING does not reopen a finished run");
    assert_eq!((run.started_at, run.ended_at), (Some(T0), Some(T0.plus_seconds(5))));
    assert_eq!(
        store.find_dataset("s3://lake", "claims").await.unwrap().as_ref(),
        Some(&claims),
        "known ones untouched"
    );
    let unclassified = store.list_datasets(None, true, &Page::first(10)).await.unwrap();
    assert_eq!(unclassified.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["features"]);
    assert_eq!(store.list_datasets(Some(&p.id), false, &Page::first(10)).await.unwrap().len(), 1);

    store.add_lineage_edges(&[e("run:r1", "model:m@1"), e("run:r1", "model:m@1")]).await.unwrap();
    let edges = store.lineage_edges_since(0, 100).await.unwrap();
    let pairs: Vec<(&str, &str)> = edges.iter().map(|(_, a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        pairs,
        [("dataset:s3://lake/claims", "run:r1"), ("run:r1", "dataset:s3://lake/features"), ("run:r1", "model:m@1")]
    );
    assert!(edges.windows(2).all(|w| w[0].0 < w[1].0), "numbered in order");
    assert_eq!(store.lineage_edges_since(edges[1].0, 100).await.unwrap().len(), 1);

    // Classifying an unclassified dataset.
    let mut f = store.find_dataset("s3://lake", "features").await.unwrap().unwrap();
    f.classified = true;
    f.project = Some(p.id.clone());
    f.classes = vec!["public".into()];
    assert!(store.update_dataset(&f).await.unwrap());
    assert!(store.list_datasets(None, true, &Page::first(10)).await.unwrap().is_empty());
    assert_eq!(store.zoned_runs(10).await.unwrap()[0].zone.as_deref(), Some("hipaa-ai"));

    // Transfers: requested, then decided once.
    let t = TransferRecord {
        id: TransferId::generate(T0.0),
        project: p.id.clone(),
        dataset: claims.id.clone(),
        to_zone: "hipaa-ai".into(),
        reason: "model training".into(),
        status: "pending".into(),
        requested_by: owner.id.clone(),
        requested_at: T0,
        decided_by: None,
        decided_at: None,
    };
    store.create_transfer(&t).await.unwrap();
    assert!(store.approved_transfers().await.unwrap().is_empty());
    assert!(store.decide_transfer(&t.id, "approved", &owner.id, T0).await.unwrap());
    assert!(!store.decide_transfer(&t.id, "rejected", &owner.id, T0).await.unwrap(), "decided once");
    assert_eq!(store.approved_transfers().await.unwrap(), vec![(claims.id.clone(), "hipaa-ai".to_string())]);
    assert_eq!(store.list_transfers(&p.id).await.unwrap()[0].status, "approved");
    let gone = mk("s3://lake", "scratch", true);
    store.create_dataset(&gone).await.unwrap();
    assert!(store.delete_dataset(&gone.id).await.unwrap());
    assert!(!store.delete_dataset(&gone.id).await.unwrap());
    assert!(store.get_dataset(&gone.id).await.unwrap().is_none());

    // Deletion requests and their tasks.
    let req = DeletionRequestRecord {
        id: DeletionId::generate(T0.0),
        subject_ref: "customer-4711".into(),
        reason: "GDPR Art. 17".into(),
        datasets: vec![claims.id.clone()],
        requested_by: owner.id.clone(),
        requested_at: T0,
        due_at: T0.plus_seconds(86_400),
    };
    let task = |seq: u64, target: &str| DeletionTaskRecord {
        seq,
        target: target.into(),
        kind: "dataset".into(),
        project: Some(p.id.clone()),
        owner: Some("claims-team".into()),
        due_at: T0.plus_seconds(86_400),
        status: "open".into(),
        evidence: None,
        closed_by: None,
        closed_at: None,
    };
    store
        .create_deletion(&req, &[task(1, "dataset:s3://lake/claims"), task(2, "dataset:s3://lake/features")])
        .await
        .unwrap();
    assert_eq!(store.open_deletion_tasks(10).await.unwrap().len(), 2);
    let on = store.open_deletion_tasks_on("dataset:s3://lake/claims").await.unwrap();
    assert_eq!(on.iter().map(|(id, t)| (id.clone(), t.seq)).collect::<Vec<_>>(), [(req.id.clone(), 1)]);
    assert!(store.open_deletion_tasks_on("dataset:s3://lake/other").await.unwrap().is_empty());
    assert!(store
        .close_deletion_task(&req.id, 1, "DELETE … WHERE customer = 4711; 3 rows", &owner.id, T0)
        .await
        .unwrap());
    assert!(!store.close_deletion_task(&req.id, 1, "again", &owner.id, T0).await.unwrap());
    let (got, tasks) = store.get_deletion(&req.id).await.unwrap().unwrap();
    assert_eq!(got, req);
    assert_eq!(tasks.iter().map(|t| t.status.as_str()).collect::<Vec<_>>(), ["done", "open"]);
    assert_eq!(store.open_deletion_tasks(10).await.unwrap().len(), 1);
    assert!(
        store.open_deletion_tasks_on("dataset:s3://lake/claims").await.unwrap().is_empty(),
        "closed tasks are not open"
    );
}

/// Quarantines: one open per target, lifted once (the record keeps who and why), the
/// history kept.
pub(super) async fn quarantines(store: &dyn Store) {
    let owner = human("quinn");
    store.create_subject(&owner).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let q = QuarantineRecord {
        id: warden_core::QuarantineId::generate(T0.0),
        target: "dataset:s3://lake/held".into(),
        project: p.id.clone(),
        reason: "suspected leak".into(),
        placed_by: owner.id.clone(),
        placed_at: T0,
        lifted_by: None,
        lifted_at: None,
        lift_reason: None,
    };
    assert!(store.place_quarantine(&q).await.unwrap());
    let again = QuarantineRecord { id: warden_core::QuarantineId::generate(T0.0 + 1), ..q.clone() };
    assert!(!store.place_quarantine(&again).await.unwrap(), "one open quarantine per target");
    let asked = vec![q.target.clone(), "dataset:s3://lake/other".to_string()];
    assert_eq!(store.open_quarantines(&asked).await.unwrap(), vec![q.clone()]);
    assert!(store.open_quarantines(&[]).await.unwrap().is_empty());
    let t1 = Timestamp(T0.0 + 1000);
    let lifted = store.lift_quarantine(&q.target, &owner.id, t1, "cleared").await.unwrap().unwrap();
    assert_eq!((lifted.lifted_at, lifted.lift_reason.as_deref()), (Some(t1), Some("cleared")));
    assert!(store.lift_quarantine(&q.target, &owner.id, t1, "again").await.unwrap().is_none());
    assert!(store.open_quarantines(&asked).await.unwrap().is_empty());
    // Placed again after lifting: both are in the history.
    assert!(store.place_quarantine(&again).await.unwrap());
    let history = store.quarantines_on(&q.target).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0], lifted);
    assert_eq!(store.list_quarantines(&p.id).await.unwrap().len(), 2);
}
