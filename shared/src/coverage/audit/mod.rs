//! The coverage audit: `GetCoverageStatistics` (by coverage status and by resource type)
//! and `ListCoverage` filtered to `UNHEALTHY`, every page, on the detector of this account
//! and region (found with `ListDetectors` when there is exactly one).
//!
//! `--require-tag KEY=VALUE` narrows the failing set to resources carrying that tag.
//! `ListCoverage` returns no tags, so they are looked up once with the Resource Groups
//! Tagging API (`tag:GetResources` for `ec2:instance`, `eks:cluster`, `ecs:cluster`). That
//! API sees the caller's account only: a member account's resource is never "required".

use super::hint::Cause;
use super::resource::{CoveredResource, Detail, ResourceType};
use crate::finding::Timestamp;
use crate::sanitize::{FieldKind, Untrusted};
use aws_sdk_guardduty::types::{
    CoverageFilterCondition, CoverageFilterCriteria, CoverageFilterCriterion,
    CoverageFilterCriterionKey, CoverageStatisticsType,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

mod resource;
use resource::*;

/// The IAM actions the coverage function calls (keep in step with `local.permissions["coverage"]`).
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    "guardduty:ListDetectors",
    "guardduty:GetCoverageStatistics",
    "guardduty:ListCoverage",
    // Only with a required tag.
    "tag:GetResources",
    // coverage::function — the last unhealthy set, kept as metrics.
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricStatistics",
];

/// Conditions on the actions above (`infra/modules/surface-policy` must use exactly these):
/// metrics only in the responder's namespace, so the role cannot write anyone else's.
pub const CONDITIONS: &[crate::actions::iam_conditions::Conditioned] =
    &[crate::actions::iam_conditions::Conditioned {
        action: "cloudwatch:PutMetricData",
        statements: &[&[(
            "StringEquals",
            "cloudwatch:namespace",
            &["GuardDutyResponder"],
        )]],
    }];

/// `KEY=VALUE`: only unhealthy resources with this tag fail the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
}

impl TagFilter {
    pub fn parse(s: &str) -> Result<TagFilter, String> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(TagFilter {
                key: k.trim().to_owned(),
                value: v.trim().to_owned(),
            }),
            _ => Err(format!("{s:?} is not KEY=VALUE")),
        }
    }

    /// `KEY=VALUE`, neutralised (the operator typed it, but it is echoed into notifications).
    pub fn plain(&self) -> String {
        Untrusted::new(format!("{}={}", self.key, self.value)).plain(FieldKind::Name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Found with `ListDetectors` when not given.
    pub detector_id: Option<String>,
    pub resource_type: Option<ResourceType>,
    pub require_tag: Option<TagFilter>,
    /// `ListCoverage` page size (1–50); `None` leaves it to the service.
    pub page_size: Option<i32>,
}

/// One unhealthy resource and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Unhealthy {
    #[serde(flatten)]
    pub resource: CoveredResource,
    pub cause: Cause,
    pub hint: &'static str,
    /// Counts toward failure: always without `require_tag`, else only when tagged so.
    pub required: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub detector_id: String,
    pub by_status: BTreeMap<String, i64>,
    pub by_resource_type: BTreeMap<String, i64>,
    pub resource_type: Option<ResourceType>,
    pub require_tag: Option<TagFilter>,
    pub unhealthy: Vec<Unhealthy>,
    /// How many `unhealthy` count toward failure.
    pub failing: usize,
}

impl AuditReport {
    pub fn new(
        detector_id: String,
        by_status: BTreeMap<String, i64>,
        by_resource_type: BTreeMap<String, i64>,
        opts: &AuditOptions,
        resources: Vec<CoveredResource>,
        tagged: Option<&HashSet<String>>,
    ) -> AuditReport {
        let mut unhealthy: Vec<Unhealthy> = resources
            .into_iter()
            .map(|resource| {
                let cause = Cause::of(&resource);
                let required = match tagged {
                    None => true,
                    Some(set) => set.contains(&tag_key(&resource)),
                };
                Unhealthy {
                    resource,
                    cause,
                    hint: cause.hint(),
                    required,
                }
            })
            .collect();
        unhealthy.sort_by_key(|u| u.resource.key());
        unhealthy.dedup_by(|a, b| a.resource.key() == b.resource.key());
        let failing = unhealthy.iter().filter(|u| u.required).count();
        AuditReport {
            detector_id,
            by_status,
            by_resource_type,
            resource_type: opts.resource_type.clone(),
            require_tag: opts.require_tag.clone(),
            unhealthy,
            failing,
        }
    }

    /// The unhealthy resources that fail the audit.
    pub fn failing(&self) -> impl Iterator<Item = &Unhealthy> {
        self.unhealthy.iter().filter(|u| u.required)
    }

    /// A 32-bit FNV-1a hash of the sorted keys of the failing set; 0 for the empty set.
    /// Exact as a CloudWatch metric value (an f64), which is where the function keeps it.
    pub fn failing_set_hash(&self) -> u32 {
        let mut keys: Vec<String> = self.failing().map(|u| u.resource.key()).collect();
        if keys.is_empty() {
            return 0;
        }
        keys.sort();
        let mut h: u32 = 0x811c_9dc5;
        for k in &keys {
            for b in k.bytes().chain(std::iter::once(b'\n')) {
                h ^= u32::from(b);
                h = h.wrapping_mul(0x0100_0193);
            }
        }
        h.max(1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no GuardDuty detector in this account and region")]
    NoDetector,
    #[error("{0} GuardDuty detectors in this account and region; pass --detector-id")]
    SeveralDetectors(usize),
    #[error("{operation} failed: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
}

fn api<E: std::error::Error>(operation: &'static str) -> impl FnOnce(E) -> AuditError {
    move |e| AuditError::Api {
        operation,
        message: crate::sanitize::ascii_line(
            &aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
            400,
        ),
    }
}

/// The key under which a resource's tag is looked up: type, account, name.
fn tag_key(r: &CoveredResource) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}",
        r.resource_type.api_name(),
        r.account_id.as_raw(),
        r.name.as_raw()
    )
}

/// `arn:aws:ec2:r:acct:instance/i-…`, `arn:aws:eks:r:acct:cluster/name`,
/// `arn:aws:ecs:r:acct:cluster/name` → the same key as [`tag_key`].
pub fn arn_tag_key(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, account, resource] = parts.as_slice() else {
        return None;
    };
    let (kind, name) = resource.split_once('/')?;
    let t = match (*service, kind) {
        ("ec2", "instance") => "EC2",
        ("eks", "cluster") => "EKS",
        ("ecs", "cluster") => "ECS",
        _ => return None,
    };
    Some(format!("{t}\u{1f}{account}\u{1f}{name}"))
}

fn status_filter(opts: &AuditOptions, unhealthy_only: bool) -> Option<CoverageFilterCriteria> {
    let criterion = |key: CoverageFilterCriterionKey, value: &str| {
        CoverageFilterCriterion::builder()
            .criterion_key(key)
            .filter_condition(CoverageFilterCondition::builder().equals(value).build())
            .build()
    };
    let mut list = Vec::new();
    if unhealthy_only {
        list.push(criterion(
            CoverageFilterCriterionKey::CoverageStatus,
            "UNHEALTHY",
        ));
    }
    if let Some(t) = &opts.resource_type {
        list.push(criterion(
            CoverageFilterCriterionKey::ResourceType,
            t.api_name(),
        ));
    }
    (!list.is_empty()).then(|| {
        CoverageFilterCriteria::builder()
            .set_filter_criterion(Some(list))
            .build()
    })
}

/// The detector of this account and region: the given one, or the only one there is.
pub async fn detector_id(
    gd: &aws_sdk_guardduty::Client,
    given: Option<&str>,
) -> Result<String, AuditError> {
    if let Some(id) = given {
        return Ok(id.to_owned());
    }
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = gd
            .list_detectors()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(api("ListDetectors"))?;
        ids.extend(out.detector_ids().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    match ids.len() {
        0 => Err(AuditError::NoDetector),
        1 => Ok(ids.remove(0)),
        n => Err(AuditError::SeveralDetectors(n)),
    }
}

/// Keys ([`arn_tag_key`]) of this account's EC2 instances and EKS/ECS clusters carrying the tag.
async fn tagged(
    sdk: &aws_config::SdkConfig,
    tag: &TagFilter,
) -> Result<HashSet<String>, AuditError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter as ApiTag;
    let client = aws_sdk_resourcegroupstagging::Client::new(sdk);
    let mut keys = HashSet::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_resources()
            .tag_filters(ApiTag::builder().key(&tag.key).values(&tag.value).build())
            .resource_type_filters("ec2:instance")
            .resource_type_filters("eks:cluster")
            .resource_type_filters("ecs:cluster")
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(api("GetResources"))?;
        keys.extend(
            out.resource_tag_mapping_list()
                .iter()
                .filter_map(|m| m.resource_arn())
                .filter_map(arn_tag_key),
        );
        match out.pagination_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(keys)
}

/// Runs the audit.
pub async fn audit(
    sdk: &aws_config::SdkConfig,
    opts: &AuditOptions,
) -> Result<AuditReport, AuditError> {
    let gd = aws_sdk_guardduty::Client::new(sdk);
    let detector = detector_id(&gd, opts.detector_id.as_deref()).await?;

    let stats = gd
        .get_coverage_statistics()
        .detector_id(&detector)
        .statistics_type(CoverageStatisticsType::CountByCoverageStatus)
        .statistics_type(CoverageStatisticsType::CountByResourceType)
        .set_filter_criteria(status_filter(opts, false))
        .send()
        .await
        .map_err(api("GetCoverageStatistics"))?;
    let s = stats.coverage_statistics();
    let by_status: BTreeMap<String, i64> = s
        .and_then(|s| s.count_by_coverage_status())
        .map(|m| m.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect())
        .unwrap_or_default();
    let by_resource_type: BTreeMap<String, i64> = s
        .and_then(|s| s.count_by_resource_type())
        .map(|m| m.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect())
        .unwrap_or_default();

    let mut resources = Vec::new();
    let mut token: Option<String> = None;
    // A token that repeats would loop for ever; stop at a generous bound instead.
    for _ in 0..10_000 {
        let out = gd
            .list_coverage()
            .detector_id(&detector)
            .set_filter_criteria(status_filter(opts, true))
            .set_max_results(opts.page_size)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(api("ListCoverage"))?;
        resources.extend(out.resources().iter().map(to_resource));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    // The filter is the service's; keep only what it says is unhealthy, of the asked type.
    resources.retain(|r| {
        r.is_unhealthy()
            && opts
                .resource_type
                .as_ref()
                .is_none_or(|t| *t == r.resource_type)
    });

    let tagged = match &opts.require_tag {
        Some(tag) if !resources.is_empty() => Some(tagged(sdk, tag).await?),
        Some(_) => Some(HashSet::new()),
        None => None,
    };
    Ok(AuditReport::new(
        detector,
        by_status,
        by_resource_type,
        opts,
        resources,
        tagged.as_ref(),
    ))
}

#[cfg(test)]
mod tests;
