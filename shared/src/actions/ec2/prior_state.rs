//! The state quarantine changes, recorded on the instance itself as tags so that release
//! needs nothing but the instance. Pure: encode to and decode from `(key, value)` pairs.
//!
//! Layout (every value ≤ 256 characters, every key ≤ 128):
//!
//! | key | value |
//! |---|---|
//! | `guardduty-responder:prior` | `v=1;termination-protection=false;shutdown-behavior=terminate;elastic-ips=recorded` (`unknown` where a value could not be read) |
//! | `guardduty-responder:prior:eni:<eni-id>` | that ENI's groups, `sg-a,sg-b` (or `packed:` + a compact form when 13+ long ids do not fit) |
//! | `guardduty-responder:prior:asg` | the Auto Scaling group name, when the instance was a member |
//! | `guardduty-responder:prior:delete-on-termination` (`…:2`, … when long) | device names whose volume had `DeleteOnTermination=true` |
//! | `guardduty-responder:prior:eip:<allocation-id>` | `<eni-id>,<private-ip>` of each Elastic IP association |
//!
//! Tags can be written by anyone allowed `ec2:CreateTags` on the instance, so decoding
//! validates every identifier and release shows what it restores.

use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::actions::tags::PRIOR_ENI_KEY as ENI_KEY;
/// Prefix of every tag key the responder writes (the exemption tag shares it).
pub use crate::actions::tags::{PRIOR_KEY, TAG_PREFIX, is_prior_key, is_quarantine_key};
const EIP_KEY: &str = "guardduty-responder:prior:eip:";
const ASG_KEY: &str = "guardduty-responder:prior:asg";
const DOT_KEY: &str = "guardduty-responder:prior:delete-on-termination";
const VERSION: &str = "1";
/// EC2 tag value limit, in characters.
pub const MAX_VALUE: usize = 256;
const PACKED: &str = "packed:";

/// An Elastic IP association as it was before quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct EipAssociation {
    pub allocation_id: String,
    pub network_interface_id: String,
    pub private_ip: String,
}

/// Everything quarantine may change, as it was before. `None` means "could not be read";
/// release then leaves that setting as it finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PriorState {
    /// Security groups per network interface, in the order AWS listed them.
    pub network_interfaces: BTreeMap<String, Vec<String>>,
    pub termination_protection: Option<bool>,
    pub shutdown_behavior: Option<String>,
    /// Device names whose EBS volume had `DeleteOnTermination=true`.
    pub delete_on_termination: Vec<String>,
    pub auto_scaling_group: Option<String>,
    pub elastic_ips: Option<Vec<EipAssociation>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("prior-state tags: {0}")]
pub struct PriorStateError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, PriorStateError> {
    Err(PriorStateError(m.into()))
}

/// `<prefix>` + 8..=17 lowercase hex digits, the shape of every EC2 resource id.
pub fn is_resource_id(prefix: &str, v: &str) -> bool {
    v.strip_prefix(prefix).is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Auto Scaling group names: 1..=255 characters, no control characters (what AWS allows,
/// and EC2 tag values accept any character).
pub fn is_asg_name(v: &str) -> bool {
    (1..=255).contains(&v.chars().count()) && !v.chars().any(char::is_control)
}

fn is_device_name(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b))
}

fn tri(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

/// Packs lowercase-hex group ids 6 bits per character: a length character, then the
/// nibbles. 17 hex digits take 13 characters, so 16 groups fit in one tag value.
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn pack_groups(groups: &[String]) -> Option<String> {
    let mut out = String::from(PACKED);
    for g in groups {
        let hex = g.strip_prefix("sg-")?;
        if hex.is_empty() || hex.len() >= 64 {
            return None;
        }
        out.push(B64[hex.len()] as char);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in hex.chars() {
            acc = (acc << 4) | c.to_digit(16)?;
            bits += 4;
            if bits >= 6 {
                bits -= 6;
                out.push(B64[((acc >> bits) & 63) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(B64[((acc << (6 - bits)) & 63) as usize] as char);
        }
    }
    Some(out)
}

fn unpack_groups(packed: &str) -> Result<Vec<String>, PriorStateError> {
    let digit = |c: u8| {
        B64.iter()
            .position(|&b| b == c)
            .ok_or_else(|| PriorStateError(format!("bad packed character {:?}", c as char)))
    };
    let bytes = packed.as_bytes();
    let mut i = 0;
    let mut groups = Vec::new();
    while i < bytes.len() {
        let len = digit(bytes[i])?;
        i += 1;
        let chars = (len * 4).div_ceil(6);
        let chunk = bytes
            .get(i..i + chars)
            .ok_or_else(|| PriorStateError("truncated packed group list".into()))?;
        i += chars;
        let (mut acc, mut bits, mut hex) = (0u32, 0u32, String::from("sg-"));
        for &c in chunk {
            acc = (acc << 6) | digit(c)? as u32;
            bits += 6;
            while bits >= 4 && hex.len() < 3 + len {
                bits -= 4;
                let nibble = (acc >> bits) & 15;
                hex.push(char::from_digit(nibble, 16).unwrap_or('0'));
            }
            acc &= (1 << bits) - 1;
        }
        groups.push(hex);
    }
    Ok(groups)
}

/// One ENI's groups as a tag value of at most [`MAX_VALUE`] characters.
pub fn encode_groups(groups: &[String]) -> Result<String, PriorStateError> {
    let plain = groups.join(",");
    if plain.len() <= MAX_VALUE && !plain.starts_with(PACKED) {
        return Ok(plain);
    }
    match pack_groups(groups) {
        Some(p) if p.len() <= MAX_VALUE => Ok(p),
        _ => err(format!(
            "{} security groups do not fit in one tag value",
            groups.len()
        )),
    }
}

pub fn decode_groups(value: &str) -> Result<Vec<String>, PriorStateError> {
    let groups = match value.strip_prefix(PACKED) {
        Some(p) => unpack_groups(p)?,
        None if value.is_empty() => vec![],
        None => value.split(',').map(str::to_owned).collect(),
    };
    match groups.iter().find(|g| !is_resource_id("sg-", g)) {
        Some(bad) => err(format!("{bad:?} is not a security group id")),
        None => Ok(groups),
    }
}

/// Splits `items` joined by `,` over `key`, `key:2`, … so that no value exceeds the limit.
fn chunked(key: &str, items: &[String], out: &mut Vec<(String, String)>) {
    let mut current = String::new();
    let mut n = 1;
    let mut flush = |current: &mut String, n: &mut usize| {
        let k = if *n == 1 {
            key.to_owned()
        } else {
            format!("{key}:{n}")
        };
        out.push((k, std::mem::take(current)));
        *n += 1;
    };
    for item in items {
        if !current.is_empty() && current.len() + 1 + item.len() > MAX_VALUE {
            flush(&mut current, &mut n);
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(item);
    }
    if !current.is_empty() {
        flush(&mut current, &mut n);
    }
}

impl PriorState {
    /// The tags that record this state. Fails (and nothing should be written) when a value
    /// cannot be represented, e.g. an identifier AWS returned in an unexpected shape.
    pub fn encode(&self) -> Result<Vec<(String, String)>, PriorStateError> {
        let mut out = vec![(
            PRIOR_KEY.to_owned(),
            format!(
                "v={VERSION};termination-protection={};shutdown-behavior={};elastic-ips={}",
                tri(self.termination_protection),
                match self.shutdown_behavior.as_deref() {
                    Some(s @ ("stop" | "terminate")) => s,
                    Some(other) => return err(format!("unexpected shutdown behaviour {other:?}")),
                    None => "unknown",
                },
                if self.elastic_ips.is_some() {
                    "recorded"
                } else {
                    "unknown"
                },
            ),
        )];
        for (eni, groups) in &self.network_interfaces {
            if !is_resource_id("eni-", eni) {
                return err(format!("{eni:?} is not a network interface id"));
            }
            if let Some(bad) = groups.iter().find(|g| !is_resource_id("sg-", g)) {
                return err(format!("{bad:?} is not a security group id"));
            }
            out.push((format!("{ENI_KEY}{eni}"), encode_groups(groups)?));
        }
        if let Some(asg) = &self.auto_scaling_group {
            if !is_asg_name(asg) {
                return err("the Auto Scaling group name cannot be stored in a tag");
            }
            out.push((ASG_KEY.to_owned(), asg.clone()));
        }
        if let Some(bad) = self
            .delete_on_termination
            .iter()
            .find(|d| !is_device_name(d))
        {
            return err(format!("unexpected device name {bad:?}"));
        }
        chunked(DOT_KEY, &self.delete_on_termination, &mut out);
        for e in self.elastic_ips.iter().flatten() {
            if !is_resource_id("eipalloc-", &e.allocation_id)
                || !is_resource_id("eni-", &e.network_interface_id)
                || e.private_ip.parse::<IpAddr>().is_err()
            {
                return err(format!(
                    "unexpected Elastic IP association {:?}",
                    e.allocation_id
                ));
            }
            out.push((
                format!("{EIP_KEY}{}", e.allocation_id),
                format!("{},{}", e.network_interface_id, e.private_ip),
            ));
        }
        Ok(out)
    }

    /// Reads the state back from an instance's tags: `Ok(None)` when nothing is recorded.
    pub fn decode<'a>(
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Option<PriorState>, PriorStateError> {
        let tags: BTreeMap<&str, &str> = tags.into_iter().collect();
        let Some(main) = tags.get(PRIOR_KEY) else {
            return Ok(None);
        };
        let mut fields = BTreeMap::new();
        for part in main.split(';') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| PriorStateError(format!("malformed field {part:?}")))?;
            fields.insert(k, v);
        }
        if fields.get("v") != Some(&VERSION) {
            return err(format!("unsupported version in {main:?}"));
        }
        let termination_protection = match fields.get("termination-protection") {
            Some(&"true") => Some(true),
            Some(&"false") => Some(false),
            Some(&"unknown") => None,
            other => return err(format!("termination-protection {other:?}")),
        };
        let shutdown_behavior = match fields.get("shutdown-behavior") {
            Some(&s @ ("stop" | "terminate")) => Some(s.to_owned()),
            Some(&"unknown") => None,
            other => return err(format!("shutdown-behavior {other:?}")),
        };
        let eips_known = match fields.get("elastic-ips") {
            Some(&"recorded") => true,
            Some(&"unknown") => false,
            other => return err(format!("elastic-ips {other:?}")),
        };
        let mut state = PriorState {
            termination_protection,
            shutdown_behavior,
            elastic_ips: eips_known.then(Vec::new),
            ..PriorState::default()
        };
        let mut dot_chunks: Vec<(usize, &str)> = Vec::new();
        for (&k, &v) in &tags {
            if let Some(eni) = k.strip_prefix(ENI_KEY) {
                if !is_resource_id("eni-", eni) {
                    return err(format!("{eni:?} is not a network interface id"));
                }
                state
                    .network_interfaces
                    .insert(eni.to_owned(), decode_groups(v)?);
            } else if let Some(alloc) = k.strip_prefix(EIP_KEY) {
                let (eni, ip) = v
                    .split_once(',')
                    .ok_or_else(|| PriorStateError(format!("malformed {k}")))?;
                if !is_resource_id("eipalloc-", alloc)
                    || !is_resource_id("eni-", eni)
                    || ip.parse::<IpAddr>().is_err()
                {
                    return err(format!("malformed {k}"));
                }
                if let Some(list) = state.elastic_ips.as_mut() {
                    list.push(EipAssociation {
                        allocation_id: alloc.to_owned(),
                        network_interface_id: eni.to_owned(),
                        private_ip: ip.to_owned(),
                    });
                }
            } else if k == ASG_KEY {
                if !is_asg_name(v) {
                    return err("malformed Auto Scaling group name");
                }
                state.auto_scaling_group = Some(v.to_owned());
            } else if k == DOT_KEY {
                dot_chunks.push((1, v));
            } else if let Some(n) = k.strip_prefix(DOT_KEY).and_then(|r| r.strip_prefix(':')) {
                let n = n
                    .parse::<usize>()
                    .map_err(|_| PriorStateError(format!("malformed {k}")))?;
                dot_chunks.push((n, v));
            }
        }
        dot_chunks.sort();
        for (_, v) in dot_chunks {
            for d in v.split(',').filter(|d| !d.is_empty()) {
                if !is_device_name(d) {
                    return err(format!("unexpected device name {d:?}"));
                }
                state.delete_on_termination.push(d.to_owned());
            }
        }
        Ok(Some(state))
    }
}

#[cfg(test)]
#[path = "prior_state_tests.rs"]
mod tests;
