//! IAM actions the EC2 executor calls, declared next to the calls so the Terraform policy
//! can be checked against them. Keep these lists exact: one entry per API the code sends.

use crate::actions::iam_conditions::{
    Conditioned, DELETE_PRIOR_STATE_TAGS, DEPLOYMENT_VALUE, ON_CREATE_SECURITY_GROUP,
    ON_CREATE_SNAPSHOT, OWN_TAG_KEYS, OWN_TAG_KEYS_AND_NAME, QUARANTINE_ATTRIBUTES,
};

/// What the Lambda's role needs to quarantine an instance (`Ec2Executor::execute`).
/// Derived from the action catalog: each action's unit names the IAM actions it calls.
pub static REQUIRED_PERMISSIONS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        crate::action_catalog::surface_permissions(crate::classify::Surface::Ec2)
    });

/// Conditions on the actions above (`infra/modules/surface-policy` must use exactly these):
/// the executor writes only `guardduty-responder:*` tag keys (plus `Name` on the groups and
/// snapshots it creates) and changes only the instance attributes quarantine needs.
pub const CONDITIONS: &[Conditioned] = &[
    Conditioned {
        action: "ec2:CreateTags",
        statements: &[
            &[OWN_TAG_KEYS],
            &[ON_CREATE_SECURITY_GROUP, OWN_TAG_KEYS_AND_NAME],
            &[ON_CREATE_SNAPSHOT, OWN_TAG_KEYS_AND_NAME],
        ],
    },
    DELETE_PRIOR_STATE_TAGS,
    QUARANTINE_ATTRIBUTES,
    // Only the forensic account, only on the responder's copies.
    Conditioned {
        action: "ec2:ModifySnapshotAttribute",
        statements: &[&[
            ("StringEquals", "ec2:Add/userId", &[DEPLOYMENT_VALUE]),
            (
                "Null",
                "aws:ResourceTag/guardduty-responder:copy-of",
                &["false"],
            ),
        ]],
    },
    // The volatile capture: AWS's shell document (no condition: a document has no tags),
    // on instances carrying the prior-state record written before isolation.
    Conditioned {
        action: "ssm:SendCommand",
        statements: &[
            &[],
            &[(
                "Null",
                "ssm:resourceTag/guardduty-responder:prior",
                &["false"],
            )],
        ],
    },
];

/// What EC2 does with KMS on the caller's behalf when `CopySnapshot` re-encrypts with the
/// forensic key (decrypt the source, encrypt the copy): granted through EC2 only, with
/// `ec2.forensic_snapshots`. No code calls them, so they are not in the list above.
pub const FORENSIC_KMS_PERMISSIONS: &[&str] = &[
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// What a human additionally needs for `responder release ec2` (which also uses the
/// describe and modify actions above). Not granted to the Lambda.
pub const RELEASE_PERMISSIONS: &[&str] = &[
    // Binding checks: the recorded group must exist.
    "autoscaling:DescribeAutoScalingGroups",
    "ec2:AssociateAddress",
    "autoscaling:AttachInstances",
    "autoscaling:ExitStandby",
    // The revocation: read its cutoff; delete it only once every session it denies expired.
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The tag keys the executor writes fit the `aws:TagKeys` conditions it declares.
    #[test]
    fn tag_keys_written_are_the_responders_own() {
        use crate::actions::ec2::{isolation_groups, prior_state, quarantine};
        let prefix = prior_state::TAG_PREFIX;
        assert_eq!(OWN_TAG_KEYS.2, [format!("{prefix}*").as_str()]);
        for key in quarantine::STATUS_KEYS.iter().chain(&[
            prior_state::PRIOR_KEY,
            isolation_groups::ROLE_TAG,
            quarantine::SNAPSHOT_INSTANCE_KEY,
            quarantine::SNAPSHOT_DEVICE_KEY,
            quarantine::SNAPSHOT_VOLUME_KEY,
            crate::actions::tags::SNAPSHOT_COPY_OF_KEY,
        ]) {
            assert!(key.starts_with(prefix), "{key}");
        }
        for c in CONDITIONS {
            assert!(REQUIRED_PERMISSIONS.contains(&c.action), "{}", c.action);
        }
    }

    /// The capture's instance condition names the record key quarantine writes first.
    #[test]
    fn the_capture_is_conditioned_on_the_prior_state_record() {
        let send = CONDITIONS
            .iter()
            .find(|c| c.action == "ssm:SendCommand")
            .expect("conditioned");
        let key = format!("ssm:resourceTag/{}", crate::actions::tags::PRIOR_KEY);
        assert!(send.statements[1].iter().any(|(_, k, _)| *k == key));
    }

    /// Sharing is limited to the copies, by the tag the copies carry.
    #[test]
    fn sharing_is_conditioned_on_the_copy_tag() {
        let share = CONDITIONS
            .iter()
            .find(|c| c.action == "ec2:ModifySnapshotAttribute")
            .expect("conditioned");
        let key = format!(
            "aws:ResourceTag/{}",
            crate::actions::tags::SNAPSHOT_COPY_OF_KEY
        );
        assert!(share.statements[0].iter().any(|(_, k, _)| *k == key));
    }

    #[test]
    fn lists_are_well_formed_and_disjoint() {
        let q: BTreeSet<_> = REQUIRED_PERMISSIONS.iter().collect();
        let r: BTreeSet<_> = RELEASE_PERMISSIONS.iter().collect();
        assert_eq!(q.len(), REQUIRED_PERMISSIONS.len(), "duplicate entry");
        assert_eq!(r.len(), RELEASE_PERMISSIONS.len(), "duplicate entry");
        assert!(q.is_disjoint(&r));
        for p in q.iter().chain(r.iter()) {
            let (svc, action) = p.split_once(':').expect("service:Action");
            assert!(
                ["ec2", "autoscaling", "kms", "guardduty", "iam", "ssm"].contains(&svc),
                "{p}"
            );
            assert!(action.starts_with(|c: char| c.is_ascii_uppercase()), "{p}");
            assert!(!action.contains('*'), "no wildcards: {p}");
        }
    }
}
