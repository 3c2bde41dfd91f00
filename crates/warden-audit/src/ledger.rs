//! The ledger service: one appender task per process batches concurrent appends into
//! single transactions (group commit) and acknowledges each event only after its batch
//! committed. The tree's right edge is kept in memory and its full tiles in the store
//! ([`crate::tiled`]): roots and proofs read a few tiles, memory stays bounded whatever
//! the log's size, and the edge catches up from the store when other replicas append.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};
use warden_core::Timestamp;
use warden_store::{AuditLeaf, CheckpointRecord, Store, StoreError, AUDIT_BLOCK};
use warden_tlog::note::{Checkpoint, SigningKey, VerifierKey};
use warden_tlog::tiles::TilePath;
use warden_tlog::Hash;

use crate::error::LedgerError;
use crate::event::AuditEvent;
use crate::tiled::{ScrubError, Tiled};

#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// Checkpoint origin line and key name, e.g. `warden.example.com/audit`.
    pub origin: String,
    /// Most events per transaction.
    pub max_batch: usize,
    /// Where the last signed checkpoint is kept outside the database (none: only in it).
    pub pin_file: Option<std::path::PathBuf>,
    /// A copy of it replicas share (an object store), checked and advanced likewise.
    pub shared_pin: Option<crate::pin::Shared>,
    /// After start, check every stored entry against the tree in the background (see
    /// [`Ledger::scrubbed`]): an entry edited in the database without its tiles is
    /// found even though the tree's root still matches what was signed.
    pub scrub: bool,
    /// How often a signed digest of the entries appended since the last one is made and
    /// anchored (none: never); see [`crate::digest`].
    pub digest_every: Option<Duration>,
    /// Where the last digest is kept outside the database (and where the next starts).
    pub digest_file: Option<std::path::PathBuf>,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            origin: "warden/audit".into(),
            max_batch: 4096,
            pin_file: None,
            shared_pin: None,
            scrub: true,
            digest_every: None,
            digest_file: None,
        }
    }
}

/// The search index trails the log: the appender writes to it once this many entries
/// are unindexed (and whenever appends pause), `INDEX_CHUNK` entries per transaction and
/// one transaction between commits, so that no commit waits long behind it (a whole
/// `INDEX_EVERY` in one transaction held the next commit for 8 to 11 ms on this disk).
const INDEX_EVERY: u64 = 4096;
const INDEX_CHUNK: u64 = 1024;

/// The scrub gives way to the ledger's work. While appends or proofs are served it
/// checks one tile (256 entries) per `SCRUB_BUSY_PAUSE`, so that even a log that is
/// never idle is checked in full, slowly (10M entries in about eleven hours of
/// unbroken load; at one tile per 100 ms, proofs' p99 rose by half on two cores).
/// Otherwise it works a quarter of the time: after every 16 tiles it rests three times
/// as long as they took (minutes for 10M entries).
const SCRUB_BUSY_PAUSE: Duration = Duration::from_secs(1);
const SCRUB_REST_FACTOR: u32 = 3;

/// How often a checkpoint is signed while appends flow.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// An event someone waits for (events appended behind go to `behind_queue`).
struct Job {
    leaf: AuditLeaf,
    done: oneshot::Sender<Result<u64, LedgerError>>,
}

/// How long a batch of events nobody waits for may wait for company before it is
/// committed: fewer, larger commits when appends trickle in.
const LINGER: Duration = Duration::from_millis(2);

pub struct Ledger {
    store: Arc<dyn Store>,
    tree: Tiled,
    key: SigningKey,
    origin: String,
    jobs: mpsc::Sender<Job>,
    /// Serialises checkpoint signing within this process.
    signing: Mutex<()>,
    /// The last signed checkpoint, kept outside the database, and what it says.
    pin: Option<crate::pin::PinFile>,
    pinned: std::sync::Mutex<Option<Checkpoint>>,
    shared_pin: Option<crate::pin::Shared>,
    /// Why nothing is signed any more (the database no longer extends the pin).
    halted: std::sync::Mutex<Option<crate::pin::Regression>>,
    /// The latest checkpoint witnesses cosigned: its size, the note with their lines,
    /// and the largest size each witness cosigned.
    cosigned: std::sync::Mutex<Cosigned>,
    /// Committed batches and events, for metrics.
    batches: std::sync::atomic::AtomicU64,
    events: std::sync::atomic::AtomicU64,
    /// The last batch failed to commit (cleared by the next one that commits).
    failing: std::sync::atomic::AtomicBool,
    /// Events appended behind and not yet committed (or failed).
    behind: std::sync::atomic::AtomicUsize,
    /// Events appended behind wait here, not in `jobs`: queuing one does not wake the
    /// appender, except the first after a commit (`behind_ready`), which then lingers
    /// for company. At most `behind_max`; beyond that appending waits for room.
    behind_queue: std::sync::Mutex<Vec<AuditLeaf>>,
    behind_ready: tokio::sync::Notify,
    /// Signalled whenever the appender empties the queue.
    behind_room: tokio::sync::Notify,
    behind_max: usize,
    /// The time of the latest committed batch no checkpoint covers yet: the signer's
    /// next job. Signing runs on a task of its own, so that its writes (the pins, the
    /// shared pin and anchors in the object store, the checkpoint row) never hold up the
    /// appender and the callers waiting on their commit.
    unsigned: std::sync::Mutex<Option<Timestamp>>,
    /// The scrub: entries checked so far, of how many (0 of 0 until it starts).
    scrubbed: std::sync::atomic::AtomicU64,
    scrub_of: std::sync::atomic::AtomicU64,
    /// When the ledger last served an append or a proof (milliseconds since `born`):
    /// the scrub gives way while it is busy.
    born: std::time::Instant,
    last_use: std::sync::atomic::AtomicU64,
    digest_every: Option<Duration>,
    digest_file: Option<std::path::PathBuf>,
    digests: std::sync::Mutex<Digests>,
}

/// Where the next digest starts, when the last was made, and the last one made.
struct Digests {
    next_from: u64,
    last_at: std::time::Instant,
    latest: Option<(crate::digest::Digest, String)>,
}

/// What witnesses cosigned (see `Ledger::add_cosignature`).
#[derive(Default)]
struct Cosigned {
    size: u64,
    note: String,
    by_witness: std::collections::BTreeMap<String, u64>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Ledger {
    /// Loads the tree from the store, starts the appender, and makes sure the current
    /// size has a signed checkpoint.
    pub async fn open(
        store: Arc<dyn Store>,
        key: SigningKey,
        config: LedgerConfig,
    ) -> Result<Arc<Ledger>, LedgerError> {
        let (tx, rx) = mpsc::channel(config.max_batch * 4);
        let tree = Tiled::load(store.clone()).await?;
        let ledger = Arc::new(Ledger {
            store,
            tree,
            origin: config.origin,
            key,
            jobs: tx,
            signing: Mutex::new(()),
            pin: config.pin_file.clone().map(crate::pin::PinFile::new),
            pinned: Default::default(),
            shared_pin: config.shared_pin.clone(),
            halted: Default::default(),
            cosigned: Default::default(),
            batches: Default::default(),
            events: Default::default(),
            failing: Default::default(),
            behind: Default::default(),
            behind_queue: Default::default(),
            behind_ready: Default::default(),
            behind_room: Default::default(),
            behind_max: config.max_batch,
            unsigned: Default::default(),
            scrubbed: Default::default(),
            scrub_of: Default::default(),
            born: std::time::Instant::now(),
            last_use: Default::default(),
            digest_every: config.digest_every,
            digest_file: config.digest_file.clone(),
            digests: std::sync::Mutex::new(Digests { next_from: 0, last_at: std::time::Instant::now(), latest: None }),
        });
        ledger.load_digest();
        ledger.sync().await?;
        if let Some(pin) = &ledger.pin {
            match pin.load(&ledger.key.verifier()) {
                Ok(p) => *ledger.pinned.lock().unwrap_or_else(|e| e.into_inner()) = p,
                Err(r) => ledger.halt(r),
            }
        }
        // At start the database must extend what was signed, whatever checkpoints it
        // still holds; a server that finds otherwise keeps running (reads, and the
        // evidence of what happened) but signs nothing and says why on /readyz.
        // (`sign_latest` checks the pins first and halts on a regression.)
        match ledger.sign_latest(Timestamp(0)).await {
            Ok(()) | Err(LedgerError::Regression(_)) => {}
            Err(e) => return Err(e),
        }
        let worker = ledger.clone();
        tokio::spawn(async move { worker.run(rx, config.max_batch).await });
        let signer = ledger.clone();
        tokio::spawn(async move { signer.sign_in_background().await });
        if config.scrub {
            let scrubber = ledger.clone();
            tokio::spawn(async move { scrubber.scrub().await });
        }
        Ok(ledger)
    }

    /// (committed transactions, events in them) since start.
    pub fn stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.batches.load(Relaxed), self.events.load(Relaxed))
    }

    /// Whether the last attempt to commit appends failed: callers that do not wait for
    /// their events (the gateway, when configured so) refuse work while it is true.
    pub fn failing(&self) -> bool {
        self.failing.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn verifier(&self) -> VerifierKey {
        self.key.verifier()
    }

    /// Signs `text` (ending in a newline, no blank lines) with the instance key as a
    /// C2SP signed note: anyone with the audit public key can verify it offline.
    pub fn sign_note(&self, text: &str) -> Result<String, LedgerError> {
        self.key.sign_note(text).map_err(|e| LedgerError::Event(e.to_string()))
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Appends an event; returns its index once it is durable.
    pub async fn append(&self, event: &AuditEvent) -> Result<u64, LedgerError> {
        self.used();
        let leaf = event.to_leaf().map_err(|e| LedgerError::Event(e.to_string()))?;
        let (done, wait) = oneshot::channel();
        self.jobs.send(Job { leaf, done }).await.map_err(|_| LedgerError::Stopped)?;
        wait.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Queues an event without waiting for it to be durable: it is committed with the
    /// next batch (within a few milliseconds). A failure is logged and makes
    /// [`Ledger::failing`] true; [`Ledger::drain`] waits for what is queued.
    pub async fn append_behind(&self, event: &AuditEvent) -> Result<(), LedgerError> {
        self.used();
        let leaf = event.to_leaf().map_err(|e| LedgerError::Event(e.to_string()))?;
        self.behind.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let mut leaf = Some(leaf);
        loop {
            // Registered before looking, so room made in between is not missed.
            let room = self.behind_room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut queue = self.behind_queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if queue.len() < self.behind_max {
                    queue.extend(leaf.take());
                    if queue.len() == 1 {
                        self.behind_ready.notify_one();
                    }
                    return Ok(());
                }
            }
            // A full queue: wait for the appender to take it, as a full channel would.
            room.await;
        }
    }

    /// Waits (up to `within`) until every event appended behind is committed or has
    /// failed; returns how many are still queued.
    pub async fn drain(&self, within: Duration) -> usize {
        let until = std::time::Instant::now() + within;
        loop {
            let left = self.behind.load(std::sync::atomic::Ordering::Acquire);
            if left == 0 || std::time::Instant::now() >= until {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn run(self: Arc<Self>, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
        let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
        // Entries [0, indexed) are in the search index; [indexed, head) are scanned.
        let mut indexed = 0;
        let mut head = 0;
        let mut kept = KeptTerms::default();
        loop {
            let queued_behind = !self.behind_queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty();
            let first = tokio::select! {
                biased;
                job = rx.recv() => match job {
                    Some(job) => Some(job),
                    None => return,
                },
                () = self.behind_ready.notified() => None,
                () = tokio::time::sleep(CHECKPOINT_EVERY), if !queued_behind => {
                    // Appends paused: store the tiles filled so far, and catch up
                    // with the index, a chunk at a time, until one arrives.
                    if let Err(e) = self.tree.flush().await {
                        tracing::error!(error = %e, "could not store the audit tree's tiles");
                    }
                    while indexed < head && rx.is_empty() {
                        let before = indexed;
                        indexed = self.index_step(indexed, &mut kept).await;
                        if indexed <= before {
                            break;
                        }
                    }
                    continue;
                }
                // Events left queued behind by a full batch: straight on.
                () = std::future::ready(()), if queued_behind => None,
            };
            batch.extend(first);
            // Gather what is queued. Writers woken by the previous acknowledgement may
            // not have enqueued yet: yield while the batch keeps growing (a few rounds at
            // most), so one commit serves them all instead of a trickle of small ones.
            let mut rounds = 0;
            loop {
                let before = batch.len();
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                rounds += 1;
                if batch.len() >= max_batch || rounds > 8 || (batch.len() == before && rounds > 1) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            // Only events appended behind so far, and nobody waits on them: let them
            // gather company for a moment, but stop as soon as someone who waits joins.
            if batch.is_empty() {
                if let Ok(Some(j)) = tokio::time::timeout(LINGER, rx.recv()).await {
                    batch.push(j);
                }
            }
            // Every event queued behind goes first: someone in the batch may have queued
            // some before waiting. (A transaction holds at most two batches' worth: the
            // queue's and the channel's.)
            let behind: Vec<AuditLeaf> =
                std::mem::take(&mut *self.behind_queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            self.behind_room.notify_waiters();
            let mut waiting: Vec<Option<oneshot::Sender<Result<u64, LedgerError>>>> =
                Vec::with_capacity(behind.len() + batch.len());
            waiting.resize_with(behind.len(), || None);
            let mut leaves = behind;
            for j in batch.drain(..) {
                leaves.push(j.leaf);
                waiting.push(Some(j.done));
            }
            if leaves.is_empty() {
                continue;
            }
            // Tiles filled by earlier appends ride along with this one.
            let tiles = self.tree.pending();
            match self.store.append_audit_with_tiles(&leaves, &tiles).await {
                Ok(first_index) => {
                    self.tree.stored(&tiles);
                    self.failing.store(false, std::sync::atomic::Ordering::Release);
                    self.batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.events.fetch_add(waiting.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    let mut behind = 0;
                    for (i, done) in waiting.into_iter().enumerate() {
                        match done {
                            Some(done) => {
                                let _ = done.send(Ok(first_index + i as u64));
                            }
                            None => behind += 1,
                        }
                    }
                    self.behind.fetch_sub(behind, std::sync::atomic::Ordering::AcqRel);
                    head = first_index + leaves.len() as u64;
                    self.extend_tree(first_index, &leaves).await;
                    *self.unsigned.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(batch_time(&leaves));
                    kept.add(first_index, &leaves);
                    if head.saturating_sub(indexed) >= INDEX_EVERY {
                        indexed = self.index_step(indexed, &mut kept).await;
                    }
                }
                Err(e) => {
                    self.failing.store(true, std::sync::atomic::Ordering::Release);
                    tracing::error!(error = %e, events = waiting.len(), "audit append failed; nothing was acknowledged");
                    let msg = e.to_string();
                    let mut behind = 0;
                    for done in waiting {
                        match done {
                            Some(done) => {
                                let _ = done.send(Err(LedgerError::Store(StoreError::Unavailable(msg.clone()))));
                            }
                            None => behind += 1,
                        }
                    }
                    if behind > 0 {
                        tracing::error!(events = behind, "audit events appended behind were lost to a failed commit");
                    }
                    self.behind.fetch_sub(behind, std::sync::atomic::Ordering::AcqRel);
                    // Do not spin against a database that is down.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Brings the search index forward from `indexed` and returns where it stands. When
    /// the terms this appender kept start at the index's head, they are written as they
    /// are; otherwise (a restart, another replica's entries in between) the store reads
    /// the entries back to index them.
    async fn index_step(&self, indexed: u64, kept: &mut KeptTerms) -> u64 {
        // `indexed` may be behind (another replica indexed since): the store checks
        // where the head really stands.
        if kept.to > kept.from {
            let from = kept.from;
            let end = ((from / INDEX_CHUNK + 1) * INDEX_CHUNK).min(kept.to);
            let terms = kept.take_until(end);
            match self.store.index_audit_terms(from, end, &terms).await {
                Ok(true) => return end,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "could not update the audit search index"),
            }
        }
        *kept = KeptTerms::default();
        self.index_or_log(indexed).await
    }

    /// Brings the search index forward by reading entries back; on failure it stays
    /// where it was (searches still scan the tail) and the next round tries again.
    async fn index_or_log(&self, indexed: u64) -> u64 {
        match self.store.index_audit(INDEX_CHUNK).await {
            Ok(head) => head,
            Err(e) => {
                tracing::error!(error = %e, "could not update the audit search index");
                indexed
            }
        }
    }

    /// Signs a checkpoint at most once per interval while appends flow (readers may ask
    /// for one sooner: `checkpoint`), on this task rather than the appender's.
    async fn sign_in_background(self: Arc<Self>) {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let due = self.unsigned.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(now) = due {
                self.sign_or_log(now).await;
            }
        }
    }

    async fn sign_or_log(&self, now: Timestamp) {
        if let Err(e) = self.sign_latest(now).await {
            tracing::error!(error = %e, "could not sign an audit checkpoint");
            return;
        }
        if let Err(e) = self.digest_if_due().await {
            tracing::error!(error = %e, "could not make the digest of recent audit entries");
        }
    }

    /// Where the next digest starts: after the last one kept outside the database.
    fn load_digest(&self) {
        let Some(path) = &self.digest_file else { return };
        let note = match std::fs::read_to_string(path) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read the last audit digest");
                return;
            }
        };
        match crate::digest::Digest::open(&note, &self.key.verifier()) {
            Ok(d) => {
                let mut digests = self.digests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                digests.next_from = d.to;
                digests.latest = Some((d, note));
            }
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "the last audit digest does not verify"),
        }
    }

    /// Makes, keeps and anchors the digest of the entries signed since the last one,
    /// once the interval has passed.
    async fn digest_if_due(&self) -> Result<(), LedgerError> {
        let Some(every) = self.digest_every else { return Ok(()) };
        let from = {
            let d = self.digests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if d.last_at.elapsed() < every {
                return Ok(());
            }
            d.next_from
        };
        let Some(to) = self.store.latest_checkpoint().await?.map(|c| c.tree_size).filter(|to| *to > from) else {
            return Ok(());
        };
        let hash = self.tree.range_hash(from, to).await?;
        let digest = crate::digest::Digest { origin: self.origin.clone(), from, to, hash };
        let note = digest.sign(&self.key).map_err(LedgerError::Event)?;
        if let Some(path) = &self.digest_file {
            crate::pin::write_durably(path, note.as_bytes())
                .map_err(|e| LedgerError::Event(format!("cannot keep the audit digest in {}: {e}", path.display())))?;
        }
        if let Some(shared) = &self.shared_pin {
            if let Err(e) = shared.0.anchor_digest(to, &note).await {
                tracing::warn!(pin = %shared.0.describe(), error = %e, "could not anchor an audit digest");
            }
        }
        tracing::info!(from, to, "made the digest of the audit entries since the last one");
        let mut d = self.digests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        d.next_from = to;
        d.last_at = std::time::Instant::now();
        d.latest = Some((digest, note));
        Ok(())
    }

    /// The last digest made (or kept from before a restart), with its signed note.
    pub fn latest_digest(&self) -> Option<(crate::digest::Digest, String)> {
        self.digests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).latest.clone()
    }

    /// A resource of the log in the C2SP tlog-tiles layout, for the tree as it stands:
    /// a tile's hashes (the whole tile, or the first `width` of it), or the entries a
    /// level-0 tile hashes, each a big-endian u16 length and the entry's bytes.
    pub async fn tile_resource(&self, path: TilePath) -> Result<Vec<u8>, LedgerError> {
        use warden_tlog::tiles::{TILE_HEIGHT, TILE_WIDTH};
        use warden_tlog::tree::Node;
        let size = self.sync().await?;
        let (level, index, width) = match path {
            TilePath::Hashes { level, index, width } => (level, index, width),
            TilePath::Entries { index, width } => (0, index, width),
        };
        let missing = || LedgerError::NoSuchTile(format!("tile/{} (the log has {size} entries)", path.to_path()));
        let w = width.map_or(TILE_WIDTH, u64::from);
        let height = level.checked_mul(TILE_HEIGHT).filter(|h| *h < 64).ok_or_else(missing)?;
        let first = index.checked_mul(TILE_WIDTH).ok_or_else(missing)?;
        let last = first.checked_add(w - 1).ok_or_else(missing)?;
        if !(Node { height, index: last }).complete_within(size) {
            return Err(missing());
        }
        match path {
            TilePath::Entries { .. } => {
                let entries = self.store.audit_entries(first, w as u32).await?;
                if entries.len() as u64 != w {
                    return Err(missing());
                }
                let mut out = Vec::new();
                for e in entries {
                    let len = u16::try_from(e.leaf.event.len()).map_err(|_| {
                        LedgerError::Event(format!("entry {} is longer than an entry bundle holds", e.index))
                    })?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(e.leaf.event.as_bytes());
                }
                Ok(out)
            }
            TilePath::Hashes { width: None, .. } => Ok(self.tree.tile(level, index).await?.bottom().concat()),
            TilePath::Hashes { .. } => {
                let nodes: Vec<Node> = (first..=last).map(|i| Node { height, index: i }).collect();
                let got = self.tree.nodes(nodes.clone()).await?;
                nodes
                    .iter()
                    .map(|n| got.get(n).copied().ok_or_else(missing))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|h| h.concat())
            }
        }
    }

    /// The digest of entries `[from, to)` as the log holds them now.
    pub async fn range_digest(&self, from: u64, to: u64) -> Result<Hash, LedgerError> {
        self.ensure(to).await?;
        self.tree.range_hash(from, to).await
    }

    /// Adds a batch this appender committed at `first` to the tree, if it follows on
    /// directly; otherwise (another replica appended in between) `sync` reads the
    /// hashes back from the store when they are needed.
    async fn extend_tree(&self, first: u64, leaves: &[AuditLeaf]) {
        let hashes: Result<Vec<Hash>, _> =
            leaves.iter().zip(first..).map(|(l, i)| crate::tiled::to_hash(&l.leaf_hash, i)).collect();
        if let Ok(hashes) = hashes {
            self.tree.extend(first, hashes);
        }
    }

    /// Checks every entry stored at start against the tree, at a pace that leaves the
    /// database to the requests; an entry found edited stops signing, as a rewrite does.
    async fn scrub(self: Arc<Self>) {
        use std::sync::atomic::Ordering::Relaxed;
        let size = self.tree.size();
        self.scrub_of.store(size, Relaxed);
        let mut tiles = 0u32;
        let mut working = std::time::Instant::now();
        let found = self
            .tree
            .scrub(
                size,
                |n| self.scrubbed.store(n, Relaxed),
                || {
                    tiles += 1;
                    // While appends or proofs are being served, one tile per pause;
                    // otherwise, every 16 tiles, rest three times as long as they took.
                    let rest = if self.busy(SCRUB_BUSY_PAUSE) {
                        working = std::time::Instant::now() + SCRUB_BUSY_PAUSE;
                        Some(SCRUB_BUSY_PAUSE)
                    } else {
                        (tiles % 16 == 0).then(|| {
                            let rest = (working.elapsed() * SCRUB_REST_FACTOR).max(Duration::from_millis(1));
                            working = std::time::Instant::now() + rest;
                            rest
                        })
                    };
                    async move {
                        if let Some(rest) = rest {
                            tokio::time::sleep(rest).await;
                        }
                    }
                },
            )
            .await;
        match found {
            Ok(()) => tracing::info!(entries = size, "every audit entry stored at start matches the tree"),
            Err(ScrubError::Mismatch(m)) => {
                self.halt(crate::pin::Regression::Edited { index: m.index, why: m.why });
            }
            Err(ScrubError::Ledger(e)) => tracing::error!(error = %e, "could not check the stored audit entries"),
        }
    }

    fn used(&self) {
        let now = self.born.elapsed().as_millis() as u64;
        self.last_use.store(now, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether an append or a proof was served within the last `within`.
    fn busy(&self, within: Duration) -> bool {
        let last = Duration::from_millis(self.last_use.load(std::sync::atomic::Ordering::Relaxed));
        self.born.elapsed().saturating_sub(last) < within
    }

    /// How far the scrub has got: (entries checked, entries there were at start).
    pub fn scrubbed(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.scrubbed.load(Relaxed), self.scrub_of.load(Relaxed))
    }

    /// Brings the tree's edge up to the store's size (other replicas may append).
    pub async fn sync(&self) -> Result<u64, LedgerError> {
        for _ in 0..100 {
            if let Some(size) = self.try_sync().await? {
                return Ok(size);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(LedgerError::Event("the audit log's head is ahead of its entries; the store may be damaged".into()))
    }

    /// One attempt; `None` when a concurrent append was still becoming visible.
    async fn try_sync(&self) -> Result<Option<u64>, LedgerError> {
        self.tree.try_sync().await
    }

    /// Signs and stores a checkpoint for the current size if it has none yet: only when
    /// the tree extends the last checkpoint signed (kept outside the database), which
    /// then becomes this one.
    async fn sign_latest(&self, now: Timestamp) -> Result<(), LedgerError> {
        let _guard = self.signing.lock().await;
        if let Some(r) = self.halted() {
            return Err(r.into());
        }
        let size = self.sync().await?;
        let shared_size = match self.check_pin(size).await {
            Ok(s) => s,
            Err(e) => {
                if let LedgerError::Regression(r) = &e {
                    self.halt(r.clone());
                }
                return Err(e);
            }
        };
        if self.store.latest_checkpoint().await?.is_some_and(|c| c.tree_size >= size) {
            return Ok(());
        }
        let root = self.tree.root(size).await?;
        let checkpoint = Checkpoint { origin: self.origin.clone(), size, root };
        let note = checkpoint.sign(&self.key).map_err(|e| LedgerError::Event(e.to_string()))?;
        if let Some(pin) = &self.pin {
            pin.store(&note).map_err(|e| {
                LedgerError::Event(format!("cannot keep the signed checkpoint in {}: {e}", pin.path().display()))
            })?;
            *self.pinned.lock().unwrap_or_else(|e| e.into_inner()) = Some(checkpoint);
        }
        if let Some(shared) = &self.shared_pin {
            if shared_size.is_some_and(|kept| kept < size) {
                if let Err(e) = shared.0.store(&note).await {
                    tracing::warn!(pin = %shared.0.describe(), error = %e, "could not advance the shared signed checkpoint");
                }
            }
            if let Err(e) = shared.0.anchor(size, &note).await {
                tracing::warn!(pin = %shared.0.describe(), error = %e, "could not anchor a signed checkpoint");
            }
        }
        self.store.put_checkpoint(&CheckpointRecord { tree_size: size, note, created_at: now }).await?;
        Ok(())
    }

    /// Whether the tree in the store extends the pinned checkpoints, the local one and
    /// the shared one (trivially true with none). Answers the size the shared pin holds
    /// (`None` without one, or when it cannot be read now: availability first). `size` is
    /// the tree's size just synced.
    async fn check_pin(&self, size: u64) -> Result<Option<u64>, LedgerError> {
        let local = self.pinned.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let (Some(pin), Some(pinned)) = (&self.pin, local) {
            let root = self.root_at_pin(&pinned, size).await?;
            pin.check(&pinned, size, root.as_ref())?;
        }
        let Some(shared) = &self.shared_pin else { return Ok(None) };
        let note = match shared.0.load().await {
            Ok(Some(n)) => n,
            Ok(None) => return Ok(Some(0)),
            Err(e) => {
                tracing::warn!(pin = %shared.0.describe(), error = %e, "cannot read the shared signed checkpoint now");
                return Ok(None);
            }
        };
        let pinned = Checkpoint::open(&note, &self.key.verifier()).map_err(|e| crate::pin::Regression::Unreadable {
            file: shared.0.describe(),
            why: format!("it does not verify: {e}"),
        })?;
        let root = self.root_at_pin(&pinned, size).await?;
        crate::pin::check_against(&pinned, size, root.as_ref(), &shared.0.describe())?;
        Ok(Some(pinned.size))
    }

    /// The stored tree's root at a pinned size, if it has that many entries.
    async fn root_at_pin(&self, pinned: &Checkpoint, size: u64) -> Result<Option<Hash>, LedgerError> {
        Ok(if pinned.size == 0 {
            Some(pinned.root)
        } else if size >= pinned.size {
            Some(self.tree.root(pinned.size).await?)
        } else {
            None
        })
    }

    fn halt(&self, why: crate::pin::Regression) {
        tracing::error!(error = %why, "the audit log does not extend its last signed checkpoint; signing stopped");
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }

    /// Keeps a witness's cosignature `line` on the checkpoint `note` of `size` entries.
    pub fn add_cosignature(&self, witness: &str, size: u64, note: &str, line: &str) {
        let mut c = self.cosigned.lock().unwrap_or_else(|e| e.into_inner());
        let seen = c.by_witness.entry(witness.to_string()).or_insert(0);
        *seen = (*seen).max(size);
        if c.size < size || c.note.is_empty() {
            c.size = size;
            c.note = note.to_string();
        }
        if c.size == size && !line.is_empty() && !c.note.contains(line) {
            c.note.push_str(line);
            c.note.push('\n');
        }
    }

    /// The checkpoint of `size` entries with every cosignature collected for it.
    pub fn cosigned_note(&self, size: u64) -> Option<String> {
        let c = self.cosigned.lock().unwrap_or_else(|e| e.into_inner());
        (c.size == size && !c.note.is_empty()).then(|| c.note.clone())
    }

    /// The latest cosigned checkpoint: its size and the note with the cosignatures.
    pub fn latest_cosigned(&self) -> Option<(u64, String)> {
        let c = self.cosigned.lock().unwrap_or_else(|e| e.into_inner());
        (!c.note.is_empty()).then(|| (c.size, c.note.clone()))
    }

    /// Every witness submitted to, with the largest size it cosigned since start.
    pub fn witnesses(&self) -> Vec<(String, u64)> {
        let c = self.cosigned.lock().unwrap_or_else(|e| e.into_inner());
        c.by_witness.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Registers a witness checkpoints are submitted to (nothing cosigned yet).
    pub fn expect_witness(&self, witness: &str) {
        let mut c = self.cosigned.lock().unwrap_or_else(|e| e.into_inner());
        c.by_witness.entry(witness.to_string()).or_insert(0);
    }

    /// The largest size `witness` cosigned since start.
    pub fn cosigned_by(&self, witness: &str) -> Option<u64> {
        self.cosigned.lock().unwrap_or_else(|e| e.into_inner()).by_witness.get(witness).copied().filter(|s| *s > 0)
    }

    /// Why the ledger signs nothing any more, if it does not (reported by `/readyz`).
    pub fn halted(&self) -> Option<crate::pin::Regression> {
        self.halted.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A signed checkpoint covering every entry committed so far (signing one if the
    /// appender has not yet).
    pub async fn checkpoint(&self, now: Timestamp) -> Result<CheckpointRecord, LedgerError> {
        match self.sign_latest(now).await {
            // Halted: the latest checkpoint stored is still served, so that clients can
            // check the log against what they verified before (and find the rewrite).
            Err(LedgerError::Regression(r)) => self.store.latest_checkpoint().await?.ok_or(LedgerError::Regression(r)),
            Err(e) => Err(e),
            Ok(()) => self.store.latest_checkpoint().await?.ok_or(LedgerError::Stopped),
        }
    }

    /// The size the tree can answer for: at least `n` if the log has that many.
    async fn ensure(&self, n: u64) -> Result<(), LedgerError> {
        if self.tree.size() < n {
            self.sync().await?;
        }
        Ok(())
    }

    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.used();
        self.ensure(size).await?;
        self.tree.inclusion_proof(index, size).await
    }

    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LedgerError> {
        self.used();
        self.ensure(to).await?;
        self.tree.consistency_proof(from, to).await
    }

    pub async fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.ensure(size).await?;
        self.tree.root(size).await
    }

    pub async fn size(&self) -> Result<u64, LedgerError> {
        self.sync().await
    }
}

/// The search terms of the entries `[from, to)` this appender committed, one per term
/// and block, kept until the index takes them: indexing then costs a few hundred rows
/// per few thousand entries instead of reading the entries back.
#[derive(Default)]
struct KeptTerms {
    from: u64,
    to: u64,
    /// Terms of finished blocks.
    done: Vec<(String, u64)>,
    /// The block being filled and its terms so far.
    block: u64,
    in_block: std::collections::HashSet<String>,
    scratch: String,
}

impl KeptTerms {
    /// Adds a committed batch starting at `first`; a batch that does not follow the
    /// last one (another replica appended in between) starts the range again.
    fn add(&mut self, first: u64, leaves: &[AuditLeaf]) {
        if first != self.to || self.from == self.to {
            self.done.clear();
            self.in_block.clear();
            self.from = first;
        }
        for (leaf, i) in leaves.iter().zip(first..) {
            let block = i / AUDIT_BLOCK;
            if block != self.block {
                self.finish_block();
                self.block = block;
            }
            for (prefix, value) in leaf.term_parts() {
                self.scratch.clear();
                self.scratch.push_str(prefix);
                self.scratch.push_str(value);
                if !self.in_block.contains(self.scratch.as_str()) {
                    self.in_block.insert(self.scratch.clone());
                }
            }
        }
        self.to = first + leaves.len() as u64;
    }

    fn finish_block(&mut self) {
        let block = self.block;
        self.done.extend(self.in_block.drain().map(|t| (t, block)));
    }

    /// The kept terms of entries `[from, end)`, in index order; the range then starts at
    /// `end`. `end` is the range's end or a block boundary inside it, so the block being
    /// filled is never split.
    fn take_until(&mut self, end: u64) -> Vec<(String, u64)> {
        let mut terms = if end >= self.to {
            self.finish_block();
            self.from = self.to;
            std::mem::take(&mut self.done)
        } else {
            debug_assert_eq!(end % AUDIT_BLOCK, 0, "a chunk ends on a block boundary");
            let (taken, kept) = std::mem::take(&mut self.done).into_iter().partition(|(_, b)| *b < end / AUDIT_BLOCK);
            self.done = kept;
            self.from = end;
            taken
        };
        terms.sort_unstable();
        terms
    }
}

fn batch_time(leaves: &[AuditLeaf]) -> Timestamp {
    leaves.iter().map(|l| l.time).max().unwrap_or(Timestamp(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Category;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_appended_behind_are_committed_and_drained() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&dir.path().join("w.db")).await.unwrap());
        let key = SigningKey::generate("warden/test").unwrap();
        // Small batches: the queue for events appended behind (as long as a batch) fills,
        // and appending waits for room.
        let config = LedgerConfig { max_batch: 16, ..LedgerConfig::default() };
        let ledger = Ledger::open(store.clone(), key, config).await.unwrap();
        let event =
            |i: i64| AuditEvent::new(Timestamp(1_700_000_000_000 + i), Category::System, "test.event", "success");
        for i in 0..50 {
            ledger.append_behind(&event(i)).await.unwrap();
        }
        // One who waits joins the queue behind them and is committed with or after them.
        let waited = ledger.append(&event(50)).await.unwrap();
        assert_eq!(waited, 50, "the awaited event follows the fifty queued before it");
        assert_eq!(ledger.drain(Duration::from_secs(5)).await, 0, "nothing left queued");
        assert_eq!(store.audit_size().await.unwrap(), 51);
        // A trickle: each event is committed within moments without anyone waiting.
        for i in 51..60 {
            ledger.append_behind(&event(i)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        assert_eq!(ledger.drain(Duration::from_secs(5)).await, 0);
        assert_eq!(store.audit_size().await.unwrap(), 60);
        let times: Vec<i64> =
            store.audit_entries(0, 100).await.unwrap().iter().map(|e| e.leaf.time.0 - 1_700_000_000_000).collect();
        assert_eq!(times, (0..60).collect::<Vec<_>>(), "one writer's events keep their order");
        assert!(!ledger.failing());
    }

    /// Terms taken a chunk at a time are exactly the terms taken at once, each chunk
    /// holding only its own blocks.
    #[test]
    fn kept_terms_split_at_block_boundaries_lose_and_repeat_nothing() {
        let leaf = |i: u64| {
            let mut e = AuditEvent::new(Timestamp(i as i64), Category::System, "test.event", "success");
            e.actor.uid = Some(format!("usr_{}", i % 13));
            e.to_leaf().unwrap()
        };
        let leaves: Vec<AuditLeaf> = (100..3000).map(leaf).collect();
        let mut whole = KeptTerms::default();
        whole.add(100, &leaves);
        let all = whole.take_until(u64::MAX);
        let mut parts = KeptTerms::default();
        // Added in uneven batches, as commits come.
        for (i, chunk) in leaves.chunks(333).enumerate() {
            parts.add(100 + (i * 333) as u64, chunk);
        }
        let mut got = Vec::new();
        let mut from = 100;
        for end in [1024, 2048, 3000] {
            assert_eq!(parts.from, from);
            let part = parts.take_until(end);
            let blocks = (from / AUDIT_BLOCK)..=((end - 1) / AUDIT_BLOCK);
            assert!(part.iter().all(|(_, b)| blocks.contains(b)), "chunk [{from}, {end}) holds only its blocks");
            got.extend(part);
            from = end;
        }
        got.sort_unstable();
        assert_eq!(got, all);
        assert!(!all.is_empty());
    }

    /// Two appenders on one database (replicas), their batches interleaved: each one's
    /// in-memory tree and the search index (built from kept terms where they line up,
    /// by reading entries back where they do not) agree exactly with the stored log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_appenders_keep_the_tree_and_the_search_index_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&dir.path().join("w.db")).await.unwrap());
        let open = || async {
            Ledger::open(store.clone(), SigningKey::generate("warden/test").unwrap(), LedgerConfig::default())
                .await
                .unwrap()
        };
        let (a, b) = (open().await, open().await);
        let event = |i: u64, actor: String| {
            let mut e =
                AuditEvent::new(Timestamp(1_700_000_000_000 + i as i64), Category::System, "test.event", "success");
            e.actor.uid = Some(actor);
            e
        };
        let run = |ledger: Arc<Ledger>, name: &'static str| async move {
            for i in 0..3000u64 {
                ledger.append_behind(&event(i, format!("usr_{name}{}", i % 7 / 3))).await.unwrap();
                if i % 97 == 0 {
                    ledger.append(&event(i, format!("usr_{name}_rare"))).await.unwrap();
                }
            }
            ledger.drain(Duration::from_secs(10)).await
        };
        let (left_a, left_b) = tokio::join!(tokio::spawn(run(a.clone(), "a")), tokio::spawn(run(b.clone(), "b")));
        assert_eq!((left_a.unwrap(), left_b.unwrap()), (0, 0));
        // Then one appender alone, once the index has caught up, long enough to index
        // from the terms it kept.
        let caught_up = |size: u64| {
            let store = store.clone();
            async move {
                let until = std::time::Instant::now() + Duration::from_secs(5);
                while store.index_audit(0).await.unwrap() < size {
                    assert!(std::time::Instant::now() < until, "the index caught up");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        caught_up(store.audit_size().await.unwrap()).await;
        assert_eq!(tokio::spawn(run(a.clone(), "c")).await.unwrap(), 0);
        assert_eq!(tokio::spawn(run(a.clone(), "d")).await.unwrap(), 0);
        let size = store.audit_size().await.unwrap();
        assert_eq!(size, 4 * (3000 + 31));

        // The trees: both appenders' roots are the root of the stored hashes.
        let mut tree = warden_tlog::tree::Tree::new();
        for h in store.audit_leaf_hashes(0, size).await.unwrap() {
            tree.push_hash(crate::tiled::to_hash(&h, 0).unwrap());
        }
        assert_eq!(a.root(size).await.unwrap(), tree.root(size).unwrap());
        assert_eq!(b.root(size).await.unwrap(), tree.root(size).unwrap());

        // The index catches up once appends pause; then every search matches a scan.
        caught_up(size).await;
        let entries = store.audit_entries(0, size as u32).await.unwrap();
        let page = warden_store::Page::first(warden_store::Page::MAX);
        for actor in ["usr_a0", "usr_a2", "usr_b0", "usr_b2", "usr_a_rare", "usr_b_rare", "usr_c1", "usr_d_rare"] {
            let want: Vec<u64> =
                entries.iter().filter(|e| e.leaf.actor.as_deref() == Some(actor)).map(|e| e.index).collect();
            let filter = warden_store::AuditFilter { actor: Some(actor.into()), ..Default::default() };
            let mut got = Vec::new();
            let mut page = page.clone();
            loop {
                let rows = store.search_audit(&filter, &page).await.unwrap();
                let Some(last) = rows.last() else { break };
                page.after = Some(last.index.to_string());
                got.extend(rows.iter().map(|e| e.index));
            }
            assert!(!want.is_empty());
            assert_eq!(got, want, "{actor}");
        }
    }
}
