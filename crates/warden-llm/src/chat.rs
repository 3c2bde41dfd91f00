//! The chat completions request as the OpenAI API defines it: every field it documents,
//! with its type, so that a request is checked before any provider sees it (a wrong type
//! or an unknown field is the caller's mistake, answered 400 naming the field) and so
//! that every string a provider receives can be visited, for redaction, except the few
//! that are structural (the model, roles, `type` tags and other enumerations).

use serde_json::{Map, Value};

use crate::error::RequestError;

/// The shape of one JSON value in a request.
enum S {
    /// Free text a provider reads: visited for redaction.
    Text,
    /// The model's name: structural.
    Model,
    /// One of a fixed set of strings: structural.
    Enum(&'static [&'static str]),
    Bool,
    /// Any JSON number.
    Num,
    /// An integer.
    Int,
    Arr(&'static S),
    /// An object with these fields only (`true`: required).
    Obj(&'static [(&'static str, S, bool)]),
    /// An object with free keys whose values have this shape.
    Map(&'static S),
    /// Any JSON (JSON schemas, provider options): every string value is visited.
    Free,
    /// The first of these shapes the value has.
    OneOf(&'static [S]),
}

const PART: S = S::Obj(&[
    ("type", S::Enum(&["text", "image_url", "input_audio", "file", "refusal"]), true),
    ("text", S::Text, false),
    ("refusal", S::Text, false),
    ("image_url", S::Obj(&[("url", S::Text, true), ("detail", S::Enum(&["auto", "low", "high"]), false)]), false),
    ("input_audio", S::Obj(&[("data", S::Text, true), ("format", S::Text, true)]), false),
    (
        "file",
        S::Obj(&[("file_data", S::Text, false), ("file_id", S::Text, false), ("filename", S::Text, false)]),
        false,
    ),
]);
const CONTENT: S = S::OneOf(&[S::Text, S::Arr(&PART)]);
const FUNCTION_CALL: S = S::Obj(&[("name", S::Text, true), ("arguments", S::Text, true)]);
const TOOL_CALL: S = S::Obj(&[
    ("id", S::Text, true),
    ("type", S::Enum(&["function", "custom"]), true),
    ("function", FUNCTION_CALL, false),
    ("custom", S::Obj(&[("name", S::Text, true), ("input", S::Text, true)]), false),
]);
const MESSAGE: S = S::Obj(&[
    ("role", S::Enum(&["system", "developer", "user", "assistant", "tool", "function"]), true),
    ("content", CONTENT, false),
    ("name", S::Text, false),
    ("tool_calls", S::Arr(&TOOL_CALL), false),
    ("tool_call_id", S::Text, false),
    ("refusal", S::Text, false),
    ("function_call", FUNCTION_CALL, false),
    ("audio", S::Obj(&[("id", S::Text, true)]), false),
]);
const FUNCTION: S = S::Obj(&[
    ("name", S::Text, true),
    ("description", S::Text, false),
    ("parameters", S::Free, false),
    ("strict", S::Bool, false),
]);
const TOOL: S = S::Obj(&[
    ("type", S::Enum(&["function", "custom"]), true),
    ("function", FUNCTION, false),
    ("custom", S::Free, false),
]);
const NAMED: S = S::Obj(&[("name", S::Text, true)]);

/// Every field of a chat completions request.
const CHAT: S = S::Obj(&[
    ("model", S::Model, true),
    ("messages", S::Arr(&MESSAGE), true),
    ("audio", S::Obj(&[("voice", S::Text, true), ("format", S::Text, true)]), false),
    ("frequency_penalty", S::Num, false),
    ("function_call", S::OneOf(&[S::Enum(&["none", "auto"]), NAMED]), false),
    ("functions", S::Arr(&FUNCTION), false),
    ("logit_bias", S::Map(&S::Num), false),
    ("logprobs", S::Bool, false),
    ("max_completion_tokens", S::Int, false),
    ("max_tokens", S::Int, false),
    ("metadata", S::Map(&S::Text), false),
    ("modalities", S::Arr(&S::Enum(&["text", "audio"])), false),
    ("n", S::Int, false),
    ("parallel_tool_calls", S::Bool, false),
    ("prediction", S::Obj(&[("type", S::Enum(&["content"]), true), ("content", CONTENT, true)]), false),
    ("presence_penalty", S::Num, false),
    ("prompt_cache_key", S::Text, false),
    ("reasoning_effort", S::Enum(&["none", "minimal", "low", "medium", "high"]), false),
    (
        "response_format",
        S::Obj(&[
            ("type", S::Enum(&["text", "json_object", "json_schema"]), true),
            (
                "json_schema",
                S::Obj(&[
                    ("name", S::Text, true),
                    ("description", S::Text, false),
                    ("schema", S::Free, false),
                    ("strict", S::Bool, false),
                ]),
                false,
            ),
        ]),
        false,
    ),
    ("safety_identifier", S::Text, false),
    ("seed", S::Int, false),
    ("service_tier", S::Enum(&["auto", "default", "flex", "scale", "priority"]), false),
    ("stop", S::OneOf(&[S::Text, S::Arr(&S::Text)]), false),
    ("store", S::Bool, false),
    ("stream", S::Bool, false),
    ("stream_options", S::Obj(&[("include_usage", S::Bool, false), ("include_obfuscation", S::Bool, false)]), false),
    ("temperature", S::Num, false),
    (
        "tool_choice",
        S::OneOf(&[
            S::Enum(&["none", "auto", "required"]),
            S::Obj(&[
                ("type", S::Enum(&["function", "custom", "allowed_tools"]), true),
                ("function", NAMED, false),
                ("custom", NAMED, false),
                ("allowed_tools", S::Free, false),
            ]),
        ]),
        false,
    ),
    ("tools", S::Arr(&TOOL), false),
    ("top_logprobs", S::Int, false),
    ("top_p", S::Num, false),
    ("user", S::Text, false),
    ("verbosity", S::Enum(&["low", "medium", "high"]), false),
    ("web_search_options", S::Free, false),
]);

/// Every field of an embeddings request (`input`'s own shape and limits are checked by
/// `check_embeddings_request`).
/// (`model` is the gateway's to require: providers are called with it.)
const EMBEDDINGS: S = S::Obj(&[
    ("model", S::Model, false),
    ("input", S::Free, true),
    ("encoding_format", S::Enum(&["float", "base64"]), false),
    ("dimensions", S::Int, false),
    ("user", S::Text, false),
]);

impl S {
    fn expected(&self) -> &'static str {
        match self {
            S::Text | S::Model => "a string",
            S::Enum(_) => "one of the values the OpenAI API defines for it",
            S::Bool => "true or false",
            S::Num => "a number",
            S::Int => "an integer",
            S::Arr(_) => "an array",
            S::Obj(_) | S::Map(_) => "an object",
            S::Free => "JSON",
            S::OneOf(_) => "one of the shapes the OpenAI API defines for it",
        }
    }

    /// Whether `v` has this shape at its top level (for choosing among `OneOf`).
    fn fits(&self, v: &Value) -> bool {
        match (self, v) {
            (S::Text | S::Model, Value::String(_)) => true,
            (S::Enum(values), Value::String(s)) => values.contains(&s.as_str()),
            (S::Bool, Value::Bool(_)) | (S::Num, Value::Number(_)) => true,
            (S::Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (S::Arr(_), Value::Array(_)) | (S::Obj(_) | S::Map(_), Value::Object(_)) => true,
            (S::Free, _) => true,
            (S::OneOf(shapes), v) => shapes.iter().any(|s| s.fits(v)),
            _ => false,
        }
    }

    fn check(&self, v: &Value, path: &str) -> Result<(), RequestError> {
        let invalid = || RequestError::Invalid { param: path.to_string(), expected: self.expected() };
        match (self, v) {
            (S::Arr(item), Value::Array(items)) => {
                items.iter().enumerate().try_for_each(|(i, x)| item.check(x, &format!("{path}[{i}]")))
            }
            (S::Obj(fields), Value::Object(m)) => check_object(fields, m, path),
            (S::Map(value), Value::Object(m)) => m.iter().try_for_each(|(k, x)| value.check(x, &format!("{path}.{k}"))),
            (S::OneOf(shapes), v) => match shapes.iter().find(|s| s.fits(v)) {
                Some(s) => s.check(v, path),
                None => Err(invalid()),
            },
            (s, v) if s.fits(v) => Ok(()),
            _ => Err(invalid()),
        }
    }

    fn visit(&self, v: &mut Value, f: &mut dyn FnMut(&mut String)) {
        match (self, v) {
            (S::Text, Value::String(s)) => f(s),
            (S::Arr(item), Value::Array(items)) => items.iter_mut().for_each(|x| item.visit(x, f)),
            (S::Obj(fields), Value::Object(m)) => {
                for (name, shape, _) in fields.iter() {
                    if let Some(x) = m.get_mut(*name) {
                        shape.visit(x, f);
                    }
                }
            }
            (S::Map(value), Value::Object(m)) => m.values_mut().for_each(|x| value.visit(x, f)),
            (S::Free, v) => for_each_string(v, f),
            (S::OneOf(shapes), v) => {
                if let Some(s) = shapes.iter().find(|s| s.fits(v)) {
                    s.visit(v, f);
                }
            }
            _ => {}
        }
    }
}

fn check_object(fields: &[(&str, S, bool)], m: &Map<String, Value>, path: &str) -> Result<(), RequestError> {
    let at = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    if let Some(unknown) = m.keys().find(|k| !fields.iter().any(|(name, _, _)| name == k)) {
        return Err(RequestError::Unknown { param: at(unknown) });
    }
    for (name, shape, required) in fields {
        match m.get(*name) {
            // Null is how clients say "not given" for optional fields.
            None | Some(Value::Null) if !required => {}
            None | Some(Value::Null) => {
                return Err(RequestError::Missing { param: at(name), expected: shape.expected() })
            }
            Some(x) => shape.check(x, &at(name))?,
        }
    }
    Ok(())
}

/// Every string value in free JSON (object keys are structure and stay as they are).
pub fn for_each_string(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|x| for_each_string(x, f)),
        Value::Object(m) => m.values_mut().for_each(|x| for_each_string(x, f)),
        _ => {}
    }
}

/// Checks a chat completions request against the OpenAI API's definition: the body is
/// an object, `model` and `messages` are there, every field has its documented type, and
/// no field is unknown. The error names the field (`messages[0].content`).
pub fn check_chat_request(body: &Value) -> Result<(), RequestError> {
    match body {
        Value::Object(m) => check_object(
            match &CHAT {
                S::Obj(fields) => fields,
                _ => &[],
            },
            m,
            "",
        ),
        _ => Err(RequestError::Invalid { param: "body".into(), expected: "a JSON object" }),
    }
}

/// Checks an embeddings request's fields: each with its documented type, none unknown.
pub(crate) fn check_embeddings_fields(body: &Value) -> Result<(), RequestError> {
    match (body, &EMBEDDINGS) {
        (Value::Object(m), S::Obj(fields)) => check_object(fields, m, ""),
        _ => Err(RequestError::Invalid { param: "body".into(), expected: "a JSON object" }),
    }
}

/// Calls `f` on every string of an embeddings request a provider reads: the inputs and
/// `user`.
pub fn visit_embeddings_text(body: &mut Value, f: &mut dyn FnMut(&mut String)) {
    EMBEDDINGS.visit(body, f);
}

/// Calls `f` on every string of a (checked) chat request that a provider reads as text:
/// messages and their parts, names, tool calls and their arguments, tool and function
/// definitions (descriptions and JSON schemas), `response_format`'s schema, `prediction`,
/// `stop`, `user`, `metadata` values and the other free strings. Only structural values
/// are left out: `model`, roles, `type` tags and enumerations.
pub fn visit_chat_text(body: &mut Value, f: &mut dyn FnMut(&mut String)) {
    CHAT.visit(body, f);
}

/// Paths of content parts whose payload is not text a redactor can read (images, audio,
/// files): a class that requires redaction cannot send them.
pub fn opaque_parts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(messages) = body.get("messages").and_then(Value::as_array) else { return out };
    for (i, m) in messages.iter().enumerate() {
        let Some(parts) = m.get("content").and_then(Value::as_array) else { continue };
        for (j, p) in parts.iter().enumerate() {
            if matches!(p.get("type").and_then(Value::as_str), Some("image_url" | "input_audio" | "file")) {
                out.push(format!("messages[{i}].content[{j}]"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(body: Value) -> String {
        check_chat_request(&body).unwrap_err().param().to_string()
    }

    #[test]
    fn documented_requests_pass() {
        let full = json!({
            "model": "gpt", "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "name": "ann", "content": [{"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA==", "detail": "low"}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"}],
            "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}, "strict": true}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
            "temperature": 0.2, "top_p": 1, "n": 1, "max_tokens": 10, "max_completion_tokens": 10, "seed": 7,
            "stream": true, "stream_options": {"include_usage": true}, "stop": ["\n"], "user": "u-1",
            "metadata": {"k": "v"}, "logit_bias": {"50256": -100}, "logprobs": false, "top_logprobs": null,
            "prediction": {"type": "content", "content": "x"}, "store": false, "parallel_tool_calls": true,
            "reasoning_effort": "low", "service_tier": "auto", "modalities": ["text"]
        });
        check_chat_request(&full).unwrap();
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named() {
        let m = |content: Value| json!({"model": "m", "messages": [{"role": "user", "content": content}]});
        assert_eq!(err(m(json!(5))), "messages[0].content");
        assert_eq!(err(m(json!([{"type": "text", "text": 5}]))), "messages[0].content[0].text");
        assert_eq!(err(m(json!([{"type": "video"}]))), "messages[0].content[0].type");
        let mut b = m(json!("hi"));
        b["stream"] = json!("yes");
        assert_eq!(err(b), "stream");
        let mut b = m(json!("hi"));
        b["max_tokens"] = json!("lots");
        assert_eq!(err(b), "max_tokens");
        let mut b = m(json!("hi"));
        b["max_tokens"] = json!(1.5);
        assert_eq!(err(b), "max_tokens");
        let mut b = m(json!("hi"));
        b["exfiltrate"] = json!("jane.doe@example.org");
        let e = check_chat_request(&b).unwrap_err();
        assert_eq!((e.param(), e.code()), ("exfiltrate", "unknown_parameter"));
        assert_eq!(
            err(json!({"model": "m", "messages": [{"role": "user", "content": "x", "secret": 1}]})),
            "messages[0].secret"
        );
        assert_eq!(err(json!({"model": "m", "messages": [{"role": "pirate", "content": "x"}]})), "messages[0].role");
        assert_eq!(err(json!({"model": "m"})), "messages");
        assert_eq!(err(json!({"model": 3, "messages": []})), "model");
        assert_eq!(err(json!([1])), "body");
    }

    #[test]
    fn every_free_string_is_visited_and_structure_is_not() {
        let mut body = json!({
            "model": "M", "messages": [{"role": "user", "name": "T1", "content": [{"type": "text", "text": "T2"}]},
                {"role": "assistant", "tool_calls": [{"id": "T3", "type": "function", "function": {"name": "T4", "arguments": "T5"}}]}],
            "tools": [{"type": "function", "function": {"name": "T6", "description": "T7",
                "parameters": {"type": "object", "properties": {"k": {"description": "T8", "enum": ["T9"]}}}}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "T10", "schema": {"description": "T11"}}},
            "user": "T12", "metadata": {"key": "T13"}, "prediction": {"type": "content", "content": "T14"},
            "stop": ["T15"], "tool_choice": "auto", "reasoning_effort": "low"
        });
        check_chat_request(&body).unwrap();
        let mut seen = Vec::new();
        visit_chat_text(&mut body, &mut |s| {
            seen.push(s.clone());
            *s = format!("<{s}>");
        });
        // JSON schemas' own keywords (`type: object`) are strings too: visited, unchanged by
        // a redactor that finds nothing in them.
        let texts: Vec<&str> = seen.iter().map(String::as_str).filter(|s| s.starts_with('T')).collect();
        assert_eq!(texts.len(), 15, "{seen:?}");
        for structural in ["M", "user", "assistant", "function", "json_schema", "auto", "low", "content", "text"] {
            assert!(!seen.iter().any(|s| s == structural), "`{structural}` is structural: {seen:?}");
        }
        assert_eq!(body["messages"][1]["tool_calls"][0]["function"]["arguments"], "<T5>");
        assert_eq!(body["metadata"]["key"], "<T13>");
    }

    #[test]
    fn embeddings_fields_are_checked_and_their_text_visited() {
        let e = |b: Value| crate::check_embeddings_request(&b).unwrap_err().param().to_string();
        assert_eq!(e(json!({"model": "m", "input": "x", "smuggle": "jane@example.org"})), "smuggle");
        assert_eq!(e(json!({"model": "m", "input": "x", "dimensions": "many"})), "dimensions");
        assert_eq!(e(json!({"model": "m", "input": "x", "encoding_format": "hex"})), "encoding_format");
        let mut b = json!({"model": "M", "input": ["a", "b"], "user": "u", "encoding_format": "float"});
        crate::check_embeddings_request(&b).unwrap();
        let mut seen = Vec::new();
        visit_embeddings_text(&mut b, &mut |s| seen.push(s.clone()));
        assert_eq!(seen, ["a", "b", "u"]);
    }

    #[test]
    fn binary_parts_are_found() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"},
            {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]}]});
        assert_eq!(opaque_parts(&body), vec!["messages[0].content[1]"]);
    }
}
