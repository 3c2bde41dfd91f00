//! OpenLineage events as Marquez accepts them: `RunEvent`s (START, RUNNING, COMPLETE,
//! FAIL, ABORT, OTHER) and `DatasetEvent`s. Required fields are checked and each missing
//! or malformed one is named; everything else, unknown facets included, is kept in the
//! raw event the caller stores.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Start,
    Running,
    Complete,
    Fail,
    Abort,
    Other,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Start => "START",
            EventType::Running => "RUNNING",
            EventType::Complete => "COMPLETE",
            EventType::Fail => "FAIL",
            EventType::Abort => "ABORT",
            EventType::Other => "OTHER",
        }
    }

    /// Whether the run has finished (its state no longer changes by RUNNING events).
    pub fn is_terminal(self) -> bool {
        matches!(self, EventType::Complete | EventType::Fail | EventType::Abort)
    }
}

/// A dataset as an event names it, with the columns its `schema` facet lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    pub namespace: String,
    pub name: String,
    /// (column, type) from the `schema` facet, when present.
    pub columns: Vec<(String, Option<String>)>,
}

impl DatasetRef {
    /// The dataset's node in the lineage graph.
    pub fn node(&self) -> String {
        dataset_node(&self.namespace, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEvent {
    pub event_type: EventType,
    pub event_time: String,
    pub producer: String,
    pub run_id: String,
    pub job: JobRef,
    pub inputs: Vec<DatasetRef>,
    pub outputs: Vec<DatasetRef>,
    /// The parent run, from the `parent` run facet.
    pub parent_run: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Run(RunEvent),
    /// Static metadata about one dataset (no run).
    Dataset {
        event_time: String,
        producer: String,
        dataset: DatasetRef,
    },
    /// Static lineage of a job (no run): what it reads and writes.
    Job {
        event_time: String,
        producer: String,
        job: JobRef,
        inputs: Vec<DatasetRef>,
        outputs: Vec<DatasetRef>,
    },
}

/// Longest name or namespace accepted.
const MAX_NAME: usize = 1024;
/// Most inputs or outputs one event may list.
const MAX_DATASETS: usize = 1000;
/// Largest event accepted, as compact JSON: 1 MiB (Marquez's own events are a few kB;
/// the raw event, unknown facets included, is stored).
pub const MAX_EVENT_BYTES: usize = 1 << 20;
/// Deepest nesting accepted, counted from the event itself (`run.facets.parent.run.runId`
/// is 5 levels; a `schema` facet's nested struct fields add 2 levels a struct).
pub const MAX_DEPTH: usize = 48;
/// Most columns one dataset's `schema` facet may list.
pub const MAX_COLUMNS: usize = 10_000;

/// A value's children, walked one at a time.
enum Children<'a> {
    Object(serde_json::map::Iter<'a>),
    Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>),
    None,
}

impl<'a> Children<'a> {
    fn of(v: &'a Value) -> Self {
        match v {
            Value::Object(m) => Children::Object(m.iter()),
            Value::Array(a) => Children::Array(a.iter().enumerate()),
            _ => Children::None,
        }
    }

    /// The next child and its step in a path (`.key` or `[i]`).
    fn next(&mut self) -> Option<(String, &'a Value)> {
        match self {
            Children::Object(it) => it.next().map(|(k, v)| (format!(".{}", short(k)), v)),
            Children::Array(it) => it.next().map(|(i, v)| (format!("[{i}]"), v)),
            Children::None => None,
        }
    }
}

/// A key as a path shows it: at most 64 characters.
fn short(k: &str) -> String {
    if k.chars().count() <= 64 {
        k.to_string()
    } else {
        format!("{}…", k.chars().take(64).collect::<String>())
    }
}

/// Counts bytes written, failing past [`MAX_EVENT_BYTES`] (so that counting stops there).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        if self.0 > MAX_EVENT_BYTES {
            return Err(std::io::Error::other("too large"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Refuses events nested deeper than [`MAX_DEPTH`] or larger than [`MAX_EVENT_BYTES`].
/// The walk is iterative and stops at the limit, so it is safe on any `Value`, however
/// it was built; only then is the event serialised (recursively, now to a known depth)
/// to count its size.
fn check_bounds(v: &Value) -> Result<(), EventError> {
    // The containers on the path from the event to the current value, with the step
    // that reached each (the event's own step is empty).
    let mut path: Vec<(String, Children<'_>)> = vec![(String::new(), Children::of(v))];
    while let Some((_, children)) = path.last_mut() {
        let Some((step, child)) = children.next() else {
            path.pop();
            continue;
        };
        if !(child.is_object() || child.is_array()) {
            continue;
        }
        if path.len() >= MAX_DEPTH {
            let at: String = path.iter().skip(1).map(|(s, _)| s.as_str()).chain([step.as_str()]).collect();
            return Err(EventError(format!(
                "`{}` nests deeper than {MAX_DEPTH} levels (the limit for OpenLineage events); flatten the facet",
                at.trim_start_matches('.')
            )));
        }
        path.push((step, Children::of(child)));
    }
    if serde_json::to_writer(Counter(0), v).is_err() {
        return Err(EventError(format!(
            "the event is larger than {MAX_EVENT_BYTES} bytes (1 MiB, the limit for OpenLineage events); \
             send large facets elsewhere and link to them"
        )));
    }
    Ok(())
}

fn text<'a>(v: &'a Value, path: &str) -> Result<&'a str, EventError> {
    match v.pointer(&format!("/{}", path.replace('.', "/"))) {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            if s.len() > MAX_NAME || s.chars().any(char::is_control) {
                return Err(EventError(format!("`{path}` is too long or holds control characters")));
            }
            Ok(s)
        }
        Some(Value::String(_)) => Err(EventError(format!("`{path}` must not be empty"))),
        Some(_) => Err(EventError(format!("`{path}` must be a string"))),
        None => Err(EventError(format!("`{path}` is required"))),
    }
}

/// `8-4-4-4-12` hexadecimal, as OpenLineage requires of run ids.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn datasets(v: &Value, field: &str) -> Result<Vec<DatasetRef>, EventError> {
    let list = match v.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(EventError(format!("`{field}` must be a list of datasets"))),
    };
    if list.len() > MAX_DATASETS {
        return Err(EventError(format!("`{field}` lists more than {MAX_DATASETS} datasets")));
    }
    list.iter().enumerate().map(|(i, d)| dataset(d, &format!("{field}[{i}]"))).collect()
}

fn dataset(d: &Value, at: &str) -> Result<DatasetRef, EventError> {
    if !d.is_object() {
        return Err(EventError(format!("`{at}` must be an object with `namespace` and `name`")));
    }
    let namespace = text(d, "namespace").map_err(|e| EventError(format!("{at}: {e}")))?.to_string();
    let name = text(d, "name").map_err(|e| EventError(format!("{at}: {e}")))?.to_string();
    let fields = d.pointer("/facets/schema/fields").and_then(Value::as_array);
    if fields.is_some_and(|f| f.len() > MAX_COLUMNS) {
        return Err(EventError(format!("`{at}.facets.schema.fields` lists more than {MAX_COLUMNS} columns")));
    }
    let columns = fields
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    let n = f.get("name")?.as_str()?;
                    Some((n.to_string(), f.get("type").and_then(Value::as_str).map(str::to_string)))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(DatasetRef { namespace, name, columns })
}

/// Reads one event. Unknown fields and facets are allowed (and kept by the caller), within
/// [`MAX_DEPTH`] levels of nesting and [`MAX_EVENT_BYTES`] in all.
pub fn parse(v: &Value) -> Result<Event, EventError> {
    if !v.is_object() {
        return Err(EventError("an OpenLineage event is a JSON object".into()));
    }
    check_bounds(v)?;
    let event_time = text(v, "eventTime")?.to_string();
    let producer = text(v, "producer")?.to_string();
    text(v, "schemaURL")?;
    if v.get("run").is_none() {
        if v.get("job").is_some() {
            let job =
                JobRef { namespace: text(v, "job.namespace")?.to_string(), name: text(v, "job.name")?.to_string() };
            let (inputs, outputs) = (datasets(v, "inputs")?, datasets(v, "outputs")?);
            return Ok(Event::Job { event_time, producer, job, inputs, outputs });
        }
        if let Some(d) = v.get("dataset") {
            return Ok(Event::Dataset { event_time, producer, dataset: dataset(d, "dataset")? });
        }
        return Err(EventError(
            "`run` and `job` are required (or `job` alone for a JobEvent, `dataset` for a DatasetEvent)".into(),
        ));
    }
    let run_id = text(v, "run.runId")?.to_string();
    if !is_uuid(&run_id) {
        return Err(EventError(format!("`run.runId` must be a UUID, not `{run_id}`")));
    }
    let job = JobRef { namespace: text(v, "job.namespace")?.to_string(), name: text(v, "job.name")?.to_string() };
    let event_type = match v.get("eventType") {
        None | Some(Value::Null) => EventType::Other,
        Some(Value::String(t)) => match t.as_str() {
            "START" => EventType::Start,
            "RUNNING" => EventType::Running,
            "COMPLETE" => EventType::Complete,
            "FAIL" => EventType::Fail,
            "ABORT" => EventType::Abort,
            "OTHER" => EventType::Other,
            other => {
                return Err(EventError(format!(
                    "`eventType` `{other}` is not one of START, RUNNING, COMPLETE, FAIL, ABORT, OTHER"
                )))
            }
        },
        Some(_) => return Err(EventError("`eventType` must be a string".into())),
    };
    let parent_run =
        v.pointer("/run/facets/parent/run/runId").and_then(Value::as_str).filter(|p| is_uuid(p)).map(str::to_string);
    Ok(Event::Run(RunEvent {
        event_type,
        event_time,
        producer,
        run_id,
        job,
        inputs: datasets(v, "inputs")?,
        outputs: datasets(v, "outputs")?,
        parent_run,
    }))
}

/// Graph node names: `dataset:<namespace>/<name>`, `run:<uuid>`,
/// `model:<model id>@<version>`.
pub fn dataset_node(namespace: &str, name: &str) -> String {
    format!("dataset:{namespace}/{name}")
}

pub fn run_node(run_id: &str) -> String {
    format!("run:{run_id}")
}

pub fn job_node(namespace: &str, name: &str) -> String {
    format!("job:{namespace}/{name}")
}

pub fn model_node(model_id: &str, version: u64) -> String {
    format!("model:{model_id}@{version}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run() -> Value {
        json!({
            "eventType": "COMPLETE",
            "eventTime": "2026-11-22T10:00:00.000Z",
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8",
                    "facets": {"parent": {"run": {"runId": "0176a8c2-fe01-7439-87e6-56a1a1b4029f"},
                                          "job": {"namespace": "a", "name": "dag"}},
                               "vendorThing": {"x": 1}}},
            "job": {"namespace": "airflow", "name": "claims.train"},
            "inputs": [{"namespace": "postgres://db:5432", "name": "claims.raw",
                        "facets": {"schema": {"fields": [{"name": "ssn", "type": "text"}, {"name": "amount"}]}}}],
            "outputs": [{"namespace": "s3://lake", "name": "features/claims"}]
        })
    }

    #[test]
    fn reads_run_events_and_keeps_what_it_needs() {
        let Event::Run(e) = parse(&run()).unwrap() else { panic!() };
        assert_eq!(e.event_type, EventType::Complete);
        assert_eq!(e.job.name, "claims.train");
        assert_eq!(e.inputs[0].node(), "dataset:postgres://db:5432/claims.raw");
        assert_eq!(e.inputs[0].columns, vec![("ssn".into(), Some("text".into())), ("amount".into(), None)]);
        assert_eq!(e.parent_run.as_deref(), Some("0176a8c2-fe01-7439-87e6-56a1a1b4029f"));
        let mut v = run();
        v.as_object_mut().unwrap().remove("eventType");
        assert!(matches!(parse(&v), Ok(Event::Run(RunEvent { event_type: EventType::Other, .. }))));
    }

    #[test]
    fn names_what_is_missing_or_malformed() {
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|v| drop(v.as_object_mut().unwrap().remove("eventTime"))), "`eventTime` is required"),
            (Box::new(|v| drop(v.as_object_mut().unwrap().remove("producer"))), "`producer` is required"),
            (Box::new(|v| drop(v.as_object_mut().unwrap().remove("schemaURL"))), "`schemaURL` is required"),
            (Box::new(|v| v["run"]["runId"] = json!("run-7")), "must be a UUID"),
            (Box::new(|v| drop(v["job"].as_object_mut().unwrap().remove("name"))), "`job.name` is required"),
            (Box::new(|v| v["eventType"] = json!("DONE")), "`eventType` `DONE`"),
            (Box::new(|v| v["inputs"] = json!({"a": 1})), "`inputs` must be a list"),
            (Box::new(|v| v["outputs"][0]["name"] = json!("")), "outputs[0]: `name` must not be empty"),
            (Box::new(|v| v["inputs"][0]["namespace"] = json!(7)), "inputs[0]: `namespace` must be a string"),
        ];
        for (change, needle) in cases {
            let mut v = run();
            change(&mut v);
            let e = parse(&v).unwrap_err();
            assert!(e.0.contains(needle), "{needle}: {e}");
        }
        assert!(parse(&json!([1])).is_err());
        let d = json!({"eventTime": "2026-11-22T10:00:00Z", "producer": "p", "schemaURL": "s",
                       "dataset": {"namespace": "s3://lake", "name": "x"}});
        assert!(matches!(parse(&d), Ok(Event::Dataset { .. })));
        let j = json!({"eventTime": "2026-11-22T10:00:00Z", "producer": "p", "schemaURL": "s",
                       "job": {"namespace": "dbt", "name": "model.claims"},
                       "inputs": [{"namespace": "pg", "name": "raw"}], "outputs": [{"namespace": "pg", "name": "mart"}]});
        assert!(matches!(parse(&j), Ok(Event::Job { ref inputs, .. }) if inputs.len() == 1));
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("3f5e83fa-3480-44ff-99c5-ff943904e5e8"));
        assert!(!is_uuid("3f5e83fa-3480-44ff-99c5-ff943904e5e"));
        assert!(!is_uuid("3f5e83fa34804-4ff-99c5-ff943904e5e8"));
        assert!(!is_uuid("zf5e83fa-3480-44ff-99c5-ff943904e5e8"));
    }

    /// Runs `f` on a thread with a small stack, so that unbounded recursion overflows
    /// deterministically.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
    }

    /// `{"a": {"a": … leaf}}`, `levels` objects deep, built without recursion.
    fn nested(levels: usize, leaf: Value) -> Value {
        // Not `json!`: it would serialise `inner` again at each level, recursively.
        (0..levels).fold(leaf, |inner, _| Value::Object([("a".to_string(), inner)].into_iter().collect()))
    }

    /// Takes a chain of single-entry objects or arrays apart one level at a time
    /// (dropping it whole would recurse).
    fn dismantle(mut v: Value) {
        loop {
            v = match v {
                Value::Object(mut m) => match m.values_mut().next() {
                    Some(inner) => inner.take(),
                    None => return,
                },
                Value::Array(mut a) => match a.pop() {
                    Some(inner) => inner,
                    None => return,
                },
                _ => return,
            };
        }
    }

    #[test]
    fn deep_facets_are_refused_naming_where() {
        // The event is level 1, `run` 2, `facets` 3, `deep` 4 and its innermost object
        // 3 + the number of objects: 48 is the last level allowed.
        let mut v = run();
        v["run"]["facets"]["deep"] = nested(MAX_DEPTH - 3, json!(1));
        assert!(parse(&v).is_ok());
        v["run"]["facets"]["deep"] = nested(MAX_DEPTH - 2, json!(1));
        let e = parse(&v).unwrap_err();
        let at = format!("run.facets.deep{}", ".a".repeat(MAX_DEPTH - 3));
        assert_eq!(
            e.0,
            format!("`{at}` nests deeper than 48 levels (the limit for OpenLineage events); flatten the facet")
        );
        // Arrays count too, and long keys are cut short in the path.
        let mut v = run();
        let key = "k".repeat(1000);
        v["inputs"][0]["facets"][key.as_str()] = (0..MAX_DEPTH).fold(json!([]), |inner, _| Value::Array(vec![inner]));
        let e = parse(&v).unwrap_err();
        assert!(e.0.starts_with(&format!("`inputs[0].facets.{}…[0][0]", "k".repeat(64))), "{e}");
        // However deep a `Value` is (serde_json's parser stops at 128, but a `Value` can
        // be built), the check neither recurses nor overflows.
        let mut v = run();
        v["run"]["facets"]["deep"] = nested(100_000, json!(1));
        let (e, v) = on_small_stack(move || (parse(&v), v));
        assert!(e.unwrap_err().0.contains("deeper than 48 levels"));
        let mut v = v;
        let deep = v["run"]["facets"]["deep"].take();
        on_small_stack(move || dismantle(deep));
    }

    #[test]
    fn events_over_a_mebibyte_are_refused() {
        let mut v = run();
        v["run"]["facets"]["blob"] = json!("x".repeat(MAX_EVENT_BYTES));
        let e = parse(&v).unwrap_err();
        assert!(
            e.0.starts_with("the event is larger than 1048576 bytes (1 MiB, the limit for OpenLineage events)"),
            "{e}"
        );
        let mut v = run();
        v["run"]["facets"]["blob"] = json!("x".repeat(MAX_EVENT_BYTES - 2000));
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn schema_facets_list_a_bounded_number_of_columns() {
        let mut v = run();
        let fields: Vec<Value> = (0..=MAX_COLUMNS).map(|i| json!({"name": format!("c{i}")})).collect();
        v["outputs"][0]["facets"] = json!({"schema": {"fields": fields}});
        let e = parse(&v).unwrap_err();
        assert_eq!(e.0, "`outputs[0].facets.schema.fields` lists more than 10000 columns");
    }
}
