//! Helpers shared by the end-to-end tests: the real binary and its CLI.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_warden");
pub const BOOTSTRAP: &str = "e2e-bootstrap-token-0123456789abcdef";

pub struct Running {
    pub child: Child,
    pub url: String,
    pub stdout_lines: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `warden serve` and waits for its `listening on` line.
// The child is owned by `Running`, whose `Drop` kills and waits for it.
#[allow(clippy::zombie_processes)]
pub fn serve(data_dir: &Path, database_url: Option<&str>, bootstrap: Option<&str>) -> Running {
    serve_with(data_dir, database_url, bootstrap, &[])
}

/// Like `serve`, with extra environment variables.
#[allow(clippy::zombie_processes)]
pub fn serve_with(
    data_dir: &Path,
    database_url: Option<&str>,
    bootstrap: Option<&str>,
    envs: &[(&str, &str)],
) -> Running {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
    if let Some(u) = database_url {
        cmd.args(["--database-url", u]);
    }
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("WARDEN_LOG", "warn");
    if let Some(t) = bootstrap {
        cmd.env("WARDEN_BOOTSTRAP_TOKEN", t);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    until_listening(cmd)
}

/// Starts `cmd` (a `warden` server of some kind) and waits for its `listening on` line.
#[allow(clippy::zombie_processes)]
pub fn until_listening(mut cmd: Command) -> Running {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("warden starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("warden exited early ({status:?}); printed: {lines:?}");
        }
        let line = line.trim_end().to_string();
        if let Some(url) = line.strip_prefix("listening on ") {
            let url = url.to_string();
            lines.push(line);
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return Running { child, url, stdout_lines: lines };
        }
        lines.push(line);
    }
}

pub struct Cli {
    pub config_dir: std::path::PathBuf,
}

pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut child = Command::new(BIN)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WARDEN_CONFIG_DIR", &self.config_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, None);
        assert!(o.ok, "warden {args:?} failed: {}{}", o.stdout, o.stderr);
        o.stdout
    }

    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--output", "json"]);
        serde_json::from_str(&self.ok(&a)).expect("JSON output")
    }
}

pub fn totp_code(secret: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    warden_authn::totp::code_at(secret, now).unwrap()
}

/// A fresh server with the administrator logged in through the CLI, TOTP enrolled,
/// and one project; returns the server, the CLI and the project id.
pub fn admin_with_project(tmp: &Path, project: &str) -> (Running, Cli, String) {
    admin_with_project_env(tmp, project, &[])
}

/// Like `admin_with_project`, with extra environment variables for the server.
#[allow(dead_code)]
pub fn admin_with_project_env(tmp: &Path, project: &str, envs: &[(&str, &str)]) -> (Running, Cli, String) {
    let server = serve_with(&tmp.join("data"), None, Some(BOOTSTRAP), envs);
    let cli = Cli { config_dir: tmp.join("cli") };
    cli.ok(&["login", "--url", &server.url, "--token", BOOTSTRAP]);
    let e = cli.json(&["totp", "enrol"]);
    cli.ok(&["totp", "confirm", &totp_code(e["secret"].as_str().unwrap_or_default())]);
    let pid = cli.json(&["project", "create", project])["id"].as_str().unwrap_or_default().to_string();
    (server, cli, pid)
}

/// One chat completion through the gateway at `url` with gateway key `key`, to the
/// built-in mock provider; the answer's JSON.
pub fn chat(url: &str, key: &str, content: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(key)
            .json(&serde_json::json!({"model": "mock", "messages": [{"role": "user", "content": content}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}
