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
use warden_app::providers;

use crate::error::Problems;
use crate::error::{openai_error, ApiError};
use crate::extract::Caller;
use crate::AppState;

/// Header by which a request narrows its key's data class.
const CLASS_HEADER: &str = "x-warden-data-class";
const CALLER_HEADER: &str = "x-warden-model-version";

fn class_header(h: &HeaderMap) -> Option<String> {
    h.get(CLASS_HEADER).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
}

/// `x-warden-model-version`: the registered model version making the call (recorded,
/// so its inference data access can be answered for). Unreadable: an empty value,
/// which is refused as malformed.
fn caller_header(h: &HeaderMap) -> Option<String> {
    h.get(CALLER_HEADER).map(|v| v.to_str().map(|s| s.trim().to_string()).unwrap_or_default())
}

fn json_body(body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<Value, Box<Response>> {
    let body = body.map_err(|e| Box::new(openai_error(e.status(), "invalid_body", &e.body_text())))?;
    serde_json::from_slice(&body).map_err(|e| {
        Box::new(openai_error(StatusCode::BAD_REQUEST, "invalid_json", &format!("the body is not valid JSON: {e}")))
    })
}

/// A gateway operation's outcome as a response: refused by dispatch (rendered in
/// OpenAI's shape by the request context), refused or failed in the gateway, or answered.
fn respond<T>(
    outcome: Result<Result<T, GatewayError>, warden_app::AppError>,
    answer: impl FnOnce(T) -> Response,
) -> Response {
    match outcome {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Err(e)) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, axum::Json(e.body)).into_response()
        }
        Ok(Ok(v)) => answer(v),
    }
}

/// OpenAI-compatible chat completions, whole or streamed (server-sent events passed
/// on as they arrive, ending with `data: [DONE]`).
#[utoipa::path(post, path = "/v1/chat/completions", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class"),
        ("x-warden-model-version" = Option<String>, Header, description = "the registered model version calling (NAME@NUMBER)")),
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
    let op = gateway::Chat { body, class_header: class_header(&headers), caller: caller_header(&headers) };
    respond(s.app.dispatch(&caller.principal, &caller.meta, op).await, |reply| match reply {
        ChatReply::Json(v) => axum::Json(v).into_response(),
        ChatReply::Stream(events) => Response::builder()
            .header(axum::http::header::CONTENT_TYPE, "text/event-stream")
            .header(axum::http::header::CACHE_CONTROL, "no-cache")
            .body(axum::body::Body::from_stream(events.map(Ok::<_, std::convert::Infallible>)))
            .unwrap_or_else(|_| openai_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "stream failed")),
    })
}

/// OpenAI-compatible embeddings.
#[utoipa::path(post, path = "/v1/embeddings", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class"),
        ("x-warden-model-version" = Option<String>, Header, description = "the registered model version calling (NAME@NUMBER)")),
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
    let op = gateway::Embeddings { body, class_header: class_header(&headers), caller: caller_header(&headers) };
    respond(s.app.dispatch(&caller.principal, &caller.meta, op).await, |v| axum::Json(v).into_response())
}

/// The models this key may use.
#[utoipa::path(get, path = "/v1/models", tag = "gateway",
    params(("x-warden-data-class" = Option<String>, Header, description = "narrow the key's data class")),
    responses((status = 200, description = "OpenAI's model list"), Problems))]
pub async fn models(State(s): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    let op = gateway::Models { class_header: class_header(&headers) };
    respond(s.app.dispatch(&caller.principal, &caller.meta, op).await, |v| axum::Json(v).into_response())
}

fn switch_view(x: warden_store::SwitchRecord) -> warden_api::Switch {
    warden_api::Switch {
        target: x.target,
        reason: x.reason,
        set_by: x.set_by.to_string(),
        set_at: crate::convert::time(x.set_at),
    }
}

/// The kill switches that are on.
#[utoipa::path(get, path = "/api/v1/gateway/switches", tag = "gateway",
    responses((status = 200, body = [warden_api::Switch]), Problems))]
pub async fn list_switches(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<warden_api::Switch>>, ApiError> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, gateway::ListSwitches).await?;
    Ok(axum::Json(rows.into_iter().map(switch_view).collect()))
}

/// Turns a kill switch on: `external` (all external egress), `provider:<name>` or
/// `region:<name>`. Matching calls are refused and running streams cut.
#[utoipa::path(put, path = "/api/v1/gateway/switches/{target}", tag = "gateway",
    params(("target" = String, Path)), request_body = warden_api::SetSwitchRequest,
    responses((status = 200, body = warden_api::Switch), Problems))]
pub async fn set_switch(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(target): crate::extract::Path<String>,
    crate::extract::Body(req): crate::extract::Body<warden_api::SetSwitchRequest>,
) -> Result<axum::Json<warden_api::Switch>, ApiError> {
    let op = gateway::SetSwitch { target, reason: Some(req.reason) };
    let x = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let x = x.ok_or_else(|| ApiError::new(warden_api::ProblemType::Internal, "the switch was not recorded"))?;
    Ok(axum::Json(switch_view(x)))
}

/// Turns a kill switch off.
#[utoipa::path(delete, path = "/api/v1/gateway/switches/{target}", tag = "gateway",
    params(("target" = String, Path)), responses((status = 204), Problems))]
pub async fn clear_switch(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(target): crate::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.dispatch(&caller.principal, &caller.meta, gateway::SetSwitch { target, reason: None }).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn provider_view(v: warden_app::providers::ProviderView) -> warden_api::Provider {
    let c = v.config;
    let (updated_by, updated_at, revision) = match v.updated {
        Some((by, at, rev)) => (Some(by.to_string()), Some(crate::convert::time(at)), Some(rev)),
        None => (None, None, None),
    };
    warden_api::Provider {
        name: c.name,
        source: v.source.as_str().into(),
        base_url: c.base_url,
        region: c.region,
        external: c.external,
        models: c.models,
        prices: c
            .prices
            .into_iter()
            .map(|(m, p)| (m, warden_api::ProviderPrice { input: p.input, output: p.output }))
            .collect(),
        has_api_key: v.has_api_key,
        usable: v.usable,
        updated_by,
        updated_at,
        revision,
    }
}

/// The gateway's providers: built in, from warden.toml, and stored through this API.
/// Credentials are never shown.
#[utoipa::path(get, path = "/api/v1/gateway/providers", tag = "gateway",
    responses((status = 200, body = [warden_api::Provider]), Problems))]
pub async fn list_providers(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<warden_api::Provider>>, ApiError> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, providers::ListProviders).await?;
    Ok(axum::Json(rows.into_iter().map(provider_view).collect()))
}

/// Adds a provider or replaces its description. The API key is stored encrypted under
/// the installation's master key and kept on later changes unless replaced or cleared.
#[utoipa::path(put, path = "/api/v1/gateway/providers/{name}", tag = "gateway",
    params(("name" = String, Path)), request_body = warden_api::PutProviderRequest,
    responses((status = 200, body = warden_api::Provider), Problems))]
pub async fn put_provider(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(name): crate::extract::Path<String>,
    crate::extract::Body(req): crate::extract::Body<warden_api::PutProviderRequest>,
) -> Result<axum::Json<warden_api::Provider>, ApiError> {
    let credential = match (req.api_key, req.clear_api_key) {
        (Some(_), true) => {
            return Err(ApiError::new(
                warden_api::ProblemType::ValidationFailed,
                "give `api_key` or `clear_api_key`, not both",
            ))
        }
        (Some(k), false) => providers::Credential::Set(k),
        (None, true) => providers::Credential::Clear,
        (None, false) => providers::Credential::Keep,
    };
    let spec = providers::ProviderSpec {
        base_url: req.base_url,
        region: req.region,
        external: req.external,
        models: req.models,
        prices: req
            .prices
            .into_iter()
            .map(|(m, p)| (m, providers::Price { input: p.input, output: p.output }))
            .collect(),
    };
    let op = providers::PutProvider { name, spec, credential };
    let v = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(axum::Json(provider_view(v)))
}

/// Removes a stored provider.
#[utoipa::path(delete, path = "/api/v1/gateway/providers/{name}", tag = "gateway",
    params(("name" = String, Path)), responses((status = 204), Problems))]
pub async fn delete_provider(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(name): crate::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.dispatch(&caller.principal, &caller.meta, providers::DeleteProvider { name }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's gateway budgets and what the current windows have used.
#[utoipa::path(get, path = "/api/v1/projects/{id}/gateway/budgets", tag = "gateway",
    params(("id" = String, Path)), responses((status = 200, body = [warden_api::Budget]), Problems))]
pub async fn list_budgets(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(id): crate::extract::Path<String>,
) -> Result<axum::Json<Vec<warden_api::Budget>>, ApiError> {
    let project = crate::convert::project_id("id", &id)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, gateway::GetBudgets { project }).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|(period, tokens, used, w)| warden_api::Budget {
                unit: if period.starts_with(gateway::COST_PREFIX) { "usd".into() } else { "tokens".into() },
                period: period.trim_start_matches(gateway::COST_PREFIX).to_string(),
                tokens,
                used,
                window_start: crate::convert::time(w),
            })
            .collect(),
    ))
}

/// Sets a project's token budget for a day or a month: calls that would pass it are
/// refused (429) before they reach a provider.
#[utoipa::path(put, path = "/api/v1/projects/{id}/gateway/budgets/{period}", tag = "gateway",
    params(("id" = String, Path), ("period" = String, Path, description = "day or month")),
    request_body = warden_api::SetBudgetRequest, responses((status = 204), Problems))]
pub async fn set_budget(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path((id, period)): crate::extract::Path<(String, String)>,
    crate::extract::Body(req): crate::extract::Body<warden_api::SetBudgetRequest>,
) -> Result<StatusCode, ApiError> {
    let (period, amount) = match (req.tokens, req.usd) {
        (Some(t), None) => (period, t),
        (None, Some(usd)) if usd.is_finite() && usd >= 0.0 && !period.starts_with(gateway::COST_PREFIX) => {
            (format!("{}{period}", gateway::COST_PREFIX), (usd * 1e6).round() as i64)
        }
        _ => {
            return Err(ApiError::new(
                warden_api::ProblemType::ValidationFailed,
                "give either `tokens` or `usd` (zero or more)",
            ))
        }
    };
    let op = gateway::SetBudget { project: crate::convert::project_id("id", &id)?, period, tokens: Some(amount) };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a project's budget for a period.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/gateway/budgets/{period}", tag = "gateway",
    params(("id" = String, Path), ("period" = String, Path)), responses((status = 204), Problems))]
pub async fn delete_budget(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path((id, period)): crate::extract::Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let op = gateway::SetBudget { project: crate::convert::project_id("id", &id)?, period, tokens: None };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}
