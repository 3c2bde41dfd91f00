//! Users' own allow/deny cases (`warden policy test cases.yaml`), run against a
//! document's engine without a server.
//!
//! A case file is a YAML list. A case with a `zone` asks the placement question; a case
//! with an `action` asks whether a caller with the given roles may perform it:
//!
//! ```yaml
//! - name: ePHI models stay in the HIPAA zone
//!   zone: standard-ai
//!   classes: [ephi]
//!   expect: deny
//!   rule: data_classes.ephi.allowed_zones
//! - name: auditors never change anything
//!   action: project.create
//!   org_roles: [auditor]
//!   expect: deny
//! ```

use std::collections::BTreeSet;

use serde::Serialize;
use warden_core::{AuthMethod, Principal, PrincipalKind, ProjectId, Role, SubjectId};
use warden_policy::{Action, Facts, Placement, Resource};

use crate::document::{bounded, Problem, Problems, Reader};
use crate::yaml::{self, Kind};
use crate::Document;

const CASE_KEYS: &[&str] = &[
    "name",
    "expect",
    "rule",
    "zone",
    "classes",
    "signed",
    "scan_verdict",
    "expired",
    "permitted_zones",
    "action",
    "org_roles",
    "project_roles",
    "mfa",
    "totp_enrolled",
];

/// One case's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub line: usize,
    pub passed: bool,
    pub expected: String,
    pub got: String,
    /// The rules that decided (for a deny, the forbids that matched).
    pub rules: Vec<String>,
    pub explanation: String,
}

enum Question {
    Place(Placement),
    Act { action: Action, org_roles: BTreeSet<Role>, project_roles: BTreeSet<Role>, mfa: bool, totp: bool },
}

struct Case {
    name: String,
    line: usize,
    allow: bool,
    rule: Option<String>,
    question: Question,
}

fn roles(r: &mut Reader, node: &crate::yaml::Node, path: &str) -> BTreeSet<Role> {
    let mut out = BTreeSet::new();
    for (i, (name, at)) in r.list(node, path).into_iter().enumerate() {
        match name.parse::<Role>() {
            Ok(role) => {
                out.insert(role);
            }
            Err(e) => r.err(at, &format!("{path}[{i}]"), e.to_string()),
        }
    }
    out
}

fn read(text: &str) -> Result<Vec<Case>, Problems> {
    let root = yaml::parse(text, "case files").map_err(Problems::syntax)?;
    let mut r = Reader::default();
    let Kind::Seq(items) = &root.kind else {
        r.err(root.at, "", "a case file is a list of cases");
        return Err(Problems(r.problems));
    };
    let mut cases = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("[{i}]");
        let before = r.problems.len();
        let fields = r.map(item, &path, CASE_KEYS);
        let get = |k: &str| fields.iter().find(|(n, _, _)| *n == k).map(|(_, _, v)| *v);
        let name = get("name").and_then(|n| r.string(n, &format!("{path}.name"))).unwrap_or_else(|| path.clone());
        let allow = match get("expect").and_then(|n| r.string(n, &format!("{path}.expect"))).as_deref() {
            Some("allow") => true,
            Some("deny") => false,
            _ => {
                r.err(item.at, &format!("{path}.expect"), "each case needs `expect: allow` or `expect: deny`");
                false
            }
        };
        let rule = get("rule").and_then(|n| r.string(n, &format!("{path}.rule")));
        let flag = |r: &mut Reader, k: &str, default: bool| {
            get(k).and_then(|n| r.bool(n, &format!("{path}.{k}"))).unwrap_or(default)
        };
        let question = match (get("zone"), get("action")) {
            (Some(z), None) => {
                let zone = r.string(z, &format!("{path}.zone")).unwrap_or_default();
                let strings = |r: &mut Reader, k: &str| -> Option<BTreeSet<String>> {
                    get(k).map(|n| r.list(n, &format!("{path}.{k}")).into_iter().map(|(s, _)| s).collect())
                };
                let classes = strings(&mut r, "classes").unwrap_or_default();
                let permitted = strings(&mut r, "permitted_zones").unwrap_or_else(|| [zone.clone()].into());
                let scan_verdict = get("scan_verdict")
                    .and_then(|n| r.string(n, &format!("{path}.scan_verdict")))
                    .unwrap_or_else(|| "safe".into());
                Question::Place(Placement {
                    signed: flag(&mut r, "signed", true),
                    expired: flag(&mut r, "expired", false),
                    zone,
                    classes,
                    scan_verdict,
                    permitted_zones: permitted,
                })
            }
            (None, Some(a)) => {
                let name = r.string(a, &format!("{path}.action")).unwrap_or_default();
                let Some(action) = Action::parse(&name).filter(|a| *a != Action::ModelPlace) else {
                    r.err(
                        a.at,
                        &format!("{path}.action"),
                        format!("`{name}` is not an action (placement cases use `zone`)"),
                    );
                    continue;
                };
                let org_roles = get("org_roles").map(|n| roles(&mut r, n, &format!("{path}.org_roles")));
                let project_roles = get("project_roles").map(|n| roles(&mut r, n, &format!("{path}.project_roles")));
                Question::Act {
                    action,
                    org_roles: org_roles.unwrap_or_default(),
                    project_roles: project_roles.unwrap_or_default(),
                    mfa: flag(&mut r, "mfa", false),
                    totp: flag(&mut r, "totp_enrolled", false),
                }
            }
            _ => {
                r.err(item.at, &path, "a case asks either about placement (`zone`) or about an `action`, not both");
                continue;
            }
        };
        if r.problems.len() == before {
            cases.push(Case { name, line: item.at.line, allow, rule, question });
        }
    }
    if r.problems.is_empty() {
        Ok(cases)
    } else {
        Err(bounded(r.problems))
    }
}

/// Runs every case in `text` against `doc`'s engine.
pub fn run_cases(doc: &Document, text: &str) -> Result<Vec<CaseResult>, Problems> {
    let cases = read(text)?;
    let engine = doc.engine().map_err(|e| {
        Problems(vec![Problem {
            line: 1,
            column: 1,
            path: String::new(),
            message: format!("the document does not compile: {e}"),
        }])
    })?;
    let mut out = Vec::new();
    for c in cases {
        let mut who = Principal {
            id: SubjectId::generate_user(0),
            name: "case".into(),
            kind: PrincipalKind::Human,
            org_roles: BTreeSet::new(),
            method: AuthMethod::Token,
            mfa: false,
            totp_enrolled: false,
            scope: None,
        };
        let (action, resource, facts) = match c.question {
            Question::Place(p) => {
                (Action::ModelPlace, Resource::Zone(p.zone.clone()), Facts { placement: Some(p), ..Facts::default() })
            }
            Question::Act { action, org_roles, project_roles, mfa, totp } => {
                who.org_roles = org_roles;
                who.mfa = mfa;
                who.totp_enrolled = totp;
                (action, resource_of(action), Facts { project_roles, ..Facts::default() })
            }
        };
        let d = engine.decide(&who, action, &resource, &facts);
        let rule_ok = c.rule.as_ref().is_none_or(|r| d.policies.contains(r));
        out.push(CaseResult {
            name: c.name,
            line: c.line,
            passed: d.allowed == c.allow && rule_ok,
            expected: match (&c.rule, c.allow) {
                (Some(r), false) => format!("deny by {r}"),
                (_, true) => "allow".into(),
                (None, false) => "deny".into(),
            },
            got: if d.allowed { "allow".into() } else { "deny".into() },
            explanation: d.explain(action),
            rules: d.policies,
        });
    }
    Ok(out)
}

/// The resource an action applies to, in the schema's terms.
fn resource_of(action: Action) -> Resource {
    let project = ProjectId::generate(0);
    match action.as_str() {
        "whoami" | "totp.enrol" | "totp.confirm" | "token.list" | "token.revoke" => {
            Resource::Subject(SubjectId::generate_user(0))
        }
        a if a.starts_with("project.get")
            || a.starts_with("project.member")
            || a.starts_with("blob.")
            || a.starts_with("artifact.")
            || a.starts_with("model.")
            || a.starts_with("release.")
            || a.starts_with("gateway.invoke")
            || a == "gateway.budget.read"
            || a == "service.token.create" =>
        {
            Resource::Project(project)
        }
        _ => Resource::Organisation,
    }
}
