//! Digests of the entries appended since the last one: made once the interval has
//! passed, signed with the log's key, kept outside the database, one range after the
//! other without gap or overlap (across a restart too), each equal to the digest of the
//! stored entries it covers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use warden_audit::pin::{PinFuture, Shared, SharedPin};

use warden_audit::digest::Digest;
use warden_audit::{AuditEvent, Category, Ledger, LedgerConfig, SigningKey};
use warden_core::Timestamp;
use warden_store::Store;
use warden_tlog::tree::{range_hash, Tree};

fn event(i: u64) -> AuditEvent {
    AuditEvent::new(Timestamp(1_700_000_000_000 + i as i64), Category::System, "test.event", "success")
}

async fn whole(store: &dyn Store) -> Tree {
    let size = store.audit_size().await.unwrap();
    let mut t = Tree::new();
    for h in store.audit_leaf_hashes(0, size).await.unwrap() {
        t.push_hash(h.try_into().unwrap());
    }
    t
}

/// Keeps what is anchored, as an object store's write-once prefix would.
#[derive(Default)]
struct Anchors(Mutex<Vec<String>>);

impl SharedPin for Anchors {
    fn load(&self) -> PinFuture<'_, Option<String>> {
        Box::pin(async { Ok(None) })
    }
    fn store<'a>(&'a self, _: &'a str) -> PinFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn anchor<'a>(&'a self, _: u64, _: &'a str) -> PinFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn anchor_digest<'a>(&'a self, _: u64, note: &'a str) -> PinFuture<'a, ()> {
        self.0.lock().unwrap().push(note.to_string());
        Box::pin(async { Ok(()) })
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

/// Waits for a digest ending at `to`.
async fn digest_to(ledger: &Ledger, to: u64) -> (Digest, String) {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(d) = ledger.latest_digest().filter(|(d, _)| d.to == to) {
            return d;
        }
        assert!(std::time::Instant::now() < until, "no digest up to {to}: {:?}", ledger.latest_digest());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_follow_one_another_and_match_the_stored_entries() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate("warden/test").unwrap();
    let digest_file = dir.path().join("keys/audit-digest.last");
    let anchors = Arc::new(Anchors::default());
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(warden_store_sqlite::open(&dir.path().join("w.db")).await.unwrap());
        let config = LedgerConfig {
            digest_every: Some(Duration::ZERO),
            digest_file: Some(digest_file.clone()),
            shared_pin: Some(Shared(anchors.clone())),
            ..Default::default()
        };
        let key = SigningKey::from_private_string(&key.to_private_string()).unwrap();
        (store.clone(), Ledger::open(store, key, config).await.unwrap())
    };
    let (_, ledger) = open().await;
    for i in 0..600 {
        ledger.append(&event(i)).await.unwrap();
    }
    let (latest, note) = digest_to(&ledger, 600).await;
    assert_eq!(Digest::open(&note, &key.verifier()).unwrap(), latest, "signed by the log's key");
    assert_eq!(std::fs::read_to_string(&digest_file).unwrap(), note, "kept outside the database");
    assert_eq!(ledger.range_digest(latest.from, 600).await.unwrap(), latest.hash);
    for i in 600..1000 {
        ledger.append(&event(i)).await.unwrap();
    }
    digest_to(&ledger, 1000).await;
    drop(ledger);

    // After a restart, the next digest starts after the last one kept.
    let (store, ledger) = open().await;
    assert_eq!(ledger.latest_digest().unwrap().0.to, 1000);
    for i in 1000..1100 {
        ledger.append(&event(i)).await.unwrap();
    }
    digest_to(&ledger, 1100).await;
    // Every digest anchored: signed, one range after the other from 0 without gap or
    // overlap, each the digest of the stored entries it covers.
    let tree = whole(store.as_ref()).await;
    let anchored: Vec<Digest> =
        anchors.0.lock().unwrap().iter().map(|n| Digest::open(n, &key.verifier()).unwrap()).collect();
    let mut next = 0;
    for d in &anchored {
        assert_eq!(d.from, next, "{anchored:?}");
        assert_eq!(d.hash, range_hash(&tree, d.from, d.to), "{d:?}");
        next = d.to;
    }
    assert_eq!(next, 1100);
    assert_eq!(anchored.first().unwrap().hash, tree.root(anchored[0].to).unwrap(), "from 0, it is the root");
    // Any range, as the log holds it now.
    for (a, b) in [(0, 1), (5, 777), (256, 1100), (1099, 1100)] {
        assert_eq!(ledger.range_digest(a, b).await.unwrap(), range_hash(&tree, a, b), "{a}..{b}");
    }
}
