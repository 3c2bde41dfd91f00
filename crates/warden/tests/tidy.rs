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
