//! EBS snapshots in moto: what the forensic copies' tests read back, and EBS's
//! `createSnapshot` notification for one of them.

use super::Aws;
use std::collections::BTreeSet;

/// The accounts `snapshot` is shared with (`createVolumePermission`).
pub async fn shared_with(aws: &Aws, snapshot: &str) -> BTreeSet<String> {
    aws.ec2
        .describe_snapshot_attribute()
        .snapshot_id(snapshot)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .expect("DescribeSnapshotAttribute")
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id().map(str::to_owned))
        .collect()
}

/// The value of the tag `key` on a snapshot.
pub fn snapshot_tag<'a>(s: &'a aws_sdk_ec2::types::Snapshot, key: &str) -> Option<&'a str> {
    s.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The volume of an instance's first block device.
pub async fn root_volume(aws: &Aws, instance: &str) -> String {
    super::describe(aws, instance).await.block_device_mappings()[0]
        .ebs()
        .and_then(|e| e.volume_id())
        .expect("an EBS root volume")
        .to_owned()
}

/// EBS's notification that `snapshot` completed (`events/ebs-snapshot-completed.json`,
/// re-addressed to `account` and `region`).
pub fn snapshot_completed_event(account: &str, region: &str, snapshot: &str) -> Vec<u8> {
    let path = format!(
        "{}/../events/ebs-snapshot-completed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the sample")).expect("JSON");
    let arn = format!("arn:aws:ec2::{region}:snapshot/{snapshot}");
    v["account"] = account.into();
    v["region"] = region.into();
    v["resources"] = serde_json::json!([arn]);
    v["detail"]["snapshot_id"] = arn.into();
    serde_json::to_vec(&v).expect("JSON")
}
