//! C2SP signed notes (`signed-note`) carrying C2SP `tlog-checkpoint` bodies, with Ed25519
//! keys in the note key formats (`<name>+<hex id>+<base64(0x01 || key)>`).

use ed25519_dalek::{Signer, Verifier};
use sha2::{Digest, Sha256};

use crate::{b64, from_b64, hash_from_b64, Hash};

/// The signature algorithm byte for Ed25519 in note keys.
const ALG_ED25519: u8 = 0x01;
/// The em dash that opens every signature line.
const DASH: &str = "\u{2014} ";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("key name must be non-empty and contain no spaces, newlines or '+'")]
    BadName,
    #[error("malformed key: {0}")]
    BadKey(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("the note carries no valid signature by key `{0}`")]
    NotSigned(String),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// First four bytes of SHA-256(name || 0x0A || 0x01 || public key).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public);
    let d: [u8; 32] = h.finalize().into();
    let (id, _) = d.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    *id
}

pub(crate) fn hex4(id: &[u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn parse_hex4(s: &str) -> Option<[u8; 4]> {
    if s.len() != 8 {
        return None;
    }
    let v = u32::from_str_radix(s, 16).ok()?;
    Some(v.to_be_bytes())
}

/// A checkpoint signing key.
pub struct SigningKey {
    name: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("name", &self.name).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::BadName);
        }
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        Ok(Self { name: name.to_string(), key: ed25519_dalek::SigningKey::from_bytes(&seed) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>` (the Go note format).
    pub fn to_private_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{}+{}", self.name, hex4(&self.verifier().id), b64(&raw))
    }

    pub fn from_private_string(s: &str) -> Result<Self, NoteError> {
        let rest = s.trim().strip_prefix("PRIVATE+KEY+").ok_or(NoteError::BadKey("missing PRIVATE+KEY+ prefix"))?;
        // Names contain no '+'; base64 may.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("expected name+id+key"));
        };
        if !valid_name(name) {
            return Err(NoteError::BadName);
        }
        let raw = from_b64(key).ok_or(NoteError::BadKey("key is not base64"))?;
        let (alg, seed) = raw.split_first().ok_or(NoteError::BadKey("empty key"))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| NoteError::BadKey("key is not 32 bytes"))?;
        if *alg != ALG_ED25519 {
            return Err(NoteError::BadKey("not an Ed25519 key"));
        }
        let k = Self { name: name.to_string(), key: ed25519_dalek::SigningKey::from_bytes(&seed) };
        if parse_hex4(id) != Some(k.verifier().id) {
            return Err(NoteError::BadKey("key id does not match the key"));
        }
        Ok(k)
    }

    /// The Ed25519 key itself (a witness cosigns with the same key material).
    pub(crate) fn ed25519(&self) -> &ed25519_dalek::SigningKey {
        &self.key
    }

    pub fn verifier(&self) -> VerifierKey {
        let public = self.key.verifying_key();
        VerifierKey { name: self.name.clone(), id: key_id(&self.name, public.as_bytes()), key: public }
    }

    /// Signs a note text (which must end in a newline) and returns the signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.verifier().id.to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!("{text}\n{DASH}{} {}\n", self.name, b64(&blob)))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("text must be non-empty and end with a newline"));
    }
    if text.contains("\n\n") || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("text must not contain blank lines or control characters"));
    }
    Ok(())
}

/// A verifier (public) key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub id: [u8; 4],
    key: ed25519_dalek::VerifyingKey,
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, hex4(&self.id), b64(&raw))
    }
}

/// Parses a verifier key `<name>+<hex id>+base64(<alg> || 32-byte Ed25519 key)` whose
/// signature type is `alg` and whose id is `id_of(name, key)`.
pub(crate) fn parse_vkey(
    s: &str,
    alg: u8,
    id_of: fn(&str, &[u8; 32]) -> [u8; 4],
) -> Result<(String, [u8; 4], ed25519_dalek::VerifyingKey), NoteError> {
    let mut parts = s.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::BadKey("expected name+id+key"));
    };
    if !valid_name(name) {
        return Err(NoteError::BadName);
    }
    let id = parse_hex4(id).ok_or(NoteError::BadKey("key id is not 8 hex digits"))?;
    let raw = from_b64(key).ok_or(NoteError::BadKey("key is not base64"))?;
    let (found, public) = raw.split_first().ok_or(NoteError::BadKey("empty key"))?;
    if *found != alg {
        return Err(NoteError::BadKey("not a key of this signature type"));
    }
    let public: [u8; 32] = public.try_into().map_err(|_| NoteError::BadKey("key is not 32 bytes"))?;
    if id_of(name, &public) != id {
        return Err(NoteError::BadKey("key id does not match the key"));
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| NoteError::BadKey("not a valid point"))?;
    Ok((name.to_string(), id, key))
}

impl VerifierKey {
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let (name, id, key) = parse_vkey(s, ALG_ED25519, key_id)?;
        Ok(Self { name, id, key })
    }

    /// Verifies a signed note and returns its text. Signatures by other keys are ignored;
    /// at least one by this key must verify.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let text = note.get(..split + 1).ok_or(NoteError::Malformed("bad split"))?;
        let sigs = note.get(split + 2..).ok_or(NoteError::Malformed("bad split"))?;
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("signature lines must end with a newline"));
        }
        for line in sigs.lines() {
            let rest =
                line.strip_prefix(DASH).ok_or(NoteError::Malformed("signature line must start with an em dash"))?;
            let (name, blob) =
                rest.split_once(' ').ok_or(NoteError::Malformed("signature line needs a name and a signature"))?;
            if name != self.name {
                continue;
            }
            let Some(raw) = from_b64(blob) else { continue };
            let Some((id, sig)) = raw.split_first_chunk::<4>() else { continue };
            if *id != self.id {
                continue;
            }
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else { continue };
            if self.key.verify(text.as_bytes(), &sig).is_ok() {
                return Ok(text);
            }
        }
        Err(NoteError::NotSigned(self.name.clone()))
    }
}

/// A C2SP tlog-checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, b64(&self.root))
    }

    /// Parses a checkpoint body (extension lines after the root are allowed and ignored).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(NoteError::BadCheckpoint("missing origin"))?;
        let size = lines.next().ok_or(NoteError::BadCheckpoint("missing size"))?;
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(NoteError::BadCheckpoint("size is not a decimal number"));
        }
        let size = size.parse().map_err(|_| NoteError::BadCheckpoint("size out of range"))?;
        let root =
            lines.next().and_then(hash_from_b64).ok_or(NoteError::BadCheckpoint("root is not a base64 SHA-256"))?;
        if !text.ends_with('\n') {
            return Err(NoteError::BadCheckpoint("must end with a newline"));
        }
        Ok(Self { origin: origin.to_string(), size, root })
    }

    /// Signs this checkpoint.
    pub fn sign(&self, key: &SigningKey) -> Result<String, NoteError> {
        key.sign_note(&self.body())
    }

    /// Verifies a signed checkpoint with `key` and parses it.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Self, NoteError> {
        Self::parse(key.open(note)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_formats_round_trip() {
        let k = SigningKey::generate("warden.example/audit").unwrap();
        let v = k.verifier();
        let s = v.to_string();
        assert!(s.starts_with("warden.example/audit+"));
        assert_eq!(VerifierKey::parse(&s).unwrap(), v);
        let private = k.to_private_string();
        let again = SigningKey::from_private_string(&private).unwrap();
        assert_eq!(again.verifier(), v);
        assert!(!format!("{k:?}").contains(&private[20..]));
        assert!(SigningKey::generate("has space").is_err());
        assert!(SigningKey::generate("a+b").is_err());
    }

    // A published example from the Go note package (golang.org/x/mod/sumdb/note):
    // the verifier key for "PeterNeumann" and a note it signed.
    #[test]
    fn verifies_the_go_note_example() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let note = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\
                    \n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let v = VerifierKey::parse(vkey).unwrap();
        let text = v.open(note).unwrap();
        assert!(text.starts_with("If you think"));
        // Ed25519 is deterministic: the published private key signs to the same bytes.
        let k = SigningKey::from_private_string(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        )
        .unwrap();
        assert_eq!(k.verifier().to_string(), vkey);
        assert_eq!(k.sign_note(text).unwrap(), note);
        let tampered = note.replace("answer", "answers");
        assert_eq!(v.open(&tampered), Err(NoteError::NotSigned("PeterNeumann".into())));
    }

    #[test]
    fn checkpoints_sign_and_verify_and_reject_tampering() {
        let k = SigningKey::generate("warden/audit").unwrap();
        let c = Checkpoint { origin: "warden/audit".into(), size: 42, root: crate::leaf_hash(b"x") };
        let note = c.sign(&k).unwrap();
        assert!(note.starts_with("warden/audit\n42\n"));
        assert!(note.contains("\n\n\u{2014} warden/audit "));
        assert_eq!(Checkpoint::open(&note, &k.verifier()).unwrap(), c);
        let other = SigningKey::generate("warden/audit").unwrap();
        assert!(Checkpoint::open(&note, &other.verifier()).is_err(), "another key with the same name");
        let forged = note.replacen("42", "43", 1);
        assert!(Checkpoint::open(&forged, &k.verifier()).is_err());
        assert!(Checkpoint::parse("o\n01\nAAAA\n").is_err());
        assert!(Checkpoint::parse("o\n1\nnot-base64\n").is_err());
        assert!(Checkpoint::parse("\n1\n").is_err());
    }
}
