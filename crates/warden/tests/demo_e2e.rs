//! `warden serve --demo`, through the real binary: the example organisation is seeded,
//! every command of the printed tour works as printed (the one marked refused is
//! refused), the gateway masks personal data, a second start seeds nothing and prints
//! the same tour, and --demo refuses a directory or database it did not make.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::BIN;

/// A demo server and the tour it printed.
struct Demo {
    child: Child,
    tour: Vec<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo(cwd: &Path, extra: &[&str]) -> Demo {
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WARDEN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
    let mut tour = Vec::new();
    let mut lines = stdout.lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let end = line.starts_with("start it again");
        tour.push(line);
        if end {
            break;
        }
    }
    if !tour.iter().any(|l| l.starts_with("start it again")) {
        let _ = child.kill();
        panic!("no tour: {tour:?}\n{:?}", errors.join().unwrap());
    }
    std::thread::spawn(move || for _ in lines {});
    Demo { child, tour }
}

/// A tour line as arguments: words, with "double-quoted" words kept whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut word = String::new();
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn the_demo_seeds_an_organisation_whose_tour_works_as_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = demo(tmp.path(), &[]);
    let text = d.tour.join("\n");
    let url = text.split("ready at ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let config_dir = text.split("export WARDEN_CONFIG_DIR=").nth(1).unwrap().lines().next().unwrap().to_string();
    assert!(Path::new(&config_dir).starts_with(tmp.path().canonicalize().unwrap().join("warden-demo")));

    // Every `warden …` line of the tour, in order, as printed.
    let mut ran = 0;
    for line in d.tour.iter().filter(|l| l.trim_start().starts_with("warden --profile")) {
        let (command, note) = line.split_once('#').unwrap_or((line, ""));
        let args = words(command);
        let out = Command::new(BIN)
            .args(&args[1..])
            .current_dir(tmp.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WARDEN_CONFIG_DIR", &config_dir)
            .output()
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if note.contains("refused") {
            assert!(!out.status.success(), "{line}: should be refused: {said}");
            assert!(said.contains("approver"), "{line}: {said}");
        } else {
            assert!(out.status.success(), "{line}: {said}");
        }
        if line.contains("release show") {
            assert!(said.contains("deployed"), "Bob approved and Alice deployed: {said}");
        }
        if line.contains("model show") {
            assert!(said.contains("Card fraud scorer") && said.contains("apache-2.0"), "{said}");
        }
        if line.contains("audit verify") {
            assert!(said.contains("ok"), "{said}");
        }
        ran += 1;
    }
    assert!(ran >= 10, "the tour has its commands: {ran}");
    let change = tmp.path().join("change.json");
    let evidence: serde_json::Value = serde_json::from_slice(&std::fs::read(&change).unwrap()).unwrap();
    assert_eq!(evidence["format"], "warden-evidence/v1", "{evidence}");

    // The gateway key masks personal data on the way to the provider.
    let key = text.split("Bearer ").nth(1).unwrap().split('\'').next().unwrap().to_string();
    let answer = common::chat(&url, &key, "Reply to jane.doe@example.com about her card");
    let said = answer["choices"][0]["message"]["content"].as_str().unwrap_or_default();
    assert!(!said.is_empty(), "{answer}");
    let audit = Command::new(BIN)
        .args(["--profile", "demo-carol", "audit", "search", "--action", "gateway.chat", "-o", "json"])
        .env_clear()
        .env("WARDEN_CONFIG_DIR", &config_dir)
        .output()
        .unwrap();
    // The call is in the ledger (read by the auditor) with the address it masked.
    let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let call = audit["items"].as_array().unwrap().last().unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(call["event"]["actor"]["name"], "claims-assistant", "{call}");
    assert_eq!(call["event"]["detail"]["redacted_email"], 1, "{call}");
    drop(d);

    // Started again: nothing is seeded twice, the same tour is printed.
    let again = demo(tmp.path(), &[]);
    let release = |t: &str| t.split("release approve ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(release(&again.tour.join("\n")), release(&text));
    let users = Command::new(BIN)
        .args(["--profile", "demo-admin", "user", "list", "-o", "json"])
        .env_clear()
        .env("WARDEN_CONFIG_DIR", &config_dir)
        .output()
        .unwrap();
    let users: serde_json::Value = serde_json::from_slice(&users.stdout).unwrap();
    let alices = users["items"].as_array().unwrap().iter().filter(|u| u["name"] == "alice").count();
    assert_eq!(alices, 1, "{users}");
}

#[test]
fn the_demo_refuses_a_directory_or_database_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let used = tmp.path().join("real");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("warden.db"), b"someone's data").unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(tmp.path())
            .env_clear()
            .output()
            .unwrap()
    };
    let out = run(&["--data-dir", used.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("that --demo did not make"), "{err}");
    assert_eq!(std::fs::read(used.join("warden.db")).unwrap(), b"someone's data", "nothing was touched");
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1);
    let out = run(&["--database-url", "postgres://127.0.0.1:1/none"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("embedded store"), "{err}");
}
