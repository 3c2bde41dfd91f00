//! Property-based fuzzing (proptest, stable Rust) of every parser of untrusted input in
//! warden-intake: the pickle walker, the scanner (arbitrary bytes, bytes behind each
//! magic number, and mutated hostile pickles, plain and nested in zip archives and
//! zlib streams), safetensors headers, model-signing bundles and manifests.
//!
//! Properties: nothing panics, every input is answered in bounded time, and a mutated
//! hostile pickle that still imports a dangerous name (as the walker reads it from the
//! first byte) is never judged anything but unsafe.
//!
//! The default case count is small so that CI spends a few seconds here. A longer run:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p warden-intake --test fuzz --release
//! ```

mod corpus;

use std::io::Cursor;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config;
use warden_intake::manifest::{check_path, FileEntry, Manifest};
use warden_intake::pickle::{walk, walk_partial, PickleLimits};
use warden_intake::{scan_reader, Limits, Report, Verdict};

/// 64 cases per property unless PROPTEST_CASES says otherwise; no regression files.
fn config() -> Config {
    let mut c = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    c
}

/// Every input here is at most a few kilobytes: anything slower than this is a hang.
const BOUND: Duration = Duration::from_secs(5);

fn scan(bytes: &[u8], name: &str) -> Report {
    let start = Instant::now();
    let r = scan_reader(Cursor::new(bytes), bytes.len() as u64, name, &Limits::default());
    assert!(start.elapsed() < BOUND, "{name}: {} bytes took {:?}", bytes.len(), start.elapsed());
    r
}

/// Whether the walker, reading from the first byte, meets a dangerous import.
fn imports_danger(bytes: &[u8]) -> Option<String> {
    let (w, _) = walk_partial(bytes, PickleLimits::default());
    w.imports
        .iter()
        .find(|i| corpus::TARGETS.iter().any(|(m, n)| i.module == *m && i.name == *n))
        .map(|i| i.to_string())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let len = v.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if let Some(x) = v.get_mut(i % len) {
                    *x = *b;
                }
            }
            Mutation::Insert(i, b) => {
                let at = i % (v.len() + 1);
                v.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(v.len());
                if at < end {
                    v.drain(at..end);
                }
            }
            Mutation::Truncate(i) => v.truncate(i % len),
        }
    }
    v
}

fn hostile_sample() -> impl Strategy<Value = corpus::Sample> {
    let all = corpus::hostile_pickles();
    (0..all.len()).prop_map(move |i| all[i].clone())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_walker_answers_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let start = Instant::now();
        let _ = walk(&bytes[..], PickleLimits::default());
        let tight = PickleLimits { max_depth: 4, max_stack: 8, max_memo: 4, max_memo_bytes: 64, ..PickleLimits::default() };
        let _ = walk(&bytes[..], tight);
        prop_assert!(start.elapsed() < BOUND);
    }

    #[test]
    fn the_walker_answers_opcode_soup(ops in prop::collection::vec(
        prop::sample::select(b"().012IFLSVPQJKMGN}])tdlseuabRocihpqrgj\x80\x81\x82\x85\x86\x87\x88\x89\x8a\x8c\x8f\x90\x91\x92\x93\x94\x95\x97\x98\n'a\x00\x01\x02".to_vec()),
        0..512,
    )) {
        let start = Instant::now();
        let _ = walk(&ops[..], PickleLimits::default());
        let _ = scan(&ops, "soup.pkl");
        prop_assert!(start.elapsed() < BOUND);
    }

    #[test]
    fn the_scanner_answers_any_bytes(
        magic in prop::sample::select(vec![
            &b""[..], b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b\x08", b"x\x9c", b"x^", b"GGUF\x03\x00\x00\x00",
            b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\x80\x04\x95", b"\x80\x02", b"\x08\x08\x12", b"{", b"(", b"c",
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..2048),
        name in prop::sample::select(vec!["m.pkl", "m.safetensors", "m.pt", "m.json", "m.onnx", "m.gguf", "m.py"]),
    ) {
        let bytes = [magic, &tail[..]].concat();
        let r = scan(&bytes, name);
        if r.verdict == Verdict::Unknown {
            prop_assert!(!r.notes.is_empty(), "an unknown verdict says why: {:?}", r);
        }
    }

    #[test]
    fn mutated_hostile_pickles_are_never_safe_while_they_import_danger(
        s in hostile_sample(),
        ms in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutate(s.bytes.clone(), &ms);
        let r = scan(&bytes, &s.name);
        if let Some(imp) = imports_danger(&bytes) {
            prop_assert_eq!(r.verdict, Verdict::Unsafe, "{} mutated still imports {}: {:?}", s.name, imp, r);
        }
    }

    #[test]
    fn mutated_hostile_pickles_in_archives_and_streams_are_never_safe(
        s in hostile_sample(),
        ms in prop::collection::vec(mutation(), 1..3),
        member in prop::sample::select(vec!["archive/data.pkl", "archive/data/0", "x"]),
    ) {
        let inner = mutate(s.bytes.clone(), &ms);
        let danger = imports_danger(&inner);
        let archive = corpus::zip_of(&[(member, &inner[..]), ("archive/version", b"3\n")]);
        let r = scan(&archive, "m.pt");
        let z = scan(&corpus::zlib(&inner), "m.joblib");
        if let Some(imp) = danger {
            prop_assert_eq!(r.verdict, Verdict::Unsafe, "{} in a zip still imports {}: {:?}", s.name, imp, r);
            prop_assert_eq!(z.verdict, Verdict::Unsafe, "{} in zlib still imports {}: {:?}", s.name, imp, z);
        }
    }

    #[test]
    fn mutated_archives_are_answered(ms in prop::collection::vec(mutation(), 1..6)) {
        let sd = corpus::benign_state_dict();
        let archive = corpus::zip_of(&[("archive/data.pkl", &sd[..]), ("archive/data/0", &corpus::storage())]);
        let _ = scan(&mutate(archive, &ms), "m.pt");
        let _ = scan(&mutate(corpus::gzip(&sd), &ms), "m.joblib");
    }

    #[test]
    fn safetensors_headers_are_answered(
        header in prop_oneof![
            any::<String>(),
            "\\{(\"[a-z]{1,3}\":\\{\"dtype\":\"(F32|U8|BF16|X)\",\"shape\":\\[[0-9,]{0,9}\\],\"data_offsets\":\\[[0-9]{1,3},[0-9]{1,3}\\]\\},?){0,4}\\}",
            (1usize..300).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        ],
        data in 0usize..512,
        lie in prop::option::of(any::<u64>()),
    ) {
        let mut f = lie.unwrap_or(header.len() as u64).to_le_bytes().to_vec();
        f.extend_from_slice(header.as_bytes());
        f.extend(std::iter::repeat_n(0u8, data));
        let start = Instant::now();
        let _ = warden_intake::safetensors::validate(&f[..], f.len() as u64);
        let _ = scan(&f, "m.safetensors");
        prop_assert!(start.elapsed() < BOUND);
    }

    #[test]
    fn model_signing_bundles_are_answered(
        ms in prop::collection::vec(mutation(), 0..6),
        depth in 0usize..400,
    ) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model_signing");
        let bundle = std::fs::read(dir.join("model.sig")).unwrap();
        let pem = std::fs::read_to_string(dir.join("pub.pem")).unwrap();
        let key = warden_intake::signature::PublicKey::from_pem(warden_intake::signature::Algorithm::EcdsaP256, &pem).unwrap();
        let start = Instant::now();
        let _ = warden_intake::model_signing::verify(&mutate(bundle, &ms), std::slice::from_ref(&key));
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        prop_assert!(warden_intake::model_signing::verify(deep.as_bytes(), &[key]).is_err());
        prop_assert!(start.elapsed() < BOUND);
    }

    #[test]
    fn manifests_accept_only_clean_paths(
        paths in prop::collection::vec("[a-zA-Z0-9._/\\\\:\u{0}\u{7f} -]{0,24}", 1..12),
        hexes in prop::collection::vec("[0-9a-fA-F]{60,68}", 1..12),
    ) {
        for p in &paths {
            if let Ok(ok) = check_path(p) {
                prop_assert!(!ok.starts_with('/') && !ok.contains('\\') && !ok.split('/').any(|s| s.is_empty() || s == "." || s == ".."));
            }
        }
        let files: Vec<FileEntry> = paths
            .iter()
            .zip(hexes.iter().cycle())
            .map(|(p, h)| FileEntry { path: p.clone(), digest: format!("sha256:{h}"), size: 1 })
            .collect();
        if let Ok(m) = Manifest::new(files) {
            let back: serde_json::Value = serde_json::from_str(&m.canonical()).unwrap();
            prop_assert_eq!(back["files"].as_array().map(Vec::len), Some(m.files.len()));
            prop_assert!(m.files.windows(2).all(|w| w[0].path < w[1].path));
        }
    }
}
