//! The quarantine's side of `ec2.capture_volatile`: whether it can run for this instance,
//! and for which PIDs (the capture itself is `ec2::volatile`).

use super::*;
use crate::actions::ec2::volatile::{self, Captured};
use std::time::Duration;

/// Runs the capture once isolation has run (the caller waits for that).
pub(super) async fn run(c: &Clients, req: &Request<'_>, view: &InstanceView) -> Captured {
    let skipped = |why: &str| Captured {
        step: Some(Step::skipped(why)),
        collection: Default::default(),
    };
    let Some(subject) = &req.subject else {
        return skipped("a host contained for another resource: no bundle of its own");
    };
    let Some(ev) = &c.evidence else {
        return skipped("no evidence bucket configured: the instance writes its output there");
    };
    let prefix = match subject.prefix(&view.id) {
        Ok(p) => p,
        Err(e) => {
            return Captured {
                step: Some(Step::failed(format!("no bundle prefix: {e}"))),
                collection: Default::default(),
            };
        }
    };
    let pids = volatile::script::finding_pids(subject.finding, c.volatile.max_pids);
    Box::pin(volatile::capture(
        &c.ssm,
        ev,
        &c.volatile,
        &prefix,
        &view.id,
        &pids,
    ))
    .await
}

/// How much longer than the evidence time limit the bundle's collection may take: the
/// capture's own limit and a margin for isolation before it.
pub(super) fn bundle_extra(c: &Clients, capturing: bool) -> Duration {
    if capturing && c.evidence.is_some() {
        Duration::from_secs(c.volatile.timeout_seconds + 10)
    } else {
        Duration::ZERO
    }
}
