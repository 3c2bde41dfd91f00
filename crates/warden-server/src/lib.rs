//! Warden's HTTP edge: the axum router, the extractors, problem+json rendering, metrics
//! and the OpenAPI document. Handlers translate wire types to operations and hand them
//! to [`warden_app::App::dispatch`]; none of them decides permissions.

#![forbid(unsafe_code)]

mod catalog;
mod client;
mod convert;
mod error;
mod evidence;
mod extract;
mod gateway;
mod handlers;
mod metrics;
pub mod openapi;
mod releases;
mod state;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::Router;
use warden_app::App;

pub use client::TrustedProxy;
pub use error::ApiError;
pub use metrics::Metrics;
pub use state::AppState;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<TrustedProxy>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { max_body_bytes: 1024 * 1024, trusted_proxies: Vec::new() }
    }
}

/// The complete router: API, health, metrics, OpenAPI document.
pub fn router(app: Arc<App>, config: &ServerConfig) -> Router {
    let metrics = Arc::new(Metrics::new());
    let state = AppState { app, metrics: metrics.clone() };
    let (api, doc) = openapi::api_router().split_for_parts();
    let doc = openapi::finish(doc);
    let doc_json = Arc::new(serde_json::to_string(&doc).unwrap_or_default());
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move |State(s): State<AppState>, caller: extract::Caller| {
                let doc = doc_json.clone();
                async move {
                    // Any caller who may use the API at all (asked as `whoami` through
                    // dispatch: a gateway key, for one, may not).
                    s.app.dispatch(&caller.principal, &caller.meta, warden_app::ops::Whoami).await?;
                    Ok::<_, ApiError>(([(axum::http::header::CONTENT_TYPE, "application/json")], doc.as_ref().clone()))
                }
            }),
        )
        .route("/api/v1/audit/tile/{*path}", axum::routing::get(handlers::audit_tile))
        .route_layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .merge(handlers::public_routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(error::request_context))
        .layer(axum::middleware::from_fn_with_state(Arc::new(config.trusted_proxies.clone()), client::client_addr))
        .with_state(state)
}
