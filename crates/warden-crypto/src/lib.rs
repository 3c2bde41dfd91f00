//! The installation's master key, the purpose keys derived from it, and AES-256-GCM
//! sealing of secrets at rest (provider credentials, TOTP secrets, payload logs). The
//! one crate that touches `aes-gcm`; key providers (files, HSMs, cloud KMS) will live
//! here too.

#![forbid(unsafe_code)]

/// Sealing or opening failed: a wrong key, other associated data, or a damaged value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealError;

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sealing failed")
    }
}

impl std::error::Error for SealError {}

/// The installation's master secret, from which purpose keys are derived (HMAC-SHA256
/// of the purpose under it): the gateway's redaction hash key, payload-log keys.
/// Replicas share it (like the checkpoint key). Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (tests, or a process that keeps nothing between runs).
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
        Self(k)
    }

    /// As stored in a key file: 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        hex::decode(s.trim()).ok().and_then(|b| b.try_into().ok()).map(Self)
    }

    /// The key for one purpose, e.g. `gateway-redaction-hash` or `payload:hipaa-ai`.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Seals `plain` with AES-256-GCM under `key`, bound to `aad`; returns (nonce, sealed).
pub fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let mut nonce = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let sealed =
        cipher.encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plain, aad }).map_err(|_| SealError)?;
    Ok((nonce.to_vec(), sealed))
}

/// Opens what [`seal`] sealed under the same key and `aad`.
pub fn open(key: &[u8; 32], aad: &[u8], nonce: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    if nonce.len() != 12 {
        return Err(SealError);
    }
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    cipher.decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: sealed, aad }).map_err(|_| SealError)
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_associated_data() {
        let k = MasterKey::random();
        let key = k.derive("test");
        let (nonce, sealed) = seal(&key, b"alice", b"secret").unwrap();
        assert_eq!(open(&key, b"alice", &nonce, &sealed).unwrap(), b"secret");
        assert_eq!(open(&key, b"bob", &nonce, &sealed), Err(SealError), "other associated data");
        assert_eq!(open(&k.derive("other"), b"alice", &nonce, &sealed), Err(SealError), "another purpose's key");
        let mut bad = sealed.clone();
        bad[0] ^= 1;
        assert_eq!(open(&key, b"alice", &nonce, &bad), Err(SealError), "a damaged value");
        assert_eq!(open(&key, b"alice", &nonce[..8], &sealed), Err(SealError), "a short nonce");
        assert_ne!(k.derive("a"), k.derive("b"));
        assert_eq!(MasterKey::from_hex(&k.to_hex()).unwrap().derive("a"), k.derive("a"));
        assert_eq!(format!("{k:?}"), "MasterKey([redacted])");
    }
}
