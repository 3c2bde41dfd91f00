//! Bad input gets a problem and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::harness::{start, Engine, Options};

both_engines!(bad_bodies_are_problems_and_change_nothing);
async fn bad_bodies_are_problems_and_change_nothing(engine: Engine) {
    let s = start(Options::new(engine)).await;
    let admin = s.admin().await;
    let before = s.count_projects(&admin).await;
    let url = format!("{}/api/v1/projects", s.url);
    let raw = |body: &'static str, ct: &'static str| {
        s.http.post(&url).bearer_auth(&admin).header("content-type", ct).body(body).send()
    };
    for (body, ct, status, code) in [
        ("{\"name\": ", "application/json", 400, "bad-request"),
        ("{\"name\": 42}", "application/json", 400, "bad-request"),
        ("{\"name\": \"ok\", \"owner_email\": \"x\"}", "application/json", 400, "bad-request"),
        ("{}", "application/json", 400, "bad-request"),
        ("[1,2]", "application/json", 400, "bad-request"),
        ("name=x", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ] {
        let res = raw(body, ct).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = res.json().await.unwrap();
        assert_eq!(p["code"], code, "{body}: {p}");
        assert_eq!(p["instance"], "/api/v1/projects");
        assert!(p["request_id"].as_str().unwrap().starts_with("req_"));
    }
    // Unknown fields name the field.
    let p =
        s.post("/api/v1/projects", &admin, json!({"name": "ok", "colour": "red"})).await.problem(400, "bad-request");
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");
    // Oversize bodies (the limit in this test is 64 KiB).
    let big = json!({"name": "big", "description": "x".repeat(70 * 1024)});
    s.post("/api/v1/projects", &admin, big).await.problem(413, "payload-too-large");
    // Well-formed but unacceptable values.
    for body in [
        json!({"name": "Not A Name"}),
        json!({"name": ""}),
        json!({"name": "ok", "owner": "usr_nope"}),
        json!({"name": "ok", "description": "bell\u{7}"}),
    ] {
        s.post("/api/v1/projects", &admin, body).await.problem(422, "validation-failed");
    }
    // An owner that does not exist is refused and nothing is created.
    let ghost = warden_core::SubjectId::generate_user(1);
    s.post("/api/v1/projects", &admin, json!({"name": "ok", "owner": ghost})).await.problem(404, "not-found");
    assert_eq!(s.count_projects(&admin).await, before, "no bad request created a project");

    // Duplicates conflict and leave the first intact.
    s.project(&admin, "unique", None).await;
    s.post("/api/v1/projects", &admin, json!({"name": "unique"})).await.problem(409, "conflict");
    assert_eq!(s.count_projects(&admin).await, before + 1);

    // Bad path and query parameters.
    s.get("/api/v1/projects/not-an-id", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/users/prj_01ARZ3NDEKTSV4RRFFQ69G5FAV", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/users?kind=robot", &admin).await.problem(400, "invalid-parameter");
    s.get("/api/v1/audit/events?since=yesterday", &admin).await.problem(400, "invalid-parameter");
    s.delete("/api/v1/role-grants/usr_01ARZ3NDEKTSV4RRFFQ69G5FAV/king", &admin).await.problem(400, "invalid-parameter");

    // Malformed credentials.
    for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer    "] {
        let res = s.http.get(format!("{}/api/v1/whoami", s.url)).header("authorization", header).send().await.unwrap();
        assert_eq!(res.status(), 401, "{header}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"warden\"");
    }
    // Weak passwords are refused when creating users.
    s.post("/api/v1/users", &admin, json!({"name": "weak", "password": "short"}))
        .await
        .problem(422, "validation-failed");
    s.call(Method::GET, "/api/v1/users/weak", Some(&admin), None).await.problem(400, "invalid-parameter");
}
