//! Content-addressed uploads: streamed, verified against the declared digest, stored
//! once, visible per project, and recorded in the ledger.

use reqwest::Method;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

async fn put(s: &Server, token: &str, project: &str, digest: &str, body: Vec<u8>) -> crate::harness::Res {
    let res = s
        .http
        .put(format!("{}/api/v1/projects/{project}/blobs/{digest}", s.url))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    crate::harness::Res { status, content_type, body }
}

both_engines!(uploads_are_verified_stored_once_and_scoped_to_projects);
async fn uploads_are_verified_stored_once_and_scoped_to_projects(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (bob, bob_t) = s.user(&admin, "bob").await;
    let p = s.project(&admin, "models", Some(&alice)).await;
    let other = s.project(&admin, "other", Some(&bob)).await;
    s.post(&format!("/api/v1/projects/{p}/members"), &alice_t, json!({"member": bob, "role": "approver"}))
        .await
        .expect(201);

    // 3 MB, larger than the JSON body limit: uploads stream.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let d = digest(&data);
    let r = put(&s, &alice_t, &p, &d, data.clone()).await.expect(201);
    assert_eq!(
        (r["digest"].as_str(), r["size"].as_u64(), r["created"].as_bool()),
        (Some(d.as_str()), Some(3_000_000), Some(true))
    );
    let again = put(&s, &alice_t, &p, &d, data.clone()).await.expect(200);
    assert_eq!(again["created"], false, "stored once");
    assert!(s.blob_dir.path().join("sha256").join(d.trim_start_matches("sha256:")).is_file());

    let res = s.http.get(format!("{}/api/v1/projects/{p}/blobs/{d}", s.url)).bearer_auth(&bob_t).send().await.unwrap();
    assert_eq!(res.status(), 200, "an approver in the project reads it");
    assert_eq!(res.headers()["content-length"], "3000000");
    assert_eq!(res.headers()["docker-content-digest"], d.as_str());
    assert_eq!(res.bytes().await.unwrap().to_vec(), data);

    // Approvers do not upload; other projects do not see it; unknown digests are 404.
    put(&s, &bob_t, &p, &digest(b"x"), b"x".to_vec()).await.problem(403, "forbidden");
    s.get(&format!("/api/v1/projects/{other}/blobs/{d}"), &alice_t).await.problem(403, "forbidden");
    s.get(&format!("/api/v1/projects/{other}/blobs/{d}"), &bob_t).await.problem(404, "not-found");
    s.get(&format!("/api/v1/projects/{p}/blobs/{}", digest(b"never")), &alice_t).await.problem(404, "not-found");

    // A lying digest: refused, nothing stored under either digest.
    let content = b"the real content".to_vec();
    let p2 =
        put(&s, &alice_t, &p, &digest(b"what was declared"), content.clone()).await.problem(422, "validation-failed");
    assert!(p2["detail"].as_str().unwrap().contains(&digest(&content)), "{p2}");
    s.get(&format!("/api/v1/projects/{p}/blobs/{}", digest(&content)), &alice_t).await.problem(404, "not-found");
    assert!(!s.blob_dir.path().join("sha256").join(digest(&content).trim_start_matches("sha256:")).exists());
    // Over the size limit (8 MiB in these tests): refused, nothing stored.
    let big = vec![1u8; 9 << 20];
    put(&s, &alice_t, &p, &digest(&big), big.clone()).await.problem(422, "validation-failed");
    assert!(!s.blob_dir.path().join("sha256").join(digest(&big).trim_start_matches("sha256:")).exists());
    let uploads: Vec<_> = std::fs::read_dir(s.blob_dir.path().join("uploads")).map(|d| d.collect()).unwrap_or_default();
    assert!(uploads.is_empty(), "no partial uploads left: {uploads:?}");
    // Malformed digests.
    put(&s, &alice_t, &p, "sha256:XYZ", b"x".to_vec()).await.problem(400, "invalid-parameter");
    s.call(Method::GET, &format!("/api/v1/projects/{p}/blobs/md5:abc"), Some(&alice_t), None)
        .await
        .problem(400, "invalid-parameter");

    // The ledger holds the uploads, the refusals and the reads.
    let ev = s.get("/api/v1/audit/events?action=blob.upload&category=change&limit=100", &admin).await.expect(200);
    let outcomes: Vec<&str> =
        ev["items"].as_array().unwrap().iter().map(|e| e["event"]["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["success", "success", "failure", "failure"]);
    let failure = &ev["items"][2]["event"];
    assert!(failure["reason"].as_str().unwrap().contains("not the declared"), "{failure}");
    let reads = s.get("/api/v1/audit/events?action=blob.read&outcome=allow&limit=100", &admin).await.expect(200);
    let pull = &reads["items"][0]["event"];
    assert_eq!(pull["actor"]["name"], "bob", "every pull is recorded: {reads}");
    assert_eq!(pull["resource"]["uid"], p.as_str());
}
