//! Scanning a model file: recognise its container, walk every pickle in it, validate
//! safetensors headers, and turn what was found into a verdict with reasons.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::pickle::{walk, Import, PickleError, PickleLimits};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pickle,
    /// A zip archive (PyTorch `.pt`/`.pth`/`.bin` checkpoints) holding pickles.
    ZipArchive,
    /// zlib- or gzip-compressed pickle (joblib).
    CompressedPickle,
    Safetensors,
    /// Not a format Warden scans; nothing was checked.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Safe,
    Unsafe,
    /// The format is not one Warden can assess.
    Unknown,
}

/// The result of a scan; stored as intake evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub format: Format,
    pub verdict: Verdict,
    /// What makes the file unsafe, one sentence each (empty when safe).
    pub reasons: Vec<String>,
    /// What was checked, for the record.
    pub notes: Vec<String>,
    /// Every import any pickle in the file performs (`module.name`).
    pub imports: BTreeSet<String>,
    /// Pickles scanned (archive member names, or the file itself).
    pub pickles: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub pickle: PickleLimits,
    /// Largest uncompressed archive member or decompressed stream.
    pub max_member_bytes: u64,
    /// Members larger than 10 MB compressing better than this are treated as bombs.
    pub max_ratio: u64,
    pub max_members: usize,
    /// Imports allowed in addition to the built-in allow-list (`module.name`).
    pub extra_allowed: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pickle: PickleLimits::default(),
            max_member_bytes: 16 << 30,
            max_ratio: 200,
            max_members: 100_000,
            extra_allowed: Vec::new(),
        }
    }
}

/// Imports a model pickle may perform: rebuilding tensors, storages and arrays, and a
/// few inert builtins.
fn allowed(imp: &Import, extra: &[String]) -> bool {
    let m = imp.module.as_str();
    let n = imp.name.as_str();
    if extra.iter().any(|e| *e == imp.to_string()) {
        return true;
    }
    match m {
        "collections" => matches!(n, "OrderedDict"),
        "torch._utils" => n.starts_with("_rebuild_"),
        "torch" => {
            n.ends_with("Storage")
                || matches!(
                    n,
                    "Size"
                        | "device"
                        | "float32"
                        | "float16"
                        | "bfloat16"
                        | "float64"
                        | "int64"
                        | "int32"
                        | "int16"
                        | "int8"
                        | "uint8"
                        | "bool"
                        | "complex64"
                        | "complex128"
                )
        }
        "torch.serialization" => n == "_get_layout",
        "numpy.core.multiarray" | "numpy._core.multiarray" => matches!(n, "_reconstruct" | "scalar"),
        "numpy" => matches!(n, "ndarray" | "dtype"),
        "_codecs" => n == "encode",
        "builtins" | "__builtin__" => matches!(n, "set" | "frozenset" | "bytearray" | "slice" | "complex" | "range"),
        _ => false,
    }
}

/// Imports that execute code, reach the system or load more code.
fn dangerous(imp: &Import) -> Option<&'static str> {
    let root = imp.module.split('.').next().unwrap_or("");
    match root {
        "os" | "posix" | "nt" | "subprocess" | "pty" | "commands" | "popen2" => Some("runs system commands"),
        "socket" | "http" | "urllib" | "urllib2" | "requests" | "ftplib" | "smtplib" | "webbrowser" => {
            Some("opens network connections")
        }
        "shutil" | "tempfile" | "pathlib" | "io" => Some("touches the file system"),
        "sys" | "importlib" | "runpy" | "imp" | "pickle" | "_pickle" | "marshal" | "ctypes" | "code" | "codeop" => {
            Some("loads or runs code")
        }
        "builtins" | "__builtin__" => match imp.name.as_str() {
            "eval" | "exec" | "compile" | "__import__" | "getattr" | "setattr" | "delattr" | "open" | "input"
            | "breakpoint" | "globals" | "locals" | "vars" => Some("evaluates code or reaches arbitrary objects"),
            _ => None,
        },
        _ => None,
    }
}

fn judge(report: &mut Report, name: &str, w: &crate::pickle::Walk, extra: &[String]) {
    for imp in &w.imports {
        report.imports.insert(imp.to_string());
        if let Some(why) = dangerous(imp) {
            report.reasons.push(format!("{name}: imports {imp}, which {why}"));
        } else if !allowed(imp, extra) {
            report.reasons.push(format!("{name}: imports {imp}, which is not on the allow-list"));
        }
    }
    if w.unresolved > 0 {
        report
            .reasons
            .push(format!("{name}: {} import(s) built from computed names that cannot be checked", w.unresolved));
    }
    if !w.extension_codes.is_empty() {
        report.reasons.push(format!("{name}: imports through the copyreg extension registry"));
    }
}

fn pickle_error(report: &mut Report, name: &str, e: PickleError) {
    report.reasons.push(format!("{name}: {e}"));
}

/// Scans the file at `path`.
pub fn scan_file(path: &Path, limits: &Limits) -> std::io::Result<Report> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    Ok(scan_reader(BufReader::new(f), len, &name, limits))
}

/// Scans `len` bytes from a seekable reader; `name` labels reasons.
pub fn scan_reader<R: Read + Seek>(mut input: R, len: u64, name: &str, limits: &Limits) -> Report {
    let mut report = Report {
        format: Format::Other,
        verdict: Verdict::Unknown,
        reasons: Vec::new(),
        notes: Vec::new(),
        imports: BTreeSet::new(),
        pickles: Vec::new(),
    };
    let mut head = [0u8; 16];
    let n = read_head(&mut input, &mut head);
    let head = head.get(..n).unwrap_or(&[]);
    if input.seek(SeekFrom::Start(0)).is_err() {
        report.reasons.push("cannot rewind the input".into());
        return finish(report);
    }
    if head.starts_with(b"PK\x03\x04") {
        report.format = Format::ZipArchive;
        scan_zip(input, name, limits, &mut report);
    } else if looks_like_safetensors(head, len) || name.ends_with(".safetensors") {
        report.format = Format::Safetensors;
        match crate::safetensors::validate(input, len) {
            Ok(h) => report.notes.push(format!("safetensors header validated: {} tensors", h.tensors.len())),
            Err(e) => report.reasons.push(format!("{name}: invalid safetensors: {e}")),
        }
    } else if head.first() == Some(&0x1f) && head.get(1) == Some(&0x8b) {
        report.format = Format::CompressedPickle;
        let d = flate2::read::GzDecoder::new(input).take(limits.max_member_bytes);
        scan_pickle(d, name, limits, &mut report);
    } else if head.first() == Some(&0x78) && matches!(head.get(1), Some(0x01 | 0x5e | 0x9c | 0xda)) {
        report.format = Format::CompressedPickle;
        let d = flate2::read::ZlibDecoder::new(input).take(limits.max_member_bytes);
        scan_pickle(d, name, limits, &mut report);
    } else if head.first().is_some_and(|b| *b == 0x80 || b"(c]})NIKSVX".contains(b)) {
        report.format = Format::Pickle;
        scan_pickle(input, name, limits, &mut report);
    } else {
        report.notes.push("not a pickle, PyTorch archive, joblib file or safetensors file; nothing was checked".into());
        return report;
    }
    finish(report)
}

fn read_head<R: Read>(input: &mut R, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match input.read(buf.get_mut(n..).unwrap_or(&mut [])) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

fn looks_like_safetensors(head: &[u8], len: u64) -> bool {
    let Some(first) = head.get(..8).and_then(|h| <[u8; 8]>::try_from(h).ok()) else { return false };
    let n = u64::from_le_bytes(first);
    n > 1 && n.saturating_add(8) <= len && head.get(8) == Some(&b'{')
}

fn scan_pickle<R: Read>(input: R, name: &str, limits: &Limits, report: &mut Report) {
    report.pickles.push(name.to_string());
    match walk(input, limits.pickle) {
        Ok(w) => judge(report, name, &w, &limits.extra_allowed),
        Err(e) => pickle_error(report, name, e),
    }
}

fn scan_zip<R: Read + Seek>(input: R, name: &str, limits: &Limits, report: &mut Report) {
    let mut zip = match zip::ZipArchive::new(input) {
        Ok(z) => z,
        Err(e) => {
            report.reasons.push(format!("{name}: not a readable zip archive: {e}"));
            return;
        }
    };
    if zip.len() > limits.max_members {
        report.reasons.push(format!("{name}: {} members exceed the limit of {}", zip.len(), limits.max_members));
        return;
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(member) = zip.by_index(i) else {
            report.reasons.push(format!("{name}: member {i} cannot be read"));
            continue;
        };
        let mname = member.name().to_string();
        let size = member.size();
        let packed = member.compressed_size().max(1);
        total = total.saturating_add(size);
        if size > limits.max_member_bytes || total > limits.max_member_bytes.saturating_mul(4) {
            report.reasons.push(format!("{name}: {mname} expands to {size} bytes, over the limit (zip bomb?)"));
            return;
        }
        if size > 10 << 20 && size / packed > limits.max_ratio {
            report.reasons.push(format!("{name}: {mname} compresses {}:1, a zip bomb", size / packed));
            return;
        }
        if mname.ends_with(".pkl") {
            let label = format!("{name}:{mname}");
            // Never trust the declared size: cap what is read to it.
            scan_pickle(member.take(size), &label, limits, report);
        }
    }
    if report.pickles.is_empty() {
        report.notes.push(format!("{name}: the archive holds no pickle"));
    }
}

fn finish(mut report: Report) -> Report {
    report.verdict = if report.reasons.is_empty() { Verdict::Safe } else { Verdict::Unsafe };
    if report.verdict == Verdict::Safe && !report.pickles.is_empty() {
        report.notes.push(format!("{} pickle(s) import only allow-listed names", report.pickles.len()));
    }
    report
}
