//! Retry timing: full-jitter exponential backoff and the server's `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::RetryPolicy;

/// Full-jitter exponential backoff: random in `0..=min(max, initial * 2^attempt)`; a server's
/// `Retry-After` wins when present (capped by `max_backoff`).
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(policy.max_backoff);
    }
    let exp = policy
        .initial_backoff
        .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
    let cap = exp.min(policy.max_backoff);
    let ms = cap.as_millis() as u64;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=ms))
}

/// How long to wait before retrying an idempotent request after its attempt number `attempt`
/// (0-based) failed, or `None` when it must not be retried: the retries are used up, or the server
/// asked (`Retry-After`) for a longer wait than `max_backoff` allows. Retrying sooner than the
/// server asked would not honour it; that longer wait is the caller's decision (the error carries
/// `retry_after`).
pub(crate) fn next_wait(policy: &RetryPolicy, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
    if attempt >= policy.max_retries || retry_after.is_some_and(|ra| ra > policy.max_backoff) {
        return None;
    }
    Some(backoff(policy, attempt, retry_after))
}

/// `Retry-After` as delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        for a in 0..30 {
            assert!(backoff(&p, a, None) <= Duration::from_millis(500));
        }
        assert_eq!(
            backoff(&p, 0, Some(Duration::from_secs(60))),
            Duration::from_millis(500)
        );
        assert_eq!(
            backoff(&p, 0, Some(Duration::from_millis(10))),
            Duration::from_millis(10)
        );
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, future.parse().unwrap());
        let d = parse_retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30));
    }

    #[test]
    fn next_wait_stops_after_max_retries_and_on_a_long_retry_after() {
        let p = RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        assert!(next_wait(&p, 0, None).is_some_and(|w| w <= Duration::from_millis(100)));
        assert!(next_wait(&p, 1, None).is_some());
        assert_eq!(next_wait(&p, 2, None), None);
        assert_eq!(next_wait(&p, 0, Some(Duration::from_millis(500))), Some(Duration::from_millis(500)));
        assert_eq!(next_wait(&p, 0, Some(Duration::from_millis(501))), None);
    }
}
