//! LLM providers behind Warden's gateway. Requests and responses are OpenAI's JSON;
//! streamed chat completions arrive as server-sent events and are handed on event by
//! event, as they arrive. Two kinds:
//!
//! - `openai`: any OpenAI-compatible base URL (OpenAI, Azure OpenAI's compatible
//!   endpoint, vLLM, Ollama, …), with an optional bearer key;
//! - `mock`: built in and offline, so the gateway works on a laptop with no keys. It
//!   answers chat with `Mock reply: ` and the last user message as it arrived (so a
//!   caller can see what the provider was sent, e.g. after redaction) and embeddings
//!   with vectors derived from SHA-256 of the input.
//!
//! Every embeddings request is checked ([`check_embeddings_request`]: OpenAI's shapes
//! and limits) before any provider sees it. A streamed answer is parsed in one pass,
//! each event at most [`Limits::max_event_bytes`] long, and must end within the
//! provider's timeout; otherwise the stream ends with an error.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde_json::{json, Value};

pub use chat::{check_chat_request, for_each_string, opaque_parts, visit_chat_text, visit_embeddings_text};
pub use error::RequestError;
pub use request::{
    check_embeddings_request, MAX_EMBEDDING_INPUTS, MAX_EMBEDDING_INPUT_TOKENS, MAX_EMBEDDING_REQUEST_TOKENS,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Mock,
    #[serde(rename = "openai")]
    OpenAi,
}

/// A provider as an administrator configured it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// For `openai`: the base URL up to and including `/v1`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// For `openai`: the bearer key, if the upstream needs one. Never logged.
    #[serde(default, skip_serializing)]
    pub api_key: Option<String>,
    /// Where the provider processes data (`eu-west`, `us-east`, `local`, …).
    pub region: String,
    /// Whether calls leave the organisation (a transfer to an external destination).
    pub external: bool,
    /// Model names offered.
    pub models: Vec<String>,
    /// Prices by model (`*` for any other), USD per million tokens.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, Price>,
}

/// Bounds on what reading a provider's answer may cost. Each field has a default, so a
/// configuration may give none, some or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest server-sent event (its lines together) accepted from a streaming
    /// upstream, in bytes; a longer one ends the stream with an error. Default 1 MiB.
    pub max_event_bytes: usize,
}

impl Limits {
    /// The default longest event: 1 MiB.
    pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_event_bytes: Self::DEFAULT_MAX_EVENT_BYTES }
    }
}

/// What a model costs, in USD per million tokens (equal to micro-USD per token).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// Longest provider, region or model name.
const MAX_NAME: usize = 128;

fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'@'))
}

impl ProviderConfig {
    /// The built-in offline provider: model `mock`, internal, region `local`.
    pub fn mock() -> Self {
        Self {
            name: "mock".into(),
            kind: ProviderKind::Mock,
            base_url: None,
            api_key: None,
            region: "local".into(),
            external: false,
            models: vec!["mock".into()],
            prices: Default::default(),
        }
    }

    /// Whether an administrator's provider (`openai` kind) is well formed: a plain name
    /// that is not the built-in `mock`, an http(s) base URL without credentials in it, a
    /// region, at least one model (each once), and finite non-negative prices for
    /// offered models or `*`. Says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.name;
        if !plain_name(name) || name.contains('/') || name.contains(':') || name == "mock" {
            return Err(format!(
                "provider name {name:?}: use 1 to {MAX_NAME} letters, digits, `-`, `_` or `.` (and not `mock`, which is built in)"
            ));
        }
        let url = self.base_url.as_deref().unwrap_or("");
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("provider `{name}`: base_url {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!("provider `{name}`: base_url must be an http(s) URL with a host"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some() {
            return Err(format!(
                "provider `{name}`: base_url must not carry credentials or a query (give the key as api_key)"
            ));
        }
        if !plain_name(&self.region) {
            return Err(format!("provider `{name}`: region {:?} is not a plain name", self.region));
        }
        if self.models.is_empty() {
            return Err(format!("provider `{name}` offers no models"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.models {
            if !plain_name(m) || !seen.insert(m) {
                return Err(format!("provider `{name}`: model {m:?} is empty, too long, unusual or listed twice"));
            }
        }
        for (m, p) in &self.prices {
            if m != "*" && !seen.contains(m) {
                return Err(format!("provider `{name}`: a price for `{m}`, which it does not offer"));
            }
            if ![p.input, p.output].iter().all(|x| x.is_finite() && *x >= 0.0) {
                return Err(format!("provider `{name}`: the price of `{m}` must be zero or more"));
            }
        }
        if self.api_key.as_deref().is_some_and(|k| k.is_empty() || k.len() > 4096 || k.chars().any(char::is_control)) {
            return Err(format!(
                "provider `{name}`: api_key must be 1 to 4096 characters, none of them control characters"
            ));
        }
        Ok(())
    }

    /// The price of `model`: its own, or the provider's `*` price.
    pub fn price(&self, model: &str) -> Option<Price> {
        self.prices.get(model).or_else(|| self.prices.get("*")).copied()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The upstream answered with an error status; `body` is its (OpenAI-shaped) error.
    #[error("the provider answered {status}")]
    Status { status: u16, body: Value },
    #[error("the provider is unreachable: {0}")]
    Unreachable(String),
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("the provider's answer is not valid: {0}")]
    BadResponse(String),
    /// The request was refused before any provider was called (answer HTTP 400 with
    /// [`RequestError::to_openai`]).
    #[error("the request is not valid: {0}")]
    InvalidRequest(#[from] RequestError),
}

impl LlmError {
    /// Whether another provider might succeed where this one failed.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::Unreachable(_) | LlmError::Timeout => true,
            LlmError::BadResponse(_) | LlmError::InvalidRequest(_) => false,
        }
    }
}

/// One server-sent event of a streamed completion.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Data(Value),
    Done,
}

pub type EventStream = BoxStream<'static, Result<Event, LlmError>>;

/// A chat completion: whole, or as a stream of events.
pub enum Reply {
    Json(Value),
    Stream(EventStream),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Reply::Stream(_) => f.write_str("Stream"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub config: ProviderConfig,
    http: reqwest::Client,
    /// The two endpoints, parsed once (`None` for the built-in mock).
    chat_url: Option<reqwest::Url>,
    embeddings_url: Option<reqwest::Url>,
    /// The longest a call may take, from sending the request to the end of the answer.
    timeout: Duration,
    limits: Limits,
}

impl Provider {
    /// `timeout` bounds connecting, each wait for upstream bytes and the whole call, from
    /// sending the request to the end of the answer (a stream's last event included).
    /// Reading answers is bounded by the default [`Limits`].
    pub fn new(config: ProviderConfig, timeout: Duration) -> Result<Self, LlmError> {
        Self::with_limits(config, timeout, Limits::default())
    }

    /// As [`Provider::new`], with the given bounds on reading answers.
    pub fn with_limits(config: ProviderConfig, timeout: Duration, limits: Limits) -> Result<Self, LlmError> {
        if config.kind == ProviderKind::OpenAi && config.base_url.is_none() {
            return Err(LlmError::BadResponse(format!("provider `{}` needs a base_url", config.name)));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .build()
            .map_err(|e| LlmError::Unreachable(e.to_string()))?;
        let endpoint = |path: &str| -> Result<Option<reqwest::Url>, LlmError> {
            let Some(base) = config.base_url.as_deref() else { return Ok(None) };
            let url = format!("{}{path}", base.trim_end_matches('/'));
            reqwest::Url::parse(&url)
                .map(Some)
                .map_err(|e| LlmError::BadResponse(format!("provider `{}`: base_url {url:?}: {e}", config.name)))
        };
        let (chat_url, embeddings_url) = (endpoint("/chat/completions")?, endpoint("/embeddings")?);
        Ok(Self { config, http, chat_url, embeddings_url, timeout, limits })
    }

    /// The bounds on reading this provider's answers.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn offers(&self, model: &str) -> bool {
        self.config.models.iter().any(|m| m == model)
    }

    async fn post(&self, url: Option<&reqwest::Url>, body: &Value) -> Result<reqwest::Response, LlmError> {
        let url =
            url.ok_or_else(|| LlmError::BadResponse(format!("provider `{}` has no base_url", self.config.name)))?;
        let mut req = self.http.post(url.clone()).json(body);
        if let Some(k) = &self.config.api_key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Unreachable(e.without_url().to_string())
            }
        })?;
        if !res.status().is_success() {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({"error": {"message": text}}));
            return Err(LlmError::Status { status, body });
        }
        Ok(res)
    }

    /// Sends `body` and reads a JSON answer, all before `deadline`.
    async fn post_json(
        &self,
        url: Option<&reqwest::Url>,
        body: &Value,
        deadline: tokio::time::Instant,
    ) -> Result<Value, LlmError> {
        let call = async {
            let res = self.post(url, body).await?;
            res.json::<Value>().await.map_err(|e| read_error(e, LlmError::BadResponse))
        };
        tokio::time::timeout_at(deadline, call).await.unwrap_or(Err(LlmError::Timeout))
    }

    /// `POST /chat/completions`; streams when the body asks for it. The whole call, a
    /// stream's last event included, ends within the provider's timeout: a stream
    /// still running then ends with [`LlmError::Timeout`], and one sending an event
    /// longer than [`Limits::max_event_bytes`] ends with [`LlmError::BadResponse`].
    pub async fn chat(&self, body: &Value) -> Result<Reply, LlmError> {
        let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
        if self.config.kind == ProviderKind::Mock {
            return Ok(mock::chat(body, stream));
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        if !stream {
            return self.post_json(self.chat_url.as_ref(), body, deadline).await.map(Reply::Json);
        }
        let res = tokio::time::timeout_at(deadline, self.post(self.chat_url.as_ref(), body))
            .await
            .unwrap_or(Err(LlmError::Timeout))?;
        let bytes = res.bytes_stream().map(|r| r.map_err(|e| read_error(e, LlmError::Unreachable))).boxed();
        Ok(Reply::Stream(sse::events(bytes, self.limits.max_event_bytes, Some(deadline))))
    }

    /// `POST /embeddings`, once the request passes [`check_embeddings_request`]
    /// (otherwise [`LlmError::InvalidRequest`], and no provider is called).
    pub async fn embeddings(&self, body: &Value) -> Result<Value, LlmError> {
        check_embeddings_request(body)?;
        if self.config.kind == ProviderKind::Mock {
            return mock::embeddings(body);
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        self.post_json(self.embeddings_url.as_ref(), body, deadline).await
    }
}

/// An error while reading an answer's body: a timeout, or `other` with its message (a
/// JSON answer cut short is not retried, as before; a stream cut short says so).
fn read_error(e: reqwest::Error, other: fn(String) -> LlmError) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout
    } else {
        other(e.without_url().to_string())
    }
}

/// Splits a byte stream of server-sent events into events: `data: {json}` and
/// `data: [DONE]`; comments and other fields are skipped. An upstream that stops
/// mid-event, or sends an event longer than the default [`Limits::max_event_bytes`],
/// ends the stream with an error.
pub fn sse_events(bytes: BoxStream<'static, Result<Bytes, String>>) -> EventStream {
    sse_events_limited(bytes, Limits::default(), None)
}

/// As [`sse_events`], with the given limits and, if given, a deadline by which the
/// stream must end (otherwise it ends with [`LlmError::Timeout`]). Time and memory are
/// proportional to the bytes received, however they are cut into chunks.
pub fn sse_events_limited(
    bytes: BoxStream<'static, Result<Bytes, String>>,
    limits: Limits,
    deadline: Option<tokio::time::Instant>,
) -> EventStream {
    sse::events(bytes.map(|r| r.map_err(LlmError::Unreachable)).boxed(), limits.max_event_bytes, deadline)
}

/// Rough token count (words and punctuation runs), for providers that report none.
pub fn estimate_tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

mod chat;
mod error;
mod mock;
mod request;
mod sse;

#[cfg(test)]
mod tests;
