//! Policy decision latency: a gateway call's question (may this service key invoke the
//! gateway in its project?) against the shipped default policy document, compiled as
//! Warden runs it. Two rows in the same run:
//!
//! - cold: a new caller every time, so the decision builds its entity set (principal,
//!   roles, resource, and the schema's action entities) from scratch;
//! - warm: the same caller again, as on a busy key, with its entity set reused.
//!
//! Prints p50 and p99 of each (goal: p99 under 50 us) and the ratio of the two.
//!
//! Run: `cargo bench -p warden-policy-doc --bench decide`.

use std::time::Instant;

use warden_core::{AuthMethod, Principal, PrincipalKind, ProjectId, Role, SubjectId, TokenId, TokenScope};
use warden_policy::{Action, Engine, Facts, Resource};

fn caller(i: i64, project: &ProjectId) -> Principal {
    Principal {
        id: SubjectId::generate_service(1_700_000_000_000 + i),
        name: "claims-assistant".into(),
        kind: PrincipalKind::Service,
        org_roles: Default::default(),
        method: AuthMethod::Token,
        mfa: false,
        totp_enrolled: false,
        scope: Some(TokenScope {
            token_id: TokenId::generate(1_700_000_000_000 + i),
            project: Some(project.clone()),
            role: Some(Role::Service),
            data_class: Some("personal_data".into()),
            zone: None,
            expires_at: None,
        }),
    }
}

fn percentiles(mut us: Vec<f64>) -> (f64, f64) {
    us.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| us[((us.len() as f64 * p) as usize).min(us.len() - 1)];
    (at(0.50), at(0.99))
}

fn main() {
    let document = warden_policy_doc::Document::parse(warden_policy_doc::DEFAULT).expect("the default policy parses");
    let engine: Engine = document.engine().expect("the default policy compiles");
    let project = ProjectId::generate(1_700_000_000_000);
    let resource = Resource::Project(project.clone());
    let facts = Facts { project_roles: [Role::Service].into_iter().collect(), ..Facts::default() };
    let n = 20_000;
    let run = |fresh: bool| {
        let warm = caller(0, &project);
        let mut times = Vec::with_capacity(n);
        for i in 0..n {
            let cold;
            let who = if fresh {
                cold = caller(i as i64 + 1, &project);
                &cold
            } else {
                &warm
            };
            let t = Instant::now();
            let d = engine.decide(who, Action::GatewayInvoke, &resource, &facts);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(d.allowed, "the service key may invoke the gateway: {:?}", d.errors);
        }
        percentiles(times)
    };
    let _ = run(false); // warm up
    let (c50, c99) = run(true);
    let (w50, w99) = run(false);
    println!("decide  cold (new caller each time)   p50 {c50:>7.1} us   p99 {c99:>7.1} us");
    println!(
        "decide  warm (same caller)            p50 {w50:>7.1} us   p99 {w99:>7.1} us   ratio cold/warm p50 {:.2}x",
        c50 / w50
    );
}
