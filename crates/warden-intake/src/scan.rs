//! Scanning a model file: recognise its format, walk every pickle in it, validate
//! safetensors headers, and turn what was found into a verdict with reasons.
//!
//! Recognition fails closed. Every file is first walked as a pickle stream from its
//! first byte (pickles have no magic number: any opcode may come first, and protocol 0
//! pickles are printable text). Whatever parses as a pickle is judged as one, whatever
//! else it also is (a polyglot). Otherwise the file must be a format recognised by its
//! structure (zip, gzip/zlib, safetensors, GGUF, ONNX, an image, UTF-8 text or JSON);
//! anything else is [`Verdict::Unknown`] with a note saying why.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::pickle::{dotted_identifier, identifier, walk_partial, Import, PickleError, PickleLimits, Walk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pickle,
    /// A zip archive (PyTorch `.pt`/`.pth`/`.bin` checkpoints) holding pickles.
    ZipArchive,
    /// zlib- or gzip-compressed pickle (joblib).
    CompressedPickle,
    Safetensors,
    /// GGUF (llama.cpp): magic, version and counts checked.
    Gguf,
    /// ONNX: a protobuf `ModelProto` whose top-level fields are well-formed.
    Onnx,
    /// UTF-8 JSON that parses (tokenizer and config files).
    Json,
    /// UTF-8 text without NUL or control bytes (Markdown, vocabularies, scripts).
    Text,
    /// PNG, JPEG, GIF, WebP or BMP, by magic number.
    Image,
    /// Not a format Warden recognises; nothing was checked (see the notes).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Safe,
    Unsafe,
    /// The format is not one Warden can assess; the notes say why.
    Unknown,
}

/// The result of a scan; stored as intake evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub format: Format,
    pub verdict: Verdict,
    /// What makes the file unsafe, one sentence each (empty when safe).
    pub reasons: Vec<String>,
    /// What was checked, for the record; for an unknown verdict, the first note says why.
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
    /// Consecutive pickles walked in one stream (legacy PyTorch files hold five).
    pub max_pickles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pickle: PickleLimits::default(),
            max_member_bytes: 16 << 30,
            max_ratio: 200,
            max_members: 100_000,
            extra_allowed: Vec::new(),
            max_pickles: 10_000,
        }
    }
}

/// Imports a model pickle may perform: rebuilding tensors, storages and arrays, and a
/// few inert builtins. Names must be plain identifiers: protocol 4 resolves dotted
/// names attribute by attribute (`_rebuild_x.__globals__`).
fn allowed(imp: &Import, extra: &[String]) -> bool {
    let m = imp.module.as_str();
    let n = imp.name.as_str();
    if extra.iter().any(|e| *e == imp.to_string()) {
        return true;
    }
    if !dotted_identifier(m) || !identifier(n) || n.starts_with("__") {
        return false;
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
        "os" | "posix" | "nt" | "subprocess" | "pty" | "commands" | "popen2" | "asyncio" | "multiprocessing"
        | "platform" => Some("runs system commands"),
        "socket" | "http" | "urllib" | "urllib2" | "urllib3" | "requests" | "ftplib" | "smtplib" | "telnetlib"
        | "xmlrpc" | "webbrowser" | "ssl" => Some("opens network connections"),
        "shutil" | "tempfile" | "pathlib" | "io" | "glob" | "zipfile" | "tarfile" => Some("touches the file system"),
        "sys" | "importlib" | "runpy" | "imp" | "pickle" | "_pickle" | "marshal" | "ctypes" | "code" | "codeop"
        | "types" | "operator" | "functools" | "timeit" | "pdb" | "bdb" | "trace" | "profile" | "cProfile"
        | "pkgutil" | "zipimport" | "site" | "copyreg" | "copy_reg" | "dill" | "joblib" | "torch.hub" => {
            Some("loads or runs code")
        }
        "builtins" | "__builtin__" => match imp.name.as_str() {
            "eval" | "exec" | "execfile" | "compile" | "__import__" | "getattr" | "setattr" | "delattr" | "open"
            | "input" | "breakpoint" | "globals" | "locals" | "vars" | "apply" | "reload" => {
                Some("evaluates code or reaches arbitrary objects")
            }
            _ => None,
        },
        _ => None,
    }
}

fn judge(report: &mut Report, name: &str, w: &Walk, extra: &[String]) {
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
        report.reasons.push(format!(
            "{name}: imports through the copyreg extension registry (codes {:?})",
            w.extension_codes.iter().take(8).collect::<Vec<_>>()
        ));
    }
    if w.unresolved_calls > 0 {
        report.reasons.push(format!(
            "{name}: {} call(s) on a computed callable (not a checked import) that cannot be checked",
            w.unresolved_calls
        ));
    }
    for imp in &w.builds_on_imports {
        report.reasons.push(format!("{name}: BUILD sets attributes on the imported object {imp}"));
    }
}

/// Scans the file at `path`.
pub fn scan_file(path: &Path, limits: &Limits) -> std::io::Result<Report> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    Ok(scan_reader(BufReader::new(f), len, &name, limits))
}

/// The pickles read one after another from a stream (as repeated `pickle.load` calls
/// on one file would).
#[derive(Debug, Default)]
struct Stream {
    first_byte: Option<u8>,
    walks: Vec<(u64, Walk, Option<PickleError>)>,
    /// Where the bytes after the last pickle start, and why they are not a pickle.
    trailing: Option<(u64, PickleError)>,
    /// More pickles than [`Limits::max_pickles`].
    too_many: bool,
}

impl Stream {
    fn first(&self) -> Option<&(u64, Walk, Option<PickleError>)> {
        self.walks.first()
    }

    /// It is certainly a pickle: the first walk reached STOP, or before failing it
    /// imported a dangerous name, or imported a real-looking name and called something.
    /// (Text can parse as a few opcodes, `Pretty\ncool\nstuff\n` as PERSID and GLOBAL;
    /// what CPython would run before failing is a call or a dangerous import.)
    fn is_pickle(&self) -> bool {
        self.first().is_some_and(|(_, w, e)| {
            e.is_none()
                || w.imports.iter().any(|i| dangerous(i).is_some())
                || (w.calls > 0 && w.imports.iter().any(Import::plausible))
        })
    }

    /// It may be a pickle: as above, or it imports from computed names or through the
    /// extension registry, and calls.
    fn may_be_pickle(&self) -> bool {
        self.is_pickle()
            || self.first().is_some_and(|(_, w, _)| w.calls > 0 && (w.unresolved > 0 || !w.extension_codes.is_empty()))
    }

    fn first_error(&self) -> Option<&PickleError> {
        self.first().and_then(|(_, _, e)| e.as_ref())
    }

    /// Read at the start: the underlying reader failed before any byte (e.g. a
    /// decompressor on data that is not compressed).
    fn unreadable(&self) -> bool {
        self.first().is_some_and(|(_, w, e)| w.bytes == 0 && matches!(e, Some(PickleError::Io(_))))
    }
}

fn walk_stream<R: BufRead>(mut input: R, limits: &Limits) -> Stream {
    let first_byte = match input.fill_buf() {
        Ok(b) => b.first().copied(),
        Err(e) => {
            let walks = vec![(0, Walk::default(), Some(PickleError::Io(e.to_string())))];
            return Stream { walks, ..Stream::default() };
        }
    };
    let mut s = Stream { first_byte, ..Stream::default() };
    let mut offset = 0u64;
    loop {
        let (w, err) = walk_partial(&mut input, limits.pickle);
        let first = s.walks.is_empty();
        match err {
            // The end of the stream, right after a pickle.
            Some(PickleError::Truncated(_)) if w.bytes == 0 && !first => break,
            None => {
                offset = offset.saturating_add(w.bytes);
                s.walks.push((offset - w.bytes, w, None));
                if s.walks.len() >= limits.max_pickles {
                    s.too_many = input.fill_buf().is_ok_and(|b| !b.is_empty());
                    break;
                }
            }
            Some(e) => {
                // A later pickle counts if it runs something (as for the first one, see
                // `Stream::is_pickle`); otherwise these
                // are trailing data (legacy PyTorch files end with raw storage bytes).
                let runs = w.imports.iter().any(|i| dangerous(i).is_some())
                    || (w.calls > 0 && w.imports.iter().any(Import::plausible));
                if first || runs {
                    s.walks.push((offset, w, Some(e)));
                } else {
                    s.trailing = Some((offset, e));
                }
                break;
            }
        }
    }
    s
}

/// Judges every pickle of a stream and notes what follows them.
fn judge_stream(report: &mut Report, label: &str, s: &Stream, limits: &Limits) {
    for (k, (offset, w, err)) in s.walks.iter().enumerate() {
        let name = if k == 0 { label.to_string() } else { format!("{label} (pickle {} at byte {offset})", k + 1) };
        report.pickles.push(name.clone());
        judge(report, &name, w, &limits.extra_allowed);
        if let Some(e) = err {
            report.reasons.push(format!("{name}: {e}"));
        }
    }
    if let Some((offset, e)) = &s.trailing {
        report.notes.push(format!("{label}: the bytes from {offset} on are not a pickle ({e}); not checked"));
    }
    if s.too_many {
        report
            .reasons
            .push(format!("{label}: more than {} pickles in one stream (the pickle limit)", limits.max_pickles));
    }
}

/// Formats recognised by a definite magic number or structure.
enum Magic {
    Zip,
    Gzip,
    Zlib,
    Safetensors,
    Gguf(Result<String, String>),
    Image(&'static str),
}

fn sniff(head: &[u8], len: u64) -> Option<Magic> {
    let h = |i: usize| head.get(i).copied();
    let u32_at = |i: usize| head.get(i..i + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes);
    let u64_at = |i: usize| head.get(i..i + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes);
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Magic::Zip);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Magic::Gzip);
    }
    if let (Some(0x78), Some(flg)) = (h(0), h(1)) {
        if (0x7800u32 + u32::from(flg)) % 31 == 0 {
            return Some(Magic::Zlib);
        }
    }
    if looks_like_safetensors(head, len) {
        return Some(Magic::Safetensors);
    }
    if head.starts_with(b"GGUF") {
        let version = u32_at(4).unwrap_or(0);
        let counts = match version {
            1 => u32_at(8).zip(u32_at(12)).map(|(t, k)| (u64::from(t), u64::from(k))),
            2 | 3 => u64_at(8).zip(u64_at(16)),
            _ => None,
        };
        return Some(Magic::Gguf(match counts {
            Some((t, k)) if t <= 1 << 24 && k <= 1 << 24 => {
                Ok(format!("GGUF version {version}: {t} tensors, {k} metadata keys"))
            }
            Some((t, k)) => Err(format!("GGUF version {version} declares {t} tensors and {k} metadata keys")),
            None => Err(format!("GGUF magic with version {version}, or a header cut short")),
        }));
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Magic::Image("PNG"));
    }
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        return Some(Magic::Image("JPEG"));
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Magic::Image("GIF"));
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Some(Magic::Image("WebP"));
    }
    if head.starts_with(b"BM") && u32_at(2).map(u64::from) == Some(len) && u32_at(6) == Some(0) {
        return Some(Magic::Image("BMP"));
    }
    None
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
    let mut head = [0u8; 64];
    let n = read_head(&mut input, &mut head);
    let head = head.get(..n).unwrap_or(&[]);
    if input.seek(SeekFrom::Start(0)).is_err() {
        report.reasons.push("cannot rewind the input".into());
        return finish(report, None);
    }
    if head.is_empty() {
        report.format = Format::Text;
        report.notes.push("empty file".into());
        return finish(report, None);
    }
    // Every file is first read as a pickle stream, whatever it looks like.
    let raw = walk_stream(BufReader::new(&mut input), limits);
    if input.seek(SeekFrom::Start(0)).is_err() {
        report.reasons.push("cannot rewind the input".into());
        return finish(report, None);
    }
    let mut unknown = None;
    let magic = sniff(head, len);
    let recognised = match magic {
        Some(Magic::Zip) => {
            report.format = Format::ZipArchive;
            scan_zip(&mut input, name, limits, &mut report);
            true
        }
        Some(Magic::Gzip) => {
            report.format = Format::CompressedPickle;
            let d = flate2::read::GzDecoder::new(&mut input);
            unknown = scan_compressed(d, name, "gzip", limits, &mut report);
            if unknown.as_deref() == Some(NOT_COMPRESSED) {
                report.format = Format::Other;
                unknown = Some("not a recognised format: a gzip magic number, but the data does not decompress".into());
            }
            true
        }
        Some(Magic::Zlib) => {
            let d = flate2::read::ZlibDecoder::new(&mut input);
            let mut sub = report.clone();
            sub.format = Format::CompressedPickle;
            let why = scan_compressed(d, name, "zlib", limits, &mut sub);
            // Two bytes that only look like a zlib header (`x^` starts some texts).
            let real = why.as_deref() != Some(NOT_COMPRESSED);
            if real {
                report = sub;
                unknown = why;
            }
            if input.seek(SeekFrom::Start(0)).is_err() {
                report.reasons.push("cannot rewind the input".into());
            }
            real
        }
        Some(Magic::Safetensors) => {
            report.format = Format::Safetensors;
            safetensors(&mut input, len, name, &mut report);
            true
        }
        Some(Magic::Gguf(Ok(what))) => {
            report.format = Format::Gguf;
            report.notes.push(format!("{what}; tensor data and metadata (e.g. a chat template) are not checked"));
            true
        }
        Some(Magic::Gguf(Err(why))) => {
            unknown = Some(format!("not a recognised format: {why}"));
            true
        }
        Some(Magic::Image(kind)) => {
            report.format = Format::Image;
            report.notes.push(format!("{kind} image (by magic number)"));
            true
        }
        None => false,
    };
    if recognised {
        // A polyglot: also a pickle when read as one (`pickle.load` ignores magic numbers).
        if raw.is_pickle() {
            report.notes.push(format!("{name}: also parses as a pickle from its first byte, judged as one"));
            judge_stream(&mut report, &format!("{name} (read as a pickle)"), &raw, limits);
        }
        return finish(report, unknown);
    }
    if raw.may_be_pickle() {
        report.format = Format::Pickle;
        judge_stream(&mut report, name, &raw, limits);
        return finish(report, None);
    }
    let pickle_error = raw.first_error().map(ToString::to_string).unwrap_or_default();
    if matches!(raw.first_byte, Some(0x80 | 0x95)) {
        report.format = Format::Pickle;
        report.pickles.push(name.to_string());
        report.reasons.push(format!("{name}: starts like a pickle but does not parse as one: {pickle_error}"));
        return finish(report, None);
    }
    if name.ends_with(".safetensors") {
        report.format = Format::Safetensors;
        safetensors(&mut input, len, name, &mut report);
        return finish(report, None);
    }
    match onnx(&mut input, len) {
        Ok(what) => {
            report.format = Format::Onnx;
            report
                .notes
                .push(format!("{what}; weights, external data references and custom operator domains are not checked"));
            return finish(report, None);
        }
        Err(why) => {
            if input.seek(SeekFrom::Start(0)).is_err() {
                report.reasons.push("cannot rewind the input".into());
                return finish(report, None);
            }
            if head.first() == Some(&0x08) {
                report.notes.push(format!("not ONNX: {why}"));
            }
        }
    }
    match text(&mut input, name, &mut report) {
        Ok(why) => unknown = why,
        Err(why) => {
            unknown = Some(format!(
                "not a recognised format (pickle, zip, gzip/zlib, safetensors, GGUF, ONNX, image, UTF-8 text): {why}; \
                 as a pickle: {pickle_error}"
            ))
        }
    }
    finish(report, unknown)
}

const NOT_COMPRESSED: &str = "not compressed";

fn safetensors<R: Read>(input: R, len: u64, name: &str, report: &mut Report) {
    match crate::safetensors::validate(input, len) {
        Ok(h) => report.notes.push(format!("safetensors header validated: {} tensors", h.tensors.len())),
        Err(e) => report.reasons.push(format!("{name}: invalid safetensors: {e}")),
    }
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

/// A joblib-style compressed stream: the decompressed bytes must be pickles. Returns
/// why the verdict is unknown, if it is ([`NOT_COMPRESSED`] when the data does not
/// even decompress at the start).
fn scan_compressed<R: Read>(d: R, name: &str, kind: &str, limits: &Limits, report: &mut Report) -> Option<String> {
    let s = walk_stream(BufReader::new(d.take(limits.max_member_bytes)), limits);
    if s.unreadable() {
        return Some(NOT_COMPRESSED.into());
    }
    if s.may_be_pickle() {
        judge_stream(report, name, &s, limits);
        return None;
    }
    let e = s.first_error().map(ToString::to_string).unwrap_or_default();
    if matches!(s.first_byte, Some(0x80 | 0x95)) {
        report.pickles.push(name.to_string());
        report.reasons.push(format!("{name}: the {kind} stream starts like a pickle but does not parse as one: {e}"));
        return None;
    }
    report.format = Format::Other;
    Some(format!("a {kind} stream that does not hold a pickle ({e}); its content was not checked"))
}

/// PyTorch storage files and archive metadata: raw bytes, never unpickled.
fn is_data_member(mname: &str) -> bool {
    let base = mname.rsplit('/').next().unwrap_or(mname);
    let parent = mname.rsplit('/').nth(1).unwrap_or("");
    (parent == "data" && !base.is_empty() && base.bytes().all(|b| b.is_ascii_digit()))
        || matches!(base, "version" | "byteorder" | ".format_version" | ".storage_alignment" | "serialization_id")
        || mname.ends_with('/')
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
    let mut data_members = 0usize;
    let mut code = Vec::new();
    let mut other = Vec::new();
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
        let label = format!("{name}:{mname}");
        // Every member is read as a pickle stream, whatever its name; never trust the
        // declared size: cap what is read to it.
        let s = walk_stream(BufReader::new(member.take(size)), limits);
        if s.is_pickle() || mname.ends_with(".pkl") {
            judge_stream(report, &label, &s, limits);
        } else if is_data_member(&mname) {
            data_members += 1;
        } else if mname.ends_with(".py") || mname.contains("code/") {
            code.push(mname);
        } else {
            other.push(mname);
        }
    }
    if report.pickles.is_empty() {
        report.notes.push(format!("{name}: the archive holds no pickle"));
    }
    if data_members > 0 {
        report.notes.push(format!("{name}: {data_members} tensor data or metadata member(s), raw bytes"));
    }
    if !code.is_empty() {
        report.notes.push(format!(
            "{name}: {} member(s) hold code (TorchScript or Python, run by torch.jit / torch.package), not judged: {}",
            code.len(),
            code.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !other.is_empty() {
        report.notes.push(format!(
            "{name}: {} member(s) are neither pickles nor tensor data, not checked: {}",
            other.len(),
            other.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
}

/// Reads a protobuf varint.
fn varint<R: Read>(r: &mut R, pos: &mut u64) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8; 1];
        r.read_exact(&mut b).map_err(|_| format!("truncated varint at byte {pos}"))?;
        *pos += 1;
        let [b] = b;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(format!("overlong varint at byte {pos}"))
}

/// A cheap well-formedness check of an ONNX `ModelProto`: every top-level field has a
/// known number and wire type, lengths stay inside the file, it starts with
/// `ir_version` and holds a graph.
fn onnx<R: Read + Seek>(input: &mut R, len: u64) -> Result<String, String> {
    let mut r = BufReader::new(input);
    let mut pos = 0u64;
    let mut ir_version = None;
    let mut graph = false;
    let mut producer = String::new();
    let mut fields = 0u32;
    while pos < len {
        let key = varint(&mut r, &mut pos)?;
        let (field, wire) = (key >> 3, key & 7);
        fields += 1;
        if fields > 100_000 {
            return Err("more than 100000 top-level fields".into());
        }
        if fields == 1 && (field, wire) != (1, 0) {
            return Err("does not start with ir_version".into());
        }
        let expected = match field {
            1 | 5 => 0,
            2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25 | 26 => 2,
            _ => return Err(format!("unknown ModelProto field {field} at byte {pos}")),
        };
        if wire != expected {
            return Err(format!("field {field} has wire type {wire}"));
        }
        if wire == 0 {
            let v = varint(&mut r, &mut pos)?;
            if field == 1 {
                if !(1..=64).contains(&v) {
                    return Err(format!("implausible ir_version {v}"));
                }
                ir_version = Some(v);
            }
            continue;
        }
        let n = varint(&mut r, &mut pos)?;
        let end = pos.checked_add(n).filter(|e| *e <= len).ok_or(format!("field {field} runs past the end"))?;
        if field == 2 && n <= 256 {
            let mut b = vec![0u8; n as usize];
            r.read_exact(&mut b).map_err(|_| "truncated producer name".to_string())?;
            producer = String::from_utf8_lossy(&b).into_owned();
        } else {
            r.seek_relative(i64::try_from(n).map_err(|_| "field too long".to_string())?)
                .map_err(|e| format!("cannot skip field {field}: {e}"))?;
        }
        pos = end;
        graph |= field == 7;
    }
    match (ir_version, graph) {
        (Some(v), true) => Ok(format!("ONNX model, ir_version {v}, producer `{producer}`")),
        _ => Err("no ir_version or no graph".into()),
    }
}

/// Source files: text, but code a loader may run (`trust_remote_code`, shell).
fn is_script(name: &str, first_line: &[u8]) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    first_line.starts_with(b"#!")
        || matches!(
            ext.as_str(),
            "py" | "pyw" | "sh" | "bash" | "zsh" | "bat" | "cmd" | "ps1" | "js" | "mjs" | "rb" | "pl" | "php" | "lua"
        )
}

/// UTF-8 text without NUL or control bytes, JSON when it parses as such. `Ok(Some(_))`
/// is a recognised text that is still not judged (a script); `Err` says why it is not
/// text.
fn text<R: Read + Seek>(input: &mut R, name: &str, report: &mut Report) -> Result<Option<String>, String> {
    let mut r = BufReader::new(&mut *input);
    let mut carry: Vec<u8> = Vec::new();
    let mut pos = 0u64;
    let mut first_line: Vec<u8> = Vec::new();
    let mut first_non_space = None;
    let mut lines = GlobalLines::default();
    loop {
        let chunk = r.fill_buf().map_err(|e| format!("read error: {e}"))?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        if let Some(i) = chunk.iter().position(|b| *b == 0 || (*b < 0x20 && !b"\t\n\r\x0b\x0c\x1b".contains(b))) {
            return Err(format!("byte {} is the control byte 0x{:02x}", pos + i as u64, chunk.get(i).unwrap_or(&0)));
        }
        if first_non_space.is_none() {
            first_non_space = chunk.iter().copied().find(|b| !b.is_ascii_whitespace());
        }
        if pos == 0 {
            first_line = chunk.split(|b| *b == b'\n').next().unwrap_or(&[]).to_vec();
        }
        lines.feed(chunk);
        carry.extend_from_slice(chunk);
        match std::str::from_utf8(&carry) {
            Ok(_) => carry.clear(),
            Err(e) if e.error_len().is_none() && carry.len() - e.valid_up_to() < 4 => {
                carry.drain(..e.valid_up_to());
            }
            Err(e) => return Err(format!("not UTF-8 near byte {}", pos + e.valid_up_to() as u64)),
        }
        r.consume(n);
        pos += n as u64;
    }
    if !carry.is_empty() {
        return Err("ends inside a UTF-8 sequence".into());
    }
    drop(r);
    for (line, imp) in lines.found {
        if let Some(why) = dangerous(&imp) {
            report.reasons.push(format!(
                "{name}: line {line} reads as a pickle GLOBAL importing {imp}, which {why} (a text pickle?)"
            ));
        }
    }
    if is_script(name, &first_line) {
        report.format = Format::Text;
        return Ok(Some(format!(
            "{name} is source code or a script: code that runs if a loader trusts it, which Warden does not judge"
        )));
    }
    if matches!(first_non_space, Some(b'{' | b'[')) {
        input.seek(SeekFrom::Start(0)).map_err(|e| format!("cannot rewind: {e}"))?;
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(&mut *input));
        // serde_json refuses nesting deeper than 128 levels (its recursion limit).
        let parsed =
            serde::de::Deserialize::deserialize(&mut de).map(|_: serde::de::IgnoredAny| ()).and_then(|()| de.end());
        match parsed {
            Ok(()) => {
                report.format = Format::Json;
                report.notes.push("UTF-8 JSON, parsed".into());
                return Ok(None);
            }
            Err(e) => report.notes.push(format!("looks like JSON but does not parse ({e}); kept as text")),
        }
    }
    report.format = Format::Text;
    report.notes.push("UTF-8 text without NUL or control bytes".into());
    Ok(None)
}

/// Finds `c<module>\n<name>\n` line pairs (a protocol 0 GLOBAL) in text, as a second
/// line of defence behind the pickle walk.
#[derive(Default)]
struct GlobalLines {
    line: u64,
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
    found: Vec<(u64, Import)>,
}

impl GlobalLines {
    fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if b == b'\n' {
                self.line += 1;
                let cur = std::mem::take(&mut self.current);
                if let Some(prev) = self.previous.take() {
                    let module = String::from_utf8_lossy(prev.get(1..).unwrap_or(&[])).into_owned();
                    let name = String::from_utf8_lossy(&cur).into_owned();
                    if dotted_identifier(&module) && dotted_identifier(&name) && self.found.len() < 100 {
                        self.found.push((self.line - 1, Import { module, name }));
                    }
                }
                if matches!(cur.first(), Some(b'c' | b'i')) {
                    self.previous = Some(cur);
                }
            } else if self.current.len() < 256 {
                self.current.push(b);
            }
        }
    }
}

fn finish(mut report: Report, unknown: Option<String>) -> Report {
    report.verdict = if !report.reasons.is_empty() {
        Verdict::Unsafe
    } else if let Some(why) = unknown {
        report.notes.insert(0, why);
        Verdict::Unknown
    } else {
        Verdict::Safe
    };
    if report.verdict == Verdict::Safe && !report.pickles.is_empty() {
        report.notes.push(format!("{} pickle(s) import only allow-listed names", report.pickles.len()));
    }
    report
}
