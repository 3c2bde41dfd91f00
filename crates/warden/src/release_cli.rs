//! `warden apply`, `warden policy …` and `warden release …`: the policy document and
//! change management from the command line.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use warden_api as api;

use crate::cli::common::{client, short, Global};
use crate::output::{fields, json, opt, table, Format};

/// `warden apply -f policy.yaml`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The policy document (YAML); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Validate and show what would change, without applying.
    #[arg(long)]
    pub dry_run: bool,
    /// Why the change is made (kept in the history and the audit record).
    #[arg(long, default_value = "")]
    pub comment: String,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The policy document in force (`--compiled`: the Cedar policies made from it;
    /// `--example`: a document using every key, each explained, without a server).
    Show {
        #[arg(long, conflicts_with = "example")]
        compiled: bool,
        #[arg(long)]
        example: bool,
    },
    /// The document's JSON Schema (draft 2020-12), without a server: for editors
    /// (yaml-language-server) and CI checks. `policy check` finds what a schema cannot
    /// (unknown zones, contradictions).
    Schema,
    /// Every stored version, newest first.
    History,
    /// One stored version's text.
    Get { version: u64 },
    /// Make an earlier version's text the next version.
    Rollback {
        version: u64,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Check a document locally, without a server: every problem with its location.
    Check { file: PathBuf },
    /// Which rule allows or denies placing a model version (`--project/--model`) or a
    /// described one (`--class`, `--signed`, …) in a zone; or, with `--action` and
    /// `--subject`, whether someone may do something.
    Explain {
        #[arg(long, default_value = "")]
        zone: String,
        /// An action, e.g. `release.approve` (an access question).
        #[arg(long)]
        action: Option<String>,
        /// A subject id or name (with `--action`).
        #[arg(long)]
        subject: Option<String>,
        /// With `--action`: as if the credential had a second factor.
        #[arg(long)]
        mfa: bool,
        #[arg(long)]
        project: Option<String>,
        /// NAME@VERSION.
        #[arg(long)]
        model: Option<String>,
        #[arg(long = "class", value_name = "CLASS")]
        classes: Vec<String>,
        #[arg(long)]
        signed: bool,
        #[arg(long)]
        unsafe_scan: bool,
        #[arg(long)]
        expired: bool,
        /// The artifact's permitted zones (default: the zone itself).
        #[arg(long = "permitted-zone", value_name = "ZONE")]
        permitted_zones: Vec<String>,
    },
    /// Run your own allow/deny cases against a document (`--policy FILE`, offline) or
    /// the one in force on the server. Exits non-zero when a case fails.
    Test {
        cases: PathBuf,
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Propose NAME@VERSION for a zone; the automated gate runs at once.
    Create {
        #[arg(long)]
        model: String,
        #[arg(long)]
        zone: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        project: String,
    },
    /// Save a deployed release's signed manifest (a C2SP signed note) to a file.
    Manifest {
        id: String,
        #[arg(long)]
        project: String,
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Check a saved manifest offline with the log's public key: its signature, and
    /// what it says (release, model version, zone, approvals, evaluation, policy).
    VerifyManifest {
        file: std::path::PathBuf,
        /// The verifier key, or a file holding it (`warden audit public-key`).
        #[arg(long)]
        key: String,
    },
    List {
        #[arg(long)]
        project: String,
        /// Only break-glass deploys awaiting review.
        #[arg(long)]
        unreviewed: bool,
    },
    Show {
        id: String,
        #[arg(long)]
        project: String,
    },
    Approve(Decision),
    Reject(Decision),
    /// Withdraw your approval (before deployment).
    Withdraw(Decision),
    /// Deploy an approved release (the gate runs again; the manifest is signed).
    Deploy(Decision),
    /// Mark a break-glass deploy reviewed.
    Review(Decision),
    /// Return a zone to the release active before the current one.
    Rollback {
        #[arg(long)]
        zone: String,
        #[arg(long)]
        model: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        project: String,
    },
    /// Emergency deploy: skips approvals, never placement; flagged until reviewed.
    BreakGlass {
        #[arg(long)]
        model: String,
        #[arg(long)]
        zone: String,
        #[arg(long)]
        justification: String,
        #[arg(long)]
        project: String,
    },
    /// Which version of each model was active in a zone at a moment (default: now).
    Active {
        #[arg(long)]
        zone: String,
        /// RFC 3339, e.g. 2026-03-01T12:00:00Z.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        project: String,
    },
}

#[derive(Debug, Args)]
pub struct Decision {
    id: String,
    #[arg(long)]
    project: String,
    #[arg(long, default_value = "")]
    comment: String,
}

fn read(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// NAME@VERSION with a numeric version.
pub(crate) fn model_version(reference: &str) -> anyhow::Result<(String, u64)> {
    let (name, v) = reference.split_once('@').ok_or_else(|| anyhow!("`{reference}`: write NAME@VERSION"))?;
    let v = v.parse().map_err(|_| anyhow!("`{reference}`: the version must be a number"))?;
    Ok((name.to_string(), v))
}

pub async fn apply(args: ApplyArgs, g: &Global) -> anyhow::Result<()> {
    let document = read(&args.file)?;
    // Local checks first: the same errors, without a round trip.
    if let Err(p) = warden_policy_doc::Document::parse(&document) {
        bail!("{} has problems:\n{p}", args.file.display());
    }
    let c = client(g)?;
    let out =
        c.apply_policy(&api::ApplyPolicyRequest { document, comment: args.comment, dry_run: args.dry_run }).await?;
    if g.output == Format::Json {
        return json(&out);
    }
    for line in &out.changes {
        println!("{line}");
    }
    match out.version {
        Some(v) => println!("applied as version {v} (was {})", out.previous),
        None if out.dry_run => println!("dry run: {} change(s), nothing applied", out.changes.len()),
        None => println!("no change: version {} already says this", out.previous),
    }
    Ok(())
}

pub async fn policy(command: PolicyCommand, g: &Global) -> anyhow::Result<()> {
    let f = g.output;
    match command {
        PolicyCommand::Show { example: true, .. } => {
            print!("{}", warden_policy_doc::EXAMPLE);
            Ok(())
        }
        PolicyCommand::Schema => {
            print!("{}", warden_policy_doc::SCHEMA);
            Ok(())
        }
        PolicyCommand::Check { file } => {
            let text = read(&file)?;
            match warden_policy_doc::Document::parse(&text) {
                Ok(doc) => {
                    println!(
                        "{}: valid ({} zones, {} data classes, {} release rules)",
                        file.display(),
                        doc.zones.len(),
                        doc.data_classes.len(),
                        doc.releases.len()
                    );
                    Ok(())
                }
                Err(p) => bail!("{} has problems:\n{p}", file.display()),
            }
        }
        PolicyCommand::Test { cases, policy } => {
            let text = match policy {
                Some(p) => read(&p)?,
                None => client(g)?.get_policy().await?.document.unwrap_or_default(),
            };
            let doc =
                warden_policy_doc::Document::parse(&text).map_err(|p| anyhow!("the policy has problems:\n{p}"))?;
            let results =
                warden_policy_doc::run_cases(&doc, &read(&cases)?).map_err(|p| anyhow!("{}:\n{p}", cases.display()))?;
            if f == Format::Json {
                json(&results)?;
            } else {
                for r in &results {
                    let mark = if r.passed { "ok  " } else { "FAIL" };
                    println!("{mark} {} (line {}): expected {}, got {}", r.name, r.line, r.expected, r.got);
                    if !r.passed {
                        println!("     {}", r.explanation);
                    }
                }
            }
            let failed = results.iter().filter(|r| !r.passed).count();
            if failed > 0 {
                bail!("{failed} of {} case(s) failed", results.len());
            }
            if f != Format::Json {
                println!("{} case(s) passed", results.len());
            }
            Ok(())
        }
        other => {
            let c = client(g)?;
            match other {
                PolicyCommand::Show { compiled, .. } => {
                    let p = c.get_policy().await?;
                    if f == Format::Json {
                        return json(&p);
                    }
                    eprintln!("# version {} ({}) {}", p.version, p.digest, p.comment);
                    let text = if compiled { p.compiled } else { p.document };
                    print!("{}", text.unwrap_or_default());
                    Ok(())
                }
                PolicyCommand::History => {
                    let rows = c.policy_versions().await?;
                    if f == Format::Json {
                        return json(&rows);
                    }
                    table(
                        &["VERSION", "CREATED", "BY", "RESTORES", "COMMENT"],
                        rows.iter()
                            .map(|v| {
                                vec![
                                    v.version.to_string(),
                                    v.created_at.as_deref().map(short).unwrap_or_default(),
                                    opt(&v.created_by),
                                    v.restored_from.map(|r| r.to_string()).unwrap_or_default(),
                                    v.comment.clone(),
                                ]
                            })
                            .collect(),
                    );
                    Ok(())
                }
                PolicyCommand::Get { version } => {
                    let v = c.policy_version(version).await?;
                    if f == Format::Json {
                        return json(&v);
                    }
                    print!("{}", v.document.unwrap_or_default());
                    Ok(())
                }
                PolicyCommand::Rollback { version, comment } => {
                    let out = c.rollback_policy(&api::RollbackPolicyRequest { version, comment }).await?;
                    if f == Format::Json {
                        return json(&out);
                    }
                    for line in &out.changes {
                        println!("{line}");
                    }
                    println!("version {version} restored as version {}", out.version.unwrap_or_default());
                    Ok(())
                }
                PolicyCommand::Explain {
                    zone,
                    action,
                    subject,
                    mfa,
                    project,
                    model,
                    classes,
                    signed,
                    unsafe_scan,
                    expired,
                    permitted_zones,
                } => {
                    let mut req = api::ExplainRequest { zone, ..Default::default() };
                    if let Some(action) = action {
                        req.action = Some(action);
                        req.subject = Some(subject.ok_or_else(|| anyhow!("--action needs --subject"))?);
                        req.project = project;
                        req.mfa = Some(mfa);
                        let e = c.explain(&req).await?;
                        if f == Format::Json {
                            return json(&e);
                        }
                        println!("{}", if e.allowed { "ALLOWED" } else { "DENIED" });
                        println!("{}", e.explanation);
                        println!(
                            "roles: organisation [{}], project [{}] (policy v{})",
                            e.org_roles.unwrap_or_default().join(", "),
                            e.project_roles.unwrap_or_default().join(", "),
                            e.policy_version
                        );
                        return Ok(());
                    }
                    if req.zone.is_empty() {
                        bail!("a placement question needs --zone");
                    }
                    match (project, model) {
                        (Some(p), Some(m)) => {
                            let (name, v) = model_version(&m)?;
                            req.project = Some(p);
                            req.model = Some(name);
                            req.version = Some(v);
                        }
                        (None, None) => {
                            req.classes = classes;
                            req.signed = Some(signed);
                            req.scan_verdict = Some(if unsafe_scan { "unsafe" } else { "safe" }.into());
                            req.expired = Some(expired);
                            req.permitted_zones = (!permitted_zones.is_empty()).then_some(permitted_zones);
                        }
                        _ => bail!("name a model version with both --project and --model NAME@VERSION"),
                    }
                    let e = c.explain(&req).await?;
                    if f == Format::Json {
                        return json(&e);
                    }
                    println!("{}", if e.allowed { "ALLOWED" } else { "DENIED" });
                    println!("{}", e.explanation);
                    let Some(facts) = e.facts else { return Ok(()) };
                    println!(
                        "facts: zone {}, classes [{}], signed {}, scan {}, expired {}, permitted [{}] (policy v{})",
                        facts.zone,
                        facts.classes.join(", "),
                        facts.signed,
                        facts.scan_verdict,
                        facts.expired,
                        facts.permitted_zones.join(", "),
                        e.policy_version
                    );
                    Ok(())
                }
                PolicyCommand::Check { .. } | PolicyCommand::Test { .. } | PolicyCommand::Schema => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

fn show(r: &api::Release, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(r);
    }
    fields(vec![
        ("id", r.id.clone()),
        ("model", format!("{}@{}", r.model, r.version)),
        ("zone", r.zone.clone()),
        ("kind", r.kind.clone()),
        ("status", r.status.clone()),
        ("reason", r.reason.clone()),
        (
            "approvals",
            format!(
                "{} of {} ({})",
                r.approvals.iter().filter(|a| a.decision == "approve" && a.withdrawn_at.is_none()).count(),
                r.approvals_required,
                r.approver_role
            ),
        ),
        (
            "approved by",
            r.approvals
                .iter()
                .filter(|a| a.decision == "approve" && a.withdrawn_at.is_none())
                .map(|a| format!("{}{} at {}", a.approver, if a.mfa { " (MFA)" } else { "" }, short(&a.at)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("created", format!("{} by {}", short(&r.created_at), r.created_by)),
        ("deployed", r.deployed_at.as_deref().map(short).unwrap_or_default()),
        ("previous", opt(&r.previous)),
        ("needs review", r.needs_review.to_string()),
    ]);
    Ok(())
}

/// A signed release manifest checked with the log key alone.
fn verify_manifest(file: &std::path::Path, key: &str) -> anyhow::Result<()> {
    let key = crate::audit_cli::read_key(key)?;
    let note = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let text = key.open(&note).map_err(|e| anyhow::anyhow!("the manifest does NOT verify: {e}"))?;
    let m: serde_json::Value = serde_json::from_str(text.trim_end())
        .map_err(|_| anyhow::anyhow!("the manifest does NOT verify: its signed text is not JSON"))?;
    if m["kind"] != "warden.release-manifest/v1" {
        anyhow::bail!("the manifest does NOT verify: it is not a Warden release manifest");
    }
    let approvers: Vec<String> = m["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{} (mfa {})", a["approver"].as_str().unwrap_or("?"), a["mfa"]))
        .collect();
    println!("ok: the manifest is signed by the log key `{}`", key.name);
    fields(vec![
        ("release", m["release"].as_str().unwrap_or("?").to_string()),
        ("model", format!("{}@{}", m["model"]["name"].as_str().unwrap_or("?"), m["version"])),
        ("zone", m["zone"].as_str().unwrap_or("?").to_string()),
        ("approvals", approvers.join(", ")),
        ("evaluation", m["evaluation"]["metrics"].to_string()),
        ("policy version", m["policy_version"].to_string()),
        ("break-glass", m["break_glass"].to_string()),
        (
            "deployed",
            format!("{} by {}", m["deployed_at"].as_str().unwrap_or("?"), m["deployed_by"].as_str().unwrap_or("?")),
        ),
    ]);
    Ok(())
}

pub async fn release(command: ReleaseCommand, g: &Global) -> anyhow::Result<()> {
    if let ReleaseCommand::VerifyManifest { file, key } = &command {
        return verify_manifest(file, key);
    }
    let c = client(g)?;
    let f = g.output;
    let decide = |verb: &'static str, d: Decision| {
        let c = &c;
        async move { c.release_action(&d.project, &d.id, verb, &d.comment).await }
    };
    let r = match command {
        ReleaseCommand::Create { model, zone, reason, project } => {
            let (model, version) = model_version(&model)?;
            c.create_release(&project, &api::CreateReleaseRequest { model, version, zone, reason }).await?
        }
        ReleaseCommand::List { project, unreviewed } => {
            let rows = c.list_releases(&project, unreviewed).await?;
            if f == Format::Json {
                return json(&rows);
            }
            table(
                &["ID", "MODEL", "ZONE", "KIND", "STATUS", "APPROVALS", "CREATED"],
                rows.iter()
                    .map(|r| {
                        let n =
                            r.approvals.iter().filter(|a| a.decision == "approve" && a.withdrawn_at.is_none()).count();
                        vec![
                            r.id.clone(),
                            format!("{}@{}", r.model, r.version),
                            r.zone.clone(),
                            r.kind.clone(),
                            if r.needs_review { format!("{} (review!)", r.status) } else { r.status.clone() },
                            format!("{n}/{}", r.approvals_required),
                            short(&r.created_at),
                        ]
                    })
                    .collect(),
            );
            return Ok(());
        }
        ReleaseCommand::Show { id, project } => c.get_release(&project, &id).await?,
        ReleaseCommand::Manifest { id, project, out } => {
            let r = c.get_release(&project, &id).await?;
            let m =
                r.manifest.ok_or_else(|| anyhow::anyhow!("release {id} is not deployed: it has no manifest yet"))?;
            std::fs::write(&out, m).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            println!("saved to {} (check it with `warden release verify-manifest`)", out.display());
            return Ok(());
        }
        ReleaseCommand::VerifyManifest { .. } => return Ok(()),
        ReleaseCommand::Approve(d) => decide("approve", d).await?,
        ReleaseCommand::Reject(d) => decide("reject", d).await?,
        ReleaseCommand::Withdraw(d) => decide("withdraw", d).await?,
        ReleaseCommand::Deploy(d) => decide("deploy", d).await?,
        ReleaseCommand::Review(d) => decide("review", d).await?,
        ReleaseCommand::Rollback { zone, model, reason, project } => {
            c.rollback_release(&project, &api::RollbackReleaseRequest { zone, model, reason }).await?
        }
        ReleaseCommand::BreakGlass { model, zone, justification, project } => {
            let (model, version) = model_version(&model)?;
            c.break_glass(&project, &api::BreakGlassRequest { model, version, zone, justification }).await?
        }
        ReleaseCommand::Active { zone, at, project } => {
            let rows = c.active_releases(&project, &zone, at.as_deref()).await?;
            if f == Format::Json {
                return json(&rows);
            }
            table(
                &["MODEL", "VERSION", "RELEASE", "KIND", "DEPLOYED", "BY"],
                rows.iter()
                    .map(|a| {
                        vec![
                            a.model.clone(),
                            a.version.to_string(),
                            a.release.clone(),
                            a.kind.clone(),
                            short(&a.deployed_at),
                            opt(&a.deployed_by),
                        ]
                    })
                    .collect(),
            );
            return Ok(());
        }
    };
    show(&r, f)
}
