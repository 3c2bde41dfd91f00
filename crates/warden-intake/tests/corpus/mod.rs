//! A corpus of hostile and benign pickles, generated here byte by byte (opcode facts
//! from CPython's `pickletools`), so that `cargo test` needs nothing else.
//!
//! Hostile samples combine every way to import (GLOBAL, STACK_GLOBAL from each string
//! opcode and through each memo opcode, INST, EXT1/2/4) with every way to call (REDUCE,
//! NEWOBJ, NEWOBJ_EX, OBJ, BUILD, none) and put each behind every legal first opcode
//! (PROTO 0-5, FRAME with and without PROTO, none, and each opcode that can open a
//! stream); then nest some in PyTorch zip archives under any member name and in
//! joblib-style zlib and gzip streams. Nothing here is ever unpickled.

#![allow(dead_code)]

use std::io::{Cursor, Write};

#[derive(Debug, Clone)]
pub struct Sample {
    /// A file name with the extension other scanners expect.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Dangerous callables, rotated through the payloads.
pub const TARGETS: &[(&str, &str)] = &[
    ("os", "system"),
    ("posix", "system"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("subprocess", "Popen"),
    ("nt", "system"),
    ("runpy", "_run_code"),
    ("builtins", "getattr"),
    ("webbrowser", "open"),
    ("pty", "spawn"),
    ("__builtin__", "eval"),
    ("subprocess", "check_output"),
];

fn u32le(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap().to_le_bytes()
}

fn u64le(n: usize) -> [u8; 8] {
    (n as u64).to_le_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// SHORT_BINUNICODE
pub fn short_unicode(s: &str) -> Vec<u8> {
    cat(&[&[0x8c, u8::try_from(s.len()).unwrap()], s.as_bytes()])
}

/// Every opcode a pickle stream may start with, as a prefix that leaves the stack
/// ready for a payload. The FRAME variants are made by [`frame`].
pub fn prefixes() -> Vec<(&'static str, Vec<u8>)> {
    let mut p: Vec<(&'static str, Vec<u8>)> = vec![("none", vec![])];
    for (name, n) in [("proto0", 0u8), ("proto1", 1), ("proto2", 2), ("proto3", 3), ("proto4", 4), ("proto5", 5)] {
        p.push((name, vec![0x80, n]));
    }
    p.extend([
        ("mark", b"(".to_vec()),
        ("empty_dict", b"}".to_vec()),
        ("empty_list", b"]".to_vec()),
        ("empty_tuple", b")".to_vec()),
        ("empty_set", vec![0x8f]),
        ("short_binunicode", short_unicode("a")),
        ("binunicode", cat(&[b"X", &u32le(1), b"a"])),
        ("binunicode8", cat(&[&[0x8d], &u64le(1), b"a"])),
        ("unicode", b"Va\n".to_vec()),
        ("string", b"S'a'\n".to_vec()),
        ("short_binstring", b"U\x01a".to_vec()),
        ("binstring", cat(&[b"T", &u32le(1), b"a"])),
        ("binbytes", cat(&[b"B", &u32le(1), b"a"])),
        ("short_binbytes", b"C\x01a".to_vec()),
        ("binbytes8", cat(&[&[0x8e], &u64le(1), b"a"])),
        ("bytearray8", cat(&[&[0x96], &u64le(1), b"a"])),
        ("int", b"I1\n".to_vec()),
        ("int_true", b"I01\n".to_vec()),
        ("binint", b"J\x01\x00\x00\x00".to_vec()),
        ("binint1", b"K\x01".to_vec()),
        ("binint2", b"M\x01\x00".to_vec()),
        ("long", b"L1L\n".to_vec()),
        ("long1", b"\x8a\x01\x01".to_vec()),
        ("long4", cat(&[&[0x8b], &u32le(1), &[1]])),
        ("float", b"F1.5\n".to_vec()),
        ("binfloat", cat(&[b"G", &1.5f64.to_be_bytes()])),
        ("none_op", b"N".to_vec()),
        ("newtrue", vec![0x88]),
        ("newfalse", vec![0x89]),
        ("persid", b"Pid\n".to_vec()),
        ("binpersid", b"K\x01Q".to_vec()),
        ("next_buffer", vec![0x97]),
        ("global_first", b"cbuiltins\nset\n".to_vec()),
        ("stack_global_first", cat(&[&short_unicode("builtins"), &short_unicode("set"), &[0x93]])),
        ("pop_after_int", b"K\x010".to_vec()),
        ("dict_built", b"(K\x01K\x02d".to_vec()),
    ]);
    p
}

/// Ways to push an imported callable on the stack: (name, bytes for module/name).
/// Bytes that push `module.name` as an imported callable.
type Importer = fn(&str, &str) -> Vec<u8>;
/// Bytes that call (or not) what the importer's bytes pushed.
type Caller = fn(Vec<u8>) -> Vec<u8>;

fn importers() -> Vec<(&'static str, Importer)> {
    fn s(x: &str) -> Vec<u8> {
        short_unicode(x)
    }
    vec![
        ("global", |m, n| format!("c{m}\n{n}\n").into_bytes()),
        ("stack_global", |m, n| cat(&[&s(m), &s(n), &[0x93]])),
        ("stack_global_binunicode", |m, n| {
            cat(&[b"X", &u32le(m.len()), m.as_bytes(), b"X", &u32le(n.len()), n.as_bytes(), &[0x93]])
        }),
        ("stack_global_binunicode8", |m, n| {
            cat(&[&[0x8d], &u64le(m.len()), m.as_bytes(), &[0x8d], &u64le(n.len()), n.as_bytes(), &[0x93]])
        }),
        ("stack_global_unicode", |m, n| cat(&[format!("V{m}\nV{n}\n").as_bytes(), &[0x93]])),
        ("stack_global_string", |m, n| cat(&[format!("S'{m}'\nS\"{n}\"\n").as_bytes(), &[0x93]])),
        ("stack_global_short_binstring", |m, n| {
            cat(&[b"U", &[m.len() as u8], m.as_bytes(), b"U", &[n.len() as u8], n.as_bytes(), &[0x93]])
        }),
        ("stack_global_binstring", |m, n| {
            cat(&[b"T", &u32le(m.len()), m.as_bytes(), b"T", &u32le(n.len()), n.as_bytes(), &[0x93]])
        }),
        ("stack_global_escaped", |m, n| {
            let esc = |x: &str| x.bytes().map(|b| format!("\\x{b:02x}")).collect::<String>();
            cat(&[format!("S'{}'\nS'{}'\n", esc(m), esc(n)).as_bytes(), &[0x93]])
        }),
        ("stack_global_unicode_escape", |m, n| {
            let esc = |x: &str| x.chars().map(|c| format!("\\u{:04x}", c as u32)).collect::<String>();
            cat(&[format!("V{}\nV{}\n", esc(m), esc(n)).as_bytes(), &[0x93]])
        }),
        // Through the memo: BINPUT/BINGET, LONG_BINPUT/LONG_BINGET, PUT/GET, MEMOIZE.
        ("memo_binput", |m, n| cat(&[&s(m), b"q\x0a0", &s(n), b"q\x0b0h\x0ah\x0b", &[0x93]])),
        ("memo_long_binput", |m, n| {
            cat(&[
                &s(m),
                b"r\xe8\x03\x00\x000",
                &s(n),
                b"r\xe9\x03\x00\x000j\xe8\x03\x00\x00j\xe9\x03\x00\x00",
                &[0x93],
            ])
        }),
        ("memo_put_get", |m, n| cat(&[&s(m), b"p20\n0", &s(n), b"p21\n0g20\ng21\n", &[0x93]])),
        ("memo_memoize", |m, n| cat(&[&s(m), &[0x94], b"0", &s(n), &[0x94], b"0h\x00h\x01", &[0x93]])),
        ("global_through_memo", |m, n| cat(&[format!("c{m}\n{n}\n").as_bytes(), b"q\x050h\x05"])),
        ("global_dup", |m, n| cat(&[format!("c{m}\n{n}\n").as_bytes(), b"2"])),
    ]
}

/// Ways to call (or not) the callable on top of the stack.
fn callers() -> Vec<(&'static str, Caller)> {
    vec![
        ("reduce", |imp| cat(&[&imp, b"(S'true'\ntR"])),
        ("reduce_tuple1", |imp| cat(&[&imp, &short_unicode("true"), &[0x85], b"R"])),
        ("newobj", |imp| cat(&[&imp, b"(S'true'\nt", &[0x81]])),
        ("newobj_ex", |imp| cat(&[&imp, b"(S'true'\nt}", &[0x92]])),
        ("obj", |imp| cat(&[b"(", &imp, b"S'true'\no"])),
        ("build", |imp| cat(&[&imp, b"}(S'a'\nI1\nub"])),
        ("import_only", |imp| imp),
    ]
}

/// Payloads that leave their result on the stack (no STOP): every importer with every
/// caller, INST, and the extension registry.
pub fn payloads() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut k = 0;
    for (iname, imp) in importers() {
        for (cname, call) in callers() {
            let (m, n) = TARGETS[k % TARGETS.len()];
            k += 1;
            out.push((format!("{iname}-{cname}"), call(imp(m, n))));
        }
    }
    for (i, (m, n)) in TARGETS.iter().enumerate().take(3) {
        out.push((format!("inst-{i}"), format!("(S'true'\ni{m}\n{n}\n").into_bytes()));
    }
    out.push(("ext1-reduce".into(), b"\x82\x01(S'true'\ntR".to_vec()));
    out.push(("ext2-reduce".into(), b"\x83\x01\x02(S'true'\ntR".to_vec()));
    out.push(("ext4-reduce".into(), b"\x84\x01\x02\x03\x00(S'true'\ntR".to_vec()));
    // The adversarial test's own sample.
    out.push(("finding".into(), b"\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R".to_vec()));
    out
}

/// `FRAME` around `body` (which ends with STOP), optionally after `PROTO 4`.
pub fn frame(body: &[u8], proto: bool) -> Vec<u8> {
    let head: &[u8] = if proto { b"\x80\x04" } else { b"" };
    cat(&[head, &[0x95], &u64le(body.len()), body])
}

/// Every payload behind every prefix, plus FRAME variants: plain pickle files.
pub fn hostile_pickles() -> Vec<Sample> {
    let mut out = Vec::new();
    for (pname, prefix) in prefixes() {
        for (name, payload) in payloads() {
            out.push(Sample { name: format!("{pname}--{name}.pkl"), bytes: cat(&[&prefix, &payload, b"."]) });
        }
    }
    for (name, payload) in payloads() {
        let body = cat(&[&payload, b"."]);
        out.push(Sample { name: format!("frame--{name}.pkl"), bytes: frame(&body, false) });
        out.push(Sample { name: format!("proto4_frame--{name}.pkl"), bytes: frame(&body, true) });
    }
    out
}

/// Samples proto 2 hostile payloads for the nested variants.
fn some_hostile() -> Vec<(String, Vec<u8>)> {
    payloads().into_iter().map(|(n, p)| (n, cat(&[b"\x80\x02", &p, b"."]))).collect()
}

pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zw = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in members {
            zw.start_file(*name, opts).unwrap();
            zw.write_all(data).unwrap();
        }
        zw.finish().unwrap();
    }
    buf.into_inner()
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// Raw float32 storage bytes (what `archive/data/0` holds).
pub fn storage() -> Vec<u8> {
    [0.1f32, -0.25, 0.5, 3.75].iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// Hostile pickles inside PyTorch-style zip archives (under the expected name and
/// others) and inside zlib and gzip streams.
pub fn hostile_nested() -> Vec<Sample> {
    let mut out = Vec::new();
    let benign = benign_state_dict();
    let data = storage();
    for (name, p) in some_hostile() {
        for (tag, member) in
            [("datapkl", "archive/data.pkl"), ("data0", "archive/data/0"), ("bin", "model/weights.bin")]
        {
            let members: Vec<(&str, &[u8])> = if member == "archive/data.pkl" {
                vec![("archive/data.pkl", &p), ("archive/data/0", &data), ("archive/version", b"3\n")]
            } else {
                vec![("archive/data.pkl", &benign), (member, &p), ("archive/version", b"3\n")]
            };
            out.push(Sample { name: format!("zip-{tag}--{name}.pt"), bytes: zip_of(&members) });
        }
        out.push(Sample { name: format!("zlib--{name}.joblib"), bytes: zlib(&p) });
        out.push(Sample { name: format!("gzip--{name}.joblib"), bytes: gzip(&p) });
    }
    // A legacy (non-zip) PyTorch file is several pickles in a row: the payload in the
    // last one.
    let (_, p) = some_hostile().swap_remove(0);
    let legacy = cat(&[b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.", b"\x80\x02M\xe9\x03.", &p]);
    out.push(Sample { name: "legacy_torch_stacked.pt".into(), bytes: legacy });
    out
}

pub fn hostile() -> Vec<Sample> {
    let mut v = hostile_pickles();
    v.extend(hostile_nested());
    v
}

/// `OrderedDict([("fc.weight", tensor)])` as torch.save writes it (protocol 2,
/// `torch._utils._rebuild_tensor_v2` with a persistent-id storage).
pub fn benign_state_dict() -> Vec<u8> {
    let mut v = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(".to_vec();
    v.extend(cat(&[b"X", &u32le(9), b"fc.weightq\x02"]));
    v.extend(b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05");
    v.extend(b"X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x04tq\x08QK\x00K\x02K\x02\x86q\tK\x02K\x01\x86q\n");
    // `_metadata` state set on the OrderedDict by BUILD, as torch.save writes it.
    v.extend(b"\x89h\x00)Rq\x0btq\x0cRq\ru}q\x0eX\t\x00\x00\x00_metadataq\x0fh\x00)Rq\x10sb.");
    v
}

pub fn benign() -> Vec<Sample> {
    let dict_p2 = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02G?\xf8\x00\x00\x00\x00\x00\x00u.";
    let dict_p0 = b"(dp0\nVa\np1\nI1\nsVb\np2\nF1.5\ns.";
    let dict_p4_body =
        cat(&[b"}\x94(", &short_unicode("a"), b"\x94K\x01", &short_unicode("b"), b"\x94]\x94(K\x01K\x02eu."]);
    let list_p1 = b"]q\x00(K\x01K\x02K\x03e.";
    let sd = benign_state_dict();
    let archive = zip_of(&[
        ("archive/data.pkl", &sd),
        ("archive/byteorder", b"little"),
        ("archive/data/0", &storage()),
        ("archive/version", b"3\n"),
        ("archive/.data/serialization_id", b"1234567890"),
    ]);
    vec![
        Sample { name: "dict_p2.pkl".into(), bytes: dict_p2.to_vec() },
        Sample { name: "dict_p0.pkl".into(), bytes: dict_p0.to_vec() },
        Sample { name: "dict_p4_frame.pkl".into(), bytes: frame(&dict_p4_body, true) },
        Sample { name: "list_p1.pkl".into(), bytes: list_p1.to_vec() },
        Sample { name: "state_dict_p2.pkl".into(), bytes: sd.clone() },
        Sample { name: "state_dict.pt".into(), bytes: archive },
        Sample { name: "dict_zlib.joblib".into(), bytes: zlib(dict_p2) },
        Sample { name: "dict_gzip.joblib".into(), bytes: gzip(dict_p2) },
    ]
}
