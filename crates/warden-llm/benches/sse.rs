//! How long `sse_events` takes over one long `data:` line without an end, fed in
//! 16 KiB chunks as an upstream would send it, against a baseline in the same run:
//! copying the same chunks into a `Vec` and searching each for a newline. Before the
//! parser searched linearly, the ratio grew with the size (1.4 s for 8 MiB, 465 times the baseline).
//!
//! `CARGO_TARGET_DIR=/work/target-llm cargo bench -p warden-llm --bench sse`
//!
//! Everything runs on one thread (a current-thread runtime), so the times are that
//! thread's CPU time plus whatever the machine's other work takes from it; each figure
//! is the best of five runs.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use warden_llm::{sse_events_limited, Limits};

const CHUNK: usize = 16 * 1024;
const RUNS: usize = 5;

/// `data: "aaaa…` of `len` bytes, never ended.
fn line(len: usize) -> Bytes {
    let mut v = b"data: \"".to_vec();
    v.resize(len, b'a');
    Bytes::from(v)
}

fn chunks(bytes: &Bytes) -> Vec<Bytes> {
    (0..bytes.len()).step_by(CHUNK).map(|i| bytes.slice(i..(i + CHUNK).min(bytes.len()))).collect()
}

fn best(mut f: impl FnMut() -> String) -> (Duration, String) {
    let mut out = (Duration::MAX, String::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let what = f();
        out = (out.0.min(t.elapsed()), what);
    }
    out
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let parse = |chunks: Vec<Bytes>, limits: Limits| -> String {
        let input = futures_util::stream::iter(chunks.into_iter().map(Ok)).boxed();
        let events: Vec<_> = rt.block_on(sse_events_limited(input, limits, None).collect());
        match events.last() {
            Some(Err(e)) => e.to_string(),
            other => format!("{other:?}"),
        }
    };
    println!("size   sse_events (limit 16 MiB)  baseline (copy + newline search)  ratio  default 1 MiB limit");
    for mib in [1, 2, 4, 8] {
        let bytes = line(mib << 20);
        let pieces = chunks(&bytes);
        let (base, _) = best(|| {
            let mut buf = Vec::new();
            let mut newlines = 0usize;
            for c in &pieces {
                newlines += c.iter().filter(|&&b| b == b'\n').count();
                buf.extend_from_slice(c);
            }
            std::hint::black_box((buf, newlines));
            String::new()
        });
        let (sse, outcome) = best(|| parse(pieces.clone(), Limits { max_event_bytes: 16 << 20 }));
        assert!(outcome.contains("ended in the middle of an event"), "{outcome}");
        // A line of exactly 1 MiB is within the default limit; longer ones are cut there.
        let (capped, outcome) = best(|| parse(pieces.clone(), Limits::default()));
        let why = if outcome.contains("longer than") { "refused: too long" } else { "read whole" };
        println!(
            "{mib} MiB  {:>12.2} ms              {:>12.2} ms                      {:>5.1}  {:>8.2} ms ({why})",
            sse.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            sse.as_secs_f64() / base.as_secs_f64(),
            capped.as_secs_f64() * 1e3,
        );
    }
}
