//! The audit ledger end to end with the real binary: offline proofs, detection of edits
//! made directly in the database, no acknowledged event lost to kill -9, two replicas
//! appending to one PostgreSQL database, and export to a SIEM.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use warden_api as api;
use warden_client::{Client, ClientError};

/// Sets up, through the API: TOTP for the administrator, and a user with no roles whose
/// requests are denied (each denial is an audit event, durable before the 403).
async fn denied_user(url: &str) -> Client {
    let bootstrap = Client::new(url, Some(BOOTSTRAP.to_string()));
    let e = bootstrap.totp_enrol().await.unwrap();
    // Confirming gives a session verified with the second factor: it creates the user.
    let session = bootstrap.totp_confirm(&totp_code(&e.secret)).await.unwrap();
    let admin = Client::new(url, Some(session.token));
    let req = api::CreateUserRequest {
        name: "mallory".into(),
        display_name: None,
        email: None,
        password: Some("mallory-long-password".into()),
    };
    admin.create_user(&req).await.unwrap();
    let login = Client::new(url, None)
        .login(&api::LoginRequest { username: "mallory".into(), password: "mallory-long-password".into(), totp: None })
        .await
        .unwrap();
    Client::new(url, Some(login.token))
}

/// One denied request; returns its request id once the server acknowledged it.
async fn deny(c: &Client, name: &str) -> Result<String, ClientError> {
    let req =
        api::CreateProjectRequest { name: name.into(), description: String::new(), cost_centre: None, owner: None };
    match c.create_project(&req).await {
        Err(ClientError::Problem(p)) if p.status == 403 => Ok(p.request_id.unwrap_or_default()),
        Err(e) => Err(e),
        Ok(_) => panic!("mallory must not create projects"),
    }
}

/// Every entry of the log up to its latest checkpoint, read through the API. (Each read
/// is itself recorded, so "until a page comes back empty" would never end.)
async fn all_entries(url: &str) -> Vec<api::AuditEntry> {
    let admin = Client::new(url, Some(BOOTSTRAP.to_string()));
    let key = warden_tlog::note::VerifierKey::parse(&admin.audit_public_key().await.unwrap()).unwrap();
    let size = warden_tlog::note::Checkpoint::open(&admin.audit_checkpoint().await.unwrap(), &key).unwrap().size;
    let mut out: Vec<api::AuditEntry> = Vec::new();
    while (out.len() as u64) < size {
        let page = admin.audit_entries(out.len() as u64, 1000).await.unwrap();
        assert!(!page.is_empty(), "entries below the checkpoint size are readable");
        out.extend(page.into_iter().filter(|e| e.index < size));
    }
    out
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn verify_prove_offline_and_detect_edits_in_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cli = Cli { config_dir: tmp.path().join("cli") };
    let server = serve(&data, None, Some(BOOTSTRAP));
    cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
    let rt = rt();
    let mallory = rt.block_on(denied_user(&server.url));
    for i in 0..5 {
        rt.block_on(deny(&mallory, &format!("p{i}"))).unwrap();
    }

    let v = cli.json(&["audit", "verify"]);
    assert_eq!(v["ok"], true);
    assert!(v["entries"].as_u64().unwrap() >= 10, "{v}");
    let key = cli.ok(&["audit", "public-key"]).trim().to_string();
    assert!(key.starts_with("warden/audit+"));
    let tail = cli.ok(&["audit", "tail", "-n", "5"]);
    assert!(tail.starts_with("INDEX"), "{tail}");
    let ocsf = cli.ok(&["audit", "export", "--from", "0"]);
    let records: Vec<Value> = ocsf.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(records.len() >= 10);
    assert!(records.iter().enumerate().all(|(i, r)| r["metadata"]["sequence"] == i as u64 && r["class_uid"].is_u64()));

    // A proof for a denial, checked with the server stopped.
    let denial = cli.json(&["audit", "search", "--action", "project.create", "--outcome", "deny", "--limit", "1"]);
    let index = denial["items"][0]["index"].as_u64().unwrap();
    let proof = tmp.path().join("proof.json");
    // What this client verified before proving (its pin), for the offline checks below.
    let pins_dir = tmp.path().join("cli").join("pins");
    let pin_file = std::fs::read_dir(&pins_dir).unwrap().next().unwrap().unwrap().path();
    let earlier = tmp.path().join("earlier.checkpoint");
    std::fs::copy(&pin_file, &earlier).unwrap();
    rt.block_on(deny(&mallory, "later")).unwrap();
    cli.ok(&["audit", "prove", "--index", &index.to_string(), "--out", proof.to_str().unwrap()]);
    let later = tmp.path().join("later.checkpoint");
    rt.block_on(deny(&mallory, "later2")).unwrap();
    std::fs::write(&later, cli.ok(&["audit", "checkpoint"])).unwrap();
    drop(server);
    let offline = Cli { config_dir: tmp.path().join("offline") };
    let ok = offline.ok(&["audit", "verify-proof", proof.to_str().unwrap(), "--key", &key]);
    assert!(ok.starts_with("ok: event evt_") && ok.contains(&format!("is entry {index} ")), "{ok}");
    // Offline against a pin: the proof carries a consistency proof from the checkpoint
    // verified before, so it checks against that pin; against a pin from a later tree it
    // cannot be checked, and says so.
    let pin = earlier.to_str().unwrap();
    let ok = offline.ok(&["audit", "verify-proof", proof.to_str().unwrap(), "--key", &key, "--pin", pin]);
    assert!(ok.starts_with("ok: "), "{ok}");
    let pin = later.to_str().unwrap();
    let old = offline.run(&["audit", "verify-proof", proof.to_str().unwrap(), "--key", &key, "--pin", pin], None);
    assert!(!old.ok && old.stderr.contains("older than"), "{}", old.stderr);
    // The key may also come from a file.
    let key_file = tmp.path().join("warden.pub");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    offline.ok(&["audit", "verify-proof", proof.to_str().unwrap(), "--key", key_file.to_str().unwrap()]);
    // An edited proof, or the wrong key, fails.
    let text = std::fs::read_to_string(&proof).unwrap();
    let tampered = tmp.path().join("tampered.json");
    std::fs::write(&tampered, text.replacen("\"deny\"", "\"allow\"", 1)).unwrap();
    let bad = offline.run(&["audit", "verify-proof", tampered.to_str().unwrap(), "--key", &key], None);
    assert!(!bad.ok && bad.stderr.contains("does NOT verify"), "{}", bad.stderr);
    let other_key = "warden/audit+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let bad = offline.run(&["audit", "verify-proof", proof.to_str().unwrap(), "--key", other_key], None);
    assert!(!bad.ok, "{}", bad.stdout);

    // Someone with database access rewrites a denial as an allow.
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}", data.join("warden.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let sql = format!("UPDATE audit_log SET event = replace(event, '\"deny\"', '\"allow\"') WHERE idx = {index}");
        let refused = sqlx::query(&sql).execute(&mut db).await;
        assert!(refused.is_err(), "the database itself refuses updates to the ledger");
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut db).await.unwrap();
        sqlx::query(&sql).execute(&mut db).await.unwrap();
        let row =
            sqlx::query(&format!("SELECT event FROM audit_log WHERE idx = {index}")).fetch_one(&mut db).await.unwrap();
        let event: String = row.get("event");
        assert!(event.contains("\"allow\""));
    });
    let server = serve(&data, None, None);
    let failed = cli.run(&["audit", "verify", "--url", &server.url], None);
    assert!(!failed.ok, "verification must fail: {}", failed.stdout);
    assert!(failed.stderr.contains(&format!("entry {index}:")), "names the first bad index: {}", failed.stderr);
    // With the pinned key too.
    let failed = cli.run(&["audit", "verify", "--url", &server.url, "--key", &key], None);
    assert!(!failed.ok && failed.stderr.contains(&format!("entry {index}:")));
}

#[test]
fn kill_minus_nine_loses_nothing_acknowledged() {
    kill_minus_nine(None);
}

#[test]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
fn kill_minus_nine_loses_nothing_acknowledged_on_postgres() {
    let base = warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let url = rt()
        .block_on(warden_store_postgres::testing::fresh_schema(&base, "kill9"))
        .expect("PostgreSQL must be reachable");
    kill_minus_nine(Some(&url));
}

/// Writers append while the server is killed with SIGKILL: every acknowledged event is
/// there after a restart, with no gap, the tree verifies, and the server signs again
/// (its signed checkpoint, kept outside the database, is one the stored log reproduces).
fn kill_minus_nine(database_url: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = serve(&data, database_url, Some(BOOTSTRAP));
    let rt = rt();
    let url = server.url.clone();
    let mallory = rt.block_on(denied_user(&url));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handles: Vec<_> = (0..32)
        .map(|w| {
            let c = mallory.clone();
            let acked = acked.clone();
            let stop = stop.clone();
            rt.spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match deny(&c, &format!("w{w}-{i}")).await {
                        Ok(id) => acked.lock().unwrap().push(id),
                        Err(_) => break,
                    }
                    i += 1;
                }
            })
        })
        .collect();
    // Let the writers run, then kill the server mid-stream with SIGKILL.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for h in handles {
        let _ = rt.block_on(h);
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "only {} acknowledged", acked.len());

    let again = serve(&data, database_url, None);
    let ready = rt.block_on(async { reqwest::get(format!("{}/readyz", again.url)).await.unwrap().status().as_u16() });
    assert_eq!(ready, 200, "the restarted server signs again: nothing signed is beyond the stored log");
    // Tiles the crash kept from being stored are rebuilt, and every entry stored before
    // it checks out against the tree.
    let started = Instant::now();
    loop {
        let r: Value =
            rt.block_on(async { reqwest::get(format!("{}/readyz", again.url)).await.unwrap().json().await.unwrap() });
        let (checked, of) = (r["audit_scrub"]["checked"].as_u64().unwrap(), r["audit_scrub"]["of"].as_u64().unwrap());
        assert!(of >= acked.len() as u64, "{r}");
        if checked >= of {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the scrub did not finish: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let entries = rt.block_on(all_entries(&again.url));
    let logged: HashSet<String> =
        entries.iter().filter_map(|e| e.event["request_id"].as_str().map(str::to_string)).collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged events lost, e.g. {:?}", lost.len(), acked.len(), lost.first());
    assert!(entries.iter().enumerate().all(|(i, e)| e.index == i as u64), "no gaps");
    let cli = Cli { config_dir: tmp.path().join("cli") };
    let v = cli.json(&["audit", "verify", "--url", &again.url, "--token", BOOTSTRAP]);
    assert_eq!(v["ok"], true, "the tree verifies after the crash: {v}");
    eprintln!("kill -9: {} acknowledged events, all present; {} entries verified", acked.len(), v["entries"]);
}

#[test]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
fn two_replicas_on_one_postgres_append_linearizably() {
    let base = warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let rt = rt();
    let db = rt
        .block_on(warden_store_postgres::testing::fresh_schema(&base, "replicas"))
        .expect("PostgreSQL must be reachable");
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("audit-checkpoint.key");
    let env = [("WARDEN_AUDIT_SIGNING_KEY_FILE", key_file.to_str().unwrap())];
    let a = serve_with(&tmp.path().join("a"), Some(&db), Some(BOOTSTRAP), &env);
    let b = serve_with(&tmp.path().join("b"), Some(&db), Some(BOOTSTRAP), &env);
    let mallory_a = rt.block_on(denied_user(&a.url));
    let mallory_b = Client::new(&b.url, Some(BOOTSTRAP.to_string()));
    // Mallory's session token works on both replicas: state is in the database.
    let token_b = {
        let login = rt.block_on(Client::new(&b.url, None).login(&api::LoginRequest {
            username: "mallory".into(),
            password: "mallory-long-password".into(),
            totp: None,
        }));
        login.unwrap().token
    };
    let _ = mallory_b;
    let mallory_b = Client::new(&b.url, Some(token_b));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let handles: Vec<_> = (0..16)
        .map(|w| {
            let c = if w % 2 == 0 { mallory_a.clone() } else { mallory_b.clone() };
            let acked = acked.clone();
            rt.spawn(async move {
                for i in 0..25 {
                    let id = deny(&c, &format!("r{w}-{i}")).await.unwrap();
                    acked.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    for h in handles {
        rt.block_on(h).unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 400);
    let entries = rt.block_on(all_entries(&b.url));
    assert!(entries.iter().enumerate().all(|(i, e)| e.index == i as u64), "no gaps, no duplicate indexes");
    let mut seen = HashSet::new();
    for e in &entries {
        if e.event["action"] == "project.create" && e.event["category"] == "authorization" {
            let id = e.event["request_id"].as_str().unwrap().to_string();
            assert!(seen.insert(id), "each event once");
        }
    }
    assert!(acked.iter().all(|id| seen.contains(id)), "every acknowledged event is in the log");
    // Both replicas serve checkpoints that verify with the one key, against either.
    let cli = Cli { config_dir: tmp.path().join("cli") };
    for url in [&a.url, &b.url] {
        let v = cli.json(&["audit", "verify", "--url", url, "--token", BOOTSTRAP]);
        assert_eq!(v["ok"], true, "{v}");
    }
    assert_eq!(
        cli.ok(&["audit", "public-key", "--url", &a.url]),
        cli.ok(&["audit", "public-key", "--url", &b.url]),
        "one signing key"
    );
}

#[test]
fn export_to_a_hec_collector_and_a_file_is_complete_and_resumes() {
    let rt = rt();
    let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let failures_left = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let (addr, _task) = rt.block_on(async {
        let received = received.clone();
        let failures_left = failures_left.clone();
        let app = axum::Router::new().route(
            "/services/collector/event",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let received = received.clone();
                let failures_left = failures_left.clone();
                async move {
                    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Splunk hec-token-123") {
                        return axum::http::StatusCode::UNAUTHORIZED;
                    }
                    // The collector is briefly down at first: the exporter must retry.
                    if failures_left.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                        failures_left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let mut r = received.lock().unwrap();
                    for line in body.lines().filter(|l| !l.is_empty()) {
                        r.push(serde_json::from_str(line).unwrap());
                    }
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (addr, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
    });
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("ocsf.jsonl");
    let hec = format!("http://{addr}/services/collector/event");
    let env = [
        ("WARDEN_AUDIT_HEC_URL", hec.as_str()),
        ("WARDEN_AUDIT_HEC_TOKEN", "hec-token-123"),
        ("WARDEN_AUDIT_EXPORT_FILE", file.to_str().unwrap()),
    ];
    let sequences = |r: &Arc<Mutex<Vec<Value>>>| -> HashSet<u64> {
        // (Checkpoint records, exported beside the events, carry no sequence.)
        r.lock().unwrap().iter().filter_map(|e| e["event"]["metadata"]["sequence"].as_u64()).collect()
    };
    let wait_for = |n: usize| {
        let start = Instant::now();
        while sequences(&received).len() < n && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    let server = serve_with(&data, None, Some(BOOTSTRAP), &env);
    let mallory = rt.block_on(denied_user(&server.url));
    for i in 0..10 {
        rt.block_on(deny(&mallory, &format!("x{i}"))).unwrap();
    }
    let size = rt.block_on(all_entries(&server.url)).len();
    wait_for(size);
    drop(server);
    let got = sequences(&received);
    assert!((0..size as u64).all(|i| got.contains(&i)), "every entry reached the collector after its outage");

    // More events after a restart: the exporter resumes from its cursor, no gaps.
    let server = serve_with(&data, None, None, &env);
    let mallory = rt.block_on(denied_user_again(&server.url));
    for i in 0..10 {
        rt.block_on(deny(&mallory, &format!("y{i}"))).unwrap();
    }
    let size = rt.block_on(all_entries(&server.url)).len();
    wait_for(size);
    let got = sequences(&received);
    assert!((0..size as u64).all(|i| got.contains(&i)), "no gaps across the restart");
    let sample = received.lock().unwrap().iter().find(|e| e["event"]["class_uid"] == 3002).cloned().unwrap();
    assert_eq!(sample["sourcetype"], "ocsf");
    assert_eq!(sample["event"]["metadata"]["product"]["name"], "Warden");
    let denial =
        received.lock().unwrap().iter().find(|e| e["event"]["api"]["operation"] == "project.create").cloned().unwrap();
    assert_eq!((denial["event"]["class_uid"].as_u64(), denial["event"]["status_id"].as_u64()), (Some(6003), Some(2)));

    // The file holds the same, one OCSF record per line.
    let start = Instant::now();
    let file_seqs = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let seqs: HashSet<u64> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).unwrap()["metadata"]["sequence"].as_u64())
            .collect();
        if seqs.len() >= size || start.elapsed() > Duration::from_secs(20) {
            break seqs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!((0..size as u64).all(|i| file_seqs.contains(&i)), "the file export is complete");
    // Each event carries its leaf hash, and the signed checkpoints travel with them.
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(records
        .iter()
        .filter(|r| r["metadata"]["sequence"].is_u64())
        .all(|r| r["unmapped"]["warden"]["leaf_hash"].is_string()));
    assert!(records
        .iter()
        .any(|r| r["unmapped"]["warden"]["checkpoint"].as_str().is_some_and(|n| n.starts_with("warden/audit\n"))));
}

/// Mallory signs in again (after a restart the old client is still valid, but this
/// keeps the test independent of session lifetimes).
async fn denied_user_again(url: &str) -> Client {
    let login = Client::new(url, None)
        .login(&api::LoginRequest { username: "mallory".into(), password: "mallory-long-password".into(), totp: None })
        .await
        .unwrap();
    Client::new(url, Some(login.token))
}

/// The three rewrites of the ledger an insider with the database file can make, each
/// caught by the server at start (it signs nothing more and says why on /readyz) and by
/// a client holding the checkpoint it verified before (a shrink or a fork, both sizes
/// named): an entry edited with its leaf hash recomputed; the tail deleted with the
/// checkpoints above it; an entry edited and every checkpoint deleted.
#[test]
fn rewrites_of_the_database_are_caught_by_the_server_and_by_pinned_clients() {
    for attack in ["edit-and-rehash", "delete-tail-and-checkpoints", "edit-and-delete-checkpoints"] {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let cli = Cli { config_dir: tmp.path().join("cli") };
        // The file export: a copy of the events and checkpoints outside the database.
        let export = tmp.path().join("export.jsonl");
        let env = [("WARDEN_AUDIT_EXPORT_FILE", export.to_str().unwrap()), ("WARDEN_AUDIT_DIGEST_EVERY_SECONDS", "1")];
        let server = serve_with(&data, None, Some(BOOTSTRAP), &env);
        cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
        let rt = rt();
        let mallory = rt.block_on(denied_user(&server.url));
        for i in 0..6 {
            rt.block_on(deny(&mallory, &format!("p{i}"))).unwrap();
        }
        let v = cli.json(&["audit", "verify"]);
        assert_eq!(v["ok"], true, "{attack}: {v}");
        let before = v["entries"].as_u64().unwrap();
        assert!(v["pin"].as_str().is_some(), "the verified checkpoint is pinned: {v}");
        // An auditor keeps the checkpoint too, outside the client's state.
        let auditor_pin = tmp.path().join("auditor.checkpoint");
        std::fs::write(&auditor_pin, cli.ok(&["audit", "checkpoint"])).unwrap();
        // Wait for the export to hold the events verified above and a checkpoint.
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&export).unwrap_or_default();
            let events = text.lines().filter(|l| l.contains("\"leaf_hash\"")).count() as u64;
            if events >= before && text.contains("\"checkpoint\"") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{attack}: the export did not catch up: {events}");
            std::thread::sleep(Duration::from_millis(100));
        }
        // And for the digests of the events (one a second, each of the events since the
        // last) to cover them: an auditor keeps every one, as the object store's
        // write-once prefix would.
        let kept = data.join("keys").join("audit-digest.last");
        let mut digests: Vec<String> = Vec::new();
        let started = Instant::now();
        let mut nudged = Instant::now();
        loop {
            let note = std::fs::read_to_string(&kept).unwrap_or_default();
            let to = note.lines().nth(2).and_then(|l| l.split_once(' ')).and_then(|(_, to)| to.parse::<u64>().ok());
            if to.is_some() && !digests.contains(&note) {
                digests.push(note.clone());
            }
            if to.is_some_and(|to| to >= before) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{attack}: no digest covered the events: {note}");
            if nudged.elapsed() > Duration::from_millis(500) {
                rt.block_on(deny(&mallory, "nudge")).unwrap();
                nudged = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let digest_files: Vec<String> = digests
            .iter()
            .enumerate()
            .map(|(i, note)| {
                let path = tmp.path().join(format!("auditor-{i}.digest"));
                std::fs::write(&path, note).unwrap();
                path.to_str().unwrap().to_string()
            })
            .collect();
        drop(server);
        // The last checkpoint the server signed, as it kept it outside the database.
        let signed = std::fs::read_to_string(data.join("keys").join("audit-checkpoint.last")).unwrap();
        let signed: u64 = signed.lines().nth(1).unwrap().parse().unwrap();
        assert!(signed >= before);

        let first_denial = rt.block_on(tamper(&data, attack));
        let server = serve(&data, None, None);
        // The server: not ready, and why.
        let ready = rt.block_on(async {
            let r = reqwest::get(format!("{}/readyz", server.url)).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
        assert_eq!(ready.0, 503, "{attack}: {}", ready.1);
        let why = if attack == "delete-tail-and-checkpoints" { "removed" } else { "rewritten" };
        assert!(ready.1.contains(why) && ready.1.contains("signed"), "{attack}: {}", ready.1);
        // It signed nothing for the rewritten log.
        let latest = cli.run(&["audit", "checkpoint", "--url", &server.url, "--token", BOOTSTRAP], None);
        if let Ok(size) = latest.stdout.lines().nth(1).unwrap_or("").parse::<u64>() {
            assert!(size <= signed, "{attack}: a checkpoint for {size} entries was signed after the rewrite");
        }
        // A client with its pin, and one with only the auditor's stored checkpoint.
        let failed = cli.run(&["audit", "verify", "--url", &server.url, "--token", BOOTSTRAP], None);
        assert!(!failed.ok, "{attack}: verification must fail: {}", failed.stdout);
        assert!(failed.stderr.contains("FAILED"), "{attack}: {}", failed.stderr);
        let fresh = Cli { config_dir: tmp.path().join("fresh") };
        let pin = auditor_pin.to_str().unwrap();
        let failed = fresh.run(&["audit", "verify", "--url", &server.url, "--token", BOOTSTRAP, "--pin", pin], None);
        assert!(!failed.ok, "{attack}: verification against the auditor's pin must fail: {}", failed.stdout);
        assert!(failed.stderr.contains("FAILED"), "{attack}: {}", failed.stderr);
        // The exported copy names the exact entry edited, even with its hash recomputed.
        let copy = Cli { config_dir: tmp.path().join("copy") };
        let exp = export.to_str().unwrap();
        let failed = copy.run(&["audit", "verify", "--url", &server.url, "--token", BOOTSTRAP, "--against", exp], None);
        assert!(!failed.ok, "{attack}: verification against the export must fail: {}", failed.stdout);
        if attack.starts_with("edit") {
            let named = format!("entry {first_denial} differs from the exported copy");
            assert!(failed.stderr.contains(&named), "{attack}: {}", failed.stderr);
        } else {
            assert!(failed.stderr.contains("FAILED"), "{attack}: {}", failed.stderr);
        }
        // The anchored digest names the range that holds the change.
        let by_digest = Cli { config_dir: tmp.path().join("by-digest") };
        let mut args = vec!["audit", "verify", "--url", &server.url, "--token", BOOTSTRAP];
        for f in &digest_files {
            args.extend(["--digest", f.as_str()]);
        }
        let failed = by_digest.run(&args, None);
        assert!(!failed.ok, "{attack}: verification against the digest must fail: {}", failed.stdout);
        let e = &failed.stderr;
        assert!(e.contains("no longer hash to the digest") || e.contains("entries were removed"), "{attack}: {e}");
        if attack.starts_with("edit") {
            let range = e.split("FAILED: entries ").nth(1).unwrap_or_else(|| panic!("{attack}: {e}"));
            let (a, b) = range.split_once(" to ").unwrap();
            let (a, b): (u64, u64) = (a.parse().unwrap(), b.split(' ').next().unwrap().parse().unwrap());
            assert!(a <= first_denial && first_denial <= b, "{attack}: {first_denial} is not in {a}..={b}: {e}");
        }
        let failed = cli.run(&["audit", "verify", "--url", &server.url, "--token", BOOTSTRAP], None);
        if attack == "delete-tail-and-checkpoints" {
            // Both sizes named: what is left, and what this client verified before.
            let pinned = before;
            // (The restarted server appends again from the cut, so the log may have grown
            // back past the pinned size, with other entries: a fork rather than a shrink.)
            let e = &failed.stderr;
            assert!(e.contains("shrank") || e.contains("forked"), "{e}");
            assert!(
                e.contains(&format!("a checkpoint for {pinned} entries"))
                    || e.contains(&format!("first {pinned} entries")),
                "{e}"
            );
            assert!(first_denial < pinned);
        }
    }
}

/// Rewrites the SQLite ledger as an insider would (the database's own guards dropped
/// first); returns the index of the first entry touched.
async fn tamper(data: &std::path::Path, attack: &str) -> u64 {
    use sha2::Digest;
    use sqlx::{Connection, Row};
    let url = format!("sqlite://{}", data.join("warden.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for t in
        ["audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"]
    {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}")).execute(&mut db).await.unwrap();
    }
    let row =
        sqlx::query("SELECT MIN(idx) AS i FROM audit_log WHERE outcome = 'deny'").fetch_one(&mut db).await.unwrap();
    let first: i64 = row.get("i");
    if attack.starts_with("edit") {
        let row =
            sqlx::query("SELECT event FROM audit_log WHERE idx = ?").bind(first).fetch_one(&mut db).await.unwrap();
        let event: String = row.get("event");
        let edited = event.replace("\"deny\"", "\"allow\"");
        assert_ne!(edited, event);
        let mut h = sha2::Sha256::new();
        h.update([0u8]);
        h.update(edited.as_bytes());
        let hash = h.finalize().to_vec();
        let q = "UPDATE audit_log SET event = ?, outcome = 'allow', leaf_hash = ? WHERE idx = ?";
        sqlx::query(q).bind(&edited).bind(hash).bind(first).execute(&mut db).await.unwrap();
    }
    if attack == "delete-tail-and-checkpoints" {
        sqlx::query("DELETE FROM audit_log WHERE idx >= ?").bind(first).execute(&mut db).await.unwrap();
        sqlx::query("UPDATE audit_head SET size = ?").bind(first).execute(&mut db).await.unwrap();
        sqlx::query("UPDATE audit_index_head SET size = MIN(size, ?)").bind(first).execute(&mut db).await.unwrap();
        sqlx::query("DELETE FROM audit_checkpoints WHERE tree_size > ?").bind(first).execute(&mut db).await.unwrap();
    }
    if attack == "edit-and-delete-checkpoints" {
        sqlx::query("DELETE FROM audit_checkpoints").execute(&mut db).await.unwrap();
    }
    first as u64
}

/// A log's data directory after a first start (its checkpoint key exists), a CLI logged
/// in to it, and that key's verifier (what a witness is configured with).
fn log_with_key(tmp: &std::path::Path) -> (std::path::PathBuf, Cli, String) {
    let data = tmp.join("data");
    let cli = Cli { config_dir: tmp.join("cli") };
    let server = serve(&data, None, Some(BOOTSTRAP));
    cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
    let log_key = cli.ok(&["audit", "public-key"]).trim().to_string();
    drop(server);
    (data, cli, log_key)
}

/// A real `warden witness serve` beside a real `warden serve`: each new checkpoint is
/// cosigned, clients can require the witness's cosignature, and the witness refuses what
/// would let a log show two histories (a fork at the same size, a different tree that
/// claims to extend, a smaller tree, a checkpoint not signed by the log, an unknown log).
#[test]
fn a_witness_cosigns_what_extends_and_refuses_forks() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, cli, log_key) = log_with_key(tmp.path());

    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["witness", "serve", "--listen", "127.0.0.1:0", "--name", "example.org/witness", "--data-dir"])
        .arg(tmp.path().join("witness"))
        .args(["--log", &log_key]);
    let witness = until_listening(cmd);
    let vkey = witness.stdout_lines.iter().find_map(|l| l.strip_prefix("witness key: ")).unwrap().to_string();
    let spec = format!("{} {vkey}", witness.url);
    let server = serve_with(&data, None, None, &[("WARDEN_AUDIT_WITNESSES", spec.as_str())]);
    let rt = rt();
    let mallory = rt.block_on(denied_user(&server.url));
    for i in 0..4 {
        rt.block_on(deny(&mallory, &format!("w{i}"))).unwrap();
    }
    // The cosigned checkpoint appears; a client requiring the witness accepts the log.
    let admin = Client::new(&server.url, Some(BOOTSTRAP.to_string()));
    let started = Instant::now();
    let cosigned = loop {
        if let Ok(n) = rt.block_on(admin.audit_cosigned_checkpoint()) {
            break n;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no cosigned checkpoint");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(cosigned.contains("\u{2014} example.org/witness "), "{cosigned}");
    let v = cli.json(&["audit", "verify", "--url", &server.url, "--witness", &vkey]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["witnessed"]["cosignatures"], 1, "{v}");
    // Another witness's key is not enough.
    let stranger = "example.org/other+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let bad = cli.run(&["audit", "verify", "--url", &server.url, "--witness", stranger], None);
    assert!(!bad.ok, "{}", bad.stdout);

    // Forks, as the log's own key would sign them (an insider with the key); the live
    // log is stopped first so that the witness's state holds still.
    drop(server);
    let key_text = std::fs::read_to_string(data.join("keys").join("audit-checkpoint.key")).unwrap();
    let log = warden_tlog::note::SigningKey::from_private_string(key_text.trim()).unwrap();
    let log_verifier = warden_tlog::note::VerifierKey::parse(&log_key).unwrap();
    let cp = warden_tlog::note::Checkpoint::open(&cosigned, &log_verifier).unwrap();
    let post = |body: String| {
        rt.block_on(async {
            let r =
                reqwest::Client::new().post(format!("{}/add-checkpoint", witness.url)).body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let sign = |size: u64, root: [u8; 32]| {
        warden_tlog::note::Checkpoint { origin: cp.origin.clone(), size, root }.sign(&log).unwrap()
    };
    // The witness may have moved on with the live log: ask it where it is.
    let (status, at) = post(format!("old 0\n\n{}", sign(cp.size, cp.root)));
    let at: u64 = if status == 409 { at.trim().parse().unwrap() } else { 0 };
    assert!(at >= cp.size, "{status} {at}");
    let (status, _) = post(format!("old {at}\n\n{}", sign(at, [7u8; 32])));
    assert_eq!(status, 422, "a different root at the same size");
    let (status, _) =
        post(format!("old {at}\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n{}", sign(at + 5, [9u8; 32])));
    assert_eq!(status, 422, "a tree that does not extend");
    let (status, body) = post(format!("old 1\n\n{}", sign(at.saturating_sub(1).max(1), [1u8; 32])));
    assert_eq!((status, body.trim().parse::<u64>().ok()), (409, Some(at)), "a stale old size is told the current one");
    let (status, _) = post(format!("old {at}\n\n{}", sign(at - 1, [1u8; 32])));
    assert_eq!(status, 400, "old size beyond the checkpoint");
    let other = warden_tlog::note::SigningKey::generate(&cp.origin).unwrap();
    let forged = warden_tlog::note::Checkpoint { origin: cp.origin.clone(), size: at + 1, root: [2u8; 32] };
    let (status, _) = post(format!("old {at}\n\n{}", forged.sign(&other).unwrap()));
    assert_eq!(status, 403, "not signed by the log's key");
    let stranger_log = warden_tlog::note::SigningKey::generate("elsewhere.example/log").unwrap();
    let unknown = warden_tlog::note::Checkpoint { origin: "elsewhere.example/log".into(), size: 1, root: [2u8; 32] };
    let (status, _) = post(format!("old 0\n\n{}", unknown.sign(&stranger_log).unwrap()));
    assert_eq!(status, 404, "a log the witness does not follow");
    let (status, _) = post("nonsense".into());
    assert_eq!(status, 400);
    // After all that (and a restart, which starts from `old 0` and is told the size) the
    // witness still cosigns the real log as it grows.
    let server = serve_with(&data, None, None, &[("WARDEN_AUDIT_WITNESSES", spec.as_str())]);
    let mallory = rt.block_on(denied_user_again(&server.url));
    rt.block_on(deny(&mallory, "after")).unwrap();
    let admin = Client::new(&server.url, Some(BOOTSTRAP.to_string()));
    let started = Instant::now();
    let cosigned_size =
        || rt.block_on(admin.audit_cosigned_checkpoint()).ok().and_then(|n| n.lines().nth(1)?.parse::<u64>().ok());
    // (The first cosignature after the restart may be for the size the witness had.)
    while cosigned_size().is_none_or(|size| size <= at) {
        assert!(started.elapsed() < Duration::from_secs(20), "no newer cosigned checkpoint after the restart");
        rt.block_on(deny(&mallory, "more")).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let v = cli.json(&["audit", "verify", "--url", &server.url, "--witness", &vkey]);
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["witnessed"]["size"].as_u64().unwrap() > at, "{v}");
    // A witness that goes away never stops the log; /readyz says how far behind it is.
    drop(witness);
    for i in 0..3 {
        rt.block_on(deny(&mallory, &format!("alone{i}"))).unwrap();
    }
    rt.block_on(admin.audit_checkpoint()).unwrap();
    let ready: Value =
        rt.block_on(async { reqwest::get(format!("{}/readyz", server.url)).await.unwrap().json().await.unwrap() });
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["witnesses"][0]["witness"], "example.org/witness", "{ready}");
    assert!(ready["witnesses"][0]["behind"].as_u64().unwrap() > 0, "{ready}");
}

/// A replica started on a fresh data directory (its own pin file lost, or never there)
/// still refuses to sign a log someone cut: the last signed checkpoint is also kept in
/// the object store the replicas share.
#[test]
fn a_fresh_replica_finds_the_shared_signed_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    std::fs::create_dir_all(&db).unwrap();
    let db_url = format!("sqlite://{}", db.join("warden.db").display());
    let objects = tmp.path().join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let blob_url = format!("file://{}", objects.display());
    let key_file = tmp.path().join("secret").join("audit.key");
    std::fs::create_dir_all(key_file.parent().unwrap()).unwrap();
    let env = [("WARDEN_BLOB_URL", blob_url.as_str()), ("WARDEN_AUDIT_SIGNING_KEY_FILE", key_file.to_str().unwrap())];
    let first = serve_with(&tmp.path().join("a"), Some(&db_url), Some(BOOTSTRAP), &env);
    let rt = rt();
    let mallory = rt.block_on(denied_user(&first.url));
    for i in 0..4 {
        rt.block_on(deny(&mallory, &format!("s{i}"))).unwrap();
    }
    rt.block_on(Client::new(&first.url, Some(BOOTSTRAP.to_string())).audit_checkpoint()).unwrap();
    drop(first);
    let shared = std::fs::read_to_string(objects.join("state").join("audit-checkpoint.last")).unwrap();
    assert!(shared.starts_with("warden/audit\n"), "{shared}");
    // Every signed checkpoint is anchored there too, write-once, under its size.
    let size: u64 = shared.lines().nth(1).unwrap().parse().unwrap();
    let anchored = objects.join("state").join("anchors").join(format!("{size:020}.checkpoint"));
    assert_eq!(std::fs::read_to_string(&anchored).unwrap(), shared);
    let anchors = std::fs::read_dir(objects.join("state").join("anchors")).unwrap().count();
    assert!(anchors >= 2, "one per checkpoint signed: {anchors}");

    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db_url).await.unwrap();
        for t in ["audit_log_no_delete", "audit_checkpoints_no_delete"] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}")).execute(&mut c).await.unwrap();
        }
        sqlx::query("DELETE FROM audit_log WHERE idx >= 5").execute(&mut c).await.unwrap();
        sqlx::query("UPDATE audit_head SET size = 5").execute(&mut c).await.unwrap();
        sqlx::query("UPDATE audit_index_head SET size = MIN(size, 5)").execute(&mut c).await.unwrap();
        sqlx::query("DELETE FROM audit_checkpoints WHERE tree_size > 5").execute(&mut c).await.unwrap();
    });
    let second = serve_with(&tmp.path().join("b"), Some(&db_url), None, &env);
    let ready = rt.block_on(async {
        let r = reqwest::get(format!("{}/readyz", second.url)).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(ready.0, 503, "{}", ready.1);
    assert!(ready.1.contains("state/audit-checkpoint.last") && ready.1.contains("removed"), "{}", ready.1);
}

/// SIGKILL the witness while the log keeps appending, three times: a restarted witness
/// has kept at least every checkpoint it cosigned (it persists before it answers), the
/// log catches up with it (a 409 tells the size), and cosigning resumes.
#[test]
fn a_witness_killed_mid_stream_keeps_what_it_cosigned() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, cli, log_key) = log_with_key(tmp.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let start_witness = || {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["witness", "serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(tmp.path().join("witness"))
            .args(["--log", &log_key]);
        until_listening(cmd)
    };
    let mut witness = start_witness();
    let vkey = witness.stdout_lines.iter().find_map(|l| l.strip_prefix("witness key: ")).unwrap().to_string();
    let spec = format!("{} {vkey}", witness.url);
    let server = serve_with(&data, None, None, &[("WARDEN_AUDIT_WITNESSES", spec.as_str())]);
    let rt = rt();
    let mallory = rt.block_on(denied_user(&server.url));
    let readyz = |url: &str| -> Value {
        rt.block_on(async { reqwest::get(format!("{url}/readyz")).await.unwrap().json().await.unwrap() })
    };
    for round in 0..3 {
        for i in 0..5 {
            rt.block_on(deny(&mallory, &format!("r{round}-{i}"))).unwrap();
            std::thread::sleep(Duration::from_millis(120));
        }
        let held = readyz(&server.url)["witnesses"][0]["cosigned"].as_u64().unwrap();
        witness.child.kill().unwrap();
        witness.child.wait().unwrap();
        drop(witness);
        // The log does not stop while its witness is away.
        rt.block_on(deny(&mallory, &format!("alone{round}"))).unwrap();
        witness = start_witness();
        // What the witness kept: at least what the log holds a cosignature for.
        let note = rt.block_on(Client::new(&server.url, Some(BOOTSTRAP.to_string())).audit_checkpoint()).unwrap();
        let asked = rt.block_on(async {
            let r = reqwest::Client::new()
                .post(format!("{}/add-checkpoint", witness.url))
                .body(format!("old 0\n\n{note}"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
        if held > 0 {
            assert_eq!(asked.0, 409, "round {round}: {asked:?}");
            let kept: u64 = asked.1.trim().parse().unwrap();
            assert!(kept >= held, "round {round}: the witness kept {kept}, the log held a cosignature for {held}");
        }
        // Cosigning resumes past what was held.
        rt.block_on(deny(&mallory, &format!("back{round}"))).unwrap();
        let started = Instant::now();
        loop {
            let now = readyz(&server.url)["witnesses"][0]["cosigned"].as_u64().unwrap();
            if now > held {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(40), "round {round}: cosigning did not resume past {held}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let v = cli.json(&["audit", "verify", "--url", &server.url, "--witness", &vkey]);
    assert_eq!(v["ok"], true, "{v}");
}
