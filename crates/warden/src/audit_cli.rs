//! `warden audit …`: reading the ledger, verifying it end to end against its signed
//! checkpoints, and proofs that can be checked offline.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use warden_api as api;
use warden_audit::digest::Digest;
use warden_tlog::bundle::{LogVerifier, ProofBundle};
use warden_tlog::note::{Checkpoint, VerifierKey};

use crate::cli::common::{client, short, Global};
use crate::output::{fields, json, opt, table, Format};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The latest events.
    Tail {
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: u32,
    },
    /// Search by time range, actor, action, resource, outcome, project.
    Search(SearchArgs),
    /// Recompute the whole tree from the stored events and check every signed
    /// checkpoint, and that the log extends the checkpoint verified last time (kept
    /// under the config directory; a shrink or a fork fails, naming both sizes).
    Verify {
        /// The verifier key (default: fetched from the server; pin it for real assurance).
        #[arg(long)]
        key: Option<String>,
        #[command(flatten)]
        pin: PinArgs,
        /// An exported copy of the log (OCSF JSON Lines from the file export, the SIEM or
        /// `warden audit export`): every entry must match it, and the log must extend
        /// every checkpoint in it; names the first entry edited after export, even with
        /// its stored hash recomputed.
        #[arg(long, value_name = "EXPORT.jsonl")]
        against: Option<PathBuf>,
        /// A witness's cosigning key (`warden witness serve` prints it); repeatable. The
        /// log must show a checkpoint cosigned by enough of them that extends into what
        /// was verified.
        #[arg(long = "witness", value_name = "VKEY")]
        witnesses: Vec<String>,
        /// How many of the `--witness` keys must have cosigned (default: all of them).
        #[arg(long, value_name = "N")]
        witness_threshold: Option<usize>,
        /// A signed digest of a range of entries, as anchored (the object store's
        /// `anchors/*.digest`, the data directory's `keys/audit-digest.last`); repeatable.
        /// The entries it covers must still hash to it; digests in `--against` are
        /// checked too.
        #[arg(long = "digest", value_name = "FILE")]
        digests: Vec<PathBuf>,
    },
    /// Write a self-contained proof that one event is in the log (after checking that
    /// the log extends the checkpoint verified last time).
    Prove {
        #[arg(long)]
        index: u64,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        pin: PinArgs,
    },
    /// Check a proof file offline, without a server.
    VerifyProof {
        file: PathBuf,
        /// The verifier key, or a file holding it.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        pin: PinArgs,
    },
    /// Write entries as OCSF JSON Lines (for SIEMs without a collector): from an index
    /// up to the latest checkpoint. The server can also export continuously
    /// (`[audit] export_file`, `hec_url`).
    Export {
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Output file, appended to (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the checkpoint verifier key.
    PublicKey,
    /// Print the latest signed checkpoint.
    Checkpoint,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    action: Option<String>,
    #[arg(long)]
    actor: Option<String>,
    #[arg(long)]
    resource: Option<String>,
    #[arg(long)]
    outcome: Option<String>,
    #[arg(long)]
    project: Option<String>,
    /// RFC 3339 time, inclusive.
    #[arg(long)]
    since: Option<String>,
    /// RFC 3339 time, exclusive.
    #[arg(long)]
    until: Option<String>,
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    cursor: Option<String>,
}

fn print_entries(entries: &[api::AuditEntry]) {
    table(
        &["index", "time", "category", "action", "actor", "outcome", "reason"],
        entries
            .iter()
            .map(|e| {
                let ev = &e.event;
                let t = ev["time"].as_i64().map(crate::cli::common::millis_to_rfc3339).unwrap_or_default();
                vec![
                    e.index.to_string(),
                    short(&t),
                    ev["category"].as_str().unwrap_or("").to_string(),
                    ev["action"].as_str().unwrap_or("").to_string(),
                    opt(&ev["actor"]["uid"].as_str().map(str::to_string)),
                    ev["outcome"].as_str().unwrap_or("").to_string(),
                    opt(&ev["reason"].as_str().map(str::to_string)),
                ]
            })
            .collect(),
    );
}

/// Where verified checkpoints are kept, or an auditor's own.
#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Start from this checkpoint (a signed note an auditor stored) instead of the one
    /// kept from the last run.
    #[arg(long, value_name = "FILE")]
    pin: Option<PathBuf>,
    /// Folder of pinned checkpoints (default: the config directory's `pins/`).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// An exported copy of the log: each entry's leaf hash by index, and the checkpoints.
struct Exported {
    source: String,
    hashes: std::collections::BTreeMap<u64, warden_tlog::Hash>,
    checkpoints: Vec<crate::pins::Pinned>,
    /// Signed digests of ranges of entries, and where each was read.
    digests: Vec<(Digest, String)>,
}

impl Exported {
    fn read(path: &std::path::Path, key: &VerifierKey) -> anyhow::Result<Self> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {source}"))?;
        let mut hashes = std::collections::BTreeMap::new();
        let mut checkpoints = Vec::new();
        let mut digests = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let r: serde_json::Value =
                serde_json::from_str(line).map_err(|e| anyhow!("{source}:{}: not JSON: {e}", n + 1))?;
            // (Records from a SIEM's HEC envelope carry the record in `event`.)
            let r = if r.get("event").is_some_and(|e| e.is_object()) { &r["event"] } else { &r };
            let w = &r["unmapped"]["warden"];
            if let Some(note) = w["checkpoint"].as_str() {
                let checkpoint = Checkpoint::open(note, key)
                    .map_err(|e| anyhow!("{source}:{}: the exported checkpoint does not verify: {e}", n + 1))?;
                checkpoints.push(crate::pins::Pinned { checkpoint, source: format!("{source}:{}", n + 1) });
            } else if let Some(note) = w["digest"].as_str() {
                let d = Digest::open(note, key).map_err(|e| anyhow!("{source}:{}: {e}", n + 1))?;
                digests.push((d, format!("{source}:{}", n + 1)));
            } else if let (Some(i), Some(h)) = (r["metadata"]["sequence"].as_u64(), w["leaf_hash"].as_str()) {
                let h = warden_tlog::hash_from_b64(h)
                    .ok_or_else(|| anyhow!("{source}:{}: the leaf hash is not base64", n + 1))?;
                hashes.insert(i, h);
            }
        }
        if hashes.is_empty() && checkpoints.is_empty() {
            bail!("{source} holds no exported entries with leaf hashes and no checkpoints");
        }
        Ok(Self { source, hashes, checkpoints, digests })
    }

    /// Entries the export says the log has at least.
    fn entries(&self) -> u64 {
        let by_entry = self.hashes.keys().next_back().map_or(0, |i| i + 1);
        by_entry.max(self.checkpoints.iter().map(|p| p.checkpoint.size).max().unwrap_or(0))
    }

    fn check_entry(&self, index: u64, leaf: &[u8]) -> anyhow::Result<()> {
        match self.hashes.get(&index) {
            Some(h) if *h != warden_tlog::leaf_hash(leaf) => bail!(
                "verification FAILED: entry {index} differs from the exported copy ({}): it was changed after export",
                self.source
            ),
            _ => Ok(()),
        }
    }
}

pub(crate) fn read_key(arg: &str) -> anyhow::Result<VerifierKey> {
    let text = if std::path::Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    VerifierKey::parse(text.trim()).map_err(|e| anyhow!("the verifier key is not valid: {e}"))
}

pub async fn run(command: AuditCommand, g: &Global) -> anyhow::Result<()> {
    let f = g.output;
    match command {
        AuditCommand::VerifyProof { file, key, pin } => {
            let key = read_key(&key)?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bundle: ProofBundle =
                serde_json::from_str(&text).map_err(|e| anyhow!("{} is not a proof file: {e}", file.display()))?;
            let cp = bundle.verify(&key).map_err(|e| anyhow!("proof does NOT verify: {e}"))?;
            // Offline, a pinned client checks that the proof's tree extends what it
            // verified before: the same root at the same size, or the bundle's
            // consistency proof from that size. An older tree cannot be checked.
            let pins = crate::pins::Pins::at(pin.state_dir)?;
            if let Some(pinned) = pins.load(&key, pin.pin.as_deref())? {
                let m = pinned.checkpoint.size;
                if cp.size < m {
                    bail!(
                        "proof does NOT verify against the checkpoint verified before ({}): it is for a tree of {} \
                         entries, older than the {m} verified then; make a fresh proof",
                        pinned.source,
                        cp.size
                    );
                }
                let proof = bundle.consistency.as_ref().filter(|c| c.from_size == m).and_then(|c| {
                    let hashes: Option<Vec<warden_tlog::Hash>> =
                        c.hashes.iter().map(|h| warden_tlog::hash_from_b64(h)).collect();
                    Some((warden_tlog::hash_from_b64(&c.from_root)?, hashes?))
                });
                let root_at_pin = crate::pins::root_at_pin(
                    &pinned.checkpoint,
                    &cp,
                    proof.as_ref().map(|(from, hashes)| (*from, hashes.as_slice())),
                );
                crate::pins::extends(&pinned, cp.size, root_at_pin.as_ref())?;
                pins.save(&key, &bundle.checkpoint)?;
            }
            println!(
                "ok: event {} is entry {} of the log `{}` with {} entries (root {})",
                bundle.event["uid"].as_str().unwrap_or("?"),
                bundle.index,
                cp.origin,
                cp.size,
                warden_tlog::b64(&cp.root)
            );
            Ok(())
        }
        AuditCommand::Export { from, out } => {
            use std::io::Write;
            let c = client(g)?;
            let key = VerifierKey::parse(&c.audit_public_key().await?).map_err(|e| anyhow!("{e}"))?;
            let cp = Checkpoint::open(&c.audit_checkpoint().await?, &key).map_err(|e| anyhow!("checkpoint: {e}"))?;
            let mut sink: Box<dyn Write> = match &out {
                Some(p) => Box::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .with_context(|| format!("cannot open {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut next = from;
            while next < cp.size {
                let page = c.audit_entries(next, 1000).await?;
                if page.is_empty() {
                    break;
                }
                for e in page.into_iter().filter(|e| e.index < cp.size) {
                    let event: warden_audit::AuditEvent = serde_json::from_value(e.event)
                        .map_err(|err| anyhow!("entry {} is not an audit event: {err}", e.index))?;
                    let leaf = warden_tlog::from_b64(&e.leaf)
                        .ok_or_else(|| anyhow!("entry {}: leaf is not base64", e.index))?;
                    let hash = warden_tlog::leaf_hash(&leaf);
                    let record = warden_audit::ocsf::record_with_hash(e.index, &cp.origin, &event, &hash);
                    writeln!(sink, "{}", serde_json::to_string(&record)?)?;
                    next = e.index + 1;
                }
            }
            sink.flush()?;
            eprintln!("exported entries {from}..{next}; continue with --from {next}");
            Ok(())
        }
        AuditCommand::PublicKey => {
            println!("{}", client(g)?.audit_public_key().await?);
            Ok(())
        }
        AuditCommand::Checkpoint => {
            print!("{}", client(g)?.audit_checkpoint().await?);
            Ok(())
        }
        AuditCommand::Tail { lines } => {
            let c = client(g)?;
            let key = VerifierKey::parse(&c.audit_public_key().await?).map_err(|e| anyhow!("{e}"))?;
            let cp = Checkpoint::open(&c.audit_checkpoint().await?, &key).map_err(|e| anyhow!("checkpoint: {e}"))?;
            let n = u64::from(lines.clamp(1, 1000));
            let entries = c.audit_entries(cp.size.saturating_sub(n), n as u32).await?;
            if f == Format::Json {
                return json(&entries);
            }
            print_entries(&entries);
            Ok(())
        }
        AuditCommand::Search(a) => {
            let mut q = Vec::new();
            for (k, v) in [
                ("category", a.category),
                ("action", a.action),
                ("actor", a.actor),
                ("resource", a.resource),
                ("outcome", a.outcome),
                ("project", a.project),
                ("since", a.since),
                ("until", a.until),
                ("cursor", a.cursor),
                ("limit", a.limit.map(|l| l.to_string())),
            ] {
                if let Some(v) = v {
                    q.push(format!("{k}={}", warden_client::enc(&v)));
                }
            }
            let page = client(g)?.audit_events(&q.join("&")).await?;
            if f == Format::Json {
                return json(&page);
            }
            print_entries(&page.items);
            if let Some(n) = page.next_cursor {
                eprintln!("more: --cursor {n}");
            }
            Ok(())
        }
        AuditCommand::Prove { index, out, pin } => {
            let c = client(g)?;
            let key = VerifierKey::parse(&c.audit_public_key().await?).map_err(|e| anyhow!("{e}"))?;
            let note = c.audit_checkpoint().await?;
            let cp =
                Checkpoint::open(&note, &key).map_err(|e| anyhow!("the server's checkpoint does not verify: {e}"))?;
            // The server's checkpoint must extend the one verified before: a consistency
            // proof from that size (or the same root at the same size).
            let pins = crate::pins::Pins::at(pin.state_dir)?;
            // Kept in the bundle, so that an offline verifier holding the same pin can check it.
            let mut consistency = None;
            if let Some(pinned) = pins.load(&key, pin.pin.as_deref())? {
                let m = pinned.checkpoint.size;
                // A consistency proof is asked for only when the tree grew past a non-empty pin.
                let mut hashes = Vec::new();
                if m > 0 && cp.size > m {
                    let proof = c.audit_consistency(m, cp.size).await?;
                    hashes = proof
                        .hashes
                        .iter()
                        .map(|h| warden_tlog::hash_from_b64(h))
                        .collect::<Option<_>>()
                        .ok_or_else(|| anyhow!("the server sent a malformed consistency proof"))?;
                    consistency = Some(warden_tlog::bundle::ConsistencyFrom {
                        from_size: m,
                        from_root: warden_tlog::b64(&pinned.checkpoint.root),
                        hashes: proof.hashes,
                    });
                }
                let root_at_pin = crate::pins::root_at_pin(
                    &pinned.checkpoint,
                    &cp,
                    Some((pinned.checkpoint.root, hashes.as_slice())),
                );
                crate::pins::extends(&pinned, cp.size, root_at_pin.as_ref())?;
            }
            pins.save(&key, &note)?;
            if index >= cp.size {
                bail!(
                    "entry {index} is not covered by the latest checkpoint ({} entries) yet; try again shortly",
                    cp.size
                );
            }
            let entry = c.audit_entry(index).await?;
            let proof = c.audit_inclusion(index, cp.size).await?;
            let leaf = warden_tlog::from_b64(&entry.leaf)
                .ok_or_else(|| anyhow!("the server sent a leaf that is not base64"))?;
            let hashes: Vec<warden_tlog::Hash> = proof
                .hashes
                .iter()
                .map(|h| warden_tlog::hash_from_b64(h))
                .collect::<Option<_>>()
                .ok_or_else(|| anyhow!("the server sent a malformed proof"))?;
            let mut bundle = ProofBundle::new(index, &leaf, entry.event, cp.size, &hashes, note);
            bundle.consistency = consistency;
            bundle.verify(&key).map_err(|e| anyhow!("the server's proof does not verify: {e}"))?;
            let text = serde_json::to_string_pretty(&bundle)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote the proof of entry {index} to {}", path.display());
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        AuditCommand::Verify { key, pin, against, witnesses, witness_threshold, digests } => {
            let witnesses: Vec<warden_tlog::cosign::CosignatureVerifier> = witnesses
                .iter()
                .map(|w| {
                    warden_tlog::cosign::CosignatureVerifier::parse(w)
                        .map_err(|e| anyhow!("--witness {w}: not a witness key: {e}"))
                })
                .collect::<anyhow::Result<_>>()?;
            let threshold = witness_threshold.unwrap_or(witnesses.len());
            if threshold > witnesses.len() {
                bail!("--witness-threshold {threshold} is more than the {} witness keys given", witnesses.len());
            }
            let c = client(g)?;
            let key = match key {
                Some(k) => read_key(&k)?,
                None => VerifierKey::parse(&c.audit_public_key().await?).map_err(|e| anyhow!("{e}"))?,
            };
            // Asking for the latest checkpoint makes the server sign one covering
            // everything committed so far. A server that refuses to sign (its log does
            // not extend what it signed before) is still checked, entry by entry,
            // against what this client verified before.
            if let Err(e) = c.audit_checkpoint().await {
                eprintln!("warning: the server signs no checkpoint now: {e}");
            }
            let pins = crate::pins::Pins::at(pin.state_dir)?;
            let pinned = pins.load(&key, pin.pin.as_deref())?;
            let exported = match &against {
                Some(path) => Some(Exported::read(path, &key)?),
                None => None,
            };
            let mut digests = digests
                .iter()
                .map(|path| {
                    let source = path.display().to_string();
                    let note = std::fs::read_to_string(path).with_context(|| format!("cannot read {source}"))?;
                    let d = Digest::open(&note, &key).map_err(|e| anyhow!("{source}: {e}"))?;
                    Ok((d, source))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            digests.extend(exported.iter().flat_map(|x| x.digests.iter().cloned()));
            let mut checkpoints = Vec::new();
            let mut from_size = 0;
            loop {
                let page = c.audit_checkpoints(from_size, 1000).await?;
                let Some(last) = page.last().map(|p| p.tree_size) else { break };
                let full = page.len() == 1000;
                checkpoints.extend(page);
                if !full {
                    break;
                }
                from_size = last + 1;
            }
            let target = checkpoints.last().map(|c| c.tree_size).unwrap_or(0);
            // The checkpoint the witnesses cosigned, cosigned by enough of them (fetched
            // before reading entries, so they are read at least that far).
            let mut cosigned = None;
            if !witnesses.is_empty() {
                let note = c.audit_cosigned_checkpoint().await.map_err(|e| {
                    anyhow!("verification FAILED: the server shows no checkpoint cosigned by witnesses: {e}")
                })?;
                let cp = Checkpoint::open(&note, &key)
                    .map_err(|e| anyhow!("verification FAILED: the cosigned checkpoint does not verify: {e}"))?;
                let signed: Vec<&str> =
                    witnesses.iter().filter(|w| w.verify(&note).is_some()).map(|w| w.name.as_str()).collect();
                if signed.len() < threshold {
                    bail!(
                        "verification FAILED: the checkpoint for {} entries is cosigned by {} of the {} witnesses \
                         given ({}), fewer than the {threshold} required",
                        cp.size,
                        signed.len(),
                        witnesses.len(),
                        signed.join(", ")
                    );
                }
                cosigned = Some((cp, signed.len()));
            }
            // Entries are read up to the latest checkpoint, or up to the pinned size, the
            // export's or the cosigned one if further (to compare the log with them even
            // when nothing newer is signed).
            let read_to = target
                .max(pinned.as_ref().map_or(0, |p| p.checkpoint.size))
                .max(exported.as_ref().map_or(0, |x| x.entries()))
                .max(cosigned.as_ref().map_or(0, |(cp, _)| cp.size))
                .max(digests.iter().map(|(d, _)| d.to).max().unwrap_or(0));
            let mut v = LogVerifier::new(true);
            let mut next_cp = checkpoints.iter().peekable();
            let mut checked = 0;
            let mut last_root = String::new();
            // A checkpoint that does not match is reported after the digests are checked:
            // a digest narrows the change down to its range.
            let mut mismatch: Option<anyhow::Error> = None;
            let bar = crate::progress::count("verifying entries", read_to);
            while v.entries() < read_to {
                bar.set_position(v.entries());
                let batch = c.audit_entries(v.entries(), 1000).await?;
                if batch.is_empty() {
                    if v.entries() >= target {
                        break; // shorter than the pin: judged below
                    }
                    bail!("the server returned no entries at {} but checkpoints cover {target}", v.entries());
                }
                for e in batch {
                    if e.index >= read_to {
                        break;
                    }
                    let leaf = warden_tlog::from_b64(&e.leaf)
                        .ok_or_else(|| anyhow!("entry {}: leaf is not base64", e.index))?;
                    let stored = warden_tlog::hash_from_b64(&e.leaf_hash);
                    if let Some(x) = &exported {
                        x.check_entry(e.index, &leaf)?;
                    }
                    v.push(e.index, &leaf, stored.as_ref()).map_err(|err| anyhow!("verification FAILED: {err}"))?;
                    while let Some(cp) = next_cp.peek() {
                        if cp.tree_size > v.entries() {
                            break;
                        }
                        if mismatch.is_none() {
                            match v.check(&cp.note, &key) {
                                Ok(cp) => {
                                    last_root = warden_tlog::b64(&cp.root);
                                    checked += 1;
                                }
                                Err(err) => mismatch = Some(anyhow!("verification FAILED: {err}")),
                            }
                        }
                        next_cp.next();
                    }
                }
            }
            // A checkpoint for the empty log, if any, is checked too.
            for cp in next_cp.filter(|_| mismatch.is_none()) {
                v.check(&cp.note, &key).map_err(|err| anyhow!("verification FAILED: {err}"))?;
                checked += 1;
            }
            bar.finish_and_clear();
            // Every entry the export holds must still be there, and the log must extend
            // every checkpoint it holds.
            if let Some(x) = &exported {
                if v.entries() < x.entries() {
                    bail!(
                        "verification FAILED: the log has {} entries, but the export {} holds {}: entries were removed",
                        v.entries(),
                        x.source,
                        x.entries()
                    );
                }
                for p in &x.checkpoints {
                    let root = v.tree().root(p.checkpoint.size).map_err(|e| anyhow!("{e}"))?;
                    crate::pins::extends(p, v.entries().max(target), Some(&root))?;
                }
            }
            // Every digest's entries must still hash to it.
            for (d, source) in &digests {
                if d.to > v.entries() {
                    bail!(
                        "verification FAILED: the digest {source} covers entries {} to {}, but the log has {}: \
                         entries were removed",
                        d.from,
                        d.to - 1,
                        v.entries()
                    );
                }
                if warden_tlog::tree::range_hash(v.tree(), d.from, d.to) != d.hash {
                    bail!(
                        "verification FAILED: entries {} to {} no longer hash to the digest signed for them ({source}): \
                         one of them was changed{}",
                        d.from,
                        d.to - 1,
                        mismatch.as_ref().map(|m| format!("\n{m}")).unwrap_or_default()
                    );
                }
            }
            if let Some(m) = mismatch {
                return Err(m);
            }
            // The log must extend what was verified before (or what the auditor brings).
            if let Some(p) = &pinned {
                let root_at_pin = if p.checkpoint.size <= v.entries() {
                    Some(v.tree().root(p.checkpoint.size).map_err(|e| anyhow!("{e}"))?)
                } else {
                    None
                };
                crate::pins::extends(p, v.entries().max(target), root_at_pin.as_ref())?;
            }
            // Witnesses: the checkpoint they cosigned must be one of this log's (same root
            // at its size as the tree just verified).
            let mut witnessed = None;
            if let Some((cp, signed)) = &cosigned {
                if cp.size > v.entries() || v.tree().root(cp.size).map_err(|e| anyhow!("{e}"))? != cp.root {
                    bail!(
                        "verification FAILED: the witnesses cosigned a tree of {} entries that the log served here \
                         does not contain (it has {}): a split view",
                        cp.size,
                        v.entries()
                    );
                }
                witnessed = Some((cp.size, *signed));
            }
            let pinned_before = pinned.map(|p| p.checkpoint.size);
            let pin_file = match checkpoints.last() {
                Some(latest) => Some(pins.save(&key, &latest.note)?),
                None => None,
            };
            if f == Format::Json {
                return json(&serde_json::json!({"ok": true, "entries": target, "checkpoints": checked,
                    "digests": digests.len(),
                    "root": last_root, "key": key.to_string(), "pinned_before": pinned_before,
                    "witnessed": witnessed.map(|(size, n)| serde_json::json!({"size": size, "cosignatures": n})),
                    "pin": pin_file.map(|p| p.display().to_string())}));
            }
            fields(vec![
                ("result", "ok: the log is consistent with every signed checkpoint".into()),
                ("entries", target.to_string()),
                ("checkpoints", checked.to_string()),
                ("root", last_root),
                ("key", key.to_string()),
                (
                    "pinned",
                    match (pinned_before, &pin_file) {
                        (Some(m), Some(p)) => {
                            format!("extends the {m} entries verified before; now {target} ({})", p.display())
                        }
                        (None, Some(p)) => format!("first verification of this log; now {target} ({})", p.display()),
                        _ => "nothing signed yet".into(),
                    },
                ),
            ]);
            Ok(())
        }
    }
}
