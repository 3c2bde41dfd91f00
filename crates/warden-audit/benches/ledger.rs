//! Audit ledger benchmarks, each against a baseline in the same run:
//!
//! - durable appends/s with group commit at 1, 16 and 256 concurrent writers, on SQLite
//!   (always) and PostgreSQL (when `WARDEN_TEST_POSTGRES` names a server), against a plain
//!   loop that commits one event per transaction;
//! - inclusion and consistency proof time on a 1,000,000-entry tree;
//! - full offline verification of 1,000,000 entries against a signed checkpoint;
//! - `large`: a ledger of 10,000,000 entries (`WARDEN_BENCH_LARGE` sets the count) on
//!   SQLite, opened in a fresh process: its start time, peak memory (VmHWM), proof times
//!   and appends at 256 writers, against the same log held as a whole tree in memory
//!   (what the ledger did before tiles). The log is built once and kept under
//!   `target/bench-ledger/` for later runs.
//!
//! Events look like a busy organisation's: times from one shared clock, a few dozen
//! callers, a handful of actions and projects.
//!
//! Run: `cargo bench -p warden-audit` (add `WARDEN_TEST_POSTGRES=postgres://…` for the
//! PostgreSQL rows). `WARDEN_BENCH_SECONDS` sets each append run's length (default 3).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_audit::{AuditEvent, Category, Ledger, LedgerConfig, SigningKey};
use warden_core::Timestamp;
use warden_store::Store;
use warden_tlog::bundle::LogVerifier;
use warden_tlog::note::Checkpoint;
use warden_tlog::tree::Tree;

/// Event times follow a clock shared by every writer, as real events' do: the time
/// index grows at its end instead of taking inserts all over.
static CLOCK: AtomicU64 = AtomicU64::new(0);

fn event(i: u64) -> AuditEvent {
    let now = 1_700_000_000_000 + CLOCK.fetch_add(1, Ordering::Relaxed) as i64 / 64;
    // A few dozen callers, a handful of actions and projects, as a busy organisation has.
    const ACTIONS: [&str; 6] =
        ["project.create", "token.create", "model.push", "artifact.pull", "audit.read", "member.add"];
    let mut e = AuditEvent::new(Timestamp(now), Category::Authorization, ACTIONS[(i % 6) as usize], "deny");
    e.actor.uid = Some(format!("usr_01JD3V9W6ZK2T8Q4N5R7S9X{:03}", i % 37));
    e.project = Some(format!("prj_01JD3V9W6ZK2T8Q4N5R7S9X{:03}", i % 11));
    e.actor.name = Some("mallory".into());
    e.reason = Some("no policy permits `project.create` for this caller on this resource".into());
    e.request_id = Some(format!("req_{i:026}"));
    e.src_ip = Some("10.0.0.7".into());
    e
}

fn seconds() -> Duration {
    Duration::from_secs_f64(std::env::var("WARDEN_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0))
}

/// Events/s for one event per transaction, sequentially.
async fn baseline(store: &Arc<dyn Store>) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < seconds() {
        store.append_audit(&[event(n).to_leaf().unwrap()]).await.unwrap();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Events/s through the ledger with `writers` concurrent appenders, each waiting for
/// its acknowledgement (durable) before the next.
async fn group_commit(ledger: &Arc<Ledger>, writers: usize) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (ledger, stop, count) = (ledger.clone(), stop.clone(), count.clone());
            tokio::spawn(async move {
                let mut i = (w as u64) << 32;
                while !stop.load(Ordering::Relaxed) {
                    ledger.append(&event(i)).await.unwrap();
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(seconds()).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Events/s for batches of 256 committed back to back, with the search index kept up
/// as the ledger keeps it (from the terms of the entries it appended, every 4096
/// entries): the store's ceiling.
async fn ceiling(store: &Arc<dyn Store>) -> f64 {
    while store.index_audit(100_000).await.unwrap() < store.audit_size().await.unwrap() {}
    let start = Instant::now();
    let mut n = 0u64;
    let mut terms = std::collections::BTreeSet::new();
    let mut indexed = store.audit_size().await.unwrap();
    while start.elapsed() < seconds() {
        let batch: Vec<_> = (n..n + 256).map(|i| event(i).to_leaf().unwrap()).collect();
        let first = store.append_audit(&batch).await.unwrap();
        for (leaf, i) in batch.iter().zip(first..) {
            terms.extend(leaf.terms().map(|t| (t, i / warden_store::AUDIT_BLOCK)));
        }
        n += 256;
        if n % 4096 == 0 {
            let to = first + 256;
            let kept: Vec<_> = std::mem::take(&mut terms).into_iter().collect();
            assert!(store.index_audit_terms(indexed, to, &kept).await.unwrap());
            indexed = to;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn appends(engine: &str, store: Arc<dyn Store>) {
    let base = baseline(&store).await;
    let top = ceiling(&store).await;
    println!("append  {engine:<8} ceiling: batches of 256, back to back          {top:>10.0} events/s");
    println!("append  {engine:<8} baseline: one event per transaction, 1 writer  {base:>10.0} events/s");
    while store.index_audit(100_000).await.unwrap() < store.audit_size().await.unwrap() {}
    let key = SigningKey::generate("bench/audit").unwrap();
    let mut config = LedgerConfig { origin: "bench/audit".into(), ..Default::default() };
    if let Some(n) = std::env::var("WARDEN_BENCH_MAX_BATCH").ok().and_then(|v| v.parse().ok()) {
        config.max_batch = n;
    }
    let ledger = Ledger::open(store, key, config).await.unwrap();
    for writers in [1, 16, 256] {
        let (b0, e0) = ledger.stats();
        let rate = group_commit(&ledger, writers).await;
        let (b1, e1) = ledger.stats();
        println!(
            "append  {engine:<8} group commit, {writers:>3} writers               {rate:>10.0} events/s   ratio {:>6.1}x   ({:.0} events per commit)",
            rate / base,
            (e1 - e0) as f64 / (b1 - b0).max(1) as f64
        );
    }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn proofs() {
    const N: u64 = 1_000_000;
    let build = Instant::now();
    let mut t = Tree::new();
    for i in 0..N {
        t.push_leaf(&i.to_be_bytes());
    }
    println!("tree    build {N} entries in memory                     {:>10.3} s", build.elapsed().as_secs_f64());
    // Baseline: hashing one leaf, the least any proof step costs.
    let mut x = 0u64;
    let mut samples = Vec::new();
    for i in 0..10_000u64 {
        let s = Instant::now();
        let h = warden_tlog::leaf_hash(&i.to_be_bytes());
        x ^= u64::from(h[0]);
        samples.push(s.elapsed().as_secs_f64() * 1e6);
    }
    let hash_us = percentile(samples, 0.5);
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut inc = Vec::new();
    let mut con = Vec::new();
    for _ in 0..10_000 {
        let size = N / 2 + next() % (N / 2);
        let index = next() % size;
        let s = Instant::now();
        let p = t.inclusion_proof(index, size).unwrap();
        inc.push(s.elapsed().as_secs_f64() * 1e6);
        x ^= p.len() as u64;
        let from = 1 + next() % (size - 1);
        let s = Instant::now();
        let p = t.consistency_proof(from, size).unwrap();
        con.push(s.elapsed().as_secs_f64() * 1e6);
        x ^= p.len() as u64;
    }
    println!("proof   one leaf hash (baseline)                         {hash_us:>10.2} us");
    println!(
        "proof   inclusion, 1M tree: median {:>6.1} us  p99 {:>6.1} us   ratio to one hash {:>6.0}x",
        percentile(inc.clone(), 0.5),
        percentile(inc.clone(), 0.99),
        percentile(inc, 0.99) / hash_us
    );
    println!(
        "proof   consistency, 1M tree: median {:>6.1} us  p99 {:>6.1} us ratio to one hash {:>6.0}x",
        percentile(con.clone(), 0.5),
        percentile(con.clone(), 0.99),
        percentile(con, 0.99) / hash_us
    );
    std::hint::black_box(x);
}

fn verification() {
    const N: u64 = 1_000_000;
    let leaves: Vec<Vec<u8>> = (0..N).map(|i| event(i).canonical().unwrap()).collect();
    let bytes: usize = leaves.iter().map(|l| l.len()).sum();
    // Baseline: SHA-256 over the same bytes, nothing else.
    let s = Instant::now();
    let mut x = 0u8;
    for l in &leaves {
        x ^= warden_tlog::leaf_hash(l)[0];
    }
    let hash_only = s.elapsed().as_secs_f64();
    let key = SigningKey::generate("bench/audit").unwrap();
    let mut t = Tree::new();
    for l in &leaves {
        t.push_leaf(l);
    }
    let note = Checkpoint { origin: "bench/audit".into(), size: N, root: t.root(N).unwrap() }.sign(&key).unwrap();
    drop(t);
    let s = Instant::now();
    let mut v = LogVerifier::new(false);
    for (i, l) in leaves.iter().enumerate() {
        v.push(i as u64, l, None).unwrap();
    }
    v.check(&note, &key.verifier()).unwrap();
    let full = s.elapsed().as_secs_f64();
    println!(
        "verify  {N} entries ({} MB): hash-only baseline {hash_only:.3} s, full verification {full:.3} s   ratio {:.2}x",
        bytes / 1_000_000,
        full / hash_only
    );
    let s = Instant::now();
    let mut v = LogVerifier::new(true);
    for (i, l) in leaves.iter().enumerate() {
        v.push(i as u64, l, None).unwrap();
    }
    v.check(&note, &key.verifier()).unwrap();
    println!("verify  {N} entries, also checking every leaf is canonical JSON  {:.3} s", s.elapsed().as_secs_f64());
    std::hint::black_box(x);
}

fn main() {
    // The large-log bench runs each side in a process of its own (`child:…`).
    if let Some(child) = std::env::args().find_map(|a| a.strip_prefix("child:").map(str::to_string)) {
        return large::child(&child);
    }
    // `cargo bench` passes `--bench`; a filter argument selects parts.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |part: &str| filter.is_empty() || filter.iter().any(|f| part.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if want("append") {
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let sqlite = warden_store_sqlite::open(&dir.path().join("bench.db")).await.unwrap();
            appends("sqlite", Arc::new(sqlite)).await;
            if let Some(base) = warden_store_postgres::testing::test_url() {
                let url = warden_store_postgres::testing::fresh_schema(&base, "bench").await.unwrap();
                let pg = warden_store_postgres::connect(&url, Duration::from_secs(5)).await.unwrap();
                appends("postgres", Arc::new(pg)).await;
            } else {
                println!("append  postgres skipped: set WARDEN_TEST_POSTGRES to include it");
            }
        });
    }
    if want("leaf") {
        let s = Instant::now();
        let mut x = 0usize;
        for i in 0..100_000 {
            x += event(i).to_leaf().unwrap().event.len();
        }
        println!(
            "leaf    build + canonicalise + hash one event             {:>10.2} us",
            s.elapsed().as_secs_f64() * 10.0
        );
        std::hint::black_box(x);
    }
    if want("proof") {
        proofs();
    }
    if want("verify") {
        verification();
    }
    if filter.iter().any(|f| "large".contains(f.as_str())) {
        large::run();
    } else {
        println!("large   skipped: `cargo bench -p warden-audit --bench ledger -- large` runs it (10M entries)");
    }
}

mod large {
    //! The 10M-entry log, measured in fresh processes.

    use super::*;
    use warden_store::AuditStore;

    fn entries() -> u64 {
        std::env::var("WARDEN_BENCH_LARGE").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000)
    }

    fn db_path(n: u64) -> std::path::PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        target.join("bench-ledger").join(format!("ledger-{n}.db"))
    }

    /// The log's key, kept beside it: its checkpoints verify across runs.
    fn key(n: u64) -> SigningKey {
        let path = db_path(n).with_extension("key");
        if let Ok(k) = std::fs::read_to_string(&path) {
            return SigningKey::from_private_string(k.trim()).unwrap();
        }
        let k = SigningKey::generate("bench/audit").unwrap();
        std::fs::write(&path, k.to_private_string()).unwrap();
        k
    }

    /// Builds the log once: batches straight into the store, then one ledger start,
    /// which stores its tiles.
    async fn build(n: u64) {
        let path = db_path(n);
        let done = path.with_extension("built");
        if done.exists() {
            return;
        }
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        println!("large   building a {n}-entry log in {} (once)", path.display());
        let s = Instant::now();
        let store = warden_store_sqlite::open(&path).await.unwrap();
        let mut i = 0;
        while i < n {
            let batch: Vec<_> = (i..(i + 4096).min(n)).map(|j| event(j).to_leaf().unwrap()).collect();
            store.append_audit(&batch).await.unwrap();
            i += batch.len() as u64;
        }
        while store.index_audit(100_000).await.unwrap() < n {}
        println!("large   appended {n} entries in {:.0} s", s.elapsed().as_secs_f64());
        drop(store);
        let s = Instant::now();
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&path).await.unwrap());
        let config = LedgerConfig { origin: "bench/audit".into(), scrub: false, ..Default::default() };
        Ledger::open(store, key(n), config).await.unwrap();
        println!("large   first start of a log without tiles (storing them): {:.1} s", s.elapsed().as_secs_f64());
        std::fs::write(done, b"").unwrap();
    }

    pub fn run() {
        let n = entries();
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(build(n));
        let side = |what: &str| -> std::collections::HashMap<String, f64> {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .arg(format!("child:{what}:{n}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_once('=').and_then(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?))))
                .collect()
        };
        let whole = side("whole");
        let tiled = side("tiles");
        let row = |name: &str, unit: &str, key: &str| {
            let (b, t) = (whole.get(key).copied().unwrap_or(f64::NAN), tiled[key]);
            println!(
                "large   {name:<40} whole tree {b:>10.2} {unit:<3} tiles {t:>10.2} {unit:<3} ratio {:>6.2}x",
                t / b
            );
        };
        println!("large   {n} entries on SQLite, each side in a fresh process");
        row("start (open store + ledger)", "s", "start_s");
        row("peak RSS after start + proofs", "MB", "rss_mb");
        row("inclusion proof p50", "us", "inc_p50_us");
        row("inclusion proof p99", "us", "inc_p99_us");
        row("consistency proof p99", "us", "con_p99_us");
        println!(
            "large   {:<40} tiles {:>10.2} us (the size every proof above picks at random)",
            "inclusion proof p99 in the latest tree", tiled["inc_latest_p99_us"]
        );
        row("appends, 256 writers (durable)", "/s", "append_rate");
        row("peak RSS at the end", "MB", "rss_end_mb");
        println!(
            "large   goals: RSS < 64 MB {}, start < 1 s {}, proofs p99 < 1 ms {}, appends >= 50,000/s {}",
            tiled["rss_end_mb"] < 64.0,
            tiled["start_s"] < 1.0,
            tiled["inc_p99_us"].max(tiled["con_p99_us"]) < 1000.0,
            tiled["append_rate"] >= 50_000.0
        );
    }

    fn peak_rss_mb() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }

    /// One side, in its own process: `whole:N` loads every leaf hash into a `Tree` (the
    /// ledger before tiles); `tiles:N` opens the ledger.
    pub fn child(what: &str) {
        let (side, n) = what.split_once(':').unwrap();
        let n: u64 = n.parse().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&db_path(n)).await.unwrap());
            let size = store.audit_size().await.unwrap();
            let mut rng = 0x9e3779b97f4a7c15u64 ^ size;
            let mut next = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let mut inc = Vec::new();
            let mut con = Vec::new();
            let ledger = if side == "whole" {
                let mut t = Tree::new();
                let mut from = 0;
                while from < size {
                    let to = (from + 100_000).min(size);
                    for h in store.audit_leaf_hashes(from, to).await.unwrap() {
                        t.push_hash(h.try_into().unwrap());
                    }
                    from = to;
                }
                println!("start_s={}", start.elapsed().as_secs_f64());
                for _ in 0..10_000 {
                    let s = size / 2 + next() % (size / 2);
                    let i = next() % s;
                    let t0 = Instant::now();
                    std::hint::black_box(t.inclusion_proof(i, s).unwrap());
                    inc.push(t0.elapsed().as_secs_f64() * 1e6);
                    let f = 1 + next() % (s - 1);
                    let t0 = Instant::now();
                    std::hint::black_box(t.consistency_proof(f, s).unwrap());
                    con.push(t0.elapsed().as_secs_f64() * 1e6);
                }
                println!("rss_mb={}", peak_rss_mb());
                // Appends as the old ledger made them: the tree held whole beside.
                let config = LedgerConfig { origin: "bench/audit".into(), scrub: false, ..Default::default() };
                let ledger = Ledger::open(store.clone(), key(n), config).await.unwrap();
                std::hint::black_box(&t);
                (ledger, Some(t))
            } else {
                let scrub = std::env::var("SCRUB").map_or(true, |v| v == "1");
                let config = LedgerConfig { origin: "bench/audit".into(), scrub, ..Default::default() };
                let ledger = Ledger::open(store.clone(), key(n), config).await.unwrap();
                println!("start_s={}", start.elapsed().as_secs_f64());
                for _ in 0..10_000 {
                    let s = size / 2 + next() % (size / 2);
                    let i = next() % s;
                    let t0 = Instant::now();
                    std::hint::black_box(ledger.inclusion_proof(i, s).await.unwrap());
                    inc.push(t0.elapsed().as_secs_f64() * 1e6);
                    let f = 1 + next() % (s - 1);
                    let t0 = Instant::now();
                    std::hint::black_box(ledger.consistency_proof(f, s).await.unwrap());
                    con.push(t0.elapsed().as_secs_f64() * 1e6);
                }
                println!("rss_mb={}", peak_rss_mb());
                // What clients mostly ask for: entries proven in the latest checkpoint.
                let mut latest = Vec::new();
                for _ in 0..10_000 {
                    let i = next() % size;
                    let t0 = Instant::now();
                    std::hint::black_box(ledger.inclusion_proof(i, size).await.unwrap());
                    latest.push(t0.elapsed().as_secs_f64() * 1e6);
                }
                println!("inc_latest_p99_us={}", percentile(latest, 0.99));
                (ledger, None)
            };
            println!("inc_p50_us={}", percentile(inc.clone(), 0.5));
            println!("inc_p99_us={}", percentile(inc, 0.99));
            println!("con_p99_us={}", percentile(con, 0.99));
            let rate = group_commit(&ledger.0, 256).await;
            println!("append_rate={rate}");
            println!("rss_end_mb={}", peak_rss_mb());
            std::hint::black_box(ledger.1);
        });
    }
}
