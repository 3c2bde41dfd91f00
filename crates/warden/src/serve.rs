//! `warden serve`: picks the store from the configuration, bootstraps the first
//! administrator, and runs the HTTP server until SIGINT/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use warden_app::{App, AppConfig, Clock, SystemClock};
use warden_authn::{OidcConfig, OidcVerifier};
use warden_server::ServerConfig;
use warden_store::Store;

use crate::config::Config;

pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match &config.database_url {
        Some(url) if url.expose_secret().starts_with("postgres") => {
            let store = warden_store_postgres::connect(
                url.expose_secret(),
                Duration::from_secs(config.database_timeout_seconds),
            )
            .await
            .map_err(|e| anyhow::anyhow!("PostgreSQL: {e}"))?;
            Ok(Arc::new(store))
        }
        Some(url) => {
            let store =
                warden_store_sqlite::open_url(url.expose_secret()).await.map_err(|e| anyhow::anyhow!("SQLite: {e}"))?;
            Ok(Arc::new(store))
        }
        None => {
            for sub in ["", "blobs", "keys"] {
                let dir = config.data_dir.join(sub);
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                restrict(&dir)?;
            }
            let path = config.data_dir.join("warden.db");
            let store = warden_store_sqlite::open(&path)
                .await
                .map_err(|e| anyhow::anyhow!("SQLite at {}: {e}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

#[cfg(unix)]
fn restrict(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict permissions of {}", dir.display()))
}

#[cfg(not(unix))]
fn restrict(_: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

/// Loads the checkpoint signing key, creating it (mode 0600) on first start.
pub fn signing_key(config: &Config) -> anyhow::Result<warden_audit::SigningKey> {
    let path = &config.audit.signing_key_file;
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let key = warden_audit::SigningKey::generate(&config.audit.origin).map_err(|e| anyhow::anyhow!("{e}"))?;
        match write_new_private(path, key.to_private_string().as_bytes()) {
            Ok(()) => {
                tracing::info!(key = %key.verifier(), "created the audit checkpoint key");
                return Ok(key);
            }
            // Another replica created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let key =
        warden_audit::SigningKey::from_private_string(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if key.name() != config.audit.origin {
        anyhow::bail!(
            "the key in {} is named `{}` but the audit origin is `{}`",
            path.display(),
            key.name(),
            config.audit.origin
        );
    }
    Ok(key)
}

/// Loads the master secret, creating it (mode 0600) on first start.
pub fn master_key(config: &Config) -> anyhow::Result<warden_app::MasterKey> {
    let path = &config.master_key_file;
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let key = warden_app::MasterKey::random();
        match write_new_private(path, format!("{}\n", key.to_hex()).as_bytes()) {
            Ok(()) => return Ok(key),
            // Another replica created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    warden_app::MasterKey::from_hex(&text)
        .ok_or_else(|| anyhow::anyhow!("{} must hold 32 bytes as 64 hex digits", path.display()))
}

/// Writes a new file readable only by its owner; fails if it already exists.
#[cfg(unix)]
pub(crate) fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The last signed checkpoint, kept in the object store the replicas share.
struct ObjectStorePin {
    blobs: warden_blob::BlobStore,
    url: String,
}

const SHARED_PIN: &str = "audit-checkpoint.last";

impl warden_audit::pin::SharedPin for ObjectStorePin {
    fn load(&self) -> warden_audit::pin::PinFuture<'_, Option<String>> {
        Box::pin(async move {
            let bytes = self.blobs.read_state(SHARED_PIN).await.map_err(|e| e.to_string())?;
            bytes.map(|b| String::from_utf8(b.to_vec()).map_err(|_| "not UTF-8".to_string())).transpose()
        })
    }
    fn store<'a>(&'a self, note: &'a str) -> warden_audit::pin::PinFuture<'a, ()> {
        Box::pin(async move {
            self.blobs.write_state(SHARED_PIN, note.as_bytes().to_vec()).await.map_err(|e| e.to_string())
        })
    }
    fn anchor<'a>(&'a self, size: u64, note: &'a str) -> warden_audit::pin::PinFuture<'a, ()> {
        Box::pin(async move {
            let name = format!("anchors/{size:020}.checkpoint");
            self.blobs.write_state_once(&name, note.as_bytes().to_vec()).await.map(drop).map_err(|e| e.to_string())
        })
    }
    fn anchor_digest<'a>(&'a self, to: u64, note: &'a str) -> warden_audit::pin::PinFuture<'a, ()> {
        Box::pin(async move {
            let name = format!("anchors/{to:020}.digest");
            self.blobs.write_state_once(&name, note.as_bytes().to_vec()).await.map(drop).map_err(|e| e.to_string())
        })
    }
    fn describe(&self) -> String {
        format!("{}/state/{SHARED_PIN}", self.url.trim_end_matches('/'))
    }
}

pub async fn run(
    config: Config,
    bootstrap_token: Option<String>,
    on_listening: Option<Box<dyn FnOnce(SocketAddr) + Send>>,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let key = signing_key(&config)?;
    let blobs = match &config.blob_url {
        Some(url) => warden_blob::BlobStore::from_url(url),
        None => warden_blob::BlobStore::local(&config.data_dir.join("blobs")),
    }
    .map_err(|e| anyhow::anyhow!("blob store: {e}"))?;
    let ledger = warden_audit::Ledger::open(
        store.clone(),
        key,
        warden_audit::LedgerConfig {
            origin: config.audit.origin.clone(),
            // The last signed checkpoint, kept outside the database: in the data
            // directory, and (when blobs live in an object store replicas share) there too.
            pin_file: Some(config.data_dir.join("keys").join("audit-checkpoint.last")),
            shared_pin: config.blob_url.as_ref().map(|url| {
                warden_audit::pin::Shared(Arc::new(ObjectStorePin { blobs: blobs.clone(), url: url.clone() }))
            }),
            digest_every: config.audit.digest_every,
            digest_file: Some(config.data_dir.join("keys").join("audit-digest.last")),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("audit ledger: {e}"))?;
    let clock = || SystemClock.now();
    if let Some(path) = &config.audit.export_file {
        warden_audit::export::spawn(
            ledger.clone(),
            "file".into(),
            warden_audit::export::Sink::File(path.clone()),
            Duration::from_millis(500),
            clock,
        );
    }
    if !config.audit.witnesses.is_empty() {
        warden_audit::witness::spawn(ledger.clone(), config.audit.witnesses.clone(), Duration::from_millis(500));
    }
    if let (Some(url), Some(token)) = (&config.audit.hec_url, &config.audit.hec_token) {
        let sink = warden_audit::export::Sink::hec(url, token.expose_secret());
        warden_audit::export::spawn(ledger.clone(), "hec".into(), sink, Duration::from_millis(500), clock);
    }
    let oidc = config.oidc.as_ref().map(|o| {
        let mut c = OidcConfig::new(&o.issuer, &o.audience, &o.jwks_url);
        c.mfa_acr = o.mfa_acr.clone();
        OidcVerifier::new(c)
    });
    let app_config = AppConfig {
        max_failed_attempts: config.max_failed_attempts,
        lockout_seconds: config.lockout_seconds,
        session_ttl_seconds: config.session_ttl_seconds,
        max_token_ttl_seconds: config.max_token_ttl_seconds,
        max_bad_tokens_per_source: config.max_bad_tokens_per_source,
        refusals: config.refusals,
        providers: config.providers.clone(),
        llm_timeout_seconds: config.llm_timeout_seconds,
        llm_limits: config.llm_limits,
        key_requests_per_minute: config.key_requests_per_minute,
        key_tokens_per_minute: config.key_tokens_per_minute,
        gateway_wait_for_audit: config.gateway_wait_for_audit,
        master_key: master_key(&config)?,
        ..AppConfig::default()
    };
    let app = Arc::new(
        App::new(store.clone(), ledger, blobs, Arc::new(SystemClock), app_config, oidc)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let minted = app.bootstrap(bootstrap_token.as_deref()).await.map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;
    // TOTP secrets stored in clear by an older version are sealed now.
    match app.seal_totp_secrets().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sealed = n, "sealed TOTP secrets stored in clear by an older version"),
        Err(e) => anyhow::bail!("cannot seal stored TOTP secrets: {e}"),
    }
    // Retention: expired payload logs are deleted (each deletion recorded) every minute.
    let retention = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = retention.apply_retention(retention.now()).await {
                tracing::warn!(error = %e, "retention run failed; it will run again");
            }
        }
    });
    // Refusals counted but not recorded one by one get their summary when their interval
    // ends, even if no further refusal arrives.
    let refusals = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = refusals.flush_refusals().await {
                tracing::warn!(error = %e, "could not record the summary of refused authentications; will retry");
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let router = warden_server::router(
        app.clone(),
        &ServerConfig { max_body_bytes: config.max_body_bytes, trusted_proxies: config.trusted_proxies.clone() },
    );

    let mut out = std::io::stdout().lock();
    if let Some(token) = minted {
        writeln!(out, "created the first administrator `admin`; its API token (shown once, keep it safe):")?;
        writeln!(out, "{token}")?;
        writeln!(out, "log in with: warden login --url http://{addr} --token <token>")?;
    }
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    tracing::info!(%addr, engine = store.engine(), "warden serving");
    if let Some(then) = on_listening {
        then(addr);
    }

    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await
        .context("server error")?;
    app.drain(std::time::Duration::from_secs(10)).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
