//! `warden project`, `warden user` and `warden group`.

use super::*;

pub(super) async fn project(command: ProjectCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    match command {
        ProjectCommand::Create { name, description, cost_centre, owner } => {
            let owner = match owner {
                Some(o) => Some(c.principal_id(&o, SUBJECTS).await?),
                None => None,
            };
            let p = c.create_project(&api::CreateProjectRequest { name, description, cost_centre, owner }).await?;
            print_project(&p, f)
        }
        ProjectCommand::List => {
            let page = c.list_projects(None, Some(500)).await?;
            if f == Format::Json {
                return json(&page);
            }
            table(
                &["id", "name", "cost centre", "created"],
                page.items
                    .iter()
                    .map(|p| vec![p.id.clone(), p.name.clone(), opt(&p.cost_centre), short(&p.created_at)])
                    .collect(),
            );
            Ok(())
        }
        ProjectCommand::Show { id } => print_project(&c.get_project(&id).await?, f),
        ProjectCommand::Members { id } => {
            let m = c.list_members(&id).await?;
            if f == Format::Json {
                return json(&m);
            }
            table(
                &["member", "role", "added", "added by"],
                m.iter()
                    .map(|m| vec![m.member.clone(), m.role.clone(), short(&m.added_at), m.added_by.clone()])
                    .collect(),
            );
            Ok(())
        }
        ProjectCommand::AddMember { id, member, role } => {
            let member = c.principal_id(&member, ANY).await?;
            let m = c.add_member(&id, &api::AddMemberRequest { member, role }).await?;
            if f == Format::Json {
                return json(&m);
            }
            println!("{} is now {} in {id}", m.member, m.role);
            Ok(())
        }
        ProjectCommand::RemoveMember { id, member, role } => {
            let member = c.principal_id(&member, ANY).await?;
            c.remove_member(&id, &member, &role).await?;
            println!("{member} is no longer {role} in {id}");
            Ok(())
        }
    }
}

/// People and services (named by id or name).
const SUBJECTS: &[&str] = &["user", "service"];
/// People, services and groups.
const ANY: &[&str] = &["user", "service", "group"];

pub(super) async fn user(command: UserCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    let command = match command {
        UserCommand::Show { id } => UserCommand::Show { id: c.principal_id(&id, SUBJECTS).await? },
        UserCommand::Disable { id } => UserCommand::Disable { id: c.principal_id(&id, SUBJECTS).await? },
        UserCommand::Enable { id } => UserCommand::Enable { id: c.principal_id(&id, SUBJECTS).await? },
        UserCommand::Unlock { id } => UserCommand::Unlock { id: c.principal_id(&id, SUBJECTS).await? },
        UserCommand::Grant { id, role } => UserCommand::Grant { id: c.principal_id(&id, ANY).await?, role },
        UserCommand::Revoke { id, role } => UserCommand::Revoke { id: c.principal_id(&id, ANY).await?, role },
        other => other,
    };
    match command {
        UserCommand::Create { name, email, display_name, password_stdin } => {
            let password = if password_stdin { Some(read_stdin_line("password")?) } else { None };
            let u = c.create_user(&api::CreateUserRequest { name, display_name, email, password }).await?;
            print_user(&u, f)
        }
        UserCommand::List { kind } => {
            let page = c.list_users(kind.as_deref(), None, Some(500)).await?;
            if f == Format::Json {
                return json(&page);
            }
            table(
                &["id", "name", "kind", "email", "totp", "state"],
                page.items
                    .iter()
                    .map(|u| {
                        let state = if u.disabled {
                            "disabled"
                        } else if u.locked {
                            "locked"
                        } else {
                            "active"
                        };
                        vec![
                            u.id.clone(),
                            u.name.clone(),
                            u.kind.clone(),
                            opt(&u.email),
                            u.totp_enrolled.to_string(),
                            state.into(),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        UserCommand::Show { id } => print_user(&c.get_user(&id).await?, f),
        UserCommand::Disable { id } => {
            c.set_user_disabled(&id, true).await?;
            println!("disabled {id}");
            Ok(())
        }
        UserCommand::Enable { id } => {
            c.set_user_disabled(&id, false).await?;
            println!("enabled {id}");
            Ok(())
        }
        UserCommand::Unlock { id } => {
            c.unlock_user(&id).await?;
            println!("unlocked {id}");
            Ok(())
        }
        UserCommand::Grant { id, role } => {
            let r = c.grant_role(&api::RoleGrantRequest { member: id, role }).await?;
            if f == Format::Json {
                return json(&r);
            }
            println!("granted {} to {}", r.role, r.member);
            Ok(())
        }
        UserCommand::Revoke { id, role } => {
            c.revoke_role(&id, &role).await?;
            println!("revoked {role} from {id}");
            Ok(())
        }
    }
}

const GROUPS: &[&str] = &["group"];

pub(super) async fn group(command: GroupCommand, g: &Global) -> anyhow::Result<()> {
    let c = client(g)?;
    let f = g.output;
    match command {
        GroupCommand::Create { name, description } => {
            let gr = c.create_group(&api::CreateGroupRequest { name, description }).await?;
            if f == Format::Json {
                return json(&gr);
            }
            fields(vec![("id", gr.id), ("name", gr.name)]);
            Ok(())
        }
        GroupCommand::List => {
            let page = c.list_groups(None, Some(500)).await?;
            if f == Format::Json {
                return json(&page);
            }
            table(
                &["id", "name", "description"],
                page.items.iter().map(|g| vec![g.id.clone(), g.name.clone(), g.description.clone()]).collect(),
            );
            Ok(())
        }
        GroupCommand::Show { id } => {
            let gr = c.get_group(&c.principal_id(&id, GROUPS).await?).await?;
            if f == Format::Json {
                return json(&gr);
            }
            fields(vec![
                ("id", gr.id.clone()),
                ("name", gr.name.clone()),
                ("members", gr.members.clone().unwrap_or_default().join(", ")),
                ("roles", gr.roles.clone().unwrap_or_default().join(", ")),
            ]);
            Ok(())
        }
        GroupCommand::Add { group, subject } => {
            let (group, subject) = (c.principal_id(&group, GROUPS).await?, c.principal_id(&subject, SUBJECTS).await?);
            c.add_group_member(&group, &subject).await?;
            println!("added {subject} to {group}");
            Ok(())
        }
        GroupCommand::Remove { group, subject } => {
            let (group, subject) = (c.principal_id(&group, GROUPS).await?, c.principal_id(&subject, SUBJECTS).await?);
            c.remove_group_member(&group, &subject).await?;
            println!("removed {subject} from {group}");
            Ok(())
        }
    }
}
