//! The quarantine's side of `ec2.capture_volatile`: whether it can run for this instance,
//! and for which PIDs (the capture itself is `ec2::volatile`).
//!
//! It runs only for the run that owns the bundle: the one whose `finding.json` put made
//! the bundle. A re-delivery finds the bundle there (`already done`) and sends nothing: a
//! second capture's record would land in no manifest.

use super::*;
use crate::actions::ec2::volatile::{self, Captured};
use std::time::Duration;

/// Runs the capture once isolation has run (the caller waits for that).
/// `owned` says (once the bundle's first put answered) whether this run made the bundle;
/// when it did not, nothing is sent and the step is left to [`not_owned`].
pub(super) async fn run(
    c: &Clients,
    req: &Request<'_>,
    view: &InstanceView,
    owned: impl std::future::Future<Output = bool>,
) -> Captured {
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
    if !owned.await {
        return Captured::default();
    }
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

/// The step of a capture not run because this run does not own the bundle: the bundle's
/// was already there (a re-delivery), or could not be started.
pub(super) fn not_owned(bundle: Option<&Step>) -> Step {
    match bundle {
        Some(b) if b.status == Status::AlreadyDone => Step::already(
            "no command sent: this finding's bundle was already there (a re-delivery); \
             the run that made it ran the capture, whose record is in its manifest",
        ),
        _ => Step::failed(
            "no command sent: the bundle could not be started (see evidence.write_bundle), \
             and a capture's record would be in no manifest",
        ),
    }
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
