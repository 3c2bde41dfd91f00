//! Turning credentials into a [`Principal`]: API tokens, OIDC bearer JWTs and password
//! sign-ins, with lockout and an event for every sign-in attempt.

use serde_json::json;
use warden_audit::{Actor, AuditEvent, Category};
use warden_authn::{password, token, totp, OidcVerifier};
use warden_core::{AuthMethod, Principal, PrincipalKind, Role, SubjectId, TokenId, TokenScope};
use warden_store::{MemberRef, RoleGrantRecord, SubjectRecord, TokenRecord};

use std::sync::Arc;

use crate::{App, AppError, RequestMeta};

/// A password sign-in.
#[derive(Debug)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    pub totp: Option<String>,
}

/// A session token minted by a sign-in. `token` is shown once.
pub struct LoginOutput {
    pub token: String,
    pub token_id: TokenId,
    pub expires_at: warden_core::Timestamp,
    pub mfa: bool,
}

impl App {
    /// Creates the first administrator on an empty store. Uses `bootstrap_token` when
    /// given (it must be at least 32 characters), otherwise mints one. Returns the token
    /// to show once when one was minted, `None` when the store was not empty or the
    /// operator supplied the token.
    pub async fn bootstrap(&self, bootstrap_token: Option<&str>) -> Result<Option<String>, AppError> {
        let minted = self.bootstrap_admin(bootstrap_token).await?;
        self.ensure_policy().await?;
        self.providers.reload().await?;
        self.switches.reload().await?;
        Ok(minted)
    }

    async fn bootstrap_admin(&self, bootstrap_token: Option<&str>) -> Result<Option<String>, AppError> {
        if self.store.count_subjects().await? > 0 {
            return Ok(None);
        }
        let now = self.now();
        let admin = SubjectRecord::new(
            SubjectId::generate_user(now.0),
            PrincipalKind::Human,
            &self.config.bootstrap_admin,
            now,
        );
        let grant = RoleGrantRecord {
            member: MemberRef::Subject(admin.id.clone()),
            role: Role::PlatformAdmin,
            granted_at: now,
            granted_by: None,
        };
        let token_id = TokenId::generate(now.0);
        let (secret, hash, show) = match bootstrap_token {
            Some(t) if t.len() < token::MIN_BOOTSTRAP_LEN => {
                return Err(AppError::Invalid(format!(
                    "WARDEN_BOOTSTRAP_TOKEN must be at least {} characters",
                    token::MIN_BOOTSTRAP_LEN
                )))
            }
            Some(t) => (t.to_string(), token::hash(t), false),
            None => {
                let m = token::mint(token_id.as_str().trim_start_matches("tok_"));
                (m.secret, m.hash, true)
            }
        };
        let record = TokenRecord {
            id: token_id,
            subject: admin.id.clone(),
            name: "bootstrap".into(),
            hash,
            project: None,
            role: None,
            mfa: false,
            created_at: now,
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
            data_class: None,
            zone: None,
            parent: None,
        };
        if !self.store.bootstrap(&admin, &grant, &record).await? {
            return Ok(None);
        }
        self.auth_event(
            "bootstrap",
            Some(&admin.id),
            "success",
            Some("first administrator created"),
            &RequestMeta::default(),
            json!({}),
        )
        .await?;
        Ok(show.then_some(secret))
    }

    /// Authenticates a bearer credential: an OIDC JWT when OIDC is configured and the
    /// credential is one, otherwise a Warden API token.
    pub async fn authenticate(&self, bearer: &str, meta: &RequestMeta) -> Result<Principal, AppError> {
        if let Some(oidc) = &self.oidc {
            if OidcVerifier::looks_like_jwt(bearer) {
                return self.authenticate_oidc(oidc, bearer, meta).await;
            }
        }
        self.authenticate_token(bearer, meta).await
    }

    async fn authenticate_token(&self, presented: &str, meta: &RequestMeta) -> Result<Principal, AppError> {
        let now = self.now();
        let label = crate::refusals::credential_label(presented);
        let source = self.unlocked_source("token", &label, meta).await?;
        let source = source.as_str();
        let hash = token::hash(presented);
        // The token, its subject and the subject's organisation roles, as the store said
        // at most a second ago (see `recent`); expiry, revocation, disabling and locks
        // are judged on every call against the clock.
        let facts = match self.recent.tokens.get(&hash) {
            Some(f) => f,
            None => {
                let Some(record) = self.store.find_token_by_hash(&hash).await? else {
                    let detail = json!({"credential": label});
                    self.auth_event("token", None, "failure", Some("unknown token"), meta, detail).await?;
                    return Err(self.bad_token(source, "the token is not valid".into()));
                };
                let subject = self.store.get_subject(&record.subject).await?;
                let org_roles = match &subject {
                    Some(s) => self.store.org_roles(&s.id).await?,
                    None => Default::default(),
                };
                let f = Arc::new(crate::recent::TokenFacts { record, subject, org_roles });
                self.recent.tokens.put(hash.clone(), f.clone());
                f
            }
        };
        let record = &facts.record;
        if !token::hashes_equal(&record.hash, &hash) {
            return Err(AppError::Unauthenticated("the token is not valid".into()));
        }
        if !record.is_usable(now) {
            let why = if record.revoked_at.is_some() { "revoked token" } else { "expired token" };
            let detail = json!({"token_id": record.id, "credential": label});
            self.auth_event("token", Some(&record.subject), "failure", Some(why), meta, detail).await?;
            return Err(self.bad_token(source, format!("the token is not valid ({why})")));
        }
        let subject = self.check_subject(facts.subject.clone(), &record.subject, "token", meta).await?;
        // Record use, at most once a minute per token, to keep reads cheap.
        if record.last_used_at.is_none_or(|t| now.0 - t.0 > 60_000) {
            self.store.touch_token(&record.id, now).await?;
            let mut touched = (*facts).clone();
            touched.record.last_used_at = Some(now);
            self.recent.tokens.put(hash, Arc::new(touched));
        }
        let record = facts.record.clone();
        let mut org_roles = facts.org_roles.clone();
        if record.project.is_some() {
            org_roles.clear();
        } else if let Some(role) = record.role {
            org_roles.retain(|r| *r == role);
        }
        Ok(Principal {
            id: subject.id,
            name: subject.name,
            kind: subject.kind,
            org_roles,
            method: AuthMethod::Token,
            mfa: record.mfa,
            totp_enrolled: subject.totp_enrolled,
            scope: Some(TokenScope {
                token_id: record.id,
                project: record.project,
                role: record.role,
                data_class: record.data_class,
                zone: record.zone,
                expires_at: record.expires_at,
            }),
        })
    }

    /// The throttle's key for a credential presented from the caller's address, once
    /// it is not locked out there (a locked one is refused, and the refusal recorded).
    /// Bad presentations are counted per source *and* credential: one client retrying a
    /// revoked key never locks out the valid credentials of others at its address.
    async fn unlocked_source(&self, method: &str, label: &str, meta: &RequestMeta) -> Result<String, AppError> {
        let source = format!("{} {label}", meta.source.as_deref().unwrap_or("unknown"));
        if self.bad_tokens.is_locked(&source, self.now()) {
            let detail = json!({"credential": label});
            let why = Some("credential locked out after repeated failures");
            self.auth_event(method, None, "failure", why, meta, detail).await?;
            return Err(AppError::SourceLocked);
        }
        Ok(source)
    }

    /// Counts a bad token against its source; the error to return.
    fn bad_token(&self, source: &str, message: String) -> AppError {
        let c = &self.config;
        if self.bad_tokens.failure(source, self.now(), c.max_bad_tokens_per_source, c.lockout_seconds) {
            tracing::warn!(source, "source locked out after repeated bad tokens");
            return AppError::SourceLocked;
        }
        AppError::Unauthenticated(message)
    }

    async fn authenticate_oidc(
        &self,
        oidc: &OidcVerifier,
        jwt: &str,
        meta: &RequestMeta,
    ) -> Result<Principal, AppError> {
        let now = self.now();
        // Forged or broken tokens count against their source and credential as bad API
        // tokens do; an identity provider that cannot be reached is not the caller's
        // fault: 503, and nothing is counted.
        let label = crate::refusals::jwt_label(jwt);
        let source = self.unlocked_source("oidc", &label, meta).await?;
        let identity = match oidc.verify(jwt, u64::try_from(now.0 / 1000).unwrap_or(0)).await {
            Ok(i) => i,
            Err(e) => {
                let reason = e.to_string();
                let detail = json!({"credential": label});
                self.auth_event("oidc", None, "failure", Some(&reason), meta, detail).await?;
                if let warden_authn::OidcError::Jwks(cause) = &e {
                    tracing::warn!(cause = %cause, "the identity provider's key set could not be fetched");
                    return Err(AppError::Unavailable(reason));
                }
                return Err(self.bad_token(&source, reason));
            }
        };
        let subject = match self.store.get_subject_by_oidc(&identity.issuer, &identity.subject).await? {
            Some(s) => s,
            None => {
                // First sign-in: provision a person with no roles (just-in-time).
                let base = identity
                    .username
                    .clone()
                    .or_else(|| identity.email.clone())
                    .unwrap_or_else(|| format!("oidc-{}", identity.subject));
                let name = sanitise_name(&base);
                let mut s = SubjectRecord::new(SubjectId::generate_user(now.0), PrincipalKind::Human, &name, now);
                s.email = identity.email.clone();
                s.oidc_issuer = Some(identity.issuer.clone());
                s.oidc_subject = Some(identity.subject.clone());
                match self.store.create_subject(&s).await {
                    Ok(()) => {}
                    // The name is taken by a local account: never merge identities silently.
                    Err(warden_store::StoreError::Conflict(_)) => {
                        s.name = sanitise_name(&format!(
                            "{base}-{}",
                            s.id.as_str().get(4..12).unwrap_or("x").to_ascii_lowercase()
                        ));
                        self.store.create_subject(&s).await?;
                    }
                    Err(e) => return Err(e.into()),
                }
                self.auth_event("oidc", Some(&s.id), "success", Some("provisioned on first sign-in"), meta, json!({}))
                    .await?;
                s
            }
        };
        let subject = self.usable_subject(&subject.id, "oidc", meta).await?;
        let org_roles = self.store.org_roles(&subject.id).await?;
        Ok(Principal {
            id: subject.id,
            name: subject.name,
            kind: subject.kind,
            org_roles,
            method: AuthMethod::Oidc,
            mfa: identity.mfa,
            totp_enrolled: subject.totp_enrolled || identity.mfa,
            scope: None,
        })
    }

    /// Loads a subject and refuses disabled or locked ones.
    async fn usable_subject(
        &self,
        id: &SubjectId,
        method: &str,
        meta: &RequestMeta,
    ) -> Result<SubjectRecord, AppError> {
        let subject = self.store.get_subject(id).await?;
        self.check_subject(subject, id, method, meta).await
    }

    /// Refuses a missing, disabled or locked subject.
    async fn check_subject(
        &self,
        subject: Option<SubjectRecord>,
        id: &SubjectId,
        method: &str,
        meta: &RequestMeta,
    ) -> Result<SubjectRecord, AppError> {
        let Some(subject) = subject else {
            return Err(AppError::Unauthenticated("the credential's subject no longer exists".into()));
        };
        if subject.disabled {
            self.auth_event(method, Some(id), "failure", Some("account disabled"), meta, json!({})).await?;
            return Err(AppError::Unauthenticated("the account is disabled".into()));
        }
        if subject.is_locked(self.now()) {
            self.auth_event(method, Some(id), "failure", Some("account locked"), meta, json!({})).await?;
            return Err(AppError::Locked);
        }
        Ok(subject)
    }

    /// Password sign-in (with TOTP when enrolled). Mints a session token.
    pub async fn login(&self, input: LoginInput, meta: &RequestMeta) -> Result<LoginOutput, AppError> {
        let now = self.now();
        let subject = self.store.get_subject_by_name(&input.username).await?;
        let stored = subject.as_ref().and_then(|s| s.password_hash.clone());
        let pw = input.password.clone();
        // argon2 is deliberately slow: keep it off the async workers.
        let password_ok = tokio::task::spawn_blocking(move || password::verify(stored.as_deref(), &pw))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let Some(subject) = subject else {
            // The name is not recorded (people type passwords into it); a digest groups
            // repeated attempts.
            let detail = json!({"credential": crate::refusals::credential_label(&input.username)});
            self.auth_event("password", None, "failure", Some("unknown user"), meta, detail).await?;
            return Err(AppError::Unauthenticated("wrong username or password".into()));
        };
        if subject.disabled || subject.kind == PrincipalKind::Service {
            self.auth_event("password", Some(&subject.id), "failure", Some("account cannot sign in"), meta, json!({}))
                .await?;
            return Err(AppError::Unauthenticated("wrong username or password".into()));
        }
        if subject.is_locked(now) {
            self.auth_event("password", Some(&subject.id), "failure", Some("account locked"), meta, json!({})).await?;
            // The same answer as for an unknown name or a wrong password: a sign-in must
            // not tell which accounts exist (the ledger says it was locked).
            return Err(AppError::Unauthenticated("wrong username or password".into()));
        }
        if !password_ok {
            return Err(self.failed_sign_in(&subject, "wrong password", meta).await);
        }
        let mut mfa = false;
        if subject.totp_enrolled {
            let Some(code) = input.totp.as_deref() else {
                return Err(AppError::SecondFactorRequired);
            };
            self.check_totp(&subject, code, meta).await?;
            mfa = true;
        }
        self.store.reset_failures(&subject.id).await?;
        let token_id = TokenId::generate(now.0);
        let minted = token::mint(token_id.as_str().trim_start_matches("tok_"));
        let expires_at = now.plus_seconds(self.config.session_ttl_seconds);
        self.store
            .create_token(&TokenRecord {
                id: token_id.clone(),
                subject: subject.id.clone(),
                name: "session".into(),
                hash: minted.hash,
                project: None,
                role: None,
                mfa,
                created_at: now,
                expires_at: Some(expires_at),
                revoked_at: None,
                last_used_at: None,
                data_class: None,
                zone: None,
                parent: None,
            })
            .await?;
        self.auth_event(
            "password",
            Some(&subject.id),
            "success",
            None,
            meta,
            json!({"mfa": mfa, "token_id": token_id}),
        )
        .await?;
        Ok(LoginOutput { token: minted.secret, token_id, expires_at, mfa })
    }

    /// A session verified with a second factor just now, for a caller who proved it on an
    /// authenticated request (confirming TOTP, or stepping up). It keeps the caller's
    /// narrowing, is minted from the caller's credential (never outliving it, revoked
    /// with it), and lasts at most the session lifetime.
    pub(crate) async fn second_factor_session(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> Result<LoginOutput, AppError> {
        let now = self.now();
        let scope = principal.scope.as_ref();
        let mut expires_at = now.plus_seconds(self.config.session_ttl_seconds);
        if let Some(parent) = scope.and_then(|s| s.expires_at) {
            expires_at = expires_at.min(parent);
        }
        let token_id = TokenId::generate(now.0);
        let minted = token::mint(token_id.as_str().trim_start_matches("tok_"));
        self.store
            .create_token(&TokenRecord {
                id: token_id.clone(),
                subject: principal.id.clone(),
                name: "session (second factor)".into(),
                hash: minted.hash,
                project: scope.and_then(|s| s.project.clone()),
                role: scope.and_then(|s| s.role),
                mfa: true,
                created_at: now,
                expires_at: Some(expires_at),
                revoked_at: None,
                last_used_at: None,
                data_class: scope.and_then(|s| s.data_class.clone()),
                zone: scope.and_then(|s| s.zone.clone()),
                parent: scope.map(|s| s.token_id.clone()),
            })
            .await?;
        self.recent.forget();
        self.auth_event(
            "totp",
            Some(&principal.id),
            "success",
            Some("second factor verified; a session with it was issued"),
            meta,
            json!({"mfa": true, "token_id": token_id}),
        )
        .await?;
        Ok(LoginOutput { token: minted.secret, token_id, expires_at, mfa: true })
    }

    /// Checks a TOTP code of an enrolled subject on an authenticated request (no replay:
    /// the step is used up); a wrong code counts towards the account's lockout.
    pub(crate) async fn verify_totp(
        &self,
        subject: &SubjectRecord,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        if !subject.totp_enrolled {
            return Err(AppError::Invalid("TOTP is not enrolled: enrol it first (`warden totp enrol`)".into()));
        }
        self.check_totp(subject, code, meta).await.map_err(|e| match e {
            AppError::Unauthenticated(m) if m.contains("already used") => AppError::Unauthenticated(m),
            AppError::Unauthenticated(_) => AppError::Unauthenticated("the TOTP code is wrong".into()),
            other => other,
        })
    }

    /// Uses up the step of a subject's TOTP code, or counts a wrong or replayed code
    /// towards the account's lockout (sign-in and step-up alike).
    async fn check_totp(&self, subject: &SubjectRecord, code: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let secret = self.totp_secret(subject).await?;
        let step = totp::verify(&secret, code, self.now().0 / 1000, subject.totp_last_step)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        match step {
            Some(step) if self.store.use_totp_step(&subject.id, step).await? => Ok(()),
            _ => {
                // A right code already used (the one just typed to confirm enrolment,
                // say) is not a guess: said as such, recorded, and not counted towards
                // the lockout.
                let any = totp::verify(&secret, code, self.now().0 / 1000, None)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                if any.is_some() {
                    self.auth_event(
                        "password",
                        Some(&subject.id),
                        "failure",
                        Some("reused TOTP code"),
                        meta,
                        json!({}),
                    )
                    .await?;
                    return Err(AppError::Unauthenticated(
                        "this TOTP code was already used (each code works once): wait for the next one (codes change every 30 s)"
                            .into(),
                    ));
                }
                Err(self.failed_sign_in(subject, "wrong TOTP code", meta).await)
            }
        }
    }

    async fn failed_sign_in(&self, subject: &SubjectRecord, why: &str, meta: &RequestMeta) -> AppError {
        let until = self.now().plus_seconds(self.config.lockout_seconds);
        let count = match self.store.record_failure(&subject.id, self.config.max_failed_attempts, until).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let locked = count >= self.config.max_failed_attempts;
        if locked {
            // The account's tokens stop working here at once.
            self.recent.forget();
        }
        if let Err(e) = self
            .auth_event(
                "password",
                Some(&subject.id),
                "failure",
                Some(why),
                meta,
                json!({"failed_attempts": count, "locked": locked}),
            )
            .await
        {
            return e;
        }
        AppError::Unauthenticated("wrong username or password".into())
    }

    /// A subject's TOTP secret in clear. Stored sealed (AES-256-GCM under a key derived
    /// for TOTP secrets, the subject's id as associated data); one still in clear from an
    /// older version is sealed on first use.
    pub(crate) async fn totp_secret(&self, subject: &SubjectRecord) -> Result<String, AppError> {
        let stored = subject.totp_secret.clone().unwrap_or_default();
        match stored.strip_prefix(SEALED) {
            Some(sealed) => self.open_totp(&subject.id, sealed),
            None => {
                let sealed = self.seal_totp(&subject.id, &stored)?;
                self.store.replace_totp_secret(&subject.id, &stored, &sealed).await?;
                Ok(stored)
            }
        }
    }

    /// The stored form of a TOTP secret: `sealed:<nonce>:<ciphertext>` (base64).
    pub(crate) fn seal_totp(&self, id: &SubjectId, secret: &str) -> Result<String, AppError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        let key = self.keys.derive("totp-secret");
        let (nonce, sealed) = warden_crypto::seal(&key, id.as_str().as_bytes(), secret.as_bytes())
            .map_err(|_| AppError::Internal("could not seal a TOTP secret".into()))?;
        Ok(format!("{SEALED}{}:{}", b64.encode(nonce), b64.encode(sealed)))
    }

    fn open_totp(&self, id: &SubjectId, sealed: &str) -> Result<String, AppError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        let broken = || AppError::Internal(format!("the TOTP secret of `{id}` cannot be opened with this master key"));
        let (nonce, body) = sealed.split_once(':').ok_or_else(broken)?;
        let (nonce, body) = (b64.decode(nonce).map_err(|_| broken())?, b64.decode(body).map_err(|_| broken())?);
        let key = self.keys.derive("totp-secret");
        let plain = warden_crypto::open(&key, id.as_str().as_bytes(), &nonce, &body).map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }

    /// Seals every TOTP secret still stored in clear (from versions before secrets were
    /// sealed); run at start. Answers how many were sealed.
    pub async fn seal_totp_secrets(&self) -> Result<usize, AppError> {
        let mut n = 0;
        for (id, secret) in self.store.totp_secrets_in_clear().await? {
            let sealed = self.seal_totp(&id, &secret)?;
            n += usize::from(self.store.replace_totp_secret(&id, &secret, &sealed).await?);
        }
        Ok(n)
    }

    pub(crate) async fn auth_event(
        &self,
        method: &str,
        actor: Option<&SubjectId>,
        outcome: &str,
        reason: Option<&str>,
        meta: &RequestMeta,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let mut e = AuditEvent::new(self.now(), Category::Authentication, method, outcome);
        e.actor = Actor {
            uid: actor.map(|a| a.to_string()),
            auth_method: Some(method.to_string()),
            mfa: detail.get("mfa").and_then(|m| m.as_bool()),
            ..Actor::default()
        };
        e.reason = reason.map(str::to_string);
        e.request_id = Some(meta.request_id.clone()).filter(|r| !r.is_empty());
        e.src_ip = meta.source.clone();
        if outcome == "failure" {
            // Refusals are evidence, but an attacker must not grow the ledger at will:
            // the first few per source and credential in each interval are recorded in
            // full, the rest counted into one summary per interval.
            let source = meta.source.as_deref().unwrap_or("unknown");
            let credential = match (detail.get("credential").and_then(|c| c.as_str()), actor) {
                (Some(c), _) => c.to_string(),
                (None, Some(a)) => a.to_string(),
                (None, None) => String::new(),
            };
            let (full, ended) = self.refusals.admit(source, &credential, self.now(), self.config.refusals);
            if let Some(summary) = ended {
                self.record_refusal_summary(summary).await?;
            }
            if !full {
                return Ok(());
            }
        }
        e.detail = detail;
        self.record(&e).await
    }

    /// Writes the summary of an interval's refusals if it has ended (also called
    /// periodically by the server, so a quiet period still gets its summary).
    pub async fn flush_refusals(&self) -> Result<(), AppError> {
        match self.refusals.flush(self.now(), self.config.refusals) {
            Some(summary) => self.record_refusal_summary(summary).await,
            None => Ok(()),
        }
    }

    async fn record_refusal_summary(&self, s: crate::refusals::Summary) -> Result<(), AppError> {
        let mut e = AuditEvent::new(self.now(), Category::Authentication, "refusals.summary", "failure");
        e.reason = Some(format!(
            "{} refused authentication attempts between {} and {} were counted, not recorded one by one",
            s.suppressed,
            crate::text::rfc3339(s.from),
            crate::text::rfc3339(s.to)
        ));
        let top: Vec<_> =
            s.top.iter().map(|(src, cred, n)| json!({"source": src, "credential": cred, "count": n})).collect();
        e.detail = json!({"from": s.from.0, "to": s.to.0, "suppressed": s.suppressed, "pairs": s.pairs, "top": top});
        self.record(&e).await
    }
}

/// The prefix of a sealed TOTP secret as stored.
const SEALED: &str = "sealed:";

/// Derives a valid Warden name from an IdP username or email.
fn sanitise_name(raw: &str) -> String {
    let mut out: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "u-");
    }
    out.truncate(63);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitise() {
        assert_eq!(super::sanitise_name("Alice@Example.com"), "alice-example.com");
        assert_eq!(super::sanitise_name("42"), "u-42");
        assert!(warden_core::validate_name(&super::sanitise_name(&"X".repeat(100))).is_ok());
    }
}
