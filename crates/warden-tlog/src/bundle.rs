//! Offline verification: self-contained proof bundles for one event, and a streaming
//! verifier that recomputes a whole log and checks its signed checkpoints.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::note::{Checkpoint, NoteError, VerifierKey};
use crate::proof::{verify_inclusion, ProofError};
use crate::tree::Tree;
use crate::{b64, from_b64, hash_from_b64, jcs, leaf_hash, Hash};

pub const BUNDLE_FORMAT: &str = "warden-audit-proof/v1";

/// Everything needed to check, without a server, that one event is in the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    pub format: String,
    pub index: u64,
    /// Base64 of the leaf: the event's RFC 8785 canonical bytes.
    pub leaf: String,
    pub event: Value,
    pub tree_size: u64,
    /// Base64 hashes of the RFC 9162 inclusion proof.
    pub inclusion: Vec<String>,
    /// The signed checkpoint (C2SP signed note) for `tree_size`.
    pub checkpoint: String,
    /// A consistency proof from the checkpoint the prover had verified before (its pin)
    /// to this one, so that an offline verifier holding that pin can check this tree
    /// extends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyFrom>,
}

/// A consistency proof from an earlier checkpoint (its size and root) to the bundle's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyFrom {
    pub from_size: u64,
    /// Base64 root of the earlier tree.
    pub from_root: String,
    /// Base64 hashes of the RFC 9162 consistency proof.
    pub hashes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("unknown proof format `{0}`")]
    Format(String),
    #[error("checkpoint: {0}")]
    Note(#[from] NoteError),
    #[error("the checkpoint is for {checkpoint} entries but the proof is for {proof}")]
    SizeMismatch { checkpoint: u64, proof: u64 },
    #[error("the leaf is not valid base64 or its event does not canonicalise to it")]
    LeafMismatch,
    #[error("inclusion proof: {0}")]
    Proof(#[from] ProofError),
    #[error("entry {index}: {reason}")]
    Entry { index: u64, reason: String },
    #[error(
        "checkpoint for {size} entries does not match the recomputed log: an entry at index {after} or later (below {size}) was changed"
    )]
    CheckpointMismatch { size: u64, after: u64 },
    #[error("checkpoint for {size} entries is beyond the {entries} entries read")]
    CheckpointBeyondLog { size: u64, entries: u64 },
}

impl ProofBundle {
    /// Checks the bundle with `key`; returns the verified checkpoint.
    pub fn verify(&self, key: &VerifierKey) -> Result<Checkpoint, VerifyError> {
        if self.format != BUNDLE_FORMAT {
            return Err(VerifyError::Format(self.format.clone()));
        }
        let cp = Checkpoint::open(&self.checkpoint, key)?;
        if cp.size != self.tree_size {
            return Err(VerifyError::SizeMismatch { checkpoint: cp.size, proof: self.tree_size });
        }
        let leaf = from_b64(&self.leaf).ok_or(VerifyError::LeafMismatch)?;
        let canonical = jcs::canonicalize(&self.event).map_err(|_| VerifyError::LeafMismatch)?;
        if canonical != leaf {
            return Err(VerifyError::LeafMismatch);
        }
        let proof: Vec<Hash> = self
            .inclusion
            .iter()
            .map(|h| hash_from_b64(h))
            .collect::<Option<_>>()
            .ok_or(VerifyError::Proof(ProofError::WrongLength))?;
        verify_inclusion(self.index, self.tree_size, &leaf_hash(&leaf), &proof, &cp.root)?;
        Ok(cp)
    }

    pub fn new(index: u64, leaf: &[u8], event: Value, tree_size: u64, inclusion: &[Hash], checkpoint: String) -> Self {
        Self {
            format: BUNDLE_FORMAT.to_string(),
            index,
            leaf: b64(leaf),
            event,
            tree_size,
            inclusion: inclusion.iter().map(|h| b64(h)).collect(),
            checkpoint,
            consistency: None,
        }
    }
}

/// Recomputes a log entry by entry and checks signed checkpoints against it.
#[derive(Debug, Default)]
pub struct LogVerifier {
    tree: Tree,
    /// Largest checkpoint size verified so far.
    verified: u64,
    check_canonical: bool,
}

impl LogVerifier {
    /// `check_canonical`: also require every leaf to be canonical JSON (slower).
    pub fn new(check_canonical: bool) -> Self {
        Self { tree: Tree::new(), verified: 0, check_canonical }
    }

    pub fn entries(&self) -> u64 {
        self.tree.size()
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Adds the next entry. `stored_hash` is the leaf hash the store recorded with it.
    pub fn push(&mut self, index: u64, leaf: &[u8], stored_hash: Option<&Hash>) -> Result<(), VerifyError> {
        if index != self.tree.size() {
            return Err(VerifyError::Entry {
                index,
                reason: format!("expected index {}: a gap or a duplicate", self.tree.size()),
            });
        }
        if self.check_canonical && !jcs::is_canonical(leaf) {
            return Err(VerifyError::Entry { index, reason: "the event is not canonical JSON (edited?)".into() });
        }
        let h = leaf_hash(leaf);
        if stored_hash.is_some_and(|s| s != &h) {
            return Err(VerifyError::Entry {
                index,
                reason: "the event does not match its recorded leaf hash (edited)".into(),
            });
        }
        self.tree.push_hash(h);
        Ok(())
    }

    /// Verifies a signed checkpoint against the entries pushed so far.
    pub fn check(&mut self, note: &str, key: &VerifierKey) -> Result<Checkpoint, VerifyError> {
        let cp = Checkpoint::open(note, key)?;
        if cp.size > self.tree.size() {
            return Err(VerifyError::CheckpointBeyondLog { size: cp.size, entries: self.tree.size() });
        }
        let root = self.tree.root(cp.size).map_err(|e| VerifyError::Entry { index: cp.size, reason: e.to_string() })?;
        if root != cp.root {
            return Err(VerifyError::CheckpointMismatch { size: cp.size, after: self.verified.min(cp.size) });
        }
        self.verified = self.verified.max(cp.size);
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::note::SigningKey;

    fn log(n: u64) -> (Vec<Vec<u8>>, Tree) {
        let mut t = Tree::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = jcs::canonicalize(&json!({"i": i, "action": "whoami"})).unwrap();
            t.push_leaf(&leaf);
            leaves.push(leaf);
        }
        (leaves, t)
    }

    #[test]
    fn bundles_verify_offline_and_tampering_fails() {
        let key = SigningKey::generate("warden/audit").unwrap();
        let (leaves, t) = log(11);
        let cp = Checkpoint { origin: "warden/audit".into(), size: 11, root: t.root(11).unwrap() }.sign(&key).unwrap();
        let event: Value = serde_json::from_slice(&leaves[6]).unwrap();
        let b = ProofBundle::new(6, &leaves[6], event, 11, &t.inclusion_proof(6, 11).unwrap(), cp);
        b.verify(&key.verifier()).unwrap();
        let json = serde_json::to_string(&b).unwrap();
        let back: ProofBundle = serde_json::from_str(&json).unwrap();
        back.verify(&key.verifier()).unwrap();

        let mut edited = b.clone();
        edited.event["action"] = json!("project.create");
        assert_eq!(edited.verify(&key.verifier()), Err(VerifyError::LeafMismatch));
        let mut moved = b.clone();
        moved.index = 5;
        assert!(moved.verify(&key.verifier()).is_err());
        let other = SigningKey::generate("warden/audit").unwrap();
        assert!(matches!(b.verify(&other.verifier()), Err(VerifyError::Note(_))));
        let mut resized = b.clone();
        resized.tree_size = 12;
        assert!(matches!(resized.verify(&key.verifier()), Err(VerifyError::SizeMismatch { .. })));
    }

    #[test]
    fn log_verifier_names_edits_and_gaps() {
        let key = SigningKey::generate("warden/audit").unwrap();
        let (leaves, t) = log(20);
        let sign = |n: u64| {
            Checkpoint { origin: "warden/audit".into(), size: n, root: t.root(n).unwrap() }.sign(&key).unwrap()
        };
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();

        let mut v = LogVerifier::new(true);
        for (i, l) in leaves.iter().enumerate() {
            v.push(i as u64, l, Some(&hashes[i])).unwrap();
        }
        v.check(&sign(10), &key.verifier()).unwrap();
        v.check(&sign(20), &key.verifier()).unwrap();

        // An event edited in place, its stored hash untouched: named exactly.
        let mut v = LogVerifier::new(true);
        for (i, l) in leaves.iter().enumerate() {
            let mut l = l.clone();
            if i == 13 {
                l = jcs::canonicalize(&json!({"i": 13, "action": "nothing-to-see"})).unwrap();
            }
            let r = v.push(i as u64, &l, Some(&hashes[i]));
            if i == 13 {
                assert_eq!(
                    r,
                    Err(VerifyError::Entry {
                        index: 13,
                        reason: "the event does not match its recorded leaf hash (edited)".into()
                    })
                );
                break;
            }
        }
        // Edited with its hash recomputed too: the checkpoint catches it.
        let mut v = LogVerifier::new(true);
        for (i, l) in leaves.iter().enumerate() {
            let l = if i == 13 { jcs::canonicalize(&json!({"i": 99})).unwrap() } else { l.clone() };
            v.push(i as u64, &l, None).unwrap();
        }
        v.check(&sign(10), &key.verifier()).unwrap();
        assert_eq!(v.check(&sign(20), &key.verifier()), Err(VerifyError::CheckpointMismatch { size: 20, after: 10 }));
        // Gaps and non-canonical bytes.
        let mut v = LogVerifier::new(true);
        v.push(0, &leaves[0], None).unwrap();
        assert!(matches!(v.push(2, &leaves[2], None), Err(VerifyError::Entry { index: 2, .. })));
        assert!(matches!(v.push(1, b"{\"i\": 1}", None), Err(VerifyError::Entry { index: 1, .. })));
        assert!(matches!(v.check(&sign(5), &key.verifier()), Err(VerifyError::CheckpointBeyondLog { .. })));
    }
}
