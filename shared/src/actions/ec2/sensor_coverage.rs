//! After containment: does GuardDuty still see the resource? One `ListCoverage` filtered to
//! it (by `INSTANCE_ID`, `ECS_CLUSTER_NAME` or `EKS_CLUSTER_NAME`, after `ListDetectors`), reported in the isolation step's outcome next to what
//! [`super::sensor_link`] kept open. Coverage lags: GuardDuty updates it minutes after the
//! agent stops sending, so a fresh containment still reads HEALTHY; the outcome says so.

use crate::actions::ec2::observe::api_error;
use aws_sdk_guardduty::Client as GuardDutyClient;
use aws_sdk_guardduty::types::{
    CoverageFilterCondition, CoverageFilterCriteria, CoverageFilterCriterion,
    CoverageFilterCriterionKey,
};

/// The resource whose coverage is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Ec2Instance(&'a str),
    EcsCluster(&'a str),
    EksCluster(&'a str),
}

impl Subject<'_> {
    fn criterion(&self) -> (CoverageFilterCriterionKey, &str) {
        match *self {
            Subject::Ec2Instance(id) => (CoverageFilterCriterionKey::InstanceId, id),
            Subject::EcsCluster(c) => (CoverageFilterCriterionKey::EcsClusterName, c),
            Subject::EksCluster(c) => (CoverageFilterCriterionKey::EksClusterName, c),
        }
    }
    fn name(&self) -> &str {
        match *self {
            Subject::Ec2Instance(v) | Subject::EcsCluster(v) | Subject::EksCluster(v) => v,
        }
    }
}

/// One coverage record, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub status: String,
    pub issue: Option<String>,
}

/// Pure: the sentence for the outcome. `link_kept`: the `guardduty-data` endpoint stays
/// reachable from isolation.
pub fn verdict(subject: &Subject<'_>, seen: &[Seen], link_kept: bool) -> String {
    let name = subject.name();
    let Some(s) = seen
        .iter()
        .find(|s| s.status != "HEALTHY")
        .or_else(|| seen.first())
    else {
        return format!("GuardDuty coverage: {name} is not in its coverage list (not monitored)");
    };
    let issue = s
        .issue
        .as_deref()
        .map(|i| format!(" ({})", crate::sanitize::ascii_line(i, 120)))
        .unwrap_or_default();
    let status = crate::sanitize::ascii_line(&s.status, 20);
    let outlook = match (s.status == "HEALTHY", link_kept) {
        (true, true) => "GuardDuty still sees it",
        (true, false) => "it turns UNHEALTHY within minutes: the agent can no longer send",
        (false, _) => "GuardDuty does not see it",
    };
    format!("GuardDuty coverage of {name}: {status}{issue}; {outlook}")
}

/// Reads the subject's coverage; any failure is a sentence, never an error of the step.
pub async fn check(gd: &GuardDutyClient, subject: Subject<'_>, link_kept: bool) -> String {
    match Box::pin(read(gd, &subject)).await {
        Ok(seen) => verdict(&subject, &seen, link_kept),
        Err(e) => format!("GuardDuty coverage not checked: {e}"),
    }
}

async fn read(gd: &GuardDutyClient, subject: &Subject<'_>) -> Result<Vec<Seen>, String> {
    let detectors = gd
        .list_detectors()
        .send()
        .await
        .map_err(|e| api_error("ListDetectors", &e))?;
    let detector = match detectors.detector_ids() {
        [one] => one.clone(),
        [] => return Err("no GuardDuty detector in this region".into()),
        _ => return Err("several GuardDuty detectors in this region".into()),
    };
    let (key, value) = subject.criterion();
    let criterion = CoverageFilterCriterion::builder()
        .criterion_key(key)
        .filter_condition(CoverageFilterCondition::builder().equals(value).build())
        .build();
    let out = gd
        .list_coverage()
        .detector_id(detector)
        .filter_criteria(
            CoverageFilterCriteria::builder()
                .filter_criterion(criterion)
                .build(),
        )
        .send()
        .await
        .map_err(|e| api_error("ListCoverage", &e))?;
    Ok(out
        .resources()
        .iter()
        .map(|r| Seen {
            status: r
                .coverage_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            issue: r.issue().map(str::to_owned),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: &str, issue: Option<&str>) -> Seen {
        Seen {
            status: status.into(),
            issue: issue.map(str::to_owned),
        }
    }

    #[test]
    fn healthy_with_the_link_kept_is_still_seen() {
        let s = Subject::Ec2Instance("i-0abc");
        let v = verdict(&s, &[seen("HEALTHY", None)], true);
        assert!(
            v.contains("i-0abc: HEALTHY") && v.contains("still sees it"),
            "{v}"
        );
        let v = verdict(&s, &[seen("HEALTHY", None)], false);
        assert!(v.contains("turns UNHEALTHY"), "{v}");
    }

    #[test]
    fn unhealthy_or_absent_is_not_seen() {
        let s = Subject::EcsCluster("payments");
        let v = verdict(
            &s,
            &[
                seen("HEALTHY", None),
                seen("UNHEALTHY", Some("agent\u{202e}x")),
            ],
            true,
        );
        assert!(
            v.contains("UNHEALTHY") && v.contains("does not see it"),
            "{v}"
        );
        assert!(!v.contains('\u{202e}'), "{v}");
        let v = verdict(&s, &[], true);
        assert!(v.contains("not in its coverage list"), "{v}");
    }
}
