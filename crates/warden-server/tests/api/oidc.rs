//! OIDC bearer tokens validated against a JWKS served on 127.0.0.1 with keys the test
//! generates; MFA read from `amr`; key rotation picked up on an unknown `kid`.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};

use crate::harness::{start, Engine, Options};

struct Key {
    kid: String,
    pkcs8: Vec<u8>,
    jwk: Value,
}

fn key(kid: &str) -> Key {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref().to_vec();
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    Key {
        kid: kid.into(),
        pkcs8,
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}),
    }
}

fn sign(k: &Key, claims: Value) -> String {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(k.kid.clone());
    jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ed_der(&k.pkcs8)).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

const ISSUER: &str = "https://idp.example.test";

fn claims(sub: &str, amr: &[&str]) -> Value {
    json!({"iss": ISSUER, "aud": "warden", "sub": sub, "exp": now() + 300, "iat": now(),
           "preferred_username": format!("{sub}.person"), "amr": amr})
}

/// The identity provider's key set, served on 127.0.0.1; the options for a server that
/// trusts it.
async fn idp(keys: Arc<RwLock<Vec<Value>>>) -> Options {
    let jwks = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let k = keys.read().unwrap().clone();
            async move { axum::Json(json!({"keys": k})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks).await.unwrap() });
    let mut cfg = warden_authn::OidcConfig::new(ISSUER, "warden", &jwks_url);
    cfg.min_refresh = std::time::Duration::from_millis(0);
    let mut opts = Options::new(Engine::Sqlite);
    opts.oidc = Some(cfg);
    opts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tokens_sign_in_people_with_mfa_from_amr() {
    let keys: Arc<RwLock<Vec<Value>>> = Arc::new(RwLock::new(Vec::new()));
    let first = key("k1");
    keys.write().unwrap().push(first.jwk.clone());
    let s = start(idp(keys.clone()).await).await;

    // First sign-in provisions a person without roles.
    let jwt = sign(&first, claims("erin", &["pwd", "otp"]));
    let who = s.get("/api/v1/whoami", &jwt).await.expect(200);
    assert_eq!(who["auth_method"], "oidc");
    assert_eq!(who["mfa"], true);
    assert_eq!(who["name"], "erin.person");
    assert_eq!(who["org_roles"], json!([]));
    // The same subject maps to the same person next time.
    let again = s.get("/api/v1/whoami", &sign(&first, claims("erin", &["pwd"]))).await.expect(200);
    assert_eq!(again["id"], who["id"]);
    assert_eq!(again["mfa"], false, "a password alone is not MFA");

    // Rejections: wrong audience, wrong issuer, expired, tampered, unknown key.
    let mut c = claims("erin", &["otp"]);
    c["aud"] = json!("someone-else");
    s.get("/api/v1/whoami", &sign(&first, c)).await.problem(401, "unauthenticated");
    let mut c = claims("erin", &["otp"]);
    c["iss"] = json!("https://evil.example.test");
    s.get("/api/v1/whoami", &sign(&first, c)).await.problem(401, "unauthenticated");
    let mut c = claims("erin", &["otp"]);
    c["exp"] = json!(now() - 3600);
    s.get("/api/v1/whoami", &sign(&first, c)).await.problem(401, "unauthenticated");
    let good = sign(&first, claims("erin", &["otp"]));
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims("root", &["otp"]).to_string());
    parts[1] = &forged_payload;
    s.get("/api/v1/whoami", &parts.join(".")).await.problem(401, "unauthenticated");
    let stranger = key("k-unknown");
    s.get("/api/v1/whoami", &sign(&stranger, claims("erin", &["otp"]))).await.problem(401, "unauthenticated");

    // Rotation: the IdP publishes a new key; Warden fetches the set again on the new kid.
    let second = key("k2");
    keys.write().unwrap().push(second.jwk.clone());
    let rotated = s.get("/api/v1/whoami", &sign(&second, claims("erin", &["otp"]))).await.expect(200);
    assert_eq!(rotated["id"], who["id"]);
    // A set with an encryption key, a key type nobody knows and a malformed entry still
    // gives its signature keys: a third key is picked up beside them.
    let third = key("k3");
    {
        let mut k = keys.write().unwrap();
        k.push(json!({"kty": "EC", "crv": "P-256", "use": "enc", "alg": "ECDH-ES", "kid": "e1",
                      "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}));
        k.push(json!({"kty": "QUANTUM", "kid": "q1"}));
        k.push(json!("not a key"));
        k.push(third.jwk.clone());
    }
    s.get("/api/v1/whoami", &sign(&third, claims("erin", &["otp"]))).await.expect(200);
    // Claims as other identity providers send them: a single string for a list (ADFS's
    // `groups`, an `amr` of one method), other types where a string is expected.
    let mut c = claims("erin", &[]);
    c["amr"] = json!("otp");
    c["groups"] = json!("ml-platform");
    c["email"] = json!(42);
    c["roles"] = json!({"nested": ["unknown", "claims"]});
    let odd = s.get("/api/v1/whoami", &sign(&third, c)).await.expect(200);
    assert_eq!(odd["id"], who["id"]);
    assert_eq!(odd["mfa"], true, "a single `amr` string is read as a list of one");

    // Roles granted to the provisioned person apply to OIDC sign-ins; MFA from the IdP
    // counts as the administrator's second factor.
    let admin = s.admin().await;
    s.post("/api/v1/role-grants", &admin, json!({"member": who["id"], "role": "platform-admin"})).await.expect(201);
    s.post("/api/v1/projects", &sign(&second, claims("erin", &["otp"])), json!({"name": "sso"})).await.expect(201);
    s.post("/api/v1/projects", &sign(&second, claims("erin", &["pwd"])), json!({"name": "sso2"}))
        .await
        .problem(403, "forbidden");
    // Failures are recorded.
    let ev = s
        .get("/api/v1/audit/events?category=authentication&action=oidc&outcome=failure&limit=500", &admin)
        .await
        .expect(200);
    assert!(ev["items"].as_array().unwrap().len() >= 5);
}

/// Forged tokens count toward the bad-credential throttle as bad API tokens do, per
/// source and claimed account (however each forgery is made), without locking out
/// other accounts signing in from the same address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_oidc_tokens_are_throttled_per_claimed_account() {
    let keys: Arc<RwLock<Vec<Value>>> = Arc::new(RwLock::new(Vec::new()));
    let idp_key = key("k1");
    keys.write().unwrap().push(idp_key.jwk.clone());
    let mut opts = idp(keys).await;
    opts.max_bad_tokens_per_source = 4;
    let s = start(opts).await;
    let attacker = key("k1"); // the right key id, the wrong key
    let forgeries = [
        sign(&attacker, claims("frank", &["otp"])),
        sign(&key("k9"), claims("frank", &["otp"])),
        sign(&attacker, claims("frank", &["pwd"])),
    ];
    for f in &forgeries {
        s.get("/api/v1/whoami", f).await.problem(401, "unauthenticated");
    }
    s.get("/api/v1/whoami", &sign(&attacker, claims("frank", &[]))).await.problem(429, "too-many-failures");
    // Locked out: even a genuine token for that account from this source, for now.
    s.get("/api/v1/whoami", &sign(&idp_key, claims("frank", &["otp"]))).await.problem(429, "too-many-failures");
    // Another account from the same address signs in.
    s.get("/api/v1/whoami", &sign(&idp_key, claims("grace", &["otp"]))).await.expect(200);
}

/// An identity provider whose key set cannot be fetched answers 503: the caller's
/// token may be fine, and nothing counts against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_identity_provider_is_503_not_401() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/jwks", listener.local_addr().unwrap());
    drop(listener);
    let mut cfg = warden_authn::OidcConfig::new(ISSUER, "warden", &gone);
    cfg.min_refresh = std::time::Duration::from_millis(0);
    let mut opts = Options::new(Engine::Sqlite);
    opts.oidc = Some(cfg);
    opts.max_bad_tokens_per_source = 2;
    let s = start(opts).await;
    let k = key("k1");
    for _ in 0..4 {
        let r = s.get("/api/v1/whoami", &sign(&k, claims("erin", &["otp"]))).await;
        assert_eq!(r.status.as_u16(), 503, "{:?}", r.body);
    }
}
