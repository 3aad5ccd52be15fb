//! Release: a human decision, taken with `responder release ec2 <instance-id>`. Restores
//! what quarantine recorded on the instance (groups per ENI, protection flags, Auto
//! Scaling membership, Elastic IPs), then removes the quarantine tags. Evidence snapshots
//! stay. If any restore step fails the tags stay too, so release can simply be re-run.

use super::Clients;
use super::observe::{self, AsgMember, Described, InstanceView, api_error};
use super::prior_state::{EipAssociation, PriorState, is_quarantine_key};
use super::record_mac::{self, MAC_KEY};
use super::release_checks::{self, LiveFacts};
use crate::actions::tags::REVOKED_ROLE_KEY;
use crate::outcome::Status;
use crate::release::Resource;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, EbsInstanceBlockDeviceSpecification, InstanceAttributeName,
    InstanceBlockDeviceMappingSpecification, Tag,
};
use serde::Serialize;
use std::collections::BTreeMap;

mod checks;
mod reattach;
mod restore;

use checks::*;
use reattach::*;
use restore::*;

/// One release step. Spelled like the plan's action kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    RestoreSecurityGroups,
    RestoreProtection,
    RestoreAutoScaling,
    RestoreElasticIps,
    RemoveRoleRevocation,
    RemoveQuarantineTags,
}

impl ReleaseStep {
    /// Every step, in the order release runs them.
    pub const ALL: [ReleaseStep; 6] = [
        ReleaseStep::RestoreSecurityGroups,
        ReleaseStep::RestoreProtection,
        ReleaseStep::RestoreAutoScaling,
        ReleaseStep::RestoreElasticIps,
        ReleaseStep::RemoveRoleRevocation,
        ReleaseStep::RemoveQuarantineTags,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReleaseStep::RestoreSecurityGroups => "ec2.release.restore_security_groups",
            ReleaseStep::RestoreProtection => "ec2.release.restore_protection",
            ReleaseStep::RestoreAutoScaling => "ec2.release.restore_auto_scaling",
            ReleaseStep::RestoreElasticIps => "ec2.release.restore_elastic_ips",
            ReleaseStep::RemoveRoleRevocation => "ec2.release.remove_role_revocation",
            ReleaseStep::RemoveQuarantineTags => "ec2.release.remove_quarantine_tags",
        }
    }
}

crate::action::serialize_by_name!(ReleaseStep);

pub type ReleaseOutcome = crate::outcome::ReleaseOutcome<ReleaseStep>;

/// The instance released.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasedInstance {
    pub instance_id: String,
}

/// What quarantine recorded on the instance and release restores.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseRecord {
    pub prior_state: PriorState,
}

/// What release did (or, when `executed` is false, would do), with the recorded state it
/// restores (for the operator to check). The finding is the one the record was written
/// for (`guardduty-responder:prior:finding`).
pub type Released = crate::release::Released<ReleasedInstance, ReleaseRecord, ReleaseStep>;

pub use crate::release::ReleaseError;

/// How release messages name the instance.
fn instance(id: &str) -> Resource {
    Resource::new("instance", id)
}

type R = (Status, String);

/// Without `execute`, only reads: every step that would change something is reported
/// `skipped` with "dry run: would …".
pub(crate) async fn release(
    c: &Clients,
    instance_id: &crate::ids::InstanceId,
    execute: bool,
) -> Result<Released, ReleaseError> {
    let instance_id = instance_id.as_str();
    let (described, member) = futures::join!(
        Box::pin(observe::describe_instance(&c.ec2, instance_id)),
        Box::pin(observe::asg_membership(&c.asg, instance_id))
    );
    let view = match described {
        Described::Found(v) => v,
        Described::NotFound(why) => {
            return Err(ReleaseError::NotFound {
                resource: instance(instance_id),
                why,
            });
        }
        Described::Failed(e) => return Err(ReleaseError::Api(e)),
    };
    let prior = PriorState::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ReleaseError::Unreadable {
            resource: instance(instance_id),
            why: e.to_string(),
        })?;
    let Some(prior) = prior else {
        // Released before, the revocation kept: only it is left to release.
        if view.tags.contains_key(REVOKED_ROLE_KEY) {
            return Ok(Box::pin(release_revocation_only(c, &view, execute)).await);
        }
        return Err(ReleaseError::NotQuarantined {
            resource: instance(instance_id),
            why: "carries no recorded prior state: not quarantined by the responder",
        });
    };
    let warnings = Box::pin(check_record(c, &view, &prior, &member)).await?;

    let (groups, protection, asg, eips, revocation) = futures::join!(
        Box::pin(restore_groups(c, &view, &prior, execute)),
        Box::pin(restore_protection(c, &view, &prior, execute)),
        Box::pin(restore_auto_scaling(
            c,
            instance_id,
            &prior,
            &member,
            execute
        )),
        Box::pin(restore_eips(c, &prior, execute)),
        Box::pin(maybe_revocation(c, &view, execute)),
    );
    let mut outcomes: Vec<ReleaseOutcome> = [
        (ReleaseStep::RestoreSecurityGroups, groups),
        (ReleaseStep::RestoreProtection, protection),
        (ReleaseStep::RestoreAutoScaling, asg),
        (ReleaseStep::RestoreElasticIps, eips),
    ]
    .into_iter()
    // Only a recorded revocation gets a step: most quarantines have none.
    .chain(
        revocation
            .as_ref()
            .map(|(s, d, _)| (ReleaseStep::RemoveRoleRevocation, (*s, d.clone()))),
    )
    .map(|(kind, (status, detail))| ReleaseOutcome {
        kind,
        target: instance_id.to_owned(),
        status,
        detail,
    })
    .collect();
    let failed = outcomes.iter().any(|o| o.status == Status::Failed);
    let (status, detail) = if failed {
        (
            Status::Skipped,
            "kept: a restore step failed; fix it and run release again".to_owned(),
        )
    } else {
        let kept = revocation.as_ref().is_some_and(|(_, _, kept)| *kept);
        Box::pin(remove_tags(c, &view, kept, execute)).await
    };
    outcomes.push(ReleaseOutcome {
        kind: ReleaseStep::RemoveQuarantineTags,
        target: instance_id.to_owned(),
        status,
        detail,
    });
    Ok(Released {
        resource: ReleasedInstance {
            instance_id: instance_id.to_owned(),
        },
        finding_id: view.tags.get(record_mac::FINDING_KEY).cloned(),
        executed: execute,
        record: ReleaseRecord { prior_state: prior },
        warnings,
        outcomes,
    })
}

/// A second release, after the quarantine itself was released with the revocation kept.
async fn release_revocation_only(c: &Clients, view: &InstanceView, execute: bool) -> Released {
    let (status, detail, kept) = maybe_revocation(c, view, execute).await.unwrap_or((
        Status::AlreadyDone,
        "no revocation recorded".into(),
        false,
    ));
    let mut outcomes = vec![ReleaseOutcome {
        kind: ReleaseStep::RemoveRoleRevocation,
        target: view.id.clone(),
        status,
        detail,
    }];
    if !kept {
        let (status, detail) = remove_tags(c, view, false, execute).await;
        outcomes.push(ReleaseOutcome {
            kind: ReleaseStep::RemoveQuarantineTags,
            target: view.id.clone(),
            status,
            detail,
        });
    }
    Released {
        resource: ReleasedInstance {
            instance_id: view.id.clone(),
        },
        executed: execute,
        record: ReleaseRecord {
            prior_state: PriorState::default(),
        },
        // The first release already closed the finding (if configured): nothing to resolve.
        finding_id: None,
        warnings: vec![
            "the quarantine was released before; only its role-session revocation remained".into(),
        ],
        outcomes,
    }
}

fn summarize(
    done: Vec<String>,
    already: Vec<String>,
    errors: Vec<String>,
    notes: Vec<String>,
) -> R {
    let join = |parts: [&Vec<String>; 4]| {
        parts
            .iter()
            .flat_map(|p| p.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !errors.is_empty() {
        (Status::Failed, join([&errors, &done, &already, &notes]))
    } else if !done.is_empty() {
        (Status::Done, join([&done, &already, &notes, &vec![]]))
    } else if !already.is_empty() {
        (
            Status::AlreadyDone,
            join([&already, &notes, &vec![], &vec![]]),
        )
    } else {
        (Status::Skipped, join([&notes, &vec![], &vec![], &vec![]]))
    }
}

/// The dry-run report: what would change, then what is already as recorded.
fn would(changes: Vec<String>, already: Vec<String>, notes: Vec<String>) -> R {
    let mut parts = vec![format!("dry run: would {}", changes.join("; "))];
    parts.extend(already);
    parts.extend(notes);
    (Status::Skipped, parts.join("; "))
}
