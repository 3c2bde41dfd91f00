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
        "/api/v1/openapi.json".to_string(),
        // Open to every signed-in caller, but not to a gateway key: a leaked key does
        // not learn who exists, nor find a dataset by its name.
        "/api/v1/directory?name=admin".to_string(),
        "/api/v1/datasets/s3:%2F%2Flake%2Fclaims".to_string(),
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
    s.clock.advance(91 * 86_400);
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
    serve_upstream(app).await
}

/// Serves an upstream on 127.0.0.1; its OpenAI base URL.
async fn serve_upstream(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

const EMAIL: &str = "jane.doe@example.org";
const SSN: &str = "078-05-1120";

both_engines!(every_string_sent_to_a_provider_is_redacted);
/// Every string a provider receives goes through the class's redaction, whatever field
/// it is in; unknown fields and wrong types are refused; tool calls in the answer are
/// restored, whole and streamed.
async fn every_string_sent_to_a_provider_is_redacted(engine: Engine) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let base = tool_upstream(seen.clone()).await;
    let mut opts = Options::new(engine);
    opts.providers = vec![crate::gateway::provider("eu", &base, "eu-west", true, &["gpt-eu"])];
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
    // Embeddings: every input and `user` go through redaction too; unknown fields refused.
    let r = s
        .http
        .post(format!("{}/v1/embeddings", s.url))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-eu", "input": [pii.clone()], "user": EMAIL, "smuggle": pii}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
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

both_engines!(pickles_without_a_header_are_refused_and_unknown_formats_follow_the_zone);
/// The pickle that bypassed the sniffer (no PROTO header, STACK_GLOBAL then REDUCE) and
/// its relatives are refused at intake; a file whose format intake cannot assess is
/// admitted as `unknown` and placed only in a zone whose policy allows unknown formats.
async fn pickles_without_a_header_are_refused_and_unknown_formats_follow_the_zone(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "vision", Some(&alice)).await;
    let hostile: [&[u8]; 4] = [
        b"\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.",
        b"\x95\x1e\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.",
        b"U\x05posixU\x06system\x93U\x04true\x85R.",
        b"cposix\nsystem\n(S'true'\ntR.",
    ];
    for (i, bytes) in hostile.iter().enumerate() {
        let f = crate::registry::upload(&s, &alice_t, &p, "model.pkl", bytes.to_vec()).await;
        let r = s
            .post(
                &format!("/api/v1/projects/{p}/artifacts"),
                &alice_t,
                json!({"kind": "model", "name": format!("evil{i}"), "files": [f]}),
            )
            .await
            .problem(422, "validation-failed");
        assert!(r["detail"].as_str().unwrap().contains("posix.system"), "{i}: {r}");
    }
    // Opaque bytes: admitted, with the verdict and its reason in the evidence.
    let blob: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let f = crate::registry::upload(&s, &alice_t, &p, "weights.bin", blob).await;
    let a = s
        .post(
            &format!("/api/v1/projects/{p}/artifacts"),
            &alice_t,
            json!({"kind": "model", "name": "opaque", "files": [f],
              "permitted_zones": ["standard-ai"]}),
        )
        .await
        .expect(201);
    assert_eq!(a["evidence"]["scans"]["weights.bin"]["verdict"], "unknown", "{a}");
    assert!(!a["evidence"]["scans"]["weights.bin"]["notes"][0].as_str().unwrap().is_empty());
    let art = a["id"].as_str().unwrap();
    let v = s
        .post(
            &format!("/api/v1/projects/{p}/models/opaque/versions"),
            &alice_t,
            json!({"artifact": art, "data_classes": ["public"]}),
        )
        .await
        .expect(201)["version"]
        .as_u64()
        .unwrap();
    let policy = |allow: bool| {
        format!(
            "zones:\n  standard-ai: {{region: us-east, allow_unknown_formats: {allow}}}\ndata_classes:\n  public: {{allowed_zones: [standard-ai]}}\nreleases:\n  default: {{approvals: 1}}\n"
        )
    };
    s.put("/api/v1/policy", &admin, json!({"document": policy(false)})).await.expect(200);
    let release = json!({"model": "opaque", "version": v, "zone": "standard-ai", "reason": "r"});
    let e = s
        .post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release.clone())
        .await
        .problem(422, "validation-failed");
    assert_eq!(e["rule"], "zones.standard-ai.unknown_formats", "{e}");
    s.put("/api/v1/policy", &admin, json!({"document": policy(true)})).await.expect(200);
    s.post(&format!("/api/v1/projects/{p}/releases"), &alice_t, release).await.expect(201);
}

both_engines!(deep_documents_and_floods_are_refused_without_harm);
/// Parsers of user input refuse absurd nesting with 422 naming the limit, and the server
/// stays up; the mock provider refuses an embeddings flood before computing anything.
async fn deep_documents_and_floods_are_refused_without_harm(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let deep = format!("zones:\n{}x\n", "- ".repeat(5000));
    let e = s
        .put("/api/v1/policy", &admin, json!({"document": deep, "dry_run": true}))
        .await
        .problem(422, "validation-failed");
    assert!(e.to_string().contains("64 levels"), "{e}");
    let flow = format!("zones: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    // (On a fresh connection, which the server closes after answering 413 early.)
    let req = reqwest::Client::new().put(format!("{}/api/v1/policy", s.url)).bearer_auth(&admin);
    let res = req.json(&json!({"document": flow, "dry_run": true})).send().await.unwrap();
    Res::read(res).await.problem(413, "payload-too-large");
    // JSON bodies nested past serde's limit are a 400, not a crash.
    let nested = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    // (A fresh connection: the server closed the last one after answering 413 early.)
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", s.url))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    s.get("/api/v1/whoami", &admin).await.expect(200);

    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "emb", Some(&alice)).await;
    let key =
        secret(&mint(&s, &alice_t, json!({"name": "gw", "project": p, "data_class": "public"})).await.expect(201));
    // (More inputs than OpenAI allows, within the server's body limit.)
    let flood = json!({"model": "mock", "input": vec!["a"; 3000]});
    let r = s.http.post(format!("{}/v1/embeddings", s.url)).bearer_auth(&key).json(&flood).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["param"], "input", "{v}");
    let ok = json!({"model": "mock", "input": vec!["a"; 2048]});
    let r = s.http.post(format!("{}/v1/embeddings", s.url)).bearer_auth(&key).json(&ok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.unwrap().len() < 512 * 1024, "the answer is proportionate");
}

both_engines!(out_of_range_and_oversized_requests_are_problems);
/// Numbers beyond what the store holds, over-long URIs and over-size bodies are problems,
/// never a 500 or an empty body.
async fn out_of_range_and_oversized_requests_are_problems(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    s.get("/api/v1/audit/entries?from=9223372036854775808", &admin).await.problem(400, "invalid-parameter");
    let r = s.get("/api/v1/audit/entries/18446744073709551615", &admin).await;
    assert!(r.status == 400 || r.status == 404, "{r:?}");
    assert_eq!(r.content_type, "application/problem+json");
    s.get("/api/v1/audit/events?cursor=18446744073709551615", &admin).await.problem(400, "invalid-parameter");
    let long = format!("/api/v1/projects/{}", "a".repeat(20_000));
    s.get(&long, &admin).await.problem(414, "uri-too-long");
    // A body over the configured limit is 413 as a problem on every route that takes
    // one (OpenAI's shape under /v1).
    // (Each on a fresh connection: the server closes one after answering 413 early.)
    let big = json!({"name": "x".repeat(100 * 1024)});
    let fresh = |method: Method, path: &str, body: Value| {
        let req = reqwest::Client::new().request(method, format!("{}{path}", s.url)).bearer_auth(&admin).json(&body);
        async move { Res::read(req.send().await.unwrap()).await }
    };
    for (method, path) in [
        (Method::POST, "/api/v1/projects"),
        (Method::POST, "/api/v1/lineage"),
        (Method::PUT, "/api/v1/policy"),
        (Method::POST, "/api/v1/tokens"),
    ] {
        fresh(method, path, big.clone()).await.problem(413, "payload-too-large");
    }
    let r = fresh(Method::POST, "/v1/chat/completions", big).await;
    assert_eq!(r.status.as_u16(), 413);
    assert!(r.body["error"]["message"].is_string(), "{r:?}");
}

/// TOTP secrets are sealed at rest (one left in clear by an older version is sealed on
/// first use and still works), and the database files are readable by their owner only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_secrets_are_sealed_and_the_database_is_private() {
    use warden_store::IdentityStore as _;
    let s = start(Options::new(Engine::Sqlite)).await;
    let admin = s.admin().await;
    let (_, alice_t) = s.user(&admin, "alice").await;
    let secret = s.enrol_totp(&alice_t).await;
    let db = s.sqlite_files().into_iter().find(|p| p.extension().is_some_and(|e| e == "db")).unwrap();
    let store = warden_store_sqlite::open(&db).await.unwrap();
    let alice = store.get_subject_by_name("alice").await.unwrap().unwrap();
    let stored = alice.totp_secret.clone().unwrap();
    assert!(stored.starts_with("sealed:") && !stored.contains(&secret), "{stored}");
    // As an older version left it: in clear.
    assert!(store.replace_totp_secret(&alice.id, &stored, &secret).await.unwrap());
    s.clock.advance(30);
    let login = json!({"username": "alice", "password": "alice-correct-horse", "totp": s.code(&secret)});
    let ok = s.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await.expect(200);
    assert_eq!(ok["mfa"], true);
    let resealed = store.get_subject_by_name("alice").await.unwrap().unwrap().totp_secret.unwrap();
    assert!(resealed.starts_with("sealed:") && !resealed.contains(&secret), "{resealed}");
    #[cfg(unix)]
    for f in s.sqlite_files() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is mode {:o}", f.display(), mode & 0o777);
    }
}

both_engines!(datasets_are_visible_by_class_and_publication);
/// Datasets are visible to their project, auditors and administrators; another project's
/// people see one only when its owners published it and every class it carries allows
/// that. Proposals (from sample records) stay inside the project.
async fn datasets_are_visible_by_class_and_publication(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (_, bob_t) = s.user(&admin, "bob").await;
    let (auditor, auditor_t) = s.user(&admin, "audrey").await;
    s.post("/api/v1/role-grants", &admin, json!({"member": auditor, "role": "auditor"})).await.expect(201);
    let p = s.project(&admin, "claims", Some(&alice)).await;
    let _ = s.project(&admin, "other", None).await;
    let ds = |name: &str, classes: Value, published: bool| {
        let (s, t, p) = (&s, alice_t.clone(), p.clone());
        let body = json!({"namespace": "s3://lake", "name": name, "classes": classes, "published": published});
        async move {
            s.post(&format!("/api/v1/projects/{p}/datasets"), &t, body).await.expect(201)["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let secret = ds("claims", json!(["personal_data"]), false).await;
    let leaky = ds("claims-published", json!(["personal_data"]), true).await;
    let open = ds("weather", json!(["public"]), true).await;
    let unpublished = ds("weather-draft", json!(["public"]), false).await;
    let names = |v: Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
    };
    // Outsiders: only the published dataset whose classes all allow it.
    assert_eq!(names(s.get("/api/v1/datasets", &bob_t).await.expect(200)), ["weather"]);
    s.get(&format!("/api/v1/datasets/{open}"), &bob_t).await.expect(200);
    for id in [&secret, &leaky, &unpublished] {
        s.get(&format!("/api/v1/datasets/{id}"), &bob_t).await.problem(403, "forbidden");
    }
    s.get("/api/v1/datasets/dst_01ARZ3NDEKTSV4RRFFQ69G5FAV", &bob_t).await.problem(403, "forbidden");
    s.get(&format!("/api/v1/projects/{p}/datasets/{open}/proposals"), &bob_t).await.problem(403, "forbidden");
    // The project, auditors and administrators see all four.
    for t in [&alice_t, &auditor_t, &admin] {
        assert_eq!(names(s.get("/api/v1/datasets", t).await.expect(200)).len(), 4);
        s.get(&format!("/api/v1/datasets/{secret}"), t).await.expect(200);
    }
    // Pages stay full for outsiders, whatever is hidden between visible ones.
    for i in 0..5 {
        ds(&format!("pub-{i}"), json!(["public"]), true).await;
    }
    let first = s.get("/api/v1/datasets?limit=3", &bob_t).await.expect(200);
    assert_eq!(names(first.clone()).len(), 3, "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = s.get(&format!("/api/v1/datasets?limit=3&cursor={cursor}"), &bob_t).await.expect(200);
    assert_eq!(names(first).len() + names(rest).len(), 6);
}

both_engines!(a_huge_line_from_a_streaming_provider_ends_the_stream);
/// A streaming upstream that sends one line far longer than the limit (1 MiB): the
/// client gets an error event and the end of the stream promptly, not a hang.
async fn a_huge_line_from_a_streaming_provider_ends_the_stream(engine: Engine) {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            let body = format!("data: {{\"x\": \"{}", "a".repeat(4 << 20));
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(axum::body::Body::from(body))
                .unwrap()
        }),
    );
    let mut opts = Options::new(engine);
    let base = serve_upstream(app).await;
    opts.providers = vec![crate::gateway::provider("huge", &base, "us-east", false, &["huge"])];
    let s = start(opts).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let p = s.project(&admin, "p", Some(&alice)).await;
    let key =
        secret(&mint(&s, &alice_t, json!({"name": "gw", "project": p, "data_class": "public"})).await.expect(201));
    let body = json!({"model": "huge", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let r = s.http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&key).json(&body).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.len() < 64 * 1024, "nothing of the huge line is passed on ({} bytes)", text.len());
    assert!(text.contains("\"error\"") && text.trim_end().ends_with("data: [DONE]"), "{text}");
}
