//! Unit tests of `isolation_groups.rs`.

use super::*;
use crate::actions::ec2::isolation_rules::{ANY_V4, allows_all};
use crate::actions::ec2::sensor_link;
use aws_sdk_ec2::types::IpRange;

#[test]
fn conversion_gets_only_what_is_missing() {
    let fix = plan_fix(Role::Conversion, &[], &[all_traffic(true, false)], &none());
    assert_eq!(fix.authorize_ingress, Some(all_traffic(true, true)));
    assert_eq!(fix.authorize_egress, Some(all_traffic(false, true)));
    assert!(fix.revoke_egress.is_empty() && fix.revoke_ingress.is_empty());
    let complete = [all_traffic(true, true)];
    assert!(plan_fix(Role::Conversion, &complete, &complete, &none()).is_empty());
}

#[test]
fn no_rules_revokes_everything_observed() {
    let extra = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .ip_ranges(IpRange::builder().cidr_ip("198.51.100.0/24").build())
        .build();
    let fix = plan_fix(
        Role::NoRules,
        std::slice::from_ref(&extra),
        &[all_traffic(true, false)],
        &none(),
    );
    assert_eq!(fix.revoke_ingress, vec![extra]);
    assert_eq!(fix.revoke_egress, vec![all_traffic(true, false)]);
    assert!(plan_fix(Role::NoRules, &[], &[], &none()).is_empty());
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

fn https_to(cidrs: &[&str]) -> IpPermission {
    let keep: BTreeSet<String> = cidrs.iter().map(|c| c.to_string()).collect();
    sensor_link::egress_permissions(&keep).remove(0)
}

#[test]
fn no_rules_keeps_only_https_to_the_endpoints() {
    let keep: BTreeSet<String> = ["10.0.1.9/32".to_owned()].into();
    // A fresh group: the default egress goes, the endpoint rule comes.
    let fix = plan_fix(Role::NoRules, &[], &[all_traffic(true, false)], &keep);
    assert_eq!(fix.revoke_egress, vec![all_traffic(true, false)]);
    assert_eq!(fix.authorize_egress, Some(https_to(&["10.0.1.9/32"])));
    // Converged: nothing to do.
    let done = [https_to(&["10.0.1.9/32"])];
    assert!(plan_fix(Role::NoRules, &[], &done, &keep).is_empty());
    // A stale endpoint address next to the live one: only the stale one is revoked.
    let stale = [https_to(&["10.0.1.9/32", "10.0.3.3/32"])];
    let fix = plan_fix(Role::NoRules, &[], &stale, &keep);
    assert_eq!(fix.authorize_egress, None);
    assert_eq!(fix.revoke_egress.len(), 1);
    let revoked: Vec<_> = fix.revoke_egress[0]
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .collect();
    assert_eq!(revoked, ["10.0.3.3/32"]);
    // No endpoint any more: the rule goes.
    let fix = plan_fix(Role::NoRules, &[], &done, &none());
    assert_eq!(fix.revoke_egress, done.to_vec());
    // The same address on another port is not the sensor link.
    let ssh = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.1.9/32").build())
        .build();
    let fix = plan_fix(Role::NoRules, &[], std::slice::from_ref(&ssh), &keep);
    assert_eq!(fix.revoke_egress, vec![ssh]);
    assert!(fix.authorize_egress.is_some());
}

#[test]
fn a_port_range_rule_is_not_all_traffic() {
    let tcp = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(0)
        .to_port(65535)
        .ip_ranges(IpRange::builder().cidr_ip(ANY_V4).build())
        .build();
    assert!(!allows_all(&[tcp], ANY_V4));
}
