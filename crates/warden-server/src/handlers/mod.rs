//! One handler per route: parse the wire request, build the operation, dispatch it,
//! convert the result. Permissions are decided in dispatch, never here. One module per
//! aggregate, as in the store and the operations; sign-in and health live here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use warden_api as api;
use warden_api::ProblemType;
use warden_app::ops;
use warden_core::PrincipalKind;
use warden_store::AuditFilter;

use crate::convert as c;
use crate::error::ApiError;
use crate::error::Problems;
use crate::extract::{Body, Caller, Meta, Path, Query};
use crate::AppState;

mod audit;
mod identity;
mod registry;

pub use audit::*;
pub use identity::*;
pub use registry::*;

type Result<T> = std::result::Result<T, ApiError>;

/// Routes that need no authentication: health, readiness, metrics.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

fn text(body: String) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}

async fn healthz() -> Json<api::Health> {
    Json(api::Health { status: "ok".into(), witnesses: Vec::new(), audit_scrub: None })
}

async fn readyz(State(s): State<AppState>) -> Result<Json<api::Health>> {
    let lags = s.app.ready().await?;
    let witnesses =
        lags.into_iter().map(|(witness, cosigned, behind)| api::WitnessLag { witness, cosigned, behind }).collect();
    let (checked, of) = s.app.audit_scrubbed();
    let audit_scrub = Some(api::AuditScrub { checked, of });
    Ok(Json(api::Health { status: "ready".into(), witnesses, audit_scrub }))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.encode())
}

// ---------------------------------------------------------------- sign-in

/// Signs in with a password (and TOTP code once enrolled); returns a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", security(()),
    request_body = api::LoginRequest,
    responses((status = 200, body = api::LoginResponse), Problems))]
pub async fn login(
    State(s): State<AppState>,
    Meta(meta): Meta,
    Body(req): Body<api::LoginRequest>,
) -> Result<Json<api::LoginResponse>> {
    let out = s
        .app
        .login(warden_app::LoginInput { username: req.username, password: req.password, totp: req.totp }, &meta)
        .await?;
    Ok(Json(session(out)))
}

fn session(out: warden_app::LoginOutput) -> api::LoginResponse {
    api::LoginResponse {
        token: out.token,
        token_id: out.token_id.to_string(),
        expires_at: c::time(out.expires_at),
        mfa: out.mfa,
    }
}
