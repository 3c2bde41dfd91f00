//! Password hashing with argon2id (PHC string format).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be between 12 and 1024 characters")]
    Length,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Minimal policy: length only (NIST SP 800-63B favours length over composition rules).
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if (12..=1024).contains(&n) {
        Ok(())
    } else {
        Err(PasswordError::Length)
    }
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_policy(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies in time independent of where the password differs. When there is no stored
/// hash (unknown user), a fixed dummy hash is checked so the timing does not reveal it.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$VhlhWuvwt4Wz3mQZ1m5o8f2Y1h7i4cOVQ2bJz0NJ9nE";
    let (phc, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY, false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(&h), "correct horse battery"));
        assert!(!verify(Some(&h), "correct horse batterx"));
        assert!(!verify(None, "correct horse battery"));
        assert!(!verify(Some("garbage"), "x"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash("short"), Err(PasswordError::Length)));
    }
}
