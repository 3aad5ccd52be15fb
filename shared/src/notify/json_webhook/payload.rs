//! The JSON webhook's document and signature (pure). The document is the plan and its
//! outcomes for SIEM and ticketing tools; its schema is `docs/webhook.schema.json` (a test
//! validates real payloads against it). Every string from the finding is data, encoded by
//! JSON: a receiver must not render it as markup.
//!
//! Signature: `X-Responder-Signature: sha256=<hex>`, the HMAC-SHA256 under the shared key
//! of `<X-Responder-Timestamp>.<body>` (the timestamp in Unix seconds): a receiver
//! recomputes it over the raw body, compares in constant time, and refuses a timestamp
//! far from its clock (replay).

use crate::notify::Report;
use crate::render::Notification;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// The document's `schema` member; a change that breaks receivers gets a new version.
pub const SCHEMA: &str = "guardduty-responder/webhook/v1";
pub const SIGNATURE_HEADER: &str = "X-Responder-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Responder-Timestamp";

/// The document for one response.
pub fn document(r: &Report<'_>, n: &Notification, function: &str, sent_at: i64) -> Value {
    let p = r.plan;
    let f = &p.finding;
    let time = |t: Option<&crate::finding::Timestamp>| {
        t.and_then(|t| t.as_datetime()).map(|t| t.to_rfc3339())
    };
    json!({
        "schema": SCHEMA,
        "kind": "finding_response",
        "function": function,
        "sent_at": chrono::DateTime::from_timestamp(sent_at, 0).map(|t| t.to_rfc3339()),
        "repeat": r.repeat,
        "finding": {
            "id": p.finding_id,
            "arn": f.arn.as_ref().map(|a| a.as_raw()),
            "type": p.finding_type,
            "account_id": p.account_id,
            "region": p.region,
            "severity": p.severity,
            "severity_label": p.severity_label.as_str(),
            "family": p.family.as_str(),
            "surface": p.surface.as_str(),
            "sample": p.sample,
            "updated_at": time(f.updated_at.as_ref()),
        },
        "decision": p.decision.as_str(),
        "reason": p.reason,
        "actions": p.actions.iter().map(|a| json!({"kind": a.kind.name(), "target": a.target.to_string()})).collect::<Vec<_>>(),
        "outcomes": r.outcomes.iter().map(|o| json!({
            "kind": o.kind.name(),
            "target": o.target,
            "status": crate::metrics::response::status_name(o.status),
            "detail": o.detail,
        })).collect::<Vec<_>>(),
        "notification": {"subject": n.subject, "text": n.text},
    })
}

/// `sha256=<hex>` over `<timestamp>.<body>`.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("sha256={}", hmac_sha256_hex(key, &message))
}

fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let expected = format!("sha256={}", hmac_sha256_hex(b"k", b"1700000000.{\"a\":1}"));
        assert_eq!(signature(b"k", 1_700_000_000, br#"{"a":1}"#), expected);
        assert_ne!(signature(b"k", 1_700_000_001, br#"{"a":1}"#), expected);
    }
}
