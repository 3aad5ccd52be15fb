//! The ACL entries added for a task, recorded a second time on the network ACL itself, so
//! release still finds them once ECS has forgotten the stopped task (about an hour after it
//! stops, `DescribeTasks` answers `MISSING` and the task's tags are gone with it). Pure.
//!
//! One EC2 tag per task on its subnet's ACL:
//!
//! | key | value |
//! |---|---|
//! | `guardduty-responder:task:<task-id>` | `i99=10.0.1.5/32 e99=10.0.1.5/32 I98=10.0.1.5/32` (`i`ngress/`e`gress DENY, upper case for the sensor link's ALLOW; rule number, CIDR) |
//!
//! EC2 tag keys are at most 128 characters, values 256; an ACL holds at most 50 tags, so
//! at most 50 tasks isolated in one subnet at once keep this second record (the record on
//! the task still works). Anyone allowed `ec2:CreateTags` on the ACL can write the tag, so
//! decoding validates every part, like [`super::record`].

use super::network_acl::{Direction, MAX_RULE};
use super::record::{NaclEntry, RecordError};
use crate::actions::ec2::prior_state::is_resource_id;

pub const ACL_TASK_KEY: &str = "guardduty-responder:task:";
pub const MAX_VALUE: usize = 256;

/// The task id of a task ARN (`…:task/<cluster>/<id>` or the old `…:task/<id>`).
pub fn task_id(task_arn: &str) -> Option<&str> {
    let id = task_arn.rsplit('/').next()?;
    ((1..=64).contains(&id.len())
        && task_arn.contains(":task/")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then_some(id)
}

/// The tag key naming a task on its ACL.
pub fn key(task_id: &str) -> String {
    format!("{ACL_TASK_KEY}{task_id}")
}

fn letter(e: &NaclEntry) -> char {
    let l = match e.direction {
        Direction::Ingress => 'i',
        Direction::Egress => 'e',
    };
    if e.allow { l.to_ascii_uppercase() } else { l }
}

fn cidr_ok(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<std::net::IpAddr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 128)
    })
}

/// The tag for `entries` (all in one ACL) of the task `task_id`.
pub fn encode(task_id: &str, entries: &[NaclEntry]) -> Result<(String, String), RecordError> {
    let mut sorted: Vec<&NaclEntry> = entries.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut parts = Vec::with_capacity(sorted.len());
    for e in sorted {
        if !is_resource_id("acl-", &e.acl_id)
            || !cidr_ok(&e.cidr)
            || !(1..=MAX_RULE).contains(&e.rule_number)
            || e.acl_id != entries[0].acl_id
        {
            return Err(RecordError(format!("cannot record {e:?} on the ACL")));
        }
        parts.push(format!("{}{}={}", letter(e), e.rule_number, e.cidr));
    }
    let value = parts.join(" ");
    if value.len() > MAX_VALUE {
        return Err(RecordError(format!(
            "{} entries do not fit in one ACL tag value",
            parts.len()
        )));
    }
    Ok((key(task_id), value))
}

/// The entries recorded in the ACL tag `value` of ACL `acl_id`.
pub fn decode(acl_id: &str, value: &str) -> Result<Vec<NaclEntry>, RecordError> {
    let bad = |p: &str| RecordError(format!("malformed ACL record {p:?} on {acl_id}"));
    if !is_resource_id("acl-", acl_id) {
        return Err(bad(acl_id));
    }
    let mut out = Vec::new();
    for p in value.split(' ').filter(|p| !p.is_empty()) {
        let (head, cidr) = p.split_once('=').ok_or_else(|| bad(p))?;
        let (direction, allow) = match head.chars().next() {
            Some('i') => (Direction::Ingress, false),
            Some('e') => (Direction::Egress, false),
            Some('I') => (Direction::Ingress, true),
            Some('E') => (Direction::Egress, true),
            _ => return Err(bad(p)),
        };
        let rule_number: i32 = head[1..].parse().map_err(|_| bad(p))?;
        if !(1..=MAX_RULE).contains(&rule_number) || !cidr_ok(cidr) {
            return Err(bad(p));
        }
        out.push(NaclEntry {
            acl_id: acl_id.to_owned(),
            direction,
            rule_number,
            cidr: cidr.to_owned(),
            allow,
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(d: Direction, n: i32, cidr: &str) -> NaclEntry {
        NaclEntry {
            acl_id: "acl-0a1b2c3d4e5f60718".into(),
            direction: d,
            rule_number: n,
            cidr: cidr.into(),
            allow: false,
        }
    }

    #[test]
    fn task_ids_from_arns() {
        assert_eq!(
            task_id(
                "arn:aws:ecs:us-east-1:123456789012:task/payments/aba70dbaf5a217051a0640119db21c57"
            ),
            Some("aba70dbaf5a217051a0640119db21c57")
        );
        assert_eq!(
            task_id("arn:aws:ecs:us-east-1:123456789012:task/4f8a3c2e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"),
            Some("4f8a3c2e-1b2d-4e5f-8a9b-0c1d2e3f4a5b")
        );
        assert_eq!(task_id("arn:aws:ecs:us-east-1:1:service/x/y"), None);
        assert_eq!(task_id("arn:aws:ecs:us-east-1:1:task/x/a b"), None);
    }

    #[test]
    fn round_trips_within_the_limits() {
        let entries = vec![
            entry(Direction::Ingress, 99, "10.0.1.5/32"),
            entry(Direction::Egress, 99, "10.0.1.5/32"),
            NaclEntry {
                allow: true,
                ..entry(Direction::Ingress, 97, "10.0.1.5/32")
            },
            entry(
                Direction::Ingress,
                98,
                "2001:db8:1234:5678:9abc:def0:1234:5678/128",
            ),
            entry(
                Direction::Egress,
                32766,
                "2001:db8:1234:5678:9abc:def0:1234:5678/128",
            ),
        ];
        let id = "aba70dbaf5a217051a0640119db21c57";
        let (k, v) = encode(id, &entries).unwrap();
        assert!(k.len() <= 128 && v.len() <= MAX_VALUE, "{k} {v}");
        assert_eq!(k, format!("{ACL_TASK_KEY}{id}"));
        let mut want = entries.clone();
        want.sort();
        assert_eq!(decode("acl-0a1b2c3d4e5f60718", &v).unwrap(), want);
    }

    #[test]
    fn refuses_what_it_cannot_record_or_trust() {
        let other_acl = NaclEntry {
            acl_id: "acl-11112222".into(),
            ..entry(Direction::Egress, 99, "10.0.1.5/32")
        };
        assert!(
            encode(
                "t",
                &[entry(Direction::Ingress, 99, "10.0.1.5/32"), other_acl]
            )
            .is_err()
        );
        assert!(encode("t", &[entry(Direction::Ingress, 99, "10.0.1.5")]).is_err());
        let many: Vec<NaclEntry> = (1..40)
            .map(|n| entry(Direction::Ingress, n, "2001:db8::5/128"))
            .collect();
        assert!(encode("t", &many).is_err(), "over 256 characters");
        for v in [
            "x99=10.0.1.5/32",
            "A99=10.0.1.5/32",
            "i0=10.0.1.5/32",
            "i99=10.0.1.5",
            "i99",
            "iab=1.2.3.4/32",
            "i32767=1.2.3.4/32",
        ] {
            assert!(decode("acl-0a1b2c3d", v).is_err(), "{v}");
        }
        assert!(decode("acl-zz", "i99=10.0.1.5/32").is_err());
        assert!(decode("acl-0a1b2c3d", "").unwrap().is_empty());
    }
}
