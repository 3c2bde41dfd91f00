//! Artifact manifests: the files of an artifact with their digests and sizes, paths
//! normalised and checked. The manifest's canonical JSON (keys sorted, no whitespace)
//! is what its digest, and any signature, covers.

use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("an artifact needs at least one file")]
    Empty,
    #[error("an artifact may hold at most {0} files")]
    TooMany(usize),
    #[error("path `{path}`: {why}")]
    Path { path: String, why: &'static str },
    #[error("path `{0}` appears twice")]
    Duplicate(String),
    #[error("file `{path}`: `{digest}` is not a sha256: digest")]
    Digest { path: String, digest: String },
    #[error("`{0}` is not an image reference by digest (`registry/repository@sha256:<64 hex>`)")]
    Image(String),
}

/// One file of an artifact. Fields are in sorted order so that serde's output is the
/// canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    pub digest: String,
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Manifest {
    pub files: Vec<FileEntry>,
    /// A container image by digest (`name@sha256:…`), for artifacts that hold no files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

pub const MAX_FILES: usize = 10_000;

/// Checks a relative path: `/`-separated, no empty, `.` or `..` segments, no absolute
/// or drive paths, no backslashes or control characters. Returns it unchanged.
pub fn check_path(path: &str) -> Result<String, ManifestError> {
    let bad = |why| Err(ManifestError::Path { path: path.to_string(), why });
    if path.is_empty() || path.len() > 1024 {
        return bad("must be 1-1024 bytes");
    }
    if path.starts_with('/') || path.contains('\\') || path.get(1..2) == Some(":") {
        return bad("must be relative, with `/` separators");
    }
    if path.chars().any(|c| c.is_control()) {
        return bad("must not contain control characters");
    }
    for seg in path.split('/') {
        match seg {
            "" => return bad("must not contain empty segments"),
            "." | ".." => return bad("must not contain `.` or `..`"),
            _ => {}
        }
    }
    Ok(path.to_string())
}

fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

impl Manifest {
    pub fn new(mut files: Vec<FileEntry>) -> Result<Self, ManifestError> {
        if files.is_empty() {
            return Err(ManifestError::Empty);
        }
        if files.len() > MAX_FILES {
            return Err(ManifestError::TooMany(MAX_FILES));
        }
        let mut seen = BTreeSet::new();
        for f in &files {
            check_path(&f.path)?;
            if !valid_digest(&f.digest) {
                return Err(ManifestError::Digest { path: f.path.clone(), digest: f.digest.clone() });
            }
            if !seen.insert(f.path.clone()) {
                return Err(ManifestError::Duplicate(f.path.clone()));
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Self { files, image: None })
    }

    /// A container image reference: pinned by digest, never by tag alone.
    pub fn image(reference: &str) -> Result<Self, ManifestError> {
        let bad = || ManifestError::Image(reference.to_string());
        let (name, digest) = reference.split_once('@').ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name.len() <= 255
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b))
            && !name.starts_with(['/', '.', '-'])
            && !name.contains("//");
        if !name_ok || !valid_digest(digest) {
            return Err(bad());
        }
        Ok(Self { files: Vec::new(), image: Some(reference.to_string()) })
    }

    /// `{"files":[{"digest":…,"path":…,"size":…},…]}` with no whitespace: keys are in
    /// sorted order and every value is a string or a small integer, so this is also the
    /// RFC 8785 form.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `sha256:<hex>` of the canonical JSON.
    pub fn digest(&self) -> String {
        use sha2::Digest as _;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(self.canonical().as_bytes())))
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(path: &str) -> FileEntry {
        FileEntry { digest: format!("sha256:{}", "a".repeat(64)), path: path.into(), size: 3 }
    }

    #[test]
    fn canonical_and_sorted() {
        let m = Manifest::new(vec![f("weights/b.bin"), f("config.json")]).unwrap();
        assert_eq!(m.files[0].path, "config.json");
        assert!(m.canonical().starts_with(r#"{"files":[{"digest":"sha256:aaaa"#));
        assert!(m.canonical().ends_with(r#""path":"weights/b.bin","size":3}]}"#));
        assert!(m.digest().starts_with("sha256:") && m.digest().len() == 71);
        assert_eq!(m.total_size(), 6);
    }

    #[test]
    fn images_are_pinned_by_digest() {
        let digest = format!("sha256:{}", "b".repeat(64));
        let m = Manifest::image(&format!("registry.internal:5000/fraud/scorer@{digest}")).unwrap();
        assert_eq!(m.canonical(), format!(r#"{{"files":[],"image":"registry.internal:5000/fraud/scorer@{digest}"}}"#));
        for bad in ["scorer:latest", "scorer@sha256:abc", "@sha256:x", "Scorer@sha256:00", "/x@sha256:00"] {
            assert!(Manifest::image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_traversal_absolute_and_duplicate_paths() {
        for bad in ["../etc/passwd", "a/../../b", "/abs", "C:/x", "a\\\\b", "a//b", "./a", "a/", "", "nul\\u{0}"] {
            assert!(Manifest::new(vec![f(bad)]).is_err(), "{bad}");
        }
        assert_eq!(Manifest::new(vec![f("a"), f("a")]), Err(ManifestError::Duplicate("a".into())));
        assert_eq!(Manifest::new(vec![]), Err(ManifestError::Empty));
        let mut x = f("a");
        x.digest = "md5:1".into();
        assert!(matches!(Manifest::new(vec![x]), Err(ManifestError::Digest { .. })));
    }
}
