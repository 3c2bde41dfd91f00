//! Digests of the events appended over an interval, signed by the log's key and anchored
//! where the database's operator cannot reach (the object store's write-once prefix, the
//! SIEM export): whoever holds one can later check that the entries it covers are
//! unchanged, and learns which interval was touched if they are not.
//!
//! A digest covers the entries `[from, to)`: the hashes of their compact range folded as
//! a root is ([`warden_tlog::tree::range_hash`]). As a signed note its text is
//!
//! ```text
//! warden.audit.digest/v1
//! <origin>
//! <from> <to>
//! <base64 digest>
//! ```
//!
//! (the first line keeps it from ever being read as a checkpoint).

use warden_tlog::note::{SigningKey, VerifierKey};
use warden_tlog::Hash;

const HEADER: &str = "warden.audit.digest/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub origin: String,
    pub from: u64,
    pub to: u64,
    pub hash: Hash,
}

impl Digest {
    pub fn body(&self) -> String {
        format!("{HEADER}\n{}\n{} {}\n{}\n", self.origin, self.from, self.to, warden_tlog::b64(&self.hash))
    }

    pub fn sign(&self, key: &SigningKey) -> Result<String, String> {
        key.sign_note(&self.body()).map_err(|e| e.to_string())
    }

    /// Parses a note's text (already verified).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("not an audit digest (its first line is not `{HEADER}`)"));
        }
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or("the digest names no origin")?.to_string();
        let range = lines.next().ok_or("the digest has no range")?;
        let (from, to) = range
            .split_once(' ')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
            .filter(|(a, b)| a < b)
            .ok_or_else(|| format!("the digest's range `{range}` is not two increasing entry numbers"))?;
        let hash =
            lines.next().and_then(warden_tlog::hash_from_b64).ok_or("the digest's hash is not 32 bytes of base64")?;
        if lines.next().is_some() {
            return Err("the digest has lines after its hash".into());
        }
        Ok(Self { origin, from, to, hash })
    }

    /// Verifies a signed digest note with the log's key and parses it.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Self, String> {
        let text = key.open(note).map_err(|e| format!("the digest's signature does not verify: {e}"))?;
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_sign_open_and_refuse_anything_else() {
        let key = SigningKey::generate("warden/test").unwrap();
        let d = Digest { origin: "warden/test".into(), from: 10, to: 300, hash: [7; 32] };
        let note = d.sign(&key).unwrap();
        assert_eq!(Digest::open(&note, &key.verifier()).unwrap(), d);
        let other = SigningKey::generate("warden/test").unwrap();
        assert!(Digest::open(&note, &other.verifier()).is_err(), "another key");
        assert!(Digest::open(&note.replace("10 300", "10 301"), &key.verifier()).is_err(), "edited");
        // A checkpoint signed by the same key is not a digest, and a digest is not a checkpoint.
        let cp = warden_tlog::note::Checkpoint { origin: "warden/test".into(), size: 5, root: [1; 32] };
        assert!(Digest::open(&cp.sign(&key).unwrap(), &key.verifier()).is_err());
        assert!(warden_tlog::note::Checkpoint::open(&note, &key.verifier()).is_err());
        for bad in ["", "warden.audit.digest/v1\n", "warden.audit.digest/v1\no\n5 5\nAAAA\n", "x\no\n1 2\nAAAA\n"] {
            assert!(Digest::parse(bad).is_err(), "{bad:?}");
        }
    }
}
