//! Prefixed, sortable identifiers: `<prefix>_<ULID>`, e.g. `prj_01JD3V9W6ZK2T8Q4N5R7S9X0AB`.
//! ULIDs sort by creation time, so cursors over ids are stable and time-ordered.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{value}` is not a valid {kind} id (expected `{prefix}_` followed by a 26-character ULID)")]
pub struct IdError {
    pub kind: &'static str,
    pub prefix: &'static str,
    pub value: String,
}

fn parse_prefixed(value: &str, prefix: &'static str, kind: &'static str) -> Result<String, IdError> {
    let err = || IdError { kind, prefix, value: value.to_string() };
    let rest = value.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')).ok_or_else(err)?;
    ulid::Ulid::from_string(rest).map_err(|_| err())?;
    Ok(value.to_string())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            /// A new id whose ULID carries the given time (milliseconds) and fresh randomness.
            pub fn generate(now_ms: i64) -> Self {
                let ms = u64::try_from(now_ms).unwrap_or(0);
                let ulid = ulid::Ulid::from_parts(ms, rand_bits());
                Self(format!("{}_{}", $prefix, ulid))
            }
            pub fn parse(value: &str) -> Result<Self, IdError> {
                parse_prefixed(value, $prefix, $kind).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

fn rand_bits() -> u128 {
    // ulid's own generator uses the thread RNG; we only need its random half.
    ulid::Ulid::new().random()
}

prefixed_id!(
    /// A project (data product).
    ProjectId, "prj", "project");
prefixed_id!(
    /// A group of subjects.
    GroupId, "grp", "group");
prefixed_id!(
    /// An API token. The id is public; the secret half is never stored.
    TokenId, "tok", "token");
prefixed_id!(
    /// An intake record (an artifact as admitted or rejected).
    ArtifactId, "art", "artifact");
prefixed_id!(
    /// A trusted signer (a registered public key).
    SignerId, "sig", "signer");
prefixed_id!(
    /// A registered model.
    ModelId, "mdl", "model");
prefixed_id!(
    /// A chunked upload session.
    UploadId, "upl", "upload");
prefixed_id!(
    /// A release: a model version proposed for, and perhaps deployed to, a zone.
    ReleaseId, "rel", "release");
prefixed_id!(
    /// A dataset in the catalog.
    DatasetId, "dst", "dataset");
prefixed_id!(
    /// An approved (or requested) transfer of a dataset into a zone outside its residency.
    TransferId, "trf", "transfer");
prefixed_id!(
    /// A deletion request (GDPR Art. 17, or a purge).
    DeletionId, "del", "deletion request");
prefixed_id!(
    /// A quarantine placed on a dataset or a model version.
    QuarantineId, "qrn", "quarantine");
prefixed_id!(
    /// An internal event (sign-in attempts, authorisation decisions).
    EventId, "evt", "event");

/// A person (`usr_`) or a service identity (`svc_`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubjectId(String);

impl SubjectId {
    pub fn generate_user(now_ms: i64) -> Self {
        Self(format!("usr_{}", ulid::Ulid::from_parts(u64::try_from(now_ms).unwrap_or(0), rand_bits())))
    }
    pub fn generate_service(now_ms: i64) -> Self {
        Self(format!("svc_{}", ulid::Ulid::from_parts(u64::try_from(now_ms).unwrap_or(0), rand_bits())))
    }
    pub fn parse(value: &str) -> Result<Self, IdError> {
        parse_prefixed(value, "usr", "user")
            .or_else(|_| parse_prefixed(value, "svc", "service"))
            .map(Self)
            .map_err(|_| IdError { kind: "user or service", prefix: "usr|svc", value: value.to_string() })
    }
    pub fn is_service(&self) -> bool {
        self.0.starts_with("svc_")
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for SubjectId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        Self::parse(&value)
    }
}
impl From<SubjectId> for String {
    fn from(id: SubjectId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let a = ProjectId::generate(1_000);
        let b = ProjectId::generate(2_000);
        assert!(a < b, "ids sort by creation time");
        assert_eq!(ProjectId::parse(a.as_str()).unwrap(), a);
        assert!(a.as_str().starts_with("prj_"));
    }

    #[test]
    fn rejects_wrong_prefix_and_garbage() {
        let g = GroupId::generate(5);
        assert!(ProjectId::parse(g.as_str()).is_err());
        assert!(ProjectId::parse("prj_").is_err());
        assert!(ProjectId::parse("prj_not-a-ulid").is_err());
        assert!(SubjectId::parse("usr_01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
        assert!(SubjectId::parse("svc_01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap().is_service());
        assert!(SubjectId::parse("grp_01ARZ3NDEKTSV4RRFFQ69G5FAV").is_err());
    }
}
