//! IAM actions the ECS executor calls, declared next to the calls so the Terraform policy
//! can be checked against them. Keep these lists exact: one entry per API the code sends.

use crate::actions::iam_conditions::{
    Conditioned, DELETE_PRIOR_STATE_TAGS, ON_CREATE_SECURITY_GROUP, OWN_TAG_KEYS,
    OWN_TAG_KEYS_AND_NAME, QUARANTINE_ATTRIBUTES,
};

/// What the Lambda's role needs to isolate a task (`EcsExecutor::execute`).
/// Derived from the action catalog: each action's unit names the IAM actions it calls.
pub static REQUIRED_PERMISSIONS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        crate::action_catalog::surface_permissions(crate::classify::Surface::Ecs)
    });

/// Conditions on the actions above (`infra/modules/surface-policy` must use exactly these).
/// `iam:PutRolePolicy` has none: its resources are the configured role patterns, and
/// without any it is not granted at all.
pub const CONDITIONS: &[Conditioned] = &[
    Conditioned {
        action: "ec2:CreateTags",
        statements: &[
            &[OWN_TAG_KEYS],
            &[ON_CREATE_SECURITY_GROUP, OWN_TAG_KEYS_AND_NAME],
        ],
    },
    Conditioned {
        action: "ecs:TagResource",
        statements: &[&[OWN_TAG_KEYS]],
    },
    DELETE_PRIOR_STATE_TAGS,
    QUARANTINE_ATTRIBUTES,
];

/// What a human additionally needs for `responder release ecs` (which also uses the
/// describe actions above, and `ec2:DeleteTags` on the network ACL for its record of the
/// task: the Lambda's grant of it is scoped to instances). Not granted to the Lambda.
pub const RELEASE_PERMISSIONS: &[&str] = &[
    "ec2:DeleteNetworkAclEntry",
    "elasticloadbalancing:RegisterTargets",
    // Read the revocation's cutoff; delete it only once every session it denies expired.
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "ecs:UntagResource",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The tag keys the executor writes on tasks and network ACLs fit `OWN_TAG_KEYS`.
    #[test]
    fn tag_keys_written_are_the_responders_own() {
        use crate::actions::ecs::{acl_record, record};
        for key in [
            acl_record::ACL_TASK_KEY,
            record::NACL_KEY,
            record::TARGET_KEY,
            record::PRIOR_ENI_KEY,
            record::REVOKED_ROLE_KEY,
            crate::actions::ecs::record_seal::ACL_MAC_KEY,
            crate::actions::ec2::record_mac::MAC_KEY,
        ]
        .iter()
        .chain(crate::actions::ec2::quarantine::STATUS_KEYS)
        {
            assert!(key.starts_with("guardduty-responder:"), "{key}");
        }
        for c in CONDITIONS {
            assert!(REQUIRED_PERMISSIONS.contains(&c.action), "{}", c.action);
        }
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
                [
                    "ecs",
                    "ec2",
                    "elasticloadbalancing",
                    "iam",
                    "kms",
                    "guardduty",
                    "logs"
                ]
                .contains(&svc),
                "{p}"
            );
            assert!(action.starts_with(|c: char| c.is_ascii_uppercase()), "{p}");
            assert!(!action.contains('*'), "no wildcards: {p}");
        }
    }
}
