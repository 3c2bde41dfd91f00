//! The generated corpus (`tests/corpus`): every hostile sample must be judged unsafe,
//! every benign one safe, so this test fails both ways.

mod corpus;

use std::io::Cursor;

use warden_intake::{scan_reader, Format, Limits, Report, Verdict};

fn scan(s: &corpus::Sample) -> Report {
    scan_reader(Cursor::new(&s.bytes), s.bytes.len() as u64, &s.name, &Limits::default())
}

#[test]
fn every_hostile_sample_is_unsafe() {
    let samples = corpus::hostile();
    assert!(samples.len() > 2000, "{} samples", samples.len());
    let mut missed = Vec::new();
    for s in &samples {
        let r = scan(s);
        if r.verdict != Verdict::Unsafe {
            missed.push(format!("{}: {:?} {:?} {:?}", s.name, r.format, r.verdict, r.notes));
        }
    }
    assert!(
        missed.is_empty(),
        "{} of {} hostile samples not flagged:\n{}",
        missed.len(),
        samples.len(),
        missed.join("\n")
    );
}

#[test]
fn every_benign_sample_is_safe() {
    for s in corpus::benign() {
        let r = scan(&s);
        assert_eq!(r.verdict, Verdict::Safe, "{}: {r:#?}", s.name);
        assert!(!r.pickles.is_empty(), "{}: no pickle scanned: {r:#?}", s.name);
    }
}

#[test]
fn the_adversarial_finding_is_unsafe_and_named() {
    let bytes = b"\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.";
    let r = scan_reader(Cursor::new(&bytes[..]), bytes.len() as u64, "model.pkl", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::Pickle, Verdict::Unsafe), "{r:?}");
    assert!(r.reasons.iter().any(|x| x.contains("posix.system, which runs system commands")), "{r:?}");
}

#[test]
fn text_pickles_are_judged_as_pickles() {
    // Protocol 0 is printable ASCII: valid text, and a pickle.
    let bytes = b"cos\nsystem\n(S'true'\ntR.";
    let r = scan_reader(Cursor::new(&bytes[..]), bytes.len() as u64, "README.md", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::Pickle, Verdict::Unsafe), "{r:?}");
    // Truncated: CPython runs os.system before it notices the missing STOP.
    let bytes = b"cos\nsystem\n(S'true'\ntR";
    let r = scan_reader(Cursor::new(&bytes[..]), bytes.len() as u64, "notes.txt", &Limits::default());
    assert_eq!(r.verdict, Verdict::Unsafe, "{r:?}");
}

#[test]
fn ordinary_text_json_and_other_formats_are_recognised() {
    let limits = Limits::default();
    let cases: Vec<(&str, Vec<u8>, Format, Verdict)> = vec![
        ("README.md", b"# Model card\n\nSome text\ncontains words\nand more.\n".to_vec(), Format::Text, Verdict::Safe),
        ("notes.txt", b"Pretty\ncool\nstuff\n".to_vec(), Format::Text, Verdict::Safe),
        ("intro.txt", b"Introduction\nThe model...\n".to_vec(), Format::Text, Verdict::Safe),
        (
            "tokenizer.json",
            br#"{"model": {"vocab": {"a": 1, "b": 2}}, "added_tokens": []}"#.to_vec(),
            Format::Json,
            Verdict::Safe,
        ),
        ("vocab.txt", b"[PAD]\n[UNK]\nthe\nof\n".to_vec(), Format::Text, Verdict::Safe),
        ("modeling.py", b"import os\nos.system('x')\n".to_vec(), Format::Text, Verdict::Unknown),
        ("run", b"#!/bin/sh\necho hi\n".to_vec(), Format::Text, Verdict::Unknown),
        ("img.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(), Format::Image, Verdict::Safe),
        ("img.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF".to_vec(), Format::Image, Verdict::Safe),
        ("blob.bin", vec![0u8, 1, 2, 3, 0xff, 0xfe, 7, 9], Format::Other, Verdict::Unknown),
        ("x.gz", corpus::gzip(b"{\"a\": 1}"), Format::Other, Verdict::Unknown),
    ];
    for (name, bytes, format, verdict) in cases {
        let r = scan_reader(Cursor::new(&bytes), bytes.len() as u64, name, &limits);
        assert_eq!((r.format, r.verdict), (format, verdict), "{name}: {r:#?}");
        if verdict == Verdict::Unknown {
            assert!(!r.notes.is_empty(), "{name}: an unknown verdict says why: {r:?}");
        }
    }
    // GGUF v3 with a sane header.
    let mut gguf = b"GGUF\x03\x00\x00\x00".to_vec();
    gguf.extend(2u64.to_le_bytes());
    gguf.extend(5u64.to_le_bytes());
    let r = scan_reader(Cursor::new(&gguf), gguf.len() as u64, "m.gguf", &limits);
    assert_eq!((r.format, r.verdict), (Format::Gguf, Verdict::Safe), "{r:?}");
    // ONNX: ir_version 8, producer "pytorch", a (tiny) graph, opset import.
    let onnx = b"\x08\x08\x12\x07pytorch\x3a\x02\x0a\x00\x42\x02\x10\x11".to_vec();
    let r = scan_reader(Cursor::new(&onnx), onnx.len() as u64, "m.onnx", &limits);
    assert_eq!((r.format, r.verdict), (Format::Onnx, Verdict::Safe), "{r:?}");
    let bad_onnx = b"\x08\x08\x12\x70pytorch".to_vec();
    let r = scan_reader(Cursor::new(&bad_onnx), bad_onnx.len() as u64, "m.onnx", &limits);
    assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
}

#[test]
fn deep_json_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = scan_reader(Cursor::new(deep.as_bytes()), deep.len() as u64, "deep.json", &Limits::default());
    // Recognising JSON skips values iteratively (serde_json's IgnoredAny): no recursion.
    assert_eq!((r.format, r.verdict), (Format::Json, Verdict::Safe), "{r:?}");
    // Parsing into values stops at serde_json's recursion limit (128): inside a safetensors header and a model-signing bundle.
    let header = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header.as_bytes());
    let e = warden_intake::safetensors::validate(&st[..], st.len() as u64).unwrap_err();
    assert!(e.to_string().contains("recursion limit"), "{e}");
    let e = warden_intake::model_signing::verify(deep.as_bytes(), &[]).unwrap_err();
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[test]
fn legacy_stacked_pickles_and_false_zlib_headers_pass() {
    // Legacy torch.save: magic number, protocol, sys info, the state, storage keys, then
    // raw storage bytes.
    let mut legacy = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}q\x00.".to_vec();
    legacy.extend(corpus::benign_state_dict());
    legacy.extend(b"\x80\x02]q\x00X\x01\x00\x00\x000a.");
    legacy.extend(corpus::storage());
    let r = scan_reader(Cursor::new(&legacy), legacy.len() as u64, "old.pt", &Limits::default());
    assert_eq!((r.format, r.verdict, r.pickles.len()), (Format::Pickle, Verdict::Safe, 5), "{r:#?}");
    // `x^` is a valid zlib header; this is text.
    let text = b"x^2 + y^2 = r^2\n";
    let r = scan_reader(Cursor::new(&text[..]), text.len() as u64, "math.txt", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::Text, Verdict::Safe), "{r:#?}");
}

#[test]
fn polyglots_are_judged_as_pickles_too() {
    // A GIF header whose bytes after BINFLOAT's argument continue as a pickle.
    let mut gif = b"GIF89a\x01\x00\x01".to_vec();
    gif.extend_from_slice(b"cos\nsystem\n(S'true'\ntR.");
    let r = scan_reader(Cursor::new(&gif), gif.len() as u64, "x.gif", &Limits::default());
    assert_eq!((r.format, r.verdict), (Format::Image, Verdict::Unsafe), "{r:?}");
}

#[test]
fn a_broken_pickle_is_never_safe() {
    for bytes in
        [&b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K"[..], b"\x80\x02}q\x00(X\x01\x00\x00\x00a", b"\x80\x09N."]
    {
        let r = scan_reader(Cursor::new(bytes), bytes.len() as u64, "m.pkl", &Limits::default());
        assert_eq!(r.verdict, Verdict::Unsafe, "{bytes:?}: {r:?}");
    }
}
