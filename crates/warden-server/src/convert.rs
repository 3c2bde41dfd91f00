//! Domain records to wire types, and wire strings to domain values.

use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use warden_api as api;
use warden_api::ProblemType;
use warden_core::{GroupId, ProjectId, Role, SubjectId, Timestamp, TokenId};
use warden_store::{
    GroupRecord, MemberRef, MembershipRecord, Page, ProjectRecord, RoleGrantRecord, SubjectRecord, TokenRecord,
};

use crate::error::ApiError;

pub fn time(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn parse_time(field: &str, s: &str) -> Result<Timestamp, ApiError> {
    let d = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| ApiError::new(ProblemType::InvalidParameter, format!("`{field}` must be an RFC 3339 time")))?;
    Ok(Timestamp(i64::try_from(d.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)))
}

fn invalid(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ProblemType::InvalidParameter, format!("`{field}`: {e}"))
}

fn invalid_body(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ProblemType::ValidationFailed, format!("`{field}`: {e}"))
}

pub fn project_id(field: &str, s: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(s).map_err(|e| invalid(field, e))
}
/// A model version number in a path (1, 2, …).
pub fn version_number(field: &str, s: &str) -> Result<u64, ApiError> {
    s.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(|| invalid(field, "must be a version number (1, 2, …)"))
}
pub fn subject_id(field: &str, s: &str) -> Result<SubjectId, ApiError> {
    SubjectId::parse(s).map_err(|e| invalid(field, e))
}
pub fn group_id(field: &str, s: &str) -> Result<GroupId, ApiError> {
    GroupId::parse(s).map_err(|e| invalid(field, e))
}
pub fn token_id(field: &str, s: &str) -> Result<TokenId, ApiError> {
    TokenId::parse(s).map_err(|e| invalid(field, e))
}
pub fn role(field: &str, s: &str) -> Result<Role, ApiError> {
    Role::from_str(s).map_err(|e| invalid(field, e))
}
pub fn body_role(field: &str, s: &str) -> Result<Role, ApiError> {
    Role::from_str(s).map_err(|e| invalid_body(field, e))
}
pub fn body_project(field: &str, s: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(s).map_err(|e| invalid_body(field, e))
}
pub fn body_subject(field: &str, s: &str) -> Result<SubjectId, ApiError> {
    SubjectId::parse(s).map_err(|e| invalid_body(field, e))
}
pub fn member(field: &str, s: &str, in_body: bool) -> Result<MemberRef, ApiError> {
    MemberRef::parse(s).ok_or_else(|| {
        let e = format!("`{s}` is neither a subject id (usr_, svc_) nor a group id (grp_)");
        if in_body {
            invalid_body(field, e)
        } else {
            invalid(field, e)
        }
    })
}

pub fn page(cursor: Option<String>, limit: Option<u32>) -> Result<Page, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=Page::MAX).contains(&limit) {
        return Err(invalid("limit", format!("must be between 1 and {}", Page::MAX)));
    }
    if let Some(c) = &cursor {
        if c.len() > 64 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(invalid("cursor", "not a cursor returned by this API"));
        }
    }
    Ok(Page { after: cursor, limit })
}

/// Wraps a page of items, with a cursor when the page was full.
pub fn paged<R, T>(rows: Vec<R>, page: &Page, key: impl Fn(&R) -> String, f: impl Fn(R) -> T) -> api::Paged<T> {
    let next_cursor = if rows.len() as u32 == page.limit { rows.last().map(&key) } else { None };
    api::Paged { items: rows.into_iter().map(f).collect(), next_cursor }
}

pub fn token(t: TokenRecord) -> api::Token {
    api::Token {
        id: t.id.to_string(),
        name: t.name,
        subject: t.subject.to_string(),
        project: t.project.map(|p| p.to_string()),
        role: t.role.map(|r| r.to_string()),
        data_class: t.data_class,
        zone: t.zone,
        created_at: time(t.created_at),
        expires_at: t.expires_at.map(time),
        revoked_at: t.revoked_at.map(time),
        last_used_at: t.last_used_at.map(time),
    }
}

pub fn project(p: ProjectRecord) -> api::Project {
    api::Project {
        id: p.id.to_string(),
        name: p.name,
        description: p.description,
        cost_centre: p.cost_centre,
        created_at: time(p.created_at),
        created_by: p.created_by.to_string(),
    }
}

pub fn member_view(m: MembershipRecord) -> api::Member {
    api::Member {
        member: m.member.as_str().to_string(),
        role: m.role.to_string(),
        added_at: time(m.added_at),
        added_by: m.added_by.to_string(),
    }
}

pub fn user(s: SubjectRecord, now: Timestamp, roles: Option<Vec<String>>) -> api::User {
    api::User {
        locked: s.is_locked(now),
        sso: s.oidc_subject.is_some(),
        id: s.id.to_string(),
        name: s.name,
        kind: s.kind.as_str().to_string(),
        display_name: s.display_name,
        email: s.email,
        totp_enrolled: s.totp_enrolled,
        disabled: s.disabled,
        created_at: time(s.created_at),
        roles,
    }
}

pub fn grant(g: RoleGrantRecord) -> api::RoleGrant {
    api::RoleGrant {
        member: g.member.as_str().to_string(),
        role: g.role.to_string(),
        granted_at: time(g.granted_at),
        granted_by: g.granted_by.map(|s| s.to_string()),
    }
}

pub fn group(g: GroupRecord) -> api::Group {
    api::Group {
        id: g.id.to_string(),
        name: g.name,
        description: g.description,
        created_at: time(g.created_at),
        members: None,
        roles: None,
    }
}

pub fn artifact(a: warden_store::ArtifactRecord) -> api::Artifact {
    let manifest = serde_json::from_str::<serde_json::Value>(&a.manifest).unwrap_or_default();
    let files: Vec<api::ArtifactFile> = serde_json::from_value(manifest["files"].clone()).unwrap_or_default();
    let image = manifest["image"].as_str().map(str::to_string);
    api::Artifact {
        id: a.id.to_string(),
        project: a.project.to_string(),
        kind: a.kind,
        name: a.name,
        manifest_digest: a.manifest_digest,
        files,
        image,
        total_size: a.total_size,
        verdict: a.verdict,
        evidence: a.evidence,
        expires_at: a.expires_at.map(time),
        created_by: a.created_by.to_string(),
        created_at: time(a.created_at),
    }
}

pub fn model_version(m: &warden_store::ModelRecord, v: warden_app::ops::VersionView) -> api::ModelVersion {
    api::ModelVersion {
        model: m.name.clone(),
        version: v.version.version,
        artifact: artifact(v.artifact),
        runs: v.version.lineage.runs,
        datasets: v.version.lineage.datasets,
        data_classes: v.version.lineage.data_classes,
        aliases: v.aliases,
        tags: v.tags,
        created_by: v.version.created_by.to_string(),
        created_at: time(v.version.created_at),
    }
}

pub fn model_alias(model: &str, x: warden_store::ModelAliasRecord) -> api::ModelAlias {
    api::ModelAlias {
        model: model.to_string(),
        alias: x.alias,
        version: x.version,
        updated_by: x.updated_by.to_string(),
        updated_at: time(x.updated_at),
    }
}

pub fn model_tag(model: &str, x: warden_store::ModelTagRecord) -> api::ModelTag {
    api::ModelTag {
        model: model.to_string(),
        version: x.version,
        key: x.key,
        value: x.value,
        updated_by: x.updated_by.to_string(),
        updated_at: time(x.updated_at),
    }
}

pub fn model(m: &warden_store::ModelRecord) -> api::Model {
    api::Model {
        id: m.id.to_string(),
        name: m.name.clone(),
        project: m.project.to_string(),
        created_at: time(m.created_at),
        versions: None,
    }
}

/// An RFC 3339 time in a request body (422 when malformed).
pub fn body_time(field: &str, s: &str) -> Result<Timestamp, ApiError> {
    parse_time(field, s).map_err(|_| invalid_body(field, "must be an RFC 3339 time"))
}

pub fn signer(x: warden_store::SignerRecord) -> api::Signer {
    api::Signer {
        id: x.id.to_string(),
        name: x.name,
        algorithm: x.algorithm,
        public_key: x.public_key,
        project: x.project.map(|p| p.to_string()),
        not_before: x.not_before.map(time),
        not_after: x.not_after.map(time),
        revoked_at: x.revoked_at.map(time),
        created_at: time(x.created_at),
    }
}
