//! The CLI's saved login: URL and token in `<config dir>/warden/credentials.toml`, mode 0600.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub url: String,
    pub token: String,
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

fn path() -> anyhow::Result<PathBuf> {
    Ok(dir()?.join("credentials.toml"))
}

pub fn load() -> anyhow::Result<Option<Credentials>> {
    let p = path()?;
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    toml::from_str(&text).map(Some).map_err(|e| anyhow!("{}: {e}", p.display()))
}

pub fn save(c: &Credentials) -> anyhow::Result<PathBuf> {
    let d = dir()?;
    std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    let p = path()?;
    let text = toml::to_string(c)?;
    write_private(&p, text.as_bytes()).with_context(|| format!("cannot write {}", p.display()))?;
    Ok(p)
}

pub fn remove() -> anyhow::Result<bool> {
    let p = path()?;
    if p.exists() {
        std::fs::remove_file(&p)?;
        return Ok(true);
    }
    Ok(false)
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
