use serde_json::json;
use warden_core::{ArtifactId, ModelId, ProjectId, SignerId, Timestamp, UploadId};

use super::*;

pub(super) async fn blobs(store: &dyn Store) {
    let owner = human("blob-owner");
    store.create_subject(&owner).await.unwrap();
    let mk = |name: &str| ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: name.into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: owner.id.clone(),
    };
    let (a, b) = (mk("blobs-a"), mk("blobs-b"));
    store.create_project(&a, &[]).await.unwrap();
    store.create_project(&b, &[]).await.unwrap();
    let d = format!("sha256:{}", "ab".repeat(32));
    store.record_blob(&a.id, &d, 42, &owner.id, T0).await.unwrap();
    store.record_blob(&a.id, &d, 42, &owner.id, T0).await.unwrap();
    assert_eq!(store.project_blob(&a.id, &d).await.unwrap(), Some(42));
    assert_eq!(store.project_blob(&b.id, &d).await.unwrap(), None, "blobs are visible per project");
    store.record_blob(&b.id, &d, 42, &owner.id, T0).await.unwrap();
    assert_eq!(store.project_blob(&b.id, &d).await.unwrap(), Some(42));
    let ghost = ProjectId::generate(T0.0);
    assert!(store.record_blob(&ghost, &d, 42, &owner.id, T0).await.is_err(), "only for projects that exist");
}

pub(super) async fn uploads(store: &dyn Store) {
    let owner = human("upload-owner");
    store.create_subject(&owner).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let mk = |expires: i64| UploadRecord {
        id: UploadId::generate(T0.0),
        project: p.id.clone(),
        created_by: owner.id.clone(),
        created_at: T0,
        expires_at: Timestamp(expires),
        size: 0,
    };
    let u = mk(T0.0 + 1000);
    store.create_upload(&u).await.unwrap();
    assert_eq!(store.get_upload(&u.id).await.unwrap(), Some(u.clone()));
    let part = |offset: u64, size: u64| UploadPartRecord { offset, size, object: format!("uploads/x/{offset}") };
    assert!(store.add_upload_part(&u.id, &part(0, 10)).await.unwrap());
    assert!(!store.add_upload_part(&u.id, &part(0, 10)).await.unwrap(), "offset 0 is taken");
    assert!(!store.add_upload_part(&u.id, &part(11, 5)).await.unwrap(), "no gaps");
    assert!(store.add_upload_part(&u.id, &part(10, 5)).await.unwrap());
    assert_eq!(store.get_upload(&u.id).await.unwrap().unwrap().size, 15);
    assert_eq!(store.list_upload_parts(&u.id).await.unwrap(), vec![part(0, 10), part(10, 5)]);
    // Two writers racing for the same offset: exactly one lands.
    let (p1, p2) = (part(15, 1), part(15, 2));
    let (a, b) = tokio::join!(store.add_upload_part(&u.id, &p1), store.add_upload_part(&u.id, &p2));
    assert!(a.unwrap() ^ b.unwrap(), "one of two racing parts lands");

    let old = mk(T0.0 - 1);
    store.create_upload(&old).await.unwrap();
    assert_eq!(store.expired_uploads(T0, 10).await.unwrap(), vec![old.id.clone()]);
    let mut objects = store.delete_upload(&u.id).await.unwrap();
    objects.sort();
    assert_eq!(&objects[..2], &["uploads/x/0".to_string(), "uploads/x/10".to_string()]);
    assert_eq!(store.get_upload(&u.id).await.unwrap(), None);
    assert!(store.list_upload_parts(&u.id).await.unwrap().is_empty());
    assert!(store.delete_upload(&u.id).await.unwrap().is_empty(), "deleting twice is harmless");
    store.delete_upload(&old.id).await.unwrap();
    assert!(store.expired_uploads(Timestamp(i64::MAX), 10).await.unwrap().is_empty());
}

pub(super) async fn registry(store: &dyn Store) {
    let owner = human("registry-owner");
    store.create_subject(&owner).await.unwrap();
    let p = ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: "registry".into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: owner.id.clone(),
    };
    store.create_project(&p, &[]).await.unwrap();
    let a = ArtifactRecord {
        id: ArtifactId::generate(T0.0),
        project: p.id.clone(),
        kind: "model".into(),
        name: "fraud".into(),
        manifest: r#"{"files":[{"digest":"sha256:aa","path":"m.bin","size":10}]}"#.into(),
        manifest_digest: "sha256:00".into(),
        total_size: 10,
        verdict: "admitted".into(),
        evidence: json!({"reasons": []}),
        expires_at: Some(T0.plus_seconds(3600)),
        created_by: owner.id.clone(),
        created_at: T0,
    };
    store.create_artifact(&a).await.unwrap();
    assert_eq!(store.get_artifact(&p.id, &a.id).await.unwrap().as_ref(), Some(&a));
    assert!(store.get_artifact(&ProjectId::generate(1), &a.id).await.unwrap().is_none(), "scoped to the project");
    assert!(matches!(store.create_artifact(&a).await, Err(StoreError::Conflict(_))), "records are written once");
    assert_eq!(store.list_artifacts(&p.id, &Page::first(10)).await.unwrap().len(), 1);
    for (d, n, why) in [
        ("sha256:aa", 1, "found by a file's digest"),
        ("sha256:a", 0, "whole digests only"),
        ("sha256:a%", 0, "no wildcards"),
    ] {
        assert_eq!(store.artifacts_with_blob(&p.id, d).await.unwrap().len(), n, "{why}");
    }

    let m = ModelRecord {
        id: ModelId::generate(T0.0),
        project: p.id.clone(),
        name: "fraud".into(),
        created_by: owner.id.clone(),
        created_at: T0,
    };
    let got = store.ensure_model(&m).await.unwrap();
    let again = store.ensure_model(&ModelRecord { id: ModelId::generate(T0.0), ..m.clone() }).await.unwrap();
    assert_eq!(got.id, again.id, "one model per name and project");
    let lineage = VersionLineage {
        runs: vec!["run-7".into()],
        datasets: vec!["claims-2025".into()],
        data_classes: vec!["personal_data".into()],
    };
    let v1 = store.add_model_version(&got.id, &a.id, &lineage, &owner.id, T0).await.unwrap();
    let v2 = store.add_model_version(&got.id, &a.id, &VersionLineage::default(), &owner.id, T0).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let versions = store.list_model_versions(&got.id).await.unwrap();
    assert_eq!(versions, vec![v1.clone(), v2.clone()]);
    assert_eq!(versions[0].lineage, lineage, "lineage round-trips");
    assert_eq!(store.list_models(&p.id, &Page::first(10)).await.unwrap().len(), 1);
    assert!(
        store.add_model_version(&got.id, &ArtifactId::generate(1), &lineage, &owner.id, T0).await.is_err(),
        "versions need an artifact"
    );

    // Aliases point at existing versions and move; tags label versions.
    let alias = |name: &str, version: u64| ModelAliasRecord {
        alias: name.into(),
        version,
        updated_by: owner.id.clone(),
        updated_at: T0,
    };
    store.set_model_alias(&got.id, &alias("champion", 1)).await.unwrap();
    store.set_model_alias(&got.id, &alias("challenger", 2)).await.unwrap();
    store.set_model_alias(&got.id, &alias("champion", 2)).await.unwrap();
    let aliases = store.list_model_aliases(&got.id).await.unwrap();
    assert_eq!(
        aliases.iter().map(|a| (a.alias.as_str(), a.version)).collect::<Vec<_>>(),
        vec![("challenger", 2), ("champion", 2)]
    );
    assert!(store.set_model_alias(&got.id, &alias("ghost", 9)).await.is_err(), "only to a version that exists");
    assert!(store.delete_model_alias(&got.id, "challenger").await.unwrap());
    assert!(!store.delete_model_alias(&got.id, "challenger").await.unwrap());
    assert_eq!(store.list_model_aliases(&got.id).await.unwrap().len(), 1);

    let tag = |version: u64, key: &str, value: &str| ModelTagRecord {
        version,
        key: key.into(),
        value: value.into(),
        updated_by: owner.id.clone(),
        updated_at: T0,
    };
    store.set_model_tag(&got.id, &tag(1, "validated", "no")).await.unwrap();
    store.set_model_tag(&got.id, &tag(1, "validated", "yes")).await.unwrap();
    store.set_model_tag(&got.id, &tag(2, "owner", "risk-team")).await.unwrap();
    assert!(store.set_model_tag(&got.id, &tag(9, "k", "v")).await.is_err(), "only on a version that exists");
    let tags = store.list_model_tags(&got.id).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| (t.version, t.key.as_str(), t.value.as_str())).collect::<Vec<_>>(),
        vec![(1, "validated", "yes"), (2, "owner", "risk-team")]
    );
    assert!(store.delete_model_tag(&got.id, 1, "validated").await.unwrap());
    assert!(!store.delete_model_tag(&got.id, 1, "validated").await.unwrap());
    assert_eq!(store.list_model_versions(&got.id).await.unwrap(), versions, "versions untouched by labels");
}

pub(super) async fn signers(store: &dyn Store) {
    let admin = human("signer-admin");
    store.create_subject(&admin).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let mk = |project: Option<ProjectId>| SignerRecord {
        id: SignerId::generate(T0.0),
        project,
        name: "release-key".into(),
        algorithm: "ed25519".into(),
        public_key: "PEM".into(),
        not_before: Some(T0),
        not_after: Some(T0.plus_seconds(3600)),
        revoked_at: None,
        created_by: admin.id.clone(),
        created_at: T0,
    };
    let org = mk(None);
    let scoped = mk(Some(p.id.clone()));
    store.create_signer(&org).await.unwrap();
    store.create_signer(&scoped).await.unwrap();
    assert_eq!(store.get_signer(&org.id).await.unwrap().as_ref(), Some(&org));
    assert_eq!(store.list_signers(None).await.unwrap().len(), 1, "without a project: organisation signers");
    assert_eq!(store.list_signers(Some(&p.id)).await.unwrap().len(), 2);
    assert!(scoped.trusted_for(&p.id, T0));
    assert!(!scoped.trusted_for(&ProjectId::generate(1), T0), "project signers only for their project");
    assert!(!org.trusted_for(&p.id, T0.plus_seconds(3600)), "expired");
    assert!(!org.trusted_for(&p.id, Timestamp(T0.0 - 1)), "not yet valid");
    assert!(store.revoke_signer(&org.id, T0.plus_seconds(10)).await.unwrap());
    assert!(!store.revoke_signer(&org.id, T0.plus_seconds(20)).await.unwrap());
    let revoked = store.get_signer(&org.id).await.unwrap().unwrap();
    assert!(revoked.trusted_for(&p.id, T0.plus_seconds(5)) && !revoked.trusted_for(&p.id, T0.plus_seconds(10)));
}
