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

/// A crate's modules (`""` is the root) and the modules each one's code names, read
/// from the source: `crate::a::b::…` and `super::` paths in a module, `a::b::Type`
/// paths in the root. Tests and re-exports (`pub use a::*`) are left out.
fn module_graph(krate: &str) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = root().join("crates").join(krate).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut code = BTreeMap::new();
    for f in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut name = rel.to_string_lossy().replace('/', "::");
        name = name.trim_end_matches("::mod").to_string();
        if name == "lib" || name == "main" {
            name = String::new();
        }
        let text = fs::read_to_string(f).unwrap();
        code.insert(name, text.split("#[cfg(test)]").next().unwrap_or("").to_string());
    }
    let longest = |path: &str, code: &BTreeMap<String, String>| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().map(|i| parts[..i].join("::")).find(|m| code.contains_key(m))
    };
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map(str::to_string).collect()
    };
    let mut graph = BTreeMap::new();
    for (m, text) in &code {
        let mut deps = std::collections::BTreeSet::new();
        for w in words(text) {
            if m.is_empty() {
                // The root names a module by a path to one of its types.
                if let Some((path, last)) = w.rsplit_once("::") {
                    if last.starts_with(|c: char| c.is_ascii_uppercase()) && !path.starts_with("crate") {
                        deps.extend(longest(path, &code).filter(|d| !d.is_empty()));
                    }
                }
            } else if let Some(rest) = w.strip_prefix("crate::").filter(|r| !r.is_empty()) {
                match longest(rest, &code) {
                    Some(module) => {
                        deps.insert(module);
                    }
                    None => match reexported(&code[""], rest.split("::").next().unwrap_or("")) {
                        Some(from) => deps.extend(longest(&from, &code)),
                        None => {
                            deps.insert(String::new());
                        }
                    },
                }
            } else if w == "super" || w.starts_with("super::") {
                deps.insert(m.rsplit_once("::").map(|(p, _)| p.to_string()).unwrap_or_default());
            }
        }
        // `use crate::{A, B}`: each name's module, or the root for what the root defines;
        // names the root re-exports from other crates name nothing here.
        if !m.is_empty() {
            for group in text.split("use crate::{").skip(1) {
                for name in group.split('}').next().unwrap_or("").split(',').map(str::trim) {
                    let name = name.split("::").next().unwrap_or("");
                    if code.contains_key(name) {
                        deps.insert(name.to_string());
                    } else if let Some(from) = reexported(&code[""], name) {
                        deps.extend(longest(&from, &code));
                    } else if !name.is_empty() {
                        deps.insert(String::new());
                    }
                }
            }
        }
        deps.remove(m);
        graph.insert(m.clone(), deps);
    }
    graph
}

/// The path the root's `pub use path::{…, name, …}` or `pub use path::name` takes
/// `name` from (one of the crate's modules, or another crate), or `None` when the root
/// does not re-export it.
fn reexported(root: &str, name: &str) -> Option<String> {
    root.lines().filter_map(|l| l.trim().strip_prefix("pub use ")).find_map(|u| {
        let u = u.trim_end_matches(';');
        let (path, names) = match u.split_once("::{") {
            Some((p, rest)) => (p, rest.trim_end_matches('}').split(',').map(str::trim).collect::<Vec<_>>()),
            None => {
                let (p, n) = u.rsplit_once("::")?;
                (p, vec![n])
            }
        };
        names.contains(&name).then(|| path.to_string())
    })
}

/// No import circles between a crate's modules: shared helpers live below the modules
/// that use them, never in a module that imports its users back.
#[test]
fn no_module_imports_its_importers() {
    let mut circles = Vec::new();
    for c in crates() {
        let graph = module_graph(&c);
        // Depth-first search for a back edge.
        fn visit<'a>(
            m: &'a str,
            graph: &'a BTreeMap<String, std::collections::BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut std::collections::BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(i) = path.iter().position(|p| *p == m) {
                return Some(path[i..].iter().chain([&m]).map(|s| format!("`{s}`")).collect());
            }
            if !done.insert(m) {
                return None;
            }
            path.push(m);
            for d in graph.get(m).into_iter().flatten() {
                if let Some(cycle) = visit(d, graph, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            None
        }
        let mut done = std::collections::BTreeSet::new();
        for m in graph.keys() {
            if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
                circles.push(format!("{c}: {} (`` is the crate root)", cycle.join(" -> ")));
            }
        }
    }
    assert!(circles.is_empty(), "modules import each other:\n{}", circles.join("\n"));
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
