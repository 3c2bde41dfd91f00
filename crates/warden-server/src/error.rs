//! Rendering every failure as RFC 9457 `application/problem+json`.

use std::collections::BTreeMap;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, ResponsesBuilder};
use utoipa::IntoResponses;
use warden_api::{Problem, ProblemType};
use warden_app::AppError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem::new(kind, detail)))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let kind = match &e {
            AppError::Unauthenticated(_) => ProblemType::Unauthenticated,
            AppError::Locked => ProblemType::AccountLocked,
            AppError::SourceLocked => ProblemType::TooManyFailures,
            AppError::SecondFactorRequired => ProblemType::SecondFactorRequired,
            AppError::Forbidden(_) => ProblemType::Forbidden,
            AppError::NotFound(_) => ProblemType::NotFound,
            AppError::Conflict(_) | AppError::WrongState(_) => ProblemType::Conflict,
            AppError::Invalid(_) => ProblemType::ValidationFailed,
            AppError::BadParameter(_) => ProblemType::InvalidParameter,
            AppError::Rule { status: 403, .. } => ProblemType::Forbidden,
            AppError::Rule { status: 409, .. } => ProblemType::Conflict,
            AppError::Rule { status: 503, .. } => ProblemType::Unavailable,
            AppError::Rule { .. } | AppError::Document { .. } => ProblemType::ValidationFailed,
            AppError::Unavailable(why) => {
                tracing::error!(error = %why, "database unavailable");
                ProblemType::Unavailable
            }
            AppError::Internal(why) => {
                tracing::error!(error = %why, "internal error");
                ProblemType::Internal
            }
        };
        // Internal details stay in the operator's log, not in the response.
        let detail = match &e {
            AppError::Unavailable(_) => "the database is unavailable; try again shortly".to_string(),
            AppError::Internal(_) => {
                "an internal error occurred; the request id identifies it in the server log".to_string()
            }
            other => other.to_string(),
        };
        let mut problem = Problem::new(kind, detail);
        match e {
            AppError::Rule { rule, .. } => problem.rule = Some(rule),
            AppError::Document { errors, .. } => {
                problem.errors = errors
                    .into_iter()
                    .map(|p| warden_api::DocumentError {
                        line: p.line,
                        column: p.column,
                        path: p.path,
                        message: p.message,
                    })
                    .collect()
            }
            _ => {}
        }
        ApiError(Box::new(problem))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let kind = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ProblemType::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemType::UnsupportedMediaType,
            _ => ProblemType::BadRequest,
        };
        let detail = match &r {
            JsonRejection::JsonDataError(e) => {
                format!("{}: {}", e.body_text().split(':').next().unwrap_or("invalid body"), source_text(e))
            }
            JsonRejection::JsonSyntaxError(e) => format!("malformed JSON: {}", source_text(e)),
            JsonRejection::MissingJsonContentType(_) => "send the body with `Content-Type: application/json`".into(),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                "the request body exceeds the configured limit".into()
            }
            other => other.body_text(),
        };
        ApiError::new(kind, detail)
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(ProblemType::InvalidParameter, format!("query string: {}", source_text(&r)))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(ProblemType::InvalidParameter, r.body_text())
    }
}

/// Marker carried on problem responses so the request-context layer can fill in
/// `instance` and `request_id`.
#[derive(Clone)]
struct ProblemBody(Problem);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res =
            (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], serde_json::to_string(&self.0).unwrap_or_default())
                .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"warden\""));
        }
        res.extensions_mut().insert(ProblemBody(*self.0));
        res
    }
}

/// The id of the current request, also returned as `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives every request an id and completes problem bodies with it and the path.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = format!("req_{}", ulid::Ulid::new());
    let uri_len = req.uri().to_string().len();
    // Paths are echoed into problems and logs: a long one is refused before anything
    // else, and only its start is kept.
    let path: String = req.uri().path().chars().take(256).collect();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = if uri_len > MAX_URI_BYTES {
        ApiError::new(
            ProblemType::UriTooLong,
            format!("the request URI is {uri_len} bytes; at most {MAX_URI_BYTES} are accepted"),
        )
        .into_response()
    } else {
        next.run(req).await
    };
    if res.extensions().get::<ProblemBody>().is_none() && is_bare_error(&res) {
        // An error from a layer that does not speak problem+json (a body limit on a
        // streamed upload, a rejection from a library): the same status, as a problem.
        let status = res.status();
        let kind = ProblemType::ALL
            .iter()
            .copied()
            .find(|k| k.status() == status.as_u16())
            .unwrap_or(if status.is_server_error() { ProblemType::Internal } else { ProblemType::BadRequest });
        let detail = match kind {
            ProblemType::PayloadTooLarge => "the request body exceeds the configured limit".to_string(),
            _ => status.canonical_reason().unwrap_or("the request was refused").to_string(),
        };
        let mut problem = ApiError::new(kind, detail).into_response();
        *problem.status_mut() = status;
        res = problem;
    }
    if let Some(ProblemBody(mut p)) = res.extensions_mut().remove::<ProblemBody>() {
        let status = res.status();
        if path.starts_with("/v1/") {
            // The OpenAI-compatible gateway answers in OpenAI's error shape, so the usual
            // clients raise their usual exceptions.
            res = openai_error(status, &p.code, p.detail.as_deref().unwrap_or(&p.title));
        } else {
            p.instance = Some(path);
            p.request_id = Some(id.clone());
            let mut fresh = ApiError(Box::new(p)).into_response();
            *fresh.status_mut() = status;
            fresh.extensions_mut().remove::<ProblemBody>();
            res = fresh;
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Longest request URI (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// An error status whose body is not JSON (problem or OpenAI shape).
fn is_bare_error(res: &Response) -> bool {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let ct = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    !(ct.starts_with(PROBLEM_JSON) || ct.starts_with("application/json"))
}

/// `{"error": {"message", "type", "param", "code"}}` with `status`.
pub fn openai_error(status: StatusCode, code: &str, message: &str) -> Response {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_denied",
        404 => "not_found_error",
        429 => "rate_limit_error",
        s if s >= 500 => "server_error",
        _ => "invalid_request_error",
    };
    let body = serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    let mut res = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"warden\""));
    }
    res
}

pub async fn not_found() -> ApiError {
    ApiError::new(ProblemType::NotFound, "no route matches this path")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(ProblemType::MethodNotAllowed, "this route does not accept this method")
}

/// The error responses every operation may return, as problem+json.
pub struct Problems;

impl IntoResponses for Problems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        let mut b = ResponsesBuilder::new();
        for (status, what) in [
            ("400", "Malformed request"),
            ("401", "Not authenticated"),
            ("403", "Not allowed"),
            ("404", "Not found"),
            ("409", "Conflict"),
            ("413", "Body too large"),
            ("422", "Not acceptable"),
            ("429", "Too many failed attempts from this address"),
            ("503", "Database unavailable"),
        ] {
            b = b.response(
                status,
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                    )
                    .build(),
            );
        }
        b.build().into()
    }
}
