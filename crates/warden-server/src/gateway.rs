//! The OpenAI-compatible gateway routes. Callers use a gateway key (a token bound to a
//! project and a data class) as their OpenAI API key; every error, including
//! authentication and authorisation failures, is OpenAI's error JSON.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;
use warden_app::gateway::{self, ChatReply, GatewayError};

use crate::error::{openai_error, ApiError};
use crate::extract::Caller;
use crate::openapi::Problems;
use crate::AppState;

/// Header by which a request narrows its key's data class.
const CLASS_HEADER: &str = "x-warden-data-class";

fn class_header(h: &HeaderMap) -> Option<String> {
    h.get(CLASS_HEADER).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
}

fn json_body(body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<Value, Box<Response>> {
    let body = body.map_err(|e| Box::new(openai_error(e.status(), "invalid_body", &e.body_text())))?;
    serde_json::from_slice(&body).map_err(|e| {
        Box::new(openai_error(StatusCode::BAD_REQUEST, "invalid_json", &format!("the body is not valid JSON: {e}")))
    })
}

fn gateway_error(e: GatewayError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY);
    (status, axum::Json(e.body)).into_response()
}

/// OpenAI-compatible chat completions, whole or streamed (server-sent events passed
/// on as they arrive, ending with `data: [DONE]`).
#[utoipa::path(post, path = "/v1/chat/completions", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class")),
    request_body(content = Object, description = "OpenAI's chat completion request"),
    responses((status = 200, description = "OpenAI's chat completion, or an event stream"), Problems))]
pub async fn chat_completions(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match json_body(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let op = gateway::Chat { body, class_header: class_header(&headers) };
    match s.app.dispatch(&caller.principal, &caller.meta, op).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Err(e)) => gateway_error(e),
        Ok(Ok(ChatReply::Json(v))) => axum::Json(v).into_response(),
        Ok(Ok(ChatReply::Stream(events))) => Response::builder()
            .header(axum::http::header::CONTENT_TYPE, "text/event-stream")
            .header(axum::http::header::CACHE_CONTROL, "no-cache")
            .body(axum::body::Body::from_stream(events.map(Ok::<_, std::convert::Infallible>)))
            .unwrap_or_else(|_| openai_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "stream failed")),
    }
}

/// OpenAI-compatible embeddings.
#[utoipa::path(post, path = "/v1/embeddings", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class")),
    request_body(content = Object, description = "OpenAI's embeddings request"),
    responses((status = 200, description = "OpenAI's embeddings response"), Problems))]
pub async fn embeddings(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match json_body(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let op = gateway::Embeddings { body, class_header: class_header(&headers) };
    match s.app.dispatch(&caller.principal, &caller.meta, op).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Err(e)) => gateway_error(e),
        Ok(Ok(v)) => axum::Json(v).into_response(),
    }
}

/// The models this key may use.
#[utoipa::path(get, path = "/v1/models", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class")),
    responses((status = 200, description = "OpenAI's model list"), Problems))]
pub async fn models(State(s): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    let op = gateway::Models { class_header: class_header(&headers) };
    match s.app.dispatch(&caller.principal, &caller.meta, op).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Err(e)) => gateway_error(e),
        Ok(Ok(v)) => axum::Json(v).into_response(),
    }
}
