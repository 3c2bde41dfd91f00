//! Question 3: who could act in a project, or in a zone, at a moment — people and
//! services, through project roles, groups and organisation roles, each grant with who
//! gave it, and every token that was live then.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use warden_core::{ProjectId, SubjectId, Timestamp};
use warden_store::{AccessRecord, AuditEntry, AuditFilter, ORGANISATION_SCOPE};

use super::{event_of, find, Cites};
use crate::text::rfc3339;
use crate::{AppError, Authorized};

/// Where access is asked about.
#[derive(Debug, Clone)]
pub enum AccessScope {
    Project(ProjectId),
    /// Everyone who could act on what ran in the zone: the people of every project
    /// with a version active there, the organisation's roles, and the tokens bound to it.
    Zone(String),
}

/// Most grant events read per kind of change.
const GRANT_EVENTS: usize = 20_000;

/// The ledger's record of grants, by (scope, member, role), newest last.
struct Grants(BTreeMap<(String, String, String), Vec<AuditEntry>>);

impl Grants {
    async fn load(ctx: &Authorized<'_>) -> Result<Self, AppError> {
        let mut m: BTreeMap<(String, String, String), Vec<AuditEntry>> = BTreeMap::new();
        for action in ["project.member.add", "role.grant", "group.member.add"] {
            let filter = AuditFilter {
                action: Some(action.into()),
                category: Some("change".into()),
                outcome: Some("success".into()),
                ..AuditFilter::default()
            };
            for e in find(ctx, &filter, GRANT_EVENTS).await? {
                let ev = event_of(&e);
                let Some(member) = ev["detail"]["member"].as_str().map(str::to_string) else { continue };
                let (scope, role) = match action {
                    "project.member.add" => {
                        (e.leaf.project.clone().unwrap_or_default(), ev["detail"]["requested_role"].clone())
                    }
                    "role.grant" => (ORGANISATION_SCOPE.to_string(), ev["detail"]["requested_role"].clone()),
                    _ => (ev["resource"]["uid"].as_str().unwrap_or_default().to_string(), json!("member")),
                };
                m.entry((scope, member, role.as_str().unwrap_or_default().to_string())).or_default().push(e);
            }
        }
        Ok(Self(m))
    }

    /// The entry that recorded `a`: the first success for it at or after it was granted.
    fn of(&self, a: &AccessRecord) -> Option<&AuditEntry> {
        self.0.get(&(a.scope.clone(), a.member.clone(), a.role.clone()))?.iter().find(|e| e.leaf.time >= a.granted_at)
    }
}

/// One person's or service's access, as a row.
struct Holder {
    subject: SubjectId,
    role: String,
    scope: String,
    via: String,
    grant: AccessRecord,
    evidence: Vec<u64>,
}

pub(super) async fn access(
    ctx: &Authorized<'_>,
    scope: &AccessScope,
    at: Timestamp,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    let grants = Grants::load(ctx).await?;
    let mut findings = Vec::new();
    let projects: Vec<ProjectId> = match scope {
        AccessScope::Project(p) => {
            ctx.store().get_project(p).await?.ok_or_else(|| AppError::NotFound(format!("project `{p}`")))?;
            vec![p.clone()]
        }
        AccessScope::Zone(z) => {
            if !ctx.app.policy().await.document.zones.contains_key(z) {
                findings.push(format!("zone `{z}` is not in the policy document in force"));
            }
            let set: BTreeSet<ProjectId> =
                ctx.store().active_in_zone(z, None, at).await?.into_iter().map(|d| d.project).collect();
            set.into_iter().collect()
        }
    };
    let mut holders: Vec<Holder> = Vec::new();
    let grant_rows = |ctx_scope: &str, label: &str, records: Vec<AccessRecord>, cites: &mut Cites| {
        let mut out = Vec::new();
        for a in records {
            let evidence: Vec<u64> = grants.of(&a).map(|e| cites.cite(e)).into_iter().collect();
            out.push((ctx_scope.to_string(), label.to_string(), a, evidence));
        }
        out
    };
    let mut direct = Vec::new();
    for p in &projects {
        direct.extend(grant_rows(p.as_str(), "project role", ctx.store().access_as_of(p.as_str(), at).await?, cites));
    }
    direct.extend(grant_rows(
        ORGANISATION_SCOPE,
        "organisation role",
        ctx.store().access_as_of(ORGANISATION_SCOPE, at).await?,
        cites,
    ));
    for (scope, label, a, evidence) in direct {
        if a.member.starts_with("grp_") {
            // Everyone in the group at that moment holds the role through it.
            let members = ctx.store().access_as_of(&a.member, at).await?;
            if members.is_empty() {
                findings.push(format!("group {} held `{}` but had no members then", a.member, a.role));
            }
            for m in members {
                let Ok(subject) = SubjectId::parse(&m.member) else { continue };
                let mut ev = evidence.clone();
                ev.extend(grants.of(&m).map(|e| cites.cite(e)));
                holders.push(Holder {
                    subject,
                    role: a.role.clone(),
                    scope: scope.clone(),
                    via: format!("{label} through group {}", a.member),
                    grant: a.clone(),
                    evidence: ev,
                });
            }
        } else if let Ok(subject) = SubjectId::parse(&a.member) {
            holders.push(Holder { subject, role: a.role.clone(), scope, via: label, grant: a, evidence });
        }
    }
    let mut rows = Vec::new();
    let mut subjects: BTreeSet<SubjectId> = BTreeSet::new();
    for h in &holders {
        let who = ctx.store().get_subject(&h.subject).await?;
        subjects.insert(h.subject.clone());
        if h.evidence.is_empty() {
            findings.push(format!(
                "no ledger entry records the grant of `{}` to {} in {} (granted {})",
                h.role,
                h.subject,
                h.scope,
                rfc3339(h.grant.granted_at)
            ));
        }
        rows.push(json!({
            "subject": h.subject, "name": who.as_ref().map(|s| s.name.clone()),
            "kind": who.as_ref().map(|s| s.kind.as_str()),
            "disabled": who.as_ref().map(|s| s.disabled),
            "role": h.role, "scope": h.scope, "via": h.via,
            "granted_at": rfc3339(h.grant.granted_at), "granted_by": h.grant.granted_by,
            "revoked_at": h.grant.revoked_at.map(rfc3339), "revoked_by": h.grant.revoked_by,
            "evidence": h.evidence,
        }));
    }
    // Every credential that could be used at that moment by those people, inside these
    // projects (or organisation-wide, carrying the holder's roles).
    let mut tokens = Vec::new();
    for s in &subjects {
        for t in ctx.store().tokens_live_at(s, at).await? {
            let relevant = match (&t.project, scope) {
                (None, _) => true,
                (Some(p), _) if projects.contains(p) => true,
                _ => false,
            } || matches!(scope, AccessScope::Zone(z) if t.zone.as_deref() == Some(z.as_str()));
            if !relevant {
                continue;
            }
            tokens.push(json!({
                "token": t.id, "subject": t.subject, "name": t.name, "project": t.project,
                "role": t.role.map(|r| r.as_str()), "data_class": t.data_class, "zone": t.zone, "mfa": t.mfa,
                "created_at": rfc3339(t.created_at), "expires_at": t.expires_at.map(rfc3339),
                "revoked_at": t.revoked_at.map(rfc3339),
            }));
        }
    }
    Ok(json!({
        "scope": match scope {
            AccessScope::Project(p) => json!({"project": p}),
            AccessScope::Zone(z) => json!({"zone": z, "projects": projects}),
        },
        "at": rfc3339(at),
        "holders": rows,
        "tokens": tokens,
        "findings": findings,
    }))
}
