//! The JSON `responder release <surface> --output json` prints under `release` (and, for
//! EKS, at the top level): operators' scripts read these keys, so the shape is a contract.

use super::{ec2, ecs, eks};
use crate::outcome::{ReleaseOutcome, Status};
use serde_json::json;
use std::collections::BTreeMap;

fn json_of(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("serialize")
}

#[test]
fn ec2_release_json_keeps_its_keys() {
    let prior = ec2::PriorState {
        network_interfaces: BTreeMap::from([("eni-1".into(), vec!["sg-1".into()])]),
        termination_protection: Some(false),
        ..Default::default()
    };
    let released = ec2::Released {
        resource: ec2::release::ReleasedInstance {
            instance_id: "i-0123456789abcdef0".into(),
        },
        finding_id: Some("f1".into()),
        executed: false,
        record: ec2::release::ReleaseRecord { prior_state: prior },
        warnings: vec!["unverified".into()],
        outcomes: vec![ReleaseOutcome::new(
            ec2::ReleaseStep::RestoreSecurityGroups,
            "i-0123456789abcdef0",
            Status::Skipped,
            "dry run: would restore",
        )],
    };
    assert_eq!(
        json_of(&released),
        json!({
            "instance_id": "i-0123456789abcdef0",
            "finding_id": "f1",
            "executed": false,
            "prior_state": {
                "network_interfaces": {"eni-1": ["sg-1"]},
                "termination_protection": false,
                "shutdown_behavior": null,
                "delete_on_termination": [],
                "auto_scaling_group": null,
                "elastic_ips": null,
            },
            "warnings": ["unverified"],
            "outcomes": [{
                "kind": "ec2.release.restore_security_groups",
                "target": "i-0123456789abcdef0",
                "status": "skipped",
                "detail": "dry run: would restore",
            }],
        })
    );
}

#[test]
fn ecs_release_json_keeps_its_keys() {
    let released = ecs::Released {
        resource: ecs::release::ReleasedTask {
            cluster: "c".into(),
            task_arn: "arn:aws:ecs:us-east-1:123456789012:task/c/0123".into(),
        },
        finding_id: None,
        executed: true,
        record: ecs::release::ReleaseRecord {
            task_found: false,
            record: ecs::record::Record {
                revoked_role: Some("r".into()),
                ..Default::default()
            },
        },
        warnings: vec![],
        outcomes: vec![ReleaseOutcome::new(
            ecs::ReleaseStep::RemoveTags,
            "t",
            Status::Done,
            "removed",
        )],
    };
    assert_eq!(
        json_of(&released),
        json!({
            "cluster": "c",
            "task_arn": "arn:aws:ecs:us-east-1:123456789012:task/c/0123",
            "finding_id": null,
            "executed": true,
            "task_found": false,
            "record": {"nacl": [], "targets": [], "prior_groups": {}, "revoked_role": "r"},
            "warnings": [],
            "outcomes": [{
                "kind": "ecs.release.remove_tags",
                "target": "t",
                "status": "done",
                "detail": "removed",
            }],
        })
    );
}

#[test]
fn eks_release_json_keeps_its_keys() {
    let released = eks::Released {
        resource: eks::release::ReleasedPod {
            cluster: "c".into(),
            namespace: "ns".into(),
            pod: "p".into(),
        },
        finding_id: Some("f".into()),
        executed: true,
        record: eks::release::ReleaseRecord {
            restored_labels: BTreeMap::from([("app".into(), "web".into())]),
            node: Some("n1".into()),
        },
        warnings: vec![],
        outcomes: vec![ReleaseOutcome::new(
            eks::ReleaseStep::DeletePolicy,
            "c/ns/networkpolicy/q",
            Status::AlreadyDone,
            "already deleted",
        )],
    };
    assert_eq!(
        json_of(&released),
        json!({
            "cluster": "c",
            "namespace": "ns",
            "pod": "p",
            "finding_id": "f",
            "executed": true,
            "restored_labels": {"app": "web"},
            "node": "n1",
            // The one vocabulary's: always empty on EKS (no record to seal).
            "warnings": [],
            "outcomes": [{
                "kind": "eks.release.delete_policy",
                "target": "c/ns/networkpolicy/q",
                "status": "already_done",
                "detail": "already deleted",
            }],
        })
    );
}
