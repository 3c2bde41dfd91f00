//! The last checkpoint this installation signed, kept outside the database: a file in
//! the data directory's `keys/`. Before the server signs anything (and at start), the
//! tree in the database must extend that checkpoint: the same root at its size, and at
//! least as many entries. Someone who can write the database but not that file can no
//! longer remove the tail, or rewrite entries and their hashes, and have the server sign
//! the result.

use std::io::Write;
use std::path::{Path, PathBuf};

use warden_tlog::note::{Checkpoint, VerifierKey};
use warden_tlog::Hash;

/// Why the tree in the database may not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Regression {
    #[error(
        "the audit log has {now} entries, but a checkpoint for {pinned} entries was signed before (kept in {file}): \
         entries were removed from the database; nothing more will be signed until the log is restored"
    )]
    Shrunk { now: u64, pinned: u64, file: String },
    #[error(
        "the first {pinned} entries of the audit log no longer hash to the root signed for them (kept in {file}): \
         the log was rewritten in the database; nothing more will be signed until it is restored"
    )]
    Rewritten { pinned: u64, file: String },
    #[error(
        "entry {index} of the audit log was rewritten in the database ({why}), though the tree signed before is intact: \
         nothing more will be signed until the entry is restored"
    )]
    Edited { index: u64, why: String },
    #[error("the pinned checkpoint {file} cannot be used: {why}; nothing will be signed until it is repaired")]
    Unreadable { file: String, why: String },
}

/// The file holding the last signed checkpoint (a signed note).
#[derive(Debug, Clone)]
pub struct PinFile {
    path: PathBuf,
}

impl PinFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pinned checkpoint, verified with `key`; `None` when none was kept yet.
    pub fn load(&self, key: &VerifierKey) -> Result<Option<Checkpoint>, Regression> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.unreadable(e.to_string())),
        };
        Checkpoint::open(&text, key).map(Some).map_err(|e| self.unreadable(format!("it does not verify: {e}")))
    }

    /// Keeps `note` as the last signed checkpoint: written to a temporary file, synced,
    /// renamed over the old one, and the folder synced, so a crash leaves one or the
    /// other whole.
    pub fn store(&self, note: &str) -> std::io::Result<()> {
        write_durably(&self.path, note.as_bytes())
    }

    fn unreadable(&self, why: String) -> Regression {
        Regression::Unreadable { file: self.path.display().to_string(), why }
    }

    /// Whether a tree of `size` entries whose root at the pinned size is `root_at_pin`
    /// extends the pinned checkpoint.
    pub fn check(&self, pinned: &Checkpoint, size: u64, root_at_pin: Option<&Hash>) -> Result<(), Regression> {
        check_against(pinned, size, root_at_pin, &self.path.display().to_string())
    }
}

/// Replaces the file at `path` (creating its folder) with `bytes` so that a crash leaves
/// the old or the new content whole: a temporary file written and synced, renamed over
/// it, and the folder synced.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A bare file name is in the working directory.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Whether a tree of `size` entries whose root at the pinned size is `root_at_pin`
/// extends `pinned` (kept in `source`).
pub fn check_against(
    pinned: &Checkpoint,
    size: u64,
    root_at_pin: Option<&Hash>,
    source: &str,
) -> Result<(), Regression> {
    let file = source.to_string();
    if size < pinned.size {
        return Err(Regression::Shrunk { now: size, pinned: pinned.size, file });
    }
    match root_at_pin {
        Some(r) if *r == pinned.root => Ok(()),
        _ => Err(Regression::Rewritten { pinned: pinned.size, file }),
    }
}

/// What a shared pin's operations return.
pub type PinFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send + 'a>>;

/// A second copy of the last signed checkpoint that replicas share (an object store):
/// a replica started on a new data directory still knows what any replica signed.
pub trait SharedPin: Send + Sync {
    /// The note kept, if any.
    fn load(&self) -> PinFuture<'_, Option<String>>;
    /// Replaces it.
    fn store<'a>(&'a self, note: &'a str) -> PinFuture<'a, ()>;
    /// Keeps every signed checkpoint too, write-once (`anchors/`): with the bucket's
    /// object lock, a record the database's operator cannot rewrite.
    fn anchor<'a>(&'a self, size: u64, note: &'a str) -> PinFuture<'a, ()>;
    /// Keeps a signed digest of the entries up to `to` likewise (`crate::digest`).
    fn anchor_digest<'a>(&'a self, to: u64, note: &'a str) -> PinFuture<'a, ()>;
    /// Where it is, for messages.
    fn describe(&self) -> String;
}

/// A shared pin, as configuration holds it.
#[derive(Clone)]
pub struct Shared(pub std::sync::Arc<dyn SharedPin>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shared({})", self.0.describe())
    }
}
