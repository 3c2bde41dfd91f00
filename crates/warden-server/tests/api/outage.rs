//! With the database gone, readiness fails and requests get 503 problem+json; when it
//! comes back, Warden recovers. PostgreSQL is reached through a TCP relay the test can cut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{postgres_url, start, Engine, Options};

/// Relays connections to `target` while `up` is true; cuts them all when it turns false.
async fn relay(target: String, up: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { break };
            let target = target.clone();
            let up = up.clone();
            tokio::spawn(async move {
                if !up.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut outbound) = TcpStream::connect(&target).await else { return };
                let watch = async {
                    while up.load(Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = watch => {}
                }
            });
        }
    });
    addr
}

/// Options for a server whose PostgreSQL connections go through a relay; the flag cuts
/// them.
async fn through_relay() -> (Options, Arc<AtomicBool>) {
    let url = postgres_url().await;
    // postgres://user@127.0.0.1:5432/db?options=... -> route host:port through the relay.
    let after_at = url.split_once('@').map(|x| x.1).unwrap_or(url.trim_start_matches("postgres://"));
    let hostport = after_at.split('/').next().unwrap().to_string();
    let up = Arc::new(AtomicBool::new(true));
    let relay_addr = relay(hostport.clone(), up.clone()).await;
    let mut opts = Options::new(Engine::Postgres);
    opts.postgres_url = Some(url.replacen(&hostport, &relay_addr, 1));
    (opts, up)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
async fn database_down_means_503_and_nothing_half_written() {
    warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let (opts, up) = through_relay().await;
    let s = start(opts).await;
    let admin = s.admin().await;
    s.call(Method::GET, "/readyz", None, None).await.expect(200);
    let before = s.count_projects(&admin).await;

    up.store(false, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    s.call(Method::GET, "/readyz", None, None).await.problem(503, "unavailable");
    s.post("/api/v1/projects", &admin, json!({"name": "during-outage"})).await.problem(503, "unavailable");
    s.get("/api/v1/whoami", &admin).await.problem(503, "unavailable");
    s.call(Method::GET, "/healthz", None, None).await.expect(200);

    up.store(true, Ordering::SeqCst);
    let mut ready = false;
    for _ in 0..50 {
        if s.call(Method::GET, "/readyz", None, None).await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "recovers when the database returns");
    assert_eq!(s.count_projects(&admin).await, before, "nothing from the outage was written");
}

/// Gateway answers that do not wait for their record still stop when the ledger
/// cannot commit: once a commit fails, calls get 503 until the database returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
async fn the_gateway_stops_when_its_records_cannot_be_written() {
    warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let (mut opts, up) = through_relay().await;
    opts.gateway_wait_for_audit = false;
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let t = s.post("/api/v1/tokens", &alice_t, json!({"name": "gw", "project": p, "data_class": "public"})).await;
    let key = t.expect(201)["secret"].as_str().unwrap().to_string();
    let call = || {
        let (s, key) = (&s, key.clone());
        async move {
            let res = s
                .http
                .post(format!("{}/v1/chat/completions", s.url))
                .bearer_auth(&key)
                .json(&json!({"model": "mock", "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    assert_eq!(call().await.0, 200);

    up.store(false, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // The copies of the key last a second, and the first record to fail trips the ledger:
    // within a few calls every call is refused, in OpenAI's error shape.
    let mut refused = None;
    for _ in 0..100 {
        let (status, body) = call().await;
        if status == 503 {
            refused = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let body = refused.expect("calls stop while records cannot be written");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(call().await.0, 503, "and stay stopped");

    up.store(true, Ordering::SeqCst);
    let mut back = false;
    for _ in 0..100 {
        if call().await.0 == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "calls resume when the database returns");
}
