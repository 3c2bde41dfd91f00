//! Intake throughput: stream a large file into the content-addressed store (SHA-256 of
//! every byte, durable write, verify, publish) next to two baselines over the same file
//! in the same run: `openssl dgst -sha256` (the hashing) and `dd` with direct I/O and
//! fdatasync (the disk). Intake needs both, so the slower one bounds it. Also the
//! process's peak RSS before and after.
//!
//! Run: `cargo bench -p warden-blob` (`WARDEN_BENCH_INTAKE_MB` sets the size, default
//! 2048). The file is filled with pseudo-random bytes, so neither side benefits from
//! sparse reads.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream;
use sha2::{Digest as _, Sha256};
use warden_blob::{BlobStore, Digest};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches("kB").trim().to_string()))
        })
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// Seconds `command` took, or `None` if it is missing or failed (its baseline is then
/// skipped).
fn timed(command: &mut Command) -> Option<f64> {
    let s = Instant::now();
    let out = command.output().ok()?;
    out.status.success().then(|| s.elapsed().as_secs_f64())
}

fn main() {
    let mb: u64 = std::env::var("WARDEN_BENCH_INTAKE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(2048);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut x = 0x9e3779b97f4a7c15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mb {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&block).unwrap();
        }
        // On disk before anything is timed, so its writeback does not slow what is.
        f.into_inner().unwrap().sync_all().unwrap();
    }
    let bytes = (mb << 20) as f64;

    // Baseline: openssl over the same file.
    let openssl = timed(Command::new("openssl").args(["dgst", "-sha256"]).arg(&path));

    // Plain SHA-256 of the file in this process (what intake's hashing alone costs).
    let s = Instant::now();
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(&path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    let declared = Digest(h.finalize().into());
    let hash_only = s.elapsed().as_secs_f64();

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store = BlobStore::local(&dir.path().join("blobs")).unwrap();
    // Baseline: the disk's durable write rate for the same bytes, as `dd` copies them
    // with direct I/O and one fdatasync at the end (how the store writes; a buffered
    // copy is slower on disks whose writeback lags, so it would flatter the ratio).
    let copy = dir.path().join("copy.bin");
    let disk =
        timed(Command::new("dd").arg(format!("if={}", path.display())).arg(format!("of={}", copy.display())).args([
            "bs=4M",
            "oflag=direct",
            "conv=fdatasync",
            "status=none",
        ]));
    let _ = std::fs::remove_file(&copy);

    let rss_before = peak_rss_mib();
    let s = Instant::now();
    let stored = rt.block_on(async {
        // The file arrives as an upload's body does: read ahead by a thread of its own
        // (as the network stack fills a socket), in 1 MiB chunks.
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let source = path.clone();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut f = std::fs::File::open(source).unwrap();
            loop {
                let mut buf = Vec::with_capacity(1 << 20);
                if (&mut f).take(1 << 20).read_to_end(&mut buf).unwrap() == 0 {
                    break;
                }
                if tx.blocking_send(Bytes::from(buf)).is_err() {
                    break;
                }
            }
        });
        let body =
            stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx)) });
        let stored = store.put(Some(declared), u64::MAX, Box::pin(body)).await.unwrap();
        reader.join().unwrap();
        stored
    });
    let intake = s.elapsed().as_secs_f64();
    let rss_after = peak_rss_mib();
    assert_eq!(stored.size, mb << 20);

    let mbps = |t: f64| bytes / t / 1e6;
    println!("intake  {mb} MiB file");
    match openssl {
        Some(t) => println!("intake  openssl dgst -sha256 (baseline)        {:>8.0} MB/s", mbps(t)),
        None => println!("intake  openssl not found: baseline skipped"),
    }
    println!("intake  sha-256 in process                    {:>8.0} MB/s", mbps(hash_only));
    match disk {
        Some(t) => println!("intake  dd, direct I/O + fdatasync (disk baseline) {:>8.0} MB/s", mbps(t)),
        None => println!("intake  dd with direct I/O failed here: disk baseline skipped"),
    }
    print!("intake  stream into the store (hash + durable write) {:>8.0} MB/s", mbps(intake));
    if let Some(t) = openssl {
        print!("   ratio to openssl {:.2}", t / intake);
    }
    if let Some(t) = disk {
        print!("   ratio to the disk {:.2}", t / intake);
    }
    println!();
    if let (Some(o), Some(d)) = (openssl, disk) {
        // Intake must both hash and land on disk, so the slower of the two bounds it.
        println!("intake  ratio to the slower baseline {:.2}", o.max(d) / intake);
    }
    println!("intake  peak RSS {:.0} MiB before, {:.0} MiB after (the file is {mb} MiB)", rss_before, rss_after);
}
