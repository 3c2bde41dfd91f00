//! Maps ledger events to OCSF 1.1 records for SIEMs: sign-ins to Authentication (3002),
//! decisions and changes to API Activity (6003). What OCSF has no field for goes under
//! `unmapped.warden`.

use serde_json::{json, Map, Value};

use crate::event::{AuditEvent, Category};

pub const OCSF_VERSION: &str = "1.1.0";

fn activity_of(action: &str) -> (u64, &'static str) {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "create" | "add" | "grant" | "enrol" => (1, "Create"),
        "get" | "list" | "list-all" | "read" | "whoami" => (2, "Read"),
        "update" | "confirm" | "disable" | "unlock" => (3, "Update"),
        "remove" | "revoke" | "delete" => (4, "Delete"),
        _ => (99, "Other"),
    }
}

/// An event's record with the leaf hash of the entry it was exported from
/// (`unmapped.warden.leaf_hash`, base64): an exported copy then names an entry edited
/// later even when its stored hash was recomputed.
pub fn record_with_hash(index: u64, origin: &str, e: &AuditEvent, leaf_hash: &[u8]) -> Value {
    let mut r = record(index, origin, e);
    if let Some(w) = r.pointer_mut("/unmapped/warden").and_then(Value::as_object_mut) {
        w.insert("leaf_hash".into(), json!(warden_tlog::b64(leaf_hash)));
    }
    r
}

/// A signed checkpoint of the log, exported beside its events (`unmapped.warden
/// .checkpoint`: the C2SP signed note), so the export holds what was signed when.
pub fn checkpoint_record(origin: &str, size: u64, note: &str, now: warden_core::Timestamp) -> Value {
    json!({
        "time": now.0,
        "type_name": "Warden Checkpoint",
        "metadata": {"version": OCSF_VERSION, "log_name": origin, "product": {"name": "Warden", "vendor_name": "Warden"}},
        "unmapped": {"warden": {"checkpoint": note, "tree_size": size}},
    })
}

/// The record carrying a signed digest of the entries `[from, to)` (`crate::digest`).
pub fn digest_record(origin: &str, from: u64, to: u64, note: &str, now: warden_core::Timestamp) -> Value {
    json!({
        "time": now.0,
        "type_name": "Warden Digest",
        "metadata": {"version": OCSF_VERSION, "log_name": origin, "product": {"name": "Warden", "vendor_name": "Warden"}},
        "unmapped": {"warden": {"digest": note, "from": from, "to": to}},
    })
}

/// The OCSF record for the ledger entry at `index`.
pub fn record(index: u64, origin: &str, e: &AuditEvent) -> Value {
    let success = matches!(e.outcome.as_str(), "success" | "allow");
    let mut user = Map::new();
    if let Some(uid) = &e.actor.uid {
        user.insert("uid".into(), json!(uid));
    }
    if let Some(name) = &e.actor.name {
        user.insert("name".into(), json!(name));
    }
    if let Some(kind) = &e.actor.kind {
        user.insert("type".into(), json!(kind));
    }
    let mut out = json!({
        "time": e.time,
        "severity_id": if success { 1 } else { 3 },
        "status_id": if success { 1 } else { 2 },
        "status": if success { "Success" } else { "Failure" },
        "metadata": {
            "version": OCSF_VERSION,
            "uid": e.uid,
            "sequence": index,
            "log_name": origin,
            "product": {"name": "Warden", "vendor_name": "Warden"},
        },
        "actor": {"user": Value::Object(user.clone())},
        "unmapped": {"warden": {
            "category": e.category,
            "action": e.action,
            "outcome": e.outcome,
            "project": e.project,
            "zone": e.zone,
            "data_classes": e.data_classes,
            "policies": e.policies,
            "detail": e.detail,
        }},
    });
    let Some(o) = out.as_object_mut() else { return out };
    if let Some(r) = &e.reason {
        o.insert("status_detail".into(), json!(r));
    }
    if let Some(ip) = &e.src_ip {
        o.insert("src_endpoint".into(), json!({"ip": ip}));
    }
    match e.category {
        Category::Authentication => {
            let activity_id = 1;
            o.insert("category_uid".into(), json!(3));
            o.insert("class_uid".into(), json!(3002));
            o.insert("class_name".into(), json!("Authentication"));
            o.insert("activity_id".into(), json!(activity_id));
            o.insert("activity_name".into(), json!("Logon"));
            o.insert("type_uid".into(), json!(300200 + activity_id));
            o.insert("user".into(), Value::Object(user));
            o.insert("auth_protocol".into(), json!(e.action));
            o.insert("is_mfa".into(), json!(e.actor.mfa.unwrap_or(false)));
        }
        _ => {
            let (activity_id, activity_name) =
                if e.category == Category::DataAccess { (2, "Read") } else { activity_of(&e.action) };
            o.insert("category_uid".into(), json!(6));
            o.insert("class_uid".into(), json!(6003));
            o.insert("class_name".into(), json!("API Activity"));
            o.insert("activity_id".into(), json!(activity_id));
            o.insert("activity_name".into(), json!(activity_name));
            o.insert("type_uid".into(), json!(600300 + activity_id));
            let mut api = json!({"operation": e.action});
            if let (Some(req), Some(a)) = (&e.request_id, api.as_object_mut()) {
                a.insert("request".into(), json!({"uid": req}));
            }
            o.insert("api".into(), api);
            if let Some(r) = &e.resource {
                o.insert("resources".into(), json!([{"type": r.type_, "uid": r.uid}]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use warden_core::Timestamp;

    use super::*;
    use crate::event::ResourceRef;

    #[test]
    fn maps_sign_ins_and_decisions() {
        let mut e = AuditEvent::new(Timestamp(1_700_000_000_123), Category::Authentication, "password", "failure");
        e.actor.uid = Some("usr_1".into());
        e.actor.mfa = Some(false);
        e.reason = Some("wrong password".into());
        e.src_ip = Some("10.1.2.3".into());
        let r = record(7, "warden/audit", &e);
        assert_eq!(
            (r["class_uid"].as_u64(), r["type_uid"].as_u64(), r["status_id"].as_u64()),
            (Some(3002), Some(300201), Some(2))
        );
        assert_eq!(r["user"]["uid"], "usr_1");
        assert_eq!(r["src_endpoint"]["ip"], "10.1.2.3");
        assert_eq!(r["metadata"]["sequence"], 7);
        assert_eq!(r["time"], 1_700_000_000_123i64);

        let mut d = AuditEvent::new(Timestamp(1), Category::Authorization, "project.member.remove", "allow");
        d.resource = Some(ResourceRef { type_: "project".into(), uid: "prj_1".into() });
        d.request_id = Some("req_1".into());
        let r = record(8, "warden/audit", &d);
        assert_eq!(
            (r["class_uid"].as_u64(), r["activity_id"].as_u64(), r["type_uid"].as_u64()),
            (Some(6003), Some(4), Some(600304))
        );
        assert_eq!(r["api"]["operation"], "project.member.remove");
        assert_eq!(r["api"]["request"]["uid"], "req_1");
        assert_eq!(r["resources"][0]["uid"], "prj_1");
        assert_eq!(r["status"], "Success");
    }
}
