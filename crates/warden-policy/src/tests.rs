use std::collections::BTreeSet;

use warden_core::{AuthMethod, Principal, PrincipalKind, ProjectId, Role, SubjectId, TokenId, TokenScope};

use super::*;

fn principal(org_roles: &[Role], totp: bool) -> Principal {
    Principal {
        id: SubjectId::generate_user(1),
        name: "alice".into(),
        kind: PrincipalKind::Human,
        org_roles: org_roles.iter().copied().collect(),
        method: AuthMethod::Token,
        mfa: false,
        totp_enrolled: totp,
        scope: None,
    }
}

fn facts(project_roles: &[Role]) -> Facts {
    Facts { project_roles: project_roles.iter().copied().collect(), ..Facts::default() }
}

#[test]
fn schema_and_enum_declare_the_same_actions() {
    let engine = Engine::builtin().unwrap();
    let mut in_schema: Vec<String> = engine.schema_actions();
    in_schema.sort();
    let mut in_enum: Vec<String> = Action::ALL.iter().map(|a| a.as_str().to_string()).collect();
    in_enum.sort();
    assert_eq!(in_schema, in_enum);
}

#[test]
fn default_is_deny() {
    let engine = Engine::builtin().unwrap();
    let nobody = principal(&[], false);
    for action in Action::ALL {
        let resource = match action.as_str() {
            a if a.starts_with("project.get")
                || a.starts_with("project.member")
                || a.starts_with("blob.")
                || a.starts_with("artifact.")
                || a.starts_with("model.")
                || a == "service.token.create"
                || a.starts_with("release.")
                || a == "dataset.create"
                || a == "dataset.update"
                || a == "dataset.propose"
                || a == "dataset.decide"
                || a == "dataset.delete"
                || a == "lineage.write"
                || a.starts_with("transfer.")
                || a.starts_with("quarantine.")
                || a == "deletion.close"
                || a == "gateway.invoke"
                || a == "gateway.budget.read" =>
            {
                Resource::Project(ProjectId::generate(1))
            }
            "whoami" | "totp.enrol" | "totp.confirm" | "session.step-up" | "token.list" | "token.revoke" => {
                Resource::Subject(SubjectId::generate_user(2))
            }
            _ => Resource::Organisation,
        };
        if *action == Action::ModelPlace {
            // A question about an artifact, not a caller: see the placement tests.
            continue;
        }
        let d = engine.decide(&nobody, *action, &resource, &Facts::default());
        let expected = matches!(
            action,
            Action::ProjectList
                | Action::DirectoryLookup
                | Action::TokenCreate
                | Action::AuditCheckpoint
                | Action::PolicyRead
                | Action::PolicyExplain
                | Action::DatasetList
                | Action::LineageRead
        );
        assert_eq!(d.allowed, expected, "{action:?}: {d:?}");
        assert!(d.errors.is_empty(), "{action:?}: {:?}", d.errors);
    }
}

#[test]
fn admin_needs_totp_for_privileged_actions() {
    let engine = Engine::builtin().unwrap();
    let without = principal(&[Role::PlatformAdmin], false);
    let d = engine.decide(&without, Action::UserCreate, &Resource::Organisation, &Facts::default());
    assert!(!d.allowed);
    assert!(d.policies.contains(&"privileged-actions-need-enrolled-totp".to_string()), "{d:?}");
    assert!(d.explain(Action::UserCreate).contains("privileged-actions-need-enrolled-totp"));
    // Reads do not need it.
    assert!(engine.decide(&without, Action::UserList, &Resource::Organisation, &Facts::default()).allowed);
    // Enrolled is not enough: the credential must have been verified with it.
    let enrolled = principal(&[Role::PlatformAdmin], true);
    let d = engine.decide(&enrolled, Action::UserCreate, &Resource::Organisation, &Facts::default());
    assert_eq!(d.policies, vec!["privileged-actions-need-mfa".to_string()]);
    assert!(d.explain(Action::UserCreate).contains("step up"), "the denial says what to do: {d:?}");
    let mut verified = principal(&[Role::PlatformAdmin], true);
    verified.mfa = true;
    for action in Action::ALL.iter().filter(|a| {
        !matches!(a, Action::ModelPlace)
            && engine.decide(&enrolled, **a, &Resource::Organisation, &Facts::default()).policies
                == vec!["privileged-actions-need-mfa".to_string()]
    }) {
        assert!(engine.decide(&verified, *action, &Resource::Organisation, &Facts::default()).allowed, "{action:?}");
    }
    assert!(engine.decide(&verified, Action::PolicyApply, &Resource::Organisation, &Facts::default()).allowed);
    assert!(!engine.decide(&enrolled, Action::PolicyApply, &Resource::Organisation, &Facts::default()).allowed);
}

#[test]
fn auditor_reads_but_never_writes() {
    let engine = Engine::builtin().unwrap();
    let auditor = principal(&[Role::Auditor], true);
    let p = Resource::Project(ProjectId::generate(1));
    assert!(engine.decide(&auditor, Action::AuditRead, &Resource::Organisation, &Facts::default()).allowed);
    assert!(engine.decide(&auditor, Action::ProjectGet, &p, &Facts::default()).allowed);
    assert!(!engine.decide(&auditor, Action::ProjectMemberAdd, &p, &Facts::default()).allowed);
    assert!(!engine.decide(&auditor, Action::ProjectCreate, &Resource::Organisation, &Facts::default()).allowed);
}

#[test]
fn project_roles_decide_inside_a_project() {
    let engine = Engine::builtin().unwrap();
    let alice = principal(&[], false);
    let p = Resource::Project(ProjectId::generate(1));
    let ds = facts(&[Role::DataScientist]);
    assert!(engine.decide(&alice, Action::ProjectGet, &p, &ds).allowed);
    assert!(!engine.decide(&alice, Action::ProjectMemberAdd, &p, &ds).allowed);
    let owner = facts(&[Role::ProjectOwner]);
    assert!(engine.decide(&alice, Action::ProjectMemberAdd, &p, &owner).allowed);
    // Writers add content; approvers and readers do not.
    assert!(engine.decide(&alice, Action::BlobUpload, &p, &ds).allowed);
    assert!(!engine.decide(&alice, Action::BlobUpload, &p, &facts(&[Role::Approver])).allowed);
    assert!(engine.decide(&alice, Action::BlobRead, &p, &facts(&[Role::Approver])).allowed);
    // Not a member: nothing.
    assert!(!engine.decide(&alice, Action::ProjectGet, &p, &facts(&[])).allowed);
}

#[test]
fn self_service_only_on_oneself() {
    let engine = Engine::builtin().unwrap();
    let alice = principal(&[], false);
    let me = Resource::Subject(alice.id.clone());
    let other = Resource::Subject(SubjectId::generate_user(9));
    assert!(engine.decide(&alice, Action::TokenRevoke, &me, &Facts::default()).allowed);
    assert!(!engine.decide(&alice, Action::TokenRevoke, &other, &Facts::default()).allowed);
}

#[test]
fn tokens_never_exceed_the_holders_roles() {
    let engine = Engine::builtin().unwrap();
    let alice = principal(&[], false);
    let p = Resource::Project(ProjectId::generate(1));
    let mut f = facts(&[Role::DataScientist]);
    f.requested_role = Some(Role::DataScientist);
    assert!(engine.decide(&alice, Action::TokenCreate, &p, &f).allowed);
    f.requested_role = Some(Role::ProjectOwner);
    assert!(!engine.decide(&alice, Action::TokenCreate, &p, &f).allowed);
    let org = Facts { requested_role: Some(Role::PlatformAdmin), ..Facts::default() };
    assert!(!engine.decide(&alice, Action::TokenCreate, &Resource::Organisation, &org).allowed);
    let auditor = principal(&[Role::Auditor], false);
    let org = Facts { requested_role: Some(Role::Auditor), ..Facts::default() };
    assert!(engine.decide(&auditor, Action::TokenCreate, &Resource::Organisation, &org).allowed);
}

#[test]
fn narrowed_credentials_cannot_mint_wider_tokens() {
    let engine = Engine::builtin().unwrap();
    let mut alice = principal(&[], false);
    let p1 = ProjectId::generate(1);
    alice.scope = Some(TokenScope {
        token_id: TokenId::generate(1),
        project: Some(p1.clone()),
        role: Some(Role::DataScientist),
        data_class: None,
        zone: None,
        expires_at: None,
    });
    let unscoped = Facts::default();
    assert!(!engine.decide(&alice, Action::TokenCreate, &Resource::Organisation, &unscoped).allowed);
    let f = facts(&[Role::DataScientist]);
    assert!(!engine.decide(&alice, Action::TokenCreate, &Resource::Project(p1.clone()), &f).allowed);
    let mut same = facts(&[Role::DataScientist]);
    same.requested_role = Some(Role::DataScientist);
    assert!(engine.decide(&alice, Action::TokenCreate, &Resource::Project(p1), &same).allowed);
}

#[test]
fn scoped_token_narrows_project_roles() {
    let mut alice = principal(&[], false);
    let p1 = ProjectId::generate(1);
    let p2 = ProjectId::generate(2);
    alice.scope = Some(TokenScope {
        token_id: TokenId::generate(1),
        project: Some(p1.clone()),
        role: Some(Role::DataScientist),
        data_class: None,
        zone: None,
        expires_at: None,
    });
    let roles: BTreeSet<Role> = [Role::ProjectOwner, Role::DataScientist].into_iter().collect();
    assert_eq!(alice.narrow_project_roles(&p1, roles.clone()), [Role::DataScientist].into_iter().collect());
    assert!(alice.narrow_project_roles(&p2, roles).is_empty());
}

#[test]
fn rejects_policies_without_ids_or_off_schema() {
    assert!(matches!(Engine::with_policies("permit(principal, action, resource);"), Err(PolicyError::Parse(_))));
    let bad = r#"@id("x") permit(principal, action == Warden::Action::"whoami", resource) when { context.nope };"#;
    assert!(matches!(Engine::with_policies(bad), Err(PolicyError::Validation { .. })));
}

fn placement(zone: &str, classes: &[&str]) -> Facts {
    Facts {
        placement: Some(Placement {
            zone: zone.into(),
            classes: classes.iter().map(|c| c.to_string()).collect(),
            signed: true,
            scan_verdict: "safe".into(),
            expired: false,
            permitted_zones: [zone.to_string()].into_iter().collect(),
        }),
        ..Facts::default()
    }
}

#[test]
fn placement_is_allowed_unless_the_artifact_fails_a_builtin_rule() {
    let engine = Engine::builtin().unwrap();
    let anyone = principal(&[], false);
    let zone = Resource::Zone("z".into());
    assert!(engine.decide(&anyone, Action::ModelPlace, &zone, &placement("z", &["public"])).allowed);
    let deny = |f: &dyn Fn(&mut Placement)| {
        let mut facts = placement("z", &[]);
        f(facts.placement.as_mut().unwrap());
        engine.decide(&anyone, Action::ModelPlace, &zone, &facts)
    };
    let d = deny(&|p| p.scan_verdict = "unsafe".into());
    assert_eq!((d.allowed, d.policies.as_slice()), (false, ["artifact.scan-verdict-safe".to_string()].as_slice()));
    assert!(d.explain(Action::ModelPlace).contains("found it unsafe"), "{d:?}");
    let d = deny(&|p| p.expired = true);
    assert_eq!(d.policies, ["artifact.not-expired"]);
    let d = deny(&|p| p.permitted_zones.clear());
    assert_eq!(d.policies, ["artifact.permitted-zones"]);
    // Without facts the question cannot be asked: a deny with the error kept.
    let d = engine.decide(&anyone, Action::ModelPlace, &zone, &Facts::default());
    assert!(!d.allowed && !d.errors.is_empty());
}

#[test]
fn release_approvals_need_an_approving_role_and_mfa() {
    let engine = Engine::builtin().unwrap();
    let project = Resource::Project(ProjectId::generate(1));
    let mut approver = principal(&[], false);
    let roles = facts(&[Role::Approver]);
    assert!(!engine.decide(&approver, Action::ReleaseApprove, &project, &roles).allowed);
    approver.mfa = true;
    assert!(engine.decide(&approver, Action::ReleaseApprove, &project, &roles).allowed);
    assert!(!engine.decide(&approver, Action::ReleaseApprove, &project, &facts(&[Role::Service])).allowed);
}

/// An engine remembers its decisions; every remembered answer (asked twice, in an order
/// where neighbours differ in one input at a time) is the answer worked out afresh, for
/// every combination of the inputs a decision depends on.
#[test]
fn remembered_decisions_are_the_decisions() {
    let engine = Engine::builtin().unwrap();
    let p = ProjectId::generate(1);
    let other = SubjectId::generate_user(9);
    let same = SubjectId::generate_user(7);
    let mut asked = 0;
    let mut allowed = 0;
    for round in 0..2 {
        for roles in [vec![], vec![Role::PlatformAdmin], vec![Role::Auditor]] {
            // Credentials: plain, narrowed to the project, a gateway key.
            for (totp, mfa, narrowed, key) in [
                (false, false, false, false),
                (true, false, false, false),
                (true, true, false, false),
                (true, true, true, false),
                (true, true, true, true),
            ] {
                let mut who = principal(&roles, totp);
                who.id = same.clone();
                who.mfa = mfa;
                who.scope = narrowed.then(|| TokenScope {
                    token_id: TokenId::generate(1),
                    project: Some(p.clone()),
                    role: None,
                    data_class: key.then(|| "ephi".to_string()),
                    zone: None,
                    expires_at: None,
                });
                let within: Option<BTreeSet<String>> = key.then(|| ["ephi".to_string()].into_iter().collect());
                let questions = [
                    (Action::UserCreate, Resource::Organisation),
                    (Action::AuditRead, Resource::Organisation),
                    (Action::ProjectMemberAdd, Resource::Project(p.clone())),
                    (Action::TokenCreate, Resource::Project(p.clone())),
                    (Action::TokenRevoke, Resource::Subject(who.id.clone())),
                    (Action::TokenRevoke, Resource::Subject(other.clone())),
                ];
                for (action, resource) in questions {
                    for project_roles in [vec![], vec![Role::ProjectOwner], vec![Role::DataScientist]] {
                        for (requested, class) in [
                            (None, None),
                            (Some(Role::DataScientist), Some("")),
                            (Some(Role::ProjectOwner), Some("ephi")),
                            (Some(Role::ProjectOwner), Some("public")),
                        ] {
                            let mut f = facts(&project_roles);
                            f.requested_role = requested;
                            f.requested_class = class.map(String::from);
                            f.classes_within_credential = within.clone();
                            let remembered = engine.decide(&who, action, &resource, &f);
                            let fresh = engine.try_decide(&who, action, &resource, &f).unwrap();
                            assert_eq!(
                                remembered, fresh,
                                "round {round}: {action:?} on {resource:?} by {who:?} with {f:?}"
                            );
                            asked += 1;
                            allowed += usize::from(fresh.allowed);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(engine.decisions.lock().len(), asked / 2, "one entry per distinct question");
    assert!(allowed > 0 && allowed < asked, "the questions have both answers");
}

fn gateway_key(p: &ProjectId, role: Role, class: &str) -> TokenScope {
    TokenScope {
        token_id: TokenId::generate(1),
        project: Some(p.clone()),
        role: Some(role),
        data_class: Some(class.into()),
        zone: None,
        expires_at: None,
    }
}

/// A credential bound to a data class mints only its own class or a stricter one, never
/// a laxer one and never a class-less credential; both ways of minting are covered.
#[test]
fn class_bound_credentials_never_widen_their_class() {
    let engine = Engine::builtin().unwrap();
    let p1 = ProjectId::generate(1);
    // A project owner's credential whose class is `ephi` (stricter: `sealed`).
    let mut owner = principal(&[], true);
    owner.mfa = true;
    // (Not narrowed to the project, so that issuing service tokens is open to it.)
    owner.scope = Some(TokenScope {
        data_class: None,
        project: None,
        role: None,
        ..gateway_key(&p1, Role::ProjectOwner, "ephi")
    });
    let within: BTreeSet<String> = ["ephi", "sealed"].into_iter().map(String::from).collect();
    for action in [Action::TokenCreate, Action::ServiceTokenCreate] {
        for (class, allowed) in
            [("ephi", true), ("sealed", true), ("public", false), ("personal_data", false), ("", false)]
        {
            let f = Facts {
                project_roles: [Role::ProjectOwner].into_iter().collect(),
                requested_role: Some(Role::ProjectOwner),
                requested_class: Some(class.into()),
                classes_within_credential: Some(within.clone()),
                placement: None,
                resource_public: false,
            };
            let d = engine.decide(&owner, action, &Resource::Project(p1.clone()), &f);
            assert_eq!(d.allowed, allowed, "{action:?} minting class `{class}`: {d:?}");
            if !allowed {
                assert_eq!(d.policies, vec!["tokens-never-widen-data-class".to_string()]);
            }
        }
    }
    // A credential without a class is not bound by the rule.
    let f = Facts {
        project_roles: [Role::ProjectOwner].into_iter().collect(),
        requested_role: Some(Role::ProjectOwner),
        requested_class: Some(String::new()),
        classes_within_credential: None,
        placement: None,
        resource_public: false,
    };
    assert!(engine.decide(&owner, Action::TokenCreate, &Resource::Project(p1), &f).allowed);
}

/// A gateway key calls the gateway and nothing else, whatever roles its holder has.
#[test]
fn gateway_keys_do_nothing_but_call_the_gateway() {
    let engine = Engine::builtin().unwrap();
    let p1 = ProjectId::generate(1);
    let mut admin = principal(&[Role::PlatformAdmin, Role::Auditor], true);
    admin.mfa = true;
    admin.scope = Some(gateway_key(&p1, Role::ProjectOwner, "ephi"));
    let roles: BTreeSet<Role> = [Role::ProjectOwner, Role::DataScientist, Role::Service].into_iter().collect();
    for action in Action::ALL {
        if *action == Action::ModelPlace {
            continue; // asked with placement facts, never with a caller's credential alone
        }
        for resource in [Resource::Organisation, Resource::Project(p1.clone()), Resource::Subject(admin.id.clone())] {
            let f = Facts { project_roles: roles.clone(), ..Facts::default() };
            let d = engine.decide(&admin, *action, &resource, &f);
            if *action == Action::GatewayInvoke && resource == Resource::Project(p1.clone()) {
                assert!(d.allowed, "{action:?}: {d:?}");
            } else {
                assert!(!d.allowed, "a gateway key may not {action:?} on {resource:?}");
            }
        }
    }
}

/// A service identity's token outlives its issuer's credential, so a narrowed credential
/// (a project- or role-bound token) cannot issue one; a sign-in can.
#[test]
fn narrowed_credentials_do_not_issue_service_tokens() {
    let engine = Engine::builtin().unwrap();
    let p1 = ProjectId::generate(1);
    let mut owner = principal(&[], true);
    let f = Facts {
        project_roles: [Role::ProjectOwner].into_iter().collect(),
        requested_role: Some(Role::Service),
        requested_class: Some(String::new()),
        ..Facts::default()
    };
    assert!(engine.decide(&owner, Action::ServiceTokenCreate, &Resource::Project(p1.clone()), &f).allowed);
    owner.scope = Some(TokenScope { data_class: None, ..gateway_key(&p1, Role::ProjectOwner, "x") });
    let d = engine.decide(&owner, Action::ServiceTokenCreate, &Resource::Project(p1), &f);
    assert_eq!(d.policies, vec!["service-tokens-need-an-unnarrowed-credential".to_string()]);
}

#[test]
fn a_denial_names_the_missing_permit_first_and_every_forbid_that_matched() {
    let engine = Engine::builtin().unwrap();
    // A project owner without TOTP asking for a deletion request (an organisation
    // action no project role reaches): the first reason is that nothing permits it.
    let owner = principal(&[], false);
    let d = engine.decide(&owner, Action::DeletionRequest, &Resource::Organisation, &facts(&[Role::ProjectOwner]));
    assert!(!d.allowed && d.unpermitted, "{d:?}");
    let why = d.explain(Action::DeletionRequest);
    assert!(why.starts_with("no policy permits `deletion.request`"), "{why}");
    // The forbids that matched are named too, all of them.
    for p in &d.policies {
        assert!(why.contains(p.as_str()), "{why} names {p}");
    }
    // An administrator without TOTP: both privileged-action forbids match.
    let admin = principal(&[Role::PlatformAdmin], false);
    let d = engine.decide(&admin, Action::UserCreate, &Resource::Organisation, &Facts::default());
    let why = d.explain(Action::UserCreate);
    for p in ["privileged-actions-need-enrolled-totp", "privileged-actions-need-mfa"] {
        assert!(d.policies.contains(&p.to_string()) && why.contains(p), "{why}");
    }
    // Permitted but forbidden: the forbid is the reason, and no missing permit is claimed.
    let mut enrolled = principal(&[Role::PlatformAdmin], true);
    enrolled.mfa = false;
    let d = engine.decide(&enrolled, Action::UserCreate, &Resource::Organisation, &Facts::default());
    assert!(!d.allowed && !d.unpermitted, "{d:?}");
    assert!(d.explain(Action::UserCreate).starts_with("`user.create` denied by policy `privileged-actions-need-mfa`"));
}

#[test]
fn deploys_rollbacks_and_quarantine_lifts_need_a_second_factor() {
    let engine = Engine::builtin().unwrap();
    let p = Resource::Project(ProjectId::generate(1));
    let owner = facts(&[Role::ProjectOwner]);
    let without = principal(&[], true);
    let with = Principal { mfa: true, ..principal(&[], true) };
    for action in [Action::ReleaseDeploy, Action::ReleaseRollback, Action::QuarantineLift] {
        let d = engine.decide(&without, action, &p, &owner);
        assert!(!d.allowed, "{action:?}");
        assert!(d.explain(action).contains("second factor"), "{action:?}: {}", d.explain(action));
        assert!(engine.decide(&with, action, &p, &owner).allowed, "{action:?}");
    }
    // Placing one is fast in an incident; only owners (and administrators) may.
    assert!(engine.decide(&without, Action::QuarantinePlace, &p, &owner).allowed);
    assert!(!engine.decide(&with, Action::QuarantinePlace, &p, &facts(&[Role::DataScientist])).allowed);
    assert!(engine.decide(&without, Action::QuarantineList, &p, &facts(&[Role::DataScientist])).allowed);
}
