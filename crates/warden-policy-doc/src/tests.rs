use std::collections::BTreeSet;

use warden_core::{AuthMethod, Principal, PrincipalKind, SubjectId};
use warden_policy::{Action, Facts, Placement, Resource};

use super::*;

fn anyone() -> Principal {
    Principal {
        id: SubjectId::generate_user(1),
        name: "a".into(),
        kind: PrincipalKind::Human,
        org_roles: BTreeSet::new(),
        method: AuthMethod::Token,
        mfa: false,
        totp_enrolled: false,
        scope: None,
    }
}

fn place(zone: &str, classes: &[&str], signed: bool) -> Facts {
    Facts {
        placement: Some(Placement {
            zone: zone.into(),
            classes: classes.iter().map(|c| c.to_string()).collect(),
            signed,
            scan_verdict: "safe".into(),
            expired: false,
            permitted_zones: [zone.to_string()].into(),
        }),
        ..Facts::default()
    }
}

fn problems(text: &str) -> Vec<Problem> {
    Document::parse(text).unwrap_err().0
}

#[test]
fn the_shipped_default_parses_and_compiles() {
    let doc = Document::default_document().unwrap();
    let zones: Vec<&str> = doc.zones.keys().map(String::as_str).collect();
    assert_eq!(zones, ["hipaa-ai", "pci-ai", "regulated-ai-eu", "regulated-ai-us", "standard-ai"]);
    assert_eq!(doc.data_classes["ephi"].allowed_zones, ["hipaa-ai"]);
    assert_eq!(doc.data_classes["personal_data"].regions, ["eu-west", "us-east"]);
    assert!(doc.data_classes["cardholder_data"].prohibit_external_llm_calls);
    assert_eq!(doc.data_classes["ephi"].redaction_threshold, crate::RedactionThreshold::Low, "ephi chooses recall");
    assert_eq!(doc.data_classes["personal_data"].redaction_threshold, crate::RedactionThreshold::Medium);
    assert_eq!(doc.zones["hipaa-ai"].egress.allow, ["model-registry.internal", "audit-log-sink.internal"]);
    let rule = doc.release_rule("any-project").unwrap();
    assert_eq!((rule.approvals, rule.approver_role.as_str(), rule.require_evaluation), (2, "approver", true));
    doc.engine().unwrap();
}

#[test]
fn placement_follows_classes_zones_and_signatures() {
    let doc = Document::default_document().unwrap();
    let engine = doc.engine().unwrap();
    let ask = |zone: &str, classes: &[&str], signed: bool| {
        engine.decide(&anyone(), Action::ModelPlace, &Resource::Zone(zone.into()), &place(zone, classes, signed))
    };
    assert!(ask("hipaa-ai", &["ephi"], true).allowed);
    assert!(ask("standard-ai", &["public"], false).allowed, "standard-ai does not require signatures");
    let d = ask("standard-ai", &["ephi"], true);
    assert!(!d.allowed);
    assert_eq!(d.policies, ["data_classes.ephi.allowed_zones"]);
    assert!(d.explain(Action::ModelPlace).contains("allowed only in zones hipaa-ai"), "{d:?}");
    let d = ask("hipaa-ai", &["ephi"], false);
    assert_eq!(d.policies, ["zones.hipaa-ai.require_signed_artifacts"]);
    // Every class must allow the zone.
    let d = ask("hipaa-ai", &["ephi", "cardholder_data"], true);
    assert_eq!(d.policies, ["data_classes.cardholder_data.allowed_zones"]);
    // Unknown zones and classes are refused by name.
    assert_eq!(ask("moon-ai", &[], true).policies, ["zones.declared"]);
    assert_eq!(ask("hipaa-ai", &["secret-sauce"], true).policies, ["data_classes.declared"]);
}

#[test]
fn every_problem_is_reported_with_its_location() {
    let text = "\
zones:
  a: {region: eu-west, colour: blue}
  b: {region: us-east}
  c: {region: us-east, ingress: sideways}
data_classes:
  x: {allowed_zones: [a, nowhere]}
  y: {allowed_zones: [b], regions: [eu-west]}
releases:
  default: {approvals: 2, approver_role: service}
";
    let p = problems(text);
    let got: Vec<(usize, usize, &str)> = p.iter().map(|p| (p.line, p.column, p.path.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, 24, "zones.a.colour"),
            (4, 33, "zones.c.ingress"),
            (6, 26, "data_classes.x.allowed_zones[1]"),
            (7, 23, "data_classes.y.allowed_zones"),
            (9, 42, "releases.default.approver_role"),
        ],
        "{p:#?}"
    );
    assert!(p[0].message.contains("unknown key `colour`"), "{}", p[0]);
    assert!(p[2].message.contains("unknown zone `nowhere`"), "{}", p[2]);
    assert!(p[3].message.contains("contradiction"), "{}", p[3]);
    assert_eq!(p[0].to_string(), format!("2:24: zones.a.colour: {}", p[0].message));
}

#[test]
fn contradictions_are_refused() {
    let base = "releases: {default: {approvals: 1}}\n";
    let cases = [
        (
            "zones: {a: {region: r, egress: {default: allow, allow: [h]}}}\ndata_classes: {}\n",
            "egress.allow` lists hosts",
        ),
        (
            "zones: {a: {region: r}}\ndata_classes: {c: {allowed_zones: [a], require_private_ingress: true}}\n",
            "requires private ingress",
        ),
        (
            "zones: {a: {region: r}}\ndata_classes: {c: {allowed_zones: [a], require_network_segmentation: true}}\n",
            "network segmentation",
        ),
        ("zones: {a: {region: r}}\ndata_classes: {c: {allowed_zones: []}}\n", "at least one zone"),
        ("zones: {a: {region: r}}\ndata_classes: {c: {allowed_zones: [a], payload_logging: true}}\n", "retention_days"),
        ("zones: {a: {}}\ndata_classes: {}\n", "needs a `region`"),
        ("zones: {A: {region: r}}\ndata_classes: {}\n", "not a valid name"),
        ("zones: {a: {region: r}, a: {region: s}}\ndata_classes: {}\n", "duplicate key"),
    ];
    for (text, needle) in cases {
        let p = problems(&format!("{text}{base}"));
        assert!(p.iter().any(|p| p.message.contains(needle)), "{text}: {p:#?}");
    }
    let p = problems("zones: {a: {region: r}}\ndata_classes: {}\nreleases: {fraud: {approvals: 1}}\n");
    assert!(p[0].message.contains("releases.default` is required"), "{p:?}");
    let p = problems("zones: {a: {region: r}}\nreleases: {default: {evaluation: {auc: '>= 0.8'}}}\n");
    assert!(p[0].message.contains("require_evaluation"), "{p:?}");
    let p = problems(
        "zones: {a: {region: r}}\nreleases: {default: {require_evaluation: true, evaluation: {auc: 'high'}}}\n",
    );
    assert!(p[0].message.contains("not a threshold"), "{p:?}");
    assert!(problems("zones: [a\n")[0].message.starts_with("invalid YAML"));
    assert!(problems("- a\n")[0].message.contains("mapping"));
}

#[test]
fn thresholds_parse_and_compare() {
    let t = Threshold::parse(">= 0.8").unwrap();
    assert!(t.met_by(0.8) && t.met_by(0.9) && !t.met_by(0.79));
    assert!(Threshold::parse("<0.1").unwrap().met_by(0.05));
    assert!(!Threshold::parse("== 1").unwrap().met_by(0.99));
    assert_eq!(Threshold::parse("> NaN"), None);
    assert_eq!(Threshold::parse("0.8"), None);
    assert_eq!(t.to_string(), ">= 0.8");
}

#[test]
fn diff_names_each_changed_setting() {
    let a = Document::default_document().unwrap();
    let b = Document::parse(
        &DEFAULT
            .replace("approvals: 2", "approvals: 3")
            .replace("  public:          {allowed_zones: [standard-ai, hipaa-ai, pci-ai], llm_redaction: none, catalog: organisation}\n", ""),
    )
    .unwrap();
    let d = a.diff(&b);
    assert!(d.contains(&"~ releases.default.approvals: 2 -> 3".to_string()), "{d:#?}");
    assert!(d.iter().any(|l| l.starts_with("- data_classes.public.allowed_zones")), "{d:#?}");
    assert!(a.diff(&a).is_empty());
}

#[test]
fn users_cases_run_against_the_document() {
    let doc = Document::default_document().unwrap();
    let cases = "\
- name: ePHI stays in the HIPAA zone
  zone: standard-ai
  classes: [ephi]
  expect: deny
  rule: data_classes.ephi.allowed_zones
- name: signed ePHI model in hipaa-ai
  zone: hipaa-ai
  classes: [ephi]
  expect: allow
- name: a wrong expectation
  zone: hipaa-ai
  classes: [ephi]
  signed: false
  expect: allow
- name: auditors change nothing
  action: project.create
  org_roles: [auditor]
  totp_enrolled: true
  expect: deny
- name: approvers approve with MFA
  action: release.approve
  project_roles: [approver]
  mfa: true
  expect: allow
";
    let r = run_cases(&doc, cases).unwrap();
    let passed: Vec<bool> = r.iter().map(|c| c.passed).collect();
    assert_eq!(passed, [true, true, false, true, true], "{r:#?}");
    assert_eq!(r[2].rules, ["zones.hipaa-ai.require_signed_artifacts"]);
    assert_eq!(r[2].line, 10);
    let bad = run_cases(&doc, "- {zone: a, action: b, expect: allow}\n- {action: fly, expect: maybe}\n").unwrap_err();
    assert_eq!(bad.0.len(), 3, "{bad}");
}

/// Runs `f` on a thread with a small stack, so that unbounded recursion overflows
/// deterministically instead of depending on the caller's stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
}

#[test]
fn deeply_nested_documents_and_case_files_are_one_located_problem() {
    // The adversarial finding: `PUT /api/v1/policy` with this 10 kB document aborted
    // the server; `warden policy check` aborted at depth 30,000.
    for levels in [5_000, 30_000, 100_000] {
        let text = format!("zones:\n{}x\n", "- ".repeat(levels));
        let p = on_small_stack(move || Document::parse(&text).unwrap_err());
        assert_eq!(p.0.len(), 1, "{p}");
        assert_eq!(
            p.to_string(),
            "2:127: nesting deeper than 64 levels (the limit for policy documents); a policy document needs about 4"
        );
    }
    let flow = format!("zones: {}{}\n", "{a: ".repeat(100_000), "}".repeat(100_000));
    let p = on_small_stack(move || Document::parse(&flow).unwrap_err());
    assert!(p.0[0].message.starts_with("nesting deeper than 64 levels"), "{p}");
    let doc = Document::default_document().unwrap();
    let cases = format!("- {}x\n", "[".repeat(100_000));
    let p = on_small_stack(move || run_cases(&doc, &cases).unwrap_err());
    assert!(p.0[0].message.contains("64 levels (the limit for case files)"), "{p}");
    assert_eq!(p.0[0].line, 1);
}

#[test]
fn oversized_documents_are_refused_before_parsing() {
    let text = format!("{DEFAULT}# {}\n", "x".repeat(yaml::MAX_BYTES));
    let p = Document::parse(&text).unwrap_err();
    assert_eq!(p.0.len(), 1);
    assert!(p.0[0].message.contains("1 MiB, the limit for policy documents"), "{p}");
    assert_eq!(p.0[0].line, DEFAULT.lines().count() + 1);
}

#[test]
fn large_documents_cost_linear_time_and_bounded_answers() {
    // 40,000 distinct hosts: the duplicate check must not be quadratic.
    let hosts: Vec<String> = (0..40_000).map(|i| format!("h{i}.internal")).collect();
    let text = format!(
        "zones: {{a: {{region: r, egress: {{default: deny, allow: [{}]}}}}}}\nreleases: {{default: {{}}}}\n",
        hosts.join(", ")
    );
    let started = std::time::Instant::now();
    let doc = Document::parse(&text).unwrap();
    assert_eq!(doc.zones["a"].egress.allow.len(), 40_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    // 5,000 zones and 5,000 unknown references: each message names a few zones, and at
    // most 200 problems are listed, then one that counts the rest.
    let zones: Vec<String> = (0..5_000).map(|i| format!("z{i}: {{region: r}}")).collect();
    let refs: Vec<String> = (0..5_000).map(|i| format!("nowhere{i}")).collect();
    let text = format!(
        "zones: {{{}}}\ndata_classes: {{c: {{allowed_zones: [{}]}}}}\nreleases: {{default: {{}}}}\n",
        zones.join(", "),
        refs.join(", ")
    );
    let p = Document::parse(&text).unwrap_err().0;
    assert_eq!(p.len(), 201);
    assert!(p[0].message.ends_with("z1013, z1014, and 4980 more"), "{}", p[0].message);
    assert!(p[200].message.starts_with("4800 more problems from here on are not listed"), "{}", p[200].message);
    assert_eq!(p[200].line, 2);
    let text: String = (0..1_000).map(|i| format!("- {{name: c{i}, zone: z, expect: perhaps}}\n")).collect();
    let p = run_cases(&Document::default_document().unwrap(), &text).unwrap_err().0;
    assert_eq!(p.len(), 201);
    assert_eq!((p[199].line, p[200].line), (200, 201));
}

/// A format intake cannot assess is refused in every zone unless the zone allows it; an
/// unsafe verdict is refused everywhere, whatever the zone says.
#[test]
fn unknown_formats_are_placed_only_where_a_zone_allows_them() {
    let doc = Document::parse(
        "zones:\n  lab: {region: us-east, allow_unknown_formats: true}\n  prod: {region: us-east}\n\
         data_classes:\n  public: {allowed_zones: [lab, prod]}\nreleases:\n  default: {approvals: 1}\n",
    )
    .unwrap();
    let engine = doc.engine().unwrap();
    let ask = |zone: &str, verdict: &str| {
        let mut f = place(zone, &["public"], true);
        if let Some(p) = f.placement.as_mut() {
            p.scan_verdict = verdict.into();
        }
        engine.decide(&anyone(), Action::ModelPlace, &Resource::Zone(zone.into()), &f)
    };
    assert!(ask("lab", "unknown").allowed);
    let d = ask("prod", "unknown");
    assert_eq!(d.policies, ["zones.prod.unknown_formats"]);
    assert!(d.explain(Action::ModelPlace).contains("allow_unknown_formats"), "{d:?}");
    for zone in ["lab", "prod"] {
        assert!(ask(zone, "safe").allowed);
        assert!(ask(zone, "unsafe").policies.contains(&"artifact.scan-verdict-safe".to_string()));
        assert!(!ask(zone, "something-else").allowed, "only known verdicts pass");
    }
    // The shipped default allows unknown formats nowhere.
    let default = Document::default_document().unwrap().engine().unwrap();
    for zone in ["standard-ai", "hipaa-ai"] {
        let mut f = place(zone, &["public"], true);
        if let Some(p) = f.placement.as_mut() {
            p.scan_verdict = "unknown".into();
        }
        assert!(!default.decide(&anyone(), Action::ModelPlace, &Resource::Zone(zone.into()), &f).allowed);
    }
}

#[test]
fn a_redaction_threshold_is_low_medium_or_high() {
    let doc = DEFAULT.replace("redaction_threshold: low", "redaction_threshold: high");
    let doc = Document::parse(&doc).unwrap();
    assert_eq!(doc.data_classes["ephi"].redaction_threshold, crate::RedactionThreshold::High);
    let bad = DEFAULT.replace("redaction_threshold: low", "redaction_threshold: paranoid");
    let p = problems(&bad);
    assert!(
        p.iter()
            .any(|p| p.path == "data_classes.ephi.redaction_threshold" && p.message.contains("low, medium or high")),
        "{p:?}"
    );
}

#[test]
fn the_example_document_is_valid_and_uses_every_key() {
    let doc = Document::parse(crate::EXAMPLE).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(doc.zones.len(), 2);
    for key in crate::document::ZONE_KEYS.iter().chain(crate::document::CLASS_KEYS).chain(crate::document::RELEASE_KEYS)
    {
        assert!(crate::EXAMPLE.contains(&format!("{key}:")), "the example does not show `{key}`");
    }
}

/// The schema's property names of `def` (`#/$defs/def`, or the top when None).
fn schema_keys(def: Option<&str>) -> BTreeSet<String> {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    let node = match def {
        Some(d) => &schema["$defs"][d],
        None => &schema,
    };
    assert_eq!(node["additionalProperties"], false, "{def:?} refuses unknown keys, as the parser does");
    node["properties"].as_object().unwrap().keys().cloned().collect()
}

/// A small valid document with one value changed.
fn doc_with(
    ingress: &str,
    egress: &str,
    redaction: &str,
    threshold: &str,
    catalog: &str,
    role: &str,
    n: &str,
) -> String {
    format!(
        "zones:\n  z: {{region: eu, ingress: {ingress}, egress: {{default: {egress}}}}}\n\
         data_classes:\n  c: {{allowed_zones: [z], llm_redaction: {redaction}, redaction_threshold: {threshold}, catalog: {catalog}}}\n\
         releases:\n  default: {{approvals: {n}, approver_role: {role}}}\n"
    )
}

#[test]
fn the_schema_names_exactly_the_keys_and_values_the_parser_accepts() {
    let set = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(schema_keys(None), set(&["zones", "data_classes", "releases"]));
    assert_eq!(schema_keys(Some("zone")), set(document::ZONE_KEYS));
    assert_eq!(schema_keys(Some("data_class")), set(document::CLASS_KEYS));
    assert_eq!(schema_keys(Some("release_rule")), set(document::RELEASE_KEYS));

    // Every enumerated value parses; a value outside the enumeration is refused.
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let values = |v: &serde_json::Value| -> Vec<String> {
        v["enum"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
    };
    let d = &schema["$defs"];
    let base = ["public", "allow", "none", "low", "project", "approver", "1"];
    let slots = [
        values(&d["zone"]["properties"]["ingress"]),
        values(&d["zone"]["properties"]["egress"]["properties"]["default"]),
        values(&d["data_class"]["properties"]["llm_redaction"]),
        values(&d["data_class"]["properties"]["redaction_threshold"]),
        values(&d["data_class"]["properties"]["catalog"]),
        values(&d["release_rule"]["properties"]["approver_role"]),
    ];
    for (slot, allowed) in slots.iter().enumerate() {
        for value in allowed.iter().map(String::as_str).chain(["bogus"]) {
            let mut a = base;
            a[slot] = value;
            let text = doc_with(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
            let parsed = Document::parse(&text);
            assert_eq!(parsed.is_ok(), value != "bogus", "{value} in slot {slot}: {parsed:?}");
        }
    }
    // The bounds of `approvals`.
    let rule = &d["release_rule"]["properties"]["approvals"];
    let (lo, hi) = (rule["minimum"].as_u64().unwrap(), rule["maximum"].as_u64().unwrap());
    for (n, ok) in [(lo - 1, false), (lo, true), (hi, true), (hi + 1, false)] {
        let text = doc_with(base[0], base[1], base[2], base[3], base[4], base[5], &n.to_string());
        assert_eq!(Document::parse(&text).is_ok(), ok, "approvals: {n}");
    }
    // The names the schema allows are the names the parser allows.
    let pattern = d["name"]["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[a-z0-9][a-z0-9_-]{0,63}$");
    for (name, ok) in [("z", true), ("a-b_1", true), ("Zed", false), ("-z", false), (&*"z".repeat(65), false)] {
        let text = format!("zones:\n  {name}: {{region: eu}}\ndata_classes: {{}}\nreleases: {{default: {{}}}}\n");
        assert_eq!(Document::parse(&text).is_ok(), ok, "{name}: {:?}", Document::parse(&text));
    }
}
