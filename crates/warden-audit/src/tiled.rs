//! The ledger's view of the tree: the right edge in memory (the tiles not yet full,
//! about 32 KB at any size), full tiles in the store (C2SP tlog-tiles), and a bounded
//! cache of recently read tiles. Roots and proofs for any size read a handful of tiles;
//! start-up reads the edge's rows (a few hundred tiles at most), not the whole log.
//!
//! Tiles are derived data: each is made from the leaf hashes below it, written with the
//! next append (or on its own when appends pause), and rebuilt from the leaf hashes if
//! it is missing (a crash before it was written, a log from before tiles). The
//! [`Tiled::scrub`] walk checks every stored hash against the entries above it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use warden_store::{AuditTile, Store};
use warden_tlog::tiles::{edge_rows, perfect_root, place, Edge, Tile, TileTree, TILE_HEIGHT, TILE_WIDTH};
use warden_tlog::tree::{self, Node, TreeError};
use warden_tlog::Hash;

use crate::error::LedgerError;

/// Tiles kept in the cache (16 KB each, expanded), in two parts: the upper levels,
/// which every proof passes through (all of them up to 16M entries), and level 0, where
/// proofs land anywhere and a tile is seldom read twice. 6 MB in all.
const CACHE_UPPER: usize = 256;
const CACHE_LEVEL_0: usize = 128;

/// A full tile, expanded: every node inside it at hand.
type TileHashes = Arc<TileTree>;

pub(crate) struct Tiled {
    store: Arc<dyn Store>,
    edge: RwLock<Edge>,
    /// Full tiles the edge handed over that are not stored yet: proofs read them here.
    pending: Mutex<BTreeMap<(u32, u64), TileHashes>>,
    cache: Mutex<Cache>,
    /// One reader of the store's new leaf hashes at a time.
    syncing: tokio::sync::Mutex<()>,
}

/// The two parts of the cache, each in two generations: lookups promote into the young
/// one; when it is full the old one is dropped. Memory stays bounded.
#[derive(Default)]
struct Cache {
    upper: Generations,
    level_0: Generations,
}

impl Cache {
    fn part(&mut self, key: (u32, u64)) -> (&mut Generations, usize) {
        if key.0 == 0 {
            (&mut self.level_0, CACHE_LEVEL_0)
        } else {
            (&mut self.upper, CACHE_UPPER)
        }
    }

    fn get(&mut self, key: (u32, u64)) -> Option<TileHashes> {
        let (part, cap) = self.part(key);
        part.get(key, cap)
    }

    fn put(&mut self, key: (u32, u64), tile: TileHashes) {
        let (part, cap) = self.part(key);
        part.put(key, tile, cap)
    }
}

#[derive(Default)]
struct Generations {
    young: HashMap<(u32, u64), TileHashes>,
    old: HashMap<(u32, u64), TileHashes>,
}

impl Generations {
    fn get(&mut self, key: (u32, u64), cap: usize) -> Option<TileHashes> {
        if let Some(t) = self.young.get(&key) {
            return Some(t.clone());
        }
        let t = self.old.remove(&key)?;
        self.put(key, t.clone(), cap);
        Some(t)
    }

    fn put(&mut self, key: (u32, u64), tile: TileHashes, cap: usize) {
        if self.young.len() >= cap / 2 {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, tile);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn to_hash(v: &[u8], index: u64) -> Result<Hash, LedgerError> {
    Hash::try_from(v).map_err(|_| LedgerError::Corrupt(index))
}

/// Where a stored hash disagrees with what lies above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The first entry whose hashes no longer lead to the tree.
    pub index: u64,
    pub why: String,
}

/// What the scrub found wrong, or why it could not go on.
pub(crate) enum ScrubError {
    Mismatch(Mismatch),
    Ledger(LedgerError),
}

impl From<LedgerError> for ScrubError {
    fn from(e: LedgerError) -> Self {
        ScrubError::Ledger(e)
    }
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Tiled {
    /// The tree as the store holds it now: the edge's rows read from the last leaf
    /// hashes and the roots of the last full tiles (rebuilding any tile not stored).
    pub(crate) async fn load(store: Arc<dyn Store>) -> Result<Tiled, LedgerError> {
        let tiled = Tiled {
            store,
            edge: RwLock::new(Edge::new()),
            pending: Mutex::default(),
            cache: Mutex::default(),
            syncing: tokio::sync::Mutex::new(()),
        };
        for _ in 0..100 {
            let size = tiled.store.audit_size().await?;
            let mut rows = Vec::new();
            let mut short = false;
            for (level, range) in edge_rows(size) {
                if level == 0 {
                    let hashes = tiled.store.audit_leaf_hashes(range.start, range.end).await?;
                    short = hashes.len() as u64 != range.end - range.start;
                    rows.push(hashes.iter().zip(range.start..).map(|(h, i)| to_hash(h, i)).collect::<Result<_, _>>()?);
                } else {
                    let tiles = tiled.tiles(level - 1, range.start, range.end).await?;
                    rows.push(tiles.iter().map(|t| t.root()).collect());
                }
            }
            if short {
                // Another replica's append is still becoming visible.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            }
            *tiled.edge.write().unwrap_or_else(PoisonError::into_inner) = Edge::from_rows(size, rows)?;
            return Ok(tiled);
        }
        Err(LedgerError::Event("the audit log's head is ahead of its entries; the store may be damaged".into()))
    }

    pub(crate) fn size(&self) -> u64 {
        self.edge.read().unwrap_or_else(PoisonError::into_inner).size()
    }

    /// Adds leaf hashes committed from index `first`, if they follow on directly
    /// (otherwise another replica appended in between: `sync` reads them back).
    pub(crate) fn extend(&self, first: u64, hashes: impl IntoIterator<Item = Hash>) -> bool {
        let mut edge = self.edge.write().unwrap_or_else(PoisonError::into_inner);
        if edge.size() != first {
            return false;
        }
        let mut filled = Vec::new();
        for h in hashes {
            edge.push(h, &mut filled);
        }
        // Under the edge's lock: a node the edge no longer holds is already pending.
        let mut pending = lock(&self.pending);
        for t in filled {
            pending.insert((t.level, t.index), Arc::new(TileTree::new(t.hashes)));
        }
        true
    }

    /// Brings the edge up to the store's size (other replicas append too); `None` when
    /// an append was still becoming visible.
    pub(crate) async fn try_sync(&self) -> Result<Option<u64>, LedgerError> {
        let size = self.store.audit_size().await?;
        if self.size() >= size {
            return Ok(Some(size));
        }
        let _one = self.syncing.lock().await;
        loop {
            let from = self.size();
            if from >= size {
                return Ok(Some(from));
            }
            let to = size.min(from + 65_536);
            let hashes = self.store.audit_leaf_hashes(from, to).await?;
            if hashes.len() as u64 != to - from {
                // The head and its rows commit together, so a short read means another
                // replica's append is still becoming visible: try again shortly.
                return Ok(None);
            }
            let hashes: Vec<Hash> =
                hashes.iter().zip(from..).map(|(h, i)| to_hash(h, i)).collect::<Result<_, LedgerError>>()?;
            self.extend(from, hashes);
            // A replica that only reads must not gather tiles without bound.
            if lock(&self.pending).len() >= 64 {
                self.flush().await?;
            }
        }
    }

    /// Full tiles not yet stored, to go with the next append.
    pub(crate) fn pending(&self) -> Vec<AuditTile> {
        lock(&self.pending)
            .iter()
            .map(|(&(level, index), h)| AuditTile { level, index, hashes: h.bottom().concat() })
            .collect()
    }

    /// Forgets pending tiles once stored (they are read from the store from then on).
    pub(crate) fn stored(&self, tiles: &[AuditTile]) {
        let mut pending = lock(&self.pending);
        let mut cache = lock(&self.cache);
        for t in tiles {
            if let Some(h) = pending.remove(&(t.level, t.index)) {
                cache.put((t.level, t.index), h);
            }
        }
    }

    /// Stores the pending tiles on their own (appends paused).
    pub(crate) async fn flush(&self) -> Result<(), LedgerError> {
        let tiles = self.pending();
        if !tiles.is_empty() {
            self.store.put_audit_tiles(&tiles).await?;
            self.stored(&tiles);
        }
        Ok(())
    }

    /// The root of the first `size` entries (`size` at most the edge's).
    pub(crate) async fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check(size)?;
        if size == self.size() {
            let edge = self.edge.read().unwrap_or_else(PoisonError::into_inner);
            if edge.size() == size {
                return Ok(edge.root());
            }
        }
        let nodes = self.nodes(tree::nodes_needed(|n| tree::root(n, size))).await?;
        Ok(tree::root(&nodes, size))
    }

    pub(crate) async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check(size)?;
        let nodes = self.nodes(tree::nodes_needed(|n| tree::inclusion_proof(n, index, size))).await?;
        Ok(tree::inclusion_proof(&nodes, index, size)?)
    }

    pub(crate) async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check(to)?;
        let nodes = self.nodes(tree::nodes_needed(|n| tree::consistency_proof(n, from, to))).await?;
        Ok(tree::consistency_proof(&nodes, from, to)?)
    }

    /// The digest of entries `[from, to)` (see [`tree::range_hash`]).
    pub(crate) async fn range_hash(&self, from: u64, to: u64) -> Result<Hash, LedgerError> {
        self.check(to)?;
        let nodes = self.nodes(tree::range_nodes(from, to)).await?;
        Ok(tree::range_hash(&nodes, from, to))
    }

    fn check(&self, size: u64) -> Result<(), LedgerError> {
        let have = self.size();
        if size > have {
            return Err(TreeError::TooLarge { requested: size, size: have }.into());
        }
        Ok(())
    }

    /// The hashes of `need` (complete nodes): from the edge, or from their tiles.
    pub(crate) async fn nodes(&self, need: Vec<Node>) -> Result<HashMap<Node, Hash>, LedgerError> {
        let mut out = HashMap::with_capacity(need.len());
        let mut stored = Vec::new();
        {
            let edge = self.edge.read().unwrap_or_else(PoisonError::into_inner);
            for n in need {
                match edge.node(n) {
                    Some(h) => {
                        out.insert(n, h);
                    }
                    None if edge.in_full_tile(n) => stored.push(n),
                    None => return Err(LedgerError::Event(format!("the audit tree has no node {n:?}"))),
                }
            }
        }
        // The tiles they lie in, those not at hand read in one go.
        let mut tiles: HashMap<(u32, u64), TileHashes> = HashMap::new();
        let mut missing = Vec::new();
        for n in &stored {
            let p = place(*n);
            let key = (p.level, p.index);
            if tiles.contains_key(&key) || missing.contains(&key) {
                continue;
            }
            match self.at_hand(key) {
                Some(t) => {
                    tiles.insert(key, t);
                }
                None => missing.push(key),
            }
        }
        if !missing.is_empty() {
            for t in self.store.audit_tiles_at(&missing).await? {
                let hashes = Tile::hashes_from_bytes(&t.hashes).ok_or_else(|| {
                    LedgerError::Event(format!("the stored audit tile {}/{} is not a full tile", t.level, t.index))
                })?;
                let hashes = Arc::new(TileTree::new(hashes));
                lock(&self.cache).put((t.level, t.index), hashes.clone());
                tiles.insert((t.level, t.index), hashes);
            }
        }
        for n in stored {
            let p = place(n);
            let tile = match tiles.get(&(p.level, p.index)) {
                Some(t) => t.clone(),
                // Not stored (lost to a crash before it was written): rebuilt.
                None => self.tile(p.level, p.index).await?,
            };
            let hash = tile
                .run(p.offset, p.count)
                .ok_or_else(|| LedgerError::Event(format!("the audit tile {}/{} is short", p.level, p.index)))?;
            out.insert(n, hash);
        }
        Ok(out)
    }

    /// A tile from the cache or from those not yet stored.
    fn at_hand(&self, key: (u32, u64)) -> Option<TileHashes> {
        if let Some(t) = lock(&self.cache).get(key) {
            return Some(t);
        }
        lock(&self.pending).get(&key).cloned()
    }

    async fn node_in_tile(&self, n: Node) -> Result<Hash, LedgerError> {
        let p = place(n);
        let tile = self.tile(p.level, p.index).await?;
        tile.run(p.offset, p.count)
            .ok_or_else(|| LedgerError::Event(format!("the audit tile {}/{} is short", p.level, p.index)))
    }

    /// The hash of a complete node wherever it is: on the edge or in a full tile.
    async fn node(&self, n: Node) -> Result<Hash, LedgerError> {
        let on_edge = self.edge.read().unwrap_or_else(PoisonError::into_inner).node(n);
        match on_edge {
            Some(h) => Ok(h),
            None => self.node_in_tile(n).await,
        }
    }

    /// One full tile: cached, pending, stored, or rebuilt from below.
    pub(crate) async fn tile(&self, level: u32, index: u64) -> Result<TileHashes, LedgerError> {
        let t = self.tile_passing(level, index).await?;
        lock(&self.cache).put((level, index), t.clone());
        Ok(t)
    }

    /// [`Tiled::tile`] without keeping it in the cache: for a walk over every tile,
    /// which would otherwise push out the tiles proofs keep coming back to.
    async fn tile_passing(&self, level: u32, index: u64) -> Result<TileHashes, LedgerError> {
        if let Some(t) = self.at_hand((level, index)) {
            return Ok(t);
        }
        self.tiles(level, index, index + 1).await?.pop().ok_or(LedgerError::Corrupt(index))
    }

    /// The full tiles `[from, to)` of `level`, in order: those stored, read in one go,
    /// and any missing rebuilt from the level below (or the leaf hashes) and stored.
    /// Holds at most a few MB whatever the range: a rebuild takes 256 tiles at a time.
    fn tiles(&self, level: u32, from: u64, to: u64) -> BoxFut<'_, Result<Vec<TileHashes>, LedgerError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity((to - from) as usize);
            let mut stored = self.store.audit_tiles(level, from, to).await?.into_iter().peekable();
            let mut built = Vec::new();
            for index in from..to {
                if let Some(t) = stored.next_if(|t| t.index == index) {
                    let hashes = Tile::hashes_from_bytes(&t.hashes).ok_or_else(|| {
                        LedgerError::Event(format!("the stored audit tile {level}/{index} is not a full tile"))
                    })?;
                    out.push(Arc::new(TileTree::new(hashes)));
                    continue;
                }
                if let Some(t) = lock(&self.pending).get(&(level, index)).cloned() {
                    out.push(t);
                    continue;
                }
                let hashes = self.build(level, index).await?;
                built.push(AuditTile { level, index, hashes: hashes.concat() });
                out.push(Arc::new(TileTree::new(hashes)));
                if built.len() >= 64 {
                    self.store.put_audit_tiles(&std::mem::take(&mut built)).await?;
                }
            }
            self.store.put_audit_tiles(&built).await?;
            Ok(out)
        })
    }

    /// A tile made from what lies below it.
    async fn build(&self, level: u32, index: u64) -> Result<Vec<Hash>, LedgerError> {
        let (from, to) = (index * TILE_WIDTH, (index + 1) * TILE_WIDTH);
        if level == 0 {
            let hashes = self.store.audit_leaf_hashes(from, to).await?;
            if hashes.len() as u64 != TILE_WIDTH {
                return Err(LedgerError::Event(format!("the audit log lacks entries {from} to {to}")));
            }
            return hashes.iter().zip(from..).map(|(h, i)| to_hash(h, i)).collect();
        }
        Ok(self.tiles(level - 1, from, to).await?.iter().map(|t| t.root()).collect())
    }

    /// Checks the first `size` entries against the tree (every full tile, and the edge):
    /// each entry's event hashes to its stored leaf hash, which is the tile's, and each
    /// tile's root is the hash the level above holds for it. Calls `progress` with the
    /// entries checked so far, and `pace` between tiles.
    pub(crate) async fn scrub<P: Future<Output = ()>>(
        &self,
        size: u64,
        mut progress: impl FnMut(u64),
        mut pace: impl FnMut() -> P,
    ) -> Result<(), ScrubError> {
        let mut index = 0;
        while index < size {
            let t = index / TILE_WIDTH;
            let full = (t + 1) * TILE_WIDTH <= self.size();
            let end = if full { (t + 1) * TILE_WIDTH } else { size };
            let entries = self.store.audit_entries(index, (end - index) as u32).await.map_err(LedgerError::from)?;
            if entries.len() as u64 != end - index {
                return Err(LedgerError::Event(format!("the audit log lacks entries {index} to {end}")).into());
            }
            let tree_hashes: Vec<Hash> = if full {
                self.tile_passing(0, t).await?.bottom().to_vec()
            } else {
                let mut v = Vec::new();
                for i in index..end {
                    v.push(self.node(Node { height: 0, index: i }).await?);
                }
                v
            };
            for (e, want) in entries.iter().zip(&tree_hashes) {
                if warden_tlog::leaf_hash(e.leaf.event.as_bytes()).as_slice() != e.leaf.leaf_hash.as_slice() {
                    return Err(mismatch(e.index, "its event no longer hashes to its stored leaf hash"));
                }
                if e.leaf.leaf_hash.as_slice() != want.as_slice() {
                    return Err(mismatch(e.index, "its leaf hash is not the one the tree was built from"));
                }
            }
            if full {
                self.check_up(0, t, &tree_hashes).await?;
            }
            index = end;
            progress(index);
            pace().await;
        }
        Ok(())
    }

    /// Checks that full tile `(level, t)` hashes to the node the level above holds for
    /// it, and, when it completes a tile of that level, that one too, up the tree.
    fn check_up<'a>(&'a self, level: u32, t: u64, hashes: &'a [Hash]) -> BoxFut<'a, Result<(), ScrubError>> {
        Box::pin(async move {
            let node = Node { height: (level + 1) * TILE_HEIGHT, index: t };
            if !node.complete_within(self.size()) {
                return Ok(());
            }
            if perfect_root(hashes) != self.node(node).await? {
                let first = t << (level * TILE_HEIGHT + TILE_HEIGHT);
                return Err(mismatch(first, &format!("the tree's stored hashes above entry {first} disagree")));
            }
            if t % TILE_WIDTH == TILE_WIDTH - 1 {
                let parent = t / TILE_WIDTH;
                let above = Node { height: (level + 2) * TILE_HEIGHT, index: parent };
                if above.complete_within(self.size()) {
                    let above = self.tile(level + 1, parent).await?;
                    return self.check_up(level + 1, parent, above.bottom()).await;
                }
            }
            Ok(())
        })
    }
}

fn mismatch(index: u64, why: &str) -> ScrubError {
    ScrubError::Mismatch(Mismatch { index, why: why.to_string() })
}
