//! Release of an isolated task, from the record on the task and the one on its subnet's
//! network ACL: remove exactly the ACL entries that were added (the IP will be reused by
//! another task: leaving them is a bug), re-register deregistered targets (only while the
//! task still runs), restore the ENI's groups, delete the role-session revocation once it
//! denies nothing any more (see [`super::revocation`]), then remove the responder's tags.
//!
//! ECS forgets a stopped task about an hour after it stops (`DescribeTasks` answers
//! `MISSING`) and its tags with it; the ACL's tag ([`super::acl_record`]) still names the
//! entries, so release works without the task.

use super::Clients;
use super::acl_record;
use super::evidence::{self, Described, TaskView};
use super::network_acl::{self, Acl};
use super::record::{self, NaclEntry, Record, RecordError};
use super::record_seal;
use super::release_checks;
use crate::actions::ec2::observe::api_error;
use crate::outcome::Status;
use crate::release::Resource;
use serde::Serialize;
use std::collections::BTreeSet;

mod checks;
mod restore;

use checks::*;
use restore::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    RemoveAclEntries,
    RestoreTargets,
    RestoreSecurityGroups,
    RemoveRoleRevocation,
    RemoveTags,
}

impl ReleaseStep {
    /// Every step, in the order release runs them.
    pub const ALL: [ReleaseStep; 5] = [
        ReleaseStep::RemoveAclEntries,
        ReleaseStep::RestoreTargets,
        ReleaseStep::RestoreSecurityGroups,
        ReleaseStep::RemoveRoleRevocation,
        ReleaseStep::RemoveTags,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReleaseStep::RemoveAclEntries => "ecs.release.remove_acl_entries",
            ReleaseStep::RestoreTargets => "ecs.release.restore_targets",
            ReleaseStep::RestoreSecurityGroups => "ecs.release.restore_security_groups",
            ReleaseStep::RemoveRoleRevocation => "ecs.release.remove_role_revocation",
            ReleaseStep::RemoveTags => "ecs.release.remove_tags",
        }
    }
}

crate::action::serialize_by_name!(ReleaseStep);

pub type ReleaseOutcome = crate::outcome::ReleaseOutcome<ReleaseStep>;

/// The task released, and its cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasedTask {
    pub cluster: String,
    pub task_arn: String,
}

/// What isolation recorded (on the task and on its subnets' network ACLs).
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseRecord {
    /// False when ECS no longer knows the task: the record came from the network ACL.
    pub task_found: bool,
    pub record: Record,
}

/// What release did (or, when `executed` is false, would do). The finding is the one the
/// task was isolated for (`guardduty-responder:finding-id`); `None` once ECS has forgotten
/// the task.
pub type Released = crate::release::Released<ReleasedTask, ReleaseRecord, ReleaseStep>;

pub use crate::release::ReleaseError;

/// How release messages name the task.
fn task(arn: &str) -> Resource {
    Resource::new("task", arn)
}

type R = (Status, String);

fn summarize(
    done: Vec<String>,
    already: Vec<String>,
    errors: Vec<String>,
    notes: Vec<String>,
) -> R {
    let join = |parts: &[&Vec<String>]| {
        parts
            .iter()
            .flat_map(|p| p.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !errors.is_empty() {
        (Status::Failed, join(&[&errors, &done, &already, &notes]))
    } else if !done.is_empty() {
        (Status::Done, join(&[&done, &already, &notes]))
    } else if !already.is_empty() {
        (Status::AlreadyDone, join(&[&already, &notes]))
    } else {
        (Status::Skipped, join(&[&notes]))
    }
}

fn would(changes: Vec<String>, rest: Vec<String>) -> R {
    let mut parts = vec![format!("dry run: would {}", changes.join("; "))];
    parts.extend(rest);
    (Status::Skipped, parts.join("; "))
}

pub(crate) async fn release(
    c: &Clients,
    cluster: &crate::ids::ClusterName,
    task_arn: &crate::ids::TaskArn,
    execute: bool,
) -> Result<Released, ReleaseError> {
    let (cluster, task_arn) = (cluster.as_str(), task_arn.as_str());
    let Some(task_id) = acl_record::task_id(task_arn) else {
        return Err(ReleaseError::invalid(task_arn, "a task ARN"));
    };
    let key = acl_record::key(task_id);
    let (described, tagged) = futures::join!(
        Box::pin(evidence::describe_task(&c.ecs, cluster, task_arn)),
        Box::pin(network_acl::acls_tagged(&c.ec2.ec2, &key)),
    );
    let tagged: Vec<Acl> = tagged.map_err(ReleaseError::Api)?;
    let unreadable = |e: RecordError| ReleaseError::Unreadable {
        resource: task(task_arn),
        why: e.to_string(),
    };
    let mut on_acls: Vec<NaclEntry> = Vec::new();
    for a in &tagged {
        if let Some(v) = a.tags.get(&key) {
            on_acls.extend(acl_record::decode(&a.id, v).map_err(unreadable)?);
        }
    }
    let view = match described {
        Described::Found(v) => Some(*v),
        // Gone from ECS: the ACL's record is all there is.
        Described::NotFound(_) if !tagged.is_empty() => None,
        Described::NotFound(why) => {
            return Err(ReleaseError::NotFound {
                resource: task(task_arn),
                why,
            });
        }
        Described::Failed(e) => return Err(ReleaseError::Api(e)),
    };
    let mut record = match &view {
        Some(v) => Record::decode(v.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(unreadable)?,
        None => Record::default(),
    };
    let on_task = view
        .as_ref()
        .is_some_and(|v| v.tags.keys().any(|k| record::is_record_key(k)));
    if !on_task && tagged.is_empty() {
        return Err(ReleaseError::NotQuarantined {
            resource: task(task_arn),
            why: "carries no responder record: not isolated by the responder",
        });
    }
    let nacl: BTreeSet<NaclEntry> = record.nacl.drain(..).chain(on_acls).collect();
    record.nacl = nacl.into_iter().collect();
    let view = view.as_ref();
    // The ACLs of the task's VPC: the only ones its isolation writes to.
    let task_acls: Option<Vec<String>> = match view.and_then(|v| v.subnet_id.as_deref()) {
        Some(subnet) if !record.nacl.is_empty() => {
            let own = network_acl::acl_of_subnet(&c.ec2.ec2, subnet)
                .await
                .map_err(ReleaseError::Api)?;
            let all = match &own.vpc_id {
                Some(vpc) => network_acl::acls_of_vpc(&c.ec2.ec2, vpc)
                    .await
                    .map_err(ReleaseError::Api)?,
                None => vec![own],
            };
            Some(all.into_iter().map(|a| a.id).collect())
        }
        _ => None,
    };
    let seals = Box::pin(check_seals(
        c,
        view.filter(|_| on_task),
        &tagged,
        &key,
        task_id,
    ));
    let warnings = seals.await.map_err(|reasons| ReleaseError::Refused {
        resource: task(task_arn),
        reasons,
    })?;
    let violations = release_checks::binding_violations(&record, view, task_acls.as_deref());
    if !violations.is_empty() {
        return Err(ReleaseError::Refused {
            resource: task(task_arn),
            reasons: violations,
        });
    }
    let (acl, targets, groups, role) = futures::join!(
        Box::pin(remove_acl_entries(c, &record, execute)),
        Box::pin(restore_targets(c, view, &record, execute)),
        Box::pin(restore_groups(c, view, &record, execute)),
        Box::pin(remove_revocation(c, &record, execute)),
    );
    let revocation_kept = role.2;
    let mut outcomes: Vec<ReleaseOutcome> = [
        (ReleaseStep::RemoveAclEntries, acl),
        (ReleaseStep::RestoreTargets, targets),
        (ReleaseStep::RestoreSecurityGroups, groups),
        (ReleaseStep::RemoveRoleRevocation, (role.0, role.1)),
    ]
    .into_iter()
    .map(|(kind, (status, detail))| ReleaseOutcome {
        kind,
        target: task_arn.to_owned(),
        status,
        detail,
    })
    .collect();
    let failed = outcomes.iter().any(|o| o.status == Status::Failed);
    let (status, detail) = if failed {
        (
            Status::Skipped,
            "kept: a release step failed; fix it and run release again".to_owned(),
        )
    } else {
        let tags = Tags {
            cluster,
            view,
            acls: &tagged,
            acl_key: &key,
            task_id,
            keep_revoked_role: revocation_kept,
        };
        Box::pin(remove_tags(c, &tags, execute)).await
    };
    outcomes.push(ReleaseOutcome {
        kind: ReleaseStep::RemoveTags,
        target: task_arn.to_owned(),
        status,
        detail,
    });
    Ok(Released {
        resource: ReleasedTask {
            cluster: cluster.to_owned(),
            task_arn: task_arn.to_owned(),
        },
        finding_id: view.and_then(|v| v.tags.get(crate::actions::tags::FINDING_ID_KEY).cloned()),
        executed: execute,
        record: ReleaseRecord {
            task_found: view.is_some(),
            record,
        },
        warnings,
        outcomes,
    })
}
