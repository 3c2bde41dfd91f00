//! The published RFC 6962 test vectors (as used by Certificate Transparency), every
//! proof of small trees round-tripping, and corrupted proofs failing.

use super::*;
use crate::tree::{Tree, TreeError};
use crate::{empty_root, leaf_hash};

const LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn tree() -> Tree {
    let mut t = Tree::new();
    for l in LEAVES {
        t.push_leaf(&hex::decode(l).unwrap());
    }
    t
}

#[test]
fn empty_and_vector_roots() {
    assert_eq!(empty_root(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    let t = tree();
    assert_eq!(t.root(0).unwrap(), empty_root());
    for (i, r) in ROOTS.iter().enumerate() {
        assert_eq!(t.root(i as u64 + 1).unwrap(), h(r), "root of {} leaves", i + 1);
    }
}

#[test]
fn inclusion_vectors() {
    let t = tree();
    let cases: [(u64, u64, &[&str]); 7] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            4,
            8,
            &[
                "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            7,
            8,
            &[
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        assert_eq!(t.inclusion_proof(index, size).unwrap(), want, "PATH({index}, {size})");
        let leaf = leaf_hash(&hex::decode(LEAVES[index as usize]).unwrap());
        let root = h(ROOTS[size as usize - 1]);
        verify_inclusion(index, size, &leaf, &want, &root).unwrap();
    }
}

#[test]
fn consistency_vectors() {
    let t = tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (m, n, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        assert_eq!(t.consistency_proof(m, n).unwrap(), want, "PROOF({m}, {n})");
        verify_consistency(m, n, &h(ROOTS[m as usize - 1]), &h(ROOTS[n as usize - 1]), &want).unwrap();
    }
}

#[test]
fn every_proof_of_small_trees_verifies_and_every_corruption_fails() {
    let mut t = Tree::new();
    for i in 0..70u32 {
        t.push_leaf(&i.to_be_bytes());
    }
    for n in 1..=70u64 {
        let root = t.root(n).unwrap();
        for i in 0..n {
            let p = t.inclusion_proof(i, n).unwrap();
            let leaf = t.leaf(i).unwrap();
            verify_inclusion(i, n, &leaf, &p, &root).unwrap();
            // Corruptions: a flipped bit in any hash, a wrong index, a wrong size, a
            // truncated or extended proof, a different leaf.
            for j in 0..p.len() {
                let mut bad = p.clone();
                bad[j][0] ^= 1;
                assert!(verify_inclusion(i, n, &leaf, &bad, &root).is_err());
            }
            if n > 1 {
                assert!(verify_inclusion((i + 1) % n, n, &leaf, &p, &root).is_err());
            }
            // A proof binds to the root of its own size: against the next size's root it fails.
            if n < 70 {
                assert!(verify_inclusion(i, n + 1, &leaf, &p, &t.root(n + 1).unwrap()).is_err());
            }
            if !p.is_empty() {
                assert!(verify_inclusion(i, n, &leaf, &p[..p.len() - 1], &root).is_err());
            }
            let mut longer = p.clone();
            longer.push(root);
            assert!(verify_inclusion(i, n, &leaf, &longer, &root).is_err());
            assert!(verify_inclusion(i, n, &leaf_hash(b"other"), &p, &root).is_err());
        }
        for m in 1..=n {
            let p = t.consistency_proof(m, n).unwrap();
            let old = t.root(m).unwrap();
            verify_consistency(m, n, &old, &root, &p).unwrap();
            for j in 0..p.len() {
                let mut bad = p.clone();
                bad[j][31] ^= 0x80;
                assert!(verify_consistency(m, n, &old, &root, &bad).is_err(), "m={m} n={n} j={j}");
            }
            if m < n {
                assert!(verify_consistency(m, n, &root, &root, &p).is_err());
                assert!(verify_consistency(m + 1, n, &old, &root, &p).is_err() || m + 1 == n);
            }
        }
    }
}

#[test]
fn bad_ranges_are_refused() {
    let t = tree();
    assert_eq!(t.consistency_proof(0, 8), Err(TreeError::BadRange { from: 0, to: 8 }));
    assert_eq!(t.consistency_proof(5, 4), Err(TreeError::BadRange { from: 5, to: 4 }));
    assert_eq!(t.consistency_proof(1, 9), Err(TreeError::TooLarge { requested: 9, size: 8 }));
    assert_eq!(t.inclusion_proof(8, 8), Err(TreeError::IndexOutOfRange { index: 8, size: 8 }));
    assert_eq!(t.root(9), Err(TreeError::TooLarge { requested: 9, size: 8 }));
    let r = t.root(8).unwrap();
    assert_eq!(verify_consistency(0, 8, &empty_root(), &r, &[]), Err(ProofError::BadRange { first: 0, second: 8 }));
    assert!(verify_inclusion(8, 8, &r, &[], &r).is_err());
}

#[test]
fn truncate_undoes_appends() {
    let mut t = tree();
    let r5 = t.root(5).unwrap();
    t.truncate(5);
    assert_eq!(t.size(), 5);
    assert_eq!(t.root(5).unwrap(), r5);
    for l in &LEAVES[5..] {
        t.push_leaf(&hex::decode(l).unwrap());
    }
    assert_eq!(t.root(8).unwrap(), h(ROOTS[7]));
}
