use super::*;

pub(super) async fn counters(store: &dyn Store) {
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

pub(super) async fn providers(store: &dyn Store) {
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

pub(super) async fn switches(store: &dyn Store) {
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
