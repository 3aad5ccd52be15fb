//! The ec2 function's second trigger: EBS's `createSnapshot` notification, the follow-up
//! of `ec2.forensic_snapshots` (docs/evidence.md). The event is read strictly
//! (`finding::snapshot_event`), acted on only in this function's own account and region,
//! and handed to the executor, which decides whether the snapshot is the responder's.
//!
//! A member account's snapshot notifications stay in that account (EBS sends them to the
//! owner's default bus only; forwarding them is not set up), so one arriving from another
//! account is refused, not acted on with an assumed role: its evidence snapshots are
//! copied by a re-delivery of their finding.

use super::settings::Mode;
use super::{ExecutorFactory, Handler, HandlerError};
use crate::execute::{Executor, SnapshotFollowUp};
use crate::finding::snapshot_event::{self, SnapshotCompleted};
use crate::outcome::Status;
use std::time::Instant;

impl<F: ExecutorFactory> Handler<F> {
    /// One invocation: a snapshot notification (`{"snapshot": …}`) or findings
    /// (`{"handled": […]}`, [`Handler::handle`]).
    pub async fn handle_invocation(
        &self,
        payload: &[u8],
        own_account: Option<&str>,
    ) -> Result<serde_json::Value, HandlerError> {
        if snapshot_event::sniff(payload) {
            let report = self.snapshot_completed(payload, own_account).await?;
            return Ok(serde_json::json!({ "snapshot": report }));
        }
        let responses = self.handle(payload, own_account).await?;
        let summary: Vec<serde_json::Value> = responses
            .iter()
            .map(|r| serde_json::json!({"finding_id": r.plan.finding_id, "decision": r.plan.decision, "outcomes": r.outcomes, "deliveries": r.deliveries}))
            .collect();
        Ok(serde_json::json!({ "handled": summary }))
    }

    /// The follow-up of one snapshot notification. An error (so the event is retried,
    /// then dead-lettered) when the event is unreadable or refused, when the copy failed,
    /// or when whether the snapshot is the responder's cannot be decided yet.
    pub async fn snapshot_completed(
        &self,
        payload: &[u8],
        own_account: Option<&str>,
    ) -> Result<SnapshotFollowUp, HandlerError> {
        let started = Instant::now();
        let event = snapshot_event::parse(payload).map_err(|e| {
            tracing::error!(error = %e, "snapshot event refused");
            HandlerError::SnapshotEvent(e.to_string())
        })?;
        self.admit_snapshot_event(&event, own_account)?;
        let report = if self.settings.mode == Mode::DryRun {
            SnapshotFollowUp::new(event.snapshot_id.as_str()).not_copied(
                "dry run: nothing copied".into(),
                false,
                false,
            )
        } else {
            let executor = self.factory.build(self.accounts.base(), &self.config);
            executor.snapshot_completed(&event).await.ok_or_else(|| {
                HandlerError::SnapshotEvent(
                    "this function does not copy snapshots (only the ec2 function does)".into(),
                )
            })?
        };
        log(&event, &report, started);
        if report.retry {
            return Err(HandlerError::SnapshotNotYet(report.detail));
        }
        if report.status == Status::Failed {
            return Err(HandlerError::SnapshotCopyFailed(report.detail));
        }
        Ok(report)
    }

    /// Only this function's own account and region: no role is assumed for a snapshot.
    fn admit_snapshot_event(
        &self,
        event: &SnapshotCompleted,
        own_account: Option<&str>,
    ) -> Result<(), HandlerError> {
        let region = self.accounts.base().region().map(|r| r.as_ref().to_owned());
        let refusal = if own_account != Some(event.account.as_str()) {
            Some(format!(
                "snapshot event from account {}, not this function's ({}): follow-up copies run in the own account only; a member account's snapshots are copied by a re-delivery of their finding",
                event.account,
                own_account.unwrap_or("unknown")
            ))
        } else if region.as_deref() != Some(event.region.as_str()) {
            Some(format!(
                "snapshot event from region {}, not this function's ({})",
                event.region,
                region.as_deref().unwrap_or("unknown")
            ))
        } else {
            None
        };
        match refusal {
            Some(why) => {
                tracing::error!(snapshot_id = %event.snapshot_id.as_str(), error = %why, "snapshot event refused");
                Err(HandlerError::SnapshotEvent(why))
            }
            None => Ok(()),
        }
    }
}

/// One record per snapshot event, like "finding handled" per finding.
fn log(event: &SnapshotCompleted, r: &SnapshotFollowUp, started: Instant) {
    let latency_ms = started.elapsed().as_millis() as u64;
    let finding_id = r.finding_id.as_deref().unwrap_or_default();
    let instance_id = r.instance_id.as_deref().unwrap_or_default();
    if r.refused || r.status == Status::Failed {
        tracing::warn!(snapshot_id = %r.snapshot_id, account = %event.account.as_str(), region = %event.region.as_str(), finding_id, instance_id, status = r.status.as_str(), refused = r.refused, retry = r.retry, detail = %r.detail, latency_ms, "snapshot event handled");
    } else {
        tracing::info!(snapshot_id = %r.snapshot_id, account = %event.account.as_str(), region = %event.region.as_str(), finding_id, instance_id, status = r.status.as_str(), refused = r.refused, retry = r.retry, detail = %r.detail, latency_ms, "snapshot event handled");
    }
}
