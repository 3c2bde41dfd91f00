use serde_json::json;
use warden_core::Timestamp;

use super::*;

fn leaf(i: u64, actor: &str, outcome: &str) -> AuditLeaf {
    let event = json!({"i": i, "actor": actor, "outcome": outcome}).to_string();
    AuditLeaf {
        time: Timestamp(T0.0 + i as i64),
        category: "authorization".into(),
        action: if i % 2 == 0 { "project.create" } else { "whoami" }.into(),
        actor: Some(actor.into()),
        resource: Some("organisation:warden".into()),
        outcome: outcome.into(),
        project: None,
        request_id: Some(format!("req-{i}")),
        leaf_hash: event.as_bytes().iter().rev().copied().collect(),
        event,
    }
}

/// Tiles: stored whole, with an append or alone, once (a second copy of a tile leaves
/// the first), read back by range with gaps where none is stored; anything but a full
/// tile is refused and stores nothing, not even the entries appended with it.
pub(super) async fn audit_tiles(store: &dyn Store) {
    let tile = |level: u32, index: u64, fill: u8| AuditTile { level, index, hashes: vec![fill; AUDIT_TILE_BYTES] };
    assert_eq!(store.audit_tiles(0, 0, 100).await.unwrap(), vec![]);
    let size = store.audit_size().await.unwrap();
    let first = store.append_audit_with_tiles(&[leaf(1, "usr_t", "allow")], &[tile(0, 0, 1), tile(0, 1, 2)]).await;
    assert_eq!(first.unwrap(), size);
    store.put_audit_tiles(&[tile(0, 3, 4), tile(1, 0, 9), tile(0, 0, 7)]).await.unwrap();
    store.append_audit_with_tiles(&[], &[tile(0, 1, 8), tile(0, 5, 6)]).await.unwrap();
    let got = store.audit_tiles(0, 0, 5).await.unwrap();
    assert_eq!(got, vec![tile(0, 0, 1), tile(0, 1, 2), tile(0, 3, 4)], "in order, the first copy kept");
    assert_eq!(store.audit_tiles(0, 1, 4).await.unwrap(), vec![tile(0, 1, 2), tile(0, 3, 4)]);
    assert_eq!(store.audit_tiles(1, 0, u64::MAX >> 1).await.unwrap(), vec![tile(1, 0, 9)]);
    assert_eq!(store.audit_tiles(0, 5, 6).await.unwrap(), vec![tile(0, 5, 6)]);
    let mut some = store.audit_tiles_at(&[(0, 3), (1, 0), (0, 2), (0, 5), (1, 1)]).await.unwrap();
    some.sort_by_key(|t| (t.level, t.index));
    assert_eq!(some, vec![tile(0, 3, 4), tile(0, 5, 6), tile(1, 0, 9)], "those stored among those asked for");
    assert_eq!(store.audit_tiles_at(&[]).await.unwrap(), vec![]);
    // Many at once (more than one statement holds).
    let many: Vec<AuditTile> = (100..300).map(|i| tile(2, i, i as u8)).collect();
    store.put_audit_tiles(&many).await.unwrap();
    assert_eq!(store.audit_tiles(2, 0, 1000).await.unwrap(), many);
    let at: Vec<(u32, u64)> = (90..310).map(|i| (2, i)).collect();
    let mut got = store.audit_tiles_at(&at).await.unwrap();
    got.sort_by_key(|t| t.index);
    assert_eq!(got, many);
    // A short tile is refused, and so is the append it came with.
    let short = AuditTile { level: 0, index: 9, hashes: vec![0; 32 * 255] };
    let err =
        store.append_audit_with_tiles(&[leaf(2, "usr_t", "allow")], std::slice::from_ref(&short)).await.unwrap_err();
    assert!(matches!(err, StoreError::OutOfRange(_)), "{err:?}");
    assert!(matches!(store.put_audit_tiles(&[tile(0, 8, 1), short]).await, Err(StoreError::OutOfRange(_))));
    assert_eq!(store.audit_size().await.unwrap(), size + 1, "the append with a bad tile stored nothing");
    assert_eq!(store.audit_tiles(0, 6, 20).await.unwrap(), vec![], "nor did the tiles beside it");
}

pub(super) async fn audit(store: &dyn Store) {
    assert_eq!(store.audit_size().await.unwrap(), 0);
    assert_eq!(store.append_audit(&[]).await.unwrap(), 0, "an empty append changes nothing");
    let batch: Vec<AuditLeaf> = (0..3).map(|i| leaf(i, "usr_a", "allow")).collect();
    assert_eq!(store.append_audit(&batch).await.unwrap(), 0);
    assert_eq!(store.append_audit(&[leaf(3, "usr_b", "deny")]).await.unwrap(), 3);
    // A batch larger than one INSERT statement.
    let big: Vec<AuditLeaf> = (4..1004).map(|i| leaf(i, "usr_c", "allow")).collect();
    assert_eq!(store.append_audit(&big).await.unwrap(), 4);
    assert_eq!(store.audit_size().await.unwrap(), 1004);

    // Concurrent appenders never share or skip an index.
    let one = |i: u64| async move {
        store.append_audit(&[leaf(i, "usr_d", "allow"), leaf(i, "usr_d", "allow")]).await.unwrap()
    };
    let (a, b, c, d) = tokio::join!(one(1), one(2), one(3), one(4));
    let mut firsts = vec![a, b, c, d];
    firsts.sort();
    assert_eq!(firsts, vec![1004, 1006, 1008, 1010]);
    assert_eq!(store.audit_size().await.unwrap(), 1012);

    let entries = store.audit_entries(0, 2000).await.unwrap();
    assert_eq!(entries.len(), 1012);
    assert!(entries.iter().enumerate().all(|(i, e)| e.index == i as u64), "contiguous indexes");
    assert_eq!(entries[3].leaf, leaf(3, "usr_b", "deny"), "round trip");
    let hashes = store.audit_leaf_hashes(2, 5).await.unwrap();
    assert_eq!(hashes, entries[2..5].iter().map(|e| e.leaf.leaf_hash.clone()).collect::<Vec<_>>());
    assert_eq!(store.audit_entries(1010, 10).await.unwrap().len(), 2);

    // Search gives the same answers however far the search index has got: not at all,
    // part of the way (pages then cross from indexed entries into the scanned tail), and
    // all of it.
    assert_eq!(store.index_audit(0).await.unwrap(), 0);
    search_checks(store).await;
    assert_eq!(store.index_audit(7).await.unwrap(), 7, "the index grows by at most `max`");
    search_checks(store).await;
    assert_eq!(store.index_audit(600).await.unwrap(), 607);
    search_checks(store).await;
    assert_eq!(store.index_audit(10_000).await.unwrap(), 1012, "never past the log's head");
    assert_eq!(store.index_audit(10_000).await.unwrap(), 1012);
    search_checks(store).await;
    store.append_audit(&[leaf(2000, "usr_a", "deny")]).await.unwrap();
    let late = AuditFilter { actor: Some("usr_a".into()), outcome: Some("deny".into()), ..Default::default() };
    let found = store.search_audit(&late, &Page::first(10)).await.unwrap();
    assert_eq!(found.iter().map(|e| e.index).collect::<Vec<_>>(), vec![1012], "an unindexed entry is found");
    assert_eq!(store.index_audit(10_000).await.unwrap(), 1013);
    assert_eq!(store.search_audit(&late, &Page::first(10)).await.unwrap(), found);

    // A term in scattered blocks (every third block of 256 entries, twice in each, more
    // blocks than one index read returns): every match, in order, across pages, whether
    // the entries are indexed or not.
    let scattered: Vec<AuditLeaf> = (1013..1013 + 256 * 210)
        .map(|i| {
            let rare = i % 768 == 5 || i % 768 == 200;
            leaf(i, if rare { "usr_rare" } else { "usr_e" }, "allow")
        })
        .collect();
    for chunk in scattered.chunks(4096) {
        store.append_audit(chunk).await.unwrap();
    }
    let rare: Vec<u64> = (1013..1013 + 256 * 210).filter(|i| i % 768 == 5 || i % 768 == 200).collect();
    assert!(rare.len() > 2 * 64, "more blocks than one index read");
    let rare_filter = AuditFilter { actor: Some("usr_rare".into()), ..Default::default() };
    let all_pages = |size: u32| {
        let filter = rare_filter.clone();
        async move {
            let mut page = Page::first(size);
            let mut seen = Vec::new();
            while let Some(last) =
                store.search_audit(&filter, &page).await.unwrap().into_iter().inspect(|e| seen.push(e.index)).last()
            {
                page.after = Some(last.index.to_string());
            }
            seen
        }
    };
    assert_eq!(all_pages(1000).await, rare, "unindexed");
    // An appender that kept its own entries' terms indexes them without reading them
    // back, but only from where the index stands.
    let head = store.index_audit(0).await.unwrap();
    assert_eq!(head, 1013);
    let to = head + 256 * 100;
    let terms: std::collections::BTreeSet<(String, u64)> = scattered[..(to - head) as usize]
        .iter()
        .zip(head..)
        .flat_map(|(l, i)| l.terms().map(move |t| (t, i / crate::AUDIT_BLOCK)))
        .collect();
    let terms: Vec<(String, u64)> = terms.into_iter().collect();
    assert!(!store.index_audit_terms(head + 1, to, &terms).await.unwrap(), "not from the head: nothing written");
    assert_eq!(store.index_audit(0).await.unwrap(), head);
    assert!(store.index_audit_terms(head, to, &terms).await.unwrap());
    assert_eq!(store.index_audit(0).await.unwrap(), to);
    assert!(!store.index_audit_terms(head, to, &terms).await.unwrap(), "only once");
    assert_eq!(all_pages(7).await, rare, "indexed in part");
    // Each kind of term finds its entries in the part indexed this way (the SQL indexer
    // and `AuditLeaf::terms` name terms alike).
    let from_head = |f: AuditFilter| async move {
        let page = Page { after: Some((head - 1).to_string()), ..Page::first(3) };
        store.search_audit(&f, &page).await.unwrap().iter().map(|e| e.index).collect::<Vec<u64>>()
    };
    let by = |f: fn(&mut AuditFilter)| {
        let mut filter = AuditFilter::default();
        f(&mut filter);
        filter
    };
    assert_eq!(from_head(by(|f| f.resource = Some("organisation:warden".into()))).await, vec![1013, 1014, 1015]);
    assert_eq!(from_head(by(|f| f.action = Some("whoami".into()))).await, vec![1013, 1015, 1017]);
    assert_eq!(from_head(by(|f| f.outcome = Some("allow".into()))).await, vec![1013, 1014, 1015]);
    assert_eq!(from_head(by(|f| f.actor = Some("usr_e".into()))).await, vec![1013, 1014, 1015]);
    while store.index_audit(100_000).await.unwrap() < store.audit_size().await.unwrap() {}
    assert_eq!(all_pages(1000).await, rare, "indexed");
    let one_page = store.search_audit(&rare_filter, &Page::first(1000)).await.unwrap();
    assert_eq!(one_page.len(), rare.len(), "a page is full while matches remain");
    assert_eq!(all_pages(3).await, rare, "indexed, small pages");

    // Checkpoints: one per size, the first write wins.
    for size in [3u64, 1004, 1012] {
        let c = CheckpointRecord { tree_size: size, note: format!("note {size}"), created_at: T0 };
        store.put_checkpoint(&c).await.unwrap();
    }
    store.put_checkpoint(&CheckpointRecord { tree_size: 3, note: "other".into(), created_at: T0 }).await.unwrap();
    assert_eq!(store.latest_checkpoint().await.unwrap().unwrap().tree_size, 1012);
    let all = store.list_checkpoints(0, 10).await.unwrap();
    assert_eq!(all.iter().map(|c| c.tree_size).collect::<Vec<_>>(), vec![3, 1004, 1012]);
    assert_eq!(all[0].note, "note 3");
    assert_eq!(store.checkpoint_covering(4).await.unwrap().unwrap().tree_size, 1004);
    assert!(store.checkpoint_covering(2000).await.unwrap().is_none());

    // Export cursors.
    assert_eq!(store.export_cursor("siem").await.unwrap(), 0);
    store.set_export_cursor("siem", 17, T0).await.unwrap();
    store.set_export_cursor("siem", 42, T0).await.unwrap();
    assert_eq!(store.export_cursor("siem").await.unwrap(), 42);
    assert_eq!(store.export_cursor("file").await.unwrap(), 0);

    // Optional fields left empty are stored as NULL and come back as none, beside a full
    // entry in the same batch (each engine binds the batch its own way).
    let size = store.audit_size().await.unwrap();
    let mut bare = leaf(size, "usr_z", "allow");
    bare.actor = None;
    bare.resource = None;
    bare.request_id = None;
    let full = leaf(size + 1, "usr_z", "allow");
    assert_eq!(store.append_audit(&[bare.clone(), full.clone()]).await.unwrap(), size);
    let back: Vec<AuditLeaf> = store.audit_entries(size, 2).await.unwrap().into_iter().map(|e| e.leaf).collect();
    assert_eq!(back, vec![bare, full], "entries read back as appended, NULLs included");
}

pub(super) async fn search_checks(store: &dyn Store) {
    let ids = |rows: Vec<AuditEntry>| rows.iter().map(|e| e.index).collect::<Vec<u64>>();
    let denies = AuditFilter { outcome: Some("deny".into()), ..Default::default() };
    assert_eq!(ids(store.search_audit(&denies, &Page::first(10)).await.unwrap()), vec![3]);
    let by = AuditFilter { actor: Some("usr_a".into()), action: Some("project.create".into()), ..Default::default() };
    assert_eq!(ids(store.search_audit(&by, &Page::first(10)).await.unwrap()), vec![0, 2]);
    let nobody = AuditFilter { actor: Some("usr_z".into()), ..Default::default() };
    assert!(store.search_audit(&nobody, &Page::first(10)).await.unwrap().is_empty());
    let pages = |filter: AuditFilter, size: u32| async move {
        let mut page = Page::first(size);
        let mut seen = Vec::new();
        loop {
            let rows = store.search_audit(&filter, &page).await.unwrap();
            assert!(rows.len() <= size as usize);
            let Some(last) = rows.last() else { break };
            page.after = Some(last.index.to_string());
            seen.extend(rows.iter().map(|e| e.index));
        }
        seen
    };
    let window =
        AuditFilter { since: Some(Timestamp(T0.0 + 10)), until: Some(Timestamp(T0.0 + 20)), ..Default::default() };
    assert_eq!(pages(window, 4).await, (10..20).collect::<Vec<u64>>(), "cursor pages over a time window");
    // Every odd entry from 5 to 1003 is usr_c's `whoami`; pages of 97 cross the index head.
    let whoami = AuditFilter { actor: Some("usr_c".into()), action: Some("whoami".into()), ..Default::default() };
    assert_eq!(pages(whoami, 97).await, (5..1004).step_by(2).collect::<Vec<u64>>());
    let d = AuditFilter { actor: Some("usr_d".into()), ..Default::default() };
    assert_eq!(pages(d, 3).await, (1004..1012).collect::<Vec<u64>>());
}
