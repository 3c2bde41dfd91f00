//! Evidence answers that verify offline: an answer to one of the auditor's questions,
//! the ledger entries it rests on with their inclusion proofs, the signed checkpoint
//! they prove into, and the log key's signature over the whole.
//!
//! What a verifier holding only the log's public key learns:
//!
//! - every entry is in the log the checkpoint commits to (so an event edited in the
//!   database, or in the answer file, no longer proves);
//! - every entry the answer cites (`"evidence": [index, …]` anywhere in the answer) is
//!   one of the proven entries;
//! - the answer, its subject and its entries are what the log's operator signed, so a
//!   row cannot be added, dropped or changed after the fact.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::note::{Checkpoint, NoteError, SigningKey, VerifierKey};
use crate::proof::{verify_inclusion, ProofError};
use crate::{b64, hash_from_b64, jcs, leaf_hash, Hash};

pub const EVIDENCE_FORMAT: &str = "warden-evidence/v1";

/// The most entries one answer carries (each with its proof).
pub const MAX_ENTRIES: usize = 5_000;

/// One auditor question answered, with what it rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBundle {
    pub format: String,
    /// `data-access`, `locations`, `access`, `active`, `change`, `log`, `data-handling`.
    pub question: String,
    /// What was asked about, and when (`at`, `from`, `to`).
    pub subject: Value,
    /// RFC 3339 time the answer was made.
    pub answered_at: String,
    /// The answer; rows cite ledger entries as `"evidence": [index, …]`.
    pub answer: Value,
    /// The ledger entries the answer rests on, in index order.
    pub entries: Vec<ProvenEntry>,
    pub tree_size: u64,
    /// The signed checkpoint (C2SP signed note) for `tree_size`.
    pub checkpoint: String,
    /// A signed note by the log key whose text is `warden-evidence/v1` and the base64
    /// SHA-256 of the RFC 8785 form of this bundle without `signature`.
    #[serde(default)]
    pub signature: String,
}

/// A ledger entry with its RFC 9162 inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProvenEntry {
    pub index: u64,
    /// The event; its RFC 8785 form is the leaf.
    pub event: Value,
    /// Base64 hashes of the inclusion proof into `tree_size`.
    pub inclusion: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvidenceError {
    #[error("unknown evidence format `{0}`")]
    Format(String),
    #[error("checkpoint: {0}")]
    Checkpoint(NoteError),
    #[error("the checkpoint is for {checkpoint} entries but the answer claims {claimed}")]
    SizeMismatch { checkpoint: u64, claimed: u64 },
    #[error("entry {0}: its event cannot be canonicalised")]
    Canonical(u64),
    #[error("entry {index} is not in the log the checkpoint commits to (edited?): {source}")]
    NotIncluded { index: u64, source: ProofError },
    #[error("entry {0} appears twice or out of order")]
    Order(u64),
    #[error("the answer cites entry {0}, which the bundle does not prove")]
    Uncited(u64),
    #[error("the answer carries {0} entries, more than {MAX_ENTRIES}")]
    TooMany(usize),
    #[error("the log key's signature over the answer does not verify (the answer was changed): {0}")]
    Signature(NoteError),
    #[error("the signature covers a different answer (the answer was changed after signing)")]
    Digest,
    #[error("the release manifest: {0}")]
    Manifest(String),
    #[error("the checkpoint chain: {0}")]
    Chain(String),
}

/// What a verified bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub checkpoint: Checkpoint,
    pub entries: usize,
    pub cited: usize,
}

impl EvidenceBundle {
    /// An unsigned bundle; [`EvidenceBundle::sign`] completes it.
    pub fn new(question: &str, subject: Value, answered_at: String, answer: Value) -> Self {
        Self {
            format: EVIDENCE_FORMAT.into(),
            question: question.into(),
            subject,
            answered_at,
            answer,
            entries: Vec::new(),
            tree_size: 0,
            checkpoint: String::new(),
            signature: String::new(),
        }
    }

    /// The text the signature note carries.
    fn signed_text(&self) -> Result<String, EvidenceError> {
        let mut v = serde_json::to_value(self).map_err(|_| EvidenceError::Canonical(0))?;
        if let Some(o) = v.as_object_mut() {
            o.remove("signature");
        }
        let bytes = jcs::canonicalize(&v).map_err(|_| EvidenceError::Canonical(0))?;
        Ok(format!("{EVIDENCE_FORMAT}\n{}\n", b64(&Sha256::digest(&bytes))))
    }

    /// Signs the bundle with the log key (after entries and checkpoint are set).
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), EvidenceError> {
        let text = self.signed_text()?;
        self.signature = key.sign_note(&text).map_err(EvidenceError::Signature)?;
        Ok(())
    }

    /// [`EvidenceBundle::sign`] with a signer that is not a [`SigningKey`] value (the
    /// ledger's, behind its own API).
    pub fn sign_with(&mut self, sign: impl FnOnce(&str) -> Option<String>) -> Result<(), EvidenceError> {
        let text = self.signed_text()?;
        self.signature = sign(&text).ok_or(EvidenceError::Signature(NoteError::Malformed("signing failed")))?;
        Ok(())
    }

    /// Checks everything with the log's public key alone.
    pub fn verify(&self, key: &VerifierKey) -> Result<Verified, EvidenceError> {
        if self.format != EVIDENCE_FORMAT {
            return Err(EvidenceError::Format(self.format.clone()));
        }
        if self.entries.len() > MAX_ENTRIES {
            return Err(EvidenceError::TooMany(self.entries.len()));
        }
        let cp = Checkpoint::open(&self.checkpoint, key).map_err(EvidenceError::Checkpoint)?;
        if cp.size != self.tree_size {
            return Err(EvidenceError::SizeMismatch { checkpoint: cp.size, claimed: self.tree_size });
        }
        let mut last: Option<u64> = None;
        for e in &self.entries {
            if last.is_some_and(|l| l >= e.index) {
                return Err(EvidenceError::Order(e.index));
            }
            last = Some(e.index);
            let leaf = jcs::canonicalize(&e.event).map_err(|_| EvidenceError::Canonical(e.index))?;
            let proof: Vec<Hash> = e
                .inclusion
                .iter()
                .map(|h| hash_from_b64(h))
                .collect::<Option<_>>()
                .ok_or(EvidenceError::NotIncluded { index: e.index, source: ProofError::WrongLength })?;
            verify_inclusion(e.index, self.tree_size, &leaf_hash(&leaf), &proof, &cp.root)
                .map_err(|source| EvidenceError::NotIncluded { index: e.index, source })?;
        }
        let mut cited = Vec::new();
        citations(&self.answer, &mut cited);
        cited.sort_unstable();
        cited.dedup();
        for c in &cited {
            if self.entries.binary_search_by_key(c, |e| e.index).is_err() {
                return Err(EvidenceError::Uncited(*c));
            }
        }
        let text = key.open(&self.signature).map_err(EvidenceError::Signature)?;
        if text != self.signed_text()? {
            return Err(EvidenceError::Digest);
        }
        match self.question.as_str() {
            "change" => self.check_manifest(key)?,
            "log" => self.check_chain(key, &cp)?,
            _ => {}
        }
        Ok(Verified { checkpoint: cp, entries: self.entries.len(), cited: cited.len() })
    }

    /// A change answer's signed release manifest verifies with the log key and is the
    /// manifest the deploy's (proven) ledger entry carries.
    fn check_manifest(&self, key: &VerifierKey) -> Result<(), EvidenceError> {
        let Some(note) = self.answer.get("manifest").and_then(Value::as_str) else { return Ok(()) };
        let text =
            key.open(note).map_err(|e| EvidenceError::Manifest(format!("its signature does not verify: {e}")))?;
        let manifest: Value = serde_json::from_str(text.trim_end())
            .map_err(|_| EvidenceError::Manifest("its text is not JSON".into()))?;
        let Some(index) = self.answer.pointer("/deployed/evidence/0").and_then(Value::as_u64) else {
            return Err(EvidenceError::Manifest("no proven deploy entry carries it".into()));
        };
        let recorded = self.event(index).and_then(|e| e.pointer("/detail/manifest"));
        if recorded != Some(&manifest) {
            return Err(EvidenceError::Manifest(format!("it differs from the one ledger entry {index} records")));
        }
        Ok(())
    }

    /// A log answer's checkpoints are each signed by the log key and each tree extends
    /// the one before, up to the answer's own checkpoint (RFC 9162 consistency proofs).
    fn check_chain(&self, key: &VerifierKey, last: &Checkpoint) -> Result<(), EvidenceError> {
        let chain = self.answer.get("checkpoints").and_then(Value::as_array).cloned().unwrap_or_default();
        let opened: Vec<Checkpoint> = chain
            .iter()
            .map(|c| {
                let note = c.get("note").and_then(Value::as_str).unwrap_or_default();
                Checkpoint::open(note, key)
                    .map_err(|e| EvidenceError::Chain(format!("a checkpoint does not verify: {e}")))
            })
            .collect::<Result<_, _>>()?;
        for (i, (c, link)) in opened.iter().zip(&chain).enumerate() {
            let next = opened.get(i + 1).unwrap_or(last);
            if next.size < c.size {
                return Err(EvidenceError::Chain(format!("checkpoint {} is followed by a smaller tree", c.size)));
            }
            if next.size == c.size {
                if next.root != c.root {
                    return Err(EvidenceError::Chain(format!("two roots for the tree of {} entries", c.size)));
                }
                continue;
            }
            let proof: Vec<Hash> = link
                .get("consistency_to_next")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).filter_map(hash_from_b64).collect())
                .unwrap_or_default();
            crate::proof::verify_consistency(c.size, next.size, &c.root, &next.root, &proof).map_err(|e| {
                EvidenceError::Chain(format!(
                    "the tree of {} entries does not extend the one of {}: {e}",
                    next.size, c.size
                ))
            })?;
        }
        Ok(())
    }

    /// The proven event at `index`, if the bundle carries it.
    pub fn event(&self, index: u64) -> Option<&Value> {
        self.entries.binary_search_by_key(&index, |e| e.index).ok().and_then(|i| self.entries.get(i)).map(|e| &e.event)
    }
}

/// Every index cited under an `evidence` key, anywhere in `v`.
pub fn citations(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "evidence" {
                    if let Value::Array(a) = x {
                        out.extend(a.iter().filter_map(Value::as_u64));
                    }
                } else {
                    citations(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| citations(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{inclusion_proof, root, Tree};
    use serde_json::json;

    /// A log of `n` events, a key, and a bundle citing entries 1 and 3.
    fn fixture() -> (SigningKey, EvidenceBundle) {
        let key = SigningKey::generate("warden.test/log").unwrap();
        let events: Vec<Value> = (0..5).map(|i| json!({"action": "release.approved", "n": i})).collect();
        let mut tree = Tree::new();
        for e in &events {
            tree.push_hash(leaf_hash(&jcs::canonicalize(e).unwrap()));
        }
        let size = tree.size();
        let cp = Checkpoint { origin: "warden.test/log".into(), size, root: root(&tree, size) };
        let mut b = EvidenceBundle::new(
            "change",
            json!({"release": "rel_1"}),
            "2026-12-07T00:00:00Z".into(),
            json!({"approvals": [{"approver": "usr_a", "evidence": [1]}, {"approver": "usr_b", "evidence": [3]}]}),
        );
        for i in [1u64, 3] {
            let proof = inclusion_proof(&tree, i, size).unwrap();
            b.entries.push(ProvenEntry {
                index: i,
                event: events[i as usize].clone(),
                inclusion: proof.iter().map(|h| b64(h)).collect(),
            });
        }
        b.tree_size = size;
        b.checkpoint = cp.sign(&key).unwrap();
        b.sign(&key).unwrap();
        (key, b)
    }

    #[test]
    fn a_signed_bundle_verifies_and_survives_json() {
        let (key, b) = fixture();
        let back: EvidenceBundle = serde_json::from_str(&serde_json::to_string_pretty(&b).unwrap()).unwrap();
        let v = back.verify(&key.verifier()).unwrap();
        assert_eq!((v.entries, v.cited, v.checkpoint.size), (2, 2, 5));
    }

    #[test]
    fn an_edited_event_no_longer_proves() {
        let (key, mut b) = fixture();
        b.entries[0].event["n"] = json!(7);
        assert!(matches!(b.verify(&key.verifier()), Err(EvidenceError::NotIncluded { index: 1, .. })));
    }

    #[test]
    fn an_edited_answer_fails_the_signature() {
        let (key, mut b) = fixture();
        b.answer["approvals"][1]["approver"] = json!("usr_mallory");
        assert_eq!(b.verify(&key.verifier()), Err(EvidenceError::Digest));
        let (key, mut b) = fixture();
        b.subject = json!({"release": "rel_2"});
        assert_eq!(b.verify(&key.verifier()), Err(EvidenceError::Digest));
    }

    #[test]
    fn a_dropped_entry_leaves_a_citation_unproven() {
        let (key, mut b) = fixture();
        b.entries.remove(1);
        assert_eq!(b.verify(&key.verifier()), Err(EvidenceError::Uncited(3)));
    }

    #[test]
    fn another_key_or_a_resigned_answer_by_it_fails() {
        let (_, mut b) = fixture();
        let other = SigningKey::generate("warden.test/log").unwrap();
        assert!(matches!(b.verify(&other.verifier()), Err(EvidenceError::Checkpoint(_))));
        // Re-signing the answer with another key does not help: the checkpoint
        // and signature must both be the log's.
        b.sign(&other).unwrap();
        let (key, _) = fixture();
        assert!(b.verify(&key.verifier()).is_err());
    }

    #[test]
    fn out_of_order_or_foreign_format_is_refused() {
        let (key, mut b) = fixture();
        b.entries.swap(0, 1);
        assert_eq!(b.verify(&key.verifier()), Err(EvidenceError::Order(1)));
        let (key, mut b) = fixture();
        b.format = "warden-evidence/v0".into();
        assert!(matches!(b.verify(&key.verifier()), Err(EvidenceError::Format(_))));
    }

    #[test]
    fn the_signature_text_cannot_be_a_checkpoint() {
        let (key, b) = fixture();
        // The signature note's second line is base64, not a tree size.
        assert!(Checkpoint::open(&b.signature, &key.verifier()).is_err());
    }
}
