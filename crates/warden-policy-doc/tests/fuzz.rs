//! Property-based fuzzing (proptest, stable Rust) of warden-policy-doc' parsers of user text:
//! the policy document (`Document::parse`, behind `PUT /api/v1/policy` and
//! `warden policy check`) and users' allow/deny case files (`run_cases`).
//!
//! Inputs: arbitrary strings; strings made of YAML's structural pieces (indentation,
//! `- `, `[`, `{`, `:`, anchors, aliases, tags, quotes, document markers), up to far
//! past the nesting limit; and mutations of the shipped default document and of a
//! valid case file (bytes inserted, deleted, duplicated or swapped).
//!
//! Properties: nothing panics or overflows the stack (a document is read on a thread
//! with a 256 KiB stack, cases run with 1 MiB), every error carries a position (line
//! and column from 1), and every answer is quick.
//!
//! The default case count is small so that CI spends a few seconds here. A longer run:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p warden-policy-doc --test fuzz --release
//! ```

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config;
use warden_policy_doc::{run_cases, Document, Problems, DEFAULT};

/// 64 cases per property unless PROPTEST_CASES says otherwise; no regression files.
fn config() -> Config {
    let mut c = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    c
}

/// Every input here is at most a few hundred kilobytes: anything slower is a hang.
const BOUND: Duration = Duration::from_secs(10);

const CASES: &str = "\
- name: ePHI stays in the HIPAA zone
  zone: standard-ai
  classes: [ephi]
  expect: deny
  rule: data_classes.ephi.allowed_zones
- name: auditors change nothing
  action: project.create
  org_roles: [auditor]
  totp_enrolled: true
  expect: deny
- {name: approvers approve with MFA, action: release.approve, project_roles: [approver], mfa: true, expect: allow}
";

/// Runs `f` on a thread with a `kib` KiB stack, so that unbounded recursion overflows
/// (and fails the property) instead of depending on the test thread's stack.
fn on_stack<T: Send + 'static>(kib: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(kib * 1024).spawn(f).unwrap().join().unwrap()
}

/// Reading a document needs little stack; building a Cedar engine (to run cases, or to
/// check a parsed document compiles) needs more than 256 KiB unoptimised, so that part
/// runs with 1 MiB, half a tokio worker's stack, still far too little for the 5,000
/// levels of nesting that once overflowed one.
const SMALL: usize = 256;
const ENGINE: usize = 1024;

fn located(p: &Problems) -> Result<(), TestCaseError> {
    prop_assert!(!p.0.is_empty(), "an error without problems");
    for problem in &p.0 {
        prop_assert!(problem.line >= 1 && problem.column >= 1, "no position: {problem:?}");
        prop_assert!(!problem.message.is_empty(), "no message: {problem:?}");
    }
    Ok(())
}

/// Parses `text` as a policy document and as a case file; both must answer, quickly,
/// with located problems when they refuse.
fn check(text: String) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let for_cases = text.clone();
    let doc = on_stack(SMALL, move || Document::parse(&text));
    let doc = on_stack(ENGINE, move || {
        if let Ok(d) = &doc {
            // A document that parses also compiles to Cedar and diffs against itself.
            d.engine().unwrap();
            assert!(d.diff(d).is_empty());
        }
        doc
    });
    let cases = on_stack(ENGINE, move || {
        let default = Document::default_document().unwrap();
        run_cases(&default, &for_cases).map(|r| r.len())
    });
    prop_assert!(start.elapsed() < BOUND, "took {:?}", start.elapsed());
    if let Err(p) = &doc {
        located(p)?;
    }
    if let Err(p) = &cases {
        located(p)?;
    }
    Ok(())
}

/// One edit of a text, at a byte offset taken modulo its length (and moved back to a
/// character boundary).
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    /// Repeats the range `count` times.
    Repeat(usize, usize, usize),
    /// Swaps two lines.
    SwapLines(usize, usize),
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("- ".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(": ".to_string()),
        Just(", ".to_string()),
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("? ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!str ".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("#".to_string()),
        Just("|\n".to_string()),
        Just(">-\n".to_string()),
        Just("---\n".to_string()),
        Just("...\n".to_string()),
        Just("%YAML 1.2\n".to_string()),
        Just("~".to_string()),
        Just("é".to_string()),
        Just("\u{feff}".to_string()),
        Just("zones".to_string()),
        Just("region".to_string()),
        "[a-z_]{1,12}",
        "[0-9.]{1,5}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), piece()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..40, 2usize..200).prop_map(|(at, n, k)| Edit::Repeat(at, n, k)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = if text.is_empty() { 0 } else { at % (text.len() + 1) };
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut text: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Insert(at, s) => {
                let at = boundary(&text, *at);
                text.insert_str(at, s);
            }
            Edit::Delete(at, n) => {
                let a = boundary(&text, *at);
                let b = boundary(&text, a.saturating_add(*n).min(text.len()));
                text.replace_range(a..b.max(a), "");
            }
            Edit::Repeat(at, n, k) => {
                let a = boundary(&text, *at);
                let b = boundary(&text, a.saturating_add(*n).min(text.len())).max(a);
                let copy = text[a..b].repeat(*k);
                text.insert_str(b, &copy);
            }
            Edit::SwapLines(x, y) => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let (x, y) = (x % lines.len(), y % lines.len());
                lines.swap(x, y);
                text = lines.join("\n");
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        check(text)?;
    }

    #[test]
    fn yaml_shaped_text(pieces in prop::collection::vec(piece(), 0..200)) {
        check(pieces.concat())?;
    }

    #[test]
    fn deep_yaml_shaped_text(pieces in prop::collection::vec(piece(), 1..8), repeat in 1usize..20_000) {
        // A short pattern repeated: nesting far beyond the limit in every style.
        check(pieces.concat().repeat(repeat))?;
    }

    #[test]
    fn mutated_default_document(edits in prop::collection::vec(edit(), 1..8)) {
        check(apply(DEFAULT.to_string(), &edits))?;
    }

    #[test]
    fn mutated_case_file(edits in prop::collection::vec(edit(), 1..8)) {
        check(apply(CASES.to_string(), &edits))?;
    }
}

#[test]
fn the_seeds_are_valid() {
    Document::parse(DEFAULT).unwrap();
    let results = run_cases(&Document::default_document().unwrap(), CASES).unwrap();
    assert!(results.iter().all(|r| r.passed), "{results:#?}");
}
