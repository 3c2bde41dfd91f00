//! `warden dataset scan FILE`: reads a sample of a CSV, JSON Lines or Parquet file
//! locally, runs the redaction detectors over each column's values and proposes column
//! classes with counts. Nothing of the sample leaves the machine: a proposal carries
//! column names, detector kinds and counts only.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use warden_api as api;
use warden_redact::{Detector, Kind};

/// Column name → sampled values (as text).
pub type Sample = Vec<(String, Vec<String>)>;

fn push(sample: &mut Sample, column: &str, value: String) {
    match sample.iter_mut().find(|(c, _)| c == column) {
        Some((_, v)) => v.push(value),
        None => sample.push((column.to_string(), vec![value])),
    }
}

/// Reads up to `rows` rows; the format comes from `format` or the file's extension.
pub fn read_sample(path: &Path, format: Option<&str>, rows: usize) -> anyhow::Result<(Sample, usize)> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let format = format.map(str::to_string).unwrap_or(match ext.as_str() {
        "csv" | "tsv" => "csv".into(),
        "jsonl" | "ndjson" | "json" => "jsonl".into(),
        "parquet" | "pq" => "parquet".into(),
        other => bail!("cannot tell the format of `.{other}` files; say --format csv, jsonl or parquet"),
    });
    let mut sample: Sample = Vec::new();
    let mut n = 0;
    match format.as_str() {
        "csv" => {
            let delimiter = if ext == "tsv" { b'\t' } else { b',' };
            let mut r = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .from_path(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let headers = r.headers().map_err(|e| anyhow!("{}: malformed CSV header: {e}", path.display()))?.clone();
            for record in r.records().take(rows) {
                let record = record.map_err(|e| anyhow!("{}: malformed CSV: {e}", path.display()))?;
                for (h, v) in headers.iter().zip(record.iter()) {
                    push(&mut sample, h, v.to_string());
                }
                n += 1;
            }
        }
        "jsonl" => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).take(rows).enumerate() {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| anyhow!("{} line {}: {e}", path.display(), i + 1))?;
                let obj =
                    v.as_object().ok_or_else(|| anyhow!("{} line {}: not a JSON object", path.display(), i + 1))?;
                for (k, v) in obj {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    push(&mut sample, k, text);
                }
                n += 1;
            }
        }
        "parquet" => {
            use parquet::file::reader::{FileReader, SerializedFileReader};
            let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
            let r = SerializedFileReader::new(f)
                .map_err(|e| anyhow!("{}: not a readable Parquet file: {e}", path.display()))?;
            let iter = r.get_row_iter(None).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            for row in iter.take(rows) {
                let row = row.map_err(|e| anyhow!("{}: malformed Parquet row: {e}", path.display()))?;
                for (name, field) in row.get_column_iter() {
                    let text = match field {
                        parquet::record::Field::Str(s) => s.clone(),
                        parquet::record::Field::Null => String::new(),
                        other => other.to_string(),
                    };
                    push(&mut sample, name, text);
                }
                n += 1;
            }
        }
        other => bail!("unknown format `{other}`: csv, jsonl or parquet"),
    }
    Ok((sample, n))
}

/// The classes a detector kind suggests.
fn classes_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        // Health identifiers: protected health information.
        Kind::MedicalRecord | Kind::HealthPlan | Kind::MedicalLicense | Kind::UkNhs => &["ephi", "personal_data"],
        Kind::Person
        | Kind::Email
        | Kind::Phone
        | Kind::UsSsn
        | Kind::UsItin
        | Kind::Iban
        | Kind::BankAccount
        | Kind::IpAddress
        | Kind::DateOfBirth
        | Kind::Location
        | Kind::Age
        | Kind::License
        | Kind::DriverLicense
        | Kind::Passport
        | Kind::Vin
        | Kind::LicensePlate
        | Kind::DeviceId
        | Kind::EsNif
        | Kind::ItFiscalCode
        | Kind::PlPesel
        | Kind::FrNir
        | Kind::DeTaxId
        | Kind::Identifier => &["personal_data"],
        Kind::CreditCard => &["cardholder_data"],
        Kind::Date | Kind::Url | Kind::Secret | Kind::Custom(_) => &[],
    }
}

/// Per column: kinds found with counts, and the classes proposed (a kind counts when it
/// is in at least 5% of the non-empty values). `declared` limits classes to the policy's.
pub fn propose(sample: &Sample, declared: Option<&[String]>) -> Vec<api::ProposedColumn> {
    let detector = Detector::new();
    sample
        .iter()
        .map(|(name, values)| {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            let mut kinds: BTreeMap<&'static str, (Kind, u64)> = BTreeMap::new();
            let non_empty = values.iter().filter(|v| !v.trim().is_empty()).count() as u64;
            for v in values {
                let mut seen = std::collections::BTreeSet::new();
                for f in detector.find(v) {
                    if seen.insert(f.kind.label()) {
                        kinds.entry(f.kind.label()).or_insert((f.kind, 0)).1 += 1;
                    }
                }
            }
            let mut classes = Vec::new();
            for (label, (kind, n)) in &kinds {
                counts.insert(label.to_string(), *n);
                if *n * 20 >= non_empty.max(1) {
                    for c in classes_of(*kind) {
                        if declared.is_none_or(|d| d.iter().any(|x| x == c)) && !classes.iter().any(|x: &String| x == c)
                        {
                            classes.push(c.to_string());
                        }
                    }
                }
            }
            api::ProposedColumn { name: name.clone(), counts, classes }
        })
        .collect()
}
