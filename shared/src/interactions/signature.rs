//! Slack request signing, v0: `v0=` and the hex HMAC-SHA256 of
//! `v0:{X-Slack-Request-Timestamp}:{raw body}` under the app's signing secret. Compared in
//! constant time (`hmac`'s `verify_slice`); a timestamp more than five minutes from now is
//! refused, so a captured request is worthless after that (and within it, the seen-signature
//! record refuses it: [`super::seen`]).

use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};

/// How far a request's timestamp may be from the function's clock.
pub const MAX_SKEW_SECONDS: u64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Slack-Request-Timestamp or X-Slack-Signature header")]
    Missing,
    #[error("the request timestamp is not within five minutes of now")]
    Stale,
    #[error("the signature does not verify")]
    Invalid,
}

/// Checks one request. `now` is the function's clock in epoch seconds.
pub fn verify(
    secret: &SecretString,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: u64,
) -> Result<u64, SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    let at: u64 = timestamp.parse().map_err(|_| SignatureError::Stale)?;
    if at.abs_diff(now) > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale);
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Invalid)?;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
            .map_err(|_| SignatureError::Invalid)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Invalid)?;
    Ok(at)
}

/// The `X-Slack-Signature` value for a request (tests, and the test client in `tests/`).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
    else {
        return String::new();
    };
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_547_200;

    fn secret() -> SecretString {
        SecretString::from("8f742231b10e8888abcd99yyyzzz85a5")
    }

    #[test]
    fn a_signed_request_verifies_and_anything_else_does_not() {
        let body = b"payload=%7B%22type%22%3A%22block_actions%22%7D";
        let ts = NOW.to_string();
        let good = sign("8f742231b10e8888abcd99yyyzzz85a5", &ts, body);
        assert_eq!(
            verify(&secret(), Some(&ts), Some(&good), body, NOW),
            Ok(NOW)
        );
        let other_key = sign("another secret", &ts, body);
        let mut flipped = good.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [other_key.as_str(), flipped.as_str(), "v0=zz", "v1=00", ""] {
            assert_eq!(
                verify(&secret(), Some(&ts), Some(bad), body, NOW),
                Err(SignatureError::Invalid),
                "{bad}"
            );
        }
        // The body and the timestamp are both signed.
        assert_eq!(
            verify(&secret(), Some(&ts), Some(&good), b"payload=x", NOW),
            Err(SignatureError::Invalid)
        );
        let later = (NOW + 1).to_string();
        assert_eq!(
            verify(&secret(), Some(&later), Some(&good), body, NOW),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(&secret(), None, Some(&good), body, NOW),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_away_is_refused() {
        let body = b"x";
        for at in [NOW - MAX_SKEW_SECONDS - 1, NOW + MAX_SKEW_SECONDS + 1] {
            let ts = at.to_string();
            let sig = sign("8f742231b10e8888abcd99yyyzzz85a5", &ts, body);
            assert_eq!(
                verify(&secret(), Some(&ts), Some(&sig), body, NOW),
                Err(SignatureError::Stale)
            );
        }
        let ts = (NOW - MAX_SKEW_SECONDS).to_string();
        let sig = sign("8f742231b10e8888abcd99yyyzzz85a5", &ts, body);
        assert!(verify(&secret(), Some(&ts), Some(&sig), body, NOW).is_ok());
        assert_eq!(
            verify(&secret(), Some("soon"), Some(&sig), body, NOW),
            Err(SignatureError::Stale)
        );
    }
}
