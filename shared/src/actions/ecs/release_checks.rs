//! Pure judge of a task's record at release: the ids it names must be the task's own.
//! The task's tags can be written by anyone allowed `ecs:TagResource` (credentials stolen
//! before isolation, too); unchecked, a rewritten record would delete DENY entries that
//! isolate another task or hold a network-wide rule, or register an address of the
//! attacker's choosing behind a load balancer. Any violation refuses the whole release
//! before anything is changed.

use super::evidence::TaskView;
use super::network_acl::host_cidr;
use super::record::Record;

/// Every way the record is not bound to the task (empty: it is). `task_acls` are the
/// network ACLs of the task's VPC (`None`: the task is gone or has no subnet of its own).
pub(crate) fn binding_violations(
    record: &Record,
    view: Option<&TaskView>,
    task_acls: Option<&[String]>,
) -> Vec<String> {
    let mut out = Vec::new();
    // A stopped task may no longer show its address: then only the ACL's record counts.
    let view = view.filter(|v| v.running() || !v.addresses().is_empty());
    let own: Vec<String> = view
        .map(|v| v.addresses().iter().filter_map(|a| host_cidr(a)).collect())
        .unwrap_or_default();
    for e in &record.nacl {
        let label = e.label();
        match (view, task_acls) {
            // Gone from ECS: the entries come from the ACL's own tag (bound to that ACL);
            // still, only single-host DENYs are ever removed.
            (None, _) => {
                if !(e.cidr.ends_with("/32") || e.cidr.ends_with("/128")) {
                    out.push(format!("{label}: not a single address"));
                }
            }
            (Some(_), None) => out.push(format!(
                "{label}: the task has no subnet (and network ACL) of its own"
            )),
            (Some(_), Some(acls)) => {
                if !acls.contains(&e.acl_id) {
                    out.push(format!("{label}: not a network ACL of the task's VPC"));
                }
                if !own.contains(&e.cidr) {
                    out.push(format!("{label}: not the task's own address"));
                }
            }
        }
    }
    if let Some(v) = view {
        let addresses = v.addresses();
        for t in &record.targets {
            if !addresses.contains(&t.id) {
                out.push(format!(
                    "target {} in {} is not the task's own address",
                    t.id,
                    t.target_group_arn
                        .rsplit(":targetgroup/")
                        .next()
                        .unwrap_or("?")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ecs::network_acl::Direction;
    use crate::actions::ecs::record::{NaclEntry, Target};

    const ACL: &str = "acl-0123456789abcdef0";

    fn view() -> TaskView {
        TaskView {
            arn: "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"
                .into(),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            launch_type: Some("FARGATE".into()),
            task_definition_arn: None,
            container_instance_arn: None,
            group: None,
            eni_id: Some("eni-0123456789abcdef0".into()),
            subnet_id: Some("subnet-0123456789abcdef0".into()),
            private_ipv4: Some("10.0.1.5".into()),
            ipv6: vec![],
            task_role_override: None,
            tags: Default::default(),
            evidence: serde_json::Value::Null,
        }
    }

    fn record(acl: &str, cidr: &str, target: &str) -> Record {
        Record {
            nacl: vec![NaclEntry {
                acl_id: acl.into(),
                direction: Direction::Ingress,
                rule_number: 99,
                cidr: cidr.into(),
                allow: false,
            }],
            targets: vec![Target {
                target_group_arn:
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
                        .into(),
                id: target.into(),
                port: Some(80),
            }],
            ..Record::default()
        }
    }

    #[test]
    fn the_tasks_own_entries_and_targets_pass() {
        let r = record(ACL, "10.0.1.5/32", "10.0.1.5");
        assert_eq!(
            binding_violations(&r, Some(&view()), Some(&[ACL.to_owned()])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn another_acl_another_cidr_or_another_target_is_refused() {
        let v = view();
        let other_acl = record("acl-0fffffffffffffff0", "10.0.1.5/32", "10.0.1.5");
        assert_eq!(
            binding_violations(&other_acl, Some(&v), Some(&[ACL.to_owned()])).len(),
            1
        );
        let other_cidr = record(ACL, "0.0.0.0/0", "10.0.1.5");
        assert_eq!(
            binding_violations(&other_cidr, Some(&v), Some(&[ACL.to_owned()])).len(),
            1
        );
        let other_target = record(ACL, "10.0.1.5/32", "10.0.9.9");
        let found = binding_violations(&other_target, Some(&v), Some(&[ACL.to_owned()]));
        assert!(
            found.len() == 1 && found[0].contains("10.0.9.9"),
            "{found:?}"
        );
        assert_eq!(binding_violations(&other_cidr, Some(&v), None).len(), 1);
    }

    /// A forged record naming a sensor-link ALLOW is bound like a DENY: release deletes only
    /// an ALLOW of the task's own address, never another workload's opening.
    #[test]
    fn a_forged_sensor_allow_for_another_address_is_refused() {
        let mut forged = record(ACL, "10.0.2.7/32", "10.0.1.5");
        forged.nacl[0].allow = true;
        let found = binding_violations(&forged, Some(&view()), Some(&[ACL.to_owned()]));
        assert!(
            found.len() == 1 && found[0].contains("sensor-link ALLOW"),
            "{found:?}"
        );
        let mut own = record(ACL, "10.0.1.5/32", "10.0.1.5");
        own.nacl[0].allow = true;
        assert!(binding_violations(&own, Some(&view()), Some(&[ACL.to_owned()])).is_empty());
    }

    #[test]
    fn without_the_task_only_single_host_entries_are_removed() {
        let r = record(ACL, "10.0.1.5/32", "10.0.1.5");
        assert!(binding_violations(&r, None, None).is_empty());
        let wide = record(ACL, "10.0.0.0/16", "10.0.1.5");
        assert_eq!(binding_violations(&wide, None, None).len(), 1);
    }
}
