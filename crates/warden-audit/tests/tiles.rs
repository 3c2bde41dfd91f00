//! The ledger keeps only the tree's right edge in memory and reads full tiles from the
//! store. These tests hold it to the whole tree (every root and proof the same, after a
//! restart, with tiles lost), and attack it as an insider with the SQLite file would:
//! an entry edited with or without its leaf hash, the tiles rebuilt to match, a tile
//! changed. Each is caught, at start or by the scrub, naming the entry.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, Row};
use warden_audit::pin::Regression;
use warden_audit::{AuditEvent, Category, Ledger, LedgerConfig, SigningKey};
use warden_core::Timestamp;
use warden_store::Store;
use warden_tlog::proof::{verify_consistency, verify_inclusion};
use warden_tlog::tree::Tree;

fn event(i: u64) -> AuditEvent {
    let mut e = AuditEvent::new(Timestamp(1_700_000_000_000 + i as i64), Category::System, "test.event", "deny");
    e.actor.uid = Some(format!("usr_{}", i % 7));
    e
}

struct Log {
    dir: tempfile::TempDir,
    key: SigningKey,
}

impl Log {
    fn new() -> Self {
        Log { dir: tempfile::tempdir().unwrap(), key: SigningKey::generate("warden/test").unwrap() }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("w.db")
    }

    async fn open(&self) -> (Arc<dyn Store>, Arc<Ledger>) {
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&self.db()).await.unwrap());
        let config = LedgerConfig { pin_file: Some(self.dir.path().join("keys/pin")), ..Default::default() };
        let ledger = Ledger::open(
            store.clone(),
            SigningKey::from_private_string(&self.key.to_private_string()).unwrap(),
            config,
        )
        .await
        .unwrap();
        (store, ledger)
    }

    /// Appends `n` events, 512 writers at a time, and waits until they are signed and
    /// every filled tile is stored.
    async fn fill(&self, n: u64) {
        let (store, ledger) = self.open().await;
        for chunk in (0..n).collect::<Vec<_>>().chunks(512) {
            let tasks: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let ledger = ledger.clone();
                    tokio::spawn(async move { ledger.append(&event(i)).await.unwrap() })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
        ledger.checkpoint(Timestamp(1)).await.unwrap();
        wait_for(|| async { store.audit_tiles(0, 0, u64::MAX >> 1).await.unwrap().len() as u64 == n / 256 }).await;
    }
}

async fn wait_for<F: std::future::Future<Output = bool>>(mut cond: impl FnMut() -> F) {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(std::time::Instant::now() < until, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The whole tree, from the stored leaf hashes.
async fn whole(store: &dyn Store) -> Tree {
    let size = store.audit_size().await.unwrap();
    let mut t = Tree::new();
    for h in store.audit_leaf_hashes(0, size).await.unwrap() {
        t.push_hash(h.try_into().unwrap());
    }
    t
}

/// The database as an insider opens it, its append-only guards dropped.
async fn raw(db: &Path) -> sqlx::SqliteConnection {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    for t in ["audit_log_no_update", "audit_tiles_no_update", "audit_tiles_no_delete", "audit_log_no_delete"] {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}")).execute(&mut c).await.unwrap();
    }
    c
}

fn leaf_hash(event: &str) -> Vec<u8> {
    warden_tlog::leaf_hash(event.as_bytes()).to_vec()
}

/// Waits for the scrub to finish or for the ledger to stop signing.
async fn scrubbed(ledger: &Ledger) -> Option<Regression> {
    wait_for(|| async {
        let (done, of) = ledger.scrubbed();
        ledger.halted().is_some() || (of > 0 && done >= of)
    })
    .await;
    // The checks at start against the pinned checkpoint run with the first signing,
    // which a loaded machine may not have reached when the scrub ends: sign once.
    if ledger.halted().is_none() {
        let _ = ledger.checkpoint(Timestamp(1)).await;
    }
    ledger.halted()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_and_proofs_from_tiles_match_the_whole_tree_across_restarts_and_lost_tiles() {
    let log = Log::new();
    let n = 5 * 256 + 77;
    log.fill(n).await;
    let (store, ledger) = log.open().await;
    assert_eq!(scrubbed(&ledger).await, None, "an untouched log passes the scrub");
    let tree = whole(store.as_ref()).await;
    let check = |ledger: Arc<Ledger>, tree: Tree| async move {
        for size in [1, 2, 255, 256, 257, 511, 512, 1000, 1024, n - 1, n] {
            let root = ledger.root(size).await.unwrap();
            assert_eq!(root, tree.root(size).unwrap(), "root at {size}");
            for index in [0, size / 3, size / 2, size - 1] {
                let proof = ledger.inclusion_proof(index, size).await.unwrap();
                assert_eq!(proof, tree.inclusion_proof(index, size).unwrap());
                verify_inclusion(index, size, &tree.leaf(index).unwrap(), &proof, &root).unwrap();
            }
            for from in [1, size / 2, size] {
                let from = from.max(1);
                let proof = ledger.consistency_proof(from, size).await.unwrap();
                assert_eq!(proof, tree.consistency_proof(from, size).unwrap(), "consistency {from} to {size}");
                verify_consistency(from, size, &tree.root(from).unwrap(), &root, &proof).unwrap();
            }
        }
        let err = ledger.inclusion_proof(n, n + 1).await.unwrap_err();
        assert!(err.to_string().contains("larger than the log"), "{err}");
    };
    check(ledger.clone(), tree.clone()).await;
    drop(ledger);
    // Tiles lost (a crash before they were written, a log from before tiles): rebuilt
    // from the leaf hashes, and every answer is the same.
    let mut c = raw(&log.db()).await;
    sqlx::query("DELETE FROM audit_tiles WHERE idx >= 2").execute(&mut c).await.unwrap();
    drop(c);
    let (store, ledger) = log.open().await;
    assert_eq!(ledger.halted(), None);
    check(ledger.clone(), tree).await;
    assert_eq!(store.audit_tiles(0, 0, 100).await.unwrap().len(), 5, "the lost tiles were stored again");
    // It appends on from there, and the next tile is stored.
    for i in n..n + 300 {
        ledger.append(&event(i)).await.unwrap();
    }
    let tree = whole(store.as_ref()).await;
    assert_eq!(ledger.root(n + 300).await.unwrap(), tree.root(n + 300).unwrap());
}

/// Each way an insider can change the stored log, and where it is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_to_entries_and_tiles_are_caught_at_start_or_by_the_scrub() {
    let n = 4 * 256 + 10;
    for attack in ["edit-and-rehash", "edit-event-only", "edit-and-rebuild-tiles", "change-a-tile", "edit-the-edge"] {
        let log = Log::new();
        log.fill(n).await;
        let target: i64 = if attack == "edit-the-edge" { 1030 } else { 300 };
        let mut c = raw(&log.db()).await;
        let row =
            sqlx::query("SELECT event FROM audit_log WHERE idx = ?").bind(target).fetch_one(&mut c).await.unwrap();
        let stored: String = row.get("event");
        let edited = stored.replace("\"deny\"", "\"allow\"");
        assert_ne!(edited, stored);
        match attack {
            "edit-event-only" => {
                sqlx::query("UPDATE audit_log SET event = ? WHERE idx = ?").bind(edited.clone()).bind(target)
            }
            "change-a-tile" => sqlx::query(
                "UPDATE audit_tiles SET hashes = substr(hashes, 1, 100) || X'00' || substr(hashes, 102) \
                 WHERE level = 0 AND idx = ?",
            )
            .bind(target / 256),
            _ => sqlx::query("UPDATE audit_log SET event = ?, leaf_hash = ? WHERE idx = ?")
                .bind(edited.clone())
                .bind(leaf_hash(&edited))
                .bind(target),
        }
        .execute(&mut c)
        .await
        .unwrap();
        if attack == "edit-and-rebuild-tiles" {
            // The tiles rebuilt to match the edited leaf hash: the tree is consistent
            // again, but its root is not the one signed.
            sqlx::query("DELETE FROM audit_tiles").execute(&mut c).await.unwrap();
        }
        drop(c);
        let (_, ledger) = log.open().await;
        let why = scrubbed(&ledger).await.unwrap_or_else(|| panic!("{attack}: not caught"));
        match (attack, &why) {
            ("edit-and-rehash" | "edit-event-only", Regression::Edited { index, .. }) => {
                assert_eq!(*index, target as u64, "{attack}: the exact entry is named: {why}")
            }
            ("edit-and-rebuild-tiles" | "change-a-tile" | "edit-the-edge", Regression::Rewritten { .. }) => {}
            _ => panic!("{attack}: {why:?}"),
        }
        let text = why.to_string();
        assert!(text.contains("rewritten") && text.contains("signed"), "{attack}: {text}");
        // Nothing is signed any more.
        let before = ledger.checkpoint(Timestamp(2)).await.unwrap().tree_size;
        ledger.append(&event(99_999)).await.unwrap();
        assert_eq!(ledger.checkpoint(Timestamp(3)).await.unwrap().tree_size, before, "{attack}: signed after all");
    }
}

/// Past a full level-1 tile (65,536 entries): the scrub walks up two levels of tiles.
/// It passes an untouched log, and names the entry or the tile changed beneath a full
/// level-1 tile, which the start cannot see (the tree's root is unchanged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrub_checks_every_level_of_a_larger_log() {
    let log = Log::new();
    let n: u64 = 65_536 + 3 * 256 + 9;
    {
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&log.db()).await.unwrap());
        let leaves: Vec<_> = (0..n).map(|i| event(i).to_leaf().unwrap()).collect();
        for chunk in leaves.chunks(4096) {
            store.append_audit(chunk).await.unwrap();
        }
    }
    // First start: the tiles are built from the leaf hashes, and the log signed.
    let (store, ledger) = log.open().await;
    assert_eq!(scrubbed(&ledger).await, None, "an untouched log passes the scrub");
    assert_eq!(ledger.scrubbed(), (n, n));
    assert_eq!(store.audit_tiles(1, 0, 10).await.unwrap().len(), 1, "a full level-1 tile");
    assert_eq!(ledger.root(n).await.unwrap(), whole(store.as_ref()).await.root(n).unwrap());
    drop(ledger);
    for attack in ["edit-and-rehash", "change-a-tile-under-a-full-tile"] {
        let mut c = raw(&log.db()).await;
        if attack == "edit-and-rehash" {
            let row = sqlx::query("SELECT event FROM audit_log WHERE idx = 40000").fetch_one(&mut c).await.unwrap();
            let edited = row.get::<String, _>("event").replace("\"deny\"", "\"allow\"");
            sqlx::query("UPDATE audit_log SET event = ?, leaf_hash = ? WHERE idx = 40000")
                .bind(edited.clone())
                .bind(leaf_hash(&edited))
                .execute(&mut c)
                .await
                .unwrap();
        } else {
            // Tile 5 of level 0 and the leaf hashes beneath it, consistently: only the
            // full level-1 tile above still holds the old root.
            let row = sqlx::query("SELECT event FROM audit_log WHERE idx = 1300").fetch_one(&mut c).await.unwrap();
            let edited = row.get::<String, _>("event").replace("\"deny\"", "\"allow\"");
            sqlx::query("UPDATE audit_log SET event = ?, leaf_hash = ? WHERE idx = 1300")
                .bind(edited.clone())
                .bind(leaf_hash(&edited))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("DELETE FROM audit_tiles WHERE level = 0 AND idx = 5").execute(&mut c).await.unwrap();
        }
        drop(c);
        let (_, ledger) = log.open().await;
        assert_eq!(ledger.halted(), None, "{attack}: the root at start is the signed one");
        let why = scrubbed(&ledger).await.unwrap_or_else(|| panic!("{attack}: not caught"));
        let Regression::Edited { index, .. } = &why else { panic!("{attack}: {why:?}") };
        let want = if attack == "edit-and-rehash" { 40_000 } else { 1280 };
        assert_eq!(*index, want, "{attack}: {why}");
        drop(ledger);
        // Put it back for the next attack: a fresh copy of the log.
        let mut c = raw(&log.db()).await;
        let idx = if attack == "edit-and-rehash" { 40_000 } else { 1300 };
        let row = sqlx::query("SELECT event FROM audit_log WHERE idx = ?").bind(idx).fetch_one(&mut c).await.unwrap();
        let restored = row.get::<String, _>("event").replace("\"allow\"", "\"deny\"");
        sqlx::query("UPDATE audit_log SET event = ?, leaf_hash = ? WHERE idx = ?")
            .bind(restored.clone())
            .bind(leaf_hash(&restored))
            .bind(idx)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_tiles WHERE level = 0 AND idx = 5").execute(&mut c).await.unwrap();
    }
}
