//! End to end: the policy document through the real CLI and server: the shipped default
//! on a new data directory, `apply -f` with `--dry-run`, located errors and a non-zero
//! exit, history and rollback, `policy explain`, `policy test`, and a release refused by
//! the gate.

mod common;

use common::*;

const DOC: &str = "\
zones:
  standard-ai: {region: us-east}
  hipaa-ai: {region: us-east, ingress: private_only, egress: {default: deny}, require_signed_artifacts: true}
data_classes:
  public: {allowed_zones: [standard-ai, hipaa-ai]}
  ephi: {allowed_zones: [hipaa-ai], prohibit_external_llm_calls: true}
releases:
  default: {approvals: 1, approver_role: approver}
";

const CASES: &str = "\
- name: ePHI stays in the HIPAA zone
  zone: standard-ai
  classes: [ephi]
  expect: deny
  rule: data_classes.ephi.allowed_zones
- name: signed ePHI model may run in hipaa-ai
  zone: hipaa-ai
  classes: [ephi]
  expect: allow
";

#[test]
fn policy_documents_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("data"), None, Some(BOOTSTRAP));
    let cli = Cli { config_dir: tmp.path().join("cli") };
    cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
    let secret = cli.json(&["totp", "enrol"])["secret"].as_str().unwrap().to_string();
    cli.ok(&["totp", "confirm", &totp_code(&secret)]);

    // The shipped default is in force on a new data directory.
    let shown = cli.ok(&["policy", "show"]);
    assert!(shown.contains("regulated-ai-eu") && shown.contains("cardholder_data"), "{shown}");
    let compiled = cli.ok(&["policy", "show", "--compiled"]);
    assert!(compiled.contains("@id(\"zones.hipaa-ai.require_signed_artifacts\")"), "{compiled}");

    // A broken document: every problem with its line, a non-zero exit, nothing applied.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        DOC.replace("region: us-east}", "region: us-east, colour: red}")
            .replace("[hipaa-ai], prohibit", "[nowhere], prohibit"),
    )
    .unwrap();
    let out = cli.run(&["apply", "-f", bad.to_str().unwrap()], None);
    assert!(!out.ok);
    assert!(out.stderr.contains("2:34: zones.standard-ai.colour: unknown key `colour`"), "{}", out.stderr);
    assert!(out.stderr.contains("data_classes.ephi.allowed_zones[0]: unknown zone `nowhere`"), "{}", out.stderr);
    let out = cli.run(&["policy", "check", bad.to_str().unwrap()], None);
    assert!(!out.ok && out.stderr.contains("unknown zone"), "{}", out.stderr);

    // Dry run, then apply, then history and rollback.
    let good = tmp.path().join("policy.yaml");
    std::fs::write(&good, DOC).unwrap();
    assert!(cli.ok(&["policy", "check", good.to_str().unwrap()]).contains("valid (2 zones, 2 data classes"));
    let dry = cli.ok(&["apply", "-f", good.to_str().unwrap(), "--dry-run"]);
    assert!(dry.contains("- zones.pci-ai.region") && dry.contains("dry run"), "{dry}");
    let history = cli.json(&["policy", "history"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "a dry run applies nothing");
    let applied = cli.ok(&["apply", "-f", good.to_str().unwrap(), "--comment", "two zones"]);
    assert!(applied.contains("applied as version 2 (was 1)"), "{applied}");
    let back = cli.ok(&["policy", "rollback", "1", "--comment", "undo"]);
    assert!(back.contains("version 1 restored as version 3"), "{back}");
    cli.ok(&["apply", "-f", good.to_str().unwrap()]);
    let table = cli.ok(&["policy", "history"]);
    assert!(table.starts_with("VERSION") && table.contains("two zones") && table.contains("undo"), "{table}");

    // Explain and users' own cases.
    let why = cli.run(&["policy", "explain", "--zone", "standard-ai", "--class", "ephi", "--signed"], None);
    assert!(
        why.ok && why.stdout.starts_with("DENIED") && why.stdout.contains("data_classes.ephi.allowed_zones"),
        "{}",
        why.stdout
    );
    let cases = tmp.path().join("cases.yaml");
    std::fs::write(&cases, CASES).unwrap();
    let ran = cli.ok(&["policy", "test", cases.to_str().unwrap()]);
    assert!(ran.contains("2 case(s) passed"), "{ran}");
    let offline = cli.ok(&["policy", "test", cases.to_str().unwrap(), "--policy", good.to_str().unwrap()]);
    assert!(offline.contains("2 case(s) passed"), "{offline}");
    std::fs::write(&cases, CASES.replace("expect: deny", "expect: allow")).unwrap();
    let failing = cli.run(&["policy", "test", cases.to_str().unwrap()], None);
    assert!(
        !failing.ok && failing.stdout.contains("FAIL ePHI stays") && failing.stderr.contains("1 of 2"),
        "{}",
        failing.stdout
    );

    // A model version pushed with its class and zones; the gate names the failing rule.
    let project = cli.json(&["project", "create", "scoring"]);
    let pid = project["id"].as_str().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("weights.bin.txt"), "not really weights").unwrap();
    cli.ok(&[
        "model",
        "push",
        dir.to_str().unwrap(),
        "--name",
        "scorer",
        "--project",
        pid,
        "--zone",
        "hipaa-ai",
        "--zone",
        "standard-ai",
        "--data-class",
        "ephi",
    ]);
    let refused = cli.run(
        &["release", "create", "--model", "scorer@1", "--zone", "hipaa-ai", "--reason", "go live", "--project", pid],
        None,
    );
    assert!(
        !refused.ok && refused.stderr.contains("[rule zones.hipaa-ai.require_signed_artifacts]"),
        "{}",
        refused.stderr
    );
    let why = cli.ok(&["policy", "explain", "--zone", "hipaa-ai", "--project", pid, "--model", "scorer@1"]);
    assert!(why.starts_with("DENIED") && why.contains("signed false"), "{why}");
    cli.ok(&["model", "evaluate", "scorer@1", "--metric", "auc=0.93", "--project", pid]);
    let evals = cli.json(&["model", "evaluations", "scorer@1", "--project", pid]);
    assert_eq!((evals[0]["seq"].as_u64(), evals[0]["metrics"]["auc"].as_f64()), (Some(1), Some(0.93)), "{evals}");

    // Access questions: why may (or may not) someone act?
    let me = cli.json(&["whoami"]);
    let admin_id = me["id"].as_str().unwrap();
    let why = cli.ok(&["policy", "explain", "--action", "release.approve", "--subject", "admin", "--project", pid]);
    assert!(why.starts_with("DENIED") && why.contains("release-approvals-need-mfa"), "{why}");
    let why = cli.ok(&["policy", "explain", "--action", "project.create", "--subject", admin_id, "--mfa"]);
    assert!(why.starts_with("ALLOWED") && why.contains("platform-admin"), "{why}");
    assert!(cli.json(&["release", "list", "--project", pid]).as_array().unwrap().is_empty());

    // Dataset scans: a local sample in CSV, JSON Lines and Parquet; proposals carry
    // counts, never values; the owner accepts. (Back to the default policy, whose
    // classes include personal and cardholder data.)
    cli.ok(&["policy", "rollback", "1", "--comment", "default classes"]);
    let ds = cli.json(&["dataset", "create", "s3://lake", "customers", "--project", pid]);
    let did = ds["id"].as_str().unwrap();
    let rows: Vec<(String, String)> = (0..20)
        .map(|i| {
            (format!("user{i}@example.org"), if i % 2 == 0 { "4111 1111 1111 1111".into() } else { "none".into() })
        })
        .collect();
    let csv_path = tmp.path().join("customers.csv");
    let mut csv = String::from("email,card,comment\n");
    for (e, c) in &rows {
        csv.push_str(&format!("{e},{c},likes the product\n"));
    }
    std::fs::write(&csv_path, csv).unwrap();
    let local = cli.ok(&["dataset", "scan", csv_path.to_str().unwrap()]);
    assert!(local.contains("20 rows scanned (nothing was sent)"), "{local}");
    let proposal = cli.json(&["dataset", "scan", csv_path.to_str().unwrap()]);
    let by_name = |p: &serde_json::Value, n: &str| {
        p["columns"].as_array().unwrap().iter().find(|c| c["name"] == n).unwrap().clone()
    };
    assert_eq!(by_name(&proposal, "email")["classes"], serde_json::json!(["personal_data"]));
    assert_eq!(by_name(&proposal, "email")["counts"]["EMAIL"], 20);
    assert_eq!(by_name(&proposal, "card")["classes"], serde_json::json!(["cardholder_data"]));
    assert_eq!(by_name(&proposal, "comment")["classes"], serde_json::json!([]));
    let jsonl = tmp.path().join("customers.jsonl");
    let lines: Vec<String> = rows.iter().map(|(e, _)| serde_json::json!({"contact": e, "n": 1}).to_string()).collect();
    std::fs::write(&jsonl, lines.join("\n")).unwrap();
    let p = cli.json(&["dataset", "scan", jsonl.to_str().unwrap()]);
    assert_eq!(by_name(&p, "contact")["classes"], serde_json::json!(["personal_data"]));
    let pq = tmp.path().join("customers.parquet");
    write_parquet(&pq, &rows);
    let p = cli.json(&["dataset", "scan", pq.to_str().unwrap()]);
    assert_eq!(by_name(&p, "email")["classes"], serde_json::json!(["personal_data"]), "{p}");
    assert_eq!(by_name(&p, "card")["classes"], serde_json::json!(["cardholder_data"]));
    let garbage = tmp.path().join("broken.parquet");
    std::fs::write(&garbage, "not parquet at all").unwrap();
    let bad = cli.run(&["dataset", "scan", garbage.to_str().unwrap()], None);
    assert!(!bad.ok && bad.stderr.contains("not a readable Parquet file"), "{}", bad.stderr);

    let submitted =
        cli.json(&["dataset", "scan", csv_path.to_str().unwrap(), "--dataset", did, "--project", pid, "--submit"]);
    let prop_id = submitted["id"].as_str().unwrap();
    assert_eq!(submitted["status"], "pending");
    let accepted = cli.json(&["dataset", "accept", prop_id, "--project", pid]);
    assert_eq!(accepted["status"], "accepted");
    let shown = cli.json(&["dataset", "show", did]);
    let email = shown["columns"].as_array().unwrap().iter().find(|c| c["name"] == "email").unwrap();
    assert_eq!(email["classes"], serde_json::json!(["personal_data"]));
    let again = cli.run(&["dataset", "reject", prop_id, "--project", pid], None);
    assert!(!again.ok && again.stderr.contains("already"), "{}", again.stderr);

    // `describe` changes only what it names: a hold keeps the classes.
    cli.ok(&["dataset", "describe", did, "--project", pid, "--legal-hold", "case 2026-17"]);
    let held = cli.json(&["dataset", "show", did]);
    assert_eq!(held["legal_hold"], "case 2026-17");
    assert_eq!(held["columns"], shown["columns"], "the classes stay");
    assert!(cli.ok(&["dataset", "show", did]).contains("case 2026-17"), "the table shows the hold");
    for bad in [
        vec!["dataset", "describe", did, "--project", pid],
        vec!["dataset", "describe", did, "--project", pid, "--legal-hold", "x", "--lift-legal-hold"],
    ] {
        let refused = cli.run(&bad, None);
        assert!(!refused.ok, "{bad:?}");
    }
    cli.ok(&["dataset", "describe", did, "--project", pid, "--lift-legal-hold"]);
    let lifted = cli.json(&["dataset", "show", did]);
    assert!(lifted["legal_hold"].is_null() && lifted["columns"] == shown["columns"], "{lifted}");
}

fn write_parquet(path: &std::path::Path, rows: &[(String, String)]) {
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type(
            "message customers { REQUIRED BYTE_ARRAY email (UTF8); REQUIRED BYTE_ARRAY card (UTF8); }",
        )
        .unwrap(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut i = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        let values: Vec<ByteArray> =
            rows.iter().map(|(e, c)| ByteArray::from(if i == 0 { e.as_str() } else { c.as_str() })).collect();
        col.typed::<ByteArrayType>().write_batch(&values, None, None).unwrap();
        col.close().unwrap();
        i += 1;
    }
    rg.close().unwrap();
    w.close().unwrap();
}

/// `warden policy check` offline on absurdly nested documents (block and flow style,
/// 30,000 and 100,000 levels): a clear error naming the limit and where it was crossed,
/// never a crash.
#[test]
fn deeply_nested_documents_are_refused_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli { config_dir: tmp.path().join("cli") };
    for (name, text) in [
        ("block.yaml", format!("zones:\n{}x\n", "- ".repeat(30_000))),
        ("flow.yaml", format!("zones: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = cli.run(&["policy", "check", path.to_str().unwrap()], None);
        assert!(!out.ok, "{name}: {}", out.stdout);
        assert!(out.stderr.contains("nesting deeper than 64 levels"), "{name}: {}", out.stderr);
    }
}
