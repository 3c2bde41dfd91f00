use std::collections::BTreeSet;

use async_trait::async_trait;
use warden_core::{GroupId, PrincipalKind, ProjectId, Role, SubjectId, Timestamp, TokenId};

use crate::*;

#[async_trait]
pub trait IdentityStore: Send + Sync {
    // Subjects (people and service identities).
    async fn count_subjects(&self) -> Result<i64>;
    /// Creates the first administrator with a role grant and a token, only if no subject
    /// exists yet. Returns false (and writes nothing) when the store is not empty.
    async fn bootstrap(&self, admin: &SubjectRecord, grant: &RoleGrantRecord, token: &TokenRecord) -> Result<bool>;
    async fn create_subject(&self, subject: &SubjectRecord) -> Result<()>;
    async fn get_subject(&self, id: &SubjectId) -> Result<Option<SubjectRecord>>;
    async fn get_subject_by_name(&self, name: &str) -> Result<Option<SubjectRecord>>;
    async fn get_subject_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<SubjectRecord>>;
    async fn list_subjects(&self, kind: Option<PrincipalKind>, page: &Page) -> Result<Vec<SubjectRecord>>;
    async fn set_disabled(&self, id: &SubjectId, disabled: bool) -> Result<bool>;
    /// Stores a pending TOTP secret (not yet enrolled).
    async fn set_totp_pending(&self, id: &SubjectId, secret: &str) -> Result<bool>;
    /// Subjects whose stored TOTP secret is not sealed (`sealed:` prefix), with it.
    async fn totp_secrets_in_clear(&self) -> Result<Vec<(SubjectId, String)>>;
    /// Replaces a subject's TOTP secret if it is still `old` (compare-and-set).
    async fn replace_totp_secret(&self, id: &SubjectId, old: &str, new: &str) -> Result<bool>;
    /// Marks the pending secret enrolled and records the step used to confirm it.
    async fn confirm_totp(&self, id: &SubjectId, step: i64) -> Result<bool>;
    /// Records the TOTP step just used, refusing (false) if it is not newer than the last.
    async fn use_totp_step(&self, id: &SubjectId, step: i64) -> Result<bool>;
    /// Atomically counts a failed sign-in; locks the subject until `lock_until` once the
    /// count reaches `max_attempts`. Returns the new count.
    async fn record_failure(&self, id: &SubjectId, max_attempts: i64, lock_until: Timestamp) -> Result<i64>;
    /// Clears the failed-attempt counter and any lock.
    async fn reset_failures(&self, id: &SubjectId) -> Result<()>;
    // Tokens.
    async fn create_token(&self, token: &TokenRecord) -> Result<()>;
    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>>;
    async fn find_token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;
    async fn list_tokens(&self, subject: &SubjectId, page: &Page) -> Result<Vec<TokenRecord>>;
    /// Revokes the token and every token minted from it (transitively); answers how many
    /// tokens this revoked (0 when all of them already were).
    async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<u64>;
    async fn touch_token(&self, id: &TokenId, at: Timestamp) -> Result<()>;
    // Projects and their members.
    /// Creates the project and its initial members together.
    async fn create_project(&self, project: &ProjectRecord, members: &[MembershipRecord]) -> Result<()>;
    async fn get_project(&self, id: &ProjectId) -> Result<Option<ProjectRecord>>;
    async fn list_projects(&self, page: &Page) -> Result<Vec<ProjectRecord>>;
    /// Projects where the subject, or one of its groups, holds any role.
    async fn list_projects_of(&self, subject: &SubjectId, page: &Page) -> Result<Vec<ProjectRecord>>;
    async fn add_member(&self, membership: &MembershipRecord) -> Result<()>;
    /// Ends a membership (its history keeps when and by whom).
    async fn remove_member(
        &self,
        project: &ProjectId,
        member: &MemberRef,
        role: Role,
        at: Timestamp,
        by: &SubjectId,
    ) -> Result<bool>;
    async fn list_members(&self, project: &ProjectId) -> Result<Vec<MembershipRecord>>;
    /// The subject's roles in the project, directly or through its groups.
    async fn project_roles(&self, project: &ProjectId, subject: &SubjectId) -> Result<BTreeSet<Role>>;
    // Groups and organisation roles.
    async fn create_group(&self, group: &GroupRecord) -> Result<()>;
    async fn get_group(&self, id: &GroupId) -> Result<Option<GroupRecord>>;
    async fn get_group_by_name(&self, name: &str) -> Result<Option<GroupRecord>>;
    async fn list_groups(&self, page: &Page) -> Result<Vec<GroupRecord>>;
    async fn add_group_member(&self, group: &GroupId, subject: &SubjectId, at: Timestamp, by: &SubjectId)
        -> Result<()>;
    async fn remove_group_member(
        &self,
        group: &GroupId,
        subject: &SubjectId,
        at: Timestamp,
        by: &SubjectId,
    ) -> Result<bool>;
    async fn list_group_members(&self, group: &GroupId) -> Result<Vec<SubjectId>>;
    async fn grant_role(&self, grant: &RoleGrantRecord) -> Result<()>;
    async fn revoke_role(&self, member: &MemberRef, role: Role, at: Timestamp, by: &SubjectId) -> Result<bool>;
    /// The access held in `scope` (a project id, `organisation`, or a group id for its
    /// members) at `at`: granted at or before it and not yet revoked.
    async fn access_as_of(&self, scope: &str, at: Timestamp) -> Result<Vec<AccessRecord>>;
    /// A subject's tokens that were usable at `at` (created, not yet expired or revoked).
    async fn tokens_live_at(&self, subject: &SubjectId, at: Timestamp) -> Result<Vec<TokenRecord>>;
    /// The subject's organisation roles, directly or through its groups.
    async fn org_roles(&self, subject: &SubjectId) -> Result<BTreeSet<Role>>;
    async fn list_role_grants(&self, member: &MemberRef) -> Result<Vec<RoleGrantRecord>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    pub id: SubjectId,
    pub kind: PrincipalKind,
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// argon2id PHC string; services and OIDC-only people have none.
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enrolled: bool,
    pub totp_last_step: Option<i64>,
    pub failed_attempts: i64,
    pub locked_until: Option<Timestamp>,
    pub disabled: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: Timestamp,
}

impl SubjectRecord {
    pub fn new(id: SubjectId, kind: PrincipalKind, name: &str, now: Timestamp) -> Self {
        Self {
            id,
            kind,
            name: name.to_string(),
            display_name: None,
            email: None,
            password_hash: None,
            totp_secret: None,
            totp_enrolled: false,
            totp_last_step: None,
            failed_attempts: 0,
            locked_until: None,
            disabled: false,
            oidc_issuer: None,
            oidc_subject: None,
            created_at: now,
        }
    }

    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub subject: SubjectId,
    pub name: String,
    /// Hex SHA-256 of the token string.
    pub hash: String,
    pub project: Option<ProjectId>,
    pub role: Option<Role>,
    /// For gateway keys: the data class whose rules apply to every call.
    pub data_class: Option<String>,
    /// A workload identity's zone: pulls get only artifacts permitted there.
    pub zone: Option<String>,
    /// Minted by a sign-in that verified a second factor.
    pub mfa: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// The token this one was minted with; revoking it revokes this one too.
    pub parent: Option<TokenId>,
}

impl TokenRecord {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub cost_centre: Option<String>,
    pub created_at: Timestamp,
    pub created_by: SubjectId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
}

/// Who a membership or a grant is for: one subject, or every member of a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberRef {
    Subject(SubjectId),
    Group(GroupId),
}

impl MemberRef {
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(g) = GroupId::parse(s) {
            return Some(MemberRef::Group(g));
        }
        SubjectId::parse(s).ok().map(MemberRef::Subject)
    }
    pub fn as_str(&self) -> &str {
        match self {
            MemberRef::Subject(s) => s.as_str(),
            MemberRef::Group(g) => g.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub project: ProjectId,
    pub member: MemberRef,
    pub role: Role,
    pub added_at: Timestamp,
    pub added_by: SubjectId,
}

/// One stretch of access: a membership, a grant or a group membership, from when it
/// was given to when (if ever) it was taken away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    pub scope: String,
    /// A subject or group id.
    pub member: String,
    /// The role, or `member` for a group's members.
    pub role: String,
    pub granted_at: Timestamp,
    pub granted_by: Option<String>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

/// The scope of organisation role grants in [`AccessRecord`].
pub const ORGANISATION_SCOPE: &str = "organisation";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrantRecord {
    pub member: MemberRef,
    pub role: Role,
    pub granted_at: Timestamp,
    pub granted_by: Option<SubjectId>,
}
