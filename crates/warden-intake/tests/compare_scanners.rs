//! Warden against picklescan, modelscan and fickling on the generated corpus
//! (`tests/corpus`): every hostile file any of them flags, Warden must flag too (and
//! Warden must flag all of them, and pass every benign file). Benign files another
//! tool flags are printed, not failed: fickling's `--check-safety` flags any import
//! from outside the standard library in a plain pickle, torch's tensor rebuilders
//! included.
//!
//! Needs a Python with the three packages (all on PyPI):
//!
//! ```sh
//! python3 -m venv /tmp/scanners && /tmp/scanners/bin/pip install picklescan modelscan fickling typing_extensions
//! WARDEN_TEST_PICKLE_SCANNERS=/tmp/scanners/bin/python cargo test -p warden-intake --test compare_scanners -- --ignored --nocapture
//! ```
//!
//! `.ci/run` installs them into `.venv` and sets the variable. The tools are driven
//! through their Python APIs in one process (a CLI start per file would take minutes);
//! a file counts as flagged when the tool reports an issue (picklescan: issues found;
//! modelscan: issues found; fickling: `--check-safety` exits 1). Python's own
//! `pickletools.genops` also checks that every plain pickle of the corpus is
//! well-formed, so the corpus cannot drift into garbage that proves nothing.

mod corpus;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::process::Command;

use warden_intake::{scan_reader, Limits, Verdict};

const DRIVER: &str = r#"
import contextlib, io, json, logging, os, pickletools, sys, warnings
logging.disable(logging.CRITICAL)
warnings.filterwarnings("ignore")
from picklescan.scanner import scan_file_path
from modelscan.modelscan import ModelScan
from fickling.cli import main as fickling_main

def quiet(f):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        return f()

root = sys.argv[1]
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name)
    row = {"file": name}
    try:
        r = quiet(lambda: scan_file_path(path))
        row["picklescan"] = "flagged" if r.issues_count > 0 else ("error" if r.scan_err else "clean")
    except Exception as e:
        row["picklescan"] = "error: %r" % e
    try:
        r = quiet(lambda: ModelScan().scan(path))
        s = r["summary"]
        if s["total_issues"] > 0:
            row["modelscan"] = "flagged"
        elif r.get("errors"):
            row["modelscan"] = "error"
        elif s["skipped"]["total_skipped"]:
            row["modelscan"] = "skipped"
        else:
            row["modelscan"] = "clean"
    except Exception as e:
        row["modelscan"] = "error: %r" % e
    try:
        rc = quiet(lambda: fickling_main(["fickling", "--check-safety", path]))
        row["fickling"] = {0: "clean", 1: "flagged"}.get(rc, "error")
    except BaseException as e:
        row["fickling"] = "error: %r" % e
    if name.endswith(".pkl"):
        try:
            with open(path, "rb") as f:
                ops = list(pickletools.genops(f.read()))
            row["well_formed"] = bool(ops) and ops[-1][0].name == "STOP"
        except Exception as e:
            row["well_formed"] = "%r" % e
    print(json.dumps(row), flush=True)
"#;

const TOOLS: [&str; 3] = ["picklescan", "modelscan", "fickling"];

#[test]
#[ignore = "needs WARDEN_TEST_PICKLE_SCANNERS=<python with picklescan, modelscan, fickling>; .ci/run sets it"]
fn warden_flags_every_file_picklescan_modelscan_or_fickling_flags() {
    let python = std::env::var("WARDEN_TEST_PICKLE_SCANNERS").unwrap_or_else(|_| {
        panic!(
            "WARDEN_TEST_PICKLE_SCANNERS is not set: point it at a Python with picklescan, modelscan and fickling \
             installed (.ci/run does), e.g. WARDEN_TEST_PICKLE_SCANNERS=.venv/bin/python"
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir(&corpus_dir).unwrap();
    let mut samples = BTreeMap::new();
    for (hostile, list) in [(true, corpus::hostile()), (false, corpus::benign())] {
        for s in list {
            let name = format!("{}-{}", if hostile { "h" } else { "b" }, s.name);
            std::fs::write(corpus_dir.join(&name), &s.bytes).unwrap();
            samples.insert(name, (hostile, s));
        }
    }
    let driver = dir.path().join("driver.py");
    std::fs::write(&driver, DRIVER).unwrap();
    // (Run in the temporary folder: fickling writes `safety_results.json` where it runs.)
    let out = Command::new(&python)
        .arg(&driver)
        .arg(&corpus_dir)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(out.status.success(), "the driver failed: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), samples.len(), "the driver skipped files");

    // tool -> (hostile flagged, benign flagged, errors or skips)
    let mut tally: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let (mut warden_hostile, mut warden_benign) = (0, 0);
    let mut misses = Vec::new();
    let mut malformed = Vec::new();
    let mut only_warden = 0;
    // tool -> what it missed, by the sample's prefix/container and by its payload
    let mut missed_by: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for row in &rows {
        let name = row["file"].as_str().unwrap();
        let (hostile, s) = &samples[name];
        if let Some(w) = row.get("well_formed") {
            if w != &serde_json::Value::Bool(true) {
                malformed.push(format!("{name}: {w}"));
            }
        }
        let r = scan_reader(Cursor::new(&s.bytes), s.bytes.len() as u64, &s.name, &Limits::default());
        let warden = r.verdict == Verdict::Unsafe;
        if warden {
            if *hostile {
                warden_hostile += 1;
            } else {
                warden_benign += 1;
            }
        }
        let mut flagged_by = Vec::new();
        for tool in TOOLS {
            let v = row[tool].as_str().unwrap_or("error");
            let t = tally.entry(tool).or_default();
            if v == "flagged" {
                flagged_by.push(tool);
                if *hostile {
                    t.0 += 1;
                } else {
                    t.1 += 1;
                }
            } else if v != "clean" {
                t.2 += 1;
            }
            if v != "flagged" && *hostile {
                let (front, back) = s.name.split_once("--").unwrap_or((&s.name, ""));
                let payload = back.split('.').next().unwrap_or("");
                let m = missed_by.entry(tool).or_default();
                *m.entry(format!("first: {front}")).or_default() += 1;
                *m.entry(format!("payload: {payload}")).or_default() += 1;
            }
        }
        if !flagged_by.is_empty() && !warden && !*hostile {
            println!("benign {name}: flagged by {flagged_by:?}, Warden says {:?}", r.verdict);
        } else if !flagged_by.is_empty() && !warden {
            misses.push(format!("{name}: flagged by {flagged_by:?}, Warden says {:?}: {:?}", r.verdict, r.notes));
        }
        if flagged_by.is_empty() && warden && *hostile {
            only_warden += 1;
        }
    }
    let hostile_total = samples.values().filter(|(h, _)| *h).count();
    let benign_total = samples.len() - hostile_total;
    println!("corpus: {hostile_total} hostile, {benign_total} benign files");
    for (tool, (h, b, e)) in &tally {
        println!("{tool:>10}: flagged {h}/{hostile_total} hostile, {b}/{benign_total} benign; {e} errors or skips");
    }
    println!(
        "{:>10}: flagged {warden_hostile}/{hostile_total} hostile, {warden_benign}/{benign_total} benign",
        "warden"
    );
    println!("hostile files only Warden flags: {only_warden}");
    for (tool, m) in &missed_by {
        let mut v: Vec<_> = m.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = v.iter().take(12).map(|(k, n)| format!("{k} ({n})")).collect();
        println!("{tool} misses most: {}", top.join(", "));
    }
    assert!(malformed.is_empty(), "corpus pickles CPython's pickletools cannot parse:\n{}", malformed.join("\n"));
    for tool in TOOLS {
        assert!(tally.get(tool).is_some_and(|t| t.0 > 0), "{tool} flagged nothing: is it installed and working?");
    }
    assert!(
        misses.is_empty(),
        "{} files flagged by another scanner but not by Warden:\n{}",
        misses.len(),
        misses.join("\n")
    );
    assert_eq!(warden_hostile, hostile_total, "Warden must flag every hostile file");
    assert_eq!(warden_benign, 0, "Warden must pass every benign file");
}
