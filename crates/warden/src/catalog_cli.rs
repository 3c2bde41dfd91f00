//! `warden dataset …`, `warden lineage …`: the data catalog and lineage.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use warden_api as api;
use warden_client::Client;

use crate::cli::common::{client, short, Global};
use crate::output::{fields, json, opt, table, Format};

#[derive(Debug, Args)]
pub struct Description {
    #[arg(long)]
    location: Option<String>,
    /// raw, curated or workspace.
    #[arg(long)]
    layer: Option<String>,
    /// A class of the whole dataset (repeatable).
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// COLUMN=CLASS (repeatable).
    #[arg(long = "column-class", value_name = "COLUMN=CLASS")]
    column_classes: Vec<String>,
    /// The region the data must stay in.
    #[arg(long)]
    residency: Option<String>,
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    retention_days: Option<u32>,
    /// KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// Put the dataset under a legal hold (the reason): deletions touching it are refused.
    #[arg(long, value_name = "REASON")]
    legal_hold: Option<String>,
    /// Lift the legal hold (describe only).
    #[arg(long)]
    lift_legal_hold: bool,
    /// Show it in the whole organisation's catalog (only if every class it carries
    /// allows that; otherwise its project, auditors and administrators see it).
    #[arg(long)]
    publish: bool,
    /// Take it out of the organisation's catalog (describe only).
    #[arg(long)]
    unpublish: bool,
}

impl Description {
    fn columns(&self) -> anyhow::Result<Vec<api::Column>> {
        let mut columns: Vec<api::Column> = Vec::new();
        for cc in &self.column_classes {
            let (col, class) = cc.split_once('=').ok_or_else(|| anyhow!("`{cc}`: write COLUMN=CLASS"))?;
            match columns.iter_mut().find(|c| c.name == col) {
                Some(c) => c.classes.push(class.to_string()),
                None => {
                    columns.push(api::Column { name: col.to_string(), type_: None, classes: vec![class.to_string()] })
                }
            }
        }
        Ok(columns)
    }

    fn tags(&self) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
        let mut tags = std::collections::BTreeMap::new();
        for t in &self.tags {
            let (k, v) = t.split_once('=').ok_or_else(|| anyhow!("`{t}`: write KEY=VALUE"))?;
            tags.insert(k.to_string(), v.to_string());
        }
        Ok(tags)
    }

    /// The whole description of a new dataset.
    fn request(self) -> anyhow::Result<api::DatasetRequest> {
        if self.lift_legal_hold || self.unpublish {
            bail!("--lift-legal-hold and --unpublish change a registered dataset (`warden dataset describe`)");
        }
        Ok(api::DatasetRequest {
            namespace: None,
            name: None,
            columns: self.columns()?,
            tags: self.tags()?,
            location: self.location,
            layer: self.layer,
            classes: self.classes,
            residency: self.residency,
            owner: self.owner,
            retention_days: self.retention_days,
            legal_hold: self.legal_hold,
            published: self.publish,
        })
    }

    /// Only the fields named on the command line.
    fn patch(self) -> anyhow::Result<api::DatasetPatch> {
        if self.legal_hold.is_some() && self.lift_legal_hold {
            bail!("--legal-hold and --lift-legal-hold contradict each other");
        }
        if self.publish && self.unpublish {
            bail!("--publish and --unpublish contradict each other");
        }
        let p = api::DatasetPatch {
            columns: (!self.column_classes.is_empty()).then(|| self.columns()).transpose()?,
            tags: (!self.tags.is_empty()).then(|| self.tags()).transpose()?,
            location: self.location.map(Some),
            layer: self.layer.map(Some),
            classes: (!self.classes.is_empty()).then_some(self.classes),
            residency: self.residency.map(Some),
            owner: self.owner.map(Some),
            retention_days: self.retention_days.map(Some),
            legal_hold: if self.lift_legal_hold { Some(None) } else { self.legal_hold.map(Some) },
            published: if self.publish { Some(true) } else { self.unpublish.then_some(false) },
        };
        if serde_json::to_value(&p)?.as_object().is_some_and(|o| o.is_empty()) {
            bail!("name at least one field to change (e.g. --class, --residency, --legal-hold)");
        }
        Ok(p)
    }
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Register a dataset (or describe one lineage named first).
    Create {
        namespace: String,
        name: String,
        #[arg(long)]
        project: String,
        #[command(flatten)]
        description: Description,
    },
    /// Change a dataset's description: only the fields named change (its classes,
    /// residency, retention, legal hold, …).
    Describe {
        id: String,
        #[arg(long)]
        project: String,
        #[command(flatten)]
        description: Description,
    },
    /// The catalog; `--unclassified`: data lineage saw that nobody described.
    List {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        unclassified: bool,
    },
    Show {
        id: String,
    },
    /// Remove a dataset from the catalog (project owners; not under a legal hold).
    Delete {
        id: String,
        #[arg(long)]
        project: String,
    },
    /// Scan a sample of a CSV, JSON Lines or Parquet file locally and propose column
    /// classes with counts; `--submit` sends the proposal (never the values) to the
    /// dataset's owners.
    Scan {
        file: PathBuf,
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long)]
        project: Option<String>,
        /// csv, jsonl or parquet (default: from the extension).
        #[arg(long)]
        format: Option<String>,
        #[arg(long, default_value_t = 1000)]
        rows: usize,
        #[arg(long)]
        submit: bool,
    },
    /// A dataset's classification proposals.
    Proposals {
        dataset: String,
        #[arg(long)]
        project: String,
    },
    /// Accept a proposal: its classes join the dataset's columns (project owners).
    Accept {
        proposal: String,
        #[arg(long)]
        project: String,
    },
    Reject {
        proposal: String,
        #[arg(long)]
        project: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// The graph from a node (`dataset:<namespace>/<name>`, `run:<uuid>`,
    /// `model:<id>@<version>`), upstream by default.
    Graph {
        node: String,
        #[arg(long, default_value = "upstream")]
        direction: String,
        #[arg(long, default_value_t = 10)]
        depth: u32,
    },
    /// Send OpenLineage events from a JSON file (one event, a list, or JSON Lines).
    Send { file: PathBuf },
}

fn print_dataset(d: &api::Dataset, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(d);
    }
    let columns: Vec<String> = d
        .columns
        .iter()
        .map(|c| if c.classes.is_empty() { c.name.clone() } else { format!("{} [{}]", c.name, c.classes.join(", ")) })
        .collect();
    fields(vec![
        ("id", d.id.clone()),
        ("node", d.node.clone()),
        ("project", opt(&d.project)),
        ("layer", opt(&d.layer)),
        ("classes", d.classes.join(", ")),
        ("columns", columns.join("; ")),
        ("residency", opt(&d.residency)),
        ("retention", d.retention_days.map(|r| format!("{r} days")).unwrap_or_default()),
        ("legal hold", opt(&d.legal_hold)),
        ("published", d.published.to_string()),
        ("classified", d.classified.to_string()),
        ("updated", short(&d.updated_at)),
    ]);
    Ok(())
}

fn print_proposal(p: &api::Proposal, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(p);
    }
    println!("{} ({}), {} rows scanned", p.id, p.status, p.rows);
    print_columns(&p.columns);
    Ok(())
}

fn print_columns(columns: &[api::ProposedColumn]) {
    table(
        &["COLUMN", "FOUND", "PROPOSED"],
        columns
            .iter()
            .map(|c| {
                let found: Vec<String> = c.counts.iter().map(|(k, n)| format!("{k}={n}")).collect();
                vec![c.name.clone(), found.join(" "), c.classes.join(", ")]
            })
            .collect(),
    );
}

pub async fn dataset(command: DatasetCommand, g: &Global) -> anyhow::Result<()> {
    let f = g.output;
    if let DatasetCommand::Scan { file, dataset, project, format, rows, submit } = command {
        let (sample, n) = crate::scan_cli::read_sample(&file, format.as_deref(), rows.max(1))?;
        // The classes the policy in force declares, when a server is at hand.
        let declared: Option<Vec<String>> = match client(g) {
            Ok(c) => match c.get_policy().await {
                Ok(p) => warden_policy_doc::Document::parse(&p.document.unwrap_or_default())
                    .ok()
                    .map(|d| d.data_classes.keys().cloned().collect()),
                Err(_) if !submit => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) if !submit => None,
            Err(e) => return Err(e),
        };
        let columns = crate::scan_cli::propose(&sample, declared.as_deref());
        if !submit {
            if f == Format::Json {
                return json(&serde_json::json!({"rows": n, "columns": columns}));
            }
            println!("{n} rows scanned (nothing was sent)");
            print_columns(&columns);
            return Ok(());
        }
        let (Some(dataset), Some(project)) = (dataset, project) else {
            bail!("--submit needs --dataset and --project");
        };
        let c = client(g)?;
        let dataset = c.dataset_id(&dataset).await?;
        let p = c.propose_classes(&project, &dataset, &api::ProposalRequest { rows: n as u64, columns }).await?;
        return print_proposal(&p, f);
    }
    let c = client(g)?;
    match command {
        DatasetCommand::Scan { .. } => unreachable!("handled above"),
        DatasetCommand::Delete { id, project } => {
            c.delete_dataset(&project, &c.dataset_id(&id).await?).await?;
            println!("dataset {id} removed from the catalog");
            Ok(())
        }
        DatasetCommand::Proposals { dataset, project } => {
            let rows = c.list_proposals(&project, &c.dataset_id(&dataset).await?).await?;
            if f == Format::Json {
                return json(&rows);
            }
            for p in &rows {
                print_proposal(p, f)?;
            }
            Ok(())
        }
        DatasetCommand::Accept { proposal, project } => {
            print_proposal(&c.decide_proposal(&project, &proposal, "accept").await?, f)
        }
        DatasetCommand::Reject { proposal, project } => {
            print_proposal(&c.decide_proposal(&project, &proposal, "reject").await?, f)
        }
        DatasetCommand::Create { namespace, name, project, description } => {
            let mut req = description.request()?;
            req.namespace = Some(namespace);
            req.name = Some(name);
            print_dataset(&c.create_dataset(&project, &req).await?, f)
        }
        DatasetCommand::Describe { id, project, description } => {
            print_dataset(&c.patch_dataset(&project, &c.dataset_id(&id).await?, &description.patch()?).await?, f)
        }
        DatasetCommand::Show { id } => print_dataset(&c.get_dataset(&id).await?, f),
        DatasetCommand::List { project, unclassified } => {
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = c.list_datasets(project.as_deref(), unclassified, cursor.as_deref()).await?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            if f == Format::Json {
                return json(&serde_json::json!({"items": all}));
            }
            table(
                &["ID", "NAMESPACE", "NAME", "CLASSES", "RESIDENCY", "CLASSIFIED"],
                all.iter()
                    .map(|d| {
                        let mut classes: Vec<String> = d.classes.clone();
                        classes.extend(d.columns.iter().flat_map(|c| c.classes.iter().cloned()));
                        classes.sort();
                        classes.dedup();
                        vec![
                            d.id.clone(),
                            d.namespace.clone(),
                            d.name.clone(),
                            classes.join(", "),
                            opt(&d.residency),
                            if d.classified { "yes".into() } else { "NO".into() },
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
    }
}

pub async fn lineage(command: LineageCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    match command {
        LineageCommand::Graph { node, direction, depth } => {
            let graph = c.lineage_graph(&node, &direction, depth).await?;
            if f == Format::Json {
                return json(&graph);
            }
            table(
                &["DEPTH", "NODE", "CLASSES"],
                graph.nodes.iter().map(|n| vec![n.depth.to_string(), n.node.clone(), n.classes.join(", ")]).collect(),
            );
            if !graph.edges.is_empty() {
                println!();
                table(
                    &["FROM", "TO", "EDGE"],
                    graph
                        .edges
                        .iter()
                        .enumerate()
                        .map(|(i, [a, b])| {
                            vec![a.clone(), b.clone(), graph.edge_kinds.get(i).cloned().unwrap_or_default()]
                        })
                        .collect(),
                );
            }
            if graph.cycle {
                eprintln!("note: the graph has a cycle here");
            }
            if graph.truncated {
                eprintln!("note: the answer was cut at its node limit");
            }
            Ok(())
        }
        LineageCommand::Send { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let events: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Array(a)) => a,
                Ok(v) => vec![v],
                Err(_) => text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                    .map(|(i, l)| serde_json::from_str(l).map_err(|e| anyhow!("line {}: {e}", i + 1)))
                    .collect::<anyhow::Result<_>>()?,
            };
            if events.is_empty() {
                bail!("{} holds no events", file.display());
            }
            for (i, e) in events.iter().enumerate() {
                c.post_lineage(e).await.map_err(|err| anyhow!("event {}: {err}", i + 1))?;
            }
            println!("{} event(s) accepted", events.len());
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TransferCommand {
    /// Ask to use a dataset in a zone outside its residency region.
    Request {
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        zone: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        project: String,
    },
    List {
        #[arg(long)]
        project: String,
    },
    /// Approve (an approver with MFA, not the requester).
    Approve {
        id: String,
        #[arg(long)]
        project: String,
    },
    Reject {
        id: String,
        #[arg(long)]
        project: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeletionCommand {
    /// Register a deletion request: one task per dataset and model version downstream.
    Request {
        /// A dataset id (repeatable).
        #[arg(long = "dataset", value_name = "DATASET", required = true)]
        datasets: Vec<String>,
        /// A reference to the data subject (never the data itself).
        #[arg(long)]
        subject: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value_t = 30)]
        due_in_days: u32,
    },
    Show {
        id: String,
    },
    /// Outstanding tasks, soonest due first.
    Report,
    /// Close a task with evidence of the deletion.
    Close {
        id: String,
        seq: u64,
        #[arg(long)]
        evidence: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Apply retention now (the server also does every minute): expired payload logs
    /// and catalog dataset content past its retention are deleted, each recorded.
    Run,
    /// What is still to be removed, soonest first: dataset content by its deadline and
    /// open deletion tasks by their due dates, with what holds each; exits 1 when
    /// something is overdue.
    Status,
}

pub async fn retention(command: RetentionCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    match command {
        RetentionCommand::Run => {
            let r = c.run_retention().await?;
            if g.output == Format::Json {
                return json(&r);
            }
            println!("deleted {} item(s); each deletion is in the audit ledger", r.deleted);
        }
        RetentionCommand::Status => {
            let rows = c.retention_status().await?;
            if g.output == Format::Json {
                json(&rows)?;
            } else {
                table(
                    &["KIND", "SUBJECT", "ITEM", "DUE", "HELD BY", "OVERDUE"],
                    rows.iter()
                        .map(|r| {
                            vec![
                                r.kind.clone(),
                                r.subject.clone(),
                                r.item.clone(),
                                short(&r.due),
                                opt(&r.held_by),
                                if r.overdue { "OVERDUE".into() } else { String::new() },
                            ]
                        })
                        .collect(),
                );
            }
            let overdue = rows.iter().filter(|r| r.overdue && r.held_by.is_none()).count();
            if overdue > 0 {
                anyhow::bail!("{overdue} item(s) are past their date and not held");
            }
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct QuarantineWhat {
    #[arg(long)]
    project: String,
    /// A dataset id or NAMESPACE/NAME.
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    dataset: Option<String>,
    /// A model version, NAME@NUMBER.
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Quarantine a dataset or a model version, saying why.
    Place(QuarantineWhat),
    /// Lift a quarantine someone else placed (needs a second factor).
    Lift(QuarantineWhat),
    /// A project's quarantines, open and lifted.
    List {
        #[arg(long)]
        project: String,
    },
}

async fn quarantine_request(c: &Client, w: &QuarantineWhat) -> anyhow::Result<api::QuarantineRequest> {
    let (model, version) = match &w.model {
        Some(m) => {
            let (name, v) = crate::cli::common::model_version_number(m)?;
            (Some(name), Some(v))
        }
        None => (None, None),
    };
    let dataset = match &w.dataset {
        Some(d) => Some(c.dataset_id(d).await?),
        None => None,
    };
    Ok(api::QuarantineRequest { dataset, model, version, reason: w.reason.clone() })
}

fn quarantine_rows(qs: &[api::Quarantine]) -> Vec<Vec<String>> {
    qs.iter()
        .map(|q| {
            vec![
                q.id.clone(),
                q.target.clone(),
                q.reason.clone(),
                format!("{} by {}", short(&q.placed_at), q.placed_by),
                match (&q.lifted_at, &q.lifted_by) {
                    (Some(at), Some(by)) => format!("{} by {}", short(at), by),
                    _ => "open".into(),
                },
            ]
        })
        .collect()
}

const QUARANTINE_HEADERS: &[&str] = &["ID", "TARGET", "REASON", "PLACED", "LIFTED"];

pub async fn quarantine(command: QuarantineCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let shown = match command {
        QuarantineCommand::Place(w) => vec![c.place_quarantine(&w.project, &quarantine_request(&c, &w).await?).await?],
        QuarantineCommand::Lift(w) => vec![c.lift_quarantine(&w.project, &quarantine_request(&c, &w).await?).await?],
        QuarantineCommand::List { project } => c.list_quarantines(&project).await?,
    };
    if g.output == Format::Json {
        return json(&shown);
    }
    table(QUARANTINE_HEADERS, quarantine_rows(&shown));
    Ok(())
}

fn print_transfer(t: &api::Transfer, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(t);
    }
    fields(vec![
        ("id", t.id.clone()),
        ("dataset", t.dataset.clone()),
        ("to zone", t.to_zone.clone()),
        ("status", t.status.clone()),
        ("reason", t.reason.clone()),
        ("requested", format!("{} by {}", short(&t.requested_at), t.requested_by)),
        ("decided", t.decided_at.as_deref().map(short).unwrap_or_default()),
    ]);
    Ok(())
}

fn task_rows(tasks: &[api::DeletionTask]) -> Vec<Vec<String>> {
    tasks
        .iter()
        .map(|t| {
            vec![
                t.request.clone(),
                t.seq.to_string(),
                t.kind.clone(),
                t.target.clone(),
                opt(&t.owner),
                short(&t.due_at),
                t.status.clone(),
            ]
        })
        .collect()
}

const TASK_HEADERS: &[&str] = &["REQUEST", "TASK", "KIND", "TARGET", "OWNER", "DUE", "STATUS"];

pub async fn findings(g: &Global) -> anyhow::Result<()> {
    let f = client(g)?.findings().await?;
    if g.output == Format::Json {
        return json(&f);
    }
    println!("residency violations: {}", f.residency_violations.len());
    table(
        &["RUN", "JOB", "ZONE", "REGION", "DATASET", "RESIDENT IN"],
        f.residency_violations
            .iter()
            .map(|v| {
                vec![
                    v.run.clone(),
                    opt(&v.job),
                    v.zone.clone(),
                    v.region.clone(),
                    v.dataset.clone(),
                    v.residency.clone(),
                ]
            })
            .collect(),
    );
    println!("unclassified data in use: {}", f.unclassified_in_use.len());
    for d in &f.unclassified_in_use {
        println!("  {d}");
    }
    Ok(())
}

pub async fn transfer(command: TransferCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    match command {
        TransferCommand::Request { dataset, zone, reason, project } => {
            let dataset = c.dataset_id(&dataset).await?;
            let t = c.request_transfer(&project, &api::TransferRequest { dataset, to_zone: zone, reason }).await?;
            print_transfer(&t, f)
        }
        TransferCommand::List { project } => {
            let rows = c.list_transfers(&project).await?;
            if f == Format::Json {
                return json(&rows);
            }
            table(
                &["ID", "DATASET", "TO ZONE", "STATUS", "REQUESTED"],
                rows.iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.dataset.clone(),
                            t.to_zone.clone(),
                            t.status.clone(),
                            short(&t.requested_at),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        TransferCommand::Approve { id, project } => {
            print_transfer(&c.decide_transfer(&project, &id, "approve").await?, f)
        }
        TransferCommand::Reject { id, project } => {
            print_transfer(&c.decide_transfer(&project, &id, "reject").await?, f)
        }
    }
}

pub async fn deletion(command: DeletionCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    let show = |r: &api::DeletionRequest| -> anyhow::Result<()> {
        if f == Format::Json {
            return json(r);
        }
        println!("{} ({}) due {}: {}", r.id, if r.complete { "complete" } else { "open" }, short(&r.due_at), r.reason);
        table(TASK_HEADERS, task_rows(&r.tasks));
        Ok(())
    };
    match command {
        DeletionCommand::Request { datasets, subject, reason, due_in_days } => {
            let mut ids = Vec::with_capacity(datasets.len());
            for d in &datasets {
                ids.push(c.dataset_id(d).await?);
            }
            let datasets = ids;
            let body =
                api::DeletionRequestBody { datasets, subject_ref: subject, reason, due_in_days: Some(due_in_days) };
            show(&c.request_deletion(&body).await?)
        }
        DeletionCommand::Show { id } => show(&c.get_deletion(&id).await?),
        DeletionCommand::Report => {
            let rows = c.deletion_report().await?;
            if f == Format::Json {
                return json(&rows);
            }
            table(TASK_HEADERS, task_rows(&rows));
            Ok(())
        }
        DeletionCommand::Close { id, seq, evidence } => {
            let t = c.close_deletion_task(&id, seq, &evidence).await?;
            if f == Format::Json {
                return json(&t);
            }
            println!("task {} of {} closed", t.seq, t.request);
            Ok(())
        }
    }
}
