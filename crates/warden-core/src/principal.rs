//! The authenticated caller of one request.

use std::collections::BTreeSet;

use crate::{ProjectId, Role, SubjectId, Timestamp, TokenId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Human,
    Service,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Human => "human",
            PrincipalKind::Service => "service",
        }
    }
}

/// How the caller proved who they are on this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// An API token (long-lived, or a session token minted by a password sign-in).
    Token,
    /// A bearer JWT from the OIDC identity provider.
    Oidc,
}

/// A token narrows what its holder may do: to one role, optionally inside one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    pub token_id: TokenId,
    pub project: Option<ProjectId>,
    pub role: Option<Role>,
    /// A gateway key's data class.
    pub data_class: Option<String>,
    /// A workload identity's zone.
    pub zone: Option<String>,
    /// When the credential expires; a token it mints may not outlive it.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub id: SubjectId,
    pub name: String,
    pub kind: PrincipalKind,
    /// Organisation roles, direct or through groups, already narrowed by the token scope.
    pub org_roles: BTreeSet<Role>,
    pub method: AuthMethod,
    /// A second factor was verified for this credential (TOTP at sign-in, or OIDC `amr`/`acr`).
    pub mfa: bool,
    /// The subject has a confirmed TOTP enrolment (required of administrators for privileged actions).
    pub totp_enrolled: bool,
    pub scope: Option<TokenScope>,
}

impl Principal {
    /// The credential is narrowed to a project or a role (so it may not mint wider ones).
    pub fn is_narrowed(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.project.is_some() || s.role.is_some())
    }

    pub fn has_org_role(&self, role: Role) -> bool {
        self.org_roles.contains(&role)
    }

    /// Narrows a set of project roles by this credential's scope.
    pub fn narrow_project_roles(&self, project: &ProjectId, roles: BTreeSet<Role>) -> BTreeSet<Role> {
        match &self.scope {
            None => roles,
            Some(scope) => {
                if scope.project.as_ref().is_some_and(|p| p != project) {
                    return BTreeSet::new();
                }
                match scope.role {
                    None => roles,
                    Some(r) => roles.into_iter().filter(|x| *x == r).collect(),
                }
            }
        }
    }
}
