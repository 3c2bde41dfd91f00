//! The behaviour every engine must show. Each engine's tests call [`run`] on a fresh,
//! empty store; a failure panics with the name of the broken rule.

use std::collections::BTreeSet;

use serde_json::json;
use warden_core::{
    ArtifactId, DatasetId, DeletionId, GroupId, ModelId, PrincipalKind, ProjectId, ReleaseId, Role, SubjectId,
    Timestamp, TokenId, TransferId, UploadId,
};

use crate::*;

const T0: Timestamp = Timestamp(1_700_000_000_000);

fn human(name: &str) -> SubjectRecord {
    SubjectRecord::new(SubjectId::generate_user(T0.0), PrincipalKind::Human, name, T0)
}

fn token_for(subject: &SubjectId, hash: &str) -> TokenRecord {
    TokenRecord {
        id: TokenId::generate(T0.0),
        subject: subject.clone(),
        name: "t".into(),
        hash: hash.into(),
        project: None,
        role: None,
        mfa: false,
        created_at: T0,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        data_class: None,
        zone: None,
        parent: None,
    }
}

/// Runs every check against an empty store.
pub async fn run(store: &dyn Store) {
    store.ping().await.expect("ping answers");
    bootstrap_once(store).await;
    subjects(store).await;
    lockout(store).await;
    totp(store).await;
    tokens(store).await;
    projects_and_isolation(store).await;
    groups_and_roles(store).await;
    audit(store).await;
    blobs(store).await;
    uploads(store).await;
    switches(store).await;
    providers(store).await;
    counters(store).await;
    registry(store).await;
    signers(store).await;
    policy_versions(store).await;
    releases(store).await;
    catalog_and_lineage(store).await;
}

async fn bootstrap_once(store: &dyn Store) {
    assert_eq!(store.count_subjects().await.unwrap(), 0, "store starts empty");
    let admin = human("admin");
    let grant = RoleGrantRecord {
        member: MemberRef::Subject(admin.id.clone()),
        role: Role::PlatformAdmin,
        granted_at: T0,
        granted_by: None,
    };
    let tok = token_for(&admin.id, "bootstrap-hash");
    assert!(store.bootstrap(&admin, &grant, &tok).await.unwrap(), "first bootstrap writes");
    let again = human("admin2");
    let grant2 = RoleGrantRecord { member: MemberRef::Subject(again.id.clone()), ..grant.clone() };
    let tok2 = token_for(&again.id, "other-hash");
    assert!(!store.bootstrap(&again, &grant2, &tok2).await.unwrap(), "second bootstrap is refused");
    assert!(store.get_subject_by_name("admin2").await.unwrap().is_none(), "refused bootstrap writes nothing");
    assert!(store.find_token_by_hash("other-hash").await.unwrap().is_none());
    let roles = store.org_roles(&admin.id).await.unwrap();
    assert_eq!(roles, [Role::PlatformAdmin].into_iter().collect::<BTreeSet<_>>());
    assert_eq!(store.find_token_by_hash("bootstrap-hash").await.unwrap().unwrap().subject, admin.id);
}

async fn subjects(store: &dyn Store) {
    let mut alice = human("alice");
    alice.email = Some("alice@example.com".into());
    alice.password_hash = Some("$argon2id$x".into());
    alice.oidc_issuer = Some("https://idp".into());
    alice.oidc_subject = Some("sub-1".into());
    store.create_subject(&alice).await.unwrap();
    assert_eq!(store.get_subject(&alice.id).await.unwrap().as_ref(), Some(&alice), "round trip");
    assert_eq!(store.get_subject_by_name("alice").await.unwrap().as_ref(), Some(&alice));
    assert_eq!(store.get_subject_by_oidc("https://idp", "sub-1").await.unwrap().as_ref(), Some(&alice));
    assert!(store.get_subject_by_oidc("https://idp", "sub-2").await.unwrap().is_none());
    let dup = human("alice");
    assert!(matches!(store.create_subject(&dup).await, Err(StoreError::Conflict(_))), "names are unique");

    let svc = SubjectRecord::new(SubjectId::generate_service(T0.0), PrincipalKind::Service, "etl", T0);
    store.create_subject(&svc).await.unwrap();
    let services = store.list_subjects(Some(PrincipalKind::Service), &Page::first(100)).await.unwrap();
    assert_eq!(services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["etl"]);
    let all = store.list_subjects(None, &Page::first(100)).await.unwrap();
    assert!(all.len() >= 3);
    // Cursor pagination visits every row exactly once, in id order.
    let mut seen = Vec::new();
    let mut page = Page::first(1);
    loop {
        let rows = store.list_subjects(None, &page).await.unwrap();
        let Some(last) = rows.last() else { break };
        page.after = Some(last.id.to_string());
        seen.extend(rows.into_iter().map(|r| r.id));
    }
    assert_eq!(seen, all.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), "cursor pages");

    assert!(store.set_disabled(&alice.id, true).await.unwrap());
    assert!(store.get_subject(&alice.id).await.unwrap().unwrap().disabled);
    assert!(!store.set_disabled(&SubjectId::generate_user(1), true).await.unwrap(), "unknown subject");
    store.set_disabled(&alice.id, false).await.unwrap();
}

async fn lockout(store: &dyn Store) {
    let bob = human("bob");
    store.create_subject(&bob).await.unwrap();
    let until = T0.plus_seconds(900);
    assert_eq!(store.record_failure(&bob.id, 3, until).await.unwrap(), 1);
    assert_eq!(store.record_failure(&bob.id, 3, until).await.unwrap(), 2);
    assert!(!store.get_subject(&bob.id).await.unwrap().unwrap().is_locked(T0), "not locked before the limit");
    assert_eq!(store.record_failure(&bob.id, 3, until).await.unwrap(), 3);
    let locked = store.get_subject(&bob.id).await.unwrap().unwrap();
    assert!(locked.is_locked(T0), "locked at the limit");
    assert!(!locked.is_locked(until), "lock expires");
    store.reset_failures(&bob.id).await.unwrap();
    let reset = store.get_subject(&bob.id).await.unwrap().unwrap();
    assert_eq!((reset.failed_attempts, reset.locked_until), (0, None));
}

async fn totp(store: &dyn Store) {
    let carol = human("carol");
    store.create_subject(&carol).await.unwrap();
    assert!(!store.confirm_totp(&carol.id, 10).await.unwrap(), "cannot confirm without a pending secret");
    assert!(store.set_totp_pending(&carol.id, "SECRET").await.unwrap());
    let pending = store.get_subject(&carol.id).await.unwrap().unwrap();
    assert_eq!((pending.totp_secret.as_deref(), pending.totp_enrolled), (Some("SECRET"), false));
    // Secrets still in clear are found, and replaced only if unchanged meanwhile.
    let clear = store.totp_secrets_in_clear().await.unwrap();
    assert!(clear.iter().any(|(id, s)| *id == pending.id && s == "SECRET"), "{clear:?}");
    assert!(!store.replace_totp_secret(&pending.id, "OTHER", "sealed:x").await.unwrap());
    assert!(store.replace_totp_secret(&pending.id, "SECRET", "sealed:x").await.unwrap());
    assert!(!store.totp_secrets_in_clear().await.unwrap().iter().any(|(id, _)| *id == pending.id));
    assert!(store.replace_totp_secret(&pending.id, "sealed:x", "SECRET").await.unwrap());
    assert!(store.confirm_totp(&carol.id, 10).await.unwrap());
    assert!(store.get_subject(&carol.id).await.unwrap().unwrap().totp_enrolled);
    assert!(!store.use_totp_step(&carol.id, 10).await.unwrap(), "a used step cannot be replayed");
    assert!(store.use_totp_step(&carol.id, 11).await.unwrap());
    assert!(!store.use_totp_step(&carol.id, 9).await.unwrap(), "older steps are refused");
}

async fn tokens(store: &dyn Store) {
    let dave = human("dave");
    store.create_subject(&dave).await.unwrap();
    let mut t = token_for(&dave.id, "hash-dave");
    t.role = Some(Role::Auditor);
    t.expires_at = Some(T0.plus_seconds(60));
    store.create_token(&t).await.unwrap();
    assert_eq!(store.get_token(&t.id).await.unwrap().as_ref(), Some(&t));
    assert_eq!(store.find_token_by_hash("hash-dave").await.unwrap().as_ref(), Some(&t));
    let dup = token_for(&dave.id, "hash-dave");
    assert!(matches!(store.create_token(&dup).await, Err(StoreError::Conflict(_))), "hashes are unique");
    let orphan = token_for(&SubjectId::generate_user(1), "hash-orphan");
    assert!(matches!(store.create_token(&orphan).await, Err(StoreError::Missing(_))), "tokens need a subject");
    assert!(t.is_usable(T0));
    assert!(!t.is_usable(T0.plus_seconds(61)), "expired");
    store.touch_token(&t.id, T0.plus_seconds(5)).await.unwrap();
    assert_eq!(store.get_token(&t.id).await.unwrap().unwrap().last_used_at, Some(T0.plus_seconds(5)));
    assert_eq!(store.revoke_token(&t.id, T0.plus_seconds(6)).await.unwrap(), 1);
    assert_eq!(store.revoke_token(&t.id, T0.plus_seconds(7)).await.unwrap(), 0, "revoking twice changes nothing");
    let revoked = store.get_token(&t.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0.plus_seconds(6)));
    assert!(!revoked.is_usable(T0));
    let listed = store.list_tokens(&dave.id, &Page::first(10)).await.unwrap();
    assert_eq!(listed.len(), 1);
    token_chains(store, &dave.id).await;
}

/// Revoking a token revokes what was minted from it, down a chain, and nothing beside it.
async fn token_chains(store: &dyn Store, owner: &SubjectId) {
    let root = token_for(owner, "hash-root");
    let mut child = token_for(owner, "hash-child");
    child.parent = Some(root.id.clone());
    let mut grandchild = token_for(owner, "hash-grandchild");
    grandchild.parent = Some(child.id.clone());
    let mut sibling = token_for(owner, "hash-sibling");
    sibling.parent = Some(root.id.clone());
    let unrelated = token_for(owner, "hash-unrelated");
    for t in [&root, &child, &grandchild, &sibling, &unrelated] {
        store.create_token(t).await.unwrap();
    }
    assert_eq!(store.get_token(&grandchild.id).await.unwrap().unwrap().parent.as_ref(), Some(&child.id));
    // Revoking the middle of the chain reaches down, not up or sideways.
    assert_eq!(store.revoke_token(&child.id, T0.plus_seconds(1)).await.unwrap(), 2);
    let state = |id: TokenId| async move { store.get_token(&id).await.unwrap().unwrap().revoked_at.is_some() };
    assert!(state(child.id.clone()).await && state(grandchild.id.clone()).await);
    assert!(!state(root.id.clone()).await && !state(sibling.id.clone()).await && !state(unrelated.id.clone()).await);
    // Revoking the root reaches what is left below it; the already revoked keep their time.
    assert_eq!(store.revoke_token(&root.id, T0.plus_seconds(2)).await.unwrap(), 2);
    assert!(state(sibling.id.clone()).await);
    assert_eq!(store.get_token(&grandchild.id).await.unwrap().unwrap().revoked_at, Some(T0.plus_seconds(1)));
    assert!(!state(unrelated.id.clone()).await);
}

async fn projects_and_isolation(store: &dyn Store) {
    let owner = human("erin");
    let outsider = human("frank");
    store.create_subject(&owner).await.unwrap();
    store.create_subject(&outsider).await.unwrap();
    let p = ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: "fraud-models".into(),
        description: "card fraud".into(),
        cost_centre: Some("CC-42".into()),
        created_at: T0,
        created_by: owner.id.clone(),
    };
    let m = MembershipRecord {
        project: p.id.clone(),
        member: MemberRef::Subject(owner.id.clone()),
        role: Role::ProjectOwner,
        added_at: T0,
        added_by: owner.id.clone(),
    };
    store.create_project(&p, std::slice::from_ref(&m)).await.unwrap();
    assert_eq!(store.get_project(&p.id).await.unwrap().as_ref(), Some(&p));
    assert_eq!(store.list_members(&p.id).await.unwrap(), vec![m.clone()]);

    // A failing member insert leaves no project behind.
    let q = ProjectRecord { id: ProjectId::generate(T0.0), name: "half".into(), ..p.clone() };
    let bad = MembershipRecord { project: q.id.clone(), ..m.clone() };
    let dup = bad.clone();
    assert!(store.create_project(&q, &[bad, dup]).await.is_err());
    assert!(store.get_project(&q.id).await.unwrap().is_none(), "nothing half-written");

    let same_name = ProjectRecord { id: ProjectId::generate(T0.0), ..p.clone() };
    assert!(matches!(store.create_project(&same_name, &[]).await, Err(StoreError::Conflict(_))));

    let mine = store.list_projects_of(&owner.id, &Page::first(10)).await.unwrap();
    assert_eq!(mine.iter().map(|x| &x.id).collect::<Vec<_>>(), vec![&p.id]);
    assert!(store.list_projects_of(&outsider.id, &Page::first(10)).await.unwrap().is_empty(), "isolation");
    assert!(store.project_roles(&p.id, &outsider.id).await.unwrap().is_empty());

    let ds =
        MembershipRecord { member: MemberRef::Subject(outsider.id.clone()), role: Role::DataScientist, ..m.clone() };
    store.add_member(&ds).await.unwrap();
    assert!(matches!(store.add_member(&ds).await, Err(StoreError::Conflict(_))));
    assert_eq!(
        store.project_roles(&p.id, &outsider.id).await.unwrap(),
        [Role::DataScientist].into_iter().collect::<BTreeSet<_>>()
    );
    assert!(store.remove_member(&p.id, &ds.member, Role::DataScientist).await.unwrap());
    assert!(!store.remove_member(&p.id, &ds.member, Role::DataScientist).await.unwrap());
    assert!(store.list_projects(&Page::first(10)).await.unwrap().iter().any(|x| x.id == p.id));
}

async fn groups_and_roles(store: &dyn Store) {
    let gina = human("gina");
    store.create_subject(&gina).await.unwrap();
    let g = GroupRecord {
        id: GroupId::generate(T0.0),
        name: "risk-team".into(),
        description: String::new(),
        created_at: T0,
    };
    store.create_group(&g).await.unwrap();
    assert_eq!(store.get_group(&g.id).await.unwrap().as_ref(), Some(&g));
    assert!(matches!(
        store.create_group(&GroupRecord { id: GroupId::generate(T0.0), ..g.clone() }).await,
        Err(StoreError::Conflict(_))
    ));
    store.add_group_member(&g.id, &gina.id, T0).await.unwrap();
    assert_eq!(store.list_group_members(&g.id).await.unwrap(), vec![gina.id.clone()]);

    // Roles through the group.
    let grant = RoleGrantRecord {
        member: MemberRef::Group(g.id.clone()),
        role: Role::Auditor,
        granted_at: T0,
        granted_by: None,
    };
    store.grant_role(&grant).await.unwrap();
    assert!(matches!(store.grant_role(&grant).await, Err(StoreError::Conflict(_))));
    assert!(store.org_roles(&gina.id).await.unwrap().contains(&Role::Auditor));
    assert_eq!(store.list_role_grants(&grant.member).await.unwrap(), vec![grant.clone()]);

    // Project membership through the group.
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let m = MembershipRecord {
        project: p.id.clone(),
        member: MemberRef::Group(g.id.clone()),
        role: Role::Approver,
        added_at: T0,
        added_by: gina.id.clone(),
    };
    store.add_member(&m).await.unwrap();
    assert!(store.project_roles(&p.id, &gina.id).await.unwrap().contains(&Role::Approver));
    assert_eq!(store.list_projects_of(&gina.id, &Page::first(10)).await.unwrap().len(), 1);

    // Leaving the group takes its roles away.
    assert!(store.remove_group_member(&g.id, &gina.id).await.unwrap());
    assert!(store.org_roles(&gina.id).await.unwrap().is_empty());
    assert!(store.project_roles(&p.id, &gina.id).await.unwrap().is_empty());
    assert!(store.revoke_role(&grant.member, Role::Auditor).await.unwrap());
    assert!(!store.revoke_role(&grant.member, Role::Auditor).await.unwrap());
    assert_eq!(store.list_groups(&Page::first(10)).await.unwrap().len(), 1);
}

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

async fn audit(store: &dyn Store) {
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
}

async fn search_checks(store: &dyn Store) {
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

async fn blobs(store: &dyn Store) {
    let owner = human("blob-owner");
    store.create_subject(&owner).await.unwrap();
    let mk = |name: &str| ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: name.into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: owner.id.clone(),
    };
    let (a, b) = (mk("blobs-a"), mk("blobs-b"));
    store.create_project(&a, &[]).await.unwrap();
    store.create_project(&b, &[]).await.unwrap();
    let d = format!("sha256:{}", "ab".repeat(32));
    store.record_blob(&a.id, &d, 42, &owner.id, T0).await.unwrap();
    store.record_blob(&a.id, &d, 42, &owner.id, T0).await.unwrap();
    assert_eq!(store.project_blob(&a.id, &d).await.unwrap(), Some(42));
    assert_eq!(store.project_blob(&b.id, &d).await.unwrap(), None, "blobs are visible per project");
    store.record_blob(&b.id, &d, 42, &owner.id, T0).await.unwrap();
    assert_eq!(store.project_blob(&b.id, &d).await.unwrap(), Some(42));
    let ghost = ProjectId::generate(T0.0);
    assert!(store.record_blob(&ghost, &d, 42, &owner.id, T0).await.is_err(), "only for projects that exist");
}

async fn counters(store: &dyn Store) {
    let admin = human("budget-admin");
    store.create_subject(&admin).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    store.set_budget(&p.id, "day", Some(1000), &admin.id, T0).await.unwrap();
    store.set_budget(&p.id, "month", Some(20_000), &admin.id, T0).await.unwrap();
    store.set_budget(&p.id, "day", Some(1500), &admin.id, T0).await.unwrap();
    assert_eq!(store.budgets(&p.id).await.unwrap(), vec![("day".to_string(), 1500), ("month".to_string(), 20_000)]);
    store.set_budget(&p.id, "month", None, &admin.id, T0).await.unwrap();
    assert_eq!(store.budgets(&p.id).await.unwrap().len(), 1);
    assert!(store.set_budget(&p.id, "week", Some(1), &admin.id, T0).await.is_err(), "day or month");

    assert_eq!(store.counter("s", 1).await.unwrap(), 0);
    assert!(store.reserve("s", 1, 600, 1000).await.unwrap());
    assert!(!store.reserve("s", 1, 500, 1000).await.unwrap(), "would pass the limit");
    assert!(store.reserve("s", 1, 400, 1000).await.unwrap(), "exactly the limit");
    assert!(store.reserve("s", 2, 1000, 1000).await.unwrap(), "a new window starts from zero");
    store.adjust("s", 1, -300).await.unwrap();
    assert_eq!(store.counter("s", 1).await.unwrap(), 700);
    // Racing reservations: never past the limit.
    let tries: Vec<_> = (0..20).map(|_| store.reserve("race", 1, 100, 1000)).collect();
    let won = futures_util::future::join_all(tries).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(won, 10);
    assert_eq!(store.counter("race", 1).await.unwrap(), 1000);
}

async fn providers(store: &dyn Store) {
    let admin = human("provider-admin");
    store.create_subject(&admin).await.unwrap();
    let first = ProviderRecord {
        name: "openai-eu".into(),
        base_url: "https://eu.example/v1".into(),
        region: "eu-west".into(),
        external: true,
        models: vec!["gpt-a".into(), "gpt-b".into()],
        prices: r#"{"*":{"input":1.0,"output":2.0}}"#.into(),
        key_nonce: Some(vec![1; 12]),
        key_sealed: Some(vec![9, 8, 7]),
        created_by: admin.id.clone(),
        created_at: T0,
        updated_by: admin.id.clone(),
        updated_at: T0,
        revision: 1,
    };
    assert!(store.list_providers().await.unwrap().is_empty());
    assert!(store.put_provider(&first).await.unwrap());
    assert!(!store.put_provider(&first).await.unwrap(), "a second create of the name is refused");
    assert_eq!(store.list_providers().await.unwrap(), vec![first.clone()]);
    // A replace must name the revision it read.
    let second =
        ProviderRecord { region: "eu-central".into(), key_nonce: None, key_sealed: None, revision: 2, ..first.clone() };
    assert!(store.put_provider(&second).await.unwrap());
    assert!(!store.put_provider(&second).await.unwrap(), "a stale revision is refused");
    let stale = ProviderRecord { region: "us-east".into(), revision: 5, ..first.clone() };
    assert!(!store.put_provider(&stale).await.unwrap());
    assert_eq!(store.list_providers().await.unwrap(), vec![second]);
    assert!(store.delete_provider("openai-eu").await.unwrap());
    assert!(!store.delete_provider("openai-eu").await.unwrap());
    assert!(store.list_providers().await.unwrap().is_empty());
}

async fn switches(store: &dyn Store) {
    let admin = human("switch-admin");
    store.create_subject(&admin).await.unwrap();
    let sw = |target: &str, reason: &str| SwitchRecord {
        target: target.into(),
        reason: reason.into(),
        set_by: admin.id.clone(),
        set_at: T0,
    };
    assert!(store.list_switches().await.unwrap().is_empty());
    store.set_switch(&sw("external", "incident 42")).await.unwrap();
    store.set_switch(&sw("provider:openai-eu", "key leaked")).await.unwrap();
    store.set_switch(&sw("external", "incident 43")).await.unwrap();
    let on = store.list_switches().await.unwrap();
    assert_eq!(on, vec![sw("external", "incident 43"), sw("provider:openai-eu", "key leaked")]);
    assert!(store.clear_switch("external").await.unwrap());
    assert!(!store.clear_switch("external").await.unwrap());
    assert_eq!(store.list_switches().await.unwrap().len(), 1);
    store.clear_switch("provider:openai-eu").await.unwrap();
}

async fn uploads(store: &dyn Store) {
    let owner = human("upload-owner");
    store.create_subject(&owner).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let mk = |expires: i64| UploadRecord {
        id: UploadId::generate(T0.0),
        project: p.id.clone(),
        created_by: owner.id.clone(),
        created_at: T0,
        expires_at: Timestamp(expires),
        size: 0,
    };
    let u = mk(T0.0 + 1000);
    store.create_upload(&u).await.unwrap();
    assert_eq!(store.get_upload(&u.id).await.unwrap(), Some(u.clone()));
    let part = |offset: u64, size: u64| UploadPartRecord { offset, size, object: format!("uploads/x/{offset}") };
    assert!(store.add_upload_part(&u.id, &part(0, 10)).await.unwrap());
    assert!(!store.add_upload_part(&u.id, &part(0, 10)).await.unwrap(), "offset 0 is taken");
    assert!(!store.add_upload_part(&u.id, &part(11, 5)).await.unwrap(), "no gaps");
    assert!(store.add_upload_part(&u.id, &part(10, 5)).await.unwrap());
    assert_eq!(store.get_upload(&u.id).await.unwrap().unwrap().size, 15);
    assert_eq!(store.list_upload_parts(&u.id).await.unwrap(), vec![part(0, 10), part(10, 5)]);
    // Two writers racing for the same offset: exactly one lands.
    let (p1, p2) = (part(15, 1), part(15, 2));
    let (a, b) = tokio::join!(store.add_upload_part(&u.id, &p1), store.add_upload_part(&u.id, &p2));
    assert!(a.unwrap() ^ b.unwrap(), "one of two racing parts lands");

    let old = mk(T0.0 - 1);
    store.create_upload(&old).await.unwrap();
    assert_eq!(store.expired_uploads(T0, 10).await.unwrap(), vec![old.id.clone()]);
    let mut objects = store.delete_upload(&u.id).await.unwrap();
    objects.sort();
    assert_eq!(&objects[..2], &["uploads/x/0".to_string(), "uploads/x/10".to_string()]);
    assert_eq!(store.get_upload(&u.id).await.unwrap(), None);
    assert!(store.list_upload_parts(&u.id).await.unwrap().is_empty());
    assert!(store.delete_upload(&u.id).await.unwrap().is_empty(), "deleting twice is harmless");
    store.delete_upload(&old.id).await.unwrap();
    assert!(store.expired_uploads(Timestamp(i64::MAX), 10).await.unwrap().is_empty());
}

async fn registry(store: &dyn Store) {
    let owner = human("registry-owner");
    store.create_subject(&owner).await.unwrap();
    let p = ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: "registry".into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: owner.id.clone(),
    };
    store.create_project(&p, &[]).await.unwrap();
    let a = ArtifactRecord {
        id: ArtifactId::generate(T0.0),
        project: p.id.clone(),
        kind: "model".into(),
        name: "fraud".into(),
        manifest: r#"{"files":[{"digest":"sha256:aa","path":"m.bin","size":10}]}"#.into(),
        manifest_digest: "sha256:00".into(),
        total_size: 10,
        verdict: "admitted".into(),
        evidence: json!({"reasons": []}),
        expires_at: Some(T0.plus_seconds(3600)),
        created_by: owner.id.clone(),
        created_at: T0,
    };
    store.create_artifact(&a).await.unwrap();
    assert_eq!(store.get_artifact(&p.id, &a.id).await.unwrap().as_ref(), Some(&a));
    assert!(store.get_artifact(&ProjectId::generate(1), &a.id).await.unwrap().is_none(), "scoped to the project");
    assert!(matches!(store.create_artifact(&a).await, Err(StoreError::Conflict(_))), "records are written once");
    assert_eq!(store.list_artifacts(&p.id, &Page::first(10)).await.unwrap().len(), 1);
    for (d, n, why) in [
        ("sha256:aa", 1, "found by a file's digest"),
        ("sha256:a", 0, "whole digests only"),
        ("sha256:a%", 0, "no wildcards"),
    ] {
        assert_eq!(store.artifacts_with_blob(&p.id, d).await.unwrap().len(), n, "{why}");
    }

    let m = ModelRecord {
        id: ModelId::generate(T0.0),
        project: p.id.clone(),
        name: "fraud".into(),
        created_by: owner.id.clone(),
        created_at: T0,
    };
    let got = store.ensure_model(&m).await.unwrap();
    let again = store.ensure_model(&ModelRecord { id: ModelId::generate(T0.0), ..m.clone() }).await.unwrap();
    assert_eq!(got.id, again.id, "one model per name and project");
    let lineage = VersionLineage {
        runs: vec!["run-7".into()],
        datasets: vec!["claims-2025".into()],
        data_classes: vec!["personal_data".into()],
    };
    let v1 = store.add_model_version(&got.id, &a.id, &lineage, &owner.id, T0).await.unwrap();
    let v2 = store.add_model_version(&got.id, &a.id, &VersionLineage::default(), &owner.id, T0).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let versions = store.list_model_versions(&got.id).await.unwrap();
    assert_eq!(versions, vec![v1.clone(), v2.clone()]);
    assert_eq!(versions[0].lineage, lineage, "lineage round-trips");
    assert_eq!(store.list_models(&p.id, &Page::first(10)).await.unwrap().len(), 1);
    assert!(
        store.add_model_version(&got.id, &ArtifactId::generate(1), &lineage, &owner.id, T0).await.is_err(),
        "versions need an artifact"
    );

    // Aliases point at existing versions and move; tags label versions.
    let alias = |name: &str, version: u64| ModelAliasRecord {
        alias: name.into(),
        version,
        updated_by: owner.id.clone(),
        updated_at: T0,
    };
    store.set_model_alias(&got.id, &alias("champion", 1)).await.unwrap();
    store.set_model_alias(&got.id, &alias("challenger", 2)).await.unwrap();
    store.set_model_alias(&got.id, &alias("champion", 2)).await.unwrap();
    let aliases = store.list_model_aliases(&got.id).await.unwrap();
    assert_eq!(
        aliases.iter().map(|a| (a.alias.as_str(), a.version)).collect::<Vec<_>>(),
        vec![("challenger", 2), ("champion", 2)]
    );
    assert!(store.set_model_alias(&got.id, &alias("ghost", 9)).await.is_err(), "only to a version that exists");
    assert!(store.delete_model_alias(&got.id, "challenger").await.unwrap());
    assert!(!store.delete_model_alias(&got.id, "challenger").await.unwrap());
    assert_eq!(store.list_model_aliases(&got.id).await.unwrap().len(), 1);

    let tag = |version: u64, key: &str, value: &str| ModelTagRecord {
        version,
        key: key.into(),
        value: value.into(),
        updated_by: owner.id.clone(),
        updated_at: T0,
    };
    store.set_model_tag(&got.id, &tag(1, "validated", "no")).await.unwrap();
    store.set_model_tag(&got.id, &tag(1, "validated", "yes")).await.unwrap();
    store.set_model_tag(&got.id, &tag(2, "owner", "risk-team")).await.unwrap();
    assert!(store.set_model_tag(&got.id, &tag(9, "k", "v")).await.is_err(), "only on a version that exists");
    let tags = store.list_model_tags(&got.id).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| (t.version, t.key.as_str(), t.value.as_str())).collect::<Vec<_>>(),
        vec![(1, "validated", "yes"), (2, "owner", "risk-team")]
    );
    assert!(store.delete_model_tag(&got.id, 1, "validated").await.unwrap());
    assert!(!store.delete_model_tag(&got.id, 1, "validated").await.unwrap());
    assert_eq!(store.list_model_versions(&got.id).await.unwrap(), versions, "versions untouched by labels");
}

async fn signers(store: &dyn Store) {
    let admin = human("signer-admin");
    store.create_subject(&admin).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let mk = |project: Option<ProjectId>| SignerRecord {
        id: SignerId::generate(T0.0),
        project,
        name: "release-key".into(),
        algorithm: "ed25519".into(),
        public_key: "PEM".into(),
        not_before: Some(T0),
        not_after: Some(T0.plus_seconds(3600)),
        revoked_at: None,
        created_by: admin.id.clone(),
        created_at: T0,
    };
    let org = mk(None);
    let scoped = mk(Some(p.id.clone()));
    store.create_signer(&org).await.unwrap();
    store.create_signer(&scoped).await.unwrap();
    assert_eq!(store.get_signer(&org.id).await.unwrap().as_ref(), Some(&org));
    assert_eq!(store.list_signers(None).await.unwrap().len(), 1, "without a project: organisation signers");
    assert_eq!(store.list_signers(Some(&p.id)).await.unwrap().len(), 2);
    assert!(scoped.trusted_for(&p.id, T0));
    assert!(!scoped.trusted_for(&ProjectId::generate(1), T0), "project signers only for their project");
    assert!(!org.trusted_for(&p.id, T0.plus_seconds(3600)), "expired");
    assert!(!org.trusted_for(&p.id, Timestamp(T0.0 - 1)), "not yet valid");
    assert!(store.revoke_signer(&org.id, T0.plus_seconds(10)).await.unwrap());
    assert!(!store.revoke_signer(&org.id, T0.plus_seconds(20)).await.unwrap());
    let revoked = store.get_signer(&org.id).await.unwrap().unwrap();
    assert!(revoked.trusted_for(&p.id, T0.plus_seconds(5)) && !revoked.trusted_for(&p.id, T0.plus_seconds(10)));
}

async fn policy_versions(store: &dyn Store) {
    let admin = human("policy-admin");
    store.create_subject(&admin).await.unwrap();
    assert!(store.latest_policy().await.unwrap().is_none());
    let v = |version: u64, restored_from: Option<u64>| PolicyVersionRecord {
        version,
        document: format!("zones: {{}} # {version}"),
        digest: format!("sha256:{version}"),
        comment: "c".into(),
        created_by: admin.id.clone(),
        created_at: T0,
        restored_from,
    };
    assert!(!store.add_policy_version(&v(2, None)).await.unwrap(), "versions start at 1 and have no gaps");
    assert!(store.add_policy_version(&v(1, None)).await.unwrap());
    assert!(!store.add_policy_version(&v(1, None)).await.unwrap(), "a version is applied once");
    assert!(store.add_policy_version(&v(2, None)).await.unwrap());
    assert!(store.add_policy_version(&v(3, Some(1))).await.unwrap());
    assert_eq!(store.latest_policy().await.unwrap(), Some(v(3, Some(1))));
    assert_eq!(store.get_policy_version(2).await.unwrap(), Some(v(2, None)));
    let all: Vec<u64> = store.list_policy_versions(10).await.unwrap().iter().map(|v| v.version).collect();
    assert_eq!(all, [3, 2, 1]);
}

async fn releases(store: &dyn Store) {
    let author = human("release-author");
    let alice = human("approver-alice");
    let bob = human("approver-bob");
    for s in [&author, &alice, &bob] {
        store.create_subject(s).await.unwrap();
    }
    let p = ProjectRecord {
        id: ProjectId::generate(T0.0),
        name: "releases".into(),
        description: String::new(),
        cost_centre: None,
        created_at: T0,
        created_by: author.id.clone(),
    };
    store.create_project(&p, &[]).await.unwrap();
    let a = ArtifactRecord {
        id: ArtifactId::generate(T0.0),
        project: p.id.clone(),
        kind: "model".into(),
        name: "scorer".into(),
        manifest: "{}".into(),
        manifest_digest: "sha256:01".into(),
        total_size: 1,
        verdict: "admitted".into(),
        evidence: json!({}),
        expires_at: None,
        created_by: author.id.clone(),
        created_at: T0,
    };
    store.create_artifact(&a).await.unwrap();
    let m = store
        .ensure_model(&ModelRecord {
            id: ModelId::generate(T0.0),
            project: p.id.clone(),
            name: "scorer".into(),
            created_by: author.id.clone(),
            created_at: T0,
        })
        .await
        .unwrap();
    for _ in 0..2 {
        store.add_model_version(&m.id, &a.id, &VersionLineage::default(), &author.id, T0).await.unwrap();
    }

    // Evaluations are numbered per version and only for versions that exist.
    let eval = |version: u64, auc: f64| EvaluationRecord {
        model: m.id.clone(),
        version,
        seq: 0,
        metrics: [("auc".to_string(), auc)].into(),
        report: Some("sha256:ab".into()),
        dataset: None,
        added_by: author.id.clone(),
        added_at: T0,
    };
    assert_eq!(store.add_evaluation(&eval(1, 0.7)).await.unwrap().seq, 1);
    assert_eq!(store.add_evaluation(&eval(1, 0.9)).await.unwrap().seq, 2);
    assert!(store.add_evaluation(&eval(9, 0.9)).await.is_err());
    assert_eq!(store.list_evaluations(&m.id, 1).await.unwrap()[1].metrics["auc"], 0.9);

    let release = |version: u64, at: Timestamp| ReleaseRecord {
        id: ReleaseId::generate(at.0),
        project: p.id.clone(),
        model: m.id.clone(),
        version,
        zone: "hipaa-ai".into(),
        kind: "release".into(),
        reason: "r".into(),
        status: "pending".into(),
        gate: "{}".into(),
        approvals_required: 2,
        approver_role: "approver".into(),
        policy_version: 1,
        created_by: author.id.clone(),
        created_at: at,
        deployed_by: None,
        deployed_at: None,
        previous: None,
        manifest: None,
        needs_review: false,
        reviewed_by: None,
        reviewed_at: None,
    };
    let decision = |who: &SubjectId, d: &str| ApprovalRecord {
        approver: who.clone(),
        decision: d.into(),
        comment: String::new(),
        mfa: true,
        at: T0,
        withdrawn_at: None,
    };
    let r1 = release(1, T0);
    store.create_release(&r1).await.unwrap();
    assert_eq!(store.get_release(&p.id, &r1.id).await.unwrap().as_ref(), Some(&r1));
    assert!(store.get_release(&ProjectId::generate(1), &r1.id).await.unwrap().is_none(), "scoped to its project");
    assert!(store.decide_release(&r1.id, &decision(&alice.id, "approve")).await.unwrap());
    assert!(
        matches!(store.decide_release(&r1.id, &decision(&alice.id, "approve")).await, Err(StoreError::Conflict(_))),
        "one standing decision per approver"
    );
    assert!(store.withdraw_approval(&r1.id, &alice.id, T0).await.unwrap());
    assert!(!store.withdraw_approval(&r1.id, &alice.id, T0).await.unwrap(), "nothing standing to withdraw");
    assert!(
        store.decide_release(&r1.id, &decision(&alice.id, "approve")).await.unwrap(),
        "approve again after withdrawing"
    );
    assert!(store.decide_release(&r1.id, &decision(&bob.id, "approve")).await.unwrap());

    let deploy = |r: &ReleaseRecord, approvers: Vec<SubjectId>, after_seq: u64, at: Timestamp| Deployment {
        release: r.id.clone(),
        project: p.id.clone(),
        zone: r.zone.clone(),
        model: m.id.clone(),
        version: r.version,
        approvers,
        after_seq,
        previous: None,
        manifest: "{\"signed\":true}".into(),
        by: author.id.clone(),
        at,
        break_glass: false,
    };
    let both = vec![bob.id.clone(), alice.id.clone()];
    assert!(!store.deploy_release(&deploy(&r1, vec![alice.id.clone()], 0, T0)).await.unwrap(), "approvals must match");
    assert!(!store.deploy_release(&deploy(&r1, both.clone(), 3, T0)).await.unwrap(), "history must match");
    let t1 = T0.plus_seconds(60);
    assert!(store.deploy_release(&deploy(&r1, both.clone(), 0, t1)).await.unwrap());
    assert!(!store.deploy_release(&deploy(&r1, both.clone(), 1, t1)).await.unwrap(), "deployed once");
    assert!(
        !store.decide_release(&r1.id, &decision(&author.id, "approve")).await.unwrap(),
        "no decisions after deploy"
    );
    let got = store.get_release(&p.id, &r1.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status.as_str(), got.deployed_at, got.manifest.as_deref()),
        ("deployed", Some(t1), Some("{\"signed\":true}"))
    );

    // A rejection ends a release.
    let r2 = release(2, T0.plus_seconds(1));
    store.create_release(&r2).await.unwrap();
    assert!(store.decide_release(&r2.id, &decision(&alice.id, "reject")).await.unwrap());
    assert!(!store.decide_release(&r2.id, &decision(&bob.id, "approve")).await.unwrap(), "nothing after a rejection");
    assert_eq!(store.get_release(&p.id, &r2.id).await.unwrap().unwrap().status, "rejected");

    // Break-glass needs no approvals and stays flagged until reviewed.
    let r3 = ReleaseRecord { kind: "break-glass".into(), ..release(2, T0.plus_seconds(2)) };
    store.create_release(&r3).await.unwrap();
    let t2 = T0.plus_seconds(120);
    assert!(store
        .deploy_release(&Deployment { break_glass: true, previous: Some(r1.id.clone()), ..deploy(&r3, vec![], 1, t2) })
        .await
        .unwrap());
    assert_eq!(store.unreviewed_releases(&p.id).await.unwrap().len(), 1);
    assert!(store.review_release(&r3.id, &alice.id, t2).await.unwrap());
    assert!(!store.review_release(&r3.id, &alice.id, t2).await.unwrap());
    assert!(store.unreviewed_releases(&p.id).await.unwrap().is_empty());

    // The history answers what was active at any moment.
    for (t, active) in [(T0, vec![]), (t1, vec![1]), (T0.plus_seconds(90), vec![1]), (t2, vec![2])] {
        let got = store.active_in_zone("hipaa-ai", Some(&p.id), t).await.unwrap();
        assert_eq!(got.iter().map(|d| d.version).collect::<Vec<u64>>(), active, "at {t:?}");
    }
    assert!(store.active_in_zone("hipaa-ai", Some(&ProjectId::generate(1)), t2).await.unwrap().is_empty());
    assert_eq!(store.zone_history("hipaa-ai", &m.id).await.unwrap().len(), 2);
    let listed: Vec<ReleaseId> =
        store.list_releases(&p.id, &Page::first(10)).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(listed, [r3.id.clone(), r2.id.clone(), r1.id.clone()]);
    assert!(store.close_release(&r3.id, "failed").await.is_ok_and(|changed| !changed), "only pending releases close");
}

async fn catalog_and_lineage(store: &dyn Store) {
    let owner = human("catalog-owner");
    store.create_subject(&owner).await.unwrap();
    let p = store.list_projects(&Page::first(1)).await.unwrap().remove(0);
    let v0 = store.catalog_version().await.unwrap();
    let mk = |ns: &str, name: &str, classified: bool| DatasetRecord {
        id: DatasetId::generate(T0.0),
        namespace: ns.into(),
        name: name.into(),
        project: classified.then(|| p.id.clone()),
        location: Some("s3://lake/claims".into()),
        layer: Some("raw".into()),
        classes: if classified { vec!["personal_data".into()] } else { vec![] },
        columns: vec![ColumnRecord {
            name: "ssn".into(),
            type_: Some("text".into()),
            classes: vec!["personal_data".into()],
        }],
        residency: Some("eu-west".into()),
        owner: Some("claims-team".into()),
        retention_days: Some(365),
        tags: [("source".to_string(), "core".to_string())].into(),
        classified,
        created_at: T0,
        updated_at: T0,
        legal_hold: None,
        published: false,
    };
    let claims = mk("s3://lake", "claims", true);
    store.create_dataset(&claims).await.unwrap();
    assert!(matches!(store.create_dataset(&mk("s3://lake", "claims", true)).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_dataset(&claims.id).await.unwrap().as_ref(), Some(&claims));
    assert_eq!(store.find_dataset("s3://lake", "claims").await.unwrap().as_ref(), Some(&claims));
    assert!(store.catalog_version().await.unwrap() > v0, "writes bump the catalog version");

    // An event: its run, the datasets it names (new ones unclassified), its edges.
    let write = |state: &str, edges: Vec<(String, String)>, datasets: Vec<DatasetRecord>| LineageWrite {
        event: LineageEventRecord {
            run_id: Some("3f5e83fa-3480-44ff-99c5-ff943904e5e8".into()),
            event_type: state.into(),
            event_time: T0,
            producer: "test".into(),
            received_at: T0,
            received_by: owner.id.clone(),
            event: "{}".into(),
        },
        run: Some(LineageRunRecord {
            run_id: "3f5e83fa-3480-44ff-99c5-ff943904e5e8".into(),
            job_namespace: "airflow".into(),
            job_name: "train".into(),
            state: state.into(),
            parent_run: None,
            zone: Some("hipaa-ai".into()),
            started_at: (state == "START").then_some(T0),
            ended_at: (state == "COMPLETE").then_some(T0.plus_seconds(5)),
            updated_at: T0,
        }),
        datasets,
        edges,
    };
    let e = |a: &str, b: &str| (a.to_string(), b.to_string());
    let features = mk("s3://lake", "features", false);
    store
        .write_lineage(&write(
            "START",
            vec![e("dataset:s3://lake/claims", "run:r1"), e("run:r1", "dataset:s3://lake/features")],
            vec![claims.clone(), features.clone()],
        ))
        .await
        .unwrap();
    store.write_lineage(&write("COMPLETE", vec![e("run:r1", "dataset:s3://lake/features")], vec![])).await.unwrap();
    store.write_lineage(&write("RUNNING", vec![], vec![])).await.unwrap();
    let run = store.get_lineage_run("3f5e83fa-3480-44ff-99c5-ff943904e5e8").await.unwrap().unwrap();
    assert_eq!(run.state, "COMPLETE", "a late RUNNING does not reopen a finished run");
    assert_eq!((run.started_at, run.ended_at), (Some(T0), Some(T0.plus_seconds(5))));
    assert_eq!(
        store.find_dataset("s3://lake", "claims").await.unwrap().as_ref(),
        Some(&claims),
        "known ones untouched"
    );
    let unclassified = store.list_datasets(None, true, &Page::first(10)).await.unwrap();
    assert_eq!(unclassified.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["features"]);
    assert_eq!(store.list_datasets(Some(&p.id), false, &Page::first(10)).await.unwrap().len(), 1);

    store.add_lineage_edges(&[e("run:r1", "model:m@1"), e("run:r1", "model:m@1")]).await.unwrap();
    let edges = store.lineage_edges_since(0, 100).await.unwrap();
    let pairs: Vec<(&str, &str)> = edges.iter().map(|(_, a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        pairs,
        [("dataset:s3://lake/claims", "run:r1"), ("run:r1", "dataset:s3://lake/features"), ("run:r1", "model:m@1")]
    );
    assert!(edges.windows(2).all(|w| w[0].0 < w[1].0), "numbered in order");
    assert_eq!(store.lineage_edges_since(edges[1].0, 100).await.unwrap().len(), 1);

    // Classifying an unclassified dataset.
    let mut f = store.find_dataset("s3://lake", "features").await.unwrap().unwrap();
    f.classified = true;
    f.project = Some(p.id.clone());
    f.classes = vec!["public".into()];
    assert!(store.update_dataset(&f).await.unwrap());
    assert!(store.list_datasets(None, true, &Page::first(10)).await.unwrap().is_empty());
    assert_eq!(store.zoned_runs(10).await.unwrap()[0].zone.as_deref(), Some("hipaa-ai"));

    // Transfers: requested, then decided once.
    let t = TransferRecord {
        id: TransferId::generate(T0.0),
        project: p.id.clone(),
        dataset: claims.id.clone(),
        to_zone: "hipaa-ai".into(),
        reason: "model training".into(),
        status: "pending".into(),
        requested_by: owner.id.clone(),
        requested_at: T0,
        decided_by: None,
        decided_at: None,
    };
    store.create_transfer(&t).await.unwrap();
    assert!(store.approved_transfers().await.unwrap().is_empty());
    assert!(store.decide_transfer(&t.id, "approved", &owner.id, T0).await.unwrap());
    assert!(!store.decide_transfer(&t.id, "rejected", &owner.id, T0).await.unwrap(), "decided once");
    assert_eq!(store.approved_transfers().await.unwrap(), vec![(claims.id.clone(), "hipaa-ai".to_string())]);
    assert_eq!(store.list_transfers(&p.id).await.unwrap()[0].status, "approved");
    let gone = mk("s3://lake", "scratch", true);
    store.create_dataset(&gone).await.unwrap();
    assert!(store.delete_dataset(&gone.id).await.unwrap());
    assert!(!store.delete_dataset(&gone.id).await.unwrap());
    assert!(store.get_dataset(&gone.id).await.unwrap().is_none());

    // Deletion requests and their tasks.
    let req = DeletionRequestRecord {
        id: DeletionId::generate(T0.0),
        subject_ref: "customer-4711".into(),
        reason: "GDPR Art. 17".into(),
        datasets: vec![claims.id.clone()],
        requested_by: owner.id.clone(),
        requested_at: T0,
        due_at: T0.plus_seconds(86_400),
    };
    let task = |seq: u64, target: &str| DeletionTaskRecord {
        seq,
        target: target.into(),
        kind: "dataset".into(),
        project: Some(p.id.clone()),
        owner: Some("claims-team".into()),
        due_at: T0.plus_seconds(86_400),
        status: "open".into(),
        evidence: None,
        closed_by: None,
        closed_at: None,
    };
    store
        .create_deletion(&req, &[task(1, "dataset:s3://lake/claims"), task(2, "dataset:s3://lake/features")])
        .await
        .unwrap();
    assert_eq!(store.open_deletion_tasks(10).await.unwrap().len(), 2);
    assert!(store
        .close_deletion_task(&req.id, 1, "DELETE … WHERE customer = 4711; 3 rows", &owner.id, T0)
        .await
        .unwrap());
    assert!(!store.close_deletion_task(&req.id, 1, "again", &owner.id, T0).await.unwrap());
    let (got, tasks) = store.get_deletion(&req.id).await.unwrap().unwrap();
    assert_eq!(got, req);
    assert_eq!(tasks.iter().map(|t| t.status.as_str()).collect::<Vec<_>>(), ["done", "open"]);
    assert_eq!(store.open_deletion_tasks(10).await.unwrap().len(), 1);
}
