//! EBS's `createSnapshot` notification, the follow-up trigger of `ec2.forensic_snapshots`:
//! an evidence snapshot still pending when the quarantine stopped waiting is copied for the
//! forensic account once EBS says it completed (docs/evidence.md). Not a finding: the
//! finding parser reports it as such ([`super::input`]), and the ec2 function's handler
//! reads it here. Pure, and strict: the event names one snapshot, by an ARN whose region is
//! the event's own, and nothing else is guessed.
//!
//! The event carries no tags: whether the snapshot is the responder's is decided by the
//! executor from the snapshot and the instance it names, never from this event.

use crate::ids::{AccountId, Region, SnapshotId};
use serde::Deserialize;

pub const EC2_SOURCE: &str = "aws.ec2";
pub const SNAPSHOT_DETAIL_TYPE: &str = "EBS Snapshot Notification";
/// The only `detail.event` and `detail.result` acted on (the rule's pattern selects them).
pub const CREATE_SNAPSHOT: &str = "createSnapshot";
pub const SUCCEEDED: &str = "succeeded";

/// Whether an EventBridge envelope is an EBS snapshot notification.
pub fn is_snapshot_notification(source: &str, detail_type: &str) -> bool {
    source == EC2_SOURCE && detail_type == SNAPSHOT_DETAIL_TYPE
}

/// A snapshot EBS reports complete, in the account and region the event came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotCompleted {
    pub account: AccountId,
    pub region: Region,
    pub snapshot_id: SnapshotId,
}

/// Why a snapshot notification is not one to act on. The messages never echo the event's
/// values beyond a short, neutralised excerpt: the event is input like any other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotEventError {
    #[error(
        "not an EBS snapshot notification (source aws.ec2, detail-type {SNAPSHOT_DETAIL_TYPE:?})"
    )]
    NotASnapshotEvent,
    #[error("unreadable EBS snapshot notification: {0}")]
    Unreadable(String),
    #[error("EBS snapshot notification for {0}, not createSnapshot succeeded: nothing to copy")]
    OtherEvent(String),
    #[error("EBS snapshot notification with an invalid {field}: {value:?}")]
    Invalid { field: &'static str, value: String },
}

#[derive(Deserialize)]
struct Envelope {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    account: Option<String>,
    region: Option<String>,
    detail: Option<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    event: Option<String>,
    result: Option<String>,
    snapshot_id: Option<String>,
}

/// Only the envelope's routing keys, for the handler to pick the path cheaply.
#[derive(Deserialize)]
struct Routing {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
}

/// Whether `bytes` is an EventBridge event from `aws.ec2` with detail-type
/// `EBS Snapshot Notification` (well formed or not: [`parse`] says what is wrong).
pub fn sniff(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Routing>(bytes).is_ok_and(|r| {
        is_snapshot_notification(
            r.source.as_deref().unwrap_or_default(),
            r.detail_type.as_deref().unwrap_or_default(),
        )
    })
}

fn shown(v: &str) -> String {
    crate::sanitize::ascii_line(v, 120)
}

fn invalid(field: &'static str, value: &str) -> SnapshotEventError {
    SnapshotEventError::Invalid {
        field,
        value: shown(value),
    }
}

/// Reads a `createSnapshot` `succeeded` notification.
pub fn parse(bytes: &[u8]) -> Result<SnapshotCompleted, SnapshotEventError> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| SnapshotEventError::Unreadable(shown(&e.to_string())))?;
    if !is_snapshot_notification(
        env.source.as_deref().unwrap_or_default(),
        env.detail_type.as_deref().unwrap_or_default(),
    ) {
        return Err(SnapshotEventError::NotASnapshotEvent);
    }
    let missing = |f: &str| SnapshotEventError::Unreadable(format!("missing {f}"));
    let detail = env.detail.ok_or_else(|| missing("detail"))?;
    let event = detail.event.ok_or_else(|| missing("detail.event"))?;
    let result = detail.result.ok_or_else(|| missing("detail.result"))?;
    if event != CREATE_SNAPSHOT || result != SUCCEEDED {
        return Err(SnapshotEventError::OtherEvent(shown(&format!(
            "{event} {result}"
        ))));
    }
    let account = env.account.ok_or_else(|| missing("account"))?;
    let account = AccountId::parse(&account).map_err(|_| invalid("account", &account))?;
    let region = env.region.ok_or_else(|| missing("region"))?;
    let region = Region::parse(&region).map_err(|_| invalid("region", &region))?;
    let arn = detail
        .snapshot_id
        .ok_or_else(|| missing("detail.snapshot_id"))?;
    let snapshot_id =
        snapshot_in(&arn, &region).ok_or_else(|| invalid("detail.snapshot_id", &arn))?;
    Ok(SnapshotCompleted {
        account,
        region,
        snapshot_id,
    })
}

/// The snapshot id of `arn` when it is a snapshot ARN of `region`. EBS writes the region
/// where an ARN has the account (`arn:aws:ec2::us-east-1:snapshot/snap-…`, as documented);
/// the usual form with the region in its place and no account is accepted too. Anything
/// else (another region, an account, another resource type, a list) is refused.
fn snapshot_in(arn: &str, region: &Region) -> Option<SnapshotId> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, a, b, resource] = parts[..] else {
        return None;
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c == b'-');
    let region_ok = matches!((a, b), ("", r) | (r, "") if r == region.as_str());
    if scheme != "arn" || !partition_ok || service != "ec2" || !region_ok {
        return None;
    }
    SnapshotId::parse(resource.strip_prefix("snapshot/")?).ok()
}

#[cfg(test)]
#[path = "snapshot_event_tests.rs"]
mod tests;
