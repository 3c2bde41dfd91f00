//! A request the caller got wrong, in OpenAI's words.

use serde_json::{json, Value};

/// A request refused before any provider was called: the caller's mistake, to be
/// answered with HTTP 400 and OpenAI's error shape ([`RequestError::to_openai`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A field the OpenAI API does not define (it would reach the provider unseen).
    #[error("unrecognised request argument `{param}`: the OpenAI API defines no such field here")]
    Unknown { param: String },
    /// A required field is absent.
    #[error("`{param}` is required: give {expected}")]
    Missing { param: String, expected: &'static str },
    /// A field (or an item of one) has the wrong type or value.
    #[error("`{param}` must be {expected}")]
    Invalid { param: String, expected: &'static str },
    /// An empty string or array where something is needed.
    #[error("`{param}` is empty: give at least one {what}")]
    Empty { param: String, what: &'static str },
    /// More items than allowed.
    #[error("`{param}` has {count} items, more than the {max} allowed in one request: split it into several requests")]
    TooManyItems { param: String, count: usize, max: usize },
    /// One input is too long.
    #[error("`{param}` is about {tokens} tokens, more than the {max} allowed for one input: shorten it")]
    InputTooLong { param: String, tokens: u64, max: u64 },
    /// All inputs together are too long.
    #[error(
        "`{param}` totals about {tokens} tokens or more, more than the {max} allowed in one request: \
         split it into several requests"
    )]
    RequestTooLong { param: String, tokens: u64, max: u64 },
}

impl RequestError {
    /// The field at fault, as a path (`input`, `input[3]`, `input[3][0]`).
    pub fn param(&self) -> &str {
        match self {
            RequestError::Unknown { param } => param,
            RequestError::Missing { param, .. }
            | RequestError::Invalid { param, .. }
            | RequestError::Empty { param, .. }
            | RequestError::TooManyItems { param, .. }
            | RequestError::InputTooLong { param, .. }
            | RequestError::RequestTooLong { param, .. } => param,
        }
    }

    /// A short machine-readable code for OpenAI's `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Unknown { .. } => "unknown_parameter",
            RequestError::Missing { .. } => "missing_required_parameter",
            RequestError::Invalid { .. } | RequestError::Empty { .. } => "invalid_value",
            RequestError::TooManyItems { .. } => "too_many_inputs",
            RequestError::InputTooLong { .. } | RequestError::RequestTooLong { .. } => "context_length_exceeded",
        }
    }

    /// OpenAI's error body: `{"error": {"message", "type": "invalid_request_error", "param", "code"}}`.
    pub fn to_openai(&self) -> Value {
        json!({"error": {"message": self.to_string(), "type": "invalid_request_error",
                         "param": self.param(), "code": self.code()}})
    }
}
