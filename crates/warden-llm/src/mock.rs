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
    if !stream {
        return Reply::Json(json!({
            "id": id, "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": usage,
        }));
    }
    let include_usage = body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
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
        events.push(json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
                            "choices": [], "usage": usage}));
    }
    let mut all: Vec<Result<Event, LlmError>> = events.into_iter().map(|e| Ok(Event::Data(e))).collect();
    all.push(Ok(Event::Done));
    Reply::Stream(futures_util::stream::iter(all).boxed())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn embeddings(body: &Value) -> Result<Value, LlmError> {
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()
        }
        _ => {
            let error = json!({"error": {"message": "`input` must be a string or a list of strings",
                                          "type": "invalid_request_error", "param": "input", "code": null}});
            return Err(LlmError::Status { status: 400, body: error });
        }
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or("mock");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let h = Sha256::digest(text.as_bytes());
            let v: Vec<f64> = h.iter().take(16).map(|b| f64::from(*b) / 127.5 - 1.0).collect();
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|t| estimate_tokens(t)).sum();
    Ok(json!({"object": "list", "data": data, "model": model,
              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
}
