//! A MAC over the record quarantine leaves on a resource, so that tags rewritten after
//! quarantine (by credentials stolen earlier, anyone allowed `ec2:CreateTags`) cannot steer
//! release. KMS `GenerateMac` / `VerifyMac` with an `HMAC_256` key: the key never leaves
//! KMS, and only the responder roles (and release operators) may use it.
//!
//! The MAC covers a canonical form of every record tag (sorted, length-prefixed, so no
//! value can be re-split into other pairs) plus the resource id and the finding id: a
//! record copied from another instance, or re-labelled with another finding, fails.
//!
//! No key configured (`RESPONDER_RECORD_MAC_KEY_ID` unset): nothing is MAC'd and release
//! warns that the record is unverified; the bindings to live resources still apply. Key
//! configured: release refuses a record whose MAC is absent or does not verify.

use super::observe::api_error;
use base64::Engine;

/// The tag holding the base64 MAC.
pub use crate::actions::tags::{MAC_KEY, RECORD_FINDING_KEY as FINDING_KEY};
/// Environment variable naming the KMS key (id, ARN or alias) used for record MACs.
pub const KEY_ENV: &str = "RESPONDER_RECORD_MAC_KEY_ID";
const ALGORITHM: aws_sdk_kms::types::MacAlgorithmSpec =
    aws_sdk_kms::types::MacAlgorithmSpec::HmacSha256;
const DOMAIN: &str = "guardduty-responder-record-v1";

/// The configured key, if any (`None` when unset or blank).
pub fn key_from_env() -> Option<String> {
    std::env::var(KEY_ENV)
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
}

/// Pure: the bytes the MAC is computed over. `tags` are the record's tags; the MAC tag
/// itself is left out whatever order they come in.
pub fn canonical<'a>(
    resource_id: &str,
    finding_id: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = tags.into_iter().filter(|(k, _)| *k != MAC_KEY).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = String::from(DOMAIN);
    let mut field = |s: &str| {
        out.push_str(&s.len().to_string());
        out.push(':');
        out.push_str(s);
    };
    field(resource_id);
    field(finding_id);
    for (k, v) in pairs {
        field(k);
        field(v);
    }
    out.into_bytes()
}

/// Pure: the message of an instance's record as it is now: its prior-state tags, the
/// instance id and the finding id it is tagged with.
pub(crate) fn instance_message(view: &super::observe::InstanceView) -> Vec<u8> {
    let finding = view.tags.get(FINDING_KEY).map_or("", String::as_str);
    canonical(
        &view.id,
        finding,
        view.tags
            .iter()
            .filter(|(k, _)| crate::actions::tags::is_prior_key(k))
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

/// What checking a record's MAC found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacVerdict {
    /// No key configured: the record is unverified.
    NotConfigured,
    /// A key is configured but the record carries no MAC.
    Absent,
    Valid,
    /// Edited, moved to another resource or finding, or MAC'd with another key.
    Invalid,
    /// KMS could not be asked (permissions, throttling, network).
    Unverifiable(String),
}

/// KMS `GenerateMac`: the base64 tag value.
pub(crate) async fn generate(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    message: Vec<u8>,
) -> Result<String, String> {
    let out = kms
        .generate_mac()
        .key_id(key_id)
        .mac_algorithm(ALGORITHM)
        .message(aws_sdk_kms::primitives::Blob::new(message))
        .send()
        .await
        .map_err(|e| api_error("GenerateMac", &e))?;
    let mac = out.mac().ok_or("GenerateMac: no MAC in the answer")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.as_ref()))
}

/// KMS `VerifyMac` of `mac` (the tag value, base64) over `message`.
pub(crate) async fn verify(
    kms: &aws_sdk_kms::Client,
    key_id: Option<&str>,
    message: Vec<u8>,
    mac: Option<&str>,
) -> MacVerdict {
    let Some(key_id) = key_id else {
        return MacVerdict::NotConfigured;
    };
    let Some(mac) = mac else {
        return MacVerdict::Absent;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(mac.trim()) else {
        return MacVerdict::Invalid;
    };
    if bytes.is_empty() {
        return MacVerdict::Invalid;
    }
    match kms
        .verify_mac()
        .key_id(key_id)
        .mac_algorithm(ALGORITHM)
        .message(aws_sdk_kms::primitives::Blob::new(message))
        .mac(aws_sdk_kms::primitives::Blob::new(bytes))
        .send()
        .await
    {
        Ok(o) if o.mac_valid() => MacVerdict::Valid,
        Ok(_) => MacVerdict::Invalid,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_kms_invalid_mac_exception()) =>
        {
            MacVerdict::Invalid
        }
        Err(e) => MacVerdict::Unverifiable(api_error("VerifyMac", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_order_free_and_ignores_the_mac_tag() {
        let a = canonical("i-1", "f1", [("k:b", "2"), ("k:a", "1")]);
        let b = canonical("i-1", "f1", [("k:a", "1"), (MAC_KEY, "x"), ("k:b", "2")]);
        assert_eq!(a, b);
    }

    #[test]
    fn canonical_form_binds_the_resource_the_finding_and_every_pair() {
        let base = canonical("i-1", "f1", [("k:a", "1")]);
        assert_ne!(base, canonical("i-2", "f1", [("k:a", "1")]));
        assert_ne!(base, canonical("i-1", "f2", [("k:a", "1")]));
        assert_ne!(base, canonical("i-1", "f1", [("k:a", "2")]));
        assert_ne!(base, canonical("i-1", "f1", [("k:a", "1"), ("k:b", "")]));
        // Length prefixes: a value cannot be re-split into another pair.
        assert_ne!(
            canonical("i-1", "f1", [("a", "b1:c")]),
            canonical("i-1", "f1", [("a", "b"), ("c", "")])
        );
    }
}
