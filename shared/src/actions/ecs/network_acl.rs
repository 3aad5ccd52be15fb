//! In-place network containment of a task whose ENI's groups cannot be changed (Fargate):
//! DENY entries for the task's address (`/32`, `/128`) in the network ACLs of its VPC
//! (see [`super::vpc_deny`] for why not only its own subnet's), inbound and outbound, at free rule numbers ahead of the first allow rule. NACLs are
//! stateless, so established flows drop too. Every entry added is recorded on the task
//! (before it is created) so release removes exactly those.
//!
//! The allocation is pure ([`allocate`]); the calls are below it.

pub use super::acl_entry::{DEFAULT_RULE, Direction, MAX_RULE, NaclEntry};
use crate::actions::ec2::observe::{api_error, error_code};
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{Filter, PortRange, RuleAction, Tag};
use std::collections::BTreeMap;

/// One entry of a network ACL, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    pub rule_number: i32,
    pub direction: Direction,
    pub allow: bool,
    /// IPv4 or IPv6 CIDR.
    pub cidr: Option<String>,
    /// The IP protocol number as a string (`-1`: all, `6`: tcp).
    pub protocol: Option<String>,
    /// The destination port range (tcp and udp only).
    pub ports: Option<(i32, i32)>,
}

/// A network ACL and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub id: String,
    pub vpc_id: Option<String>,
    /// The subnets it guards (its associations).
    pub subnets: Vec<String>,
    pub entries: Vec<AclEntry>,
    /// The ACL's tags (the per-task records of [`super::acl_record`] among them).
    pub tags: BTreeMap<String, String>,
}

/// No free rule number ahead of the first allow rule of one direction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no free {direction} rule number ahead of the first allow rule (#{first_allow}): the network ACL is full there"
)]
pub struct AclFull {
    pub direction: Direction,
    pub first_allow: i32,
}

/// Pure: the lowest allow rule of `direction` that counts for the address `cidr`. The
/// sensor link's allows for that very address ([`super::sensor_allow`]) sit ahead of its
/// deny on purpose, so they do not count: a re-delivery still finds the deny behind them.
fn first_allow(entries: &[AclEntry], direction: Direction, cidr: &str) -> i32 {
    entries
        .iter()
        .filter(|e| e.direction == direction && e.allow && e.rule_number <= MAX_RULE)
        .filter(|e| e.cidr.as_deref() != Some(cidr))
        .map(|e| e.rule_number)
        .min()
        .unwrap_or(DEFAULT_RULE)
}

/// Pure: a free rule number of `direction` for denying `cidr`, below the first allow rule,
/// avoiding numbers in use and `taken` (already chosen in this run). Takes the highest such
/// number, so the low numbers people write by hand stay free and the deny sits just ahead
/// of the allows.
pub fn allocate(
    entries: &[AclEntry],
    direction: Direction,
    cidr: &str,
    taken: &[i32],
) -> Result<i32, AclFull> {
    let first_allow = first_allow(entries, direction, cidr);
    free_below(entries, direction, first_allow, taken).ok_or(AclFull {
        direction,
        first_allow,
    })
}

/// Pure: the highest rule number of `direction` below `bound` that neither `entries` nor
/// `taken` uses.
pub fn free_below(
    entries: &[AclEntry],
    direction: Direction,
    bound: i32,
    taken: &[i32],
) -> Option<i32> {
    (1..bound.min(DEFAULT_RULE)).rev().find(|n| {
        !taken.contains(n)
            && !entries
                .iter()
                .any(|e| e.direction == direction && e.rule_number == *n)
    })
}

/// Pure: an existing DENY of `direction` for exactly `cidr`, ahead of every allow rule.
pub fn existing_deny(entries: &[AclEntry], direction: Direction, cidr: &str) -> Option<i32> {
    let first_allow = first_allow(entries, direction, cidr);
    entries
        .iter()
        .filter(|e| e.direction == direction && !e.allow && e.rule_number < first_allow)
        .filter(|e| e.cidr.as_deref() == Some(cidr))
        .map(|e| e.rule_number)
        .min()
}

/// The host CIDR of an address (`/32` or `/128`).
pub fn host_cidr(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some(format!("{a}/32")),
        std::net::IpAddr::V6(a) => Some(format!("{a}/128")),
    }
}

fn acl_from(a: &aws_sdk_ec2::types::NetworkAcl) -> Option<Acl> {
    Some(Acl {
        id: a.network_acl_id()?.to_owned(),
        vpc_id: a.vpc_id().map(str::to_owned),
        subnets: a
            .associations()
            .iter()
            .filter_map(|s| s.subnet_id().map(str::to_owned))
            .collect(),
        entries: a
            .entries()
            .iter()
            .filter_map(|e| {
                Some(AclEntry {
                    rule_number: e.rule_number()?,
                    direction: if e.egress()? {
                        Direction::Egress
                    } else {
                        Direction::Ingress
                    },
                    allow: e.rule_action() == Some(&RuleAction::Allow),
                    cidr: e.cidr_block().or(e.ipv6_cidr_block()).map(str::to_owned),
                    protocol: e.protocol().map(str::to_owned),
                    ports: e.port_range().and_then(|p| Some((p.from()?, p.to()?))),
                })
            })
            .collect(),
        tags: a
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect(),
    })
}

/// The network ACL associated with `subnet_id`.
pub(crate) async fn acl_of_subnet(ec2: &Ec2Client, subnet_id: &str) -> Result<Acl, String> {
    let out = ec2
        .describe_network_acls()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(subnet_id)
                .build(),
        )
        .send()
        .await
        .map_err(|e| api_error("DescribeNetworkAcls", &e))?;
    out.network_acls()
        .iter()
        .find_map(acl_from)
        .ok_or_else(|| format!("no network ACL is associated with {subnet_id}"))
}

/// Every network ACL of `vpc_id` (where a task's address is denied).
pub(crate) async fn acls_of_vpc(ec2: &Ec2Client, vpc_id: &str) -> Result<Vec<Acl>, String> {
    let out = ec2
        .describe_network_acls()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await
        .map_err(|e| api_error("DescribeNetworkAcls", &e))?;
    Ok(out.network_acls().iter().filter_map(acl_from).collect())
}

/// Network ACLs by id (release).
pub(crate) async fn acls_by_id(ec2: &Ec2Client, ids: &[String]) -> Result<Vec<Acl>, String> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let out = ec2
        .describe_network_acls()
        .set_network_acl_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|e| api_error("DescribeNetworkAcls", &e))?;
    Ok(out.network_acls().iter().filter_map(acl_from).collect())
}

/// Network ACLs carrying the tag key `key` (release of a task ECS no longer knows).
pub(crate) async fn acls_tagged(ec2: &Ec2Client, key: &str) -> Result<Vec<Acl>, String> {
    let out = ec2
        .describe_network_acls()
        .filters(Filter::builder().name("tag-key").values(key).build())
        .send()
        .await
        .map_err(|e| api_error("DescribeNetworkAcls", &e))?;
    Ok(out.network_acls().iter().filter_map(acl_from).collect())
}

/// Writes `tags` on the ACL in one `CreateTags` (a record and its seal land together).
pub(crate) async fn tag(
    ec2: &Ec2Client,
    acl_id: &str,
    tags: &[(String, String)],
) -> Result<(), String> {
    ec2.create_tags()
        .resources(acl_id)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("CreateTags", &e))
}

pub(crate) async fn untag(ec2: &Ec2Client, acl_id: &str, keys: &[String]) -> Result<(), String> {
    ec2.delete_tags()
        .resources(acl_id)
        .set_tags(Some(
            keys.iter().map(|k| Tag::builder().key(k).build()).collect(),
        ))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("DeleteTags", &e))
}

/// Why an entry could not be created.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CreateError {
    /// Another writer took the number between our read and our write: re-read and retry.
    NumberTaken,
    Other(String),
}

/// Creates `entry`: a DENY of all traffic, or the sensor link's tcp ALLOW.
pub(crate) async fn create_entry(ec2: &Ec2Client, entry: &NaclEntry) -> Result<(), CreateError> {
    let acl_id = entry.acl_id.as_str();
    let mut req = ec2
        .create_network_acl_entry()
        .network_acl_id(acl_id)
        .rule_number(entry.rule_number)
        .egress(entry.direction.egress());
    req = if entry.allow {
        let (from, to) = super::acl_entry::allow_ports(entry.direction);
        req.protocol(super::acl_entry::TCP)
            .port_range(PortRange::builder().from(from).to(to).build())
            .rule_action(RuleAction::Allow)
    } else {
        req.protocol("-1").rule_action(RuleAction::Deny)
    };
    let cidr = entry.cidr.as_str();
    req = if cidr.contains(':') {
        req.ipv6_cidr_block(cidr)
    } else {
        req.cidr_block(cidr)
    };
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NetworkAclEntryAlreadyExists") => {
            Err(CreateError::NumberTaken)
        }
        Err(e) if error_code(&e) == Some("NetworkAclEntryLimitExceeded") => {
            Err(CreateError::Other(format!(
                "network ACL {acl_id} is full ({})",
                api_error("CreateNetworkAclEntry", &e)
            )))
        }
        Err(e) => Err(CreateError::Other(api_error("CreateNetworkAclEntry", &e))),
    }
}

pub(crate) async fn delete_entry(
    ec2: &Ec2Client,
    acl_id: &str,
    rule_number: i32,
    direction: Direction,
) -> Result<(), String> {
    ec2.delete_network_acl_entry()
        .network_acl_id(acl_id)
        .rule_number(rule_number)
        .egress(direction.egress())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("DeleteNetworkAclEntry", &e))
}

#[cfg(test)]
#[path = "network_acl_tests.rs"]
mod tests;
