//! Refused sign-ins and credentials stay evidence without letting an attacker grow the
//! ledger at will. In each interval, the first few refusals from one source with one
//! credential are recorded in full, up to a ceiling for the whole interval; the rest are
//! counted, and one summary event per interval says how many there were and where the
//! most came from. The ledger therefore grows by at most `full_per_interval + 1`
//! refusal events per interval, whatever the attacker sends. Kept in memory per replica.

use std::collections::HashMap;
use std::sync::Mutex;

use warden_core::Timestamp;

/// How refusals are recorded (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalLimits {
    /// Length of one interval.
    pub interval_seconds: i64,
    /// Refusals recorded in full per (source, credential) in one interval.
    pub full_per_key: u64,
    /// Refusals recorded in full in one interval, all sources together.
    pub full_per_interval: u64,
}

impl Default for RefusalLimits {
    fn default() -> Self {
        Self { interval_seconds: 60, full_per_key: 5, full_per_interval: 200 }
    }
}

/// Distinct (source, credential) pairs counted per interval; beyond, they share one line.
const MAX_KEYS: usize = 10_000;
/// Sources named in a summary.
const TOP: usize = 20;

/// What the refusals of one interval that were not recorded in full amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Refusals counted but not recorded in full.
    pub suppressed: u64,
    /// The (source, credential) pairs with the most suppressed refusals, most first.
    pub top: Vec<(String, String, u64)>,
    /// Distinct pairs seen (pairs beyond the tracking limit are counted as one).
    pub pairs: usize,
}

#[derive(Default)]
struct Window {
    start: i64,
    full: u64,
    suppressed: u64,
    /// Refusals per (source, credential): (all, suppressed).
    keys: HashMap<(String, String), (u64, u64)>,
}

#[derive(Default)]
pub(crate) struct Refusals {
    window: Mutex<Option<Window>>,
}

impl Refusals {
    /// Counts one refusal; answers whether to record it in full, and the summary of an
    /// interval that has just ended, if one has and anything in it was suppressed.
    pub(crate) fn admit(
        &self,
        source: &str,
        credential: &str,
        now: Timestamp,
        limits: RefusalLimits,
    ) -> (bool, Option<Summary>) {
        let mut guard = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let ended = roll(&mut guard, now, limits);
        let w = guard.get_or_insert_with(|| Window { start: now.0, ..Window::default() });
        let overflow = w.keys.len() >= MAX_KEYS;
        let key = if overflow && !w.keys.contains_key(&(source.to_string(), credential.to_string())) {
            ("(other sources)".to_string(), String::new())
        } else {
            (source.to_string(), credential.to_string())
        };
        let entry = w.keys.entry(key).or_insert((0, 0));
        entry.0 += 1;
        let full = entry.0 <= limits.full_per_key && w.full < limits.full_per_interval;
        if full {
            w.full += 1;
        } else {
            entry.1 += 1;
            w.suppressed += 1;
        }
        (full, ended)
    }

    /// The summary of the interval in progress if it has ended (a periodic flush, so a
    /// summary is written even when no further refusal arrives).
    pub(crate) fn flush(&self, now: Timestamp, limits: RefusalLimits) -> Option<Summary> {
        let mut guard = self.window.lock().unwrap_or_else(|e| e.into_inner());
        roll(&mut guard, now, limits)
    }
}

/// Ends the interval when its time is up; its summary if anything was suppressed.
fn roll(window: &mut Option<Window>, now: Timestamp, limits: RefusalLimits) -> Option<Summary> {
    let w = window.as_ref()?;
    let end = w.start.saturating_add(limits.interval_seconds.max(1).saturating_mul(1000));
    if now.0 < end {
        return None;
    }
    let w = window.take()?;
    if w.suppressed == 0 {
        return None;
    }
    let mut top: Vec<(String, String, u64)> =
        w.keys.iter().filter(|(_, c)| c.1 > 0).map(|((s, c), n)| (s.clone(), c.clone(), n.1)).collect();
    top.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)).then_with(|| a.1.cmp(&b.1)));
    top.truncate(TOP);
    Some(Summary { from: Timestamp(w.start), to: Timestamp(end), suppressed: w.suppressed, top, pairs: w.keys.len() })
}

/// A short, non-secret name for a presented credential: a Warden token's id (the part
/// before its secret), otherwise the first hex digits of its SHA-256.
pub(crate) fn credential_label(presented: &str) -> String {
    if let Some(rest) = presented.strip_prefix(warden_authn::token::PREFIX) {
        if let Some((id, _)) = rest.split_once('_') {
            if id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return format!("tok_{id}");
            }
        }
    }
    format!("sha256:{}", short_digest(presented))
}

/// The first 12 hex digits of a value's SHA-256: enough to tell credentials apart in
/// records, never enough to be one.
fn short_digest(value: &str) -> String {
    let digest = warden_authn::token::hash(value);
    digest.get(..12).unwrap_or(&digest).to_string()
}

/// A JWT's credential as the throttle counts it: the issuer and subject it claims
/// (hashed; read without verifying, since it only groups failures), so that forgeries
/// for one account from one source are counted together however each is made. A token
/// whose payload cannot be read is labelled by its digest.
pub(crate) fn jwt_label(jwt: &str) -> String {
    use base64::Engine as _;
    let claimed = jwt
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| Some(format!("{}\n{}", v.get("iss")?.as_str()?, v.get("sub")?.as_str()?)));
    match claimed {
        Some(who) => format!("oidc:{}", short_digest(&who)),
        None => credential_label(jwt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: RefusalLimits = RefusalLimits { interval_seconds: 60, full_per_key: 3, full_per_interval: 10 };

    #[test]
    fn a_flood_is_recorded_in_full_up_to_the_limits_then_summarised_once() {
        let r = Refusals::default();
        let t = Timestamp(1_000_000);
        let mut full = 0;
        // One source, one credential: three in full.
        for _ in 0..1000 {
            let (f, s) = r.admit("10.0.0.1", "tok_a", t, L);
            full += u64::from(f);
            assert!(s.is_none());
        }
        assert_eq!(full, 3);
        // A thousand rotating credentials: the interval's ceiling holds.
        for i in 0..1000 {
            full += u64::from(r.admit("10.0.0.2", &format!("sha256:{i}"), t, L).0);
        }
        assert_eq!(full, 10);
        assert!(r.flush(t.plus_seconds(59), L).is_none(), "the interval is not over");
        let s = r.flush(t.plus_seconds(60), L).unwrap();
        assert_eq!(s.suppressed, 1990);
        assert_eq!(s.pairs, 1001);
        assert_eq!(s.top.first(), Some(&("10.0.0.1".to_string(), "tok_a".to_string(), 997)));
        assert!(s.top.len() <= TOP);
        assert!(r.flush(t.plus_seconds(200), L).is_none(), "summarised once");
        // The next interval starts afresh.
        assert!(r.admit("10.0.0.1", "tok_a", t.plus_seconds(300), L).0);
    }

    #[test]
    fn an_interval_without_suppression_needs_no_summary_and_the_next_refusal_rolls_it() {
        let r = Refusals::default();
        let t = Timestamp(5_000);
        assert!(r.admit("a", "x", t, L).0);
        assert_eq!(r.admit("a", "x", t.plus_seconds(61), L), (true, None));
        for _ in 0..5 {
            r.admit("a", "x", t.plus_seconds(62), L);
        }
        let (_, s) = r.admit("b", "y", t.plus_seconds(200), L);
        assert_eq!(s.map(|s| s.suppressed), Some(3));
    }

    #[test]
    fn labels_name_the_token_not_its_secret() {
        let t = warden_authn::token::mint("01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(credential_label(&t.secret), "tok_01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let l = credential_label("not-a-warden-token");
        assert!(l.starts_with("sha256:") && l.len() == 19 && !l.contains("not-a"));
    }
}
