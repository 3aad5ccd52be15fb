//! What is contained right now: the responder's own records, read back from every surface
//! (EC2 instance tags, ECS task and network-ACL tags, EKS NetworkPolicies and pod
//! annotations), as one typed list with the exact release command of each resource.
//!
//! Records are attacker-adjacent: a workload may have been able to tag or label itself
//! before it was contained. Every identifier is validated before it is shown or put in a
//! command ([`records`]); a record whose seal does not verify is shown as such
//! ([`RecordCheck`]), never trusted silently.

pub mod read_aws;
pub mod read_eks;
pub mod records;
pub mod reminder;
pub mod table;

#[cfg(feature = "lambda")]
pub mod function;
#[cfg(feature = "lambda")]
pub mod scope;

use crate::classify::Surface;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// Whether a record's seal (`actions/ec2/record_mac.rs`, `actions/ecs/record_seal.rs`)
/// vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum RecordCheck {
    /// The seal verified with the configured KMS key.
    Verified,
    /// Nothing could vouch for it: no key configured, a surface without seals (EKS), or
    /// KMS could not be asked. Shown as unverified, not refused.
    Unverified(String),
    /// A key is configured and the seal is absent or wrong: edited after containment.
    Invalid(String),
}

impl RecordCheck {
    pub fn label(&self) -> String {
        match self {
            RecordCheck::Verified => "verified".into(),
            RecordCheck::Unverified(why) => format!("unverified ({why})"),
            RecordCheck::Invalid(why) => format!("INVALID ({why})"),
        }
    }
}

/// One contained resource. Every string field holds a validated identifier (or a value
/// bounded and restricted by [`records`]); renderers still escape them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contained {
    #[serde(serialize_with = "surface_name")]
    pub surface: Surface,
    /// Instance id, task ARN (or `task/<id>` for an ACL-only record), `namespace/pod`.
    pub resource: String,
    /// The ECS or EKS cluster.
    pub cluster: Option<String>,
    pub account: String,
    pub region: String,
    /// `None`: absent or not a GuardDuty finding id.
    pub finding_id: Option<String>,
    pub finding_type: Option<String>,
    /// `quarantined` or `quarantine-incomplete` (EC2, ECS); `quarantined` for EKS.
    pub status: String,
    /// `None`: absent, unreadable or in the future (a forged time is not believed).
    pub contained_at: Option<DateTime<Utc>>,
    pub record: RecordCheck,
    /// `None` where no command can be built (e.g. an ACL record of a task ECS forgot).
    pub release_command: Option<String>,
    /// What the reader noticed (malformed or refused tags), short and escaped on output.
    pub notes: Vec<String>,
}

fn surface_name<S: serde::Serializer>(s: &Surface, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

impl Contained {
    /// How long it has been contained at `now`; `None` when the time is unknown.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        (now - self.contained_at?).to_std().ok()
    }

    /// At least `min` old. An unknown age counts as old: a quarantine whose time tag was
    /// removed or forged must not drop out of the reminder.
    pub fn is_older_than(&self, min: Duration, now: DateTime<Utc>) -> bool {
        self.age(now).is_none_or(|a| a >= min)
    }
}

/// Why part of the inventory could not be read (the rest is still listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadError {
    pub surface: &'static str,
    pub account: String,
    pub region: String,
    /// The cluster, for EKS.
    pub scope: Option<String>,
    pub error: String,
}

/// Everything read, oldest first, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inventory {
    pub contained: Vec<Contained>,
    pub errors: Vec<ReadError>,
}

impl Inventory {
    pub fn extend(&mut self, other: Inventory) {
        self.contained.extend(other.contained);
        self.errors.extend(other.errors);
    }

    /// Oldest first (unknown times first of all), then by resource: a stable order.
    pub fn sort(&mut self) {
        self.contained.sort_by(|a, b| {
            a.contained_at
                .cmp(&b.contained_at)
                .then_with(|| a.account.cmp(&b.account))
                .then_with(|| a.region.cmp(&b.region))
                .then_with(|| a.resource.cmp(&b.resource))
        });
    }

    /// Only what is at least `min` old at `now` (unknown ages included).
    pub fn older_than(mut self, min: Duration, now: DateTime<Utc>) -> Inventory {
        self.contained.retain(|c| c.is_older_than(min, now));
        self
    }
}

/// `30d`, `12h`, `90m`: the `--older-than` and reminder ages.
pub fn parse_age(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{:?} is not an age like 30d, 12h or 90m", ascii(v)))?;
    let secs = match unit {
        "d" => 86_400,
        "h" | "" => 3_600,
        "m" => 60,
        _ => return Err(format!("{:?}: the unit is d, h or m", ascii(v))),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{:?} is too long", ascii(v)))
}

fn ascii(v: &str) -> String {
    crate::sanitize::ascii_line(v, 40)
}

/// `3d 4h`, `5h 12m`, `7m`: an age as people read it.
pub fn human_age(age: Option<Duration>) -> String {
    let Some(age) = age else {
        return "unknown".into();
    };
    let m = age.as_secs() / 60;
    let (d, h, m) = (m / 1440, (m / 60) % 24, m % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn contained(t: Option<&str>) -> Contained {
        Contained {
            surface: Surface::Ec2,
            resource: "i-0123456789abcdef0".into(),
            cluster: None,
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            finding_id: None,
            finding_type: None,
            status: "quarantined".into(),
            contained_at: t.map(at),
            record: RecordCheck::Verified,
            release_command: None,
            notes: vec![],
        }
    }

    #[test]
    fn ages_parse_and_read_back() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_age("24"), Ok(Duration::from_secs(24 * 3_600)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(90 * 60)));
        for bad in ["", "h", "3w", "-1d", "1.5h", "99999999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
        assert_eq!(human_age(Some(Duration::from_secs(7 * 60))), "7m");
        assert_eq!(
            human_age(Some(Duration::from_secs(5 * 3600 + 720))),
            "5h 12m"
        );
        assert_eq!(
            human_age(Some(Duration::from_secs(3 * 86_400 + 4 * 3600))),
            "3d 4h"
        );
        assert_eq!(human_age(None), "unknown");
    }

    #[test]
    fn the_age_filter_keeps_old_and_unknown_and_drops_young() {
        let now = at("2026-11-30T12:00:00Z");
        let old = contained(Some("2026-11-28T12:00:00Z"));
        let young = contained(Some("2026-11-30T11:00:00Z"));
        let unknown = contained(None);
        let inv = Inventory {
            contained: vec![old.clone(), young, unknown.clone()],
            errors: vec![],
        };
        let kept = inv
            .older_than(Duration::from_secs(24 * 3600), now)
            .contained;
        assert_eq!(kept, vec![old.clone(), unknown]);
        assert_eq!(old.age(now), Some(Duration::from_secs(2 * 86_400)));
    }
}
