//! `ec2.share_snapshots`: the evidence snapshots, copied for the forensic account.
//!
//! A snapshot encrypted with the default `aws/ebs` key cannot be shared at all, and one
//! encrypted with a customer managed key only together with that key. So each evidence
//! snapshot is copied in place with `KmsKeyId` set to the configured key (a customer
//! managed key whose policy lets the forensic account use it), and only the copy is shared
//! (`createVolumePermission` for the forensic account). A snapshot can only be copied once
//! complete: this waits at most `wait_seconds`, and a snapshot still pending then is
//! reported, not waited for (a re-delivery of the finding copies it). Collection, not
//! containment: every failure is this step's outcome, never a failed containment.

use super::*;
use crate::actions::tags::SNAPSHOT_COPY_OF_KEY;
use crate::options::ForensicSnapshots;
use aws_sdk_ec2::types::{OperationType, SnapshotAttributeName, SnapshotState};
use std::time::{Duration, Instant};

/// How often a pending snapshot is described again.
const POLL: Duration = Duration::from_secs(2);

/// Copies and shares the evidence snapshots `sources` (snapshot ids of this finding).
pub(super) async fn share_snapshots(
    c: &Clients,
    to: &ForensicSnapshots,
    finding: &str,
    instance_id: &str,
    sources: &[String],
) -> Step {
    if sources.is_empty() {
        return Step::skipped("no evidence snapshot to share");
    }
    let copies = match existing_copies(&c.ec2, finding).await {
        Ok(c) => c,
        Err(e) => return Step::failed(e),
    };
    let deadline = Instant::now() + Duration::from_secs(to.wait_seconds);
    let mut lines = Vec::new();
    let mut failed = false;
    let mut already = 0;
    for source in sources {
        let line = match copies.get(source) {
            Some(copy) => match share_copy(&c.ec2, copy, &to.account_id, true).await {
                Ok(true) => {
                    already += 1;
                    Ok(format!("{copy} (copy of {source}) already shared"))
                }
                Ok(false) => Ok(format!("{copy} (copy of {source}) shared")),
                Err(e) => Err(e),
            },
            None => copy_and_share(c, to, finding, instance_id, source, deadline).await,
        };
        match line {
            Ok(l) => lines.push(l),
            Err(e) => {
                failed = true;
                lines.push(e);
            }
        }
    }
    let detail = format!("{} with {}", lines.join("; "), to.account_id);
    if failed {
        Step::failed(detail)
    } else if already == sources.len() {
        Step::already(detail)
    } else {
        Step::done(detail)
    }
}

/// Our copies of this finding's snapshots, by source snapshot id.
async fn existing_copies(
    ec2: &aws_sdk_ec2::Client,
    finding: &str,
) -> Result<BTreeMap<String, String>, String> {
    use super::snapshot_list::{own_snapshots, tag_filter};
    let filters = vec![
        tag_filter(FINDING_ID_KEY, Some(finding)),
        tag_filter(SNAPSHOT_COPY_OF_KEY, None),
    ];
    Ok(own_snapshots(ec2, filters)
        .await?
        .iter()
        .filter_map(|s| {
            let source = s
                .tags()
                .iter()
                .find(|t| t.key() == Some(SNAPSHOT_COPY_OF_KEY))?
                .value()?;
            Some((source.to_owned(), s.snapshot_id()?.to_owned()))
        })
        .collect())
}

async fn copy_and_share(
    c: &Clients,
    to: &ForensicSnapshots,
    finding: &str,
    instance_id: &str,
    source: &str,
    deadline: Instant,
) -> Result<String, String> {
    wait_completed(&c.ec2, source, deadline).await?;
    let region = c
        .ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| format!("{source}: no region to copy in"))?;
    // The copy carries the finding and its source, not the instance tag: it is no
    // evidence snapshot of a volume (`existing_snapshots` must not count it as one).
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Snapshot)
        .tags(tag(
            "Name",
            &tag_value(&format!(
                "guardduty-responder {instance_id} copy of {source}"
            )),
        ))
        .tags(tag(FINDING_ID_KEY, finding))
        .tags(tag(SNAPSHOT_COPY_OF_KEY, source))
        .build();
    let copy = c
        .ec2
        .copy_snapshot()
        .source_snapshot_id(source)
        .source_region(region)
        .encrypted(true)
        .kms_key_id(&to.kms_key_arn)
        .description(crate::sanitize::ascii_line(
            &format!("GuardDuty responder evidence: finding {finding}, copy of {source}"),
            255,
        ))
        .tag_specifications(tags)
        .send()
        .await
        .map_err(|e| format!("{source}: {}", api_error("CopySnapshot", &e)))?
        .snapshot_id()
        .map(str::to_owned)
        .ok_or_else(|| format!("{source}: CopySnapshot returned no id"))?;
    share_copy(&c.ec2, &copy, &to.account_id, false)
        .await
        .map(|_| format!("{copy} (copy of {source}) shared"))
        .map_err(|e| format!("{e} (copy {copy} of {source} kept, not shared)"))
}

/// Waits until `snapshot` is complete, at most until `deadline`.
async fn wait_completed(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        let out = ec2
            .describe_snapshots()
            .snapshot_ids(snapshot)
            .send()
            .await
            .map_err(|e| format!("{snapshot}: {}", api_error("DescribeSnapshots", &e)))?;
        let state = out.snapshots().first().and_then(|s| s.state()).cloned();
        match state {
            Some(SnapshotState::Completed) => return Ok(()),
            Some(SnapshotState::Error) => return Err(format!("{snapshot}: snapshot failed")),
            _ if Instant::now() + POLL > deadline => {
                return Err(format!(
                    "{snapshot}: still {} at the time limit, not copied (a re-delivery of \
                     the finding copies it)",
                    state.as_ref().map(|s| s.as_str()).unwrap_or("unknown")
                ));
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// Adds the forensic account's `createVolumePermission` on our copy. With `check`, reads
/// the permission first: `Ok(true)` when it was there already.
async fn share_copy(
    ec2: &aws_sdk_ec2::Client,
    copy: &str,
    account: &str,
    check: bool,
) -> Result<bool, String> {
    if check {
        let out = ec2
            .describe_snapshot_attribute()
            .snapshot_id(copy)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .map_err(|e| format!("{copy}: {}", api_error("DescribeSnapshotAttribute", &e)))?;
        if out
            .create_volume_permissions()
            .iter()
            .any(|p| p.user_id() == Some(account))
        {
            return Ok(true);
        }
    }
    ec2.modify_snapshot_attribute()
        .snapshot_id(copy)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Add)
        // The `UserIds` form (as `aws ec2 modify-snapshot-attribute --user-ids`), which
        // moto reads too; the IAM condition ec2:Add/userId sees it all the same.
        .user_ids(account)
        .send()
        .await
        .map_err(|e| format!("{copy}: {}", api_error("ModifySnapshotAttribute", &e)))?;
    Ok(false)
}
