//! The OpenAI-compatible gateway: gateway keys and their data classes, routing by the
//! class's rules, masking personal data before it leaves and putting it back in the
//! answer, failover among allowed providers, OpenAI-shaped errors, and the audit
//! record of every call (metadata, never payloads).

use std::sync::{Arc, Mutex};

use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::both_engines;
use crate::harness::{start, Engine, Options, Server};

/// An OpenAI-compatible upstream on 127.0.0.1 that answers with what it received and
/// remembers it; model `broken` answers 503.
async fn upstream(seen: Arc<Mutex<Vec<Value>>>) -> String {
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            post(move |axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    use axum::response::IntoResponse;
                    seen.lock().unwrap().push(body.clone());
                    if body["model"] == "broken" {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                    }
                    if body["model"] == "hang" {
                        // Longer than the gateway's three-second timeout in tests.
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    }
                    if body["model"] == "slow-stream" {
                        // Twenty chunks, 100 ms apart.
                        let events = futures_util::stream::iter(0..21).then(|i| async move {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            let line = if i == 20 {
                                "data: [DONE]\n\n".to_string()
                            } else {
                                format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": format!("w{i} ")}}]}))
                            };
                            Ok::<_, std::convert::Infallible>(line)
                        });
                        return axum::response::Response::builder()
                            .header("content-type", "text/event-stream")
                            .body(axum::body::Body::from_stream(events))
                            .unwrap();
                    }
                    let said = body["messages"][0]["content"].as_str().unwrap_or("").to_string();
                    axum::Json(json!({"id": "x", "object": "chat.completion", "model": body["model"],
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("upstream heard: {said}")}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}))
                    .into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

pub(crate) fn provider(
    name: &str,
    base: &str,
    region: &str,
    external: bool,
    models: &[&str],
) -> warden_llm::ProviderConfig {
    warden_llm::ProviderConfig {
        name: name.into(),
        kind: warden_llm::ProviderKind::OpenAi,
        base_url: Some(base.into()),
        api_key: Some("sk-upstream-secret".into()),
        region: region.into(),
        external,
        models: models.iter().map(|m| m.to_string()).collect(),
        prices: Default::default(),
    }
}

async fn key(s: &Server, owner: &str, project: &str, class: &str) -> String {
    let t = s
        .post("/api/v1/tokens", owner, json!({"name": format!("gw-{class}"), "project": project, "data_class": class}))
        .await
        .expect(201);
    assert_eq!(t["data_class"], class, "{t}");
    t["secret"].as_str().unwrap().to_string()
}

async fn chat(s: &Server, key: &str, body: Value, class: Option<&str>) -> (u16, Value) {
    let mut req = s.http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(key).json(&body);
    if let Some(c) = class {
        req = req.header("x-warden-data-class", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn openai_error(v: &Value) -> &str {
    assert!(v["error"]["message"].is_string() && v["error"]["type"].is_string(), "OpenAI error shape: {v}");
    v["error"]["message"].as_str().unwrap()
}

both_engines!(gateway_routes_by_class_masks_personal_data_and_audits);
async fn gateway_routes_by_class_masks_personal_data_and_audits(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![
        provider("flaky-eu", &base, "eu-west", true, &["gpt-eu", "broken"]),
        provider("openai-eu", &base, "eu-west", true, &["gpt-eu"]),
        provider("openai-apac", &base, "ap-south", true, &["gpt-apac"]),
        provider("onprem", &base, "us-east", false, &["llama", "hang"]),
    ];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let personal = key(&s, &alice_t, &p, "personal_data").await;
    let cards = key(&s, &alice_t, &p, "cardholder_data").await;
    let public = key(&s, &alice_t, &p, "public").await;

    // Personal data is masked before it leaves and put back in the answer.
    let prompt = "Customer Maria Garcia (maria.garcia@example.com, SSN 536-22-8174) disputes a charge.";
    let body = json!({"model": "gpt-eu", "messages": [{"role": "user", "content": prompt}]});
    let (status, v) = chat(&s, &personal, body.clone(), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["choices"][0]["message"]["content"], format!("upstream heard: {prompt}"));
    let sent = seen.lock().unwrap().last().cloned().unwrap();
    let sent_text = sent["messages"][0]["content"].as_str().unwrap();
    assert_eq!(sent_text, "Customer [PERSON_1] ([EMAIL_1], SSN [SSN_1]) disputes a charge.");
    // The public class sends as is.
    let (status, _) = chat(&s, &public, body.clone(), None).await;
    assert_eq!(status, 200);
    assert!(seen.lock().unwrap().last().unwrap()["messages"][0]["content"].as_str().unwrap().contains("Maria Garcia"));

    // The class decides where a request may go, and says which rule refused it.
    let (status, v) = chat(&s, &cards, body.clone(), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("prohibits external LLM calls"), "{v}");
    let (status, v) =
        chat(&s, &cards, json!({"model": "llama", "messages": [{"role": "user", "content": "hi"}]}), None).await;
    assert_eq!(status, 200, "internal providers are fine: {v}");
    let apac = json!({"model": "gpt-apac", "messages": [{"role": "user", "content": "hi"}]});
    let (status, v) = chat(&s, &personal, apac.clone(), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("may be processed only in eu-west, us-east"), "{v}");
    assert_eq!(chat(&s, &public, apac.clone(), None).await.0, 200);

    // A request may narrow its key's class, never widen it.
    let (status, v) = chat(&s, &public, apac.clone(), Some("personal_data")).await;
    assert_eq!(status, 403, "{v}");
    let (status, v) = chat(&s, &personal, body.clone(), Some("public")).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("never widen"), "{v}");
    let (status, v) = chat(&s, &personal, body.clone(), Some("no-such-class")).await;
    assert_eq!(status, 400, "{v}");

    // Failover only among allowed providers: `broken` fails on flaky-eu and nobody else
    // offers it; gpt-eu on flaky-eu works.
    let (status, v) = chat(&s, &public, json!({"model": "broken", "messages": []}), None).await;
    assert_eq!(status, 502, "{v}");
    openai_error(&v);

    // A provider that does not answer in time: OpenAI's shape, 504, never a hang.
    let started = std::time::Instant::now();
    let (status, v) = chat(&s, &public, json!({"model": "hang", "messages": []}), None).await;
    assert_eq!(status, 504, "{v}");
    assert_eq!(v["error"]["code"], "upstream_timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the timeout holds");

    // Bad input gets OpenAI's error shape with the right status.
    let raw = s
        .http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&public)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    openai_error(&raw.json().await.unwrap());
    let (status, v) = chat(&s, &public, json!({"model": "nope", "messages": []}), None).await;
    assert_eq!(status, 404);
    assert!(openai_error(&v).contains("`nope`"));
    let (status, v) = chat(&s, &public, json!({"messages": []}), None).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["param"], "model");
    let (status, v) = chat(&s, "wdn_not_a_key", body.clone(), None).await;
    assert_eq!(status, 401);
    openai_error(&v);
    let (status, v) = chat(&s, &alice_t, body.clone(), None).await;
    assert_eq!(status, 403, "a session token is not a gateway key: {v}");
    assert!(openai_error(&v).contains("gateway key"), "{v}");
    let oversize = json!({"model": "mock", "messages": [{"role": "user", "content": "x".repeat(100_000)}]});
    assert_eq!(chat(&s, &public, oversize, None).await.0, 413);

    // Streams: the built-in mock answers offline; values come back across chunks.
    let streamed = s
        .http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&personal)
        .json(&json!({"model": "mock", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "call me at maria.garcia@example.com please"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.headers()["content-type"], "text/event-stream");
    let text = streamed.text().await.unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let mut content = String::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")).filter(|l| *l != "[DONE]") {
        let ev: Value = serde_json::from_str(line).unwrap();
        if let Some(c) = ev.pointer("/choices/0/delta/content").and_then(Value::as_str) {
            content.push_str(c);
        }
    }
    assert_eq!(content, "Mock reply: call me at maria.garcia@example.com please");

    // Models the key may use.
    let models: Value =
        s.http.get(format!("{}/v1/models", s.url)).bearer_auth(&cards).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["mock", "llama", "hang"], "external models are not listed for cardholder data");

    // Embeddings, masked too.
    let e: Value = s
        .http
        .post(format!("{}/v1/embeddings", s.url))
        .bearer_auth(&personal)
        .json(&json!({"model": "mock", "input": ["maria.garcia@example.com", "hello"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["data"].as_array().unwrap().len(), 2);

    // The ledger has every call's metadata: provider, model, class, redactions, tokens;
    // never the prompt, the answer, or the provider's key.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let calls = s.get("/api/v1/audit/events?action=gateway.chat&limit=100", &admin).await.expect(200);
    let items = calls["items"].as_array().unwrap();
    let first = items.iter().find(|i| i["event"]["detail"]["provider"] == "flaky-eu").expect("a call to flaky-eu");
    let d = &first["event"]["detail"];
    assert_eq!((d["model"].as_str(), d["transfer"].as_str()), (Some("gpt-eu"), Some("external")));
    assert_eq!((d["redacted_email"].as_i64(), d["redacted_ssn"].as_i64()), (Some(1), Some(1)));
    assert_eq!(d["total_tokens"], 10);
    assert_eq!(first["event"]["data_classes"], json!(["personal_data"]));
    assert!(items.iter().any(|i| i["event"]["detail"]["provider"] == "mock"), "the stream was recorded when it ended");
    // Calls, answered or refused, are data access, not changes.
    let by_category =
        s.get("/api/v1/audit/events?action=gateway.chat&category=data_access&limit=100", &admin).await.expect(200);
    assert_eq!(by_category["items"].as_array().unwrap().len(), items.len());
    assert!(items.iter().all(|i| i["event"]["category"] == "data_access"), "{items:?}");
    let as_changes =
        s.get("/api/v1/audit/events?action=gateway.chat&category=change&limit=100", &admin).await.expect(200);
    assert!(as_changes["items"].as_array().unwrap().is_empty());
    // A workload's key bound to a zone: its calls record where the caller runs.
    let zoned = s
        .post(
            "/api/v1/tokens",
            &alice_t,
            json!({"name": "gw-zoned", "project": p, "data_class": "public", "zone": "standard-ai"}),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let hello = json!({"model": "llama", "messages": [{"role": "user", "content": "hi"}]});
    let (status, v) = chat(&s, &zoned, hello, None).await;
    assert_eq!(status, 200, "{v}");
    let calls = s.get("/api/v1/audit/events?action=gateway.chat&limit=500", &admin).await.expect(200);
    let zoned_calls: Vec<&Value> =
        calls["items"].as_array().unwrap().iter().filter(|i| i["event"]["zone"] == "standard-ai").collect();
    assert_eq!(zoned_calls.len(), 1, "{calls}");
    assert_eq!(zoned_calls[0]["event"]["detail"]["model"], "llama");
    let everything = s.get("/api/v1/audit/entries?from=0&limit=1000", &admin).await.expect(200).to_string();
    for secret in ["Maria Garcia", "maria.garcia@example.com", "536-22-8174", "sk-upstream-secret", "upstream heard"] {
        assert!(!everything.contains(secret), "`{secret}` reached the ledger");
    }
    let denied = s.get("/api/v1/audit/events?action=gateway.chat&outcome=deny&limit=100", &admin).await.expect(200);
    let reasons: Vec<&str> =
        denied["items"].as_array().unwrap().iter().map(|i| i["event"]["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("prohibits external LLM calls")), "refusals are recorded: {reasons:?}");
    let failed = s.get("/api/v1/audit/events?action=gateway.chat&outcome=failure&limit=100", &admin).await.expect(200);
    assert!(!failed["items"].as_array().unwrap().is_empty(), "upstream failures are recorded");
}

both_engines!(kill_switches_refuse_calls_and_cut_running_streams);
async fn kill_switches_refuse_calls_and_cut_running_streams(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![provider("openai-eu", &base, "eu-west", true, &["gpt-eu", "slow-stream"])];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let public = key(&s, &alice_t, &p, "public").await;
    let hello = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});

    // All external egress off: external calls are refused and say why; internal go on.
    let on = s.put("/api/v1/gateway/switches/external", &admin, json!({"reason": "incident 42"})).await.expect(200);
    assert_eq!(on["target"], "external");
    let (status, v) = chat(&s, &public, hello("gpt-eu"), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("kill switch `external` is on (incident 42)"), "{v}");
    assert_eq!(chat(&s, &public, hello("mock"), None).await.0, 200);
    let list = s.get("/api/v1/gateway/switches", &admin).await.expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    s.delete("/api/v1/gateway/switches/external", &admin).await.expect(204);
    s.delete("/api/v1/gateway/switches/external", &admin).await.problem(404, "not-found");
    assert_eq!(chat(&s, &public, hello("gpt-eu"), None).await.0, 200);

    // Bad input and the wrong people change nothing.
    s.put("/api/v1/gateway/switches/provider:nobody", &admin, json!({"reason": "x"}))
        .await
        .problem(422, "validation-failed");
    s.put("/api/v1/gateway/switches/everything", &admin, json!({"reason": "x"}))
        .await
        .problem(422, "validation-failed");
    s.put("/api/v1/gateway/switches/external", &admin, json!({"reason": " "})).await.problem(422, "validation-failed");
    s.put("/api/v1/gateway/switches/external", &alice_t, json!({"reason": "x"})).await.problem(403, "forbidden");
    assert!(s.get("/api/v1/gateway/switches", &admin).await.expect(200).as_array().unwrap().is_empty());

    // A running stream is cut when its provider is switched off.
    let res = s
        .http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&public)
        .json(&json!({"model": "slow-stream", "stream": true, "messages": [{"role": "user", "content": "go"}]}))
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("w0"), "{first:?}");
    s.put("/api/v1/gateway/switches/provider:openai-eu", &admin, json!({"reason": "key leaked"})).await.expect(200);
    let mut rest = String::new();
    while let Some(chunk) = body.next().await {
        rest.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(rest.contains("kill_switch") && rest.contains("key leaked"), "{rest}");
    assert!(rest.trim_end().ends_with("data: [DONE]"), "a clean end: {rest}");
    assert!(!rest.contains("w19"), "the stream stopped early: {rest}");

    // Both changes are protection changes in the ledger.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let changes = s.get("/api/v1/audit/events?action=gateway.switch&limit=100", &admin).await.expect(200);
    let outcomes: Vec<&str> =
        changes["items"].as_array().unwrap().iter().map(|i| i["event"]["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.iter().filter(|o| **o == "success").count() >= 3, "{outcomes:?}");
    let cut = s.get("/api/v1/audit/events?action=gateway.chat&outcome=failure&limit=100", &admin).await.expect(200);
    assert!(cut.to_string().contains("stream cut"), "{cut}");
}

both_engines!(budgets_stop_at_the_boundary_and_keys_are_rate_limited);
async fn budgets_stop_at_the_boundary_and_keys_are_rate_limited(engine: Engine) {
    let mut opts = Options::new(engine);
    opts.key_rpm = 40;
    let s = Arc::new(start(opts).await);
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    // A key that outlives alice's session: a service identity's, issued by her.
    let svc = s.post("/api/v1/services", &admin, json!({"name": "claims-app"})).await.expect(201);
    let svc = svc["id"].as_str().unwrap();
    s.post(&format!("/api/v1/projects/{p}/members"), &alice_t, json!({"member": svc, "role": "service"}))
        .await
        .expect(201);
    let k = s
        .post(
            &format!("/api/v1/services/{svc}/tokens"),
            &alice_t,
            json!({"name": "gw", "project": p, "role": "service", "data_class": "public"}),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let one = json!({"model": "mock", "max_tokens": 20, "messages": [{"role": "user", "content": "one two three"}]});

    // Only administrators set budgets; project people may read them.
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &alice_t, json!({"tokens": 1}))
        .await
        .problem(403, "forbidden");
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/week"), &admin, json!({"tokens": 1}))
        .await
        .problem(400, "invalid-parameter");
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"tokens": -1}))
        .await
        .problem(422, "validation-failed");
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"tokens": 60})).await.expect(204);

    // Twelve calls at once against a budget that holds a few: some are refused before
    // they reach a provider, and what was used never passes the budget and equals the
    // usage of the calls that were answered.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let (s, k, one) = (s.clone(), k.clone(), one.clone());
            tokio::spawn(async move { chat(&s, &k, one, None).await })
        })
        .collect();
    let mut answered = 0i64;
    let mut refused = 0;
    for c in calls {
        let (status, v) = c.await.unwrap();
        match status {
            200 => answered += v["usage"]["total_tokens"].as_i64().unwrap(),
            429 => {
                assert!(openai_error(&v).contains("day budget of 60 tokens"), "{v}");
                assert_eq!(v["error"]["code"], "insufficient_quota");
                refused += 1;
            }
            other => panic!("{other}: {v}"),
        }
    }
    assert!(refused > 0 && answered > 0, "answered {answered} tokens, refused {refused}");
    let budgets = s.get(&format!("/api/v1/projects/{p}/gateway/budgets"), &alice_t).await.expect(200);
    assert_eq!(budgets[0]["period"], "day");
    let used = budgets[0]["used"].as_i64().unwrap();
    assert!(used <= 60, "never past the budget: {used}");
    assert_eq!(used, answered, "counted exactly what was answered");

    // A new day starts a new window.
    s.clock.advance(86_400);
    assert_eq!(chat(&s, &k, one.clone(), None).await.0, 200);
    s.delete(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin).await.expect(204);

    // Forty requests a minute per key, then 429 until the minute turns. (Start well
    // inside a minute, so the calls below do not straddle two.)
    let into_minute = warden_app::Clock::now(&*s.clock).0.rem_euclid(60_000);
    if into_minute > 45_000 {
        s.clock.advance(16);
    }
    let mut statuses = Vec::new();
    for _ in 0..45 {
        statuses.push(chat(&s, &k, one.clone(), None).await.0);
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited >= 5, "{statuses:?}");
    let (status, v) = chat(&s, &k, one.clone(), None).await;
    assert_eq!(status, 429);
    assert!(openai_error(&v).contains("40 requests per minute"), "{v}");
    s.clock.advance(60);
    assert_eq!(chat(&s, &k, one, None).await.0, 200);
}

both_engines!(answers_may_skip_waiting_for_their_audit_record);
async fn answers_may_skip_waiting_for_their_audit_record(engine: Engine) {
    let mut opts = Options::new(engine);
    opts.gateway_wait_for_audit = false;
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let k = key(&s, &alice_t, &p, "public").await;
    let (status, _) =
        chat(&s, &k, json!({"model": "mock", "messages": [{"role": "user", "content": "hi"}]}), None).await;
    assert_eq!(status, 200);
    // The record follows shortly after the answer.
    let mut found = 0;
    for _ in 0..100 {
        let calls = s.get("/api/v1/audit/events?action=gateway.chat&limit=10", &admin).await.expect(200);
        found = calls["items"].as_array().unwrap().len();
        if found > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found, 1);
}

both_engines!(a_client_that_leaves_mid_stream_is_settled_and_recorded);
async fn a_client_that_leaves_mid_stream_is_settled_and_recorded(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![provider("openai-eu", &base, "eu-west", true, &["slow-stream"])];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"tokens": 100_000})).await.expect(204);
    let k = key(&s, &alice_t, &p, "public").await;
    let res = s
        .http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&k)
        .json(&json!({"model": "slow-stream", "stream": true, "max_tokens": 5000,
                      "messages": [{"role": "user", "content": "go"}]}))
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    assert!(String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).contains("w0"));
    drop(body); // the client goes away after the first chunk
                // The call is recorded as ended by the client, and its reservation (over 5,000
                // tokens) is settled to what was streamed.
    let mut reason = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let failed =
            s.get("/api/v1/audit/events?action=gateway.chat&outcome=failure&limit=10", &admin).await.expect(200);
        if let Some(r) = failed["items"][0]["event"]["reason"].as_str() {
            reason = r.to_string();
            break;
        }
    }
    assert!(reason.contains("client disconnected"), "{reason}");
    let mut used = i64::MAX;
    for _ in 0..100 {
        used = s.get(&format!("/api/v1/projects/{p}/gateway/budgets"), &admin).await.expect(200)[0]["used"]
            .as_i64()
            .unwrap();
        if used < 100 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used < 100, "settled to the few tokens streamed, not the reservation: {used}");
}

both_engines!(the_gateway_follows_the_policy_document_in_force);
async fn the_gateway_follows_the_policy_document_in_force(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![provider("openai-eu", &base, "eu-west", true, &["gpt-eu"])];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let doc = "\
zones:
  eu: {region: eu-west}
data_classes:
  open: {allowed_zones: [eu], llm_redaction: none}
  hashed: {allowed_zones: [eu], llm_redaction: hash, regions: [eu-west]}
  dropped: {allowed_zones: [eu], llm_redaction: drop, regions: [eu-west]}
  sealed: {allowed_zones: [eu], prohibit_external_llm_calls: true}
releases:
  default: {approvals: 1}
";
    s.put("/api/v1/policy", &admin, json!({"document": doc})).await.expect(200);
    // Keys carry classes of the document in force.
    let e = s
        .post("/api/v1/tokens", &alice_t, json!({"name": "k", "project": p, "data_class": "personal_data"}))
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "data_classes.declared", "{e}");
    let hashed = key(&s, &alice_t, &p, "hashed").await;
    let dropped = key(&s, &alice_t, &p, "dropped").await;
    let sealed = key(&s, &alice_t, &p, "sealed").await;
    let open = key(&s, &alice_t, &p, "open").await;
    let body = json!({"model": "gpt-eu", "messages": [{"role": "user", "content": "mail maria.garcia@example.com"}]});

    // Each class's redaction mode.
    assert_eq!(chat(&s, &hashed, body.clone(), None).await.0, 200);
    let sent = seen.lock().unwrap().last().unwrap()["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(sent.starts_with("mail [EMAIL:") && !sent.contains("maria"), "{sent}");
    assert_eq!(chat(&s, &hashed, body.clone(), None).await.0, 200);
    let again = seen.lock().unwrap().last().unwrap()["messages"][0]["content"].as_str().unwrap().to_string();
    assert_eq!(sent, again, "the same value hashes the same way");
    assert_eq!(chat(&s, &dropped, body.clone(), None).await.0, 200);
    let sent = seen.lock().unwrap().last().unwrap()["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(!sent.contains("maria") && !sent.contains('['), "{sent}");
    assert_eq!(chat(&s, &open, body.clone(), None).await.0, 200);
    assert!(seen.lock().unwrap().last().unwrap()["messages"][0]["content"].as_str().unwrap().contains("maria"));

    // The class's egress rule, named.
    let (status, v) = chat(&s, &sealed, body.clone(), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("rule data_classes.sealed.prohibit_external_llm_calls"), "{v}");
    // Narrowing follows the rules, not names: `sealed` is stricter than `hashed`, `open`
    // is laxer (no redaction, any region).
    assert_eq!(chat(&s, &hashed, body.clone(), Some("sealed")).await.0, 403, "narrowed to sealed: no external");
    let (status, v) = chat(&s, &hashed, body.clone(), Some("open")).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("never widen"), "{v}");
    assert_eq!(chat(&s, &open, body.clone(), Some("dropped")).await.0, 200);

    // A later version that removes a class stops its keys at once.
    let narrower = doc.replace("  dropped: {allowed_zones: [eu], llm_redaction: drop, regions: [eu-west]}\n", "");
    s.put("/api/v1/policy", &admin, json!({"document": narrower})).await.expect(200);
    let (status, v) = chat(&s, &dropped, body.clone(), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("not declared"), "{v}");
}

both_engines!(payloads_are_kept_sealed_only_where_the_class_says_and_expire);
async fn payloads_are_kept_sealed_only_where_the_class_says_and_expire(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let doc = "\
zones:
  eu: {region: eu-west}
data_classes:
  kept: {allowed_zones: [eu], payload_logging: true, retention_days: 7}
  plain: {allowed_zones: [eu]}
releases:
  default: {approvals: 1}
";
    s.put("/api/v1/policy", &admin, json!({"document": doc})).await.expect(200);
    let kept = key(&s, &alice_t, &p, "kept").await;
    let plain = key(&s, &alice_t, &p, "plain").await;
    let body = json!({"model": "mock", "messages": [{"role": "user", "content": "write to maria.garcia@example.com"}]});
    assert_eq!(chat(&s, &kept, body.clone(), None).await.0, 200);
    assert_eq!(chat(&s, &plain, body.clone(), None).await.0, 200);
    // A streamed answer is kept too, when the stream ends.
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let text =
        s.http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&kept).json(&streamed).send().await.unwrap();
    assert!(text.text().await.unwrap().trim_end().ends_with("data: [DONE]"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let calls = s.get("/api/v1/audit/events?action=gateway.chat&limit=100", &admin).await.expect(200);
    let logs: Vec<String> = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["event"]["detail"]["payload_log"].as_str().map(str::to_string))
        .collect();
    assert_eq!(logs.len(), 2, "only the class that asks keeps payloads: {calls}");
    // The stream's log holds the chunks as received; the other, the whole answer.
    let mut whole = Vec::new();
    let mut streams = 0;
    for id in &logs {
        let log = s.get(&format!("/api/v1/projects/{p}/payload-logs/{id}"), &admin).await.expect(200);
        match log["payload"]["response"]["stream"].as_array() {
            Some(chunks) => {
                assert!(!chunks.is_empty() && chunks.iter().all(|c| c["object"] == "chat.completion.chunk"), "{log}");
                streams += 1;
            }
            None => whole.push(id.clone()),
        }
    }
    assert_eq!((streams, whole.len()), (1, 1));
    let all = logs.clone();
    let logs = whole;
    // Opened by an administrator (recorded); the request is the masked one that left.
    let opened = s.get(&format!("/api/v1/projects/{p}/payload-logs/{}", logs[0]), &admin).await.expect(200);
    assert_eq!(opened["zone"], "eu");
    let sent = opened["payload"]["request"]["messages"][0]["content"].as_str().unwrap();
    assert_eq!(sent, "write to [EMAIL_1]");
    assert!(opened["payload"]["response"]["choices"].is_array());
    s.get(&format!("/api/v1/projects/{p}/payload-logs/{}", logs[0]), &alice_t).await.problem(403, "forbidden");
    let reads = s.get("/api/v1/audit/events?action=payload.read", &admin).await.expect(200);
    assert!(!reads["items"].as_array().unwrap().is_empty(), "reads of payload logs are recorded");
    // Sealed at rest: the database holds no readable payload.
    let everything = s.get("/api/v1/audit/entries?from=0&limit=1000", &admin).await.expect(200).to_string();
    assert!(!everything.contains("[EMAIL_1]"));

    // Retention deletes it after the class's days, and records the deletion.
    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 0);
    s.clock.advance(8 * 86_400);
    assert_eq!(s.post("/api/v1/retention/run", &admin, json!({})).await.expect(200)["deleted"], 2);
    s.get(&format!("/api/v1/projects/{p}/payload-logs/{}", logs[0]), &admin).await.problem(404, "not-found");
    let deleted = s.get("/api/v1/audit/events?action=retention.delete", &admin).await.expect(200);
    let mut uids: Vec<String> = deleted["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["event"]["resource"]["uid"].as_str().unwrap().to_string())
        .collect();
    uids.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(uids, expected);
}

both_engines!(zone_bound_keys_follow_their_zone_egress_and_prefer_its_region);
async fn zone_bound_keys_follow_their_zone_egress_and_prefer_its_region(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![
        provider("openai-us", &base, "us-east", true, &["gpt"]),
        provider("openai-eu", &base, "eu-west", true, &["gpt"]),
    ];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let doc = "\
zones:
  eu: {region: eu-west, egress: {default: deny, allow: [127.0.0.1]}}
  sealed: {region: us-east, egress: {default: deny}}
data_classes:
  open: {allowed_zones: [eu, sealed], llm_redaction: none}
releases:
  default: {approvals: 1}
";
    s.put("/api/v1/policy", &admin, json!({"document": doc})).await.expect(200);
    let zoned = |zone: Option<&str>| {
        let mut body = json!({"name": "k", "project": p, "data_class": "open"});
        if let Some(z) = zone {
            body["zone"] = json!(z);
        }
        let (sr, t) = (&s, alice_t.clone());
        async move { sr.post("/api/v1/tokens", &t, body).await.expect(201)["secret"].as_str().unwrap().to_string() }
    };
    let eu = zoned(Some("eu")).await;
    let sealed = zoned(Some("sealed")).await;
    let anywhere = zoned(None).await;
    let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]});
    for k in [&eu, &anywhere] {
        assert_eq!(chat(&s, k, body.clone(), None).await.0, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let calls = s.get("/api/v1/audit/events?action=gateway.chat&limit=10", &admin).await.expect(200);
    let providers: Vec<&str> =
        calls["items"].as_array().unwrap().iter().map(|i| i["event"]["detail"]["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["openai-eu", "openai-us"], "the eu key prefers its region; others keep the order");
    let (status, v) = chat(&s, &sealed, body, None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("rule zones.sealed.egress"), "{v}");
}

both_engines!(cost_budgets_stop_at_their_limit_and_refuse_uncounted_calls);
async fn cost_budgets_stop_at_their_limit_and_refuse_uncounted_calls(engine: Engine) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    let mut priced = provider("priced", &base, "eu-west", true, &["gpt-eu"]);
    // 400 USD per million output tokens: 400 micro-USD a token.
    priced.prices.insert("*".into(), warden_llm::Price { input: 100.0, output: 400.0 });
    opts.providers = vec![priced, provider("free-but-unpriced", &base, "eu-west", true, &["gpt-x"])];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let k = key(&s, &alice_t, &p, "public").await;
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"usd": 0.05})).await.expect(204);
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"usd": -1.0}))
        .await
        .problem(422, "validation-failed");
    let budgets = s.get(&format!("/api/v1/projects/{p}/gateway/budgets"), &alice_t).await.expect(200);
    assert_eq!((budgets[0]["unit"].as_str(), budgets[0]["tokens"].as_i64()), (Some("usd"), Some(50_000)), "{budgets}");

    // Each call costs 10 tokens at 400 micro-USD (the upstream reports 10): 4,000; calls
    // stop before the 50,000 limit would be passed, and never overspend.
    let body = json!({"model": "gpt-eu", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let mut ok = 0;
    loop {
        let (status, v) = chat(&s, &k, body.clone(), None).await;
        if status == 429 {
            assert_eq!(v["error"]["code"], "insufficient_quota");
            assert!(openai_error(&v).contains("0.05 USD"), "{v}");
            break;
        }
        assert_eq!(status, 200, "{v}");
        ok += 1;
        assert!(ok < 50, "the budget never stopped the calls");
    }
    assert!(ok >= 5, "{ok} calls fit");
    let used = s.get(&format!("/api/v1/projects/{p}/gateway/budgets"), &alice_t).await.expect(200)[0]["used"]
        .as_i64()
        .unwrap();
    assert_eq!(used, ok * 4_000, "settled to what the calls used");
    assert!(used <= 50_000);

    // A provider with no price cannot be counted against a cost budget.
    let (status, v) = chat(&s, &k, json!({"model": "gpt-x", "messages": []}), None).await;
    assert_eq!(status, 403);
    assert!(openai_error(&v).contains("has no price"), "{v}");
}

/// An upstream that answers every chat and remembers the Authorization header it got.
async fn keyed_upstream(auth: Arc<Mutex<Vec<Option<String>>>>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
            let auth = auth.clone();
            async move {
                let h = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                auth.lock().unwrap().push(h);
                axum::Json(json!({"id": "x", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

const SECRET: &str = "sk-acme-0123456789-secret";

/// Calls `s` every 50 ms until it answers `want` or `secs` pass: the last status and
/// how long it took.
async fn chat_until(s: &Server, key: &str, body: &Value, want: u16, secs: u64) -> (u16, std::time::Duration) {
    let started = std::time::Instant::now();
    loop {
        let got = chat(s, key, body.clone(), None).await.0;
        if got == want || started.elapsed() > std::time::Duration::from_secs(secs) {
            return (got, started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An administrator, Alice owning project `claims`, and her `public` gateway key:
/// (admin token, Alice's token, project id, key).
async fn claims_with_key(s: &Server) -> (String, String, String, String) {
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let public = key(s, &alice_t, &p, "public").await;
    (admin, alice_t, p, public)
}

both_engines!(providers_are_managed_through_the_api_with_sealed_credentials);
async fn providers_are_managed_through_the_api_with_sealed_credentials(engine: Engine) {
    let auth = Arc::new(Mutex::new(Vec::new()));
    let base = keyed_upstream(auth.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![provider("openai-eu", &base, "eu-west", true, &["gpt-eu"])];
    let s = start(opts).await;
    let (admin, alice_t, _, public) = claims_with_key(&s).await;
    let hello = json!({"model": "acme-1", "messages": [{"role": "user", "content": "hi"}]});
    let path = "/api/v1/gateway/providers/acme-eu";
    let spec = json!({"base_url": base, "region": "eu-west", "external": true, "models": ["acme-1"],
                      "prices": {"*": {"input": 0.5, "output": 1.5}}, "api_key": SECRET});

    // Not there yet: the model is unknown.
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 404);

    // An administrator adds it; the answer shows that there is a key, never the key.
    let res = s.put(path, &admin, spec.clone()).await;
    assert!(!format!("{res:?}").contains(SECRET));
    let v = res.expect(200);
    assert_eq!(
        (v["source"].as_str(), v["has_api_key"].as_bool(), v["revision"].as_i64()),
        (Some("api"), Some(true), Some(1))
    );
    assert_eq!(v["prices"]["*"]["output"], 1.5);
    let (status, _) = chat(&s, &public, hello.clone(), None).await;
    assert_eq!(status, 200);
    assert_eq!(auth.lock().unwrap().last().unwrap().as_deref(), Some(format!("Bearer {SECRET}").as_str()));

    // The list: built in, from the file, stored; no credential anywhere.
    let list = s.get("/api/v1/gateway/providers", &admin).await.expect(200);
    assert!(!list.to_string().contains(SECRET) && !list.to_string().contains("sk-upstream-secret"));
    let sources: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap(), p["source"].as_str().unwrap())).collect();
    assert_eq!(sources, vec![("mock", "builtin"), ("openai-eu", "config"), ("acme-eu", "api")]);

    // A change without a key keeps the stored one; clearing it sends none.
    let moved = json!({"base_url": base, "region": "eu-central", "external": true, "models": ["acme-1", "acme-2"]});
    let v = s.put(path, &admin, moved.clone()).await.expect(200);
    assert_eq!(
        (v["region"].as_str(), v["has_api_key"].as_bool(), v["revision"].as_i64()),
        (Some("eu-central"), Some(true), Some(2))
    );
    assert_eq!(chat(&s, &public, json!({"model": "acme-2", "messages": []}), None).await.0, 200);
    assert_eq!(auth.lock().unwrap().last().unwrap().as_deref(), Some(format!("Bearer {SECRET}").as_str()));
    let mut cleared = moved.clone();
    cleared["clear_api_key"] = json!(true);
    assert_eq!(s.put(path, &admin, cleared).await.expect(200)["has_api_key"], false);
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 200);
    assert_eq!(auth.lock().unwrap().last().unwrap(), &None, "no key is sent after it was cleared");
    s.put(path, &admin, spec.clone()).await.expect(200);

    // Bad input and the wrong people change nothing.
    let before = s.get("/api/v1/gateway/providers", &admin).await.expect(200);
    let with = |k: &str, x: Value| {
        let mut b = spec.clone();
        b[k] = x;
        b
    };
    s.put(path, &admin, with("base_url", json!("ftp://files/v1"))).await.problem(422, "validation-failed");
    s.put(path, &admin, with("base_url", json!(format!("http://u:p@{}", &base[7..]))))
        .await
        .problem(422, "validation-failed");
    s.put(path, &admin, with("models", json!([]))).await.problem(422, "validation-failed");
    s.put(path, &admin, with("prices", json!({"*": {"input": -1, "output": 0}})))
        .await
        .problem(422, "validation-failed");
    s.put(path, &admin, with("clear_api_key", json!(true))).await.problem(422, "validation-failed");
    s.put(path, &admin, with("api_key", json!(""))).await.problem(422, "validation-failed");
    s.put(path, &admin, with("color", json!("red"))).await.problem(400, "bad-request");
    s.put("/api/v1/gateway/providers/mock", &admin, spec.clone()).await.problem(409, "conflict");
    s.put("/api/v1/gateway/providers/openai-eu", &admin, spec.clone()).await.problem(409, "conflict");
    s.delete("/api/v1/gateway/providers/openai-eu", &admin).await.problem(409, "conflict");
    s.put("/api/v1/gateway/providers/bad%20name", &admin, spec.clone()).await.problem(422, "validation-failed");
    s.put(path, &alice_t, spec.clone()).await.problem(403, "forbidden");
    s.get("/api/v1/gateway/providers", &alice_t).await.problem(403, "forbidden");
    s.delete(path, &alice_t).await.problem(403, "forbidden");
    assert_eq!(s.get("/api/v1/gateway/providers", &admin).await.expect(200), before);

    // Its kill switch works like any provider's.
    s.put("/api/v1/gateway/switches/provider:acme-eu", &admin, json!({"reason": "rotating"})).await.expect(200);
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 403);
    s.delete("/api/v1/gateway/switches/provider:acme-eu", &admin).await.expect(204);

    // Removed: its models are gone.
    s.delete(path, &admin).await.expect(204);
    s.delete(path, &admin).await.problem(404, "not-found");
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 404);

    // Each change is in the ledger with what changed and what became of the key, never the key.
    let events = s.get("/api/v1/audit/events?action=gateway.provider.change&limit=100", &admin).await.expect(200);
    let creds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["event"]["detail"]["credential"].as_str().unwrap_or("deleted"))
        .collect();
    assert_eq!(creds, vec!["set", "kept", "cleared", "set", "deleted"]);
    let all = s.get("/api/v1/audit/events?limit=500", &admin).await.expect(200);
    assert!(!all.to_string().contains(SECRET));

    // On disk the key is sealed: neither the database nor its log holds it in clear.
    for f in s.sqlite_files() {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "{f:?} holds the key in clear");
    }
}

/// A provider added on one replica is used by another within a second or so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
async fn providers_added_on_one_replica_reach_the_others() {
    warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let auth = Arc::new(Mutex::new(Vec::new()));
    let base = keyed_upstream(auth.clone()).await;
    let s = start(Options::new(Engine::Postgres)).await;
    let (admin, _, _, public) = claims_with_key(&s).await;
    let other = s.replica().await;
    let hello = json!({"model": "acme-1", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(chat(&other, &public, hello.clone(), None).await.0, 404);
    let spec =
        json!({"base_url": base, "region": "eu-west", "external": false, "models": ["acme-1"], "api_key": SECRET});
    s.put("/api/v1/gateway/providers/acme-eu", &admin, spec).await.expect(200);
    assert_eq!(
        chat_until(&other, &public, &hello, 200, 4).await.0,
        200,
        "the other replica routes to the new provider"
    );
    // The credential opened there with the shared master key.
    assert_eq!(auth.lock().unwrap().last().unwrap().as_deref(), Some(format!("Bearer {SECRET}").as_str()));
    s.delete("/api/v1/gateway/providers/acme-eu", &admin).await.expect(204);
    assert_eq!(chat_until(&other, &public, &hello, 404, 4).await.0, 404, "and stops using it once removed");
}

/// A replica trusts its copies of tokens, roles and budgets for at most a second: a key
/// revoked or a budget set on another replica takes effect there within that time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
async fn revocations_and_budgets_reach_other_replicas_within_a_second() {
    warden_store_postgres::testing::test_url()
        .expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
    let s = start(Options::new(Engine::Postgres)).await;
    let (admin, alice_t, p, public) = claims_with_key(&s).await;
    let other = s.replica().await;
    let hello = json!({"model": "mock", "messages": [{"role": "user", "content": "hi"}]});
    // The other replica now holds copies of the key, its subject and roles.
    assert_eq!(chat(&other, &public, hello.clone(), None).await.0, 200);

    // A zero budget set here stops calls there.
    s.put(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin, json!({"tokens": 0})).await.expect(204);
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 429, "at once on the replica that set it");
    let (got, took) = chat_until(&other, &public, &hello, 429, 5).await;
    assert_eq!(got, 429, "the other replica stops within a second or so (took {took:?})");
    assert!(took < std::time::Duration::from_millis(2500), "took {took:?}");
    s.delete(&format!("/api/v1/projects/{p}/gateway/budgets/day"), &admin).await.expect(204);
    assert_eq!(chat_until(&other, &public, &hello, 200, 5).await.0, 200);

    // A key revoked here is refused there.
    let id = s.get("/api/v1/tokens", &alice_t).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["data_class"] == "public")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.delete(&format!("/api/v1/tokens/{id}"), &alice_t).await.expect(204);
    assert_eq!(chat(&s, &public, hello.clone(), None).await.0, 401, "at once on the replica that revoked it");
    let (got, took) = chat_until(&other, &public, &hello, 401, 5).await;
    assert_eq!(got, 401, "the other replica refuses it within a second or so (took {took:?})");
    assert!(took < std::time::Duration::from_millis(2500), "took {took:?}");
}
