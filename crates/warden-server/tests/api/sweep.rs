//! Random input at every route of the OpenAPI document: odd path parameters (huge
//! integers, traversal, long or non-ASCII strings), odd and unknown query parameters,
//! and bodies whose fields have the wrong types, unknown names or absurd sizes. Whatever
//! arrives, the answer is never a 5xx, and every error is problem+json (OpenAI's shape
//! under `/v1`). A property test: `PROPTEST_CASES` sets the number of cases per route
//! (default 64), e.g. `PROPTEST_CASES=2000 cargo test -p warden-server --test api sweep`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{start, Engine, Options};

fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551615".to_string()),
        Just("9223372036854775808".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e309".to_string()),
        Just("%00".to_string()),
        Just("..%2F..%2Fetc%2Fpasswd".to_string()),
        Just("%F0%9F%92%A3%E2%80%AE".to_string()),
        Just("%FF%FE".to_string()),
        Just("a".repeat(3000)),
        Just("prj_01ARZ3NDEKTSV4RRFFQ69G5FAV".to_string()),
        Just("sha256:zz".to_string()),
        Just("true".to_string()),
        "[a-zA-Z0-9_.~-]{0,24}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(Value::String("x".repeat(20_000))),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4).prop_map(|m| json!(m)),
        ]
    })
}

/// A body derived from the route's sample: a field changed to something else, an
/// unknown field added, a field removed, or the whole body replaced.
fn mutate(sample: Option<Value>) -> impl Strategy<Value = Option<Value>> {
    let sample2 = sample.clone();
    let sample3 = sample.clone();
    prop_oneof![
        (any::<prop::sample::Index>(), json_value()).prop_map(move |(i, v)| {
            let mut b = sample.clone()?;
            if let Some(m) = b.as_object_mut() {
                let keys: Vec<String> = m.keys().cloned().collect();
                if !keys.is_empty() {
                    m.insert(keys[i.index(keys.len())].clone(), v);
                }
            }
            Some(b)
        }),
        ("[a-z_]{1,10}", json_value()).prop_map(move |(k, v)| {
            let mut b = sample2.clone()?;
            if let Some(m) = b.as_object_mut() {
                m.insert(k, v);
            }
            Some(b)
        }),
        any::<prop::sample::Index>().prop_map(move |i| {
            let mut b = sample3.clone()?;
            if let Some(m) = b.as_object_mut() {
                let keys: Vec<String> = m.keys().cloned().collect();
                if !keys.is_empty() {
                    m.remove(&keys[i.index(keys.len())]);
                }
            }
            Some(b)
        }),
        json_value().prop_map(Some),
        Just(Some(json!((0..300).fold(json!(1), |v, _| json!([v]))))),
    ]
}

#[test]
fn random_input_on_every_route_never_answers_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (s, admin, project, key) = rt.block_on(async {
        let s = start(Options::new(Engine::Sqlite)).await;
        let admin = s.admin().await;
        let project = s.project(&admin, "swept", None).await;
        let key = s
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "gw", "project": project, "role": "project-owner",
                                                    "data_class": "personal_data"}),
            )
            .await
            .expect(201)["secret"]
            .as_str()
            .unwrap()
            .to_string();
        (s, admin, project, key)
    });
    let doc = serde_json::to_value(warden_server::openapi::document()).unwrap();
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    let mut routes = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap().to_string();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // The administrator's own credential stays usable through the sweep.
            if id == "revoke_token" || id == "disable_user" {
                continue;
            }
            let mut params: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap().to_string()).collect()
                })
                .unwrap_or_default();
            params.push("zz_unknown".to_string());
            let holes = path.matches('{').count();
            // A body only where the route takes one, as clients send them.
            let takes_body = op.get("requestBody").is_some();
            let sample = crate::routes::sample_body_for(&id, &project);
            let token = if path.starts_with("/v1/") { key.clone() } else { admin.clone() };
            let strategy = (
                prop::collection::vec(prop_oneof![Just(project.clone()), nasty()], holes),
                prop::collection::vec((prop::sample::select(params.clone()), nasty()), 0..3),
                mutate(sample).prop_map(move |b| b.filter(|_| takes_body)),
            );
            let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
            let result = runner.run(&strategy, |(values, query, body)| {
                let mut url = path.clone();
                for v in values {
                    let start = url.find('{').unwrap();
                    let end = start + url[start..].find('}').unwrap();
                    url.replace_range(start..=end, &v);
                }
                if !query.is_empty() {
                    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    url = format!("{url}?{}", q.join("&"));
                }
                let res = rt.block_on(s.call(method.clone(), &url, Some(&token), body.clone()));
                let status = res.status.as_u16();
                if status >= 500 {
                    return Err(TestCaseError::fail(format!("{method} {url} -> {status}: {}", res.body)));
                }
                if status >= 400 {
                    let shaped = if url.starts_with("/v1/") {
                        res.body["error"]["message"].is_string()
                    } else {
                        res.content_type == "application/problem+json" && res.body["status"] == status
                    };
                    if !shaped {
                        return Err(TestCaseError::fail(format!(
                            "{method} {url} -> {status} is not a problem ({}): {}",
                            res.content_type, res.body
                        )));
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                panic!("{id}: {e}");
            }
            routes += 1;
        }
    }
    assert!(routes >= 80, "swept {routes} routes");
}
