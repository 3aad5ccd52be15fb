//! The follow-up of `ec2.share_snapshots`: EBS says a snapshot completed; if it is an
//! evidence snapshot the responder took (`snapshot_origin.rs` decides, from what AWS set
//! and the responder sealed, never from the tags alone), it gets the same copy-and-share
//! as in the quarantine, idempotent by the copy's `copy-of` tag. A snapshot that was still
//! pending when the quarantine stopped waiting is so copied without a re-delivery.
//!
//! Calls (all declared by the quarantine's units): `DescribeSnapshots` (owner self),
//! `DescribeInstances`, `kms:VerifyMac`, then `share.rs`' own.

use super::snapshot_list::{own_snapshots, tag_filter};
use super::*;
use crate::actions::ec2::snapshot_origin::{self, Bindings, SnapshotFacts, Verdict};
use crate::execute::SnapshotFollowUp;
use crate::finding::snapshot_event::SnapshotCompleted;
use aws_sdk_ec2::types::Snapshot;

/// How long after `wait_seconds` an unbound snapshot is retried rather than refused: its
/// quarantine writes the status tags and the seal right after its share step.
const MARGIN_SECONDS: i64 = 120;

fn facts(s: &Snapshot) -> SnapshotFacts {
    SnapshotFacts {
        id: s.snapshot_id().unwrap_or_default().to_owned(),
        volume_id: s.volume_id().map(str::to_owned),
        state: s.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        started: s.start_time().map(|t| t.secs()),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect(),
    }
}

/// Judges the snapshot of `event` and, when it is the responder's, copies and shares it.
pub(crate) async fn snapshot_completed(c: &Clients, event: &SnapshotCompleted) -> SnapshotFollowUp {
    let id = event.snapshot_id.as_str();
    let report = SnapshotFollowUp::new(id);
    let Some(to) = &c.forensic_snapshots else {
        return report.step(Step::skipped(
            "no forensic account configured (ec2.forensic_snapshots)",
        ));
    };
    let filter = Filter::builder().name("snapshot-id").values(id).build();
    let found = match own_snapshots(&c.ec2, vec![filter]).await {
        Ok(s) => s,
        Err(e) => return report.step(Step::failed(e)),
    };
    let Some(snapshot) = found
        .iter()
        .find(|s| s.snapshot_id() == Some(id))
        .map(facts)
    else {
        return report.step(Step::skipped(
            "not a snapshot of this account (or failed): nothing to copy",
        ));
    };
    let claim = match snapshot_origin::claim(&snapshot) {
        Ok(c) => c,
        Err(v) => return verdict(report, v),
    };
    let report = report.claimed(&claim.finding, claim.instance.as_str());
    let siblings = vec![
        tag_filter(FINDING_ID_KEY, Some(&claim.finding)),
        tag_filter(SNAPSHOT_INSTANCE_KEY, Some(claim.instance.as_str())),
    ];
    let (described, siblings) = futures::join!(
        Box::pin(observe::describe_instance(&c.ec2, claim.instance.as_str())),
        Box::pin(own_snapshots(&c.ec2, siblings)),
    );
    let view = match described {
        Described::Found(v) => Some(v),
        Described::NotFound(_) => None,
        Described::Failed(e) => return report.step(Step::failed(e)),
    };
    let siblings: Vec<SnapshotFacts> = match siblings {
        Ok(s) => s.iter().map(facts).collect(),
        Err(e) => return report.step(Step::failed(e)),
    };
    let mac = match &view {
        Some(v) => {
            let message = record_mac::instance_message(v);
            let tag = v.tags.get(MAC_KEY).map(String::as_str);
            Box::pin(record_mac::verify(
                &c.kms,
                c.mac_key.as_deref(),
                message,
                tag,
            ))
            .await
        }
        None => MacVerdict::NotConfigured,
    };
    let now = chrono::Utc::now().timestamp();
    let window = i64::try_from(to.wait_seconds)
        .unwrap_or(i64::MAX)
        .saturating_add(MARGIN_SECONDS);
    let young = snapshot.started.is_none_or(|t| now - t <= window);
    let bindings = Bindings {
        instance: view.as_ref(),
        mac: &mac,
        siblings: &siblings,
        young,
    };
    match snapshot_origin::bind(&snapshot, &claim, &bindings) {
        Verdict::Ours(warning) => {
            let sources = [id.to_owned()];
            let mut step = Box::pin(share::share_snapshots(
                c,
                to,
                &claim.finding,
                claim.instance.as_str(),
                &sources,
            ))
            .await;
            if let Some(w) = warning {
                step.detail = format!("{}; {w}", step.detail);
            }
            report.step(step)
        }
        other => verdict(report, other),
    }
}

fn verdict(report: SnapshotFollowUp, v: Verdict) -> SnapshotFollowUp {
    match v {
        Verdict::NotClaimed(why) => report.not_copied(why, false, false),
        Verdict::Refused(why) => report.not_copied(
            format!("refused, not a responder evidence snapshot: {why}"),
            true,
            false,
        ),
        Verdict::NotYet(why) => report.not_copied(format!("not copied yet: {why}"), false, true),
        Verdict::Ours(_) => report.not_copied("nothing done".into(), false, false),
    }
}
