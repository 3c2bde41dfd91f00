//! Streamed answers: restored event by event, cut by a kill switch, settled and recorded when they end.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde_json::{json, Value};
use warden_llm::Event;
use warden_redact::{StreamRestorer, Vault};

use crate::*;

/// Sets `key` on a JSON object (anything else is left alone).
pub fn put(v: &mut Value, key: &str, x: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), x);
    }
}

pub fn total_tokens(usage: Option<&Value>) -> Option<i64> {
    usage.and_then(|u| u.get("total_tokens")).and_then(Value::as_i64)
}

pub fn usage_into(detail: &mut Value, usage: Option<&Value>) {
    if let Some(u) = usage {
        for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            if let Some(n) = u.get(k).and_then(Value::as_i64) {
                put(detail, k, json!(n));
            }
        }
    }
}

/// Events as bytes on the wire.
pub fn sse(v: &Value) -> bytes::Bytes {
    bytes::Bytes::from(format!("data: {v}\n\n"))
}

/// Passes events on as they arrive, putting values back into content deltas (holding
/// back only a `[` that may start a placeholder), and writes the audit record when the
/// stream ends, with the usage the provider reported.
pub fn restore_stream(
    events: warden_llm::EventStream,
    vault: Vault,
    mut record: warden_audit::AuditEvent,
    ledger: std::sync::Arc<warden_audit::Ledger>,
    watch: (std::sync::Arc<Switches>, warden_llm::ProviderConfig),
    held: Held,
    payload: Option<crate::payload::StreamPayload>,
) -> futures_util::stream::BoxStream<'static, bytes::Bytes> {
    struct State {
        /// The payloads to keep when the stream ends, when the class keeps them.
        payload: Option<crate::payload::StreamPayload>,
        held: Option<Held>,
        /// Tokens the provider reported, or the characters streamed (estimated).
        used: Option<i64>,
        streamed: i64,
        watch: (std::sync::Arc<Switches>, warden_llm::ProviderConfig),
        events: warden_llm::EventStream,
        vault: Vault,
        /// One per choice and streamed text field: (choice, what), what being
        /// `content`, `refusal`, `function_call`, or the index of a tool call.
        restorers: BTreeMap<(i64, Slot), StreamRestorer>,
        record: Option<(warden_audit::AuditEvent, std::sync::Arc<warden_audit::Ledger>)>,
        done: bool,
    }
    impl State {
        /// Settles the reservations and writes the audit record, once.
        fn finish(&mut self, outcome: &str, reason: Option<String>) {
            if let Some(held) = self.held.take() {
                let used = self.used.unwrap_or(if self.streamed > 0 { held.amount.min(self.streamed) } else { 0 });
                tokio::spawn(held.settle(used));
            }
            let payload = self.payload.take();
            if let Some((mut e, ledger)) = self.record.take() {
                e.outcome = outcome.into();
                e.reason = reason;
                tokio::spawn(async move {
                    // The payloads first, so the record can name their log.
                    if let Some(p) = payload {
                        match p.keep().await {
                            Ok(id) => put(&mut e.detail, "payload_log", json!(id)),
                            Err(err) => tracing::error!(error = %err, "could not keep a streamed payload"),
                        }
                    }
                    if let Err(err) = ledger.append(&e).await {
                        tracing::error!(error = %err, "could not record a gateway call");
                    }
                });
            }
        }
    }
    impl Drop for State {
        /// The client went away mid-stream: the upstream stream is dropped with this
        /// state, and the call still settles and is recorded.
        fn drop(&mut self) {
            self.finish("failure", Some("the client disconnected before the stream ended".into()));
        }
    }
    record.outcome = "success".into();
    let state = State {
        payload,
        held: Some(held),
        used: None,
        streamed: 0,
        watch,
        events,
        vault,
        restorers: BTreeMap::new(),
        record: Some((record, ledger)),
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let finish = |st: &mut State, outcome: &str, reason: Option<String>| st.finish(outcome, reason);
        let next = st.events.next().await;
        // A kill switch turned on while the stream runs cuts it.
        if let Some(why) = st.watch.0.blocking(&st.watch.1) {
            let msg = json!({"error": {"message": format!("the stream was cut: {why}"), "type": "server_error",
                                       "param": null, "code": "kill_switch"}});
            finish(&mut st, "failure", Some(format!("stream cut: {why}")));
            st.done = true;
            let mut out = sse(&msg).to_vec();
            out.extend_from_slice(b"data: [DONE]\n\n");
            return Some((bytes::Bytes::from(out), st));
        }
        match next {
            Some(Ok(Event::Data(mut v))) => {
                if let Some(p) = st.payload.as_mut() {
                    p.chunks.push(v.clone());
                }
                if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
                    for c in choices {
                        let index = c.get("index").and_then(Value::as_i64).unwrap_or(0);
                        let Some(delta) = c.get_mut("delta") else { continue };
                        for (slot, s) in streamed_text(delta) {
                            let r = st.restorers.entry((index, slot)).or_default();
                            *s = r.push(s, &st.vault);
                        }
                    }
                }
                if let Some((e, _)) = st.record.as_mut() {
                    usage_into(&mut e.detail, v.get("usage"));
                }
                if let Some(t) = total_tokens(v.get("usage")) {
                    st.used = Some(t);
                }
                st.streamed += v
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map_or(0, |c| i64::try_from(warden_llm::estimate_tokens(c)).unwrap_or(0) + 1);
                Some((sse(&v), st))
            }
            Some(Ok(Event::Done)) | None => {
                // Whatever a restorer still holds goes out before the end.
                let mut tail = Vec::new();
                for ((index, slot), r) in std::mem::take(&mut st.restorers) {
                    let rest = r.finish(&st.vault);
                    if !rest.is_empty() {
                        tail.extend_from_slice(&sse(&json!({"object": "chat.completion.chunk",
                            "choices": [{"index": index, "delta": slot.delta(rest), "finish_reason": null}]})));
                    }
                }
                tail.extend_from_slice(b"data: [DONE]\n\n");
                finish(&mut st, "success", None);
                st.done = true;
                Some((bytes::Bytes::from(tail), st))
            }
            Some(Err(e)) => {
                // A clean end of stream that says what went wrong, never a hang.
                let err = upstream_error(e);
                let msg = err.body.clone();
                let why = msg.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
                finish(&mut st, "failure", Some(why));
                st.done = true;
                let mut out = sse(&msg).to_vec();
                out.extend_from_slice(b"data: [DONE]\n\n");
                Some((bytes::Bytes::from(out), st))
            }
        }
    })
    .boxed()
}
