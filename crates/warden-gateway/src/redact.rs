//! Redacting what a call sends and restoring what comes back.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use warden_crypto::MasterKey;
use warden_policy_doc::{Redaction, RedactionThreshold};
use warden_redact::{Confidence, Mode, Redactor, Vault};

use crate::*;

/// The redactor for a class, or none when its data goes out as written.
pub fn redactor(keys: &MasterKey, class: &DataClass) -> Option<Redactor> {
    let mode = match class.redaction {
        Redaction::None => return None,
        Redaction::Mask => Mode::Mask,
        Redaction::Hash => Mode::Hash { key: keys.derive("gateway-redaction-hash").to_vec() },
        Redaction::Drop => Mode::Drop,
    };
    let threshold = match class.threshold {
        RedactionThreshold::Low => Confidence::Low,
        RedactionThreshold::Medium => Confidence::Medium,
        RedactionThreshold::High => Confidence::High,
    };
    Some(Redactor::new(warden_redact::Detector::new().with_threshold(threshold), mode))
}

/// Masks personal data in one string in place, adding to the counts.
pub fn redact_string(r: &Redactor, s: &mut String, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    let out = r.redact(s, vault);
    for (k, v) in out.counts {
        *counts.entry(k).or_insert(0) += v;
    }
    *s = out.text;
}

/// Masks personal data in every string of a chat request that the provider reads:
/// messages, names, tool calls, tool definitions, schemas, `user`, `metadata`, … (all but
/// the structural fields; see `warden_llm::visit_chat_text`).
pub fn redact_request(r: &Redactor, body: &mut Value, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    warden_llm::visit_chat_text(body, &mut |s: &mut String| redact_string(r, s, vault, counts));
}

/// Masks personal data in every string of an embeddings request (inputs, `user`).
pub fn redact_inputs(r: &Redactor, body: &mut Value, vault: &mut Vault, counts: &mut BTreeMap<String, usize>) {
    warden_llm::visit_embeddings_text(body, &mut |s: &mut String| redact_string(r, s, vault, counts));
}

/// Redacts an endpoint's text fields in place, counting what it masked by kind;
/// refuses (403) what the class would have to redact but cannot.
pub type RedactFn =
    fn(&Redactor, &DataClass, &mut Value, &mut Vault, &mut BTreeMap<String, usize>) -> Result<(), GatewayError>;

pub fn redact_chat(
    r: &Redactor,
    class: &DataClass,
    body: &mut Value,
    vault: &mut Vault,
    counts: &mut BTreeMap<String, usize>,
) -> Result<(), GatewayError> {
    if let Some(part) = warden_llm::opaque_parts(body).first() {
        return Err(GatewayError::forbidden(format!(
            "data class `{}` requires redaction, and `{part}` is an image, audio or file that cannot be \
             checked for personal data; send text only (rule data_classes.{}.llm_redaction)",
            class.name, class.name
        )));
    }
    redact_request(r, body, vault, counts);
    Ok(())
}

pub fn redact_embeddings(
    r: &Redactor,
    _: &DataClass,
    body: &mut Value,
    vault: &mut Vault,
    counts: &mut BTreeMap<String, usize>,
) -> Result<(), GatewayError> {
    redact_inputs(r, body, vault, counts);
    Ok(())
}

/// Puts the masked values back into every string of each answer's message: its text,
/// refusal, tool calls (names and arguments) and function call.
pub fn restore_json(v: &mut Value, vault: &Vault) {
    if vault.is_empty() {
        return;
    }
    if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
        for c in choices {
            if let Some(m) = c.get_mut("message") {
                warden_llm::for_each_string(m, &mut |s| *s = vault.restore(s));
            }
        }
    }
}

/// A text field of a streamed answer's delta, restored on its own (placeholders may be
/// split across events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    Content,
    Refusal,
    FunctionCall,
    /// A tool call's arguments, by the tool call's index.
    Tool(i64),
}

impl Slot {
    /// A delta carrying `text` in this field.
    pub fn delta(self, text: String) -> Value {
        match self {
            Slot::Content => json!({"content": text}),
            Slot::Refusal => json!({"refusal": text}),
            Slot::FunctionCall => json!({"function_call": {"arguments": text}}),
            Slot::Tool(i) => json!({"tool_calls": [{"index": i, "function": {"arguments": text}}]}),
        }
    }
}

/// The text fields of a streamed delta that may carry placeholders.
pub fn streamed_text(delta: &mut Value) -> Vec<(Slot, &mut String)> {
    let mut out = Vec::new();
    let Some(d) = delta.as_object_mut() else { return out };
    for (k, v) in d.iter_mut() {
        match (k.as_str(), v) {
            ("content", Value::String(s)) => out.push((Slot::Content, s)),
            ("refusal", Value::String(s)) => out.push((Slot::Refusal, s)),
            ("function_call", f) => {
                if let Some(Value::String(s)) = f.get_mut("arguments") {
                    out.push((Slot::FunctionCall, s));
                }
            }
            ("tool_calls", Value::Array(calls)) => {
                for (n, call) in calls.iter_mut().enumerate() {
                    let i = call.get("index").and_then(Value::as_i64).unwrap_or(i64::try_from(n).unwrap_or(0));
                    if let Some(Value::String(s)) = call.pointer_mut("/function/arguments") {
                        out.push((Slot::Tool(i), s));
                    }
                }
            }
            _ => {}
        }
    }
    out
}
