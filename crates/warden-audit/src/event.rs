//! What an audit event holds. Field names follow OCSF 1.x where one fits (time, actor,
//! user, auth method, resource, status, src endpoint); the SIEM export maps the rest.
//! Never secrets, never payloads: only identifiers, outcomes and reasons.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::Timestamp;
use warden_store::AuditLeaf;
use warden_tlog::jcs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A sign-in attempt (OCSF Authentication, class 3002).
    Authentication,
    /// An authorisation decision (OCSF API Activity, class 6003).
    Authorization,
    /// The result of an allowed change (OCSF API Activity, class 6003).
    Change,
    /// Data read or sent somewhere: an LLM call through the gateway (OCSF API
    /// Activity, class 6003, activity Read).
    DataAccess,
    /// Something the system did by itself: bootstrap, retention, export.
    System,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Authorization => "authorization",
            Category::Change => "change",
            Category::DataAccess => "data_access",
            Category::System => "system",
        }
    }
}

/// Fields are declared in RFC 8785 key order (see [`AuditEvent::canonical`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `token`, `oidc`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// `human` or `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub type_: String,
    pub uid: String,
}

/// Fields are declared in RFC 8785 key order, so serialising the struct writes its keys
/// sorted (see [`AuditEvent::canonical`]); `field_order_is_canonical` checks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The sign-in method or the Cedar action.
    pub action: String,
    pub actor: Actor,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_classes: Vec<String>,
    /// Further facts (strings, integers, booleans only). Written with object keys
    /// sorted, whatever order they were inserted in.
    #[serde(default, skip_serializing_if = "is_empty_object", serialize_with = "sorted")]
    pub detail: Value,
    /// `success`/`failure` for sign-ins and changes, `allow`/`deny` for decisions.
    pub outcome: String,
    /// Ids of the Cedar policies that decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Milliseconds since the epoch (OCSF `time`).
    pub time: i64,
    /// `evt_` + ULID.
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Whether [`sorted`] writes `v` in canonical form: object keys ASCII (so their byte
/// order is their UTF-16 order) and numbers integers within the safe range.
fn plain(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => jcs::is_safe_integer(n),
        Value::Array(a) => a.iter().all(plain),
        Value::Object(o) => o.iter().all(|(k, x)| k.is_ascii() && plain(x)),
    }
}

/// Writes a JSON value with every object's keys in byte order (maps keep insertion
/// order when a dependency turns on `serde_json`'s `preserve_order`).
fn sorted<S: serde::Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
    Sorted(v).serialize(s)
}

struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.0 {
            Value::Object(o) => {
                let mut entries: Vec<(&String, &Value)> = o.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &Sorted(v))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Sorted(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

fn is_empty_object(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(|o| o.is_empty())
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event cannot be canonicalised: {0}")]
    Canonical(String),
}

impl AuditEvent {
    /// A new event of `category` for `action` at `time`, with a fresh id.
    pub fn new(time: Timestamp, category: Category, action: &str, outcome: &str) -> Self {
        let ms = u64::try_from(time.0).unwrap_or(0);
        Self {
            uid: format!("evt_{}", ulid::Ulid::from_parts(ms, ulid::Ulid::new().random())),
            time: time.0,
            category,
            action: action.to_string(),
            outcome: outcome.to_string(),
            reason: None,
            actor: Actor::default(),
            resource: None,
            project: None,
            zone: None,
            data_classes: Vec::new(),
            request_id: None,
            src_ip: None,
            policies: Vec::new(),
            detail: Value::Null,
        }
    }

    /// The canonical bytes (the Merkle leaf).
    ///
    /// The struct's fields are declared in key order, `detail` is written with sorted
    /// keys, and `serde_json` escapes strings as RFC 8785 does. So when `detail` is plain
    /// (ASCII keys, whose byte order is their UTF-16 order, and integers within
    /// ±(2^53 − 1)) serialising the struct directly writes the canonical form without
    /// building a JSON tree first. Anything else goes through [`jcs::canonicalize`].
    pub fn canonical(&self) -> Result<Vec<u8>, EventError> {
        if plain(&self.detail) {
            let mut out = Vec::with_capacity(512);
            serde_json::to_writer(&mut out, self).map_err(|e| EventError::Canonical(e.to_string()))?;
            return Ok(out);
        }
        let v = serde_json::to_value(self).map_err(|e| EventError::Canonical(e.to_string()))?;
        jcs::canonicalize(&v).map_err(|e| EventError::Canonical(e.to_string()))
    }

    /// The row the store keeps: leaf, leaf hash and the searchable fields.
    pub fn to_leaf(&self) -> Result<AuditLeaf, EventError> {
        let bytes = self.canonical()?;
        let hash = warden_tlog::leaf_hash(&bytes);
        let event = String::from_utf8(bytes).map_err(|e| EventError::Canonical(e.to_string()))?;
        Ok(AuditLeaf {
            time: Timestamp(self.time),
            category: self.category.as_str().to_string(),
            action: self.action.clone(),
            actor: self.actor.uid.clone(),
            resource: self.resource.as_ref().map(|r| format!("{}:{}", r.type_, r.uid)),
            outcome: self.outcome.clone(),
            project: self.project.clone(),
            request_id: self.request_id.clone(),
            event,
            leaf_hash: hash.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_canonical_and_hash_their_bytes() {
        let mut e = AuditEvent::new(Timestamp(1_700_000_000_000), Category::Authorization, "project.create", "deny");
        e.actor.uid = Some("usr_1".into());
        e.resource = Some(ResourceRef { type_: "organisation".into(), uid: "warden".into() });
        e.detail = serde_json::json!({"b": 1, "a": "x"});
        let leaf = e.to_leaf().unwrap();
        assert!(warden_tlog::jcs::is_canonical(leaf.event.as_bytes()));
        assert_eq!(leaf.leaf_hash, warden_tlog::leaf_hash(leaf.event.as_bytes()).to_vec());
        assert_eq!(leaf.resource.as_deref(), Some("organisation:warden"));
        assert!(leaf.event.starts_with(r#"{"action":"project.create","actor":{"uid":"usr_1"}"#));
        let back: AuditEvent = serde_json::from_str(&leaf.event).unwrap();
        assert_eq!(back, e);
    }

    /// The direct path and the general one write the same bytes for every shape of
    /// event: each optional field present or not, details with sorted, unsorted,
    /// non-ASCII and nested keys, escapes, and numbers in and out of the safe range.
    #[test]
    fn field_order_is_canonical() {
        let details = [
            serde_json::Value::Null,
            serde_json::json!({}),
            serde_json::json!({"a": 1, "b": [true, "x"], "c": {"d": -5, "e": null}}),
            serde_json::json!({"zeta": 1, "alpha": "\u{1}\"\\\n", "mid": {"y": 1, "x": 2}}),
            serde_json::json!({"\u{e000}": 1, "\u{1f600}": 2, "é": "ü"}),
            serde_json::json!({"n": 9_007_199_254_740_991i64, "m": -9_007_199_254_740_991i64}),
        ];
        let mut checked = 0;
        for mask in 0u32..(1 << 12) {
            let on = |bit: u32| mask & (1 << bit) != 0;
            let mut e = AuditEvent::new(Timestamp(1_700_000_000_000), Category::Change, "token.create", "success");
            let opt = |bit: u32, v: &str| on(bit).then(|| v.to_string());
            e.reason = opt(0, "line\nbreak \"quoted\" \u{7f} ü 😀");
            e.actor = Actor {
                uid: opt(1, "usr_1"),
                name: opt(2, "Zoë"),
                kind: opt(3, "human"),
                auth_method: opt(3, "oidc"),
                mfa: on(4).then_some(mask % 3 == 0),
            };
            e.resource = on(5).then(|| ResourceRef { type_: "token".into(), uid: "tok_1".into() });
            e.project = opt(6, "prj_1");
            e.zone = opt(7, "eu");
            e.data_classes = if on(8) { vec!["personal_data".into(), "b".into()] } else { vec![] };
            e.request_id = opt(9, "req_1");
            e.src_ip = opt(10, "::1");
            e.policies = if on(11) { vec!["p1".into()] } else { vec![] };
            e.detail = details[mask as usize % details.len()].clone();
            let general = serde_json::to_value(&e)
                .map_err(|e| e.to_string())
                .and_then(|v| warden_tlog::jcs::canonicalize(&v).map_err(|e| e.to_string()));
            match (e.canonical(), general) {
                (Ok(direct), Ok(general)) => {
                    assert_eq!(String::from_utf8(direct).unwrap(), String::from_utf8(general).unwrap());
                    checked += 1;
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("paths disagree: {a:?} / {b:?}"),
            }
        }
        assert_eq!(checked, 1 << 12);
        let mut big = AuditEvent::new(Timestamp(1), Category::System, "x", "success");
        big.detail = serde_json::json!({"n": 9_007_199_254_740_992i64});
        assert!(big.canonical().is_err(), "numbers outside the safe range are refused on either path");
    }
}
