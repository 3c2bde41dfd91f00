//! Server configuration: `warden.toml`, then `WARDEN_*` environment variables, then flags
//! (later wins). Unknown keys in the file and unknown `WARDEN_*` variables are errors.
//! The environment is passed in as a map so tests never touch the real one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `WARDEN_*` variables that are not configuration keys but are read elsewhere.
const OTHER_VARIABLES: &[&str] = &[
    "WARDEN_CONFIG",
    "WARDEN_BOOTSTRAP_TOKEN",
    "WARDEN_URL",
    "WARDEN_TOKEN",
    "WARDEN_PROFILE",
    "WARDEN_CONFIG_DIR",
    "WARDEN_LOG",
    "WARDEN_LOG_FORMAT",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    max_body_bytes: Option<usize>,
    database_timeout_seconds: Option<u64>,
    blob_url: Option<String>,
    /// The installation's master secret (32 random bytes, hex), from which purpose keys
    /// are derived; created on first start. Replicas share it.
    master_key_file: Option<PathBuf>,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed; from
    /// anyone else the header is ignored and the peer address is the source.
    trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    auth: FileAuth,
    oidc: Option<FileOidc>,
    #[serde(default)]
    audit: FileAudit,
    #[serde(default)]
    gateway: FileGateway,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGateway {
    timeout_seconds: Option<u64>,
    /// The longest server-sent event accepted from a streaming provider (default 1 MiB);
    /// a longer one ends the stream with an error event.
    max_event_bytes: Option<usize>,
    /// Whether an answer waits until its audit record is durable (default true; false
    /// lets the record follow within one group commit, see the README).
    wait_for_audit: Option<bool>,
    /// Per gateway key, per minute (0 or absent: no limit).
    key_requests_per_minute: Option<i64>,
    key_tokens_per_minute: Option<i64>,
    #[serde(default)]
    providers: Vec<FileProvider>,
}

/// `[[gateway.providers]]`: an OpenAI-compatible upstream. The key is read from the
/// environment variable `api_key_env` names; it is never written to the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    name: String,
    base_url: String,
    #[serde(default)]
    api_key_env: Option<String>,
    region: String,
    external: bool,
    models: Vec<String>,
    /// USD per million tokens by model (`*` for the rest): `{ input = 0.15, output = 0.6 }`.
    #[serde(default)]
    prices: std::collections::BTreeMap<String, warden_llm::Price>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAudit {
    origin: Option<String>,
    signing_key_file: Option<PathBuf>,
    export_file: Option<PathBuf>,
    hec_url: Option<String>,
    hec_token: Option<String>,
    /// Witnesses that cosign each checkpoint: `"URL VKEY"` (C2SP tlog-witness).
    witnesses: Option<Vec<String>>,
    /// How often a signed digest of the entries since the last one is made and anchored
    /// (the object store's `anchors/`, the SIEM export, `keys/audit-digest.last`);
    /// default 3600, 0 turns it off.
    digest_every_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    max_failed_attempts: Option<i64>,
    lockout_seconds: Option<i64>,
    session_ttl_seconds: Option<i64>,
    max_token_ttl_seconds: Option<i64>,
    max_bad_tokens_per_source: Option<i64>,
    /// Refused authentications: per interval, the first `refusals_per_credential` per
    /// source and credential (at most `refusals_per_interval` in all) are recorded one by
    /// one; the rest are counted into one summary event per interval.
    refusal_interval_seconds: Option<i64>,
    refusals_per_credential: Option<i64>,
    refusals_per_interval: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOidc {
    issuer: Option<String>,
    audience: Option<String>,
    jwks_url: Option<String>,
    mfa_acr: Option<Vec<String>>,
    /// Accept an `http://` key set (a development identity provider only).
    allow_insecure_http: Option<bool>,
}

/// Flags of `warden serve` that override configuration.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeFlags {
    /// Configuration file (default: ./warden.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the embedded database, blobs and keys.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub mfa_acr: Vec<String>,
}

/// The effective configuration.
#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub database_timeout_seconds: u64,
    /// Where blobs live: `file:///…`, `s3://bucket/prefix`, `az://container/prefix`
    /// (default: the data directory's `blobs/`).
    pub blob_url: Option<String>,
    pub max_failed_attempts: i64,
    pub lockout_seconds: i64,
    pub session_ttl_seconds: i64,
    pub max_token_ttl_seconds: i64,
    pub max_bad_tokens_per_source: i64,
    pub refusals: warden_app::RefusalLimits,
    pub trusted_proxies: Vec<warden_server::TrustedProxy>,
    pub oidc: Option<OidcSettings>,
    pub audit: AuditSettings,
    /// Gateway providers besides the built-in `mock`.
    pub providers: Vec<warden_llm::ProviderConfig>,
    pub llm_timeout_seconds: u64,
    pub llm_limits: warden_llm::Limits,
    pub key_requests_per_minute: i64,
    pub key_tokens_per_minute: i64,
    pub gateway_wait_for_audit: bool,
    pub master_key_file: PathBuf,
}

#[derive(Debug)]
pub struct AuditSettings {
    /// Checkpoint origin and key name.
    pub origin: String,
    /// The checkpoint signing key (created on first start when missing).
    pub signing_key_file: PathBuf,
    /// Append OCSF JSON Lines here.
    pub export_file: Option<PathBuf>,
    /// Push OCSF events to this Splunk HEC endpoint.
    pub hec_url: Option<String>,
    pub hec_token: Option<SecretString>,
    /// Witnesses each new checkpoint is submitted to.
    pub witnesses: Vec<warden_audit::witness::Witness>,
    /// How often a digest of the entries since the last one is anchored (none: never).
    pub digest_every: Option<std::time::Duration>,
}

fn env_parse<T: std::str::FromStr>(env: &BTreeMap<String, String>, key: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match env.get(key) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| anyhow!("{key}={v:?} is not valid: {e}")),
    }
}

impl Config {
    /// Loads the configuration. `env` holds the process environment.
    pub fn load(flags: &ServeFlags, env: &BTreeMap<String, String>) -> anyhow::Result<Config> {
        let known: &[&str] = &[
            "WARDEN_DATA_DIR",
            "WARDEN_DATABASE_URL",
            "WARDEN_LISTEN",
            "WARDEN_MAX_BODY_BYTES",
            "WARDEN_DATABASE_TIMEOUT_SECONDS",
            "WARDEN_BLOB_URL",
            "WARDEN_AUTH_MAX_FAILED_ATTEMPTS",
            "WARDEN_AUTH_LOCKOUT_SECONDS",
            "WARDEN_AUTH_SESSION_TTL_SECONDS",
            "WARDEN_AUTH_MAX_TOKEN_TTL_SECONDS",
            "WARDEN_AUTH_MAX_BAD_TOKENS_PER_SOURCE",
            "WARDEN_AUTH_REFUSAL_INTERVAL_SECONDS",
            "WARDEN_AUTH_REFUSALS_PER_CREDENTIAL",
            "WARDEN_AUTH_REFUSALS_PER_INTERVAL",
            "WARDEN_TRUSTED_PROXIES",
            "WARDEN_GATEWAY_MAX_EVENT_BYTES",
            "WARDEN_OIDC_ISSUER",
            "WARDEN_OIDC_AUDIENCE",
            "WARDEN_OIDC_JWKS_URL",
            "WARDEN_AUDIT_ORIGIN",
            "WARDEN_AUDIT_SIGNING_KEY_FILE",
            "WARDEN_AUDIT_EXPORT_FILE",
            "WARDEN_AUDIT_HEC_URL",
            "WARDEN_AUDIT_HEC_TOKEN",
            "WARDEN_AUDIT_WITNESSES",
            "WARDEN_AUDIT_DIGEST_EVERY_SECONDS",
        ];
        for key in env.keys().filter(|k| k.starts_with("WARDEN_")) {
            // WARDEN_TEST_* belong to the test suites, not to the server.
            if !known.contains(&key.as_str())
                && !OTHER_VARIABLES.contains(&key.as_str())
                && !key.starts_with("WARDEN_TEST_")
            {
                bail!("unknown environment variable {key}; configuration variables are: {}", known.join(", "));
            }
        }

        let path = flags.config.clone().or_else(|| env.get("WARDEN_CONFIG").map(PathBuf::from));
        let file = match &path {
            Some(p) => read_file(p)?,
            None if Path::new("warden.toml").exists() => read_file(Path::new("warden.toml"))?,
            None => FileConfig::default(),
        };

        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env.get("WARDEN_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./warden-data"));
        let database_url = flags
            .database_url
            .clone()
            .or_else(|| env.get("WARDEN_DATABASE_URL").cloned())
            .or(file.database_url)
            .filter(|s| !s.is_empty());
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
                bail!("database URL must start with postgres://, postgresql:// or sqlite:");
            }
        }
        let listen_s = flags
            .listen
            .clone()
            .or_else(|| env.get("WARDEN_LISTEN").cloned())
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8470".into());
        let listen: SocketAddr = listen_s
            .parse()
            .map_err(|_| anyhow!("listen address {listen_s:?} is not HOST:PORT (e.g. 127.0.0.1:8470)"))?;

        let pick_i = |env_key: &str, file_v: Option<i64>, default: i64| -> anyhow::Result<i64> {
            let v = env_parse::<i64>(env, env_key)?.or(file_v).unwrap_or(default);
            if v <= 0 {
                bail!("{env_key} (or its file key) must be positive");
            }
            Ok(v)
        };
        let max_body_bytes =
            env_parse::<usize>(env, "WARDEN_MAX_BODY_BYTES")?.or(file.max_body_bytes).unwrap_or(1024 * 1024);
        let database_timeout_seconds =
            env_parse::<u64>(env, "WARDEN_DATABASE_TIMEOUT_SECONDS")?.or(file.database_timeout_seconds).unwrap_or(5);

        let proxies: Vec<String> = match env.get("WARDEN_TRUSTED_PROXIES") {
            Some(v) => v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect(),
            None => file.trusted_proxies.clone().unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| p.parse::<warden_server::TrustedProxy>().map_err(|e| anyhow!("trusted_proxies: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;

        let fo = file.oidc.unwrap_or_default();
        let issuer = env.get("WARDEN_OIDC_ISSUER").cloned().or(fo.issuer);
        let audience = env.get("WARDEN_OIDC_AUDIENCE").cloned().or(fo.audience);
        let jwks_url = env.get("WARDEN_OIDC_JWKS_URL").cloned().or(fo.jwks_url);
        let oidc = match (issuer, audience, jwks_url) {
            (None, None, None) => None,
            (Some(issuer), Some(audience), Some(jwks_url)) => {
                // The key set decides who may sign in: it is fetched over HTTPS, unless a
                // development identity provider is allowed plain HTTP in so many words.
                let allow_http = fo.allow_insecure_http == Some(true);
                warden_authn::oidc::check_jwks_url(&jwks_url, allow_http).map_err(|e| anyhow!("oidc.jwks_url: {e}"))?;
                if allow_http && jwks_url.starts_with("http://") {
                    tracing::warn!(%jwks_url, "the OIDC key set is fetched over plain HTTP (allow_insecure_http)");
                }
                Some(OidcSettings { issuer, audience, jwks_url, mfa_acr: fo.mfa_acr.unwrap_or_default() })
            }
            _ => bail!("OIDC needs all of issuer, audience and jwks_url"),
        };

        let fa = file.audit;
        let origin = env.get("WARDEN_AUDIT_ORIGIN").cloned().or(fa.origin).unwrap_or_else(|| "warden/audit".into());
        if origin.is_empty() || origin.chars().any(|c| c.is_whitespace() || c == '+') {
            bail!("audit origin {origin:?} must be non-empty without spaces or '+'");
        }
        let signing_key_file = env
            .get("WARDEN_AUDIT_SIGNING_KEY_FILE")
            .map(PathBuf::from)
            .or(fa.signing_key_file)
            .unwrap_or_else(|| data_dir.join("keys").join("audit-checkpoint.key"));
        let hec_url = env.get("WARDEN_AUDIT_HEC_URL").cloned().or(fa.hec_url);
        let hec_token = env.get("WARDEN_AUDIT_HEC_TOKEN").cloned().or(fa.hec_token);
        if hec_url.is_some() != hec_token.is_some() {
            bail!("audit export to a HEC collector needs both hec_url and hec_token");
        }
        let witnesses: Vec<String> = match env.get("WARDEN_AUDIT_WITNESSES") {
            Some(v) => v.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect(),
            None => fa.witnesses.clone().unwrap_or_default(),
        };
        let witnesses = witnesses
            .iter()
            .map(|w| warden_audit::witness::Witness::parse(w).map_err(|e| anyhow!("audit witnesses: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let digest_every =
            env_parse::<u64>(env, "WARDEN_AUDIT_DIGEST_EVERY_SECONDS")?.or(fa.digest_every_seconds).unwrap_or(3600);
        let audit = AuditSettings {
            digest_every: (digest_every > 0).then(|| std::time::Duration::from_secs(digest_every)),
            origin,
            signing_key_file,
            export_file: env.get("WARDEN_AUDIT_EXPORT_FILE").map(PathBuf::from).or(fa.export_file),
            hec_url,
            hec_token: hec_token.map(SecretString::from),
            witnesses,
        };

        let blob_url = env.get("WARDEN_BLOB_URL").cloned().or(file.blob_url).filter(|u| !u.is_empty());
        if let Some(u) = &blob_url {
            if !["file://", "s3://", "s3a://", "az://", "azure://", "abfs://", "abfss://"]
                .iter()
                .any(|p| u.starts_with(p))
            {
                bail!("blob_url must start with file://, s3:// or az://");
            }
        }

        let mut providers = Vec::new();
        for p in file.gateway.providers {
            if providers.iter().any(|x: &warden_llm::ProviderConfig| x.name == p.name) {
                bail!("gateway provider `{}` is configured twice", p.name);
            }
            let api_key = match &p.api_key_env {
                Some(var) => Some(env.get(var).cloned().ok_or_else(|| {
                    anyhow!("gateway provider `{}`: environment variable {var} (api_key_env) is not set", p.name)
                })?),
                None => None,
            };
            let config = warden_llm::ProviderConfig {
                name: p.name,
                kind: warden_llm::ProviderKind::OpenAi,
                base_url: Some(p.base_url),
                api_key,
                region: p.region,
                external: p.external,
                models: p.models,
                prices: p.prices,
            };
            config.check().map_err(|e| anyhow!("gateway: {e}"))?;
            providers.push(config);
        }
        let llm_timeout_seconds = file.gateway.timeout_seconds.unwrap_or(60).max(1);
        let max_event_bytes = env_parse::<usize>(env, "WARDEN_GATEWAY_MAX_EVENT_BYTES")?
            .or(file.gateway.max_event_bytes)
            .unwrap_or(warden_llm::Limits::DEFAULT_MAX_EVENT_BYTES);
        if !(1024..=(256 << 20)).contains(&max_event_bytes) {
            bail!("gateway max_event_bytes must be between 1 KiB and 256 MiB");
        }
        let llm_limits = warden_llm::Limits { max_event_bytes };
        // Durable by default: an answer leaves once its audit record is committed. Turning
        // it off trades the records of the last moments before a crash for latency.
        let gateway_wait_for_audit = file.gateway.wait_for_audit.unwrap_or(true);
        let key_requests_per_minute = file.gateway.key_requests_per_minute.unwrap_or(0);
        let key_tokens_per_minute = file.gateway.key_tokens_per_minute.unwrap_or(0);
        if key_requests_per_minute < 0 || key_tokens_per_minute < 0 {
            bail!("gateway rate limits must be zero (no limit) or positive");
        }

        let master_key_file = env
            .get("WARDEN_MASTER_KEY_FILE")
            .map(PathBuf::from)
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join("keys").join("master.key"));

        Ok(Config {
            master_key_file,
            providers,
            llm_timeout_seconds,
            llm_limits,
            key_requests_per_minute,
            key_tokens_per_minute,
            gateway_wait_for_audit,
            blob_url,
            audit,
            data_dir,
            database_url: database_url.map(SecretString::from),
            listen,
            max_body_bytes,
            database_timeout_seconds,
            max_failed_attempts: pick_i("WARDEN_AUTH_MAX_FAILED_ATTEMPTS", file.auth.max_failed_attempts, 5)?,
            lockout_seconds: pick_i("WARDEN_AUTH_LOCKOUT_SECONDS", file.auth.lockout_seconds, 900)?,
            session_ttl_seconds: pick_i("WARDEN_AUTH_SESSION_TTL_SECONDS", file.auth.session_ttl_seconds, 12 * 3600)?,
            max_token_ttl_seconds: pick_i(
                "WARDEN_AUTH_MAX_TOKEN_TTL_SECONDS",
                file.auth.max_token_ttl_seconds,
                365 * 24 * 3600,
            )?,
            max_bad_tokens_per_source: pick_i(
                "WARDEN_AUTH_MAX_BAD_TOKENS_PER_SOURCE",
                file.auth.max_bad_tokens_per_source,
                20,
            )?,
            refusals: warden_app::RefusalLimits {
                interval_seconds: pick_i(
                    "WARDEN_AUTH_REFUSAL_INTERVAL_SECONDS",
                    file.auth.refusal_interval_seconds,
                    60,
                )?,
                full_per_key: pick_i("WARDEN_AUTH_REFUSALS_PER_CREDENTIAL", file.auth.refusals_per_credential, 5)?
                    .unsigned_abs(),
                full_per_interval: pick_i("WARDEN_AUTH_REFUSALS_PER_INTERVAL", file.auth.refusals_per_interval, 200)?
                    .unsigned_abs(),
            },
            trusted_proxies,
            oidc,
        })
    }

    /// The effective configuration as TOML, with secrets masked.
    pub fn show(&self) -> String {
        let mut out = String::new();
        let db = match &self.database_url {
            Some(u) => mask_url(u.expose_secret()),
            None => format!("sqlite (embedded) at {}", self.data_dir.join("warden.db").display()),
        };
        out.push_str(&format!("data_dir = {:?}\n", self.data_dir.display().to_string()));
        out.push_str(&format!("database_url = {db:?}\n"));
        out.push_str(&format!("listen = {:?}\n", self.listen.to_string()));
        out.push_str(&format!("max_body_bytes = {}\n", self.max_body_bytes));
        out.push_str(&format!("database_timeout_seconds = {}\n", self.database_timeout_seconds));
        let blobs = match &self.blob_url {
            Some(u) => mask_url(u),
            None => format!("file://{}", self.data_dir.join("blobs").display()),
        };
        out.push_str(&format!("blob_url = {blobs:?}\n"));
        out.push_str(&format!("master_key_file = {:?}\n", self.master_key_file.display().to_string()));
        out.push_str("\n[auth]\n");
        out.push_str(&format!("max_failed_attempts = {}\n", self.max_failed_attempts));
        out.push_str(&format!("lockout_seconds = {}\n", self.lockout_seconds));
        out.push_str(&format!("session_ttl_seconds = {}\n", self.session_ttl_seconds));
        out.push_str(&format!("max_token_ttl_seconds = {}\n", self.max_token_ttl_seconds));
        out.push_str(&format!("max_bad_tokens_per_source = {}\n", self.max_bad_tokens_per_source));
        out.push_str(&format!("refusal_interval_seconds = {}\n", self.refusals.interval_seconds));
        out.push_str(&format!("refusals_per_credential = {}\n", self.refusals.full_per_key));
        out.push_str(&format!("refusals_per_interval = {}\n", self.refusals.full_per_interval));
        out.push_str("\n[audit]\n");
        out.push_str(&format!("origin = {:?}\n", self.audit.origin));
        out.push_str(&format!("signing_key_file = {:?}\n", self.audit.signing_key_file.display().to_string()));
        out.push_str(&format!("digest_every_seconds = {}\n", self.audit.digest_every.map_or(0, |d| d.as_secs())));
        if let Some(f) = &self.audit.export_file {
            out.push_str(&format!("export_file = {:?}\n", f.display().to_string()));
        }
        if let Some(u) = &self.audit.hec_url {
            out.push_str(&format!("hec_url = {:?}\nhec_token = \"****\"\n", mask_url(u)));
        }
        if let Some(o) = &self.oidc {
            out.push_str("\n[oidc]\n");
            out.push_str(&format!(
                "issuer = {:?}\naudience = {:?}\njwks_url = {:?}\n",
                o.issuer, o.audience, o.jwks_url
            ));
        }
        out
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Hides the password (and any query string, which may carry secrets) of a URL.
pub fn mask_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split('?').next().unwrap_or(rest);
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { format!("{user}:****") } else { user.to_string() };
            format!("{scheme}://{masked}@{host}")
        }
        None => format!("{scheme}://{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults() {
        let c = Config::load(&ServeFlags::default(), &env(&[])).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("./warden-data"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8470");
        assert!(c.database_url.is_none());
        assert_eq!(c.max_failed_attempts, 5);
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("warden.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\ndata_dir = \"/from/file\"\n[auth]\nmax_failed_attempts = 3\n",
        )
        .unwrap();
        let mut flags = ServeFlags { config: Some(file), ..Default::default() };
        let c = Config::load(&flags, &env(&[])).unwrap();
        assert_eq!(
            (c.listen.port(), c.data_dir.clone(), c.max_failed_attempts),
            (1000, PathBuf::from("/from/file"), 3)
        );
        let e = env(&[("WARDEN_LISTEN", "127.0.0.1:2000"), ("WARDEN_AUTH_MAX_FAILED_ATTEMPTS", "7")]);
        let c = Config::load(&flags, &e).unwrap();
        assert_eq!((c.listen.port(), c.max_failed_attempts), (2000, 7));
        flags.listen = Some("127.0.0.1:3000".into());
        assert_eq!(Config::load(&flags, &e).unwrap().listen.port(), 3000);
    }

    #[test]
    fn the_oidc_key_set_is_fetched_over_https_unless_allowed_otherwise() {
        let oidc = |url: &str, allow: &str| {
            let e = env(&[
                ("WARDEN_OIDC_ISSUER", "https://idp"),
                ("WARDEN_OIDC_AUDIENCE", "warden"),
                ("WARDEN_OIDC_JWKS_URL", url),
            ]);
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("warden.toml");
            std::fs::write(&file, format!("[oidc]\n{allow}")).unwrap();
            Config::load(&ServeFlags { config: Some(file), ..Default::default() }, &e).map(|c| c.oidc.is_some())
        };
        assert!(oidc("https://idp.example/jwks", "").unwrap());
        let err = oidc("http://idp.example/jwks", "").unwrap_err().to_string();
        assert!(err.contains("must be an https:// URL") && err.contains("allow_insecure_http"), "{err}");
        assert!(oidc("http://127.0.0.1:9/jwks", "allow_insecure_http = true\n").unwrap());
        assert!(oidc("http://idp.example/jwks", "allow_insecure_http = false\n").is_err());
        assert!(oidc("ftp://idp.example/jwks", "allow_insecure_http = true\n").is_err());
        assert!(oidc("not a url", "").is_err());
    }

    #[test]
    fn unknown_keys_and_variables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("warden.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:1000\"\n").unwrap();
        let flags = ServeFlags { config: Some(file.clone()), ..Default::default() };
        let err = Config::load(&flags, &env(&[])).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(&file, "[auth]\nmax_failed = 1\n").unwrap();
        assert!(Config::load(&flags, &env(&[])).is_err());
        let err = Config::load(&ServeFlags::default(), &env(&[("WARDEN_LISTN", "x")])).unwrap_err().to_string();
        assert!(err.contains("WARDEN_LISTN"), "{err}");
        assert!(Config::load(&ServeFlags::default(), &env(&[("WARDEN_AUTH_LOCKOUT_SECONDS", "soon")])).is_err());
        assert!(Config::load(&ServeFlags::default(), &env(&[("WARDEN_LISTEN", "nowhere")])).is_err());
        assert!(Config::load(&ServeFlags::default(), &env(&[("WARDEN_OIDC_ISSUER", "https://idp")])).is_err());
        assert!(Config::load(&ServeFlags::default(), &env(&[("WARDEN_BLOB_URL", "ftp://x/y")])).is_err());
        let c = Config::load(&ServeFlags::default(), &env(&[("WARDEN_BLOB_URL", "s3://models/warden")])).unwrap();
        assert_eq!(c.blob_url.as_deref(), Some("s3://models/warden"));
    }

    #[test]
    fn show_masks_secrets() {
        let flags = ServeFlags {
            database_url: Some("postgres://warden:hunter2@db:5432/warden?sslpassword=x".into()),
            ..Default::default()
        };
        let c = Config::load(&flags, &env(&[])).unwrap();
        let shown = c.show();
        assert!(!shown.contains("hunter2") && !shown.contains("sslpassword"), "{shown}");
        assert!(shown.contains("postgres://warden:****@db:5432/warden"), "{shown}");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
