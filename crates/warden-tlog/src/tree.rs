//! An append-only Merkle tree that keeps every complete (perfect, aligned) subtree hash,
//! so roots and proofs for any size up to the current one cost O(log² n) hashing.

use crate::{empty_root, leaf_hash, node_hash, split_point, Hash};

#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// `levels[k][j]` is the hash of the perfect subtree of 2^k leaves starting at j·2^k.
    levels: Vec<Vec<Hash>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("tree size {requested} is larger than the log ({size} entries)")]
    TooLarge { requested: u64, size: u64 },
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < from <= to; got from={from}, to={to}")]
    BadRange { from: u64, to: u64 },
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends the hash of a leaf (already `leaf_hash`ed).
    pub fn push_hash(&mut self, h: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let mut level = 0;
        let mut carry = h;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else { return };
            row.push(carry);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            match (row.get(n - 2), row.get(n - 1)) {
                (Some(l), Some(r)) => carry = node_hash(l, r),
                _ => return,
            }
            level += 1;
        }
    }

    /// Appends a leaf by its bytes.
    pub fn push_leaf(&mut self, leaf: &[u8]) {
        self.push_hash(leaf_hash(leaf));
    }

    /// Forgets every leaf from `size` on (used to undo an append that did not commit).
    pub fn truncate(&mut self, size: u64) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            row.truncate((size >> k) as usize);
        }
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first().and_then(|l| l.get(index as usize)).copied()
    }

    /// Hash of the leaves `[start, end)`, split as RFC 6962 defines MTH.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start % n == 0 {
            let level = n.trailing_zeros() as usize;
            if let Some(h) = self.levels.get(level).and_then(|row| row.get((start / n) as usize)) {
                return *h;
            }
        }
        let k = split_point(n);
        node_hash(&self.subtree(start, start + k), &self.subtree(start + k, end))
    }

    fn check_size(&self, n: u64) -> Result<(), TreeError> {
        if n > self.size() {
            return Err(TreeError::TooLarge { requested: n, size: self.size() });
        }
        Ok(())
    }

    /// The root of the first `n` leaves.
    pub fn root(&self, n: u64) -> Result<Hash, TreeError> {
        self.check_size(n)?;
        Ok(if n == 0 { empty_root() } else { self.subtree(0, n) })
    }

    /// RFC 6962 PATH(index, D[0:n]).
    pub fn inclusion_proof(&self, index: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(n)?;
        if index >= n {
            return Err(TreeError::IndexOutOfRange { index, size: n });
        }
        let mut out = Vec::new();
        self.path(index, 0, n, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m - start < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    /// RFC 6962 PROOF(m, D[0:n]).
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(n)?;
        if m == 0 || m > n {
            return Err(TreeError::BadRange { from: m, to: n });
        }
        let mut out = Vec::new();
        self.subproof(m, 0, n, true, &mut out);
        Ok(out)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}
