//! `warden evidence …`: the auditor's questions, each answered with the ledger entries
//! it rests on and their proofs, and `warden evidence verify` to check an answer
//! offline with the log's public key alone.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use serde_json::Value;
use warden_tlog::evidence::EvidenceBundle;

use crate::cli::common::{client, Global};
use crate::output::{fields, json, table, Format};

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// 1. Every dataset NAME@VERSION touched (training, evaluation, inference), with
    ///    classes and the lineage path that brought each.
    DataAccess {
        /// NAME@VERSION.
        reference: String,
        #[arg(long)]
        project: String,
        #[command(flatten)]
        save: Save,
    },
    /// 2. Where NAME@VERSION's data is stored and everywhere it was processed.
    Locations {
        reference: String,
        #[arg(long)]
        project: String,
        #[command(flatten)]
        save: Save,
    },
    /// 3. Who could act in a project or a zone at a moment: people and services with
    ///    the grant that let them and who gave it, and the tokens live then.
    Access {
        #[arg(long, required_unless_present = "zone", conflicts_with = "zone")]
        project: Option<String>,
        #[arg(long)]
        zone: Option<String>,
        /// RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        save: Save,
    },
    /// 4. What was active in a zone at a moment (all projects), or its history.
    Active {
        #[arg(long)]
        zone: String,
        /// RFC 3339 (default: now).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        at: Option<String>,
        /// The zone's deployments from this time (RFC 3339) …
        #[arg(long)]
        from: Option<String>,
        /// … to this one (default: now).
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[command(flatten)]
        save: Save,
    },
    /// 5. How a release came to be: proposer, approvers with MFA, gate, evaluation,
    ///    policy version, deploy, the signed manifest.
    Change {
        release: String,
        #[arg(long)]
        project: String,
        #[command(flatten)]
        save: Save,
    },
    /// 6. The log's completeness over a window, and every event touching a subject.
    Log {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
        /// A person or service (usr_…, svc_…), a project (prj_…), or a resource
        /// (TYPE:ID or a bare id such as rel_…).
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        save: Save,
    },
    /// 7. Retention, holds and deletion requests for a dataset or a data subject.
    DataHandling {
        /// A dataset id or NAMESPACE/NAME.
        #[arg(long, required_unless_present = "subject", conflicts_with = "subject")]
        dataset: Option<String>,
        /// A data subject, as deletion requests name it.
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        save: Save,
    },
    /// Check a saved answer offline: every entry proves into the signed checkpoint,
    /// every cited entry is proven, the log key signed the answer.
    Verify {
        file: PathBuf,
        /// The log's verifier key, or a file holding it (`warden audit public-key`).
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct Save {
    /// Also write the whole answer with its proofs here (for `warden evidence verify`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `NAME@NUMBER` → (NAME, NUMBER as text).
fn numbered(reference: &str) -> anyhow::Result<(String, String)> {
    let (name, v) = crate::cli::common::model_version_number(reference)?;
    Ok((name, v.to_string()))
}

pub async fn run(command: EvidenceCommand, g: &Global) -> anyhow::Result<()> {
    let (question, query, save): (&str, Vec<(&str, String)>, Save) = match command {
        EvidenceCommand::Verify { file, key } => return verify(&file, &key),
        EvidenceCommand::DataAccess { reference, project, save } => {
            let (m, v) = numbered(&reference)?;
            ("data-access", vec![("project", project), ("model", m), ("version", v)], save)
        }
        EvidenceCommand::Locations { reference, project, save } => {
            let (m, v) = numbered(&reference)?;
            ("locations", vec![("project", project), ("model", m), ("version", v)], save)
        }
        EvidenceCommand::Access { project, zone, at, save } => {
            let mut q = Vec::new();
            q.extend(project.map(|p| ("project", p)));
            q.extend(zone.map(|z| ("zone", z)));
            q.extend(at.map(|t| ("at", t)));
            ("access", q, save)
        }
        EvidenceCommand::Active { zone, at, from, to, save } => {
            let mut q = vec![("zone", zone)];
            q.extend(at.map(|t| ("at", t)));
            q.extend(from.map(|t| ("from", t)));
            q.extend(to.map(|t| ("to", t)));
            ("active", q, save)
        }
        EvidenceCommand::Change { release, project, save } => {
            ("change", vec![("project", project), ("release", release)], save)
        }
        EvidenceCommand::Log { from, to, subject, save } => {
            let mut q = vec![("from", from)];
            q.extend(to.map(|t| ("to", t)));
            q.extend(subject.map(|s| ("subject", s)));
            ("log", q, save)
        }
        EvidenceCommand::DataHandling { dataset, subject, save } => {
            let mut q = Vec::new();
            q.extend(dataset.map(|d| ("dataset", d)));
            q.extend(subject.map(|s| ("subject", s)));
            ("data-handling", q, save)
        }
    };
    let answer = client(g)?.evidence(question, &query).await?;
    if let Some(path) = &save.out {
        let text = serde_json::to_string_pretty(&answer)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    if g.output == Format::Json {
        return json(&answer);
    }
    print_answer(question, &answer.answer);
    println!(
        "\n{} ledger entries cited, proven into the checkpoint of {} entries{}",
        answer.entries.len(),
        answer.tree_size,
        save.out
            .as_ref()
            .map(|p| format!("; saved to {} (check it with `warden evidence verify`)", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

fn verify(file: &std::path::Path, key: &str) -> anyhow::Result<()> {
    let key = crate::audit_cli::read_key(key)?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let bundle: EvidenceBundle =
        serde_json::from_str(&text).map_err(|e| anyhow!("{} is not an evidence answer: {e}", file.display()))?;
    let v = bundle.verify(&key).map_err(|e| anyhow!("the answer does NOT verify: {e}"))?;
    println!(
        "ok: the `{}` answer of {} verifies: {} ledger entries ({} cited) prove into the log `{}` of {} entries (root {}), and the log key signed the answer",
        bundle.question,
        bundle.answered_at,
        v.entries,
        v.cited,
        v.checkpoint.origin,
        v.checkpoint.size,
        warden_tlog::b64(&v.checkpoint.root)
    );
    Ok(())
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn rows(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn print_answer(question: &str, a: &Value) {
    match question {
        "data-access" => {
            table(
                &["dataset", "kinds", "classes", "path", "evidence"],
                rows(&a["datasets"])
                    .iter()
                    .map(|d| {
                        vec![
                            s(&d["dataset"]),
                            s(&d["kinds"]),
                            s(&d["classes"]),
                            s(&d["path"]).replace(", ", " <- "),
                            s(&d["evidence"]),
                        ]
                    })
                    .collect(),
            );
            if !rows(&a["gateway"]).is_empty() {
                println!();
                table(
                    &["inference", "class", "zone", "calls", "first", "last"],
                    rows(&a["gateway"])
                        .iter()
                        .map(|c| {
                            vec![
                                "gateway".into(),
                                s(&c["class"]),
                                s(&c["zone"]),
                                s(&c["calls"]),
                                s(&c["first"]),
                                s(&c["last"]),
                            ]
                        })
                        .collect(),
                );
            }
        }
        "locations" => {
            table(
                &["dataset", "stored in", "kinds"],
                rows(&a["stored"]).iter().map(|d| vec![s(&d["dataset"]), s(&d["residency"]), s(&d["kinds"])]).collect(),
            );
            println!();
            table(
                &["processed by", "zone", "region", "at"],
                rows(&a["processed"])
                    .iter()
                    .map(|p| {
                        let what = match p["via"].as_str() {
                            Some("run") => format!("run {}", s(&p["run"])),
                            Some("release") => format!("release {}", s(&p["release"])),
                            _ => format!("gateway ({} calls, {})", s(&p["calls"]), s(&p["provider"])),
                        };
                        let region = if p["region"].is_null() { s(&p["provider_region"]) } else { s(&p["region"]) };
                        vec![what, s(&p["zone"]), region, if p["at"].is_null() { s(&p["first"]) } else { s(&p["at"]) }]
                    })
                    .collect(),
            );
        }
        "access" => {
            table(
                &["subject", "name", "role", "via", "granted", "by", "evidence"],
                rows(&a["holders"])
                    .iter()
                    .map(|h| {
                        ["subject", "name", "role", "via", "granted_at", "granted_by", "evidence"]
                            .iter()
                            .map(|k| s(&h[*k]))
                            .collect()
                    })
                    .collect(),
            );
            if !rows(&a["tokens"]).is_empty() {
                println!();
                table(
                    &["token", "holder", "name", "project", "zone", "expires"],
                    rows(&a["tokens"])
                        .iter()
                        .map(|t| {
                            ["token", "subject", "name", "project", "zone", "expires_at"]
                                .iter()
                                .map(|k| s(&t[*k]))
                                .collect()
                        })
                        .collect(),
                );
            }
        }
        "active" => {
            let list = if a["active"].is_array() { &a["active"] } else { &a["deployments"] };
            table(
                &["project", "model", "version", "release", "kind", "deployed at", "by", "evidence"],
                rows(list)
                    .iter()
                    .map(|d| {
                        ["project", "model", "version", "release", "kind", "deployed_at", "deployed_by", "evidence"]
                            .iter()
                            .map(|k| s(&d[*k]))
                            .collect()
                    })
                    .collect(),
            );
        }
        "change" => {
            let r = &a["release"];
            fields(vec![
                ("release", s(&r["id"])),
                ("model", format!("{}@{}", s(&r["model"]), s(&r["version"]))),
                ("zone", s(&r["zone"])),
                ("status", s(&r["status"])),
                ("proposed by", format!("{} at {}", s(&a["proposed"]["by"]), s(&a["proposed"]["at"]))),
                ("policy version", s(&a["policy"]["version"])),
                ("evaluation", s(&a["evaluation"]["metrics"])),
                (
                    "deployed",
                    format!(
                        "{} at {} (mfa {})",
                        s(&a["deployed"]["by"]),
                        s(&a["deployed"]["at"]),
                        s(&a["deployed"]["mfa"])
                    ),
                ),
                (
                    "manifest",
                    if a["manifest"].is_string() {
                        "signed (checked by `warden evidence verify`)".into()
                    } else {
                        "-".into()
                    },
                ),
            ]);
            println!();
            table(
                &["decision", "by", "mfa", "at", "evidence"],
                rows(&a["decisions"])
                    .iter()
                    .map(|d| vec![s(&d["decision"]), s(&d["by"]), s(&d["mfa"]), s(&d["at"]), s(&d["evidence"])])
                    .collect(),
            );
        }
        "log" => {
            let w = &a["window"];
            fields(vec![
                (
                    "entries",
                    format!("{} (indexes {} to {})", s(&w["entries"]), s(&w["first_index"]), s(&w["end_index"])),
                ),
                ("checkpoints", format!("{} chained by consistency proofs", rows(&a["checkpoints"]).len())),
                ("scrubbed", format!("{} of {}", s(&a["scrub"]["checked"]), s(&a["scrub"]["of"]))),
                ("signing halted", s(&a["signing_halted"])),
            ]);
            if !rows(&a["events"]).is_empty() {
                println!();
                table(
                    &["index", "at", "action", "outcome", "actor", "resource"],
                    rows(&a["events"])
                        .iter()
                        .map(|e| {
                            ["index", "at", "action", "outcome", "actor", "resource"]
                                .iter()
                                .map(|k| s(&e[*k]))
                                .collect()
                        })
                        .collect(),
                );
            }
        }
        _ => {
            if a["dataset"].is_object() {
                let d = &a["dataset"];
                fields(vec![
                    ("dataset", format!("{} ({})", s(&d["name"]), s(&d["id"]))),
                    ("classes", s(&d["classes"])),
                    ("residency", s(&d["residency"])),
                    ("legal hold", s(&d["legal_hold"])),
                    ("retention days", s(&a["retention"]["effective_days"])),
                    ("pending deletion tasks", s(&a["pending"])),
                ]);
            }
            for d in rows(&a["deletions"]) {
                println!();
                println!("deletion {} for {} (due {}):", s(&d["request"]), s(&d["subject"]), s(&d["due_at"]));
                table(
                    &["task", "target", "status", "closed by", "evidence"],
                    rows(&d["tasks"])
                        .iter()
                        .map(|t| {
                            vec![
                                s(&t["seq"]),
                                s(&t["target"]),
                                s(&t["status"]),
                                s(&t["closed_by"]),
                                s(&t["evidence_text"]),
                            ]
                        })
                        .collect(),
                );
            }
        }
    }
    let findings = rows(&a["findings"]);
    if !findings.is_empty() {
        println!("\nfindings:");
        for f in findings {
            println!("  - {}", s(f));
        }
    }
}
