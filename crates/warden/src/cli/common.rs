//! What every command file shares: the global flags, the client they give, and how
//! times are shown.

use anyhow::anyhow;
use warden_client::Client;

use crate::credentials;
use crate::output::Format;

#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Server URL (default: the saved login).
    #[arg(long, global = true, env = "WARDEN_URL", value_name = "URL")]
    pub url: Option<String>,
    /// API token (default: the saved login).
    #[arg(long, global = true, env = "WARDEN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Which saved login to use (`warden login --profile NAME` saves one; `warden
    /// profile list` shows them). Saved logins live in WARDEN_CONFIG_DIR (default
    /// ~/.config/warden).
    #[arg(long, global = true, env = "WARDEN_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
}

/// A client for the server and token in the flags, or else the saved login.
pub fn client(g: &Global) -> anyhow::Result<Client> {
    let saved = credentials::load(g.profile.as_deref())?;
    let url = g.url.clone().or_else(|| saved.as_ref().map(|c| c.url.clone()));
    let token = g.token.clone().or_else(|| saved.as_ref().map(|c| c.token.clone()));
    let url = url.ok_or_else(|| anyhow!("not logged in: run `warden login --url URL --token TOKEN` first"))?;
    Ok(Client::new(&url, token).with_progress(std::sync::Arc::new(crate::progress::Bars::default())))
}

/// An RFC 3339 time shortened for tables (`2026-12-07 03:02:37`).
pub fn short(s: &str) -> String {
    s.get(..19).map(|x| x.replace('T', " ")).unwrap_or_else(|| s.to_string())
}

/// Milliseconds since the epoch as RFC 3339 (UTC), for tables.
pub fn millis_to_rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// `NAME@NUMBER` (a registered model version, numbered from 1) → (NAME, NUMBER).
pub fn model_version_number(reference: &str) -> anyhow::Result<(String, u64)> {
    reference
        .rsplit_once('@')
        .and_then(|(n, v)| Some((n, v.parse::<u64>().ok().filter(|v| *v > 0)?)))
        .filter(|(n, _)| !n.is_empty())
        .map(|(n, v)| (n.to_string(), v))
        .ok_or_else(|| anyhow::anyhow!("give the model version as NAME@NUMBER, e.g. fraud@3"))
}
