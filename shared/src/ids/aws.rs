//! AWS identifiers: EC2 resource ids, ECS task ARNs and cluster names, regions, accounts,
//! GuardDuty finding and detector ids. Each rule is the one the whole crate applies.

use super::id_type;

/// `<prefix><8 to 17 lowercase hex digits>`, as EC2 spells resource ids.
fn hex_id(prefix: &str, v: &str) -> bool {
    v.strip_prefix(prefix).is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

fn instance_id(v: &str) -> bool {
    hex_id("i-", v)
}

fn vpc_id(v: &str) -> bool {
    hex_id("vpc-", v)
}

fn eni_id(v: &str) -> bool {
    hex_id("eni-", v)
}

fn snapshot_id(v: &str) -> bool {
    hex_id("snap-", v)
}

/// ECS and EKS cluster names: letters, digits, `-` and `_`, up to 255.
fn cluster_name(v: &str) -> bool {
    (1..=255).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>` with only ARN-safe characters.
fn task_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "ecs"
        && parts[5].starts_with("task/")
        && v.len() <= 512
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:/.".contains(&b))
}

/// Region names as AWS spells them (`us-east-1`, `us-gov-west-1`, `cn-north-1`): lowercase
/// letters, digits and `-`, at least three non-empty parts, at most 32 characters. A value
/// such as `us-east-1.evil.example` would otherwise steer an endpoint or a link elsewhere.
fn region(v: &str) -> bool {
    v.len() <= 32
        && v.split('-').count() >= 3
        && v.split('-').all(|p| !p.is_empty())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Exactly twelve ASCII digits.
fn account_id(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

/// Hexadecimal, at most 64 characters.
fn finding_id(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Lowercase letters and digits (32 in practice), at most 64: it becomes a path segment of
/// a finding ARN and of the GuardDuty API's URLs.
fn detector_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

id_type!(
    /// An EC2 instance id, `i-` and 8 to 17 lowercase hex digits.
    InstanceId,
    "instance id",
    instance_id
);
id_type!(
    /// A VPC id, `vpc-` and 8 to 17 lowercase hex digits.
    VpcId,
    "VPC id",
    vpc_id
);
id_type!(
    /// A network interface id, `eni-` and 8 to 17 lowercase hex digits.
    NetworkInterfaceId,
    "network interface id",
    eni_id
);
id_type!(
    /// An EBS snapshot id, `snap-` and 8 to 17 lowercase hex digits.
    SnapshotId,
    "snapshot id",
    snapshot_id
);
id_type!(
    /// An ECS or EKS cluster name: letters, digits, `-` and `_`, up to 255.
    ClusterName,
    "cluster name",
    cluster_name
);
id_type!(
    /// An ECS task ARN, `arn:<partition>:ecs:<region>:<account>:task/…`, ARN-safe
    /// characters only, at most 512.
    TaskArn,
    "task ARN",
    task_arn
);
id_type!(
    /// An AWS region name (`us-east-1`).
    Region,
    "region",
    region
);
id_type!(
    /// An AWS account id: twelve ASCII digits.
    AccountId,
    "account id",
    account_id
);
id_type!(
    /// A GuardDuty finding id: hexadecimal, at most 64.
    FindingId,
    "finding id",
    finding_id
);
id_type!(
    /// A GuardDuty detector id: lowercase letters and digits, at most 64.
    DetectorId,
    "detector id",
    detector_id
);

impl TaskArn {
    /// The cluster a `task/<cluster>/<id>` ARN names; none for the old `task/<id>` form.
    pub fn cluster(&self) -> Option<&str> {
        self.0
            .split('/')
            .nth(1)
            .filter(|_| self.0.matches('/').count() == 2)
    }
}
