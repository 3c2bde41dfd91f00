//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), HMAC-SHA1, 6 digits, 30 s.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    #[error("the TOTP secret is not valid base32")]
    Secret,
}

/// A new 160-bit secret, base32 without padding (what authenticator apps expect).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// The `otpauth://` URI authenticator apps scan.
pub fn provisioning_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

fn decode_secret(secret: &str) -> Result<Vec<u8>, TotpError> {
    let cleaned: String = secret.chars().filter(|c| !c.is_whitespace() && *c != '=').collect();
    data_encoding::BASE32_NOPAD.decode(cleaned.to_ascii_uppercase().as_bytes()).map_err(|_| TotpError::Secret)
}

/// HOTP value (RFC 4226 section 5.3) for a raw key and counter, truncated to `digits`.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return 0; // HMAC accepts keys of any length; unreachable in practice.
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map(|w| u32::from_be_bytes(w) & 0x7fff_ffff)
        .unwrap_or(0);
    word % 10u32.pow(digits)
}

/// The time step for a Unix time in seconds.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECONDS)
}

/// The code for a base32 secret at a Unix time, zero-padded.
pub fn code_at(secret: &str, unix_secs: i64) -> Result<String, TotpError> {
    let key = decode_secret(secret)?;
    let step = u64::try_from(step_at(unix_secs)).unwrap_or(0);
    Ok(format!("{:0width$}", hotp(&key, step, DIGITS), width = DIGITS as usize))
}

/// Checks a code against the current step and one step either side (clock skew).
/// Returns the matched step so the caller can refuse its reuse (replay). Steps at or
/// before `last_used_step` never match. Comparison is constant-time per candidate.
pub fn verify(secret: &str, code: &str, unix_secs: i64, last_used_step: Option<i64>) -> Result<Option<i64>, TotpError> {
    let key = decode_secret(secret)?;
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let now = step_at(unix_secs);
    let mut matched = None;
    for step in [now - 1, now, now + 1] {
        if last_used_step.is_some_and(|last| step <= last) || step < 0 {
            continue;
        }
        let candidate = format!("{:0width$}", hotp(&key, step as u64, DIGITS), width = DIGITS as usize);
        if bool::from(subtle::ConstantTimeEq::ct_eq(candidate.as_bytes(), code.as_bytes())) {
            matched = Some(step);
        }
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", 8 digits.
    #[test]
    fn rfc6238_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(key, step_at(t) as u64, 8), want, "t={t}");
        }
    }

    // RFC 4226 appendix D.
    #[test]
    fn rfc4226_vectors() {
        let key = b"12345678901234567890";
        let want = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(key, i as u64, 6), *w);
        }
    }

    #[test]
    fn verify_window_and_replay() {
        let secret = generate_secret();
        let t = 1_700_000_000;
        let code = code_at(&secret, t).unwrap();
        let step = verify(&secret, &code, t, None).unwrap().unwrap();
        assert_eq!(step, step_at(t));
        // Accepted 30 s later (skew), refused once used, refused far away.
        assert!(verify(&secret, &code, t + 30, None).unwrap().is_some());
        assert!(verify(&secret, &code, t, Some(step)).unwrap().is_none());
        assert!(verify(&secret, &code, t + 300, None).unwrap().is_none());
        assert!(verify(&secret, "12345", t, None).unwrap().is_none());
        assert!(verify(&secret, "abcdef", t, None).unwrap().is_none());
        assert_eq!(verify("not base32!", "123456", t, None), Err(TotpError::Secret));
    }

    #[test]
    fn uri_is_escaped() {
        let uri = provisioning_uri("ABC", "Warden", "alice@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Warden:alice%40example.com?secret=ABC&issuer=Warden&algorithm=SHA1&digits=6&period=30"
        );
    }
}
