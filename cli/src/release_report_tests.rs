//! The text each `responder release` command prints, pinned line by line: the shared
//! frame (dry-run banner, one neutralised line per outcome) and each surface's record.

use responder::actions::{ec2, ecs, eks};
use responder::outcome::{ReleaseOutcome, Status};
use std::collections::BTreeMap;

const BANNER: &str = "DRY RUN: nothing was changed. Run again with --execute to release.\n";

#[test]
fn eks_text_is_as_before() {
    let r = eks::Released {
        resource: eks::release::ReleasedPod {
            cluster: "prod".into(),
            namespace: "web".into(),
            pod: "api-1".into(),
        },
        finding_id: None,
        executed: false,
        record: eks::release::ReleaseRecord {
            restored_labels: BTreeMap::from([("app".into(), "api".into())]),
            node: Some("ip-10-0-0-1".into()),
        },
        warnings: vec![],
        outcomes: vec![
            ReleaseOutcome::new(
                eks::ReleaseStep::DeletePolicy,
                "prod/web/networkpolicy/q",
                Status::Skipped,
                "dry run: would delete\nforged line",
            ),
            ReleaseOutcome::new(
                eks::ReleaseStep::UncordonNode,
                "prod/node/ip-10-0-0-1",
                Status::Failed,
                "boom",
            ),
        ],
    };
    assert_eq!(
        crate::release_eks::text(&r),
        format!(
            "{BANNER}\
             Release of pod web/api-1 in cluster prod (node ip-10-0-0-1)\n  \
             labels recorded at quarantine: app=api\n  \
             [skipped] eks.release.delete_policy prod/web/networkpolicy/q: dry run: would \
             delete\\nforged line\n  \
             [FAILED] eks.release.uncordon_node prod/node/ip-10-0-0-1: boom\n"
        )
    );
}

#[test]
fn ec2_text_is_as_before() {
    let r = ec2::Released {
        resource: ec2::release::ReleasedInstance {
            instance_id: "i-0123456789abcdef0".into(),
        },
        finding_id: None,
        executed: true,
        record: ec2::release::ReleaseRecord {
            prior_state: ec2::PriorState {
                network_interfaces: BTreeMap::from([(
                    "eni-0123456789abcdef0".into(),
                    vec!["sg-1".into(), "sg-2".into()],
                )]),
                termination_protection: Some(true),
                ..Default::default()
            },
        },
        warnings: vec!["the record is unverified\r".into()],
        outcomes: vec![ReleaseOutcome::new(
            ec2::ReleaseStep::RestoreSecurityGroups,
            "i-0123456789abcdef0",
            Status::Done,
            "restored",
        )],
    };
    assert_eq!(
        crate::release_ec2::text(&r, "us-east-1"),
        "Release of instance i-0123456789abcdef0 in us-east-1\n  \
         WARNING: the record is unverified\\r\n  \
         recorded at quarantine (check it: instance tags can be edited by anyone allowed \
         ec2:CreateTags):\n    \
         eni-0123456789abcdef0: sg-1, sg-2\n    \
         termination protection: on; shutdown behaviour: unknown (left as is)\n    \
         Elastic IPs: unknown (not restored)\n  \
         [done] ec2.release.restore_security_groups i-0123456789abcdef0: restored\n"
    );
}

#[test]
fn ecs_text_is_as_before() {
    let arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef";
    let r = ecs::Released {
        resource: ecs::release::ReleasedTask {
            cluster: "prod".into(),
            task_arn: arn.into(),
        },
        finding_id: None,
        executed: false,
        record: ecs::release::ReleaseRecord {
            task_found: true,
            record: ecs::Record {
                prior_groups: BTreeMap::from([("eni-1".into(), vec!["sg-3".into()])]),
                revoked_role: Some("app-role".into()),
                ..Default::default()
            },
        },
        warnings: vec![],
        outcomes: vec![ReleaseOutcome::new(
            ecs::ReleaseStep::RemoveTags,
            arn,
            Status::AlreadyDone,
            "no tags",
        )],
    };
    assert_eq!(
        crate::release_ecs::text(&r, "us-east-1"),
        format!(
            "{BANNER}\
             Release of task {arn} (cluster prod) in us-east-1\n  \
             recorded at isolation (check it: task tags can be edited by anyone allowed \
             ecs:TagResource):\n    \
             eni-1: sg-3\n    \
             role app-role: older sessions revoked\n  \
             [already done] ecs.release.remove_tags {arn}: no tags\n"
        )
    );
}
