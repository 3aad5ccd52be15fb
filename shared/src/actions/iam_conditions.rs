//! IAM conditions the Terraform policy must put on an action, declared in code beside the
//! calls (each surface's `permissions::CONDITIONS`), so a test can hold `infra/` to them:
//! the tag keys the code writes, the instance attributes it changes.

/// One condition: `(operator, key, values)`.
pub type Condition = (&'static str, &'static str, &'static [&'static str]);

/// An action and the conditions of every statement granting it: one slice per statement
/// (an empty slice is a statement without condition). Undeclared actions are granted by
/// one statement without condition.
#[derive(Debug, Clone, Copy)]
pub struct Conditioned {
    pub action: &'static str,
    pub statements: &'static [&'static [Condition]],
}

/// A value Terraform fills in per deployment (e.g. the organisation id).
pub const DEPLOYMENT_VALUE: &str = "<deployment>";

/// Tag keys limited to the responder's own.
pub const OWN_TAG_KEYS: Condition = (
    "ForAllValues:StringLike",
    "aws:TagKeys",
    &["guardduty-responder:*"],
);
/// On resources the responder creates (isolation groups, snapshots), also `Name`.
pub const OWN_TAG_KEYS_AND_NAME: Condition = (
    "ForAllValues:StringLike",
    "aws:TagKeys",
    &["guardduty-responder:*", "Name"],
);
/// Tags only as part of creating a security group (its TagSpecifications).
pub const ON_CREATE_SECURITY_GROUP: Condition =
    ("StringEquals", "ec2:CreateAction", &["CreateSecurityGroup"]);
/// Tags only as part of creating a snapshot, or a forensic copy of one.
pub const ON_CREATE_SNAPSHOT: Condition = (
    "StringEquals",
    "ec2:CreateAction",
    &["CreateSnapshot", "CopySnapshot"],
);

/// `ModifyInstanceAttribute` turning termination protection on, nothing else.
pub const TERMINATION_PROTECTION_ON: Condition = (
    "StringEqualsIgnoreCase",
    "ec2:Attribute/DisableApiTermination",
    &["true"],
);
/// `ModifyInstanceAttribute` with `Attribute=instanceInitiatedShutdownBehavior`.
pub const SHUTDOWN_BEHAVIOR: Condition = (
    "StringEqualsIgnoreCase",
    "ec2:Attribute",
    &["instanceInitiatedShutdownBehavior"],
);
/// `ModifyInstanceAttribute` of a block device mapping (DeleteOnTermination), which no key
/// filters: every other attribute's key must be absent.
pub const NO_OTHER_ATTRIBUTE: &[Condition] = &[
    ("Null", "ec2:Attribute", &["true"]),
    ("Null", "ec2:Attribute/DisableApiTermination", &["true"]),
    ("Null", "ec2:Attribute/DisableApiStop", &["true"]),
    (
        "Null",
        "ec2:Attribute/InstanceInitiatedShutdownBehavior",
        &["true"],
    ),
    ("Null", "ec2:Attribute/InstanceType", &["true"]),
    ("Null", "ec2:Attribute/UserData", &["true"]),
    ("Null", "ec2:Attribute/Kernel", &["true"]),
    ("Null", "ec2:Attribute/Ramdisk", &["true"]),
    ("Null", "ec2:Attribute/SourceDestCheck", &["true"]),
    ("Null", "ec2:Attribute/EbsOptimized", &["true"]),
    ("Null", "ec2:Attribute/SriovNetSupport", &["true"]),
    ("Null", "ec2:Attribute/EnaSupport", &["true"]),
];

/// The instance-attribute changes of the EC2 quarantine (also the ECS host quarantine).
pub const QUARANTINE_ATTRIBUTES: Conditioned = Conditioned {
    action: "ec2:ModifyInstanceAttribute",
    statements: &[
        &[TERMINATION_PROTECTION_ON],
        &[SHUTDOWN_BEHAVIOR],
        NO_OTHER_ATTRIBUTE,
    ],
};

/// Deleting only prior-state keys, when quarantine replaces a record it did not write.
pub const DELETE_PRIOR_STATE_TAGS: Conditioned = Conditioned {
    action: "ec2:DeleteTags",
    statements: &[&[(
        "ForAllValues:StringLike",
        "aws:TagKeys",
        &["guardduty-responder:prior*"],
    )]],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tag_keys_and_attribute_keys_are_consistent() {
        assert_eq!(OWN_TAG_KEYS_AND_NAME.2[0], OWN_TAG_KEYS.2[0]);
        for (_, key, values) in NO_OTHER_ATTRIBUTE {
            assert!(key.starts_with("ec2:Attribute") && *values == ["true"]);
        }
    }
}
