//! Tidy checks: conventions of the repository that a reviewer should not have to police.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Crates from the bottom layer up; a crate may depend only on crates listed before it.
const LAYERS: &[&str] = &[
    "warden-core",
    "warden-api",
    "warden-crypto",
    "warden-policy",
    "warden-policy-doc",
    "warden-authn",
    "warden-intake",
    "warden-redact",
    "warden-llm",
    "warden-lineage",
    "warden-tlog",
    "warden-blob",
    "warden-store",
    "warden-store-sqlite",
    "warden-store-postgres",
    "warden-audit",
    "warden-gateway",
    "warden-app",
    "warden-server",
    "warden-client",
    "warden",
];

fn crates() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_crate_is_in_the_layer_list_and_dependencies_point_down() {
    let mut listed: Vec<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(crates(), listed, "add new crates to LAYERS here and to ARCHITECTURE.md");
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    for c in LAYERS {
        let manifest = fs::read_to_string(root().join("crates").join(c).join("Cargo.toml")).unwrap();
        let deps = manifest.split("[dev-dependencies]").next().unwrap();
        for line in deps.lines() {
            let name = line.split(['.', ' ', '=']).next().unwrap_or("");
            if let Some(r) = rank.get(name) {
                assert!(r < &rank[c], "{c} depends on {name}, which is not below it");
            }
        }
    }
}

#[test]
fn one_crate_per_outside_system() {
    let owners: &[(&str, &[&str])] = &[
        ("cedar_policy", &["warden-policy"]),
        ("sqlx", &["warden-store", "warden-store-sqlite", "warden-store-postgres"]),
        ("aes_gcm", &["warden-crypto"]),
        ("reqwest", &["warden-authn", "warden-llm", "warden-audit", "warden-client"]),
        ("argon2", &["warden-authn"]),
        ("object_store", &["warden-blob"]),
        ("jsonwebtoken", &["warden-authn", "warden-server"]),
    ];
    for c in crates() {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(&c).join("src"), &mut files);
        for f in files {
            let text = fs::read_to_string(&f).unwrap();
            for (krate, allowed) in owners {
                if text.contains(&format!("{krate}::")) && !allowed.contains(&c.as_str()) {
                    panic!("{} uses {krate}, which belongs to {allowed:?}", f.display());
                }
            }
        }
    }
}

/// The crates' rows in ARCHITECTURE.md's table: (crate, its "talks to" cell).
fn talks_to() -> BTreeMap<String, String> {
    let doc = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // | `crate` | owns | talks to |
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            (cells.len() == 5 && name.starts_with("warden")).then(|| (name.to_string(), cells[3].to_string()))
        })
        .collect()
}

/// What a crate depends on outside its tests (target-specific tables included).
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_deps = line.ends_with("dependencies]") && !line.contains("dev-dependencies");
            continue;
        }
        if in_deps {
            if let Some(name) = line.split(['.', ' ', '=']).next().filter(|n| !n.is_empty()) {
                deps.push(name.to_string());
            }
        }
    }
    deps
}

/// Whether a crate's code (its tests left out) reads or writes files itself.
fn touches_files(krate: &str) -> bool {
    let mut files = Vec::new();
    rust_files(&root().join("crates").join(krate).join("src"), &mut files);
    files.iter().filter(|f| !f.ends_with("tests.rs")).any(|f| {
        let text = fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        ["std::fs", "tokio::fs", "fs::", "File::", "OpenOptions", "tempfile::"].iter().any(|p| code.contains(p))
    })
}

/// ARCHITECTURE.md's "talks to" column is true: a crate names an outside system (in
/// backticks) exactly when it depends on the crate that reaches it, and says `files`
/// exactly when its own code opens files. A pure crate says `nothing`.
#[test]
fn the_architecture_table_says_who_talks_to_what() {
    let table = talks_to();
    let listed: Vec<&String> = table.keys().collect();
    let mut all = crates();
    all.sort();
    assert_eq!(listed, all.iter().collect::<Vec<_>>(), "every crate has one row in ARCHITECTURE.md's table");
    let systems =
        ["sqlx", "cedar-policy", "reqwest", "object_store", "aes-gcm", "jsonwebtoken", "argon2", "axum", "files"];
    for system in systems {
        for (krate, cell) in &table {
            let says = cell.contains(&format!("`{system}`"));
            let does =
                if system == "files" { touches_files(krate) } else { dependencies(krate).iter().any(|d| d == system) };
            assert_eq!(
                says,
                does,
                "{krate}: ARCHITECTURE.md {} `{system}` but the crate {}",
                if says { "names" } else { "does not name" },
                if does { "uses it" } else { "does not use it" }
            );
        }
    }
    for (krate, cell) in &table {
        if cell.starts_with("nothing") {
            assert!(!systems.iter().any(|s| cell.contains(&format!("`{s}`"))), "{krate}: `nothing` and a system");
        }
    }
}

#[test]
fn every_crate_forbids_unsafe_code() {
    for c in crates() {
        let src = root().join("crates").join(&c).join("src");
        let top = if src.join("lib.rs").exists() { src.join("lib.rs") } else { src.join("main.rs") };
        let text = fs::read_to_string(&top).unwrap();
        assert!(text.contains("#![forbid(unsafe_code)]"), "{} lacks #![forbid(unsafe_code)]", top.display());
    }
}

#[test]
fn every_migration_exists_for_both_engines() {
    let names = |engine: &str| -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(root().join("crates").join(format!("warden-store-{engine}")).join("migrations"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "each migration needs a SQLite and a PostgreSQL version");
}

#[test]
fn nothing_logs_secrets() {
    // Tracing fields that would carry secrets or payloads must not exist.
    let forbidden = ["password =", "token =", "secret =", "password=%", "token=%", "secret=%", "body =", "payload ="];
    for c in crates() {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(&c).join("src"), &mut files);
        for f in files {
            let text = fs::read_to_string(&f).unwrap();
            for line in text.lines().filter(|l| {
                l.contains("tracing::")
                    || l.contains("info!(")
                    || l.contains("warn!(")
                    || l.contains("error!(")
                    || l.contains("debug!(")
            }) {
                for bad in forbidden {
                    assert!(!line.contains(bad), "{}: a log line names `{bad}`: {line}", f.display());
                }
            }
        }
    }
}
