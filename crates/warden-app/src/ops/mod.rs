//! The operations on identities, the audit ledger and the registry, one module per
//! aggregate as in the store; releases, policy, the catalog and the gateway have their
//! own modules beside this one. Each operation declares its action and its target;
//! none checks permissions itself (dispatch does, before `execute` can run).

mod audit;
mod identity;
mod registry;

pub use audit::*;
pub use identity::*;
pub use registry::*;

use std::collections::BTreeSet;

use warden_audit::AuditEvent;
use warden_authn::{password, token, totp};
use warden_core::{
    validate_name, GroupId, Principal, PrincipalKind, ProjectId, Role, RoleScope, SubjectId, Timestamp, TokenId,
};
use warden_store::{
    AuditFilter, CheckpointRecord, GroupRecord, MemberRef, MembershipRecord, Page, ProjectRecord, RoleGrantRecord,
    SubjectRecord, TokenRecord,
};
use warden_tlog::Hash;

use crate::text::text_ok;
use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

pub(crate) fn own(principal: &Principal) -> Target {
    Target::of(Resource::Subject(principal.id.clone()))
}

pub(crate) fn name_ok(name: &str) -> Result<(), AppError> {
    validate_name(name).map_err(AppError::Invalid)
}

pub(crate) fn role_in_scope(role: Role, scope: RoleScope) -> Result<(), AppError> {
    if role.scope() == scope {
        return Ok(());
    }
    Err(AppError::Invalid(match scope {
        RoleScope::Organisation => {
            format!("`{role}` is a project role; organisation roles are platform-admin and auditor")
        }
        RoleScope::Project => format!(
            "`{role}` is an organisation role; project roles are project-owner, data-scientist, approver and service"
        ),
    }))
}

/// A new token's expiry: the requested lifetime (90 days by default) within the
/// configured maximum, and never after the credential that mints it. Without an
/// explicit lifetime the token ends with its parent; asking for more is refused.
pub(crate) fn token_expiry(
    ctx: &Authorized<'_>,
    ttl_seconds: Option<i64>,
    minted: bool,
) -> Result<Option<Timestamp>, AppError> {
    let now = ctx.now();
    let max = ctx.app.config().max_token_ttl_seconds;
    let ttl = ttl_seconds.unwrap_or_else(|| (90 * 24 * 3600).min(max));
    if ttl <= 0 || ttl > max {
        return Err(AppError::Invalid(format!("`expires_in_seconds` must be between 1 and {max}")));
    }
    let wanted = now.plus_seconds(ttl);
    match ctx.principal.scope.as_ref().and_then(|s| s.expires_at).filter(|_| minted) {
        Some(parent) if wanted > parent && ttl_seconds.is_some() => Err(AppError::rule(
            422,
            "tokens.never-outlive-their-parent",
            format!(
                "a token may not outlive the credential that mints it: this credential expires in {} s; \
                 ask for at most that, or mint from a longer-lived credential",
                (parent.0 - now.0).max(0) / 1000
            ),
        )),
        Some(parent) if wanted > parent => Ok(Some(parent)),
        _ => Ok(Some(wanted)),
    }
}

pub(crate) async fn subject_exists(ctx: &Authorized<'_>, id: &SubjectId) -> Result<SubjectRecord, AppError> {
    ctx.store().get_subject(id).await?.ok_or_else(|| AppError::NotFound(format!("subject `{id}`")))
}

pub(crate) async fn member_exists(ctx: &Authorized<'_>, member: &MemberRef) -> Result<(), AppError> {
    match member {
        MemberRef::Subject(s) => subject_exists(ctx, s).await.map(|_| ()),
        MemberRef::Group(g) => match ctx.store().get_group(g).await? {
            Some(_) => Ok(()),
            None => Err(AppError::NotFound(format!("group `{g}`"))),
        },
    }
}
