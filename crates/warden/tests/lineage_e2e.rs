//! End to end: the official `openlineage-python` client sends events to the real binary
//! (HTTP transport, Warden token as API key); the CLI reads the catalog and the graph.
//! Ignored unless run with `--ignored`; then `WARDEN_TEST_OPENLINEAGE_PYTHON` must name a
//! Python with the package (`.ci/run` installs it and runs the ignored tests).

mod common;

use std::process::Command;

use common::*;

const RUN: &str = "3f5e83fa-3480-44ff-99c5-ff943904e5e8";

#[test]
#[ignore = "needs WARDEN_TEST_OPENLINEAGE_PYTHON (a Python with openlineage-python); .ci/run sets it and runs ignored tests"]
fn openlineage_python_client_feeds_the_catalog_and_graph() {
    let python = std::env::var_os("WARDEN_TEST_OPENLINEAGE_PYTHON")
        .expect("WARDEN_TEST_OPENLINEAGE_PYTHON must name a Python with openlineage-python for this test");
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("data"), None, Some(BOOTSTRAP));
    let cli = Cli { config_dir: tmp.path().join("cli") };
    cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
    let secret = cli.json(&["totp", "enrol"])["secret"].as_str().unwrap().to_string();
    cli.ok(&["totp", "confirm", &totp_code(&secret)]);
    let project = cli.json(&["project", "create", "claims"]);
    let pid = project["id"].as_str().unwrap().to_string();
    cli.ok(&[
        "dataset",
        "create",
        "postgres://db:5432",
        "claims.raw",
        "--project",
        &pid,
        "--layer",
        "raw",
        "--residency",
        "eu-west",
        "--column-class",
        "ssn=personal_data",
    ]);
    let svc = cli.json(&["service", "create", "airflow"]);
    let svc_id = svc["id"].as_str().unwrap();
    cli.ok(&["project", "add-member", &pid, "--member", svc_id, "--role", "service"]);
    let token = cli.json(&["service", "token", svc_id, "--project", &pid, "--role", "service"]);
    let key = token["secret"].as_str().unwrap();

    let script = format!("{}/tests/lineage/emit.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&python).args([&script, &server.url, key, RUN]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.trim() == "ok", "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));

    // The output and the DatasetEvent's dataset are catalogued, unclassified.
    let found = cli.json(&["dataset", "list", "--unclassified"]);
    let mut names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["features/claims", "reference/countries"]);
    let table = cli.ok(&["dataset", "list"]);
    assert!(table.contains("claims.raw") && table.contains("personal_data"), "{table}");

    // The graph, downstream from the raw table and upstream from the features.
    let down = cli.json(&["lineage", "graph", "dataset:postgres://db:5432/claims.raw", "--direction", "downstream"]);
    let nodes: Vec<&str> = down["nodes"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(
        nodes,
        ["dataset:postgres://db:5432/claims.raw", &format!("run:{RUN}"), "dataset:s3://lake/features/claims"]
    );
    let up = cli.ok(&["lineage", "graph", "dataset:s3://lake/features/claims"]);
    assert!(up.contains("claims.raw") && up.contains("personal_data"), "{up}");

    // Findings, and a deletion request walked down the graph, through the CLI.
    let findings = cli.ok(&["findings"]);
    assert!(findings.contains("unclassified data in use: 1") && findings.contains("features/claims"), "{findings}");
    let raw =
        cli.json(&["dataset", "list"])["items"].as_array().unwrap().iter().find(|d| d["name"] == "claims.raw").unwrap()
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let request =
        cli.json(&["deletion", "request", "--dataset", &raw, "--subject", "customer-4711", "--reason", "Art. 17"]);
    assert_eq!(request["tasks"].as_array().unwrap().len(), 2, "{request}");
    let id = request["id"].as_str().unwrap();
    let report = cli.ok(&["deletion", "report"]);
    assert!(report.starts_with("REQUEST") && report.contains("features/claims"), "{report}");
    for seq in ["1", "2"] {
        cli.ok(&["deletion", "close", id, seq, "--evidence", "purged by job 42"]);
    }
    assert!(cli.ok(&["deletion", "show", id]).contains("(complete)"));
}
