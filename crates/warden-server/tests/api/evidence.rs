//! The auditor's questions: each answer is checked against what was done, verifies
//! offline with the log's public key alone, and stops verifying when anything it rests
//! on is changed (in the answer file, or in the database behind the server).

use serde_json::{json, Value};
use warden_tlog::evidence::{EvidenceBundle, EvidenceError};
use warden_tlog::note::VerifierKey;

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};
use crate::releases::{artifact, member, mfa_user};

const POLICY: &str = "\
zones:
  standard-ai: {region: us-east}
  eu-ai: {region: eu-west}
data_classes:
  public: {allowed_zones: [standard-ai, eu-ai]}
releases:
  default: {approvals: 1, approver_role: approver, require_evaluation: true, evaluation: {auc: '>= 0.8'}}
";

/// The walk's projects need two approvers.
const TWO_APPROVALS: &str =
    "  scoring: {approvals: 2, approver_role: approver, require_evaluation: true, evaluation: {auc: '>= 0.8'}}\n";

async fn key(s: &Server) -> VerifierKey {
    let text = s.http.get(format!("{}/api/v1/audit/public-key", s.url)).send().await.unwrap().text().await.unwrap();
    VerifierKey::parse(text.trim()).unwrap()
}

async fn ask(s: &Server, token: &str, path: &str) -> EvidenceBundle {
    let v = s.get(&format!("/api/v1/evidence/{path}"), token).await.expect(200);
    serde_json::from_value(v).unwrap()
}

fn rows<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

both_engines!(evidence_answers_match_what_was_done_and_verify_offline);
async fn evidence_answers_match_what_was_done_and_verify_offline(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.put("/api/v1/policy", &admin, json!({"document": POLICY})).await.expect(200);
    let (alice, alice_t) = mfa_user(&s, &admin, "alice").await; // data scientist
    let (bob, bob_t) = mfa_user(&s, &admin, "bob").await; // approver
    let (cora, cora_t) = mfa_user(&s, &admin, "cora").await; // approver
    let (dave, dave_t) = s.user(&admin, "dave").await; // owner
    let (audrey, audrey_t) = s.user(&admin, "audrey").await; // auditor
    s.post("/api/v1/role-grants", &admin, json!({"member": audrey, "role": "auditor"})).await.expect(201);
    let p = s.project(&admin, "scoring", Some(&dave)).await;
    member(&s, &admin, &p, &alice, "data-scientist").await;
    member(&s, &admin, &p, &bob, "approver").await;
    member(&s, &admin, &p, &cora, "approver").await;
    s.put("/api/v1/policy", &admin, json!({"document": format!("{POLICY}{TWO_APPROVALS}")})).await.expect(200);
    let start_time = "2000-01-01T00:00:00Z";

    let ds = |name: &str, residency: &str| {
        let body = json!({"namespace": "s3://lake", "name": name, "classes": ["public"], "residency": residency});
        let (s, t, p) = (&s, alice_t.clone(), p.clone());
        async move {
            s.post(&format!("/api/v1/projects/{p}/datasets"), &t, body).await.expect(201)["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let claims = ds("claims", "us-east").await;
    ds("holdout", "us-east").await;
    let art = artifact(&s, &alice_t, &p, &["standard-ai", "eu-ai"], "2099-01-01T00:00:00Z").await;
    let v = s
        .post(
            &format!("/api/v1/projects/{p}/models/scorer/versions"),
            &alice_t,
            json!({"artifact": art, "data_classes": ["public"], "datasets": ["s3://lake/claims"]}),
        )
        .await
        .expect(201);
    assert_eq!(v["version"], 1);
    s.post(
        &format!("/api/v1/projects/{p}/models/scorer/versions/1/evaluations"),
        &alice_t,
        json!({"metrics": {"auc": 0.91}, "dataset": "s3://lake/holdout"}),
    )
    .await
    .expect(201);
    let before_deploy = time_now(&s);
    s.clock.advance(60);
    let r = s
        .post(
            &format!("/api/v1/projects/{p}/releases"),
            &alice_t,
            json!({"model": "scorer", "version": 1, "zone": "standard-ai", "reason": "first release"}),
        )
        .await
        .expect(201);
    let rid = r["id"].as_str().unwrap().to_string();
    for t in [&bob_t, &cora_t] {
        s.post(&format!("/api/v1/projects/{p}/releases/{rid}/approve"), t, json!({"comment": "looks right"}))
            .await
            .expect(200);
    }
    s.post(&format!("/api/v1/projects/{p}/releases/{rid}/deploy"), &alice_t, json!({})).await.expect(200);
    s.clock.advance(60);

    // A second release replaces the first in the zone.
    let v2 = s
        .post(
            &format!("/api/v1/projects/{p}/models/scorer/versions"),
            &alice_t,
            json!({"artifact": art, "data_classes": ["public"], "datasets": ["s3://lake/claims"]}),
        )
        .await
        .expect(201);
    assert_eq!(v2["version"], 2);
    s.post(
        &format!("/api/v1/projects/{p}/models/scorer/versions/2/evaluations"),
        &alice_t,
        json!({"metrics": {"auc": 0.93}, "dataset": "s3://lake/holdout"}),
    )
    .await
    .expect(201);
    let between = time_now(&s);
    s.clock.advance(60);
    let r2 = s
        .post(
            &format!("/api/v1/projects/{p}/releases"),
            &alice_t,
            json!({"model": "scorer", "version": 2, "zone": "standard-ai", "reason": "second release"}),
        )
        .await
        .expect(201);
    let rid2 = r2["id"].as_str().unwrap().to_string();
    for t in [&bob_t, &cora_t] {
        s.post(&format!("/api/v1/projects/{p}/releases/{rid2}/approve"), t, json!({"comment": "ok"})).await.expect(200);
    }
    s.post(&format!("/api/v1/projects/{p}/releases/{rid2}/deploy"), &alice_t, json!({})).await.expect(200);
    s.clock.advance(60);

    // An inference run in a pipeline bound to the zone: it reads version 1 and new data.
    let pipeline = s
        .post("/api/v1/tokens", &alice_t, json!({"name": "pipeline", "project": p, "zone": "standard-ai"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let run_id = "3f5e83fa-3480-44ff-99c5-ff943904e5e8";
    let run = json!({"eventTime": "2026-01-01T00:00:00Z", "producer": "https://example.org/pipeline",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent", "eventType": "COMPLETE",
        "run": {"runId": run_id}, "job": {"namespace": "scoring", "name": "nightly-scores"},
        "inputs": [{"namespace": "warden-model", "name": format!("{p}/scorer@1")},
                   {"namespace": "s3://lake", "name": "incoming"}],
        "outputs": [{"namespace": "s3://lake", "name": "scores"}]});
    s.post("/api/v1/lineage", &pipeline, run).await.expect(201);
    let graph = s.get("/api/v1/lineage?node=model%3Ascorer%401&direction=upstream&depth=2", &alice_t).await.expect(200);
    let kinds: Vec<(String, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .zip(graph["edge_kinds"].as_array().unwrap())
        .map(|(e, k)| (e[0].as_str().unwrap().to_string(), k.as_str().unwrap().to_string()))
        .collect();
    assert!(kinds.contains(&("dataset:s3://lake/claims".into(), "training".into())), "{kinds:?}");
    assert!(kinds.contains(&("dataset:s3://lake/holdout".into(), "evaluation".into())), "{kinds:?}");
    let down =
        s.get("/api/v1/lineage?node=model%3Ascorer%401&direction=downstream&depth=1", &alice_t).await.expect(200);
    assert_eq!(down["edge_kinds"], json!(["inference"]), "{down}");

    // Gateway calls naming the version that made them.
    let gw = s
        .post("/api/v1/tokens", &alice_t, json!({"name": "app", "project": p, "data_class": "public", "zone": "eu-ai"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |version: Option<&str>| {
        let mut req = s
            .http
            .post(format!("{}/v1/chat/completions", s.url))
            .bearer_auth(&gw)
            .json(&json!({"model": "mock", "messages": [{"role": "user", "content": "score this claim"}]}));
        if let Some(v) = version {
            req = req.header("x-warden-model-version", v);
        }
        async move { req.send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(call(Some("scorer@1")).await.status(), 200);
    }
    assert_eq!(call(None).await.status(), 200);
    for bad in ["scorer@9", "nobody@1", "scorer", "scorer@0"] {
        let res = call(Some(bad)).await;
        assert_eq!(res.status(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["param"], "x-warden-model-version", "{body}");
    }

    let key = key(&s).await;
    // Only auditors and administrators ask; everyone else is refused (and recorded).
    s.get(&format!("/api/v1/evidence/change?project={p}&release={rid}"), &alice_t).await.problem(403, "forbidden");

    // 5. The change: proposer, approver with MFA, evaluation, deploy, signed manifest.
    let change = ask(&s, &audrey_t, &format!("change?project={p}&release={rid}")).await;
    let checked = change.verify(&key).unwrap();
    assert!(checked.cited >= 4, "{checked:?}");
    let a = &change.answer;
    assert_eq!(a["proposed"]["by"], alice.as_str());
    let approvals: Vec<&Value> = rows(a, "decisions").iter().filter(|d| d["decision"] == "approved").collect();
    assert_eq!(approvals.len(), 2, "{a}");
    assert_eq!((approvals[0]["by"].as_str(), approvals[0]["mfa"].as_bool()), (Some(bob.as_str()), Some(true)));
    assert_eq!((approvals[1]["by"].as_str(), approvals[1]["mfa"].as_bool()), (Some(cora.as_str()), Some(true)));
    assert_eq!(a["approvals_required"], 2);
    assert_eq!(a["evaluation"]["metrics"]["auc"], "0.91", "{a}");
    assert_eq!(a["evaluation"]["dataset"], "s3://lake/holdout");
    assert_eq!(a["deployed"]["by"], alice.as_str());
    assert!(a["manifest"].is_string());
    assert!(rows(a, "findings").is_empty(), "{a}");
    // Each cited entry is the event it claims: the approval entry is Bob's.
    let idx = approvals[0]["evidence"][0].as_u64().unwrap();
    assert_eq!(change.event(idx).unwrap()["actor"]["uid"], bob.as_str());

    // Tampering with the saved answer, in any part, is caught offline.
    let mut forged = change.clone();
    forged.answer["decisions"][0]["by"] = json!("usr_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert_eq!(forged.verify(&key), Err(EvidenceError::Digest));
    let mut forged = change.clone();
    let i = forged.entries.iter().position(|e| e.index == idx).unwrap();
    forged.entries[i].event["actor"]["mfa"] = json!(false);
    assert!(matches!(forged.verify(&key), Err(EvidenceError::NotIncluded { .. })));
    let mut forged = change.clone();
    forged.entries.remove(i);
    assert!(forged.verify(&key).is_err());
    let mut forged = change.clone();
    forged.answer["manifest"] = json!(forged.answer["manifest"].as_str().unwrap().replace("first release", "other"));
    assert!(forged.verify(&key).is_err());

    // 4. What was active in the zone, before and after the deploy, and its history.
    let now = ask(&s, &audrey_t, "active?zone=standard-ai").await;
    now.verify(&key).unwrap();
    let active = rows(&now.answer, "active");
    assert_eq!(active.len(), 1, "{}", now.answer);
    assert_eq!((active[0]["model"].as_str(), active[0]["version"].as_u64()), (Some("scorer"), Some(2)));
    assert_eq!(active[0]["release"], rid2.as_str());
    assert_eq!(active[0]["evidence"].as_array().unwrap().len(), 1);
    let mid = ask(&s, &audrey_t, &format!("active?zone=standard-ai&at={between}")).await;
    mid.verify(&key).unwrap();
    assert_eq!(rows(&mid.answer, "active")[0]["version"], 1, "{}", mid.answer);
    assert_eq!(rows(&mid.answer, "active")[0]["release"], rid.as_str());
    let then = ask(&s, &audrey_t, &format!("active?zone=standard-ai&at={before_deploy}")).await;
    assert!(rows(&then.answer, "active").is_empty(), "nothing was active before the deploy: {}", then.answer);
    let history = ask(&s, &audrey_t, &format!("active?zone=standard-ai&from={start_time}")).await;
    history.verify(&key).unwrap();
    let deployed: Vec<u64> =
        rows(&history.answer, "deployments").iter().map(|d| d["version"].as_u64().unwrap()).collect();
    assert_eq!(deployed, vec![1, 2]);
    assert!(rows(&ask(&s, &audrey_t, "active?zone=eu-ai").await.answer, "active").is_empty());

    // 1. Data access: training (declared), evaluation, and inference through the gateway.
    let access = ask(&s, &audrey_t, &format!("data-access?project={p}&model=scorer&version=1")).await;
    access.verify(&key).unwrap();
    let by_name: std::collections::BTreeMap<&str, &Value> =
        rows(&access.answer, "datasets").iter().map(|d| (d["dataset"].as_str().unwrap(), d)).collect();
    assert_eq!(by_name["s3://lake/claims"]["kinds"], json!(["training"]), "{}", access.answer);
    assert_eq!(by_name["s3://lake/holdout"]["kinds"], json!(["evaluation"]), "{}", access.answer);
    assert_eq!(by_name["s3://lake/claims"]["classes"], json!(["public"]));
    assert!(!by_name["s3://lake/claims"]["evidence"].as_array().unwrap().is_empty());
    assert_eq!(by_name["s3://lake/incoming"]["kinds"], json!(["inference"]), "{}", access.answer);
    assert_eq!(by_name["s3://lake/incoming"]["runs"], json!([run_id]));
    assert!(!by_name.contains_key("s3://lake/scores"), "what a run wrote is not what the version read");
    // The declared class still shows the lineage path that brings it.
    let public = rows(&access.answer, "classes").iter().find(|c| c["class"] == "public").unwrap();
    assert_eq!(public["declared"], true);
    assert_eq!(public["path"].as_array().unwrap().len(), 2, "{public}");
    assert!(public["path"][1].as_str().unwrap().starts_with("dataset:s3://lake/"), "{public}");
    let gateway = rows(&access.answer, "gateway");
    assert_eq!(gateway.len(), 1, "{}", access.answer);
    assert_eq!((gateway[0]["class"].as_str(), gateway[0]["calls"].as_u64()), (Some("public"), Some(3)));
    assert_eq!(gateway[0]["zone"], "eu-ai");
    for i in gateway[0]["evidence"].as_array().unwrap() {
        assert_eq!(access.event(i.as_u64().unwrap()).unwrap()["detail"]["caller"], "scorer@1");
    }

    // 2. Locations: stored in us-east, deployed there, but called from eu-ai (eu-west)
    // through the gateway: a finding, judged by the policy in force then (a later
    // document that moves eu-ai to us-east does not excuse it).
    s.clock.advance(60);
    s.put(
        "/api/v1/policy",
        &admin,
        json!({"document": POLICY.replace("eu-ai: {region: eu-west}", "eu-ai: {region: us-east}")}),
    )
    .await
    .expect(200);
    let loc = ask(&s, &audrey_t, &format!("locations?project={p}&model=scorer&version=1")).await;
    loc.verify(&key).unwrap();
    let stored: Vec<(&str, &str)> = rows(&loc.answer, "stored")
        .iter()
        .filter_map(|d| Some((d["dataset"].as_str()?, d["residency"].as_str()?)))
        .collect();
    assert!(stored.contains(&("s3://lake/claims", "us-east")), "{stored:?}");
    let places = rows(&loc.answer, "processed");
    assert!(places.iter().any(|p| p["via"] == "release" && p["zone"] == "standard-ai" && p["region"] == "us-east"));
    assert!(places.iter().any(|p| p["via"] == "gateway" && p["calls"] == 3 && p["zone"] == "eu-ai"));
    assert!(places.iter().any(|p| p["via"] == "run" && p["run"] == run_id && p["zone"] == "standard-ai"), "{places:?}");
    let findings = rows(&loc.answer, "findings");
    assert!(
        findings.iter().any(|f| {
            let f = f.as_str().unwrap();
            f.contains("s3://lake/claims (resident in us-east)")
                && f.contains("gateway calls in zone eu-ai (eu-west under policy v")
        }),
        "{findings:?}"
    );
    assert!(!findings.iter().any(|f| f.as_str().unwrap().contains("release")), "the release stayed in region");

    // 7. Data handling: a deletion request, its tasks, and what is still pending.
    let del = s
        .post(
            "/api/v1/deletion-requests",
            &admin,
            json!({"datasets": [claims], "subject_ref": "customer-4711", "reason": "GDPR Art. 17 request #88"}),
        )
        .await
        .expect(201);
    let handling = ask(&s, &audrey_t, "data-handling?dataset=s3://lake/claims").await;
    handling.verify(&key).unwrap();
    assert_eq!(handling.answer["dataset"]["id"], claims.as_str());
    assert_eq!(handling.answer["dataset"]["residency"], "us-east");
    let deletions = rows(&handling.answer, "deletions");
    assert_eq!(deletions.len(), 1);
    assert_eq!(deletions[0]["request"], del["id"]);
    assert!(handling.answer["pending"].as_u64().unwrap() >= 1);
    assert_eq!(deletions[0]["evidence"].as_array().unwrap().len(), 1, "the request's ledger entry");
    let by_subject = ask(&s, &audrey_t, "data-handling?subject=customer-4711").await;
    by_subject.verify(&key).unwrap();
    assert_eq!(rows(&by_subject.answer, "deletions")[0]["request"], del["id"]);

    // A quarantine on the evaluation data shows in its handling, with its entry.
    s.post(
        &format!("/api/v1/projects/{p}/quarantines"),
        &dave_t,
        json!({"dataset": "s3://lake/holdout", "reason": "labels under review"}),
    )
    .await
    .expect(201);
    let held = ask(&s, &audrey_t, "data-handling?dataset=s3://lake/holdout").await;
    held.verify(&key).unwrap();
    let qs = rows(&held.answer, "quarantines");
    assert_eq!(
        (qs.len(), qs[0]["open"].as_bool(), qs[0]["reason"].as_str()),
        (1, Some(true), Some("labels under review"))
    );
    assert_eq!(qs[0]["evidence"].as_array().unwrap().len(), 1);

    // 6. The log: checkpoints chained by consistency proofs, and a release's story.
    s.clock.advance(5);
    let log = ask(&s, &audrey_t, &format!("log?from={start_time}&subject={rid}")).await;
    log.verify(&key).unwrap();
    let events: Vec<&str> = rows(&log.answer, "events").iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["release.created", "release.approved", "release.deployed"] {
        assert!(events.contains(&a), "{a} missing from {events:?}");
    }
    assert!(log.answer["window"]["entries"].as_u64().unwrap() > 10);
    assert!(log.answer["checkpoints_checked"].as_u64().unwrap() >= 1, "{}", log.answer);
    assert!(rows(&log.answer, "findings").is_empty(), "{}", log.answer);
    // A checkpoint slipped into the database (signed by another key) is named.
    if engine == Engine::Sqlite {
        use sqlx::{Connection as _, Row as _};
        let db = s.sqlite_files().into_iter().find(|p| p.extension().is_some_and(|e| e == "db")).unwrap();
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        let sizes: Vec<i64> = sqlx::query("SELECT tree_size FROM audit_checkpoints ORDER BY tree_size")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("tree_size"))
            .collect();
        let free = (2..).find(|n| !sizes.contains(n)).unwrap();
        let other = warden_tlog::note::SigningKey::generate(key.name.as_str()).unwrap();
        let cp = warden_tlog::note::Checkpoint { origin: key.name.clone(), size: free as u64, root: [7; 32] };
        sqlx::query("INSERT INTO audit_checkpoints (tree_size, note, created_at) VALUES (?, ?, ?)")
            .bind(free)
            .bind(cp.sign(&other).unwrap())
            .bind(0i64)
            .execute(&mut c)
            .await
            .unwrap();
        let again = ask(&s, &audrey_t, &format!("log?from={start_time}")).await;
        again.verify(&key).unwrap();
        let findings = rows(&again.answer, "findings");
        assert!(
            findings.iter().any(|f| f.as_str().unwrap().contains(&format!("checkpoint stored for {free} entries"))),
            "{findings:?}"
        );
    }
    let mut forged = log.clone();
    if let Some(c) = forged.answer["checkpoints"].as_array_mut().and_then(|c| c.first_mut()) {
        c["consistency_to_next"] = json!([]);
        assert!(forged.verify(&key).is_err(), "a broken chain is refused");
    }

    // 3. Access as of three moments: a member added then removed, and a group's member.
    let (erin, _) = s.user(&admin, "erin").await;
    let (carol, _) = s.user(&admin, "carol").await;
    let group = s.post("/api/v1/groups", &admin, json!({"name": "reviewers"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = s.get("/api/v1/whoami", &admin).await.expect(200)["id"].as_str().unwrap().to_string();
    s.clock.advance(60);
    let t_before = time_now(&s);
    s.clock.advance(60);
    member(&s, &admin, &p, &erin, "data-scientist").await;
    s.call(reqwest::Method::PUT, &format!("/api/v1/groups/{group}/members/{carol}"), Some(&admin), None).await;
    member(&s, &admin, &p, &group, "approver").await;
    s.clock.advance(60);
    let t_during = time_now(&s);
    s.clock.advance(60);
    s.delete(&format!("/api/v1/projects/{p}/members/{erin}/data-scientist"), &admin).await.expect(204);
    s.clock.advance(60);
    let t_after = time_now(&s);
    let holders_at = |t: String| {
        let (s, tok, p, key) = (&s, audrey_t.clone(), p.clone(), key.clone());
        async move {
            let b = ask(s, &tok, &format!("access?project={p}&at={t}")).await;
            b.verify(&key).unwrap();
            b
        }
    };
    let before = holders_at(t_before).await;
    let who = |b: &EvidenceBundle| -> Vec<(String, String, String)> {
        rows(&b.answer, "holders")
            .iter()
            .map(|h| {
                (
                    h["subject"].as_str().unwrap().into(),
                    h["role"].as_str().unwrap().into(),
                    h["via"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let w = who(&before);
    assert!(w.iter().any(|(s, r, _)| s == &bob && r == "approver"), "{w:?}");
    assert!(w.iter().any(|(s, r, v)| s == &audrey && r == "auditor" && v == "organisation role"), "{w:?}");
    assert!(!w.iter().any(|(s, _, _)| s == &erin || s == &carol), "{w:?}");
    let during = holders_at(t_during).await;
    let w = who(&during);
    assert!(w.iter().any(|(s, r, _)| s == &erin && r == "data-scientist"), "{w:?}");
    assert!(w.iter().any(|(s, r, v)| s == &carol && r == "approver" && v.contains(&group)), "{w:?}");
    let erin_row = rows(&during.answer, "holders").iter().find(|h| h["subject"] == erin.as_str()).unwrap();
    assert_eq!(erin_row["granted_by"], admin_id.as_str());
    let cited = erin_row["evidence"][0].as_u64().expect("the grant's ledger entry");
    assert_eq!(during.event(cited).unwrap()["detail"]["member"], erin.as_str());
    assert!(!erin_row["revoked_at"].is_null(), "the answer says when it ended");
    assert!(
        rows(&during.answer, "tokens").iter().any(|t| t["subject"] == alice.as_str() && t["project"] == p.as_str()),
        "the gateway key was live: {}",
        during.answer
    );
    let after = holders_at(t_after).await;
    let w = who(&after);
    assert!(!w.iter().any(|(s, _, _)| s == &erin), "{w:?}");
    assert!(w.iter().any(|(s, _, _)| s == &carol), "{w:?}");
    // The zone: who could act on what ran there.
    let zone = ask(&s, &audrey_t, "access?zone=standard-ai").await;
    zone.verify(&key).unwrap();
    assert_eq!(zone.answer["scope"]["projects"], json!([p]));
    assert!(who(&zone).iter().any(|(s, _, _)| s == &carol));
    assert!(rows(&ask(&s, &audrey_t, "access?zone=eu-ai").await.answer, "holders")
        .iter()
        .all(|h| h["scope"] == "organisation"));

    // Bad questions change nothing and say what is wrong.
    let bad = [
        "change?project=nope&release=x",
        "data-handling?dataset=a&subject=b",
        "data-handling",
        "active?zone=standard-ai&at=2026-01-01T00:00:00Z&from=2026-01-01T00:00:00Z",
        "log?from=yesterday",
        "log?from=2000-01-01T00:00:00Z&subject=nonsense",
        "data-access?project=prj_01ARZ3NDEKTSV4RRFFQ69G5FAV&model=scorer&version=0",
        "change?project=x&release=y&extra=1",
        "access",
        "access?project=x",
        "access?zone=standard-ai&project=prj_01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ];
    for q in bad {
        let res = s.get(&format!("/api/v1/evidence/{q}"), &audrey_t).await;
        assert_eq!(res.status.as_u16(), 400, "{q}: {:?}", res.body);
        assert!(res.body["detail"].is_string(), "{q}: problem+json");
    }
    s.get(&format!("/api/v1/evidence/change?project={p}&release=rel_01ARZ3NDEKTSV4RRFFQ69G5FAV"), &audrey_t)
        .await
        .problem(404, "not-found");
    s.get("/api/v1/evidence/data-handling?dataset=s3://lake/nothing", &audrey_t).await.problem(404, "not-found");

    // An insider edits the approval's entry in the database (and its stored leaf hash):
    // the server refuses to serve it as evidence.
    if engine == Engine::Postgres {
        tamper_postgres(&s, idx).await;
    } else {
        let db = s.sqlite_files().into_iter().find(|p| p.extension().is_some_and(|e| e == "db")).unwrap();
        tamper(&db, idx).await;
    }
    let res = s.get(&format!("/api/v1/evidence/change?project={p}&release={rid}"), &audrey_t).await;
    assert_eq!(res.status.as_u16(), 503, "{:?}", res.body);
    assert_eq!(res.body["rule"], "audit.entry-does-not-prove", "{:?}", res.body);
}

fn time_now(s: &Server) -> String {
    use warden_app::Clock as _;
    let t = s.clock.now();
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Rewrites entry `index` as an insider with the database file would: the event says
/// the approver had no second factor, and the stored leaf hash matches the edit.
async fn tamper(db: &std::path::Path, index: u64) {
    use sqlx::{Connection as _, Row as _};
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_update").execute(&mut c).await.unwrap();
    let row =
        sqlx::query("SELECT event FROM audit_log WHERE idx = ?").bind(index as i64).fetch_one(&mut c).await.unwrap();
    let event: String = row.get("event");
    let edited = event.replace("\"mfa\":true", "\"mfa\":false");
    assert_ne!(edited, event);
    sqlx::query("UPDATE audit_log SET event = ?, leaf_hash = ? WHERE idx = ?")
        .bind(&edited)
        .bind(warden_tlog::leaf_hash(edited.as_bytes()).to_vec())
        .bind(index as i64)
        .execute(&mut c)
        .await
        .unwrap();
}

/// The same edit on PostgreSQL, as its owner would make it.
async fn tamper_postgres(s: &Server, index: u64) {
    use sqlx::{Connection as _, Row as _};
    let mut c = sqlx::PgConnection::connect(s.postgres_url().unwrap()).await.unwrap();
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").execute(&mut c).await.unwrap();
    let row =
        sqlx::query("SELECT event FROM audit_log WHERE idx = $1").bind(index as i64).fetch_one(&mut c).await.unwrap();
    let event: String = row.get("event");
    let edited = event.replace("\"mfa\":true", "\"mfa\":false");
    assert_ne!(edited, event);
    sqlx::query("UPDATE audit_log SET event = $1, leaf_hash = $2 WHERE idx = $3")
        .bind(&edited)
        .bind(warden_tlog::leaf_hash(edited.as_bytes()).to_vec())
        .bind(index as i64)
        .execute(&mut c)
        .await
        .unwrap();
}

both_engines!(quarantine_holds_data_and_versions_until_someone_else_lifts_it);
/// A quarantined dataset trains nothing new and keeps every version made from it out
/// of releases; a quarantined version is not pulled and makes no gateway calls; only
/// someone else, with a second factor, lifts it; an open deletion task holds the same
/// way. Every refusal names the hold.
async fn quarantine_holds_data_and_versions_until_someone_else_lifts_it(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.put("/api/v1/policy", &admin, json!({"document": POLICY})).await.expect(200);
    let (alice, alice_t) = mfa_user(&s, &admin, "alice").await;
    let (bob, bob_t) = mfa_user(&s, &admin, "bob").await;
    let (dave, dave_t) = mfa_user(&s, &admin, "dave").await;
    let (erin, erin_t) = mfa_user(&s, &admin, "erin").await;
    let (frank, frank_t) = s.user(&admin, "frank").await; // an owner without a second factor
    let (audrey, audrey_t) = s.user(&admin, "audrey").await;
    s.post("/api/v1/role-grants", &admin, json!({"member": audrey, "role": "auditor"})).await.expect(201);
    let p = s.project(&admin, "scoring", Some(&dave)).await;
    member(&s, &admin, &p, &erin, "project-owner").await;
    member(&s, &admin, &p, &frank, "project-owner").await;
    member(&s, &admin, &p, &alice, "data-scientist").await;
    member(&s, &admin, &p, &bob, "approver").await;
    let mut ids = Vec::new();
    for name in ["claims", "holdout"] {
        let body = json!({"namespace": "s3://lake", "name": name, "classes": ["public"], "residency": "us-east"});
        ids.push(s.post(&format!("/api/v1/projects/{p}/datasets"), &alice_t, body).await.expect(201)["id"].clone());
    }
    let claims_id = ids[0].as_str().unwrap().to_string();
    let art = artifact(&s, &alice_t, &p, &["standard-ai"], "2099-01-01T00:00:00Z").await;
    let versions = format!("/api/v1/projects/{p}/models/scorer/versions");
    let register = |datasets: Value| {
        let (s, t, url, art) = (&s, alice_t.clone(), versions.clone(), art.clone());
        async move { s.post(&url, &t, json!({"artifact": art, "data_classes": ["public"], "datasets": datasets})).await }
    };
    assert_eq!(register(json!(["s3://lake/claims"])).await.expect(201)["version"], 1);
    s.post(
        &format!("{versions}/1/evaluations"),
        &alice_t,
        json!({"metrics": {"auc": 0.9}, "dataset": "s3://lake/holdout"}),
    )
    .await
    .expect(201);
    let q = format!("/api/v1/projects/{p}/quarantines");
    let lift = format!("{q}/lift");
    let on_claims = json!({"dataset": "s3://lake/claims", "reason": "consent withdrawn for a cohort"});
    let on_v1 = json!({"model": "scorer", "version": 1, "reason": "trained on withdrawn data"});

    // Who may quarantine, and bad requests.
    s.post(&q, &alice_t, on_claims.clone()).await.problem(403, "forbidden");
    for bad in [
        json!({"dataset": "s3://lake/claims", "reason": " "}),
        json!({"dataset": "s3://lake/claims", "model": "scorer", "version": 1, "reason": "r"}),
        json!({"model": "scorer", "reason": "r"}),
        json!({"dataset": "s3://lake/nowhere", "reason": "r"}),
        json!({"model": "scorer", "version": 9, "reason": "r"}),
    ] {
        let r = s.post(&q, &dave_t, bad.clone()).await;
        assert!([404, 422].contains(&r.status.as_u16()), "{bad}: {:?}", r.body);
    }
    assert!(s.get(&q, &dave_t).await.expect(200).as_array().unwrap().is_empty(), "refusals place nothing");

    let placed = s.post(&q, &dave_t, on_claims.clone()).await.expect(201);
    let qid = placed["id"].as_str().unwrap().to_string();
    assert_eq!(placed["target"], "dataset:s3://lake/claims");
    assert_eq!(
        s.post(&q, &erin_t, on_claims.clone()).await.problem(409, "conflict")["rule"],
        "quarantine.already-placed"
    );

    // Held data trains nothing new; versions made from it are not released.
    let e = register(json!(["s3://lake/claims"])).await.problem(409, "conflict");
    assert_eq!(e["rule"], "quarantine.active");
    assert!(e["detail"].as_str().unwrap().contains(&qid), "{e}");
    assert_eq!(register(json!(["s3://lake/holdout"])).await.expect(201)["version"], 2, "other data is free");
    let release = json!({"model": "scorer", "version": 1, "zone": "standard-ai", "reason": "r"});
    let e = s
        .post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release.clone())
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "quarantine.active", "{e}");
    assert!(e["detail"].as_str().unwrap().contains(&qid), "{e}");

    // A held version is not pulled and makes no gateway calls.
    s.post(&q, &erin_t, on_v1.clone()).await.expect(201);
    let a = s.get(&format!("/api/v1/projects/{p}/artifacts/{art}"), &alice_t).await.expect(200);
    let digest = a["files"][0]["digest"].as_str().unwrap().to_string();
    let blob = format!("/api/v1/projects/{p}/blobs/{digest}");
    // The same artifact also made version 2, which is free: its bytes may be read.
    s.call(reqwest::Method::GET, &blob, Some(&alice_t), None).await.expect(200);
    s.post(&q, &erin_t, json!({"model": "scorer", "version": 2, "reason": "same weights"})).await.expect(201);
    let e = s.call(reqwest::Method::GET, &blob, Some(&alice_t), None).await.problem(409, "conflict");
    assert_eq!(e["rule"], "quarantine.active");
    let pulls = s.get("/api/v1/audit/events?action=blob.pull&outcome=deny", &admin).await.expect(200);
    assert!(!pulls["items"].as_array().unwrap().is_empty(), "refused pulls are recorded");
    let gw = s
        .post("/api/v1/tokens", &alice_t, json!({"name": "app", "project": p, "data_class": "public"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let call = || {
        s.http
            .post(format!("{}/v1/chat/completions", s.url))
            .bearer_auth(&gw)
            .header("x-warden-model-version", "scorer@1")
            .json(&json!({"model": "mock", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    let res = call().await.unwrap();
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quarantine_active", "{body}");

    // Lifting: never by whoever placed it, never without a second factor.
    let by_placer = s.post(&lift, &erin_t, json!({"model": "scorer", "version": 1, "reason": "ok"})).await;
    assert_eq!(by_placer.problem(403, "forbidden")["rule"], "quarantine.lifted-by-someone-else");
    let no_mfa = s.post(&lift, &frank_t, json!({"model": "scorer", "version": 1, "reason": "ok"})).await;
    assert!(no_mfa.problem(403, "forbidden")["detail"].as_str().unwrap().contains("second factor"));
    let lifted =
        s.post(&lift, &dave_t, json!({"model": "scorer", "version": 1, "reason": "retrained"})).await.expect(200);
    assert_eq!(
        (lifted["lifted_by"].as_str(), lifted["lift_reason"].as_str()),
        (Some(dave.as_str()), Some("retrained"))
    );
    s.post(&lift, &dave_t, json!({"model": "scorer", "version": 1, "reason": "again"})).await.problem(404, "not-found");
    assert_eq!(call().await.unwrap().status(), 200);
    s.call(reqwest::Method::GET, &blob, Some(&alice_t), None).await.expect(200);
    // Version 1 still rests on quarantined data until that is lifted too.
    s.post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release.clone())
        .await
        .problem(422, "validation-failed");
    s.post(&lift, &erin_t, json!({"dataset": "s3://lake/claims", "reason": "consent restored"})).await.expect(200);
    let r1 = s.post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release).await.expect(201);
    let r1 = r1["id"].as_str().unwrap().to_string();
    let rel = |path: &str| format!("/api/v1/projects/{p}/releases{path}");
    s.post(&rel(&format!("/{r1}/approve")), &bob_t, json!({"comment": "ok"})).await.expect(200);
    s.post(&rel(&format!("/{r1}/deploy")), &alice_t, json!({})).await.expect(200);
    // Break-glass and rollback run the same gate: a held version goes nowhere.
    let glass = |version: u64| {
        json!({"model": "scorer", "version": version, "zone": "standard-ai",
               "justification": "production is down, see INC-7 for the details"})
    };
    s.post(&lift, &dave_t, json!({"model": "scorer", "version": 2, "reason": "ok"})).await.expect(200);
    s.post(&rel("/break-glass"), &dave_t, glass(2)).await.expect(201);
    s.post(&q, &dave_t, on_v1.clone()).await.expect(201);
    let back = json!({"zone": "standard-ai", "model": "scorer", "reason": "v2 misbehaves"});
    let e = s.post(&rel("/rollback"), &alice_t, back.clone()).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "quarantine.active", "{e}");
    let e = s.post(&rel("/break-glass"), &dave_t, glass(1)).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "quarantine.active", "{e}");
    s.post(&lift, &erin_t, json!({"model": "scorer", "version": 1, "reason": "cleared"})).await.expect(200);
    let _ = (bob, frank, alice);

    // A deletion request holds what it touches until its tasks close.
    s.post(
        "/api/v1/deletion-requests",
        &admin,
        json!({"datasets": [claims_id], "subject_ref": "c-1", "reason": "Art. 17"}),
    )
    .await
    .expect(201);
    let e = register(json!(["s3://lake/claims"])).await.problem(409, "conflict");
    assert!(e["detail"].as_str().unwrap().contains("deletion request"), "{e}");
    let res = call().await.unwrap();
    assert_eq!(res.status(), 409, "version 1 awaits deletion");
    let e = s.post(&rel("/rollback"), &alice_t, back).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "deletion.open-tasks", "{e}");
    let e = s.post(&rel("/break-glass"), &dave_t, glass(1)).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "deletion.open-tasks", "{e}");

    // Retention status lists the deletion's open tasks with their due dates.
    let due = s.get("/api/v1/retention/status", &audrey_t).await.expect(200);
    let tasks: Vec<&Value> = due.as_array().unwrap().iter().filter(|r| r["kind"] == "deletion-task").collect();
    assert!(tasks.iter().any(|t| t["subject"] == "dataset:s3://lake/claims" && t["overdue"] == false), "{due}");
    s.get("/api/v1/retention/status", &alice_t).await.problem(403, "forbidden");
    s.clock.advance(31 * 86_400);
    let due = s.get("/api/v1/retention/status", &audrey_t).await.expect(200);
    assert!(due.as_array().unwrap().iter().any(|t| t["kind"] == "deletion-task" && t["overdue"] == true), "{due}");

    // The history, with its evidence, in the data-handling answer.
    let listed = s.get(&q, &audrey_t).await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 4, "claims, v1 twice, v2: {listed}");
    let b = ask(&s, &audrey_t, "data-handling?dataset=s3://lake/claims").await;
    b.verify(&key(&s).await).unwrap();
    let qs = rows(&b.answer, "quarantines");
    assert_eq!(qs.len(), 1);
    assert_eq!((qs[0]["open"].as_bool(), qs[0]["lifted_by"].as_str()), (Some(false), Some(erin.as_str())));
    let cited: Vec<&str> = qs[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| b.event(i.as_u64().unwrap()).unwrap()["action"].as_str().unwrap())
        .collect();
    assert_eq!(cited, vec!["quarantine.place", "quarantine.lift"]);
}
