//! Intake and the model registry: artifacts built from uploaded blobs, scanned without
//! execution, admitted or rejected with evidence, and versioned immutably.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../warden-intake/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Uploads `data` to the project; returns the manifest entry for it.
pub(crate) async fn upload(s: &Server, token: &str, project: &str, path: &str, data: Vec<u8>) -> Value {
    let d = digest(&data);
    let size = data.len();
    let res = s
        .http
        .put(format!("{}/api/v1/projects/{project}/blobs/{d}", s.url))
        .bearer_auth(token)
        .body(data)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    json!({"path": path, "digest": d, "size": size})
}

fn safetensors() -> Vec<u8> {
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(&[0u8; 8]);
    v
}

both_engines!(intake_admits_safe_models_rejects_unsafe_ones_and_versions_are_immutable);
async fn intake_admits_safe_models_rejects_unsafe_ones_and_versions_are_immutable(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (_, bob_t) = s.user(&admin, "bob").await;
    let p = s.project(&admin, "fraud", Some(&alice)).await;

    let files = vec![
        upload(&s, &alice_t, &p, "model.safetensors", safetensors()).await,
        upload(&s, &alice_t, &p, "legacy/model.pt", fixture("safe_model.pt")).await,
        upload(&s, &alice_t, &p, "config.json", br#"{"layers": 2}"#.to_vec()).await,
    ];
    let body = json!({"kind": "model", "name": "fraud-detector", "files": files, "licence": "Apache-2.0",
                      "source_uri": "https://example.test/fraud", "expiry_date": "2099-01-01T00:00:00Z",
                      "model_card": "# Fraud detector\nTrained on card transactions."});
    let a = s.post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, body).await.expect(201);
    assert_eq!(a["verdict"], "admitted", "{a}");
    assert_eq!(a["files"].as_array().unwrap().len(), 3);
    assert_eq!(a["files"][0]["path"], "config.json", "manifest sorted by path");
    assert!(a["manifest_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(a["evidence"]["scans"]["model.safetensors"]["verdict"], "safe");
    assert_eq!(a["evidence"]["scans"]["legacy/model.pt"]["format"], "zip_archive");
    assert_eq!(a["evidence"]["scans"]["config.json"]["verdict"], "safe");
    assert_eq!(a["evidence"]["scans"]["config.json"]["format"], "json");
    assert_eq!(a["evidence"]["metadata"]["licence"], "Apache-2.0");
    let art = a["id"].as_str().unwrap();

    let v1 = s
        .post(&format!("/api/v1/projects/{p}/models/fraud-detector/versions"), &alice_t, json!({"artifact": art}))
        .await
        .expect(201);
    let v2 = s
        .post(&format!("/api/v1/projects/{p}/models/fraud-detector/versions"), &alice_t, json!({"artifact": art}))
        .await
        .expect(201);
    assert_eq!((v1["version"].as_u64(), v2["version"].as_u64()), (Some(1), Some(2)));
    let m = s.get(&format!("/api/v1/projects/{p}/models/fraud-detector"), &alice_t).await.expect(200);
    assert_eq!(m["versions"].as_array().unwrap().len(), 2);
    assert_eq!(m["versions"][0]["artifact"]["id"], art);
    assert_eq!(
        s.get(&format!("/api/v1/projects/{p}/models"), &alice_t).await.expect(200)["items"].as_array().unwrap().len(),
        1
    );
    // Another project's people see nothing.
    s.get(&format!("/api/v1/projects/{p}/models/fraud-detector"), &bob_t).await.problem(403, "forbidden");

    // An unsafe pickle: rejected with the reason, the rejection recorded, never versioned.
    let evil = vec![upload(&s, &alice_t, &p, "model.pkl", fixture("os_system_p4.pkl")).await];
    let r = s
        .post(
            &format!("/api/v1/projects/{p}/artifacts"),
            &alice_t,
            json!({"kind": "model", "name": "evil", "files": evil}),
        )
        .await
        .problem(422, "validation-failed");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("posix.system") && detail.contains("runs system commands"), "{detail}");
    let rejected = detail.split_whitespace().find(|w| w.starts_with("art_")).unwrap().trim_end_matches(':');
    let rec = s.get(&format!("/api/v1/projects/{p}/artifacts/{rejected}"), &alice_t).await.expect(200);
    assert_eq!(rec["verdict"], "rejected");
    assert!(rec["evidence"]["reasons"][0].as_str().unwrap().contains("posix.system"));
    s.post(&format!("/api/v1/projects/{p}/models/evil/versions"), &alice_t, json!({"artifact": rejected}))
        .await
        .problem(422, "validation-failed");
    let ev =
        s.get("/api/v1/audit/events?action=artifact.create&category=change&outcome=failure", &admin).await.expect(200);
    assert!(ev["items"][0]["event"]["reason"].as_str().unwrap().contains("intake rejected"), "{ev}");

    // Bad manifests change nothing.
    let good = upload(&s, &alice_t, &p, "x.bin", b"xyz".to_vec()).await;
    for files in [
        json!([{"path": "../escape.bin", "digest": good["digest"], "size": 3}]),
        json!([{"path": "/etc/passwd", "digest": good["digest"], "size": 3}]),
        json!([{"path": "a", "digest": good["digest"], "size": 3}, {"path": "a", "digest": good["digest"], "size": 3}]),
        json!([{"path": "x.bin", "digest": good["digest"], "size": 4}]),
        json!([{"path": "x.bin", "digest": digest(b"never uploaded"), "size": 3}]),
        json!([]),
    ] {
        s.post(
            &format!("/api/v1/projects/{p}/artifacts"),
            &alice_t,
            json!({"kind": "model", "name": "bad", "files": files}),
        )
        .await
        .problem(422, "validation-failed");
    }
    s.post(
        &format!("/api/v1/projects/{p}/artifacts"),
        &alice_t,
        json!({"kind": "spaceship", "name": "x", "files": [good]}),
    )
    .await
    .problem(422, "validation-failed");
    s.post(
        &format!("/api/v1/projects/{p}/artifacts"),
        &alice_t,
        json!({"kind": "model", "name": "old", "files": [good], "expiry_date": "2001-01-01T00:00:00Z"}),
    )
    .await
    .problem(422, "validation-failed");
}

both_engines!(signed_manifests_need_a_trusted_unrevoked_signer);
async fn signed_manifests_need_a_trusted_unrevoked_signer(engine: Engine) {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "signed", Some(&alice)).await;
    let other = s.project(&admin, "elsewhere", None).await;
    let private = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]).to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let (_, public) = warden_intake::signature::public_pem(&private).unwrap();

    // Registering keys is for administrators; bad keys are refused.
    s.post("/api/v1/signers", &alice_t, json!({"name": "k", "algorithm": "ed25519", "public_key": public}))
        .await
        .problem(403, "forbidden");
    s.post("/api/v1/signers", &admin, json!({"name": "k", "algorithm": "ecdsa-p256", "public_key": public}))
        .await
        .problem(422, "validation-failed");
    s.post("/api/v1/signers", &admin, json!({"name": "k", "algorithm": "rsa", "public_key": public}))
        .await
        .problem(422, "validation-failed");
    let elsewhere = s
        .post(
            "/api/v1/signers",
            &admin,
            json!({"name": "other-team", "algorithm": "ed25519", "public_key": public, "project": other}),
        )
        .await
        .expect(201);

    let files = vec![upload(&s, &alice_t, &p, "model.safetensors", safetensors()).await];
    let manifest = warden_intake::manifest::Manifest::new(
        files.iter().map(|f| serde_json::from_value(f.clone()).unwrap()).collect(),
    )
    .unwrap();
    let (_, sig) = warden_intake::signature::sign_pem(&private, manifest.canonical().as_bytes()).unwrap();
    let push = |signature: &str| json!({"kind": "model", "name": "signed", "files": files, "signatures": [{"signature": signature}]});
    // Only a key trusted for another project: rejected.
    let r = s
        .post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, push(&sig))
        .await
        .problem(422, "validation-failed");
    assert!(r["detail"].as_str().unwrap().contains("signature does not verify"), "{r}");

    let org = s
        .post("/api/v1/signers", &admin, json!({"name": "release", "algorithm": "ed25519", "public_key": public}))
        .await
        .expect(201);
    let a = s.post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, push(&sig)).await.expect(201);
    assert_eq!(a["evidence"]["signatures"][0]["verified"], true);
    assert_eq!(a["evidence"]["signatures"][0]["name"], "release");
    // A signature over something else fails.
    let (_, wrong) = warden_intake::signature::sign_pem(&private, b"another manifest").unwrap();
    s.post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, push(&wrong)).await.problem(422, "validation-failed");
    // Revoked keys stop counting.
    s.post(&format!("/api/v1/signers/{}/revoke", org["id"].as_str().unwrap()), &admin, json!(null)).await.expect(204);
    s.post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, push(&sig)).await.problem(422, "validation-failed");
    let listed = s.get(&format!("/api/v1/signers?project={other}"), &admin).await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().any(|x| x["id"] == elsewhere["id"]));
}

both_engines!(container_images_are_admitted_by_digest_only);
async fn container_images_are_admitted_by_digest_only(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "serving", Some(&alice)).await;
    let image = format!("registry.internal/fraud/scorer@sha256:{}", "c".repeat(64));
    let a = s
        .post(
            &format!("/api/v1/projects/{p}/artifacts"),
            &alice_t,
            json!({"kind": "container-image", "name": "scorer", "image": image}),
        )
        .await
        .expect(201);
    assert_eq!((a["verdict"].as_str(), a["image"].as_str()), (Some("admitted"), Some(image.as_str())));
    assert!(a["files"].as_array().unwrap().is_empty());
    for body in [
        json!({"kind": "container-image", "name": "scorer", "image": "registry.internal/fraud/scorer:latest"}),
        json!({"kind": "container-image", "name": "scorer"}),
        json!({"kind": "model", "name": "m", "image": image}),
    ] {
        s.post(&format!("/api/v1/projects/{p}/artifacts"), &alice_t, body).await.problem(422, "validation-failed");
    }
}

both_engines!(versions_carry_lineage_aliases_and_tags);
async fn versions_carry_lineage_aliases_and_tags(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (bob, bob_t) = s.user(&admin, "bob").await;
    let p = s.project(&admin, "risk", Some(&alice)).await;
    s.post(&format!("/api/v1/projects/{p}/members"), &admin, json!({"member": bob, "role": "approver"}))
        .await
        .expect(201);
    let files = vec![upload(&s, &alice_t, &p, "model.safetensors", safetensors()).await];
    let a = s
        .post(
            &format!("/api/v1/projects/{p}/artifacts"),
            &alice_t,
            json!({"kind": "model", "name": "m", "files": files}),
        )
        .await
        .expect(201);
    let art = a["id"].as_str().unwrap();
    let versions = format!("/api/v1/projects/{p}/models/scorer/versions");

    // Datasets are named by id or NAMESPACE/NAME; one the catalog lacks is refused,
    // naming the nearest, and nothing is created or registered on the way.
    let claims = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &alice_t,
            json!({"namespace": "s3://lake", "name": "claims", "classes": ["personal_data"]}),
        )
        .await
        .expect(201);
    let claims_id = claims["id"].as_str().unwrap();
    let before = s.get("/api/v1/datasets?limit=100", &admin).await.expect(200)["items"].as_array().unwrap().len();
    for bad in ["claims", "s3://lake/claimz", "dst_01ARZ3NDEKTSV4RRFFQ69G5FAV", "warden/claims"] {
        let refused = s
            .post(&versions, &alice_t, json!({"artifact": art, "datasets": [bad]}))
            .await
            .problem(422, "validation-failed");
        assert_eq!(refused["rule"], "model.known-datasets", "{bad}");
        let detail = refused["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{bad}` is not in the catalog")), "{detail}");
        if bad.contains("claim") {
            assert!(detail.contains("the nearest is `s3://lake/claims`"), "{detail}");
        }
    }
    let after = s.get("/api/v1/datasets?limit=100", &admin).await.expect(200)["items"].as_array().unwrap().len();
    assert_eq!(before, after, "a refused push created no dataset");
    s.get(&format!("/api/v1/projects/{p}/models/scorer"), &alice_t).await.problem(404, "not-found");

    // Lineage is recorded with the version, sorted and without repeats; a dataset named
    // by id and by name is one dataset, recorded by name.
    let v1 = s
        .post(
            &versions,
            &alice_t,
            json!({"artifact": art, "runs": ["run-b", "run-a", "run-b"], "datasets": [claims_id, "s3://lake/claims"]}),
        )
        .await
        .expect(201);
    assert_eq!(v1["runs"], json!(["run-a", "run-b"]));
    assert_eq!(v1["datasets"], json!(["s3://lake/claims"]));
    s.post(&versions, &alice_t, json!({"artifact": art})).await.expect(201);
    s.post(&versions, &alice_t, json!({"artifact": art, "runs": [""]})).await.problem(422, "validation-failed");
    let many: Vec<String> = (0..65).map(|i| format!("run-{i}")).collect();
    s.post(&versions, &alice_t, json!({"artifact": art, "runs": many})).await.problem(422, "validation-failed");

    // Aliases: set, move, resolve, remove. `latest` is computed.
    let aliases = format!("/api/v1/projects/{p}/models/scorer/aliases");
    let set = s.put(&format!("{aliases}/champion"), &alice_t, json!({"version": 1})).await.expect(200);
    assert_eq!((set["alias"].as_str(), set["version"].as_u64()), (Some("champion"), Some(1)));
    assert_eq!(s.get(&format!("{versions}/champion"), &bob_t).await.expect(200)["version"], 1);
    assert_eq!(s.get(&format!("{versions}/latest"), &bob_t).await.expect(200)["version"], 2);
    assert_eq!(s.get(&format!("{versions}/1"), &bob_t).await.expect(200)["runs"], json!(["run-a", "run-b"]));
    s.put(&format!("{aliases}/champion"), &alice_t, json!({"version": 2})).await.expect(200);
    let v = s.get(&format!("{versions}/champion"), &bob_t).await.expect(200);
    assert_eq!((v["version"].as_u64(), v["aliases"].clone()), (Some(2), json!(["champion"])));
    s.get(&format!("{versions}/challenger"), &bob_t).await.problem(404, "not-found");
    s.get(&format!("{versions}/9"), &bob_t).await.problem(404, "not-found");
    s.put(&format!("{aliases}/champion"), &alice_t, json!({"version": 7})).await.problem(404, "not-found");
    for bad in ["latest", "Champion", "7", "-x"] {
        s.put(&format!("{aliases}/{bad}"), &alice_t, json!({"version": 1})).await.problem(422, "validation-failed");
    }
    s.put(&format!("{aliases}/champion"), &alice_t, json!({"version": 1, "extra": true}))
        .await
        .problem(400, "bad-request");
    // An approver reads but does not move aliases.
    s.put(&format!("{aliases}/champion"), &bob_t, json!({"version": 1})).await.problem(403, "forbidden");
    s.delete(&format!("{aliases}/champion"), &alice_t).await.expect(204);
    s.delete(&format!("{aliases}/champion"), &alice_t).await.problem(404, "not-found");
    s.get(&format!("{versions}/champion"), &bob_t).await.problem(404, "not-found");

    // Tags label a version; the version itself does not change.
    let tags = format!("{versions}/1/tags");
    let t = s.put(&format!("{tags}/validation"), &alice_t, json!({"value": "passed"})).await.expect(200);
    assert_eq!((t["key"].as_str(), t["value"].as_str()), (Some("validation"), Some("passed")));
    s.put(&format!("{tags}/validation"), &alice_t, json!({"value": "passed-2"})).await.expect(200);
    let m = s.get(&format!("/api/v1/projects/{p}/models/scorer"), &bob_t).await.expect(200);
    assert_eq!(m["versions"][0]["tags"], json!({"validation": "passed-2"}));
    assert_eq!(m["versions"][0]["artifact"]["id"], art);
    assert_eq!(m["versions"][1]["tags"], json!({}));
    s.put(&format!("{versions}/5/tags/x"), &alice_t, json!({"value": "y"})).await.problem(404, "not-found");
    s.put(&format!("{versions}/0/tags/x"), &alice_t, json!({"value": "y"})).await.problem(400, "invalid-parameter");
    s.put(&format!("{tags}/bad%20key"), &alice_t, json!({"value": "y"})).await.problem(422, "validation-failed");
    s.put(&format!("{tags}/validation"), &bob_t, json!({"value": "failed"})).await.problem(403, "forbidden");
    s.delete(&format!("{tags}/validation"), &alice_t).await.expect(204);
    s.delete(&format!("{tags}/validation"), &alice_t).await.problem(404, "not-found");

    // Every change is in the ledger, allowed and denied alike.
    let alias_events = s.get("/api/v1/audit/events?action=model.alias.set&limit=100", &admin).await.expect(200);
    let outcomes: Vec<&str> =
        alias_events["items"].as_array().unwrap().iter().map(|e| e["event"]["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.contains(&"deny") && outcomes.iter().filter(|o| **o == "allow").count() >= 3, "{outcomes:?}");
    let tag_events = s.get("/api/v1/audit/events?action=model.tag.set&limit=100", &admin).await.expect(200);
    assert!(!tag_events["items"].as_array().unwrap().is_empty());
}
