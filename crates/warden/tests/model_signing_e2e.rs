//! Intake of a model signed with the real OpenSSF `model-signing` package. Ignored unless
//! run with `--ignored`; then `WARDEN_TEST_MODEL_SIGNING` must name its `model_signing`
//! executable (`.ci/run` installs it into a virtualenv); `openssl` makes the keys.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn keypair(dir: &Path, name: &str) {
    let ec = dir.join(format!("{name}-ec.pem"));
    run(Command::new("openssl").args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"]).arg(&ec));
    run(Command::new("openssl")
        .args(["pkcs8", "-topk8", "-nocrypt", "-in"])
        .arg(&ec)
        .arg("-out")
        .arg(dir.join(format!("{name}.pem"))));
    run(Command::new("openssl")
        .args(["ec", "-pubout", "-in"])
        .arg(&ec)
        .arg("-out")
        .arg(dir.join(format!("{name}.pub"))));
}

fn sign(tool: &str, key: &Path, model: &Path, bundle: &Path) {
    run(Command::new(tool).args(["sign", "key", "--private_key"]).arg(key).arg("--signature").arg(bundle).arg(model));
}

#[test]
#[ignore = "needs WARDEN_TEST_MODEL_SIGNING (the OpenSSF model_signing executable); .ci/run sets it and runs ignored tests"]
fn models_signed_with_the_model_signing_package_are_admitted_and_tampering_is_caught() {
    let tool = std::env::var("WARDEN_TEST_MODEL_SIGNING")
        .expect("WARDEN_TEST_MODEL_SIGNING must name the model_signing executable for this test");
    let tmp = tempfile::tempdir().unwrap();
    keypair(tmp.path(), "release");
    keypair(tmp.path(), "rogue");
    let model = tmp.path().join("model");
    std::fs::create_dir_all(model.join("weights")).unwrap();
    std::fs::write(model.join("config.json"), br#"{"hidden": 8}"#).unwrap();
    std::fs::write(model.join("weights/part-0.bin"), vec![7u8; 4096]).unwrap();
    let bundle = tmp.path().join("model.sig");
    sign(&tool, &tmp.path().join("release.pem"), &model, &bundle);

    let (_server, cli, pid) = admin_with_project(tmp.path(), "signed-models");
    cli.ok(&["signer", "add", "release", "--key", tmp.path().join("release.pub").to_str().unwrap()]);

    let push = |bundle: &Path| {
        cli.run(
            &[
                "model",
                "push",
                model.to_str().unwrap(),
                "--name",
                "m",
                "--project",
                &pid,
                "--model-signing-bundle",
                bundle.to_str().unwrap(),
                "-o",
                "json",
            ],
            None,
        )
    };
    let ok = push(&bundle);
    assert!(ok.ok, "{}", ok.stderr);
    let v: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    let ms = &v["artifact"]["evidence"]["model_signing"];
    assert_eq!(
        (ms["verified"].as_bool(), ms["signer_name"].as_str(), ms["files"].as_u64()),
        (Some(true), Some("release"), Some(2)),
        "{v}"
    );

    // A file changed after signing.
    std::fs::write(model.join("config.json"), br#"{"hidden": 9}"#).unwrap();
    let bad = push(&bundle);
    assert!(!bad.ok && bad.stderr.contains("differs from what was signed"), "{}", bad.stderr);
    std::fs::write(model.join("config.json"), br#"{"hidden": 8}"#).unwrap();
    // A file added after signing.
    std::fs::write(model.join("extra.pkl"), b"\x80\x04N.").unwrap();
    let bad = push(&bundle);
    assert!(!bad.ok && bad.stderr.contains("extra file"), "{}", bad.stderr);
    std::fs::remove_file(model.join("extra.pkl")).unwrap();
    // Signed with a key nobody registered.
    let rogue = tmp.path().join("rogue.sig");
    sign(&tool, &tmp.path().join("rogue.pem"), &model, &rogue);
    let bad = push(&rogue);
    assert!(!bad.ok && bad.stderr.contains("does not verify"), "{}", bad.stderr);
}
