//! The EC2 and ECS readers: instances and tasks carrying the responder's status tag, and
//! task records left on network ACLs after ECS forgot the task. Reads only; each record's
//! seal is checked with KMS `VerifyMac` when a record key is configured.

use super::records::{self, Place};
use super::{Contained, RecordCheck};
use crate::actions::ec2::observe::api_error;
use crate::actions::ec2::record_mac::{self, MAC_KEY, MacVerdict};
use crate::actions::ecs::acl_record::ACL_TASK_KEY;
use crate::actions::ecs::record_seal::{acl_mac_key, acl_message, task_message};
use crate::actions::tags::{RECORD_FINDING_KEY, STATUS_KEY, is_prior_key};
use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::{DesiredStatus, TaskField};
use std::collections::{BTreeMap, BTreeSet};

/// The AWS calls of [`AwsReader`] (the reminder's role grants exactly these).
pub const PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkAcls",
    "ecs:ListClusters",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "kms:VerifyMac",
    // The cluster's endpoint and CA, for the EKS reader (read_eks.rs).
    "eks:DescribeCluster",
];

/// Most tasks `DescribeTasks` takes at once.
const DESCRIBE_BATCH: usize = 100;

/// Clients for one account and region.
pub struct AwsReader {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    kms: aws_sdk_kms::Client,
    mac_key: Option<String>,
}

type Tags = BTreeMap<String, String>;

fn tag_map<'a>(pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or("").to_owned())))
        .collect()
}

impl AwsReader {
    /// `sdk` reads the place (an account's region); `home` verifies the seals: the record
    /// key is the responder's, in its own account and region, so a member account's read-only
    /// role needs no KMS grant and records in every region are checked with the same key.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        home: &aws_config::SdkConfig,
        mac_key: Option<String>,
    ) -> AwsReader {
        AwsReader {
            ec2: aws_sdk_ec2::Client::new(sdk),
            ecs: aws_sdk_ecs::Client::new(sdk),
            kms: aws_sdk_kms::Client::new(home),
            mac_key,
        }
    }

    async fn check(&self, message: Vec<u8>, mac: Option<&str>) -> RecordCheck {
        let verdict = record_mac::verify(&self.kms, self.mac_key.as_deref(), message, mac);
        match Box::pin(verdict).await {
            MacVerdict::Valid => RecordCheck::Verified,
            MacVerdict::NotConfigured => RecordCheck::Unverified("no record key configured".into()),
            MacVerdict::Unverifiable(e) => RecordCheck::Unverified(e),
            MacVerdict::Absent => RecordCheck::Invalid("no seal".into()),
            MacVerdict::Invalid => RecordCheck::Invalid("the seal does not match".into()),
        }
    }

    /// Instances (not terminated) with the status tag.
    pub async fn ec2(&self, place: &Place) -> Result<Vec<Contained>, String> {
        let pages: Vec<_> = self
            .ec2
            .describe_instances()
            .filters(Filter::builder().name("tag-key").values(STATUS_KEY).build())
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(
                        ["pending", "running", "stopping", "stopped", "shutting-down"]
                            .map(String::from)
                            .to_vec(),
                    ))
                    .build(),
            )
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("DescribeInstances", &e))?;
        let mut out = Vec::new();
        for i in pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
        {
            let Some(id) = i.instance_id() else { continue };
            let tags = tag_map(i.tags().iter().map(|t| (t.key(), t.value())));
            let finding = tags.get(RECORD_FINDING_KEY).map_or("", String::as_str);
            let prior = tags
                .iter()
                .filter(|(k, _)| is_prior_key(k))
                .map(|(k, v)| (k.as_str(), v.as_str()));
            let message = record_mac::canonical(id, finding, prior);
            let record = self
                .check(message, tags.get(MAC_KEY).map(String::as_str))
                .await;
            out.extend(records::ec2_instance(place, id, &tags, record));
        }
        Ok(out)
    }

    async fn cluster_tasks(&self, cluster: &str) -> Result<Vec<String>, String> {
        let mut arns = Vec::new();
        for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let pages: Vec<_> = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(status)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ListTasks", &e))?;
            arns.extend(pages.iter().flat_map(|p| p.task_arns()).cloned());
        }
        Ok(arns)
    }

    /// Tasks with the status tag in every cluster, then ACL records of tasks not among them.
    pub async fn ecs(&self, place: &Place) -> Result<Vec<Contained>, String> {
        let clusters: Vec<_> = self
            .ecs
            .list_clusters()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("ListClusters", &e))?;
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for cluster_arn in clusters.iter().flat_map(|p| p.cluster_arns()) {
            let Some(cluster) = cluster_arn.rsplit('/').next() else {
                continue;
            };
            let arns = self.cluster_tasks(cluster_arn).await?;
            for batch in arns.chunks(DESCRIBE_BATCH) {
                let described = self
                    .ecs
                    .describe_tasks()
                    .cluster(cluster_arn)
                    .set_tasks(Some(batch.to_vec()))
                    .include(TaskField::Tags)
                    .send()
                    .await
                    .map_err(|e| api_error("DescribeTasks", &e))?;
                for t in described.tasks() {
                    let Some(arn) = t.task_arn() else { continue };
                    let tags = tag_map(t.tags().iter().map(|x| (x.key(), x.value())));
                    if !tags.contains_key(STATUS_KEY) {
                        continue;
                    }
                    seen.extend(crate::actions::ecs::acl_record::task_id(arn).map(str::to_owned));
                    let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                    let message = task_message(arn, pairs);
                    let record = self
                        .check(message, tags.get(MAC_KEY).map(String::as_str))
                        .await;
                    out.extend(records::ecs_task(place, cluster, arn, &tags, record));
                }
            }
        }
        out.extend(self.acl_records(place, &seen).await?);
        Ok(out)
    }

    /// Task records on network ACLs whose task is not listed (ECS forgot it).
    async fn acl_records(
        &self,
        place: &Place,
        listed: &BTreeSet<String>,
    ) -> Result<Vec<Contained>, String> {
        let pages: Vec<_> = self
            .ec2
            .describe_network_acls()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("DescribeNetworkAcls", &e))?;
        let mut out = Vec::new();
        for acl in pages.iter().flat_map(|p| p.network_acls()) {
            let Some(acl_id) = acl.network_acl_id() else {
                continue;
            };
            let tags = tag_map(acl.tags().iter().map(|t| (t.key(), t.value())));
            for (key, value) in &tags {
                let Some(task_id) = key.strip_prefix(ACL_TASK_KEY) else {
                    continue;
                };
                if listed.contains(task_id) {
                    continue;
                }
                let mac = tags.get(&acl_mac_key(task_id)).map(String::as_str);
                let record = self.check(acl_message(acl_id, task_id, value), mac).await;
                out.extend(records::ecs_acl_record(
                    place, acl_id, task_id, value, record,
                ));
            }
        }
        Ok(out)
    }
}
