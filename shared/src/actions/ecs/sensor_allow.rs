//! The network-ACL method's way out for GuardDuty's sensor. Pure.
//!
//! The task's DENY entries sit in every network ACL of its VPC, the one guarding the
//! `guardduty-data` endpoint's subnets too, which would cut the Runtime agent's telemetry.
//! In the ACLs of the subnets holding a kept endpoint (other than the task's own subnet,
//! whose traffic crosses no ACL), two ALLOW entries for the task's address go just ahead
//! of its DENYs:
//!
//! | direction | CIDR | tcp ports | why |
//! |---|---|---|---|
//! | ingress | task `/32` | 443 | the agent's HTTPS into the endpoint's subnet |
//! | egress | task `/32` | 1024–65535 | the endpoint's replies back to the agent |
//!
//! An ACL rule names one address: the source inbound, the destination outbound. So the
//! task can reach tcp 443 of anything in the endpoint's subnets, not only the endpoint:
//! keep interface endpoints in subnets of their own, as AWS recommends
//! (docs/containment-limits.md). A connection to the task from there still fails: its
//! answer is not tcp 443 inbound. IPv4 only, like the endpoint addresses we discover.

pub use super::acl_entry::{TCP, allow_ports as ports};
use super::network_acl::{AclEntry, Direction};
use std::collections::BTreeSet;

/// Whether the ACL guarding `acl_subnets` needs the ALLOWs: it guards a subnet holding
/// one of the kept endpoints (`endpoint_subnets`) other than the task's own.
pub fn needed(
    acl_subnets: &[String],
    endpoint_subnets: &BTreeSet<String>,
    own_subnet: Option<&str>,
) -> bool {
    acl_subnets
        .iter()
        .any(|s| endpoint_subnets.contains(s) && Some(s.as_str()) != own_subnet)
}

/// The task's addresses that get an ALLOW (IPv4 host CIDRs).
pub fn cidrs(task_cidrs: &[String]) -> Vec<String> {
    task_cidrs
        .iter()
        .filter(|c| c.ends_with("/32"))
        .cloned()
        .collect()
}

/// An existing sensor ALLOW of `direction` for `cidr` ahead of the deny at `deny`.
pub fn existing(entries: &[AclEntry], direction: Direction, cidr: &str, deny: i32) -> Option<i32> {
    entries
        .iter()
        .filter(|e| e.direction == direction && e.allow && e.rule_number < deny)
        .filter(|e| e.cidr.as_deref() == Some(cidr) && e.protocol.as_deref() == Some(TCP))
        .filter(|e| e.ports == Some(ports(direction)))
        .map(|e| e.rule_number)
        .max()
}

#[cfg(test)]
mod tests {
    use super::super::network_acl::{
        DEFAULT_RULE, allocate as allocate_deny, existing_deny, free_below,
    };
    use super::*;

    const TASK: &str = "10.0.1.5/32";

    fn entry(n: i32, d: Direction, allow: bool, cidr: &str, ports: Option<(i32, i32)>) -> AclEntry {
        AclEntry {
            rule_number: n,
            direction: d,
            allow,
            cidr: Some(cidr.into()),
            protocol: Some(if ports.is_some() { TCP } else { "-1" }.into()),
            ports,
        }
    }

    /// The default ACL after one containment: the deny at 99, the sensor allow at 98.
    fn contained() -> Vec<AclEntry> {
        let mut v = Vec::new();
        for d in Direction::BOTH {
            v.push(entry(100, d, true, "0.0.0.0/0", None));
            v.push(entry(DEFAULT_RULE, d, false, "0.0.0.0/0", None));
            v.push(entry(99, d, false, TASK, None));
            v.push(entry(98, d, true, TASK, Some(ports(d))));
        }
        v
    }

    #[test]
    fn the_allow_goes_just_ahead_of_the_deny() {
        let acl = contained();
        for d in Direction::BOTH {
            assert_eq!(existing(&acl, d, TASK, 99), Some(98));
            assert_eq!(free_below(&acl, d, 99, &[]), Some(97));
            assert_eq!(free_below(&acl, d, 99, &[97]), Some(96));
        }
        assert_eq!(free_below(&acl, Direction::Ingress, 1, &[]), None);
    }

    #[test]
    fn a_redelivery_still_finds_the_deny_behind_the_allow() {
        let acl = contained();
        // The allow for this address does not bound the deny's search...
        assert_eq!(existing_deny(&acl, Direction::Ingress, TASK), Some(99));
        assert_eq!(allocate_deny(&acl, Direction::Egress, TASK, &[99]), Ok(97));
        // ...but an allow for another address still does.
        let mut other = acl.clone();
        other.push(entry(50, Direction::Ingress, true, "10.0.0.0/8", None));
        assert_eq!(existing_deny(&other, Direction::Ingress, TASK), None);
    }

    #[test]
    fn only_the_exact_rule_counts_as_the_allow() {
        let mut acl = contained();
        acl.retain(|e| !(e.allow && e.rule_number == 98));
        // All ports, the wrong range, or behind the deny: not the sensor's allow.
        acl.push(entry(97, Direction::Ingress, true, TASK, None));
        acl.push(entry(96, Direction::Ingress, true, TASK, Some((1, 65535))));
        acl.push(entry(120, Direction::Ingress, true, TASK, Some((443, 443))));
        assert_eq!(existing(&acl, Direction::Ingress, TASK, 99), None);
        assert_eq!(existing(&acl, Direction::Egress, TASK, 99), None);
    }

    #[test]
    fn only_endpoint_subnets_other_than_the_tasks_own() {
        let eps = BTreeSet::from(["subnet-e".to_owned(), "subnet-t".to_owned()]);
        assert!(needed(&["subnet-e".into()], &eps, Some("subnet-t")));
        assert!(!needed(&["subnet-t".into()], &eps, Some("subnet-t")));
        assert!(!needed(&["subnet-x".into()], &eps, Some("subnet-t")));
        assert!(!needed(&[], &eps, None));
        assert_eq!(
            cidrs(&["10.0.1.5/32".into(), "2001:db8::5/128".into()]),
            ["10.0.1.5/32"]
        );
    }
}
