//! Finds personal data and secrets in text and redacts them. Pure: no I/O, no
//! allocation per byte; one pass over the text dispatching on the few bytes that can
//! start something (digits, capitals, `@`, `+`, `(`, a handful of prefixes), with
//! checksums and ranges (Luhn and issuer ranges for cards, mod-97 for IBANs, SSA
//! ranges for SSNs) keeping look-alikes out.
//!
//! Offsets are byte offsets into the UTF-8 text, always on character boundaries.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod check;
mod date;
mod names;
mod phone;
mod redact;
mod scan;

pub use redact::{Mode, Redacted, Redactor, StreamRedactor, StreamRestorer, Vault};

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Person,
    Email,
    Phone,
    UsSsn,
    CreditCard,
    Iban,
    IpAddress,
    Date,
    /// A date next to words saying it is a birth date (`DOB`, `born`, `date of birth`).
    DateOfBirth,
    /// Cloud access keys, private key blocks, JWTs, bearer tokens, API keys.
    Secret,
    /// A project's own pattern (index into the detector's list).
    Custom(u16),
}

impl Kind {
    pub const BUILT_IN: &'static [Kind] = &[
        Kind::Person,
        Kind::Email,
        Kind::Phone,
        Kind::UsSsn,
        Kind::CreditCard,
        Kind::Iban,
        Kind::IpAddress,
        Kind::Date,
        Kind::DateOfBirth,
        Kind::Secret,
    ];

    /// The placeholder label: `[EMAIL_1]`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Person => "PERSON",
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::UsSsn => "SSN",
            Kind::CreditCard => "CARD",
            Kind::Iban => "IBAN",
            Kind::IpAddress => "IP",
            Kind::Date => "DATE",
            Kind::DateOfBirth => "DOB",
            Kind::Secret => "SECRET",
            Kind::Custom(_) => "CUSTOM",
        }
    }

    /// Presidio's entity name, the label set of the shared PII corpus.
    pub fn presidio(self) -> &'static str {
        match self {
            Kind::Person => "PERSON",
            Kind::Email => "EMAIL_ADDRESS",
            Kind::Phone => "PHONE_NUMBER",
            Kind::UsSsn => "US_SSN",
            Kind::CreditCard => "CREDIT_CARD",
            Kind::Iban => "IBAN_CODE",
            Kind::IpAddress => "IP_ADDRESS",
            Kind::Date | Kind::DateOfBirth => "DATE_TIME",
            Kind::Secret => "SECRET",
            Kind::Custom(_) => "CUSTOM",
        }
    }

    /// Parses a label (`email`, `EMAIL`, `credit_card`, `ssn`, …).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.to_ascii_lowercase().replace('-', "_");
        Some(match s.as_str() {
            "person" | "name" => Kind::Person,
            "email" | "email_address" => Kind::Email,
            "phone" | "phone_number" => Kind::Phone,
            "ssn" | "us_ssn" => Kind::UsSsn,
            "card" | "credit_card" => Kind::CreditCard,
            "iban" | "iban_code" => Kind::Iban,
            "ip" | "ip_address" => Kind::IpAddress,
            "date" | "date_time" => Kind::Date,
            "dob" | "date_of_birth" => Kind::DateOfBirth,
            "secret" => Kind::Secret,
            _ => return None,
        })
    }

    /// When two findings overlap, the higher one wins.
    fn priority(self) -> u8 {
        match self {
            Kind::Secret => 10,
            Kind::Custom(_) => 9,
            Kind::Email => 8,
            Kind::Iban => 7,
            Kind::CreditCard => 6,
            Kind::UsSsn => 5,
            Kind::IpAddress => 4,
            Kind::Phone => 3,
            Kind::DateOfBirth | Kind::Date => 2,
            Kind::Person => 1,
        }
    }
}

/// One detected value: `text[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// A custom pattern that cannot be used.
#[derive(Debug)]
pub struct PatternError(pub String);

impl std::error::Error for PatternError {}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The detector: built-in kinds plus a project's own named patterns.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    custom: Vec<(String, regex::Regex)>,
}

/// Longest custom pattern source accepted; patterns are compiled with a size limit too.
const MAX_PATTERN: usize = 1024;

impl Detector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named pattern (Rust `regex` syntax, linear-time: no backtracking), e.g.
    /// `("MRN", r"\bMRN-\d{8}\b")`.
    pub fn with_pattern(mut self, name: &str, pattern: &str) -> Result<Self, PatternError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.len() > 32 {
            return Err(PatternError(format!("pattern name `{name}`: use 1 to 32 letters, digits or `_`")));
        }
        if pattern.len() > MAX_PATTERN {
            return Err(PatternError(format!("pattern `{name}` is longer than {MAX_PATTERN} characters")));
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| PatternError(format!("pattern `{name}`: {e}")))?;
        if re.is_match("") {
            return Err(PatternError(format!("pattern `{name}` matches empty text")));
        }
        if self.custom.len() >= usize::from(u16::MAX) {
            return Err(PatternError("too many patterns".into()));
        }
        self.custom.push((name.to_string(), re));
        Ok(self)
    }

    /// The label of a finding's kind (a custom pattern's own name).
    pub fn label(&self, kind: Kind) -> &str {
        match kind {
            Kind::Custom(i) => self.custom.get(usize::from(i)).map_or("CUSTOM", |(n, _)| n.as_str()),
            k => k.label(),
        }
    }

    /// Every finding in `text`, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut found = scan::scan(text);
        for (i, (_, re)) in self.custom.iter().enumerate() {
            let kind = Kind::Custom(u16::try_from(i).unwrap_or(u16::MAX));
            found.extend(re.find_iter(text).map(|m| Finding { start: m.start(), end: m.end(), kind }));
        }
        resolve(found)
    }
}

/// Sorts findings and keeps, of any overlapping ones, the higher-priority (then the
/// longer) one.
fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match out.last_mut() {
            Some(last) if f.start < last.end => {
                let better = f.kind.priority() > last.kind.priority()
                    || (f.kind.priority() == last.kind.priority() && f.end - f.start > last.end - last.start);
                if better {
                    *last = f;
                }
            }
            _ => out.push(f),
        }
    }
    out
}

#[cfg(test)]
mod tests;
