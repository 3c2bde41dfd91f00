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
    crate::harness::Res::read(res).await
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

/// Sends `body` as the part at `offset`.
async fn part(s: &Server, token: &str, project: &str, upload: &str, offset: u64, body: Vec<u8>) -> crate::harness::Res {
    let res = s
        .http
        .patch(format!("{}/api/v1/projects/{project}/uploads/{upload}?offset={offset}", s.url))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    crate::harness::Res::read(res).await
}

both_engines!(chunked_uploads_resume_after_interruptions_and_verify_the_whole);
async fn chunked_uploads_resume_after_interruptions_and_verify_the_whole(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (bob, bob_t) = s.user(&admin, "bob").await;
    let p = s.project(&admin, "big-models", Some(&alice)).await;
    s.post(&format!("/api/v1/projects/{p}/members"), &alice_t, json!({"member": bob, "role": "data-scientist"}))
        .await
        .expect(201);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let d = digest(&data);
    let uploads = format!("/api/v1/projects/{p}/uploads");

    let u = s.post(&uploads, &alice_t, json!(null)).await.expect(201);
    let id = u["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("upl_") && u["offset"] == 0, "{u}");
    let after = part(&s, &alice_t, &p, &id, 0, data[..1_000_000].to_vec()).await.expect(200);
    assert_eq!(after["offset"], 1_000_000);

    // A part at the wrong offset is refused, naming the right one.
    let wrong = part(&s, &alice_t, &p, &id, 0, data[..10].to_vec()).await.problem(409, "conflict");
    assert!(wrong["detail"].as_str().unwrap().contains("offset 1000000"), "{wrong}");

    // The connection drops in the middle of a part: the partial part is discarded and
    // the session still says 1,000,000, so the client resumes from there.
    let second = data[1_000_000..2_000_000].to_vec();
    let broken = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(second[..300_000].to_vec()),
        Err(std::io::Error::other("network cable pulled")),
    ]);
    let cut = s
        .http
        .patch(format!("{}{uploads}/{id}?offset=1000000", s.url))
        .bearer_auth(&alice_t)
        .body(reqwest::Body::wrap_stream(broken))
        .send()
        .await;
    assert!(cut.is_err(), "the client saw the failure");
    let mut offset = 0;
    for _ in 0..50 {
        // The server notices the cut asynchronously.
        offset = s.get(&format!("{uploads}/{id}"), &alice_t).await.expect(200)["offset"].as_u64().unwrap();
        if offset == 1_000_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(offset, 1_000_000);
    part(&s, &alice_t, &p, &id, 1_000_000, second).await.expect(200);
    part(&s, &alice_t, &p, &id, 2_000_000, data[2_000_000..].to_vec()).await.expect(200);

    // Nothing is a blob until the session completes; other people do not see it.
    s.get(&format!("/api/v1/projects/{p}/blobs/{d}"), &alice_t).await.problem(404, "not-found");
    s.get(&format!("{uploads}/{id}"), &bob_t).await.problem(404, "not-found");
    part(&s, &bob_t, &p, &id, 3_000_000, b"x".to_vec()).await.problem(404, "not-found");

    // Completing with the wrong digest stores nothing and ends the session.
    let other = digest(b"not this");
    let bad =
        s.put(&format!("{uploads}/{id}?digest={other}"), &alice_t, json!(null)).await.problem(422, "validation-failed");
    assert!(bad["detail"].as_str().unwrap().contains(&d), "names the actual digest: {bad}");
    s.get(&format!("{uploads}/{id}"), &alice_t).await.problem(404, "not-found");
    s.get(&format!("/api/v1/projects/{p}/blobs/{d}"), &alice_t).await.problem(404, "not-found");

    // Again, completing with the right digest.
    let id = s.post(&uploads, &alice_t, json!(null)).await.expect(201)["id"].as_str().unwrap().to_string();
    for (i, chunk) in data.chunks(700_000).enumerate() {
        part(&s, &alice_t, &p, &id, (i * 700_000) as u64, chunk.to_vec()).await.expect(200);
    }
    let stored = s.put(&format!("{uploads}/{id}?digest={d}"), &alice_t, json!(null)).await.expect(201);
    assert_eq!((stored["digest"].as_str(), stored["size"].as_u64()), (Some(d.as_str()), Some(3_000_000)));
    let got = s
        .http
        .get(format!("{}/api/v1/projects/{p}/blobs/{d}", s.url))
        .bearer_auth(&alice_t)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got.as_ref() == data.as_slice(), "the blob is the parts in order");
    s.get(&format!("{uploads}/{id}"), &alice_t).await.problem(404, "not-found");

    // Bad input: a malformed id or digest, a missing offset.
    s.get(&format!("{uploads}/not-an-id"), &alice_t).await.problem(400, "invalid-parameter");
    let id = s.post(&uploads, &alice_t, json!(null)).await.expect(201)["id"].as_str().unwrap().to_string();
    s.put(&format!("{uploads}/{id}?digest=md5:abc"), &alice_t, json!(null)).await.problem(400, "invalid-parameter");
    let no_offset = s.call(Method::PATCH, &format!("{uploads}/{id}"), Some(&alice_t), None).await;
    assert_eq!(no_offset.status, 400, "{:?}", no_offset.body);

    // Abandoned sessions: aborted ones are gone at once, idle ones after a day.
    part(&s, &alice_t, &p, &id, 0, b"some bytes".to_vec()).await.expect(200);
    s.delete(&format!("{uploads}/{id}"), &alice_t).await.expect(204);
    s.get(&format!("{uploads}/{id}"), &alice_t).await.problem(404, "not-found");
    let idle = s.post(&uploads, &alice_t, json!(null)).await.expect(201)["id"].as_str().unwrap().to_string();
    part(&s, &alice_t, &p, &idle, 0, b"forgotten".to_vec()).await.expect(200);
    s.clock.advance(25 * 3600);
    let login = json!({"username": "alice", "password": "alice-correct-horse"});
    let alice_t = s.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await.expect(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    s.get(&format!("{uploads}/{idle}"), &alice_t).await.problem(404, "not-found");
    s.post(&uploads, &alice_t, json!(null)).await.expect(201);
    let leftovers: Vec<_> = walk_files(&s.blob_dir.path().join("uploads"));
    assert!(leftovers.is_empty(), "expired sessions' parts are deleted: {leftovers:?}");
}

fn walk_files(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(p) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}
