//! A bundle made by the OpenSSF `model-signing` package (see tests/fixtures/make.py).

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use warden_intake::manifest::{FileEntry, Manifest};
use warden_intake::model_signing::{compare, verify, BundleError};
use warden_intake::signature::{Algorithm, PublicKey};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model_signing")
}

fn key() -> PublicKey {
    PublicKey::from_pem(Algorithm::EcdsaP256, &std::fs::read_to_string(dir().join("pub.pem")).unwrap()).unwrap()
}

fn entry(path: &str, data: &[u8]) -> FileEntry {
    FileEntry {
        path: path.into(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(data))),
        size: data.len() as u64,
    }
}

fn manifest() -> Manifest {
    let files = ["a.txt", "sub/b.bin"].map(|p| entry(p, &std::fs::read(dir().join("model").join(p)).unwrap()));
    Manifest::new(files.to_vec()).unwrap()
}

#[test]
fn a_real_bundle_verifies_and_covers_the_model() {
    let bundle = std::fs::read(dir().join("model.sig")).unwrap();
    let signed = verify(&bundle, &[key()]).unwrap();
    assert_eq!(signed.subject, "model");
    assert_eq!(signed.files.len(), 2);
    assert!(compare(&signed, &manifest()).is_empty());
}

#[test]
fn tampered_extra_or_missing_files_and_unknown_keys_are_caught() {
    let bundle = std::fs::read(dir().join("model.sig")).unwrap();
    let signed = verify(&bundle, &[key()]).unwrap();
    let mut files = manifest().files;
    files[0] = entry("a.txt", b"tampered\n");
    let problems = compare(&signed, &Manifest::new(files.clone()).unwrap());
    assert!(problems[0].contains("tampered"), "{problems:?}");
    files[0] = entry("a.txt", &std::fs::read(dir().join("model/a.txt")).unwrap());
    files.push(entry("extra.pkl", b"x"));
    assert!(compare(&signed, &Manifest::new(files).unwrap())[0].contains("extra file"));
    let only_one = Manifest::new(vec![manifest().files[0].clone()]).unwrap();
    assert!(compare(&signed, &only_one)[0].contains("missing from the artifact"));

    use p256::pkcs8::EncodePublicKey;
    let stranger = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let pem = stranger.verifying_key().to_public_key_pem(p256::pkcs8::LineEnding::LF).unwrap();
    let other = PublicKey::from_pem(Algorithm::EcdsaP256, &pem).unwrap();
    assert_eq!(verify(&bundle, &[other]), Err(BundleError::Signature));
    // A payload edited after signing.
    let text = String::from_utf8(bundle).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut edited = v.clone();
    edited["dsseEnvelope"]["payload"] = serde_json::json!("e30=");
    assert_eq!(verify(edited.to_string().as_bytes(), &[key()]), Err(BundleError::Signature));
    assert!(matches!(verify(b"not json", &[key()]), Err(BundleError::Format(_))));
}
