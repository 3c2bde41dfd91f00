//! What a newcomer meets first, through the real binary: a short bootstrap token is
//! refused before anything is created; logs carry no colour codes off a terminal and
//! are JSON on request; a server that moved is named with the way to follow it; the
//! built-in mock answers with the time it answered.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{admin_with_project, BIN, BOOTSTRAP};

#[test]
fn a_short_bootstrap_token_is_refused_before_anything_is_created() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WARDEN_BOOTSTRAP_TOKEN", "too-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARDEN_BOOTSTRAP_TOKEN must be at least 32 characters (it is 9)"), "{err}");
    assert!(!data.exists() || std::fs::read_dir(&data).unwrap().next().is_none(), "nothing was created");
    let help = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("at least 32 characters") && help.contains("WARDEN_LOG_FORMAT=json"), "{help}");
    // The server's help lists what the server uses, not the client's flags, and the
    // server refuses them rather than ignore them.
    for flag in ["--url", "--token", "--output", "--profile"] {
        assert!(!help.contains(flag), "serve --help lists {flag}: {help}");
    }
    let client_flag = Command::new(BIN).args(["serve", "--token", "x"]).env_clear().output().unwrap();
    let err = String::from_utf8_lossy(&client_flag.stderr);
    assert!(!client_flag.status.success() && err.contains("--token is a client flag"), "{err}");
    let doctor = Command::new(BIN).args(["doctor", "--help"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&doctor.stdout).contains("--url"));
    let client_help = Command::new(BIN).args(["model", "list", "--help"]).output().unwrap();
    let client_help = String::from_utf8_lossy(&client_help.stdout);
    assert!(client_help.contains("--profile") && client_help.contains("WARDEN_CONFIG_DIR"), "{client_help}");
}

/// Starts a server with `envs` and returns its first log lines (standard error).
fn first_log_lines(envs: &[(&str, &str)]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WARDEN_BOOTSTRAP_TOKEN", BOOTSTRAP)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let reader = BufReader::new(child.stderr.take().unwrap());
    let lines: Vec<String> = reader.lines().map_while(Result::ok).take(2).collect();
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn logs_have_no_colour_codes_off_a_terminal_and_are_json_on_request() {
    let plain = first_log_lines(&[("WARDEN_LOG", "info")]);
    assert!(!plain.is_empty(), "the server logs at start");
    assert!(plain.iter().all(|l| !l.contains('\u{1b}')), "no ANSI escapes: {plain:?}");
    let json = first_log_lines(&[("WARDEN_LOG", "info"), ("WARDEN_LOG_FORMAT", "json")]);
    assert!(!json.is_empty());
    for l in &json {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{v}");
    }
}

#[test]
fn a_server_that_moved_is_named_with_how_to_follow_it_and_the_mock_answers_in_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cli, project) = admin_with_project(tmp.path(), "newcomers");
    // The built-in mock provider answers with the time it answered.
    let svc = cli.json(&["service", "create", "newcomer-app"])["id"].as_str().unwrap().to_string();
    cli.ok(&["project", "add-member", &project, "--member", &svc, "--role", "service"]);
    let key =
        cli.json(&["service", "token", &svc, "--project", &project, "--role", "service", "--data-class", "public"]);
    let secret = key["secret"].as_str().unwrap();
    let body = common::chat(&server.url, secret, "hi");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let created = body["created"].as_u64().unwrap_or(0);
    assert!(created + 60 > now && created <= now + 1, "created {created}, now {now}: {body}");
    drop(server);
    // The saved login now points nowhere.
    let out = cli.run(&["project", "list"], None);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("cannot reach Warden at") && out.stderr.contains("warden login --url"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_pushed_directorys_readme_is_its_model_card_and_help_lists_what_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, cli, project) = admin_with_project(tmp.path(), "cards");
    let dir = tmp.path().join("fraud");
    std::fs::create_dir_all(&dir).unwrap();
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut weights = (header.len() as u64).to_le_bytes().to_vec();
    weights.extend_from_slice(header.as_bytes());
    weights.extend_from_slice(&[0u8; 8]);
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    std::fs::write(dir.join("README.md"), "# Card fraud scorer\n\nTrained on 2026 claims.\n").unwrap();
    let out = cli.run(
        &["model", "push", dir.to_str().unwrap(), "--name", "fraud", "--project", &project, "--licence", "apache-2.0"],
        None,
    );
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stderr.contains("model card:") && out.stderr.contains("README.md"), "{}", out.stderr);
    let shown = cli.ok(&["model", "show", "fraud", "--project", &project]);
    assert!(shown.contains("Card fraud scorer") && shown.contains("apache-2.0"), "{shown}");
    // The model by its id, and a version of it by id@number.
    let id = cli.json(&["model", "show", "fraud", "--project", &project])["id"].as_str().unwrap().to_string();
    assert_eq!(cli.json(&["model", "show", &id, "--project", "cards"])["name"], "fraud");
    let classes = cli.run(&["model", "classes", &format!("{id}@1"), "--project", "cards"], None);
    assert!(classes.ok, "{}", classes.stderr);

    // Help lists the roles a member may be given; shells get completions; man pages.
    let help = cli.ok(&["project", "add-member", "--help"]);
    assert!(help.contains("project-owner, data-scientist, approver, service"), "{help}");
    let wrong = cli.run(&["user", "grant", "usr_x", "admin"], None);
    assert!(!wrong.ok && wrong.stderr.contains("platform-admin, auditor"), "{}", wrong.stderr);
    let bash = cli.ok(&["completions", "bash"]);
    assert!(bash.contains("_warden()") && bash.contains("evidence"), "a completion script");
    let man = tmp.path().join("man");
    cli.ok(&["man", "--out", man.to_str().unwrap()]);
    let page = std::fs::read_to_string(man.join("warden-evidence-verify.1")).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
}

fn doctor(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("doctor")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn doctor_says_what_a_server_would_meet_and_what_to_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    // Before the first start: notes, not failures, and nothing created.
    let (ok, out, _) = doctor(&["--data-dir", d]);
    assert!(ok, "{out}");
    assert!(out.contains("first start creates it") && !out.contains("FAIL"), "{out}");
    assert!(!data.exists(), "the doctor creates nothing");
    // After a start: every check passes.
    drop(common::serve(&data, None, Some(BOOTSTRAP)));
    let (ok, out, _) = doctor(&["--data-dir", d]);
    assert!(ok, "{out}");
    for line in ["database        ok", "checkpoint pin  ok", "master key      ok", "clock           ok"] {
        assert!(out.contains(line), "{line}: {out}");
    }
    // What would stop the server: named, exit 1.
    let (ok, out, err) = doctor(&["--data-dir", d, "--database-url", "postgres://nobody@127.0.0.1:1/none"]);
    assert!(!ok && out.contains("database        FAIL") && err.contains("1 check(s) failed"), "{out}{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = data.join("keys").join("master.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (ok, out, _) = doctor(&["--data-dir", d]);
        assert!(!ok && out.contains("readable by others: `chmod 600` it"), "{out}");
    }
}

#[test]
fn the_policy_example_explains_every_key_and_checks_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["policy", "show", "--example"]).env_clear().output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("approver_role:") && text.contains("# "), "{text}");
    let file = tmp.path().join("example.yaml");
    std::fs::write(&file, &text).unwrap();
    let check = Command::new(BIN).args(["policy", "check"]).arg(&file).env_clear().output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && said.contains("valid (2 zones, 2 data classes, 1 release rules)"), "{said}");
    // The schema, offline, names the release rule's keys and what they accept.
    let out = Command::new(BIN).args(["policy", "schema"]).env_clear().output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rule = &schema["$defs"]["release_rule"]["properties"];
    assert_eq!(rule["approver_role"]["enum"], serde_json::json!(["approver", "project-owner", "data-scientist"]));
    assert_eq!(rule["approvals"]["maximum"], 10);
}

#[test]
fn projects_are_named_by_name_or_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, cli, project) = admin_with_project(tmp.path(), "claims-team");
    // In a path and in a query, by name as by id.
    assert_eq!(cli.json(&["project", "show", "claims-team"])["id"], project.as_str());
    cli.json(&["dataset", "create", "s3://lake", "claims", "--project", "claims-team", "--class", "public"]);
    let placed = cli.json(&[
        "quarantine",
        "place",
        "--project",
        "claims-team",
        "--dataset",
        "s3://lake/claims",
        "--reason",
        "check",
    ]);
    assert_eq!(placed[0]["project"], project.as_str());
    let answer = cli.json(&["evidence", "access", "--project", "claims-team"]);
    assert_eq!(answer["subject"]["project"], project.as_str());
    // Blobs stream up and down by the project's name too.
    let file = tmp.path().join("weights.bin");
    std::fs::write(&file, b"some weights").unwrap();
    let pushed = cli.json(&["blob", "push", file.to_str().unwrap(), "--project", "claims-team"]);
    let digest = pushed["digest"].as_str().unwrap();
    let back = tmp.path().join("back.bin");
    cli.ok(&["blob", "pull", digest, "--project", "claims-team", "--out", back.to_str().unwrap()]);
    assert_eq!(std::fs::read(&back).unwrap(), b"some weights");
    // A name that names none of the caller's projects.
    let out = cli.run(&["quarantine", "list", "--project", "nope"], None);
    assert!(!out.ok && out.stderr.contains("no project named `nope` is visible to you"), "{}", out.stderr);
}

#[test]
fn people_services_groups_and_datasets_are_named_by_name_or_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, admin, project) = admin_with_project(tmp.path(), "claims-team");
    let password = "a long enough password 1";
    let created = admin.run(&["user", "create", "frank", "--password-stdin", "-o", "json"], Some(password));
    assert!(created.ok, "{}", created.stderr);
    let frank: serde_json::Value = serde_json::from_str(&created.stdout).unwrap();
    let frank = frank["id"].as_str().unwrap().to_string();
    let scorer = admin.json(&["service", "create", "scorer"])["id"].as_str().unwrap().to_string();
    let group = admin.json(&["group", "create", "ml-platform"])["id"].as_str().unwrap().to_string();

    // People, services and groups by name wherever they are named.
    admin.ok(&["project", "add-member", "claims-team", "--member", "frank", "--role", "project-owner"]);
    admin.ok(&["group", "add", "ml-platform", "frank"]);
    let shown = admin.json(&["group", "show", "ml-platform"]);
    assert_eq!(shown["id"], group.as_str());
    assert_eq!(shown["members"][0], frank.as_str());
    assert_eq!(admin.json(&["user", "show", "frank"])["id"], frank.as_str());
    admin.ok(&["user", "grant", "ml-platform", "auditor"]);
    assert_eq!(admin.json(&["group", "show", &group])["roles"][0], "auditor");
    admin.ok(&["user", "revoke", "ml-platform", "auditor"]);

    // A name shared by a person and a group: the candidates are named.
    admin.run(&["user", "create", "ops"], None);
    admin.json(&["group", "create", "ops"]);
    let both = admin.run(&["project", "add-member", "claims-team", "--member", "ops", "--role", "approver"], None);
    assert!(!both.ok, "an ambiguous name is refused");
    assert!(
        both.stderr.contains("`ops` names 2:") && both.stderr.contains("(user)") && both.stderr.contains("(group)")
    );
    assert!(both.stderr.contains("give the id"), "{}", both.stderr);
    // Where only people are meant, the person is meant.
    assert_eq!(admin.json(&["user", "show", "ops"])["name"], "ops");
    let none = admin.run(&["user", "show", "nobody"], None);
    assert!(!none.ok && none.stderr.contains("no user or service is named `nobody`"), "{}", none.stderr);

    // A project owner who may not list people still names a colleague by name.
    let fcli = common::Cli { config_dir: tmp.path().join("frank") };
    let login = fcli.run(&["login", "--url", &server.url, "--username", "frank"], Some(password));
    assert!(login.ok, "{}", login.stderr);
    let listed = fcli.run(&["user", "list"], None);
    assert!(!listed.ok, "listing people stays with administrators and auditors");
    fcli.ok(&["project", "add-member", "claims-team", "--member", "scorer", "--role", "service"]);
    let members = fcli.json(&["project", "members", "claims-team"]);
    assert!(members.as_array().unwrap().iter().any(|m| m["member"] == scorer.as_str()), "{members}");
    let key = admin.json(&["service", "token", "scorer", "--project", "claims-team", "--role", "service"]);
    assert!(key["secret"].is_string(), "{key}");

    // Datasets by NAMESPACE/NAME (with slashes in either part) or by id.
    let ds = admin.json(&["dataset", "create", "s3://lake/raw", "claims/2026", "--project", "claims-team"]);
    let ds_id = ds["id"].as_str().unwrap();
    assert_eq!(admin.json(&["dataset", "show", "s3://lake/raw/claims/2026"])["id"], ds_id);
    let described = admin.json(&[
        "dataset",
        "describe",
        "s3://lake/raw/claims/2026",
        "--project",
        &project,
        "--class",
        "personal_data",
    ]);
    assert_eq!(described["id"], ds_id);
    assert_eq!(admin.json(&["dataset", "show", ds_id])["classes"][0], "personal_data");
    let unknown = admin.run(&["dataset", "show", "s3://lake/raw/nothing"], None);
    assert!(!unknown.ok && unknown.stderr.contains("s3://lake/raw/nothing"), "{}", unknown.stderr);
    let bad = admin.run(&["dataset", "show", "claims"], None);
    assert!(!bad.ok && bad.stderr.contains("NAMESPACE/NAME"), "{}", bad.stderr);
}

#[test]
fn several_identities_are_kept_as_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, admin, _project) = admin_with_project(tmp.path(), "profiles");
    let password = "a long enough password 2";
    assert!(admin.run(&["user", "create", "grace", "--password-stdin"], Some(password)).ok);
    // One configuration directory, two identities.
    let cli = common::Cli { config_dir: tmp.path().join("shared") };
    let said = cli.ok(&["login", "--profile", "admin", "--url", &server.url, "--token", common::BOOTSTRAP]);
    assert!(said.contains("saved as profile `admin`"), "{said}");
    let login = cli.run(&["login", "--profile", "grace", "--url", &server.url, "--username", "grace"], Some(password));
    assert!(login.ok, "{}", login.stderr);
    assert_eq!(cli.json(&["whoami", "--profile", "grace"])["name"], "grace");
    assert_eq!(cli.json(&["--profile", "admin", "whoami"])["name"], "admin");
    // Without --profile: the current one, chosen with `profile use`.
    let none = cli.run(&["whoami"], None);
    assert!(!none.ok && none.stderr.contains("not logged in"), "no `default` profile yet: {}", none.stderr);
    cli.ok(&["profile", "use", "grace"]);
    assert_eq!(cli.json(&["whoami"])["name"], "grace");
    let listed = cli.json(&["profile", "list"]);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "grace"]);
    assert!(listed[1]["current"].as_bool().unwrap() && !listed[0]["current"].as_bool().unwrap());
    // Forgetting one keeps the other; a profile not saved is named with those that are.
    cli.ok(&["logout", "--profile", "grace"]);
    let gone = cli.run(&["whoami", "--profile", "grace"], None);
    assert!(!gone.ok && gone.stderr.contains("no saved login for profile `grace` (saved: admin)"), "{}", gone.stderr);
    assert_eq!(cli.json(&["whoami", "--profile", "admin"])["name"], "admin");
    let bad = cli.run(&["login", "--profile", "a/b", "--url", &server.url, "--token", common::BOOTSTRAP], None);
    assert!(!bad.ok && bad.stderr.contains("is not a profile name"), "{}", bad.stderr);
    // A login saved before profiles is the `default` profile.
    let old = common::Cli { config_dir: tmp.path().join("old") };
    std::fs::create_dir_all(&old.config_dir).unwrap();
    let text = format!("url = \"{}\"\ntoken = \"{}\"\n", server.url, common::BOOTSTRAP);
    std::fs::write(old.config_dir.join("credentials.toml"), text).unwrap();
    assert_eq!(old.json(&["whoami"])["name"], "admin");
    assert_eq!(old.json(&["profile", "list"])[0]["name"], "default");
}

/// Runs the CLI under a pseudo-terminal (`script`), as a person at a terminal would;
/// returns everything the terminal showed.
fn on_a_terminal(cli: &common::Cli, args: &[&str]) -> String {
    let line = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WARDEN_CONFIG_DIR", &cli.config_dir)
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs the CLI under a pseudo-terminal");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn long_transfers_show_progress_on_a_terminal_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, cli, _project) = admin_with_project(tmp.path(), "big-models");
    let file = tmp.path().join("weights.bin");
    let content: Vec<u8> = (0..24u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let path = file.to_str().unwrap();

    // At a terminal: bytes, rate and time left while hashing and uploading in parts.
    let shown = on_a_terminal(&cli, &["blob", "push", path, "--project", "big-models", "--chunk-size", "4194304"]);
    assert!(shown.contains("hashing weights.bin") && shown.contains("uploading weights.bin"), "{shown}");
    assert!(shown.contains("MiB") && shown.contains("/s") && shown.contains("eta"), "{shown}");
    let at = shown.rfind("sha256:").unwrap_or_else(|| panic!("{shown:?}"));
    let digest = shown[at..at + 71].to_string();
    let back = tmp.path().join("back.bin");
    let shown =
        on_a_terminal(&cli, &["blob", "pull", &digest, "--project", "big-models", "--out", back.to_str().unwrap()]);
    assert!(shown.contains("downloading back.bin") && shown.contains("24.00 MiB"), "{shown}");
    assert_eq!(std::fs::read(&back).unwrap(), content);
    let shown = on_a_terminal(&cli, &["audit", "verify"]);
    assert!(shown.contains("verifying entries"), "{shown}");

    // Piped: the same commands print their result and nothing else.
    let out = cli.run(&["blob", "push", path, "--project", "big-models", "--chunk-size", "4194304"], None);
    assert!(out.ok && out.stdout.contains("already stored"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "no progress off a terminal: {:?}", out.stderr);
    let out = cli.run(&["audit", "verify"], None);
    assert!(out.ok && !out.stderr.contains("verifying entries"), "{}", out.stderr);
}
