//! Identity and authorisation behaviour, on both engines.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::harness::{start, Engine, Options};

both_engines!(administrators_need_totp_before_privileged_actions);
async fn administrators_need_totp_before_privileged_actions(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let t = s.admin_token.clone();
    let p = s.post("/api/v1/projects", &t, json!({"name": "early"})).await.problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("privileged-actions-need-enrolled-totp"), "{p}");
    // Reads work without it.
    s.get("/api/v1/users", &t).await.expect(200);
    // Enrolment: a wrong code is refused, a right one enrols, a second enrolment conflicts.
    let e = s.post("/api/v1/me/totp", &t, json!({})).await.expect(201);
    assert!(e["uri"].as_str().unwrap().starts_with("otpauth://totp/Warden:admin?secret="));
    s.post("/api/v1/me/totp/confirm", &t, json!({"code": "000000"})).await.problem(422, "validation-failed");
    let code = s.code(e["secret"].as_str().unwrap());
    let session = s.post("/api/v1/me/totp/confirm", &t, json!({"code": code})).await.expect(200);
    s.post("/api/v1/me/totp", &t, json!({})).await.problem(409, "conflict");
    assert_eq!(s.get("/api/v1/whoami", &t).await.expect(200)["totp_enrolled"], true);
    // Enrolled is not enough: the plain token's changes need a second factor now.
    let p = s.post("/api/v1/projects", &t, json!({"name": "early"})).await.problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("privileged-actions-need-mfa"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("step up"), "the denial says what to do: {p}");
    // Confirming proved it: the session it gave acts, and is recorded as verified.
    let mfa = session["token"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/whoami", mfa).await.expect(200)["mfa"], true);
    s.post("/api/v1/projects", mfa, json!({"name": "early"})).await.expect(201);
    // Later: step up with a fresh code (never the same one twice).
    let secret = e["secret"].as_str().unwrap();
    s.post("/api/v1/auth/step-up", &t, json!({"code": s.code(secret)})).await.problem(401, "unauthenticated");
    s.clock.advance(30);
    let up = s.post("/api/v1/auth/step-up", &t, json!({"code": s.code(secret)})).await.expect(200);
    assert_eq!(up["mfa"], true);
    s.post("/api/v1/projects", up["token"].as_str().unwrap(), json!({"name": "later"})).await.expect(201);
    s.post("/api/v1/auth/step-up", &t, json!({"code": "000000"})).await.problem(401, "unauthenticated");
    // Every kind of organisation-wide change is refused without the second factor.
    for (path, body) in [
        ("/api/v1/users", json!({"name": "eve"})),
        ("/api/v1/services", json!({"name": "svc"})),
        ("/api/v1/groups", json!({"name": "g"})),
        ("/api/v1/role-grants", json!({"member": "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV", "role": "auditor"})),
    ] {
        s.post(path, &t, body).await.problem(403, "forbidden");
    }
    s.put("/api/v1/policy", &t, json!({"document": "zones: {}", "dry_run": true})).await.problem(403, "forbidden");
}

both_engines!(members_of_one_project_see_nothing_of_another);
async fn members_of_one_project_see_nothing_of_another(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let (bob, bob_t) = s.user(&admin, "bob").await;
    let fraud = s.project(&admin, "fraud", Some(&alice)).await;
    let claims = s.project(&admin, "claims", Some(&bob)).await;

    let mine = s.get("/api/v1/projects", &alice_t).await.expect(200);
    let ids: Vec<_> = mine["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![fraud.as_str()], "alice lists only her project");
    s.get(&format!("/api/v1/projects/{fraud}"), &alice_t).await.expect(200);
    s.get(&format!("/api/v1/projects/{claims}"), &alice_t).await.problem(403, "forbidden");
    s.get(&format!("/api/v1/projects/{claims}/members"), &alice_t).await.problem(403, "forbidden");
    // A project that does not exist answers the same as one she cannot see.
    let ghost = warden_core::ProjectId::generate(1);
    s.get(&format!("/api/v1/projects/{ghost}"), &alice_t).await.problem(403, "forbidden");
    s.get(&format!("/api/v1/projects/{ghost}"), &admin).await.problem(404, "not-found");

    // The owner manages her project, not the other one.
    s.post(&format!("/api/v1/projects/{fraud}/members"), &alice_t, json!({"member": bob, "role": "data-scientist"}))
        .await
        .expect(201);
    s.post(&format!("/api/v1/projects/{claims}/members"), &alice_t, json!({"member": alice, "role": "data-scientist"}))
        .await
        .problem(403, "forbidden");
    // Bob now sees both, but cannot manage fraud (he is a data scientist there).
    assert_eq!(s.get("/api/v1/projects", &bob_t).await.expect(200)["items"].as_array().unwrap().len(), 2);
    s.post(&format!("/api/v1/projects/{fraud}/members"), &bob_t, json!({"member": bob, "role": "project-owner"}))
        .await
        .problem(403, "forbidden");
    let members = s.get(&format!("/api/v1/projects/{fraud}/members"), &bob_t).await.expect(200);
    assert_eq!(members.as_array().unwrap().len(), 2);
    // Removing him takes the access away at once.
    s.delete(&format!("/api/v1/projects/{fraud}/members/{bob}/data-scientist"), &alice_t).await.expect(204);
    s.get(&format!("/api/v1/projects/{fraud}"), &bob_t).await.problem(403, "forbidden");
    // Project roles are not organisation roles and vice versa.
    s.post(&format!("/api/v1/projects/{fraud}/members"), &alice_t, json!({"member": bob, "role": "auditor"}))
        .await
        .problem(422, "validation-failed");
}

both_engines!(tokens_are_scoped_expire_and_revoke);
async fn tokens_are_scoped_expire_and_revoke(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (alice, alice_t) = s.user(&admin, "alice").await;
    let fraud = s.project(&admin, "fraud", Some(&alice)).await;
    let other = s.project(&admin, "other", Some(&alice)).await;

    // A token bound to fraud as data-scientist.
    let t = s
        .post(
            "/api/v1/tokens",
            &alice_t,
            json!({"name": "notebook", "project": fraud, "role": "data-scientist", "expires_in_seconds": 3600}),
        )
        .await;
    // Alice is only project-owner; she cannot mint a data-scientist token there.
    t.problem(403, "forbidden");
    let t = s
        .post(
            "/api/v1/tokens",
            &alice_t,
            json!({"name": "notebook", "project": fraud, "role": "project-owner", "expires_in_seconds": 3600}),
        )
        .await
        .expect(201);
    let scoped = t["secret"].as_str().unwrap().to_string();
    assert!(scoped.starts_with("wdn_"));
    let token_id = t["id"].as_str().unwrap().to_string();
    // The secret is never listed again.
    let listed = s.get("/api/v1/tokens", &alice_t).await.expect(200);
    assert!(!listed.to_string().contains(&scoped));

    s.get(&format!("/api/v1/projects/{fraud}"), &scoped).await.expect(200);
    s.get(&format!("/api/v1/projects/{other}"), &scoped).await.problem(403, "forbidden");
    let visible = s.get("/api/v1/projects", &scoped).await.expect(200);
    assert_eq!(visible["items"].as_array().unwrap().len(), 1, "a project token sees its project only");
    // A narrowed token cannot mint a wider one.
    s.post("/api/v1/tokens", &scoped, json!({"name": "wider"})).await.problem(403, "forbidden");
    s.post("/api/v1/tokens", &scoped, json!({"name": "wider", "project": other, "role": "project-owner"}))
        .await
        .problem(403, "forbidden");
    // Nobody mints a role they do not hold.
    s.post("/api/v1/tokens", &alice_t, json!({"name": "x", "role": "platform-admin"})).await.problem(403, "forbidden");

    // Last use is recorded.
    let mine = s.get("/api/v1/tokens", &alice_t).await.expect(200);
    let rec = mine["items"].as_array().unwrap().iter().find(|x| x["id"] == token_id.as_str()).unwrap().clone();
    assert!(rec["last_used_at"].is_string(), "{rec}");

    // Expiry: an hour later the token no longer works.
    s.clock.advance(3601);
    s.get("/api/v1/whoami", &scoped).await.problem(401, "unauthenticated");
    s.clock.advance(-3601);
    s.get("/api/v1/whoami", &scoped).await.expect(200);

    // Another user cannot revoke it; the owner can; then it stops working.
    let (_, bob_t) = s.user(&admin, "bob").await;
    s.delete(&format!("/api/v1/tokens/{token_id}"), &bob_t).await.problem(403, "forbidden");
    s.delete(&format!("/api/v1/tokens/{token_id}"), &alice_t).await.expect(204);
    s.get("/api/v1/whoami", &scoped).await.problem(401, "unauthenticated");
    s.delete(&format!("/api/v1/tokens/{}", warden_core::TokenId::generate(1)), &alice_t)
        .await
        .problem(404, "not-found");
    // Limits on lifetime.
    s.post("/api/v1/tokens", &alice_t, json!({"name": "x", "expires_in_seconds": 0}))
        .await
        .problem(422, "validation-failed");
}

both_engines!(password_sign_in_lockout_and_second_factor);
async fn password_sign_in_lockout_and_second_factor(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (carol, carol_t) = s.user(&admin, "carol").await;
    let login = |password: &str, totp: Option<String>| {
        let mut body = json!({"username": "carol", "password": password});
        if let Some(c) = totp {
            body["totp"] = json!(c);
        }
        s.call(Method::POST, "/api/v1/auth/login", None, Some(body))
    };
    login("wrong-password-1", None).await.problem(401, "unauthenticated");
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "nobody", "password": "whatever-at-all"})),
    )
    .await
    .problem(401, "unauthenticated");
    login("carol-correct-horse", None).await.expect(200);

    // TOTP: once enrolled, sign-in needs the code; a wrong code counts as a failure.
    let secret = s.enrol_totp(&carol_t).await;
    login("carol-correct-horse", None).await.problem(401, "second-factor-required");
    login("carol-correct-horse", Some("000000".into())).await.problem(401, "unauthenticated");
    s.clock.advance(30);
    let ok = login("carol-correct-horse", Some(s.code(&secret))).await.expect(200);
    assert_eq!(ok["mfa"], true);
    // The same code cannot be replayed.
    login("carol-correct-horse", Some(s.code(&secret))).await.problem(401, "unauthenticated");
    let mfa_token = ok["token"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/whoami", mfa_token).await.expect(200)["mfa"], true);

    // Lockout after three consecutive failures (the limit in this test), even with the
    // right password, and for the account's tokens too.
    s.clock.advance(30);
    for _ in 0..3 {
        let _ = login("wrong-password-2", None).await;
    }
    // A locked account answers a sign-in exactly as an unknown name does (no
    // enumeration); the ledger says which it was.
    let locked = login("carol-correct-horse", Some(s.code(&secret))).await.problem(401, "unauthenticated");
    let unknown = s
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": "nobody-here", "password": "x"})))
        .await
        .problem(401, "unauthenticated");
    assert_eq!(locked["detail"], unknown["detail"]);
    s.get("/api/v1/whoami", &carol_t).await.problem(401, "account-locked");
    let u = s.get(&format!("/api/v1/users/{carol}"), &admin).await.expect(200);
    assert_eq!(u["locked"], true);
    // The lock ends by itself...
    s.clock.advance(601);
    login("carol-correct-horse", Some(s.code(&secret))).await.expect(200);
    // ...or when an administrator lifts it.
    s.clock.advance(30);
    for _ in 0..3 {
        let _ = login("wrong-password-3", None).await;
    }
    login("carol-correct-horse", Some(s.code(&secret))).await.problem(401, "unauthenticated");
    s.post(&format!("/api/v1/users/{carol}/unlock"), &admin, json!(null)).await.expect(204);
    login("carol-correct-horse", Some(s.code(&secret))).await.expect(200);

    // Every attempt is in the event stream, without secrets.
    let ev = s
        .get(&format!("/api/v1/audit/events?category=authentication&actor={carol}&limit=500"), &admin)
        .await
        .expect(200);
    let items = ev["items"].as_array().unwrap();
    let failures = items.iter().filter(|e| e["event"]["outcome"] == "failure").count();
    let successes = items.iter().filter(|e| e["event"]["outcome"] == "success").count();
    assert!(failures >= 9 && successes >= 4, "failures {failures}, successes {successes}");
    assert!(items.iter().any(|e| e["event"]["reason"] == "account locked"), "the ledger tells a lock apart");
    let text = ev.to_string();
    assert!(!text.contains("carol-correct-horse") && !text.contains("wrong-password") && !text.contains(&secret));
    // Reading the events is itself recorded.
    let reads =
        s.get("/api/v1/audit/events?category=authorization&action=audit.read&limit=500", &admin).await.expect(200);
    assert!(reads["items"].as_array().unwrap().iter().any(|e| e["event"]["outcome"] == "allow"));

    // Disabled accounts cannot sign in or use tokens.
    s.post(&format!("/api/v1/users/{carol}/disable"), &admin, json!(null)).await.expect(204);
    s.get("/api/v1/whoami", &carol_t).await.problem(401, "unauthenticated");
    s.post(&format!("/api/v1/users/{carol}/enable"), &admin, json!(null)).await.expect(204);
    s.get("/api/v1/whoami", &carol_t).await.expect(200);
}

both_engines!(groups_grant_roles_and_services_get_project_tokens);
async fn groups_grant_roles_and_services_get_project_tokens(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (dan, dan_t) = s.user(&admin, "dan").await;
    let g = s.post("/api/v1/groups", &admin, json!({"name": "internal-audit"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.post("/api/v1/groups", &admin, json!({"name": "internal-audit"})).await.problem(409, "conflict");
    s.get("/api/v1/users", &dan_t).await.problem(403, "forbidden");
    s.call(Method::PUT, &format!("/api/v1/groups/{g}/members/{dan}"), Some(&admin), None).await.expect(204);
    s.post("/api/v1/role-grants", &admin, json!({"member": g, "role": "auditor"})).await.expect(201);
    s.post("/api/v1/role-grants", &admin, json!({"member": g, "role": "approver"}))
        .await
        .problem(422, "validation-failed");
    // Through the group, dan is an auditor: he reads everything and changes nothing.
    s.get("/api/v1/users", &dan_t).await.expect(200);
    let p = s.project(&admin, "models", None).await;
    s.get(&format!("/api/v1/projects/{p}"), &dan_t).await.expect(200);
    s.post("/api/v1/projects", &dan_t, json!({"name": "x"})).await.problem(403, "forbidden");
    let group = s.get(&format!("/api/v1/groups/{g}"), &admin).await.expect(200);
    assert_eq!(group["members"], json!([dan]));
    assert_eq!(group["roles"], json!(["auditor"]));
    s.delete(&format!("/api/v1/groups/{g}/members/{dan}"), &admin).await.expect(204);
    s.get("/api/v1/users", &dan_t).await.problem(403, "forbidden");

    // A service identity with a project-bound token.
    let svc = s.post("/api/v1/services", &admin, json!({"name": "etl"})).await.expect(201);
    assert_eq!(svc["kind"], "service");
    let svc_id = svc["id"].as_str().unwrap();
    let body = json!({"name": "airflow", "project": p, "role": "service"});
    s.post(&format!("/api/v1/services/{svc_id}/tokens"), &admin, body.clone()).await.problem(422, "validation-failed");
    s.post(&format!("/api/v1/projects/{p}/members"), &admin, json!({"member": svc_id, "role": "service"}))
        .await
        .expect(201);
    let tok = s.post(&format!("/api/v1/services/{svc_id}/tokens"), &admin, body).await.expect(201);
    let st = tok["secret"].as_str().unwrap();
    let who = s.get("/api/v1/whoami", st).await.expect(200);
    assert_eq!((who["kind"].as_str(), who["token_role"].as_str()), (Some("service"), Some("service")));
    s.get(&format!("/api/v1/projects/{p}"), st).await.expect(200);
    s.post(&format!("/api/v1/projects/{p}/members"), st, json!({"member": dan, "role": "approver"}))
        .await
        .problem(403, "forbidden");
    // Services cannot sign in with a password.
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "etl", "password": "anything-long-enough"})),
    )
    .await
    .problem(401, "unauthenticated");

    // Role grants and revocations.
    s.post("/api/v1/role-grants", &admin, json!({"member": dan, "role": "platform-admin"})).await.expect(201);
    assert_eq!(s.get("/api/v1/whoami", &dan_t).await.expect(200)["org_roles"], json!(["platform-admin"]));
    // Without TOTP, the new administrator still cannot act.
    s.post("/api/v1/projects", &dan_t, json!({"name": "y"})).await.problem(403, "forbidden");
    s.delete(&format!("/api/v1/role-grants/{dan}/platform-admin"), &admin).await.expect(204);
    s.delete(&format!("/api/v1/role-grants/{dan}/platform-admin"), &admin).await.problem(404, "not-found");
    let me = s.get("/api/v1/whoami", &admin).await.expect(200)["id"].as_str().unwrap().to_string();
    s.delete(&format!("/api/v1/role-grants/{me}/platform-admin"), &admin).await.problem(422, "validation-failed");
}

both_engines!(pagination_with_cursors);
async fn pagination_with_cursors(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    for i in 0..5 {
        s.project(&admin, &format!("p{i}"), None).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/projects?limit=2&cursor={c}"),
            None => "/api/v1/projects?limit=2".to_string(),
        };
        let page = s.get(&q, &admin).await.expect(200);
        for p in page["items"].as_array().unwrap() {
            seen.push(p["name"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);
    s.get("/api/v1/projects?limit=0", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/projects?limit=9999", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/projects?cursor=%27%3B--", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/projects?colour=blue", &admin).await.problem(400, "invalid-parameter");
}

both_engines!(guessing_tokens_locks_out_the_credential_not_the_address);
async fn guessing_tokens_locks_out_the_credential_not_the_address(engine: Engine) {
    let mut opts = Options::new(engine);
    opts.max_bad_tokens_per_source = 4;
    let s = start(opts).await;
    let admin = s.admin().await;
    let (_, alice_t) = s.user(&admin, "alice").await;
    let stale = s.post("/api/v1/tokens", &alice_t, json!({"name": "app-1"})).await.expect(201);
    let app2 = s.post("/api/v1/tokens", &alice_t, json!({"name": "app-2"})).await.expect(201);
    let stale_id = stale["id"].as_str().unwrap();
    s.call(reqwest::Method::DELETE, &format!("/api/v1/tokens/{stale_id}"), Some(&alice_t), None).await.expect(204);
    let stale = stale["secret"].as_str().unwrap();
    // App 1 keeps retrying its revoked key from this address (all tests share 127.0.0.1).
    for _ in 0..3 {
        s.get("/api/v1/whoami", stale).await.problem(401, "unauthenticated");
    }
    s.get("/api/v1/whoami", stale).await.problem(429, "too-many-failures");
    for _ in 0..18 {
        s.get("/api/v1/whoami", stale).await.problem(429, "too-many-failures");
    }
    // A client cannot leave its lock by claiming another address: no proxy is trusted.
    let spoofed = s
        .http
        .get(format!("{}/api/v1/whoami", s.url))
        .bearer_auth(stale)
        .header("x-forwarded-for", "203.0.113.77")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status().as_u16(), 429);
    // App 2 and the administrator behind the same address are not refused for it.
    s.get("/api/v1/whoami", app2["secret"].as_str().unwrap()).await.expect(200);
    s.get("/api/v1/whoami", &admin).await.expect(200);
    // Guessed tokens lock out each guess, never the valid ones.
    for i in 0..10 {
        s.get("/api/v1/whoami", &format!("wdn_guess_{i}")).await.problem(401, "unauthenticated");
    }
    s.get("/api/v1/whoami", &admin).await.expect(200);
    s.clock.advance(601);
    s.get("/api/v1/whoami", stale).await.problem(401, "unauthenticated");
}

both_engines!(membership_and_role_changes_name_the_member_in_the_ledger);
async fn membership_and_role_changes_name_the_member_in_the_ledger(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let (erin, _) = s.user(&admin, "erin").await;
    let p = s.project(&admin, "claims", None).await;
    s.post(&format!("/api/v1/projects/{p}/members"), &admin, json!({"member": erin, "role": "approver"}))
        .await
        .expect(201);
    s.delete(&format!("/api/v1/projects/{p}/members/{erin}/approver"), &admin).await.expect(204);
    s.post("/api/v1/role-grants", &admin, json!({"member": erin, "role": "auditor"})).await.expect(201);
    // Every decision and every change names whom it was about and the role, so who
    // held what when can be rebuilt from the ledger alone.
    for (action, role) in
        [("project.member.add", "approver"), ("project.member.remove", "approver"), ("role.grant", "auditor")]
    {
        let found = s.get(&format!("/api/v1/audit/events?action={action}&limit=10"), &admin).await.expect(200);
        let items = found["items"].as_array().unwrap();
        for category in ["authorization", "change"] {
            let e = items
                .iter()
                .find(|i| i["event"]["category"] == category)
                .unwrap_or_else(|| panic!("{action} {category}"));
            assert_eq!(e["event"]["detail"]["member"], erin.as_str(), "{action} {category}: {e}");
            assert_eq!(e["event"]["detail"]["requested_role"], role, "{action} {category}: {e}");
        }
    }
}

/// Signing in right after confirming TOTP, with the code just used, is told so and is
/// not counted as a failure; a wrong code is answered as before and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_totp_code_is_named_and_not_counted_towards_the_lockout() {
    use warden_store::IdentityStore as _;
    let s = start(Options::new(Engine::Sqlite)).await;
    let admin = s.admin().await;
    let (_, carl_t) = s.user(&admin, "carl").await;
    let secret = s.enrol_totp(&carl_t).await;
    let code = s.code(&secret); // the code confirming enrolment just used
    let login = |totp: String| {
        let body = json!({"username": "carl", "password": "carl-correct-horse", "totp": totp});
        let s = &s;
        async move { s.call(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body)).await }
    };
    let reused = login(code.clone()).await.problem(401, "unauthenticated");
    assert!(reused["detail"].as_str().unwrap().contains("already used"), "{reused}");
    let wrong =
        login(if code == "000000" { "111111".into() } else { "000000".into() }).await.problem(401, "unauthenticated");
    assert_eq!(wrong["detail"], "wrong username or password");
    let db = s.sqlite_files().into_iter().find(|p| p.extension().is_some_and(|e| e == "db")).unwrap();
    let store = warden_store_sqlite::open(&db).await.unwrap();
    let carl = store.get_subject_by_name("carl").await.unwrap().unwrap();
    assert_eq!(carl.failed_attempts, 1, "only the wrong code counts");
    // The refusal of the reused code is in the ledger.
    let events =
        s.get("/api/v1/audit/events?category=authentication&outcome=failure&limit=50", &admin).await.expect(200);
    assert!(events["items"].as_array().unwrap().iter().any(|i| i["event"]["reason"] == "reused TOTP code"), "{events}");
    s.clock.advance(30);
    let ok = login(s.code(&secret)).await.expect(200);
    assert_eq!(ok["mfa"], true);
}

/// A denial says what would let the caller act: the roles that would, in the project
/// or the organisation, and for lineage a token bound to the project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_name_what_would_allow() {
    let s = start(Options::new(Engine::Sqlite)).await;
    let admin = s.admin().await;
    let (nina, nina_t) = s.user(&admin, "nina").await;
    let p = s.project(&admin, "remedies", None).await;
    let d = s.get(&format!("/api/v1/projects/{p}/releases"), &nina_t).await.problem(403, "forbidden");
    let detail = d["detail"].as_str().unwrap();
    assert!(detail.contains("no policy permits `release.read`"), "{detail}");
    assert!(detail.contains(&format!("in project {p}")) && detail.contains("`data-scientist`"), "{detail}");
    assert!(detail.contains(&format!("--member {nina}")), "{detail}");
    let d = s.get("/api/v1/users", &nina_t).await.problem(403, "forbidden");
    assert!(d["detail"].as_str().unwrap().contains("organisation role `platform-admin` or `auditor`"), "{d}");
    let run = json!({"eventTime": "2026-01-01T00:00:00Z", "producer": "p", "schemaURL": "s", "eventType": "START",
                     "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"}, "job": {"namespace": "n", "name": "j"}});
    let d = s.post("/api/v1/lineage", &nina_t, run).await.problem(403, "forbidden");
    assert!(d["detail"].as_str().unwrap().contains("a token bound to its project"), "{d}");
}
