use std::time::Duration;

use axum::routing::post;
use axum::Router;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::*;

fn mock() -> Provider {
    Provider::new(ProviderConfig::mock(), Duration::from_secs(5)).unwrap()
}

async fn collect(reply: Reply) -> Vec<Event> {
    match reply {
        Reply::Stream(s) => s.map(|e| e.unwrap()).collect().await,
        Reply::Json(v) => panic!("expected a stream, got {v}"),
    }
}

fn content(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data(v) => v.pointer("/choices/0/delta/content").and_then(Value::as_str).map(str::to_string),
            Event::Done => None,
        })
        .collect()
}

#[tokio::test]
async fn the_mock_answers_offline() {
    let m = mock();
    let body = json!({"model": "mock", "messages": [{"role": "user", "content": "hello [EMAIL_1] there"}]});
    let Reply::Json(v) = m.chat(&body).await.unwrap() else { panic!() };
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply: hello [EMAIL_1] there");
    assert_eq!(v["usage"]["prompt_tokens"], 3);

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let events = collect(m.chat(&streamed).await.unwrap()).await;
    assert_eq!(content(&events), "Mock reply: hello [EMAIL_1] there");
    assert_eq!(events.last(), Some(&Event::Done));
    let Event::Data(usage) = &events[events.len() - 2] else { panic!() };
    assert_eq!(usage["usage"]["completion_tokens"], 5);

    let e = m.embeddings(&json!({"model": "mock", "input": ["a", "b"]})).await.unwrap();
    assert_eq!(e["data"].as_array().unwrap().len(), 2);
    assert_eq!(e["data"][0]["embedding"].as_array().unwrap().len(), 16);
    assert_ne!(e["data"][0]["embedding"], e["data"][1]["embedding"]);
    let bad = m.embeddings(&json!({"model": "mock", "input": 7})).await.unwrap_err();
    assert!(matches!(bad, LlmError::Status { status: 400, .. }));
}

/// An OpenAI-compatible upstream on 127.0.0.1: JSON, SSE sent in awkward pieces, errors.
async fn upstream() -> String {
    async fn chat(axum::Json(body): axum::Json<Value>) -> axum::response::Response {
        use axum::response::IntoResponse;
        match body["model"].as_str() {
            Some("broken") => {
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": {"message": "overloaded"}})))
                    .into_response()
            }
            Some("slow") => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({})).into_response()
            }
            _ if body["stream"] == json!(true) => {
                let events = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n: comment\n\n\
                              data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n\r\ndata: [DONE]\n\n";
                // Pieces of 7 bytes: events split anywhere.
                let pieces: Vec<Result<bytes::Bytes, std::io::Error>> =
                    events.as_bytes().chunks(7).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(axum::body::Body::from_stream(futures_util::stream::iter(pieces)))
                    .unwrap()
            }
            _ => axum::Json(
                json!({"choices": [{"message": {"content": format!("echo {}", body["messages"][0]["content"])}}]}),
            )
            .into_response(),
        }
    }
    let app = Router::new().route("/v1/chat/completions", post(chat));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn openai(base: &str, timeout: Duration) -> Provider {
    Provider::new(
        ProviderConfig {
            name: "up".into(),
            kind: ProviderKind::OpenAi,
            base_url: Some(base.into()),
            api_key: Some("sk-test".into()),
            region: "eu-west".into(),
            external: true,
            models: vec!["m".into()],
            prices: Default::default(),
        },
        timeout,
    )
    .unwrap()
}

#[tokio::test]
async fn openai_compatible_upstreams() {
    let base = upstream().await;
    let p = openai(&base, Duration::from_secs(1));
    assert!(p.offers("m") && !p.offers("other"));
    let Reply::Json(v) = p.chat(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(v["choices"][0]["message"]["content"], "echo \"hi\"");

    let events = collect(p.chat(&json!({"model": "m", "stream": true, "messages": []})).await.unwrap()).await;
    assert_eq!(content(&events), "Hello");
    assert_eq!(events.last(), Some(&Event::Done));

    let err = p.chat(&json!({"model": "broken"})).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::Status { status: 503, body } if body["error"]["message"] == "overloaded"),
        "{err}"
    );
    assert!(err.retryable());
    let err = p.chat(&json!({"model": "slow"})).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout), "{err}");
    let gone = openai("http://127.0.0.1:9/v1", Duration::from_secs(1));
    assert!(matches!(gone.chat(&json!({"model": "m"})).await.unwrap_err(), LlmError::Unreachable(_)));
}

#[tokio::test]
async fn a_stream_cut_mid_event_ends_with_an_error() {
    let pieces: Vec<Result<bytes::Bytes, String>> =
        vec![Ok(bytes::Bytes::from_static(b"data: {\"a\":1}\n\ndata: {\"b\"")), Err("connection reset".into())];
    let events: Vec<_> = sse_events(futures_util::stream::iter(pieces).boxed()).collect().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].as_ref().unwrap(), &Event::Data(json!({"a": 1})));
    assert!(matches!(events[1], Err(LlmError::Unreachable(_))));
    let truncated: Vec<Result<bytes::Bytes, String>> = vec![Ok(bytes::Bytes::from_static(b"data: {\"a\""))];
    let events: Vec<_> = sse_events(futures_util::stream::iter(truncated).boxed()).collect().await;
    assert!(matches!(events[..], [Err(LlmError::BadResponse(_))]));
}

#[test]
fn administrators_providers_are_checked() {
    let good = ProviderConfig {
        name: "openai-eu".into(),
        kind: ProviderKind::OpenAi,
        base_url: Some("https://eu.example/v1".into()),
        api_key: Some("sk-1".into()),
        region: "eu-west".into(),
        external: true,
        models: vec!["gpt-a".into(), "gpt-b".into()],
        prices: [("gpt-a".to_string(), Price { input: 0.15, output: 0.6 })].into(),
    };
    assert_eq!(good.check(), Ok(()));
    let bad = |f: &dyn Fn(&mut ProviderConfig), says: &str| {
        let mut p = good.clone();
        f(&mut p);
        let e = p.check().unwrap_err();
        assert!(e.contains(says), "{e} should say {says}");
    };
    bad(&|p| p.name = "mock".into(), "built in");
    bad(&|p| p.name = "a/b".into(), "provider name");
    bad(&|p| p.name = String::new(), "provider name");
    bad(&|p| p.base_url = Some("ftp://x/v1".into()), "http(s)");
    bad(&|p| p.base_url = Some("not a url".into()), "base_url");
    bad(&|p| p.base_url = None, "base_url");
    bad(&|p| p.base_url = Some("https://user:pw@eu.example/v1".into()), "credentials");
    bad(&|p| p.region = "eu west".into(), "region");
    bad(&|p| p.models.clear(), "offers no models");
    bad(&|p| p.models.push("gpt-a".into()), "listed twice");
    bad(&|p| p.models.push(String::new()), "model");
    bad(&|p| p.prices.insert("other".into(), Price::default()).map(drop).unwrap_or(()), "does not offer");
    bad(&|p| p.prices.insert("*".into(), Price { input: -1.0, output: 0.0 }).map(drop).unwrap_or(()), "zero or more");
    bad(
        &|p| p.prices.insert("*".into(), Price { input: f64::NAN, output: 0.0 }).map(drop).unwrap_or(()),
        "zero or more",
    );
    bad(&|p| p.api_key = Some("sk\n1".into()), "api_key");
}
