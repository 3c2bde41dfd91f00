//! Lineage query benchmark: a generated graph of 100,000 nodes and 1,000,000 edges in
//! SQLite, queried to depth 10 through the application (which keeps the graph in memory
//! and brings it up to date from the store before every answer), against a recursive
//! SQL query over the same tables in the same run.
//!
//! Run: `cargo bench -p warden-app --bench lineage`. `WARDEN_BENCH_NODES` and
//! `WARDEN_BENCH_EDGES` change the size (defaults 100000 and 1000000).

mod common;

use common::{env, percentile, Lcg};

use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_app::catalog::Direction;
use warden_app::{App, AppConfig, SystemClock};
use warden_store::Store;

const LAYERS: usize = 20;

/// A layered graph, as pipelines make: datasets and runs alternate, each node feeding a
/// few nodes of the next layer.
fn node(layer: usize, i: usize) -> String {
    if layer % 2 == 0 {
        format!("dataset:s3://lake/l{layer}/t{i}")
    } else {
        format!("run:00000000-0000-4000-8000-{:06}{:06}", layer, i)
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let nodes = env("WARDEN_BENCH_NODES", 100_000);
    let edges = env("WARDEN_BENCH_EDGES", 1_000_000);
    let per_layer = nodes / LAYERS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.db");
    let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&path).await.unwrap());

    // The graph: `edges` edges between consecutive layers.
    let started = Instant::now();
    let mut rng = Lcg(7);
    let mut batch = Vec::with_capacity(10_000);
    for e in 0..edges {
        let layer = e % (LAYERS - 1);
        let from = node(layer, rng.next(per_layer));
        let to = node(layer + 1, rng.next(per_layer));
        batch.push((from, to));
        if batch.len() == 10_000 {
            store.add_lineage_edges(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.add_lineage_edges(&batch).await.unwrap();
    let stored = store.lineage_edges_since(0, u32::MAX).await.unwrap().len();
    println!(
        "graph: {} nodes, {stored} distinct edges written in {:.1} s",
        per_layer * LAYERS,
        started.elapsed().as_secs_f64()
    );

    let key = warden_audit::SigningKey::generate("warden/bench").unwrap();
    let ledger = warden_audit::Ledger::open(store.clone(), key, Default::default()).await.unwrap();
    let blobs = warden_blob::BlobStore::local(&dir.path().join("blobs")).unwrap();
    let app = App::new(store.clone(), ledger, blobs, Arc::new(SystemClock), AppConfig::default(), None).unwrap();

    // First answer: the replica loads the graph.
    let t = Instant::now();
    let w = app.lineage_walk(&node(10, 0), Direction::Upstream, 10, 10_000).await.unwrap().unwrap();
    println!(
        "cold: first answer (loads the graph) in {:.0} ms, {} nodes",
        t.elapsed().as_secs_f64() * 1e3,
        w.nodes.len()
    );

    // Answers at depth 10 from the middle layers, both ways: as the API gives them
    // (at most 10,000 nodes), and the whole depth-10 neighbourhood.
    let mut p50 = Duration::ZERO;
    for (limit, what) in [(10_000, "API answers (capped at 10,000 nodes)"), (usize::MAX, "whole walks")] {
        let mut times = Vec::new();
        let mut reached = 0;
        for i in 0..200 {
            let dir = if i % 2 == 0 { Direction::Upstream } else { Direction::Downstream };
            let start = node(9 + i % 2, rng.next(per_layer));
            let t = Instant::now();
            let w = app.lineage_walk(&start, dir, 10, limit).await.unwrap();
            times.push(t.elapsed());
            reached += w.map_or(0, |w| w.nodes.len());
        }
        let q50 = percentile(&mut times, 0.5);
        let q99 = percentile(&mut times, 0.99);
        if limit == usize::MAX {
            p50 = q50;
        }
        println!(
            "warden: depth-10 {what}: p50 {:.2} ms, p99 {:.2} ms, {} nodes on average (goal < 50 ms)",
            q50.as_secs_f64() * 1e3,
            q99.as_secs_f64() * 1e3,
            reached / 200
        );
    }

    // Baseline: the same question as one recursive SQL query over the stored edges.
    // (With an index on the edges' targets, so the baseline is the fair one.)
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("CREATE INDEX IF NOT EXISTS bench_edges_to ON lineage_edges (to_node, from_node)")
        .execute(&pool)
        .await
        .unwrap();
    let sql = "WITH RECURSIVE up(node, depth) AS (SELECT ?1, 0 UNION \
               SELECT e.from_node, up.depth + 1 FROM lineage_edges e JOIN up ON e.to_node = up.node \
               WHERE up.depth < 10) SELECT COUNT(DISTINCT node) FROM up";
    let mut base = Vec::new();
    for _ in 0..5 {
        let start = node(10, rng.next(per_layer));
        let t = Instant::now();
        let n: i64 = sqlx::query_scalar(sql).bind(&start).fetch_one(&pool).await.unwrap();
        base.push(t.elapsed());
        let _ = n;
    }
    let b50 = percentile(&mut base, 0.5);
    println!(
        "baseline: one recursive SQL query to depth 10 (indexed) p50 {:.0} ms; ratio to whole walks {:.0}x",
        b50.as_secs_f64() * 1e3,
        b50.as_secs_f64() / p50.as_secs_f64()
    );
}
