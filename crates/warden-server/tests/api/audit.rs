//! The audit ledger over the API: checkpoints that verify with the published key,
//! proofs that verify against them, search, recorded reads, and bad parameters.

use reqwest::Method;
use serde_json::json;
use warden_tlog::note::{Checkpoint, VerifierKey};
use warden_tlog::proof::{verify_consistency, verify_inclusion};
use warden_tlog::{from_b64, hash_from_b64, jcs, leaf_hash, Hash};

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

async fn checkpoint(s: &Server, token: &str) -> Checkpoint {
    let res = s.http.get(format!("{}/api/v1/audit/checkpoint", s.url)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let note = res.text().await.unwrap();
    Checkpoint::open(&note, &s.verifier).expect("the checkpoint verifies with the published key")
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v["hashes"].as_array().unwrap().iter().map(|h| hash_from_b64(h.as_str().unwrap()).unwrap()).collect()
}

both_engines!(checkpoints_and_proofs_verify_offline);
async fn checkpoints_and_proofs_verify_offline(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (_, nobody) = s.user(&admin, "nobody").await;

    // The published key (no authentication) is the one checkpoints are signed with.
    let key = s.call(Method::GET, "/api/v1/audit/public-key", None, None).await;
    assert_eq!(key.status, 200);
    let text = s.http.get(format!("{}/api/v1/audit/public-key", s.url)).send().await.unwrap().text().await.unwrap();
    assert_eq!(VerifierKey::parse(text.trim()).unwrap(), s.verifier);
    assert!(text.starts_with("warden/test+"));

    let first = checkpoint(&s, &admin).await;
    assert_eq!(first.origin, "warden/test");
    // Denied requests are evidence too; each is durable before its 403.
    for i in 0..20 {
        s.post("/api/v1/projects", &nobody, json!({"name": format!("p{i}")})).await.problem(403, "forbidden");
    }
    let later = checkpoint(&s, &nobody).await;
    assert!(later.size >= first.size + 20, "{} then {}", first.size, later.size);

    // Every entry's leaf is its event's canonical JSON and proves into the checkpoint.
    for index in [0, 1, first.size, later.size - 1] {
        let e = s.get(&format!("/api/v1/audit/entries/{index}"), &admin).await.expect(200);
        assert_eq!(e["index"], index);
        let leaf = from_b64(e["leaf"].as_str().unwrap()).unwrap();
        assert_eq!(jcs::canonicalize(&e["event"]).unwrap(), leaf);
        assert_eq!(hash_from_b64(e["leaf_hash"].as_str().unwrap()).unwrap(), leaf_hash(&leaf));
        let p = s
            .get(&format!("/api/v1/audit/proof/inclusion?index={index}&tree_size={}", later.size), &admin)
            .await
            .expect(200);
        verify_inclusion(index, later.size, &leaf_hash(&leaf), &hashes(&p), &later.root).unwrap();
        // The same proof does not prove a different event.
        assert!(verify_inclusion(index, later.size, &leaf_hash(b"{}"), &hashes(&p), &later.root).is_err());
    }
    let p = s
        .get(&format!("/api/v1/audit/proof/consistency?from={}&to={}", first.size, later.size), &admin)
        .await
        .expect(200);
    verify_consistency(first.size, later.size, &first.root, &later.root, &hashes(&p)).unwrap();

    // Every stored checkpoint verifies and they only grow.
    let cps = s.get("/api/v1/audit/checkpoints?limit=1000", &admin).await.expect(200);
    let mut last = 0;
    for c in cps.as_array().unwrap() {
        let cp = Checkpoint::open(c["note"].as_str().unwrap(), &s.verifier).unwrap();
        assert_eq!(cp.size, c["tree_size"].as_u64().unwrap());
        assert!(cp.size >= last);
        last = cp.size;
    }

    // The denials are searchable, with who, what and why; no secrets anywhere.
    let found = s.get("/api/v1/audit/events?action=project.create&outcome=deny&limit=100", &admin).await.expect(200);
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    let ev = &items[0]["event"];
    assert_eq!(ev["category"], "authorization");
    assert_eq!(ev["actor"]["name"], "nobody");
    assert!(ev["reason"].as_str().unwrap().contains("project.create"), "{ev}");
    assert!(ev["request_id"].as_str().unwrap().starts_with("req_"));
    let everything = s.get("/api/v1/audit/entries?from=0&limit=1000", &admin).await.expect(200).to_string();
    assert!(!everything.contains(&admin) && !everything.contains(&nobody), "tokens never reach the ledger");
    assert!(!everything.contains("nobody-correct-horse"), "passwords never reach the ledger");

    // Reads of the ledger are themselves in the ledger.
    let reads = s.get("/api/v1/audit/events?action=audit.read&limit=500", &admin).await.expect(200);
    assert!(reads["items"].as_array().unwrap().len() >= 5);
    // Callers without the auditor or administrator role cannot read it, and the
    // attempt is recorded.
    s.get("/api/v1/audit/entries/0", &nobody).await.problem(403, "forbidden");
}

both_engines!(bad_proof_requests_are_problems);
async fn bad_proof_requests_are_problems(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let size = checkpoint(&s, &admin).await.size;
    for q in [
        format!("/api/v1/audit/proof/inclusion?index={size}&tree_size={size}"),
        format!("/api/v1/audit/proof/inclusion?index=0&tree_size={}", size + 1_000_000),
        "/api/v1/audit/proof/inclusion?index=0".to_string(),
        "/api/v1/audit/proof/inclusion?index=-1&tree_size=2".to_string(),
        "/api/v1/audit/proof/inclusion?index=zero&tree_size=2".to_string(),
        "/api/v1/audit/proof/consistency?from=0&to=2".to_string(),
        "/api/v1/audit/proof/consistency?from=3&to=2".to_string(),
        format!("/api/v1/audit/proof/consistency?from=1&to={}", size + 1_000_000),
        "/api/v1/audit/entries?from=0&limit=0".to_string(),
        "/api/v1/audit/entries?from=0&limit=5000".to_string(),
        "/api/v1/audit/events?cursor=abc".to_string(),
        "/api/v1/audit/events?since=last-week".to_string(),
        "/api/v1/audit/checkpoints?from_size=x".to_string(),
    ] {
        let res = s.get(&q, &admin).await;
        assert_eq!(res.status, 400, "{q}: {}", res.body);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(res.body["code"], "invalid-parameter", "{q}");
    }
    s.get("/api/v1/audit/entries/999999999", &admin).await.problem(404, "not-found");
    s.get("/api/v1/audit/entries/not-a-number", &admin).await.problem(400, "invalid-parameter");
    // Nothing above changed the log except by recording the reads.
    let after = checkpoint(&s, &admin).await.size;
    let log = s.get(&format!("/api/v1/audit/entries?from={size}&limit=1000"), &admin).await.expect(200);
    for e in log.as_array().unwrap() {
        assert_eq!(e["event"]["action"], "audit.read", "only reads were recorded: {e}");
    }
    assert!(after >= size);
}

#[test]
fn the_ledger_has_no_update_or_delete_route() {
    let doc = serde_json::to_value(warden_server::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/api/v1/audit") {
            let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
            assert_eq!(methods, vec!["get"], "{path} must be read-only");
        }
    }
}

both_engines!(concurrent_appends_are_contiguous_and_verify);
async fn concurrent_appends_are_contiguous_and_verify(engine: Engine) {
    let s = std::sync::Arc::new(start(Options::new(engine)).await);
    let admin = s.admin().await;
    let (_, nobody) = s.user(&admin, "nobody").await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let s = s.clone();
        let nobody = nobody.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                s.post("/api/v1/projects", &nobody, json!({"name": format!("t{t}-{i}")}))
                    .await
                    .problem(403, "forbidden");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let cp = checkpoint(&s, &admin).await;
    let mut tree = warden_tlog::tree::Tree::new();
    let mut from = 0;
    while from < cp.size {
        let page = s.get(&format!("/api/v1/audit/entries?from={from}&limit=1000"), &admin).await.expect(200);
        for e in page.as_array().unwrap() {
            let index = e["index"].as_u64().unwrap();
            if index >= cp.size {
                break;
            }
            assert_eq!(index, from, "no gaps, no duplicates");
            tree.push_leaf(&from_b64(e["leaf"].as_str().unwrap()).unwrap());
            from += 1;
        }
    }
    assert_eq!(tree.root(cp.size).unwrap(), cp.root, "the recomputed root matches the signed checkpoint");
    let denies = s.get("/api/v1/audit/events?action=project.create&outcome=deny&limit=500", &admin).await.expect(200);
    assert_eq!(denies["items"].as_array().unwrap().len(), 160);
}

both_engines!(the_log_is_served_as_tlog_tiles);
/// A tlog-tiles client rebuilds the signed root from the tiles alone, checks the tiles
/// of each level against the level below and the entry bundles against level 0; bad
/// paths get 400, tiles beyond the tree 404, anonymous callers 401.
async fn the_log_is_served_as_tlog_tiles(engine: Engine) {
    use warden_tlog::tiles::{perfect_root, TilePath};
    let s = std::sync::Arc::new(start(Options::new(engine)).await);
    let admin = s.admin().await;
    let (_, nobody) = s.user(&admin, "nobody").await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (s, nobody) = (s.clone(), nobody.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                s.post("/api/v1/projects", &nobody, json!({"name": format!("t{t}-{i}")}))
                    .await
                    .problem(403, "forbidden");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let cp = checkpoint(&s, &admin).await;
    assert!(cp.size > 300, "{}", cp.size);
    let fetch = |path: TilePath| {
        let s = s.clone();
        let admin = admin.clone();
        async move {
            let res = s
                .http
                .get(format!("{}/api/v1/audit/tile/{}", s.url, path.to_path()))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path:?}");
            assert_eq!(res.headers()["content-type"], "application/octet-stream");
            let immutable = res.headers()["cache-control"].to_str().unwrap().contains("immutable");
            let partial =
                matches!(path, TilePath::Hashes { width: Some(_), .. } | TilePath::Entries { width: Some(_), .. });
            assert_eq!(immutable, !partial, "{path:?}");
            res.bytes().await.unwrap().to_vec()
        }
    };
    let as_hashes = |b: Vec<u8>| -> Vec<Hash> { b.chunks(32).map(|c| c.try_into().unwrap()).collect() };
    // Level 0: the full tiles and the partial one, as the checkpoint's size asks.
    let (full, rest) = (cp.size / 256, (cp.size % 256) as u16);
    let mut leaves = Vec::new();
    let mut tile_roots = Vec::new();
    for t in 0..full {
        let tile = as_hashes(fetch(TilePath::Hashes { level: 0, index: t, width: None }).await);
        assert_eq!(tile.len(), 256);
        tile_roots.push(perfect_root(&tile));
        leaves.extend(tile);
    }
    if rest > 0 {
        let tile = as_hashes(fetch(TilePath::Hashes { level: 0, index: full, width: Some(rest) }).await);
        assert_eq!(tile.len(), rest as usize);
        leaves.extend(tile);
    }
    let mut tree = warden_tlog::tree::Tree::new();
    for h in &leaves {
        tree.push_hash(*h);
    }
    assert_eq!(tree.root(cp.size).unwrap(), cp.root, "the tiles rebuild the signed root");
    // Level 1: each hash is the root of a full level-0 tile.
    let level_1 = as_hashes(fetch(TilePath::Hashes { level: 1, index: 0, width: Some(full as u16) }).await);
    assert_eq!(level_1, tile_roots);
    // Entry bundles: u16-prefixed entries hashing to level 0.
    let bundle = fetch(TilePath::Entries { index: 0, width: None }).await;
    let mut at = 0;
    let mut n = 0;
    while at < bundle.len() {
        let len = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
        let entry = &bundle[at + 2..at + 2 + len];
        assert_eq!(leaf_hash(entry), leaves[n], "entry {n}");
        serde_json::from_slice::<serde_json::Value>(entry).expect("an entry is the event's JSON");
        at += 2 + len;
        n += 1;
    }
    assert_eq!(n, 256);
    let tail = fetch(TilePath::Entries { index: full, width: Some(1) }).await;
    assert_eq!(leaf_hash(&tail[2..]), leaves[(full * 256) as usize]);

    // Bad paths, tiles beyond the tree, and no credential.
    for bad in ["0/67", "00/000", "0/000.p/0", "0/000.p/256", "x/000", "0/x000/001", "0"] {
        s.get(&format!("/api/v1/audit/tile/{bad}"), &admin).await.problem(400, "invalid-parameter");
    }
    let size = checkpoint(&s, &admin).await.size;
    for beyond in [
        TilePath::Hashes { level: 0, index: size / 256 + 1, width: None },
        TilePath::Hashes { level: 0, index: size / 256, width: Some(255) },
        TilePath::Hashes { level: 1, index: 0, width: None },
        TilePath::Hashes { level: 9, index: 0, width: Some(1) },
        TilePath::Entries { index: size / 256 + 1, width: Some(1) },
    ] {
        s.get(&format!("/api/v1/audit/tile/{}", beyond.to_path()), &admin).await.problem(404, "not-found");
    }
    let res = s.http.get(format!("{}/api/v1/audit/tile/0/000", s.url)).send().await.unwrap();
    assert_eq!(res.status(), 401);
}
