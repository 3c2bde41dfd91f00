use std::collections::BTreeSet;

use warden_core::{GroupId, PrincipalKind, ProjectId, Role, SubjectId, TokenId};

use super::*;

pub(super) async fn bootstrap_once(store: &dyn Store) {
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

pub(super) async fn subjects(store: &dyn Store) {
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

pub(super) async fn lockout(store: &dyn Store) {
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

pub(super) async fn totp(store: &dyn Store) {
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

pub(super) async fn tokens(store: &dyn Store) {
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
pub(super) async fn token_chains(store: &dyn Store, owner: &SubjectId) {
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

pub(super) async fn projects_and_isolation(store: &dyn Store) {
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
    let t1 = Timestamp(T0.0 + 60_000);
    assert!(store.remove_member(&p.id, &ds.member, Role::DataScientist, t1, &owner.id).await.unwrap());
    assert!(!store.remove_member(&p.id, &ds.member, Role::DataScientist, t1, &owner.id).await.unwrap());
    // The history answers as of a moment: the data scientist held the role until t1.
    let held = |at: Timestamp| {
        let (store, p) = (store, p.id.clone());
        async move {
            store
                .access_as_of(p.as_str(), at)
                .await
                .unwrap()
                .into_iter()
                .map(|a| (a.member, a.role))
                .collect::<Vec<_>>()
        }
    };
    let outsider_ds = (outsider.id.to_string(), "data-scientist".to_string());
    assert!(held(Timestamp(t1.0 - 1)).await.contains(&outsider_ds));
    assert!(!held(t1).await.contains(&outsider_ds), "revoked at t1");
    assert!(held(Timestamp(t1.0 - 1)).await.contains(&(owner.id.to_string(), "project-owner".to_string())));
    let ended = store.access_as_of(p.id.as_str(), Timestamp(t1.0 - 1)).await.unwrap();
    let ended = ended.iter().find(|a| a.member == outsider.id.as_str()).unwrap();
    assert_eq!((ended.revoked_at, ended.revoked_by.as_deref()), (Some(t1), Some(owner.id.as_str())));
    assert!(store.list_projects(&Page::first(10)).await.unwrap().iter().any(|x| x.id == p.id));
}

pub(super) async fn groups_and_roles(store: &dyn Store) {
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
    store.add_group_member(&g.id, &gina.id, T0, &gina.id).await.unwrap();
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
    let t1 = Timestamp(T0.0 + 60_000);
    assert!(store.remove_group_member(&g.id, &gina.id, t1, &gina.id).await.unwrap());
    assert!(store.org_roles(&gina.id).await.unwrap().is_empty());
    assert!(store.project_roles(&p.id, &gina.id).await.unwrap().is_empty());
    assert!(store.revoke_role(&grant.member, Role::Auditor, t1, &gina.id).await.unwrap());
    assert!(!store.revoke_role(&grant.member, Role::Auditor, t1, &gina.id).await.unwrap());
    // As of before t1 the group held the auditor role and gina was in it; not after.
    let org = |at| async move { store.access_as_of(crate::ORGANISATION_SCOPE, at).await.unwrap() };
    assert!(org(T0).await.iter().any(|a| a.member == g.id.as_str() && a.role == "auditor"));
    assert!(!org(t1).await.iter().any(|a| a.member == g.id.as_str()));
    assert_eq!(store.access_as_of(g.id.as_str(), T0).await.unwrap().len(), 1);
    assert!(store.access_as_of(g.id.as_str(), t1).await.unwrap().is_empty());
    assert_eq!(store.list_groups(&Page::first(10)).await.unwrap().len(), 1);
}
