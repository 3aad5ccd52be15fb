//! Unit tests of the network-ACL allocation (pure).

use super::*;

fn e(n: i32, d: Direction, allow: bool, cidr: &str) -> AclEntry {
    AclEntry {
        rule_number: n,
        direction: d,
        allow,
        cidr: Some(cidr.into()),
        protocol: Some("-1".into()),
        ports: None,
    }
}

fn default_acl() -> Vec<AclEntry> {
    let mut v = Vec::new();
    for d in Direction::BOTH {
        v.push(e(100, d, true, "0.0.0.0/0"));
        v.push(e(DEFAULT_RULE, d, false, "0.0.0.0/0"));
    }
    v
}

#[test]
fn takes_the_highest_free_number_ahead_of_the_first_allow() {
    let acl = default_acl();
    assert_eq!(
        allocate(&acl, Direction::Ingress, "10.0.9.9/32", &[]),
        Ok(99)
    );
    assert_eq!(
        allocate(&acl, Direction::Egress, "10.0.9.9/32", &[]),
        Ok(99)
    );
    assert_eq!(
        allocate(&acl, Direction::Ingress, "10.0.9.9/32", &[99]),
        Ok(98)
    );
    let mut more = acl.clone();
    more.push(e(99, Direction::Ingress, false, "10.0.1.5/32"));
    more.push(e(98, Direction::Ingress, false, "10.0.1.6/32"));
    more.push(e(50, Direction::Ingress, true, "10.0.0.0/8"));
    assert_eq!(
        allocate(&more, Direction::Ingress, "10.0.9.9/32", &[]),
        Ok(49)
    );
    // The other direction's numbers do not count.
    assert_eq!(
        allocate(&more, Direction::Egress, "10.0.9.9/32", &[]),
        Ok(99)
    );
}

#[test]
fn without_allow_rules_the_default_rule_bounds_it() {
    let acl = vec![e(DEFAULT_RULE, Direction::Egress, false, "0.0.0.0/0")];
    assert_eq!(
        allocate(&acl, Direction::Egress, "10.0.9.9/32", &[]),
        Ok(MAX_RULE)
    );
    assert_eq!(
        allocate(&[], Direction::Ingress, "10.0.9.9/32", &[]),
        Ok(MAX_RULE)
    );
}

#[test]
fn a_full_acl_is_a_clear_error() {
    let mut acl = vec![e(4, Direction::Ingress, true, "0.0.0.0/0")];
    for n in 1..4 {
        acl.push(e(n, Direction::Ingress, false, "192.0.2.1/32"));
    }
    let err = allocate(&acl, Direction::Ingress, "10.0.9.9/32", &[]).unwrap_err();
    assert_eq!(
        err,
        AclFull {
            direction: Direction::Ingress,
            first_allow: 4
        }
    );
    assert!(err.to_string().contains("full"), "{err}");
    let first = vec![e(1, Direction::Egress, true, "0.0.0.0/0")];
    assert!(allocate(&first, Direction::Egress, "10.0.9.9/32", &[]).is_err());
    // Numbers taken earlier in this run count too.
    let two = vec![e(3, Direction::Egress, true, "0.0.0.0/0")];
    assert!(allocate(&two, Direction::Egress, "10.0.9.9/32", &[1, 2]).is_err());
}

#[test]
fn finds_an_existing_deny_only_ahead_of_the_allows() {
    let mut acl = default_acl();
    assert_eq!(existing_deny(&acl, Direction::Ingress, "10.0.1.5/32"), None);
    acl.push(e(99, Direction::Ingress, false, "10.0.1.5/32"));
    acl.push(e(200, Direction::Egress, false, "10.0.1.5/32"));
    assert_eq!(
        existing_deny(&acl, Direction::Ingress, "10.0.1.5/32"),
        Some(99)
    );
    // Behind the allow at 100: it denies nothing.
    assert_eq!(existing_deny(&acl, Direction::Egress, "10.0.1.5/32"), None);
    assert_eq!(existing_deny(&acl, Direction::Ingress, "10.0.1.6/32"), None);
}

#[test]
fn host_cidrs() {
    assert_eq!(host_cidr("10.0.1.5").as_deref(), Some("10.0.1.5/32"));
    assert_eq!(host_cidr("2001:db8::5").as_deref(), Some("2001:db8::5/128"));
    assert_eq!(host_cidr("10.0.1.5/32"), None);
}
