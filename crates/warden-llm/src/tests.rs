use std::time::Duration;

use axum::routing::post;
use axum::Router;
use futures_util::stream::BoxStream;
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
    assert_eq!(e["data"][0]["embedding"].as_array().unwrap().len(), mock::DIMENSIONS);
    assert_ne!(e["data"][0]["embedding"], e["data"][1]["embedding"]);
    let bad = m.embeddings(&json!({"model": "mock", "input": 7})).await.unwrap_err();
    assert!(matches!(bad, LlmError::InvalidRequest(RequestError::Invalid { .. })), "{bad}");
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

fn big_words(words: usize) -> String {
    "w ".repeat(words)
}

#[tokio::test]
async fn embeddings_requests_are_checked_before_any_provider() {
    // An upstream nobody listens on: a checked request must fail before reaching it.
    let gone = openai("http://127.0.0.1:9/v1", Duration::from_secs(1));
    let m = mock();
    let refused = |input: Value, param: &str, says: &str| {
        let body = json!({"model": "m", "input": input});
        let e = check_embeddings_request(&body).unwrap_err();
        assert_eq!(e.param(), param, "{e}");
        assert!(e.to_string().contains(says), "{e} should say {says}");
        assert!(e.to_string().contains(&format!("`{param}`")), "{e} should name {param}");
        let shape = e.to_openai();
        assert_eq!(shape["error"]["type"], "invalid_request_error");
        assert_eq!(shape["error"]["param"], param);
        assert_eq!(shape["error"]["message"], e.to_string());
        (body, e)
    };

    // Too many inputs.
    let (body, e) = refused(json!(vec!["a"; MAX_EMBEDDING_INPUTS + 1]), "input", "2048");
    assert!(matches!(e, RequestError::TooManyItems { count: 2049, max: 2048, .. }));
    for p in [&gone, &m] {
        let err = p.embeddings(&body).await.unwrap_err();
        assert!(matches!(&err, LlmError::InvalidRequest(RequestError::TooManyItems { .. })), "{err}");
        assert!(!err.retryable());
    }
    // The adversarial request: 100,000 one-letter inputs.
    refused(json!(vec!["a"; 100_000]), "input", "100000 items");
    // Too many tokens in all.
    let inputs = vec![big_words(8000); 38];
    let (body, e) = refused(json!(inputs), "input", "300000");
    assert!(matches!(e, RequestError::RequestTooLong { max: 300_000, .. }));
    assert!(matches!(gone.embeddings(&body).await.unwrap_err(), LlmError::InvalidRequest(_)));
    let tokens = vec![vec![1u32; 8000]; 38];
    refused(json!(tokens), "input", "300000");
    // One input too long: words, a run without spaces, tokens.
    refused(json!(big_words(8193)), "input", "8192");
    refused(json!(["ok", "x".repeat(4 * 8192 + 1)]), "input[1]", "8192");
    refused(json!(vec![7; 8193]), "input", "8192");
    refused(json!([[1, 2], vec![7; 8193]]), "input[1]", "8192");
    // Wrong shapes.
    refused(json!(7), "input", "array of arrays of token integers");
    refused(json!({"text": "a"}), "input", "a string, an array of strings");
    refused(json!(null), "input", "a string");
    refused(json!(["a", 1]), "input[1]", "a string, like `input[0]`");
    refused(json!(["a", ["b"]]), "input[1]", "a string");
    refused(json!([[1, 2], "x"]), "input[1]", "array of token integers");
    refused(json!([[1, -1]]), "input[0][1]", "integer from 0 to 4294967295");
    refused(json!([[1, 2.5]]), "input[0][1]", "token");
    refused(json!([1, "a"]), "input[1]", "a token");
    refused(json!([4294967296u64]), "input[0]", "a token");
    refused(json!([true]), "input[0]", "a string, a token integer");
    refused(json!([]), "input", "empty");
    refused(json!(""), "input", "empty");
    refused(json!(["a", ""]), "input[1]", "empty");
    refused(json!([[1], []]), "input[1]", "empty");
    let e = check_embeddings_request(&json!({"model": "m"})).unwrap_err();
    assert!(matches!(&e, RequestError::Missing { .. }) && e.to_string().contains("`input` is required"), "{e}");

    // What OpenAI accepts passes: the limits exactly.
    for ok in [
        json!("hello"),
        json!(vec!["a"; MAX_EMBEDDING_INPUTS]),
        json!(big_words(8192)),
        json!("x".repeat(4 * 8192)),
        json!(vec![0u32; 8192]),
        json!([[1, 2], [4294967295u32]]),
        json!(vec![big_words(8000); 37]),
    ] {
        let body = json!({"model": "m", "input": ok});
        assert_eq!(check_embeddings_request(&body), Ok(()));
        assert!(m.embeddings(&body).await.is_ok());
    }
}

#[tokio::test]
async fn the_mocks_embeddings_are_small_for_the_largest_request() {
    let m = mock();
    // The largest allowed request: 2,048 inputs sharing the 300,000 tokens.
    let per = (MAX_EMBEDDING_REQUEST_TOKENS / MAX_EMBEDDING_INPUTS as u64) as usize;
    let inputs: Vec<String> = (0..MAX_EMBEDDING_INPUTS).map(|i| format!("{i} {}", big_words(per - 1))).collect();
    let body = json!({"model": "mock", "input": inputs});
    let v = m.embeddings(&body).await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), MAX_EMBEDDING_INPUTS);
    assert_eq!(v["data"][2047]["index"], 2047);
    assert_eq!(v["usage"]["prompt_tokens"], (per * MAX_EMBEDDING_INPUTS) as u64);
    let size = serde_json::to_vec(&v).unwrap().len();
    // About 125 bytes per input (257 kB here); before the fix, 100,000 inputs took 36 MB.
    assert!(size < 300 * 1024, "the mock answered {size} bytes");
    let tokens = json!({"model": "mock", "input": vec![vec![1u32; 146]; MAX_EMBEDDING_INPUTS]});
    let v = m.embeddings(&tokens).await.unwrap();
    assert!(serde_json::to_vec(&v).unwrap().len() < 300 * 1024);
    // Different inputs, different vectors; each value in [-1, 1).
    assert_ne!(
        v["data"][0]["embedding"],
        m.embeddings(&json!({"input": [[2]]})).await.unwrap()["data"][0]["embedding"]
    );
    assert!(v["data"][0]["embedding"].as_array().unwrap().iter().all(|x| (-1.0..1.0).contains(&x.as_f64().unwrap())));
}

/// An upstream streaming `body` in 16 KiB pieces, then (if `trickle`) a comment line
/// every 100 ms forever.
async fn streaming_upstream(body: Vec<u8>, trickle: bool) -> String {
    let body = bytes::Bytes::from(body);
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let body = body.clone();
            async move {
                let pieces = futures_util::stream::iter(
                    (0..body.len())
                        .step_by(16 * 1024)
                        .map(move |i| Ok::<_, std::io::Error>(body.slice(i..(i + 16 * 1024).min(body.len()))))
                        .collect::<Vec<_>>(),
                );
                let tail = futures_util::stream::unfold((), move |()| async move {
                    if !trickle {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((Ok(bytes::Bytes::from_static(b": still here\n")), ()))
                });
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(axum::body::Body::from_stream(pieces.chain(tail)))
                    .unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

async fn stream_from(p: &Provider) -> Vec<Result<Event, LlmError>> {
    let Reply::Stream(s) = p.chat(&json!({"model": "m", "stream": true})).await.unwrap() else { panic!() };
    // A guard against a hang, not a measurement.
    tokio::time::timeout(Duration::from_secs(30), s.collect()).await.expect("the stream ended")
}

#[tokio::test]
async fn a_huge_line_from_an_upstream_ends_the_stream_with_an_error() {
    let mut body = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: \"".to_vec();
    body.resize(body.len() + (2 << 20), b'a');
    let p = openai(&streaming_upstream(body.clone(), true).await, Duration::from_secs(20));
    let events = stream_from(&p).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(content(&[events[0].as_ref().unwrap().clone()]), "Hi");
    let Err(e @ LlmError::BadResponse(_)) = &events[1] else { panic!("{:?}", events[1]) };
    assert!(e.to_string().contains("longer than 1048576 bytes"), "{e}");

    // A smaller limit applies; a larger one lets the line through.
    let small =
        Provider::with_limits(p.config.clone(), Duration::from_secs(20), Limits { max_event_bytes: 1024 }).unwrap();
    assert_eq!(small.limits().max_event_bytes, 1024);
    assert!(stream_from(&small).await[1].as_ref().unwrap_err().to_string().contains("longer than 1024 bytes"));
    body.extend_from_slice(b"\"\n\ndata: [DONE]\n\n");
    let large = Limits { max_event_bytes: 3 << 20 };
    let p = Provider::with_limits(p.config.clone(), Duration::from_secs(20), large).unwrap();
    let p = Provider {
        chat_url: Some(format!("{}/chat/completions", streaming_upstream(body, false).await).parse().unwrap()),
        ..p
    };
    let events = stream_from(&p).await;
    assert!(matches!(&events[1], Ok(Event::Data(Value::String(s))) if s.len() == 2 << 20), "{:?}", events.get(2));
    assert!(matches!(events[2], Ok(Event::Done)));
}

#[tokio::test]
async fn a_stream_past_the_timeout_ends_with_an_error() {
    // One event, then a comment every 100 ms: each read is quick, the whole is not.
    let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n".to_vec();
    let p = openai(&streaming_upstream(body, true).await, Duration::from_secs(1));
    let events = stream_from(&p).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].is_ok());
    assert!(matches!(events[1], Err(LlmError::Timeout)), "{:?}", events[1]);
    assert!(events[1].as_ref().unwrap_err().retryable());
}

fn chunked(bytes: &[u8], size: usize) -> BoxStream<'static, Result<bytes::Bytes, String>> {
    let bytes = bytes::Bytes::copy_from_slice(bytes);
    let pieces: Vec<_> =
        (0..bytes.len()).step_by(size).map(|i| Ok(bytes.slice(i..(i + size).min(bytes.len())))).collect();
    futures_util::stream::iter(pieces).boxed()
}

#[tokio::test]
async fn an_8_mib_line_is_parsed_in_one_pass() {
    // With the limit raised, the parser takes the whole line; a search restarting from
    // the start of the buffer on every chunk would take seconds here (see benches/sse.rs).
    let mut line = b"data: \"".to_vec();
    line.resize(8 << 20, b'a');
    line.extend_from_slice(b"\"\r\n\r\ndata: [DONE]\r\n\r\n");
    let limits = Limits { max_event_bytes: 9 << 20 };
    let events: Vec<_> = sse_events_limited(chunked(&line, 16 * 1024), limits, None).collect().await;
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], Ok(Event::Data(Value::String(s))) if s.len() == (8 << 20) - 7));
    // With the default limit, the stream ends once the line passes 1 MiB, before the rest arrives.
    line.truncate(8 << 20);
    let events: Vec<_> = sse_events(chunked(&line, 16 * 1024)).collect().await;
    assert!(matches!(&events[..], [Err(LlmError::BadResponse(m))] if m.contains("longer than 1048576")));
    // The parser never holds more than the line so far plus one chunk.
    let mut p = sse::Parser::new(1 << 20);
    for c in line.chunks(16 * 1024).take(64) {
        p.feed(c);
        assert!(matches!(p.next_event(), sse::Parsed::NeedMore));
    }
    p.feed(b"x");
    assert!(matches!(p.next_event(), sse::Parsed::Event(Err(_))));
}

#[tokio::test]
async fn server_sent_events_are_split_by_any_line_ending() {
    let text = b": hello\r\rdata: {\"a\":\rdata:1}\r\r\
                 data\nid: 7\ndata: \"x\"\n\n\
                 event: ping\n\n\
                 data: {\"c\":3}\r\n\r\n\
                 data: [DONE]\n\ndata: ignored\n\n";
    for size in [1, 2, 3, 7, text.len()] {
        let events: Vec<_> = sse_events(chunked(text, size)).map(Result::unwrap).collect().await;
        // `data` alone is an empty line of data, so the second event is "\n\"x\"".
        assert_eq!(
            events,
            [Event::Data(json!({"a": 1})), Event::Data(json!("x")), Event::Data(json!({"c": 3})), Event::Done],
            "in pieces of {size}"
        );
    }
    // An event's lines count together towards the limit.
    let many = "data: 1\n".repeat(200);
    let limits = Limits { max_event_bytes: 1000 };
    let events: Vec<_> = sse_events_limited(chunked(many.as_bytes(), 5), limits, None).collect().await;
    assert!(matches!(&events[..], [Err(LlmError::BadResponse(_))]), "{events:?}");
    // A trailing blank line or white space after the last event is a clean end.
    let events: Vec<_> = sse_events(chunked(b"data: 1\n\n\n \r\n", 3)).collect().await;
    assert!(matches!(&events[..], [Ok(Event::Data(_))]));
    // A deadline already past ends the stream at the first wait.
    let past = Some(tokio::time::Instant::now());
    let pending = futures_util::stream::pending().boxed();
    let events: Vec<_> = sse_events_limited(pending, Limits::default(), past).collect().await;
    assert!(matches!(&events[..], [Err(LlmError::Timeout)]));
}

#[test]
fn limits_have_defaults() {
    assert_eq!(serde_json::from_str::<Limits>("{}").unwrap(), Limits { max_event_bytes: 1 << 20 });
    assert_eq!(serde_json::from_str::<Limits>(r#"{"max_event_bytes": 5}"#).unwrap().max_event_bytes, 5);
    assert!(serde_json::from_str::<Limits>(r#"{"max_line": 5}"#).is_err());
}
