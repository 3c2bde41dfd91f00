//! `warden redact`: the gateway's detectors on local text, with nothing sent anywhere.
//! Plain text from stdin comes back redacted; `--jsonl` writes findings per document
//! in the shared PII scorer's format, so teams can measure detection on their own data.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use warden_redact::{Confidence, Detector, Mode, Redactor, Vault};

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Read JSON Lines documents (`{"id", "text", …}`) from FILE (`-` for stdin) and
    /// write `{"id", "spans": [{"start", "end", "type", "score"}]}` per document:
    /// character offsets, Presidio's type names, the confidence as 0.3, 0.6 or 0.9.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<PathBuf>,
    /// Where to write (default stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// For text: mask (`[EMAIL_1]`), hash (`[EMAIL:…]`, needs --key-file) or drop.
    #[arg(long, default_value = "mask")]
    mode: String,
    /// The key for hash mode.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// An extra pattern, NAME=REGEX (repeatable), e.g. MRN='\bMRN-\d{8}\b'.
    #[arg(long = "pattern", value_name = "NAME=REGEX")]
    patterns: Vec<String>,
    /// The least confidence a finding needs: low (recall first), medium (the
    /// default) or high (precision first); a data class's `redaction_threshold`.
    #[arg(long, default_value = "medium")]
    threshold: String,
}

pub fn run(a: RedactArgs) -> anyhow::Result<()> {
    let threshold = Confidence::parse(&a.threshold)
        .ok_or_else(|| anyhow!("--threshold must be low, medium or high, not `{}`", a.threshold))?;
    let mut detector = Detector::new().with_threshold(threshold);
    for p in &a.patterns {
        let (name, re) = p.split_once('=').ok_or_else(|| anyhow!("give --pattern as NAME=REGEX, not `{p}`"))?;
        detector = detector.with_pattern(name, re).map_err(|e| anyhow!("{e}"))?;
    }
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if let Some(path) = &a.jsonl {
        let input: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
            ))
        };
        for (n, line) in input.lines().enumerate() {
            let line = line.with_context(|| format!("reading line {}", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| anyhow!("line {}: not JSON: {e}", n + 1))?;
            let (Some(id), Some(text)) = (doc.get("id"), doc.get("text").and_then(|t| t.as_str())) else {
                bail!("line {}: each document needs \"id\" and a string \"text\"", n + 1);
            };
            let spans = spans(&detector, text);
            serde_json::to_writer(&mut out, &serde_json::json!({"id": id, "spans": spans}))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(());
    }
    let mode = match a.mode.as_str() {
        "mask" => Mode::Mask,
        "drop" => Mode::Drop,
        "hash" => {
            let p = a.key_file.as_ref().ok_or_else(|| anyhow!("--mode hash needs --key-file"))?;
            let key = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            if key.len() < 16 {
                bail!("the key in {} is shorter than 16 bytes", p.display());
            }
            Mode::Hash { key }
        }
        other => bail!("--mode must be mask, hash or drop, not `{other}`"),
    };
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("reading stdin (UTF-8 text)")?;
    let r = Redactor::new(detector, mode).redact(&text, &mut Vault::default());
    out.write_all(r.text.as_bytes())?;
    out.flush()?;
    let counts: Vec<String> = r.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("redacted: {}", if counts.is_empty() { "nothing".to_string() } else { counts.join(" ") });
    Ok(())
}

/// Findings as character offsets (what Python's `str` slicing uses).
fn spans(detector: &Detector, text: &str) -> Vec<serde_json::Value> {
    let findings = detector.find(text);
    let mut out = Vec::with_capacity(findings.len());
    let mut chars = 0;
    let mut at = 0;
    for f in findings {
        chars += text[at..f.start].chars().count();
        let start = chars;
        chars += text[f.start..f.end].chars().count();
        at = f.end;
        let kind = match f.kind {
            warden_redact::Kind::Custom(_) => detector.label(f.kind),
            k => k.presidio(),
        };
        // The confidence as a score, so the shared scorer's `--threshold` can trace
        // precision against recall from one `--threshold low` run.
        let score = match f.confidence {
            Confidence::Low => 0.3,
            Confidence::Medium => 0.6,
            Confidence::High => 0.9,
        };
        out.push(serde_json::json!({"start": start, "end": chars, "type": kind, "score": score}));
    }
    out
}
