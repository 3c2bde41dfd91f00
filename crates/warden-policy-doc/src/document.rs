//! The policy document: what it holds, and reading it from YAML with every error
//! reported at once, each with its line, column and path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use warden_core::Role;

use crate::yaml::{self, Kind, Node, Pos};

/// A zone: a place where models run, with its network posture and the controls an
/// artifact must meet to be placed there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Zone {
    pub region: String,
    pub ingress: Ingress,
    pub egress: Egress,
    pub require_signed_artifacts: bool,
    pub require_encrypted_volumes: bool,
    pub require_runtime_identity: bool,
    /// Whether files whose format intake cannot assess (verdict `unknown`) may be placed
    /// here; refused unless the zone says so.
    pub allow_unknown_formats: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ingress {
    Public,
    PrivateOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Egress {
    /// `true` when egress is denied unless allow-listed.
    pub default_deny: bool,
    pub allow: Vec<String>,
}

/// What the gateway does with personal data of a class before a call leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Redaction {
    /// Typed placeholders, restored in the answer.
    Mask,
    /// Keyed hashes in place of the values.
    Hash,
    /// The values are removed.
    Drop,
    /// Sent as written.
    None,
}

/// The least confidence a finding needs before the gateway redacts it: `low`
/// chooses recall over precision (a class of health data would rather mask a
/// capitalised word too many than let a name out), `high` precision over recall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionThreshold {
    Low,
    #[default]
    Medium,
    High,
}

impl RedactionThreshold {
    fn is_default(&self) -> bool {
        *self == RedactionThreshold::Medium
    }
}

/// A data class: where data of that class may go and what it demands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataClass {
    pub allowed_zones: Vec<String>,
    /// Regions the data may be processed in; empty means any.
    pub regions: Vec<String>,
    pub require_redacted_logs: bool,
    pub require_private_ingress: bool,
    pub require_audit_logging: bool,
    pub require_network_segmentation: bool,
    pub prohibit_external_llm_calls: bool,
    pub llm_redaction: Redaction,
    #[serde(skip_serializing_if = "RedactionThreshold::is_default")]
    pub redaction_threshold: RedactionThreshold,
    /// Whether gateway payloads of this class are kept (encrypted, until retention).
    pub payload_logging: bool,
    /// Whether a dataset of this class may be shown to the whole organisation once its
    /// owners publish it (`catalog: organisation`); by default it is visible only to its
    /// project, auditors and administrators (`catalog: project`).
    pub catalog_organisation: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Op {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "==")]
    Eq,
}

/// An evaluation threshold such as `auc >= 0.8`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    pub op: Op,
    pub value: f64,
}

impl Threshold {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (op, rest) = [(">=", Op::Ge), ("<=", Op::Le), ("==", Op::Eq), (">", Op::Gt), ("<", Op::Lt)]
            .into_iter()
            .find_map(|(t, op)| s.strip_prefix(t).map(|r| (op, r)))?;
        let value: f64 = rest.trim().parse().ok()?;
        value.is_finite().then_some(Self { op, value })
    }

    pub fn met_by(&self, v: f64) -> bool {
        match self.op {
            Op::Ge => v >= self.value,
            Op::Gt => v > self.value,
            Op::Le => v <= self.value,
            Op::Lt => v < self.value,
            Op::Eq => v == self.value,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
        };
        write!(f, "{op} {}", self.value)
    }
}

/// Change-management rules for releases: `default`, or a project by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseRule {
    pub approvals: u32,
    pub approver_role: String,
    pub require_evaluation: bool,
    /// Metric name → threshold the attached evaluation must meet.
    pub evaluation: BTreeMap<String, Threshold>,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub zones: BTreeMap<String, Zone>,
    pub data_classes: BTreeMap<String, DataClass>,
    pub releases: BTreeMap<String, ReleaseRule>,
    /// Where each named object was declared (`zones.hipaa-ai`, `releases.fraud`, ...).
    #[serde(skip)]
    pub positions: BTreeMap<String, Pos>,
}

/// One thing wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    /// Dotted path of the offending node, e.g. `data_classes.ephi.allowed_zones[1]`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(f, "{}:{}: {}: {}", self.line, self.column, self.path, self.message)
        }
    }
}

/// Every problem found, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(Problem::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Problems {}

impl Problems {
    /// A YAML syntax error or a limit crossed, as the one problem of a document.
    pub(crate) fn syntax(e: yaml::SyntaxError) -> Self {
        Problems(vec![Problem { line: e.at.line, column: e.at.column, path: String::new(), message: e.message }])
    }
}

pub(crate) const ZONE_KEYS: &[&str] = &[
    "region",
    "ingress",
    "egress",
    "require_signed_artifacts",
    "require_encrypted_volumes",
    "require_runtime_identity",
    "allow_unknown_formats",
    "description",
];
pub(crate) const CLASS_KEYS: &[&str] = &[
    "allowed_zones",
    "regions",
    "require_redacted_logs",
    "require_private_ingress",
    "require_audit_logging",
    "require_network_segmentation",
    "prohibit_external_llm_calls",
    "llm_redaction",
    "redaction_threshold",
    "payload_logging",
    "catalog",
    "retention_days",
    "description",
];
pub(crate) const RELEASE_KEYS: &[&str] = &["approvals", "approver_role", "require_evaluation", "evaluation"];
/// Roles that may approve releases: people inside the project.
const APPROVER_ROLES: &[Role] = &[Role::Approver, Role::ProjectOwner, Role::DataScientist];
const MAX_APPROVALS: u64 = 10;

#[derive(Default)]
pub(crate) struct Reader {
    pub(crate) problems: Vec<Problem>,
}

impl Reader {
    pub(crate) fn err(&mut self, at: Pos, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            line: at.line,
            column: at.column,
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// The mapping's entries by key, reporting a non-mapping, unknown keys and
    /// duplicates. `allowed` empty means any key.
    pub(crate) fn map<'a>(&mut self, node: &'a Node, path: &str, allowed: &[&str]) -> Vec<(&'a str, Pos, &'a Node)> {
        let Kind::Map(pairs) = &node.kind else {
            if !node.is_null() {
                self.err(node.at, path, "expected a mapping");
            }
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (k, v) in pairs {
            let Kind::Scalar(key, _) = &k.kind else {
                self.err(k.at, path, "keys must be plain strings");
                continue;
            };
            let here = join(path, key);
            if !seen.insert(key.as_str()) {
                self.err(k.at, &here, "duplicate key");
                continue;
            }
            if !allowed.is_empty() && !allowed.contains(&key.as_str()) {
                self.err(k.at, &here, format!("unknown key `{key}`; expected one of: {}", allowed.join(", ")));
                continue;
            }
            out.push((key.as_str(), k.at, v));
        }
        out
    }

    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Scalar(s, _) if !node.is_null() => Some(s.clone()),
            _ => {
                self.err(node.at, path, "expected a string");
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.kind {
            Kind::Scalar(s, true) if s == "true" => Some(true),
            Kind::Scalar(s, true) if s == "false" => Some(false),
            _ => {
                self.err(node.at, path, "expected true or false");
                None
            }
        }
    }

    fn uint(&mut self, node: &Node, path: &str, max: u64) -> Option<u64> {
        match &node.kind {
            Kind::Scalar(s, true) => match s.parse::<u64>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    self.err(node.at, path, format!("expected a whole number from 0 to {max}"));
                    None
                }
            },
            _ => {
                self.err(node.at, path, format!("expected a whole number from 0 to {max}"));
                None
            }
        }
    }

    /// A list of distinct strings, each with its position.
    pub(crate) fn list(&mut self, node: &Node, path: &str) -> Vec<(String, Pos)> {
        let Kind::Seq(items) = &node.kind else {
            self.err(node.at, path, "expected a list");
            return Vec::new();
        };
        let mut out: Vec<(String, Pos)> = Vec::new();
        // A set beside the list: a long list must not cost its length squared.
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{path}[{i}]");
            if let Some(s) = self.string(item, &here) {
                if seen.contains(&s) {
                    self.err(item.at, &here, format!("`{s}` is listed twice"));
                } else {
                    seen.insert(s.clone());
                    out.push((s, item.at));
                }
            }
        }
        out
    }

    fn name(&mut self, name: &str, at: Pos, path: &str) -> bool {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.err(at, path, format!("`{name}` is not a valid name: use lowercase letters, digits, `-` and `_`"));
        }
        ok
    }
}

/// The first few names of a set, for a message (a document may declare thousands).
fn some_of(names: &BTreeSet<String>) -> String {
    const SHOWN: usize = 20;
    let mut out: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    let more = names.len().saturating_sub(SHOWN);
    let more = format!("and {more} more");
    if names.len() > SHOWN {
        out.push(&more);
    }
    out.join(", ")
}

/// Most problems reported for one text; the rest are counted in one last problem, so
/// that a large text full of mistakes does not make a far larger answer.
pub(crate) const MAX_PROBLEMS: usize = 200;

/// Problems in document order, at most [`MAX_PROBLEMS`] of them and a last one that
/// counts the rest.
pub(crate) fn bounded(mut problems: Vec<Problem>) -> Problems {
    problems.sort_by_key(|p| (p.line, p.column));
    if problems.len() > MAX_PROBLEMS {
        let rest = problems.len() - MAX_PROBLEMS;
        let next = problems.get(MAX_PROBLEMS).map_or((0, 0), |p| (p.line, p.column));
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem {
            line: next.0,
            column: next.1,
            path: String::new(),
            message: format!(
                "{rest} more problems from here on are not listed (at most {MAX_PROBLEMS} are); fix these and check again"
            ),
        });
    }
    Problems(problems)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Document {
    /// Reads and validates a document. Every problem is reported, not just the first.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let root = yaml::parse(text, "policy documents").map_err(Problems::syntax)?;
        let mut r = Reader::default();
        let mut doc = Document {
            zones: BTreeMap::new(),
            data_classes: BTreeMap::new(),
            releases: BTreeMap::new(),
            positions: BTreeMap::new(),
        };
        if !matches!(root.kind, Kind::Map(_)) {
            r.err(root.at, "", "a policy document is a mapping with `zones`, `data_classes` and `releases`");
            return Err(Problems(r.problems));
        }
        let top = r.map(&root, "", &["zones", "data_classes", "releases"]);
        let section = |name: &str| top.iter().find(|(k, _, _)| *k == name).map(|(_, _, v)| *v);
        // Zones first: classes refer to them (to every declared name, even one with
        // problems of its own, so that one mistake is not reported twice).
        let mut declared = BTreeSet::new();
        if let Some(zones) = section("zones") {
            for (name, at, node) in r.map(zones, "zones", &[]) {
                declared.insert(name.to_string());
                let path = join("zones", name);
                if r.name(name, at, &path) {
                    if let Some(z) = read_zone(&mut r, node, &path) {
                        doc.positions.insert(path, at);
                        doc.zones.insert(name.to_string(), z);
                    }
                }
            }
        } else {
            r.err(root.at, "zones", "the document declares no zones");
        }
        if let Some(classes) = section("data_classes") {
            for (name, at, node) in r.map(classes, "data_classes", &[]) {
                let path = join("data_classes", name);
                if r.name(name, at, &path) {
                    if let Some(c) = read_class(&mut r, node, &path, &declared, &doc.zones) {
                        doc.positions.insert(path, at);
                        doc.data_classes.insert(name.to_string(), c);
                    }
                }
            }
        }
        match section("releases") {
            Some(releases) => {
                for (name, at, node) in r.map(releases, "releases", &[]) {
                    let path = join("releases", name);
                    if r.name(name, at, &path) {
                        if let Some(rule) = read_release(&mut r, node, &path) {
                            doc.positions.insert(path, at);
                            doc.releases.insert(name.to_string(), rule);
                        }
                    }
                }
                if !doc.releases.contains_key("default") && !r.problems.iter().any(|p| p.path.starts_with("releases."))
                {
                    r.err(
                        releases.at,
                        "releases",
                        "`releases.default` is required: it applies to every project without a rule of its own",
                    );
                }
            }
            None => {
                r.err(root.at, "releases", "the document has no `releases` section; `releases.default` is required")
            }
        }
        if r.problems.is_empty() {
            Ok(doc)
        } else {
            Err(bounded(r.problems))
        }
    }

    /// The release rule for a project (by name), falling back to `default`.
    pub fn release_rule(&self, project: &str) -> Option<&ReleaseRule> {
        self.releases.get(project).or_else(|| self.releases.get("default"))
    }

    /// Names of projects the document has release rules for.
    pub fn release_projects(&self) -> impl Iterator<Item = (&str, Pos)> {
        self.releases
            .keys()
            .filter(|k| *k != "default")
            .map(|k| (k.as_str(), self.positions.get(&join("releases", k)).copied().unwrap_or_default()))
    }

    /// A problem about a named object (for checks the server makes, such as unknown
    /// projects), located where the object was declared.
    pub fn problem_at(&self, path: &str, message: impl Into<String>) -> Problem {
        let at = self.positions.get(path).copied().unwrap_or_default();
        Problem { line: at.line, column: at.column, path: path.to_string(), message: message.into() }
    }
}

fn read_zone(r: &mut Reader, node: &Node, path: &str) -> Option<Zone> {
    let before = r.problems.len();
    let mut z = Zone {
        region: String::new(),
        ingress: Ingress::Public,
        egress: Egress { default_deny: false, allow: Vec::new() },
        require_signed_artifacts: false,
        require_encrypted_volumes: false,
        require_runtime_identity: false,
        allow_unknown_formats: false,
        description: None,
    };
    let mut region = false;
    let mut egress_at = node.at;
    for (key, _, v) in r.map(node, path, ZONE_KEYS) {
        let here = join(path, key);
        match key {
            "region" => {
                if let Some(s) = r.string(v, &here) {
                    z.region = s;
                    region = true;
                }
            }
            "ingress" => match r.string(v, &here).as_deref() {
                Some("public") => z.ingress = Ingress::Public,
                Some("private_only") => z.ingress = Ingress::PrivateOnly,
                Some(other) => r.err(v.at, &here, format!("`{other}` is not an ingress; use public or private_only")),
                None => {}
            },
            "egress" => {
                egress_at = v.at;
                for (k, at, e) in r.map(v, &here, &["default", "allow"]) {
                    let p = join(&here, k);
                    match k {
                        "default" => match r.string(e, &p).as_deref() {
                            Some("deny") => z.egress.default_deny = true,
                            Some("allow") => z.egress.default_deny = false,
                            Some(other) => {
                                r.err(at, &p, format!("`{other}` is not an egress default; use allow or deny"))
                            }
                            None => {}
                        },
                        _ => z.egress.allow = r.list(e, &p).into_iter().map(|(s, _)| s).collect(),
                    }
                }
            }
            "require_signed_artifacts" => z.require_signed_artifacts = r.bool(v, &here).unwrap_or(false),
            "require_encrypted_volumes" => z.require_encrypted_volumes = r.bool(v, &here).unwrap_or(false),
            "require_runtime_identity" => z.require_runtime_identity = r.bool(v, &here).unwrap_or(false),
            "allow_unknown_formats" => z.allow_unknown_formats = r.bool(v, &here).unwrap_or(false),
            _ => z.description = r.string(v, &here),
        }
    }
    if !region && matches!(node.kind, Kind::Map(_)) {
        r.err(node.at, path, "a zone needs a `region`");
    }
    if !z.egress.default_deny && !z.egress.allow.is_empty() {
        r.err(
            egress_at,
            &join(path, "egress"),
            "contradiction: `egress.allow` lists hosts but `egress.default` is allow, so the list has no effect; set `default: deny`",
        );
    }
    (r.problems.len() == before && matches!(node.kind, Kind::Map(_))).then_some(z)
}

fn read_class(
    r: &mut Reader,
    node: &Node,
    path: &str,
    declared: &BTreeSet<String>,
    zones: &BTreeMap<String, Zone>,
) -> Option<DataClass> {
    let before = r.problems.len();
    let mut c = DataClass {
        allowed_zones: Vec::new(),
        regions: Vec::new(),
        require_redacted_logs: false,
        require_private_ingress: false,
        require_audit_logging: false,
        require_network_segmentation: false,
        prohibit_external_llm_calls: false,
        llm_redaction: Redaction::Mask,
        redaction_threshold: RedactionThreshold::Medium,
        payload_logging: false,
        catalog_organisation: false,
        retention_days: None,
        description: None,
    };
    let mut zone_refs = Vec::new();
    let mut found_zones = false;
    for (key, _, v) in r.map(node, path, CLASS_KEYS) {
        let here = join(path, key);
        match key {
            "allowed_zones" => {
                found_zones = true;
                zone_refs = r.list(v, &here);
                for (i, (z, at)) in zone_refs.iter().enumerate() {
                    if !declared.contains(z) {
                        r.err(
                            *at,
                            &format!("{here}[{i}]"),
                            format!("unknown zone `{z}`; declared zones: {}", some_of(declared)),
                        );
                    }
                }
                if zone_refs.is_empty() && matches!(v.kind, Kind::Seq(_)) {
                    r.err(v.at, &here, "a data class must allow at least one zone");
                }
                c.allowed_zones = zone_refs.iter().map(|(z, _)| z.clone()).collect();
            }
            "regions" => c.regions = r.list(v, &here).into_iter().map(|(s, _)| s).collect(),
            "require_redacted_logs" => c.require_redacted_logs = r.bool(v, &here).unwrap_or(false),
            "require_private_ingress" => c.require_private_ingress = r.bool(v, &here).unwrap_or(false),
            "require_audit_logging" => c.require_audit_logging = r.bool(v, &here).unwrap_or(false),
            "require_network_segmentation" => c.require_network_segmentation = r.bool(v, &here).unwrap_or(false),
            "prohibit_external_llm_calls" => c.prohibit_external_llm_calls = r.bool(v, &here).unwrap_or(false),
            "llm_redaction" => match r.string(v, &here).as_deref() {
                Some("mask") => c.llm_redaction = Redaction::Mask,
                Some("hash") => c.llm_redaction = Redaction::Hash,
                Some("drop") => c.llm_redaction = Redaction::Drop,
                Some("none") => c.llm_redaction = Redaction::None,
                Some(o) => r.err(v.at, &here, format!("`{o}` is not a redaction mode; use mask, hash, drop or none")),
                None => {}
            },
            "redaction_threshold" => match r.string(v, &here).as_deref() {
                Some("low") => c.redaction_threshold = RedactionThreshold::Low,
                Some("medium") => c.redaction_threshold = RedactionThreshold::Medium,
                Some("high") => c.redaction_threshold = RedactionThreshold::High,
                Some(o) => r.err(v.at, &here, format!("`{o}` is not a redaction threshold; use low, medium or high")),
                None => {}
            },
            "payload_logging" => c.payload_logging = r.bool(v, &here).unwrap_or(false),
            "catalog" => match r.string(v, &here).as_deref() {
                Some("organisation") => c.catalog_organisation = true,
                Some("project") => c.catalog_organisation = false,
                Some(o) => {
                    r.err(v.at, &here, format!("`{o}` is not a catalog visibility; use project or organisation"))
                }
                None => {}
            },
            "retention_days" => {
                c.retention_days = r.uint(v, &here, 36_500).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
            }
            _ => c.description = r.string(v, &here),
        }
    }
    if !found_zones && matches!(node.kind, Kind::Map(_)) {
        r.err(node.at, path, "a data class needs `allowed_zones`");
    }
    // Contradictions between the class and the zones it allows.
    for (z, at) in &zone_refs {
        let Some(zone) = zones.get(z) else { continue };
        let here = join(path, "allowed_zones");
        if !c.regions.is_empty() && !c.regions.contains(&zone.region) {
            r.err(
                *at,
                &here,
                format!(
                    "contradiction: zone `{z}` is in region `{}`, outside the class's regions ({})",
                    zone.region,
                    c.regions.join(", ")
                ),
            );
        }
        if c.require_private_ingress && zone.ingress != Ingress::PrivateOnly {
            r.err(
                *at,
                &here,
                format!("contradiction: the class requires private ingress but zone `{z}` has `ingress: public`"),
            );
        }
        if c.require_network_segmentation && !zone.egress.default_deny {
            r.err(
                *at,
                &here,
                format!(
                    "contradiction: the class requires network segmentation but zone `{z}` allows egress by default"
                ),
            );
        }
    }
    if c.payload_logging && c.retention_days.is_none() {
        r.err(node.at, path, "`payload_logging: true` needs `retention_days`: logged payloads must expire");
    }
    (r.problems.len() == before && matches!(node.kind, Kind::Map(_))).then_some(c)
}

fn read_release(r: &mut Reader, node: &Node, path: &str) -> Option<ReleaseRule> {
    let before = r.problems.len();
    let mut rule = ReleaseRule {
        approvals: 1,
        approver_role: Role::Approver.as_str().to_string(),
        require_evaluation: false,
        evaluation: BTreeMap::new(),
    };
    let mut eval_at = None;
    for (key, _, v) in r.map(node, path, RELEASE_KEYS) {
        let here = join(path, key);
        match key {
            "approvals" => match r.uint(v, &here, MAX_APPROVALS) {
                Some(0) => r.err(
                    v.at,
                    &here,
                    format!(
                        "a release needs at least one approval by someone other than its author (1 to {MAX_APPROVALS})"
                    ),
                ),
                Some(n) => rule.approvals = u32::try_from(n).unwrap_or(1),
                None => {}
            },
            "approver_role" => {
                if let Some(s) = r.string(v, &here) {
                    if APPROVER_ROLES.iter().any(|role| role.as_str() == s) {
                        rule.approver_role = s;
                    } else {
                        let names: Vec<&str> = APPROVER_ROLES.iter().map(|r| r.as_str()).collect();
                        r.err(v.at, &here, format!("`{s}` cannot approve releases; use one of: {}", names.join(", ")));
                    }
                }
            }
            "require_evaluation" => rule.require_evaluation = r.bool(v, &here).unwrap_or(false),
            _ => {
                eval_at = Some(v.at);
                for (metric, at, t) in r.map(v, &here, &[]) {
                    let p = join(&here, metric);
                    let Some(s) = r.string(t, &p) else { continue };
                    match Threshold::parse(&s) {
                        Some(th) => {
                            rule.evaluation.insert(metric.to_string(), th);
                        }
                        None => r.err(at, &p, format!("`{s}` is not a threshold; write e.g. `>= 0.8`")),
                    }
                }
            }
        }
    }
    if let Some(at) = eval_at.filter(|_| !rule.require_evaluation && !rule.evaluation.is_empty()) {
        r.err(at, &join(path, "evaluation"), "contradiction: thresholds are set but `require_evaluation` is false");
    }
    (r.problems.len() == before && matches!(node.kind, Kind::Map(_))).then_some(rule)
}
