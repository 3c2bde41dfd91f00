//! Property-based fuzzing (proptest, stable Rust) of the OpenLineage event reader
//! (`warden_lineage::parse`, behind `POST /api/v1/lineage`).
//!
//! Inputs: arbitrary JSON values (objects, arrays, strings, numbers, nested); arbitrary
//! JSON text read as the server reads it (serde_json, its 128-level limit); mutations
//! of a valid RunEvent (any value in it replaced by an arbitrary one, removed, or
//! wrapped in many levels of arrays and objects); and the lineage graph fed the edges of
//! whatever parsed.
//!
//! Properties: nothing panics or overflows a 256 KiB stack; an accepted event is within
//! the limits (nesting and size) and names every dataset it lists; a refusal names what
//! is wrong.
//!
//! The default case count is small so that CI spends a few seconds here. A longer run:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p warden-lineage --test fuzz --release
//! ```

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use warden_lineage::event::{MAX_DEPTH, MAX_EVENT_BYTES};
use warden_lineage::{parse, Direction, Event, Graph};

/// 64 cases per property unless PROPTEST_CASES says otherwise; no regression files.
fn config() -> Config {
    let mut c = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    c
}

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
}

fn valid() -> Value {
    json!({
        "eventType": "COMPLETE",
        "eventTime": "2026-11-22T10:00:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8",
                "facets": {"parent": {"run": {"runId": "0176a8c2-fe01-7439-87e6-56a1a1b4029f"},
                                      "job": {"namespace": "a", "name": "dag"}}}},
        "job": {"namespace": "airflow", "name": "claims.train"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "claims.raw",
                    "facets": {"schema": {"fields": [{"name": "ssn", "type": "text"}, {"name": "amount"}]}}}],
        "outputs": [{"namespace": "s3://lake", "name": "features/claims"}],
        "dataset": {"namespace": "s3://lake", "name": "x"}
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
        Just(json!("3f5e83fa-3480-44ff-99c5-ff943904e5e8")),
        Just(json!("START")),
        Just(json!("")),
        Just(json!("x".repeat(2000))),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("eventType".to_string()),
        Just("eventTime".to_string()),
        Just("producer".to_string()),
        Just("schemaURL".to_string()),
        Just("run".to_string()),
        Just("runId".to_string()),
        Just("job".to_string()),
        Just("namespace".to_string()),
        Just("name".to_string()),
        Just("inputs".to_string()),
        Just("outputs".to_string()),
        Just("dataset".to_string()),
        Just("facets".to_string()),
        Just("schema".to_string()),
        Just("fields".to_string()),
        Just("parent".to_string()),
        ".{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`, the root included.
fn pointers(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![(String::new(), v)];
    while let Some((p, v)) = todo.pop() {
        match v {
            Value::Object(m) => {
                todo.extend(m.iter().map(|(k, v)| (format!("{p}/{}", k.replace('~', "~0").replace('/', "~1")), v)))
            }
            Value::Array(a) => todo.extend(a.iter().enumerate().map(|(i, v)| (format!("{p}/{i}"), v))),
            _ => {}
        }
        out.push(p);
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    /// Wraps the value in `n` levels, alternating arrays and objects.
    Bury(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Bury(i, n)),
    ]
}

fn mutate(mut v: Value, ms: &[Mutation]) -> Value {
    for m in ms {
        let ps = pointers(&v);
        let pick = |i: &usize| ps[i % ps.len()].clone();
        match m {
            Mutation::Replace(i, new) => {
                if let Some(at) = v.pointer_mut(&pick(i)) {
                    *at = new.clone();
                }
            }
            Mutation::Remove(i) => {
                let p = pick(i);
                let Some((parent, last)) = p.rsplit_once('/') else { continue };
                match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < a.len() {
                                a.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Mutation::Bury(i, n) => {
                if let Some(at) = v.pointer_mut(&pick(i)) {
                    let mut buried = at.take();
                    for level in 0..*n {
                        buried = if level % 2 == 0 {
                            Value::Array(vec![buried])
                        } else {
                            Value::Object([("a".to_string(), buried)].into_iter().collect())
                        };
                    }
                    *at = buried;
                }
            }
        }
    }
    v
}

/// Levels of nesting of `v`, counted as the reader counts them (an object or array is a
/// level; scalars add none), without recursion.
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(v, 1)];
    while let Some((v, d)) = todo.pop() {
        match v {
            Value::Object(m) => todo.extend(m.values().map(|c| (c, d + 1))),
            Value::Array(a) => todo.extend(a.iter().map(|c| (c, d + 1))),
            _ => continue,
        }
        deepest = deepest.max(d);
    }
    deepest
}

/// Reads `v` on a small stack; an accepted event is within the limits and its edges go
/// into a graph that can be walked.
fn check(v: Value) -> Result<(), TestCaseError> {
    let (v, result) = on_small_stack(move || {
        let r = parse(&v);
        (v, r)
    });
    match result {
        Ok(event) => {
            prop_assert!(depth(&v) <= MAX_DEPTH, "accepted {} levels", depth(&v));
            prop_assert!(serde_json::to_vec(&v).unwrap().len() <= MAX_EVENT_BYTES);
            let mut g = Graph::new();
            let (node, inputs, outputs) = match &event {
                Event::Run(r) => (warden_lineage::run_node(&r.run_id), &r.inputs, &r.outputs),
                Event::Job { job, inputs, outputs, .. } => {
                    (warden_lineage::job_node(&job.namespace, &job.name), inputs, outputs)
                }
                Event::Dataset { dataset, .. } => {
                    prop_assert!(!dataset.name.is_empty() && !dataset.namespace.is_empty());
                    return Ok(());
                }
            };
            for d in inputs {
                prop_assert!(!d.name.trim().is_empty() && !d.namespace.trim().is_empty());
                g.add_edge(&d.node(), &node);
            }
            for d in outputs {
                g.add_edge(&node, &d.node());
            }
            if let Some(w) = g.walk(&node, Direction::Upstream, 10, 1000) {
                prop_assert!(w.nodes.len() <= inputs.len() + 1);
            }
        }
        Err(e) => prop_assert!(!e.0.is_empty()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_values(v in value()) {
        check(v)?;
    }

    #[test]
    fn arbitrary_json_text(text in ".{0,300}") {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            check(v)?;
        }
    }

    #[test]
    fn mutated_valid_event(ms in prop::collection::vec(mutation(), 1..6)) {
        check(mutate(valid(), &ms))?;
    }

    #[test]
    fn valid_event_with_arbitrary_facets(facets in value(), at in 0usize..3) {
        let mut v = valid();
        let slot = ["/run/facets", "/inputs/0/facets", "/outputs/0/facets"][at];
        *v.pointer_mut(slot).unwrap_or(&mut Value::Null) = json!({"extra": facets});
        check(v)?;
    }
}

#[test]
fn the_seed_is_valid() {
    assert!(matches!(parse(&valid()), Ok(Event::Run(_))));
}
