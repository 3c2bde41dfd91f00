//! Turning findings into redacted text: typed placeholders (`[EMAIL_1]`, the same value
//! always the same placeholder within one vault, so a model can still tell two people
//! apart) that can be put back into a response, keyed hashes, or removal. Streams
//! too, holding back only as much as a value can span.

use std::collections::{BTreeMap, HashMap};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Detector, Finding, Kind};

/// What happens to a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `[EMAIL_1]`; the vault can put the value back.
    Mask,
    /// `[EMAIL:3f2a9c01b7e4]`: HMAC-SHA256 under the key, the same for the same value
    /// everywhere the key is used, and not reversible.
    Hash { key: Vec<u8> },
    /// Removed.
    Drop,
}

/// Placeholders issued for one conversation, and their values (kept in memory only).
#[derive(Debug, Default, Clone)]
pub struct Vault {
    /// `label NUL value` → placeholder.
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
    counters: HashMap<String, usize>,
    /// The key being looked up, reused so a lookup allocates nothing.
    scratch: String,
}

impl Vault {
    /// Writes the placeholder for `value` (issuing one the first time) to `out`.
    fn placeholder(&mut self, label: &str, value: &str, out: &mut String) {
        self.scratch.clear();
        self.scratch.push_str(label);
        self.scratch.push('\0');
        self.scratch.push_str(value);
        if let Some(p) = self.by_value.get(self.scratch.as_str()) {
            out.push_str(p);
            return;
        }
        let n = match self.counters.get_mut(label) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                self.counters.insert(label.to_string(), 1);
                1
            }
        };
        let p = format!("[{label}_{n}]");
        out.push_str(&p);
        self.by_value.insert(self.scratch.clone(), p.clone());
        self.by_placeholder.insert(p, value.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.by_placeholder.is_empty()
    }

    /// Puts the values back for every placeholder this vault issued.
    pub fn restore(&self, text: &str) -> String {
        if self.by_placeholder.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            match tail.find(']').map(|close| &tail[..=close]).and_then(|p| self.by_placeholder.get(p).map(|v| (p, v))) {
                Some((p, v)) => {
                    out.push_str(v);
                    rest = &tail[p.len()..];
                }
                None => {
                    out.push('[');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The result of redacting one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    /// Findings by label, for the audit record (counts only, never values).
    pub counts: BTreeMap<String, usize>,
}

/// A detector, the kinds to act on, and the mode.
#[derive(Debug, Clone)]
pub struct Redactor {
    detector: Detector,
    kinds: Option<Vec<Kind>>,
    mode: Mode,
}

impl Redactor {
    /// Acts on every kind the detector finds.
    pub fn new(detector: Detector, mode: Mode) -> Self {
        Self { detector, kinds: None, mode }
    }

    /// Acts only on these kinds (custom patterns always count).
    pub fn only(mut self, kinds: &[Kind]) -> Self {
        self.kinds = Some(kinds.to_vec());
        self
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    fn wanted(&self, k: Kind) -> bool {
        matches!(k, Kind::Custom(_)) || self.kinds.as_ref().is_none_or(|ks| ks.contains(&k))
    }

    /// The findings this redactor acts on.
    pub fn findings(&self, text: &str) -> Vec<Finding> {
        self.detector.find(text).into_iter().filter(|f| self.wanted(f.kind)).collect()
    }

    /// Redacts `text`, issuing placeholders from `vault`.
    pub fn redact(&self, text: &str, vault: &mut Vault) -> Redacted {
        let findings = self.findings(text);
        self.apply(text, &findings, vault)
    }

    fn apply(&self, text: &str, findings: &[Finding], vault: &mut Vault) -> Redacted {
        let mut out = String::with_capacity(text.len());
        let mut counts = BTreeMap::new();
        let mut at = 0;
        for f in findings {
            out.push_str(&text[at..f.start]);
            let label = self.detector.label(f.kind);
            let value = &text[f.start..f.end];
            match &self.mode {
                Mode::Mask => vault.placeholder(label, value, &mut out),
                Mode::Hash { key } => {
                    let digest = match Hmac::<Sha256>::new_from_slice(key) {
                        Ok(mut mac) => {
                            mac.update(label.as_bytes());
                            mac.update(&[0]);
                            mac.update(value.as_bytes());
                            hex::encode(&mac.finalize().into_bytes()[..6])
                        }
                        Err(_) => "0".repeat(12),
                    };
                    out.push_str(&format!("[{label}:{digest}]"));
                }
                Mode::Drop => {}
            }
            match counts.get_mut(label) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(label.to_string(), 1);
                }
            }
            at = f.end;
        }
        out.push_str(&text[at..]);
        Redacted { text: out, counts }
    }

    /// A redactor for text that arrives in pieces.
    pub fn stream(&self) -> StreamRedactor<'_> {
        StreamRedactor {
            redactor: self,
            buf: String::new(),
            sent: String::new(),
            counts: BTreeMap::new(),
            names: Vec::new(),
        }
    }
}

/// How far back a value can start from the end of what has arrived: the longest
/// value the detectors treat as one (an IBAN in groups, a name with particles, a
/// bearer token) is well under this. PEM blocks may be longer; they are still cut
/// at this window, each part of the block redacted as a secret.
const HOLD: usize = 256;

/// Redacts a stream: `push` returns the redacted text that is safe to send (nothing
/// that could still turn out to be the start of a value), `finish` the rest.
#[derive(Debug)]
pub struct StreamRedactor<'a> {
    redactor: &'a Redactor,
    buf: String,
    /// The end of what was already sent (context for detection).
    sent: String,
    counts: BTreeMap<String, usize>,
    /// Names found in what was sent, so a later mention of one alone is found too.
    names: Vec<String>,
}

impl StreamRedactor<'_> {
    /// Findings in what is held, offsets relative to it. Detection sees a little of
    /// what was already sent, for context (`DOB`, `phone`); findings that start there
    /// were dealt with before.
    fn pending_findings(&self) -> Vec<Finding> {
        let ctx = self.sent.len();
        let window = format!("{}{}", self.sent, self.buf);
        let found = self.redactor.detector.find_knowing(&window, &self.names);
        found
            .into_iter()
            .filter(|f| self.redactor.wanted(f.kind))
            .filter(|f| f.start >= ctx)
            .map(|f| Finding { start: f.start - ctx, end: f.end - ctx, ..f })
            .collect()
    }

    pub fn push(&mut self, chunk: &str, vault: &mut Vault) -> String {
        self.buf.push_str(chunk);
        if self.buf.len() <= HOLD {
            return String::new();
        }
        let findings = self.pending_findings();
        // Send up to whitespace before the held-back tail, never into a finding that
        // reaches the tail (it may grow when more text arrives), never splitting one.
        let mut cut = self.buf.len() - HOLD;
        while !self.buf.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(f) = findings.iter().find(|f| f.end > cut) {
            cut = cut.min(f.start);
        }
        if let Some(f) = findings.iter().find(|f| f.start < cut && f.end > cut) {
            cut = f.start;
        }
        if !findings.iter().any(|f| f.start == cut) {
            match self.buf[..cut].rfind(char::is_whitespace) {
                Some(ws) => cut = ws + 1,
                None => return String::new(),
            }
            if let Some(f) = findings.iter().find(|f| f.start < cut && f.end > cut) {
                cut = f.start;
            }
        }
        if cut == 0 {
            return String::new();
        }
        let done: Vec<Finding> = findings.into_iter().filter(|f| f.end <= cut).collect();
        for f in done.iter().filter(|f| f.kind == Kind::Person) {
            let name = &self.buf[f.start..f.end];
            if self.names.len() < 256 && !self.names.iter().any(|n| n == name) {
                self.names.push(name.to_string());
            }
        }
        let r = self.redactor.apply(&self.buf[..cut], &done, vault);
        for (k, v) in r.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
        let sent: String = self.buf.drain(..cut).collect();
        let keep_from = sent.len().saturating_sub(CONTEXT);
        let keep_from = (keep_from..=sent.len()).find(|&i| sent.is_char_boundary(i)).unwrap_or(sent.len());
        self.sent = sent[keep_from..].to_string();
        r.text
    }

    /// The rest of the stream, and the counts for all of it.
    pub fn finish(mut self, vault: &mut Vault) -> (String, BTreeMap<String, usize>) {
        let findings = self.pending_findings();
        let r = self.redactor.apply(&self.buf, &findings, vault);
        for (k, v) in r.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
        (r.text, self.counts)
    }
}

/// How much already-sent text detection still sees, for context words.
const CONTEXT: usize = 32;

/// Puts values back into a streamed response, holding back a `[` that may begin a
/// placeholder until it closes (or cannot be one).
#[derive(Debug, Default)]
pub struct StreamRestorer {
    buf: String,
}

/// Longest placeholder held back: `[` + label + `_` + number + `]`.
const MAX_PLACEHOLDER: usize = 48;

impl StreamRestorer {
    pub fn push(&mut self, chunk: &str, vault: &Vault) -> String {
        self.buf.push_str(chunk);
        let keep_from = match self.buf.rfind('[') {
            Some(open) if !self.buf[open..].contains(']') && self.buf.len() - open < MAX_PLACEHOLDER => open,
            _ => self.buf.len(),
        };
        let out = vault.restore(&self.buf[..keep_from]);
        self.buf.drain(..keep_from);
        out
    }

    pub fn finish(self, vault: &Vault) -> String {
        vault.restore(&self.buf)
    }
}
