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
use super::revocation;
use crate::actions::ec2::observe::api_error;
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
    /// False when ECS no longer knows the task: the record came from the network ACL.
    pub task_found: bool,
    pub record: Record,
    /// E.g. that the record is unverified because no MAC key is configured.
    pub warnings: Vec<String>,
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
    /// The record names ids that are not the task's own.
    #[error("task {0}: release refused, nothing was changed: {reasons}", reasons = .1.join("; "))]
    Refused(String, Vec<String>),
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
    let Some(task_id) = acl_record::task_id(task_arn) else {
        return Err(ReleaseError::InvalidTaskArn(task_arn.to_owned()));
    };
    let key = acl_record::key(task_id);
    let (described, tagged) = futures::join!(
        Box::pin(evidence::describe_task(&c.ecs, cluster, task_arn)),
        Box::pin(network_acl::acls_tagged(&c.ec2.ec2, &key)),
    );
    let tagged: Vec<Acl> = tagged.map_err(ReleaseError::Api)?;
    let unreadable = |e| ReleaseError::UnreadableRecord(task_arn.to_owned(), e);
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
        Described::NotFound(why) => return Err(ReleaseError::NotFound(task_arn.to_owned(), why)),
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
        return Err(ReleaseError::NotQuarantined(task_arn.to_owned()));
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
    let warnings = seals
        .await
        .map_err(|why| ReleaseError::Refused(task_arn.to_owned(), why))?;
    let violations = release_checks::binding_violations(&record, view, task_acls.as_deref());
    if !violations.is_empty() {
        return Err(ReleaseError::Refused(task_arn.to_owned(), violations));
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
        cluster: cluster.to_owned(),
        task_arn: task_arn.to_owned(),
        executed: execute,
        task_found: view.is_some(),
        record,
        warnings,
        outcomes,
    })
}

/// The seals of the record on the task and of each copy on an ACL: `Err` refuses (nothing
/// changed yet), `Ok` carries the warnings to show.
async fn check_seals(
    c: &Clients,
    task: Option<&TaskView>,
    acls: &[Acl],
    acl_key: &str,
    task_id: &str,
) -> Result<Vec<String>, Vec<String>> {
    let on_task = async {
        match task {
            Some(v) => Some(record_seal::verify_task(c, &v.arn, &v.tags).await),
            None => None,
        }
    };
    let on_acls = futures::future::join_all(acls.iter().filter_map(|a| {
        let value = a.tags.get(acl_key)?;
        Some(async move {
            let verdict = record_seal::verify_acl(c, &a.id, task_id, value, &a.tags).await;
            (a.id.as_str(), verdict)
        })
    }));
    let (on_task, on_acls) = futures::join!(Box::pin(on_task), on_acls);
    let verdicts = on_task
        .map(|v| ("the task".to_owned(), v))
        .into_iter()
        .chain(
            on_acls
                .into_iter()
                .map(|(id, v)| (format!("network ACL {id}"), v)),
        );
    let (mut warnings, mut refusals) = (Vec::new(), Vec::new());
    for (place, verdict) in verdicts {
        match crate::actions::ec2::release_checks::judge_mac(&verdict) {
            Ok(None) => {}
            Ok(Some(w)) if warnings.is_empty() => warnings.push(w),
            Ok(Some(_)) => {}
            Err(why) => refusals.push(format!("record on {place}: {why}")),
        }
    }
    if refusals.is_empty() {
        Ok(warnings)
    } else {
        Err(refusals)
    }
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
        let label = r.label();
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
            Some(e) if e.allow == r.allow && e.cidr.as_deref() == Some(r.cidr.as_str()) => {
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

const GONE: &str = "ECS no longer knows the task (the record came from the network ACL)";

async fn restore_targets(
    c: &Clients,
    view: Option<&TaskView>,
    record: &Record,
    execute: bool,
) -> R {
    let Some(view) = view else {
        return (
            Status::Skipped,
            format!("{GONE}: its IP may belong to another task; nothing re-registered"),
        );
    };
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

async fn restore_groups(c: &Clients, view: Option<&TaskView>, record: &Record, execute: bool) -> R {
    let Some(view) = view else {
        return (Status::Skipped, format!("{GONE}: its ENI is gone"));
    };
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

/// Status, detail, and whether the revocation (and so its tag on the task) is kept.
async fn remove_revocation(c: &Clients, record: &Record, execute: bool) -> (Status, String, bool) {
    match record.revoked_role.as_deref() {
        None => (
            Status::Skipped,
            "no role-session revocation recorded".into(),
            false,
        ),
        Some(role) => revocation::release(c, role, execute).await,
    }
}

/// The responder's tags to remove: on the task (if ECS still knows it) and on the ACLs.
struct Tags<'a> {
    cluster: &'a str,
    view: Option<&'a TaskView>,
    acls: &'a [Acl],
    acl_key: &'a str,
    task_id: &'a str,
    /// The revocation stays, so does the task's record of it (a later release finds it).
    keep_revoked_role: bool,
}

async fn remove_tags(c: &Clients, t: &Tags<'_>, execute: bool) -> R {
    let keys: Vec<String> = t
        .view
        .map(|v| {
            v.tags
                .keys()
                .filter(|k| record::is_record_key(k))
                .filter(|k| !(t.keep_revoked_role && k.as_str() == record::REVOKED_ROLE_KEY))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let kept = t.keep_revoked_role
        && t.view
            .is_some_and(|v| v.tags.contains_key(record::REVOKED_ROLE_KEY));
    let note = kept.then(|| format!("kept {} (the revocation stays)", record::REVOKED_ROLE_KEY));
    if keys.is_empty() && t.acls.is_empty() {
        let mut d = "no responder tags".to_owned();
        if let Some(n) = &note {
            d = format!("{d}; {n}");
        }
        return (Status::AlreadyDone, d);
    }
    if !execute {
        let mut changes = Vec::new();
        if !keys.is_empty() {
            changes.push(format!(
                "remove {} responder tags from the task",
                keys.len()
            ));
        }
        for a in t.acls {
            changes.push(format!("remove tag {} from {}", t.acl_key, a.id));
        }
        return would(changes, note.into_iter().collect());
    }
    let on_task = async {
        if keys.is_empty() {
            return Ok(None);
        }
        let arn = t.view.map(|v| v.arn.as_str()).unwrap_or_default();
        c.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.clone()))
            .send()
            .await
            .map(|_| Some(format!("removed {} tags from the task", keys.len())))
            .map_err(|e| api_error("UntagResource", &e))
    };
    let acl_keys = [t.acl_key.to_owned(), record_seal::acl_mac_key(t.task_id)];
    let acl_keys = &acl_keys;
    let on_acls = futures::future::join_all(t.acls.iter().map(|a| async move {
        network_acl::untag(&c.ec2.ec2, &a.id, acl_keys)
            .await
            .map(|_| format!("removed tag {} from {}", t.acl_key, a.id))
            .map_err(|e| format!("{}: {e}", a.id))
    }));
    let (task, acls) = futures::join!(on_task, on_acls);
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    match task {
        Ok(d) => done.extend(d),
        Err(e) => errors.push(e),
    }
    // The record of a revocation that stays is sealed again on its own.
    if let (true, Some(v)) = (kept, t.view) {
        let left: std::collections::BTreeMap<String, String> = v
            .tags
            .iter()
            .filter(|(k, _)| k.as_str() == record::REVOKED_ROLE_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ledger = Default::default();
        let sealed = record_seal::seal_task(c, t.cluster, &v.arn, &left, None, &ledger);
        match Box::pin(sealed).await {
            Ok(note) => done.extend(note),
            Err(e) => errors.push(e),
        }
    }
    for r in acls {
        match r {
            Ok(d) => done.push(d),
            Err(e) => errors.push(e),
        }
    }
    summarize(done, vec![], errors, note.into_iter().collect())
}
