//! The data catalog and lineage: datasets and their classes, OpenLineage events as
//! Marquez takes them, graph queries, and classes flowing from datasets to model
//! versions (and into placement).

use serde_json::{json, Value};

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

const RUN: &str = "3f5e83fa-3480-44ff-99c5-ff943904e5e8";

fn event(kind: &str, run: &str, inputs: Value, outputs: Value) -> Value {
    json!({
        "eventType": kind,
        "eventTime": "2026-11-22T10:00:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.24.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run, "facets": {"vendor": {"_producer": "x", "_schemaURL": "y", "anything": [1, 2]}}},
        "job": {"namespace": "airflow", "name": "claims.features"},
        "inputs": inputs,
        "outputs": outputs,
    })
}

async fn lineage(s: &Server, token: &str, node: &str, direction: &str, depth: u32) -> Value {
    let node = node.replace(':', "%3A").replace('/', "%2F");
    s.get(&format!("/api/v1/lineage?node={node}&direction={direction}&depth={depth}"), token).await.expect(200)
}

both_engines!(lineage_events_build_the_graph_and_classes_flow_to_models);
async fn lineage_events_build_the_graph_and_classes_flow_to_models(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let (_, nobody) = s.user(&admin, "nobody").await;

    // A described dataset with a classified column.
    let raw = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &alice_t,
            json!({
            "namespace": "postgres://db:5432", "name": "claims.raw", "layer": "raw", "residency": "eu-west",
            "retention_days": 365, "columns": [{"name": "ssn", "type": "text", "classes": ["personal_data"]}]}),
        )
        .await
        .expect(201);
    assert_eq!(raw["classified"], true);
    let e = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &alice_t,
            json!({"namespace": "x", "name": "y", "classes": ["secret"]}),
        )
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "data_classes.declared");
    s.post(
        &format!("/api/v1/projects/{p}/datasets"),
        &alice_t,
        json!({"namespace": "x", "name": "y", "layer": "gold"}),
    )
    .await
    .problem(422, "validation-failed");
    s.post(&format!("/api/v1/projects/{p}/datasets"), &nobody, json!({"namespace": "x", "name": "y"}))
        .await
        .problem(403, "forbidden");

    // OpenLineage events from a pipeline token bound to the project.
    let pipeline = s
        .post("/api/v1/tokens", &alice_t, json!({"name": "airflow", "project": p, "role": "project-owner"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let inputs = json!([{"namespace": "postgres://db:5432", "name": "claims.raw"}]);
    let outputs = json!([{"namespace": "s3://lake", "name": "features/claims",
                          "facets": {"schema": {"fields": [{"name": "amount", "type": "double"}]}}}]);
    for kind in ["START", "COMPLETE"] {
        s.post("/api/v1/lineage", &pipeline, event(kind, RUN, inputs.clone(), outputs.clone())).await.expect(201);
    }
    // Missing fields: 400 naming them, nothing stored.
    let mut bad = event("START", RUN, inputs.clone(), outputs.clone());
    bad.as_object_mut().unwrap().remove("producer");
    let e = s.post("/api/v1/lineage", &pipeline, bad).await.problem(400, "invalid-parameter");
    assert!(e["detail"].as_str().unwrap().contains("`producer` is required"), "{e}");
    let e = s
        .post("/api/v1/lineage", &pipeline, event("START", "not-a-uuid", inputs.clone(), json!([])))
        .await
        .problem(400, "invalid-parameter");
    assert!(e["detail"].as_str().unwrap().contains("UUID"), "{e}");
    s.post("/api/v1/lineage", &nobody, event("START", RUN, inputs.clone(), outputs.clone()))
        .await
        .problem(403, "forbidden");

    // The unknown output is catalogued as unclassified: a finding.
    // (Visible to its project, auditors and administrators; not to someone outside.)
    let hidden = s.get("/api/v1/datasets?unclassified=true", &nobody).await.expect(200);
    assert_eq!(hidden["items"], json!([]), "{hidden}");
    let found = s.get("/api/v1/datasets?unclassified=true", &admin).await.expect(200);
    let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["features/claims"]);
    assert_eq!(found["items"][0]["columns"][0]["name"], "amount", "schema facet kept as columns");
    assert_eq!(found["items"][0]["project"], p.as_str());

    // A model version trained on the features: lineage by run id.
    let artifact = crate::releases::artifact(&s, &alice_t, &p, &["standard-ai"], "2099-01-01T00:00:00Z").await;
    let v = s
        .post(
            &format!("/api/v1/projects/{p}/models/scorer/versions"),
            &alice_t,
            json!({"artifact": artifact, "runs": [RUN], "data_classes": ["public"]}),
        )
        .await
        .expect(201);
    assert_eq!(v["version"], 1);

    // Effective classes: declared, and the raw table's column class, with its path.
    let classes = s.get(&format!("/api/v1/projects/{p}/models/scorer/versions/1/classes"), &alice_t).await.expect(200);
    let by: std::collections::BTreeMap<&str, Vec<&str>> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["class"].as_str().unwrap(), c["path"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect())
        })
        .collect();
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), ["personal_data", "public"]);
    let path = &by["personal_data"];
    assert_eq!(path.len(), 3, "{path:?}");
    assert!(path[0].starts_with("model:") && path[1] == format!("run:{RUN}"));
    assert_eq!(path[2], "dataset:postgres://db:5432/claims.raw");

    // Placement uses them: personal data may not go to standard-ai.
    let x = s
        .post(
            "/api/v1/policy/explain",
            &alice_t,
            json!({"zone": "standard-ai", "project": p, "model": "scorer", "version": 1}),
        )
        .await
        .expect(200);
    assert_eq!(x["rules"][0], "data_classes.personal_data.allowed_zones", "{x}");

    // Graph queries both ways, with depth limits and classes.
    let up = lineage(&s, &alice_t, path[0], "upstream", 10).await;
    let nodes: Vec<&str> = up["nodes"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    // A version is named by its model's name too, with or without the project.
    for named in ["model:scorer@1", "model:claims/scorer@1", &format!("model:{p}/scorer@1")] {
        assert_eq!(lineage(&s, &alice_t, named, "upstream", 10).await["nodes"], up["nodes"], "{named}");
    }
    s.get("/api/v1/lineage?node=model%3Anobody%401", &alice_t).await.problem(404, "not-found");
    assert!(!up["cycle"].as_bool().unwrap());
    let raw_node =
        up["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "dataset:postgres://db:5432/claims.raw").unwrap();
    assert_eq!(raw_node["classes"], json!(["personal_data"]));
    let down = lineage(&s, &alice_t, "dataset:postgres://db:5432/claims.raw", "downstream", 2).await;
    let reached: Vec<&str> = down["nodes"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(reached.len(), 4, "the run, its output and the model: {reached:?}");
    let one = lineage(&s, &alice_t, "dataset:postgres://db:5432/claims.raw", "downstream", 1).await;
    assert_eq!(one["nodes"].as_array().unwrap().len(), 2, "depth 1 stops at the run");
    s.get("/api/v1/lineage?node=dataset%3Anowhere%2Fx", &nobody).await.problem(404, "not-found");
    // Someone outside the project sees its datasets in the graph only as placeholders,
    // without names or classes, and cannot start a walk at one.
    let outside = lineage(&s, &nobody, path[0], "upstream", 10).await;
    let text = outside.to_string();
    assert!(!text.contains("claims.raw") && !text.contains("personal_data"), "{text}");
    assert!(text.contains("dataset:hidden/1"), "{text}");
    s.get("/api/v1/lineage?node=dataset%3Apostgres%3A%2F%2Fdb%3A5432%2Fclaims.raw", &nobody)
        .await
        .problem(404, "not-found");
    s.get("/api/v1/lineage?node=x&depth=0", &nobody).await.problem(400, "invalid-parameter");
    s.get("/api/v1/lineage?node=x&direction=sideways", &nobody).await.problem(400, "invalid-parameter");

    // An output naming the model links a run to it; a cycle ends and is reported.
    let run2 = "0176a8c2-fe01-7439-87e6-56a1a1b4029f";
    let to_model = json!([{"namespace": "warden-model", "name": "claims/scorer@1"}]);
    s.post(
        "/api/v1/lineage",
        &pipeline,
        event("COMPLETE", run2, json!([{"namespace": "s3://lake", "name": "features/claims"}]), to_model),
    )
    .await
    .expect(201);
    let e = s
        .post(
            "/api/v1/lineage",
            &pipeline,
            event("COMPLETE", run2, json!([]), json!([{"namespace": "warden-model", "name": "claims/ghost@1"}])),
        )
        .await
        .problem(400, "invalid-parameter");
    assert!(e["detail"].as_str().unwrap().contains("ghost"), "{e}");
    let loop_run = "11111111-2222-3333-4444-555555555555";
    let features = json!([{"namespace": "s3://lake", "name": "features/claims"}]);
    s.post("/api/v1/lineage", &pipeline, event("COMPLETE", loop_run, features.clone(), features)).await.expect(201);
    let g = lineage(&s, &alice_t, "dataset:s3://lake/features/claims", "downstream", 10).await;
    assert!(g["cycle"].as_bool().unwrap(), "{g}");

    // A JobEvent (static lineage, no run), as dbt sends.
    let job = json!({"eventTime": "2026-11-22T11:00:00Z", "producer": "dbt", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
                     "job": {"namespace": "dbt", "name": "mart.claims"},
                     "inputs": [{"namespace": "s3://lake", "name": "features/claims"}],
                     "outputs": [{"namespace": "s3://lake", "name": "mart/claims"}]});
    s.post("/api/v1/lineage", &pipeline, job).await.expect(201);
    let g = lineage(&s, &alice_t, "dataset:s3://lake/mart/claims", "upstream", 2).await;
    let reached: Vec<&str> = g["nodes"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(reached, ["dataset:s3://lake/mart/claims", "job:dbt/mart.claims", "dataset:s3://lake/features/claims"]);

    // Describing the unclassified dataset is a recorded classification change.
    let fid = found["items"][0]["id"].as_str().unwrap();
    let u = s
        .put(
            &format!("/api/v1/projects/{p}/datasets/{fid}"),
            &alice_t,
            json!({"classes": ["public"], "layer": "curated"}),
        )
        .await
        .expect(200);
    assert_eq!(u["classified"], true);
    let left = s.get("/api/v1/datasets?unclassified=true", &admin).await.expect(200);
    let left: Vec<&str> = left["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(left, ["mart/claims"], "only the JobEvent's new output is left");
    let ev = s.get("/api/v1/audit/events?action=dataset.classes", &admin).await.expect(200);
    assert_eq!(ev["items"][0]["event"]["detail"]["after"], json!(["public"]));
}

/// A user with TOTP enrolled and a session verified with it: (id, token).
async fn mfa_user(s: &Server, admin: &str, name: &str) -> (String, String) {
    let (id, token) = s.user(admin, name).await;
    let secret = s.enrol_totp(&token).await;
    s.clock.advance(30);
    let body = json!({"username": name, "password": format!("{name}-correct-horse"), "totp": s.code(&secret)});
    let login = s.call(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body)).await.expect(200);
    (id, login["token"].as_str().unwrap().to_string())
}

both_engines!(residency_transfers_and_deletion_requests);
async fn residency_transfers_and_deletion_requests(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = mfa_user(&s, &admin, "alice").await;
    let (bob, bob_t) = mfa_user(&s, &admin, "bob").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    for (who, role) in [(&alice, "approver"), (&bob, "approver")] {
        s.post(&format!("/api/v1/projects/{p}/members"), &admin, json!({"member": who, "role": role}))
            .await
            .expect(201);
    }
    let raw = s
        .post(&format!("/api/v1/projects/{p}/datasets"), &alice_t,
              json!({"namespace": "s3://eu-lake", "name": "claims", "classes": ["public"], "residency": "eu-west", "owner": "claims-team"}))
        .await
        .expect(201);
    let raw_id = raw["id"].as_str().unwrap().to_string();
    // A pipeline running in standard-ai (us-east) reads EU-resident data.
    let pipeline = s
        .post(
            "/api/v1/tokens",
            &alice_t,
            json!({"name": "spark", "project": p, "role": "project-owner", "zone": "standard-ai"}),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let inputs = json!([{"namespace": "s3://eu-lake", "name": "claims"}]);
    let outputs = json!([{"namespace": "s3://us-lake", "name": "features"}]);
    s.post("/api/v1/lineage", &pipeline, event("COMPLETE", RUN, inputs, outputs)).await.expect(201);
    let f = s.get("/api/v1/findings", &admin).await.expect(200);
    let v = &f["residency_violations"][0];
    assert_eq!(
        (v["zone"].as_str(), v["region"].as_str(), v["residency"].as_str()),
        (Some("standard-ai"), Some("us-east"), Some("eu-west")),
        "{f}"
    );
    assert_eq!(v["dataset"], "dataset:s3://eu-lake/claims");
    assert_eq!(f["unclassified_in_use"], json!(["dataset:s3://us-lake/features"]));
    s.get("/api/v1/findings", &alice_t).await.problem(403, "forbidden");

    // A model trained by that run cannot be released into a us-east zone...
    let artifact = crate::releases::artifact(&s, &alice_t, &p, &["standard-ai"], "2099-01-01T00:00:00Z").await;
    s.post(&format!("/api/v1/projects/{p}/models/m/versions"), &alice_t, json!({"artifact": artifact, "runs": [RUN]}))
        .await
        .expect(201);
    let release = json!({"model": "m", "version": 1, "zone": "standard-ai", "reason": "launch"});
    let e = s
        .post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release.clone())
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "residency", "{e}");

    // ...until a transfer is approved, by someone other than its requester.
    let t = s
        .post(&format!("/api/v1/projects/{p}/transfers"), &alice_t,
              json!({"dataset": raw_id, "to_zone": "standard-ai", "reason": "US fraud model needs EU claims (DPA signed)"}))
        .await
        .expect(201);
    let tid = t["id"].as_str().unwrap();
    let e = s
        .post(&format!("/api/v1/projects/{p}/transfers/{tid}/approve"), &alice_t, json!({}))
        .await
        .problem(403, "forbidden");
    assert_eq!(e["rule"], "transfers.separation-of-duties");
    s.post(&format!("/api/v1/projects/{p}/transfers/{tid}/approve"), &bob_t, json!({})).await.expect(200);
    s.post(&format!("/api/v1/projects/{p}/transfers/{tid}/reject"), &bob_t, json!({})).await.problem(409, "conflict");
    assert!(s.get("/api/v1/findings", &admin).await.expect(200)["residency_violations"].as_array().unwrap().is_empty());
    let e =
        s.post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "releases.default.evaluation", "residency passes now: {e}");

    // Deletion requests walk downstream; a legal hold blocks them and says where.
    let features = s.get("/api/v1/datasets?unclassified=true", &admin).await.expect(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.put(
        &format!("/api/v1/projects/{p}/datasets/{features}"),
        &alice_t,
        json!({"classes": ["public"], "legal_hold": "litigation 2026-17"}),
    )
    .await
    .expect(200);
    let body = json!({"datasets": [raw_id], "subject_ref": "customer-4711", "reason": "GDPR Art. 17 request #88"});
    let e = s.post("/api/v1/deletion-requests", &admin, body.clone()).await.problem(409, "conflict");
    assert_eq!(e["rule"], "datasets.legal-hold");
    assert!(e["detail"].as_str().unwrap().contains("litigation 2026-17"), "{e}");
    assert!(
        s.get("/api/v1/deletion-report", &admin).await.expect(200).as_array().unwrap().is_empty(),
        "nothing half-made"
    );
    s.put(&format!("/api/v1/projects/{p}/datasets/{features}"), &alice_t, json!({"classes": ["public"]}))
        .await
        .expect(200);
    let unknown = json!({"datasets": ["dst_01ARZ3NDEKTSV4RRFFQ69G5FAV"], "subject_ref": "c", "reason": "r"});
    assert_eq!(
        s.post("/api/v1/deletion-requests", &admin, unknown).await.problem(422, "validation-failed")["rule"],
        "deletion.known-datasets"
    );
    let r = s.post("/api/v1/deletion-requests", &admin, body).await.expect(201);
    let targets: Vec<&str> = r["tasks"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(targets.len(), 3, "the dataset, the features and the model version: {targets:?}");
    assert!(targets.iter().any(|t| t.starts_with("model:")));
    assert!(r["tasks"].as_array().unwrap().iter().all(|t| t["project"] == p.as_str()), "{r}");
    assert_eq!(r["complete"], false);
    let rid = r["id"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/deletion-report", &admin).await.expect(200).as_array().unwrap().len(), 3);
    // While a task on the model version is open, the version is released nowhere.
    let release = json!({"model": "m", "version": 1, "zone": "standard-ai", "reason": "launch"});
    let e = s
        .post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release.clone())
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "deletion.open-tasks", "{e}");
    assert!(e["detail"].as_str().unwrap().contains(rid), "the refusal names the request: {e}");
    let (_, nobody) = s.user(&admin, "nobody").await;
    s.post(&format!("/api/v1/deletion-requests/{rid}/tasks/1/close"), &nobody, json!({"evidence": "x"}))
        .await
        .problem(403, "forbidden");
    for seq in 1..=3 {
        s.post(
            &format!("/api/v1/deletion-requests/{rid}/tasks/{seq}/close"),
            &alice_t,
            json!({"evidence": format!("rows for customer-4711 deleted, job #{seq}")}),
        )
        .await
        .expect(200);
    }
    s.post(&format!("/api/v1/deletion-requests/{rid}/tasks/1/close"), &alice_t, json!({"evidence": "again"}))
        .await
        .problem(409, "conflict");
    assert_eq!(s.get(&format!("/api/v1/deletion-requests/{rid}"), &admin).await.expect(200)["complete"], true);
    // Closed: the deletion no longer holds the release back (the evaluation rule does).
    let e =
        s.post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release).await.problem(422, "validation-failed");
    assert_eq!(e["rule"], "releases.default.evaluation", "{e}");
    assert!(s.get("/api/v1/deletion-report", &admin).await.expect(200).as_array().unwrap().is_empty());
    // Where payloads of the data's classes are logged, Warden's payload store gets a
    // task of its own.
    let doc = s.get("/api/v1/policy", &admin).await.expect(200)["document"].as_str().unwrap().replace(
        "public:          {allowed_zones: [standard-ai, hipaa-ai, pci-ai], llm_redaction: none, catalog: organisation}",
        "public:          {allowed_zones: [standard-ai, hipaa-ai, pci-ai], llm_redaction: none, catalog: organisation, payload_logging: true, retention_days: 30}",
    );
    s.put("/api/v1/policy", &admin, json!({"document": doc})).await.expect(200);
    let again = json!({"datasets": [raw_id], "subject_ref": "customer-4712", "reason": "GDPR Art. 17 request #89"});
    let r2 = s.post("/api/v1/deletion-requests", &admin, again).await.expect(201);
    let store = r2["tasks"].as_array().unwrap().iter().find(|t| t["kind"] == "store").expect("a store task");
    assert!(store["target"].as_str().unwrap().contains("payload-logs (public)"), "{store}");

    // The ledger holds references, never the subject's data.
    let everything = s.get("/api/v1/audit/entries?from=0&limit=1000", &admin).await.expect(200).to_string();
    assert!(everything.contains("deletion.requested") && !everything.contains("customer-4711"));
    assert!(!everything.contains("customer-4712"));
}

both_engines!(classification_proposals_are_decided_by_owners);
async fn classification_proposals_are_decided_by_owners(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (owner, owner_t) = s.user(&admin, "owner").await;
    let (ds, ds_t) = s.user(&admin, "scientist").await;
    let p = s.project(&admin, "claims", Some(&owner)).await;
    s.post(&format!("/api/v1/projects/{p}/members"), &admin, json!({"member": ds, "role": "data-scientist"}))
        .await
        .expect(201);
    let d = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &owner_t,
            json!({"namespace": "s3://lake", "name": "customers"}),
        )
        .await
        .expect(201);
    let did = d["id"].as_str().unwrap();
    let url = format!("/api/v1/projects/{p}/datasets/{did}/proposals");
    let body = |classes: Value| json!({"rows": 20, "columns": [{"name": "email", "counts": {"EMAIL": 20}, "classes": classes}]});
    assert_eq!(
        s.post(&url, &ds_t, body(json!(["secret"]))).await.problem(422, "validation-failed")["rule"],
        "data_classes.declared"
    );
    s.post(&url, &ds_t, json!({"rows": 1, "columns": [{"name": "x", "counts": {"not a kind": 1}}]}))
        .await
        .problem(422, "validation-failed");
    let prop = s.post(&url, &ds_t, body(json!(["personal_data"]))).await.expect(201);
    let pid = prop["id"].as_str().unwrap();
    s.post(&format!("/api/v1/projects/{p}/proposals/{pid}/accept"), &ds_t, json!({})).await.problem(403, "forbidden");
    let done = s.post(&format!("/api/v1/projects/{p}/proposals/{pid}/accept"), &owner_t, json!({})).await.expect(200);
    assert_eq!(done["status"], "accepted");
    let d = s.get(&format!("/api/v1/datasets/{did}"), &ds_t).await.expect(200);
    assert_eq!(d["columns"][0], json!({"name": "email", "classes": ["personal_data"]}));
    s.post(&format!("/api/v1/projects/{p}/proposals/{pid}/reject"), &owner_t, json!({})).await.problem(409, "conflict");
    let ev = s.get("/api/v1/audit/events?action=dataset.proposal-accepted", &admin).await.expect(200);
    assert_eq!(ev["items"][0]["event"]["data_classes"], json!(["personal_data"]));
    assert_eq!(s.get(&url, &ds_t).await.expect(200).as_array().unwrap().len(), 1);

    // Deleting from the catalog: owners only, never under a legal hold.
    let gone = format!("/api/v1/projects/{p}/datasets/{did}");
    s.delete(&gone, &ds_t).await.problem(403, "forbidden");
    s.put(&gone, &owner_t, json!({"legal_hold": "audit 2026"})).await.expect(200);
    assert_eq!(s.delete(&gone, &owner_t).await.problem(409, "conflict")["rule"], "datasets.legal-hold");
    s.put(&gone, &owner_t, json!({})).await.expect(200);
    assert_eq!(s.delete(&gone, &owner_t).await.status, 204);
    s.get(&format!("/api/v1/datasets/{did}"), &admin).await.problem(404, "not-found");
    // (To others, a dataset that no longer exists is one they may not read.)
    s.get(&format!("/api/v1/datasets/{did}"), &ds_t).await.problem(403, "forbidden");
}

both_engines!(retention_removes_dataset_content_warden_holds);
async fn retention_removes_dataset_content_warden_holds(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (owner, owner_t) = s.user(&admin, "owner").await;
    let p = s.project(&admin, "claims", Some(&owner)).await;
    let d = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &owner_t,
            json!({"namespace": "s3://lake", "name": "holdout", "retention_days": 30, "classes": ["public"]}),
        )
        .await
        .expect(201);
    let did = d["id"].as_str().unwrap().to_string();
    let upload = |bytes: &'static [u8]| {
        let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        let (sr, t, p) = (&s, owner_t.clone(), p.clone());
        async move {
            sr.http
                .put(format!("{}/api/v1/projects/{p}/blobs/{digest}", sr.url))
                .bearer_auth(&t)
                .body(bytes)
                .send()
                .await
                .unwrap();
            json!({"path": "holdout.csv", "digest": digest, "size": bytes.len()})
        }
    };
    let file = upload(b"id,amount\n1,10\n").await;
    let digest = file["digest"].as_str().unwrap().to_string();
    let body = json!({"kind": "evaluation-dataset", "name": "holdout", "files": [file], "dataset": did});
    let a = s.post(&format!("/api/v1/projects/{p}/artifacts"), &owner_t, body).await.expect(201);
    let bad =
        json!({"kind": "evaluation-dataset", "name": "x", "files": [], "dataset": "dst_01ARZ3NDEKTSV4RRFFQ69G5FAV"});
    s.post(&format!("/api/v1/projects/{p}/artifacts"), &owner_t, bad).await.problem(422, "validation-failed");
    let blob = format!("/api/v1/projects/{p}/blobs/{digest}");

    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 0, "not due yet");
    s.clock.advance(31 * 86_400);
    // A legal hold keeps it.
    s.put(
        &format!("/api/v1/projects/{p}/datasets/{did}"),
        &admin,
        json!({"classes": ["public"], "retention_days": 30, "legal_hold": "audit"}),
    )
    .await
    .expect(200);
    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 0);
    s.put(
        &format!("/api/v1/projects/{p}/datasets/{did}"),
        &admin,
        json!({"classes": ["public"], "retention_days": 30}),
    )
    .await
    .expect(200);
    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 1);
    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 0, "once");
    let gone = s.http.get(format!("{}{blob}", s.url)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(gone.status(), 404, "the content is gone");
    let ev = s.get("/api/v1/audit/events?action=retention.delete", &admin).await.expect(200);
    let e = &ev["items"][0]["event"];
    assert_eq!(e["resource"]["uid"], a["id"]);
    assert_eq!(e["detail"]["blobs_deleted"], json!([digest]));
    // The intake record stays: evidence is never rewritten.
    s.get(&format!("/api/v1/projects/{p}/artifacts/{}", a["id"].as_str().unwrap()), &admin).await.expect(200);
}

both_engines!(describing_a_dataset_changes_only_the_named_fields);
async fn describing_a_dataset_changes_only_the_named_fields(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let d = s
        .post(
            &format!("/api/v1/projects/{p}/datasets"),
            &alice_t,
            json!({"namespace": "s3://lake", "name": "claims", "classes": ["personal_data"], "residency": "eu-west",
                   "columns": [{"name": "email", "classes": ["personal_data"]}], "retention_days": 90,
                   "tags": {"team": "risk"}}),
        )
        .await
        .expect(201);
    let id = d["id"].as_str().unwrap();
    let path = format!("/api/v1/projects/{p}/datasets/{id}");
    let events = |action: &'static str| {
        let s = &s;
        let admin = admin.clone();
        async move {
            let found = s.get(&format!("/api/v1/audit/events?action={action}&limit=100"), &admin).await.expect(200);
            found["items"].as_array().unwrap().len()
        }
    };
    let classes_before = events("dataset.classes").await;

    // A hold: only the hold changes, and it is recorded as a hold, not a classification.
    let held = s.patch(&path, &alice_t, json!({"legal_hold": "litigation 2026-17"})).await.expect(200);
    assert_eq!(held["legal_hold"], "litigation 2026-17");
    for field in ["classes", "columns", "residency", "retention_days", "tags", "location", "namespace", "name"] {
        assert_eq!(held[field], d[field], "`{field}` changed");
    }
    assert_eq!(events("dataset.classes").await, classes_before);
    assert_eq!(events("dataset.legal-hold").await, 1);
    assert_eq!(
        s.get(&format!("/api/v1/datasets/{id}"), &alice_t).await.expect(200)["legal_hold"],
        "litigation 2026-17"
    );

    // A change of classes is a classification event of its own; the hold stays.
    let reclassified = s.patch(&path, &alice_t, json!({"classes": ["ephi"]})).await.expect(200);
    assert_eq!(
        (reclassified["classes"].clone(), reclassified["legal_hold"].clone()),
        (json!(["ephi"]), held["legal_hold"].clone())
    );
    assert_eq!(reclassified["residency"], "eu-west");
    assert_eq!(events("dataset.classes").await, classes_before + 1);

    // `null` clears a field: the hold is lifted, the residency removed.
    let lifted = s.patch(&path, &alice_t, json!({"legal_hold": null, "residency": null})).await.expect(200);
    assert!(
        lifted.get("legal_hold").is_none_or(Value::is_null) && lifted.get("residency").is_none_or(Value::is_null),
        "{lifted}"
    );
    assert_eq!(lifted["classes"], json!(["ephi"]));
    assert_eq!(events("dataset.legal-hold").await, 2);

    // Bad input changes nothing.
    let now = s.get(&format!("/api/v1/datasets/{id}"), &alice_t).await.expect(200);
    s.patch(&path, &alice_t, json!({"classes": ["no-such-class"]})).await.problem(422, "validation-failed");
    s.patch(&path, &alice_t, json!({"layer": "gold"})).await.problem(422, "validation-failed");
    s.patch(&path, &alice_t, json!({"name": "renamed"})).await.problem(400, "bad-request");
    s.patch(&path, &alice_t, json!({"classes": "ephi"})).await.problem(400, "bad-request");
    s.patch(&format!("/api/v1/projects/{p}/datasets/dst_01ARZ3NDEKTSV4RRFFQ69G5FAV"), &alice_t, json!({}))
        .await
        .problem(404, "not-found");
    assert_eq!(s.get(&format!("/api/v1/datasets/{id}"), &alice_t).await.expect(200), now);
    // The ledger is searched by the dataset's bare id as by `dataset:ID`.
    let bare = s.get(&format!("/api/v1/audit/events?resource={id}&limit=100"), &admin).await.expect(200);
    let typed = s.get(&format!("/api/v1/audit/events?resource=dataset:{id}&limit=100"), &admin).await.expect(200);
    assert_eq!(bare["items"], typed["items"]);
    assert!(bare["items"].as_array().unwrap().len() >= 3, "{bare}");
    s.get("/api/v1/audit/events?resource=claims&limit=100", &admin).await.problem(400, "invalid-parameter");
    // Only the project's people may change it.
    let (_, mallory_t) = s.user(&admin, "mallory").await;
    s.patch(&path, &mallory_t, json!({"legal_hold": null})).await.problem(403, "forbidden");
}
