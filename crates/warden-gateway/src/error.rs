//! Errors in OpenAI's shape.

use serde_json::{json, Value};
use warden_llm::LlmError;

/// An error in OpenAI's shape: the HTTP status and `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayError {
    pub status: u16,
    pub body: Value,
}

/// A request that breaks the OpenAI request schema or a limit: the caller's mistake.
impl From<warden_llm::RequestError> for GatewayError {
    fn from(r: warden_llm::RequestError) -> Self {
        GatewayError { status: 400, body: r.to_openai() }
    }
}

impl GatewayError {
    pub fn new(status: u16, kind: &str, code: &str, message: impl Into<String>, param: Option<&str>) -> Self {
        Self { status, body: json!({"error": {"message": message.into(), "type": kind, "param": param, "code": code}}) }
    }
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::new(400, "invalid_request_error", "invalid_request", message, param)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "permission_denied", "policy_denied", message, None)
    }
}

pub fn upstream_error(e: LlmError) -> GatewayError {
    match e {
        // The provider's own client errors pass through in its words.
        LlmError::Status { status, body } if (400..500).contains(&status) && status != 429 => {
            GatewayError { status, body }
        }
        LlmError::Status { status: 429, .. } => {
            GatewayError::new(429, "rate_limit_error", "upstream_rate_limited", "the provider is rate limiting", None)
        }
        LlmError::Timeout => GatewayError::new(504, "server_error", "upstream_timeout", e.to_string(), None),
        // A request no provider may be sent (too many inputs, wrong types): the caller's.
        LlmError::InvalidRequest(r) => r.into(),
        other => GatewayError::new(502, "server_error", "upstream_error", other.to_string(), None),
    }
}
