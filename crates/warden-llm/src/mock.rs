//! The built-in offline provider.

use futures_util::StreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{estimate_tokens, Event, LlmError, Reply};

fn last_user_message(body: &Value) -> String {
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")))
        .and_then(|m| m.get("content"))
        .map(|c| match c {
            Value::String(s) => s.clone(),
            // Content parts: the text ones.
            Value::Array(parts) => {
                parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(" ")
            }
            _ => String::new(),
        })
        .unwrap_or_default()
}

fn prompt_tokens(body: &Value) -> u64 {
    body.get("messages")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|x| x.get("content").and_then(Value::as_str)).map(estimate_tokens).sum())
        .unwrap_or(0)
}

pub fn chat(body: &Value, stream: bool) -> Reply {
    let model = body.get("model").and_then(Value::as_str).unwrap_or("mock").to_string();
    let reply = format!("Mock reply: {}", last_user_message(body));
    let usage = json!({
        "prompt_tokens": prompt_tokens(body),
        "completion_tokens": estimate_tokens(&reply),
        "total_tokens": prompt_tokens(body) + estimate_tokens(&reply),
    });
    let id = format!("chatcmpl-mock-{}", &hex(&Sha256::digest(reply.as_bytes()))[..12]);
    // Unix seconds, as OpenAI answers.
    let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if !stream {
        return Reply::Json(json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": usage,
        }));
    }
    let include_usage = body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null)];
    // Word by word, keeping the spaces, so the pieces join back to the reply.
    let mut piece = String::new();
    for c in reply.chars() {
        piece.push(c);
        if c == ' ' {
            events.push(chunk(json!({"content": std::mem::take(&mut piece)}), Value::Null));
        }
    }
    if !piece.is_empty() {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if include_usage {
        events.push(json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                            "choices": [], "usage": usage}));
    }
    let mut all: Vec<Result<Event, LlmError>> = events.into_iter().map(|e| Ok(Event::Data(e))).collect();
    all.push(Ok(Event::Done));
    Reply::Stream(futures_util::stream::iter(all).boxed())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Dimensions of the mock's embeddings.
pub const DIMENSIONS: usize = 8;

/// One embedding: the first [`DIMENSIONS`] bytes of the SHA-256 of the input, each as
/// a multiple of 1/128 in [-1, 1), which prints short.
fn embedding(i: usize, digest: &[u8]) -> Value {
    let v: Vec<Value> = digest.iter().take(DIMENSIONS).map(|b| json!((f64::from(*b) - 128.0) / 128.0)).collect();
    json!({"object": "embedding", "index": i, "embedding": v})
}

fn token_digest(tokens: &[Value]) -> impl AsRef<[u8]> {
    let mut h = Sha256::new();
    for t in tokens {
        h.update(t.as_u64().unwrap_or(0).to_le_bytes());
    }
    h.finalize()
}

/// Embeddings of a request that passed [`crate::check_embeddings_request`]: one small
/// vector per input, built straight from the borrowed inputs.
pub fn embeddings(body: &Value) -> Result<Value, LlmError> {
    let model = body.get("model").and_then(Value::as_str).unwrap_or("mock");
    let mut tokens = 0u64;
    let data: Vec<Value> = match body.get("input") {
        Some(Value::String(s)) => {
            tokens += estimate_tokens(s);
            vec![embedding(0, &Sha256::digest(s.as_bytes()))]
        }
        Some(Value::Array(items)) if items.iter().all(Value::is_u64) => {
            tokens += items.len() as u64;
            vec![embedding(0, token_digest(items).as_ref())]
        }
        Some(Value::Array(items)) => {
            let mut data = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => {
                        tokens += estimate_tokens(s);
                        data.push(embedding(i, &Sha256::digest(s.as_bytes())));
                    }
                    Value::Array(t) => {
                        tokens += t.len() as u64;
                        data.push(embedding(i, token_digest(t).as_ref()));
                    }
                    _ => return Err(bad_input()),
                }
            }
            data
        }
        _ => return Err(bad_input()),
    };
    Ok(json!({"object": "list", "data": data, "model": model,
              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
}

/// Only reached if a caller skipped [`crate::check_embeddings_request`].
fn bad_input() -> LlmError {
    crate::RequestError::Invalid { param: "input".into(), expected: "a string or an array of inputs" }.into()
}
