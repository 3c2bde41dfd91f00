//! The policy document (apply, validate, dry run, history, rollback, explain) and
//! releases (gate, approvals under separation of duties, serialised deploys, signed
//! manifests, rollback, break-glass, the zone history).

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use warden_app::Clock as _;

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

fn ts(v: &Value) -> warden_core::Timestamp {
    let t = time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    warden_core::Timestamp(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap())
}

/// A user with TOTP enrolled and a session token verified with it: (id, token).
pub(crate) async fn mfa_user(s: &Server, admin: &str, name: &str) -> (String, String) {
    let (id, token) = s.user(admin, name).await;
    let secret = s.enrol_totp(&token).await;
    s.clock.advance(30);
    let login = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": name, "password": format!("{name}-correct-horse"), "totp": s.code(&secret)})),
        )
        .await
        .expect(200);
    assert_eq!(login["mfa"], true);
    (id, login["token"].as_str().unwrap().to_string())
}

pub(crate) async fn member(s: &Server, admin: &str, project: &str, who: &str, role: &str) {
    s.post(&format!("/api/v1/projects/{project}/members"), admin, json!({"member": who, "role": role}))
        .await
        .expect(201);
}

/// Uploads a small safetensors file and admits it as an artifact permitted in `zones`.
pub(crate) async fn artifact(s: &Server, token: &str, project: &str, zones: &[&str], expiry: &str) -> String {
    artifact_of(s, token, project, zones, expiry, 0).await.0
}

/// Like `artifact`, with weights filled with `fill`; also returns the file's digest.
async fn artifact_of(
    s: &Server,
    token: &str,
    project: &str,
    zones: &[&str],
    expiry: &str,
    fill: u8,
) -> (String, String) {
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut data = (header.len() as u64).to_le_bytes().to_vec();
    data.extend_from_slice(header.as_bytes());
    data.extend_from_slice(&[fill; 8]);
    let d = format!("sha256:{}", hex::encode(Sha256::digest(&data)));
    let size = data.len();
    let res = s
        .http
        .put(format!("{}/api/v1/projects/{project}/blobs/{d}", s.url))
        .bearer_auth(token)
        .body(data)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let body = json!({"kind": "model", "name": "scorer", "files": [{"path": "model.safetensors", "digest": d, "size": size}],
                      "permitted_zones": zones, "expiry_date": expiry});
    let a = s.post(&format!("/api/v1/projects/{project}/artifacts"), token, body).await.expect(201);
    (a["id"].as_str().unwrap().to_string(), d)
}

async fn version(s: &Server, token: &str, project: &str, artifact: &str, classes: &[&str]) -> u64 {
    let body = json!({"artifact": artifact, "data_classes": classes});
    let v = s.post(&format!("/api/v1/projects/{project}/models/scorer/versions"), token, body).await.expect(201);
    v["version"].as_u64().unwrap()
}

const STRICT: &str = "\
zones:
  standard-ai: {region: us-east}
  hipaa-ai: {region: us-east, ingress: private_only, egress: {default: deny}, require_signed_artifacts: true}
data_classes:
  public: {allowed_zones: [standard-ai, hipaa-ai]}
  ephi: {allowed_zones: [hipaa-ai], require_private_ingress: true}
releases:
  default: {approvals: 2, approver_role: approver, require_evaluation: true, evaluation: {auc: '>= 0.8'}}
";

both_engines!(policy_documents_are_validated_versioned_and_rolled_back);
async fn policy_documents_are_validated_versioned_and_rolled_back(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (_, nobody) = s.user(&admin, "nobody").await;

    // A new data directory holds the shipped default as version 1.
    let p = s.get("/api/v1/policy", &nobody).await.expect(200);
    assert_eq!(p["version"], 1);
    assert!(p["document"].as_str().unwrap().contains("regulated-ai-eu"), "{p}");
    assert!(p["compiled"].as_str().unwrap().contains("@id(\"data_classes.ephi.allowed_zones\")"));

    // Every problem is reported with its location; nothing is applied.
    let bad = "zones:\n  a: {region: eu, colour: red}\ndata_classes:\n  x: {allowed_zones: [a, nowhere]}\nreleases:\n  default: {approvals: 1}\n  ghost-project: {approvals: 3}\n";
    let e = s.put("/api/v1/policy", &admin, json!({"document": bad})).await.problem(422, "validation-failed");
    let errors: Vec<(u64, &str)> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(2, "zones.a.colour"), (4, "data_classes.x.allowed_zones[1]")], "{e}");
    // Once the syntax is right, references to unknown projects are reported too.
    let unknown = "zones: {a: {region: eu}}\ndata_classes: {}\nreleases:\n  default: {approvals: 1}\n  ghost-project: {approvals: 3}\n";
    let e = s.put("/api/v1/policy", &admin, json!({"document": unknown})).await.problem(422, "validation-failed");
    assert_eq!(e["errors"][0]["path"], "releases.ghost-project", "{e}");
    assert_eq!(e["errors"][0]["line"], 5);
    s.put("/api/v1/policy", &admin, json!({"document": "zones: [unclosed"})).await.problem(422, "validation-failed");
    s.put("/api/v1/policy", &nobody, json!({"document": STRICT})).await.problem(403, "forbidden");
    assert_eq!(s.get("/api/v1/policy/versions", &admin).await.expect(200).as_array().unwrap().len(), 1);

    // A dry run shows the changes and applies nothing.
    let d = s.put("/api/v1/policy", &admin, json!({"document": STRICT, "dry_run": true})).await.expect(200);
    assert!(d.get("version").is_none(), "{d}");
    let changes: Vec<&str> = d["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changes.contains(&"- zones.pci-ai.region: \"us-east\""), "{changes:#?}");
    assert!(changes.iter().any(|c| c.starts_with("+ releases.default.evaluation.auc")), "{changes:#?}");
    assert_eq!(s.get("/api/v1/policy", &admin).await.expect(200)["version"], 1);

    // Applying: the next version, recorded as a policy change with its diff.
    let a =
        s.put("/api/v1/policy", &admin, json!({"document": STRICT, "comment": "tighten releases"})).await.expect(200);
    assert_eq!((a["version"].as_u64(), a["previous"].as_u64()), (Some(2), Some(1)));
    let ev = s.get("/api/v1/audit/events?action=policy.change", &admin).await.expect(200);
    let last = ev["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"]["detail"]["version"], 2, "{last}");
    assert_eq!(last["event"]["reason"], "tighten releases");
    // Applying the same text again changes nothing.
    assert!(s.put("/api/v1/policy", &admin, json!({"document": STRICT})).await.expect(200).get("version").is_none());

    // The YAML itself, as the body.
    let yaml = STRICT.replace("approvals: 2", "approvals: 3");
    let res = s
        .http
        .put(format!("{}/api/v1/policy?comment=three", s.url))
        .bearer_auth(&admin)
        .header("content-type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(s.get("/api/v1/policy", &admin).await.expect(200)["version"], 3);

    // Rollback adds a version with the old text; the history keeps everything.
    let r = s.post("/api/v1/policy/rollback", &admin, json!({"version": 1, "comment": "back"})).await.expect(200);
    assert_eq!(r["version"], 4);
    let v = s.get("/api/v1/policy", &admin).await.expect(200);
    assert_eq!(v["restored_from"], 1);
    assert_eq!(v["digest"], s.get("/api/v1/policy/versions/1", &admin).await.expect(200)["digest"]);
    let history: Vec<u64> = s
        .get("/api/v1/policy/versions", &admin)
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(history, [4, 3, 2, 1]);
    s.post("/api/v1/policy/rollback", &admin, json!({"version": 4})).await.problem(409, "conflict");
    s.post("/api/v1/policy/rollback", &admin, json!({"version": 99})).await.problem(404, "not-found");

    // Explain names the rule that decides.
    let x = s
        .post("/api/v1/policy/explain", &nobody, json!({"zone": "standard-ai", "classes": ["ephi"], "signed": true}))
        .await
        .expect(200);
    assert_eq!(
        (x["allowed"].as_bool(), x["rules"][0].as_str()),
        (Some(false), Some("data_classes.ephi.allowed_zones"))
    );
    let x =
        s.post("/api/v1/policy/explain", &nobody, json!({"zone": "hipaa-ai", "classes": ["ephi"]})).await.expect(200);
    assert_eq!(x["rules"][0], "zones.hipaa-ai.require_signed_artifacts", "{x}");
    let x = s
        .post("/api/v1/policy/explain", &nobody, json!({"zone": "hipaa-ai", "classes": ["ephi"], "signed": true}))
        .await
        .expect(200);
    assert_eq!(x["allowed"], true, "{x}");

    // Access questions: about oneself for anyone; about others for readers of users.
    let x = s
        .post("/api/v1/policy/explain", &nobody, json!({"action": "project.create", "subject": "nobody"}))
        .await
        .expect(200);
    assert_eq!(x["allowed"], false);
    assert_eq!(x["rules"][0], "privileged-actions-need-enrolled-totp", "{x}");
    s.post("/api/v1/policy/explain", &nobody, json!({"action": "project.create", "subject": "admin"}))
        .await
        .problem(403, "forbidden");
    let x = s
        .post("/api/v1/policy/explain", &admin, json!({"action": "user.create", "subject": "admin"}))
        .await
        .expect(200);
    assert_eq!((x["allowed"].as_bool(), x["org_roles"][0].as_str()), (Some(false), Some("platform-admin")), "{x}");
    assert_eq!(x["rules"][0], "privileged-actions-need-mfa", "{x}");
    let x = s
        .post("/api/v1/policy/explain", &admin, json!({"action": "user.create", "subject": "admin", "mfa": true}))
        .await
        .expect(200);
    assert_eq!(x["allowed"], true, "{x}");
    s.post("/api/v1/policy/explain", &admin, json!({"action": "fly", "subject": "admin"}))
        .await
        .problem(422, "validation-failed");
}

both_engines!(releases_follow_the_gate_approvals_and_separation_of_duties);
async fn releases_follow_the_gate_approvals_and_separation_of_duties(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.put("/api/v1/policy", &admin, json!({"document": STRICT})).await.expect(200);
    let (alice, alice_t) = mfa_user(&s, &admin, "alice").await; // author
    let (bob, bob_t) = mfa_user(&s, &admin, "bob").await; // approver
    let (carol, carol_t) = mfa_user(&s, &admin, "carol").await; // approver
    let (dave, dave_t) = mfa_user(&s, &admin, "dave").await; // owner
    let (erin, erin_t) = s.user(&admin, "erin").await; // approver without MFA
    let p = s.project(&admin, "scoring", Some(&dave)).await;
    member(&s, &admin, &p, &alice, "data-scientist").await;
    // Alice also approves releases, but never her own.
    member(&s, &admin, &p, &alice, "approver").await;
    for a in [&bob, &carol, &erin] {
        member(&s, &admin, &p, a, "approver").await;
    }
    let rel = |path: &str| format!("/api/v1/projects/{p}/releases{path}");

    let art = artifact(&s, &alice_t, &p, &["standard-ai", "hipaa-ai"], "2099-01-01T00:00:00Z").await;
    // Versions declare classes the policy knows.
    let e = s
        .post(
            &format!("/api/v1/projects/{p}/models/scorer/versions"),
            &alice_t,
            json!({"artifact": art, "data_classes": ["secret"]}),
        )
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "data_classes.declared", "{e}");
    let v1 = version(&s, &alice_t, &p, &art, &["public"]).await;
    let v2 = version(&s, &alice_t, &p, &art, &["ephi"]).await;

    let (sr, at) = (&s, &alice_t);
    let create = |version: u64, zone: &str| {
        let (url, body) =
            (rel(""), json!({"model": "scorer", "version": version, "zone": zone, "reason": "quarterly refresh"}));
        async move { sr.post(&url, at, body).await }
    };
    // The gate: evaluation evidence first, then its thresholds, then placement.
    let e = create(v1, "standard-ai").await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "releases.default.evaluation", "{e}");
    s.post(
        &format!("/api/v1/projects/{p}/datasets"),
        &alice_t,
        json!({"namespace": "s3://lake", "name": "holdout-2026", "classes": ["public"]}),
    )
    .await
    .expect(201);
    let eval = |version: u64, auc: f64| {
        let url = format!("/api/v1/projects/{p}/models/scorer/versions/{version}/evaluations");
        let body = json!({"metrics": {"auc": auc}, "dataset": "s3://lake/holdout-2026"});
        async move { sr.post(&url, at, body).await }
    };
    assert_eq!(eval(v1, 0.71).await.expect(201)["seq"], 1);
    let e = create(v1, "standard-ai").await.problem(422, "validation-failed");
    assert!(e["detail"].as_str().unwrap().contains("auc = 0.71 does not meet >= 0.8"), "{e}");
    eval(v1, 0.91).await.expect(201);
    // Evaluations read back, name a catalogued dataset, and are in the ledger and the
    // lineage graph.
    let evals_url = format!("/api/v1/projects/{p}/models/scorer/versions/{v1}/evaluations");
    let evals = s.get(&evals_url, &alice_t).await.expect(200);
    let evals = evals.as_array().unwrap();
    assert_eq!(evals.len(), 2);
    assert_eq!((evals[1]["seq"].as_u64(), evals[1]["metrics"]["auc"].as_f64()), (Some(2), Some(0.91)));
    assert_eq!(evals[1]["dataset"], "s3://lake/holdout-2026");
    let unknown = json!({"metrics": {"auc": 0.9}, "dataset": "holdout"});
    let refused = s.post(&evals_url, &alice_t, unknown).await.problem(422, "validation-failed");
    assert_eq!(refused["rule"], "model.known-datasets");
    assert_eq!(s.get(&evals_url, &alice_t).await.expect(200).as_array().unwrap().len(), 2, "a refusal adds nothing");
    let recorded = s
        .get("/api/v1/audit/events?action=model.evaluation.add&category=change&outcome=success&limit=100", &admin)
        .await
        .expect(200);
    let details: Vec<&Value> = recorded["items"].as_array().unwrap().iter().map(|i| &i["event"]["detail"]).collect();
    assert!(
        details
            .iter()
            .any(|d| d["metrics"]["auc"] == "0.91" && d["dataset"] == "s3://lake/holdout-2026" && d["version"] == v1),
        "{details:?}"
    );
    let graph = s.get(&format!("/api/v1/lineage?node=model%3Ascorer%40{v1}"), &alice_t).await.expect(200);
    assert!(
        graph["nodes"].as_array().unwrap().iter().any(|n| n["node"] == "dataset:s3://lake/holdout-2026"),
        "{graph}"
    );
    eval(v2, 0.95).await.expect(201);
    s.post(
        &format!("/api/v1/projects/{p}/models/scorer/versions/1/evaluations"),
        &alice_t,
        json!({"metrics": {"auc": "high"}}),
    )
    .await
    .problem(400, "bad-request");
    let e = create(v1, "hipaa-ai").await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "zones.hipaa-ai.require_signed_artifacts", "{e}");
    let e = create(v2, "standard-ai").await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "data_classes.ephi.allowed_zones", "{e}");
    create(v1, "moon-ai").await.problem(422, "validation-failed");
    assert!(s.get(&rel(""), &alice_t).await.expect(200).as_array().unwrap().is_empty(), "refused gates create nothing");
    let gates = s.get("/api/v1/audit/events?action=release.gate", &admin).await.expect(200);
    assert!(gates["items"].as_array().unwrap().len() >= 4, "refusals are recorded");

    let r1 = create(v1, "standard-ai").await.expect(201);
    assert_eq!((r1["status"].as_str(), r1["approvals_required"].as_u64()), (Some("pending"), Some(2)));
    let id = r1["id"].as_str().unwrap().to_string();
    let act = |token: &str, verb: &str| {
        let (url, token) = (rel(&format!("/{id}/{verb}")), token.to_string());
        async move { sr.post(&url, &token, json!({"comment": "ok"})).await }
    };

    // Separation of duties, MFA, the approver role, one decision each.
    assert_eq!(act(&alice_t, "approve").await.problem(403, "forbidden")["rule"], "releases.separation-of-duties");
    let e = act(&erin_t, "approve").await.problem(403, "forbidden");
    assert!(e["detail"].as_str().unwrap().contains("release-approvals-need-mfa"), "{e}");
    assert_eq!(act(&dave_t, "approve").await.problem(403, "forbidden")["rule"], "releases.default.approver_role");
    act(&bob_t, "approve").await.expect(200);
    assert_eq!(act(&bob_t, "approve").await.problem(409, "conflict")["rule"], "releases.one-decision-per-approver");
    // Not enough approvals yet.
    assert_eq!(act(&alice_t, "deploy").await.problem(409, "conflict")["rule"], "releases.default.approvals");
    // A withdrawn approval no longer counts.
    act(&carol_t, "approve").await.expect(200);
    let status = |id: String| {
        let (url, token) = (rel(&format!("/{id}")), alice_t.clone());
        async move { sr.get(&url, &token).await.expect(200)["status"].as_str().unwrap().to_string() }
    };
    assert_eq!(status(id.clone()).await, "approved", "two standing approvals of two");
    act(&bob_t, "withdraw").await.expect(200);
    assert_eq!(status(id.clone()).await, "pending", "a withdrawn approval no longer counts");
    act(&alice_t, "deploy").await.problem(409, "conflict");
    act(&bob_t, "approve").await.expect(200);
    let shown = s.get(&rel(&format!("/{id}")), &alice_t).await.expect(200);
    assert_eq!(shown["status"], "approved");
    let approvers: Vec<&str> =
        shown["approvals"].as_array().unwrap().iter().map(|a| a["approver"].as_str().unwrap()).collect();
    assert!(approvers.contains(&bob.as_str()) && approvers.contains(&carol.as_str()), "{approvers:?}");

    let d = act(&alice_t, "deploy").await.expect(200);
    let t1 = ts(&d["deployed_at"]);
    assert_eq!(d["status"], "deployed");
    assert!(d.get("previous").is_none());
    // The manifest is a signed note by the instance key.
    let key = s.http.get(format!("{}/api/v1/audit/public-key", s.url)).send().await.unwrap().text().await.unwrap();
    let key = warden_tlog::note::VerifierKey::parse(key.trim()).unwrap();
    let note = d["manifest"].as_str().unwrap();
    let body: Value = serde_json::from_str(key.open(note).unwrap().trim_end()).unwrap();
    let tampered = note.replacen("\"version\":1", "\"version\":2", 1);
    assert!(key.open(&tampered).is_err(), "an edited manifest does not verify");
    assert_eq!(body["version"], v1);
    assert_eq!(body["approvals"].as_array().unwrap().len(), 2);
    assert_eq!(body["evaluation"]["metrics"]["auc"], "0.91");
    assert!(body["artifact"]["manifest_digest"].as_str().unwrap().starts_with("sha256:"));
    // Nothing changes a deployed release.
    assert_eq!(act(&carol_t, "reject").await.problem(409, "conflict")["rule"], "releases.state");
    act(&alice_t, "deploy").await.problem(409, "conflict");

    // A rejection ends a release.
    s.clock.advance(60);
    let r2 = create(v1, "standard-ai").await.expect(201);
    let id2 = r2["id"].as_str().unwrap();
    s.post(&rel(&format!("/{id2}/reject")), &carol_t, json!({"comment": "no"})).await.expect(200);
    s.post(&rel(&format!("/{id2}/approve")), &bob_t, json!({})).await.problem(409, "conflict");

    // A second deploy keeps the first as its rollback target.
    let art3 = artifact(&s, &alice_t, &p, &["standard-ai"], "2099-01-01T00:00:00Z").await;
    let v3 = version(&s, &alice_t, &p, &art3, &["public"]).await;
    eval(v3, 0.85).await.expect(201);
    let r3 = create(v3, "standard-ai").await.expect(201);
    let id3 = r3["id"].as_str().unwrap();
    for t in [&bob_t, &carol_t] {
        s.post(&rel(&format!("/{id3}/approve")), t, json!({})).await.expect(200);
    }
    s.clock.advance(60);
    let d3 = s.post(&rel(&format!("/{id3}/deploy")), &alice_t, json!({})).await.expect(200);
    let t2 = ts(&d3["deployed_at"]);
    assert_eq!(d3["previous"], id.as_str());
    // The first is no longer the zone's release: superseded, not deployed.
    assert_eq!(status(id.clone()).await, "superseded");
    assert_eq!(status(id3.to_string()).await, "deployed");

    let active = |at: warden_core::Timestamp| {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.0) * 1_000_000).unwrap();
        let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
        let url = rel(&format!("/active?zone=standard-ai&at={}", at.replace('+', "%2B")));
        let admin = admin.clone();
        async move { sr.get(&url, &admin).await }
    };
    assert!(active(warden_core::Timestamp(t1.0 - 1)).await.expect(200).as_array().unwrap().is_empty());
    assert_eq!(active(t1).await.expect(200)[0]["version"], v1);
    assert_eq!(active(warden_core::Timestamp(t2.0 - 1)).await.expect(200)[0]["version"], v1);
    assert_eq!(active(t2).await.expect(200)[0]["version"], v3);

    // Rollback is a release of its own, back to the previous version.
    s.clock.advance(60);
    let rb = s
        .post(
            &rel("/rollback"),
            &alice_t,
            json!({"zone": "standard-ai", "model": "scorer", "reason": "latency regression"}),
        )
        .await
        .expect(201);
    assert_eq!(
        (rb["kind"].as_str(), rb["version"].as_u64(), rb["status"].as_str()),
        (Some("rollback"), Some(v1), Some("deployed"))
    );
    assert_eq!(active(s.clock.now()).await.expect(200)[0]["version"], v1);
    s.post(&rel("/rollback"), &alice_t, json!({"zone": "hipaa-ai", "model": "scorer", "reason": "x"}))
        .await
        .problem(409, "conflict");

    // Break-glass: owners only, with a justification; skips approvals, never placement.
    let bg = |token: &str, version: u64, zone: &str, why: &str| {
        let (url, token) = (rel("/break-glass"), token.to_string());
        let body = json!({"model": "scorer", "version": version, "zone": zone, "justification": why});
        async move { sr.post(&url, &token, body).await }
    };
    bg(&alice_t, v3, "standard-ai", "production is down, see INC-42").await.problem(403, "forbidden");
    bg(&dave_t, v3, "standard-ai", "down").await.problem(422, "validation-failed");
    assert_eq!(
        bg(&dave_t, v2, "standard-ai", "production is down, see INC-42").await.problem(422, "validation-failed")
            ["rule"],
        "data_classes.ephi.allowed_zones"
    );
    let g = bg(&dave_t, v3, "standard-ai", "production is down, see INC-42").await.expect(201);
    assert_eq!((g["status"].as_str(), g["needs_review"].as_bool()), (Some("deployed"), Some(true)));
    let gid = g["id"].as_str().unwrap();
    assert_eq!(s.get(&rel("?unreviewed=true"), &admin).await.expect(200).as_array().unwrap().len(), 1);
    let e =
        s.post(&rel(&format!("/{gid}/review")), &dave_t, json!({"comment": "fine"})).await.problem(403, "forbidden");
    assert_eq!(e["rule"], "releases.separation-of-duties");
    s.post(&rel(&format!("/{gid}/review")), &bob_t, json!({"comment": "checked INC-42"})).await.expect(200);
    assert!(s.get(&rel("?unreviewed=true"), &admin).await.expect(200).as_array().unwrap().is_empty());

    // Expired artifacts cannot be released.
    let soon =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(s.clock.now().0 + 3_600_000) * 1_000_000).unwrap();
    let art4 = artifact(
        &s,
        &alice_t,
        &p,
        &["standard-ai"],
        &soon.format(&time::format_description::well_known::Rfc3339).unwrap(),
    )
    .await;
    let v4 = version(&s, &alice_t, &p, &art4, &["public"]).await;
    eval(v4, 0.9).await.expect(201);
    s.clock.advance(7200);
    assert_eq!(create(v4, "standard-ai").await.problem(422, "validation-failed")["rule"], "artifact.not-expired");
    let _ = (erin, bob, carol);
}

both_engines!(concurrent_approvals_and_deploys_are_serialised);
async fn concurrent_approvals_and_deploys_are_serialised(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.put("/api/v1/policy", &admin, json!({"document": STRICT.replace("approvals: 2", "approvals: 3")}))
        .await
        .expect(200);
    let (alice, alice_t) = mfa_user(&s, &admin, "alice").await;
    let p = s.project(&admin, "scoring", Some(&alice)).await;
    let mut approvers = Vec::new();
    for n in ["a1", "a2", "a3", "a4"] {
        let (id, t) = mfa_user(&s, &admin, n).await;
        member(&s, &admin, &p, &id, "approver").await;
        approvers.push(t);
    }
    let art = artifact(&s, &alice_t, &p, &["standard-ai"], "2099-01-01T00:00:00Z").await;
    let v = version(&s, &alice_t, &p, &art, &["public"]).await;
    s.post(
        &format!("/api/v1/projects/{p}/models/scorer/versions/{v}/evaluations"),
        &alice_t,
        json!({"metrics": {"auc": 0.9}}),
    )
    .await
    .expect(201);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = s
            .post(
                &format!("/api/v1/projects/{p}/releases"),
                &alice_t,
                json!({"model": "scorer", "version": v, "zone": "standard-ai", "reason": "r"}),
            )
            .await
            .expect(201);
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    // Four approvers at once on each release: every approval lands exactly once.
    for id in &ids {
        let url = format!("/api/v1/projects/{p}/releases/{id}/approve");
        let calls = approvers.iter().map(|t| s.post(&url, t, json!({})));
        for r in futures_util::future::join_all(calls).await {
            r.expect(200);
        }
        let r = s.get(&format!("/api/v1/projects/{p}/releases/{id}"), &alice_t).await.expect(200);
        assert_eq!(r["approvals"].as_array().unwrap().len(), 4);
    }
    // Both releases deploy to the same zone at once, twice each: each deploys once, and
    // the zone's history has both, one after the other.
    let urls: Vec<String> =
        ids.iter().chain(ids.iter()).map(|id| format!("/api/v1/projects/{p}/releases/{id}/deploy")).collect();
    let calls = urls.iter().map(|u| s.post(u, &alice_t, json!({})));
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(results.iter().all(|r| r.status == 200 || r.status == 409), "{results:?}");
    let urls: Vec<String> = ids.iter().map(|id| format!("/api/v1/projects/{p}/releases/{id}")).collect();
    let deployed: Vec<Value> = futures_util::future::join_all(urls.iter().map(|u| s.get(u, &alice_t)))
        .await
        .into_iter()
        .map(|r| r.expect(200))
        .collect();
    let n = deployed.iter().filter(|r| r["status"] == "deployed" || r["status"] == "superseded").count();
    assert_eq!(ok, n, "every 200 is a deploy and every deploy got a 200");
    assert!(n >= 1);
    assert_eq!(deployed.iter().filter(|r| r["status"] == "deployed").count(), 1, "one is the zone's release");
    if n == 2 {
        // The later one names the earlier as its previous release.
        let previous: Vec<Option<&str>> = deployed.iter().map(|r| r["previous"].as_str()).collect();
        assert!(previous.contains(&None) && previous.iter().any(|p| p.is_some()), "{previous:?}");
    }
}

both_engines!(workloads_pull_only_what_their_zone_permits);
async fn workloads_pull_only_what_their_zone_permits(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.put("/api/v1/policy", &admin, json!({"document": STRICT})).await.expect(200);
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "scoring", Some(&alice)).await;
    let soon = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(s.clock.now().0 + 3_600_000) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (_, standard_blob) = artifact_of(&s, &alice_t, &p, &["standard-ai"], &soon, 1).await;
    let (_, hipaa_blob) = artifact_of(&s, &alice_t, &p, &["hipaa-ai"], "2099-01-01T00:00:00Z", 2).await;
    let token = |zone: &str| {
        let body = json!({"name": format!("runtime-{zone}"), "project": p, "zone": zone});
        let (sr, t) = (&s, alice_t.clone());
        async move { sr.post("/api/v1/tokens", &t, body).await }
    };
    let standard = token("standard-ai").await.expect(201);
    assert_eq!(standard["zone"], "standard-ai");
    let standard = standard["secret"].as_str().unwrap().to_string();
    let hipaa = token("hipaa-ai").await.expect(201)["secret"].as_str().unwrap().to_string();
    assert_eq!(token("moon-ai").await.problem(422, "validation-failed")["rule"], "zones.declared");
    // A zone-bound credential never mints a wider one.
    let escape = json!({"name": "escape", "project": p, "role": "project-owner"});
    let e = s.post("/api/v1/tokens", &standard, escape).await.problem(403, "forbidden");
    assert_eq!(e["rule"], "tokens.zone-never-widens", "{e}");

    let pull = |token: &str, digest: &str| {
        let url = format!("{}/api/v1/projects/{p}/blobs/{digest}", s.url);
        let req = s.http.get(url).bearer_auth(token);
        async move { crate::harness::Res::read(req.send().await.unwrap()).await }
    };
    assert_eq!(pull(&standard, &standard_blob).await.status, 200);
    let e = pull(&standard, &hipaa_blob).await.problem(403, "forbidden");
    assert_eq!(e["rule"], "artifact.permitted-zones", "{e}");
    let e = pull(&hipaa, &hipaa_blob).await.problem(403, "forbidden");
    assert_eq!(e["rule"], "zones.hipaa-ai.require_signed_artifacts", "{e}");
    // People outside any zone (development) pull what their project holds.
    assert_eq!(pull(&alice_t, &hipaa_blob).await.status, 200);
    // Expired artifacts never reach a zone.
    s.clock.advance(7200);
    let e = pull(&standard, &standard_blob).await.problem(403, "forbidden");
    assert_eq!(e["rule"], "artifact.not-expired", "{e}");
    let denied = s.get("/api/v1/audit/events?action=blob.pull&outcome=deny", &admin).await.expect(200);
    assert_eq!(denied["items"].as_array().unwrap().len(), 3, "every refused pull is recorded");
    assert_eq!(denied["items"][0]["event"]["detail"]["zone"], "standard-ai");
}
