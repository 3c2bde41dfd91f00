//! Warden's declarative policy document: zones, data classes and release rules.
//!
//! A document is YAML (the shape regulated teams already write, see `default.yaml`).
//! [`Document::parse`] validates all of it at once and reports every problem with its
//! line, column and path; [`Document::compile`] turns the zone and class rules into
//! Cedar `forbid` policies on the `model.place` action, each with an `@id` that names
//! the rule (`data_classes.ephi.allowed_zones`) and a `@reason` an operator can read,
//! so the one policy engine decides placement and explains its decisions.
//!
//! Pure: no I/O, no clock.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod cases;
mod document;
mod yaml;

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use cases::{run_cases, CaseResult};
pub use document::{
    DataClass, Document, Egress, Ingress, Op, Problem, Problems, Redaction, RedactionThreshold, ReleaseRule, Threshold,
    Zone,
};
pub use yaml::Pos;

use warden_policy::{Engine, PolicyError};

/// The document `warden serve` applies on a new data directory.
pub const DEFAULT: &str = include_str!("default.yaml");
/// A document using every key, each commented (`warden policy show --example`).
pub const EXAMPLE: &str = include_str!("example.yaml");
/// The document's JSON Schema (draft 2020-12), for editors and CI checks
/// (`warden policy schema`). `warden policy check` also finds what a schema cannot
/// express: unknown zones, contradictions between classes and zones.
pub const SCHEMA: &str = include_str!("schema.json");

impl Document {
    /// The shipped default document.
    pub fn default_document() -> Result<Self, Problems> {
        Self::parse(DEFAULT)
    }

    /// The zone and class rules as Cedar policies (to be added to the built-in ones).
    pub fn compile(&self) -> String {
        let mut out = String::new();
        let place = "principal, action == Warden::Action::\"model.place\", resource";
        let zones = cedar_set(self.zones.keys());
        let _ = writeln!(
            out,
            "@id(\"zones.declared\")\n@reason(\"the zone is not declared in the policy document (zones: {})\")\n\
             forbid ({place})\nunless {{ {zones}.contains(context.zone) }};\n",
            escape(&self.zones.keys().cloned().collect::<Vec<_>>().join(", ")),
        );
        let classes = cedar_set(self.data_classes.keys());
        let _ = writeln!(
            out,
            "@id(\"data_classes.declared\")\n@reason(\"the version carries a data class the policy document does not declare (classes: {})\")\n\
             forbid ({place})\nunless {{ {classes}.containsAll(context.classes) }};\n",
            escape(&self.data_classes.keys().cloned().collect::<Vec<_>>().join(", ")),
        );
        for (name, class) in &self.data_classes {
            let _ = writeln!(
                out,
                "@id(\"data_classes.{name}.allowed_zones\")\n@reason(\"data class `{name}` is allowed only in zones {}\")\n\
                 forbid ({place})\nwhen {{ context.classes.contains(\"{name}\") && !{}.contains(context.zone) }};\n",
                escape(&class.allowed_zones.join(", ")),
                cedar_set(class.allowed_zones.iter()),
            );
        }
        for (name, zone) in &self.zones {
            if !zone.allow_unknown_formats {
                let _ = writeln!(
                    out,
                    "@id(\"zones.{name}.unknown_formats\")\n@reason(\"zone `{name}` refuses files whose format intake \
                     cannot assess (scan verdict unknown); set allow_unknown_formats: true on the zone to admit them\")\n\
                     forbid ({place})\nwhen {{ context.zone == \"{name}\" && context.scan_verdict == \"unknown\" }};\n",
                );
            }
            if zone.require_signed_artifacts {
                let _ = writeln!(
                    out,
                    "@id(\"zones.{name}.require_signed_artifacts\")\n@reason(\"zone `{name}` requires signed artifacts\")\n\
                     forbid ({place})\nwhen {{ context.zone == \"{name}\" && !context.signed }};\n",
                );
            }
        }
        out
    }

    /// The engine that decides with this document: built-in policies plus the compiled ones.
    pub fn engine(&self) -> Result<Engine, PolicyError> {
        Engine::with_extra(&self.compile())
    }

    /// What changes from `self` to `next`, one line per changed setting:
    /// `+ path: value`, `- path: value`, `~ path: old -> new`.
    pub fn diff(&self, next: &Document) -> Vec<String> {
        let mut a = BTreeMap::new();
        let mut b = BTreeMap::new();
        flatten("", &serde_json::to_value(self).unwrap_or_default(), &mut a);
        flatten("", &serde_json::to_value(next).unwrap_or_default(), &mut b);
        let mut out = Vec::new();
        for (k, v) in &a {
            match b.get(k) {
                None => out.push(format!("- {k}: {v}")),
                Some(w) if w != v => out.push(format!("~ {k}: {v} -> {w}")),
                Some(_) => {}
            }
        }
        for (k, w) in &b {
            if !a.contains_key(k) {
                out.push(format!("+ {k}: {w}"));
            }
        }
        out.sort_by(|x, y| x.get(2..).cmp(&y.get(2..)));
        out
    }
}

/// Leaves of a JSON value by dotted path; lists are leaves (their order matters).
fn flatten(path: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                flatten(&p, v, out);
            }
        }
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}

fn cedar_set<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let quoted: Vec<String> = items.map(|s| format!("\"{}\"", escape(s))).collect();
    format!("[{}]", quoted.join(", "))
}

/// Names are restricted to `[a-z0-9_-]`, but text reaching Cedar strings is escaped anyway.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests;
