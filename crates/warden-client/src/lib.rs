//! A typed client for the Warden REST API, used by the CLI and the end-to-end tests.

#![forbid(unsafe_code)]

use serde::de::DeserializeOwned;
use serde::Serialize;
use warden_api as api;
pub use warden_api::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a problem document.
    #[error("{}", describe(.0))]
    Problem(Problem),
    #[error(
        "cannot reach Warden at {url}: {reason}. Is the server running there? If it moved, point the CLI at it: `warden login --url URL` (or --url, WARDEN_URL)"
    )]
    Connect { url: String, reason: String },
    #[error("unexpected response from Warden (HTTP {status}): {body}")]
    Unexpected { status: u16, body: String },
    /// A project named by a name that names none of the caller's projects.
    #[error("no project named `{0}` is visible to you (`warden project list` shows yours; ids start with prj_)")]
    UnknownProject(String),
    /// A name that names no person, service or group of the kinds asked for.
    #[error("no {kinds} is named `{name}` (give the exact name, or the id: usr_…, svc_…, grp_…)")]
    UnknownName { name: String, kinds: String },
    /// A name that names more than one thing of the kinds asked for.
    #[error("`{name}` names {}: {}; give the id", .candidates.len(), .candidates.join(", "))]
    Ambiguous { name: String, candidates: Vec<String> },
}

/// A problem as one message: title, detail, the rule that refused, and every located
/// error of a submitted document on its own line.
fn describe(p: &Problem) -> String {
    let mut s = p.title.clone();
    if let Some(d) = &p.detail {
        s.push_str(": ");
        s.push_str(d);
    }
    if let Some(r) = &p.rule {
        s.push_str(&format!(" [rule {r}]"));
    }
    for e in &p.errors {
        s.push_str(&format!("\n  {}:{}: {}: {}", e.line, e.column, e.path, e.message));
    }
    s
}

impl ClientError {
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Problem(p) => Some(p),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    /// Files larger than this go up in parts of this size, resumably.
    chunk_size: u64,
    /// The caller's projects by name, read once when a project is first named by name.
    projects: std::sync::Arc<tokio::sync::Mutex<Option<std::collections::HashMap<String, String>>>>,
    /// Told how uploads, downloads and digests go (a progress bar, for a person).
    progress: Option<std::sync::Arc<dyn Progress>>,
}

/// How a long transfer goes, for a progress display. Positions are bytes.
pub trait Progress: Send + Sync {
    /// A transfer of `total` bytes (when known) begins: `label` says what moves.
    fn begin(&self, label: &str, total: Option<u64>);
    /// The transfer has reached `done` bytes (it may go back when a part is resumed).
    fn at(&self, done: u64);
    /// The transfer ended (succeeded or not).
    fn end(&self);
}

/// Ends a display when dropped, so that an early return or an error ends it too.
struct Shown<'a>(Option<&'a dyn Progress>);

impl<'a> Shown<'a> {
    fn begin(p: Option<&'a dyn Progress>, label: &str, total: Option<u64>) -> Self {
        if let Some(p) = p {
            p.begin(label, total);
        }
        Shown(p)
    }
    fn at(&self, done: u64) {
        if let Some(p) = self.0 {
            p.at(done);
        }
    }
}

impl Drop for Shown<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            p.end();
        }
    }
}

/// The default part size for chunked uploads.
pub const DEFAULT_CHUNK_SIZE: u64 = 64 << 20;
/// How many failed parts in a row an upload survives (each resumes from the server's
/// offset after a short pause).
const PART_RETRIES: u32 = 5;

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("progress", &self.progress.is_some())
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Decodes `%XX` escapes (a path segment [`enc`] wrote).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b.get(i), b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())) {
            (Some(b'%'), Some(hex)) if u8::from_str_radix(hex, 16).is_ok() => {
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'%'));
                i += 3;
            }
            (Some(c), _) => {
                out.push(*c);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for paths and queries).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            http: reqwest::Client::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            projects: Default::default(),
            progress: None,
        }
    }

    /// Reports uploads, downloads and digests of files to `progress`.
    pub fn with_progress(mut self, progress: std::sync::Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// SHA-256 of a local file (as [`file_digest`]), shown as progress.
    pub async fn digest_file(&self, path: &std::path::Path) -> std::io::Result<(String, u64)> {
        let total = tokio::fs::metadata(path).await?.len();
        let shown = Shown::begin(self.progress.as_deref(), &format!("hashing {}", short_name(path)), Some(total));
        digest_with(path, |done| shown.at(done)).await
    }

    /// Sets the size above which (and in parts of which) files upload in chunks.
    pub fn with_chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends with the token; a successful status and its body, or the problem. A
    /// project named by its name (`/api/v1/projects/NAME/…`, `?project=NAME`) is sent
    /// by its id.
    async fn fetch(&self, req: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, String)> {
        let res = self.send_request(req).await?;
        self.read_response(res).await
    }

    /// Sends with the token, project names replaced by ids; the response as it comes.
    async fn send_request(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let mut request =
            req.build().map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.to_string() })?;
        self.project_ids(request.url_mut()).await?;
        self.execute(request).await
    }

    /// Replaces project names in a URL's path and `project` query by the ids of the
    /// caller's projects of those names.
    async fn project_ids(&self, url: &mut reqwest::Url) -> Result<()> {
        let segments: Vec<String> = url.path_segments().map(|s| s.map(str::to_string).collect()).unwrap_or_default();
        if segments.len() > 3 && segments[..3] == ["api", "v1", "projects"] && names_a_project(&segments[3]) {
            let name = percent_decode(&segments[3]);
            let id = self.project_named(&name).await?;
            let mut path = segments.clone();
            path[3] = id;
            url.set_path(&format!("/{}", path.join("/")));
        }
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if pairs.iter().any(|(k, v)| k == "project" && names_a_project(v)) {
            let mut out = Vec::new();
            for (k, v) in pairs {
                let v = if k == "project" && names_a_project(&v) { self.project_named(&v).await? } else { v };
                out.push((k, v));
            }
            url.query_pairs_mut().clear().extend_pairs(out);
        }
        Ok(())
    }

    /// The id of the caller's project called `name` (its list read once).
    async fn project_named(&self, name: &str) -> Result<String> {
        let mut known = self.projects.lock().await;
        if known.is_none() {
            let mut all = std::collections::HashMap::new();
            let mut cursor: Option<String> = None;
            loop {
                let path = format!("{}/api/v1/projects{}", self.base, Self::page(cursor.as_deref(), Some(500)));
                // (`execute` adds the token.)
                let request = self
                    .http
                    .get(path)
                    .build()
                    .map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.to_string() })?;
                let (_, body) = self.read_response(self.execute(request).await?).await?;
                let page: api::Paged<api::Project> = serde_json::from_str(&body)
                    .map_err(|e| ClientError::Unexpected { status: 200, body: format!("{e}: {body}") })?;
                all.extend(page.items.iter().map(|p| (p.name.clone(), p.id.clone())));
                match page.next_cursor {
                    Some(next) if !page.items.is_empty() => cursor = Some(next),
                    _ => break,
                }
            }
            *known = Some(all);
        }
        known.as_ref().and_then(|k| k.get(name)).cloned().ok_or_else(|| ClientError::UnknownProject(name.to_string()))
    }

    /// Sends a request as built, with the token.
    async fn execute(&self, mut request: reqwest::Request) -> Result<reqwest::Response> {
        if let Some(t) = &self.token {
            let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
                .map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.to_string() })?;
            request.headers_mut().insert(reqwest::header::AUTHORIZATION, value);
        }
        self.http
            .execute(request)
            .await
            .map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.without_url().to_string() })
    }

    /// A successful status and its body, or the problem.
    async fn read_response(&self, res: reqwest::Response) -> Result<(reqwest::StatusCode, String)> {
        let status = res.status();
        let is_problem = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"));
        let body =
            res.text().await.map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.to_string() })?;
        if is_problem {
            return match serde_json::from_str::<Problem>(&body) {
                Ok(p) => Err(ClientError::Problem(p)),
                Err(_) => Err(ClientError::Unexpected { status: status.as_u16(), body }),
            };
        }
        if !status.is_success() {
            return Err(ClientError::Unexpected { status: status.as_u16(), body });
        }
        Ok((status, body))
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<Option<T>> {
        let (status, body) = self.fetch(req).await?;
        if status == reqwest::StatusCode::NO_CONTENT || body.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| ClientError::Unexpected { status: status.as_u16(), body: format!("{e}: {body}") })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await?
            .ok_or(ClientError::Unexpected { status: 204, body: String::new() })
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.with_body(reqwest::Method::POST, path, body).await
    }

    async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.with_body(reqwest::Method::PUT, path, body).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.with_body(reqwest::Method::PATCH, path, body).await
    }

    /// Sends a JSON body; a project it names by name (its top-level `project`) is sent
    /// by id, as in paths and queries.
    async fn with_body<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let mut body = serde_json::to_value(body)
            .map_err(|e| ClientError::Unexpected { status: 0, body: format!("cannot encode the request: {e}") })?;
        if let Some(serde_json::Value::String(p)) = body.get_mut("project") {
            if names_a_project(p) {
                *p = self.project_named(p).await?;
            }
        }
        self.send(self.http.request(method, format!("{}{path}", self.base)).json(&body))
            .await?
            .ok_or(ClientError::Unexpected { status: 204, body: String::new() })
    }

    async fn post_empty(&self, path: &str) -> Result<()> {
        self.send::<serde_json::Value>(self.http.post(format!("{}{path}", self.base))).await.map(|_| ())
    }

    async fn put_empty(&self, path: &str) -> Result<()> {
        self.send::<serde_json::Value>(self.http.put(format!("{}{path}", self.base))).await.map(|_| ())
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.send::<serde_json::Value>(self.http.delete(format!("{}{path}", self.base))).await.map(|_| ())
    }

    fn page(cursor: Option<&str>, limit: Option<u32>) -> String {
        let mut q = Vec::new();
        if let Some(c) = cursor {
            q.push(format!("cursor={}", enc(c)));
        }
        if let Some(l) = limit {
            q.push(format!("limit={l}"));
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }

    pub async fn health(&self) -> Result<api::Health> {
        self.get("/healthz").await
    }

    pub async fn login(&self, req: &api::LoginRequest) -> Result<api::LoginResponse> {
        self.post("/api/v1/auth/login", req).await
    }

    pub async fn whoami(&self) -> Result<api::Whoami> {
        self.get("/api/v1/whoami").await
    }

    pub async fn totp_enrol(&self) -> Result<api::TotpEnrolment> {
        self.post("/api/v1/me/totp", &serde_json::json!({})).await
    }

    /// Confirms enrolment; the answer is a session verified with the second factor.
    pub async fn totp_confirm(&self, code: &str) -> Result<api::LoginResponse> {
        self.post("/api/v1/me/totp/confirm", &api::TotpConfirmRequest { code: code.into() }).await
    }

    /// A session verified with a second factor, from the current credential and a code.
    pub async fn step_up(&self, code: &str) -> Result<api::LoginResponse> {
        self.post("/api/v1/auth/step-up", &api::TotpConfirmRequest { code: code.into() }).await
    }

    pub async fn list_tokens(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<api::Paged<api::Token>> {
        self.get(&format!("/api/v1/tokens{}", Self::page(cursor, limit))).await
    }

    pub async fn create_token(&self, req: &api::CreateTokenRequest) -> Result<api::CreatedToken> {
        self.post("/api/v1/tokens", req).await
    }

    pub async fn revoke_token(&self, id: &str) -> Result<()> {
        self.delete(&format!("/api/v1/tokens/{}", enc(id))).await
    }

    pub async fn list_projects(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<api::Paged<api::Project>> {
        self.get(&format!("/api/v1/projects{}", Self::page(cursor, limit))).await
    }

    pub async fn create_project(&self, req: &api::CreateProjectRequest) -> Result<api::Project> {
        self.post("/api/v1/projects", req).await
    }

    pub async fn get_project(&self, id: &str) -> Result<api::Project> {
        self.get(&format!("/api/v1/projects/{}", enc(id))).await
    }

    pub async fn list_members(&self, project: &str) -> Result<Vec<api::Member>> {
        self.get(&format!("/api/v1/projects/{}/members", enc(project))).await
    }

    pub async fn add_member(&self, project: &str, req: &api::AddMemberRequest) -> Result<api::Member> {
        self.post(&format!("/api/v1/projects/{}/members", enc(project)), req).await
    }

    pub async fn remove_member(&self, project: &str, member: &str, role: &str) -> Result<()> {
        self.delete(&format!("/api/v1/projects/{}/members/{}/{}", enc(project), enc(member), enc(role))).await
    }

    pub async fn list_users(
        &self,
        kind: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<api::Paged<api::User>> {
        let mut q = Self::page(cursor, limit);
        if let Some(k) = kind {
            q = if q.is_empty() { format!("?kind={}", enc(k)) } else { format!("{q}&kind={}", enc(k)) };
        }
        self.get(&format!("/api/v1/users{q}")).await
    }

    pub async fn create_user(&self, req: &api::CreateUserRequest) -> Result<api::User> {
        self.post("/api/v1/users", req).await
    }

    pub async fn get_user(&self, id: &str) -> Result<api::User> {
        self.get(&format!("/api/v1/users/{}", enc(id))).await
    }

    pub async fn set_user_disabled(&self, id: &str, disabled: bool) -> Result<()> {
        let verb = if disabled { "disable" } else { "enable" };
        self.post_empty(&format!("/api/v1/users/{}/{verb}", enc(id))).await
    }

    pub async fn unlock_user(&self, id: &str) -> Result<()> {
        self.post_empty(&format!("/api/v1/users/{}/unlock", enc(id))).await
    }

    pub async fn create_service(&self, req: &api::CreateServiceRequest) -> Result<api::User> {
        self.post("/api/v1/services", req).await
    }

    pub async fn create_service_token(
        &self,
        service: &str,
        req: &api::CreateServiceTokenRequest,
    ) -> Result<api::CreatedToken> {
        self.post(&format!("/api/v1/services/{}/tokens", enc(service)), req).await
    }

    /// Who an exact name names (people, services, groups).
    pub async fn directory(&self, name: &str) -> Result<api::DirectoryAnswer> {
        self.get(&format!("/api/v1/directory?name={}", enc(name))).await
    }

    /// The id of the person, service or group named by `reference`: an id (`usr_…`,
    /// `svc_…`, `grp_…`) as it is, or an exact name looked up among `kinds` (`user`,
    /// `service`, `group`).
    pub async fn principal_id(&self, reference: &str, kinds: &[&str]) -> Result<String> {
        let prefixes: &[(&str, &str)] = &[("usr_", "user"), ("svc_", "service"), ("grp_", "group")];
        if prefixes.iter().any(|(p, k)| reference.starts_with(p) && kinds.contains(k)) {
            return Ok(reference.to_string());
        }
        let found = self.directory(reference).await?;
        let mut matches: Vec<api::DirectoryMatch> =
            found.matches.into_iter().filter(|m| kinds.contains(&m.kind.as_str())).collect();
        match matches.len() {
            0 => Err(ClientError::UnknownName { name: reference.to_string(), kinds: kinds.join(" or ") }),
            1 => Ok(matches.remove(0).id),
            _ => Err(ClientError::Ambiguous {
                name: reference.to_string(),
                candidates: matches.iter().map(|m| format!("{} ({})", m.id, m.kind)).collect(),
            }),
        }
    }

    pub async fn grant_role(&self, req: &api::RoleGrantRequest) -> Result<api::RoleGrant> {
        self.post("/api/v1/role-grants", req).await
    }

    pub async fn revoke_role(&self, member: &str, role: &str) -> Result<()> {
        self.delete(&format!("/api/v1/role-grants/{}/{}", enc(member), enc(role))).await
    }

    pub async fn list_groups(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<api::Paged<api::Group>> {
        self.get(&format!("/api/v1/groups{}", Self::page(cursor, limit))).await
    }

    pub async fn create_group(&self, req: &api::CreateGroupRequest) -> Result<api::Group> {
        self.post("/api/v1/groups", req).await
    }

    pub async fn get_group(&self, id: &str) -> Result<api::Group> {
        self.get(&format!("/api/v1/groups/{}", enc(id))).await
    }

    pub async fn add_group_member(&self, group: &str, subject: &str) -> Result<()> {
        self.put_empty(&format!("/api/v1/groups/{}/members/{}", enc(group), enc(subject))).await
    }

    pub async fn remove_group_member(&self, group: &str, subject: &str) -> Result<()> {
        self.delete(&format!("/api/v1/groups/{}/members/{}", enc(group), enc(subject))).await
    }

    /// Ledger search; `query` is a ready-made query string without the `?`.
    pub async fn audit_events(&self, query: &str) -> Result<api::Paged<api::AuditEntry>> {
        let q = if query.is_empty() { String::new() } else { format!("?{query}") };
        self.get(&format!("/api/v1/audit/events{q}")).await
    }

    pub async fn audit_entry(&self, index: u64) -> Result<api::AuditEntry> {
        self.get(&format!("/api/v1/audit/entries/{index}")).await
    }

    pub async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<api::AuditEntry>> {
        self.get(&format!("/api/v1/audit/entries?from={from}&limit={limit}")).await
    }

    pub async fn audit_checkpoints(&self, from_size: u64, limit: u32) -> Result<Vec<api::AuditCheckpoint>> {
        self.get(&format!("/api/v1/audit/checkpoints?from_size={from_size}&limit={limit}")).await
    }

    pub async fn audit_inclusion(&self, index: u64, tree_size: u64) -> Result<api::AuditProof> {
        self.get(&format!("/api/v1/audit/proof/inclusion?index={index}&tree_size={tree_size}")).await
    }

    pub async fn audit_consistency(&self, from: u64, to: u64) -> Result<api::AuditProof> {
        self.get(&format!("/api/v1/audit/proof/consistency?from={from}&to={to}")).await
    }

    /// The latest signed checkpoint (text).
    /// The latest checkpoint the log's witnesses cosigned.
    pub async fn audit_cosigned_checkpoint(&self) -> Result<String> {
        self.get_text("/api/v1/audit/checkpoint/cosigned").await
    }

    pub async fn audit_checkpoint(&self) -> Result<String> {
        self.get_text("/api/v1/audit/checkpoint").await
    }

    /// The checkpoint verifier key (text, no authentication needed).
    pub async fn audit_public_key(&self) -> Result<String> {
        Ok(self.get_text("/api/v1/audit/public-key").await?.trim().to_string())
    }

    async fn get_text(&self, path: &str) -> Result<String> {
        Ok(self.fetch(self.http.get(format!("{}{path}", self.base))).await?.1)
    }
}

/// Whether a project reference is a name (to look up) rather than an id.
fn names_a_project(reference: &str) -> bool {
    !reference.is_empty() && !reference.starts_with("prj_")
}

/// A file's name for a progress line.
fn short_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// SHA-256 of a file as `sha256:<hex>`, reading it in chunks.
pub async fn file_digest(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    digest_with(path, |_| {}).await
}

async fn digest_with(path: &std::path::Path, at: impl Fn(u64)) -> std::io::Result<(String, u64)> {
    use sha2::Digest as _;
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(buf.get(..n).unwrap_or(&[]));
        at(size);
    }
    Ok((format!("sha256:{}", hex::encode(h.finalize())), size))
}

/// Whether a failed part is worth resuming: the connection failed, or the server's
/// offset moved (409).
fn resumable(e: &ClientError) -> bool {
    match e {
        ClientError::Connect { .. } => true,
        ClientError::Problem(p) => p.status == 409 || p.status == 503,
        ClientError::Unexpected { status, .. } => *status >= 500,
        ClientError::UnknownProject(_) | ClientError::UnknownName { .. } | ClientError::Ambiguous { .. } => false,
    }
}

/// A file as a body stream; `progress` is told the position (from `start`) as it goes.
fn file_stream<R>(
    f: R,
    start: u64,
    progress: Option<std::sync::Arc<dyn Progress>>,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    futures_util::stream::unfold((f, start), move |(mut f, done)| {
        let progress = progress.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    let done = done + n as u64;
                    if let Some(p) = &progress {
                        p.at(done);
                    }
                    Some((Ok(bytes::Bytes::from(buf)), (f, done)))
                }
                Err(e) => Some((Err(e), (f, done))),
            }
        }
    })
}

impl Client {
    /// Streams a file into a project's blob store under `digest`: in one request, or
    /// for files larger than the chunk size through a resumable upload session.
    pub async fn upload_blob(&self, project: &str, digest: &str, path: &std::path::Path) -> Result<api::BlobStored> {
        let io = |e: std::io::Error| ClientError::Connect { url: path.display().to_string(), reason: e.to_string() };
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        let _shown = Shown::begin(self.progress.as_deref(), &format!("uploading {}", short_name(path)), Some(size));
        if size > self.chunk_size {
            return self.upload_in_parts(project, digest, path, size).await;
        }
        let f = tokio::fs::File::open(path).await.map_err(io)?;
        let body = reqwest::Body::wrap_stream(file_stream(f, 0, self.progress.clone()));
        let req = self
            .http
            .put(format!("{}/api/v1/projects/{}/blobs/{}", self.base, enc(project), enc(digest)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(req).await?.ok_or(ClientError::Unexpected { status: 204, body: String::new() })
    }

    /// A resumable upload: parts of `chunk_size` at the server's offset. A part that
    /// fails (connection lost, or the offset moved) is resumed from the offset the
    /// server reports; the session completes with the whole file's digest.
    async fn upload_in_parts(
        &self,
        project: &str,
        digest: &str,
        path: &std::path::Path,
        size: u64,
    ) -> Result<api::BlobStored> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let io = |e: std::io::Error| ClientError::Connect { url: path.display().to_string(), reason: e.to_string() };
        let sessions = format!("/api/v1/projects/{}/uploads", enc(project));
        let upload: api::Upload = self.post(&sessions, &serde_json::Value::Null).await?;
        let session = format!("{sessions}/{}", enc(&upload.id));
        let mut offset = upload.offset;
        let mut failures = 0;
        while offset < size {
            let len = self.chunk_size.min(size - offset);
            let mut f = tokio::fs::File::open(path).await.map_err(io)?;
            f.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
            let body = reqwest::Body::wrap_stream(file_stream(f.take(len), offset, self.progress.clone()));
            let req = self
                .http
                .patch(format!("{}{session}?offset={offset}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body);
            match self.send::<api::Upload>(req).await {
                Ok(Some(u)) => {
                    offset = u.offset;
                    failures = 0;
                }
                Ok(None) => return Err(ClientError::Unexpected { status: 204, body: String::new() }),
                Err(e) if failures < PART_RETRIES && resumable(&e) => {
                    failures += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(failures))).await;
                    offset = self.get::<api::Upload>(&session).await?.offset;
                }
                Err(e) => {
                    let _ = self.delete(&session).await;
                    return Err(e);
                }
            }
        }
        self.send(self.http.put(format!("{}{session}?digest={}", self.base, enc(digest))))
            .await?
            .ok_or(ClientError::Unexpected { status: 204, body: String::new() })
    }

    /// Streams a blob into `out`; returns its size.
    pub async fn download_blob(&self, project: &str, digest: &str, out: &std::path::Path) -> Result<u64> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let req = self.http.get(format!("{}/api/v1/projects/{}/blobs/{}", self.base, enc(project), enc(digest)));
        let res = self.send_request(req).await?;
        if !res.status().is_success() {
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            return Err(serde_json::from_str(&body)
                .map(ClientError::Problem)
                .unwrap_or(ClientError::Unexpected { status, body }));
        }
        let io = |e: std::io::Error| ClientError::Connect { url: out.display().to_string(), reason: e.to_string() };
        let shown =
            Shown::begin(self.progress.as_deref(), &format!("downloading {}", short_name(out)), res.content_length());
        let mut f = tokio::fs::File::create(out).await.map_err(io)?;
        let mut stream = res.bytes_stream();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ClientError::Connect { url: self.base.clone(), reason: e.to_string() })?;
            size += chunk.len() as u64;
            f.write_all(&chunk).await.map_err(io)?;
            shown.at(size);
        }
        f.sync_all().await.map_err(io)?;
        Ok(size)
    }
}

impl Client {
    pub async fn create_artifact(&self, project: &str, req: &api::CreateArtifactRequest) -> Result<api::Artifact> {
        self.post(&format!("/api/v1/projects/{}/artifacts", enc(project)), req).await
    }

    pub async fn get_artifact(&self, project: &str, id: &str) -> Result<api::Artifact> {
        self.get(&format!("/api/v1/projects/{}/artifacts/{}", enc(project), enc(id))).await
    }

    pub async fn create_model_version(
        &self,
        project: &str,
        model: &str,
        req: &api::CreateModelVersionRequest,
    ) -> Result<api::ModelVersion> {
        self.post(&format!("/api/v1/projects/{}/models/{}/versions", enc(project), enc(model)), req).await
    }

    pub async fn add_evaluation(
        &self,
        project: &str,
        model: &str,
        version: u64,
        req: &api::AddEvaluationRequest,
    ) -> Result<api::Evaluation> {
        self.post(
            &format!("/api/v1/projects/{}/models/{}/versions/{version}/evaluations", enc(project), enc(model)),
            req,
        )
        .await
    }

    /// A version's evaluations, oldest first.
    pub async fn list_evaluations(&self, project: &str, model: &str, version: u64) -> Result<Vec<api::Evaluation>> {
        self.get(&format!("/api/v1/projects/{}/models/{}/versions/{version}/evaluations", enc(project), enc(model)))
            .await
    }

    // ------------------------------------------------------------ catalog and lineage

    pub async fn create_dataset(&self, project: &str, req: &api::DatasetRequest) -> Result<api::Dataset> {
        self.post(&format!("/api/v1/projects/{}/datasets", enc(project)), req).await
    }

    pub async fn update_dataset(&self, project: &str, id: &str, req: &api::DatasetRequest) -> Result<api::Dataset> {
        self.put(&format!("/api/v1/projects/{}/datasets/{}", enc(project), enc(id)), req).await
    }

    /// Changes only the fields the patch names.
    pub async fn patch_dataset(&self, project: &str, id: &str, patch: &api::DatasetPatch) -> Result<api::Dataset> {
        self.patch(&format!("/api/v1/projects/{}/datasets/{}", enc(project), enc(id)), patch).await
    }

    pub async fn delete_dataset(&self, project: &str, id: &str) -> Result<()> {
        self.delete(&format!("/api/v1/projects/{}/datasets/{}", enc(project), enc(id))).await
    }

    /// The id of a dataset named by its id or by `NAMESPACE/NAME`.
    pub async fn dataset_id(&self, reference: &str) -> Result<String> {
        if reference.starts_with("dst_") {
            return Ok(reference.to_string());
        }
        Ok(self.get_dataset(reference).await?.id)
    }

    /// A dataset by id or by `NAMESPACE/NAME`.
    pub async fn get_dataset(&self, id: &str) -> Result<api::Dataset> {
        self.get(&format!("/api/v1/datasets/{}", enc(id))).await
    }

    pub async fn list_datasets(
        &self,
        project: Option<&str>,
        unclassified: bool,
        cursor: Option<&str>,
    ) -> Result<api::Paged<api::Dataset>> {
        let mut q = vec!["limit=500".to_string()];
        if let Some(p) = project {
            q.push(format!("project={}", enc(p)));
        }
        if unclassified {
            q.push("unclassified=true".into());
        }
        if let Some(c) = cursor {
            q.push(format!("cursor={}", enc(c)));
        }
        self.get(&format!("/api/v1/datasets?{}", q.join("&"))).await
    }

    pub async fn lineage_graph(&self, node: &str, direction: &str, depth: u32) -> Result<api::LineageGraph> {
        self.get(&format!("/api/v1/lineage?node={}&direction={}&depth={depth}", enc(node), enc(direction))).await
    }

    pub async fn propose_classes(
        &self,
        project: &str,
        dataset: &str,
        req: &api::ProposalRequest,
    ) -> Result<api::Proposal> {
        self.post(&format!("/api/v1/projects/{}/datasets/{}/proposals", enc(project), enc(dataset)), req).await
    }

    pub async fn list_proposals(&self, project: &str, dataset: &str) -> Result<Vec<api::Proposal>> {
        self.get(&format!("/api/v1/projects/{}/datasets/{}/proposals", enc(project), enc(dataset))).await
    }

    /// `verb`: `accept` or `reject`.
    pub async fn decide_proposal(&self, project: &str, id: &str, verb: &str) -> Result<api::Proposal> {
        self.post(&format!("/api/v1/projects/{}/proposals/{}/{verb}", enc(project), enc(id)), &serde_json::json!({}))
            .await
    }

    pub async fn findings(&self) -> Result<api::Findings> {
        self.get("/api/v1/findings").await
    }

    pub async fn request_transfer(&self, project: &str, req: &api::TransferRequest) -> Result<api::Transfer> {
        self.post(&format!("/api/v1/projects/{}/transfers", enc(project)), req).await
    }

    pub async fn list_transfers(&self, project: &str) -> Result<Vec<api::Transfer>> {
        self.get(&format!("/api/v1/projects/{}/transfers", enc(project))).await
    }

    /// `verb`: `approve` or `reject`.
    pub async fn decide_transfer(&self, project: &str, id: &str, verb: &str) -> Result<api::Transfer> {
        self.post(&format!("/api/v1/projects/{}/transfers/{}/{verb}", enc(project), enc(id)), &serde_json::json!({}))
            .await
    }

    pub async fn run_retention(&self) -> Result<api::RetentionRun> {
        self.post("/api/v1/retention/run", &serde_json::json!({})).await
    }

    pub async fn retention_status(&self) -> Result<Vec<api::RetentionItem>> {
        self.get("/api/v1/retention/status").await
    }

    pub async fn place_quarantine(&self, project: &str, req: &api::QuarantineRequest) -> Result<api::Quarantine> {
        self.post(&format!("/api/v1/projects/{}/quarantines", enc(project)), req).await
    }

    pub async fn lift_quarantine(&self, project: &str, req: &api::QuarantineRequest) -> Result<api::Quarantine> {
        self.post(&format!("/api/v1/projects/{}/quarantines/lift", enc(project)), req).await
    }

    pub async fn list_quarantines(&self, project: &str) -> Result<Vec<api::Quarantine>> {
        self.get(&format!("/api/v1/projects/{}/quarantines", enc(project))).await
    }

    pub async fn request_deletion(&self, req: &api::DeletionRequestBody) -> Result<api::DeletionRequest> {
        self.post("/api/v1/deletion-requests", req).await
    }

    pub async fn get_deletion(&self, id: &str) -> Result<api::DeletionRequest> {
        self.get(&format!("/api/v1/deletion-requests/{}", enc(id))).await
    }

    pub async fn deletion_report(&self) -> Result<Vec<api::DeletionTask>> {
        self.get("/api/v1/deletion-report").await
    }

    pub async fn close_deletion_task(&self, id: &str, seq: u64, evidence: &str) -> Result<api::DeletionTask> {
        let body = api::CloseTaskRequest { evidence: evidence.to_string() };
        self.post(&format!("/api/v1/deletion-requests/{}/tasks/{seq}/close", enc(id)), &body).await
    }

    pub async fn post_lineage(&self, event: &serde_json::Value) -> Result<()> {
        self.send::<serde_json::Value>(self.http.post(format!("{}/api/v1/lineage", self.base)).json(event))
            .await
            .map(|_| ())
    }

    pub async fn version_classes(&self, project: &str, model: &str, version: u64) -> Result<Vec<api::EffectiveClass>> {
        self.get(&format!("/api/v1/projects/{}/models/{}/versions/{version}/classes", enc(project), enc(model))).await
    }

    // ------------------------------------------------------------ policy document

    pub async fn get_policy(&self) -> Result<api::PolicyVersion> {
        self.get("/api/v1/policy").await
    }

    pub async fn apply_policy(&self, req: &api::ApplyPolicyRequest) -> Result<api::ApplyPolicyResult> {
        self.put("/api/v1/policy", req).await
    }

    pub async fn policy_versions(&self) -> Result<Vec<api::PolicyVersion>> {
        self.get("/api/v1/policy/versions").await
    }

    pub async fn policy_version(&self, version: u64) -> Result<api::PolicyVersion> {
        self.get(&format!("/api/v1/policy/versions/{version}")).await
    }

    pub async fn rollback_policy(&self, req: &api::RollbackPolicyRequest) -> Result<api::ApplyPolicyResult> {
        self.post("/api/v1/policy/rollback", req).await
    }

    pub async fn explain(&self, req: &api::ExplainRequest) -> Result<api::Explanation> {
        self.post("/api/v1/policy/explain", req).await
    }

    // ------------------------------------------------------------ releases

    fn releases(project: &str) -> String {
        format!("/api/v1/projects/{}/releases", enc(project))
    }

    pub async fn create_release(&self, project: &str, req: &api::CreateReleaseRequest) -> Result<api::Release> {
        self.post(&Self::releases(project), req).await
    }

    pub async fn list_releases(&self, project: &str, unreviewed: bool) -> Result<Vec<api::Release>> {
        let q = if unreviewed { "?unreviewed=true" } else { "" };
        self.get(&format!("{}{q}", Self::releases(project))).await
    }

    pub async fn get_release(&self, project: &str, id: &str) -> Result<api::Release> {
        self.get(&format!("{}/{}", Self::releases(project), enc(id))).await
    }

    /// `verb`: `approve`, `reject`, `withdraw`, `deploy` or `review`.
    pub async fn release_action(&self, project: &str, id: &str, verb: &str, comment: &str) -> Result<api::Release> {
        let path = format!("{}/{}/{verb}", Self::releases(project), enc(id));
        if verb == "deploy" {
            return self
                .send(self.http.post(format!("{}{path}", self.base)))
                .await?
                .ok_or(ClientError::Unexpected { status: 204, body: String::new() });
        }
        self.post(&path, &api::ReleaseDecisionRequest { comment: comment.to_string() }).await
    }

    pub async fn rollback_release(&self, project: &str, req: &api::RollbackReleaseRequest) -> Result<api::Release> {
        self.post(&format!("{}/rollback", Self::releases(project)), req).await
    }

    pub async fn break_glass(&self, project: &str, req: &api::BreakGlassRequest) -> Result<api::Release> {
        self.post(&format!("{}/break-glass", Self::releases(project)), req).await
    }

    pub async fn active_releases(
        &self,
        project: &str,
        zone: &str,
        at: Option<&str>,
    ) -> Result<Vec<api::ActiveRelease>> {
        let mut path = format!("{}/active?zone={}", Self::releases(project), enc(zone));
        if let Some(at) = at {
            path.push_str(&format!("&at={}", enc(at)));
        }
        self.get(&path).await
    }

    /// One of the auditor's questions (`data-access`, `locations`, `active`, `change`,
    /// `log`, `data-handling`) with its query; the answer carries its proofs.
    pub async fn evidence(&self, question: &str, query: &[(&str, String)]) -> Result<api::Evidence> {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        self.get(&format!("/api/v1/evidence/{}?{}", enc(question), q.join("&"))).await
    }

    /// A version by number, alias or `latest`.
    pub async fn get_model_version(&self, project: &str, model: &str, reference: &str) -> Result<api::ModelVersion> {
        self.get(&format!("/api/v1/projects/{}/models/{}/versions/{}", enc(project), enc(model), enc(reference))).await
    }

    pub async fn set_model_alias(
        &self,
        project: &str,
        model: &str,
        alias: &str,
        version: u64,
    ) -> Result<api::ModelAlias> {
        let path = format!("/api/v1/projects/{}/models/{}/aliases/{}", enc(project), enc(model), enc(alias));
        self.put(&path, &api::SetModelAliasRequest { version }).await
    }

    pub async fn delete_model_alias(&self, project: &str, model: &str, alias: &str) -> Result<()> {
        self.delete(&format!("/api/v1/projects/{}/models/{}/aliases/{}", enc(project), enc(model), enc(alias))).await
    }

    pub async fn set_model_tag(
        &self,
        project: &str,
        model: &str,
        version: u64,
        key: &str,
        value: &str,
    ) -> Result<api::ModelTag> {
        let path =
            format!("/api/v1/projects/{}/models/{}/versions/{version}/tags/{}", enc(project), enc(model), enc(key));
        self.put(&path, &api::SetModelTagRequest { value: value.to_string() }).await
    }

    pub async fn delete_model_tag(&self, project: &str, model: &str, version: u64, key: &str) -> Result<()> {
        let path =
            format!("/api/v1/projects/{}/models/{}/versions/{version}/tags/{}", enc(project), enc(model), enc(key));
        self.delete(&path).await
    }

    pub async fn list_models(&self, project: &str) -> Result<api::Paged<api::Model>> {
        self.get(&format!("/api/v1/projects/{}/models?limit=500", enc(project))).await
    }

    pub async fn get_model(&self, project: &str, name: &str) -> Result<api::Model> {
        self.get(&format!("/api/v1/projects/{}/models/{}", enc(project), enc(name))).await
    }
}

impl Client {
    pub async fn list_switches(&self) -> Result<Vec<api::Switch>> {
        self.get("/api/v1/gateway/switches").await
    }

    pub async fn set_switch(&self, target: &str, reason: &str) -> Result<api::Switch> {
        let req = api::SetSwitchRequest { reason: reason.to_string() };
        self.put(&format!("/api/v1/gateway/switches/{}", enc(target)), &req).await
    }

    pub async fn clear_switch(&self, target: &str) -> Result<()> {
        self.delete(&format!("/api/v1/gateway/switches/{}", enc(target))).await
    }

    pub async fn list_providers(&self) -> Result<Vec<api::Provider>> {
        self.get("/api/v1/gateway/providers").await
    }

    pub async fn put_provider(&self, name: &str, req: &api::PutProviderRequest) -> Result<api::Provider> {
        self.put(&format!("/api/v1/gateway/providers/{}", enc(name)), req).await
    }

    pub async fn delete_provider(&self, name: &str) -> Result<()> {
        self.delete(&format!("/api/v1/gateway/providers/{}", enc(name))).await
    }
}

impl Client {
    pub async fn create_signer(&self, req: &api::CreateSignerRequest) -> Result<api::Signer> {
        self.post("/api/v1/signers", req).await
    }

    pub async fn list_signers(&self, project: Option<&str>) -> Result<Vec<api::Signer>> {
        let q = project.map(|p| format!("?project={}", enc(p))).unwrap_or_default();
        self.get(&format!("/api/v1/signers{q}")).await
    }

    pub async fn revoke_signer(&self, id: &str) -> Result<()> {
        self.post_empty(&format!("/api/v1/signers/{}/revoke", enc(id))).await
    }
}
