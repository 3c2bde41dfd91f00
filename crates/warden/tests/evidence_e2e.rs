//! `warden evidence` and `warden quarantine` through the binary: answers saved with
//! `--out` verify offline with only the log's public key; an edited answer does not
//! (non-zero exit, a clear message); bad questions exit non-zero and say why.

mod common;

use common::{admin_with_project, Cli};

fn fails(cli: &Cli, args: &[&str], says: &str) {
    let out = cli.run(args, None);
    assert!(!out.ok, "warden {args:?} should fail: {}", out.stdout);
    assert!(out.stderr.contains(says), "warden {args:?}: expected `{says}` in: {}", out.stderr);
}

#[test]
fn evidence_verifies_offline_and_quarantine_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, cli, project) = admin_with_project(tmp.path(), "claims");
    let created = cli.json(&["dataset", "create", "s3://lake", "claims", "--project", &project, "--class", "public"]);
    let dataset = created["id"].as_str().unwrap().to_string();

    // Quarantine: placed, listed, refused twice, not lifted by whoever placed it.
    let placed = cli.json(&[
        "quarantine",
        "place",
        "--project",
        &project,
        "--dataset",
        "s3://lake/claims",
        "--reason",
        "suspected leak",
    ]);
    assert_eq!(placed[0]["target"], "dataset:s3://lake/claims");
    let listed = cli.ok(&["quarantine", "list", "--project", &project]);
    assert!(listed.contains("suspected leak") && listed.contains("open"), "{listed}");
    let what = ["--project", project.as_str(), "--dataset", "s3://lake/claims", "--reason", "x"];
    fails(&cli, &[&["quarantine", "place"][..], &what[..]].concat(), "already quarantined");
    fails(&cli, &[&["quarantine", "lift"][..], &what[..]].concat(), "someone else must lift it");
    fails(&cli, &["quarantine", "place", "--project", &project, "--model", "scorer", "--reason", "r"], "NAME@NUMBER");

    // Evidence: the dataset's handling and the log, saved and verified offline.
    let key = tmp.path().join("log.pub");
    std::fs::write(&key, cli.ok(&["audit", "public-key"])).unwrap();
    let answer = tmp.path().join("handling.json");
    let shown = cli.ok(&["evidence", "data-handling", "--dataset", &dataset, "--out", answer.to_str().unwrap()]);
    assert!(shown.contains("s3://lake/claims") && shown.contains("ledger entries cited"), "{shown}");
    let ok = cli.ok(&["evidence", "verify", answer.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert!(ok.starts_with("ok: the `data-handling` answer"), "{ok}");

    let log = tmp.path().join("log.json");
    let shown = cli.ok(&[
        "evidence",
        "log",
        "--from",
        "2000-01-01T00:00:00Z",
        "--subject",
        &project,
        "--out",
        log.to_str().unwrap(),
    ]);
    assert!(shown.contains("dataset.create") && shown.contains("quarantine.place"), "{shown}");
    cli.ok(&["evidence", "verify", log.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    let json = cli.json(&["evidence", "access", "--project", &project]);
    assert_eq!(json["format"], "warden-evidence/v1");
    assert!(!json["answer"]["holders"].as_array().unwrap().is_empty());

    // An edited answer does not verify, whichever part was edited.
    let text = std::fs::read_to_string(&log).unwrap();
    for (from, to) in
        [("quarantine.place", "quarantine.lift"), ("\"outcome\": \"success\"", "\"outcome\": \"failure\"")]
    {
        assert!(text.contains(from), "{from}");
        let edited = tmp.path().join("edited.json");
        std::fs::write(&edited, text.replacen(from, to, 1)).unwrap();
        fails(
            &cli,
            &["evidence", "verify", edited.to_str().unwrap(), "--key", key.to_str().unwrap()],
            "does NOT verify",
        );
    }
    fails(
        &cli,
        &["evidence", "verify", key.to_str().unwrap(), "--key", key.to_str().unwrap()],
        "not an evidence answer",
    );

    // A release manifest is checked offline too: a note signed by another key, or one
    // that is not a manifest, is refused.
    let forged = tmp.path().join("manifest.note");
    let other = warden_tlog::note::SigningKey::generate("warden.example/other").unwrap();
    std::fs::write(&forged, other.sign_note("{\"kind\":\"warden.release-manifest/v1\"}\n").unwrap()).unwrap();
    let k = key.to_str().unwrap();
    fails(&cli, &["release", "verify-manifest", forged.to_str().unwrap(), "--key", k], "does NOT verify");
    fails(&cli, &["release", "verify-manifest", log.to_str().unwrap(), "--key", k], "does NOT verify");

    // Nothing is due yet: the status says so and exits 0.
    let status = cli.ok(&["retention", "status"]);
    assert!(status.starts_with("KIND"), "{status}");

    // Bad questions: non-zero, saying why.
    fails(&cli, &["evidence", "data-access", "scorer", "--project", &project], "NAME@NUMBER");
    fails(&cli, &["evidence", "change", "rel_nope", "--project", &project], "release");
    fails(&cli, &["evidence", "log", "--from", "yesterday"], "RFC 3339");
    fails(&cli, &["evidence", "data-handling", "--dataset", "s3://lake/none"], "not found");
}
