//! What an audit event holds. Field names follow OCSF 1.x where one fits (time, actor,
//! user, auth method, resource, status, src endpoint); the SIEM export maps the rest.
//! Never secrets, never payloads: only identifiers, outcomes and reasons.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::Timestamp;
use warden_ledger::jcs;
use warden_store::AuditLeaf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A sign-in attempt (OCSF Authentication, class 3002).
    Authentication,
    /// An authorisation decision (OCSF API Activity, class 6003).
    Authorization,
    /// The result of an allowed change (OCSF API Activity, class 6003).
    Change,
    /// Something the system did by itself: bootstrap, retention, export.
    System,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Authorization => "authorization",
            Category::Change => "change",
            Category::System => "system",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `human` or `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `token`, `oidc`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub type_: String,
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// `evt_` + ULID.
    pub uid: String,
    /// Milliseconds since the epoch (OCSF `time`).
    pub time: i64,
    pub category: Category,
    /// The sign-in method or the Cedar action.
    pub action: String,
    /// `success`/`failure` for sign-ins and changes, `allow`/`deny` for decisions.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_classes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Ids of the Cedar policies that decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Further facts (strings, integers, booleans only).
    #[serde(default, skip_serializing_if = "is_empty_object")]
    pub detail: Value,
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
    pub fn canonical(&self) -> Result<Vec<u8>, EventError> {
        let v = serde_json::to_value(self).map_err(|e| EventError::Canonical(e.to_string()))?;
        jcs::canonicalize(&v).map_err(|e| EventError::Canonical(e.to_string()))
    }

    /// The row the store keeps: leaf, leaf hash and the searchable fields.
    pub fn to_leaf(&self) -> Result<AuditLeaf, EventError> {
        let bytes = self.canonical()?;
        let hash = warden_ledger::leaf_hash(&bytes);
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
        assert!(warden_ledger::jcs::is_canonical(leaf.event.as_bytes()));
        assert_eq!(leaf.leaf_hash, warden_ledger::leaf_hash(leaf.event.as_bytes()).to_vec());
        assert_eq!(leaf.resource.as_deref(), Some("organisation:warden"));
        assert!(leaf.event.starts_with(r#"{"action":"project.create","actor":{"uid":"usr_1"}"#));
        let back: AuditEvent = serde_json::from_str(&leaf.event).unwrap();
        assert_eq!(back, e);
    }
}
