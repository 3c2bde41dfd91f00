//! OIDC bearer tokens: JWTs validated against the issuer's JWKS.
//!
//! The key set is cached and fetched again when a token names a `kid` the cache does
//! not hold (key rotation), at most once per `min_refresh` so a stream of forged `kid`s
//! cannot turn Warden into a load generator against the identity provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    /// `amr` values that count as a second factor.
    pub mfa_amr: Vec<String>,
    /// `acr` values that count as a second factor.
    pub mfa_acr: Vec<String>,
    pub min_refresh: Duration,
}

impl OidcConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: jwks_url.into(),
            // RFC 8176 method references that imply more than one factor or a strong one.
            mfa_amr: ["mfa", "otp", "hwk", "swk", "sc", "fido"].iter().map(|s| s.to_string()).collect(),
            mfa_acr: Vec::new(),
            min_refresh: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signing key `{0}` is not in the issuer's key set")]
    UnknownKey(String),
    #[error("the token was rejected: {0}")]
    Invalid(String),
    #[error("the identity provider's key set could not be fetched: {0}")]
    Jwks(String),
}

/// Who the token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    pub issuer: String,
    pub subject: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub mfa: bool,
    pub groups: Vec<String>,
}

/// Checks where a key set is fetched from: an `https://` URL, or `http://` only when
/// `allow_http` (a development identity provider), since whoever can change the key set
/// in transit can sign in as anyone.
pub fn check_jwks_url(url: &str, allow_http: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http => Ok(()),
        "http" => Err(format!(
            "{url:?} must be an https:// URL: whoever can change the key set in transit can sign in as anyone \
             (for a development identity provider set `allow_insecure_http = true` in [oidc])"
        )),
        other => Err(format!("{url:?}: `{other}` is not an HTTPS URL")),
    }
}

/// The claims read from a token. Only `iss` and `sub` must have their type; the others
/// are read leniently, as identity providers send them: a list or a single string
/// (ADFS sends `groups: "ml-platform"`), and a value of another type is taken as
/// absent rather than refusing the whole token. Unknown claims are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default, deserialize_with = "lenient_string")]
    preferred_username: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    amr: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    acr: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    groups: Vec<String>,
}

/// A string claim; any other type is taken as absent.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// A list claim: an array (its strings), or one string; any other type is empty.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => vec![s],
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| if let serde_json::Value::String(s) = v { Some(s) } else { None })
            .collect(),
        _ => Vec::new(),
    })
}

/// The signature keys of a JWKS document. Keys for encryption (`use: enc`), of a type or
/// algorithm this verifier does not know, or malformed are skipped (and counted), so
/// that one unusual key does not make the whole set, and every sign-in, fail.
fn signature_keys(doc: &serde_json::Value) -> Result<(JwkSet, usize), String> {
    let entries = doc.get("keys").and_then(serde_json::Value::as_array).ok_or("the document has no `keys` array")?;
    let mut keys = Vec::new();
    let mut skipped = 0;
    for entry in entries {
        let for_signing = entry.get("use").and_then(serde_json::Value::as_str).is_none_or(|u| u == "sig");
        match serde_json::from_value::<jsonwebtoken::jwk::Jwk>(entry.clone()) {
            Ok(k) if for_signing && DecodingKey::from_jwk(&k).is_ok() => keys.push(k),
            _ => skipped += 1,
        }
    }
    Ok((JwkSet { keys }, skipped))
}

struct Cache {
    keys: JwkSet,
    fetched: Option<Instant>,
}

#[derive(Clone)]
pub struct OidcVerifier {
    config: Arc<OidcConfig>,
    http: reqwest::Client,
    cache: Arc<RwLock<Cache>>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

/// Algorithms accepted; `none` and HMAC are never accepted for a public-key issuer.
const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl OidcVerifier {
    pub fn new(config: OidcConfig) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self {
            config: Arc::new(config),
            http,
            cache: Arc::new(RwLock::new(Cache { keys: JwkSet { keys: Vec::new() }, fetched: None })),
        }
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Quick structural check: does this look like a JWT (three base64url parts)?
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3 && token.starts_with("ey")
    }

    pub async fn verify(&self, token: &str, now_unix: u64) -> Result<OidcIdentity, OidcError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| OidcError::Malformed)?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(OidcError::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let kid = header.kid.clone().ok_or_else(|| OidcError::Invalid("the token names no key id (kid)".into()))?;
        let key = match self.find_key(&kid).await {
            Some(k) => k,
            None => {
                self.refresh().await?;
                self.find_key(&kid).await.ok_or(OidcError::UnknownKey(kid))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        let _ = now_unix; // jsonwebtoken reads the system clock for exp/nbf.
        let data =
            jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| OidcError::Invalid(e.to_string()))?;
        let c = data.claims;
        let mfa = c.amr.iter().any(|m| self.config.mfa_amr.contains(m))
            || c.acr.as_ref().is_some_and(|a| self.config.mfa_acr.contains(a));
        Ok(OidcIdentity {
            issuer: c.iss,
            subject: c.sub,
            username: c.preferred_username,
            email: c.email,
            mfa,
            groups: c.groups,
        })
    }

    async fn find_key(&self, kid: &str) -> Option<DecodingKey> {
        let cache = self.cache.read().await;
        let jwk = cache.keys.find(kid)?;
        DecodingKey::from_jwk(jwk).ok()
    }

    async fn refresh(&self) -> Result<(), OidcError> {
        let mut cache = self.cache.write().await;
        if cache.fetched.is_some_and(|t| t.elapsed() < self.config.min_refresh) {
            return Ok(());
        }
        let response = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| OidcError::Jwks(e.without_url().to_string()))?;
        let doc: serde_json::Value = response.json().await.map_err(|e| OidcError::Jwks(e.without_url().to_string()))?;
        let (keys, skipped) = signature_keys(&doc).map_err(OidcError::Jwks)?;
        tracing::info!(keys = keys.keys.len(), skipped, "fetched OIDC key set");
        cache.keys = keys;
        cache.fetched = Some(Instant::now());
        Ok(())
    }
}
