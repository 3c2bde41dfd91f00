//! Every route in the OpenAPI document: locked by a snapshot, mapped to an action, and
//! answering 401 without credentials and 403 without the right, as problem+json.

use reqwest::Method;
use serde_json::{json, Value};
use warden_app::Action;

use crate::harness::{start, Engine, Options};

#[test]
fn openapi_document_is_locked() {
    let doc = serde_json::to_value(warden_server::openapi::document()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn every_operation_declares_an_action_and_every_action_has_a_route() {
    let doc = serde_json::to_value(warden_server::openapi::document()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        // The REST API under /api/v1/, and the OpenAI-compatible gateway under /v1/.
        assert!(path.starts_with("/api/v1/") || path.starts_with("/v1/"), "{path} is under /api/v1/ or /v1/");
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            ids.push(id.to_string());
            match op.get("x-warden-action") {
                Some(a) => {
                    let action = Action::parse(a.as_str().unwrap()).expect("x-warden-action is a known action");
                    seen.insert(action);
                    assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path} requires the bearer scheme");
                }
                None => assert!(PUBLIC.contains(&id), "{method} {path} ({id}) declares no action"),
            }
        }
    }
    for a in Action::ALL {
        // `project.list-all` is asked inside `project.list` (may the listing include
        // everything?), not by a route of its own.
        // `model.place` is the placement question release gates and explain ask.
        if *a == Action::ProjectListAll || *a == Action::ModelPlace {
            continue;
        }
        assert!(seen.contains(a), "action {} has no route", a.as_str());
    }
    for (id, _) in warden_server::openapi::OPERATIONS {
        assert!(ids.iter().any(|x| x == id), "table entry {id} has no route");
    }
}

/// Operations that need no credentials: signing in, and the key that verifies checkpoints.
const PUBLIC: &[&str] = &["login", "audit_public_key"];

/// Actions every authenticated caller holds (on itself); they have no 403 case.
const FOR_EVERYONE: &[&str] = &[
    "whoami",
    "totp.enrol",
    "totp.confirm",
    "session.step-up",
    "token.list",
    "project.list",
    "directory.lookup",
    "audit.checkpoint",
    "policy.read",
    "policy.explain",
    "dataset.list",
    "lineage.read",
];

struct Fixture {
    project: String,
    admin_id: String,
    admin_token_id: String,
    nobody: String,
    group: String,
}

fn fill(path: &str, f: &Fixture) -> String {
    let id = if path.starts_with("/api/v1/projects/") {
        f.project.as_str()
    } else if path.starts_with("/api/v1/groups/") {
        f.group.as_str()
    } else if path.starts_with("/api/v1/signers/") {
        "sig_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    } else if path.starts_with("/api/v1/tokens/") {
        f.admin_token_id.as_str()
    } else {
        f.admin_id.as_str()
    };
    let role = if path.starts_with("/api/v1/role-grants") { "platform-admin" } else { "data-scientist" };
    path.replace("{id}", id)
        .replace("{member}", &f.nobody)
        .replace("{subject}", &f.nobody)
        .replace("{role}", role)
        .replace("{index}", "0")
        .replace("{digest}", &format!("sha256:{}", "0".repeat(64)))
        .replace("{artifact}", "art_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{name}", "m")
        .replace("{version}", "1")
        .replace("{target}", "external")
        .replace("{period}", "day")
        .replace("{upload}", "upl_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{alias}", "champion")
        .replace("{key}", "stage")
        .replace("{release}", "rel_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{dataset}", "dst_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{transfer}", "trf_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{request}", "del_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{seq}", "1")
        .replace("{log}", "pl_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .replace("{proposal}", "dpr_01ARZ3NDEKTSV4RRFFQ69G5FAV")
}

/// Required query parameters, so the 403 case is not a 400.
fn sample_query(op: &str) -> &'static str {
    match op {
        "audit_entries" => "?from=0",
        "append_upload" => "?offset=0",
        "complete_upload" => "?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "audit_inclusion" => "?index=0&tree_size=1",
        "audit_consistency" => "?from=1&to=2",
        "active_releases" => "?zone=standard-ai",
        "get_lineage" => "?node=dataset:s3://lake/x",
        "evidence_data_access" | "evidence_locations" => "?project=prj_01ARZ3NDEKTSV4RRFFQ69G5FAV&model=m&version=1",
        "evidence_active" | "evidence_access" => "?zone=standard-ai",
        "evidence_change" => "?project=prj_01ARZ3NDEKTSV4RRFFQ69G5FAV&release=rel_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "evidence_log" => "?from=2026-01-01T00:00:00Z",
        "evidence_data_handling" => "?subject=customer-1",
        "lookup_name" => "?name=admin",
        _ => "",
    }
}

/// A valid-looking body for `op` (for the random-input sweep).
pub(crate) fn sample_body_for(op: &str, project: &str) -> Option<Value> {
    let f = Fixture {
        project: project.to_string(),
        admin_id: "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
        admin_token_id: "tok_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
        nobody: "usr_01ARZ3NDEKTSV4RRFFQ69G5FAW".into(),
        group: "grp_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
    };
    sample_body(op, &f)
}

fn sample_body(op: &str, f: &Fixture) -> Option<Value> {
    Some(match op {
        "login" => json!({"username": "x", "password": "y"}),
        "totp_confirm" | "step_up" => json!({"code": "000000"}),
        "create_token" => json!({"name": "t", "role": "platform-admin"}),
        "create_project" => json!({"name": "sample-project"}),
        "add_member" => json!({"member": f.nobody, "role": "data-scientist"}),
        "create_user" => json!({"name": "sample-user"}),
        "create_service" => json!({"name": "sample-service"}),
        "create_service_token" => json!({"name": "t", "project": f.project, "role": "service"}),
        "grant_role" => json!({"member": f.nobody, "role": "auditor"}),
        "create_group" => json!({"name": "sample-group"}),
        "upload_blob" | "append_upload" => json!("content"),
        "create_signer" => json!({"name": "k", "algorithm": "ed25519", "public_key": "x"}),
        "create_artifact" => json!({"kind": "model", "name": "m", "files": []}),
        "create_model_version" => json!({"artifact": "art_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        "set_model_alias" => json!({"version": 1}),
        "set_switch" => json!({"reason": "incident"}),
        "put_provider" => json!({"base_url": "http://127.0.0.1:9/v1", "region": "eu-west", "external": true,
                                 "models": ["m"]}),
        "set_budget" => json!({"tokens": 100}),
        "chat_completions" => json!({"model": "mock", "messages": []}),
        "embeddings" => json!({"model": "mock", "input": "x"}),
        "set_model_tag" => json!({"value": "v"}),
        "create_dataset" => json!({"namespace": "s3://lake", "name": "claims"}),
        "update_dataset" => json!({"classes": []}),
        "patch_dataset" => json!({"legal_hold": null}),
        "request_transfer" => {
            json!({"dataset": "dst_01ARZ3NDEKTSV4RRFFQ69G5FAV", "to_zone": "hipaa-ai", "reason": "r"})
        }
        "request_deletion" => {
            json!({"datasets": ["dst_01ARZ3NDEKTSV4RRFFQ69G5FAV"], "subject_ref": "customer-1", "reason": "Art. 17"})
        }
        "close_deletion_task" => json!({"evidence": "deleted"}),
        "place_quarantine" | "lift_quarantine" => json!({"dataset": "s3://lake/x", "reason": "suspected leak"}),
        "propose_classes" => json!({"rows": 1, "columns": [{"name": "email", "counts": {"EMAIL": 1}}]}),
        "post_lineage" => json!({"eventTime": "2026-01-01T00:00:00Z", "producer": "p", "schemaURL": "s",
                                 "eventType": "START", "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
                                 "job": {"namespace": "n", "name": "j"}}),
        "apply_policy" => json!({"document": "zones: {}", "dry_run": true}),
        "rollback_policy" => json!({"version": 1}),
        "explain_placement" => json!({"zone": "standard-ai"}),
        "add_evaluation" => json!({"metrics": {"auc": 0.9}}),
        "create_release" => json!({"model": "m", "version": 1, "zone": "standard-ai", "reason": "r"}),
        "approve_release" | "reject_release" | "withdraw_approval" | "review_release" => json!({"comment": "c"}),
        "rollback_release" => json!({"zone": "standard-ai", "model": "m", "reason": "r"}),
        "break_glass" => {
            json!({"model": "m", "version": 1, "zone": "standard-ai", "justification": "production is down, see INC-1"})
        }
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_401_and_unauthorised_403_on_every_route() {
    let s = start(Options::new(Engine::Sqlite)).await;
    let admin = s.admin().await;
    let who = s.get("/api/v1/whoami", &admin).await.expect(200);
    let (nobody, nobody_token) = s.user(&admin, "nobody").await;
    let project = s.project(&admin, "guarded", None).await;
    let group =
        s.post("/api/v1/groups", &admin, json!({"name": "g"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let f = Fixture {
        project,
        admin_id: who["id"].as_str().unwrap().to_string(),
        admin_token_id: who["token_id"].as_str().unwrap().to_string(),
        nobody,
        group,
    };

    let doc = serde_json::to_value(warden_server::openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = fill(path, &f) + sample_query(id);
            let body = sample_body(id, &f);
            let has_body = op.get("requestBody").is_some();
            assert_eq!(has_body, body.is_some(), "{id}: give a sample body in this test");
            let Some(action) = op.get("x-warden-action").and_then(|a| a.as_str()) else {
                continue; // the sign-in route itself
            };

            if path.starts_with("/v1/") {
                // The OpenAI-compatible gateway answers in OpenAI's error shape.
                let shaped = |r: &crate::harness::Res, status: u16| {
                    assert_eq!(r.status.as_u16(), status, "{id}: {:?}", r.body);
                    assert!(
                        r.body["error"]["message"].is_string() && r.body["error"]["type"].is_string(),
                        "{id}: {:?}",
                        r.body
                    );
                };
                shaped(&s.call(method.clone(), &url, None, body.clone()).await, 401);
                shaped(&s.call(method.clone(), &url, Some("wdn_not_a_real_token"), body.clone()).await, 401);
                shaped(&s.call(method.clone(), &url, Some(&nobody_token), body.clone()).await, 403);
                checked += 1;
                continue;
            }
            // No credentials, and a credential that is not a token: 401.
            s.call(method.clone(), &url, None, body.clone()).await.problem(401, "unauthenticated");
            s.call(method.clone(), &url, Some("wdn_not_a_real_token"), body.clone())
                .await
                .problem(401, "unauthenticated");

            // A valid caller without the right: 403, and nothing changes.
            let res = s.call(method.clone(), &url, Some(&nobody_token), body.clone()).await;
            if FOR_EVERYONE.contains(&action) {
                assert!(res.status != 401 && res.status != 403, "{id} is for every caller: {:?}", res);
            } else {
                let p = res.problem(403, "forbidden");
                assert!(p["detail"].as_str().unwrap().contains(action), "{id}: the denial names the action: {p}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 28, "checked {checked} operations");
    assert_eq!(s.count_projects(&admin).await, 1, "no denied request created anything");

    // The document itself and health endpoints.
    s.call(Method::GET, "/api/v1/openapi.json", None, None).await.problem(401, "unauthenticated");
    s.get("/api/v1/openapi.json", &nobody_token).await.expect(200);
    s.call(Method::GET, "/healthz", None, None).await.expect(200);
    s.call(Method::GET, "/readyz", None, None).await.expect(200);
    let m = s.http.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("warden_http_requests_total"), "{m}");
    // Unknown routes and methods are problems too.
    s.get("/api/v1/nothing-here", &admin).await.problem(404, "not-found");
    s.call(Method::PATCH, "/api/v1/projects", Some(&admin), None).await.problem(405, "method-not-allowed");
}
