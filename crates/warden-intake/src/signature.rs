//! Detached signatures over an artifact's manifest (its canonical JSON bytes) with
//! Ed25519, ECDSA P-256 (SHA-256) or ECDSA P-384 (SHA-384) keys given as PEM
//! SubjectPublicKeyInfo. Signing (for the CLI) takes PKCS#8 PEM private keys.

use base64::Engine as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
            Algorithm::EcdsaP384 => "ecdsa-p384",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ed25519" => Some(Algorithm::Ed25519),
            "ecdsa-p256" => Some(Algorithm::EcdsaP256),
            "ecdsa-p384" => Some(Algorithm::EcdsaP384),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the public key is not a PEM {0} SubjectPublicKeyInfo")]
    PublicKey(&'static str),
    #[error("the private key is not a PEM PKCS#8 Ed25519, P-256 or P-384 key")]
    PrivateKey,
    #[error("the signature is not valid base64")]
    Encoding,
    #[error("the signature does not verify")]
    Invalid,
}

/// A verifying key, checked to parse when registered.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    pub fn from_pem(algorithm: Algorithm, pem: &str) -> Result<Self, SignatureError> {
        use p256::pkcs8::DecodePublicKey;
        match algorithm {
            Algorithm::Ed25519 => ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
                .map(PublicKey::Ed25519)
                .map_err(|_| SignatureError::PublicKey("Ed25519")),
            Algorithm::EcdsaP256 => p256::ecdsa::VerifyingKey::from_public_key_pem(pem)
                .map(PublicKey::P256)
                .map_err(|_| SignatureError::PublicKey("P-256")),
            Algorithm::EcdsaP384 => p384::ecdsa::VerifyingKey::from_public_key_pem(pem)
                .map(PublicKey::P384)
                .map_err(|_| SignatureError::PublicKey("P-384")),
        }
    }

    /// Verifies a base64 signature (Ed25519 raw, ECDSA DER or fixed-size) over `message`.
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> Result<(), SignatureError> {
        use ed25519_dalek::Verifier as _;
        let sig = base64::engine::general_purpose::STANDARD
            .decode(signature_b64.trim())
            .map_err(|_| SignatureError::Encoding)?;
        let ok = match self {
            PublicKey::Ed25519(k) => {
                ed25519_dalek::Signature::from_slice(&sig).map(|s| k.verify(message, &s).is_ok()).unwrap_or(false)
            }
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(&sig)
                .or_else(|_| p256::ecdsa::Signature::from_slice(&sig))
                .map(|s| p256::ecdsa::signature::Verifier::verify(k, message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(&sig)
                .or_else(|_| p384::ecdsa::Signature::from_slice(&sig))
                .map(|s| p384::ecdsa::signature::Verifier::verify(k, message, &s).is_ok())
                .unwrap_or(false),
        };
        if ok {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

/// Signs `message` with a PKCS#8 PEM private key; returns the algorithm and the base64
/// signature (ECDSA in DER).
pub fn sign_pem(private_pem: &str, message: &[u8]) -> Result<(Algorithm, String), SignatureError> {
    use p256::pkcs8::DecodePrivateKey;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(private_pem) {
        use ed25519_dalek::Signer as _;
        return Ok((Algorithm::Ed25519, b64(&k.sign(message).to_bytes())));
    }
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(private_pem) {
        let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&k, message);
        return Ok((Algorithm::EcdsaP256, b64(s.to_der().as_bytes())));
    }
    if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_pem(private_pem) {
        let s: p384::ecdsa::Signature = p384::ecdsa::signature::Signer::sign(&k, message);
        return Ok((Algorithm::EcdsaP384, b64(s.to_der().as_bytes())));
    }
    Err(SignatureError::PrivateKey)
}

/// The public key PEM for a PKCS#8 PEM private key (for `warden signer add`).
pub fn public_pem(private_pem: &str) -> Result<(Algorithm, String), SignatureError> {
    use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let pem = |r: Result<String, _>| r.map_err(|_: p256::pkcs8::spki::Error| SignatureError::PrivateKey);
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(private_pem) {
        return Ok((Algorithm::Ed25519, pem(k.verifying_key().to_public_key_pem(LineEnding::LF))?));
    }
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(private_pem) {
        return Ok((Algorithm::EcdsaP256, pem(k.verifying_key().to_public_key_pem(LineEnding::LF))?));
    }
    if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_pem(private_pem) {
        return Ok((Algorithm::EcdsaP384, pem(k.verifying_key().to_public_key_pem(LineEnding::LF))?));
    }
    Err(SignatureError::PrivateKey)
}

#[cfg(test)]
mod tests {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    use super::*;

    fn keys() -> Vec<String> {
        let mut rng = rand_core::OsRng;
        vec![
            ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            p256::ecdsa::SigningKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            p384::ecdsa::SigningKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        ]
    }

    #[test]
    fn every_algorithm_signs_and_verifies_and_rejects_tampering() {
        for private in keys() {
            let (alg, public) = public_pem(&private).unwrap();
            let key = PublicKey::from_pem(alg, &public).unwrap();
            let (alg2, sig) = sign_pem(&private, b"manifest bytes").unwrap();
            assert_eq!(alg, alg2);
            key.verify(b"manifest bytes", &sig).unwrap();
            assert_eq!(key.verify(b"manifest bytez", &sig), Err(SignatureError::Invalid), "{alg:?}");
            assert_eq!(key.verify(b"manifest bytes", "not base64!"), Err(SignatureError::Encoding));
            // A key of another algorithm does not parse as this one.
            let other = if alg == Algorithm::Ed25519 { Algorithm::EcdsaP256 } else { Algorithm::Ed25519 };
            assert!(PublicKey::from_pem(other, &public).is_err());
        }
        assert_eq!(
            sign_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"x"),
            Err(SignatureError::PrivateKey)
        );
    }
}
