//! The tag vocabulary the responder writes on AWS resources, in one place: the status tags
//! every surface shares, and the record keys release reads back. Each surface's record
//! module (`ec2/prior_state.rs`, `ecs/record.rs`, `ecs/acl_record.rs`) documents its values.
//! Anyone allowed to tag a resource can write these keys too: every reader validates, and
//! the records are sealed (`ec2/record_mac.rs`, `ecs/record_seal.rs`).

/// Every key starts so (the tag-guard SCP protects the prefix).
pub const TAG_PREFIX: &str = "guardduty-responder:";

pub const STATUS_KEY: &str = "guardduty-responder:status";
pub const FINDING_ID_KEY: &str = "guardduty-responder:finding-id";
pub const FINDING_TYPE_KEY: &str = "guardduty-responder:finding-type";
pub const QUARANTINED_AT_KEY: &str = "guardduty-responder:quarantined-at";
/// Tags the status step writes (release removes them; the seal does not cover them).
pub const STATUS_KEYS: &[&str] = &[
    STATUS_KEY,
    FINDING_ID_KEY,
    FINDING_TYPE_KEY,
    QUARANTINED_AT_KEY,
];
pub const STATUS_QUARANTINED: &str = "quarantined";
pub const STATUS_INCOMPLETE: &str = "quarantine-incomplete";

/// Evidence snapshots carry these (plus the finding id key).
pub const SNAPSHOT_INSTANCE_KEY: &str = "guardduty-responder:instance-id";
pub const SNAPSHOT_DEVICE_KEY: &str = "guardduty-responder:device-name";
pub const SNAPSHOT_VOLUME_KEY: &str = "guardduty-responder:volume-id";
/// A copy made for the forensic account carries its source snapshot's id (and the finding
/// id), never the instance key: it is no evidence snapshot of a volume.
pub const SNAPSHOT_COPY_OF_KEY: &str = "guardduty-responder:copy-of";

/// The record of what containment changed (EC2: one JSON-ish value; see prior_state.rs).
pub const PRIOR_KEY: &str = "guardduty-responder:prior";
/// An ENI's groups before isolation, on the instance (EC2) or the task (ECS).
pub const PRIOR_ENI_KEY: &str = "guardduty-responder:prior:eni:";
/// The finding a record was written for (the status tag moves on to the latest finding).
pub const RECORD_FINDING_KEY: &str = "guardduty-responder:prior:finding";
/// The role whose earlier sessions containment revoked (every surface that has tags; EKS
/// records it as an annotation). Release keeps it while the revocation stays.
pub const REVOKED_ROLE_KEY: &str = "guardduty-responder:revoked-role";
/// The record's seal.
pub const MAC_KEY: &str = "guardduty-responder:mac";

/// Keys of the prior-state record.
pub fn is_prior_key(key: &str) -> bool {
    key == PRIOR_KEY || key.starts_with("guardduty-responder:prior:")
}

/// Keys written by quarantine (prior state and status), which release removes. The
/// exemption tag shares the prefix and is never removed.
pub fn is_quarantine_key(key: &str) -> bool {
    is_prior_key(key) || key == MAC_KEY || STATUS_KEYS.contains(&key)
}
