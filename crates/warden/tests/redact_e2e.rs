//! `warden redact` with the real binary: text in, redacted text out; and detection
//! quality, scored by the shared scorer, on the shared synthetic PII corpus (no
//! regression: 0.98 and more) and on the development corpus this repository
//! generates from its own templates (`bench/pii/devcorpus.py`). Both are ignored
//! tests: `.ci/run` generates the corpora, sets `WARDEN_TEST_PII_CORPUS`,
//! `WARDEN_TEST_DEV_CORPUS` and `WARDEN_TEST_PII_SCORER`, and runs the ignored tests.

mod common;

use common::Cli;

fn cli() -> (tempfile::TempDir, Cli) {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli { config_dir: tmp.path().to_path_buf() };
    (tmp, cli)
}

#[test]
fn redacts_text_from_stdin() {
    let (tmp, cli) = cli();
    let text =
        "Patient José García (DOB 1980-02-29), card 4111 1111 1111 1111, mail jose@example.org or jose@example.org.";
    let out = cli.run(&["redact"], Some(text));
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout, "Patient [PERSON_1] (DOB [DOB_1]), card [CARD_1], mail [EMAIL_1] or [EMAIL_1].");
    assert!(out.stderr.contains("EMAIL=2") && out.stderr.contains("CARD=1"), "{}", out.stderr);

    let dropped =
        cli.run(&["redact", "--mode", "drop", "--pattern", r"MRN=\bMRN-\d{8}\b"], Some("chart MRN-12345678 ok"));
    assert_eq!(dropped.stdout, "chart  ok");
    let key = tmp.path().join("key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let a = cli.run(&["redact", "--mode", "hash", "--key-file", key.to_str().unwrap()], Some("jane@example.org"));
    let b = cli.run(&["redact", "--mode", "hash", "--key-file", key.to_str().unwrap()], Some("jane@example.org"));
    assert!(a.stdout.starts_with("[EMAIL:") && a.stdout == b.stdout, "{}", a.stdout);

    // Bad input: a clear message and a non-zero exit.
    for (args, says) in [
        (vec!["redact", "--mode", "shred"], "mask, hash or drop"),
        (vec!["redact", "--mode", "hash"], "--key-file"),
        (vec!["redact", "--pattern", "nameless"], "NAME=REGEX"),
        (vec!["redact", "--pattern", "BAD=("], "BAD"),
        (vec!["redact", "--threshold", "paranoid"], "low, medium or high"),
    ] {
        let o = cli.run(&args, Some("x"));
        assert!(!o.ok && o.stderr.contains(says), "{args:?}: {}", o.stderr);
    }
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": 1, \"text\": \"ok\"}\nnot json\n").unwrap();
    let o = cli.run(&["redact", "--jsonl", bad.to_str().unwrap()], None);
    assert!(!o.ok && o.stderr.contains("line 2"), "{}", o.stderr);
}

#[test]
fn jsonl_offsets_are_characters() {
    let (tmp, cli) = cli();
    let docs = tmp.path().join("docs.jsonl");
    std::fs::write(&docs, "{\"id\": \"d1\", \"text\": \"Grüße an Zoë Müller: zoe@example.org\"}\n").unwrap();
    let out = cli.ok(&["redact", "--jsonl", docs.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["id"], "d1");
    let spans = v["spans"].as_array().unwrap();
    let text: Vec<char> = "Grüße an Zoë Müller: zoe@example.org".chars().collect();
    let got: Vec<(String, &str)> = spans
        .iter()
        .map(|s| {
            let (a, b) = (s["start"].as_u64().unwrap() as usize, s["end"].as_u64().unwrap() as usize);
            (text[a..b].iter().collect(), s["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(got, vec![("Zoë Müller".to_string(), "PERSON"), ("zoe@example.org".to_string(), "EMAIL_ADDRESS")]);
}

/// Scores `warden redact --jsonl` on `corpus` with the shared scorer: the report.
fn score(corpus: &str) -> serde_json::Value {
    let scorer = std::env::var("WARDEN_TEST_PII_SCORER")
        .expect("WARDEN_TEST_PII_SCORER must name the shared scorer (bench/pii/score.py) for this test");
    let (tmp, cli) = cli();
    let pred = tmp.path().join("pred.jsonl");
    cli.ok(&["redact", "--jsonl", corpus, "--out", pred.to_str().unwrap()]);
    let report = tmp.path().join("score.json");
    let python = std::env::var("WARDEN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let status = std::process::Command::new(python)
        .args([&scorer, "--gold", corpus, "--pred", pred.to_str().unwrap(), "--json", report.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    r["results"][0].clone()
}

fn f1(r: &serde_json::Value, t: &str) -> f64 {
    r["per_type"][t]["exact_prf"][2].as_f64().unwrap_or(0.0)
}

#[test]
#[ignore = "needs WARDEN_TEST_PII_CORPUS and WARDEN_TEST_PII_SCORER (the shared PII corpus and scorer); .ci/run sets them and runs ignored tests"]
fn quality_on_the_shared_corpus_does_not_regress() {
    let corpus = std::env::var("WARDEN_TEST_PII_CORPUS")
        .expect("WARDEN_TEST_PII_CORPUS must name the shared synthetic PII corpus (JSON Lines) for this test");
    let r = score(&corpus);
    let all = &r["per_type"]["ALL(micro)"]["exact_prf"];
    let (p, rc) = (all[0].as_f64().unwrap(), all[1].as_f64().unwrap());
    eprintln!("shared corpus: precision {p}, recall {rc} (exact spans), leak rate {}", r["leak_rate"]);
    assert!(p >= 0.98 && rc >= 0.98, "precision {p}, recall {rc}: below 0.98");
    for t in r["per_type"].as_object().unwrap().keys() {
        assert!(f1(&r, t) >= 0.98, "{t}: F1 {}", f1(&r, t));
    }
}

#[test]
#[ignore = "needs WARDEN_TEST_DEV_CORPUS (bench/pii/devcorpus.py's output) and WARDEN_TEST_PII_SCORER; .ci/run sets them and runs ignored tests"]
fn quality_on_the_development_corpus() {
    let corpus = std::env::var("WARDEN_TEST_DEV_CORPUS")
        .expect("WARDEN_TEST_DEV_CORPUS must name the development corpus (bench/pii/devcorpus.py --out …)");
    let r = score(&corpus);
    let leak = r["leak_rate"].as_f64().unwrap();
    let micro = f1(&r, "ALL(micro)");
    eprintln!("development corpus: micro F1 {micro} (exact spans), leak rate {leak}");
    // Floors a little under today's figures (bench/pii/score.sh prints them): a
    // change that loses ground on unfamiliar text fails here.
    assert!(leak <= 0.14, "leak rate {leak}");
    assert!(micro >= 0.85, "micro F1 {micro}");
    for (t, floor) in [
        ("PERSON", 0.87),
        ("EMAIL_ADDRESS", 0.97),
        ("PHONE_NUMBER", 0.92),
        ("US_SSN", 0.96),
        ("CREDIT_CARD", 0.97),
        ("IBAN_CODE", 0.94),
        ("IP_ADDRESS", 0.98),
        ("DATE_TIME", 0.9),
        ("URL", 0.96),
        ("AGE", 0.9),
        ("VIN", 0.97),
        ("PL_PESEL", 0.97),
        ("FR_NIR", 0.97),
        ("DE_TAX_ID", 0.97),
        ("IT_FISCAL_CODE", 0.93),
    ] {
        assert!(f1(&r, t) >= floor, "{t}: F1 {} below {floor}", f1(&r, t));
    }
}
