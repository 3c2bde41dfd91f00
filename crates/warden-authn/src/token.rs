//! API tokens: `wdn_<26-char ULID>_<43-char base64url secret>`. The token is shown once;
//! only its SHA-256 is stored. Tokens are 256-bit random, so a fast hash is right here
//! (unlike passwords). Lookup is by hash, so any string can serve as a bootstrap token.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "wdn_";
/// Bootstrap tokens chosen by operators must be at least this long.
pub const MIN_BOOTSTRAP_LEN: usize = 32;

/// A freshly minted token: the secret string (show once) and its hash (store).
pub struct Minted {
    pub secret: String,
    pub hash: String,
}

impl std::fmt::Debug for Minted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minted").field("secret", &"[redacted]").field("hash", &self.hash).finish()
    }
}

/// Mints a token whose visible part carries the token id's ULID (for support and logs).
pub fn mint(token_ulid: &str) -> Minted {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{token_ulid}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    Minted { secret, hash }
}

/// Hex SHA-256 of the whole presented token.
pub fn hash(presented: &str) -> String {
    hex::encode(Sha256::digest(presented.as_bytes()))
}

/// Constant-time equality of two stored hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_unique_and_hash_to_what_is_stored() {
        let a = mint("01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let b = mint("01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("wdn_01ARZ3NDEKTSV4RRFFQ69G5FAV_"));
        assert_eq!(a.secret.len(), 4 + 26 + 1 + 43);
        assert_eq!(hash(&a.secret), a.hash);
        assert!(hashes_equal(&a.hash, &hash(&a.secret)));
        assert!(!hashes_equal(&a.hash, &b.hash));
        assert!(!format!("{a:?}").contains(&a.secret));
    }

    #[test]
    fn sha256_vector() {
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
