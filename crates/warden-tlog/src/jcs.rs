//! RFC 8785 JSON Canonicalization Scheme for the values Warden puts in its ledger.
//!
//! Objects are sorted by the UTF-16 code units of their keys, no whitespace, strings
//! escaped as ECMAScript `JSON.stringify` does (which is what `serde_json` writes).
//! Numbers must be integers within ±(2^53 − 1), whose canonical form is plain decimal;
//! other numbers are refused rather than risk a form that differs from RFC 8785's.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JcsError {
    #[error("number {0} is not an integer within ±(2^53 − 1); audit events carry only such numbers")]
    Number(String),
}

const MAX_SAFE: i64 = (1 << 53) - 1;

/// Whether `n` is a number the ledger's canonical form takes: an integer within
/// ±(2^53 − 1), written in plain decimal.
pub fn is_safe_integer(n: &serde_json::Number) -> bool {
    n.as_i64().is_some_and(|i| (-MAX_SAFE..=MAX_SAFE).contains(&i))
}

pub fn canonicalize(v: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::with_capacity(256);
    write(v, &mut out)?;
    Ok(out)
}

fn write(v: &Value, out: &mut Vec<u8>) -> Result<(), JcsError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let Some(i) = n.as_i64().filter(|_| is_safe_integer(n)) else {
                return Err(JcsError::Number(n.to_string()));
            };
            out.extend_from_slice(i.to_string().as_bytes());
        }
        Value::String(s) => string(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(x, out)?;
            }
            out.push(b']');
        }
        Value::Object(o) => {
            let mut keys: Vec<(&String, &Value)> = o.iter().collect();
            keys.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, x)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(k, out);
                out.push(b':');
                write(x, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn string(s: &str, out: &mut Vec<u8>) {
    // serde_json escapes exactly `"`, `\` and U+0000..U+001F (with \b \f \n \r \t short
    // forms and lowercase \u00xx otherwise), as RFC 8785 section 3.2.2.2 requires.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Whether `bytes` are the canonical form of the JSON they hold.
pub fn is_canonical(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).ok().and_then(|v| canonicalize(&v).ok()).is_some_and(|c| c == bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorts_keys_by_utf16_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, null, "x"], "\u{e9}": 2, "\u{1f600}": 3, "\u{ff61}": 4});
        let c = String::from_utf8(canonicalize(&v).unwrap()).unwrap();
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FF61 in UTF-16.
        assert_eq!(c, "{\"a\":[true,null,\"x\"],\"b\":1,\"\u{e9}\":2,\"\u{1f600}\":3,\"\u{ff61}\":4}");
    }

    #[test]
    fn escapes_like_json_stringify() {
        let v = json!({"s": "quote\" back\\ nl\n tab\t bell\u{7} del\u{7f} euro\u{20ac} sep\u{2028}"});
        let c = String::from_utf8(canonicalize(&v).unwrap()).unwrap();
        assert_eq!(c, "{\"s\":\"quote\\\" back\\\\ nl\\n tab\\t bell\\u0007 del\u{7f} euro\u{20ac} sep\u{2028}\"}");
    }

    #[test]
    fn numbers_are_safe_integers_only() {
        assert_eq!(canonicalize(&json!(-42)).unwrap(), b"-42");
        assert_eq!(canonicalize(&json!(9007199254740991i64)).unwrap(), b"9007199254740991");
        assert!(canonicalize(&json!(9007199254740992i64)).is_err());
        assert!(canonicalize(&json!(1.5)).is_err());
    }

    #[test]
    fn detects_non_canonical_bytes() {
        assert!(is_canonical(b"{\"a\":1,\"b\":2}"));
        assert!(!is_canonical(b"{\"b\":2,\"a\":1}"));
        assert!(!is_canonical(b"{\"a\": 1}"));
        assert!(!is_canonical(b"not json"));
    }
}
