//! The Warden domain model: identifiers, roles and the authenticated principal.
//!
//! Pure: no IO and no clock. Time is passed in as [`Timestamp`].

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod id;
mod principal;
mod role;

pub use id::{
    ArtifactId, DatasetId, DeletionId, EventId, GroupId, IdError, ModelId, ProjectId, QuarantineId, ReleaseId,
    SignerId, SubjectId, TokenId, TransferId, UploadId,
};
pub use principal::{AuthMethod, Principal, PrincipalKind, TokenScope};
pub use role::{Role, RoleError, RoleScope};

/// The source of time: the binary passes the system's, tests their own.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Milliseconds since the Unix epoch, UTC. The domain never reads the clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_seconds(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

/// Validates a human-chosen name (users, groups, projects, services): 1-63 characters of
/// lowercase ASCII letters, digits, `-`, `_` and `.`, starting with a letter.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok_len = !name.is_empty() && name.len() <= 63;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok_len && first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: use 1-63 lowercase letters, digits, '-', '_' or '.', starting with a letter"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("risk-models").is_ok());
        assert!(validate_name("a").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("Risk").is_err());
        assert!(validate_name("1abc").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name(&"a".repeat(64)).is_err());
    }
}
