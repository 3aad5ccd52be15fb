//! Reading the account's own snapshots by tag: the one `DescribeSnapshots` paging the
//! evidence snapshots, their forensic copies and the follow-up share. Always `owner self`
//! (never someone else's public snapshot carrying our tags) and always filtered (never a
//! listing of every snapshot the account owns); failed snapshots are left out.

use super::*;
use aws_sdk_ec2::types::{Snapshot, SnapshotState};

/// A tag filter: `key` = `value`, or only that the key is present when `value` is `None`.
pub(super) fn tag_filter(key: &str, value: Option<&str>) -> Filter {
    match value {
        Some(v) => Filter::builder()
            .name(format!("tag:{key}"))
            .values(v)
            .build(),
        None => Filter::builder().name("tag-key").values(key).build(),
    }
}

/// Every snapshot of this account matching all of `filters`, every page, except failed ones.
pub(super) async fn own_snapshots(
    ec2: &aws_sdk_ec2::Client,
    filters: Vec<Filter>,
) -> Result<Vec<Snapshot>, String> {
    let pages = ec2
        .describe_snapshots()
        .owner_ids("self")
        .set_filters(Some(filters))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("DescribeSnapshots", &e))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.snapshots())
        .filter(|s| !matches!(s.state(), Some(SnapshotState::Error)))
        .cloned()
        .collect())
}

/// The evidence snapshot of each volume: the earliest started of those tagged for it (the
/// responder's own is taken before isolation; one tagged alike later, by whoever may
/// snapshot and tag in the account, is not evidence), the lower id on a tie.
pub(super) fn first_per_volume(snapshots: &[Snapshot]) -> BTreeMap<String, String> {
    let mut first: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for s in snapshots {
        let (Some(volume), Some(id)) = (s.volume_id(), s.snapshot_id()) else {
            continue;
        };
        let started = s.start_time().map_or(i64::MAX, |t| t.secs());
        let entry = first
            .entry(volume.to_owned())
            .or_insert((started, id.to_owned()));
        if (started, id) < (entry.0, entry.1.as_str()) {
            *entry = (started, id.to_owned());
        }
    }
    first.into_iter().map(|(v, (_, id))| (v, id)).collect()
}
