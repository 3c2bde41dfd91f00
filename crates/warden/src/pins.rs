//! What a client has verified before: the latest checkpoint of each log (origin and key)
//! it has checked, kept under the config directory (`pins/`). Every later verification
//! must find a log that extends it: no fewer entries, and the same root at its size. A
//! shrink or a fork fails loudly, naming both sizes. An auditor may bring a checkpoint of
//! their own (`--pin FILE`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use warden_tlog::note::{Checkpoint, VerifierKey};
use warden_tlog::Hash;

/// The folder of pinned checkpoints.
pub struct Pins {
    dir: PathBuf,
}

/// A checkpoint verified before, and where it came from (for messages).
pub struct Pinned {
    pub checkpoint: Checkpoint,
    pub source: String,
}

impl Pins {
    /// `state_dir`, or `<config dir>/pins`.
    pub fn at(state_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let dir = match state_dir {
            Some(d) => d,
            None => crate::credentials::dir()?.join("pins"),
        };
        Ok(Self { dir })
    }

    /// The file of one log: its origin and its key, so another log (or a new key) never
    /// shares a pin.
    fn file(&self, key: &VerifierKey) -> PathBuf {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(key.to_string().as_bytes()));
        let origin: String =
            key.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        self.dir.join(format!("{origin}-{}.checkpoint", digest.get(..16).unwrap_or(&digest)))
    }

    /// The pinned checkpoint: `--pin FILE` if given, else the one kept for this log.
    pub fn load(&self, key: &VerifierKey, pin: Option<&Path>) -> anyhow::Result<Option<Pinned>> {
        let path = match pin {
            Some(p) => p.to_path_buf(),
            None => {
                let p = self.file(key);
                if !p.exists() {
                    return Ok(None);
                }
                p
            }
        };
        let note = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let checkpoint = Checkpoint::open(&note, key)
            .map_err(|e| anyhow!("the pinned checkpoint {} does not verify with this key: {e}", path.display()))?;
        Ok(Some(Pinned { checkpoint, source: path.display().to_string() }))
    }

    /// Keeps `note` (a checkpoint that was just verified) as this log's pin.
    pub fn save(&self, key: &VerifierKey, note: &str) -> anyhow::Result<PathBuf> {
        let path = self.file(key);
        warden_audit::pin::write_durably(&path, note.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

/// The root at the pinned size of the tree `cp` signs, as far as can be shown: `cp`'s own
/// root at the same size, the pin's for the empty log, or `from` when `proof` (hashes of
/// a consistency proof from the pinned size) shows that `cp` extends a tree with root
/// `from` there. `None` for an older tree or a proof that fails.
pub fn root_at_pin(pinned: &Checkpoint, cp: &Checkpoint, proof: Option<(Hash, &[Hash])>) -> Option<Hash> {
    let m = pinned.size;
    if cp.size < m {
        None
    } else if m == 0 {
        Some(pinned.root)
    } else if cp.size == m {
        Some(cp.root)
    } else {
        let (from, hashes) = proof?;
        warden_tlog::proof::verify_consistency(m, cp.size, &from, &cp.root, hashes).ok().map(|()| from)
    }
}

/// Fails unless a log of `size` entries, whose root at the pinned size is `root_at_pin`
/// (`None` when it cannot say), extends the pinned checkpoint.
pub fn extends(pinned: &Pinned, size: u64, root_at_pin: Option<&Hash>) -> anyhow::Result<()> {
    let p = &pinned.checkpoint;
    if size < p.size {
        bail!(
            "verification FAILED: the log shrank: it now has {size} entries, but a checkpoint for {} entries was \
             verified before ({}); entries were removed",
            p.size,
            pinned.source
        );
    }
    match root_at_pin {
        Some(r) if *r == p.root => Ok(()),
        Some(r) => bail!(
            "verification FAILED: the log forked: its first {} entries now hash to {}, but the checkpoint verified \
             before ({}) says {}; the log now has {size} entries",
            p.size,
            warden_tlog::b64(r),
            pinned.source,
            warden_tlog::b64(&p.root)
        ),
        None => bail!(
            "verification FAILED: the log of {size} entries could not be shown to extend the checkpoint for {} \
             entries verified before ({})",
            p.size,
            pinned.source
        ),
    }
}
