//! The mathematics of Warden's audit ledger, with no IO and no clock:
//!
//! - RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs and their
//!   verification ([`tree`], [`proof`]), and the tree stored as C2SP tlog-tiles with only
//!   its right edge in memory ([`tiles`]);
//! - C2SP `tlog-checkpoint` bodies inside C2SP `signed-note`s with Ed25519 keys
//!   ([`note`]);
//! - RFC 8785 JSON canonicalisation of events, which gives each leaf its bytes ([`jcs`]);
//! - self-contained proof bundles and the offline verifier ([`bundle`]), and signed
//!   evidence answers whose entries prove into a checkpoint ([`evidence`]).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod bundle;
pub mod cosign;
pub mod evidence;
pub mod jcs;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tree;

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn b64(h: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(h)
}

pub fn from_b64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// A base64 hash of exactly 32 bytes.
pub fn hash_from_b64(s: &str) -> Option<Hash> {
    from_b64(s).and_then(|v| Hash::try_from(v.as_slice()).ok())
}

/// Largest power of two strictly less than `n` (n >= 2).
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }
}
