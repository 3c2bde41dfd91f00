//! Roles. Organisation roles apply everywhere; project roles apply inside one project.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the installation: users, groups, projects, roles.
    PlatformAdmin,
    /// Reads everything, changes nothing.
    Auditor,
    /// Owns a project: manages its members and tokens.
    ProjectOwner,
    /// Works inside a project.
    DataScientist,
    /// Approves releases in a project.
    Approver,
    /// A pipeline or workload acting inside a project.
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleScope {
    Organisation,
    Project,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a role; roles are platform-admin, auditor, project-owner, data-scientist, approver, service")]
pub struct RoleError(pub String);

impl Role {
    pub const ALL: [Role; 6] =
        [Role::PlatformAdmin, Role::Auditor, Role::ProjectOwner, Role::DataScientist, Role::Approver, Role::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform-admin",
            Role::Auditor => "auditor",
            Role::ProjectOwner => "project-owner",
            Role::DataScientist => "data-scientist",
            Role::Approver => "approver",
            Role::Service => "service",
        }
    }

    pub fn scope(self) -> RoleScope {
        match self {
            Role::PlatformAdmin | Role::Auditor => RoleScope::Organisation,
            Role::ProjectOwner | Role::DataScientist | Role::Approver | Role::Service => RoleScope::Project,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, RoleError> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| RoleError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_print_parse() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            let json = serde_json_like(r);
            assert_eq!(json, r.as_str());
        }
        assert!("admin".parse::<Role>().is_err());
    }

    fn serde_json_like(r: Role) -> String {
        r.to_string()
    }
}
