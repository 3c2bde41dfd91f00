//! OpenSSF model-signing bundles (the `model-signing` package's format): a Sigstore
//! bundle (v0.2/v0.3 JSON) whose DSSE envelope carries an in-toto statement listing
//! every file of the model with its SHA-256. Warden checks the DSSE signature with a
//! registered key and then that the statement covers exactly the artifact's files.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::signature::PublicKey;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("not a Sigstore bundle: {0}")]
    Format(String),
    #[error("the bundle's signature does not verify with any trusted signer")]
    Signature,
    #[error("unsupported model-signing statement: {0}")]
    Unsupported(String),
    #[error("the bundle is {0} bytes, over the {MAX_BUNDLE}-byte limit")]
    TooLarge(usize),
}

/// Largest bundle read. Real bundles are a few kilobytes plus one line per file; JSON
/// nesting is bounded by serde_json's recursion limit (128 levels).
pub const MAX_BUNDLE: usize = 16 << 20;

/// What a verified bundle vouches for: relative path → lowercase hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub subject: String,
    pub files: BTreeMap<String, String>,
    /// Index of the key (in the slice given) that verified the signature.
    pub key: usize,
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, BundleError> {
    field(v, path).and_then(Value::as_str).ok_or_else(|| BundleError::Format(format!("missing `{}`", path.join("."))))
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Verifies a bundle with the first of `keys` that matches, and reads its file list.
pub fn verify(bundle: &[u8], keys: &[PublicKey]) -> Result<Signed, BundleError> {
    if bundle.len() > MAX_BUNDLE {
        return Err(BundleError::TooLarge(bundle.len()));
    }
    let b: Value = serde_json::from_slice(bundle).map_err(|e| BundleError::Format(e.to_string()))?;
    let media = text(&b, &["mediaType"])?;
    if !media.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(BundleError::Format(format!("media type `{media}`")));
    }
    let payload_type = text(&b, &["dsseEnvelope", "payloadType"])?;
    if payload_type != "application/vnd.in-toto+json" {
        return Err(BundleError::Unsupported(format!("payload type `{payload_type}`")));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(text(&b, &["dsseEnvelope", "payload"])?)
        .map_err(|_| BundleError::Format("payload is not base64".into()))?;
    let sigs = field(&b, &["dsseEnvelope", "signatures"]).and_then(Value::as_array).cloned().unwrap_or_default();
    let message = pae(payload_type, &payload);
    let key = sigs
        .iter()
        .filter_map(|s| s.get("sig").and_then(Value::as_str))
        .find_map(|sig| keys.iter().position(|k| k.verify(&message, sig).is_ok()))
        .ok_or(BundleError::Signature)?;
    let statement: Value =
        serde_json::from_slice(&payload).map_err(|e| BundleError::Format(format!("statement: {e}")))?;
    if text(&statement, &["_type"])? != "https://in-toto.io/Statement/v1" {
        return Err(BundleError::Unsupported("statement is not in-toto v1".into()));
    }
    let predicate_type = text(&statement, &["predicateType"])?;
    if !predicate_type.starts_with("https://model_signing/signature/") {
        return Err(BundleError::Unsupported(format!("predicate `{predicate_type}`")));
    }
    let method = text(&statement, &["predicate", "serialization", "method"])?;
    let hash = text(&statement, &["predicate", "serialization", "hash_type"])?;
    if method != "files" || hash != "sha256" {
        return Err(BundleError::Unsupported(format!(
            "serialization `{method}` with `{hash}` (Warden checks per-file sha256)"
        )));
    }
    let mut files = BTreeMap::new();
    for r in field(&statement, &["predicate", "resources"])
        .and_then(Value::as_array)
        .ok_or_else(|| BundleError::Format("no resources".into()))?
    {
        let name = text(r, &["name"])?;
        if text(r, &["algorithm"])? != "sha256" {
            return Err(BundleError::Unsupported(format!("`{name}` is not hashed with sha256")));
        }
        let digest = text(r, &["digest"])?;
        if digest.len() != 64 || !digest.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(BundleError::Format(format!("`{name}` has a malformed digest")));
        }
        crate::manifest::check_path(name).map_err(|e| BundleError::Format(e.to_string()))?;
        if files.insert(name.to_string(), digest.to_ascii_lowercase()).is_some() {
            return Err(BundleError::Format(format!("`{name}` is listed twice")));
        }
    }
    let subject = text(&statement, &["subject"]).or_else(|_| {
        field(&statement, &["subject"])
            .and_then(|s| s.get(0))
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .ok_or(BundleError::Format("no subject".into()))
    })?;
    Ok(Signed { subject: subject.to_string(), files, key })
}

/// Compares what the bundle signed with what the artifact holds; every difference is a
/// reason to reject.
pub fn compare(signed: &Signed, manifest: &crate::manifest::Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    for f in &manifest.files {
        match signed.files.get(&f.path) {
            None => problems.push(format!("`{}` is not covered by the model-signing bundle (an extra file)", f.path)),
            Some(d) if f.digest.strip_prefix("sha256:") != Some(d.as_str()) => {
                problems.push(format!("`{}` differs from what was signed (tampered)", f.path))
            }
            Some(_) => {}
        }
    }
    for path in signed.files.keys() {
        if !manifest.files.iter().any(|f| &f.path == path) {
            problems.push(format!("`{path}` was signed but is missing from the artifact"));
        }
    }
    problems
}
