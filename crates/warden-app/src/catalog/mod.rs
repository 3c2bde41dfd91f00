//! The data catalog and lineage: datasets, OpenLineage ingestion, graph queries and the
//! effective classes of a model version (declared ∪ every upstream dataset's, with the
//! path that brought each in).
//!
//! Each replica keeps the lineage graph in memory. Edges are append-only and numbered
//! in commit order, so a refresh reads only edges after the last one it has; classes
//! are reloaded when the catalog's version changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
use warden_audit::{Category, ResourceRef};
use warden_core::{DatasetId, ModelId, Principal, ProjectId, Timestamp};
pub use warden_lineage::Direction;
use warden_lineage::Event;
use warden_store::{ColumnRecord, DatasetRecord, LineageEventRecord, LineageRunRecord, LineageWrite, Page};

pub(crate) mod graph;

pub(crate) use graph::*;

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

/// Depth limit of a class search upstream (far beyond any real pipeline).
const CLASS_DEPTH: u32 = 64;
/// Most nodes one graph answer returns.
const WALK_LIMIT: usize = 10_000;
/// Namespace of OpenLineage outputs that name a model version: `<project>/<model>@<n>`.
pub const MODEL_NAMESPACE: &str = "warden-model";
const LAYERS: &[&str] = &["raw", "curated", "workspace"];

impl App {
    /// Brings the in-memory graph and classes up to date with the store.
    pub(crate) async fn lineage(&self) -> Result<tokio::sync::RwLockReadGuard<'_, Loaded>, AppError> {
        let version = self.store.catalog_version().await?;
        let fresh = {
            let l = self.lineage.loaded.read().await;
            let newer_edges = self.store.lineage_edges_since(l.last_edge, 1).await?;
            l.catalog_version == Some(version) && newer_edges.is_empty()
        };
        if !fresh {
            let mut l = self.lineage.loaded.write().await;
            loop {
                let batch = self.store.lineage_edges_since(l.last_edge, 50_000).await?;
                let Some(last) = batch.last().map(|(id, _, _)| *id) else { break };
                for (_, from, to) in &batch {
                    l.graph.add_edge(from, to);
                }
                l.last_edge = last;
            }
            if l.catalog_version != Some(version) {
                let mut classes = HashMap::new();
                let mut datasets = HashMap::new();
                let mut page = Page::first(500);
                loop {
                    let batch = self.store.list_datasets(None, false, &page).await?;
                    for d in &batch {
                        let node = warden_lineage::dataset_node(&d.namespace, &d.name);
                        let c: Vec<String> = d.all_classes().into_iter().collect();
                        if !c.is_empty() {
                            classes.insert(node.clone(), c);
                        }
                        datasets.insert(
                            node,
                            DatasetFacts {
                                id: d.id.clone(),
                                project: d.project.clone(),
                                residency: d.residency.clone(),
                                owner: d.owner.clone(),
                                legal_hold: d.legal_hold.clone(),
                                published: d.published,
                                classified: d.classified,
                            },
                        );
                    }
                    match batch.last() {
                        Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
                        _ => break,
                    }
                }
                l.classes = classes;
                l.datasets = datasets;
                l.catalog_version = Some(version);
            }
        }
        Ok(self.lineage.loaded.read().await)
    }

    /// A model version's classes: those declared on it, and those of every dataset
    /// upstream of it in the lineage graph, each with the path that brought it in.
    pub async fn effective_classes(
        &self,
        model: &ModelId,
        version: u64,
        declared: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, AppError> {
        let node = warden_lineage::model_node(model.as_str(), version);
        let l = self.lineage().await?;
        let mut out = l.graph.upstream_classes(&node, CLASS_DEPTH, |n| {
            if n == node {
                declared.to_vec()
            } else {
                l.classes.get(n).cloned().unwrap_or_default()
            }
        });
        for c in declared {
            out.entry(c.clone()).or_insert_with(|| vec![node.clone()]);
        }
        Ok(out)
    }
}

fn invalid(m: impl Into<String>) -> AppError {
    AppError::Invalid(m.into())
}

/// A dataset's description, as its owners give it.
#[derive(Debug, Clone, Default)]
pub struct DatasetSpec {
    pub location: Option<String>,
    pub layer: Option<String>,
    pub classes: Vec<String>,
    pub columns: Vec<ColumnRecord>,
    pub residency: Option<String>,
    pub owner: Option<String>,
    pub retention_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
    /// A legal hold (its reason): deletion requests touching the dataset are refused.
    pub legal_hold: Option<String>,
    /// Shown in the whole organisation's catalog (when its classes allow that).
    pub published: bool,
}

impl DatasetSpec {
    async fn check(&mut self, app: &App) -> Result<(), AppError> {
        if let Some(l) = &self.layer {
            if !LAYERS.contains(&l.as_str()) {
                return Err(invalid(format!("layer `{l}`: use raw, curated or workspace")));
            }
        }
        for (field, v) in [("location", &self.location), ("residency", &self.residency), ("owner", &self.owner)] {
            if let Some(v) = v {
                crate::text::text_ok(field, v, 1024)?;
            }
        }
        if self.columns.len() > 10_000 || self.tags.len() > 100 {
            return Err(invalid("at most 10,000 columns and 100 tags"));
        }
        let mut seen = BTreeSet::new();
        for c in &self.columns {
            if c.name.is_empty() || !seen.insert(c.name.as_str()) {
                return Err(invalid(format!("column `{}` is empty or listed twice", c.name)));
            }
        }
        let mut all: Vec<String> = self.classes.clone();
        all.extend(self.columns.iter().flat_map(|c| c.classes.iter().cloned()));
        app.policy().await.classes_declared(&all)?;
        self.classes.sort();
        self.classes.dedup();
        Ok(())
    }
}

fn name_ok(field: &str, v: &str) -> Result<(), AppError> {
    if v.trim().is_empty() {
        return Err(invalid(format!("`{field}` is required")));
    }
    crate::text::text_ok(field, v, 1024)
}

/// Registers a dataset in a project, or claims one lineage named (unclassified).
pub struct CreateDataset {
    pub project: ProjectId,
    pub namespace: String,
    pub name: String,
    pub spec: DatasetSpec,
}

impl Operation for CreateDataset {
    type Output = DatasetRecord;
    const ACTION: Action = Action::DatasetCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(mut self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        name_ok("namespace", &self.namespace)?;
        name_ok("name", &self.name)?;
        self.spec.check(ctx.app).await?;
        let now = ctx.now();
        let existing = ctx.store().find_dataset(&self.namespace, &self.name).await?;
        let record = |id: DatasetId, created_at: Timestamp| DatasetRecord {
            id,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            project: Some(self.project.clone()),
            location: self.spec.location.clone(),
            layer: self.spec.layer.clone(),
            classes: self.spec.classes.clone(),
            columns: self.spec.columns.clone(),
            residency: self.spec.residency.clone(),
            owner: self.spec.owner.clone(),
            retention_days: self.spec.retention_days,
            tags: self.spec.tags.clone(),
            classified: true,
            created_at,
            updated_at: now,
            legal_hold: self.spec.legal_hold.clone(),
            published: self.spec.published,
        };
        match existing {
            Some(d) if d.classified => Err(AppError::Conflict(format!("dataset `{}/{}`", self.namespace, self.name))),
            Some(d) => {
                // Lineage named it first: its owners now describe it.
                let r = record(d.id, d.created_at);
                ctx.store().update_dataset(&r).await?;
                Ok(r)
            }
            None => {
                let r = record(DatasetId::generate(now.0), now);
                ctx.store().create_dataset(&r).await?;
                Ok(r)
            }
        }
    }
}

/// Replaces a project's dataset's description (classification changes are recorded).
pub struct UpdateDataset {
    pub project: ProjectId,
    pub id: DatasetId,
    pub spec: DatasetSpec,
}

impl Operation for UpdateDataset {
    type Output = DatasetRecord;
    const ACTION: Action = Action::DatasetUpdate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let d = project_dataset(&ctx, &self.project, &self.id).await?;
        describe(&ctx, &self.project, d, self.spec).await
    }
}

/// A change to some fields of a dataset's description; `Some(None)` clears one.
#[derive(Debug, Clone, Default)]
pub struct DatasetChange {
    pub location: Option<Option<String>>,
    pub layer: Option<Option<String>>,
    pub classes: Option<Vec<String>>,
    pub columns: Option<Vec<ColumnRecord>>,
    pub residency: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    pub retention_days: Option<Option<u32>>,
    pub tags: Option<BTreeMap<String, String>>,
    pub legal_hold: Option<Option<String>>,
    pub published: Option<bool>,
}

/// Changes only the named fields of a project's dataset's description; a change of
/// classes is recorded as a classification event of its own, a hold as a hold event.
pub struct PatchDataset {
    pub project: ProjectId,
    pub id: DatasetId,
    pub change: DatasetChange,
}

impl Operation for PatchDataset {
    type Output = DatasetRecord;
    const ACTION: Action = Action::DatasetUpdate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let d = project_dataset(&ctx, &self.project, &self.id).await?;
        let c = self.change;
        let spec = DatasetSpec {
            location: c.location.unwrap_or_else(|| d.location.clone()),
            layer: c.layer.unwrap_or_else(|| d.layer.clone()),
            classes: c.classes.unwrap_or_else(|| d.classes.clone()),
            columns: c.columns.unwrap_or_else(|| d.columns.clone()),
            residency: c.residency.unwrap_or_else(|| d.residency.clone()),
            owner: c.owner.unwrap_or_else(|| d.owner.clone()),
            retention_days: c.retention_days.unwrap_or(d.retention_days),
            tags: c.tags.unwrap_or_else(|| d.tags.clone()),
            legal_hold: c.legal_hold.unwrap_or_else(|| d.legal_hold.clone()),
            published: c.published.unwrap_or(d.published),
        };
        describe(&ctx, &self.project, d, spec).await
    }
}

async fn project_dataset(ctx: &Authorized<'_>, project: &ProjectId, id: &DatasetId) -> Result<DatasetRecord, AppError> {
    ctx.store()
        .get_dataset(id)
        .await?
        .filter(|d| d.project.as_ref() == Some(project))
        .ok_or_else(|| AppError::NotFound(format!("dataset {id} in project {project}")))
}

/// Writes a dataset's new description and records what changed: the hold, the classes.
async fn describe(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    d: DatasetRecord,
    mut spec: DatasetSpec,
) -> Result<DatasetRecord, AppError> {
    spec.check(ctx.app).await?;
    let before: Vec<String> = d.all_classes().into_iter().collect();
    let hold_before = d.legal_hold.clone();
    let r = DatasetRecord {
        legal_hold: spec.legal_hold,
        published: spec.published,
        location: spec.location,
        layer: spec.layer,
        classes: spec.classes,
        columns: spec.columns,
        residency: spec.residency,
        owner: spec.owner,
        retention_days: spec.retention_days,
        tags: spec.tags,
        classified: true,
        updated_at: ctx.now(),
        ..d
    };
    ctx.store().update_dataset(&r).await?;
    if r.legal_hold != hold_before {
        let mut e = ctx.app.event(Category::Change, "dataset.legal-hold", "success", ctx.principal, ctx.meta);
        e.project = Some(project.to_string());
        e.resource = Some(ResourceRef { type_: "dataset".into(), uid: r.id.to_string() });
        e.reason = r.legal_hold.clone().or(Some("legal hold lifted".into()));
        e.detail = json!({"on": r.legal_hold.is_some()});
        ctx.app.record(&e).await?;
    }
    let after: Vec<String> = r.all_classes().into_iter().collect();
    if before != after {
        let mut e = ctx.app.event(Category::Change, "dataset.classes", "success", ctx.principal, ctx.meta);
        e.project = Some(project.to_string());
        e.resource = Some(ResourceRef { type_: "dataset".into(), uid: r.id.to_string() });
        e.data_classes = after.clone();
        e.detail = json!({"before": before, "after": after});
        ctx.app.record(&e).await?;
    }
    Ok(r)
}

pub use crate::named_data::DatasetRef;

pub struct GetDataset {
    pub reference: DatasetRef,
}

impl Operation for GetDataset {
    type Output = DatasetRecord;
    const ACTION: Action = Action::DatasetRead;
    async fn target(&self, app: &App, _: &Principal) -> Result<Target, AppError> {
        // Asked on the dataset's project (its people, auditors, administrators), or
        // answered for everyone when it is published and its classes allow that.
        // An unknown dataset is judged as one no project owns (so those who could not
        // read it learn nothing about whether it exists).
        Ok(match self.reference.find(app.store()).await? {
            Some(d) => dataset_target(&*app.policy().await, &d),
            None => Target::organisation(),
        })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        self.reference
            .find(ctx.store())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("dataset `{}`", self.reference)))
    }
}

/// The question "may the caller read this dataset": on its project, or the organisation
/// for one no project owns.
fn dataset_target(policy: &crate::policy::ActivePolicy, d: &DatasetRecord) -> Target {
    read_target(policy, d.project.as_ref(), d.published, d.classified, &d.all_classes())
}

/// "May the caller read a dataset" from its facts: on its project (the organisation for
/// one no project owns), and shown to the whole organisation when its owners published
/// it, it is described, and every class it carries (its own and its columns') allows
/// that in the policy document in force.
fn read_target<'c>(
    policy: &crate::policy::ActivePolicy,
    project: Option<&ProjectId>,
    published: bool,
    classified: bool,
    classes: impl IntoIterator<Item = &'c String>,
) -> Target {
    let public = published
        && classified
        && classes.into_iter().all(|c| policy.document.data_classes.get(c).is_some_and(|k| k.catalog_organisation));
    Target { resource_public: public, ..Target::of(project.cloned().map_or(Resource::Organisation, Resource::Project)) }
}

/// The catalog, by id; `unclassified` lists data lineage saw that nobody described
/// (a finding: unclassified data in use).
pub struct ListDatasets {
    pub project: Option<ProjectId>,
    pub unclassified: bool,
    pub page: Page,
}

impl Operation for ListDatasets {
    type Output = Vec<DatasetRecord>;
    const ACTION: Action = Action::DatasetList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    /// Only the datasets the caller may read (`dataset.read` on each), a full page of
    /// them while any remain.
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let policy = ctx.app.policy().await;
        let mut out = Vec::new();
        let mut page = self.page.clone();
        loop {
            let batch = ctx.store().list_datasets(self.project.as_ref(), self.unclassified, &page).await?;
            let done = batch.len() < page.limit_usize();
            let last = batch.last().map(|d| d.id.to_string());
            for d in batch {
                if ctx.may_with(Action::DatasetRead, &dataset_target(&policy, &d)).await? {
                    out.push(d);
                    if out.len() == self.page.limit_usize() {
                        return Ok(out);
                    }
                }
            }
            match last {
                Some(after) if !done => page.after = Some(after),
                _ => return Ok(out),
            }
        }
    }
}

fn event_time(s: &str) -> Result<Timestamp, AppError> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| invalid(format!("`eventTime` `{s}` is not an RFC 3339 time")))?;
    Ok(Timestamp(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)))
}

/// `POST /api/v1/lineage`: one OpenLineage event. Required fields are checked (400 with
/// the reason); the event is kept as sent; datasets the catalog lacks are created
/// unclassified (in the caller's project when its token has one); outputs in the
/// `warden-model` namespace link the run to a model version.
pub struct IngestLineage {
    pub event: Value,
}

fn scope_project(p: &Principal) -> Option<ProjectId> {
    p.scope.as_ref().and_then(|s| s.project.clone())
}

impl Operation for IngestLineage {
    type Output = ();
    const ACTION: Action = Action::LineageWrite;
    async fn target(&self, _: &App, principal: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(scope_project(principal).map_or(Resource::Organisation, Resource::Project)))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let parsed = warden_lineage::parse(&self.event).map_err(|e| AppError::BadParameter(e.0))?;
        let project = scope_project(ctx.principal);
        let now = ctx.now();
        let unclassified = |ns: &str, name: &str, columns: &[(String, Option<String>)]| DatasetRecord {
            columns: columns
                .iter()
                .map(|(n, t)| ColumnRecord { name: n.clone(), type_: t.clone(), classes: Vec::new() })
                .collect(),
            ..DatasetRecord::unclassified(ns, name, project.clone(), now)
        };
        let raw = serde_json::to_string(&self.event).map_err(|e| AppError::Internal(e.to_string()))?;
        let write = match parsed {
            Event::Dataset { event_time: t, producer, dataset } => LineageWrite {
                event: LineageEventRecord {
                    run_id: None,
                    event_type: "DATASET".into(),
                    event_time: event_time(&t)?,
                    producer,
                    received_at: now,
                    received_by: ctx.principal.id.clone(),
                    event: raw,
                },
                run: None,
                datasets: vec![unclassified(&dataset.namespace, &dataset.name, &dataset.columns)],
                edges: Vec::new(),
            },
            Event::Job { event_time: t, producer, job, inputs, outputs } => {
                let node = warden_lineage::job_node(&job.namespace, &job.name);
                let mut edges = Vec::new();
                let mut datasets = Vec::new();
                for d in &inputs {
                    datasets.push(unclassified(&d.namespace, &d.name, &d.columns));
                    edges.push((d.node(), node.clone()));
                }
                for d in &outputs {
                    datasets.push(unclassified(&d.namespace, &d.name, &d.columns));
                    edges.push((node.clone(), d.node()));
                }
                LineageWrite {
                    event: LineageEventRecord {
                        run_id: None,
                        event_type: "JOB".into(),
                        event_time: event_time(&t)?,
                        producer,
                        received_at: now,
                        received_by: ctx.principal.id.clone(),
                        event: raw,
                    },
                    run: None,
                    datasets,
                    edges,
                }
            }
            Event::Run(r) => {
                let t = event_time(&r.event_time)?;
                let run = warden_lineage::run_node(&r.run_id);
                let mut edges = Vec::new();
                let mut datasets = Vec::new();
                for d in &r.inputs {
                    // A run that reads a model version (`warden-model` inputs) is
                    // inference: the version's data access includes the run's inputs.
                    if d.namespace == MODEL_NAMESPACE {
                        edges.push((model_output(&ctx, &d.name).await?, run.clone()));
                    } else {
                        datasets.push(unclassified(&d.namespace, &d.name, &d.columns));
                        edges.push((d.node(), run.clone()));
                    }
                }
                for d in &r.outputs {
                    if d.namespace == MODEL_NAMESPACE {
                        let node = model_output(&ctx, &d.name).await?;
                        edges.push((run.clone(), node));
                    } else {
                        datasets.push(unclassified(&d.namespace, &d.name, &d.columns));
                        edges.push((run.clone(), d.node()));
                    }
                }
                if let Some(parent) = &r.parent_run {
                    edges.push((warden_lineage::run_node(parent), run.clone()));
                }
                LineageWrite {
                    event: LineageEventRecord {
                        run_id: Some(r.run_id.clone()),
                        event_type: r.event_type.as_str().into(),
                        event_time: t,
                        producer: r.producer.clone(),
                        received_at: now,
                        received_by: ctx.principal.id.clone(),
                        event: raw,
                    },
                    run: Some(LineageRunRecord {
                        run_id: r.run_id.clone(),
                        job_namespace: r.job.namespace.clone(),
                        job_name: r.job.name.clone(),
                        state: r.event_type.as_str().into(),
                        parent_run: r.parent_run.clone(),
                        zone: ctx.principal.scope.as_ref().and_then(|s| s.zone.clone()),
                        started_at: (r.event_type == warden_lineage::EventType::Start).then_some(t),
                        ended_at: r.event_type.is_terminal().then_some(t),
                        updated_at: now,
                    }),
                    datasets,
                    edges,
                }
            }
        };
        ctx.store().write_lineage(&write).await?;
        Ok(())
    }
}

/// `<project id or name>/<model>@<version>` (a `warden-model` input or output) → the
/// version's graph node.
async fn model_output(ctx: &Authorized<'_>, name: &str) -> Result<String, AppError> {
    let bad = || {
        AppError::BadParameter(format!(
            "`{MODEL_NAMESPACE}:{name}` must name a model version as `<project>/<model>@<version>`"
        ))
    };
    let (project, rest) = name.split_once('/').ok_or_else(bad)?;
    let (model, version) = rest.rsplit_once('@').ok_or_else(bad)?;
    let version: u64 = version.parse().map_err(|_| bad())?;
    let project = match ProjectId::parse(project) {
        Ok(id) => id,
        Err(_) => {
            let mut page = Page::first(500);
            loop {
                let batch = ctx.store().list_projects(&page).await?;
                if let Some(p) = batch.iter().find(|p| p.name == project) {
                    break p.id.clone();
                }
                match batch.last() {
                    Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
                    _ => return Err(AppError::BadParameter(format!("no project `{project}` for output `{name}`"))),
                }
            }
        }
    };
    let m = ctx
        .store()
        .get_model(&project, model)
        .await?
        .ok_or_else(|| AppError::BadParameter(format!("no model `{model}` in project `{project}`")))?;
    if !ctx.store().list_model_versions(&m.id).await?.iter().any(|v| v.version == version) {
        return Err(AppError::BadParameter(format!("model `{model}` has no version {version}")));
    }
    Ok(warden_lineage::model_node(m.id.as_str(), version))
}

impl App {
    /// A walk over the lineage graph as this replica has it (brought up to date first),
    /// stopping at `limit` nodes (the API answers at most 10,000).
    pub async fn lineage_walk(
        &self,
        node: &str,
        direction: Direction,
        depth: u32,
        limit: usize,
    ) -> Result<Option<warden_lineage::Walk>, AppError> {
        let l = self.lineage().await?;
        Ok(l.graph.walk(node, direction, depth, limit))
    }
}

/// A graph answer.
#[derive(Debug, Clone)]
pub struct GraphView {
    pub walk: warden_lineage::Walk,
    /// What each edge of `walk.edges` is, in the same order: `training` or `evaluation`
    /// (data or a run into a model version), `inference` (a version read by a run),
    /// `input` (data read by a run), `output` (data a run wrote).
    pub edge_kinds: Vec<&'static str>,
    /// Classes of the datasets in it, by node.
    pub classes: BTreeMap<String, Vec<String>>,
}

/// `GET /api/v1/lineage?node=…&direction=upstream|downstream&depth=N`.
pub struct LineageGraph {
    pub node: String,
    pub direction: Direction,
    pub depth: u32,
}

impl Operation for LineageGraph {
    type Output = GraphView;
    const ACTION: Action = Action::LineageRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if self.depth == 0 || self.depth > 100 {
            return Err(AppError::BadParameter("`depth` must be 1 to 100".into()));
        }
        let start = model_node(&ctx, &self.node).await?;
        let l = ctx.app.lineage().await?;
        let policy = ctx.app.policy().await;
        let mut walk = l
            .graph
            .walk(&start, self.direction, self.depth, WALK_LIMIT)
            .ok_or_else(|| AppError::NotFound(format!("lineage node `{}`", self.node)))?;
        let edge_kinds = edge_kinds(&ctx, &walk).await?;
        // Datasets the caller may not read (`dataset.read`, as for the catalog) are shown
        // only as a placeholder, without name or classes; starting at one is as if it
        // did not exist.
        let mut hidden = 0;
        for (i, (node, _)) in walk.nodes.iter_mut().enumerate() {
            let Some(d) = l.datasets.get(node.as_str()) else { continue };
            let classes = l.classes.get(node.as_str()).into_iter().flatten();
            let target = read_target(&policy, d.project.as_ref(), d.published, d.classified, classes);
            if !ctx.may_with(Action::DatasetRead, &target).await? {
                if i == 0 {
                    return Err(AppError::NotFound(format!("lineage node `{}`", self.node)));
                }
                hidden += 1;
                *node = format!("dataset:hidden/{hidden}");
            }
        }
        let classes = walk.nodes.iter().filter_map(|(n, _)| Some((n.clone(), l.classes.get(n)?.clone()))).collect();
        Ok(GraphView { walk, classes, edge_kinds })
    }
}

/// Each edge's kind (see [`GraphView::edge_kinds`]): into a model version, data an
/// evaluation of that version names is evaluation data; anything else trained it.
async fn edge_kinds(ctx: &Authorized<'_>, walk: &warden_lineage::Walk) -> Result<Vec<&'static str>, AppError> {
    let name = |i: u32| walk.nodes.get(i as usize).map(|(n, _)| n.as_str()).unwrap_or_default();
    let mut evaluated: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut kinds = Vec::with_capacity(walk.edges.len());
    for &(a, b) in &walk.edges {
        let (from, to) = (name(a), name(b));
        let kind = if let Some(version) = to.strip_prefix("model:") {
            if !evaluated.contains_key(to) {
                let mut names = BTreeSet::new();
                if let Some((id, v)) = version.rsplit_once('@') {
                    if let (Ok(id), Ok(v)) = (warden_core::ModelId::parse(id), v.parse::<u64>()) {
                        for e in ctx.store().list_evaluations(&id, v).await? {
                            names.extend(e.dataset.map(|d| format!("dataset:{d}")));
                        }
                    }
                }
                evaluated.insert(to.to_string(), names);
            }
            if evaluated.get(to).is_some_and(|e| e.contains(from)) {
                "evaluation"
            } else {
                "training"
            }
        } else if from.starts_with("model:") {
            "inference"
        } else if from.starts_with("run:") {
            "output"
        } else {
            "input"
        };
        kinds.push(kind);
    }
    Ok(kinds)
}

/// A model version's node named the way people name it: `model:NAME@V` or
/// `model:PROJECT/NAME@V` (a project's name or id) become `model:mdl_…@V`. A name used
/// by models of several projects is refused with the projects to choose from.
async fn model_node(ctx: &Authorized<'_>, node: &str) -> Result<String, AppError> {
    let Some((name, version)) = node.strip_prefix("model:").and_then(|r| r.rsplit_once('@')) else {
        return Ok(node.to_string());
    };
    if name.starts_with("mdl_") {
        return Ok(node.to_string());
    }
    let (project, name) = match name.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, name),
    };
    let mut found: Vec<(String, ModelId)> = Vec::new();
    let mut page = warden_store::Page::first(500);
    loop {
        let batch = ctx.store().list_projects(&page).await?;
        for p in &batch {
            if project.is_some_and(|want| want != p.name && want != p.id.as_str()) {
                continue;
            }
            if let Some(m) = ctx.store().get_model(&p.id, name).await? {
                found.push((p.name.clone(), m.id));
            }
        }
        match batch.last() {
            Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
            _ => break,
        }
    }
    match &found[..] {
        [] => Err(AppError::NotFound(format!("lineage node `{node}`: no model `{name}`"))),
        [(_, id)] => Ok(format!("model:{id}@{version}")),
        several => {
            let projects: Vec<&str> = several.iter().map(|(p, _)| p.as_str()).collect();
            Err(AppError::BadParameter(format!(
                "model `{name}` is in several projects ({}): write model:PROJECT/{name}@{version}",
                projects.join(", ")
            )))
        }
    }
}

/// The effective classes of a model version, each with the path that brought it in.
pub struct VersionClasses {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
}

impl Operation for VersionClasses {
    type Output = BTreeMap<String, Vec<String>>;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let f = crate::release::version_facts(&ctx, &self.project, &self.model, self.version).await?;
        ctx.app.effective_classes(&f.model.id, self.version, &f.version.lineage.data_classes).await
    }
}

/// One column of a classification proposal: what a local scan found (kinds and counts,
/// never values) and the classes it suggests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProposedColumn {
    pub name: String,
    pub counts: BTreeMap<String, u64>,
    pub classes: Vec<String>,
}

/// A proposal of column classes for a dataset, from `warden dataset scan`.
pub struct ProposeClasses {
    pub project: ProjectId,
    pub dataset: DatasetId,
    pub rows: u64,
    pub columns: Vec<ProposedColumn>,
}

fn dataset_in(d: Option<DatasetRecord>, project: &ProjectId, id: &DatasetId) -> Result<DatasetRecord, AppError> {
    d.filter(|d| d.project.as_ref() == Some(project))
        .ok_or_else(|| AppError::NotFound(format!("dataset {id} in project {project}")))
}

impl Operation for ProposeClasses {
    type Output = warden_store::ProposalRecord;
    const ACTION: Action = Action::DatasetPropose;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        dataset_in(ctx.store().get_dataset(&self.dataset).await?, &self.project, &self.dataset)?;
        if self.columns.is_empty() || self.columns.len() > 10_000 {
            return Err(invalid("a proposal names 1 to 10,000 columns"));
        }
        let known: Vec<String> = self.columns.iter().flat_map(|c| c.classes.iter().cloned()).collect();
        ctx.app.policy().await.classes_declared(&known)?;
        for c in &self.columns {
            name_ok("columns[].name", &c.name)?;
            if c.counts.keys().any(|k| k.len() > 32 || !k.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_')) {
                return Err(invalid("`counts` keys are detector kinds such as EMAIL or CARD"));
            }
        }
        let body = json!({"rows": self.rows, "columns": self.columns});
        let now = ctx.now();
        let p = warden_store::ProposalRecord {
            id: format!("dpr_{}", warden_core::EventId::generate(now.0).as_str().trim_start_matches("evt_")),
            dataset: self.dataset,
            project: self.project,
            body: body.to_string(),
            status: "pending".into(),
            proposed_by: ctx.principal.id.clone(),
            proposed_at: now,
            decided_by: None,
            decided_at: None,
        };
        ctx.store().create_proposal(&p).await?;
        Ok(p)
    }
}

pub struct ListProposals {
    pub project: ProjectId,
    pub dataset: DatasetId,
}

impl Operation for ListProposals {
    type Output = Vec<warden_store::ProposalRecord>;
    const ACTION: Action = Action::DatasetRead;
    /// Proposals come from sample records: only the dataset's project, auditors and
    /// administrators see them, published or not.
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        dataset_in(ctx.store().get_dataset(&self.dataset).await?, &self.project, &self.dataset)?;
        Ok(ctx.store().list_proposals(&self.dataset).await?)
    }
}

/// The dataset's owners accept (the proposed classes join the columns') or reject a
/// proposal; either is recorded.
pub struct DecideProposal {
    pub project: ProjectId,
    pub id: String,
    pub accept: bool,
}

impl Operation for DecideProposal {
    type Output = (warden_store::ProposalRecord, DatasetRecord);
    const ACTION: Action = Action::DatasetDecide;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let p = ctx
            .store()
            .get_proposal(&self.id)
            .await?
            .filter(|p| p.project == self.project)
            .ok_or_else(|| AppError::NotFound(format!("proposal `{}`", self.id)))?;
        let mut d = dataset_in(ctx.store().get_dataset(&p.dataset).await?, &self.project, &p.dataset)?;
        let status = if self.accept { "accepted" } else { "rejected" };
        if !ctx.store().decide_proposal(&p.id, status, &ctx.principal.id, ctx.now()).await? {
            return Err(AppError::rule(409, "proposals.state", format!("proposal {} is already {}", p.id, p.status)));
        }
        if self.accept {
            let columns: Vec<ProposedColumn> = serde_json::from_str::<Value>(&p.body)
                .ok()
                .and_then(|b| serde_json::from_value(b.get("columns")?.clone()).ok())
                .unwrap_or_default();
            for pc in columns {
                match d.columns.iter_mut().find(|c| c.name == pc.name) {
                    Some(c) => {
                        c.classes.extend(pc.classes);
                        c.classes.sort();
                        c.classes.dedup();
                    }
                    None => d.columns.push(ColumnRecord { name: pc.name, type_: None, classes: pc.classes }),
                }
            }
            d.classified = true;
            d.updated_at = ctx.now();
            ctx.store().update_dataset(&d).await?;
        }
        let mut e =
            ctx.app.event(Category::Change, &format!("dataset.proposal-{status}"), "success", ctx.principal, ctx.meta);
        e.project = Some(self.project.to_string());
        e.resource = Some(ResourceRef { type_: "dataset".into(), uid: d.id.to_string() });
        e.data_classes = d.all_classes().into_iter().collect();
        e.detail = json!({"proposal": p.id, "proposed_by": p.proposed_by});
        ctx.app.record(&e).await?;
        let p = ctx.store().get_proposal(&p.id).await?.ok_or_else(|| AppError::Internal("proposal vanished".into()))?;
        Ok((p, d))
    }
}

/// Removes a project's dataset from the catalog (project owners); refused under a legal
/// hold. Lineage keeps its node, so later events bring it back unclassified.
pub struct DeleteDataset {
    pub project: ProjectId,
    pub id: DatasetId,
}

impl Operation for DeleteDataset {
    type Output = ();
    const ACTION: Action = Action::DatasetDelete;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let d = dataset_in(ctx.store().get_dataset(&self.id).await?, &self.project, &self.id)?;
        if let Some(hold) = &d.legal_hold {
            return Err(AppError::rule(
                409,
                "datasets.legal-hold",
                format!("dataset {} is under a legal hold ({hold})", d.id),
            ));
        }
        ctx.store().delete_dataset(&self.id).await?;
        Ok(())
    }
}
