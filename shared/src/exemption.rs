//! Exemptions from containment.
//!
//! Configuration-owned exemptions (accounts, instances, ARN patterns, EKS workloads) are
//! decided from the finding's identifiers, which GuardDuty fills and the workload cannot
//! choose. A resource tag, label or annotation lives on the attacker's own resource: an
//! instance role with `ec2:CreateTags`, a task with `ecs:TagResource` or a pod allowed to
//! patch itself can set it. Tag exemptions therefore count only when switched on
//! (`honour_tags`), with the exact value `true`, and only behind the SCP of
//! `infra/modules/tag-guard` and the Kubernetes admission policy that protect the key.

use crate::finding::Finding;
use serde::{Deserialize, Serialize};

/// The default tag key; on Kubernetes it is written `guardduty-responder/exempt`.
pub const DEFAULT_TAG_KEY: &str = "guardduty-responder:exempt";
/// The only tag, label or annotation value that exempts.
pub const EXEMPT_VALUE: &str = "true";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exemptions {
    /// Whether a resource tag (or pod label/annotation) `tag_key = true` exempts. Off by
    /// default: the workload being contained can often tag itself.
    pub honour_tags: bool,
    /// The tag key; on Kubernetes its first `:` is written `/` ([`Self::kubernetes_key`]).
    pub tag_key: String,
    pub accounts: Vec<IdExemption>,
    pub instances: Vec<IdExemption>,
    /// `*` globs over the finding's resource ARNs: instance, ECS cluster, task, task
    /// definition and service, EKS cluster.
    pub arn_patterns: Vec<ArnExemption>,
    pub eks: Vec<EksExemption>,
}

impl Default for Exemptions {
    fn default() -> Self {
        Exemptions {
            honour_tags: false,
            tag_key: DEFAULT_TAG_KEY.into(),
            accounts: vec![],
            instances: vec![],
            arn_patterns: vec![],
            eks: vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdExemption {
    pub id: String,
    /// Shown in the notification.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArnExemption {
    pub pattern: String,
    pub reason: String,
}

/// An EKS cluster, optionally narrowed to a namespace and a workload; each a `*` glob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EksExemption {
    pub cluster: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub workload: Option<String>,
    pub reason: String,
}

/// Longest reason accepted; it is printed in every notification of the resource.
const MAX_REASON: usize = 200;

impl Exemptions {
    /// The exemption configuration names for this finding, as the verdict reason. Built
    /// only from configuration text, never from the finding.
    pub fn configured(&self, finding: &Finding) -> Option<String> {
        let account = finding.account_id.as_raw();
        if let Some(e) = self.accounts.iter().find(|e| e.id == account) {
            return Some(format!(
                "exempt by configuration (account {}): {}",
                e.id, e.reason
            ));
        }
        let instance = instance_id(finding);
        if let Some(e) = self
            .instances
            .iter()
            .find(|e| instance == Some(e.id.as_str()))
        {
            return Some(format!(
                "exempt by configuration (instance {}): {}",
                e.id, e.reason
            ));
        }
        if !self.arn_patterns.is_empty() {
            let arns = resource_arns(finding);
            if let Some(e) = self
                .arn_patterns
                .iter()
                .find(|e| arns.iter().any(|a| glob_match(&e.pattern, a)))
            {
                return Some(format!(
                    "exempt by configuration (ARN {}): {}",
                    e.pattern, e.reason
                ));
            }
        }
        self.eks
            .iter()
            .find(|e| e.matches(finding))
            .map(|e| format!("exempt by configuration (EKS {}): {}", e.scope(), e.reason))
    }

    /// Whether a tag of the finding's resources exempts it: only when tags are honoured,
    /// with the configured key and exactly the value `true`.
    pub fn tagged(&self, finding: &Finding) -> bool {
        self.honour_tags
            && finding
                .resource_tags()
                .any(|t| t.key.as_raw() == self.tag_key && is_exempt_value(t.value.as_raw()))
    }

    /// The same key as a Kubernetes label/annotation key, where `:` is not allowed.
    pub fn kubernetes_key(&self) -> String {
        self.tag_key.replacen(':', "/", 1)
    }

    /// The label/annotation key that exempts a pod, when tag exemptions are on.
    pub fn kubernetes_label(&self) -> Option<String> {
        self.honour_tags.then(|| self.kubernetes_key())
    }

    /// Rejects entries that would match nothing or too much, and reasons that could not
    /// be shown as one line. `Err` names the entry.
    pub fn validate(&self) -> Result<(), String> {
        let key = self.tag_key.trim();
        if key.is_empty() || key.len() > 128 || key != self.tag_key {
            return Err(format!(
                "tag_key {:?} must be 1-128 characters without surrounding spaces",
                self.tag_key
            ));
        }
        for (i, e) in self.accounts.iter().enumerate() {
            let what = format!("accounts[{i}]");
            check_reason(&what, &e.reason)?;
            if e.id.len() != 12 || !e.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{what}.id {:?} is not a 12-digit account id", e.id));
            }
        }
        for (i, e) in self.instances.iter().enumerate() {
            let what = format!("instances[{i}]");
            check_reason(&what, &e.reason)?;
            let hex = e.id.strip_prefix("i-").unwrap_or("");
            if !(hex.len() == 8 || hex.len() == 17) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{what}.id {:?} is not an instance id", e.id));
            }
        }
        for (i, e) in self.arn_patterns.iter().enumerate() {
            let what = format!("arn_patterns[{i}]");
            check_reason(&what, &e.reason)?;
            check_printable(&format!("{what}.pattern"), &e.pattern)?;
            if !e.pattern.starts_with("arn:") {
                return Err(format!(
                    "{what}.pattern {:?} must start with arn:",
                    e.pattern
                ));
            }
        }
        for (i, e) in self.eks.iter().enumerate() {
            let what = format!("eks[{i}]");
            check_reason(&what, &e.reason)?;
            for (field, v) in [
                ("cluster", Some(&e.cluster)),
                ("namespace", e.namespace.as_ref()),
                ("workload", e.workload.as_ref()),
            ] {
                if let Some(v) = v {
                    check_printable(&format!("{what}.{field}"), v)?;
                }
            }
        }
        Ok(())
    }
}

impl EksExemption {
    fn matches(&self, finding: &Finding) -> bool {
        let Some(cluster) = finding
            .resource
            .eks_cluster_details
            .as_ref()
            .and_then(|d| d.name.as_ref())
        else {
            return false;
        };
        let workload = finding.workload();
        let field = |pattern: &Option<String>, value: Option<&str>| match pattern {
            None => true,
            Some(p) => value.is_some_and(|v| glob_match(p, v)),
        };
        glob_match(&self.cluster, cluster.as_raw())
            && field(
                &self.namespace,
                workload
                    .and_then(|w| w.namespace.as_ref())
                    .map(|n| n.as_raw()),
            )
            && field(
                &self.workload,
                workload.and_then(|w| w.name.as_ref()).map(|n| n.as_raw()),
            )
    }

    /// `cluster/namespace/workload`, `*` for what the entry leaves open.
    fn scope(&self) -> String {
        let any = |v: &Option<String>| v.clone().unwrap_or_else(|| "*".into());
        format!(
            "{}/{}/{}",
            self.cluster,
            any(&self.namespace),
            any(&self.workload)
        )
    }
}

/// Exactly `true`: `TRUE`, ` true`, `yes`, `1` or the empty string do not exempt.
pub fn is_exempt_value(value: &str) -> bool {
    value == EXEMPT_VALUE
}

fn check_reason(what: &str, reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() || reason.chars().count() > MAX_REASON {
        return Err(format!(
            "{what}.reason must say why, in 1-{MAX_REASON} characters"
        ));
    }
    check_printable(&format!("{what}.reason"), reason)
}

fn check_printable(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || crate::sanitize::is_dangerous(c))
    {
        return Err(format!("{what} must be non-empty printable text"));
    }
    Ok(())
}

fn instance_id(finding: &Finding) -> Option<&str> {
    finding
        .resource
        .instance_details
        .as_ref()?
        .instance_id
        .as_ref()
        .map(|i| i.as_raw())
}

/// Every ARN the finding names or implies for its resource.
fn resource_arns(finding: &Finding) -> Vec<String> {
    let r = &finding.resource;
    let partition = finding.partition.as_deref().unwrap_or("aws");
    let (region, account) = (finding.region.as_raw(), finding.account_id.as_raw());
    let mut arns = Vec::new();
    if let Some(id) = instance_id(finding) {
        arns.push(format!(
            "arn:{partition}:ec2:{region}:{account}:instance/{id}"
        ));
    }
    if let Some(ecs) = r.ecs_cluster_details.as_deref() {
        let cluster_arn = ecs.arn.as_ref().map(|a| a.as_raw());
        arns.extend(cluster_arn.map(str::to_owned));
        let cluster_name = ecs
            .name
            .as_ref()
            .map(|n| n.as_raw())
            .or_else(|| cluster_arn.and_then(|a| a.rsplit_once('/').map(|(_, n)| n)));
        if let Some(task) = &ecs.task_details {
            arns.extend(task.arn.iter().map(|a| a.as_raw().to_owned()));
            arns.extend(task.definition_arn.iter().map(|a| a.as_raw().to_owned()));
            if let (Some(service), Some(cluster)) = (
                task.group
                    .as_ref()
                    .and_then(|g| g.as_raw().strip_prefix("service:")),
                cluster_name,
            ) {
                arns.push(format!(
                    "arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}"
                ));
            }
        }
    }
    if let Some(eks) = r.eks_cluster_details.as_deref() {
        arns.extend(eks.arn.iter().map(|a| a.as_raw().to_owned()));
    }
    arns
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (also none)
/// and every other character only itself. Backtracks only to the last `*`, so it takes at
/// most pattern × text steps and no recursion, whatever the pattern.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
#[path = "exemption_tests.rs"]
mod tests;
