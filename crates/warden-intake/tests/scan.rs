//! The scanner against real pickles made by CPython (`tests/fixtures/make.py`), archives
//! and bombs built here, and malformed input.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use warden_intake::pickle::{walk, PickleError, PickleLimits};
use warden_intake::{scan_file, scan_reader, Format, Limits, Verdict};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn scan(name: &str) -> warden_intake::Report {
    scan_file(&fixture(name), &Limits::default()).unwrap()
}

#[test]
fn plain_and_allow_listed_pickles_are_safe() {
    let r = scan("plain_p4.pkl");
    assert_eq!((r.format, r.verdict), (Format::Pickle, Verdict::Safe), "{r:?}");
    assert!(r.imports.is_empty());
    let r = scan("ordered_p2.pkl");
    assert_eq!(r.verdict, Verdict::Safe, "{r:?}");
    assert_eq!(r.imports.iter().collect::<Vec<_>>(), vec!["collections.OrderedDict"]);
}

#[test]
fn code_execution_is_unsafe_in_every_protocol() {
    for (file, import) in
        [("os_system_p0.pkl", "posix.system"), ("os_system_p4.pkl", "posix.system"), ("eval_p5.pkl", "builtins.eval")]
    {
        let r = scan(file);
        assert_eq!(r.verdict, Verdict::Unsafe, "{file}: {r:?}");
        assert!(r.imports.contains(import), "{file}: {:?}", r.imports);
        assert!(r.reasons.iter().any(|x| x.contains(import)), "{file}: {:?}", r.reasons);
    }
}

#[test]
fn pytorch_archives_are_opened_and_their_pickles_scanned() {
    let r = scan("safe_model.pt");
    assert_eq!((r.format, r.verdict), (Format::ZipArchive, Verdict::Safe), "{r:?}");
    assert_eq!(r.pickles, vec!["safe_model.pt:archive/data.pkl"]);
    let r = scan("evil_model.pt");
    assert_eq!(r.verdict, Verdict::Unsafe);
    assert!(r.reasons[0].contains("evil_model.pt:archive/data.pkl: imports posix.system, which runs system commands"));
}

#[test]
fn compressed_joblib_pickles_are_scanned() {
    let raw = std::fs::read(fixture("os_system_p4.pkl")).unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let data = z.finish().unwrap();
    let r = scan_reader(Cursor::new(&data), data.len() as u64, "model.joblib", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::CompressedPickle, Verdict::Unsafe), "{r:?}");
}

#[test]
fn zip_bombs_are_refused_without_expanding_them() {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zw = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zw.start_file("archive/data/0", opts).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            zw.write_all(&zeros).unwrap();
        }
        zw.finish().unwrap();
    }
    let data = buf.into_inner();
    assert!(data.len() < 1 << 20, "64 MiB of zeros compress to {} bytes", data.len());
    let r = scan_reader(Cursor::new(&data), data.len() as u64, "bomb.pt", &Limits::default());
    assert_eq!(r.verdict, Verdict::Unsafe, "{r:?}");
    assert!(r.reasons[0].contains("zip bomb"), "{:?}", r.reasons);
}

#[test]
fn malformed_and_oversize_pickles_are_refused() {
    let limits = PickleLimits { max_bytes: 1 << 20, max_depth: 100, max_ops: 1_000_000, ..PickleLimits::default() };
    assert!(matches!(walk(&b"\x80\x04\x95"[..], limits), Err(PickleError::Truncated(_))));
    assert!(matches!(walk(&b"\xff."[..], limits), Err(PickleError::UnknownOpcode { opcode: 0xff, .. })));
    assert!(matches!(walk(&b"0."[..], limits), Err(PickleError::Malformed { .. })));
    // Deep nesting: a mark per level.
    let deep: Vec<u8> = std::iter::repeat_n(b'(', 500).chain(std::iter::once(b'.')).collect();
    assert_eq!(walk(&deep[..], limits), Err(PickleError::TooDeep(100)));
    // A byte string declared larger than the limit is refused before it is read.
    let mut big = b"\x80\x04\x8e".to_vec();
    big.extend_from_slice(&(10u64 << 30).to_le_bytes());
    assert_eq!(walk(&big[..], limits), Err(PickleError::TooLarge(1 << 20)));
    // Large payloads under the limit are skipped, not kept.
    let mut blob = b"\x80\x04B".to_vec();
    blob.extend_from_slice(&(100_000u32).to_le_bytes());
    blob.extend(std::iter::repeat_n(7u8, 100_000));
    blob.push(b'.');
    assert_eq!(walk(&blob[..], limits).unwrap().bytes, blob.len() as u64);
    // STACK_GLOBAL from computed (non-constant) names cannot be checked: unsafe.
    let computed = b"\x80\x04K\x01K\x02\x93.";
    let r = scan_reader(Cursor::new(&computed[..]), computed.len() as u64, "x.pkl", &Limits::default());
    assert_eq!(r.verdict, Verdict::Unsafe, "{r:?}");
    // Memoised strings resolve.
    let memo = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93.";
    let w = walk(&memo[..], limits).unwrap();
    assert_eq!(w.imports.len(), 1);
    assert_eq!(w.imports[0].to_string(), "os.system");
}

#[test]
fn other_files_are_not_judged() {
    // A GGUF magic number with a header cut short is not recognised.
    let r = scan_reader(Cursor::new(b"GGUF\x03\x00\x00\x00"), 8, "model.gguf", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::Other, Verdict::Unknown));
    assert!(r.notes[0].contains("not a recognised format"), "{r:?}");
}

#[test]
fn extra_allowed_imports_extend_the_list() {
    let limits = Limits { extra_allowed: vec!["posix.system".into()], ..Limits::default() };
    // Dangerous imports stay unsafe whatever the extra list says.
    let r = scan_file(&fixture("os_system_p0.pkl"), &limits).unwrap();
    assert_eq!(r.verdict, Verdict::Unsafe);
}
