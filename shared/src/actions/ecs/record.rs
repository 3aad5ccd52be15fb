//! What isolation changed, recorded on the task itself as ECS tags so that release needs
//! nothing but the task. Pure: encode to and decode from `(key, value)` pairs.
//!
//! ECS tag keys are at most 128 characters, values 256, both only letters, digits, spaces
//! and `_ . : / = + - @` (no commas), at most 50 tags per resource.
//!
//! | key | value |
//! |---|---|
//! | `guardduty-responder:nacl:<acl-id>:<ingress\|egress>:<rule>` | the denied CIDR (`10.0.1.5/32`), or `allow=` and the CIDR for the sensor link's ALLOW ([`super::sensor_allow`]) |
//! | `guardduty-responder:target:<tg-name>/<tg-id>:<target-id>:<port>` | the target group ARN |
//! | `guardduty-responder:prior:eni:<eni-id>` | the ENI's groups before the swap, space separated |
//! | `guardduty-responder:revoked-role` | the task role whose older sessions were revoked |
//! | `guardduty-responder:mac` | the record's seal ([`super::record_seal`]) |
//!
//! plus the status tags of the EC2 executor (`guardduty-responder:status`, `…:finding-id`,
//! `…:finding-type`, `…:quarantined-at`). Anyone allowed `ecs:TagResource` can write these,
//! so decoding validates every identifier.

use super::acl_entry::Direction;
pub use super::acl_entry::NaclEntry;
use crate::actions::ec2::prior_state::is_resource_id;
use crate::actions::tags::STATUS_KEYS;
use serde::Serialize;
use std::collections::BTreeMap;

pub const NACL_KEY: &str = "guardduty-responder:nacl:";
pub const TARGET_KEY: &str = "guardduty-responder:target:";
pub use crate::actions::tags::PRIOR_ENI_KEY;
pub use crate::actions::tags::REVOKED_ROLE_KEY;
pub const MAX_KEY: usize = 128;
pub const MAX_VALUE: usize = 256;

/// Marks the sensor link's ALLOW in a recorded value (`allow=10.0.1.5/32`).
pub const ALLOW_PREFIX: &str = "allow=";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub target_group_arn: String,
    pub id: String,
    pub port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Record {
    pub nacl: Vec<NaclEntry>,
    pub targets: Vec<Target>,
    pub prior_groups: BTreeMap<String, Vec<String>>,
    pub revoked_role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task record tags: {0}")]
pub struct RecordError(pub String);

fn tag_safe(v: &str) -> bool {
    v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" _.:/=+-@".contains(&b))
}

fn is_cidr(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<std::net::IpAddr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 128)
    })
}

/// `arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>`.
pub fn is_target_group_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "elasticloadbalancing"
        && parts[5].starts_with("targetgroup/")
        && parts[5].matches('/').count() == 2
        && v.len() <= MAX_VALUE
        && tag_safe(v)
}

pub use crate::actions::revocation::is_role_name;

fn is_target_id(v: &str) -> bool {
    crate::target::is_instance_id(v) || v.parse::<std::net::IpAddr>().is_ok()
}

pub fn nacl_tag(e: &NaclEntry) -> Result<(String, String), RecordError> {
    if !is_resource_id("acl-", &e.acl_id) || !is_cidr(&e.cidr) {
        return Err(RecordError(format!("cannot record {e:?}")));
    }
    Ok((
        format!(
            "{NACL_KEY}{}:{}:{}",
            e.acl_id,
            e.direction.as_str(),
            e.rule_number
        ),
        if e.allow {
            format!("{ALLOW_PREFIX}{}", e.cidr)
        } else {
            e.cidr.clone()
        },
    ))
}

pub fn target_tag(t: &Target) -> Result<(String, String), RecordError> {
    if !is_target_group_arn(&t.target_group_arn) || !is_target_id(&t.id) {
        return Err(RecordError(format!("cannot record {t:?}")));
    }
    let suffix = t
        .target_group_arn
        .split_once(":targetgroup/")
        .map(|(_, s)| s)
        .unwrap_or_default();
    let port = t.port.map(|p| p.to_string()).unwrap_or_default();
    let key = format!("{TARGET_KEY}{suffix}:{}:{port}", t.id);
    if key.len() > MAX_KEY {
        return Err(RecordError(format!("key too long for {t:?}")));
    }
    Ok((key, t.target_group_arn.clone()))
}

pub fn prior_groups_tag(eni: &str, groups: &[String]) -> Result<(String, String), RecordError> {
    if !is_resource_id("eni-", eni) || groups.iter().any(|g| !is_resource_id("sg-", g)) {
        return Err(RecordError(format!("cannot record the groups of {eni:?}")));
    }
    let value = groups.join(" ");
    if value.len() > MAX_VALUE {
        return Err(RecordError(format!(
            "{} groups of {eni} do not fit in one tag value",
            groups.len()
        )));
    }
    Ok((format!("{PRIOR_ENI_KEY}{eni}"), value))
}

pub fn revoked_role_tag(role: &str) -> Result<(String, String), RecordError> {
    if !is_role_name(role) {
        return Err(RecordError(format!("cannot record role name {role:?}")));
    }
    Ok((REVOKED_ROLE_KEY.to_owned(), role.to_owned()))
}

/// Keys this responder writes on a task (release removes exactly these).
pub fn is_record_key(k: &str) -> bool {
    k.starts_with(NACL_KEY)
        || k.starts_with(TARGET_KEY)
        || k.starts_with(PRIOR_ENI_KEY)
        || k == REVOKED_ROLE_KEY
        || k == crate::actions::ec2::record_mac::MAC_KEY
        || STATUS_KEYS.contains(&k)
}

impl Record {
    /// Reads the record back from a task's tags. Entries that do not validate are errors:
    /// release must not act on what it cannot trust.
    pub fn decode<'a>(
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Record, RecordError> {
        let mut r = Record::default();
        let bad = |k: &str| RecordError(format!("malformed tag {k:?}"));
        for (k, v) in tags {
            if let Some(rest) = k.strip_prefix(NACL_KEY) {
                let mut parts = rest.split(':');
                let (Some(acl), Some(dir), Some(n), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad(k));
                };
                let direction = Direction::parse(dir).ok_or_else(|| bad(k))?;
                let rule_number: i32 = n.parse().map_err(|_| bad(k))?;
                let (allow, cidr) = match v.strip_prefix(ALLOW_PREFIX) {
                    Some(c) => (true, c),
                    None => (false, v),
                };
                if !is_resource_id("acl-", acl)
                    || !(1..=super::acl_entry::MAX_RULE).contains(&rule_number)
                    || !is_cidr(cidr)
                {
                    return Err(bad(k));
                }
                r.nacl.push(NaclEntry {
                    acl_id: acl.to_owned(),
                    direction,
                    rule_number,
                    cidr: cidr.to_owned(),
                    allow,
                });
            } else if let Some(rest) = k.strip_prefix(TARGET_KEY) {
                let (left, port) = rest.rsplit_once(':').ok_or_else(|| bad(k))?;
                let (_, id) = left.split_once(':').ok_or_else(|| bad(k))?;
                let port = if port.is_empty() {
                    None
                } else {
                    Some(port.parse::<i32>().map_err(|_| bad(k))?)
                };
                if !is_target_group_arn(v) || !is_target_id(id) {
                    return Err(bad(k));
                }
                r.targets.push(Target {
                    target_group_arn: v.to_owned(),
                    id: id.to_owned(),
                    port,
                });
            } else if let Some(eni) = k.strip_prefix(PRIOR_ENI_KEY) {
                let groups: Vec<String> = v
                    .split(' ')
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect();
                if !is_resource_id("eni-", eni) || groups.iter().any(|g| !is_resource_id("sg-", g))
                {
                    return Err(bad(k));
                }
                r.prior_groups.insert(eni.to_owned(), groups);
            } else if k == REVOKED_ROLE_KEY {
                if !is_role_name(v) {
                    return Err(bad(k));
                }
                r.revoked_role = Some(v.to_owned());
            }
        }
        r.nacl.sort();
        r.targets.sort();
        Ok(r)
    }

    pub fn is_empty(&self) -> bool {
        *self == Record::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TG: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef";

    #[test]
    fn round_trips() {
        let nacl = NaclEntry {
            acl_id: "acl-0a1b2c3d4e5f60718".into(),
            direction: Direction::Egress,
            rule_number: 99,
            cidr: "10.0.1.5/32".into(),
            allow: false,
        };
        let sensor = NaclEntry {
            rule_number: 98,
            allow: true,
            ..nacl.clone()
        };
        let v6 = NaclEntry {
            cidr: "2001:db8::5/128".into(),
            direction: Direction::Ingress,
            ..nacl.clone()
        };
        let t = Target {
            target_group_arn: TG.into(),
            id: "2001:db8::5".into(),
            port: Some(8080),
        };
        let groups = vec!["sg-0123456789abcdef0".to_owned(), "sg-0aa11bb2".to_owned()];
        let tags = [
            nacl_tag(&nacl).unwrap(),
            nacl_tag(&v6).unwrap(),
            nacl_tag(&sensor).unwrap(),
            target_tag(&t).unwrap(),
            prior_groups_tag("eni-0a1b2c3d", &groups).unwrap(),
            revoked_role_tag("payments-task").unwrap(),
            ("team".to_owned(), "payments".to_owned()),
        ];
        for (k, v) in &tags {
            assert!(k.len() <= MAX_KEY && v.len() <= MAX_VALUE && tag_safe(k) && tag_safe(v));
        }
        let r = Record::decode(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(r.nacl, vec![v6, sensor, nacl]);
        assert_eq!(r.targets, vec![t]);
        assert_eq!(r.prior_groups["eni-0a1b2c3d"], groups);
        assert_eq!(r.revoked_role.as_deref(), Some("payments-task"));
        assert!(tags.iter().filter(|(k, _)| is_record_key(k)).count() == 6);
    }

    #[test]
    fn rejects_what_it_cannot_trust() {
        for (k, v) in [
            ("guardduty-responder:nacl:acl-zz:ingress:99", "10.0.1.5/32"),
            (
                "guardduty-responder:nacl:acl-0a1b2c3d:sideways:99",
                "10.0.1.5/32",
            ),
            (
                "guardduty-responder:nacl:acl-0a1b2c3d:ingress:32767",
                "10.0.1.5/32",
            ),
            (
                "guardduty-responder:nacl:acl-0a1b2c3d:ingress:99",
                "0.0.0.0",
            ),
            ("guardduty-responder:nacl:acl-0a1b2c3d:ingress:99", "allow="),
            (
                "guardduty-responder:target:web/1:10.0.1.5:80",
                "arn:aws:iam::1:role/x",
            ),
            ("guardduty-responder:prior:eni:eni-0a1b2c3d", "sg-1 ; rm"),
            ("guardduty-responder:revoked-role", "a,b"),
        ] {
            assert!(Record::decode([(k, v)]).is_err(), "{k}={v}");
        }
        assert!(Record::decode([("other", "x")]).unwrap().is_empty());
    }
}
