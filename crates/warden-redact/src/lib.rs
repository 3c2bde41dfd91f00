//! Finds personal data and secrets in text and redacts them. Pure: no I/O, no
//! allocation per byte; one pass over the text dispatching on the few bytes that can
//! start something (digits, capitals, `@`, `+`, `(`, a handful of prefixes), with
//! checksums and ranges (Luhn and issuer ranges for cards, mod-97 for IBANs, SSA
//! ranges for SSNs) keeping look-alikes out.
//!
//! Offsets are byte offsets into the UTF-8 text, always on character boundaries.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod address;
mod check;
mod date;
mod fold;
mod ids;
mod lexicon;
mod names;
mod numbering;
mod phone;
mod places;
mod redact;
mod scan;

pub use redact::{Mode, Redacted, Redactor, StreamRedactor, StreamRestorer, Vault};

/// What a finding is. Between them the built-in kinds cover HIPAA Safe Harbor's
/// identifiers that can appear in text (names; streets, cities and postcodes;
/// dates and ages; phone and fax numbers; e-mail; SSNs; medical record, health plan,
/// account, certificate and licence numbers; vehicle and device identifiers; URLs;
/// IP addresses; any other identifying number announced as one) plus passports,
/// the checksummed national numbers of Spain, Italy, Poland, France, Germany and
/// the UK's NHS, and secrets. Biometric identifiers and full-face photographs are
/// not text and are out of scope.
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
    /// A street address (one line or several), a postcode.
    Location,
    Url,
    /// An age (`aged 93`, `a 93-year-old`): HIPAA names ages over 89.
    Age,
    MedicalRecord,
    HealthPlan,
    BankAccount,
    /// Certificate and professional licence numbers.
    License,
    /// A DEA registration number (with its check digit).
    MedicalLicense,
    DriverLicense,
    Passport,
    /// A vehicle identification number (with its check digit) or a chassis number.
    Vin,
    LicensePlate,
    /// Serial numbers, IMEIs, device identifiers.
    DeviceId,
    UsItin,
    UkNhs,
    /// Spain's DNI/NIF and NIE.
    EsNif,
    ItFiscalCode,
    PlPesel,
    FrNir,
    /// Germany's Steuer-ID.
    DeTaxId,
    /// Any other number announced as identifying someone (`patient ID`, `employee no.`).
    Identifier,
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
        Kind::Location,
        Kind::Url,
        Kind::Age,
        Kind::MedicalRecord,
        Kind::HealthPlan,
        Kind::BankAccount,
        Kind::License,
        Kind::MedicalLicense,
        Kind::DriverLicense,
        Kind::Passport,
        Kind::Vin,
        Kind::LicensePlate,
        Kind::DeviceId,
        Kind::UsItin,
        Kind::UkNhs,
        Kind::EsNif,
        Kind::ItFiscalCode,
        Kind::PlPesel,
        Kind::FrNir,
        Kind::DeTaxId,
        Kind::Identifier,
    ];

    /// The placeholder label (`[EMAIL_1]`) and Presidio's entity name (the label set
    /// of the shared PII corpus and of users' existing tooling; Warden's own name
    /// where Presidio has none).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Person => ("PERSON", "PERSON"),
            Kind::Email => ("EMAIL", "EMAIL_ADDRESS"),
            Kind::Phone => ("PHONE", "PHONE_NUMBER"),
            Kind::UsSsn => ("SSN", "US_SSN"),
            Kind::CreditCard => ("CARD", "CREDIT_CARD"),
            Kind::Iban => ("IBAN", "IBAN_CODE"),
            Kind::IpAddress => ("IP", "IP_ADDRESS"),
            Kind::Date => ("DATE", "DATE_TIME"),
            Kind::DateOfBirth => ("DOB", "DATE_TIME"),
            Kind::Secret => ("SECRET", "SECRET"),
            Kind::Location => ("LOCATION", "LOCATION"),
            Kind::Url => ("URL", "URL"),
            Kind::Age => ("AGE", "AGE"),
            Kind::MedicalRecord => ("MRN", "MEDICAL_RECORD_NUMBER"),
            Kind::HealthPlan => ("HEALTH_PLAN", "HEALTH_PLAN_ID"),
            Kind::BankAccount => ("ACCOUNT", "US_BANK_NUMBER"),
            Kind::License => ("LICENSE", "LICENSE_NUMBER"),
            Kind::MedicalLicense => ("MEDICAL_LICENSE", "MEDICAL_LICENSE"),
            Kind::DriverLicense => ("DRIVER_LICENSE", "US_DRIVER_LICENSE"),
            Kind::Passport => ("PASSPORT", "PASSPORT"),
            Kind::Vin => ("VIN", "VIN"),
            Kind::LicensePlate => ("PLATE", "LICENSE_PLATE"),
            Kind::DeviceId => ("DEVICE", "DEVICE_ID"),
            Kind::UsItin => ("ITIN", "US_ITIN"),
            Kind::UkNhs => ("NHS", "UK_NHS"),
            Kind::EsNif => ("NIF", "ES_NIF"),
            Kind::ItFiscalCode => ("FISCAL_CODE", "IT_FISCAL_CODE"),
            Kind::PlPesel => ("PESEL", "PL_PESEL"),
            Kind::FrNir => ("NIR", "FR_NIR"),
            Kind::DeTaxId => ("TAX_ID", "DE_TAX_ID"),
            Kind::Identifier => ("ID", "ID"),
            Kind::Custom(_) => ("CUSTOM", "CUSTOM"),
        }
    }

    /// The placeholder label: `[EMAIL_1]`.
    pub fn label(self) -> &'static str {
        self.names().0
    }

    /// Presidio's entity name.
    pub fn presidio(self) -> &'static str {
        self.names().1
    }

    /// Parses a label or a Presidio name (`email`, `EMAIL_ADDRESS`, `credit_card`,
    /// `ssn`, `mrn`, …).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.to_ascii_uppercase().replace('-', "_");
        let aliases: &[(&str, Kind)] = &[
            ("NAME", Kind::Person),
            ("EMAIL", Kind::Email),
            ("PHONE", Kind::Phone),
            ("CARD", Kind::CreditCard),
            ("IBAN", Kind::Iban),
            ("IP", Kind::IpAddress),
            ("DATE", Kind::Date),
            ("DATE_OF_BIRTH", Kind::DateOfBirth),
            ("ADDRESS", Kind::Location),
        ];
        if let Some((_, k)) = aliases.iter().find(|(a, _)| *a == s) {
            return Some(*k);
        }
        // `DATE_TIME` names both dates and birth dates: the first, `Date`, is meant.
        Kind::BUILT_IN.iter().copied().find(|k| k.label() == s || k.presidio() == s)
    }

    /// When two findings overlap, the higher one wins.
    fn priority(self) -> u8 {
        match self {
            Kind::Secret => 20,
            Kind::Custom(_) => 19,
            Kind::Email => 18,
            Kind::Url => 17,
            Kind::Iban => 16,
            Kind::CreditCard => 15,
            Kind::EsNif
            | Kind::ItFiscalCode
            | Kind::PlPesel
            | Kind::FrNir
            | Kind::DeTaxId
            | Kind::UkNhs
            | Kind::Vin
            | Kind::MedicalLicense => 14,
            Kind::UsSsn | Kind::UsItin => 13,
            Kind::IpAddress => 12,
            Kind::MedicalRecord
            | Kind::HealthPlan
            | Kind::BankAccount
            | Kind::License
            | Kind::DriverLicense
            | Kind::Passport
            | Kind::LicensePlate
            | Kind::DeviceId
            | Kind::Identifier => 11,
            Kind::Phone => 10,
            Kind::Location => 9,
            Kind::DateOfBirth | Kind::Date => 8,
            Kind::Age => 7,
            Kind::Person => 5,
        }
    }
}

/// One detected value: `text[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub confidence: Confidence,
}

/// How sure the detector is of a finding. `Medium` and above is what the detector
/// reports by default; `Low` adds what is only plausible (a capitalised word no list
/// knows, in the middle of a sentence; a grouped number of a phone's length that no
/// region calls valid), for data classes that choose recall over precision; `High`
/// keeps only values with a syntax or a check digit of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    /// What a finding of this kind is by its shape alone: `High` for values with a
    /// syntax or a check digit of their own (e-mail and IP addresses, URLs, cards,
    /// IBANs, national numbers, secrets), `Medium` for what rests on words and context
    /// (names, places, postal addresses, dates, phones, numbers announced by a word).
    pub fn of(kind: Kind) -> Confidence {
        match kind {
            Kind::Email
            | Kind::Url
            | Kind::IpAddress
            | Kind::CreditCard
            | Kind::Iban
            | Kind::UsSsn
            | Kind::UsItin
            | Kind::EsNif
            | Kind::ItFiscalCode
            | Kind::PlPesel
            | Kind::FrNir
            | Kind::DeTaxId
            | Kind::Vin
            | Kind::MedicalLicense
            | Kind::Secret
            | Kind::Custom(_) => Confidence::High,
            _ => Confidence::Medium,
        }
    }

    pub fn parse(s: &str) -> Option<Confidence> {
        Some(match s {
            "low" => Confidence::Low,
            "medium" => Confidence::Medium,
            "high" => Confidence::High,
            _ => return None,
        })
    }
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

/// The detector: built-in kinds plus a project's own named patterns, reporting
/// findings at or above a confidence (`Medium` unless set).
#[derive(Debug, Clone, Default)]
pub struct Detector {
    custom: Vec<(String, regex::Regex)>,
    threshold: Confidence,
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

    /// Reports only findings at or above `threshold`.
    pub fn with_threshold(mut self, threshold: Confidence) -> Self {
        self.threshold = threshold;
        self
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
        self.find_knowing(text, &[])
    }

    /// `find`, also looking for the parts of names found earlier (`known`, e.g. in the
    /// parts of a stream already sent).
    pub fn find_knowing(&self, text: &str, known: &[String]) -> Vec<Finding> {
        // Look-alike characters are read as what they look like ([`fold`]); findings
        // point into the text as sent.
        let Some(view) = fold::view(text) else { return self.find_folded(text, known) };
        let mut found = self.find_folded(&view.text, known);
        for f in &mut found {
            (f.start, f.end) = (view.original(f.start), view.original(f.end));
        }
        found
    }

    fn find_folded(&self, text: &str, known: &[String]) -> Vec<Finding> {
        let (mut found, words) = scan::scan(text);
        found.retain(|f| f.confidence >= self.threshold);
        let again = names::mentions(text, &found, known, &words);
        found.extend(again);
        for (i, (_, re)) in self.custom.iter().enumerate() {
            let kind = Kind::Custom(u16::try_from(i).unwrap_or(u16::MAX));
            found.extend(re.find_iter(text).map(|m| Finding {
                start: m.start(),
                end: m.end(),
                kind,
                confidence: Confidence::High,
            }));
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
