//! Regressions for the findings of the adversarial test (issue 14): each scenario is the
//! attack as an attacker would run it, and the whole class around it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_engines;
use crate::harness::*;

async fn mint(s: &Server, with: &str, body: Value) -> Res {
    s.post("/api/v1/tokens", with, body).await
}

fn secret(v: &Value) -> String {
    v["secret"].as_str().unwrap().to_string()
}

both_engines!(credentials_never_widen_their_data_class);
/// A gateway key cannot mint a wider key (another class, no class) nor anything else;
/// a credential bound to a class mints only its class or a stricter one.
async fn credentials_never_widen_their_data_class(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "clinic", Some(&alice)).await;
    let ephi = secret(&mint(&s, &alice_t, json!({"name": "gw", "project": p, "data_class": "ephi"})).await.expect(201));

    // The attack: the ephi key mints a `public` key, then a class-less one; with every role.
    for class in [json!("public"), json!("personal_data"), Value::Null, json!("ephi")] {
        for role in [json!("service"), json!("project-owner"), Value::Null] {
            let mut body = json!({"name": "wider", "project": p, "role": role, "data_class": class});
            if class.is_null() {
                body.as_object_mut().unwrap().remove("data_class");
            }
            mint(&s, &ephi, body).await.problem(403, "forbidden");
        }
    }
    mint(&s, &ephi, json!({"name": "org-wide"})).await.problem(403, "forbidden");
    // Nor through a service identity's token.
    let svc = s.post("/api/v1/services", &admin, json!({"name": "pipeline"})).await.expect(201);
    let svc_id = svc["id"].as_str().unwrap();
    s.post(&format!("/api/v1/projects/{p}/members"), &alice_t, json!({"member": svc_id, "role": "service"}))
        .await
        .expect(201);
    s.post(
        &format!("/api/v1/services/{svc_id}/tokens"),
        &ephi,
        json!({"name": "svc", "project": p, "role": "service", "data_class": "public"}),
    )
    .await
    .problem(403, "forbidden");

    // A gateway key calls /v1 and nothing else: no uploads, no API reads, no admin.
    let digest = format!("sha256:{}", "0".repeat(64));
    let upload = s
        .http
        .put(format!("{}/api/v1/projects/{p}/blobs/{digest}", s.url))
        .bearer_auth(&ephi)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(Res::read(upload).await.status.as_u16(), 403);
    for path in [
        format!("/api/v1/projects/{p}"),
        "/api/v1/projects".to_string(),
        "/api/v1/datasets".to_string(),
        "/api/v1/whoami".to_string(),
        "/api/v1/tokens".to_string(),
        "/api/v1/policy".to_string(),
        "/api/v1/audit/checkpoint".to_string(),
    ] {
        s.get(&path, &ephi).await.problem(403, "forbidden");
    }
    // ... while the gateway still answers it.
    let chat = json!({"model": "mock", "messages": [{"role": "user", "content": "hello"}]});
    let r = s.http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&ephi).json(&chat).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // The owner's plain credential still mints any class (it is not bound to one).
    mint(&s, &alice_t, json!({"name": "pub", "project": p, "data_class": "public"})).await.expect(201);
}

both_engines!(minted_tokens_live_and_die_with_their_parent);
/// A minted token never outlives its parent, and revoking a credential revokes what was
/// minted from it, down a chain of three, on every replica's next use.
async fn minted_tokens_live_and_die_with_their_parent(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    // alice's session is the root; it lives for the configured session lifetime.
    let me = |t: String| {
        let s = &s;
        async move { s.get("/api/v1/whoami", &t).await.status.as_u16() }
    };
    let long = mint(&s, &alice_t, json!({"name": "long", "project": p, "expires_in_seconds": 365 * 24 * 3600})).await;
    let body = long.problem(422, "validation-failed");
    assert!(body["detail"].as_str().unwrap().contains("outlive"), "{body}");
    // Without a lifetime the child ends with its parent.
    let owner = |name: &str| json!({"name": name, "project": p, "role": "project-owner"});
    let child = mint(&s, &alice_t, owner("child")).await.expect(201);
    let grandchild = mint(&s, &secret(&child), owner("grandchild")).await.expect(201);
    let great = mint(&s, &secret(&grandchild), owner("great")).await.expect(201);
    let session = s.get("/api/v1/tokens", &alice_t).await.expect(200);
    let session_expiry =
        session["items"].as_array().unwrap().iter().find(|t| t["name"] == "session").unwrap()["expires_at"].clone();
    for t in [&child, &grandchild, &great] {
        assert_eq!(t["expires_at"], session_expiry, "{t}");
        assert_eq!(me(secret(t)).await, 200);
    }
    // Revoking the middle of the chain ends it and everything below.
    let id = grandchild["id"].as_str().unwrap();
    s.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&alice_t), None).await.expect(204);
    assert_eq!(me(secret(&child)).await, 200);
    assert_eq!(me(secret(&grandchild)).await, 401);
    assert_eq!(me(secret(&great)).await, 401);
    // Expiry of the root ends every descendant.
    s.clock.advance(13 * 3600);
    assert_eq!(me(alice_t.clone()).await, 401);
    assert_eq!(me(secret(&child)).await, 401);
}

/// The ledger's size from a fresh checkpoint (a signed note: origin, size, root).
async fn ledger_size(s: &Server, admin: &str) -> u64 {
    let res = s.http.get(format!("{}/api/v1/audit/checkpoint", s.url)).bearer_auth(admin).send().await.unwrap();
    let note = res.text().await.unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

both_engines!(refused_credentials_cannot_grow_the_ledger_at_will);
/// A flood of bogus credentials (one repeated, and a thousand different ones) grows the
/// ledger by at most the configured number of full records plus one summary.
async fn refused_credentials_cannot_grow_the_ledger_at_will(engine: Engine) {
    let mut opts = Options::new(engine);
    opts.refusals = warden_app::RefusalLimits { interval_seconds: 60, full_per_key: 3, full_per_interval: 20 };
    let s = start(opts).await;
    let admin = s.admin().await;
    let before = ledger_size(&s, &admin).await;
    for i in 0..600 {
        let bogus = if i % 2 == 0 { "wdn_bogus_token".to_string() } else { format!("wdn_bogus_{i}") };
        s.get("/api/v1/whoami", &bogus).await.problem(401, "unauthenticated");
    }
    for i in 0..50 {
        let body = json!({"username": format!("user{i}"), "password": "guess"});
        s.call(Method::POST, "/api/v1/auth/login", None, Some(body)).await.problem(401, "unauthenticated");
    }
    let after = ledger_size(&s, &admin).await;
    // + 1: the first checkpoint read is itself recorded.
    assert!(after - before <= 20 + 1, "650 refusals grew the ledger by {} entries", after - before);
    assert!(after - before >= 20, "the first refusals are still evidence ({} entries)", after - before);
    // When the interval ends, one summary counts the rest and names the loudest source.
    s.clock.advance(61);
    s.get("/api/v1/whoami", "wdn_bogus_token").await.problem(401, "unauthenticated");
    let ev = s.get("/api/v1/audit/events?action=refusals.summary&limit=10", &admin).await.expect(200);
    let items = ev["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{ev}");
    let detail = &items[0]["event"]["detail"];
    assert_eq!(detail["suppressed"], 650 - 20, "{detail}");
    assert_eq!(detail["top"][0]["credential"], "sha256:".to_string() + &sha_prefix("wdn_bogus_token"), "{detail}");
    assert_eq!(detail["top"][0]["count"], 300 - 3);
    assert!(!ev.to_string().contains("wdn_bogus"), "credentials are named by digest, never in clear");
}

fn sha_prefix(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))[..12].to_string()
}

/// An upstream that remembers what it received and answers with a tool call whose
/// arguments repeat the first message (whole, or streamed in 3-byte pieces).
async fn tool_upstream(seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>>) -> String {
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body.clone());
                let said = body["messages"][0]["content"].as_str().unwrap_or("").to_string();
                if body["stream"] == true {
                    let pieces: Vec<String> =
                        said.as_bytes().chunks(3).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
                    let mut lines = vec![format!(
                        "data: {}\n\n",
                        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1",
                            "type": "function", "function": {"name": "lookup", "arguments": ""}}]}}]})
                    )];
                    for p in pieces {
                        lines.push(format!(
                            "data: {}\n\n",
                            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0,
                                "function": {"arguments": p}}]}}]})
                        ));
                    }
                    lines.push("data: [DONE]\n\n".into());
                    return axum::response::Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(axum::body::Body::from(lines.concat()))
                        .unwrap();
                }
                axum::Json(json!({"id": "x", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
                        "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "lookup", "arguments": said}}]}}],
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

const EMAIL: &str = "jane.doe@example.org";
const SSN: &str = "078-05-1120";

/// Every string a provider receives goes through the class's redaction, whatever field
/// it is in; unknown fields and wrong types are refused; tool calls in the answer are
/// restored, whole and streamed.
both_engines!(every_string_sent_to_a_provider_is_redacted);
async fn every_string_sent_to_a_provider_is_redacted(engine: Engine) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let base = tool_upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![warden_llm::ProviderConfig {
        name: "eu".into(),
        kind: warden_llm::ProviderKind::OpenAi,
        base_url: Some(base),
        api_key: None,
        region: "eu-west".into(),
        external: true,
        models: vec!["gpt-eu".into()],
        prices: Default::default(),
    }];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let key = secret(
        &mint(&s, &alice_t, json!({"name": "gw", "project": p, "data_class": "personal_data"})).await.expect(201),
    );
    let pii = format!("I am {EMAIL}, SSN {SSN}");
    let call = |body: Value| {
        let s = &s;
        let key = key.clone();
        async move {
            let r = s
                .http
                .post(format!("{}/v1/chat/completions", s.url))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let base = || json!({"model": "gpt-eu", "messages": [{"role": "user", "content": "hello"}]});
    let shapes: Vec<(&str, Value)> = vec![
        ("message name", json!({"model": "gpt-eu", "messages": [{"role": "user", "name": pii, "content": "hi"}]})),
        (
            "content part",
            json!({"model": "gpt-eu", "messages": [{"role": "user", "content": [{"type": "text", "text": pii}]}]}),
        ),
        (
            "tool-call arguments",
            json!({"model": "gpt-eu", "messages": [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
             "function": {"name": "f", "arguments": format!("{{\"who\": \"{pii}\"}}")}}]},
            {"role": "tool", "tool_call_id": "c1", "content": pii}]}),
        ),
        ("tool description", {
            let mut b = base();
            b["tools"] = json!([{"type": "function", "function": {"name": "f", "description": pii,
            "parameters": {"type": "object", "properties": {"x": {"type": "string", "description": pii, "enum": [EMAIL]}}}}}]);
            b
        }),
        ("user", {
            let mut b = base();
            b["user"] = json!(EMAIL);
            b
        }),
        ("metadata", {
            let mut b = base();
            b["metadata"] = json!({"customer": pii});
            b
        }),
        ("response_format", {
            let mut b = base();
            b["response_format"] = json!({"type": "json_schema",
            "json_schema": {"name": "s", "description": pii, "schema": {"type": "object", "description": pii}}});
            b
        }),
        ("prediction", {
            let mut b = base();
            b["prediction"] = json!({"type": "content", "content": pii});
            b
        }),
        ("stop", {
            let mut b = base();
            b["stop"] = json!([EMAIL]);
            b
        }),
        ("functions", {
            let mut b = base();
            b["functions"] = json!([{"name": "f", "description": pii}]);
            b
        }),
        (
            "refusal",
            json!({"model": "gpt-eu", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "refusal": pii}]}),
        ),
    ];
    for (what, body) in shapes {
        let (status, text) = call(body).await;
        assert_eq!(status, 200, "{what}: {text}");
        let sent = seen.lock().unwrap().last().unwrap().to_string();
        assert!(!sent.contains(EMAIL) && !sent.contains(SSN), "{what} reached the provider unredacted: {sent}");
    }
    // Unknown fields and wrong types never reach a provider.
    let before = seen.lock().unwrap().len();
    for (body, param) in [
        (
            {
                let mut b = base();
                b["exfiltrate"] = json!(pii);
                b
            },
            "exfiltrate",
        ),
        (json!({"model": "gpt-eu", "messages": [{"role": "user", "content": 5}]}), "messages[0].content"),
        (
            {
                let mut b = base();
                b["stream"] = json!("yes");
                b
            },
            "stream",
        ),
        (
            {
                let mut b = base();
                b["max_tokens"] = json!("lots");
                b
            },
            "max_tokens",
        ),
        (
            json!({"model": "gpt-eu", "messages": [{"role": "user", "content": "x", "x-extra": pii}]}),
            "messages[0].x-extra",
        ),
    ] {
        let (status, text) = call(body).await;
        assert_eq!(status, 400, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["param"], param, "{v}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    // Images cannot be checked for personal data: a redacting class refuses them.
    let img = json!({"model": "gpt-eu", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]});
    assert_eq!(call(img).await.0, 403);
    assert_eq!(seen.lock().unwrap().len(), before, "refused requests reach no provider");

    // The answer's tool call carries the placeholders back as the caller's values.
    let ask = json!({"model": "gpt-eu", "messages": [{"role": "user", "content": pii}]});
    let (status, text) = call(ask.clone()).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], pii, "{v}");
    let mut streamed = ask;
    streamed["stream"] = json!(true);
    let (status, text) = call(streamed).await;
    assert_eq!(status, 200, "{text}");
    let mut args = String::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")).filter(|l| *l != "[DONE]") {
        let e: Value = serde_json::from_str(line).unwrap();
        if let Some(a) = e.pointer("/choices/0/delta/tool_calls/0/function/arguments").and_then(Value::as_str) {
            args.push_str(a);
        }
    }
    assert_eq!(args, pii, "streamed tool-call arguments are restored: {text}");
}
