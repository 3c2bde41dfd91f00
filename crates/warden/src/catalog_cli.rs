//! `warden dataset …`, `warden lineage …`: the data catalog and lineage.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use warden_api as api;

use crate::cli::{client, short, Global};
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
}

impl Description {
    fn request(self) -> anyhow::Result<api::DatasetRequest> {
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
        let mut tags = std::collections::BTreeMap::new();
        for t in &self.tags {
            let (k, v) = t.split_once('=').ok_or_else(|| anyhow!("`{t}`: write KEY=VALUE"))?;
            tags.insert(k.to_string(), v.to_string());
        }
        Ok(api::DatasetRequest {
            namespace: None,
            name: None,
            location: self.location,
            layer: self.layer,
            classes: self.classes,
            columns,
            residency: self.residency,
            owner: self.owner,
            retention_days: self.retention_days,
            tags,
        })
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
    /// Replace a dataset's description (its classes, residency, retention, …).
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
        ("classified", d.classified.to_string()),
        ("updated", short(&d.updated_at)),
    ]);
    Ok(())
}

pub async fn dataset(command: DatasetCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    match command {
        DatasetCommand::Create { namespace, name, project, description } => {
            let mut req = description.request()?;
            req.namespace = Some(namespace);
            req.name = Some(name);
            print_dataset(&c.create_dataset(&project, &req).await?, f)
        }
        DatasetCommand::Describe { id, project, description } => {
            print_dataset(&c.update_dataset(&project, &id, &description.request()?).await?, f)
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
