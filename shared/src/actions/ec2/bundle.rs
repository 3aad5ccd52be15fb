//! The instance's evidence bundle (docs/evidence.md): the finding and the instance as the
//! first round trip described it, before any change (reused, never read again), written
//! alongside isolation, with what `collect` gathers (the volatile capture's record, when
//! `ec2.capture_volatile` runs, within its own time limit given as `extra`). The EBS
//! snapshots stay where they are, tagged with the finding.

use super::observe::InstanceView;
use crate::evidence::collect::{Collected, Collection, Evidence, Subject};
use crate::outcome::Step;
use serde_json::json;
use std::future::Future;
use std::time::Duration;

pub(crate) async fn write(
    ev: &Evidence,
    subject: &Subject<'_>,
    view: &InstanceView,
    termination_protection: &Result<bool, String>,
    shutdown_behavior: &Result<String, String>,
    collect: impl Future<Output = Collection>,
    extra: Duration,
) -> Step {
    let prefix = match subject.prefix(&view.id) {
        Ok(p) => p,
        Err(e) => return Step::failed(format!("no bundle: {e}")),
    };
    let before = vec![
        subject.finding_object(),
        Collected::json(
            "describe/instance.json",
            "ec2:DescribeInstances",
            &json!(view),
        ),
        Collected::json(
            "describe/instance-attributes.json",
            "ec2:DescribeInstanceAttribute",
            &json!({
                "disableApiTermination": termination_protection,
                "instanceInitiatedShutdownBehavior": shutdown_behavior,
            }),
        ),
    ];
    ev.write_bundle_within(prefix, before, collect, extra).await
}
