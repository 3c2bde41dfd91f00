//! C2SP tlog-cosignature, Ed25519 (`cosignature/v1`): a witness's timestamped statement
//! that a checkpoint is the largest consistent tree it has seen of that log.
//!
//! The signed message is `cosignature/v1\ntime <seconds>\n` followed by the checkpoint's
//! note body; the signature line is `— <name> base64(key id || u64 BE time || sig)`,
//! with the key id `SHA-256(name || "\n" || 0x04 || public key)[:4]`.

use ed25519_dalek::{Signer, Verifier};
use sha2::{Digest, Sha256};

use crate::note::{NoteError, SigningKey};
use crate::{b64, from_b64};

/// The signature type of Ed25519 cosignatures (in key ids and vkeys).
const ALG_COSIGNATURE_V1: u8 = 0x04;
const DASH: &str = "\u{2014} ";

fn cosigner_key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_COSIGNATURE_V1]);
    h.update(public);
    let d: [u8; 32] = h.finalize().into();
    let (id, _) = d.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    *id
}

fn message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// A witness's cosigning key (Ed25519; kept in the note private-key format).
pub struct Cosigner {
    key: SigningKey,
}

impl Cosigner {
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    pub fn name(&self) -> &str {
        self.key.name()
    }

    /// The verifier key clients configure: `<name>+<hex id>+base64(0x04 || public key)`.
    pub fn vkey(&self) -> String {
        let public = self.key.ed25519().verifying_key();
        let id = cosigner_key_id(self.key.name(), public.as_bytes());
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(public.as_bytes());
        format!("{}+{}+{}", self.key.name(), crate::note::hex4(&id), b64(&raw))
    }

    /// The signature line cosigning the checkpoint whose note body (its text, ending in a
    /// newline, without signatures) is `body`, at `time` (POSIX seconds, not zero).
    pub fn cosign(&self, body: &str, time: u64) -> String {
        let public = self.key.ed25519().verifying_key();
        let sig = self.key.ed25519().sign(message(body, time).as_bytes());
        let mut blob = cosigner_key_id(self.key.name(), public.as_bytes()).to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{DASH}{} {}\n", self.key.name(), b64(&blob))
    }
}

/// A witness's key as a client trusts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    pub name: String,
    id: [u8; 4],
    key: ed25519_dalek::VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses `<name>+<hex id>+base64(0x04 || public key)`.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let (name, id, key) = crate::note::parse_vkey(s, ALG_COSIGNATURE_V1, cosigner_key_id)?;
        Ok(Self { name, id, key })
    }

    /// The time of this witness's valid cosignature on `note` (a signed checkpoint with
    /// any number of signature lines), if it carries one.
    pub fn verify(&self, note: &str) -> Option<u64> {
        let split = note.rfind("\n\n")?;
        let body = note.get(..split + 1)?;
        let sigs = note.get(split + 2..)?;
        for line in sigs.lines() {
            let Some((name, blob)) = line.strip_prefix(DASH).and_then(|r| r.split_once(' ')) else { continue };
            if name != self.name {
                continue;
            }
            let Some(raw) = from_b64(blob) else { continue };
            let (Some(id), Some(time), Some(sig)) = (raw.get(..4), raw.get(4..12), raw.get(12..)) else { continue };
            if id != self.id || sig.len() != 64 {
                continue;
            }
            let time = u64::from_be_bytes(time.try_into().ok()?);
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else { continue };
            if time != 0 && self.key.verify(message(body, time).as_bytes(), &sig).is_ok() {
                return Some(time);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Checkpoint;

    #[test]
    fn cosignatures_verify_and_bind_the_checkpoint_and_time() {
        let log = SigningKey::generate("example.com/log").unwrap();
        let witness = Cosigner::new(SigningKey::generate("witness.example/w1").unwrap());
        let cp = Checkpoint { origin: "example.com/log".into(), size: 7, root: [3u8; 32] };
        let note = cp.sign(&log).unwrap();
        let body = &note[..note.rfind("\n\n").unwrap() + 1];
        let line = witness.cosign(body, 1_679_315_147);
        assert!(line.starts_with("\u{2014} witness.example/w1 ") && line.ends_with('\n'));
        let cosigned = format!("{note}{line}");
        let v = CosignatureVerifier::parse(&witness.vkey()).unwrap();
        assert_eq!(v.verify(&cosigned), Some(1_679_315_147));
        // The log's own verifier still accepts the note with the witness line added.
        assert_eq!(Checkpoint::open(&cosigned, &log.verifier()).unwrap(), cp);
        // Another checkpoint, another time, another witness: no.
        let other = Checkpoint { size: 8, ..cp.clone() }.sign(&log).unwrap();
        assert_eq!(v.verify(&format!("{other}{line}")), None);
        let forged = line.replace("AAAA", "AAAB");
        if forged != line {
            assert_eq!(v.verify(&format!("{note}{forged}")), None);
        }
        let stranger =
            CosignatureVerifier::parse(&Cosigner::new(SigningKey::generate("witness.example/w1").unwrap()).vkey())
                .unwrap();
        assert_eq!(stranger.verify(&cosigned), None);
        assert_eq!(v.verify(&note), None, "no cosignature line");
        // Malformed keys are refused.
        for bad in ["", "a+b", "witness+0000+AAAA", &log.verifier().to_string()] {
            assert!(CosignatureVerifier::parse(bad).is_err(), "{bad}");
        }
    }

    /// The signed message, byte for byte as tlog-cosignature's example shows it.
    #[test]
    fn the_signed_message_follows_the_spec_example() {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            message(body, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }
}
