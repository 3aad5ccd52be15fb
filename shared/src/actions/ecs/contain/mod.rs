//! Isolation of one task. Round trips:
//!
//! 1. `DescribeTasks` (with tags: the record of an earlier run);
//! 2. concurrently: the task definition, the ENI, the subnet's network ACL and the
//!    service's target groups (evidence is complete before anything changes);
//! 3. concurrently: network isolation (record on the task, then ACL entries or the group
//!    swap), target deregistration (record, then deregister), role-session revocation;
//! 4. the status tags; then, when configured, `StopTask`.

use super::Clients;
use super::evidence::{self, Described, EniView, TaskDefinition, TaskView};
use super::network_acl::{self, Acl};
use super::record::{self, Record};
use super::record_seal;
use super::revocation;
pub(super) use super::tag_task::tag_task;
use crate::actions::ec2::isolation_groups::{self, Role};
use crate::actions::ec2::observe::{Eni, api_error};
use crate::actions::ec2::quarantine::{
    FINDING_ID_KEY, FINDING_TYPE_KEY, QUARANTINED_AT_KEY, STATUS_INCOMPLETE, STATUS_KEY,
    STATUS_QUARANTINED, Step, tag_value,
};
use crate::actions::ec2::swap;
use crate::actions::ec2::{sensor_coverage, sensor_link};
use crate::options::EcsOptions;
use crate::outcome::Status;
use crate::plan::ActionKind;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

mod isolate;
mod steps;

use isolate::*;
use steps::*;

/// The service's target groups and container ports, or why they could not be read.
type TargetGroups = Result<Vec<(String, Option<i32>)>, String>;

pub(crate) struct Request<'a> {
    pub cluster: &'a crate::ids::ClusterName,
    pub task_arn: &'a crate::ids::TaskArn,
    pub finding_id: &'a str,
    pub finding_type: &'a str,
    pub finding: &'a crate::finding::Finding,
    pub account: &'a str,
    pub kinds: HashSet<ActionKind>,
}

async fn maybe<T>(cond: bool, f: impl Future<Output = T>) -> Option<T> {
    if cond { Some(f.await) } else { None }
}

pub(crate) async fn contain(
    c: &Clients,
    req: &Request<'_>,
    opts: &EcsOptions,
) -> HashMap<ActionKind, Step> {
    use ActionKind::*;
    // A ledger of its own: the seal covers what this run wrote, not a concurrent run's.
    let c = &Clients {
        ledger: Default::default(),
        ..c.clone()
    };
    let want = |k: ActionKind| req.kinds.contains(&k);
    let all = |s: Step| -> HashMap<ActionKind, Step> {
        req.kinds.iter().map(|k| (*k, s.clone())).collect()
    };
    let view = match Box::pin(evidence::describe_task(&c.ecs, req.cluster, req.task_arn)).await {
        Described::Found(v) => *v,
        Described::NotFound(why) => return all(Step::new(Status::Skipped, why)),
        Described::Failed(e) => return all(Step::new(Status::Failed, e)),
    };
    if !view.running() {
        return all(Step::new(
            Status::Skipped,
            format!("not running (task {})", view.last_status.to_lowercase()),
        ));
    }
    let record = Record::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let record = match record {
        Ok(r) => r,
        // Never build on a record we cannot read: release depends on it.
        Err(e) => {
            return all(Step::new(
                Status::Failed,
                format!("{e}; left as is, check the task's tags"),
            ));
        }
    };

    // An earlier run's record is sealed, or it is not built on silently.
    let trusted = match c.ec2.mac_key.is_some() && !record.is_empty() {
        true => Some(Box::pin(record_seal::verify_task(c, &view.arn, &view.tags)).await),
        false => None,
    };

    // Round trip 2: every read at once.
    let isolating = want(EcsIsolateTaskNetwork);
    let (taskdef, eni, acl, tgs) = futures::join!(
        Box::pin(maybe(
            view.task_definition_arn.is_some()
                && (want(EcsCaptureEvidence)
                    || want(EcsRevokeRoleSessions)
                    || c.evidence.is_some()),
            evidence::describe_task_definition(
                &c.ecs,
                view.task_definition_arn.as_deref().unwrap_or_default()
            )
        )),
        Box::pin(maybe(
            view.eni_id.is_some(),
            evidence::describe_eni(&c.ec2.ec2, view.eni_id.as_deref().unwrap_or_default())
        )),
        Box::pin(maybe(
            isolating && view.subnet_id.is_some(),
            network_acl::acl_of_subnet(&c.ec2.ec2, view.subnet_id.as_deref().unwrap_or_default())
        )),
        Box::pin(maybe(
            want(EcsDeregisterTargets) && view.service().is_some(),
            evidence::service_target_groups(
                &c.ecs,
                req.cluster,
                view.service().unwrap_or_default()
            )
        )),
    );
    let mut out = HashMap::new();
    if want(EcsCaptureEvidence) {
        out.insert(EcsCaptureEvidence, capture(&view, &taskdef, &eni, &tgs));
    }

    // Round trip 3: the changes, each recorded before it is made; the evidence bundle
    // alongside (its descriptions are the ones above, taken before any change).
    let subject = crate::evidence::collect::Subject {
        finding: req.finding,
        account: req.account,
        finding_id: req.finding_id,
    };
    let (isolated, deregistered, revoked, bundle) = futures::join!(
        Box::pin(maybe(
            isolating,
            isolate(c, req, &view, &eni, acl, &record, opts)
        )),
        Box::pin(maybe(
            want(EcsDeregisterTargets),
            deregister(c, &view, tgs, &record)
        )),
        Box::pin(maybe(
            want(EcsRevokeRoleSessions),
            revocation::revoke(c, &view, &taskdef, &c.ec2.revocable_role_arns)
        )),
        Box::pin(async {
            match &c.evidence {
                Some(ev) => {
                    Some(super::bundle::write(c, ev, &subject, &view, &taskdef, &eni).await)
                }
                None => None,
            }
        }),
    );
    for (k, s) in [
        (EcsIsolateTaskNetwork, isolated),
        (EcsDeregisterTargets, deregistered),
        (EcsRevokeRoleSessions, revoked),
        (EvidenceWriteBundle, bundle),
    ] {
        if let Some(s) = s {
            out.insert(k, s);
        }
    }
    let sealed = record_seal::seal_task(
        c,
        req.cluster,
        &view.arn,
        &view.tags,
        trusted.as_ref(),
        &c.ledger,
    );
    let sealed = Box::pin(sealed).await;
    if want(EcsTagTask) {
        let failed = out
            .iter()
            .any(|(k, s)| s.status == Status::Failed && !k.collects_evidence());
        let mut s = Box::pin(tag_status(c, &view, req, failed)).await;
        match sealed {
            Ok(None) => {}
            Ok(Some(note)) => s.detail.push_str(&format!("; {note}")),
            Err(e) => {
                s.status = Status::Failed;
                s.detail.push_str(&format!("; {e}"));
            }
        }
        out.insert(EcsTagTask, s);
    }
    if want(EcsStopTask) {
        out.insert(EcsStopTask, Box::pin(stop(c, &view, req)).await);
    }
    for k in &req.kinds {
        out.entry(*k)
            .or_insert_with(|| Step::new(Status::Skipped, "not an ECS isolation step"));
    }
    out
}

#[cfg(test)]
mod tests;
