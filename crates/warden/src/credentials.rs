//! The CLI's saved logins: one per profile, in `<config dir>/warden/credentials.toml`
//! (mode 0600), so that one person can keep several identities (an administrator and
//! an approver, two servers) and pick one with `--profile NAME` or `WARDEN_PROFILE`.
//!
//! ```toml
//! current = "admin"          # used when no --profile is given (else "default")
//! [profiles.admin]
//! url = "http://127.0.0.1:8470"
//! token = "wdn_…"
//! ```
//!
//! A file from before profiles (`url` and `token` at the top) is read as the profile
//! `default` and rewritten in this form on the next save.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

/// The profile used when none is named and none is current.
pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub url: String,
    pub token: String,
}

/// Everything saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Credentials>,
    // The form from before profiles.
    #[serde(default, skip_serializing)]
    url: Option<String>,
    #[serde(default, skip_serializing)]
    token: Option<String>,
}

impl Saved {
    /// The profile a command uses: the one named, else the current one, else `default`.
    pub fn chosen(&self, named: Option<&str>) -> String {
        named.map(str::to_string).or_else(|| self.current.clone()).unwrap_or_else(|| DEFAULT_PROFILE.to_string())
    }
}

pub fn dir() -> anyhow::Result<PathBuf> {
    if let Ok(d) = std::env::var("WARDEN_CONFIG_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Ok(x) = std::env::var("XDG_CONFIG_HOME") {
        if !x.is_empty() {
            return Ok(PathBuf::from(x).join("warden"));
        }
    }
    let home =
        std::env::var("HOME").map_err(|_| anyhow!("cannot find a config directory: set HOME or WARDEN_CONFIG_DIR"))?;
    Ok(PathBuf::from(home).join(".config").join("warden"))
}

/// The credentials file in a configuration directory.
fn file_in(dir: &std::path::Path) -> PathBuf {
    dir.join("credentials.toml")
}

/// A profile name: letters, digits, `-`, `_`, `.`, at most 64.
pub fn profile_ok(name: &str) -> anyhow::Result<()> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !fine {
        bail!("`{name}` is not a profile name (letters, digits, `-`, `_`, `.`; at most 64)");
    }
    Ok(())
}

/// All saved profiles (none when nothing is saved).
pub fn load_all() -> anyhow::Result<Saved> {
    load_from(&file_in(&dir()?))
}

fn load_from(p: &std::path::Path) -> anyhow::Result<Saved> {
    if !p.exists() {
        return Ok(Saved::default());
    }
    let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    let mut saved: Saved = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", p.display()))?;
    if let (Some(url), Some(token)) = (saved.url.take(), saved.token.take()) {
        saved.profiles.entry(DEFAULT_PROFILE.to_string()).or_insert(Credentials { url, token });
    }
    Ok(saved)
}

/// The saved login of the profile named, else the current one.
pub fn load(profile: Option<&str>) -> anyhow::Result<Option<Credentials>> {
    let saved = load_all()?;
    let name = saved.chosen(profile);
    match saved.profiles.get(&name) {
        Some(c) => Ok(Some(c.clone())),
        None if profile.is_some() => {
            let known: Vec<&str> = saved.profiles.keys().map(String::as_str).collect();
            bail!(
                "no saved login for profile `{name}` (saved: {}); sign in with `warden login --profile {name} --url URL …`",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )
        }
        None => Ok(None),
    }
}

/// Saves a login under the profile named (else the current one); returns the file and
/// the profile it was saved as.
pub fn save(profile: Option<&str>, c: &Credentials) -> anyhow::Result<(PathBuf, String)> {
    let mut saved = load_all()?;
    let name = saved.chosen(profile);
    profile_ok(&name)?;
    saved.profiles.insert(name.clone(), c.clone());
    Ok((write(&saved)?, name))
}

/// Forgets the profile named (else the current one); whether it was there.
pub fn remove(profile: Option<&str>) -> anyhow::Result<bool> {
    let mut saved = load_all()?;
    let name = saved.chosen(profile);
    let was = saved.profiles.remove(&name).is_some();
    if saved.current.as_deref() == Some(name.as_str()) {
        saved.current = None;
    }
    write(&saved)?;
    Ok(was)
}

/// Makes a saved profile the one used when none is named.
pub fn set_current(profile: &str) -> anyhow::Result<()> {
    let mut saved = load_all()?;
    if !saved.profiles.contains_key(profile) {
        bail!("no saved login for profile `{profile}`: sign in first with `warden login --profile {profile} …`");
    }
    saved.current = Some(profile.to_string());
    write(&saved)?;
    Ok(())
}

/// Points every saved profile in `dir` whose name starts with `prefix` at `url` (the
/// demo's profiles, when the demo server restarts on another address).
pub fn repoint(dir: &std::path::Path, prefix: &str, url: &str) -> anyhow::Result<()> {
    let mut saved = load_from(&file_in(dir))?;
    for (_, c) in saved.profiles.iter_mut().filter(|(n, _)| n.starts_with(prefix)) {
        c.url = url.to_string();
    }
    write_to(dir, &saved)?;
    Ok(())
}

fn write(saved: &Saved) -> anyhow::Result<PathBuf> {
    write_to(&dir()?, saved)
}

fn write_to(d: &std::path::Path, saved: &Saved) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    let p = file_in(d);
    let text = toml::to_string(saved)?;
    write_private(&p, text.as_bytes()).with_context(|| format!("cannot write {}", p.display()))?;
    Ok(p)
}

#[cfg(unix)]
fn write_private(p: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(p)?;
    // An existing file keeps its mode on open; force 0600 either way.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(p: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(p, bytes)
}
