//! Checks on a request before any provider sees it, with OpenAI's limits.

use serde_json::Value;

use crate::error::RequestError;
use crate::estimate_tokens;

/// Most inputs in one embeddings request (OpenAI's limit).
pub const MAX_EMBEDDING_INPUTS: usize = 2048;
/// Most tokens in one embeddings input (OpenAI's limit for its embedding models).
pub const MAX_EMBEDDING_INPUT_TOKENS: u64 = 8192;
/// Most tokens in one embeddings request, all inputs together (OpenAI's limit).
pub const MAX_EMBEDDING_REQUEST_TOKENS: u64 = 300_000;

/// What the kinds of `input` are called in messages.
const INPUT_SHAPES: &str =
    "a string, an array of strings, an array of token integers or an array of arrays of token integers";

/// Tokens of a string input, estimated: [`estimate_tokens`] counts words, which says a
/// long run without spaces is one token, so at least one token per 4 bytes is counted
/// (OpenAI's rule of thumb for English), which also bounds an input's size in bytes.
fn string_tokens(s: &str) -> u64 {
    estimate_tokens(s).max(s.len().div_ceil(4) as u64)
}

/// Whether `v` is a token: an integer from 0 to 2^32 - 1.
fn is_token(v: &Value) -> bool {
    v.as_u64().is_some_and(|t| u32::try_from(t).is_ok())
}

/// Checks an embeddings request's `input` against OpenAI's shapes and limits: a string,
/// an array of strings, an array of token integers or an array of arrays of token
/// integers; at most [`MAX_EMBEDDING_INPUTS`] inputs, each at most
/// [`MAX_EMBEDDING_INPUT_TOKENS`] tokens, [`MAX_EMBEDDING_REQUEST_TOKENS`] together
/// (strings' tokens estimated). Empty inputs are refused, as OpenAI does. Stops at the
/// first problem and names the field. Then every other field: its documented type, none
/// unknown.
pub fn check_embeddings_request(body: &Value) -> Result<(), RequestError> {
    check_input(body)?;
    crate::chat::check_embeddings_fields(body)
}

/// `input`: its shape, the number of inputs and their size.
fn check_input(body: &Value) -> Result<(), RequestError> {
    let input =
        body.get("input").ok_or_else(|| RequestError::Missing { param: "input".into(), expected: INPUT_SHAPES })?;
    let one = |tokens: u64, param: &dyn Fn() -> String| -> Result<u64, RequestError> {
        if tokens > MAX_EMBEDDING_INPUT_TOKENS {
            return Err(RequestError::InputTooLong { param: param(), tokens, max: MAX_EMBEDDING_INPUT_TOKENS });
        }
        Ok(tokens)
    };
    let items = match input {
        Value::String(s) if s.is_empty() => {
            return Err(RequestError::Empty { param: "input".into(), what: "character" });
        }
        Value::String(s) => return one(string_tokens(s), &|| "input".into()).map(drop),
        Value::Array(items) => items,
        _ => return Err(RequestError::Invalid { param: "input".into(), expected: INPUT_SHAPES }),
    };
    if items.is_empty() {
        return Err(RequestError::Empty { param: "input".into(), what: "input" });
    }
    // An array of token integers is one input.
    if items.iter().all(is_token) {
        return one(items.len() as u64, &|| "input".into()).map(drop);
    }
    if items.len() > MAX_EMBEDDING_INPUTS {
        return Err(RequestError::TooManyItems {
            param: "input".into(),
            count: items.len(),
            max: MAX_EMBEDDING_INPUTS,
        });
    }
    // The first item decides the kind; the others must be the same.
    let strings = match &items[0] {
        Value::String(_) => true,
        Value::Array(_) => false,
        Value::Number(_) => {
            let j = items.iter().position(|t| !is_token(t)).unwrap_or(0);
            return Err(RequestError::Invalid {
                param: format!("input[{j}]"),
                expected: "a token (an integer from 0 to 4294967295), like `input[0]`",
            });
        }
        _ => {
            return Err(RequestError::Invalid {
                param: "input[0]".into(),
                expected: "a string, a token integer or an array of token integers",
            })
        }
    };
    let mut total = 0u64;
    for (i, item) in items.iter().enumerate() {
        let param = || format!("input[{i}]");
        let tokens = match item {
            Value::String(s) if strings && s.is_empty() => {
                return Err(RequestError::Empty { param: param(), what: "character" });
            }
            Value::String(s) if strings => string_tokens(s),
            Value::Array(tokens) if !strings => {
                if tokens.is_empty() {
                    return Err(RequestError::Empty { param: param(), what: "token" });
                }
                if let Some(j) = tokens.iter().position(|t| !is_token(t)) {
                    return Err(RequestError::Invalid {
                        param: format!("input[{i}][{j}]"),
                        expected: "a token: an integer from 0 to 4294967295",
                    });
                }
                tokens.len() as u64
            }
            _ if strings => {
                return Err(RequestError::Invalid { param: param(), expected: "a string, like `input[0]`" });
            }
            _ => {
                return Err(RequestError::Invalid {
                    param: param(),
                    expected: "an array of token integers, like `input[0]`",
                })
            }
        };
        total += one(tokens, &param)?;
        if total > MAX_EMBEDDING_REQUEST_TOKENS {
            return Err(RequestError::RequestTooLong {
                param: "input".into(),
                tokens: total,
                max: MAX_EMBEDDING_REQUEST_TOKENS,
            });
        }
    }
    Ok(())
}
