//! The tree stored as tiles, as C2SP tlog-tiles lays it out: a tile at level `L` holds
//! 256 consecutive hashes of height `8·L` (level 0: leaf hashes; level 1: the roots of
//! level-0 tiles; …). Every complete perfect subtree is then a run of hashes inside one
//! tile, so proofs read a handful of tiles however large the log grows.
//!
//! An appender keeps only the [`Edge`]: for each level, the hashes of the tile not yet
//! full (fewer than 256 per level, about 32 KB at any size a log reaches). That suffices
//! to append, to compute the root, and to hand over each tile as it fills, to be stored.

use crate::tree::{Node, TreeError};
use crate::{empty_root, node_hash, Hash};

/// Hashes per tile edge: each tile spans 8 levels of the tree.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A full tile: 256 hashes of height `8·level`, the `index`-th run of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub level: u32,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

impl Tile {
    /// The tile's bytes: its hashes concatenated (as tlog-tiles serves them).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    /// Hashes from a stored tile's bytes; `None` unless they are exactly a full tile.
    pub fn hashes_from_bytes(bytes: &[u8]) -> Option<Vec<Hash>> {
        if bytes.len() as u64 != TILE_WIDTH * 32 {
            return None;
        }
        bytes.chunks_exact(32).map(|c| Hash::try_from(c).ok()).collect()
    }
}

/// The root of a perfect run of hashes (its length a power of two), hashed pairwise up.
pub fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut row: Vec<Hash> = hashes.to_vec();
    while row.len() > 1 {
        let half = row.len() / 2;
        for i in 0..half {
            if let (Some(l), Some(r)) = (row.get(2 * i), row.get(2 * i + 1)) {
                let h = node_hash(l, r);
                if let Some(slot) = row.get_mut(i) {
                    *slot = h;
                }
            }
        }
        row.truncate(half);
    }
    row.first().copied().unwrap_or_else(empty_root)
}

/// A full tile with every hash inside it: row `k` holds the `256 >> k` hashes of
/// height `8·level + k` (row 0 is the tile itself, row 8 its root), so that any run a
/// node needs is one lookup instead of up to 127 hashings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileTree {
    rows: Vec<Vec<Hash>>,
}

impl TileTree {
    /// Expands the bottom row (a full tile: 256 hashes).
    pub fn new(bottom: Vec<Hash>) -> Self {
        let mut rows = vec![bottom];
        while let Some(last) = rows.last().filter(|r| r.len() > 1) {
            let next = last.chunks_exact(2).map(|p| match p {
                [l, r] => node_hash(l, r),
                _ => empty_root(),
            });
            let next: Vec<Hash> = next.collect();
            rows.push(next);
        }
        Self { rows }
    }

    pub fn bottom(&self) -> &[Hash] {
        self.rows.first().map_or(&[], |r| r.as_slice())
    }

    pub fn root(&self) -> Hash {
        self.rows.last().and_then(|r| r.first()).copied().unwrap_or_else(empty_root)
    }

    /// The root of the `count` hashes from `offset` (a power of two, aligned to it).
    pub fn run(&self, offset: usize, count: usize) -> Option<Hash> {
        if !count.is_power_of_two() || offset % count != 0 {
            return None;
        }
        self.rows.get(count.trailing_zeros() as usize)?.get(offset / count).copied()
    }
}

/// Where a perfect subtree's hash lives: tile `(level, index)`, and the run of
/// `count` hashes from `offset` in it whose [`perfect_root`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub level: u32,
    pub index: u64,
    pub offset: usize,
    pub count: usize,
}

pub fn place(node: Node) -> Place {
    let level = node.height / TILE_HEIGHT;
    let rest = node.height % TILE_HEIGHT;
    let first = node.index << rest;
    Place { level, index: first / TILE_WIDTH, offset: (first % TILE_WIDTH) as usize, count: 1 << rest }
}

/// A resource of the C2SP tlog-tiles layout, as its path names it (after `tile/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// `<L>/<N>[.p/<W>]`: hashes of tile `index` at `level`; `width` for a partial one.
    Hashes { level: u32, index: u64, width: Option<u16> },
    /// `entries/<N>[.p/<W>]`: the entries the level-0 tile `index` hashes.
    Entries { index: u64, width: Option<u16> },
}

impl TilePath {
    /// Parses the part of a tile's path after `tile/`, strictly as the specification
    /// writes it: no leading zeros in the level or width, `N` in zero-padded groups of
    /// three digits, all but the last prefixed with `x`.
    pub fn parse(path: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`tile/{path}` is not a tlog-tiles path: {why}");
        let (kind, rest) = path.split_once('/').ok_or_else(|| bad("it needs a level and an index"))?;
        let (index, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let ok = !w.is_empty() && !w.starts_with('0') && w.len() <= 3 && w.bytes().all(|b| b.is_ascii_digit());
                let w: u16 = w.parse().ok().filter(|w| ok && (1..=255).contains(w)).ok_or_else(|| {
                    bad("the width of a partial tile is a number from 1 to 255 without leading zeros")
                })?;
                (n, Some(w))
            }
            None => (rest, None),
        };
        let groups: Vec<&str> = index.split('/').collect();
        let last = groups.len() - 1;
        let mut n: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let digits = if i < last { g.strip_prefix('x') } else { Some(*g) };
            let digits = digits
                .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("the index is written in groups of three digits, all but the last after an `x`"))?;
            let d: u64 = digits.parse().map_err(|_| bad("not a number"))?;
            n = n.checked_mul(1000).and_then(|n| n.checked_add(d)).ok_or_else(|| bad("the index is too large"))?;
        }
        if groups.len() > 1 && groups.first().is_some_and(|g| *g == "x000") {
            return Err(bad("the index has a leading group of zeros"));
        }
        if kind == "entries" {
            return Ok(TilePath::Entries { index: n, width });
        }
        let level_ok =
            !kind.is_empty() && (kind == "0" || !kind.starts_with('0')) && kind.bytes().all(|b| b.is_ascii_digit());
        let level: u32 = kind
            .parse()
            .ok()
            .filter(|l| level_ok && *l <= 63)
            .ok_or_else(|| bad("the level is a number from 0 to 63 without leading zeros"))?;
        Ok(TilePath::Hashes { level, index: n, width })
    }

    /// The path after `tile/`.
    pub fn to_path(self) -> String {
        let (head, index, width) = match self {
            TilePath::Hashes { level, index, width } => (level.to_string(), index, width),
            TilePath::Entries { index, width } => ("entries".to_string(), index, width),
        };
        let mut groups = vec![format!("{:03}", index % 1000)];
        let mut rest = index / 1000;
        while rest > 0 {
            groups.push(format!("x{:03}", rest % 1000));
            rest /= 1000;
        }
        groups.reverse();
        let mut out = format!("{head}/{}", groups.join("/"));
        if let Some(w) = width {
            out.push_str(&format!(".p/{w}"));
        }
        out
    }
}

/// The right edge of a tiled tree of `size` leaves: `rows[L]` holds the hashes of
/// height `8·L` whose tile is not full yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edge {
    size: u64,
    rows: Vec<Vec<Hash>>,
}

/// The hashes of height `8·level` that make up row `level` of the edge of a tree of
/// `size` leaves: their indexes. Level 0 are leaf hashes; at level `L > 0`, the hash
/// at index `i` is the root of the full tile `(L - 1, i)`.
pub fn edge_rows(size: u64) -> Vec<(u32, std::ops::Range<u64>)> {
    let mut out = Vec::new();
    let mut level = 0;
    while let Some(count) = size.checked_shr(TILE_HEIGHT * level).filter(|c| *c > 0) {
        out.push((level, count - count % TILE_WIDTH..count));
        level += 1;
    }
    out
}

impl Edge {
    pub fn new() -> Self {
        Self::default()
    }

    /// The edge of a tree of `size` leaves from its rows, as [`edge_rows`] names them.
    pub fn from_rows(size: u64, rows: Vec<Vec<Hash>>) -> Result<Self, TreeError> {
        let want = edge_rows(size);
        if rows.len() != want.len() || rows.iter().zip(&want).any(|(r, (_, w))| r.len() as u64 != w.end - w.start) {
            return Err(TreeError::BadEdge { size });
        }
        Ok(Self { size, rows })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; tiles it fills are added to `filled` (lowest level first).
    pub fn push(&mut self, hash: Hash, filled: &mut Vec<Tile>) {
        self.size += 1;
        let mut carry = hash;
        let mut level = 0u32;
        loop {
            if self.rows.len() <= level as usize {
                self.rows.push(Vec::new());
            }
            let Some(row) = self.rows.get_mut(level as usize) else { return };
            row.push(carry);
            if (row.len() as u64) < TILE_WIDTH {
                return;
            }
            let hashes = std::mem::take(row);
            carry = perfect_root(&hashes);
            let index = (self.size >> (TILE_HEIGHT * (level + 1))) - 1;
            filled.push(Tile { level, index, hashes });
            level += 1;
        }
    }

    /// The hash of `node` if it is complete and lies in a tile not yet full (then the
    /// edge holds it); `None` for one in a full tile (read it from there) or beyond the
    /// tree.
    pub fn node(&self, node: Node) -> Option<Hash> {
        if !node.complete_within(self.size) {
            return None;
        }
        let p = place(node);
        let row = self.rows.get(p.level as usize)?;
        let count_at_level = self.size >> (TILE_HEIGHT * p.level);
        if p.index != count_at_level / TILE_WIDTH {
            return None;
        }
        row.get(p.offset..p.offset + p.count).map(perfect_root)
    }

    /// Whether `node` lies in a full tile (stored), rather than on the edge.
    pub fn in_full_tile(&self, node: Node) -> bool {
        node.complete_within(self.size) && {
            let p = place(node);
            p.index < (self.size >> (TILE_HEIGHT * p.level)) / TILE_WIDTH
        }
    }

    /// The tree's root: the perfect subtrees of the edge's rows, highest first, folded
    /// from the right.
    pub fn root(&self) -> Hash {
        let mut parts: Vec<Hash> = Vec::new();
        for row in self.rows.iter().rev() {
            let mut at = 0;
            for bit in (0..TILE_HEIGHT).rev() {
                let len = 1usize << bit;
                if row.len() & len != 0 {
                    if let Some(run) = row.get(at..at + len) {
                        parts.push(perfect_root(run));
                    }
                    at += len;
                }
            }
        }
        let mut acc = match parts.pop() {
            Some(h) => h,
            None => return empty_root(),
        };
        while let Some(left) = parts.pop() {
            acc = node_hash(&left, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{self, Nodes, Tree};
    use std::collections::HashMap;

    fn leaf(i: u64) -> Hash {
        crate::leaf_hash(&i.to_be_bytes())
    }

    /// The edge's root and the tiles it hands over agree with the whole tree at every
    /// size across the first tile boundaries of three levels.
    #[test]
    fn the_edge_and_its_tiles_agree_with_the_whole_tree() {
        let mut tree = Tree::new();
        let mut edge = Edge::new();
        let mut tiles: HashMap<(u32, u64), Vec<Hash>> = HashMap::new();
        let mut filled = Vec::new();
        let checked = |n: u64| n < 600 || n % 997 == 0 || (65_530..65_545).contains(&n) || n % 65_536 < 3;
        for i in 0..140_000u64 {
            tree.push_hash(leaf(i));
            edge.push(leaf(i), &mut filled);
            for t in filled.drain(..) {
                assert_eq!(t.hashes.len() as u64, TILE_WIDTH);
                assert!(tiles.insert((t.level, t.index), t.hashes).is_none(), "a tile is handed over once");
            }
            let n = i + 1;
            if checked(n) {
                assert_eq!(edge.root(), tree.root(n).unwrap(), "root at {n}");
                // Rebuilt from the rows `edge_rows` names, read from tiles and leaves.
                let rows = edge_rows(n)
                    .into_iter()
                    .map(|(level, range)| {
                        range
                            .map(|j| if level == 0 { leaf(j) } else { perfect_root(&tiles[&(level - 1, j)]) })
                            .collect()
                    })
                    .collect();
                assert_eq!(Edge::from_rows(n, rows).unwrap(), edge, "edge at {n}");
            }
        }
        assert_eq!(tiles.len(), 140_000 / 256 + 140_000 / 65_536);
        // Every node, from the edge or from a full tile, is the tree's.
        let n = edge.size();
        for height in 0..18 {
            for index in [0, 1, 5, (n >> height).saturating_sub(1), n >> height] {
                let node = Node { height, index };
                let got = match edge.node(node) {
                    Some(h) => Some(h),
                    None if edge.in_full_tile(node) => {
                        let p = place(node);
                        Some(perfect_root(&tiles[&(p.level, p.index)][p.offset..p.offset + p.count]))
                    }
                    None => None,
                };
                if node.complete_within(n) {
                    assert_eq!(got, Some(tree.node(node)), "{node:?}");
                } else {
                    assert_eq!(got, None, "{node:?} is beyond the tree");
                }
            }
        }
    }

    /// Proofs computed from only the nodes `nodes_needed` names equal the whole tree's.
    #[test]
    fn proofs_from_the_nodes_needed_alone() {
        let mut t = Tree::new();
        for i in 0..3000 {
            t.push_hash(leaf(i));
        }
        for (a, b) in [(0, 1), (7, 8), (5, 3000), (1234, 2049), (2999, 3000), (0, 2048)] {
            let need = tree::nodes_needed(|n| tree::inclusion_proof(n, a, b));
            let got: HashMap<Node, Hash> = need.iter().map(|n| (*n, t.node(*n))).collect();
            assert_eq!(tree::inclusion_proof(&got, a, b), t.inclusion_proof(a, b), "inclusion {a} in {b}");
            let m = a.max(1);
            let need = tree::nodes_needed(|n| tree::consistency_proof(n, m, b));
            assert!(need.len() <= 2 * 64);
            let got: HashMap<Node, Hash> = need.iter().map(|n| (*n, t.node(*n))).collect();
            assert_eq!(tree::consistency_proof(&got, m, b), t.consistency_proof(m, b), "consistency {m} to {b}");
            let need = tree::nodes_needed(|n| tree::root(n, b));
            let got: HashMap<Node, Hash> = need.iter().map(|n| (*n, t.node(*n))).collect();
            assert_eq!(tree::root(&got, b), t.root(b).unwrap());
        }
    }

    /// A range's digest covers exactly its entries: from 0 it is the root; any entry
    /// inside changed changes it, any outside does not.
    #[test]
    fn range_digests_cover_their_entries_and_nothing_else() {
        let build = |edit: Option<u64>| {
            let mut t = Tree::new();
            for i in 0..1000u64 {
                t.push_hash(if Some(i) == edit { leaf(999_999) } else { leaf(i) });
            }
            t
        };
        let t = build(None);
        for to in [1, 2, 7, 256, 257, 1000] {
            assert_eq!(tree::range_hash(&t, 0, to), t.root(to).unwrap());
        }
        for (from, to) in [(0, 1000), (3, 4), (5, 300), (256, 512), (255, 769), (999, 1000)] {
            let nodes = tree::range_nodes(from, to);
            assert_eq!(nodes.iter().map(|n| 1u64 << n.height).sum::<u64>(), to - from, "{from}..{to} covered");
            assert!(nodes.len() <= 2 * 64);
            let digest = tree::range_hash(&t, from, to);
            for edit in [from.saturating_sub(1), from, (from + to) / 2, to - 1, to] {
                let changed = tree::range_hash(&build(Some(edit)), from, to) != digest;
                assert_eq!(changed, (from..to).contains(&edit), "{from}..{to}, entry {edit} edited");
            }
        }
        assert_eq!(tree::range_nodes(7, 7), vec![]);
    }

    #[test]
    fn tiles_round_trip_and_refuse_anything_but_a_full_tile() {
        let t = Tile { level: 1, index: 3, hashes: (0..256).map(leaf).collect() };
        let bytes = t.to_bytes();
        assert_eq!(Tile::hashes_from_bytes(&bytes), Some(t.hashes));
        assert_eq!(Tile::hashes_from_bytes(&bytes[..bytes.len() - 1]), None);
        assert_eq!(Tile::hashes_from_bytes(&[]), None);
        assert!(Edge::from_rows(300, vec![vec![[0; 32]; 44]]).is_err(), "a row for level 1 is missing");
        assert!(Edge::from_rows(300, vec![vec![[0; 32]; 43], vec![[0; 32]]]).is_err());
    }

    #[test]
    fn a_tile_tree_answers_every_run_as_hashing_it_would() {
        let bottom: Vec<Hash> = (0..256).map(leaf).collect();
        let t = TileTree::new(bottom.clone());
        assert_eq!(t.bottom(), bottom.as_slice());
        assert_eq!(t.root(), perfect_root(&bottom));
        for count in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
            for offset in (0..256).step_by(count) {
                assert_eq!(t.run(offset, count), Some(perfect_root(&bottom[offset..offset + count])));
            }
        }
        assert_eq!(t.run(3, 2), None, "not aligned");
        assert_eq!(t.run(0, 3), None, "not a power of two");
        assert_eq!(t.run(256, 1), None, "beyond the tile");
    }

    #[test]
    fn tile_paths_as_the_specification_writes_them() {
        let h = |level, index, width| TilePath::Hashes { level, index, width };
        let e = |index, width| TilePath::Entries { index, width };
        for (path, want) in [
            ("0/x001/x234/067", h(0, 1_234_067, None)),
            ("0/000", h(0, 0, None)),
            ("1/067.p/12", h(1, 67, Some(12))),
            ("2/x001/000.p/255", h(2, 1000, Some(255))),
            ("63/999", h(63, 999, None)),
            ("entries/000", e(0, None)),
            ("entries/x123/456.p/1", e(123_456, Some(1))),
        ] {
            assert_eq!(TilePath::parse(path), Ok(want), "{path}");
            assert_eq!(want.to_path(), path);
        }
        for bad in [
            "",
            "0",
            "0/",
            "0/67",
            "0/0067",
            "00/000",
            "64/000",
            "-1/000",
            "a/000",
            "0/x1/067",
            "0/001/067",
            "0/x000/067",
            "0/000/",
            "0/x001",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/012",
            "0/000.p/",
            "0/000.p/1/2",
            "entries",
            "entries/",
            "entries/67",
            "0/x18446744073709551/615",
            "0/x018/x446/x744/x073/x709/x551/616",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn places() {
        assert_eq!(place(Node { height: 0, index: 300 }), Place { level: 0, index: 1, offset: 44, count: 1 });
        assert_eq!(place(Node { height: 3, index: 33 }), Place { level: 0, index: 1, offset: 8, count: 8 });
        assert_eq!(place(Node { height: 8, index: 2 }), Place { level: 1, index: 0, offset: 2, count: 1 });
        assert_eq!(place(Node { height: 17, index: 1 }), Place { level: 2, index: 0, offset: 2, count: 2 });
    }
}
