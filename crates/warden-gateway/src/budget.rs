//! Rate limits and budgets: a call reserves its estimated tokens (and cost) on every counter before any provider is called, and settles to what it used.

use std::sync::Arc;

use serde_json::Value;
use warden_core::{ProjectId, Timestamp};
use warden_llm::Provider;
use warden_store::Store;

use crate::*;

/// Tokens a call may use, reserved before it is made: the prompt's estimate plus the
/// completion it asks for (or 512). Settled against the provider's usage afterwards.
pub fn estimate(body: &Value) -> i64 {
    let prompt: u64 = ["messages", "input"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(|v| warden_llm::estimate_tokens(&v.to_string()))
        .sum();
    let completion = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(if body.get("input").is_some() { 0 } else { 512 });
    i64::try_from(prompt.saturating_mul(2).saturating_add(completion)).unwrap_or(i64::MAX)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub const DAY_MS: i64 = 86_400_000;

/// Cost budgets are kept beside token budgets under `usd:<period>`, in micro-USD.
pub const COST_PREFIX: &str = "usd:";

/// The start (ms) of the budget window `period` that `now` falls in (UTC).
pub fn window(period: &str, now: warden_core::Timestamp) -> i64 {
    let day = now.0.div_euclid(DAY_MS);
    match period.trim_start_matches(COST_PREFIX) {
        "month" => {
            let (_, _, d) = civil(day);
            (day - (d - 1)) * DAY_MS
        }
        _ => day * DAY_MS,
    }
}

/// A gateway key's limits per minute; 0 is no limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub requests_per_minute: i64,
    pub tokens_per_minute: i64,
}

/// Whose counters a call reserves on, and their limits.
pub struct Account<'a> {
    /// The gateway key's id: its per-minute counters.
    pub key: &'a str,
    pub limits: Limits,
    pub project: &'a ProjectId,
    /// The project's budgets: (period, limit), the period `COST_PREFIX`ed for cost.
    pub budgets: Vec<(String, i64)>,
    pub now: Timestamp,
}

/// Counters a call holds reservations on, returned or settled when it ends.
pub struct Held {
    store: std::sync::Arc<dyn warden_store::Store>,
    /// The tokens reserved on each counter: the call's estimate.
    pub amount: i64,
    /// (scope, window) of each token counter held.
    tokens: Vec<(String, i64)>,
    /// (scope, window) of each cost counter held, the micro-USD reserved on each, and
    /// the price used: the highest (output) price of any provider that may answer, so
    /// cost budgets never undercount.
    costs: Vec<(String, i64)>,
    cost_amount: i64,
    price: f64,
}

pub fn cost_of(tokens: i64, price: f64) -> i64 {
    // Tokens times micro-USD per token, rounded up.
    (tokens.max(0) as f64 * price).ceil().min(i64::MAX as f64) as i64
}

impl Held {
    /// Corrects every token (and cost) reservation to what the call used.
    pub async fn settle(self, used: i64) {
        let corrections = self
            .tokens
            .iter()
            .map(|(s, w)| (s, *w, used - self.amount))
            .chain(self.costs.iter().map(|(s, w)| (s, *w, cost_of(used, self.price) - self.cost_amount)));
        for (scope, w, delta) in corrections {
            if let Err(e) = self.store.adjust(scope, w, delta).await {
                tracing::error!(error = %e, scope, "could not settle a gateway reservation");
            }
        }
    }
}

/// Reserves the call's request and tokens against the key's rate limits and the
/// project's budgets, or says which limit it would break (429). Nothing is held when
/// it refuses.
pub async fn reserve(
    store: &Arc<dyn Store>,
    account: Account<'_>,
    body: &Value,
    model: &str,
    providers: &[Arc<Provider>],
) -> Result<Held, GatewayError> {
    let Account { key, limits, project, budgets, now } = account;
    let minute = now.0 - now.0.rem_euclid(60_000);
    // Micro-USD per token: the highest price any allowed provider charges for the model.
    // An external provider without a price cannot be counted, so with a cost budget it
    // is refused rather than let through uncounted.
    let unpriced = providers.iter().find(|p| p.config.external && p.config.price(model).is_none());
    let price =
        providers.iter().filter_map(|p| p.config.price(model)).map(|p| p.input.max(p.output)).fold(0.0_f64, f64::max);
    let fail = |msg: String, code: &str| GatewayError::new(429, "rate_limit_error", code, msg, None);
    let unavailable =
        |e: warden_store::StoreError| GatewayError::new(503, "server_error", "store_unavailable", e.to_string(), None);
    let tpm = limits.tokens_per_minute;
    // The estimate walks the whole body: only when a token limit or budget needs it.
    let amount = if tpm > 0 || !budgets.is_empty() { estimate(body) } else { 0 };
    let mut held = Held {
        store: store.clone(),
        amount,
        tokens: Vec::new(),
        costs: Vec::new(),
        cost_amount: cost_of(amount, price),
        price,
    };
    let rpm = limits.requests_per_minute;
    if rpm > 0 && !store.reserve(&format!("rpm:{key}"), minute, 1, rpm).await.map_err(unavailable)? {
        return Err(fail(format!("rate limit: this key may make {rpm} requests per minute"), "rate_limit_exceeded"));
    }
    let mut checks: Vec<(String, i64, i64, String, &str)> = Vec::new();
    if tpm > 0 {
        checks.push((
            format!("tpm:{key}"),
            minute,
            tpm,
            format!("rate limit: this key may use {tpm} tokens per minute"),
            "rate_limit_exceeded",
        ));
    }
    let mut cost_checks: Vec<(String, i64, i64, String)> = Vec::new();
    for (period, limit) in budgets {
        let w = window(&period, now);
        if let Some(p) = period.strip_prefix(COST_PREFIX) {
            if let Some(u) = unpriced {
                held.settle(0).await;
                return Err(GatewayError::forbidden(format!(
                    "the project has a {p} cost budget and provider `{}` has no price for `{model}`; \
                     calls that cannot be counted are not made",
                    u.config.name
                )));
            }
            cost_checks.push((
                format!("budget:{project}:{period}"),
                w,
                limit,
                format!(
                    "the project's {p} budget of {:.2} USD would be exceeded; the call was not made",
                    limit as f64 / 1e6
                ),
            ));
            continue;
        }
        checks.push((
            format!("budget:{project}:{period}"),
            w,
            limit,
            format!("the project's {period} budget of {limit} tokens would be exceeded; the call was not made"),
            "insufficient_quota",
        ));
    }
    for (scope, w, limit, msg, code) in checks {
        if !store.reserve(&scope, w, amount, limit).await.map_err(unavailable)? {
            held.settle(0).await;
            return Err(fail(msg, code));
        }
        held.tokens.push((scope, w));
    }
    for (scope, w, limit, msg) in cost_checks {
        if !store.reserve(&scope, w, held.cost_amount, limit).await.map_err(unavailable)? {
            held.settle(0).await;
            return Err(fail(msg, "insufficient_quota"));
        }
        held.costs.push((scope, w));
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn calendar_windows() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        let t = warden_core::Timestamp(1_709_251_199_000); // 2024-02-29T23:59:59Z
        assert_eq!(window("day", t), 19_782 * DAY_MS);
        assert_eq!(window("month", t), 19_754 * DAY_MS, "2024-02-01");
        assert!(estimate(&json!({"messages": [{"content": "a b c"}], "max_tokens": 10})) > 10);
    }
}
