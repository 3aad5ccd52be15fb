//! Release of an isolated task, from the record on the task: remove exactly the ACL
//! entries that were added (the IP will be reused by another task: leaving them is a bug),
//! re-register deregistered targets (only while the task still runs), restore the ENI's
//! groups, delete the role-session revocation, then remove the responder's tags.

use super::Clients;
use super::contain::REVOKE_POLICY_NAME;
use super::evidence::{self, Described, TaskView};
use super::network_acl::{self, Acl};
use super::record::{self, Record, RecordError};
use crate::actions::ec2::observe::{api_error, error_code};
use crate::outcome::Status;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    RemoveAclEntries,
    RestoreTargets,
    RestoreSecurityGroups,
    RemoveRoleRevocation,
    RemoveTags,
}

impl ReleaseStep {
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

impl Serialize for ReleaseStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseOutcome {
    pub kind: ReleaseStep,
    pub target: String,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub cluster: String,
    pub task_arn: String,
    pub executed: bool,
    pub record: Record,
    pub outcomes: Vec<ReleaseOutcome>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReleaseError {
    #[error("{0:?} is not a task ARN")]
    InvalidTaskArn(String),
    #[error("{0:?} is not a cluster name")]
    InvalidCluster(String),
    #[error("task {0}: {1}")]
    NotFound(String, String),
    #[error(
        "task {0} carries no responder record: not isolated by the responder, or already released"
    )]
    NotQuarantined(String),
    #[error("task {0}: {1}")]
    UnreadableRecord(String, RecordError),
    #[error("{0}")]
    Api(String),
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
    cluster: &str,
    task_arn: &str,
    execute: bool,
) -> Result<Released, ReleaseError> {
    if !crate::target::is_task_arn(task_arn) {
        return Err(ReleaseError::InvalidTaskArn(task_arn.to_owned()));
    }
    if !crate::target::is_cluster_name(cluster) {
        return Err(ReleaseError::InvalidCluster(cluster.to_owned()));
    }
    let view = match Box::pin(evidence::describe_task(&c.ecs, cluster, task_arn)).await {
        Described::Found(v) => *v,
        Described::NotFound(why) => return Err(ReleaseError::NotFound(task_arn.to_owned(), why)),
        Described::Failed(e) => return Err(ReleaseError::Api(e)),
    };
    let record = Record::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ReleaseError::UnreadableRecord(task_arn.to_owned(), e))?;
    if !view.tags.keys().any(|k| record::is_record_key(k)) {
        return Err(ReleaseError::NotQuarantined(task_arn.to_owned()));
    }
    let (acl, targets, groups, role) = futures::join!(
        Box::pin(remove_acl_entries(c, &record, execute)),
        Box::pin(restore_targets(c, &view, &record, execute)),
        Box::pin(restore_groups(c, &view, &record, execute)),
        Box::pin(remove_revocation(c, &record, execute)),
    );
    let mut outcomes: Vec<ReleaseOutcome> = [
        (ReleaseStep::RemoveAclEntries, acl),
        (ReleaseStep::RestoreTargets, targets),
        (ReleaseStep::RestoreSecurityGroups, groups),
        (ReleaseStep::RemoveRoleRevocation, role),
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
        Box::pin(remove_tags(c, &view, execute)).await
    };
    outcomes.push(ReleaseOutcome {
        kind: ReleaseStep::RemoveTags,
        target: task_arn.to_owned(),
        status,
        detail,
    });
    Ok(Released {
        cluster: cluster.to_owned(),
        task_arn: task_arn.to_owned(),
        executed: execute,
        record,
        outcomes,
    })
}

async fn remove_acl_entries(c: &Clients, record: &Record, execute: bool) -> R {
    if record.nacl.is_empty() {
        return (Status::Skipped, "no network-ACL entries recorded".into());
    }
    let ids: Vec<String> = record
        .nacl
        .iter()
        .map(|e| e.acl_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let acls: Vec<Acl> = match network_acl::acls_by_id(&c.ec2.ec2, &ids).await {
        Ok(a) => a,
        Err(e) if e.contains("InvalidNetworkAclID.NotFound") => vec![],
        Err(e) => return (Status::Failed, e),
    };
    let (mut already, mut notes, mut todo) = (Vec::new(), Vec::new(), Vec::new());
    for r in &record.nacl {
        let label = format!("{} {} #{} {}", r.acl_id, r.direction, r.rule_number, r.cidr);
        let Some(acl) = acls.iter().find(|a| a.id == r.acl_id) else {
            already.push(format!("{label}: the ACL no longer exists"));
            continue;
        };
        match acl
            .entries
            .iter()
            .find(|e| e.rule_number == r.rule_number && e.direction == r.direction)
        {
            None => already.push(format!("{label}: already removed")),
            Some(e) if !e.allow && e.cidr.as_deref() == Some(r.cidr.as_str()) => {
                todo.push((r, label))
            }
            Some(_) => notes.push(format!(
                "{label}: the rule number now holds another entry; left as is"
            )),
        }
    }
    if !execute && !todo.is_empty() {
        let changes = todo.iter().map(|(_, l)| format!("delete {l}")).collect();
        already.extend(notes);
        return would(changes, already);
    }
    let results = futures::future::join_all(todo.iter().map(|(r, label)| async move {
        network_acl::delete_entry(&c.ec2.ec2, &r.acl_id, r.rule_number, r.direction)
            .await
            .map(|_| format!("deleted {label}"))
            .map_err(|e| format!("{label}: {e}"))
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        already,
        err.into_iter().filter_map(Result::err).collect(),
        notes,
    )
}

async fn restore_targets(c: &Clients, view: &TaskView, record: &Record, execute: bool) -> R {
    if record.targets.is_empty() {
        return (Status::Skipped, "no deregistered targets recorded".into());
    }
    if !view.running() {
        return (
            Status::Skipped,
            format!(
                "the task is {}: its IP may belong to another task; targets not re-registered",
                view.last_status.to_lowercase()
            ),
        );
    }
    let label = |t: &record::Target| {
        format!(
            "{}{} in {}",
            t.id,
            t.port.map(|p| format!(":{p}")).unwrap_or_default(),
            t.target_group_arn
                .rsplit(":targetgroup/")
                .next()
                .unwrap_or("?")
        )
    };
    if !execute {
        return would(
            record
                .targets
                .iter()
                .map(|t| format!("register {}", label(t)))
                .collect(),
            vec![],
        );
    }
    let results = futures::future::join_all(record.targets.iter().map(|t| async move {
        let target = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
            .id(&t.id)
            .set_port(t.port)
            .build();
        c.elb
            .register_targets()
            .target_group_arn(&t.target_group_arn)
            .targets(target)
            .send()
            .await
            .map(|_| format!("registered {}", label(t)))
            .map_err(|e| format!("{}: {}", label(t), api_error("RegisterTargets", &e)))
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        vec![],
        err.into_iter().filter_map(Result::err).collect(),
        vec![],
    )
}

async fn restore_groups(c: &Clients, view: &TaskView, record: &Record, execute: bool) -> R {
    if record.prior_groups.is_empty() {
        return (Status::Skipped, "no security groups recorded".into());
    }
    if !view.running() {
        return (
            Status::Skipped,
            "the task is no longer running; its ENI is gone".into(),
        );
    }
    let mut notes = Vec::new();
    let mut todo = Vec::new();
    for (eni, groups) in &record.prior_groups {
        if view.eni_id.as_deref() != Some(eni.as_str()) {
            notes.push(format!("{eni} is not the task's ENI now; not restored"));
        } else if groups.is_empty() {
            notes.push(format!("{eni}: no groups recorded"));
        } else {
            todo.push((eni, groups));
        }
    }
    if !execute && !todo.is_empty() {
        return would(
            todo.iter()
                .map(|(e, g)| format!("set {e} → {}", g.join(",")))
                .collect(),
            notes,
        );
    }
    let results = futures::future::join_all(todo.into_iter().map(|(eni, groups)| async move {
        c.ec2
            .ec2
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .set_groups(Some(groups.clone()))
            .send()
            .await
            .map(|_| format!("{eni} → {}", groups.join(",")))
            .map_err(|e| {
                format!(
                    "{eni}: {}",
                    api_error("ModifyNetworkInterfaceAttribute", &e)
                )
            })
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        vec![],
        err.into_iter().filter_map(Result::err).collect(),
        notes,
    )
}

async fn remove_revocation(c: &Clients, record: &Record, execute: bool) -> R {
    let Some(role) = record.revoked_role.as_deref() else {
        return (
            Status::Skipped,
            "no role-session revocation recorded".into(),
        );
    };
    if !execute {
        return would(
            vec![format!(
                "delete inline policy {REVOKE_POLICY_NAME} of role {role}"
            )],
            vec![],
        );
    }
    match c
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(REVOKE_POLICY_NAME)
        .send()
        .await
    {
        Ok(_) => (
            Status::Done,
            format!("deleted {REVOKE_POLICY_NAME} from role {role}"),
        ),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => (
            Status::AlreadyDone,
            format!("role {role} has no {REVOKE_POLICY_NAME}"),
        ),
        Err(e) => (Status::Failed, api_error("DeleteRolePolicy", &e)),
    }
}

async fn remove_tags(c: &Clients, view: &TaskView, execute: bool) -> R {
    let keys: Vec<&String> = view
        .tags
        .keys()
        .filter(|k| record::is_record_key(k))
        .collect();
    if keys.is_empty() {
        return (Status::AlreadyDone, "no responder tags".into());
    }
    if !execute {
        return would(
            vec![format!("remove {} responder tags", keys.len())],
            vec![],
        );
    }
    match c
        .ecs
        .untag_resource()
        .resource_arn(&view.arn)
        .set_tag_keys(Some(keys.iter().map(|k| (*k).clone()).collect()))
        .send()
        .await
    {
        Ok(_) => (Status::Done, format!("removed {} tags", keys.len())),
        Err(e) => (Status::Failed, api_error("UntagResource", &e)),
    }
}
