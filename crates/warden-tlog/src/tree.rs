//! RFC 6962 Merkle tree hashes and proofs, computed from the tree's perfect subtrees
//! ([`Nodes`]): [`Tree`] keeps every one of them in memory (clients verifying a whole
//! log), the ledger reads them from stored tiles (C2SP tlog-tiles). Roots and proofs
//! for any size up to the current one cost O(log² n) hashing at most.

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::{empty_root, leaf_hash, node_hash, split_point, Hash};

/// A perfect subtree: the `2^height` leaves from `index · 2^height` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub height: u32,
    pub index: u64,
}

impl Node {
    /// Whether every leaf of the subtree is below `size`.
    pub fn complete_within(self, size: u64) -> bool {
        self.index.checked_add(1).and_then(|i| i.checked_mul(1u64 << self.height)).is_some_and(|end| end <= size)
    }
}

/// Whatever answers the hash of a complete perfect subtree.
pub trait Nodes {
    fn node(&self, node: Node) -> Hash;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("tree size {requested} is larger than the log ({size} entries)")]
    TooLarge { requested: u64, size: u64 },
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < from <= to; got from={from}, to={to}")]
    BadRange { from: u64, to: u64 },
    #[error("the stored right edge of the tree does not fit a tree of {size} entries")]
    BadEdge { size: u64 },
}

/// Hash of the leaves `[start, end)`, split as RFC 6962 defines MTH.
fn subtree<N: Nodes + ?Sized>(nodes: &N, start: u64, end: u64) -> Hash {
    let n = end - start;
    if n.is_power_of_two() && start % n == 0 {
        return nodes.node(Node { height: n.trailing_zeros(), index: start / n });
    }
    let k = split_point(n);
    node_hash(&subtree(nodes, start, start + k), &subtree(nodes, start + k, end))
}

/// The root of the first `n` leaves (the caller checked the tree has them).
pub fn root<N: Nodes + ?Sized>(nodes: &N, n: u64) -> Hash {
    if n == 0 {
        empty_root()
    } else {
        subtree(nodes, 0, n)
    }
}

/// RFC 6962 PATH(index, D[0:n]) (the caller checked the tree has `n` leaves).
pub fn inclusion_proof<N: Nodes + ?Sized>(nodes: &N, index: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
    if index >= n {
        return Err(TreeError::IndexOutOfRange { index, size: n });
    }
    let mut out = Vec::new();
    path(nodes, index, 0, n, &mut out);
    Ok(out)
}

fn path<N: Nodes + ?Sized>(nodes: &N, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m - start < k {
        path(nodes, m, start, start + k, out);
        out.push(subtree(nodes, start + k, end));
    } else {
        path(nodes, m, start + k, end, out);
        out.push(subtree(nodes, start, start + k));
    }
}

/// RFC 6962 PROOF(m, D[0:n]) (the caller checked the tree has `n` leaves).
pub fn consistency_proof<N: Nodes + ?Sized>(nodes: &N, m: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
    if m == 0 || m > n {
        return Err(TreeError::BadRange { from: m, to: n });
    }
    let mut out = Vec::new();
    subproof(nodes, m, 0, n, true, &mut out);
    Ok(out)
}

fn subproof<N: Nodes + ?Sized>(nodes: &N, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(subtree(nodes, start, end));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(nodes, m, start, start + k, complete, out);
        out.push(subtree(nodes, start + k, end));
    } else {
        subproof(nodes, m - k, start + k, end, false, out);
        out.push(subtree(nodes, start, start + k));
    }
}

/// The compact range of `[from, to)`: the fewest perfect subtrees that cover it, left
/// to right (at most two per level).
pub fn range_nodes(from: u64, to: u64) -> Vec<Node> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        // The largest aligned subtree starting at `at` that ends by `to`.
        let mut height = if at == 0 { 63 } else { at.trailing_zeros() };
        while height > 0 && (1u64 << height) > to - at {
            height -= 1;
        }
        out.push(Node { height, index: at >> height });
        at += 1u64 << height;
    }
    out
}

/// A digest of the entries `[from, to)`: the hashes of their compact range folded from
/// the right, as a root is folded (for `from = 0` it is the root of `to` entries).
/// Anyone holding those entries can recompute it; it changes if any of them does.
pub fn range_hash<N: Nodes + ?Sized>(nodes: &N, from: u64, to: u64) -> Hash {
    let mut parts: Vec<Hash> = range_nodes(from, to).into_iter().map(|n| nodes.node(n)).collect();
    let Some(mut acc) = parts.pop() else { return empty_root() };
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    acc
}

/// The perfect subtrees a computation over [`Nodes`] reads, found by running it once
/// against a recorder: which nodes a proof needs does not depend on their hashes, so a
/// caller that reads them from storage fetches exactly these, then runs it again.
pub fn nodes_needed<R>(compute: impl FnOnce(&dyn Nodes) -> R) -> Vec<Node> {
    struct Recorder(RefCell<BTreeSet<Node>>);
    impl Nodes for Recorder {
        fn node(&self, node: Node) -> Hash {
            self.0.borrow_mut().insert(node);
            [0; 32]
        }
    }
    let recorder = Recorder(RefCell::new(BTreeSet::new()));
    compute(&recorder);
    recorder.0.into_inner().into_iter().collect()
}

/// Nodes looked up in a map (what a caller fetched after [`nodes_needed`]); a node not
/// in it hashes as zeros, which no proof or root survives.
impl Nodes for std::collections::HashMap<Node, Hash> {
    fn node(&self, node: Node) -> Hash {
        self.get(&node).copied().unwrap_or([0; 32])
    }
}

/// An append-only Merkle tree held whole in memory: every complete subtree hash.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// `levels[k][j]` is the hash of the perfect subtree of 2^k leaves starting at j·2^k.
    levels: Vec<Vec<Hash>>,
}

impl Nodes for Tree {
    fn node(&self, node: Node) -> Hash {
        self.levels.get(node.height as usize).and_then(|row| row.get(node.index as usize)).copied().unwrap_or([0; 32])
    }
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

    fn check_size(&self, n: u64) -> Result<(), TreeError> {
        if n > self.size() {
            return Err(TreeError::TooLarge { requested: n, size: self.size() });
        }
        Ok(())
    }

    /// The root of the first `n` leaves.
    pub fn root(&self, n: u64) -> Result<Hash, TreeError> {
        self.check_size(n)?;
        Ok(root(self, n))
    }

    /// RFC 6962 PATH(index, D[0:n]).
    pub fn inclusion_proof(&self, index: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(n)?;
        inclusion_proof(self, index, n)
    }

    /// RFC 6962 PROOF(m, D[0:n]).
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(n)?;
        consistency_proof(self, m, n)
    }
}
