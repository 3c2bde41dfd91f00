//! Starts Warden in-process on 127.0.0.1:0 over a real store (SQLite in a temp dir, or a
//! fresh PostgreSQL schema) with a clock the test controls.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use warden_app::{App, AppConfig, Clock};
use warden_core::Timestamp;
use warden_server::ServerConfig;
use warden_store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A clock that moves only when told to.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        Timestamp(real + self.0.load(Ordering::SeqCst))
    }
}

pub struct Server {
    pub url: String,
    pub admin_token: String,
    pub clock: Arc<ManualClock>,
    pub verifier: warden_audit::VerifierKey,
    pub http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
    pub blob_dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
    /// What a replica needs: the PostgreSQL URL, the configuration (master key
    /// included) and the checkpoint key.
    postgres: Option<String>,
    config: AppConfig,
    signing_key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Options {
    pub engine: Engine,
    pub max_body_bytes: usize,
    pub max_failed_attempts: i64,
    pub max_bad_tokens_per_source: i64,
    pub oidc: Option<warden_authn::OidcConfig>,
    /// Override the PostgreSQL URL (e.g. through a proxy the test controls).
    pub postgres_url: Option<String>,
    /// Gateway providers besides the built-in mock.
    pub providers: Vec<warden_llm::ProviderConfig>,
    /// Per-key gateway limits (0: none).
    pub key_rpm: i64,
    pub gateway_wait_for_audit: bool,
    /// How refused authentications are recorded.
    pub refusals: warden_app::RefusalLimits,
}

impl Options {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            max_body_bytes: 64 * 1024,
            max_failed_attempts: 3,
            max_bad_tokens_per_source: 1000,
            refusals: warden_app::RefusalLimits::default(),
            oidc: None,
            postgres_url: None,
            providers: Vec::new(),
            key_rpm: 0,
            gateway_wait_for_audit: true,
        }
    }
}

pub async fn postgres_url() -> String {
    let base =
        warden_store_postgres::testing::test_url().expect("WARDEN_TEST_POSTGRES must be set for PostgreSQL tests");
    warden_store_postgres::testing::fresh_schema(&base, "api").await.expect("PostgreSQL must be reachable")
}

pub async fn start(opts: Options) -> Server {
    let mut postgres = None;
    let (store, dir): (Arc<dyn Store>, _) = match opts.engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let s = warden_store_sqlite::open(&dir.path().join("warden.db")).await.unwrap();
            (Arc::new(s), Some(dir))
        }
        Engine::Postgres => {
            let url = match opts.postgres_url {
                Some(u) => u,
                None => postgres_url().await,
            };
            let s = warden_store_postgres::connect(&url, Duration::from_secs(2)).await.unwrap();
            postgres = Some(url);
            (Arc::new(s), None)
        }
    };
    let clock = Arc::new(ManualClock::default());
    let config = AppConfig {
        max_failed_attempts: opts.max_failed_attempts,
        max_bad_tokens_per_source: opts.max_bad_tokens_per_source,
        refusals: opts.refusals,
        max_blob_bytes: 8 << 20,
        lockout_seconds: 600,
        providers: opts.providers,
        key_requests_per_minute: opts.key_rpm,
        gateway_wait_for_audit: opts.gateway_wait_for_audit,
        // (Longer than the slowest test stream, 2.1 s; shorter than the `hang` model, 5 s.)
        llm_timeout_seconds: 3,
        // Sessions outlive the longest clock jump of any scenario (the administrator's
        // session with a second factor is used throughout).
        session_ttl_seconds: 90 * 86_400,
        ..AppConfig::default()
    };
    let oidc = opts.oidc.map(warden_authn::OidcVerifier::new);
    let key = warden_audit::SigningKey::generate("warden/test").unwrap();
    let signing_key = key.to_private_string();
    let blob_dir = tempfile::tempdir().unwrap();
    let (url, task, app) =
        serve(store, key, blob_dir.path(), clock.clone(), config.clone(), oidc, opts.max_body_bytes).await;
    let admin_token = app.bootstrap(None).await.unwrap().expect("fresh store bootstraps");
    let verifier = warden_audit::SigningKey::from_private_string(&signing_key).unwrap().verifier();
    Server {
        url,
        admin_token,
        clock,
        verifier,
        blob_dir,
        http: reqwest::Client::new(),
        _dir: dir,
        task,
        postgres,
        config,
        signing_key,
    }
}

async fn serve(
    store: Arc<dyn Store>,
    key: warden_audit::SigningKey,
    blob_dir: &std::path::Path,
    clock: Arc<ManualClock>,
    config: AppConfig,
    oidc: Option<warden_authn::OidcVerifier>,
    max_body_bytes: usize,
) -> (String, tokio::task::JoinHandle<()>, Arc<App>) {
    let ledger_config = warden_audit::LedgerConfig { origin: "warden/test".into(), ..Default::default() };
    let ledger = warden_audit::Ledger::open(store.clone(), key, ledger_config).await.unwrap();
    let blobs = warden_blob::BlobStore::local(blob_dir).unwrap();
    let app = Arc::new(App::new(store.clone(), ledger, blobs, clock, config, oidc).unwrap());
    let router = warden_server::router(app.clone(), &ServerConfig { max_body_bytes, ..ServerConfig::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    (url, task, app)
}

impl Server {
    /// The SQLite database's files (the database and its write-ahead log).
    /// The PostgreSQL URL (with its schema) the server runs on, if it does.
    pub fn postgres_url(&self) -> Option<&str> {
        self.postgres.as_deref()
    }

    pub fn sqlite_files(&self) -> Vec<std::path::PathBuf> {
        let Some(dir) = &self._dir else { return Vec::new() };
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect()
    }

    /// Another replica on the same PostgreSQL database, with the same configuration
    /// and keys, serving on its own address.
    pub async fn replica(&self) -> Server {
        let url = self.postgres.clone().expect("replicas share a PostgreSQL database");
        let store = warden_store_postgres::connect(&url, Duration::from_secs(2)).await.unwrap();
        let key = warden_audit::SigningKey::from_private_string(&self.signing_key).unwrap();
        let clock = self.clock.clone();
        let (url2, task, app) =
            serve(Arc::new(store), key, self.blob_dir.path(), clock.clone(), self.config.clone(), None, 64 * 1024)
                .await;
        assert!(app.bootstrap(None).await.unwrap().is_none(), "the replica finds the store bootstrapped");
        Server {
            url: url2,
            admin_token: self.admin_token.clone(),
            clock,
            verifier: self.verifier.clone(),
            // (an empty folder of its own; the replica stores blobs in the primary's)
            blob_dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
            _dir: None,
            task,
            postgres: Some(url),
            config: self.config.clone(),
            signing_key: self.signing_key.clone(),
        }
    }
}

/// A response: status, content type, JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Res {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "problems are problem+json");
        assert_eq!(self.body["code"], code, "problem code; body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("urn:warden:problem:{code}"));
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self.body
    }
}

impl Res {
    /// Status, content type and JSON body (null when there is none) of a response.
    pub async fn read(res: reqwest::Response) -> Res {
        let status = res.status();
        let content_type =
            res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let text = res.text().await.unwrap();
        Res { status, content_type, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }
}

impl Server {
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Res::read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Enrols TOTP for the token's owner; returns the secret.
    pub async fn enrol_totp(&self, token: &str) -> String {
        self.enrol_totp_session(token).await.0
    }

    /// Enrols TOTP for the token's owner; returns the secret and the session verified
    /// with it that confirming gives.
    pub async fn enrol_totp_session(&self, token: &str) -> (String, String) {
        let e = self.post("/api/v1/me/totp", token, json!({})).await.expect(201);
        let secret = e["secret"].as_str().unwrap().to_string();
        let code = self.code(&secret);
        let s = self.post("/api/v1/me/totp/confirm", token, json!({"code": code})).await.expect(200);
        assert_eq!(s["mfa"], true);
        (secret, s["token"].as_str().unwrap().to_string())
    }

    /// The TOTP code for the server's current (possibly advanced) time.
    pub fn code(&self, secret: &str) -> String {
        warden_authn::totp::code_at(secret, self.clock.now().0 / 1000).unwrap()
    }

    /// The bootstrap administrator with TOTP enrolled: the session verified with it
    /// that confirming gave, which organisation-wide changes need.
    pub async fn admin(&self) -> String {
        self.enrol_totp_session(&self.admin_token).await.1
    }

    /// Creates a user with a password and returns (id, session token).
    pub async fn user(&self, admin: &str, name: &str) -> (String, String) {
        let password = format!("{name}-correct-horse");
        let u = self.post("/api/v1/users", admin, json!({"name": name, "password": password})).await.expect(201);
        let login = self
            .call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": name, "password": password})))
            .await
            .expect(200);
        (u["id"].as_str().unwrap().to_string(), login["token"].as_str().unwrap().to_string())
    }

    pub async fn project(&self, admin: &str, name: &str, owner: Option<&str>) -> String {
        let mut body = json!({"name": name});
        if let Some(o) = owner {
            body["owner"] = json!(o);
        }
        self.post("/api/v1/projects", admin, body).await.expect(201)["id"].as_str().unwrap().to_string()
    }

    pub async fn count_projects(&self, admin: &str) -> usize {
        self.get("/api/v1/projects?limit=500", admin).await.expect(200)["items"].as_array().unwrap().len()
    }
}

/// Runs a scenario on SQLite, and on PostgreSQL as an ignored test: run it with
/// `--ignored` and `WARDEN_TEST_POSTGRES` naming a server (`.ci/run` does); without the
/// variable it fails.
#[macro_export]
macro_rules! both_engines {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
            async fn postgres() {
                warden_store_postgres::testing::test_url()
                    .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
                super::$name($crate::harness::Engine::Postgres).await;
            }
        }
    };
}
